/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stddef.h>

#include "rsa.h"

/* Payload-mode relay authentication (v5 baseline): the first line each authenticating srv writes
 * on every relay socket, in clear, '\n'-terminated:
 *   {"payload":{"sessionId":S,"clientNonce":C,"rvdNonce":R},"signature":...,"hashingAlgo":"sha256","signingAlgo":"rsa2048"}
 * signed by the atSign of that side. The relay verifies the signature over its own compact
 * serialisation of {"sessionId","clientNonce","rvdNonce"} (in that order) with the values of the
 * session, after checking payload.rvdNonce.
 * (upstream: noports_core/lib/src/srvd/socket_connector.dart, expectedPayloadForSignature;
 *  .../srvd/signature_verifying_socket_authenticator.dart) */

/* Newer relays cap the line at 4096 bytes (upstream relay_auth_verifiers.dart, maxAuthBufferLength) */
#define RELAY_AUTH_MAX_LINE 4096U

/* Builds the line without the trailing newline (what RV_AUTH carries). */
int relay_auth_build(const char *session_id, const char *client_nonce, const char *rvd_nonce,
                     const AtRsaPrivate *key, char **ret);

/* Finds the end of the auth line in the bytes received so far: returns the length of the line
 * (without '\n') when complete, -EAGAIN when more bytes are needed, -EMSGSIZE when no newline
 * appeared within RELAY_AUTH_MAX_LINE bytes. */
int relay_auth_line_length(const char *buf, size_t size);

/* Checks one received line (without '\n') for the session (session_id, client_nonce, rvd_nonce)
 * against key. 0 if valid; -EBADMSG (not an envelope or bad signature), -EPERM (wrong nonce),
 * -EPROTONOSUPPORT (unknown algorithm), -EMSGSIZE. */
int relay_auth_verify(const char *line, size_t size, const char *session_id, const char *client_nonce,
                      const char *rvd_nonce, const AtRsaPublic *key);
