/* SPDX-License-Identifier: BSD-3-Clause */
/* An authenticated connection made without blocking the loop: root lookup, TLS, PKAM/CRAM, each
 * step started from the previous one's completion, under one deadline. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client-internal.h"
#include "log.h"
#include "root.h"
#include "tls.h"

struct AtClientConnect {
        AtClient *client;
        sd_event *event;
        AtRootLookup *root;
        AtTlsConnect *tls;
        AtConn *conn;
        sd_event_source *timer;
        char *host;
        uint16_t port;
        bool finished;
        AtClientConnectHandler handler;
        void *userdata;
};

AtClientConnect *at_client_connect_cancel(AtClientConnect *op) {
        if (!op)
                return NULL;
        op->finished = true; /* the authentication callback that closing runs must not finish it */
        at_root_lookup_cancel(op->root);
        at_tls_connect_cancel(op->tls);
        if (op->conn) {
                at_conn_close(op->conn);
                at_conn_unref(op->conn);
        }
        sd_event_source_disable_unref(op->timer);
        sd_event_unref(op->event);
        free(op->host);
        free(op);
        return NULL;
}

static void finish(AtClientConnect *op, int error) {
        AtClientConnectHandler handler = op->handler;
        void *userdata = op->userdata;
        AtConn *conn = NULL;

        if (op->finished)
                return;
        if (error >= 0)
                conn = TAKE_PTR(op->conn);
        at_client_connect_cancel(op);
        handler(error, conn, userdata);
}

static void on_authenticated(AtConn *conn, int error, void *userdata) {
        AtClientConnect *op = userdata;

        if (op->finished)
                return; /* cancelled: the connection was closed under it */
        if (error >= 0)
                log_debug("Connected to %s:%u as %s.", op->host, op->port, op->client->atsign);
        finish(op, error);
}

static void on_tls(int error, AtTls *tls, void *userdata) {
        AtClientConnect *op = userdata;
        AtClient *c = op->client;
        int r;

        op->tls = NULL;
        if (error < 0) {
                log_error_errno(error, "Failed to connect to the atServer of %s at %s:%u: %m", c->atsign, op->host,
                                op->port);
                finish(op, error);
                return;
        }
        r = at_conn_new_from_tls(tls, &op->conn);
        if (r < 0) {
                finish(op, r);
                return;
        }
        at_conn_set_line_max(op->conn, c->line_max);
        at_conn_set_command_timeout(op->conn, c->command_timeout);
        r = at_conn_attach_event(op->conn, op->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                finish(op, r);
                return;
        }
        if (!c->keys && !c->cram_secret) {
                log_debug("Connected to %s:%u as %s (not authenticated).", op->host, op->port, c->atsign);
                finish(op, 0);
                return;
        }
        r = at_auth_async(op->conn, c->atsign, c->keys, c->cram_secret, on_authenticated, op);
        if (r < 0)
                finish(op, r);
}

static int connect_secondary(AtClientConnect *op, const char *host, uint16_t port) {
        AtClient *c = op->client;

        op->host = strdup(host);
        if (!op->host)
                return -ENOMEM;
        op->port = port;
        return at_tls_connect_async(op->event, host, port, c->ca_file, c->connect_timeout, on_tls, op, &op->tls);
}

static void on_root(int error, const char *host, uint16_t port, void *userdata) {
        AtClientConnect *op = userdata;
        int r = error;

        op->root = NULL;
        if (r >= 0)
                r = at_client_set_secondary(op->client, host, port);
        if (r >= 0)
                r = connect_secondary(op, host, port);
        if (r < 0)
                finish(op, r); /* the lookup logged its failure */
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        AtClientConnect *op = userdata;

        log_error("Connecting %s to its atServer took longer than %llu ms (%s).", op->client->atsign,
                  (unsigned long long) (op->client->connect_timeout / 1000),
                  op->root ? "root lookup" : op->tls ? "TLS connect" : "authentication");
        finish(op, -ETIMEDOUT);
        return 0;
}

int at_client_open_connection_async(AtClient *c, sd_event *event, AtClientConnectHandler handler, void *userdata,
                                    AtClientConnect **ret) {
        AtClientConnect *op;
        int r;

        if (!c || !event || !handler || !ret)
                return -EINVAL;
        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        *op = (AtClientConnect) { .client = c, .event = sd_event_ref(event), .handler = handler, .userdata = userdata };
        r = sd_event_add_time_relative(event, &op->timer, CLOCK_MONOTONIC, c->connect_timeout, 0, on_timeout, op);
        if (r >= 0) {
                if (c->fixed_host) {
                        r = at_client_set_secondary(c, c->fixed_host, c->fixed_port);
                        if (r >= 0)
                                r = connect_secondary(op, c->fixed_host, c->fixed_port);
                }
                else
                        r = at_root_lookup_async(event, c->root_host, c->root_port, c->ca_file, c->atsign,
                                                 c->connect_timeout, on_root, op, &op->root);
        }
        if (r < 0) {
                at_client_connect_cancel(op);
                return r;
        }
        *ret = op;
        return 0;
}
