/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"
#include "response.h"
#include "tls.h"

/* A line-framed atProtocol connection over TLS (AtConn). Two ways of use, not mixed while
 * commands are in flight:
 *  (a) asynchronous on an sd_event loop: at_conn_attach_event(), then at_conn_command_async():
 *      commands are pipelined, responses delivered in FIFO order; unsolicited "notification:"
 *      lines go to the notification handler; a failure (EOF, TLS error, over-long line, command
 *      timeout) calls every pending callback with the error, then the disconnect handler;
 *  (b) blocking, for command-line tools: at_conn_command() runs the same parser with poll().
 * A line longer than the cap (AT_CONN_LINE_MAX_DEFAULT unless changed) is a protocol error that
 * closes the connection (-EMSGSIZE). */

#define AT_CONN_LINE_MAX_DEFAULT (1024U * 1024U)
#define AT_CONN_COMMAND_MAX (8U * 1024U * 1024U)

typedef struct AtConn AtConn;

/* error < 0: the connection failed before the response came (response is NULL);
 * error == 0: response is the server's answer (which may be an "error:" response). The
 * response is only valid during the call. */
typedef void (*AtConnResponseHandler)(AtConn *conn, int error, const AtResponse *response, void *userdata);
/* payload: the text after "notification:" (normally JSON); valid during the call. */
typedef void (*AtConnNotificationHandler)(AtConn *conn, const char *payload, size_t size, void *userdata);
typedef void (*AtConnDisconnectHandler)(AtConn *conn, int error, void *userdata);

/* TLS connect (see at_tls_connect). The connection starts unattached (blocking use). */
int at_conn_connect(const char *host, uint16_t port, const char *ca_file, uint64_t timeout_usec, AtConn **ret);

/* Wraps an established session (at_tls_connect_async()); takes it over, also on failure. */
int at_conn_new_from_tls(AtTls *tls, AtConn **ret);

AtConn *at_conn_ref(AtConn *conn);
AtConn *at_conn_unref(AtConn *conn); /* returns NULL; the last unref closes */
DEFINE_TRIVIAL_CLEANUP_FUNC(AtConn *, at_conn_unref);

void at_conn_set_line_max(AtConn *conn, size_t max);
/* Asynchronous commands unanswered after this long fail the connection with -ETIMEDOUT
 * (responses are matched by order, so there is no way to skip one). 0 = no limit (default). */
void at_conn_set_command_timeout(AtConn *conn, uint64_t usec);
void at_conn_set_notification_handler(AtConn *conn, AtConnNotificationHandler handler, void *userdata);
void at_conn_set_disconnect_handler(AtConn *conn, AtConnDisconnectHandler handler, void *userdata);

int at_conn_attach_event(AtConn *conn, sd_event *event, int64_t priority);
void at_conn_detach_event(AtConn *conn);

/* command: one line without '\n' (a '\n' or '\r' inside is -EINVAL). Queued and written as the
 * socket allows. -ENOTCONN after a failure. */
int at_conn_command_async(AtConn *conn, const char *command, AtConnResponseHandler handler, void *userdata);

/* Queues a command that the server does not answer ("monitor ..."): no response is expected,
 * so later answers stay matched to their commands. Works attached or not (then it is written by
 * the next blocking call). */
int at_conn_send(AtConn *conn, const char *command);

/* Blocking: writes command (NULL: write nothing) and waits up to timeout_usec for the next
 * non-notification response (notification lines that arrive meanwhile go to the notification
 * handler, or are dropped). -ETIMEDOUT (the connection is then failed: the answer would be
 * out of order), -EMSGSIZE, -ECONNRESET, -EPIPE, -EBUSY (async commands pending). */
int at_conn_command(AtConn *conn, const char *command, uint64_t timeout_usec, AtResponse **ret);
/* Same, returning the text of a "data:" answer (newly allocated), or the mapped errno of an
 * "error:" answer (its code and message are then in at_conn_last_error()). */
int at_conn_command_data(AtConn *conn, const char *command, uint64_t timeout_usec, char **ret_data);
/* Blocking wait for the next line of any kind, notifications included (monitor in a tool). */
int at_conn_receive(AtConn *conn, uint64_t timeout_usec, AtResponse **ret);

/* "AT0015: key not found : ..." of the last error: response, or the last failure text; "" if none. */
const char *at_conn_last_error(AtConn *conn);
bool at_conn_is_open(AtConn *conn);
/* The failure that closed it (negative errno), 0 while open. */
int at_conn_error(AtConn *conn);
const char *at_conn_host(AtConn *conn);
uint16_t at_conn_port(AtConn *conn);
/* Closes now: pending callbacks get -ECANCELED; the disconnect handler is not called. */
void at_conn_close(AtConn *conn);

/* The framing, on its own (used by AtConn and the fuzzer): feed bytes, take complete lines. */
typedef struct AtLineBuffer {
        char *data;
        size_t size, allocated, max_line;
        size_t consumed; /* bytes of lines already handed out */
        size_t scanned;  /* bytes after consumed already searched for '\n' */
} AtLineBuffer;

void at_line_buffer_init(AtLineBuffer *b, size_t max_line);
void at_line_buffer_done(AtLineBuffer *b);
int at_line_buffer_append(AtLineBuffer *b, const void *data, size_t size);
/* 1 and a line (without '\n', NUL-terminated, valid until the next call) if one is complete;
 * 0 if more bytes are needed; -EMSGSIZE if the line exceeds max_line. */
int at_line_buffer_next(AtLineBuffer *b, const char **ret_line, size_t *ret_size);
