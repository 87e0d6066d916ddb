/* SPDX-License-Identifier: BSD-3-Clause */
/* at_activate's command line: upstream's spellings and rules users rely on. */
#include "log.h"
#include "macro.h"
#include "options.h"
#include "secure.h"
#include "tests.h"

static int parse(ActivateOptions *o, char **argv) {
        int argc = 0;
        while (argv[argc])
                argc++;
        activate_options_done(o);
        return activate_parse_argv(argc, argv, o);
}

#define ARGV(...) ((char *[]) { "at_activate", __VA_ARGS__, NULL })

TEST(first_option_means_onboard) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        char secret[] = "s3cret"; /* writable: the parser blanks it in argv */

        ASSERT_OK(parse(&o, ARGV("-a", "Alice", "-c", secret, "-r", "root.example")));
        ASSERT_TRUE(o.command == ACTIVATE_ONBOARD);
        ASSERT_STREQ(o.atsign, "@alice");
        ASSERT_STREQ(o.cram_secret, "s3cret");
        ASSERT_STREQ(secret, "xxxxxx"); /* no longer visible in /proc/PID/cmdline */
        ASSERT_STREQ(o.root_host, "root.example");
        ASSERT_TRUE(o.root_port == 64);
}

TEST(root_domain_with_port) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        ASSERT_OK(parse(&o, ARGV("status", "-a", "@bob", "--root-domain", "10.1.2.3:6464", "--ca-file", "/x/ca.pem")));
        ASSERT_TRUE(o.command == ACTIVATE_STATUS);
        ASSERT_STREQ(o.root_host, "10.1.2.3");
        ASSERT_TRUE(o.root_port == 6464);
        ASSERT_STREQ(o.ca_file, "/x/ca.pem");
        ASSERT_FAIL(parse(&o, ARGV("status", "-a", "@bob", "--root-domain", "h:99999")));
}

TEST(enroll_needs_everything_including_a_keys_file) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        ASSERT_OK(parse(&o, ARGV("enroll", "-a", "@alice", "-s", "HQ5Q31", "-p", "noports", "-d", "pi4", "-n",
                                 "sshnp:rw,sshrvd:rw", "-k", "/tmp/k.atKeys", "-e", "2h", "--poll-interval", "1s")));
        ASSERT_TRUE(o.command == ACTIVATE_ENROLL);
        ASSERT_STREQ(o.passcode, "HQ5Q31");
        ASSERT_TRUE(o.has_expiry && o.expiry_usec == 2ULL * 3600 * 1000000);
        ASSERT_TRUE(o.poll_interval_usec == 1000000);
        ASSERT_ERR(parse(&o, ARGV("enroll", "-a", "@alice", "-s", "HQ5Q31", "-p", "noports", "-d", "pi4", "-n",
                                  "sshnp:rw")), -EINVAL);
        ASSERT_ERR(parse(&o, ARGV("enroll", "-a", "@alice", "-p", "noports", "-d", "pi4", "-n", "sshnp:rw", "-k",
                                  "/tmp/k")), -EINVAL);
}

TEST(enroll_polls_every_10s_by_default) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        ASSERT_OK(parse(&o, ARGV("otp", "-a", "@alice")));
        ASSERT_TRUE(o.poll_interval_usec == 10ULL * 1000000);
        ASSERT_TRUE(!o.has_expiry);
}

TEST(list_s_is_a_status_filter) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        ASSERT_OK(parse(&o, ARGV("list", "-a", "@alice", "-s", "pending")));
        ASSERT_STREQ(o.status_filter, "pending");
        ASSERT_TRUE(o.passcode == NULL);
        ASSERT_OK(parse(&o, ARGV("list", "-a", "@alice", "--enrollmentStatus", "revoked")));
        ASSERT_STREQ(o.status_filter, "revoked");
        ASSERT_ERR(parse(&o, ARGV("list", "-a", "@alice", "-s", "bogus")), -EINVAL);
}

TEST(decisions_need_an_id) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        ASSERT_ERR(parse(&o, ARGV("approve", "-a", "@alice")), -EINVAL);
        /* upstream: app/device regexes select instead of an id */
        ASSERT_OK(parse(&o, ARGV("approve", "-a", "@alice", "--arx", "^noports$", "-D", "pi[0-9]")));
        ASSERT_STREQ(o.app_regex, "^noports$");
        ASSERT_STREQ(o.device_regex, "pi[0-9]");
        ASSERT_ERR(parse(&o, ARGV("deny", "-a", "@alice", "--arx", "(")), -EINVAL);
        ASSERT_ERR(parse(&o, ARGV("fetch", "-a", "@alice", "--arx", "x")), -EINVAL);
        ASSERT_OK(parse(&o, ARGV("revoke", "-a", "@alice", "-i", "abc", "--force")));
        ASSERT_TRUE(o.force);
        ASSERT_STREQ(o.enrollment_id, "abc");
}

TEST(spp_passcode_rules) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        ASSERT_OK(parse(&o, ARGV("spp", "-a", "@alice", "-s", "Abc123")));
        ASSERT_ERR(parse(&o, ARGV("spp", "-a", "@alice", "-s", "Abc12")), -EINVAL);
        ASSERT_ERR(parse(&o, ARGV("spp", "-a", "@alice", "-s", "Abc12345678901234")), -EINVAL);
        ASSERT_ERR(parse(&o, ARGV("spp", "-a", "@alice", "-s", "Abc_123")), -EINVAL);
}

TEST(refusals) {
        _cleanup_(activate_options_done) ActivateOptions o = {};

        ASSERT_ERR(parse(&o, ARGV("status")), -EINVAL);                         /* no atSign */
        ASSERT_ERR(parse(&o, ARGV("frobnicate", "-a", "@alice")), -EINVAL);     /* unknown command */
        ASSERT_ERR(parse(&o, ARGV("status", "-a", "@alice", "extra")), -EINVAL);
        ASSERT_ERR(parse(&o, ARGV("status", "-a", "al ice")), -EINVAL);
        ASSERT_ERR(parse(&o, ARGV("onboard", "-a", "@alice")), -EINVAL);        /* no CRAM secret */
        ASSERT_ERR(parse(&o, ARGV("otp", "-a", "@alice", "-e", "soon")), -EINVAL);
        ASSERT_TRUE(parse(&o, ARGV("--help")) == 1);
        ASSERT_TRUE(parse(&o, ARGV("list", "-h")) == 1);
}

TEST(default_keys_path) {
        _cleanup_(activate_options_done) ActivateOptions o = {};
        _cleanup_free_ char *p = NULL, *want = NULL;

        ASSERT_OK(parse(&o, ARGV("otp", "-a", "alice")));
        ASSERT_OK(activate_keys_path(&o, &p));
        ASSERT_TRUE(asprintf(&want, "%s/.atsign/keys/@alice_key.atKeys", getenv("HOME")) > 0);
        ASSERT_STREQ(p, want);
}

int main(void) {
        setenv("HOME", "/home/tester", 1);
        log_set_max_level(LOG_CRIT); /* the refusals print their one-line errors */
        ASSERT_OK(at_secure_init());
        RUN(first_option_means_onboard);
        RUN(root_domain_with_port);
        RUN(enroll_needs_everything_including_a_keys_file);
        RUN(enroll_polls_every_10s_by_default);
        RUN(list_s_is_a_status_filter);
        RUN(decisions_need_an_id);
        RUN(spp_passcode_rules);
        RUN(refusals);
        RUN(default_keys_path);
        return 0;
}
