/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "conn.h"
#include "log.h"
#include "macro.h"

#define CONN_READ_CHUNK 4096
#define CONN_SEND_CHUNK 16384
/* Requests are not read while this much output waits: a peer that pipelines commands and never
 * reads the answers is held back by TCP flow control instead of growing our buffer. */
#define CONN_OUT_HIGH (256u * 1024)
/* After ats_conn_close, how long a peer has to take our last words: one that never reads would
 * otherwise keep the connection (and its buffers) for ever, idle timeouts notwithstanding. */
#define CONN_CLOSE_LINGER_USEC (10ULL * 1000 * 1000)

struct AtsConn {
        sd_event *event;
        sd_event_source *io, *idle, *defer;
        int fd;
        gnutls_session_t tls;
        bool server, handshaken, closing, finished, paused, in_dispatch;
        bool held_back; /* reading stopped while output was backlogged */
        size_t max_line;

        char *in;
        size_t in_len, in_alloc;
        char *out;
        size_t out_len, out_off, out_alloc;
        size_t send_inflight; /* bytes of a gnutls_record_send that returned EAGAIN */

        uint64_t idle_usec;
        AtsConnCallbacks cb;
        void *userdata;
        char peer[64], peer_ip[48];
        char *hostname;
};

static void conn_finish(AtsConn *c, int error);
static int conn_update_events(AtsConn *c);
static void conn_schedule(AtsConn *c);

static bool conn_backlogged(AtsConn *c) {
        if (c->out_len - c->out_off <= CONN_OUT_HIGH)
                return false;
        c->held_back = true;
        return true;
}

static void describe_peer(AtsConn *c) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        char ip[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (getpeername(c->fd, (struct sockaddr *) &sa, &len) == 0) {
                if (sa.ss_family == AF_INET) {
                        struct sockaddr_in *in = (struct sockaddr_in *) &sa;
                        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
                        port = ntohs(in->sin_port);
                } else if (sa.ss_family == AF_INET6) {
                        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sa;
                        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
                        port = ntohs(in6->sin6_port);
                }
        }
        snprintf(c->peer_ip, sizeof c->peer_ip, "%s", ip);
        snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
}

const char *ats_conn_peer(AtsConn *c) {
        return c->peer;
}
const char *ats_conn_peer_ip(AtsConn *c) {
        return c->peer_ip;
}
size_t ats_conn_pending(AtsConn *c) {
        return c->out_len - c->out_off;
}
bool ats_conn_is_closing(AtsConn *c) {
        return c->closing || c->finished;
}
void *ats_conn_userdata(AtsConn *c) {
        return c->userdata;
}
void ats_conn_set_userdata(AtsConn *c, void *userdata) {
        c->userdata = userdata;
}

static int grow(char **buf, size_t *alloc, size_t need, size_t cap) {
        if (need <= *alloc)
                return 0;
        if (need > cap)
                return -ENOBUFS;
        size_t n = MAX(*alloc * 2, (size_t) 256);
        while (n < need)
                n *= 2;
        n = MIN(n, cap);
        char *b = realloc(*buf, n);
        if (!b)
                return -ENOMEM;
        *buf = b;
        *alloc = n;
        return 0;
}

int ats_conn_write(AtsConn *c, const void *data, size_t size) {
        int r;
        if (c->finished || (c->closing && !c->out_len))
                return -EPIPE;
        /* compact consumed space before growing */
        if (c->out_off > 0 && c->send_inflight == 0) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
        }
        r = grow(&c->out, &c->out_alloc, c->out_len + size, 64u * 1024 * 1024);
        if (r < 0)
                return r;
        memcpy(c->out + c->out_len, data, size);
        c->out_len += size;
        return conn_update_events(c);
}

int ats_conn_printf(AtsConn *c, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = ats_conn_write(c, s, (size_t) n);
        free(s);
        return r;
}

static int conn_update_events(AtsConn *c) {
        uint32_t ev = EPOLLIN;
        if (!c->io)
                return 0;
        if (!c->handshaken) {
                ev = gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN;
        } else {
                if (conn_backlogged(c))
                        ev = 0;
                if (c->out_len > c->out_off || c->send_inflight)
                        ev |= EPOLLOUT;
        }
        return sd_event_source_set_io_events(c->io, ev);
}

/* Sends what can be sent; returns 0, or <0 on a fatal error. */
static int conn_flush(AtsConn *c) {
        while (c->send_inflight || c->out_off < c->out_len) {
                ssize_t n;
                if (c->send_inflight)
                        n = gnutls_record_send(c->tls, NULL, 0);
                else {
                        size_t len = MIN(c->out_len - c->out_off, (size_t) CONN_SEND_CHUNK);
                        n = gnutls_record_send(c->tls, c->out + c->out_off, len);
                        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                                c->send_inflight = len;
                                return 0;
                        }
                }
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                        return 0;
                if (n < 0)
                        return -EPIPE;
                c->out_off += (size_t) n;
                c->send_inflight = 0;
        }
        c->out_off = c->out_len = 0;
        if (c->out_alloc > 16384) { /* do not keep a big buffer for an idle connection */
                free(c->out);
                c->out = NULL;
                c->out_alloc = 0;
        }
        return 0;
}

/* Hands complete lines to the owner. Returns false if the connection finished. */
static void conn_dispatch(AtsConn *c) {
        size_t start = 0;
        c->in_dispatch = true;
        while (!c->paused && !c->closing && !conn_backlogged(c) && start < c->in_len) {
                char *nl = memchr(c->in + start, '\n', c->in_len - start);
                if (!nl)
                        break;
                size_t len = (size_t) (nl - (c->in + start));
                *nl = 0;
                if (len > 0 && c->in[start + len - 1] == '\r')
                        c->in[start + --len] = 0;
                char *line = c->in + start;
                start = (size_t) (nl - c->in) + 1;
                if (c->idle_usec)
                        (void) ats_conn_set_idle(c, c->idle_usec);
                if (c->cb.on_line)
                        c->cb.on_line(c, line, len, c->userdata);
        }
        c->in_dispatch = false;
        if (start > 0) {
                memmove(c->in, c->in + start, c->in_len - start);
                c->in_len -= start;
        }
        if (c->in_len == 0 && c->in_alloc > 4096) {
                free(c->in);
                c->in = NULL;
                c->in_alloc = 0;
        }
        if (!c->paused && !c->closing && !conn_backlogged(c) && c->in_len > c->max_line) {
                c->in_len = 0;
                if (c->cb.on_overflow)
                        c->cb.on_overflow(c, c->userdata);
                else
                        ats_conn_close(c);
        }
}

static int conn_read(AtsConn *c) {
        char buf[CONN_READ_CHUNK];
        for (;;) {
                if (c->closing || conn_backlogged(c))
                        return 0;
                ssize_t n = gnutls_record_recv(c->tls, buf, sizeof buf);
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                        return 0;
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0)
                        return gnutls_error_is_fatal((int) n) ? -EPROTO : 0;
                /* while paused, or a line is too long, keep at most cap+chunk bytes */
                if (c->in_len + (size_t) n > c->max_line + CONN_READ_CHUNK + 1) {
                        if (c->paused)
                                return -ENOBUFS;
                        /* drop what cannot be a valid line; overflow is reported below */
                        c->in_len = c->max_line + 1;
                        continue;
                }
                int r = grow(&c->in, &c->in_alloc, c->in_len + (size_t) n + 1, c->max_line + CONN_READ_CHUNK + 2);
                if (r < 0)
                        return r;
                memcpy(c->in + c->in_len, buf, (size_t) n);
                c->in_len += (size_t) n;
                conn_dispatch(c);
                if (c->finished)
                        return 0;
        }
}

static int conn_handshake(AtsConn *c) {
        int r = gnutls_handshake(c->tls);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
                return conn_update_events(c);
        if (r < 0) {
                log_debug("TLS handshake with %s failed: %s", c->peer, gnutls_strerror(r));
                return -EPROTO;
        }
        c->handshaken = true;
        if (c->cb.on_ready)
                c->cb.on_ready(c, c->userdata);
        return conn_update_events(c);
}

static int conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AtsConn *c = userdata;
        int r = 0;

        if (!c->handshaken) {
                r = conn_handshake(c);
                if (r < 0) {
                        conn_finish(c, r);
                        return 0;
                }
                if (!c->handshaken)
                        return 0;
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                r = conn_read(c);
                if (c->finished)
                        return 0;
        }
        if (r >= 0)
                r = conn_flush(c);
        if (r < 0) {
                conn_finish(c, r);
                return 0;
        }
        if (c->closing && c->out_off >= c->out_len && !c->send_inflight) {
                (void) gnutls_bye(c->tls, GNUTLS_SHUT_WR);
                conn_finish(c, 0);
                return 0;
        }
        if (c->held_back && !conn_backlogged(c)) {
                /* the answers went out: take up the lines (and TLS records) we left waiting */
                c->held_back = false;
                conn_schedule(c);
        }
        (void) conn_update_events(c);
        return 0;
}

static int conn_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        AtsConn *c = userdata;
        if (c->closing) {
                conn_finish(c, -ETIMEDOUT);
                return 0;
        }
        if (c->cb.on_idle)
                c->cb.on_idle(c, c->userdata);
        else
                ats_conn_close(c);
        return 0;
}

static int conn_deferred(sd_event_source *s, void *userdata) {
        AtsConn *c = userdata;
        c->defer = sd_event_source_disable_unref(c->defer);
        if (c->finished)
                return 0;
        if (!c->handshaken && !c->closing) {
                int h = conn_handshake(c);
                if (h < 0)
                        conn_finish(c, h);
                return 0;
        }
        if (!c->paused)
                conn_dispatch(c);
        if (c->finished)
                return 0;
        if (!c->paused && !c->closing) {
                int rr = conn_read(c);
                if (c->finished)
                        return 0;
                if (rr < 0) {
                        conn_finish(c, rr);
                        return 0;
                }
        }
        if (c->closing && c->out_off >= c->out_len && !c->send_inflight) {
                if (c->handshaken)
                        (void) gnutls_bye(c->tls, GNUTLS_SHUT_WR);
                conn_finish(c, 0);
                return 0;
        }
        int r = c->handshaken ? conn_flush(c) : 0;
        if (r < 0)
                conn_finish(c, r);
        else
                (void) conn_update_events(c);
        return 0;
}

static void conn_schedule(AtsConn *c) {
        if (c->defer || c->finished)
                return;
        (void) sd_event_add_defer(c->event, &c->defer, conn_deferred, c);
}

void ats_conn_pause(AtsConn *c, bool pause) {
        c->paused = pause;
        if (!pause)
                conn_schedule(c);
}

void ats_conn_close(AtsConn *c) {
        if (c->closing || c->finished)
                return;
        c->closing = true;
        c->idle = sd_event_source_disable_unref(c->idle);
        (void) sd_event_add_time_relative(c->event, &c->idle, CLOCK_MONOTONIC, CONN_CLOSE_LINGER_USEC, 100 * 1000,
                                          conn_idle, c);
        conn_schedule(c);
}

int ats_conn_set_idle(AtsConn *c, uint64_t usec) {
        if (c->closing) /* the idle timer now bounds the linger */
                return 0;
        c->idle_usec = usec;
        if (usec == 0) {
                c->idle = sd_event_source_disable_unref(c->idle);
                return 0;
        }
        if (c->idle) {
                uint64_t now;
                int r = sd_event_now(c->event, CLOCK_MONOTONIC, &now);
                if (r < 0)
                        return r;
                r = sd_event_source_set_time(c->idle, now + usec);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time_relative(c->event, &c->idle, CLOCK_MONOTONIC, usec, 100 * 1000, conn_idle, c);
}

static void conn_finish(AtsConn *c, int error) {
        if (c->finished)
                return;
        c->finished = true;
        c->io = sd_event_source_disable_unref(c->io);
        c->idle = sd_event_source_disable_unref(c->idle);
        c->defer = sd_event_source_disable_unref(c->defer);
        if (c->fd >= 0) {
                close(c->fd);
                c->fd = -1;
        }
        if (c->cb.on_close)
                c->cb.on_close(c, error, c->userdata);
}

int ats_conn_new(sd_event *e, int fd, bool server, gnutls_certificate_credentials_t cred,
                 const char *hostname, size_t max_line, const AtsConnCallbacks *cb, void *userdata,
                 AtsConn **ret) {
        AtsConn *c = calloc(1, sizeof *c);
        int r;

        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->event = sd_event_ref(e);
        c->fd = fd;
        c->server = server;
        c->max_line = max_line;
        c->cb = *cb;
        c->userdata = userdata;
        describe_peer(c);

        r = gnutls_init(&c->tls, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK);
        if (r < 0)
                goto fail_tls;
        r = gnutls_set_default_priority(c->tls);
        if (r < 0)
                goto fail_tls;
        r = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, cred);
        if (r < 0)
                goto fail_tls;
        if (server)
                gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_IGNORE);
        else if (hostname) {
                c->hostname = strdup(hostname);
                if (!c->hostname) {
                        ats_conn_free(c);
                        return -ENOMEM;
                }
                (void) gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, hostname, strlen(hostname));
                gnutls_session_set_verify_cert(c->tls, c->hostname, 0);
        }
        gnutls_transport_set_int(c->tls, fd);
        gnutls_handshake_set_timeout(c->tls, 0);

        r = sd_event_add_io(e, &c->io, fd, server ? EPOLLIN : EPOLLOUT, conn_io, c);
        if (r < 0) {
                ats_conn_free(c);
                return r;
        }
        if (!server) /* start the client handshake now */
                conn_schedule(c);
        *ret = c;
        return 0;

fail_tls:
        log_error("TLS session setup failed: %s", gnutls_strerror(r));
        ats_conn_free(c);
        return -EPROTO;
}

void ats_conn_free(AtsConn *c) {
        if (!c)
                return;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->idle);
        sd_event_source_disable_unref(c->defer);
        if (c->tls)
                gnutls_deinit(c->tls);
        if (c->fd >= 0)
                close(c->fd);
        sd_event_unref(c->event);
        free(c->in);
        free(c->out);
        free(c->hostname);
        free(c);
}
