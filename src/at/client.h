/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "conn.h"
#include "keys_file.h"
#include "macro.h"
#include "verbs.h"

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
        uint64_t reconnect_min_usec;  /* at_client_start() backoff; 0: 1 s */
        uint64_t reconnect_max_usec;  /* 0: 60 s */
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

/* ---- asynchronous, on an sd_event loop (the daemons): nothing here blocks ---- */

/* A further authenticated connection, made without blocking: root lookup (at_root_lookup_async),
 * TLS (at_tls_connect_async), PKAM/CRAM as asynchronous commands, all within the connect
 * timeout. The handler runs once, from the loop, with error < 0 or 0 and the connection (a
 * reference owned by the handler), attached to event with the command timeout set. The
 * operation is gone when the handler runs. */
typedef struct AtClientConnect AtClientConnect;
typedef void (*AtClientConnectHandler)(int error, AtConn *conn, void *userdata);
int at_client_open_connection_async(AtClient *client, sd_event *event, AtClientConnectHandler handler,
                                    void *userdata, AtClientConnect **ret);
/* The handler is not called. Returns NULL. */
AtClientConnect *at_client_connect_cancel(AtClientConnect *op);

/* Keeps the main connection up on event: connects (asynchronously) from the loop, and after a
 * failed attempt or a lost connection tries again with exponential backoff (reconnect_min_usec
 * doubling to reconnect_max_usec, back to the minimum after a success). The handler, if any, is
 * told each outcome from the loop: 0 connected, < 0 the attempt failed or the connection was
 * lost (a retry is scheduled). Meanwhile at_client_conn() is NULL or a closed connection, on
 * which commands fail at once with -ENOTCONN or the connection's error. */
typedef void (*AtClientStateHandler)(AtClient *client, int error, void *userdata);
int at_client_start(AtClient *client, sd_event *event, AtClientStateHandler handler, void *userdata);
/* After at_client_start(): drops the main connection and connects again now, with a fresh root
 * lookup (SIGHUP). */
int at_client_restart(AtClient *client);
/* Stops keeping connected; the main connection stays as it is. */
void at_client_stop(AtClient *client);
bool at_client_is_connected(AtClient *client);

/* After at_client_start(): the handler runs from the loop once the main connection is up (soon,
 * if it is already), with 0, or with -ETIMEDOUT if it is not up within timeout_usec, or
 * -ECANCELED when the client stops first. So work that arrives while the connection is being
 * remade (a reply to a request the monitor just delivered) waits instead of failing. Without
 * at_client_start(): -ENOTCONN unless connected. */
typedef void (*AtClientReadyHandler)(AtClient *client, int error, void *userdata);
int at_client_when_connected(AtClient *client, uint64_t timeout_usec, AtClientReadyHandler handler, void *userdata);
/* An asynchronous command (at_verb_command_async) on the main connection, once it is up (at
 * most the command timeout later). The handler runs once, from the loop. */
int at_client_command_async(AtClient *client, const char *command, AtVerbDataHandler handler, void *userdata);

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
