/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "log.h"
#include "macro.h"
#include "resolve.h"
#include "tls.h"

struct AtTls {
        int fd;
        gnutls_session_t session;
        gnutls_certificate_credentials_t creds;
        char *host;
        uint16_t port;
        size_t write_pending; /* size of a record send that returned GNUTLS_E_AGAIN */
        bool established;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

/* Waits for events on fd until deadline (monotonic usec): 0, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short events, uint64_t deadline) {
        for (;;) {
                uint64_t n = now_usec();
                if (n >= deadline)
                        return -ETIMEDOUT;
                uint64_t ms = (deadline - n + 999) / 1000;
                struct pollfd p = { .fd = fd, .events = events };
                int r = poll(&p, 1, (int) MIN(ms, (uint64_t) INT32_MAX));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r > 0)
                        return 0;
        }
}

static int tcp_connect_one(const struct addrinfo *ai, uint64_t deadline) {
        _cleanup_close_ int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
                return -errno;

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                if (errno != EINPROGRESS)
                        return -errno;
                int r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
                int err = 0;
                socklen_t len = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        return -errno;
                if (err != 0)
                        return -err;
        }
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return TAKE_FD(fd);
}

static int tcp_connect(const char *host, uint16_t port, uint64_t deadline) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
        struct addrinfo *list = NULL;
        char service[8];
        int r;

        snprintf(service, sizeof(service), "%u", port);
        r = getaddrinfo(host, service, &hints, &list);
        if (r != 0) {
                log_debug("Failed to resolve %s: %s", host, gai_strerror(r));
                return r == EAI_SYSTEM ? negative_errno() : -EHOSTUNREACH;
        }

        r = -EHOSTUNREACH;
        for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                r = tcp_connect_one(ai, deadline);
                if (r >= 0 || r == -ETIMEDOUT)
                        break;
        }
        freeaddrinfo(list);
        return r;
}

static bool is_ip_literal(const char *host) {
        unsigned char buf[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int handshake_error(AtTls *t, int g) {
        if (g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR || g == GNUTLS_E_CERTIFICATE_ERROR) {
                gnutls_datum_t out = {};
                unsigned status = gnutls_session_get_verify_cert_status(t->session);
                if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) >= 0) {
                        log_error("TLS certificate of %s:%u not accepted: %s", t->host, t->port, (const char *) out.data);
                        gnutls_free(out.data);
                } else
                        log_error("TLS certificate of %s:%u not accepted.", t->host, t->port);
                return -EPERM;
        }
        log_debug("TLS handshake with %s:%u failed: %s", t->host, t->port, gnutls_strerror(g));
        if (g == GNUTLS_E_PREMATURE_TERMINATION || g == GNUTLS_E_PULL_ERROR || g == GNUTLS_E_PUSH_ERROR)
                return -ECONNRESET;
        return -EPROTO;
}

/* The parts of a client session that come before the TCP connection: host, port, trust store. */
static int tls_new(const char *host, uint16_t port, const char *ca_file, AtTls **ret) {
        _cleanup_(at_tls_freep) AtTls *t = NULL;
        int g;

        if (!host || !*host || port == 0)
                return -EINVAL;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->fd = -1;
        t->port = port;
        t->host = strdup(host);
        if (!t->host)
                return -ENOMEM;

        if (gnutls_certificate_allocate_credentials(&t->creds) < 0)
                return -ENOMEM;
        if (ca_file) {
                g = gnutls_certificate_set_x509_trust_file(t->creds, ca_file, GNUTLS_X509_FMT_PEM);
                if (g <= 0)
                        return log_error_errno(EINVAL, "Failed to load CA certificates from %s: %s", ca_file,
                                               g < 0 ? gnutls_strerror(g) : "no certificate found");
        } else {
                g = gnutls_certificate_set_x509_system_trust(t->creds);
                if (g < 0)
                        return log_error_errno(EIO, "Failed to load the system CA store: %s", gnutls_strerror(g));
        }
        *ret = TAKE_PTR(t);
        return 0;
}

/* The GnuTLS session on the connected socket t->fd. */
static int tls_session_setup(AtTls *t) {
        if (gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0)
                return -ENOMEM;
        if (gnutls_set_default_priority(t->session) < 0 ||
            gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->creds) < 0)
                return -EIO;
        /* SNI carries DNS names only; the certificate is checked against the name or address. */
        if (!is_ip_literal(t->host) &&
            gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, t->host, strlen(t->host)) < 0)
                return -EINVAL;
        gnutls_session_set_verify_cert(t->session, t->host, 0);
        gnutls_transport_set_int(t->session, t->fd);
        return 0;
}

/* One handshake step: 0 done, -EAGAIN (wait for at_tls_poll_events()), or the failure. */
static int tls_handshake_step(AtTls *t) {
        int g = gnutls_handshake(t->session);
        if (g == GNUTLS_E_SUCCESS) {
                t->established = true;
                return 0;
        }
        if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(g))
                return -EAGAIN;
        return handshake_error(t, g);
}

int at_tls_connect(const char *host, uint16_t port, const char *ca_file, uint64_t timeout_usec, AtTls **ret) {
        _cleanup_(at_tls_freep) AtTls *t = NULL;
        uint64_t deadline = now_usec() + timeout_usec;
        int r;

        r = tls_new(host, port, ca_file, &t);
        if (r < 0)
                return r;
        r = tcp_connect(host, port, deadline);
        if (r < 0)
                return r;
        t->fd = r;
        r = tls_session_setup(t);
        if (r < 0)
                return r;
        while ((r = tls_handshake_step(t)) == -EAGAIN) {
                r = wait_fd(t->fd, at_tls_poll_events(t), deadline);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        *ret = TAKE_PTR(t);
        return 0;
}

/* ---- asynchronous connect on sd_event ---- */

struct AtTlsConnect {
        sd_event *event;
        AtTls *tls;
        AtResolve *resolve;
        struct addrinfo *addresses, *next;
        sd_event_source *io, *timer;
        bool handshaking;
        int last_error;
        AtTlsConnectHandler handler;
        void *userdata;
};

AtTlsConnect *at_tls_connect_cancel(AtTlsConnect *op) {
        if (!op)
                return NULL;
        at_resolve_cancel(op->resolve);
        sd_event_source_disable_unref(op->io);
        sd_event_source_disable_unref(op->timer);
        if (op->addresses)
                freeaddrinfo(op->addresses);
        at_tls_free(op->tls);
        sd_event_unref(op->event);
        free(op);
        return NULL;
}

static void connect_finish(AtTlsConnect *op, int error) {
        AtTlsConnectHandler handler = op->handler;
        void *userdata = op->userdata;
        AtTls *t = NULL;

        if (error >= 0)
                t = TAKE_PTR(op->tls);
        else
                log_debug("Connecting to %s:%u failed: %s", op->tls->host, op->tls->port, strerror(-error));
        at_tls_connect_cancel(op);
        handler(error, t, userdata);
}

static int watch_fd(AtTlsConnect *op, uint32_t events);

static void handshake_continue(AtTlsConnect *op) {
        int r = tls_handshake_step(op->tls);
        if (r == -EAGAIN) {
                r = watch_fd(op, at_tls_poll_events(op->tls) == POLLOUT ? EPOLLOUT : EPOLLIN);
                if (r >= 0)
                        return;
        }
        connect_finish(op, r);
}

static void try_next_address(AtTlsConnect *op);

static int on_connect_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AtTlsConnect *op = userdata;
        int err = 0;
        socklen_t len = sizeof(err);

        if (op->handshaking) {
                handshake_continue(op);
                return 0;
        }
        /* the TCP connect finished, one way or the other */
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err != 0) {
                op->last_error = -err;
                op->io = sd_event_source_disable_unref(op->io);
                close(op->tls->fd);
                op->tls->fd = -1;
                try_next_address(op);
                return 0;
        }
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        op->handshaking = true;
        int r = tls_session_setup(op->tls);
        if (r < 0) {
                connect_finish(op, r);
                return 0;
        }
        handshake_continue(op);
        return 0;
}

static int watch_fd(AtTlsConnect *op, uint32_t events) {
        if (op->io)
                return sd_event_source_set_io_events(op->io, events);
        int r = sd_event_add_io(op->event, &op->io, op->tls->fd, events, on_connect_io, op);
        if (r >= 0)
                (void) sd_event_source_set_description(op->io, "at-tls-connect");
        return r;
}

static void try_next_address(AtTlsConnect *op) {
        while (op->next) {
                struct addrinfo *ai = op->next;
                op->next = ai->ai_next;

                int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
                if (fd < 0) {
                        op->last_error = -errno;
                        continue;
                }
                if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                        op->last_error = -errno;
                        close(fd);
                        continue;
                }
                op->tls->fd = fd;
                /* writable once connected (or failed): on_connect_io looks at SO_ERROR */
                int r = watch_fd(op, EPOLLOUT);
                if (r < 0)
                        connect_finish(op, r);
                return;
        }
        connect_finish(op, op->last_error ?: -EHOSTUNREACH);
}

static void on_resolved(int error, struct addrinfo *addresses, void *userdata) {
        AtTlsConnect *op = userdata;

        op->resolve = NULL;
        if (error < 0) {
                connect_finish(op, error);
                return;
        }
        op->addresses = op->next = addresses;
        try_next_address(op);
}

static int on_connect_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        AtTlsConnect *op = userdata;
        log_debug("No TLS connection to %s:%u in time (%s).", op->tls->host, op->tls->port,
                  op->resolve ? "resolving" : op->handshaking ? "TLS handshake" : "TCP connect");
        connect_finish(op, -ETIMEDOUT);
        return 0;
}

int at_tls_connect_async(sd_event *event, const char *host, uint16_t port, const char *ca_file, uint64_t timeout_usec,
                         AtTlsConnectHandler handler, void *userdata, AtTlsConnect **ret) {
        AtTlsConnect *op;
        int r;

        if (!event || !handler || !ret)
                return -EINVAL;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (AtTlsConnect) { .event = sd_event_ref(event), .handler = handler, .userdata = userdata };
        r = tls_new(host, port, ca_file, &op->tls);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &op->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_connect_timeout,
                                               op);
        if (r >= 0)
                r = at_resolve_async(event, host, port, on_resolved, op, &op->resolve);
        if (r < 0) {
                at_tls_connect_cancel(op);
                return r;
        }
        *ret = op;
        return 0;
}

static int map_record_error(AtTls *t, ssize_t g) {
        switch (g) {
        case GNUTLS_E_AGAIN:
        case GNUTLS_E_INTERRUPTED:
                return -EAGAIN;
        case GNUTLS_E_PREMATURE_TERMINATION:
        case GNUTLS_E_PULL_ERROR:
        case GNUTLS_E_PUSH_ERROR:
                return -ECONNRESET;
        default:
                log_debug("TLS error on %s:%u: %s", t->host, t->port, gnutls_strerror((int) g));
                return -EPROTO;
        }
}

ssize_t at_tls_read(AtTls *t, void *buf, size_t size) {
        for (unsigned i = 0; i < 16; i++) {
                ssize_t g = gnutls_record_recv(t->session, buf, size);
                if (g >= 0)
                        return g;
                if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED || gnutls_error_is_fatal((int) g))
                        return map_record_error(t, g);
                /* non-fatal (warning alert, rehandshake request): ignore and read on */
        }
        return -EAGAIN;
}

ssize_t at_tls_write(AtTls *t, const void *buf, size_t size) {
        ssize_t g;

        if (t->write_pending > 0) {
                /* GnuTLS keeps the record that would not go out; flush it first. */
                if (size < t->write_pending)
                        return -EINVAL;
                g = gnutls_record_send(t->session, NULL, 0);
                if (g >= 0) {
                        g = (ssize_t) t->write_pending;
                        t->write_pending = 0;
                        return g;
                }
        } else {
                if (size == 0)
                        return 0;
                g = gnutls_record_send(t->session, buf, size);
                if (g >= 0)
                        return g;
                if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED)
                        t->write_pending = size;
        }
        if (g == GNUTLS_E_PUSH_ERROR && (errno == EPIPE))
                return -EPIPE;
        return map_record_error(t, g);
}

bool at_tls_pending(AtTls *t) {
        return gnutls_record_check_pending(t->session) > 0;
}

int at_tls_poll_events(AtTls *t) {
        return gnutls_record_get_direction(t->session) ? POLLOUT : POLLIN;
}

int at_tls_fd(AtTls *t) {
        return t->fd;
}

const char *at_tls_host(AtTls *t) {
        return t->host;
}

uint16_t at_tls_port(AtTls *t) {
        return t->port;
}

void at_tls_free(AtTls *t) {
        if (!t)
                return;
        if (t->session) {
                if (t->established)
                        (void) gnutls_bye(t->session, GNUTLS_SHUT_WR); /* non-blocking: one try */
                gnutls_deinit(t->session);
        }
        if (t->creds)
                gnutls_certificate_free_credentials(t->creds);
        if (t->fd >= 0)
                close(t->fd);
        free(t->host);
        free(t);
}
