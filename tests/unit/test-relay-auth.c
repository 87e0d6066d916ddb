/* SPDX-License-Identifier: BSD-3-Clause */
#include "noports-vectors.h"
#include "relay_auth.h"
#include "secure.h"
#include "tests.h"

static AtRsaPrivate *vec_private;
static AtRsaPublic *vec_public;

#define VERIFY(line, sid, cn, rn, key) relay_auth_verify((line), strlen(line), (sid), (cn), (rn), (key))

TEST(relay_auth_line_is_byte_exact) {
        char *line = NULL;

        ASSERT_OK(relay_auth_build(VEC_SESSION_ID, VEC_CLIENT_NONCE, VEC_RVD_NONCE, vec_private, &line));
        ASSERT_STREQ(line, VEC_AUTH_LINE);
        ASSERT_TRUE(!strchr(line, '\n'));
        free(line);
}

TEST(relay_accepts_independently_signed_line) {
        ASSERT_OK(VERIFY(VEC_AUTH_LINE, VEC_SESSION_ID, VEC_CLIENT_NONCE, VEC_RVD_NONCE, vec_public));
        /* a Windows peer's "\r\n" */
        ASSERT_OK(VERIFY(VEC_AUTH_LINE "\r", VEC_SESSION_ID, VEC_CLIENT_NONCE, VEC_RVD_NONCE, vec_public));
}

TEST(relay_refuses_wrong_nonce_session_or_key) {
        AtRsaPrivate *other = NULL;
        AtRsaPublic *other_pub = NULL;

        ASSERT_ERR(VERIFY(VEC_AUTH_LINE, VEC_SESSION_ID, VEC_CLIENT_NONCE, "2024-01-01T00:00:00.000000", vec_public), -EPERM);
        ASSERT_ERR(VERIFY(VEC_AUTH_LINE, "another-session", VEC_CLIENT_NONCE, VEC_RVD_NONCE, vec_public), -EBADMSG);
        ASSERT_ERR(VERIFY(VEC_AUTH_LINE, VEC_SESSION_ID, "other-client-nonce", VEC_RVD_NONCE, vec_public), -EBADMSG);
        ASSERT_OK(at_rsa_generate(2048, &other));
        ASSERT_OK(at_rsa_private_get_public(other, &other_pub));
        ASSERT_ERR(VERIFY(VEC_AUTH_LINE, VEC_SESSION_ID, VEC_CLIENT_NONCE, VEC_RVD_NONCE, other_pub), -EBADMSG);
        at_rsa_public_free(other_pub);
        at_rsa_private_free(other);
}

TEST(relay_refuses_garbage) {
        const char *bad[] = {
                "",
                "hello",
                "{}",
                "{\"payload\":{\"rvdNonce\":\"" VEC_RVD_NONCE "\"},\"signature\":\"!!\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}",
                "{\"payload\":[],\"signature\":\"AA==\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}",
                "{\"payload\":{\"rvdNonce\":7},\"signature\":\"AA==\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_FAIL(VERIFY(bad[i], VEC_SESSION_ID, VEC_CLIENT_NONCE, VEC_RVD_NONCE, vec_public));
}

TEST(relay_auth_line_length_is_bounded) {
        char *buf = malloc(RELAY_AUTH_MAX_LINE + 100);

        ASSERT_ERR(relay_auth_line_length("abc", 3), -EAGAIN);
        ASSERT_ERR(relay_auth_line_length("abc\nrest", 8), 3);
        ASSERT_ERR(relay_auth_line_length("\n", 1), 0);
        memset(buf, 'x', RELAY_AUTH_MAX_LINE + 100);
        ASSERT_ERR(relay_auth_line_length(buf, RELAY_AUTH_MAX_LINE - 1), -EAGAIN);
        ASSERT_ERR(relay_auth_line_length(buf, RELAY_AUTH_MAX_LINE), -EMSGSIZE);
        /* a newline after the limit does not count */
        buf[RELAY_AUTH_MAX_LINE + 10] = '\n';
        ASSERT_ERR(relay_auth_line_length(buf, RELAY_AUTH_MAX_LINE + 100), -EMSGSIZE);
        buf[RELAY_AUTH_MAX_LINE - 1] = '\n';
        ASSERT_ERR(relay_auth_line_length(buf, RELAY_AUTH_MAX_LINE + 100), (int) RELAY_AUTH_MAX_LINE - 1);
        ASSERT_ERR(relay_auth_verify(buf, RELAY_AUTH_MAX_LINE + 1, VEC_SESSION_ID, VEC_CLIENT_NONCE, VEC_RVD_NONCE,
                                     vec_public), -EMSGSIZE);
        free(buf);
}

TEST(relay_auth_roundtrip_with_generated_key) {
        AtRsaPrivate *k = NULL;
        AtRsaPublic *pub = NULL;
        char *line = NULL;

        ASSERT_OK(at_rsa_generate(2048, &k));
        ASSERT_OK(at_rsa_private_get_public(k, &pub));
        ASSERT_OK(relay_auth_build("sid-1", "cn \"quoted\" / \xc3\xa9", "rn", k, &line));
        ASSERT_OK(VERIFY(line, "sid-1", "cn \"quoted\" / \xc3\xa9", "rn", pub));
        ASSERT_FAIL(VERIFY(line, "sid-1", "cn", "rn", pub));
        free(line);
        at_rsa_public_free(pub);
        at_rsa_private_free(k);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        ASSERT_OK(at_rsa_private_from_base64(VEC_PRIVATE_KEY, &vec_private));
        ASSERT_OK(at_rsa_public_from_base64(VEC_PUBLIC_KEY, &vec_public));

        RUN(relay_auth_line_is_byte_exact);
        RUN(relay_accepts_independently_signed_line);
        RUN(relay_refuses_wrong_nonce_session_or_key);
        RUN(relay_refuses_garbage);
        RUN(relay_auth_line_length_is_bounded);
        RUN(relay_auth_roundtrip_with_generated_key);

        at_rsa_public_free(vec_public);
        at_rsa_private_free(vec_private);
        return 0;
}
