/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "relay.h"

/* Read-only views of the relay engine's sessions for the D-Bus interface. These read the
 * engine's structs (relay-internal.h); they go once the engine exports the same (see
 * /work/notes/bugs.md, "requests for relay"). */
SrvdSession *srvd_info_first_session(const SrvdRelay *relay);
SrvdSession *srvd_info_next_session(const SrvdSession *s);
/* The first live session with this id, or NULL. */
SrvdSession *srvd_info_find_session(const SrvdRelay *relay, const char *id);
/* side 0 = A (the client), 1 = B (the daemon) */
const char *srvd_info_atsign(const SrvdSession *s, int side);
bool srvd_info_authenticates(const SrvdSession *s, int side);
/* Spliced connections: now open, and ever joined */
unsigned srvd_info_n_connections(const SrvdSession *s);
unsigned srvd_info_n_connections_total(const SrvdSession *s);
