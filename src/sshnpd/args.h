/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* sshnpd's command line. Long and short names, aliases and defaults follow upstream
 * noports_core sshnpd/sshnpd_config.dart (SshnpdOption) and config/shared_options.dart;
 * --ca-file is ours (trust anchors for self-hosted atServers). */
typedef struct SshnpdArgs {
        /* atSign options */
        char *atsign;              /* -a, --atsign (mandatory), normalized "@x" */
        char *key_file;            /* -k, --key-file, --keyFile; default ~/.atsign/keys/@x_key.atKeys */
        char *pass_phrase;         /* -P, --pass-phrase, --passPhrase (hidden) */
        char *root_server;         /* --root-server, --root-domain; "root.atsign.org" */
        char *ca_file;             /* --ca-file (ours) */
        /* access control */
        char **managers;           /* -m, --managers, --manager: lower-cased atSigns */
        char *policy_manager;      /* -p, --policy-manager */
        char **permit_open;        /* --permit-open, --po; default localhost:22,localhost:3389 */
        /* device */
        char *device;              /* -d, --device; "default" */
        char *device_group;        /* --device-group, --dg; "__none__" */
        bool hide;                 /* -h, --hide */
        bool un_hide;              /* -u, --un-hide, --username (hidden, default true) */
        /* sshd */
        bool sshpublickey;         /* -s, --sshpublickey */
        char *ssh_client;          /* --ssh-client: openssh | dart */
        uint16_t local_sshd_port;  /* --local-sshd-port; 22 */
        char *sshpublickey_permissions; /* -S, --sshpublickey-permissions (joined with ',') */
        char *ephemeral_permissions;    /* --ephemeral-permissions (joined with ',') */
        char *ssh_algorithm;       /* --ssh-algorithm: ssh-ed25519 | ssh-rsa */
        /* runtime */
        char *storage_path;        /* --storage-path, --storage-dir (accepted, unused) */
        char *config;              /* --config, $SSHNPD_CONFIG */
        bool clear_cached_pks;     /* --clear-cached-pks (hidden) */
        int strict;                /* --[no-]strict; -1 when not given */
        bool verbose;              /* -v, --verbose */
        bool debug;                /* --debug */
        bool help;                 /* --help */
        bool version;              /* --version */
        bool doctor;               /* --doctor */
        bool output;               /* -o, --output */
        /* ours, hidden (not in --help): a test/compat switch. The daemon then neither advertises
         * twinKeys nor honours a request for them: it behaves as a baseline (5.x) daemon, so that
         * tests can check that newer clients fall back to one key for both directions. */
        bool no_twin_keys;         /* --no-twin-keys */
} SshnpdArgs;

/* Fills args from argv. Returns 0 when the daemon should run, 1 when --help or --version was
 * handled (exit 0), -EINVAL after printing a clear message for bad usage (exit 2). */
int sshnpd_args_parse(SshnpdArgs *args, int argc, char **argv);
void sshnpd_args_done(SshnpdArgs *args);
void sshnpd_args_usage(FILE *f);
