/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "srv_command.h"

#define SSH_SRV_TIMEOUT_S 30 /* upstream sshnp passes 30 s */

static void env_add(SrvCommand *c, const char *name, const char *value) {
        c->env[c->n_env++] = (SrvEnvVar){ name, value };
}

void srv_command_build(SrvCommand *c, const NpSessionRequest *req, const char *host, uint16_t port,
                       const SessionKey *c2d, const SessionKey *d2c, const char *auth_line) {
        unsigned n = 0;

        *c = (SrvCommand){};
        snprintf(c->port, sizeof(c->port), "%u", port);
        snprintf(c->relay_port, sizeof(c->relay_port), "%u", req->relay_port);
        snprintf(c->timeout, sizeof(c->timeout), "%lld",
                 (long long) (req->kind == NP_REQUEST_NPT ? MAX(req->timeout_ms / 1000, 1) : SSH_SRV_TIMEOUT_S));
        c->argv[n++] = "srv";
        c->argv[n++] = "-h";
        c->argv[n++] = req->relay_host;
        c->argv[n++] = "-p";
        c->argv[n++] = c->relay_port;
        c->argv[n++] = "--local-port";
        c->argv[n++] = c->port;
        c->argv[n++] = "--local-host";
        c->argv[n++] = host;
        c->argv[n++] = "--timeout";
        c->argv[n++] = c->timeout;
        if (req->kind == NP_REQUEST_NPT)
                c->argv[n++] = "--multi";
        if (auth_line)
                c->argv[n++] = "--rv-auth";
        if (c2d)
                c->argv[n++] = "--rv-e2ee";
        c->argv[n] = NULL;

        if (c2d && d2c) {
                env_add(c, "RV_AES_C2D", c2d->key_b64);
                env_add(c, "RV_IV_C2D", c2d->iv_b64);
                env_add(c, "RV_AES_D2C", d2c->key_b64);
                env_add(c, "RV_IV_D2C", d2c->iv_b64);
        } else if (c2d) {
                env_add(c, "RV_AES", c2d->key_b64);
                env_add(c, "RV_IV", c2d->iv_b64);
        }
        if (auth_line)
                env_add(c, "RV_AUTH", auth_line);
}

const char *srv_command_getenv(const SrvCommand *c, const char *name) {
        for (unsigned i = 0; i < c->n_env; i++)
                if (streq(c->env[i].name, name))
                        return c->env[i].value;
        return NULL;
}
