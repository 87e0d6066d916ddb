/* SPDX-License-Identifier: BSD-3-Clause */
#include "activate.h"

#include "conn.h"
#include "key.h"
#include "log.h"

int activate_connect(const ActivateOptions *o, const AtKeys *keys, const char *cram_secret, AtClient **ret) {
        _cleanup_(at_client_freep) AtClient *client = NULL;
        AtClientOptions co;
        int r;

        activate_client_options(o, &co);
        co.keys = keys;
        co.cram_secret = cram_secret;
        r = at_client_new(&co, &client);
        if (r < 0)
                return log_error_errno(r, "Failed to set up a client for %s: %m", o->atsign);
        r = at_client_connect(client); /* logs what failed */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(client);
        return 0;
}

int activate_load_keys(const ActivateOptions *o, AtKeys **ret) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = activate_keys_path(o, &path);
        if (r < 0)
                return log_error_errno(r, "Failed to find the keys file of %s: %m", o->atsign);
        r = at_keys_load(path, &keys);
        if (r < 0)
                return log_error_errno(r, "Failed to load the keys file %s for %s: %m", path, o->atsign);
        if (keys->atsign && !at_atsign_equal(keys->atsign, o->atsign))
                return log_error_errno(EINVAL, "The keys file %s belongs to %s, not %s.", path, keys->atsign, o->atsign);
        if (!keys->pkam_private)
                return log_error_errno(EINVAL, "The keys file %s has no PKAM private key.", path);
        *ret = TAKE_PTR(keys);
        return 0;
}

int activate_send(AtClient *client, const char *what, const char *command, char **ret_data) {
        AtConn *conn = at_client_conn(client);
        char *data = NULL;
        int r;

        r = at_conn_command_data(conn, command, at_client_command_timeout(client), &data);
        if (r < 0) {
                const char *e = at_conn_last_error(conn);
                if (e && *e)
                        return log_error_errno(r, "Failed to %s for %s at %s:%u: %s", what, at_client_atsign(client),
                                               at_conn_host(conn), at_conn_port(conn), e);
                return log_error_errno(r, "Failed to %s for %s at %s:%u: %m", what, at_client_atsign(client),
                                       at_conn_host(conn), at_conn_port(conn));
        }
        if (ret_data)
                *ret_data = data;
        else
                free(data);
        return 0;
}
