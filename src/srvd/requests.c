/* SPDX-License-Identifier: BSD-3-Clause */
/* Session requests to the relay (upstream noports_core srvd/srvd_impl.dart; spec §4.1, §4.2):
 * "@r:<dev>.request_ports.sshrvd@c" carrying the relay request JSON, or the legacy
 * "@r:<dev>.sshrvd@c" carrying a bare session id. Unlike upstream 5.6.x, the side-A atSign
 * must be the real sender of the notification, and the sender must be on the allow-list. */
#include <ctype.h>

#include "cli.h"
#include "log.h"
#include "messages.h"
#include "notify.h"
#include "rsa.h"
#include "srvd.h"
#include "verbs.h"

#define REPLY_TTL_MS 10000

static bool session_id_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '-' && *s != '_')
                        return false;
        return true;
}

static void on_replied(int error, const char *id, void *userdata) {
        char *session_id = userdata;

        if (error < 0 && error != -ECANCELED)
                log_warning_errno(error, "Cannot answer session %s: %m", session_id);
        free(session_id);
}

/* Asynchronous: the answer goes out on the command connection; failures are logged. */
static void reply(Srvd *s, const char *to, const char *session_id, const char *value) {
        _cleanup_free_ char *key = NULL;
        AtNotifyMessage msg = { .recipient = to, .value = value, .ttl_ms = REPLY_TTL_MS, .ttln_ms = 60000 };
        char *sid;
        int r;

        if (asprintf(&key, "%s.sshrvd", session_id) < 0 || !(sid = strdup(session_id)))
                return;
        msg.key = key;
        r = at_notify_send_async(s->cmd, s->shared_keys, &msg, on_replied, sid);
        if (r < 0) {
                log_warning_errno(r, "Cannot answer session %s of %s: %m", session_id, to);
                free(sid);
        }
}

/* A session request waiting for the public keys its sides authenticate with. */
typedef struct OpenRequest {
        Srvd *srvd;
        char *from, *session_id, *atsign_b, *client_nonce;
        bool auth_a, auth_b, json_reply;
        AtRsaPublic *key_a, *key_b;
} OpenRequest;

static void open_request_free(OpenRequest *q) {
        free(q->from);
        free(q->session_id);
        free(q->atsign_b);
        free(q->client_nonce);
        at_rsa_public_free(q->key_a);
        at_rsa_public_free(q->key_b);
        free(q);
}

static void open_session_now(OpenRequest *q) {
        Srvd *s = q->srvd;
        _cleanup_free_ char *text = NULL, *field = NULL;
        SrvdSessionParams params = {
                .session_id = q->session_id, .atsign_a = q->from, .atsign_b = q->atsign_b ?: "",
                .client_nonce = q->client_nonce, .key_a = q->key_a, .key_b = q->key_b,
        };
        NpRelayReply rr = { .host = s->args->ip };
        SrvdSession *session;
        int r;

        if (asprintf(&field, "NOPORTS_SESSION=%s", q->session_id) < 0)
                return;
        r = srvd_session_new(s->relay, &params, &session);
        if (r < 0) {
                log_fields(LOG_ERR, r, FIELDS(field, s->atsign_field), "Cannot open session %s for %s: %m",
                           q->session_id, q->from);
                return;
        }
        rr.port_a = srvd_session_port_a(session);
        rr.port_b = srvd_session_port_b(session);
        rr.rvd_nonce = (char *) srvd_session_rvd_nonce(session);
        r = np_relay_reply_to_string(&rr, q->json_reply, &text);
        if (r < 0) {
                srvd_session_close(session);
                return;
        }
        log_fields(LOG_INFO, 0, FIELDS(field, s->atsign_field),
                   "Session %s for %s and %s: ports %u (A) and %u (B)%s", q->session_id, q->from,
                   q->atsign_b ?: "(legacy)", rr.port_a, rr.port_b, q->auth_a || q->auth_b ? ", authenticated" : "");
        reply(s, q->from, q->session_id, text);
}

static void open_request_step(OpenRequest *q);

static void on_public_key(AtConn *conn, int error, const char *data, void *userdata) {
        OpenRequest *q = userdata;
        bool side_a = q->auth_a && !q->key_a;
        const char *who = side_a ? q->from : q->atsign_b;

        if (error == -ECANCELED) { /* stopping */
                open_request_free(q);
                return;
        }
        if (error >= 0 && streq(data, "null"))
                error = -ENOENT;
        if (error >= 0)
                error = at_rsa_public_from_base64(data, side_a ? &q->key_a : &q->key_b);
        if (error < 0) {
                log_warning_errno(error, "Session %s: cannot fetch the public key of %s: %m", q->session_id, who);
                open_request_free(q);
                return;
        }
        open_request_step(q);
}

/* Fetches the next missing public key (plookup, bypassing the server's cache), or opens. */
static void open_request_step(OpenRequest *q) {
        _cleanup_free_ char *cmd = NULL;
        const char *who = q->auth_a && !q->key_a ? q->from : q->auth_b && !q->key_b ? q->atsign_b : NULL;
        int r;

        if (!who) {
                open_session_now(q);
                open_request_free(q);
                return;
        }
        if (asprintf(&cmd, "plookup:bypassCache:true:publickey%s", who) < 0)
                r = -ENOMEM;
        else
                r = at_client_command_async(q->srvd->cmd, cmd, on_public_key, q); /* waits for a reconnect */
        if (r < 0) {
                log_warning_errno(r, "Session %s: cannot fetch the public key of %s: %m", q->session_id, who);
                open_request_free(q);
        }
}

static void open_session(Srvd *s, const char *from, const char *session_id, const char *atsign_b,
                         const char *client_nonce, bool auth_a, bool auth_b, bool json_reply) {
        OpenRequest *q = calloc(1, sizeof(*q));

        if (!q)
                return (void) log_oom();
        *q = (OpenRequest) { .srvd = s, .auth_a = auth_a, .auth_b = auth_b, .json_reply = json_reply };
        if (!(q->from = strdup(from)) || !(q->session_id = strdup(session_id)) ||
            (atsign_b && !(q->atsign_b = strdup(atsign_b))) || !(q->client_nonce = strdup(client_nonce ?: ""))) {
                open_request_free(q);
                return (void) log_oom();
        }
        open_request_step(q);
}

void srvd_handle_notification(Srvd *s, const AtNotification *n, const char *value) {
        _cleanup_free_ char *from = NULL, *key = NULL;

        if (!n->from || !n->key || !value || at_notification_is_delete(n))
                return;
        if (cli_atsign_normalize(n->from, &from) < 0 || !(key = strdup(n->key)))
                return;
        for (char *c = key; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        if (!srvd_args_allows(s->args, from)) {
                log_notice("Ignoring a session request from %s: not on the --manager list", from);
                return;
        }

        if (strstr(key, ".request_ports.sshrvd@")) {
                _cleanup_(np_relay_request_freep) NpRelayRequest *req = NULL;
                _cleanup_free_ char *b = NULL;

                if (np_relay_request_parse(value, strlen(value), &req) < 0 || !session_id_valid(req->session_id)) {
                        log_notice("Ignoring a malformed session request from %s", from);
                        return;
                }
                /* the real sender, not a field inside the request, is side A */
                if (cli_atsign_normalize(req->atsign_a, &b) < 0 || !streq(b, from)) {
                        log_notice("Ignoring session %s: atSignA %s is not the sender %s", req->session_id,
                                   req->atsign_a, from);
                        return;
                }
                free(b);
                b = NULL;
                if (cli_atsign_normalize(req->atsign_b, &b) < 0) {
                        log_notice("Ignoring session %s: bad atSignB", req->session_id);
                        return;
                }
                if (req->relay_auth_mode != NP_RELAY_AUTH_PAYLOAD || req->only_443) {
                        log_notice("Ignoring session %s from %s: escr / port 443 mode is not supported",
                                   req->session_id, from);
                        return;
                }
                open_session(s, from, req->session_id, b, req->client_nonce, req->authenticate_socket_a,
                             req->authenticate_socket_b, req->send_json_response);
        } else if (strstr(key, ".sshrvd@")) {
                /* legacy: the value is the session id; nothing is authenticated */
                _cleanup_free_ char *sid = strdup(value);
                if (!sid)
                        return;
                sid[strcspn(sid, "\r\n ")] = 0;
                if (!session_id_valid(sid)) {
                        log_notice("Ignoring a malformed legacy session request from %s", from);
                        return;
                }
                open_session(s, from, sid, NULL, "", false, false, false);
        }
}
