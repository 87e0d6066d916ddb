/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "np_client.h"
#include "session_crypto.h"

/* The client end of the relay: srv with --bind-local-port (spec §2.4, §4 step 7). Secrets go
 * through the environment (RV_AUTH, RV_AES, RV_IV), never argv. srv runs in its own session
 * with SIGPIPE ignored, so it outlives us (-x) and survives our end of its stderr closing. */

typedef struct SrvSpawnParams {
        const char *relay_host;
        uint16_t relay_port;       /* portA */
        const char *local_host;    /* NULL: localhost */
        uint16_t local_port;       /* must be set (np_pick_free_port) */
        bool multi;
        uint64_t timeout_usec;
        const char *rv_auth;       /* auth line without '\n', or NULL */
        const SessionKey *key;     /* NULL: no encryption; else client->device (or both ways) */
        const SessionKey *key_d2c; /* twin keys: device->client; NULL: baseline, one key both ways */
        uint64_t heartbeat_usec;   /* multi mode control-channel heartbeat; 0: srv's default */
        bool verbose;
} SrvSpawnParams;

typedef struct SrvProcess {
        pid_t pid;
        int stderr_fd;             /* our end of srv's stderr */
        bool ready;
        bool exited;
        bool verbose;
        char last_line[512];       /* the last line srv wrote (the reason when it fails) */
        char buf[2048];
        size_t n;
        sd_event_source *io;
} SrvProcess;

/* NOPORTS_SRV, else "srv" beside our own executable, else "srv" on PATH. */
const char *np_srv_path(void);

/* A port the kernel reports free on host right now (bind to port 0, read it, close). */
int np_pick_free_port(const char *host, uint16_t *ret);

/* Starts srv and waits on the loop (up to timeout_usec) for "rv started successfully".
 * Messages printed; on failure srv is gone. */
int srv_process_start(NpClient *c, const SrvSpawnParams *p, uint64_t timeout_usec, SrvProcess *ret);
/* Stops reading srv's stderr (srv keeps running). */
void srv_process_detach(SrvProcess *s);
/* Ends srv (SIGTERM) and reaps it. */
void srv_process_kill(SrvProcess *s);
