/* SPDX-License-Identifier: BSD-3-Clause */
#include "dart_json.h"
#include "envelope.h"
#include "json_field.h"
#include "noports-vectors.h"
#include "secure.h"
#include "tests.h"

static AtRsaPrivate *vec_private;
static AtRsaPublic *vec_public;

static char *encode_text(const char *json) {
        json_error_t e;
        json_t *j = json_loads(json, JSON_DECODE_ANY, &e);
        char *s = NULL;

        ASSERT_TRUE(j);
        ASSERT_OK(dart_json_encode(j, &s));
        json_decref(j);
        return s;
}

#define ASSERT_ENCODES(in, out)                         \
        do {                                            \
                char *_s = encode_text(in);             \
                ASSERT_STREQ(_s, out);                  \
                free(_s);                               \
        } while (0)

TEST(dart_json_matches_dart_escaping) {
        /* dart:convert _JsonStringifier: only '"', '\\' and < 0x20 escaped, lower-case hex,
         * '/' and non-ASCII raw, DEL raw */
        ASSERT_ENCODES("\"a/b\"", "\"a/b\"");
        ASSERT_ENCODES("\"\\u0001\\u001F\\b\\t\\n\\f\\r\"", "\"\\u0001\\u001f\\b\\t\\n\\f\\r\"");
        ASSERT_ENCODES("\"q\\\"b\\\\\"", "\"q\\\"b\\\\\"");
        ASSERT_ENCODES("\"\\u00e9\\u20ac\\ud83d\\ude00\\u007f\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\"");
        ASSERT_ENCODES("\"\\u2028\"", "\"\xe2\x80\xa8\"");
}

TEST(dart_json_matches_dart_numbers) {
        ASSERT_ENCODES("22", "22");
        ASSERT_ENCODES("-60000", "-60000");
        ASSERT_ENCODES("1.0", "1.0");
        ASSERT_ENCODES("0.1", "0.1");
        ASSERT_ENCODES("1e5", "100000.0");
        ASSERT_ENCODES("123.456", "123.456");
        ASSERT_ENCODES("1e21", "1e+21");
        ASSERT_ENCODES("1.5e300", "1.5e+300");
        ASSERT_ENCODES("0.000001", "0.000001");
        ASSERT_ENCODES("1.5e-7", "1.5e-7");
        ASSERT_ENCODES("-2.5", "-2.5");
}

TEST(dart_json_keeps_received_order) {
        ASSERT_ENCODES("{ \"z\" : 1, \"a\" : [true, false, null, {\"y\":\"\",\"b\":{}}], \"m\" : [] }",
                       "{\"z\":1,\"a\":[true,false,null,{\"y\":\"\",\"b\":{}}],\"m\":[]}");
}

TEST(dart_json_parse_rejects_bad_input) {
        json_t *j = NULL;
        ASSERT_ERR(dart_json_parse_object("{\"a\":1,\"a\":2}", 13, 100, &j), -EBADMSG);
        ASSERT_ERR(dart_json_parse_object("[1]", 3, 100, &j), -EBADMSG);
        ASSERT_ERR(dart_json_parse_object("{\"a\":1}", 7, 6, &j), -EMSGSIZE);
        ASSERT_ERR(dart_json_parse_object("{\"a\":\"\\u0000\"}", 14, 100, &j), -EBADMSG);
        ASSERT_ERR(dart_json_parse_object("{\"a\":\"\\ud800\"}", 14, 100, &j), -EBADMSG);
        ASSERT_ERR(dart_json_parse_object("{\"a\":\"\xff\"}", 8, 100, &j), -EBADMSG);
        ASSERT_OK(dart_json_parse_object("{\"a\":1}", 7, 100, &j));
        json_decref(j);
}

static json_t *vector_payload(void) {
        json_t *p = json_object();
        ASSERT_OK(json_add_string(p, "sessionId", VEC_SESSION_ID));
        ASSERT_OK(json_add_string(p, "clientNonce", VEC_CLIENT_NONCE));
        ASSERT_OK(json_add_string(p, "rvdNonce", VEC_RVD_NONCE));
        return p;
}

TEST(envelope_sign_matches_independent_signer) {
        json_t *p = vector_payload();
        char *text = NULL;

        ASSERT_OK(envelope_sign(p, vec_private, &text));
        ASSERT_STREQ(text, VEC_AUTH_LINE);
        free(text);
        json_decref(p);
}

TEST(envelope_verifies_independent_signature) {
        json_t *payload = NULL;

        ASSERT_OK(envelope_open(VEC_AUTH_LINE, strlen(VEC_AUTH_LINE), vec_public, &payload));
        ASSERT_STREQ(json_string_value(json_object_get(payload, "rvdNonce")), VEC_RVD_NONCE);
        json_decref(payload);
}

TEST(envelope_verify_survives_whitespace_outside_payload_order) {
        /* the verifier re-serialises: whitespace and the order of the envelope's own fields do
         * not matter, only the payload's content and order */
        const char *text = "{ \"signingAlgo\" : \"rsa2048\", \"hashingAlgo\":\"sha256\",\n"
                           "  \"payload\" : { \"sessionId\" : \"" VEC_SESSION_ID "\", \"clientNonce\":\"" VEC_CLIENT_NONCE
                           "\",\"rvdNonce\":\"" VEC_RVD_NONCE "\" },\n \"signature\":\"" VEC_AUTH_SIGNATURE "\" }";
        json_t *payload = NULL;

        ASSERT_OK(envelope_open(text, strlen(text), vec_public, &payload));
        json_decref(payload);
}

TEST(envelope_refuses_reordered_or_changed_payload) {
        const char *reordered = "{\"payload\":{\"clientNonce\":\"" VEC_CLIENT_NONCE "\",\"sessionId\":\"" VEC_SESSION_ID
                                "\",\"rvdNonce\":\"" VEC_RVD_NONCE "\"},\"signature\":\"" VEC_AUTH_SIGNATURE
                                "\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}";
        const char *changed = "{\"payload\":{\"sessionId\":\"" VEC_SESSION_ID "\",\"clientNonce\":\"" VEC_CLIENT_NONCE
                              "\",\"rvdNonce\":\"2024-06-21T22:30:20.112234\"},\"signature\":\"" VEC_AUTH_SIGNATURE
                              "\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}";
        json_t *payload = NULL;

        ASSERT_ERR(envelope_open(reordered, strlen(reordered), vec_public, &payload), -EBADMSG);
        ASSERT_ERR(envelope_open(changed, strlen(changed), vec_public, &payload), -EBADMSG);
}

TEST(envelope_refuses_wrong_key) {
        AtRsaPrivate *other = NULL;
        AtRsaPublic *other_pub = NULL;
        json_t *payload = NULL;

        ASSERT_OK(at_rsa_generate(2048, &other));
        ASSERT_OK(at_rsa_private_get_public(other, &other_pub));
        ASSERT_ERR(envelope_open(VEC_AUTH_LINE, strlen(VEC_AUTH_LINE), other_pub, &payload), -EBADMSG);
        at_rsa_public_free(other_pub);
        at_rsa_private_free(other);
}

TEST(envelope_roundtrip_with_awkward_strings_and_numbers) {
        json_t *p = json_object(), *back = NULL;
        char *text = NULL;

        ASSERT_OK(json_add_bool(p, "direct", true));
        ASSERT_OK(json_add_string(p, "host", "relay.example/\xc3\xa9\t\x01"));
        ASSERT_OK(json_add_int(p, "port", 61234));
        ASSERT_OK(json_add_null(p, "rvdNonce"));
        json_object_set_new(p, "ratio", json_real(0.1));
        ASSERT_OK(envelope_sign(p, vec_private, &text));
        ASSERT_OK(envelope_open(text, strlen(text), vec_public, &back));
        ASSERT_TRUE(json_equal(p, back));
        free(text);
        json_decref(back);
        json_decref(p);
}

TEST(envelope_parse_checks_types_and_algorithms) {
        Envelope *e = NULL;
#define BAD(text, err) ASSERT_ERR(envelope_parse(text, strlen(text), &e), err)
        BAD("not json", -EBADMSG);
        BAD("{\"payload\":\"x\",\"signature\":\"AA==\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}", -EBADMSG);
        BAD("{\"payload\":{},\"signature\":1,\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}", -EBADMSG);
        BAD("{\"payload\":{},\"signature\":\"AA==\",\"signingAlgo\":\"rsa2048\"}", -EBADMSG);
        BAD("{\"payload\":{},\"signature\":\"AA==\",\"hashingAlgo\":\"md5\",\"signingAlgo\":\"rsa2048\"}", -EPROTONOSUPPORT);
        BAD("{\"payload\":{},\"signature\":\"AA==\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"ecc_secp256r1\"}",
            -EPROTONOSUPPORT);
        BAD("{\"payload\":{},\"signature\":\"\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}", -EBADMSG);
#undef BAD
        const char *ok = "{\"payload\":{},\"signature\":\"AA==\",\"hashingAlgo\":\"sha512\",\"signingAlgo\":\"rsa2048\"}";
        ASSERT_OK(envelope_parse(ok, strlen(ok), &e));
        ASSERT_TRUE(e->hash == AT_HASH_SHA512);
        ASSERT_STREQ(e->payload_bytes, "{}");
        ASSERT_ERR(envelope_verify(e, vec_public), -EBADMSG);
        envelope_free(e);
}

TEST(envelope_refuses_oversized_input) {
        size_t n = ENVELOPE_MAX_SIZE + 10;
        char *big = malloc(n);
        Envelope *e = NULL;

        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        ASSERT_ERR(envelope_parse(big, n, &e), -EMSGSIZE);
        free(big);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        ASSERT_OK(at_rsa_private_from_base64(VEC_PRIVATE_KEY, &vec_private));
        ASSERT_OK(at_rsa_public_from_base64(VEC_PUBLIC_KEY, &vec_public));

        RUN(dart_json_matches_dart_escaping);
        RUN(dart_json_matches_dart_numbers);
        RUN(dart_json_keeps_received_order);
        RUN(dart_json_parse_rejects_bad_input);
        RUN(envelope_sign_matches_independent_signer);
        RUN(envelope_verifies_independent_signature);
        RUN(envelope_verify_survives_whitespace_outside_payload_order);
        RUN(envelope_refuses_reordered_or_changed_payload);
        RUN(envelope_refuses_wrong_key);
        RUN(envelope_roundtrip_with_awkward_strings_and_numbers);
        RUN(envelope_parse_checks_types_and_algorithms);
        RUN(envelope_refuses_oversized_input);

        at_rsa_public_free(vec_public);
        at_rsa_private_free(vec_private);
        return 0;
}
