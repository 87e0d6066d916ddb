/* SPDX-License-Identifier: BSD-3-Clause */
#include "base64.h"
#include "dart_json.h"
#include "json_field.h"
#include "messages.h"
#include "secure.h"
#include "session_crypto.h"
#include "tests.h"

static char *to_text(json_t *j) {
        char *s = NULL;
        ASSERT_TRUE(j);
        ASSERT_OK(dart_json_encode(j, &s));
        json_decref(j);
        return s;
}

static json_t *load(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        ASSERT_TRUE(j);
        return j;
}

static NpSessionRequest example_request(NpRequestKind kind) {
        return (NpSessionRequest) {
                .kind = kind,
                .direct = true,
                .session_id = (char *) "9d5c1e3a-0000-4000-8000-000000000001",
                .relay_host = (char *) "10.77.0.2",
                .relay_port = 61002,
                .requested_host = (char *) "localhost",
                .requested_port = 8080,
                .authenticate_to_rvd = true,
                .client_nonce = (char *) "cn",
                .rvd_nonce = (char *) "rn",
                .encrypt_rvd_traffic = true,
                .client_ephemeral_pk = (char *) "PK",
                .client_ephemeral_pk_type = (char *) "rsa2048",
                .timeout_ms = 30000,
        };
}

/* Field order of upstream SshnpSessionRequest.toJson / NptSessionRequest.toJson
 * (noports_core/lib/src/sshnp/impl/notification_request_message.dart) */
TEST(ssh_request_field_order_baseline) {
        NpSessionRequest r = example_request(NP_REQUEST_SSH);
        json_t *j = NULL;
        char *s;

        ASSERT_OK(np_session_request_to_json(&r, &j));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"direct\":true,\"sessionId\":\"9d5c1e3a-0000-4000-8000-000000000001\",\"host\":\"10.77.0.2\","
                        "\"port\":61002,\"authenticateToRvd\":true,\"clientNonce\":\"cn\",\"rvdNonce\":\"rn\","
                        "\"encryptRvdTraffic\":true,\"clientEphemeralPK\":\"PK\",\"clientEphemeralPKType\":\"rsa2048\"}");
        free(s);
}

TEST(npt_request_field_order_baseline_and_newer) {
        NpSessionRequest r = example_request(NP_REQUEST_NPT);
        json_t *j = NULL;
        char *s;

        ASSERT_OK(np_session_request_to_json(&r, &j));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"sessionId\":\"9d5c1e3a-0000-4000-8000-000000000001\",\"rvdHost\":\"10.77.0.2\",\"rvdPort\":61002,"
                        "\"requestedPort\":8080,\"requestedHost\":\"localhost\",\"authenticateToRvd\":true,"
                        "\"clientNonce\":\"cn\",\"rvdNonce\":\"rn\",\"encryptRvdTraffic\":true,\"clientEphemeralPK\":\"PK\","
                        "\"clientEphemeralPKType\":\"rsa2048\",\"timeout\":30000}");
        free(s);

        r.newer_fields = true;
        r.twin_keys = true;
        r.relay_atsign = (char *) "@relay";
        ASSERT_OK(np_session_request_to_json(&r, &j));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"sessionId\":\"9d5c1e3a-0000-4000-8000-000000000001\",\"rvdHost\":\"10.77.0.2\",\"rvdPort\":61002,"
                        "\"requestedPort\":8080,\"requestedHost\":\"localhost\",\"authenticateToRvd\":true,"
                        "\"relayAuthMode\":\"payload\",\"relayAuthAesKey\":null,"
                        "\"clientNonce\":\"cn\",\"rvdNonce\":\"rn\",\"encryptRvdTraffic\":true,\"clientEphemeralPK\":\"PK\","
                        "\"clientEphemeralPKType\":\"rsa2048\",\"timeout\":30000,\"twinKeys\":true,\"relayAtsign\":\"@relay\"}");
        free(s);
}

TEST(session_request_roundtrip) {
        NpSessionRequest r = example_request(NP_REQUEST_NPT), *back = NULL;
        json_t *j = NULL;

        r.newer_fields = true;
        r.twin_keys = true;
        ASSERT_OK(np_session_request_to_json(&r, &j));
        ASSERT_OK(np_session_request_from_json(NP_REQUEST_NPT, j, &back));
        ASSERT_STREQ(back->session_id, r.session_id);
        ASSERT_STREQ(back->requested_host, "localhost");
        ASSERT_TRUE(back->requested_port == 8080 && back->relay_port == 61002 && back->timeout_ms == 30000);
        ASSERT_TRUE(back->twin_keys && back->newer_fields && back->authenticate_to_rvd && back->encrypt_rvd_traffic);
        np_session_request_free(back);
        json_decref(j);
}

TEST(session_request_parse_checks_every_field) {
        NpSessionRequest *r = NULL;
        const char *bad_ssh[] = {
                "{\"direct\":false,\"sessionId\":\"s\",\"host\":\"h\",\"port\":1}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":0}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":65536}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":\"22\"}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":7,\"port\":22}",
                "{\"direct\":true,\"sessionId\":\"\",\"host\":\"h\",\"port\":22}",
                "{\"direct\":true,\"host\":\"h\",\"port\":22}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":22,\"authenticateToRvd\":\"yes\"}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":22,\"encryptRvdTraffic\":true}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":22,\"authenticateToRvd\":true}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":22,\"relayAuthMode\":\"magic\"}",
                "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":22.5}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_ssh); i++) {
                json_t *j = load(bad_ssh[i]);
                if (np_session_request_from_json(NP_REQUEST_SSH, j, &r) != -EBADMSG) {
                        fprintf(stderr, "accepted: %s\n", bad_ssh[i]);
                        ASSERT_TRUE(false);
                }
                json_decref(j);
        }

        /* an over-long host is refused */
        char big[600], text[800];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        snprintf(text, sizeof text, "{\"direct\":true,\"sessionId\":\"s\",\"host\":\"%s\",\"port\":22}", big);
        json_t *j = load(text);
        ASSERT_ERR(np_session_request_from_json(NP_REQUEST_SSH, j, &r), -EBADMSG);
        json_decref(j);

        /* nulls are allowed where upstream allows them; a v4-style minimal request parses */
        j = load("{\"direct\":true,\"sessionId\":\"s\",\"host\":\"h\",\"port\":22,\"authenticateToRvd\":null,\"clientNonce\":null}");
        ASSERT_OK(np_session_request_from_json(NP_REQUEST_SSH, j, &r));
        ASSERT_TRUE(!r->authenticate_to_rvd && !r->client_nonce && !r->encrypt_rvd_traffic);
        np_session_request_free(r);
        json_decref(j);

        /* npt: absent timeout is 60 s; requested host/port required */
        j = load("{\"sessionId\":\"s\",\"rvdHost\":\"h\",\"rvdPort\":2,\"requestedPort\":80,\"requestedHost\":\"web\"}");
        ASSERT_OK(np_session_request_from_json(NP_REQUEST_NPT, j, &r));
        ASSERT_TRUE(r->timeout_ms == 60000);
        np_session_request_free(r);
        json_decref(j);
        j = load("{\"sessionId\":\"s\",\"rvdHost\":\"h\",\"rvdPort\":2,\"requestedPort\":80}");
        ASSERT_ERR(np_session_request_from_json(NP_REQUEST_NPT, j, &r), -EBADMSG);
        json_decref(j);
        j = load("{\"sessionId\":\"s\",\"rvdHost\":\"h\",\"rvdPort\":2,\"requestedPort\":80,\"requestedHost\":\"w\",\"timeout\":-5}");
        ASSERT_ERR(np_session_request_from_json(NP_REQUEST_NPT, j, &r), -EBADMSG);
        json_decref(j);
}

TEST(daemon_response_forms) {
        NpSessionResponse r = { .session_id = (char *) "s", .aes_key_c2d = (char *) "K", .iv_c2d = (char *) "I" };
        NpSessionResponse *back = NULL;
        json_t *j = NULL;
        char *s;

        ASSERT_OK(np_session_response_to_json(&r, NP_RESPONSE_SSH_BASELINE, &j));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"status\":\"connected\",\"sessionId\":\"s\",\"ephemeralPrivateKey\":null,\"sessionAESKey\":\"K\",\"sessionIV\":\"I\"}");
        free(s);
        ASSERT_OK(np_session_response_to_json(&r, NP_RESPONSE_NPT_BASELINE, &j));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"status\":\"connected\",\"sessionId\":\"s\",\"sessionAESKey\":\"K\",\"sessionIV\":\"I\"}");
        free(s);
        ASSERT_OK(np_session_response_to_json(&r, NP_RESPONSE_NEWEST, &j));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"status\":\"connected\",\"sessionId\":\"s\",\"sessionAESKey\":\"K\",\"sessionIV\":\"I\","
                        "\"aesKeyD2C\":null,\"ivD2C\":null,\"eventLoggingConfig\":null}");
        free(s);

        r.aes_key_d2c = (char *) "K2";
        r.iv_d2c = (char *) "I2";
        ASSERT_ERR(np_session_response_to_json(&r, NP_RESPONSE_NPT_BASELINE, &j), -EINVAL);
        ASSERT_OK(np_session_response_to_json(&r, NP_RESPONSE_NEWEST, &j));
        ASSERT_OK(np_session_response_from_json(j, &back));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"status\":\"connected\",\"sessionId\":\"s\",\"aesKeyC2D\":\"K\",\"ivC2D\":\"I\","
                        "\"aesKeyD2C\":\"K2\",\"ivD2C\":\"I2\",\"eventLoggingConfig\":null}");
        free(s);
        ASSERT_STREQ(back->aes_key_c2d, "K");
        ASSERT_STREQ(back->iv_d2c, "I2");
        np_session_response_free(back);

        j = load("{\"status\":\"connected\",\"sessionId\":\"s\",\"sessionAESKey\":\"K\"}");
        ASSERT_ERR(np_session_response_from_json(j, &back), -EBADMSG);
        json_decref(j);
        j = load("{\"status\":7,\"sessionId\":\"s\"}");
        ASSERT_ERR(np_session_response_from_json(j, &back), -EBADMSG);
        json_decref(j);
}

TEST(relay_request_and_reply) {
        NpRelayRequest q = { .session_id = (char *) "s", .atsign_a = (char *) "@c", .atsign_b = (char *) "@d",
                             .authenticate_socket_a = true, .authenticate_socket_b = true,
                             .client_nonce = (char *) "2024-06-21T22:30:19.436915" };
        NpRelayRequest *qb = NULL;
        NpRelayReply *rb = NULL;
        json_t *j = NULL;
        char *s;

        ASSERT_OK(np_relay_request_to_json(&q, &j));
        s = to_text(j);
        ASSERT_STREQ(s, "{\"sessionId\":\"s\",\"atSignA\":\"@c\",\"atSignB\":\"@d\",\"authenticateSocketA\":true,"
                        "\"authenticateSocketB\":true,\"clientNonce\":\"2024-06-21T22:30:19.436915\"}");
        ASSERT_OK(np_relay_request_parse(s, strlen(s), &qb));
        ASSERT_STREQ(qb->atsign_b, "@d");
        ASSERT_TRUE(qb->relay_auth_mode == NP_RELAY_AUTH_PAYLOAD && !qb->newer_fields);
        np_relay_request_free(qb);
        free(s);

        const char *bad = "{\"sessionId\":\"s\",\"atSignA\":\"@c\",\"atSignB\":\"@d\",\"authenticateSocketA\":1,"
                          "\"authenticateSocketB\":true,\"clientNonce\":\"x\"}";
        ASSERT_ERR(np_relay_request_parse(bad, strlen(bad), &qb), -EBADMSG);
        const char *newer = "{\"sessionId\":\"s\",\"atSignA\":\"@c\",\"atSignB\":\"@d\",\"authenticateSocketA\":true,"
                            "\"authenticateSocketB\":true,\"clientNonce\":\"x\",\"relayAuthMode\":\"escr\","
                            "\"relayAuthAesKey\":\"k\",\"only443\":false,\"multipleAcksOk\":true,\"preFetch\":[],"
                            "\"sendJsonResponse\":true}";
        ASSERT_OK(np_relay_request_parse(newer, strlen(newer), &qb));
        ASSERT_TRUE(qb->relay_auth_mode == NP_RELAY_AUTH_ESCR && qb->send_json_response && qb->multiple_acks_ok);
        np_relay_request_free(qb);

        /* srvd_impl.dart: '$ipAddress,$portA,$portB,${rvdNonce}' */
        NpRelayReply rr = { .host = (char *) "10.77.0.2", .port_a = 40001, .port_b = 40002, .rvd_nonce = (char *) "rn" };
        ASSERT_OK(np_relay_reply_to_string(&rr, false, &s));
        ASSERT_STREQ(s, "10.77.0.2,40001,40002,rn");
        ASSERT_OK(np_relay_reply_parse(s, strlen(s), &rb));
        ASSERT_TRUE(rb->port_a == 40001 && rb->port_b == 40002);
        ASSERT_STREQ(rb->rvd_nonce, "rn");
        np_relay_reply_free(rb);
        free(s);
        ASSERT_OK(np_relay_reply_to_string(&rr, true, &s));
        ASSERT_STREQ(s, "{\"address\":\"10.77.0.2\",\"portA\":40001,\"portB\":40002,\"rvdNonce\":\"rn\","
                        "\"supportsEventLogging\":false,\"autoDetectsRelayAuth\":false}");
        ASSERT_OK(np_relay_reply_parse(s, strlen(s), &rb));
        ASSERT_STREQ(rb->host, "10.77.0.2");
        np_relay_reply_free(rb);
        free(s);

        ASSERT_OK(np_relay_reply_parse("h,1,2,null", strlen("h,1,2,null"), &rb));
        ASSERT_TRUE(rb->rvd_nonce == NULL);
        np_relay_reply_free(rb);
        ASSERT_OK(np_relay_reply_parse("h,1,2", strlen("h,1,2"), &rb)); /* v4 relays: three fields */
        np_relay_reply_free(rb);
        const char *bad_replies[] = { "", "h", "h,1", "h,0,2,n", "h,1,65536,n", ",1,2,n", "h,1,2,n,x", "h,a,2,n", "h,1,2,",
                                      "{\"address\":\"h\",\"portA\":1}" };
        for (size_t i = 0; i < ELEMENTSOF(bad_replies); i++)
                if (np_relay_reply_parse(bad_replies[i], strlen(bad_replies[i]), &rb) >= 0) {
                        fprintf(stderr, "accepted: %s\n", bad_replies[i]);
                        ASSERT_TRUE(false);
                }
}

TEST(ping_build_and_parse) {
        char *services[] = { (char *) "localhost:22", (char *) "localhost:3389", NULL };
        NpPing p = { .device_name = (char *) "dev", .version = (char *) "5.6.3", .core_package_version = (char *) "6.2.0",
                     .features = NP_FEATURE_SR_AUTH | NP_FEATURE_SR_E2EE | NP_FEATURE_SUPPORTS_PORT_CHOICE |
                                 NP_FEATURE_ADJUSTABLE_TIMEOUT,
                     .allowed_services = services };
        NpPing *back = NULL;
        json_t *j = NULL;
        char *s;

        ASSERT_OK(np_ping_to_json(&p, &j));
        s = to_text(j);
        /* the Dart 5.6.x ping response, spec §6.1 */
        ASSERT_STREQ(s, "{\"devicename\":\"dev\",\"deviceGroupName\":\"__none__\",\"version\":\"5.6.3\","
                        "\"corePackageVersion\":\"6.2.0\",\"supportedFeatures\":{\"srAuth\":true,\"srE2ee\":true,"
                        "\"acceptsPublicKeys\":false,\"supportsPortChoice\":true,\"adjustableTimeout\":true},"
                        "\"allowedServices\":[\"localhost:22\",\"localhost:3389\"]}");
        ASSERT_OK(np_ping_parse(s, strlen(s), &back));
        ASSERT_TRUE(back->features == p.features && back->has_supported_features);
        ASSERT_STREQ(back->allowed_services[1], "localhost:3389");
        ASSERT_TRUE(back->allowed_services[2] == NULL);
        np_ping_free(back);
        free(s);

        p.features |= NP_FEATURE_TWIN_KEYS;
        p.features_present = NP_FEATURE_TWIN_KEYS | NP_FEATURE_SUPPORTS_RAM_ESCR;
        p.np_cp_version = (char *) "1.5.0";
        ASSERT_OK(np_ping_to_json(&p, &j));
        s = to_text(j);
        ASSERT_TRUE(strstr(s, "\"adjustableTimeout\":true,\"supportsRamEscr\":false,\"twinKeys\":true}"));
        ASSERT_TRUE(strstr(s, "\"npCpVersion\":\"1.5.0\""));
        free(s);

        /* a v4 daemon has no supportedFeatures: treated as acceptsPublicKeys only */
        ASSERT_OK(np_ping_parse("{\"devicename\":\"d\"}", strlen("{\"devicename\":\"d\"}"), &back));
        ASSERT_TRUE(back->features == NP_FEATURE_ACCEPTS_PUBLIC_KEYS && !back->has_supported_features);
        np_ping_free(back);
        ASSERT_FAIL(np_ping_parse("{\"supportedFeatures\":{\"srAuth\":1}}", strlen("{\"supportedFeatures\":{\"srAuth\":1}}"), &back));
        ASSERT_FAIL(np_ping_parse("{\"allowedServices\":[1]}", strlen("{\"allowedServices\":[1]}"), &back));
        /* text that sshnp --list-devices and its errors show: no terminal escapes or line breaks */
        ASSERT_FAIL(np_ping_parse("{\"version\":\"5.6\\u001b[2J\"}", strlen("{\"version\":\"5.6\\u001b[2J\"}"), &back));
        ASSERT_FAIL(np_ping_parse("{\"devicename\":\"d\\nsshnp: ok\"}", strlen("{\"devicename\":\"d\\nsshnp: ok\"}"), &back));
        ASSERT_FAIL(np_ping_parse("{\"allowedServices\":[\"localhost:22\\r\"]}",
                                  strlen("{\"allowedServices\":[\"localhost:22\\r\"]}"), &back));
        ASSERT_OK(np_ping_parse("{\"version\":\"5.6.2 \u00fc\"}", strlen("{\"version\":\"5.6.2 \u00fc\"}"), &back));
        np_ping_free(back);
        ASSERT_FAIL(np_ping_parse("[]", strlen("[]"), &back));
}

/* Key and IV of upstream packages/c/srv/tests/test_stream_encrypt.c; the expected ciphertext was
 * computed with python3-cryptography (AES-256, CTR, counter block = IV). */
TEST(session_cipher_matches_upstream_stream_vector) {
        const char *plain = "ABCDEFGHIJKLMNOPQRSTUVWXYZFOOABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const uint8_t expected[] = {
                0xf7, 0x90, 0x20, 0xf5, 0x13, 0x85, 0xb6, 0xa0, 0xc2, 0xd7, 0x37, 0x1d, 0x05, 0x8d, 0x93, 0xc1,
                0xac, 0x7b, 0x02, 0x62, 0x4d, 0xf7, 0x84, 0xe5, 0xaf, 0x5b, 0xb4, 0xf3, 0xfc, 0x29, 0x65, 0xe3,
                0x4d, 0x74, 0x98, 0x0a, 0x57, 0x54, 0xa7, 0xf3, 0x5a, 0x3e, 0xce, 0x00, 0x7a, 0x9a, 0x1f, 0x2d,
                0xeb, 0xe4, 0x79, 0xc5, 0x5b, 0x28, 0xbd,
        };
        SessionKey *k = NULL;
        AtAesCtr *enc = NULL, *dec = NULL;
        uint8_t out[64], back[64];
        size_t n = strlen(plain);

        ASSERT_TRUE(n == sizeof expected);
        ASSERT_OK(session_key_from_base64("1DPU9OP3CYvamnVBMwGgL7fm8yB1klAap0Uc5Z9R79g=", "MTIzNDU2Nzg5MEFCQ0RFRg==", &k));
        ASSERT_OK(session_key_new_cipher(k, &enc));
        ASSERT_OK(session_key_new_cipher(k, &dec));
        /* byte by byte, as the upstream test feeds it: the stream state carries across calls */
        for (size_t i = 0; i < n; i++)
                at_aes_ctr_crypt(enc, (const uint8_t *) plain + i, out + i, 1);
        ASSERT_MEMEQ(out, expected, n);
        at_aes_ctr_crypt(dec, out, back, 7);
        at_aes_ctr_crypt(dec, out + 7, back + 7, n - 7);
        ASSERT_MEMEQ(back, plain, n);
        at_aes_ctr_free(enc);
        at_aes_ctr_free(dec);
        session_key_free(k);

        ASSERT_FAIL(session_key_from_base64("AAAA", "MTIzNDU2Nzg5MEFCQ0RFRg==", &k));
        ASSERT_FAIL(session_key_from_base64("1DPU9OP3CYvamnVBMwGgL7fm8yB1klAap0Uc5Z9R79g=", "MTIzNDU2Nzg5MEFCQ0RF", &k));
}

TEST(session_key_wrap_unwrap_as_base64_text) {
        AtRsaPrivate *eph = NULL;
        AtRsaPublic *eph_pub = NULL;
        SessionKey *k = NULL, *back = NULL;
        char *wk = NULL, *wi = NULL;
        uint8_t *plain = NULL;
        size_t n;

        ASSERT_OK(at_rsa_generate(2048, &eph));
        ASSERT_OK(at_rsa_private_get_public(eph, &eph_pub));
        ASSERT_OK(session_key_generate(&k));
        ASSERT_TRUE(strlen(k->key_b64) == 44 && strlen(k->iv_b64) == 24);
        ASSERT_OK(session_wrap(eph_pub, k->key_b64, &wk));
        ASSERT_OK(session_wrap(eph_pub, k->iv_b64, &wi));
        /* the RSA plaintext is the base64 text itself (spec §1.2) */
        ASSERT_OK(at_rsa_decrypt(eph, wk, &plain, &n));
        ASSERT_TRUE(n == 44 && memcmp(plain, k->key_b64, 44) == 0);
        at_secure_free(plain);
        ASSERT_OK(session_unwrap_key(eph, wk, wi, &back));
        ASSERT_STREQ(back->key_b64, k->key_b64);
        ASSERT_STREQ(back->iv_b64, k->iv_b64);
        session_key_free(back);
        /* swapped key and IV are refused by length */
        ASSERT_ERR(session_unwrap_key(eph, wi, wk, &back), -EBADMSG);
        ASSERT_ERR(session_unwrap_key(eph, "bm90IHJzYQ==", wi, &back), -EBADMSG);
        free(wk);
        free(wi);
        session_key_free(k);
        at_rsa_public_free(eph_pub);
        at_rsa_private_free(eph);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        RUN(ssh_request_field_order_baseline);
        RUN(npt_request_field_order_baseline_and_newer);
        RUN(session_request_roundtrip);
        RUN(session_request_parse_checks_every_field);
        RUN(daemon_response_forms);
        RUN(relay_request_and_reply);
        RUN(ping_build_and_parse);
        RUN(session_cipher_matches_upstream_stream_vector);
        RUN(session_key_wrap_unwrap_as_base64_text);
        return 0;
}
