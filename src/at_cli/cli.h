/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "keys_file.h"
#include "shared_key.h"

/* What every at_cli command works with: the options, the keys and a connected client. */
typedef struct Cli {
        const char *atsign;
        char *root_host;
        uint16_t root_port;
        const char *ca_file;
        const char *keys_path;
        bool show_hidden;
        bool json;
        long count;            /* monitor: stop after this many notifications (0: never) */
        uint64_t timeout_usec; /* monitor: stop after this long (0: never) */
        int64_t since_epoch_ms; /* monitor: replay what arrived after this time (0: only new ones) */
        int64_t ttl_ms;        /* put/notify */
        int64_t ttln_ms;       /* notify */

        AtKeys *keys;
        AtClient *client;
        AtSharedKeys *shared_keys;
} Cli;

/* Loads the keys and connects; logs one line naming the atSign and server on failure. */
int cli_connect(Cli *cli);
void cli_done(Cli *cli);
/* One-line failure: "<what> <key> as <atsign> via <host:port>: <reason>" */
int cli_fail(Cli *cli, int error, const char *what, const char *key);

int cli_scan(Cli *cli, const char *regex);
int cli_get(Cli *cli, const char *key);
int cli_put(Cli *cli, const char *key, const char *value);
int cli_delete(Cli *cli, const char *key);
int cli_notify(Cli *cli, const char *recipient, const char *key, const char *value);
int cli_monitor(Cli *cli, const char *regex);
