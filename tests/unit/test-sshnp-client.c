/* SPDX-License-Identifier: BSD-3-Clause */
/* The pure parts of the sshnp/npt client: the ssh command, device_info keys, session ids,
 * nonces and the feature gate. */
#include "list_devices.h"
#include "np_session.h"
#include "ssh_command.h"
#include "tests.h"

static char *join(char **argv) {
        char *s = NULL;
        ASSERT_OK(ssh_command_format(argv, &s));
        return s;
}

TEST(ssh_command_without_identity_is_upstreams_minimal_form) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *s = NULL;
        SshCommandParams p = { .local_port = 2222, .remote_user = "alice" };

        ASSERT_OK(ssh_command_build(&p, &argv));
        s = join(argv);
        ASSERT_STREQ(s, "ssh -p 2222 alice@localhost");
}

TEST(ssh_command_with_identity_adds_upstreams_two_options_and_i_last) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *s = NULL;
        SshCommandParams p = { .local_port = 40001, .remote_user = "root", .identity_file = "/h/.ssh/id_ed25519" };

        ASSERT_OK(ssh_command_build(&p, &argv));
        s = join(argv);
        ASSERT_STREQ(s, "ssh -p 40001 -o StrictHostKeyChecking=accept-new -o IdentitiesOnly=yes root@localhost "
                        "-i /h/.ssh/id_ed25519");
}

TEST(local_ssh_options_raw_or_bare) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *s = NULL;
        char *opts[] = { "UserKnownHostsFile=/dev/null", "-o BatchMode=yes", "-L 8080:localhost:80", NULL };
        char *cmd[] = { "echo", "it's here", NULL };
        SshCommandParams p = { .local_port = 22022, .remote_user = "u", .local_ssh_options = opts,
                               .remote_command = cmd };

        ASSERT_OK(ssh_command_build(&p, &argv));
        /* a bare option gets its -o; a raw one is split on spaces, as upstream joins and splits */
        ASSERT_STREQ(argv[3], "-o");
        ASSERT_STREQ(argv[4], "UserKnownHostsFile=/dev/null");
        ASSERT_STREQ(argv[5], "-o");
        ASSERT_STREQ(argv[6], "BatchMode=yes");
        ASSERT_STREQ(argv[7], "-L");
        ASSERT_STREQ(argv[8], "8080:localhost:80");
        ASSERT_STREQ(argv[9], "u@localhost");
        ASSERT_STREQ(argv[11], "it's here");
        ASSERT_TRUE(argv[12] == NULL);
        s = join(argv);
        ASSERT_STREQ(s, "ssh -p 22022 -o UserKnownHostsFile=/dev/null -o BatchMode=yes -L 8080:localhost:80 "
                        "u@localhost echo 'it'\\''s here'");
}

TEST(ssh_command_refuses_what_ssh_would_read_as_an_option) {
        _cleanup_strv_free_ char **argv = NULL;
        SshCommandParams p = { .local_port = 2222, .remote_user = "-oProxyCommand=evil" };

        /* the username comes from the device: it must not become an ssh option */
        ASSERT_ERR(ssh_command_build(&p, &argv), -EINVAL);
        p.remote_user = "a b";
        ASSERT_ERR(ssh_command_build(&p, &argv), -EINVAL);
        p.remote_user = "root\x1b]0;x\x07";
        ASSERT_ERR(ssh_command_build(&p, &argv), -EINVAL);
        p.remote_user = "root";
        p.local_port = 0;
        ASSERT_ERR(ssh_command_build(&p, &argv), -EINVAL);
        ASSERT_TRUE(argv == NULL);
}

TEST(device_info_keys) {
        char *dev = NULL, *owner = NULL;

        ASSERT_OK(device_info_key_parse("cached:@c:device_info.demo.sshnp@d", &dev, &owner));
        ASSERT_STREQ(dev, "demo");
        ASSERT_STREQ(owner, "@d");
        free(dev);
        free(owner);
        ASSERT_OK(device_info_key_parse("device_info.my_dev-2.sshnp@Device", &dev, &owner));
        ASSERT_STREQ(dev, "my_dev-2");
        ASSERT_STREQ(owner, "@device");
        free(dev);
        free(owner);
        ASSERT_ERR(device_info_key_parse("username.demo.sshnp@d", &dev, &owner), -EINVAL);
        ASSERT_ERR(device_info_key_parse("device_info..sshnp@d", &dev, &owner), -EINVAL);
        ASSERT_ERR(device_info_key_parse("device_info.demo.other@d", &dev, &owner), -EINVAL);
        ASSERT_ERR(device_info_key_parse("device_info.demo.sshnp", &dev, &owner), -EINVAL);
        ASSERT_ERR(device_info_key_parse("device_info.a/b.sshnp@d", &dev, &owner), -EINVAL);
        ASSERT_ERR(device_info_key_parse("device_info.demo.sshnp@d:x", &dev, &owner), -EINVAL);
}

TEST(session_ids_are_lower_case_uuid_v4) {
        char a[37], b[37];

        np_session_id_new(a);
        np_session_id_new(b);
        ASSERT_TRUE(strlen(a) == 36);
        ASSERT_TRUE(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
        ASSERT_TRUE(a[14] == '4');
        ASSERT_TRUE(strchr("89ab", a[19]) != NULL);
        for (const char *p = a; *p; p++)
                ASSERT_TRUE(*p == '-' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
        ASSERT_TRUE(strcmp(a, b) != 0);
}

TEST(nonce_is_darts_iso8601_with_microseconds) {
        _cleanup_free_ char *n = NULL;
        int y, mo, d, h, mi, s, us;
        char tail;

        ASSERT_OK(np_nonce_new(&n));
        ASSERT_TRUE(strlen(n) == 26);
        ASSERT_TRUE(sscanf(n, "%4d-%2d-%2dT%2d:%2d:%2d.%6d%c", &y, &mo, &d, &h, &mi, &s, &us, &tail) == 7);
        ASSERT_TRUE(y >= 2024 && mo >= 1 && mo <= 12 && us >= 0);
}

TEST(feature_gate_as_upstream) {
        NpSessionOptions o = { .kind = NP_REQUEST_SSH, .authenticate_device_to_rvd = true, .encrypt_rvd_traffic = true };

        ASSERT_TRUE(np_session_required_features(&o) == (NP_FEATURE_SR_AUTH | NP_FEATURE_SR_E2EE));
        o.ssh_public_key = "ssh-ed25519 AAAA";
        ASSERT_TRUE(np_session_required_features(&o) & NP_FEATURE_ACCEPTS_PUBLIC_KEYS);
        o = (NpSessionOptions){ .kind = NP_REQUEST_SSH };
        ASSERT_TRUE(np_session_required_features(&o) == 0);
        /* npt needs its features whatever the flags say, and adjustableTimeout for a non-default -T */
        o = (NpSessionOptions){ .kind = NP_REQUEST_NPT };
        ASSERT_TRUE(np_session_required_features(&o) ==
                    (NP_FEATURE_SR_AUTH | NP_FEATURE_SR_E2EE | NP_FEATURE_SUPPORTS_PORT_CHOICE));
        o.require_adjustable_timeout = true;
        ASSERT_TRUE(np_session_required_features(&o) & NP_FEATURE_ADJUSTABLE_TIMEOUT);
}

int main(void) {
        RUN(ssh_command_without_identity_is_upstreams_minimal_form);
        RUN(ssh_command_with_identity_adds_upstreams_two_options_and_i_last);
        RUN(local_ssh_options_raw_or_bare);
        RUN(ssh_command_refuses_what_ssh_would_read_as_an_option);
        RUN(device_info_keys);
        RUN(session_ids_are_lower_case_uuid_v4);
        RUN(nonce_is_darts_iso8601_with_microseconds);
        RUN(feature_gate_as_upstream);
        return 0;
}
