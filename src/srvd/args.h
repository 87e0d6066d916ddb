/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* srvd's command line: names, aliases and defaults as upstream noports_core
 * srvd/srvd_config.dart (SrvdOption) and config/shared_options.dart. Ours: -m takes a
 * comma-separated allow-list (upstream: one atSign), --port-range and --ca-file. */
typedef struct SrvdArgs {
        char *atsign;            /* -a, --atsign (mandatory) */
        char *root_server;       /* --root-server, --root-domain; root.atsign.org */
        char *key_file;          /* -k, --key-file, --keyFile */
        char *storage_path;      /* --storage-path, --storage-dir (accepted) */
        char *pass_phrase;       /* -P, --pass-phrase, --passPhrase (hidden) */
        char **managers;         /* -m, --manager: allowed requesters; NULL = anyone ("open") */
        char *ip;                /* -i, --ip (mandatory): the host given to clients, verbatim */
        uint16_t bind_port;      /* --bindPort, --443-bind-port; 443 */
        bool bind_443;           /* --bind443, --443 */
        bool log_traffic;        /* --[no-]logTraffic; true */
        bool per_session_storage;/* --[no-]perSessionStorage; true (accepted) */
        uint16_t port_min, port_max; /* --port-range LOW-HIGH (ours); 0-0 = the kernel's ephemeral range */
        char *ca_file;           /* --ca-file (ours) */
        char *config;            /* --config */
        bool verbose, debug, help, version;
} SrvdArgs;

int srvd_args_parse(SrvdArgs *args, int argc, char **argv);
void srvd_args_done(SrvdArgs *args);
void srvd_args_usage(FILE *f);
/* Whether atsign (normalized) may request sessions. */
bool srvd_args_allows(const SrvdArgs *args, const char *atsign);
