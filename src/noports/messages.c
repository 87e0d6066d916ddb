/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>

#include "dart_json.h"
#include "json_field.h"
#include "log.h"
#include "messages.h"

#define NP_MAX_MESSAGE (64U * 1024U)
/* what a peer's text shown to the user may not contain (terminal escapes, forged lines) */
#define CONTROL_CHARACTERS "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

const char *np_relay_auth_mode_to_string(NpRelayAuthMode m) {
        return m == NP_RELAY_AUTH_ESCR ? "escr" : "payload";
}

int np_relay_auth_mode_from_string(const char *s, NpRelayAuthMode *ret) {
        if (!s || streq(s, "payload"))
                *ret = NP_RELAY_AUTH_PAYLOAD;
        else if (streq(s, "escr"))
                *ret = NP_RELAY_AUTH_ESCR;
        else
                return -EBADMSG;
        return 0;
}

/* Logs which field was wrong (at debug: the caller reports the refusal) and returns -EBADMSG. */
#define CHECK(expr, field)                                                                      \
        do {                                                                                    \
                int _r = (expr);                                                                \
                if (_r < 0) {                                                                   \
                        if (_r == -ENOMEM)                                                      \
                                return _r;                                                      \
                        log_debug("Message field '%s' is missing or invalid", (field));         \
                        return -EBADMSG;                                                        \
                }                                                                               \
        } while (0)

#define ADD(expr)                               \
        do {                                    \
                int _r = (expr);                \
                if (_r < 0)                     \
                        return _r;              \
        } while (0)

static int field_port(const json_t *o, const char *name, JsonFieldFlags flags, uint16_t *ret) {
        int64_t v = *ret;
        int r = json_field_int(o, name, 1, 65535, flags, &v);
        if (r < 0)
                return r;
        *ret = (uint16_t) v;
        return 0;
}

/* ---------------- session request ---------------- */

void np_session_request_free(NpSessionRequest *r) {
        if (!r)
                return;
        free(r->session_id);
        free(r->relay_host);
        free(r->requested_host);
        free(r->client_nonce);
        free(r->rvd_nonce);
        free(r->client_ephemeral_pk);
        free(r->client_ephemeral_pk_type);
        free(r->relay_auth_aes_key);
        free(r->relay_atsign);
        free(r);
}

static int add_relay_auth_fields(json_t *o, const NpSessionRequest *r) {
        ADD(json_add_string(o, "relayAuthMode", np_relay_auth_mode_to_string(r->relay_auth_mode)));
        ADD(json_add_string(o, "relayAuthAesKey", r->relay_auth_aes_key));
        return 0;
}

int np_session_request_to_json(const NpSessionRequest *r, json_t **ret) {
        _cleanup_json_ json_t *o = json_object();

        if (!o)
                return -ENOMEM;
        if (!r->session_id || !r->relay_host)
                return -EINVAL;

        if (r->kind == NP_REQUEST_SSH) {
                /* SshnpSessionRequest.toJson order */
                ADD(json_add_bool(o, "direct", true));
                ADD(json_add_string(o, "sessionId", r->session_id));
                ADD(json_add_string(o, "host", r->relay_host));
                ADD(json_add_int(o, "port", r->relay_port));
                ADD(json_add_bool(o, "authenticateToRvd", r->authenticate_to_rvd));
        } else {
                /* NptSessionRequest.toJson order: note requestedPort before requestedHost */
                if (!r->requested_host)
                        return -EINVAL;
                ADD(json_add_string(o, "sessionId", r->session_id));
                ADD(json_add_string(o, "rvdHost", r->relay_host));
                ADD(json_add_int(o, "rvdPort", r->relay_port));
                ADD(json_add_int(o, "requestedPort", r->requested_port));
                ADD(json_add_string(o, "requestedHost", r->requested_host));
                ADD(json_add_bool(o, "authenticateToRvd", r->authenticate_to_rvd));
        }
        if (r->newer_fields)
                ADD(add_relay_auth_fields(o, r));
        ADD(json_add_string(o, "clientNonce", r->client_nonce));
        ADD(json_add_string(o, "rvdNonce", r->rvd_nonce));
        ADD(json_add_bool(o, "encryptRvdTraffic", r->encrypt_rvd_traffic));
        ADD(json_add_string(o, "clientEphemeralPK", r->client_ephemeral_pk));
        ADD(json_add_string(o, "clientEphemeralPKType", r->client_ephemeral_pk_type));
        if (r->kind == NP_REQUEST_NPT)
                ADD(json_add_int(o, "timeout", r->timeout_ms));
        if (r->newer_fields) {
                ADD(json_add_bool(o, "twinKeys", r->twin_keys));
                ADD(json_add_string(o, "relayAtsign", r->relay_atsign));
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int parse_request_common(const json_t *p, NpSessionRequest *r) {
        const JsonFieldFlags opt = JSON_FIELD_OPTIONAL | JSON_FIELD_NULLABLE;
        _cleanup_free_ char *mode = NULL;

        CHECK(json_field_string(p, "sessionId", NP_MAX_SESSION_ID, JSON_FIELD_REQUIRED, &r->session_id), "sessionId");
        if (r->session_id[0] == '\0')
                CHECK(-EBADMSG, "sessionId");
        /* older clients may send null for these (fields may be null, §5.1) */
        CHECK(json_field_bool(p, "authenticateToRvd", opt, &r->authenticate_to_rvd), "authenticateToRvd");
        CHECK(json_field_string(p, "clientNonce", NP_MAX_NONCE, opt, &r->client_nonce), "clientNonce");
        CHECK(json_field_string(p, "rvdNonce", NP_MAX_NONCE, opt, &r->rvd_nonce), "rvdNonce");
        CHECK(json_field_bool(p, "encryptRvdTraffic", opt, &r->encrypt_rvd_traffic), "encryptRvdTraffic");
        CHECK(json_field_string(p, "clientEphemeralPK", NP_MAX_PUBLIC_KEY, opt, &r->client_ephemeral_pk),
              "clientEphemeralPK");
        CHECK(json_field_string(p, "clientEphemeralPKType", 32, opt, &r->client_ephemeral_pk_type),
              "clientEphemeralPKType");
        /* newer fields */
        CHECK(json_field_string(p, "relayAuthMode", 16, opt, &mode), "relayAuthMode");
        CHECK(np_relay_auth_mode_from_string(mode, &r->relay_auth_mode), "relayAuthMode");
        CHECK(json_field_string(p, "relayAuthAesKey", 64, opt, &r->relay_auth_aes_key), "relayAuthAesKey");
        CHECK(json_field_bool(p, "twinKeys", opt, &r->twin_keys), "twinKeys");
        CHECK(json_field_string(p, "relayAtsign", NP_MAX_ATSIGN, opt, &r->relay_atsign), "relayAtsign");
        r->newer_fields = json_object_get(p, "relayAuthMode") || json_object_get(p, "twinKeys") ||
                          json_object_get(p, "relayAtsign");
        if (r->encrypt_rvd_traffic && (!r->client_ephemeral_pk || !r->client_ephemeral_pk_type))
                CHECK(-EBADMSG, "clientEphemeralPK");
        if (r->authenticate_to_rvd && (!r->client_nonce || !r->rvd_nonce))
                CHECK(-EBADMSG, "rvdNonce");
        return 0;
}

int np_session_request_from_json(NpRequestKind kind, const json_t *p, NpSessionRequest **ret) {
        _cleanup_(np_session_request_freep) NpSessionRequest *r = NULL;
        int r_;

        if (!json_is_object(p))
                return -EBADMSG;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->kind = kind;
        r->timeout_ms = NP_DEFAULT_NPT_TIMEOUT_MS;

        if (kind == NP_REQUEST_SSH) {
                CHECK(json_field_bool(p, "direct", JSON_FIELD_REQUIRED, &r->direct), "direct");
                if (!r->direct)
                        CHECK(-EBADMSG, "direct");
                CHECK(json_field_string(p, "host", NP_MAX_HOST, JSON_FIELD_REQUIRED, &r->relay_host), "host");
                CHECK(field_port(p, "port", JSON_FIELD_REQUIRED, &r->relay_port), "port");
        } else {
                CHECK(json_field_string(p, "rvdHost", NP_MAX_HOST, JSON_FIELD_REQUIRED, &r->relay_host), "rvdHost");
                CHECK(field_port(p, "rvdPort", JSON_FIELD_REQUIRED, &r->relay_port), "rvdPort");
                CHECK(json_field_string(p, "requestedHost", NP_MAX_HOST, JSON_FIELD_REQUIRED, &r->requested_host),
                      "requestedHost");
                CHECK(field_port(p, "requestedPort", JSON_FIELD_REQUIRED, &r->requested_port), "requestedPort");
                /* up to the 365 days that npt -T 0 means */
                CHECK(json_field_int(p, "timeout", 1, 366LL * 24 * 3600 * 1000,
                                     JSON_FIELD_OPTIONAL | JSON_FIELD_NULLABLE, &r->timeout_ms),
                      "timeout");
        }
        r_ = parse_request_common(p, r);
        if (r_ < 0)
                return r_;
        *ret = TAKE_PTR(r);
        return 0;
}

/* ---------------- daemon response ---------------- */

void np_session_response_free(NpSessionResponse *r) {
        if (!r)
                return;
        free(r->status);
        free(r->session_id);
        free(r->aes_key_c2d);
        free(r->iv_c2d);
        free(r->aes_key_d2c);
        free(r->iv_d2c);
        free(r);
}

int np_session_response_to_json(const NpSessionResponse *r, NpResponseForm form, json_t **ret) {
        _cleanup_json_ json_t *o = json_object();
        bool twin = r->aes_key_d2c && r->iv_d2c;

        if (!o)
                return -ENOMEM;
        if (!r->session_id)
                return -EINVAL;
        ADD(json_add_string(o, "status", r->status ?: "connected"));
        ADD(json_add_string(o, "sessionId", r->session_id));
        switch (form) {
        case NP_RESPONSE_SSH_BASELINE:
                /* we never generate the v4 ephemeral ssh key: encryptRvdTraffic is required */
                ADD(json_add_null(o, "ephemeralPrivateKey"));
                __attribute__((fallthrough));
        case NP_RESPONSE_NPT_BASELINE:
                if (twin)
                        return -EINVAL;
                ADD(json_add_string(o, "sessionAESKey", r->aes_key_c2d));
                ADD(json_add_string(o, "sessionIV", r->iv_c2d));
                break;
        case NP_RESPONSE_NEWEST:
                ADD(json_add_string(o, twin ? "aesKeyC2D" : "sessionAESKey", r->aes_key_c2d));
                ADD(json_add_string(o, twin ? "ivC2D" : "sessionIV", r->iv_c2d));
                ADD(json_add_string(o, "aesKeyD2C", twin ? r->aes_key_d2c : NULL));
                ADD(json_add_string(o, "ivD2C", twin ? r->iv_d2c : NULL));
                ADD(json_add_null(o, "eventLoggingConfig"));
                break;
        default:
                return -EINVAL;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int np_session_response_from_json(const json_t *p, NpSessionResponse **ret) {
        _cleanup_(np_session_response_freep) NpSessionResponse *r = NULL;
        const JsonFieldFlags opt = JSON_FIELD_OPTIONAL | JSON_FIELD_NULLABLE;

        if (!json_is_object(p))
                return -EBADMSG;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        CHECK(json_field_string(p, "status", 64, JSON_FIELD_REQUIRED | JSON_FIELD_PRINTABLE, &r->status), "status");
        CHECK(json_field_string(p, "sessionId", NP_MAX_SESSION_ID, JSON_FIELD_REQUIRED, &r->session_id), "sessionId");
        CHECK(json_field_string(p, "sessionAESKey", NP_MAX_WRAPPED_KEY, opt, &r->aes_key_c2d), "sessionAESKey");
        CHECK(json_field_string(p, "sessionIV", NP_MAX_WRAPPED_KEY, opt, &r->iv_c2d), "sessionIV");
        if (!r->aes_key_c2d && !r->iv_c2d) {
                CHECK(json_field_string(p, "aesKeyC2D", NP_MAX_WRAPPED_KEY, opt, &r->aes_key_c2d), "aesKeyC2D");
                CHECK(json_field_string(p, "ivC2D", NP_MAX_WRAPPED_KEY, opt, &r->iv_c2d), "ivC2D");
        }
        CHECK(json_field_string(p, "aesKeyD2C", NP_MAX_WRAPPED_KEY, opt, &r->aes_key_d2c), "aesKeyD2C");
        CHECK(json_field_string(p, "ivD2C", NP_MAX_WRAPPED_KEY, opt, &r->iv_d2c), "ivD2C");
        if (!r->aes_key_c2d != !r->iv_c2d)
                CHECK(-EBADMSG, "sessionIV");
        if (!r->aes_key_d2c != !r->iv_d2c)
                CHECK(-EBADMSG, "ivD2C");
        *ret = TAKE_PTR(r);
        return 0;
}

/* ---------------- relay request ---------------- */

void np_relay_request_free(NpRelayRequest *r) {
        if (!r)
                return;
        free(r->session_id);
        free(r->atsign_a);
        free(r->atsign_b);
        free(r->client_nonce);
        free(r->relay_auth_aes_key);
        free(r);
}

int np_relay_request_to_json(const NpRelayRequest *r, json_t **ret) {
        _cleanup_json_ json_t *o = json_object();

        if (!o)
                return -ENOMEM;
        if (!r->session_id || !r->atsign_a || !r->atsign_b || !r->client_nonce)
                return -EINVAL;
        /* SocketRendezvousRequestMessage.toString order */
        ADD(json_add_string(o, "sessionId", r->session_id));
        ADD(json_add_string(o, "atSignA", r->atsign_a));
        ADD(json_add_string(o, "atSignB", r->atsign_b));
        ADD(json_add_bool(o, "authenticateSocketA", r->authenticate_socket_a));
        ADD(json_add_bool(o, "authenticateSocketB", r->authenticate_socket_b));
        ADD(json_add_string(o, "clientNonce", r->client_nonce));
        if (r->newer_fields) {
                ADD(json_add_string(o, "relayAuthMode", np_relay_auth_mode_to_string(r->relay_auth_mode)));
                ADD(json_add_string(o, "relayAuthAesKey", r->relay_auth_aes_key));
                ADD(json_add_bool(o, "only443", r->only_443));
                ADD(json_add_bool(o, "multipleAcksOk", r->multiple_acks_ok));
                ADD(json_add_bool(o, "sendJsonResponse", r->send_json_response));
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int np_relay_request_from_json(const json_t *p, NpRelayRequest **ret) {
        _cleanup_(np_relay_request_freep) NpRelayRequest *r = NULL;
        const JsonFieldFlags opt = JSON_FIELD_OPTIONAL | JSON_FIELD_NULLABLE;
        _cleanup_free_ char *mode = NULL;
        json_t *prefetch;

        if (!json_is_object(p))
                return -EBADMSG;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        /* srvd_impl.dart _processJSONRequest: these are required with these types */
        CHECK(json_field_string(p, "sessionId", NP_MAX_SESSION_ID, JSON_FIELD_REQUIRED, &r->session_id), "sessionId");
        CHECK(json_field_string(p, "atSignA", NP_MAX_ATSIGN, JSON_FIELD_REQUIRED, &r->atsign_a), "atSignA");
        CHECK(json_field_string(p, "atSignB", NP_MAX_ATSIGN, JSON_FIELD_REQUIRED, &r->atsign_b), "atSignB");
        CHECK(json_field_string(p, "clientNonce", NP_MAX_NONCE, JSON_FIELD_REQUIRED, &r->client_nonce), "clientNonce");
        CHECK(json_field_bool(p, "authenticateSocketA", JSON_FIELD_REQUIRED, &r->authenticate_socket_a),
              "authenticateSocketA");
        CHECK(json_field_bool(p, "authenticateSocketB", JSON_FIELD_REQUIRED, &r->authenticate_socket_b),
              "authenticateSocketB");
        if (r->session_id[0] == '\0')
                CHECK(-EBADMSG, "sessionId");
        CHECK(json_field_string(p, "relayAuthMode", 16, opt, &mode), "relayAuthMode");
        CHECK(np_relay_auth_mode_from_string(mode, &r->relay_auth_mode), "relayAuthMode");
        CHECK(json_field_string(p, "relayAuthAesKey", 64, opt, &r->relay_auth_aes_key), "relayAuthAesKey");
        CHECK(json_field_bool(p, "only443", opt, &r->only_443), "only443");
        CHECK(json_field_bool(p, "multipleAcksOk", opt, &r->multiple_acks_ok), "multipleAcksOk");
        CHECK(json_field_bool(p, "sendJsonResponse", opt, &r->send_json_response), "sendJsonResponse");
        prefetch = json_object_get(p, "preFetch");
        if (prefetch && !json_is_null(prefetch) && !json_is_array(prefetch))
                CHECK(-EBADMSG, "preFetch");
        r->newer_fields = mode || json_object_get(p, "sendJsonResponse") || json_object_get(p, "only443");
        *ret = TAKE_PTR(r);
        return 0;
}

int np_relay_request_parse(const char *text, size_t size, NpRelayRequest **ret) {
        _cleanup_json_ json_t *o = NULL;
        int r;

        r = dart_json_parse_object(text, size, NP_MAX_MESSAGE, &o);
        if (r < 0)
                return r;
        return np_relay_request_from_json(o, ret);
}

/* ---------------- relay reply ---------------- */

void np_relay_reply_free(NpRelayReply *r) {
        if (!r)
                return;
        free(r->host);
        free(r->rvd_nonce);
        free(r);
}

int np_relay_reply_to_string(const NpRelayReply *r, bool json_form, char **ret) {
        _cleanup_json_ json_t *o = NULL;
        char *s;

        if (!r->host)
                return -EINVAL;
        if (!json_form) {
                if (asprintf(&s, "%s,%u,%u,%s", r->host, (unsigned) r->port_a, (unsigned) r->port_b,
                             r->rvd_nonce ?: "null") < 0)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        o = json_object();
        if (!o)
                return -ENOMEM;
        ADD(json_add_string(o, "address", r->host));
        ADD(json_add_int(o, "portA", r->port_a));
        ADD(json_add_int(o, "portB", r->port_b));
        ADD(json_add_string(o, "rvdNonce", r->rvd_nonce));
        ADD(json_add_bool(o, "supportsEventLogging", r->supports_event_logging));
        ADD(json_add_bool(o, "autoDetectsRelayAuth", r->auto_detects_relay_auth));
        return dart_json_encode(o, ret);
}

static int parse_port_text(const char *s, size_t n, uint16_t *ret) {
        unsigned v = 0;

        if (n == 0 || n > 5)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return -EBADMSG;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v < 1 || v > 65535)
                return -EBADMSG;
        *ret = (uint16_t) v;
        return 0;
}

static int relay_reply_parse_csv(const char *text, size_t size, NpRelayReply *r) {
        const char *fields[4];
        size_t lens[4], n = 0;
        const char *p = text, *end = text + size;

        while (n < 4) {
                /* the fourth field is the rest of the text: a comma in it is an error below */
                const char *comma = n < 3 ? memchr(p, ',', (size_t) (end - p)) : NULL;
                fields[n] = p;
                lens[n] = comma ? (size_t) (comma - p) : (size_t) (end - p);
                n++;
                if (!comma)
                        break;
                p = comma + 1;
        }
        if (n < 3 || (n == 4 && memchr(fields[3], ',', lens[3])))
                return -EBADMSG;
        if (lens[0] == 0 || lens[0] > NP_MAX_HOST || memchr(fields[0], '\0', lens[0]))
                return -EBADMSG;
        if (parse_port_text(fields[1], lens[1], &r->port_a) < 0 || parse_port_text(fields[2], lens[2], &r->port_b) < 0)
                return -EBADMSG;
        r->host = strndup(fields[0], lens[0]);
        if (!r->host)
                return -ENOMEM;
        if (n == 4 && !(lens[3] == 4 && memcmp(fields[3], "null", 4) == 0)) {
                if (lens[3] == 0 || lens[3] > NP_MAX_NONCE || memchr(fields[3], '\0', lens[3]))
                        return -EBADMSG;
                r->rvd_nonce = strndup(fields[3], lens[3]);
                if (!r->rvd_nonce)
                        return -ENOMEM;
        }
        return 0;
}

int np_relay_reply_parse(const char *text, size_t size, NpRelayReply **ret) {
        _cleanup_(np_relay_reply_freep) NpRelayReply *r = NULL;
        _cleanup_json_ json_t *o = NULL;
        int k;

        if (size > NP_MAX_MESSAGE)
                return -EMSGSIZE;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        if (size > 0 && text[0] == '{') {
                const JsonFieldFlags opt = JSON_FIELD_OPTIONAL | JSON_FIELD_NULLABLE;

                k = dart_json_parse_object(text, size, NP_MAX_MESSAGE, &o);
                if (k < 0)
                        return k;
                CHECK(json_field_string(o, "address", NP_MAX_HOST, JSON_FIELD_REQUIRED, &r->host), "address");
                CHECK(field_port(o, "portA", JSON_FIELD_REQUIRED, &r->port_a), "portA");
                CHECK(field_port(o, "portB", JSON_FIELD_REQUIRED, &r->port_b), "portB");
                CHECK(json_field_string(o, "rvdNonce", NP_MAX_NONCE, opt, &r->rvd_nonce), "rvdNonce");
                CHECK(json_field_bool(o, "supportsEventLogging", opt, &r->supports_event_logging), "supportsEventLogging");
                CHECK(json_field_bool(o, "autoDetectsRelayAuth", opt, &r->auto_detects_relay_auth), "autoDetectsRelayAuth");
                if (r->host[0] == '\0')
                        CHECK(-EBADMSG, "address");
        } else {
                k = relay_reply_parse_csv(text, size, r);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

/* ---------------- ping ---------------- */

static const struct {
        NpFeature feature;
        const char *name;
} feature_names[] = {
        { NP_FEATURE_SR_AUTH, "srAuth" },
        { NP_FEATURE_SR_E2EE, "srE2ee" },
        { NP_FEATURE_ACCEPTS_PUBLIC_KEYS, "acceptsPublicKeys" },
        { NP_FEATURE_SUPPORTS_PORT_CHOICE, "supportsPortChoice" },
        { NP_FEATURE_ADJUSTABLE_TIMEOUT, "adjustableTimeout" },
        { NP_FEATURE_CONTROL_HEARTBEATS, "controlChannelHeartbeats" },
        { NP_FEATURE_SUPPORTS_RAM_ESCR, "supportsRamEscr" },
        { NP_FEATURE_TWIN_KEYS, "twinKeys" },
};

const char *np_feature_name(NpFeature f) {
        for (size_t i = 0; i < ELEMENTSOF(feature_names); i++)
                if (feature_names[i].feature == f)
                        return feature_names[i].name;
        return NULL;
}

void np_ping_free(NpPing *p) {
        if (!p)
                return;
        free(p->device_name);
        free(p->device_group_name);
        free(p->version);
        free(p->core_package_version);
        strv_free(p->allowed_services);
        free(p->np_cp_version);
        free(p);
}

int np_ping_to_json(const NpPing *p, json_t **ret) {
        _cleanup_json_ json_t *o = json_object(), *features = json_object(), *services = json_array();

        if (!o || !features || !services)
                return -ENOMEM;
        /* sshnpd_impl.dart pingResponse order */
        ADD(json_add_string(o, "devicename", p->device_name));
        ADD(json_add_string(o, "deviceGroupName", p->device_group_name ?: "__none__"));
        ADD(json_add_string(o, "version", p->version));
        ADD(json_add_string(o, "corePackageVersion", p->core_package_version));
        for (size_t i = 0; i < ELEMENTSOF(feature_names); i++) {
                NpFeature f = feature_names[i].feature;
                if (!(f & NP_FEATURE_BASELINE_MASK) && !(p->features_present & f))
                        continue;
                ADD(json_add_bool(features, feature_names[i].name, p->features & f));
        }
        if (json_object_set(o, "supportedFeatures", features) < 0)
                return -ENOMEM;
        for (char **s = p->allowed_services; s && *s; s++)
                if (json_array_append_new(services, json_string(*s)) < 0)
                        return -ENOMEM;
        if (json_object_set(o, "allowedServices", services) < 0)
                return -ENOMEM;
        if (p->np_cp_version)
                ADD(json_add_string(o, "npCpVersion", p->np_cp_version));
        *ret = TAKE_PTR(o);
        return 0;
}

int np_ping_parse(const char *text, size_t size, NpPing **ret) {
        _cleanup_(np_ping_freep) NpPing *p = NULL;
        _cleanup_json_ json_t *o = NULL;
        const JsonFieldFlags opt = JSON_FIELD_OPTIONAL | JSON_FIELD_NULLABLE;
        json_t *features, *services;
        int r;

        r = dart_json_parse_object(text, size, NP_MAX_MESSAGE, &o);
        if (r < 0)
                return r;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        CHECK(json_field_string(o, "devicename", 64, opt | JSON_FIELD_PRINTABLE, &p->device_name), "devicename");
        CHECK(json_field_string(o, "deviceGroupName", 256, opt | JSON_FIELD_PRINTABLE, &p->device_group_name), "deviceGroupName");
        CHECK(json_field_string(o, "version", 64, opt | JSON_FIELD_PRINTABLE, &p->version), "version");
        CHECK(json_field_string(o, "corePackageVersion", 64, opt | JSON_FIELD_PRINTABLE, &p->core_package_version), "corePackageVersion");
        CHECK(json_field_string(o, "npCpVersion", 64, opt | JSON_FIELD_PRINTABLE, &p->np_cp_version), "npCpVersion");

        features = json_object_get(o, "supportedFeatures");
        if (features && !json_is_null(features)) {
                if (!json_is_object(features))
                        CHECK(-EBADMSG, "supportedFeatures");
                p->has_supported_features = true;
                for (size_t i = 0; i < ELEMENTSOF(feature_names); i++) {
                        json_t *v = json_object_get(features, feature_names[i].name);
                        if (!v)
                                continue;
                        if (!json_is_boolean(v))
                                CHECK(-EBADMSG, feature_names[i].name);
                        p->features_present |= feature_names[i].feature;
                        if (json_is_true(v))
                                p->features |= feature_names[i].feature;
                }
        } else
                /* a v4 daemon: treated as {acceptsPublicKeys: true} (sshnp feature check) */
                p->features = p->features_present = NP_FEATURE_ACCEPTS_PUBLIC_KEYS;

        services = json_object_get(o, "allowedServices");
        if (services && !json_is_null(services)) {
                size_t i, n;
                json_t *v;

                if (!json_is_array(services) || json_array_size(services) > 256)
                        CHECK(-EBADMSG, "allowedServices");
                n = json_array_size(services);
                p->allowed_services = calloc(n + 1, sizeof(char *));
                if (!p->allowed_services)
                        return -ENOMEM;
                json_array_foreach(services, i, v) {
                        if (!json_is_string(v) || json_string_length(v) > NP_MAX_HOST + 7 ||
                            strpbrk(json_string_value(v), CONTROL_CHARACTERS))
                                CHECK(-EBADMSG, "allowedServices");
                        p->allowed_services[i] = strdup(json_string_value(v));
                        if (!p->allowed_services[i])
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}
