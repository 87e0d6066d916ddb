/* SPDX-License-Identifier: BSD-3-Clause */
/* srvd's command line: upstream's names and defaults, and our allow-list and port range. */
#include <stdarg.h>

#include "args.h"
#include "tests.h"

static int parse(SrvdArgs *a, ...) {
        char *argv[64];
        int argc = 0;
        va_list ap;

        argv[argc++] = (char *) "srvd";
        va_start(ap, a);
        for (char *s; (s = va_arg(ap, char *));)
                argv[argc++] = s;
        va_end(ap);
        argv[argc] = NULL;
        return srvd_args_parse(a, argc, argv);
}

TEST(reference_command_line) {
        /* upstream's Docker image and unit: srvd -a @r -i <public address> */
        SrvdArgs a;
        ASSERT_OK(parse(&a, "-a", "relay", "-i", "relay.example.com", NULL));
        ASSERT_STREQ(a.atsign, "@relay");
        ASSERT_STREQ(a.ip, "relay.example.com");
        ASSERT_STREQ(a.root_server, "root.atsign.org");
        ASSERT_TRUE(a.managers == NULL); /* open to anyone */
        ASSERT_TRUE(srvd_args_allows(&a, "@anyone"));
        ASSERT_TRUE(a.bind_port == 443 && !a.bind_443 && a.log_traffic && a.port_min == 0);
        srvd_args_done(&a);
}

TEST(allow_list_and_range) {
        SrvdArgs a;
        ASSERT_OK(parse(&a, "--atsign", "@relay", "--ip", "10.0.0.2", "-m", "@Alice,bob", "--port-range", "40000-40099",
                        "--root-domain", "vip.ve.atsign.zone", "--keyFile", "/k", NULL));
        ASSERT_TRUE(srvd_args_allows(&a, "@alice") && srvd_args_allows(&a, "@bob"));
        ASSERT_TRUE(!srvd_args_allows(&a, "@mallory"));
        ASSERT_TRUE(a.port_min == 40000 && a.port_max == 40099);
        ASSERT_STREQ(a.key_file, "/k");
        srvd_args_done(&a);
        ASSERT_OK(parse(&a, "-a", "@relay", "-i", "h", "-m", "open", NULL));
        ASSERT_TRUE(srvd_args_allows(&a, "@anyone"));
        srvd_args_done(&a);
}

TEST(newest_upstream_spellings) {
        /* srvd_params.dart (newest): --per-session-storage/--pss negatable, --relay-auth-detect-window-ms */
        SrvdArgs a;
        ASSERT_OK(parse(&a, "-a", "@relay", "-i", "h", "--no-pss", "--relay-auth-detect-window-ms", "500", NULL));
        ASSERT_TRUE(!a.per_session_storage);
        srvd_args_done(&a);
        ASSERT_OK(parse(&a, "-a", "@relay", "-i", "h", "--no-per-session-storage", "--per-session-storage", "--443",
                        "--no-443", NULL));
        ASSERT_TRUE(a.per_session_storage && !a.bind_443);
        srvd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@relay", "-i", "h", "--relay-auth-detect-window-ms", "soon", NULL), -EINVAL);
        srvd_args_done(&a);
}

TEST(refuses_bad_usage) {
        SrvdArgs a;
        ASSERT_ERR(parse(&a, "-a", "@relay", NULL), -EINVAL); /* --ip is mandatory */
        srvd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@relay", "-i", "h", "--port-range", "5000", NULL), -EINVAL);
        srvd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@relay", "-i", "h", "--port-range", "6000-5000", NULL), -EINVAL);
        srvd_args_done(&a);
        ASSERT_ERR(parse(&a, "-a", "@relay", "-i", "h", "-m", "bad atsign", NULL), -EINVAL);
        srvd_args_done(&a);
}

int main(void) {
        setenv("HOME", "/home/u", 1);
        RUN(reference_command_line);
        RUN(allow_list_and_range);
        RUN(newest_upstream_spellings);
        RUN(refuses_bad_usage);
        return 0;
}
