/* SPDX-License-Identifier: BSD-3-Clause */
#include "cli.h"
#include "conn.h"
#include "root.h"
#include "log.h"

int cli_connect(Cli *cli) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!cli->keys_path) {
                r = at_keys_default_path(cli->atsign, &path);
                if (r < 0)
                        return log_error_errno(r, "No keys file for %s: %m", cli->atsign);
                cli->keys_path = path;
        }
        r = at_keys_load(cli->keys_path, &cli->keys);
        if (r < 0)
                return log_error_errno(r, "Cannot load the keys of %s from %s: %m", cli->atsign, cli->keys_path);
        cli->keys_path = NULL; /* path is freed below */

        AtClientOptions o = {
                .atsign = cli->atsign,
                .keys = cli->keys,
                .root_host = cli->root_host,
                .root_port = cli->root_port,
                .ca_file = cli->ca_file,
        };
        r = at_client_new(&o, &cli->client);
        if (r < 0)
                return log_error_errno(r, "Invalid atSign %s: %m", cli->atsign);
        r = at_shared_keys_new(&cli->shared_keys);
        if (r < 0)
                return log_oom();
        r = at_client_connect(cli->client);
        if (r < 0)
                return log_error_errno(r, "Cannot connect %s via root %s:%u: %m", cli->atsign,
                                       cli->root_host ?: AT_ROOT_DEFAULT_HOST,
                                       cli->root_port ?: AT_ROOT_DEFAULT_PORT);
        return 0;
}

void cli_done(Cli *cli) {
        at_shared_keys_free(cli->shared_keys);
        at_client_free(cli->client);
        at_keys_free(cli->keys);
        free(cli->root_host);
}

int cli_fail(Cli *cli, int error, const char *what, const char *key) {
        AtConn *conn = cli->client ? at_client_conn(cli->client) : NULL;
        const char *server_text = conn ? at_conn_last_error(conn) : "";

        return log_error_errno(error, "%s %s as %s via %s:%u failed: %m%s%s", what, key ?: "", cli->atsign,
                               cli->client ? at_client_secondary_host(cli->client) ?: "?" : "?",
                               cli->client ? at_client_secondary_port(cli->client) : 0,
                               server_text && server_text[0] ? " - " : "", server_text ?: "");
}
