/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"

/* Root (directory) lookup: TLS to the root server, send the atSign without '@', read
 * "host:port" (the atServer of that atSign) or "null" (unknown atSign). Answers are cached in
 * the process for AT_ROOT_CACHE_USEC. */

#define AT_ROOT_DEFAULT_HOST "root.atsign.org"
#define AT_ROOT_DEFAULT_PORT 64
#define AT_ROOT_CACHE_USEC (10U * 60U * 1000000U)

/* "host:port" -> host (newly allocated) and port (1..65535); -EINVAL otherwise. "[v6]:port"
 * is accepted too. */
int at_host_port_parse(const char *s, char **ret_host, uint16_t *ret_port);

/* Parses a root server answer line (prompts and "data:" are tolerated, "\r" dropped):
 * "host:port" -> 0; "null" -> -ENXIO; anything else -> -EPROTO. */
int at_root_parse_answer(const char *line, char **ret_host, uint16_t *ret_port);

/* atsign with or without '@'. root_host NULL -> default, root_port 0 -> default, ca_file NULL ->
 * system store. -ENXIO (logged) when the root server does not know the atSign. */
int at_root_lookup(const char *root_host, uint16_t root_port, const char *ca_file, const char *atsign,
                   uint64_t timeout_usec, char **ret_host, uint16_t *ret_port);

/* The same on event, without blocking (TLS connect as at_tls_connect_async(), the answer as an
 * asynchronous command), all within timeout_usec. The handler runs once, from the loop (also for
 * a cached answer); host is valid during the call; the lookup is gone when it runs. */
typedef struct AtRootLookup AtRootLookup;
typedef void (*AtRootLookupHandler)(int error, const char *host, uint16_t port, void *userdata);
int at_root_lookup_async(sd_event *event, const char *root_host, uint16_t root_port, const char *ca_file,
                         const char *atsign, uint64_t timeout_usec, AtRootLookupHandler handler, void *userdata,
                         AtRootLookup **ret);
/* The handler is not called. Returns NULL. */
AtRootLookup *at_root_lookup_cancel(AtRootLookup *lookup);

void at_root_cache_clear(void);
