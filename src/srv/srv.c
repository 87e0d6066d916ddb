/* SPDX-License-Identifier: BSD-3-Clause */
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "control.h"
#include "log.h"
#include "secure.h"
#include "srv.h"
#include "stream.h"

#define SRV_CONNECT_TIMEOUT_SEC 10

/* Upstream's readiness marker, which the Dart parent waits for (srv.dart, Srv.startedString) */
#define SRV_STARTED "rv started successfully"

typedef struct Conn {
        struct Srv *srv;
        SrvStream *stream;
        struct Conn *next;
} Conn;

typedef struct Srv {
        const SrvConfig *config;
        sd_event *event;
        int listen_fd;
        sd_event_source *listen_source;
        int control_fd;
        sd_event_source *control_source, *grace_timer, *heartbeat_timer;
        AtAesCtr *control_out, *control_in;
        ControlReader reader;
        Conn *conns;
        unsigned n_conns, n_total;
        bool grace_passed;
} Srv;

static void srv_maybe_exit(Srv *s, const char *why) {
        log_info("Ending: %s", why);
        sd_event_exit(s->event, 0);
}

static int set_nonblock(int fd) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

/* Blocking connect (bounded by SO_SNDTIMEO), then non-blocking. */
static int dial(const char *host, uint16_t port, int *ret) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res = NULL;
        struct timeval tv = { .tv_sec = SRV_CONNECT_TIMEOUT_SEC };
        char service[8];
        int r = -EHOSTUNREACH, one = 1;

        snprintf(service, sizeof service, "%u", port);
        if (getaddrinfo(host, service, &hints, &res) != 0)
                return -EHOSTUNREACH;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
                if (fd < 0)
                        continue;
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                        r = -errno;
                        close(fd);
                        continue;
                }
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                *ret = fd;
                r = 0;
                break;
        }
        freeaddrinfo(res);
        return r;
}

static int write_all(int fd, const void *data, size_t size) {
        const char *p = data;
        while (size > 0) {
                ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                usleep(1000);
                                continue;
                        }
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

/* A relay socket with its auth line already written (payload mode sends it and carries on). */
static int dial_relay(Srv *s, int *ret) {
        int fd = -1, r;

        r = dial(s->config->host, s->config->port, &fd);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the relay %s:%u: %m", s->config->host, s->config->port);
        if (s->config->rv_auth) {
                r = write_all(fd, s->config->rv_auth, strlen(s->config->rv_auth));
                if (r >= 0)
                        r = write_all(fd, "\n", 1);
                if (r < 0) {
                        close(fd);
                        return log_error_errno(r, "Failed to authenticate to the relay: %m");
                }
        }
        *ret = fd;
        return 0;
}

/* ---------------- connections ---------------- */

static void on_conn_done(SrvStream *stream, void *userdata) {
        Conn *c = userdata;
        Srv *s = c->srv;

        for (Conn **i = &s->conns; *i; i = &(*i)->next)
                if (*i == c) {
                        *i = c->next;
                        break;
                }
        s->n_conns--;
        srv_stream_free(c->stream);
        free(c);
        log_info("Connection closed (%u open)", s->n_conns);
        if (!s->config->multi)
                srv_maybe_exit(s, "the connection closed");
        else if (s->grace_passed && s->n_conns == 0)
                srv_maybe_exit(s, "the last connection closed");
}

/* out encrypts local -> relay, in decrypts relay -> local */
static int conn_start(Srv *s, int local_fd, int relay_fd, const SessionKey *out_key, const SessionKey *in_key) {
        AtAesCtr *out = NULL, *in = NULL;
        Conn *c;
        int r;

        if (set_nonblock(local_fd) < 0 || set_nonblock(relay_fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (out_key && ((r = session_key_new_cipher(out_key, &out)) < 0 || (r = session_key_new_cipher(in_key, &in)) < 0))
                goto fail;
        c = calloc(1, sizeof *c);
        if (!c) {
                r = -ENOMEM;
                goto fail;
        }
        c->srv = s;
        r = srv_stream_new(s->event, local_fd, relay_fd, out, in, on_conn_done, c, &c->stream);
        if (r < 0) {
                free(c);
                return r;
        }
        c->next = s->conns;
        s->conns = c;
        s->n_conns++;
        s->n_total++;
        log_info("Connection %u open", s->n_total);
        return 0;
fail:
        if (out)
                at_aes_ctr_free(out);
        if (in)
                at_aes_ctr_free(in);
        close(local_fd);
        close(relay_fd);
        return r;
}

/* Which key encrypts what: the client encrypts with C2D and decrypts with D2C; the daemon the
 * reverse; without D2C both use C2D (baseline). */
static const SessionKey *key_out(const Srv *s, const SessionKey *c2d, const SessionKey *d2c) {
        return s->config->bind_local_port ? c2d : (d2c ?: c2d);
}
static const SessionKey *key_in(const Srv *s, const SessionKey *c2d, const SessionKey *d2c) {
        return s->config->bind_local_port ? (d2c ?: c2d) : c2d;
}

/* ---------------- control channel ---------------- */

static int control_send(Srv *s, const char *text) {
        size_t n = strlen(text);
        uint8_t *buf = at_secure_alloc(n);
        int r;

        if (!buf)
                return -ENOMEM;
        memcpy(buf, text, n);
        if (s->control_out)
                at_aes_ctr_crypt(s->control_out, buf, buf, n);
        r = write_all(s->control_fd, buf, n);
        at_secure_free(buf);
        return r;
}

static void daemon_handle_control(Srv *s, const char *text, size_t size) {
        ControlMessage m;
        int local_fd = -1, relay_fd = -1, r;

        if (size == 0)
                return;
        r = control_parse(text, size, &m);
        if (r < 0) {
                log_warning("Ignoring a malformed control message");
                return;
        }
        if (m.kind == CONTROL_HEARTBEAT) {
                log_debug("Control channel heartbeat");
                return;
        }
        if (m.kind == CONTROL_CONNECT_CLEAR && s->config->c2d) {
                /* the control channel is AES-CTR without integrity: whoever learns 19 bytes of
                 * its key stream (older clients' heartbeats "heartbeat:1\n", "heartbeat:2\n"
                 * give them) could ask for a clear connection to the local service, which the
                 * relay would then read; an encrypted session never wants one */
                log_warning("Refusing an unencrypted connection in an encrypted session");
                return;
        }
        /* newer upstream dials the relay first (so a failure there costs no local connection) */
        if (dial_relay(s, &relay_fd) < 0) {
                control_message_done(&m);
                srv_maybe_exit(s, "cannot reach the relay");
                return;
        }
        r = dial(s->config->local_host, s->config->local_port, &local_fd);
        if (r < 0) {
                log_error_errno(r, "Failed to connect to %s:%u: %m", s->config->local_host, s->config->local_port);
                close(relay_fd);
                control_message_done(&m);
                return;
        }
        if (m.kind == CONTROL_CONNECT_CLEAR)
                r = conn_start(s, local_fd, relay_fd, NULL, NULL);
        else
                r = conn_start(s, local_fd, relay_fd, key_out(s, m.c2d, m.d2c), key_in(s, m.c2d, m.d2c));
        if (r < 0)
                log_error_errno(r, "Failed to start a connection: %m");
        control_message_done(&m);
}

static int on_control_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Srv *s = userdata;
        uint8_t buf[1024];
        char line[CONTROL_MAX_LINE];
        size_t len;
        ssize_t n;
        int r;

        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                srv_maybe_exit(s, "the control channel closed");
                return 0;
        }
        if (s->control_in)
                at_aes_ctr_crypt(s->control_in, buf, buf, (size_t) n);
        if (s->config->bind_local_port) /* the client only logs what the daemon says */
                return 0;
        r = control_reader_feed(&s->reader, buf, (size_t) n);
        explicit_bzero(buf, sizeof buf);
        if (r < 0) {
                srv_maybe_exit(s, "control message too long");
                return 0;
        }
        while ((r = control_reader_next(&s->reader, line, sizeof line, &len)) > 0) {
                daemon_handle_control(s, line, len);
                explicit_bzero(line, len);
        }
        if (r < 0)
                srv_maybe_exit(s, "control message too long");
        return 0;
}

static int on_heartbeat(sd_event_source *source, uint64_t usec, void *userdata) {
        Srv *s = userdata;
        char msg[48];
        uint64_t nonce;
        int r;

        /* The control channel is AES-CTR without integrity, so every byte of plain text the
         * relay can predict gives it that byte of key stream to forge with: "heartbeat:1\n",
         * "heartbeat:2\n", ... would hand it enough for a whole connect message within a few
         * hours. A random number (the daemon only logs it; upstream srv_impl.dart
         * _handleControlMessage) leaves it 11 predictable bytes in a row. */
        at_random_bytes(&nonce, sizeof nonce);
        snprintf(msg, sizeof msg, "heartbeat:%" PRIu64 "\n", nonce | (UINT64_C(1) << 62));
        if (control_send(s, msg) < 0)
                srv_maybe_exit(s, "the control channel failed");
        /* a time source is off once it has fired: re-arm it, or there is only ever one */
        r = sd_event_source_set_time_relative(source, s->config->heartbeat_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        return r;
}

static int control_open(Srv *s) {
        const SrvConfig *c = s->config;
        int r;

        r = dial_relay(s, &s->control_fd);
        if (r < 0)
                return r;
        if (c->c2d) {
                const SessionKey *out = key_out(s, c->c2d, c->d2c), *in = key_in(s, c->c2d, c->d2c);
                if ((r = session_key_new_cipher(out, &s->control_out)) < 0 ||
                    (r = session_key_new_cipher(in, &s->control_in)) < 0)
                        return r;
        }
        r = sd_event_add_io(s->event, &s->control_source, s->control_fd, EPOLLIN, on_control_io, s);
        if (r < 0)
                return r;
        /* heartbeats only towards daemons new enough for twin keys: 5.6.x would take
         * "heartbeat:1" for a connect request */
        if (c->bind_local_port && c->d2c && c->heartbeat_usec > 0)
                r = sd_event_add_time_relative(s->event, &s->heartbeat_timer, CLOCK_MONOTONIC, c->heartbeat_usec, 0,
                                               on_heartbeat, s);
        return r;
}

/* ---------------- client side ---------------- */

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Srv *s = userdata;
        const SrvConfig *c = s->config;
        _cleanup_(session_key_freep) SessionKey *kc2d = NULL, *kd2c = NULL;
        int local_fd, relay_fd, one = 1, r;

        local_fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (local_fd < 0)
                return 0;
        (void) setsockopt(local_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!c->multi)
                s->listen_source = sd_event_source_disable_unref(s->listen_source); /* one connection only */

        r = dial_relay(s, &relay_fd);
        if (r < 0) {
                close(local_fd);
                if (!c->multi)
                        srv_maybe_exit(s, "cannot reach the relay");
                return 0;
        }
        if (!c->multi) {
                r = conn_start(s, local_fd, relay_fd, c->c2d ? key_out(s, c->c2d, c->d2c) : NULL,
                               c->c2d ? key_in(s, c->c2d, c->d2c) : NULL);
                if (r < 0)
                        srv_maybe_exit(s, "failed to start the connection");
                return 0;
        }
        /* multi: fresh keys for this connection, announced on the control channel */
        _cleanup_secure_ char *msg = NULL;
        if (c->c2d && ((r = session_key_generate(&kc2d)) < 0 || (c->d2c && (r = session_key_generate(&kd2c)) < 0))) {
                close(local_fd);
                close(relay_fd);
                return 0;
        }
        r = control_format_connect(kc2d, kd2c, &msg);
        if (r >= 0)
                r = control_send(s, msg);
        if (r < 0) {
                close(local_fd);
                close(relay_fd);
                srv_maybe_exit(s, "the control channel failed");
                return 0;
        }
        r = conn_start(s, local_fd, relay_fd, kc2d ? key_out(s, kc2d, kd2c) : NULL, kc2d ? key_in(s, kc2d, kd2c) : NULL);
        if (r < 0)
                log_error_errno(r, "Failed to start a connection: %m");
        return 0;
}

static int client_listen(Srv *s) {
        const SrvConfig *c = s->config;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
        char service[8];
        int fd, one = 1, r;

        snprintf(service, sizeof service, "%u", c->local_port);
        if (getaddrinfo(c->local_host, service, &hints, &res) != 0)
                return log_error_errno(EHOSTUNREACH, "Cannot resolve %s", c->local_host);
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                freeaddrinfo(res);
                return -errno;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0) {
                r = -errno;
                freeaddrinfo(res);
                close(fd);
                return log_error_errno(r, "Failed to listen on %s:%u: %m", c->local_host, c->local_port);
        }
        freeaddrinfo(res);
        s->listen_fd = fd;
        return sd_event_add_io(s->event, &s->listen_source, fd, EPOLLIN, on_accept, s);
}

/* ---------------- run ---------------- */

static int on_grace(sd_event_source *source, uint64_t usec, void *userdata) {
        Srv *s = userdata;

        s->grace_passed = true;
        if (s->n_conns == 0)
                srv_maybe_exit(s, s->n_total == 0 ? "no connection within the timeout" : "no open connection");
        return 0;
}

static int daemon_single(Srv *s) {
        const SrvConfig *c = s->config;
        int local_fd = -1, relay_fd = -1, r;

        /* 5.6.x and newer both: local service (side A) first, then the relay (side B) */
        r = dial(c->local_host, c->local_port, &local_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to %s:%u: %m", c->local_host, c->local_port);
        r = dial_relay(s, &relay_fd);
        if (r < 0) {
                close(local_fd);
                return r;
        }
        return conn_start(s, local_fd, relay_fd, c->c2d ? key_out(s, c->c2d, c->d2c) : NULL,
                          c->c2d ? key_in(s, c->c2d, c->d2c) : NULL);
}

static int sig_exit(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        sd_event_exit(sd_event_source_get_event(source), 0);
        return 0;
}

int srv_run(const SrvConfig *config) {
        Srv s = { .config = config, .listen_fd = -1, .control_fd = -1 };
        sigset_t mask;
        int r;

        r = sd_event_new(&s.event);
        if (r < 0)
                return r;
        /* splice(2) has no MSG_NOSIGNAL: a peer's reset must end one connection, not the process
         * (and our parents may hand SIGPIPE over at its default) */
        (void) signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) sd_event_add_signal(s.event, NULL, SIGTERM, sig_exit, NULL);
        (void) sd_event_add_signal(s.event, NULL, SIGINT, sig_exit, NULL);

        if (config->multi)
                r = control_open(&s);
        if (r >= 0)
                r = config->bind_local_port ? client_listen(&s) : config->multi ? 0 : daemon_single(&s);
        if (r >= 0 && (config->multi || config->bind_local_port))
                r = sd_event_add_time_relative(s.event, &s.grace_timer, CLOCK_MONOTONIC, config->timeout_usec, 0,
                                               on_grace, &s);
        if (r >= 0) {
                fprintf(stderr, "%s\n", SRV_STARTED);
                fflush(stderr);
                r = sd_event_loop(s.event);
        }

        while (s.conns) {
                Conn *c = s.conns;
                s.conns = c->next;
                srv_stream_free(c->stream);
                free(c);
        }
        sd_event_source_disable_unref(s.listen_source);
        sd_event_source_disable_unref(s.control_source);
        sd_event_source_disable_unref(s.grace_timer);
        sd_event_source_disable_unref(s.heartbeat_timer);
        if (s.listen_fd >= 0)
                close(s.listen_fd);
        if (s.control_fd >= 0)
                close(s.control_fd);
        if (s.control_out)
                at_aes_ctr_free(s.control_out);
        if (s.control_in)
                at_aes_ctr_free(s.control_in);
        explicit_bzero(&s.reader, sizeof s.reader);
        sd_event_unref(s.event);
        return r < 0 ? r : 0;
}
