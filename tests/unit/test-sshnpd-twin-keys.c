/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnpd speaks the baseline to baseline clients and twin keys to clients that ask for them
 * (issue 4; spec §5.3, §5.5, §11.4): the request as each kind of client sends it, through the
 * daemon's decision, to the signed answer the client reads and the environment srv is given. */
#include "capabilities.h"
#include "dart_json.h"
#include "envelope.h"
#include "noports-vectors.h"
#include "response.h"
#include "secure.h"
#include "srv_command.h"
#include "tests.h"

static AtRsaPrivate *client_key, *daemon_key, *ephemeral;
static AtRsaPublic *client_pub, *daemon_pub;
static char *ephemeral_pk;

#define SID "6a1c3b0e-7f2d-4c59-a0e4-1b2c3d4e5f60"

/* The payload as sshnp 5.x writes it (SshnpSessionRequest.toJson, no newer fields) */
static char *baseline_ssh_payload(void) {
        char *s = NULL;
        ASSERT_TRUE(asprintf(&s,
                             "{\"direct\":true,\"sessionId\":\"" SID "\",\"host\":\"10.7.0.2\",\"port\":40002,"
                             "\"authenticateToRvd\":true,\"clientNonce\":\"2024-06-21T22:30:19.436915\","
                             "\"rvdNonce\":\"2024-06-21T22:30:20.112233\",\"encryptRvdTraffic\":true,"
                             "\"clientEphemeralPK\":\"%s\",\"clientEphemeralPKType\":\"rsa2048\"}",
                             ephemeral_pk) > 0);
        return s;
}

/* npt 5.x (NptSessionRequest.toJson): requestedPort before requestedHost, timeout in ms */
static char *baseline_npt_payload(void) {
        char *s = NULL;
        ASSERT_TRUE(asprintf(&s,
                             "{\"sessionId\":\"" SID "\",\"rvdHost\":\"10.7.0.2\",\"rvdPort\":40002,"
                             "\"requestedPort\":8080,\"requestedHost\":\"localhost\",\"authenticateToRvd\":true,"
                             "\"clientNonce\":\"n1\",\"rvdNonce\":\"n2\",\"encryptRvdTraffic\":true,"
                             "\"clientEphemeralPK\":\"%s\",\"clientEphemeralPKType\":\"rsa2048\",\"timeout\":120000}",
                             ephemeral_pk) > 0);
        return s;
}

/* What the daemon does with a notification value: envelope, signature of the sender, request */
static NpSessionRequest *daemon_reads(NpRequestKind kind, const char *payload_text) {
        json_t *payload = NULL;
        Envelope *e = NULL;
        NpSessionRequest *req = NULL;
        char *text = NULL;

        ASSERT_OK(dart_json_parse_object(payload_text, strlen(payload_text), 65536, &payload));
        ASSERT_OK(envelope_sign(payload, client_key, &text));
        ASSERT_OK(envelope_parse(text, strlen(text), &e));
        ASSERT_OK(envelope_verify(e, client_pub));
        /* the signed bytes are the client's bytes, untouched */
        ASSERT_STREQ(e->payload_bytes, payload_text);
        ASSERT_OK(np_session_request_from_json(kind, e->payload, &req));
        json_decref(payload);
        envelope_free(e);
        free(text);
        return req;
}

/* The client's side of the answer: envelope verified with the daemon's key, field names in order */
static json_t *client_reads(const char *text, char *fields, size_t size) {
        json_t *payload = NULL, *v;
        const char *k;

        ASSERT_OK(envelope_open(text, strlen(text), daemon_pub, &payload));
        fields[0] = 0;
        json_object_foreach(payload, k, v) {
                if (fields[0])
                        strncat(fields, ",", size - strlen(fields) - 1);
                strncat(fields, k, size - strlen(fields) - 1);
        }
        return payload;
}

static void assert_unwraps(json_t *payload, const char *key_field, const char *iv_field, const SessionKey *expected) {
        SessionKey *k = NULL;

        ASSERT_OK(session_unwrap_key(ephemeral, json_string_value(json_object_get(payload, key_field)),
                                     json_string_value(json_object_get(payload, iv_field)), &k));
        ASSERT_STREQ(k->key_b64, expected->key_b64);
        ASSERT_STREQ(k->iv_b64, expected->iv_b64);
        session_key_free(k);
}

static bool argv_has(const SrvCommand *c, const char *arg) {
        for (unsigned i = 0; c->argv[i]; i++)
                if (streq(c->argv[i], arg))
                        return true;
        return false;
}

static void assert_baseline_srv(const SrvCommand *c, const SessionKey *key) {
        ASSERT_TRUE(argv_has(c, "--rv-e2ee"));
        ASSERT_STREQ(srv_command_getenv(c, "RV_AES"), key->key_b64);
        ASSERT_STREQ(srv_command_getenv(c, "RV_IV"), key->iv_b64);
        ASSERT_TRUE(!srv_command_getenv(c, "RV_AES_C2D") && !srv_command_getenv(c, "RV_IV_C2D"));
        ASSERT_TRUE(!srv_command_getenv(c, "RV_AES_D2C") && !srv_command_getenv(c, "RV_IV_D2C"));
        /* no secret on the command line */
        for (unsigned i = 0; c->argv[i]; i++)
                ASSERT_TRUE(!strstr(c->argv[i], key->key_b64) && !strstr(c->argv[i], key->iv_b64));
}

TEST(baseline_ssh_request_gets_baseline_answer_and_one_key_srv) {
        SshnpdArgs args = {};
        _cleanup_free_ char *payload = baseline_ssh_payload(), *text = NULL;
        NpSessionRequest *req = daemon_reads(NP_REQUEST_SSH, payload);
        SessionKey *key = NULL;
        NpSessionResponse *resp = NULL;
        SrvCommand cmd;
        char fields[256];
        json_t *answer;

        ASSERT_TRUE(!req->newer_fields && !req->twin_keys);
        ASSERT_TRUE(!sshnpd_twin_keys_for(&args, req));
        ASSERT_OK(session_key_generate(&key));

        srv_command_build(&cmd, req, "localhost", 22, key, NULL, "AUTHLINE");
        assert_baseline_srv(&cmd, key);
        ASSERT_STREQ(srv_command_getenv(&cmd, "RV_AUTH"), "AUTHLINE");
        ASSERT_TRUE(argv_has(&cmd, "--rv-auth") && !argv_has(&cmd, "--multi"));
        ASSERT_TRUE(argv_has(&cmd, "40002") && argv_has(&cmd, "10.7.0.2") && argv_has(&cmd, "30"));

        ASSERT_OK(sshnpd_response_build(NP_REQUEST_SSH, req->session_id, req->client_ephemeral_pk, key, NULL,
                                        daemon_key, &text));
        answer = client_reads(text, fields, sizeof fields);
        /* exactly the 5.x ssh answer (sshnpd_impl.dart 5.6): a 5.x client reads these names */
        ASSERT_STREQ(fields, "status,sessionId,ephemeralPrivateKey,sessionAESKey,sessionIV");
        ASSERT_STREQ(json_string_value(json_object_get(answer, "status")), "connected");
        ASSERT_STREQ(json_string_value(json_object_get(answer, "sessionId")), SID);
        ASSERT_TRUE(json_is_null(json_object_get(answer, "ephemeralPrivateKey")));
        assert_unwraps(answer, "sessionAESKey", "sessionIV", key);
        /* and our own client's parser sees one key */
        ASSERT_OK(np_session_response_from_json(answer, &resp));
        ASSERT_TRUE(resp->aes_key_c2d && !resp->aes_key_d2c && !resp->iv_d2c);

        np_session_response_free(resp);
        json_decref(answer);
        session_key_free(key);
        np_session_request_free(req);
}

TEST(baseline_npt_request_gets_baseline_answer_and_one_key_srv) {
        SshnpdArgs args = {};
        _cleanup_free_ char *payload = baseline_npt_payload(), *text = NULL;
        NpSessionRequest *req = daemon_reads(NP_REQUEST_NPT, payload);
        SessionKey *key = NULL;
        SrvCommand cmd;
        char fields[256];
        json_t *answer;

        ASSERT_TRUE(!sshnpd_twin_keys_for(&args, req));
        ASSERT_OK(session_key_generate(&key));
        srv_command_build(&cmd, req, req->requested_host, req->requested_port, key, NULL, NULL);
        assert_baseline_srv(&cmd, key);
        ASSERT_TRUE(argv_has(&cmd, "--multi") && !argv_has(&cmd, "--rv-auth") && !srv_command_getenv(&cmd, "RV_AUTH"));
        ASSERT_TRUE(argv_has(&cmd, "8080") && argv_has(&cmd, "120"));

        ASSERT_OK(sshnpd_response_build(NP_REQUEST_NPT, req->session_id, req->client_ephemeral_pk, key, NULL,
                                        daemon_key, &text));
        answer = client_reads(text, fields, sizeof fields);
        ASSERT_STREQ(fields, "status,sessionId,sessionAESKey,sessionIV");
        assert_unwraps(answer, "sessionAESKey", "sessionIV", key);

        json_decref(answer);
        session_key_free(key);
        np_session_request_free(req);
}

/* a request with the newer fields, as our sshnp and newer upstream clients write it */
static NpSessionRequest *newer_request(NpRequestKind kind, bool twin, bool encrypt) {
        NpSessionRequest r = {
                .kind = kind, .direct = true, .session_id = (char *) SID, .relay_host = (char *) "10.7.0.2",
                .relay_port = 40002, .requested_host = (char *) "localhost", .requested_port = 8080,
                .authenticate_to_rvd = true, .client_nonce = (char *) "n1", .rvd_nonce = (char *) "n2",
                .encrypt_rvd_traffic = encrypt, .client_ephemeral_pk = ephemeral_pk,
                .client_ephemeral_pk_type = (char *) "rsa2048", .timeout_ms = 60000, .newer_fields = true,
                .relay_auth_mode = NP_RELAY_AUTH_PAYLOAD, .twin_keys = twin, .relay_atsign = (char *) "@relay",
        };
        json_t *j = NULL;
        _cleanup_free_ char *bytes = NULL;
        NpSessionRequest *req;

        ASSERT_OK(np_session_request_to_json(&r, &j));
        ASSERT_OK(dart_json_encode(j, &bytes));
        json_decref(j);
        req = daemon_reads(kind, bytes);
        ASSERT_TRUE(req->newer_fields && req->twin_keys == twin);
        return req;
}

TEST(twin_request_gets_twin_answer_and_two_key_srv) {
        for (NpRequestKind kind = NP_REQUEST_SSH; kind <= NP_REQUEST_NPT; kind++) {
                SshnpdArgs args = {};
                NpSessionRequest *req = newer_request(kind, true, true);
                SessionKey *c2d = NULL, *d2c = NULL;
                NpSessionResponse *resp = NULL;
                _cleanup_free_ char *text = NULL;
                SrvCommand cmd;
                char fields[256];
                json_t *answer;

                ASSERT_TRUE(sshnpd_twin_keys_for(&args, req));
                ASSERT_OK(session_key_generate(&c2d));
                ASSERT_OK(session_key_generate(&d2c));
                ASSERT_TRUE(!streq(c2d->key_b64, d2c->key_b64));

                srv_command_build(&cmd, req, "localhost", 22, c2d, d2c, NULL);
                ASSERT_STREQ(srv_command_getenv(&cmd, "RV_AES_C2D"), c2d->key_b64);
                ASSERT_STREQ(srv_command_getenv(&cmd, "RV_IV_C2D"), c2d->iv_b64);
                ASSERT_STREQ(srv_command_getenv(&cmd, "RV_AES_D2C"), d2c->key_b64);
                ASSERT_STREQ(srv_command_getenv(&cmd, "RV_IV_D2C"), d2c->iv_b64);
                ASSERT_TRUE(!srv_command_getenv(&cmd, "RV_AES") && !srv_command_getenv(&cmd, "RV_IV"));
                ASSERT_TRUE(argv_has(&cmd, "--rv-e2ee"));

                ASSERT_OK(sshnpd_response_build(kind, req->session_id, req->client_ephemeral_pk, c2d, d2c, daemon_key,
                                                &text));
                answer = client_reads(text, fields, sizeof fields);
                /* the newest form (sshnpd_impl.dart newer, startNpt) */
                ASSERT_STREQ(fields, "status,sessionId,aesKeyC2D,ivC2D,aesKeyD2C,ivD2C,eventLoggingConfig");
                ASSERT_TRUE(json_is_null(json_object_get(answer, "eventLoggingConfig")));
                assert_unwraps(answer, "aesKeyC2D", "ivC2D", c2d);
                assert_unwraps(answer, "aesKeyD2C", "ivD2C", d2c);
                ASSERT_OK(np_session_response_from_json(answer, &resp));
                ASSERT_TRUE(resp->aes_key_c2d && resp->iv_c2d && resp->aes_key_d2c && resp->iv_d2c);

                np_session_response_free(resp);
                json_decref(answer);
                session_key_free(c2d);
                session_key_free(d2c);
                np_session_request_free(req);
        }
}

TEST(twin_keys_only_when_asked_encrypted_and_enabled) {
        SshnpdArgs on = {}, off = { .no_twin_keys = true };
        NpSessionRequest *asked = newer_request(NP_REQUEST_SSH, true, true);
        NpSessionRequest *declined = newer_request(NP_REQUEST_SSH, false, true);
        NpSessionRequest *clear = newer_request(NP_REQUEST_NPT, true, false);

        ASSERT_TRUE(sshnpd_twin_keys_for(&on, asked));
        /* a baseline daemon (--no-twin-keys) ignores the field, as a 5.x daemon does */
        ASSERT_TRUE(!sshnpd_twin_keys_for(&off, asked));
        ASSERT_TRUE(!sshnpd_twin_keys_for(&on, declined));
        ASSERT_TRUE(!sshnpd_twin_keys_for(&on, clear));
        np_session_request_free(asked);
        np_session_request_free(declined);
        np_session_request_free(clear);
}

TEST(response_refuses_missing_key_material) {
        SessionKey *key = NULL;
        char *text = NULL;

        ASSERT_OK(session_key_generate(&key));
        ASSERT_ERR(sshnpd_response_build(NP_REQUEST_SSH, SID, NULL, key, NULL, daemon_key, &text), -EINVAL);
        ASSERT_ERR(sshnpd_response_build(NP_REQUEST_SSH, SID, ephemeral_pk, NULL, NULL, daemon_key, &text), -EINVAL);
        ASSERT_FAIL(sshnpd_response_build(NP_REQUEST_SSH, SID, "bm90IGEga2V5", key, NULL, daemon_key, &text));
        ASSERT_TRUE(text == NULL);
        session_key_free(key);
}

static char *ping_text(const SshnpdArgs *a) {
        char *services[] = { (char *) "localhost:22", NULL }, *text = NULL;
        NpPing p = {
                .device_name = (char *) "dev", .version = (char *) "0.1.0", .core_package_version = (char *) "c0.1.0",
                .has_supported_features = true, .features = sshnpd_features(a),
                .features_present = sshnpd_features_present(a), .allowed_services = services,
                .np_cp_version = (char *) sshnpd_np_cp_version(sshnpd_features_implemented(a)),
        };
        json_t *j = NULL;

        ASSERT_OK(np_ping_to_json(&p, &j));
        ASSERT_OK(dart_json_encode(j, &text));
        json_decref(j);
        return text;
}

TEST(ping_advertises_what_the_daemon_implements) {
        SshnpdArgs plain = {}, with_s = { .sshpublickey = true }, baseline = { .no_twin_keys = true };
        _cleanup_free_ char *t = ping_text(&plain), *ts = ping_text(&with_s), *tb = ping_text(&baseline);
        NpPing *p = NULL;

        ASSERT_STREQ(t, "{\"devicename\":\"dev\",\"deviceGroupName\":\"__none__\",\"version\":\"0.1.0\","
                        "\"corePackageVersion\":\"c0.1.0\",\"supportedFeatures\":{\"srAuth\":true,\"srE2ee\":true,"
                        "\"acceptsPublicKeys\":false,\"supportsPortChoice\":true,\"adjustableTimeout\":true,"
                        "\"controlChannelHeartbeats\":true,\"twinKeys\":true},"
                        "\"allowedServices\":[\"localhost:22\"],\"npCpVersion\":\"1.3.0\"}");
        ASSERT_TRUE(strstr(ts, "\"acceptsPublicKeys\":true"));
        /* never claimed: ESCR relay auth is not implemented */
        ASSERT_TRUE(!strstr(t, "supportsRamEscr") && !strstr(ts, "supportsRamEscr"));
        /* the baseline switch: no twinKeys field at all, as from a daemon that predates it */
        ASSERT_TRUE(!strstr(tb, "twinKeys"));

        /* what a client concludes from each */
        ASSERT_OK(np_ping_parse(t, strlen(t), &p));
        ASSERT_TRUE(p->features & NP_FEATURE_TWIN_KEYS);
        np_ping_free(p);
        ASSERT_OK(np_ping_parse(tb, strlen(tb), &p));
        ASSERT_TRUE(!(p->features & NP_FEATURE_TWIN_KEYS) && !(p->features_present & NP_FEATURE_TWIN_KEYS));
        np_ping_free(p);
}

TEST(np_cp_version_is_the_highest_complete_version) {
        const unsigned all = NP_FEATURE_ACCEPTS_PUBLIC_KEYS | NP_FEATURE_SR_AUTH | NP_FEATURE_SR_E2EE |
                             NP_FEATURE_SUPPORTS_PORT_CHOICE | NP_FEATURE_ADJUSTABLE_TIMEOUT |
                             NP_FEATURE_CONTROL_HEARTBEATS | NP_FEATURE_SUPPORTS_RAM_ESCR | NP_FEATURE_TWIN_KEYS;

        /* upstream's newest daemon implements all: features.dart latestVersion */
        ASSERT_STREQ(sshnpd_np_cp_version(all), "1.5.0");
        ASSERT_STREQ(sshnpd_np_cp_version(all & ~(unsigned) NP_FEATURE_TWIN_KEYS), "1.4.0");
        /* 1.4.0 needs both heartbeats and ESCR */
        ASSERT_STREQ(sshnpd_np_cp_version(all & ~(unsigned) NP_FEATURE_SUPPORTS_RAM_ESCR), "1.3.0");
        ASSERT_STREQ(sshnpd_np_cp_version(all & ~(unsigned) NP_FEATURE_CONTROL_HEARTBEATS), "1.3.0");
        /* 1.1.0 needs srAuth and srE2ee */
        ASSERT_STREQ(sshnpd_np_cp_version(all & ~(unsigned) NP_FEATURE_SR_E2EE), "1.0.0");
        ASSERT_TRUE(sshnpd_np_cp_version(all & ~(unsigned) NP_FEATURE_ACCEPTS_PUBLIC_KEYS) == NULL);
        ASSERT_TRUE(sshnpd_np_cp_version(0) == NULL);
}

int main(void) {
        AtRsaPublic *eph_pub = NULL;

        at_secure_init();
        ASSERT_OK(at_rsa_private_from_base64(VEC_PRIVATE_KEY, &client_key));
        ASSERT_OK(at_rsa_public_from_base64(VEC_PUBLIC_KEY, &client_pub));
        ASSERT_OK(at_rsa_generate(2048, &daemon_key));
        ASSERT_OK(at_rsa_private_get_public(daemon_key, &daemon_pub));
        ASSERT_OK(at_rsa_generate(2048, &ephemeral));
        ASSERT_OK(at_rsa_private_get_public(ephemeral, &eph_pub));
        ASSERT_OK(at_rsa_public_to_base64(eph_pub, &ephemeral_pk));
        at_rsa_public_free(eph_pub);

        RUN(baseline_ssh_request_gets_baseline_answer_and_one_key_srv);
        RUN(baseline_npt_request_gets_baseline_answer_and_one_key_srv);
        RUN(twin_request_gets_twin_answer_and_two_key_srv);
        RUN(twin_keys_only_when_asked_encrypted_and_enabled);
        RUN(response_refuses_missing_key_material);
        RUN(ping_advertises_what_the_daemon_implements);
        RUN(np_cp_version_is_the_highest_complete_version);

        free(ephemeral_pk);
        at_rsa_private_free(ephemeral);
        at_rsa_private_free(daemon_key);
        at_rsa_public_free(daemon_pub);
        at_rsa_private_free(client_key);
        at_rsa_public_free(client_pub);
        return 0;
}
