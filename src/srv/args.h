/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "srv.h"

/* srv's command line and environment, as upstream sshnoports/bin/srv.dart:
 *   -h/--host, -p/--port (mandatory), --local-port (22), --local-host (localhost),
 *   --bind-local-port, --timeout (60 s), --multi, --rv-auth (+ RV_AUTH),
 *   -a/--relay-auth-mode payload (escr is not supported), --rv-e2ee (+ RV_AES_C2D/RV_IV_C2D or
 *   the older RV_AES/RV_IV; twin keys RV_AES_D2C/RV_IV_D2C), --heartbeat (1800 s), -v.
 * Secrets come from the environment only (argv is world-readable). */
typedef struct SrvArgs {
        SrvConfig config;
        char *rv_auth; /* owned copy of RV_AUTH */
        bool verbose, help;
} SrvArgs;

/* 0 on success; -EINVAL with the reason logged. */
int srv_args_parse(SrvArgs *args, int argc, char **argv);
void srv_args_done(SrvArgs *args);
void srv_args_usage(FILE *f);
