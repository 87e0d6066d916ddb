/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "messages.h"
#include "np_client.h"
#include "srv_spawn.h"

/* One NoPorts session from the client side (spec §4): ping the device, ask the relay for ports,
 * (sshnp) find the remote username, check the device's features, send the signed ssh_request or
 * npt_request with an ephemeral RSA key, check the signed answer, unwrap the session key, start
 * srv on the local port. Every failure is printed in words the user can act on. */

typedef struct NpSessionOptions {
        const char *to;                  /* @d */
        const char *device;
        const char *srvd;                /* @r */
        uint64_t daemon_ping_timeout_usec;
        bool authenticate_client_to_rvd;
        bool authenticate_device_to_rvd;
        bool encrypt_rvd_traffic;
        NpRequestKind kind;
        bool lookup_username;            /* sshnp without -u */
        const char *ssh_public_key;      /* sshnp -s: the public key line to send first */
        const char *requested_host;      /* npt */
        uint16_t requested_port;         /* npt */
        int64_t timeout_ms;              /* npt: sent to the daemon */
        bool require_adjustable_timeout; /* npt with a timeout other than upstream's default */
        const char *local_host;          /* srv's listener; NULL: localhost */
        uint16_t local_port;             /* 0: a free one */
        uint64_t srv_timeout_usec;
        uint64_t heartbeat_usec;         /* npt -H, passed to srv; 0: srv's default */
        bool verbose;
} NpSessionOptions;

typedef struct NpSession {
        uint16_t local_port;
        char *remote_user;               /* when looked up */
        char *session_id;
        bool twin_keys;                  /* the daemon advertised twinKeys: one key per direction */
        SrvProcess srv;
} NpSession;

int np_session_open(NpClient *c, const NpSessionOptions *o, NpSession *ret);
/* Frees the session's memory; srv is left as it is. */
void np_session_done(NpSession *s);

/* Pure helpers (unit-tested). */
/* Lower-case UUID v4 text (36 characters + NUL). */
void np_session_id_new(char ret[37]);
/* Local time as Dart's DateTime.now().toIso8601String(): 2024-06-21T22:30:19.436915 */
int np_nonce_new(char **ret);
/* The feature bits a session needs from the daemon (spec §4 step 4). */
unsigned np_session_required_features(const NpSessionOptions *o);
