/* SPDX-License-Identifier: BSD-3-Clause */
/* The client's side of a session set-up (spec §4 steps 1-7; upstream noports_core
 * sshnp/sshnp_core.dart initialize/run, sshnp/util/srvd_channel/srvd_channel.dart,
 * npt/npt_impl.dart). */
#include "np_session.h"

#include <sys/time.h>
#include <time.h>

#include "aes.h"
#include "dart_json.h"
#include "envelope.h"
#include "log.h"
#include "relay_auth.h"
#include "session_crypto.h"

#define RELAY_TIMEOUT_USEC (20ULL * 1000000ULL)    /* upstream: 20 s for the srvd reply */
#define RESPONSE_TIMEOUT_USEC (15ULL * 1000000ULL) /* upstream: 100 x 150 ms for the daemon's answer */
#define SRV_READY_TIMEOUT_USEC (15ULL * 1000000ULL)

typedef struct SessionState {
        NpClient *client;
        const NpSessionOptions *o;
        char sid[37];
        char *client_nonce;
        char *key_heartbeat;   /* the keys we expect, lower case */
        char *key_response;
        char *key_relay;
        char *key_nack;
        NpRelayReply *relay;
        char *relay_nack;
        NpPing *ping;
        bool ping_malformed;
        char *response;
        bool changed;
} SessionState;

void np_session_id_new(char ret[37]) {
        uint8_t b[16];

        at_random_bytes(b, sizeof b);
        b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80);
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int np_nonce_new(char **ret) {
        struct timeval tv;
        struct tm tm;
        char date[32];

        gettimeofday(&tv, NULL);
        if (!localtime_r(&tv.tv_sec, &tm) || strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return -EINVAL;
        return asprintf(ret, "%s.%06ld", date, (long) tv.tv_usec) < 0 ? -ENOMEM : 0;
}

unsigned np_session_required_features(const NpSessionOptions *o) {
        unsigned f = 0;

        if (o->kind == NP_REQUEST_NPT) {
                /* upstream npt always needs these, whatever the flags say */
                f = NP_FEATURE_SR_AUTH | NP_FEATURE_SR_E2EE | NP_FEATURE_SUPPORTS_PORT_CHOICE;
                if (o->require_adjustable_timeout)
                        f |= NP_FEATURE_ADJUSTABLE_TIMEOUT;
                return f;
        }
        if (o->authenticate_device_to_rvd)
                f |= NP_FEATURE_SR_AUTH;
        if (o->encrypt_rvd_traffic)
                f |= NP_FEATURE_SR_E2EE;
        if (o->ssh_public_key)
                f |= NP_FEATURE_ACCEPTS_PUBLIC_KEYS;
        return f;
}

/* Text a peer sent, made safe for a terminal: no control characters, bounded. */
static char *peer_text(const char *value) {
        size_t n = strnlen(value, 1024);
        char *t = strndup(value, n);

        for (char *p = t; p && *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = ' ';
        return t;
}

static void on_notification(NpClient *c, const char *from, const char *key, const char *value, void *userdata) {
        SessionState *st = userdata;
        const NpSessionOptions *o = st->o;

        if (streq(from, o->to) && streq(key, st->key_heartbeat)) {
                if (st->ping || !value)
                        return;
                if (np_ping_parse(value, strlen(value), &st->ping) < 0) {
                        log_debug("Malformed ping answer from %s: %s", from, value);
                        st->ping_malformed = true;
                }
        } else if (streq(from, o->to) && streq(key, st->key_response)) {
                if (st->response || !value)
                        return;
                st->response = value[0] == '{' ? strdup(value) : peer_text(value);
        } else if (streq(from, o->srvd) && streq(key, st->key_relay)) {
                if (st->relay || !value)
                        return;
                if (np_relay_reply_parse(value, strlen(value), &st->relay) < 0)
                        st->relay_nack = strdup("the relay's answer is malformed");
        } else if (streq(from, o->srvd) && streq(key, st->key_nack)) {
                if (!st->relay_nack)
                        st->relay_nack = value ? peer_text(value) : strdup("refused");
        } else {
                log_debug("Ignoring notification %s from %s", key, from);
                return;
        }
        st->changed = true;
}

static bool state_changed(void *userdata) {
        SessionState *st = userdata;
        return st->changed;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int send_relay_request(SessionState *st) {
        NpClient *c = st->client;
        const NpSessionOptions *o = st->o;
        _cleanup_free_ char *key = NULL, *text = NULL;
        NpRelayRequest req = {
                .session_id = st->sid, .atsign_a = (char *) c->options->atsign, .atsign_b = (char *) o->to,
                .authenticate_socket_a = o->authenticate_client_to_rvd,
                .authenticate_socket_b = o->authenticate_device_to_rvd, .client_nonce = st->client_nonce,
        };
        json_t *j = NULL;
        int r;

        if (!req.authenticate_socket_a && !req.authenticate_socket_b) {
                /* the legacy request: the bare session id (srvd notification_request_message.dart) */
                if (asprintf(&key, "%s.sshrvd", o->device) < 0)
                        return -ENOMEM;
                return np_client_notify(c, o->srvd, key, st->sid);
        }
        if (asprintf(&key, "%s.request_ports.sshrvd", o->device) < 0)
                return -ENOMEM;
        r = np_relay_request_to_json(&req, &j);
        if (r >= 0)
                r = dart_json_encode(j, &text);
        json_decref(j);
        if (r < 0)
                return log_error_errno(r, "Failed to build the relay request: %m");
        return np_client_notify(c, o->srvd, key, text);
}

static int send_ping(SessionState *st) {
        _cleanup_free_ char *key = NULL;

        if (asprintf(&key, "ping.%s.sshnp", st->o->device) < 0)
                return -ENOMEM;
        return np_client_notify(st->client, st->o->to, key, "ping");
}

static int username_failed(SessionState *st, int r) {
        const NpSessionOptions *o = st->o;
        const char *prog = st->client->options->program;

        if (r == -ENOENT) {
                fprintf(stderr, "%s: Remote username record not shared with the client: %s has no username for "
                        "device %s (pass -u USER)\n", prog, o->to, o->device);
                return r;
        }
        if (r < 0)
                fprintf(stderr, "%s: cannot read the username %s shares for device %s: %s (pass -u USER)\n", prog,
                        o->to, o->device, strerror(-r));
        return r;
}

/* waits for the relay's ports and the device's ping answer, each with its own deadline */
static int wait_relay_and_ping(SessionState *st, uint64_t relay_deadline, uint64_t ping_deadline) {
        const NpSessionOptions *o = st->o;
        const char *prog = st->client->options->program;

        for (;;) {
                uint64_t now = now_usec(), next;
                int r;

                if (st->relay_nack) {
                        fprintf(stderr, "%s: the relay %s refused the session: %s\n", prog, o->srvd, st->relay_nack);
                        return -ECONNREFUSED;
                }
                if (st->ping_malformed) {
                        fprintf(stderr, "%s: the device daemon %s sent a malformed ping answer\n", prog, o->to);
                        return -EBADMSG;
                }
                if (st->relay && st->ping)
                        return 0;
                if (!st->relay && now >= relay_deadline) {
                        fprintf(stderr, "%s: Connection timeout to srvd %s service: no answer within %llu s\n", prog,
                                o->srvd, RELAY_TIMEOUT_USEC / 1000000ULL);
                        return -ETIMEDOUT;
                }
                if (!st->ping && now >= ping_deadline) {
                        fprintf(stderr, "%s: No response from the device daemon %s for device %s within %llu s "
                                "(is sshnpd running, and is %s one of its managers?)\n", prog, o->to, o->device,
                                (unsigned long long) (o->daemon_ping_timeout_usec / 1000000ULL),
                                st->client->options->atsign);
                        return -ETIMEDOUT;
                }
                next = UINT64_MAX;
                if (!st->relay)
                        next = MIN(next, relay_deadline);
                if (!st->ping)
                        next = MIN(next, ping_deadline);
                st->changed = false;
                r = np_client_wait(st->client, state_changed, st, next - now);
                if (r == -EINTR)
                        return r;
                if (r < 0 && r != -ETIMEDOUT)
                        return r;
        }
}

static int check_features(SessionState *st) {
        unsigned missing = np_session_required_features(st->o) & ~st->ping->features;

        if (!missing)
                return 0;
        for (unsigned f = 1; f <= NP_FEATURE_TWIN_KEYS; f <<= 1)
                if (missing & f) {
                        fprintf(stderr, "%s: the device daemon %s (version %s) does not support %s, which this %s "
                                "needs\n", st->client->options->program, st->o->to,
                                st->ping->version ?: "unknown", np_feature_name((NpFeature) f),
                                st->o->kind == NP_REQUEST_SSH ? "ssh session" : "tunnel");
                        break;
                }
        return -EPROTONOSUPPORT;
}

static int send_session_request(SessionState *st, const char *ephemeral_pk, bool twin_keys) {
        NpClient *c = st->client;
        const NpSessionOptions *o = st->o;
        _cleanup_free_ char *key = NULL, *text = NULL;
        NpSessionRequest req = {
                .kind = o->kind, .direct = true, .session_id = st->sid, .relay_host = st->relay->host,
                .relay_port = st->relay->port_b, .requested_host = (char *) o->requested_host,
                .requested_port = o->requested_port, .authenticate_to_rvd = o->authenticate_device_to_rvd,
                .client_nonce = st->client_nonce, .rvd_nonce = st->relay->rvd_nonce,
                .encrypt_rvd_traffic = o->encrypt_rvd_traffic, .client_ephemeral_pk = (char *) ephemeral_pk,
                .client_ephemeral_pk_type = (char *) "rsa2048", .timeout_ms = o->timeout_ms,
                /* the newer fields only for a daemon that says it knows them (issue 4: baseline
                 * to baseline peers); payload relay auth either way */
                .newer_fields = twin_keys, .relay_auth_mode = NP_RELAY_AUTH_PAYLOAD, .twin_keys = twin_keys,
                .relay_atsign = (char *) o->srvd,
        };
        json_t *j = NULL;
        int r;

        r = np_session_request_to_json(&req, &j);
        if (r >= 0)
                r = envelope_sign(j, c->keys->encrypt_private, &text);
        json_decref(j);
        if (r < 0)
                return log_error_errno(r, "Failed to build the session request: %m");
        if (asprintf(&key, "%s.%s.sshnp", o->kind == NP_REQUEST_SSH ? "ssh_request" : "npt_request", o->device) < 0)
                return -ENOMEM;
        return np_client_notify(c, o->to, key, text);
}

static bool have_response(void *userdata) {
        SessionState *st = userdata;
        return st->response != NULL;
}

/* The daemon's answer: plain text is its refusal; JSON must be an envelope signed by @d */
static int check_response(SessionState *st, const AtRsaPrivate *ephemeral, bool twin_keys, SessionKey **ret_key,
                          SessionKey **ret_key_d2c) {
        NpClient *c = st->client;
        const NpSessionOptions *o = st->o;
        const char *prog = c->options->program;
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pk = NULL;
        _cleanup_(np_session_response_freep) NpSessionResponse *resp = NULL;
        int r;

        if (st->response[0] != '{') {
                fprintf(stderr, "%s: the device daemon %s refused: %s\n", prog, o->to, st->response);
                return -EPERM;
        }
        r = envelope_parse(st->response, strlen(st->response), &e);
        if (r < 0) {
                fprintf(stderr, "%s: the answer of the device daemon %s is not a signed response\n", prog, o->to);
                return r;
        }
        r = np_client_public_key(c, o->to, &pk);
        if (r < 0) {
                fprintf(stderr, "%s: cannot fetch the public key of %s to check its answer: %s\n", prog, o->to,
                        strerror(-r));
                return r;
        }
        if (envelope_verify(e, pk) < 0) {
                fprintf(stderr, "%s: bad signature: the answer for this session is not signed by %s; refusing it\n",
                        prog, o->to);
                return -EBADMSG;
        }
        r = np_session_response_from_json(e->payload, &resp);
        if (r < 0 || !streq(resp->session_id, st->sid)) {
                fprintf(stderr, "%s: the device daemon %s answered with a malformed response\n", prog, o->to);
                return -EBADMSG;
        }
        if (resp->status && !streq(resp->status, "connected")) {
                fprintf(stderr, "%s: the device daemon %s answered with status '%s'\n", prog, o->to, resp->status);
                return -EPROTO;
        }
        if (!o->encrypt_rvd_traffic) {
                *ret_key = NULL;
                return 0;
        }
        if (!resp->aes_key_c2d || !resp->iv_c2d) {
                fprintf(stderr, "%s: the device daemon %s sent no session key\n", prog, o->to);
                return -EBADMSG;
        }
        r = session_unwrap_key(ephemeral, resp->aes_key_c2d, resp->iv_c2d, ret_key);
        if (r >= 0 && twin_keys) {
                if (!resp->aes_key_d2c || !resp->iv_d2c) {
                        fprintf(stderr, "%s: the device daemon %s advertised twin keys but sent one key\n", prog,
                                o->to);
                        return -EBADMSG;
                }
                r = session_unwrap_key(ephemeral, resp->aes_key_d2c, resp->iv_d2c, ret_key_d2c);
        }
        if (r < 0)
                fprintf(stderr, "%s: cannot unwrap the session key from %s: %s\n", prog, o->to, strerror(-r));
        return r;
}

static int send_public_key(SessionState *st) {
        _cleanup_free_ char *key = NULL;

        if (asprintf(&key, "sshpublickey.%s.sshnp", st->o->device) < 0)
                return -ENOMEM;
        return np_client_notify(st->client, st->o->to, key, st->o->ssh_public_key);
}

static int start_srv(SessionState *st, NpSession *s, const SessionKey *key, const SessionKey *key_d2c) {
        NpClient *c = st->client;
        const NpSessionOptions *o = st->o;
        _cleanup_free_ char *auth = NULL;
        SrvSpawnParams p = {
                .relay_host = st->relay->host, .relay_port = st->relay->port_a, .local_host = o->local_host,
                .local_port = o->local_port, .multi = o->kind == NP_REQUEST_NPT,
                .timeout_usec = o->srv_timeout_usec, .key = key, .key_d2c = key_d2c,
                .heartbeat_usec = o->heartbeat_usec, .verbose = o->verbose,
        };
        int r;

        if (o->authenticate_client_to_rvd && st->relay->rvd_nonce) {
                r = relay_auth_build(st->sid, st->client_nonce, st->relay->rvd_nonce, c->keys->encrypt_private, &auth);
                if (r < 0)
                        return log_error_errno(r, "Failed to sign the relay authentication: %m");
                p.rv_auth = auth;
        }
        if (p.local_port == 0) {
                r = np_pick_free_port(o->local_host, &p.local_port);
                if (r < 0) {
                        fprintf(stderr, "%s: cannot find a free local port: %s\n", c->options->program, strerror(-r));
                        return r;
                }
        }
        s->local_port = p.local_port;
        r = srv_process_start(c, &p, SRV_READY_TIMEOUT_USEC, &s->srv);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        return r;
}

static void state_done(SessionState *st) {
        free(st->client_nonce);
        free(st->key_heartbeat);
        free(st->key_response);
        free(st->key_relay);
        free(st->key_nack);
        np_relay_reply_free(st->relay);
        free(st->relay_nack);
        np_ping_free(st->ping);
        free(st->response);
}

static int session_run(SessionState *st, NpSession *s) {
        NpClient *c = st->client;
        const NpSessionOptions *o = st->o;
        const char *me = c->options->atsign;
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *ephemeral = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *ephemeral_pub = NULL;
        _cleanup_(session_key_freep) SessionKey *key = NULL, *key_d2c = NULL;
        _cleanup_free_ char *ephemeral_pk = NULL, *regex = NULL, *username_key = NULL;
        uint64_t ping_deadline, relay_deadline;
        int r, username_error = 0;

        np_session_id_new(st->sid);
        if (np_nonce_new(&st->client_nonce) < 0 ||
            asprintf(&st->key_heartbeat, "%s:heartbeat.%s.sshnp%s", me, o->device, o->to) < 0 ||
            asprintf(&st->key_response, "%s:%s.%s.sshnp%s", me, st->sid, o->device, o->to) < 0 ||
            asprintf(&st->key_relay, "%s:%s.sshrvd%s", me, st->sid, o->srvd) < 0 ||
            asprintf(&st->key_nack, "%s:nack.%s.sshrvd%s", me, st->sid, o->srvd) < 0 ||
            asprintf(&regex, "%s|heartbeat\\.%s\\.sshnp@", st->sid, o->device) < 0 ||
            asprintf(&username_key, "username.%s.sshnp", o->device) < 0 ||
            !(s->session_id = strdup(st->sid)))
                return log_oom();
        log_info("Session %s: %s to device %s of %s through %s", st->sid,
                 o->kind == NP_REQUEST_SSH ? "ssh" : "tunnel", o->device, o->to, o->srvd);

        r = np_client_monitor(c, regex, on_notification, st);
        if (r < 0)
                return r;
        /* steps 1-3 overlap: both notifications go out before anything is awaited */
        r = send_ping(st);
        if (r < 0)
                return r;
        ping_deadline = now_usec() + o->daemon_ping_timeout_usec;
        r = send_relay_request(st);
        if (r < 0)
                return r;
        relay_deadline = now_usec() + RELAY_TIMEOUT_USEC;
        /* a refusal here is reported after the ping: a stranger learns first that the device is silent */
        if (o->lookup_username)
                username_error = np_client_lookup_shared(c, username_key, o->to, &s->remote_user);
        /* made while the answers travel */
        r = at_rsa_generate(2048, &ephemeral);
        if (r >= 0)
                r = at_rsa_private_get_public(ephemeral, &ephemeral_pub);
        if (r >= 0)
                r = at_rsa_public_to_base64(ephemeral_pub, &ephemeral_pk);
        if (r < 0)
                return log_error_errno(r, "Failed to make the ephemeral session key pair: %m");

        r = wait_relay_and_ping(st, relay_deadline, ping_deadline);
        if (r < 0)
                return r;
        if (username_error < 0)
                return username_failed(st, username_error);
        log_info("Relay %s gave %s ports %u (ours) and %u (device's)", o->srvd, st->relay->host, st->relay->port_a,
                 st->relay->port_b);
        r = check_features(st);
        if (r < 0)
                return r;

        if (o->ssh_public_key && (r = send_public_key(st)) < 0)
                return r;
        s->twin_keys = o->encrypt_rvd_traffic && (st->ping->features & NP_FEATURE_TWIN_KEYS);
        r = send_session_request(st, ephemeral_pk, s->twin_keys);
        if (r < 0)
                return r;
        r = np_client_wait(c, have_response, st, RESPONSE_TIMEOUT_USEC);
        if (r == -ETIMEDOUT) {
                fprintf(stderr, "%s: No response from the device daemon %s within %llu s for session %s\n",
                        c->options->program, o->to, RESPONSE_TIMEOUT_USEC / 1000000ULL, st->sid);
                return r;
        }
        if (r < 0)
                return r;
        np_client_monitor_stop(c);
        r = check_response(st, ephemeral, s->twin_keys, &key, &key_d2c);
        if (r < 0)
                return r;
        log_info("Device %s accepted session %s; starting the local end", o->device, st->sid);
        return start_srv(st, s, key, key_d2c);
}

int np_session_open(NpClient *c, const NpSessionOptions *o, NpSession *s) {
        SessionState st = { .client = c, .o = o };
        int r;

        *s = (NpSession){ .srv = { .pid = -1, .stderr_fd = -1 } };
        r = session_run(&st, s);
        np_client_monitor_stop(c);
        state_done(&st);
        if (r == -EINTR)
                fprintf(stderr, "%s: interrupted\n", c->options->program);
        if (r < 0)
                np_session_done(s);
        return r;
}

void np_session_done(NpSession *s) {
        free(s->remote_user);
        free(s->session_id);
        s->remote_user = s->session_id = NULL;
}
