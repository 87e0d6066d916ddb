/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "keys_file.h"
#include "macro.h"

/* An authenticated connection to one's own atServer, built from options: root lookup (or a
 * fixed secondary address), TLS connect, then PKAM (keys), CRAM (cram_secret) or nothing. The
 * options are kept (copied), so the client can reconnect and open further connections (the
 * monitor's). */

#define AT_CLIENT_CONNECT_TIMEOUT_DEFAULT (10U * 1000000U)
#define AT_CLIENT_COMMAND_TIMEOUT_DEFAULT (30U * 1000000U)

typedef struct AtClientOptions {
        const char *atsign;           /* "@alice" or "alice"; required */
        const AtKeys *keys;           /* borrowed, must outlive the client; PKAM if set */
        const char *cram_secret;      /* CRAM instead (onboarding), copied to secure memory */
        const char *root_host;        /* NULL: AT_ROOT_DEFAULT_HOST */
        uint16_t root_port;           /* 0: AT_ROOT_DEFAULT_PORT */
        const char *secondary_host;   /* set: skip the root lookup */
        uint16_t secondary_port;
        const char *ca_file;          /* NULL: system CA store */
        uint64_t connect_timeout_usec; /* 0: default */
        uint64_t command_timeout_usec; /* 0: default */
        size_t line_max;              /* 0: AT_CONN_LINE_MAX_DEFAULT */
} AtClientOptions;

typedef struct AtClient AtClient;

/* Checks and copies the options; does not connect. -EINVAL for a bad atSign. */
int at_client_new(const AtClientOptions *options, AtClient **ret);
void at_client_free(AtClient *client);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtClient *, at_client_free);

/* Blocking: resolve, connect, authenticate. Logs what failed (atSign unknown, connect, auth). */
int at_client_connect(AtClient *client);
/* Drops the current connection (if any) and connects again; the root answer is looked up
 * afresh. */
int at_client_reconnect(AtClient *client);
/* A further, separately authenticated connection with the same options (e.g. the monitor's). */
int at_client_open_connection(AtClient *client, AtConn **ret);

/* The main connection (NULL before connect); borrowed. */
AtConn *at_client_conn(AtClient *client);
const char *at_client_atsign(AtClient *client); /* "@alice" */
const AtKeys *at_client_keys(AtClient *client);
uint64_t at_client_command_timeout(AtClient *client);
/* The secondary address last used (after a connect). */
const char *at_client_secondary_host(AtClient *client);
uint16_t at_client_secondary_port(AtClient *client);

/* "alice"/"@alice" -> "@alice" (newly allocated); -EINVAL if empty, too long (> 255), or
 * containing whitespace, ':' or a second '@'. */
int at_atsign_normalize(const char *atsign, char **ret);
