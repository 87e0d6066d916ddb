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
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "log.h"
#include "macro.h"
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

int at_tls_connect(const char *host, uint16_t port, const char *ca_file, uint64_t timeout_usec, AtTls **ret) {
        _cleanup_(at_tls_freep) AtTls *t = NULL;
        uint64_t deadline = now_usec() + timeout_usec;
        int r, g;

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

        r = tcp_connect(host, port, deadline);
        if (r < 0)
                return r;
        t->fd = r;

        if (gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0)
                return -ENOMEM;
        if (gnutls_set_default_priority(t->session) < 0 ||
            gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->creds) < 0)
                return -EIO;
        /* SNI carries DNS names only; the certificate is checked against the name or address. */
        if (!is_ip_literal(host) && gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, host, strlen(host)) < 0)
                return -EINVAL;
        gnutls_session_set_verify_cert(t->session, host, 0);
        gnutls_transport_set_int(t->session, t->fd);

        for (;;) {
                g = gnutls_handshake(t->session);
                if (g == GNUTLS_E_SUCCESS)
                        break;
                if (g != GNUTLS_E_AGAIN && g != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(g))
                        return handshake_error(t, g);
                r = wait_fd(t->fd, gnutls_record_get_direction(t->session) ? POLLOUT : POLLIN, deadline);
                if (r < 0)
                        return r;
        }
        t->established = true;

        *ret = TAKE_PTR(t);
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
