/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "macro.h"

/* A GnuTLS client session over a TCP socket. The server certificate is verified against the
 * system CA store, or only against ca_file when given (self-hosted servers, tests); the host name
 * is sent as SNI and verified against the certificate. After at_tls_connect() the socket is
 * non-blocking. */

typedef struct AtTls AtTls;

/* Resolves host, connects (each address in turn) and performs the handshake, all within
 * timeout_usec. Errors: -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH (name resolution failed),
 * -EPERM (certificate verification failed), -ECONNRESET/-EPROTO (TLS failure). */
int at_tls_connect(const char *host, uint16_t port, const char *ca_file, uint64_t timeout_usec, AtTls **ret);

/* The same without blocking, on event: name resolution (resolve.h), a non-blocking TCP connect
 * to each address in turn and the handshake, driven by I/O events, all within timeout_usec.
 * The handler gets the session (owned by it) or the error, once, from the loop; the operation
 * is gone when the handler runs. Errors as above; setup errors (bad CA file) are returned
 * directly. */
typedef struct AtTlsConnect AtTlsConnect;
typedef void (*AtTlsConnectHandler)(int error, AtTls *tls, void *userdata);
int at_tls_connect_async(sd_event *event, const char *host, uint16_t port, const char *ca_file, uint64_t timeout_usec,
                         AtTlsConnectHandler handler, void *userdata, AtTlsConnect **ret);
/* Stops a connect in progress; the handler is not called. Returns NULL. */
AtTlsConnect *at_tls_connect_cancel(AtTlsConnect *op);

/* Non-blocking record I/O. read: >0 bytes, 0 on a clean close (close_notify), -EAGAIN,
 * -ECONNRESET when the peer closed without close_notify (truncated), -EPROTO on TLS errors.
 * write: bytes written (maybe fewer), -EAGAIN (then call again with at least the same bytes at
 * the same address: GnuTLS resends the pending record), -EPIPE/-ECONNRESET/-EPROTO. */
ssize_t at_tls_read(AtTls *tls, void *buf, size_t size);
ssize_t at_tls_write(AtTls *tls, const void *buf, size_t size);

/* Buffered, already decrypted bytes wait inside GnuTLS: poll() on the fd does not see them. */
bool at_tls_pending(AtTls *tls);
/* Which direction an -EAGAIN was waiting for: POLLIN or POLLOUT. */
int at_tls_poll_events(AtTls *tls);
int at_tls_fd(AtTls *tls);
const char *at_tls_host(AtTls *tls);
uint16_t at_tls_port(AtTls *tls);

/* Sends close_notify (best effort, never blocks) and frees. */
void at_tls_free(AtTls *tls);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtTls *, at_tls_free);
