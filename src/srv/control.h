/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "session_crypto.h"

/* Multi mode's control channel (npt): after its relay auth line, the client sends one line per
 * new connection, encrypted with the session key stream when e2ee:
 *   connect:<keyC2D>:<ivC2D>\n                       baseline: one key both ways
 *   connect:<keyC2D>:<ivC2D>:<keyD2C>:<ivD2C>\n      twin keys
 *   connect:no:encrypt\n                             clear traffic
 *   heartbeat:<n>\n                                  newer clients; ignored
 * Clients before 5.6.1 sent no newline; the daemon then takes whole 77-byte messages
 * (7 + 1 + 44 + 1 + 24). (upstream: noports_core srv_impl.dart _startDaemonControlSocketListener,
 * _handleControlMessage, _clientSideEncryptedSocket) */

#define CONTROL_MAX_LINE 4096U
#define CONTROL_LEGACY_SIZE 77U

typedef enum ControlKind {
        CONTROL_CONNECT_CLEAR,
        CONTROL_CONNECT_KEYS,
        CONTROL_HEARTBEAT,
} ControlKind;

typedef struct ControlMessage {
        ControlKind kind;
        SessionKey *c2d, *d2c; /* CONNECT_KEYS; d2c NULL without twin keys */
} ControlMessage;

/* Parses one message (without '\n', surrounding blanks ignored). -EBADMSG if malformed. */
int control_parse(const char *text, size_t size, ControlMessage *ret);
void control_message_done(ControlMessage *m);
/* The line for a new connection (with '\n'); d2c NULL for the baseline form, c2d NULL for clear. */
int control_format_connect(const SessionKey *c2d, const SessionKey *d2c, char **ret);

/* Accumulates decrypted control bytes and hands out complete messages. */
typedef struct ControlReader {
        char buf[CONTROL_MAX_LINE];
        size_t size;
        bool seen_newline;
} ControlReader;

/* Appends data; then call control_reader_next() until it returns 0. Returns -EMSGSIZE if a line
 * exceeds CONTROL_MAX_LINE. */
int control_reader_feed(ControlReader *r, const void *data, size_t size);
/* 1 and the message text (NUL-terminated) in out, its length in ret_size (valid until the next call) when one is complete. */
int control_reader_next(ControlReader *r, char *out, size_t out_size, size_t *ret_size);
