/* SPDX-License-Identifier: BSD-3-Clause */
/* npt's command line: upstream's names, aliases, defaults and timeout rules. */
#include <stdarg.h>

#include "args.h"
#include "tests.h"

static int parse(NptArgs *a, ...) {
        char *argv[64];
        int argc = 0;
        va_list ap;

        argv[argc++] = (char *) "npt";
        va_start(ap, a);
        for (char *s; (s = va_arg(ap, char *));)
                argv[argc++] = s;
        va_end(ap);
        argv[argc] = NULL;
        return npt_args_parse(a, argc, argv);
}

#define SEC 1000000ULL

TEST(defaults_match_upstream) {
        NptArgs a;
        ASSERT_OK(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", "-p", "8080", NULL));
        ASSERT_TRUE(a.remote_port == 8080 && a.local_port == 0);
        ASSERT_STREQ(a.remote_host, "localhost");
        ASSERT_STREQ(a.local_host, "localhost");
        ASSERT_TRUE(a.timeout_usec == 30 * SEC);
        ASSERT_TRUE(a.heartbeat_usec == 30 * 60 * SEC);
        ASSERT_TRUE(a.daemon_ping_timeout == 20 && a.encrypt_rvd_traffic && a.per_session_storage);
        ASSERT_TRUE(!a.exit_when_connected && !a.keep_alive);
        npt_args_done(&a);
}

TEST(aliases_and_timeouts) {
        NptArgs a;
        ASSERT_OK(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", "--rp", "80", "--rh", "10.0.0.5",
                        "--lp", "9000", "-T", "1h,14m,30s", "-x", "--no-pss", "--lh", "0.0.0.0", NULL));
        ASSERT_TRUE(a.remote_port == 80 && a.local_port == 9000);
        ASSERT_STREQ(a.remote_host, "10.0.0.5");
        ASSERT_STREQ(a.local_host, "0.0.0.0");
        ASSERT_TRUE(a.timeout_usec == (3600 + 14 * 60 + 30) * SEC);
        ASSERT_TRUE(a.exit_when_connected && !a.per_session_storage);
        npt_args_done(&a);

        /* -T 0 means "never": 365 days */
        ASSERT_OK(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", "-p", "22", "-T", "0", NULL));
        ASSERT_TRUE(a.timeout_usec == 365ULL * 86400 * SEC);
        npt_args_done(&a);

        /* -K without -T: 24 hours */
        ASSERT_OK(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", "-p", "22", "-K", NULL));
        ASSERT_TRUE(a.timeout_usec == 24ULL * 3600 * SEC);
        npt_args_done(&a);
}

TEST(refuses_bad_usage) {
        NptArgs a;
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", NULL), -EINVAL); /* no port */
        npt_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", "-p", "0", NULL), -EINVAL);
        npt_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", "-p", "22", "-K", "-x", NULL),
                   -EINVAL);
        npt_args_done(&a);
        ASSERT_ERR(parse(&a, "-f", "@me", "-t", "@dev", "-r", "@rv", "-d", "web", "-p", "22", "-T", "soon", NULL),
                   -EINVAL);
        npt_args_done(&a);
}

int main(void) {
        setenv("HOME", "/home/u", 1);
        RUN(defaults_match_upstream);
        RUN(aliases_and_timeouts);
        RUN(refuses_bad_usage);
        return 0;
}
