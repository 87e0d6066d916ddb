/* SPDX-License-Identifier: BSD-3-Clause */
/* ssh_request and npt_request: verify, check, start the device side of srv, answer.
 * Upstream: noports_core sshnpd/sshnpd_impl.dart (_handleSshRequestNotification, startNpt);
 * spec §4 step 6, §5, §7. Errors go back as plain text on @<client>:<sid>.<dev>.sshnp. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "envelope.h"
#include "capabilities.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"
#include "relay_auth.h"
#include "response.h"
#include "session_crypto.h"
#include "srv_command.h"

#define RESPONSE_TTL_MS 10000
#define SRV_READY_TIMEOUT_USEC (15ULL * 1000000ULL) /* newer upstream waits 15 s */
#define SRV_READY_LINE "rv started successfully"

typedef struct PendingSrv {
        SshnpdProtocol *protocol;
        char *session_id;
        char *client;
        NpRequestKind kind;
        SessionKey *session_key;     /* baseline: both ways; twin keys: client -> device (C2D) */
        SessionKey *session_key_d2c; /* twin keys only: device -> client */
        char *client_pk;
        int fd;               /* srv's stderr */
        sd_event_source *io;
        sd_event_source *timer;
        bool answered;
        char buf[2048];
        size_t n;
        struct PendingSrv *next;
} PendingSrv;

static bool session_id_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_'))
                        return false;
        return true;
}

static void reply(SshnpdProtocol *p, const char *client, const char *session_id, const char *text) {
        _cleanup_free_ char *key = NULL;
        int r;

        if (asprintf(&key, "%s.%s.sshnp", session_id, p->daemon->args->device) < 0)
                return;
        r = protocol_notify(p, client, key, text, RESPONSE_TTL_MS);
        if (r < 0)
                log_warning_errno(r, "Cannot send the answer for session %s to %s: %m", session_id, client);
}

static void reply_error(SshnpdProtocol *p, const char *client, const char *session_id, const char *fmt, ...)
        _printf_(4, 5);
static void reply_error(SshnpdProtocol *p, const char *client, const char *session_id, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                return;
        log_fields(LOG_NOTICE, 0, FIELDS(p->daemon->atsign_field, p->daemon->device_field),
                   "Refusing session %s from %s: %s", session_id, client, text);
        reply(p, client, session_id, text);
}

static void pending_free(PendingSrv *ps) {
        SshnpdProtocol *p = ps->protocol;

        for (PendingSrv **i = &p->pending; *i; i = &(*i)->next)
                if (*i == ps) {
                        *i = ps->next;
                        break;
                }
        sd_event_source_disable_unref(ps->io);
        sd_event_source_disable_unref(ps->timer);
        if (ps->fd >= 0)
                close(ps->fd);
        session_key_free(ps->session_key);
        session_key_free(ps->session_key_d2c);
        free(ps->session_id);
        free(ps->client);
        free(ps->client_pk);
        free(ps);
}

void requests_free_pending(SshnpdProtocol *p) {
        while (p->pending)
                pending_free(p->pending);
}

static int send_success(PendingSrv *ps) {
        SshnpdProtocol *p = ps->protocol;
        _cleanup_free_ char *text = NULL;
        int r;

        r = sshnpd_response_build(ps->kind, ps->session_id, ps->client_pk, ps->session_key, ps->session_key_d2c,
                                  p->keys->encrypt_private, &text);
        if (r < 0) {
                reply_error(p, ps->client, ps->session_id, "Failed to build the session response: %s", strerror(-r));
                return r;
        }
        reply(p, ps->client, ps->session_id, text);
        return 0;
}

static void srv_failed(PendingSrv *ps, const char *why) {
        SshnpdSession *s;

        if (!ps->answered) {
                ps->answered = true;
                reply_error(ps->protocol, ps->client, ps->session_id,
                            "Failed to start up the daemon side of the srv socket tunnel : %s", why);
        }
        s = sshnpd_session_find(ps->protocol->daemon, ps->session_id);
        if (s)
                sshnpd_session_close(s, why);
}

static void srv_line(PendingSrv *ps, const char *line) {
        SshnpdSession *s = sshnpd_session_find(ps->protocol->daemon, ps->session_id);

        if (s)
                SESSION_LOG(s, LOG_DEBUG, "srv: %s", line);
        if (!ps->answered && strstr(line, SRV_READY_LINE)) {
                ps->answered = true;
                ps->timer = sd_event_source_disable_unref(ps->timer);
                if (send_success(ps) < 0 && s)
                        sshnpd_session_close(s, "could not answer the client");
                else if (s)
                        SESSION_LOG(s, LOG_INFO, "srv is up for session %s; answered %s", ps->session_id, ps->client);
        }
}

static int on_srv_output(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        PendingSrv *ps = userdata;
        ssize_t k;
        char *nl;

        k = read(fd, ps->buf + ps->n, sizeof(ps->buf) - 1 - ps->n);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k <= 0) {
                if (!ps->answered)
                        srv_failed(ps, "srv exited before it was ready");
                pending_free(ps);
                return 0;
        }
        ps->n += (size_t) k;
        ps->buf[ps->n] = 0;
        while ((nl = strchr(ps->buf, '\n'))) {
                *nl = 0;
                srv_line(ps, ps->buf);
                ps->n -= (size_t) (nl + 1 - ps->buf);
                memmove(ps->buf, nl + 1, ps->n + 1);
        }
        if (ps->n == sizeof(ps->buf) - 1) { /* an over-long line: log it and go on */
                srv_line(ps, ps->buf);
                ps->n = 0;
        }
        return 0;
}

static int on_srv_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        PendingSrv *ps = userdata;

        ps->timer = sd_event_source_disable_unref(ps->timer);
        srv_failed(ps, "srv did not report it was ready in time");
        return 0;
}

static const char *srv_path(void) {
        const char *e = getenv("NOPORTS_SRV");
        if (e && *e)
                return e;
#ifdef NOPORTS_SRV_PATH
        if (access(NOPORTS_SRV_PATH, X_OK) == 0)
                return NOPORTS_SRV_PATH;
#endif
        return "srv";
}

/* fork + exec srv with its secrets in the environment (never argv); stderr comes back on a pipe */
static int spawn_srv(const NpSessionRequest *req, const char *host, uint16_t port, const SessionKey *key,
                     const SessionKey *key_d2c, const char *auth_line, pid_t *ret_pid, int *ret_fd) {
        SrvCommand cmd;
        int pipefd[2];
        pid_t pid;

        srv_command_build(&cmd, req, host, port, key, key_d2c, auth_line);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return -errno;
        }
        if (pid == 0) {
                sigset_t none;
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                if (devnull >= 0) {
                        (void) dup2(devnull, STDIN_FILENO);
                        (void) dup2(devnull, STDOUT_FILENO);
                }
                (void) dup2(pipefd[1], STDERR_FILENO);
                (void) close_range(3, ~0U, 0);
                for (unsigned i = 0; i < cmd.n_env; i++)
                        (void) setenv(cmd.env[i].name, cmd.env[i].value, 1);
                execvp(srv_path(), (char *const *) cmd.argv);
                dprintf(STDERR_FILENO, "Exception running srv : cannot execute %s: %m\n", srv_path());
                _exit(200);
        }
        close(pipefd[1]);
        (void) fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
        *ret_pid = pid;
        *ret_fd = pipefd[0];
        return 0;
}

static int start_session(SshnpdProtocol *p, const char *client, NpSessionRequest *req, const char *host,
                         uint16_t port) {
        Sshnpd *d = p->daemon;
        _cleanup_(session_key_freep) SessionKey *key = NULL, *key_d2c = NULL;
        _cleanup_free_ char *auth = NULL, *target = NULL;
        bool twin = sshnpd_twin_keys_for(d->args, req);
        SshnpdSession *s;
        PendingSrv *ps;
        pid_t pid = 0;
        int r, fd = -1;

        r = session_key_generate(&key);
        if (r >= 0 && twin)
                r = session_key_generate(&key_d2c);
        if (r < 0)
                return r;
        if (req->authenticate_to_rvd) {
                r = relay_auth_build(req->session_id, req->client_nonce, req->rvd_nonce, p->keys->encrypt_private,
                                     &auth);
                if (r < 0)
                        return r;
        }
        if (asprintf(&target, "%s:%u", host, port) < 0)
                return -ENOMEM;
        r = sshnpd_session_new(d, req->session_id, client, req->kind == NP_REQUEST_SSH ? "ssh" : "npt", target, &s);
        if (r < 0)
                return r;
        SESSION_LOG(s, LOG_INFO, "Session %s from %s to %s: %s%s", req->session_id, client, target,
                    twin ? "twin keys (one key per direction)" : "one key for both directions (baseline)",
                    twin ? ""
                    : !req->twin_keys ? "; the client did not ask for twin keys"
                    : !req->encrypt_rvd_traffic ? ""
                    : "; twin keys are off (--no-twin-keys)");
        r = spawn_srv(req, host, port, key, key_d2c, auth, &pid, &fd);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        if (r < 0) {
                sshnpd_session_close(s, "srv could not be started");
                return r;
        }
        r = sshnpd_session_attach_srv(s, pid);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                close(fd);
                sshnpd_session_close(s, "srv could not be watched");
                return r;
        }

        ps = calloc(1, sizeof(*ps));
        if (!ps) {
                close(fd);
                sshnpd_session_close(s, "out of memory");
                return -ENOMEM;
        }
        ps->protocol = p;
        ps->fd = fd;
        ps->kind = req->kind;
        ps->session_key = TAKE_PTR(key);
        ps->session_key_d2c = TAKE_PTR(key_d2c);
        ps->session_id = strdup(req->session_id);
        ps->client = strdup(client);
        ps->client_pk = strdup(req->client_ephemeral_pk);
        ps->next = p->pending;
        p->pending = ps;
        if (!ps->session_id || !ps->client || !ps->client_pk ||
            sd_event_add_io(d->event, &ps->io, fd, EPOLLIN, on_srv_output, ps) < 0 ||
            sd_event_add_time_relative(d->event, &ps->timer, CLOCK_MONOTONIC, SRV_READY_TIMEOUT_USEC, 0,
                                       on_srv_timeout, ps) < 0) {
                pending_free(ps);
                sshnpd_session_close(s, "cannot watch srv");
                return -ENOMEM;
        }
        return 0;
}

/* A request waiting for the sender's public key. */
typedef struct Request {
        SshnpdProtocol *protocol;
        char *from;
        NpRequestKind kind;
        Envelope *envelope;
        NpSessionRequest *req;
} Request;

static void request_free(Request *q) {
        free(q->from);
        envelope_free(q->envelope);
        np_session_request_free(q->req);
        free(q);
}

/* With the sender's public key: verify, check what is asked, start. */
static void request_continue(SshnpdProtocol *p, const char *from, NpRequestKind k, const Envelope *e,
                             const NpSessionRequest *req, int error, const AtRsaPublic *pk) {
        SshnpdArgs *a = p->daemon->args;
        const char *host;
        uint16_t port;
        int r;

        if (error == -EKEYREJECTED) { /* --strict; upstream's words (sshnpd_impl.dart verifyRequestSignature) */
                reply_error(p, from, req->session_id,
                            "Signature not verified: Likely that the client atSign's public key has changed: "
                            "the public key of %s differs from the one this daemon cached (strict mode)", from);
                return;
        }
        if (error < 0) {
                reply_error(p, from, req->session_id, "Signature not verified: cannot fetch the public key of %s",
                            from);
                return;
        }
        if (envelope_verify(e, pk) < 0) {
                reply_error(p, from, req->session_id, "Signature not verified: the request is not signed by %s",
                            from);
                return;
        }
        if (k == NP_REQUEST_SSH && !req->direct) {
                reply_error(p, from, req->session_id, "Only direct ssh requests are supported");
                return;
        }
        if (!req->encrypt_rvd_traffic) {
                reply_error(p, from, req->session_id,
                            "This daemon requires encryptRvdTraffic (do not use --no-encrypt-rvd-traffic)");
                return;
        }
        if (req->relay_auth_mode != NP_RELAY_AUTH_PAYLOAD) {
                reply_error(p, from, req->session_id, "Relay auth mode %s is not supported by this daemon",
                            np_relay_auth_mode_to_string(req->relay_auth_mode));
                return;
        }
        if (k == NP_REQUEST_SSH) {
                host = "localhost";
                port = a->local_sshd_port;
        } else {
                host = req->requested_host;
                port = req->requested_port;
        }
        if (!permit_open_allows(p->permit_open, host, port)) {
                reply_error(p, from, req->session_id, "Daemon does not permit connections to %s:%u", host, port);
                return;
        }
        if (sshnpd_session_find(p->daemon, req->session_id)) {
                reply_error(p, from, req->session_id, "Session %s already exists", req->session_id);
                return;
        }
        /* start_session only reads the request */
        r = start_session(p, from, (NpSessionRequest *) req, host, port);
        if (r < 0)
                reply_error(p, from, req->session_id,
                            "Failed to start up the daemon side of the srv socket tunnel : %s", strerror(-r));
}

static void on_public_key(int error, const AtRsaPublic *pk, void *userdata) {
        Request *q = userdata;

        if (error != -ECANCELED) /* -ECANCELED: the daemon is stopping */
                request_continue(q->protocol, q->from, q->kind, q->envelope, q->req, error, pk);
        request_free(q);
}

void requests_handle(SshnpdProtocol *p, const AtNotification *n, const char *from, const char *kind,
                     const char *value) {
        NpRequestKind k = streq(kind, "ssh_request") ? NP_REQUEST_SSH : NP_REQUEST_NPT;
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_(np_session_request_freep) NpSessionRequest *req = NULL;
        Request *q;
        int r;

        r = envelope_parse(value, strlen(value), &e);
        if (r < 0) {
                log_full_errno(LOG_NOTICE, r, "Ignoring %s from %s: not a signed envelope: %m", kind, from);
                return;
        }
        r = np_session_request_from_json(k, e->payload, &req);
        if (r < 0 || !session_id_valid(req->session_id)) {
                log_notice("Ignoring %s from %s: malformed request", kind, from);
                return;
        }
        q = calloc(1, sizeof(*q));
        if (!q || !(q->from = strdup(from))) {
                free(q);
                log_oom();
                return;
        }
        q->protocol = p;
        q->kind = k;
        q->envelope = TAKE_PTR(e);
        q->req = TAKE_PTR(req);
        /* the handler may run at once (a cached key) or later, from the loop */
        r = protocol_public_key_async(p, from, on_public_key, q);
        if (r < 0) {
                request_continue(p, q->from, q->kind, q->envelope, q->req, r, NULL);
                request_free(q);
        }
}
