/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* The JSON messages of NoPorts, built in upstream's field order (signatures depend on it) and
 * parsed with every field type-checked and bounded. Field lists: shared/spec/noports-protocol.md
 * §4.1, §5, §6.1, §11; upstream noports_core/lib/src/sshnp/impl/notification_request_message.dart
 * (SshnpSessionRequest, NptSessionRequest), .../sshnp/util/srvd_channel/notification_request_message.dart
 * (SocketRendezvousRequestMessage), .../srvd/srvd_impl.dart, .../sshnpd/sshnpd_impl.dart. */

#define NP_MAX_SESSION_ID 128
#define NP_MAX_HOST 253
#define NP_MAX_NONCE 256
#define NP_MAX_ATSIGN 256
#define NP_MAX_PUBLIC_KEY 2048
#define NP_MAX_WRAPPED_KEY 1024
#define NP_DEFAULT_NPT_TIMEOUT_MS 60000 /* NptSessionRequest.defaultTimeout */

typedef enum NpRelayAuthMode {
        NP_RELAY_AUTH_PAYLOAD, /* the default when absent */
        NP_RELAY_AUTH_ESCR,
} NpRelayAuthMode;

const char *np_relay_auth_mode_to_string(NpRelayAuthMode m);
int np_relay_auth_mode_from_string(const char *s, NpRelayAuthMode *ret);

/* ---- session request (client -> daemon): ssh_request (§5.1) and npt_request (§5.2) ---- */

typedef enum NpRequestKind {
        NP_REQUEST_SSH,
        NP_REQUEST_NPT,
} NpRequestKind;

typedef struct NpSessionRequest {
        NpRequestKind kind;
        bool direct;            /* ssh only; must be true (v3 reverse ssh is not supported) */
        char *session_id;
        char *relay_host;       /* ssh "host", npt "rvdHost" */
        uint16_t relay_port;    /* portB: ssh "port", npt "rvdPort" */
        char *requested_host;   /* npt only */
        uint16_t requested_port;/* npt only */
        bool authenticate_to_rvd;
        char *client_nonce;
        char *rvd_nonce;
        bool encrypt_rvd_traffic;
        char *client_ephemeral_pk;
        char *client_ephemeral_pk_type; /* "rsa2048" */
        int64_t timeout_ms;     /* npt only */
        /* newer fields (§11); written only when newer_fields */
        bool newer_fields;
        NpRelayAuthMode relay_auth_mode;
        char *relay_auth_aes_key;
        bool twin_keys;
        char *relay_atsign;
} NpSessionRequest;

int np_session_request_to_json(const NpSessionRequest *r, json_t **ret);
/* Parses a verified envelope's payload. -EBADMSG with the offending field logged at debug. */
int np_session_request_from_json(NpRequestKind kind, const json_t *payload, NpSessionRequest **ret);
void np_session_request_free(NpSessionRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpSessionRequest *, np_session_request_free);

/* ---- daemon success response (§5.3) ---- */

typedef enum NpResponseForm {
        NP_RESPONSE_SSH_BASELINE, /* status, sessionId, ephemeralPrivateKey(null), sessionAESKey, sessionIV */
        NP_RESPONSE_NPT_BASELINE, /* status, sessionId, sessionAESKey, sessionIV */
        NP_RESPONSE_NEWEST,       /* status, sessionId, key/iv (C2D names if twin), aesKeyD2C, ivD2C, eventLoggingConfig */
} NpResponseForm;

typedef struct NpSessionResponse {
        char *status;        /* "connected" */
        char *session_id;
        /* RSA-wrapped base64 (see session_crypto.h); NULL when not encrypting */
        char *aes_key_c2d;   /* sessionAESKey, or aesKeyC2D */
        char *iv_c2d;        /* sessionIV, or ivC2D */
        char *aes_key_d2c;   /* twin keys only */
        char *iv_d2c;
} NpSessionResponse;

int np_session_response_to_json(const NpSessionResponse *r, NpResponseForm form, json_t **ret);
int np_session_response_from_json(const json_t *payload, NpSessionResponse **ret);
void np_session_response_free(NpSessionResponse *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpSessionResponse *, np_session_response_free);

/* ---- relay request (client -> srvd, §4.1 + §11.1) ---- */

typedef struct NpRelayRequest {
        char *session_id;
        char *atsign_a;      /* the client */
        char *atsign_b;      /* the daemon */
        bool authenticate_socket_a;
        bool authenticate_socket_b;
        char *client_nonce;
        bool newer_fields;
        NpRelayAuthMode relay_auth_mode;
        char *relay_auth_aes_key;
        bool only_443;
        bool multiple_acks_ok;
        bool send_json_response;
} NpRelayRequest;

int np_relay_request_to_json(const NpRelayRequest *r, json_t **ret);
int np_relay_request_from_json(const json_t *obj, NpRelayRequest **ret);
/* The value text of a relay request notification (bounded JSON object). */
int np_relay_request_parse(const char *text, size_t size, NpRelayRequest **ret);
void np_relay_request_free(NpRelayRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpRelayRequest *, np_relay_request_free);

/* ---- relay reply (srvd -> client): "host,portA,portB,rvdNonce" or the JSON form (§11.1) ---- */

typedef struct NpRelayReply {
        char *host;
        uint16_t port_a;     /* the client's */
        uint16_t port_b;     /* the daemon's */
        char *rvd_nonce;     /* NULL for "null" or a 3-field (v4) reply */
        bool supports_event_logging;
        bool auto_detects_relay_auth;
} NpRelayReply;

int np_relay_reply_to_string(const NpRelayReply *r, bool json_form, char **ret);
int np_relay_reply_parse(const char *text, size_t size, NpRelayReply **ret);
void np_relay_reply_free(NpRelayReply *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpRelayReply *, np_relay_reply_free);

/* ---- ping response / heartbeat / device_info (§6.1) ---- */

typedef enum NpFeature {
        NP_FEATURE_SR_AUTH = 1 << 0,              /* srAuth */
        NP_FEATURE_SR_E2EE = 1 << 1,              /* srE2ee */
        NP_FEATURE_ACCEPTS_PUBLIC_KEYS = 1 << 2,  /* acceptsPublicKeys */
        NP_FEATURE_SUPPORTS_PORT_CHOICE = 1 << 3, /* supportsPortChoice */
        NP_FEATURE_ADJUSTABLE_TIMEOUT = 1 << 4,   /* adjustableTimeout */
        NP_FEATURE_CONTROL_HEARTBEATS = 1 << 5,   /* controlChannelHeartbeats (newer) */
        NP_FEATURE_SUPPORTS_RAM_ESCR = 1 << 6,    /* supportsRamEscr (newer) */
        NP_FEATURE_TWIN_KEYS = 1 << 7,            /* twinKeys (newer) */
        NP_FEATURE_BASELINE_MASK = (1 << 5) - 1,
} NpFeature;

const char *np_feature_name(NpFeature f);

typedef struct NpPing {
        char *device_name;
        char *device_group_name;
        char *version;
        char *core_package_version;
        bool has_supported_features; /* false from a v4 daemon */
        unsigned features;           /* NpFeature bits that are true */
        unsigned features_present;   /* NpFeature bits that were in the JSON (true or false) */
        char **allowed_services;     /* NULL-terminated */
        char *np_cp_version;         /* newer, optional */
} NpPing;

/* Writes the baseline features always (true or false) and the newer ones only when set in
 * features_present. */
int np_ping_to_json(const NpPing *p, json_t **ret);
int np_ping_parse(const char *text, size_t size, NpPing **ret);
void np_ping_free(NpPing *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(NpPing *, np_ping_free);
