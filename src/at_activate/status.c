/* SPDX-License-Identifier: BSD-3-Clause */
/* "status": how far an atSign is activated, as an exit code
 * (at_onboarding_cli/lib/src/cli/auth_cli.dart status()). */
#include "activate.h"
#include "conn.h"
#include "log.h"
#include "root.h"

enum {
        STATUS_ACTIVATED = 0,
        STATUS_NO_PUBLIC_KEY = 1,
        STATUS_SERVER_UNREACHABLE = 2,
        STATUS_UNKNOWN_ATSIGN = 3,
        STATUS_ROOT_UNREACHABLE = 4,
        STATUS_KEYS_REFUSED = 5, /* ours: "status -k FILE" and that file cannot log in */
};

/* Ours: with -k, prove the keys file still logs in (PKAM, with its enrollment id). */
static int check_login(const ActivateOptions *o) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        _cleanup_(at_client_freep) AtClient *client = NULL;
        int r;

        r = activate_load_keys(o, &keys);
        if (r >= 0)
                r = activate_connect(o, keys, NULL, &client);
        if (r < 0) {
                log_error("%s: the keys file %s cannot log in.", o->atsign, o->keys_file);
                return STATUS_KEYS_REFUSED;
        }
        printf("%s: the keys file %s logs in (enrollment %s).\n", o->atsign, o->keys_file,
               keys->enrollment_id ?: "none, legacy PKAM");
        return STATUS_ACTIVATED;
}

int activate_status(const ActivateOptions *o) {
        _cleanup_(at_conn_unrefp) AtConn *conn = NULL;
        _cleanup_free_ char *host = NULL, *command = NULL, *data = NULL;
        uint16_t port;
        int r;

        r = at_root_lookup(o->root_host, o->root_port, o->ca_file, o->atsign, AT_CLIENT_CONNECT_TIMEOUT_DEFAULT,
                           &host, &port);
        if (r == -ENXIO) {
                log_error("%s: the root server has no record of this atSign.", o->atsign);
                return STATUS_UNKNOWN_ATSIGN;
        }
        if (r < 0) {
                log_error_errno(r, "%s: the root server %s:%u cannot be reached: %m", o->atsign,
                                o->root_host ?: AT_ROOT_DEFAULT_HOST, o->root_port ?: AT_ROOT_DEFAULT_PORT);
                return STATUS_ROOT_UNREACHABLE;
        }

        r = at_conn_connect(host, port, o->ca_file, AT_CLIENT_CONNECT_TIMEOUT_DEFAULT, &conn);
        if (r < 0) {
                log_error_errno(r, "%s: its atServer %s:%u cannot be reached: %m", o->atsign, host, port);
                return STATUS_SERVER_UNREACHABLE;
        }
        if (asprintf(&command, "lookup:publickey%s", o->atsign) < 0) {
                log_oom();
                return STATUS_SERVER_UNREACHABLE;
        }
        r = at_conn_command_data(conn, command, AT_CLIENT_COMMAND_TIMEOUT_DEFAULT, &data);
        if (r < 0 && !at_conn_is_open(conn)) {
                log_error_errno(r, "%s: its atServer %s:%u did not answer: %m", o->atsign, host, port);
                return STATUS_SERVER_UNREACHABLE;
        }
        if (r < 0) {
                log_error("%s: not activated (no public:publickey at %s:%u: %s).", o->atsign, host, port,
                          at_conn_last_error(conn));
                return STATUS_NO_PUBLIC_KEY;
        }
        printf("%s is activated (atServer %s:%u).\n", o->atsign, host, port);
        if (o->keys_file)
                return check_login(o);
        return STATUS_ACTIVATED;
}
