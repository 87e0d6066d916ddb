/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "messages.h"
#include "rsa.h"
#include "session_crypto.h"

/* The signed success answer to a session request (spec §5.3). The session key(s) are wrapped
 * with the client's ephemeral RSA key (client_pk: base64 SPKI from the request).
 *  - d2c == NULL (baseline): exactly the 5.x forms, ssh {status, sessionId, ephemeralPrivateKey
 *    (null), sessionAESKey, sessionIV}, npt {status, sessionId, sessionAESKey, sessionIV};
 *  - twin keys: the newest form {status, sessionId, aesKeyC2D, ivC2D, aesKeyD2C, ivD2C,
 *    eventLoggingConfig (null)} (upstream sshnpd_impl.dart newer, startNpt).
 * Returns the envelope text signed with signer (the daemon's encryption key). */
int sshnpd_response_build(NpRequestKind kind, const char *session_id, const char *client_pk, const SessionKey *c2d,
                          const SessionKey *d2c, const AtRsaPrivate *signer, char **ret);
