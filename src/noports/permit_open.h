/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The daemon's --permit-open list: "host:port" entries separated by commas, '*' allowed for the
 * host or the port. A request for h:p is allowed when the list holds h:p, *:p, h:* or *:*.
 * Matching is textual: "localhost" and "127.0.0.1" differ and names are not resolved.
 * (upstream: noports_core/lib/src/sshnpd/sshnpd_impl.dart, _permittedToOpen;
 *  packages/c/sshnpd/src/permitopen.c) */

#define PERMIT_OPEN_ANY_PORT 0
#define PERMIT_OPEN_DEFAULT "localhost:22,localhost:3389"
#define PERMIT_OPEN_MAX_ENTRIES 256

typedef struct PermitOpenEntry {
        char *host;    /* "*" = any host */
        uint16_t port; /* PERMIT_OPEN_ANY_PORT = any port */
} PermitOpenEntry;

typedef struct PermitOpen {
        PermitOpenEntry *entries;
        size_t n_entries;
} PermitOpen;

/* Parses "h:p,h:p"; blanks around entries are ignored. The port is after the last ':' so that
 * "[::1]:22" works. -EINVAL with a clear reason for: empty host, port not 1-65535 or '*'. */
int permit_open_parse(const char *text, PermitOpen **ret);
/* Adds one "h:p" entry (e.g. from an authoriser's JSON list). */
int permit_open_add(PermitOpen *p, const char *entry);
int permit_open_new(PermitOpen **ret);
bool permit_open_allows(const PermitOpen *p, const char *host, unsigned port);
/* "h:p" text of entry i, with '*' for wildcards (as allowedServices in the ping JSON) */
int permit_open_entry_to_string(const PermitOpen *p, size_t i, char **ret);
void permit_open_free(PermitOpen *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(PermitOpen *, permit_open_free);
