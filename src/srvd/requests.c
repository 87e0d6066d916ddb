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

static int fetch_public_key(Srvd *s, const char *atsign, AtRsaPublic **ret) {
        _cleanup_free_ char *key = NULL, *value = NULL;
        int r;

        if (asprintf(&key, "publickey%s", atsign) < 0)
                return -ENOMEM;
        r = at_verb_plookup(at_client_conn(s->cmd), key, true, at_client_command_timeout(s->cmd), &value);
        if (r < 0 && r != -ENOENT && at_client_reconnect(s->cmd) >= 0)
                r = at_verb_plookup(at_client_conn(s->cmd), key, true, at_client_command_timeout(s->cmd), &value);
        if (r < 0)
                return r;
        return at_rsa_public_from_base64(value, ret);
}

static void reply(Srvd *s, const char *to, const char *session_id, const char *value) {
        _cleanup_free_ char *key = NULL;
        AtNotifyMessage msg = { .recipient = to, .value = value, .ttl_ms = REPLY_TTL_MS, .ttln_ms = 60000 };
        int r;

        if (asprintf(&key, "%s.sshrvd", session_id) < 0)
                return;
        msg.key = key;
        r = at_notify_send(s->cmd, s->shared_keys, &msg, NULL);
        if (r < 0 && at_client_reconnect(s->cmd) >= 0)
                r = at_notify_send(s->cmd, s->shared_keys, &msg, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot answer session %s of %s: %m", session_id, to);
}

static void open_session(Srvd *s, const char *from, const char *session_id, const char *atsign_b,
                         const char *client_nonce, bool auth_a, bool auth_b, bool json_reply) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *key_a = NULL, *key_b = NULL;
        _cleanup_free_ char *text = NULL, *field = NULL;
        SrvdSessionParams params = {
                .session_id = session_id, .atsign_a = from, .atsign_b = atsign_b ?: "", .client_nonce = client_nonce,
        };
        NpRelayReply rr = { .host = s->args->ip };
        SrvdSession *session;
        int r;

        if (asprintf(&field, "NOPORTS_SESSION=%s", session_id) < 0)
                return;
        if (auth_a && (r = fetch_public_key(s, from, &key_a)) < 0) {
                log_warning_errno(r, "Session %s: cannot fetch the public key of %s: %m", session_id, from);
                return;
        }
        if (auth_b && (r = fetch_public_key(s, atsign_b, &key_b)) < 0) {
                log_warning_errno(r, "Session %s: cannot fetch the public key of %s: %m", session_id, atsign_b);
                return;
        }
        params.key_a = key_a;
        params.key_b = key_b;
        r = srvd_session_new(s->relay, &params, &session);
        if (r < 0) {
                log_fields(LOG_ERR, r, FIELDS(field, s->atsign_field), "Cannot open session %s for %s: %m",
                           session_id, from);
                return;
        }
        rr.port_a = srvd_session_port_a(session);
        rr.port_b = srvd_session_port_b(session);
        rr.rvd_nonce = (char *) srvd_session_rvd_nonce(session);
        r = np_relay_reply_to_string(&rr, json_reply, &text);
        if (r < 0) {
                srvd_session_close(session);
                return;
        }
        log_fields(LOG_INFO, 0, FIELDS(field, s->atsign_field),
                   "Session %s for %s and %s: ports %u (A) and %u (B)%s", session_id, from,
                   atsign_b ?: "(legacy)", rr.port_a, rr.port_b, auth_a || auth_b ? ", authenticated" : "");
        reply(s, from, session_id, text);
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
