/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnp's command line: upstream's names, aliases and defaults. */
#include <stdarg.h>

#include "args.h"
#include "tests.h"

static int parse(SshnpArgs *a, ...) {
        char *argv[64];
        int argc = 0;
        va_list ap;

        argv[argc++] = (char *) "sshnp";
        va_start(ap, a);
        for (char *s; (s = va_arg(ap, char *));)
                argv[argc++] = s;
        va_end(ap);
        argv[argc] = NULL;
        return sshnp_args_parse(a, argc, argv);
}

TEST(defaults_match_upstream) {
        SshnpArgs a;
        setenv("HOME", "/home/u", 1);
        ASSERT_OK(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv_am", NULL));
        ASSERT_STREQ(a.from, "@me");
        ASSERT_STREQ(a.device, "default");
        ASSERT_TRUE(a.local_port == 0 && a.remote_sshd_port == 22 && a.idle_timeout == 15);
        ASSERT_TRUE(a.daemon_ping_timeout == 20);
        ASSERT_TRUE(a.authenticate_client_to_rvd && a.authenticate_device_to_rvd && a.encrypt_rvd_traffic);
        ASSERT_STREQ(a.relay_auth_mode, "payload");
        ASSERT_STREQ(a.root_server, "root.atsign.org");
        ASSERT_STREQ(a.key_file, "/home/u/.atsign/keys/@me_key.atKeys");
        ASSERT_TRUE(!a.output_execution_command && !a.list_devices && !a.send_ssh_public_key);
        sshnp_args_done(&a);
}

TEST(typical_command_lines) {
        SshnpArgs a;
        ASSERT_OK(parse(&a, "-f", "me", "-t", "dev", "-d", "pi4", "-r", "@relay", "-u", "pi", "-i", "/id", "-s", "-x",
                        "-o", "ConnectTimeout=5", "-o", "A=1,B=2", "-l", "2222", "-k", "/k", NULL));
        ASSERT_STREQ(a.to, "@dev");
        ASSERT_STREQ(a.srvd, "@relay");
        ASSERT_STREQ(a.remote_user_name, "pi");
        ASSERT_TRUE(a.send_ssh_public_key && a.output_execution_command && a.local_port == 2222);
        ASSERT_STREQ(a.local_ssh_options[0], "ConnectTimeout=5");
        ASSERT_STREQ(a.local_ssh_options[1], "A=1");  /* Dart multi-options split on commas */
        ASSERT_STREQ(a.local_ssh_options[2], "B=2");
        sshnp_args_done(&a);

        ASSERT_OK(parse(&a, "-f", "@me", "-t", "@dev", "-h", "@legacy", "--no-et", "--no-ac", "--ad", "--dpt", "3",
                        "--rootDomain", "vip.ve.atsign.zone", "--ram", "escr", NULL));
        ASSERT_STREQ(a.srvd, "@legacy");
        ASSERT_TRUE(!a.encrypt_rvd_traffic && !a.authenticate_client_to_rvd && a.authenticate_device_to_rvd);
        ASSERT_TRUE(a.daemon_ping_timeout == 3);
        ASSERT_STREQ(a.root_server, "vip.ve.atsign.zone");
        ASSERT_STREQ(a.relay_auth_mode, "escr");
        sshnp_args_done(&a);
}

TEST(list_devices_needs_only_from) {
        SshnpArgs a;
        ASSERT_OK(parse(&a, "-f", "@me", "--ls", NULL));
        ASSERT_TRUE(a.list_devices);
        sshnp_args_done(&a);
        ASSERT_OK(parse(&a, "-f", "@me", "--list-devices", "-t", "@dev", NULL));
        sshnp_args_done(&a);
}

TEST(refuses_bad_usage) {
        SshnpArgs a;
        ASSERT_ERR(parse(&a, "-t", "@dev", "-r", "@r", NULL), -EINVAL);
        sshnp_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", NULL), -EINVAL); /* no relay */
        sshnp_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@r", "-l", "x", NULL), -EINVAL);
        sshnp_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@r", "-d", "x", NULL), -EINVAL); /* too short */
        sshnp_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@r", "--ram", "none", NULL), -EINVAL);
        sshnp_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@r", "-s", NULL), -EINVAL); /* -s needs -i */
        sshnp_args_done(&a);
}

int main(void) {
        RUN(defaults_match_upstream);
        RUN(typical_command_lines);
        RUN(list_devices_needs_only_from);
        RUN(refuses_bad_usage);
        return 0;
}
