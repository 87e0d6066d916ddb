/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* sshnp's command line. Names, aliases and defaults follow upstream noports_core
 * sshnp/models/sshnp_arg.dart (SshnpArg.args) and sshnoports lib/src/extended_arg_parser.dart
 * (--ssh-client, -x, -q); --ca-file is ours. */
typedef struct SshnpArgs {
        char *from;                 /* -f, --from (mandatory) */
        char *to;                   /* -t, --to (required unless --list-devices) */
        char *device;               /* -d, --device; "default" */
        char *srvd;                 /* -r, --srvd; hidden legacy -h, --host */
        uint16_t local_port;        /* -l, --local-port; 0 = the kernel picks */
        char *identity_file;        /* -i, --identity-file */
        char *identity_passphrase;  /* --identity-passphrase */
        bool send_ssh_public_key;   /* -s, --send-ssh-public-key */
        char **local_ssh_options;   /* -o, --local-ssh-options (multi, comma split as upstream) */
        bool verbose;               /* -v, --verbose */
        bool quiet;                 /* -q, --quiet */
        char *remote_user_name;     /* -u, --remote-user-name */
        char *tunnel_user_name;     /* -U, --tunnel-user-name */
        char *root_server;          /* --root-server, --root-domain, --rootDomain */
        uint16_t remote_sshd_port;  /* --remote-sshd-port; 22 */
        unsigned idle_timeout;      /* --idle-timeout; 15 */
        char *ssh_algorithm;        /* --ssh-algorithm; ssh-ed25519 */
        bool add_forwards_to_tunnel;/* --add-forwards-to-tunnel */
        char *config_file;          /* --config-file */
        char *key_file;             /* -k, --key-file */
        bool list_devices;          /* --list-devices, --ls */
        bool authenticate_client_to_rvd; /* --[no-]authenticate-client-to-rvd, --ac; true */
        bool authenticate_device_to_rvd; /* --[no-]authenticate-device-to-rvd, --ad; true */
        char *relay_auth_mode;      /* --relay-auth-mode, --ram: payload | escr; payload */
        bool encrypt_rvd_traffic;   /* --[no-]encrypt-rvd-traffic, --et; true */
        unsigned daemon_ping_timeout; /* --daemon-ping-timeout, --dpt; 20 s */
        bool only_443;              /* --[no-]443 */
        char *ssh_client;           /* --ssh-client: openssh | dart */
        bool output_execution_command; /* -x, --output-execution-command */
        char *ca_file;              /* --ca-file (ours) */
        char **remote_command;      /* ours: arguments after the options, run by ssh on the device */
        bool help;
} SshnpArgs;

/* 0: run; 1: --help handled; -EINVAL: bad usage (message printed). */
int sshnp_args_parse(SshnpArgs *args, int argc, char **argv);
void sshnp_args_done(SshnpArgs *args);
void sshnp_args_usage(FILE *f);
