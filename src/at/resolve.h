/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <netdb.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"

/* Name resolution that does not stall an sd_event loop. libsystemd 252 does not install
 * sd-resolve.h, and getaddrinfo() blocks, so: a numeric address is converted at once; a name is
 * resolved by getaddrinfo() in a short-lived detached thread that reports through an eventfd.
 * A cancelled lookup's thread finishes on its own and frees what it holds. */

typedef struct AtResolve AtResolve;

/* error < 0 (-EHOSTUNREACH: the name does not resolve) or 0 and the addresses (SOCK_STREAM,
 * owned by the handler: freeaddrinfo). Called once, from the loop, never from within
 * at_resolve_async(); the query is gone when the handler runs. */
typedef void (*AtResolveHandler)(int error, struct addrinfo *addresses, void *userdata);

int at_resolve_async(sd_event *event, const char *host, uint16_t port, AtResolveHandler handler, void *userdata,
                     AtResolve **ret);
/* The handler is not called. Returns NULL. */
AtResolve *at_resolve_cancel(AtResolve *query);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtResolve *, at_resolve_cancel);
