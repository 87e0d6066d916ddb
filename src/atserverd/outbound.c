/* SPDX-License-Identifier: BSD-3-Clause */
/* Server-to-server connections, as at_server's outbound_client.dart and pol_verb_handler.dart
 * do them:
 *   sender:   root lookup -> TLS to the other secondary -> "from:@alice" ->
 *             "data:proof:<sessionId>@alice:<uuid>" -> sign <uuid> with @alice's signing key,
 *             store it as public:<sessionId>@alice (1 min) -> "pol" -> "@alice@" -> command
 *   verifier: root lookup -> TLS to @bob's secondary, unauthenticated ->
 *             "lookup:<sessionId>@bob" (the signed proof) and "lookup:signing_publickey@bob"
 *             -> RSA/SHA-256 check of the proof text.
 * Everything is asynchronous on the event loop; each operation has its own connection and a
 * deadline. Responses arrive as lines that may carry the previous prompt ("@", "@alice@") in
 * front; "pol" answers with a bare prompt, so the command after it is pipelined. */
#include <ctype.h>
#include <netdb.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "log.h"
#include "secure.h"
#include "server.h"

#define OUTBOUND_TIMEOUT_USEC (15ULL * 1000 * 1000)

typedef enum OpKind { OP_NOTIFY, OP_LOOKUP, OP_PLOOKUP, OP_VERIFY } OpKind;
typedef enum OpState { ST_ROOT, ST_FROM, ST_POL_AND_COMMAND, ST_COMMAND, ST_VERIFY_PROOF, ST_VERIFY_KEY } OpState;

struct AtsOutbound {
        AtsServer *server;
        AtsOutbound *next;
        OpKind kind;
        OpState state;
        AtsConn *conn;
        sd_event_source *timer, *cleanup;
        AtsHosted *from;
        char *target;  /* "@bob" */
        char *command; /* the line to send after the handshake */
        char *session_id, *challenge; /* OP_VERIFY */
        char *proof;   /* OP_VERIFY: the signed proof looked up */
        char *host;
        AtsOutboundDone done;
        void *userdata;
        bool finished;
};

static void op_free(AtsOutbound *op) {
        AtsServer *s = op->server;
        for (AtsOutbound **p = &s->outbound; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        break;
                }
        sd_event_source_disable_unref(op->timer);
        sd_event_source_disable_unref(op->cleanup);
        if (op->conn) {
                ats_conn_set_userdata(op->conn, NULL);
                ats_conn_free(op->conn);
        }
        free(op->target);
        free(op->command);
        free(op->session_id);
        free(op->challenge);
        free(op->proof);
        free(op->host);
        free(op);
}

/* Reports once; the op is freed from an event-loop callback later (never inside conn's own
 * callbacks, which still use the connection). */
static int op_cleanup(sd_event_source *src, void *userdata) {
        op_free(userdata);
        return 0;
}

static void op_finish(AtsOutbound *op, int error, const char *response) {
        if (op->finished)
                return;
        op->finished = true;
        if (error < 0)
                log_info("outbound %s to %s failed: %s", op->kind == OP_VERIFY ? "pol check" : "request",
                         op->target, strerror(-error));
        if (op->done)
                op->done(op->server, error, response, op->userdata);
        op->done = NULL;
        if (op->conn)
                ats_conn_close(op->conn);
        if (sd_event_add_defer(op->server->event, &op->cleanup, op_cleanup, op) < 0)
                log_oom(); /* freed with the server */
}

/* Strips a leading prompt ("@", "@alice@") from a response line. */
static const char *strip_prompt(const char *line) {
        while (*line == '@') {
                if (line[1] == '@') { /* "@" then "@alice@" */
                        line++;
                        continue;
                }
                if (strneq(line + 1, "data:", 5) || strneq(line + 1, "error:", 6))
                        return line + 1;
                const char *next = strchr(line + 1, '@');
                if (!next)
                        return line + 1;
                line = next + 1;
        }
        return line;
}

static int connect_to(AtsOutbound *op, const char *hostport);

static void verify_finish(AtsOutbound *op, const char *key_b64) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *key = NULL;
        int r = at_rsa_public_from_base64(key_b64, &key);
        if (r >= 0)
                r = at_rsa_verify(key, AT_HASH_SHA256, op->challenge, strlen(op->challenge), op->proof);
        op_finish(op, r < 0 ? -EACCES : 0, "ok");
}

static void on_line(AtsConn *c, char *line, size_t len, void *userdata) {
        AtsOutbound *op = userdata;
        if (!op || op->finished)
                return;
        const char *l = strip_prompt(line);
        if (!*l)
                return;
        switch (op->state) {
        case ST_ROOT: {
                if (streq(l, "null")) {
                        op_finish(op, -ENXIO, NULL);
                        return;
                }
                _cleanup_free_ char *hp = strdup(l);
                ats_conn_close(op->conn);
                ats_conn_set_userdata(op->conn, NULL);
                /* the old connection is freed once closed (its owner is gone) */
                op->conn = NULL;
                int r = hp ? connect_to(op, hp) : -ENOMEM;
                if (r < 0)
                        op_finish(op, r, NULL);
                return;
        }
        case ST_FROM: {
                /* "data:proof:<sessionId>@alice:<uuid>" */
                if (!strneq(l, "data:proof:", 11)) {
                        op_finish(op, -EPROTO, l);
                        return;
                }
                const char *sid = l + 11, *colon = strrchr(sid, ':');
                if (!colon || !op->from->signing_key) {
                        op_finish(op, -EPROTO, l);
                        return;
                }
                _cleanup_free_ char *key = NULL, *sig = NULL;
                const char *challenge = colon + 1;
                int r = at_rsa_sign(op->from->signing_key, AT_HASH_SHA256, challenge, strlen(challenge), &sig);
                if (r >= 0 && asprintf(&key, "public:%.*s", (int) (colon - sid), sid) < 0)
                        r = -ENOMEM;
                if (r >= 0) {
                        for (char *p = key; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        AtsMetadata m;
                        ats_metadata_init(&m);
                        m.ttl = 60 * 1000;
                        r = ats_store_put(op->server->store, op->from->atsign, key, sig, &m, op->from->atsign,
                                          ats_now_ms(), NULL);
                }
                if (r < 0) {
                        op_finish(op, r, NULL);
                        return;
                }
                op->state = ST_POL_AND_COMMAND;
                (void) ats_conn_printf(op->conn, "pol\n%s\n", op->command);
                return;
        }
        case ST_POL_AND_COMMAND:
                /* "@alice@data:..." : pol succeeded and this is the command's answer */
        {
                const char *p = line[0] == '@' && line[1] == '@' ? line + 1 : line;
                size_t n = strlen(op->from->atsign);
                if (!strneq(p, op->from->atsign, n) || p[n] != '@') {
                        op_finish(op, -EACCES, l);
                        return;
                }
        }
                op_finish(op, 0, l);
                return;
        case ST_COMMAND:
                op_finish(op, 0, l);
                return;
        case ST_VERIFY_PROOF:
                if (!strneq(l, "data:", 5) || streq(l, "data:null")) {
                        op_finish(op, -EACCES, l);
                        return;
                }
                op->proof = strdup(l + 5);
                op->state = ST_VERIFY_KEY;
                return;
        case ST_VERIFY_KEY:
                if (!strneq(l, "data:", 5) || !op->proof) {
                        op_finish(op, -EACCES, l);
                        return;
                }
                verify_finish(op, l + 5);
                return;
        }
}

static void on_ready(AtsConn *c, void *userdata) {
        AtsOutbound *op = userdata;
        if (!op)
                return;
        switch (op->state) {
        case ST_ROOT:
                (void) ats_conn_printf(c, "%s\n", op->target + 1);
                break;
        case ST_FROM:
                (void) ats_conn_printf(c, "from:%s\n", op->from->atsign);
                break;
        case ST_COMMAND:
                (void) ats_conn_printf(c, "%s\n", op->command);
                break;
        case ST_VERIFY_PROOF:
                (void) ats_conn_printf(c, "lookup:%s%s\nlookup:signing_publickey%s\n", op->session_id, op->target,
                                       op->target);
                break;
        default:
                break;
        }
}

static void on_close(AtsConn *c, int error, void *userdata) {
        AtsOutbound *op = userdata;
        if (!op) {
                /* a connection whose op moved on (the root lookup) */
                ats_conn_free(c);
                return;
        }
        op->conn = NULL;
        ats_conn_free(c);
        op_finish(op, error < 0 ? error : -ECONNRESET, NULL);
}

static void on_overflow(AtsConn *c, void *userdata) {
        AtsOutbound *op = userdata;
        if (op)
                op_finish(op, -ENOBUFS, NULL);
}

static int tcp_connect(const char *host, const char *port) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
        int fd = -1;
        /* resolution is synchronous; host names here are local or in /etc/hosts */
        if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
                return -EHOSTUNREACH;
        for (struct addrinfo *a = res; a; a = a->ai_next) {
                fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        continue;
                int one = 1;
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS)
                        break;
                close(fd);
                fd = -1;
        }
        freeaddrinfo(res);
        return fd >= 0 ? fd : -ECONNREFUSED;
}

static int connect_to(AtsOutbound *op, const char *hostport) {
        static const AtsConnCallbacks cb = {
                .on_line = on_line, .on_ready = on_ready, .on_close = on_close, .on_overflow = on_overflow,
        };
        _cleanup_free_ char *host = strdup(hostport);
        if (!host)
                return -ENOMEM;
        char *colon = strrchr(host, ':');
        if (!colon)
                return -EINVAL;
        *colon = 0;
        if (op->state == ST_ROOT)
                op->state = op->kind == OP_VERIFY ? ST_VERIFY_PROOF : op->kind == OP_PLOOKUP ? ST_COMMAND : ST_FROM;
        int fd = tcp_connect(host, colon + 1);
        if (fd < 0)
                return fd;
        return ats_conn_new(op->server->event, fd, false, op->server->client_cred, host, ATS_LINE_MAX, &cb, op,
                            &op->conn);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        op_finish(userdata, -ETIMEDOUT, NULL);
        return 0;
}

static int op_start(AtsServer *s, OpKind kind, AtsHosted *from, const char *target, const char *command,
                    AtsOutboundDone done, void *userdata, AtsOutbound **ret) {
        static const AtsConnCallbacks cb = {
                .on_line = on_line, .on_ready = on_ready, .on_close = on_close, .on_overflow = on_overflow,
        };
        AtsOutbound *op = calloc(1, sizeof *op);
        int r;
        if (!op)
                return -ENOMEM;
        op->server = s;
        op->kind = kind;
        op->from = from;
        op->state = ST_ROOT;
        op->target = strdup(target);
        op->command = command ? strdup(command) : NULL;
        op->done = done;
        op->userdata = userdata;
        op->next = s->outbound;
        s->outbound = op;
        if (!op->target || (command && !op->command)) {
                op->done = NULL;
                op_free(op);
                return -ENOMEM;
        }
        /* the root directory: our own, or the one we were given */
        _cleanup_free_ char *root = strdup(s->root_server);
        char *colon = root ? strrchr(root, ':') : NULL;
        if (!colon) {
                op->done = NULL;
                op_free(op);
                return -EINVAL;
        }
        *colon = 0;
        int fd = tcp_connect(root, colon + 1);
        r = fd < 0 ? fd : ats_conn_new(s->event, fd, false, s->client_cred, root, 1024, &cb, op, &op->conn);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &op->timer, CLOCK_MONOTONIC, OUTBOUND_TIMEOUT_USEC, 0,
                                               on_timeout, op);
        if (r < 0) {
                op->done = NULL;
                op_free(op);
                return r;
        }
        if (ret)
                *ret = op;
        return 0;
}

int ats_outbound_notify(AtsServer *s, AtsHosted *from, const char *to_atsign, const char *notify_body,
                        AtsOutboundDone done, void *userdata) {
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "notify:%s", notify_body) < 0)
                return -ENOMEM;
        return op_start(s, OP_NOTIFY, from, to_atsign, cmd, done, userdata, NULL);
}

int ats_outbound_lookup(AtsServer *s, AtsHosted *from, const char *owner, const char *lookup_arg,
                        AtsOutboundDone done, void *userdata) {
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "lookup:%s", lookup_arg) < 0)
                return -ENOMEM;
        return op_start(s, from ? OP_LOOKUP : OP_PLOOKUP, from, owner, cmd, done, userdata, NULL);
}

int ats_outbound_command(AtsServer *s, AtsHosted *from, const char *target, const char *command,
                         AtsOutboundDone done, void *userdata) {
        return op_start(s, OP_LOOKUP, from, target, command, done, userdata, NULL);
}

int ats_outbound_verify_pol(AtsServer *s, const char *from_atsign, const char *session_id,
                            const char *challenge, AtsOutboundDone done, void *userdata) {
        AtsOutbound *op = NULL;
        int r = op_start(s, OP_VERIFY, NULL, from_atsign, NULL, done, userdata, &op);
        if (r < 0)
                return r;
        op->session_id = strdup(session_id);
        op->challenge = strdup(challenge);
        if (!op->session_id || !op->challenge) {
                op_finish(op, -ENOMEM, NULL);
                return 0;
        }
        return 0;
}

void ats_outbound_free_all(AtsServer *s) {
        while (s->outbound) {
                s->outbound->done = NULL;
                op_free(s->outbound);
        }
}
