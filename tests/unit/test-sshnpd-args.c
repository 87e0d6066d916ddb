/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnpd's command line: upstream's flag names, aliases and defaults keep users' scripts working. */
#include <stdarg.h>

#include "args.h"
#include "tests.h"

static int parse(SshnpdArgs *a, ...) {
        char *argv[64];
        int argc = 0;
        va_list ap;

        argv[argc++] = (char *) "sshnpd";
        va_start(ap, a);
        for (char *s; (s = va_arg(ap, char *));)
                argv[argc++] = s;
        va_end(ap);
        argv[argc] = NULL;
        return sshnpd_args_parse(a, argc, argv);
}

TEST(defaults_match_upstream) {
        SshnpdArgs a;
        setenv("HOME", "/home/u", 1);
        ASSERT_OK(parse(&a, "-a", "@dev", "-m", "@boss", NULL));
        ASSERT_STREQ(a.atsign, "@dev");
        ASSERT_STREQ(a.device, "default");
        ASSERT_STREQ(a.device_group, "__none__");
        ASSERT_STREQ(a.root_server, "root.atsign.org");
        ASSERT_TRUE(a.local_sshd_port == 22);
        ASSERT_STREQ(a.permit_open[0], "localhost:22");
        ASSERT_STREQ(a.permit_open[1], "localhost:3389");
        ASSERT_TRUE(a.permit_open[2] == NULL);
        ASSERT_TRUE(a.un_hide && !a.hide && !a.sshpublickey && !a.verbose);
        ASSERT_TRUE(a.strict == -1);
        ASSERT_STREQ(a.key_file, "/home/u/.atsign/keys/@dev_key.atKeys");
        ASSERT_STREQ(a.sshpublickey_permissions, "");
        sshnpd_args_done(&a);
}

TEST(reference_service_command_line) {
        /* the command upstream's systemd unit runs: sshnpd -a @d -m @c -d <dev> -s -u -v */
        SshnpdArgs a;
        ASSERT_OK(parse(&a, "-a", "dev", "-m", "Client,@Other", "-d", "My Pi", "-s", "-u", "-v", NULL));
        ASSERT_STREQ(a.atsign, "@dev");
        ASSERT_STREQ(a.managers[0], "@client");
        ASSERT_STREQ(a.managers[1], "@other");
        ASSERT_STREQ(a.device, "my_pi");
        ASSERT_TRUE(a.sshpublickey && a.un_hide && a.verbose);
        sshnpd_args_done(&a);
}

TEST(long_names_and_aliases) {
        SshnpdArgs a;
        ASSERT_OK(parse(&a, "--atsign=@dev", "--manager", "@a", "--managers", "@b", "--po", "127.0.0.1:80,*:8080",
                        "--permit-open", "web:*", "--dg", "lab", "--root-domain", "vip.ve.atsign.zone:64",
                        "--keyFile", "/k", "-h", "--local-sshd-port", "2222", "-S", "no-pty", "-S",
                        "no-X11-forwarding", "--strict", "--ca-file", "/ca.pem", "--storage-dir", "/tmp/x", NULL));
        ASSERT_STREQ(a.managers[0], "@a");
        ASSERT_STREQ(a.managers[1], "@b");
        ASSERT_STREQ(a.permit_open[0], "127.0.0.1:80");
        ASSERT_STREQ(a.permit_open[1], "*:8080");
        ASSERT_STREQ(a.permit_open[2], "web:*");
        ASSERT_STREQ(a.device_group, "lab");
        ASSERT_STREQ(a.root_server, "vip.ve.atsign.zone:64");
        ASSERT_STREQ(a.key_file, "/k");
        ASSERT_TRUE(a.hide);
        ASSERT_TRUE(a.local_sshd_port == 2222);
        ASSERT_STREQ(a.sshpublickey_permissions, "no-pty,no-X11-forwarding");
        ASSERT_TRUE(a.strict == 1);
        ASSERT_STREQ(a.ca_file, "/ca.pem");
        sshnpd_args_done(&a);
}

TEST(policy_manager_opens_permit_open) {
        /* upstream #1295: with -p and no --permit-open, everything is permitted */
        SshnpdArgs a;
        ASSERT_OK(parse(&a, "-a", "@dev", "-p", "@policy", NULL));
        ASSERT_STREQ(a.policy_manager, "@policy");
        ASSERT_STREQ(a.permit_open[0], "*:*");
        sshnpd_args_done(&a);
}

TEST(refuses_bad_usage) {
        SshnpdArgs a;
        ASSERT_ERR(parse(&a, "-m", "@boss", NULL), -EINVAL); /* no atSign */
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", NULL), -EINVAL); /* no managers */
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", "-m", "@x", "-d", "a/b", NULL), -EINVAL);
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", "-m", "@x", "--local-sshd-port", "70000", NULL), -EINVAL);
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", "-m", "@x", "--permit-open", "nohostport", NULL), -EINVAL);
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", "-m", "bad atsign", NULL), -EINVAL);
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", "-m", "@x", "-S", "a\nb", NULL), -EINVAL);
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", "-m", "@x", "--no-such-flag", NULL), -EINVAL);
        sshnpd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@dev", "-m", "@x", "stray", NULL), -EINVAL);
        sshnpd_args_done(&a);
}

TEST(help_is_not_hide) {
        /* -h is --hide upstream; help is only --help */
        SshnpdArgs a;
        ASSERT_TRUE(parse(&a, "--help", NULL) == 1);
        sshnpd_args_done(&a);
}

TEST(no_twin_keys_is_a_hidden_test_switch) {
        SshnpdArgs a;
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        ASSERT_OK(parse(&a, "-a", "@dev", "-m", "@boss", NULL));
        ASSERT_TRUE(!a.no_twin_keys);
        sshnpd_args_done(&a);
        ASSERT_OK(parse(&a, "-a", "@dev", "-m", "@boss", "--no-twin-keys", NULL));
        ASSERT_TRUE(a.no_twin_keys);
        sshnpd_args_done(&a);
        /* not offered to users in --help */
        f = open_memstream(&text, &size);
        ASSERT_TRUE(f);
        sshnpd_args_usage(f);
        fclose(f);
        ASSERT_TRUE(strstr(text, "--device") && !strstr(text, "twin"));
        free(text);
}

int main(void) {
        RUN(defaults_match_upstream);
        RUN(reference_service_command_line);
        RUN(long_names_and_aliases);
        RUN(policy_manager_opens_permit_open);
        RUN(refuses_bad_usage);
        RUN(help_is_not_hide);
        RUN(no_twin_keys_is_a_hidden_test_switch);
        return 0;
}
