/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* npt's command line: names, aliases and defaults as upstream sshnoports bin/npt.dart;
 * --ca-file is ours. */
typedef struct NptArgs {
        char *from;               /* -f, --from (mandatory) */
        char *to;                 /* -t, --to (mandatory) */
        char *srvd;               /* -r, --srvd (mandatory) */
        char *device;             /* -d, --device (mandatory) */
        uint16_t local_port;      /* -l, --local-port, --lp; 0 */
        uint16_t remote_port;     /* -p, --remote-port, --rp (mandatory) */
        char *remote_host;        /* -h, --remote-host, --rh; localhost */
        char *local_host;         /* --local-host, --lh; localhost (comma list: first that resolves) */
        char *key_file;           /* -k, --key-file, --keyFile */
        char *root_server;        /* --root-server, --root-domain */
        unsigned daemon_ping_timeout; /* --daemon-ping-timeout, --dpt; 20 */
        bool per_session_storage; /* --[no-]per-session-storage, --pss (accepted) */
        bool verbose;             /* -v */
        bool quiet;               /* -q */
        bool exit_when_connected; /* -x */
        bool keep_alive;          /* -K */
        uint64_t timeout_usec;    /* -T, --timeout; "30s"; "0" = 365 days; -K without -T = 24 h */
        uint64_t heartbeat_usec;  /* -H, --heartbeat; "30m" */
        bool encrypt_rvd_traffic; /* --[no-]encrypt-rvd-traffic, --et; true */
        char *relay_auth_mode;    /* --relay-auth-mode, --ram; payload */
        bool only_443;            /* --443 */
        char *ca_file;            /* --ca-file (ours) */
        bool help;
} NptArgs;

int npt_args_parse(NptArgs *args, int argc, char **argv);
void npt_args_done(NptArgs *args);
void npt_args_usage(FILE *f);
