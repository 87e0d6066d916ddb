/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client-internal.h"
#include "log.h"
#include "macro.h"
#include "root.h"
#include "secure.h"

#define ATSIGN_MAX 255

int at_atsign_normalize(const char *atsign, char **ret) {
        if (!atsign)
                return -EINVAL;
        const char *name = atsign[0] == '@' ? atsign + 1 : atsign;
        size_t n = strlen(name);
        if (n == 0 || n > ATSIGN_MAX)
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == ':' || *p == '@' || *p == 0x7f)
                        return -EINVAL;
        char *s = malloc(n + 2);
        if (!s)
                return -ENOMEM;
        s[0] = '@';
        memcpy(s + 1, name, n + 1);
        *ret = s;
        return 0;
}

static int strdup_opt(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int at_client_new(const AtClientOptions *o, AtClient **ret) {
        _cleanup_(at_client_freep) AtClient *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = at_atsign_normalize(o->atsign, &c->atsign);
        if (r < 0)
                return r;
        c->keys = o->keys;
        if (o->cram_secret) {
                c->cram_secret = at_secure_strdup(o->cram_secret);
                if (!c->cram_secret)
                        return -ENOMEM;
        }
        if (strdup_opt(o->root_host ?: AT_ROOT_DEFAULT_HOST, &c->root_host) < 0 ||
            strdup_opt(o->secondary_host, &c->fixed_host) < 0 || strdup_opt(o->ca_file, &c->ca_file) < 0)
                return -ENOMEM;
        c->root_port = o->root_port ?: AT_ROOT_DEFAULT_PORT;
        if (c->fixed_host && o->secondary_port == 0)
                return -EINVAL;
        c->fixed_port = o->secondary_port;
        c->connect_timeout = o->connect_timeout_usec ?: AT_CLIENT_CONNECT_TIMEOUT_DEFAULT;
        c->command_timeout = o->command_timeout_usec ?: AT_CLIENT_COMMAND_TIMEOUT_DEFAULT;
        c->line_max = o->line_max ?: AT_CONN_LINE_MAX_DEFAULT;
        c->reconnect_min = o->reconnect_min_usec ?: 1000000U;
        c->reconnect_max = MAX(o->reconnect_max_usec ?: 60000000U, c->reconnect_min);
        c->backoff = c->reconnect_min;

        *ret = TAKE_PTR(c);
        return 0;
}

void at_client_free(AtClient *c) {
        if (!c)
                return;
        at_client_stop(c);
        at_conn_unref(c->conn);
        free(c->atsign);
        at_secure_free(c->cram_secret);
        free(c->root_host);
        free(c->fixed_host);
        free(c->ca_file);
        free(c->secondary_host);
        free(c);
}

int at_client_set_secondary(AtClient *c, const char *host, uint16_t port) {
        char *h = strdup(host);
        if (!h)
                return -ENOMEM;
        free(c->secondary_host);
        c->secondary_host = h;
        c->secondary_port = port;
        return 0;
}

static int resolve(AtClient *c) {
        _cleanup_free_ char *host = NULL;
        uint16_t port;
        int r;

        if (c->fixed_host) {
                host = strdup(c->fixed_host);
                if (!host)
                        return -ENOMEM;
                port = c->fixed_port;
        } else {
                r = at_root_lookup(c->root_host, c->root_port, c->ca_file, c->atsign, c->connect_timeout, &host, &port);
                if (r < 0)
                        return r; /* logged */
        }
        free(c->secondary_host);
        c->secondary_host = TAKE_PTR(host);
        c->secondary_port = port;
        return 0;
}

static int open_authenticated(AtClient *c, AtConn **ret) {
        _cleanup_(at_conn_unrefp) AtConn *conn = NULL;
        int r;

        r = at_conn_connect(c->secondary_host, c->secondary_port, c->ca_file, c->connect_timeout, &conn);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the atServer of %s at %s:%u: %m", c->atsign,
                                       c->secondary_host, c->secondary_port);
        at_conn_set_line_max(conn, c->line_max);

        if (c->keys)
                r = at_auth_pkam(conn, c->atsign, c->keys, c->command_timeout);
        else if (c->cram_secret)
                r = at_auth_cram(conn, c->atsign, c->cram_secret, c->command_timeout);
        else
                r = 0;
        if (r < 0)
                return r; /* logged */

        log_debug("Connected to %s:%u as %s%s.", c->secondary_host, c->secondary_port, c->atsign,
                  c->keys || c->cram_secret ? "" : " (not authenticated)");
        *ret = TAKE_PTR(conn);
        return 0;
}

int at_client_connect(AtClient *c) {
        int r;

        c->conn = at_conn_unref(c->conn);
        r = resolve(c);
        if (r < 0)
                return r;
        return open_authenticated(c, &c->conn);
}

int at_client_reconnect(AtClient *c) {
        if (c->conn)
                at_conn_close(c->conn);
        c->conn = at_conn_unref(c->conn);
        at_root_cache_clear();
        return at_client_connect(c);
}

int at_client_open_connection(AtClient *c, AtConn **ret) {
        int r;

        if (!c->secondary_host) {
                r = resolve(c);
                if (r < 0)
                        return r;
        }
        return open_authenticated(c, ret);
}

/* ---- kept connected on a loop ---- */

static void client_notify(AtClient *c, int error) {
        if (c->state_handler)
                c->state_handler(c, error, c->state_userdata);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);

static int schedule_connect(AtClient *c, uint64_t delay) {
        int r;

        if (!c->retry) {
                r = sd_event_add_time_relative(c->event, &c->retry, CLOCK_MONOTONIC, delay, 0, on_retry, c);
                if (r >= 0)
                        (void) sd_event_source_set_description(c->retry, "at-client-retry");
                return r;
        }
        r = sd_event_source_set_time_relative(c->retry, delay);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->retry, SD_EVENT_ONESHOT);
        return r;
}

/* After a failure: the next attempt after the current backoff, which then doubles. */
static void schedule_retry(AtClient *c, int error) {
        int r;

        log_warning_errno(error, "No connection to the atServer of %s (%m); retrying in %llu ms", c->atsign,
                          (unsigned long long) (c->backoff / 1000));
        r = schedule_connect(c, c->backoff);
        if (r < 0)
                log_error_errno(r, "Cannot schedule reconnecting %s: %m", c->atsign);
        c->backoff = MIN(c->backoff * 2, c->reconnect_max);
        client_notify(c, error);
}

static void on_main_disconnect(AtConn *conn, int error, void *userdata) {
        AtClient *c = userdata;

        if (conn != c->conn || c->connecting)
                return;
        schedule_retry(c, error ?: -ECONNRESET);
}

typedef struct AtClientWaiter {
        AtClient *client;
        sd_event_source *timer;
        AtClientReadyHandler handler;
        void *userdata;
        struct AtClientWaiter *next;
} AtClientWaiter;

static void waiter_fire(AtClientWaiter *w, int error) {
        AtClient *c = w->client;

        for (AtClientWaiter **i = &c->waiters; *i; i = &(*i)->next)
                if (*i == w) {
                        *i = w->next;
                        break;
                }
        sd_event_source_disable_unref(w->timer);
        w->handler(c, error, w->userdata);
        free(w);
}

/* Fires the waiters there are now (a handler may add new ones: they wait for their own turn). */
static void waiters_fire_all(AtClient *c, int error) {
        AtClientWaiter *list = NULL;

        /* newest first in c->waiters: reversed, so they fire in the order they came */
        while (c->waiters) {
                AtClientWaiter *w = c->waiters;
                c->waiters = w->next;
                w->next = list;
                list = w;
        }
        while (list) {
                AtClientWaiter *w = list;
                list = w->next;
                w->next = c->waiters;
                c->waiters = w; /* so that waiter_fire finds and unlinks it */
                waiter_fire(w, error);
        }
}

static int on_waiter_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AtClientWaiter *w = userdata;
        waiter_fire(w, at_client_is_connected(w->client) ? 0 : -ETIMEDOUT);
        return 0;
}

int at_client_when_connected(AtClient *c, uint64_t timeout_usec, AtClientReadyHandler handler, void *userdata) {
        bool now = at_client_is_connected(c);
        AtClientWaiter *w;
        int r;

        if (!handler)
                return -EINVAL;
        if (!c->event)
                return -ENOTCONN;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (AtClientWaiter) { .client = c, .handler = handler, .userdata = userdata, .next = c->waiters };
        /* accuracy 1 µs: sd-event's default (0) is 250 ms, which delayed every command by that much */
        r = sd_event_add_time_relative(c->event, &w->timer, CLOCK_MONOTONIC, now ? 0 : timeout_usec, 1,
                                       on_waiter_timer, w);
        if (r < 0) {
                free(w);
                return r;
        }
        c->waiters = w;
        return 0;
}

typedef struct DeferredCommand {
        char *command;
        AtVerbDataHandler handler;
        void *userdata;
} DeferredCommand;

static void on_ready_for_command(AtClient *c, int error, void *userdata) {
        DeferredCommand *d = userdata;

        if (error >= 0)
                error = at_verb_command_async(c->conn, d->command, d->handler, d->userdata);
        if (error < 0)
                d->handler(c->conn, error, NULL, d->userdata);
        free(d->command);
        free(d);
}

int at_client_command_async(AtClient *c, const char *command, AtVerbDataHandler handler, void *userdata) {
        DeferredCommand *d;
        int r;

        if (!c->event) /* not kept connected: straight onto the connection, or -ENOTCONN */
                return at_verb_command_async(c->conn, command, handler, userdata);
        d = calloc(1, sizeof(*d));
        if (!d || !(d->command = strdup(command))) {
                free(d);
                return -ENOMEM;
        }
        d->handler = handler;
        d->userdata = userdata;
        r = at_client_when_connected(c, c->command_timeout, on_ready_for_command, d);
        if (r < 0) {
                free(d->command);
                free(d);
        }
        return r;
}

static void on_main_connected(int error, AtConn *conn, void *userdata) {
        AtClient *c = userdata;

        c->connecting = NULL;
        if (error < 0) {
                schedule_retry(c, error);
                return;
        }
        if (c->conn) {
                at_conn_close(c->conn);
                at_conn_unref(c->conn);
        }
        c->conn = conn;
        at_conn_set_disconnect_handler(conn, on_main_disconnect, c);
        c->backoff = c->reconnect_min;
        log_info("Connected to the atServer of %s at %s:%u", c->atsign, at_conn_host(conn), at_conn_port(conn));
        client_notify(c, 0);
        if (c->conn == conn && at_conn_is_open(conn))
                waiters_fire_all(c, 0);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        AtClient *c = userdata;
        int r;

        if (c->connecting)
                return 0;
        r = at_client_open_connection_async(c, c->event, on_main_connected, c, &c->connecting);
        if (r < 0)
                schedule_retry(c, r);
        return 0;
}

int at_client_start(AtClient *c, sd_event *event, AtClientStateHandler handler, void *userdata) {
        if (!c || !event)
                return -EINVAL;
        if (c->event)
                return -EALREADY;
        c->event = sd_event_ref(event);
        c->state_handler = handler;
        c->state_userdata = userdata;
        c->backoff = c->reconnect_min;
        return schedule_connect(c, 0);
}

int at_client_restart(AtClient *c) {
        if (!c->event)
                return -ENOTCONN;
        c->connecting = at_client_connect_cancel(c->connecting);
        if (c->conn)
                at_conn_close(c->conn);
        at_root_cache_clear();
        c->backoff = c->reconnect_min;
        return schedule_connect(c, 0);
}

void at_client_stop(AtClient *c) {
        sd_event *event = TAKE_PTR(c->event); /* first: waiters' handlers cannot wait again */

        waiters_fire_all(c, -ECANCELED);
        c->connecting = at_client_connect_cancel(c->connecting);
        c->retry = sd_event_source_disable_unref(c->retry);
        sd_event_unref(event);
        c->state_handler = NULL;
        if (c->conn)
                at_conn_set_disconnect_handler(c->conn, NULL, NULL);
}

bool at_client_is_connected(AtClient *c) {
        return c && at_conn_is_open(c->conn);
}

AtConn *at_client_conn(AtClient *c) {
        return c->conn;
}

const char *at_client_atsign(AtClient *c) {
        return c->atsign;
}

const AtKeys *at_client_keys(AtClient *c) {
        return c->keys;
}

uint64_t at_client_command_timeout(AtClient *c) {
        return c->command_timeout;
}

const char *at_client_secondary_host(AtClient *c) {
        return c->secondary_host;
}

uint16_t at_client_secondary_port(AtClient *c) {
        return c->secondary_port;
}
