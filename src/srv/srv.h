/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "session_crypto.h"

/* srv: one end of a relayed session (upstream noports_core srv_impl.dart, SrvImplDart).
 *  - client side (--bind-local-port): listens on local-host:local-port; each local connection
 *    gets a relay socket to host:port (portA);
 *  - daemon side: dials the relay (portB) and local-host:local-port.
 * Single mode: one connection. Multi mode: a control channel first, then one relay socket per
 * connection announced on it (control.h). Every relay socket starts with the auth line. */

typedef struct SrvConfig {
        const char *host;
        uint16_t port;
        const char *local_host;
        uint16_t local_port;
        bool bind_local_port; /* client side */
        bool multi;
        uint64_t timeout_usec; /* grace: end if nothing connects within it, then when the last closes */
        uint64_t heartbeat_usec; /* client multi with twin keys: heartbeat:<n> period; 0 = none */
        const char *rv_auth;   /* relay auth line without '\n', or NULL */
        SessionKey *c2d, *d2c; /* NULL = clear; d2c NULL = baseline (c2d both ways) */
} SrvConfig;

/* Runs until the session ends; prints "rv started successfully" on stderr when ready.
 * Returns 0, or a negative errno for a failure to start. */
int srv_run(const SrvConfig *config);
