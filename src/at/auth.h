/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdint.h>

#include "conn.h"
#include "keys_file.h"

/* Authentication on a fresh connection: "from:<atsign>" gives "data:<challenge>", then
 *  PKAM: "pkam:<base64 RSA-SHA256 signature of the challenge>" with the PKAM private key, or,
 *        when the keys carry an enrollment id (APKAM),
 *        "pkam:signingAlgo:rsa2048:hashingAlgo:sha256:enrollmentId:<id>:<signature>";
 *  CRAM: "cram:<hex SHA-512(secret || challenge)>" (first activation only).
 * Success is "data:success". Errors: -EACCES (rejected), -EPROTO, transport errors. */

/* The command lines, for tests and for servers that check them. */
int at_auth_from_command(const char *atsign, char **ret);
int at_auth_pkam_command(const AtKeys *keys, const char *challenge, char **ret);
int at_auth_cram_command(const char *cram_secret, const char *challenge, char **ret); /* ret: secure memory */

/* Blocking. atsign with or without '@'. */
int at_auth_pkam(AtConn *conn, const char *atsign, const AtKeys *keys, uint64_t timeout_usec);
int at_auth_cram(AtConn *conn, const char *atsign, const char *cram_secret, uint64_t timeout_usec);

/* Asynchronous, for a connection attached to an event loop: PKAM with keys, else CRAM. The
 * handler runs once, from the loop (-ECANCELED when the connection is closed first); failures
 * are logged as above. */
typedef void (*AtAuthHandler)(AtConn *conn, int error, void *userdata);
int at_auth_async(AtConn *conn, const char *atsign, const AtKeys *keys, const char *cram_secret,
                  AtAuthHandler handler, void *userdata);
