/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <time.h>

#include "log.h"
#include "monitor.h"
#include "notify.h"
#include "secure.h"

typedef struct PendingDecrypt PendingDecrypt;

struct AtMonitor {
        sd_event *event;
        AtClient *client;
        AtSharedKeys *cache;
        char *regex;
        int64_t since_epoch;
        uint64_t heartbeat_usec, heartbeat_timeout_usec, reconnect_min_usec, reconnect_max_usec, backoff_usec;
        bool include_shared_key;
        AtMonitorHandler handler;
        void *userdata;
        AtMonitorStateHandler state_handler;
        void *state_userdata;

        AtConn *conn;
        AtClientConnect *connecting;
        sd_event_source *heartbeat_source, *check_source, *reconnect_source, *fail_source;
        uint64_t last_ok_usec, heartbeat_sent_usec;
        int pending_error;
        int64_t last_epoch, started_epoch;
        bool started;
        PendingDecrypt *pending;
};

/* A notification waiting for its sender's shared key. */
struct PendingDecrypt {
        AtMonitor *monitor; /* NULL once the monitor is gone */
        AtNotification *notification;
        PendingDecrypt *next;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static int64_t now_epoch_millis(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int at_monitor_format_command(const char *regex, int64_t since_epoch_millis, char **ret) {
        _cleanup_free_ char *epoch = NULL;
        char *s;

        if (regex && strpbrk(regex, "\r\n"))
                return -EINVAL;
        if (since_epoch_millis > 0 && asprintf(&epoch, ":%" PRIi64, since_epoch_millis) < 0)
                return -ENOMEM;
        if (asprintf(&s, "monitor%s%s%s", epoch ?: "", regex && regex[0] ? " " : "", regex ?: "") < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int at_monitor_new(sd_event *event, AtClient *client, AtSharedKeys *cache, const AtMonitorOptions *o,
                   AtMonitorHandler handler, void *userdata, AtMonitor **ret) {
        AtMonitor *m;

        if (!event || !client || !cache || !handler)
                return -EINVAL;
        if (o && o->regex && strpbrk(o->regex, "\r\n"))
                return -EINVAL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        *m = (AtMonitor) {
                .event = sd_event_ref(event),
                .client = client,
                .cache = cache,
                .handler = handler,
                .userdata = userdata,
                .since_epoch = o ? o->since_epoch_millis : 0,
                .heartbeat_usec = o && o->heartbeat_usec ? o->heartbeat_usec : AT_MONITOR_HEARTBEAT_USEC_DEFAULT,
                .reconnect_min_usec = o && o->reconnect_min_usec ? o->reconnect_min_usec : 1000000U,
                .reconnect_max_usec = o && o->reconnect_max_usec ? o->reconnect_max_usec : 60000000U,
                .include_shared_key = o && o->include_shared_key,
        };
        /* at_client_sdk monitor.dart: a heartbeat must be answered within a third of the interval */
        m->heartbeat_timeout_usec = o && o->heartbeat_timeout_usec ? o->heartbeat_timeout_usec : m->heartbeat_usec / 3;
        m->backoff_usec = m->reconnect_min_usec;
        if (o && o->regex && o->regex[0] && !(m->regex = strdup(o->regex))) {
                at_monitor_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

void at_monitor_set_state_handler(AtMonitor *m, AtMonitorStateHandler handler, void *userdata) {
        m->state_handler = handler;
        m->state_userdata = userdata;
}

int64_t at_monitor_last_epoch_millis(AtMonitor *m) {
        return m->last_epoch;
}

bool at_monitor_is_connected(AtMonitor *m) {
        return m->conn && at_conn_is_open(m->conn);
}

bool at_monitor_is_connecting(AtMonitor *m) {
        return m->connecting || m->reconnect_source;
}

static void drop_connection(AtMonitor *m) {
        m->heartbeat_source = sd_event_source_disable_unref(m->heartbeat_source);
        m->check_source = sd_event_source_disable_unref(m->check_source);
        if (m->conn) {
                AtConn *c = TAKE_PTR(m->conn);
                at_conn_set_notification_handler(c, NULL, NULL);
                at_conn_set_disconnect_handler(c, NULL, NULL);
                at_conn_close(c);
                at_conn_unref(c);
        }
}

void at_monitor_free(AtMonitor *m) {
        if (!m)
                return;
        drop_connection(m);
        at_client_connect_cancel(m->connecting);
        sd_event_source_disable_unref(m->reconnect_source);
        sd_event_source_disable_unref(m->fail_source);
        for (PendingDecrypt *p = m->pending; p; p = p->next)
                p->monitor = NULL;
        sd_event_unref(m->event);
        free(m->regex);
        free(m);
}

/* ---- delivery ---- */

static void deliver_with_key(AtMonitor *m, const AtNotification *n, const uint8_t *key, int error) {
        _cleanup_free_ char *value = NULL;

        if (error >= 0)
                error = at_notification_decrypt_value(n, key, &value);
        if (error == -ENODATA)
                error = 0;
        if (error < 0)
                log_warning_errno(error, "Cannot decrypt notification %s (%s) from %s: %m", n->id, n->key,
                                  n->from ?: "?");
        m->handler(m, n, value, error, m->userdata);
}

static void pending_remove(AtMonitor *m, PendingDecrypt *p) {
        for (PendingDecrypt **i = &m->pending; *i; i = &(*i)->next)
                if (*i == p) {
                        *i = p->next;
                        return;
                }
}

static void on_shared_key(int error, const uint8_t *key, void *userdata) {
        PendingDecrypt *p = userdata;

        if (p->monitor) {
                pending_remove(p->monitor, p);
                deliver_with_key(p->monitor, p->notification, key, error);
        }
        at_notification_free(p->notification);
        free(p);
}

static void lookup_and_deliver(AtMonitor *m, AtNotification *n) {
        PendingDecrypt *p;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p) {
                deliver_with_key(m, n, NULL, -ENOMEM);
                at_notification_free(n);
                return;
        }
        *p = (PendingDecrypt) { .monitor = m, .notification = n, .next = m->pending };
        m->pending = p;
        r = at_shared_key_for_receiving_async(m->cache, at_client_conn(m->client), at_client_keys(m->client),
                                              n->from, on_shared_key, p);
        if (r < 0) {
                pending_remove(m, p);
                deliver_with_key(m, n, NULL, r);
                at_notification_free(n);
                free(p);
        }
}

static void deliver(AtMonitor *m, AtNotification *n) {
        uint8_t *key;
        int r;

        if (!n->is_encrypted || !n->value) {
                deliver_with_key(m, n, NULL, 0);
                at_notification_free(n);
                return;
        }
        if (!n->from) {
                deliver_with_key(m, n, NULL, -EBADMSG);
                at_notification_free(n);
                return;
        }
        key = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!key) {
                deliver_with_key(m, n, NULL, -ENOMEM);
                at_notification_free(n);
                return;
        }
        r = at_notification_carried_key(n, at_client_keys(m->client), key);
        if (r < 0 && at_shared_keys_get_cached(m->cache, n->from, false, key) >= 0) {
                _cleanup_free_ char *probe = NULL;
                /* a cached key that no longer fits: the sender made a new one; look it up again */
                r = at_notification_decrypt_value(n, key, &probe);
                if (r == -EBADMSG)
                        at_shared_keys_forget(m->cache, n->from);
        }
        if (r >= 0) {
                deliver_with_key(m, n, key, 0);
                at_notification_free(n);
        } else
                lookup_and_deliver(m, n);
        at_secure_free(key);
}

static void on_notification(AtConn *conn, const char *payload, size_t size, void *userdata) {
        AtMonitor *m = userdata;
        AtNotification *n = NULL;
        int r;

        r = at_notification_parse(payload, size, &n);
        if (r < 0) {
                log_warning_errno(r, "Ignoring a malformed notification from %s:%u: %m", at_conn_host(conn),
                                  at_conn_port(conn));
                return;
        }
        m->last_ok_usec = now_usec(); /* any traffic shows the connection is alive */
        if (at_notification_is_heartbeat(n) || (!m->include_shared_key && at_notification_is_shared_key(n))) {
                at_notification_free(n);
                return;
        }
        if (n->epoch_millis > m->last_epoch)
                m->last_epoch = n->epoch_millis;
        deliver(m, n);
}

/* ---- connection life ---- */

static void connect_async(AtMonitor *m);

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AtMonitor *m = userdata;

        m->reconnect_source = sd_event_source_disable_unref(m->reconnect_source);
        connect_async(m);
        return 0;
}

static void schedule_reconnect(AtMonitor *m, int error) {
        int r;

        drop_connection(m);
        if (m->state_handler)
                m->state_handler(m, error, m->state_userdata);
        log_warning_errno(error, "Monitor connection of %s lost (%m); reconnecting in %" PRIu64 " ms",
                          at_client_atsign(m->client), m->backoff_usec / 1000);
        m->reconnect_source = sd_event_source_disable_unref(m->reconnect_source);
        r = sd_event_add_time_relative(m->event, &m->reconnect_source, CLOCK_MONOTONIC, m->backoff_usec, 0,
                                       on_reconnect_timer, m);
        if (r < 0)
                log_error_errno(r, "Cannot schedule the monitor reconnect: %m");
        m->backoff_usec = MIN(m->backoff_usec * 2, m->reconnect_max_usec);
}

/* Failures found inside a connection callback are handled from the loop, not from within it. */
static int on_fail_defer(sd_event_source *s, void *userdata) {
        AtMonitor *m = userdata;

        m->fail_source = sd_event_source_disable_unref(m->fail_source);
        schedule_reconnect(m, m->pending_error);
        return 0;
}

static void fail_later(AtMonitor *m, int error) {
        if (m->fail_source)
                return;
        m->pending_error = error;
        if (sd_event_add_defer(m->event, &m->fail_source, on_fail_defer, m) < 0)
                schedule_reconnect(m, error);
}

/* Answers to heartbeats (noop:0). "monitor" itself has none on success; a refusal of it (bad
 * regex) is an error line that arrives in the slot of the next heartbeat: either way an error
 * answer here means the server will not serve this monitor. */
static void on_response(AtConn *conn, int error, const AtResponse *response, void *userdata) {
        AtMonitor *m = userdata;

        if (error < 0 || conn != m->conn)
                return; /* failures arrive through the disconnect handler */
        if (response->kind == AT_RESPONSE_ERROR) {
                log_error("The atServer %s:%u refused monitoring for %s: %s %s", at_conn_host(conn),
                          at_conn_port(conn), at_client_atsign(m->client), response->error_code,
                          response->text ?: "");
                fail_later(m, response->error ?: -EPROTO);
                return;
        }
        m->last_ok_usec = now_usec();
}

static void on_disconnect(AtConn *conn, int error, void *userdata) {
        AtMonitor *m = userdata;

        if (conn == m->conn)
                fail_later(m, error ?: -ECONNRESET);
}

static int on_check(sd_event_source *s, uint64_t usec, void *userdata) {
        AtMonitor *m = userdata;

        m->check_source = sd_event_source_disable_unref(m->check_source);
        if (m->last_ok_usec < m->heartbeat_sent_usec) {
                log_warning("No heartbeat answer from %s:%u within %" PRIu64 " ms", at_conn_host(m->conn),
                            at_conn_port(m->conn), m->heartbeat_timeout_usec / 1000);
                fail_later(m, -ETIMEDOUT);
        }
        return 0;
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata) {
        AtMonitor *m = userdata;
        int r;

        if (!m->conn)
                return 0;
        m->heartbeat_sent_usec = now_usec();
        r = at_conn_command_async(m->conn, "noop:0", on_response, m);
        if (r < 0) {
                fail_later(m, r);
                return 0;
        }
        m->check_source = sd_event_source_disable_unref(m->check_source);
        r = sd_event_add_time_relative(m->event, &m->check_source, CLOCK_MONOTONIC, m->heartbeat_timeout_usec, 0,
                                       on_check, m);
        if (r < 0)
                return log_error_errno(r, "Cannot arm the heartbeat check: %m");
        r = sd_event_source_set_time_relative(s, m->heartbeat_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ON);
        if (r < 0)
                return log_error_errno(r, "Cannot re-arm the heartbeat: %m");
        return 0;
}

/* "monitor[:<epoch>] <regex>": resume after the newest seen; after a failure before any, from
 * when we started */
static int next_command(AtMonitor *m, char **ret) {
        int64_t from;

        if (m->last_epoch > 0)
                from = m->last_epoch;
        else if (m->started)
                from = m->started_epoch;
        else
                from = m->since_epoch;
        if (!m->started) {
                m->started = true;
                m->started_epoch = m->since_epoch > 0 ? m->since_epoch : now_epoch_millis();
        }
        return at_monitor_format_command(m->regex, from, ret);
}

/* Takes over an authenticated connection (attached to the loop or not) and starts monitoring. */
static int monitor_on(AtMonitor *m, AtConn *connection) {
        _cleanup_(at_conn_unrefp) AtConn *conn = connection;
        _cleanup_free_ char *command = NULL;
        int r;

        r = next_command(m, &command);
        if (r < 0)
                goto fail;
        at_conn_set_notification_handler(conn, on_notification, m);
        at_conn_set_disconnect_handler(conn, on_disconnect, m);
        r = at_conn_attach_event(conn, m->event, 0);
        if (r < 0 && r != -EBUSY)
                goto fail;
        /* "monitor" has no answer on success (at_server monitor_response_handler.dart): sent
         * without a response slot, so heartbeat answers stay matched to their noop commands */
        r = at_conn_send(conn, command);
        if (r < 0)
                goto fail;
        r = sd_event_add_time_relative(m->event, &m->heartbeat_source, CLOCK_MONOTONIC, m->heartbeat_usec, 0,
                                       on_heartbeat, m);
        if (r < 0)
                goto fail;
        m->conn = TAKE_PTR(conn);
        m->last_ok_usec = now_usec();
        m->backoff_usec = m->reconnect_min_usec;
        log_info("Monitoring %s on %s:%u (%s)", at_client_atsign(m->client), at_conn_host(m->conn),
                 at_conn_port(m->conn), command);
        if (m->state_handler)
                m->state_handler(m, 0, m->state_userdata);
        return 0;

fail:
        at_conn_set_notification_handler(conn, NULL, NULL);
        at_conn_set_disconnect_handler(conn, NULL, NULL);
        at_conn_close(conn);
        return r;
}

static void on_connected(int error, AtConn *conn, void *userdata) {
        AtMonitor *m = userdata;

        m->connecting = NULL;
        if (error >= 0)
                error = monitor_on(m, conn);
        if (error < 0)
                schedule_reconnect(m, error);
}

/* Never blocks: the connection is made by at_client_open_connection_async(). */
static void connect_async(AtMonitor *m) {
        int r;

        if (m->connecting)
                return;
        r = at_client_open_connection_async(m->client, m->event, on_connected, m, &m->connecting);
        if (r < 0)
                schedule_reconnect(m, r);
}

int at_monitor_start_async(AtMonitor *m) {
        if (m->conn || m->started || m->connecting)
                return -EALREADY;
        m->reconnect_source = sd_event_source_disable_unref(m->reconnect_source);
        /* from the loop, so that the state handler never runs inside this call */
        return sd_event_add_time_relative(m->event, &m->reconnect_source, CLOCK_MONOTONIC, 0, 1, on_reconnect_timer,
                                          m);
}

int at_monitor_start(AtMonitor *m) {
        AtConn *conn = NULL;
        int r;

        if (m->conn || m->started || m->connecting)
                return -EALREADY;
        r = at_client_open_connection(m->client, &conn);
        if (r < 0)
                return r;
        return monitor_on(m, conn);
}
