/* SPDX-License-Identifier: BSD-3-Clause */
#include "client.h"
#include "root.h"
#include "tests.h"

TEST(host_port) {
        _cleanup_free_ char *h = NULL, *h6 = NULL;
        uint16_t port = 0;
        ASSERT_OK(at_host_port_parse("root.atsign.org:64", &h, &port));
        ASSERT_STREQ(h, "root.atsign.org");
        ASSERT_TRUE(port == 64);
        ASSERT_OK(at_host_port_parse("[::1]:6464", &h6, &port));
        ASSERT_STREQ(h6, "::1");
        ASSERT_TRUE(port == 6464);

        const char *bad[] = { "", "host", "host:", ":64", "host:0", "host:65536", "host:64x", "::1:64",
                              "a b:64", "host:-1", "[::1]64" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *x = NULL;
                ASSERT_ERR(at_host_port_parse(bad[i], &x, &port), -EINVAL);
                ASSERT_TRUE(x == NULL);
        }
}

TEST(root_answers) {
        const char *good[] = { "abc-123.swarm0002.atsign.zone:6943", "@abc-123.swarm0002.atsign.zone:6943\r",
                               "@@abc-123.swarm0002.atsign.zone:6943", "data:abc-123.swarm0002.atsign.zone:6943" };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *h = NULL;
                uint16_t port = 0;
                ASSERT_OK(at_root_parse_answer(good[i], &h, &port));
                ASSERT_STREQ(h, "abc-123.swarm0002.atsign.zone");
                ASSERT_TRUE(port == 6943);
        }
        char *x = NULL;
        uint16_t p;
        ASSERT_ERR(at_root_parse_answer("null", &x, &p), -ENXIO);
        ASSERT_ERR(at_root_parse_answer("@null\r", &x, &p), -ENXIO);
        ASSERT_ERR(at_root_parse_answer("error:AT0001-x", &x, &p), -EPROTO);
        ASSERT_ERR(at_root_parse_answer("", &x, &p), -EPROTO);
        ASSERT_ERR(at_root_parse_answer("host:99999", &x, &p), -EPROTO);
        ASSERT_TRUE(x == NULL);
}

TEST(atsign_normalize) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        ASSERT_OK(at_atsign_normalize("alice", &a));
        ASSERT_STREQ(a, "@alice");
        ASSERT_OK(at_atsign_normalize("@alice", &b));
        ASSERT_STREQ(b, "@alice");
        const char *bad[] = { "", "@", "al ice", "@a@b", "a:b", "a\nb" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *x = NULL;
                ASSERT_ERR(at_atsign_normalize(bad[i], &x), -EINVAL);
        }
        char *x = NULL;
        ASSERT_ERR(at_atsign_normalize(NULL, &x), -EINVAL);
}

TEST(unreachable_root_fails_cleanly) {
        /* port 1 on loopback: nothing listens; must fail fast, not hang */
        char *h = NULL;
        uint16_t p;
        ASSERT_FAIL(at_root_lookup("127.0.0.1", 1, NULL, "@alice", 2000000, &h, &p));
        ASSERT_TRUE(h == NULL);
}

int main(void) {
        RUN(host_port);
        RUN(root_answers);
        RUN(atsign_normalize);
        RUN(unreachable_root_fails_cleanly);
        return 0;
}
