/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <string.h>

#include "log.h"
#include "secure.h"
#include "server.h"
#include "service.h"

static uint64_t next_session_id = 1;

static void session_log(AtsSession *ss, int level, const char *event) {
        log_full(level, "%s %s atsign=%s peer=%s from=%s", ss->hosted ? "secondary" : "root", event,
                 ss->hosted ? ss->hosted->atsign : "-", ats_conn_peer(ss->conn),
                 ss->from_atsign ? ss->from_atsign : "-");
}

void ats_session_set_idle(AtsSession *ss) {
        const AtsLimits *l = &ss->server->limits;
        uint64_t t = ss->monitor ? l->idle_monitor
                   : (ss->authenticated || ss->pol_authenticated) ? l->idle_auth
                                                                  : l->idle_unauth;
        (void) ats_conn_set_idle(ss->conn, t);
}

static void peer_count(AtsServer *s, const char *ip, int delta) {
        for (size_t i = 0; i < s->n_peers; i++)
                if (streq(s->peers[i].ip, ip)) {
                        s->peers[i].n += delta;
                        if (s->peers[i].n == 0)
                                s->peers[i] = s->peers[--s->n_peers];
                        return;
                }
        if (delta <= 0)
                return;
        if (s->n_peers == s->peers_alloc) {
                size_t n = MAX(s->peers_alloc * 2, (size_t) 16);
                AtsPeerCount *p = realloc(s->peers, n * sizeof *p);
                if (!p)
                        return;
                s->peers = p;
                s->peers_alloc = n;
        }
        snprintf(s->peers[s->n_peers].ip, sizeof s->peers[s->n_peers].ip, "%s", ip);
        s->peers[s->n_peers++].n = (unsigned) delta;
}

static unsigned peer_connections(AtsServer *s, const char *ip) {
        for (size_t i = 0; i < s->n_peers; i++)
                if (streq(s->peers[i].ip, ip))
                        return s->peers[i].n;
        return 0;
}

/* ---- the root directory (at_root_server at_root_client.dart): "alice\n" -> "host:port\r\n@" ---- */

static void root_line(AtsSession *ss, char *line) {
        AtsServer *s = ss->server;
        char *p = line;
        while (*p == ' ' || *p == '\t')
                p++;
        if (streq(p, "@exit")) {
                ats_conn_close(ss->conn);
                return;
        }
        for (char *q = p; *q; q++)
                *q = (char) tolower((unsigned char) *q);
        _cleanup_free_ char *atsign = NULL;
        AtsHosted *h = NULL;
        if (*p && ats_atsign_fix(p, &atsign) >= 0)
                h = ats_server_find_hosted_or_load(s, atsign);
        if (!h && atsign) {
                _cleanup_free_ char *elsewhere = NULL;
                if (ats_directory_lookup(s, atsign, &elsewhere) >= 0) {
                        log_debug("root lookup atsign=%s peer=%s: %s", atsign, ats_conn_peer(ss->conn), elsewhere);
                        (void) ats_conn_printf(ss->conn, "%s\r\n@", elsewhere);
                        return;
                }
        }
        if (!h) {
                /* upstream closes after repeated lookups of unknown atSigns */
                if (++ss->id > 2) {
                        log_info("root: closing peer=%s after repeated unknown lookups", ats_conn_peer(ss->conn));
                        ats_conn_close(ss->conn);
                        return;
                }
                log_info("root lookup atsign=%s peer=%s: unknown", atsign ? atsign : "-", ats_conn_peer(ss->conn));
                (void) ats_conn_printf(ss->conn, "null\r\n@");
                return;
        }
        log_debug("root lookup atsign=%s peer=%s", h->atsign, ats_conn_peer(ss->conn));
        (void) ats_conn_printf(ss->conn, "%s:%d\r\n@", s->hostname, h->port);
}

/* ---- secondary sessions ---- */

typedef void (*VerbHandler)(AtsSession *ss, AtsCommand *c);

static const VerbHandler handlers[_ATS_VERB_MAX] = {
        [ATS_VERB_FROM] = ats_verb_from,
        [ATS_VERB_POL] = ats_verb_pol,
        [ATS_VERB_CRAM] = ats_verb_cram,
        [ATS_VERB_PKAM] = ats_verb_pkam,
        [ATS_VERB_UPDATE] = ats_verb_update,
        [ATS_VERB_UPDATE_META] = ats_verb_update_meta,
        [ATS_VERB_LLOOKUP] = ats_verb_llookup,
        [ATS_VERB_LOOKUP] = ats_verb_lookup,
        [ATS_VERB_PLOOKUP] = ats_verb_lookup,
        [ATS_VERB_SCAN] = ats_verb_scan,
        [ATS_VERB_DELETE] = ats_verb_delete,
        [ATS_VERB_NOTIFY] = ats_verb_notify,
        [ATS_VERB_NOTIFY_STATUS] = ats_verb_notify_status,
        [ATS_VERB_NOTIFY_LIST] = ats_verb_notify_list,
        [ATS_VERB_NOTIFY_FETCH] = ats_verb_notify_fetch,
        [ATS_VERB_NOTIFY_REMOVE] = ats_verb_notify_remove,
        [ATS_VERB_MONITOR] = ats_verb_monitor,
        [ATS_VERB_ENROLL] = ats_verb_enroll,
        [ATS_VERB_OTP] = ats_verb_otp,
        [ATS_VERB_KEYS] = ats_verb_keys,
};

static void verb_noop(AtsSession *ss, AtsCommand *c) {
        /* noop_verb_handler.dart: delays up to 5 s are allowed; we answer at once */
        if (c->delay_ms > 5000) {
                ats_reply_error(ss, "AT0022", "noop delay cannot be more than 5000 milliseconds");
                return;
        }
        ats_reply_data(ss, "ok");
}

static void verb_info(AtsSession *ss, AtsCommand *c) {
        json_t *o = json_pack("{s:s, s:I, s:s}", "version", "atserverd " NOPORTS_VERSION, "uptimeAsMillis",
                              (json_int_t) (ats_now_ms() - ss->server->started_ms), "uptimeAsWords", "");
        if (!c->brief && o) {
                json_t *features = json_pack("[{s:s, s:s, s:s}]", "name", "ttl", "status", "Available", "description",
                                             "time to live");
                json_object_set_new(o, "features", features ? features : json_array());
        }
        char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        ats_reply_data(ss, j ? j : "{}");
        free(j);
}

static void session_line(AtsSession *ss, char *line, size_t len) {
        AtsCommand c;
        int r;

        if (!ss->hosted) {
                root_line(ss, line);
                return;
        }
        if (ss->monitor) {
                /* upstream keeps a monitor connection for notifications; noop is still
                 * answered (the Dart monitor sends noop:0 as a heartbeat) */
                r = ats_command_parse(line, len, &c);
                if (r >= 0 && c.verb == ATS_VERB_NOOP)
                        verb_noop(ss, &c);
                ats_command_done(&c);
                return;
        }
        r = ats_command_parse(line, len, &c);
        if (r == -E2BIG) {
                log_notice("refused: line too long atsign=%s peer=%s", ss->hosted->atsign, ats_conn_peer(ss->conn));
                ats_reply_error(ss, "AT0005", "Buffer limit exceeded");
                ats_conn_close(ss->conn);
        } else if (r == -ENOENT) {
                log_info("refused: unknown command atsign=%s peer=%s", ss->hosted->atsign, ats_conn_peer(ss->conn));
                ats_reply_error(ss, "AT0003", "invalid command");
        } else if (r < 0) {
                log_info("refused: invalid syntax for %s atsign=%s peer=%s", ats_verb_name(c.verb), ss->hosted->atsign,
                         ats_conn_peer(ss->conn));
                ats_reply_error(ss, "AT0003", "Invalid syntax. e.g %s:...", ats_verb_name(c.verb));
        } else if (!ss->authenticated && !ats_verb_allowed_unauthenticated(c.verb)) {
                log_info("refused: %s before authentication atsign=%s peer=%s", ats_verb_name(c.verb),
                         ss->hosted->atsign, ats_conn_peer(ss->conn));
                ats_reply_error(ss, "AT0401", "Command cannot be executed without auth");
        } else if (c.verb == ATS_VERB_NOOP)
                verb_noop(ss, &c);
        else if (c.verb == ATS_VERB_INFO)
                verb_info(ss, &c);
        else if (handlers[c.verb])
                handlers[c.verb](ss, &c);
        else
                ats_reply_error(ss, "AT0003", "invalid command");
        ats_command_done(&c);
        ats_session_set_idle(ss);
}

static void on_line(AtsConn *conn, char *line, size_t len, void *userdata) {
        AtsSession *ss = userdata;
        session_line(ss, line, len);
        if (ss->busy)
                ats_conn_pause(ss->conn, true);
}

void ats_session_done(AtsSession *ss) {
        ss->busy = false;
        ats_session_set_idle(ss);
        ats_conn_pause(ss->conn, false);
}

static void on_ready(AtsConn *conn, void *userdata) {
        AtsSession *ss = userdata;
        session_log(ss, LOG_INFO, "connected");
        /* both the root and the secondaries greet with a prompt "@" */
        (void) ats_conn_write(conn, "@", 1);
}

static void on_overflow(AtsConn *conn, void *userdata) {
        AtsSession *ss = userdata;
        log_notice("refused: line longer than %zu bytes atsign=%s peer=%s", ss->server->limits.max_line,
                   ss->hosted ? ss->hosted->atsign : "-", ats_conn_peer(conn));
        if (ss->hosted)
                ats_reply_error(ss, "AT0005", "Buffer limit exceeded");
        ats_conn_close(conn);
}

static void on_idle(AtsConn *conn, void *userdata) {
        AtsSession *ss = userdata;
        session_log(ss, LOG_INFO, ss->authenticated ? "idle timeout (authenticated)" : "idle timeout");
        ats_conn_close(conn);
}

static void on_close(AtsConn *conn, int error, void *userdata) {
        AtsSession *ss = userdata;
        if (error < 0 && error != -ECONNRESET)
                log_info("%s closed atsign=%s peer=%s: %s", ss->hosted ? "secondary" : "root",
                         ss->hosted ? ss->hosted->atsign : "-", ats_conn_peer(conn), strerror(-error));
        else
                session_log(ss, LOG_INFO, "closed");
        ats_session_free(ss);
}

int ats_session_new(AtsServer *s, AtsHosted *h, int fd) {
        static const AtsConnCallbacks cb = {
                .on_line = on_line,
                .on_ready = on_ready,
                .on_overflow = on_overflow,
                .on_idle = on_idle,
                .on_close = on_close,
        };
        AtsSession *ss = calloc(1, sizeof *ss);
        int r;

        if (!ss) {
                close(fd);
                return -ENOMEM;
        }
        ss->server = s;
        ss->hosted = h;
        ss->id = h ? next_session_id++ : 0;
        char uuid[37];
        ats_uuid(uuid);
        snprintf(ss->session_id, sizeof ss->session_id, "_%s", uuid);

        r = ats_conn_new(s->event, fd, true, s->server_cred, NULL, s->limits.max_line, &cb, ss, &ss->conn);
        if (r < 0) {
                free(ss);
                return r;
        }
        const char *ip = ats_conn_peer_ip(ss->conn);
        if (peer_connections(s, ip) >= s->limits.max_per_ip || s->n_sessions >= s->limits.max_connections) {
                log_notice("refused: too many connections from peer=%s (limit %u) atsign=%s", ats_conn_peer(ss->conn),
                           s->limits.max_per_ip, h ? h->atsign : "-");
                /* the TLS handshake has not happened: just close (upstream writes
                 * "error:AT0012-Inbound connection limit exceeded" in clear text) */
                (void) write(fd, "error:AT0012-Inbound connection limit exceeded\n", 47);
                ats_conn_free(ss->conn);
                free(ss);
                return -EMFILE;
        }
        peer_count(s, ip, 1);
        ss->next = s->sessions;
        if (s->sessions)
                s->sessions->prev = ss;
        s->sessions = ss;
        s->n_sessions++;
        ats_session_set_idle(ss);
        return 0;
}

void ats_session_free(AtsSession *ss) {
        if (!ss)
                return;
        AtsServer *s = ss->server;
        peer_count(s, ats_conn_peer_ip(ss->conn), -1);
        if (ss->prev)
                ss->prev->next = ss->next;
        else if (s->sessions == ss)
                s->sessions = ss->next;
        if (ss->next)
                ss->next->prev = ss->prev;
        s->n_sessions--;
        if (ss->monitor_regex_set)
                regfree(&ss->monitor_regex);
        ats_conn_free(ss->conn);
        free(ss->from_atsign);
        free(ss->enrollment_id);
        free(ss->client_version);
        free(ss);
}
