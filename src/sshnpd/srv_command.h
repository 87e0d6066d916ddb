/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdint.h>

#include "messages.h"
#include "session_crypto.h"

/* The command line and environment of the device side of srv for one session (spec §2.4, §4.5,
 * §11.4). Secrets travel in the environment only, never in argv:
 *  - baseline (one key both ways): RV_AES, RV_IV, as 5.x daemons set them;
 *  - twin keys: RV_AES_C2D, RV_IV_C2D, RV_AES_D2C, RV_IV_D2C (upstream srv.dart and srv_impl.dart
 *    newer: the daemon decrypts with C2D and encrypts with D2C);
 *  - RV_AUTH: the relay auth line when the request asks the daemon to authenticate.
 * Nothing is allocated: the values point into the keys and the request. */

typedef struct SrvEnvVar {
        const char *name;
        const char *value;
} SrvEnvVar;

typedef struct SrvCommand {
        const char *argv[20];
        SrvEnvVar env[5];
        unsigned n_env;
        char port[8], relay_port[8], timeout[24];
} SrvCommand;

/* c2d: the session key (required: the daemon always encrypts); d2c: NULL for the baseline. */
void srv_command_build(SrvCommand *c, const NpSessionRequest *req, const char *host, uint16_t port,
                       const SessionKey *c2d, const SessionKey *d2c, const char *auth_line);
/* NULL when not set */
const char *srv_command_getenv(const SrvCommand *c, const char *name);
