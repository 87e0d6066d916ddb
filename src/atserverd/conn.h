/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <systemd/sd-event.h>

/* One TLS connection on the event loop, as a stream of '\n'-terminated lines: non-blocking
 * GnuTLS, buffers that start empty and grow on demand up to a cap (so 1,000 idle connections
 * cost little), an idle timer, and close-after-flush. Used for inbound clients (server side)
 * and for server-to-server connections (client side). */

typedef struct AtsConn AtsConn;

typedef struct AtsConnCallbacks {
        /* A complete line without '\n' (NUL-terminated, len excludes NUL). */
        void (*on_line)(AtsConn *c, char *line, size_t len, void *userdata);
        /* The TLS handshake finished. */
        void (*on_ready)(AtsConn *c, void *userdata);
        /* A line grew past the cap: the owner answers and closes. */
        void (*on_overflow)(AtsConn *c, void *userdata);
        /* The idle timer fired. */
        void (*on_idle)(AtsConn *c, void *userdata);
        /* The connection is gone (peer closed, error, or ats_conn_close finished); the owner
         * frees it with ats_conn_free() (possibly from this callback). */
        void (*on_close)(AtsConn *c, int error, void *userdata);
} AtsConnCallbacks;

/* Takes ownership of fd. server: GNUTLS_SERVER with cred; otherwise a client that verifies the
 * peer against cred's trust and hostname. */
int ats_conn_new(sd_event *e, int fd, bool server, gnutls_certificate_credentials_t cred,
                 const char *hostname, size_t max_line, const AtsConnCallbacks *cb, void *userdata,
                 AtsConn **ret);
void ats_conn_free(AtsConn *c);

/* Queues bytes for sending (copied). */
int ats_conn_write(AtsConn *c, const void *data, size_t size);
int ats_conn_printf(AtsConn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flushes what is queued, then closes. */
void ats_conn_close(AtsConn *c);
/* (Re)arms the idle timer; 0 disables it. */
int ats_conn_set_idle(AtsConn *c, uint64_t usec);
/* Stops delivering lines (e.g. while a command is in progress) / resumes. */
void ats_conn_pause(AtsConn *c, bool pause);

const char *ats_conn_peer(AtsConn *c); /* "1.2.3.4:5678" */
const char *ats_conn_peer_ip(AtsConn *c);
bool ats_conn_is_closing(AtsConn *c);
/* Bytes queued for sending and not sent yet. */
size_t ats_conn_pending(AtsConn *c);
void *ats_conn_userdata(AtsConn *c);
void ats_conn_set_userdata(AtsConn *c, void *userdata);
