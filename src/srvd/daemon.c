/* SPDX-License-Identifier: BSD-3-Clause */
/* srvd's shell: event loop, signals, sd_notify, atServer connections (kept up by the library,
 * asynchronously, with backoff). */
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "cli.h"
#include "log.h"
#include "srvd.h"

static bool serving(Srvd *s) {
        return at_monitor_is_connected(s->monitor) && at_client_is_connected(s->cmd);
}

static void notify_status(Srvd *s, bool ready) {
        unsigned n = s->relay ? srvd_relay_n_sessions(s->relay) : 0;
        (void) sd_notifyf(false, "%sSTATUS=%s; %u session%s", ready ? "READY=1\n" : "",
                          serving(s) ? "Serving" : "Connecting to the atServer", n, n == 1 ? "" : "s");
}

static void on_relay_changed(SrvdRelay *relay, void *userdata) {
        srvd_bus_sessions_changed(userdata);
        notify_status(userdata, false);
}

static void on_notification(AtMonitor *m, const AtNotification *n, const char *value, int error, void *userdata) {
        srvd_handle_notification(userdata, n, value);
}

/* Each time both connections are up (again). */
static void check_serving(Srvd *s) {
        if (serving(s))
                log_fields(LOG_INFO, 0, FIELDS(s->atsign_field), "srvd %s: monitor started, relaying for %s",
                           s->args->atsign, s->args->ip);
        notify_status(s, true);
}

static void on_monitor_state(AtMonitor *m, int error, void *userdata) {
        if (error < 0)
                log_warning_errno(error, "atServer monitor connection down, reconnecting: %m");
        check_serving(userdata);
}

static void on_client_state(AtClient *client, int error, void *userdata) {
        check_serving(userdata);
}

/* A new monitor (at start and reload); it connects on its own, from the loop, never blocking. */
static int monitor_begin(Srvd *s) {
        /* upstream srvd subscribes to "sshrvd@" */
        AtMonitorOptions mo = { .regex = "sshrvd@" };
        int r;

        at_monitor_free(s->monitor);
        s->monitor = NULL;
        r = at_monitor_new(s->event, s->cmd, s->shared_keys, &mo, on_notification, s, &s->monitor);
        if (r < 0)
                return r;
        at_monitor_set_state_handler(s->monitor, on_monitor_state, s);
        return at_monitor_start_async(s->monitor);
}

static int on_exit_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Srvd *s = userdata;
        log_info("Received %s, stopping", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        return sd_event_exit(s->event, 0);
}

int srvd_reload(Srvd *s) {
        log_info("Reloading: reconnecting to the atServer");
        (void) sd_notify(false, "RELOADING=1");
        /* a failure is retried with backoff; only failing to schedule that is an error */
        int r = at_client_restart(s->cmd);
        if (r >= 0)
                r = monitor_begin(s);
        return r;
}

static int on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        (void) srvd_reload(userdata);
        return 0;
}

static int parse_root(const char *root, char **ret_host, uint16_t *ret_port) {
        const char *colon = strrchr(root, ':');
        *ret_port = 64;
        if (colon && cli_parse_port(colon + 1, false, ret_port) >= 0)
                *ret_host = strndup(root, (size_t) (colon - root));
        else
                *ret_host = strdup(root);
        return *ret_host ? 0 : -ENOMEM;
}

int srvd_new(SrvdArgs *args, Srvd **ret) {
        _cleanup_(srvd_freep) Srvd *s = NULL;
        _cleanup_free_ char *root_host = NULL;
        SrvdRelayConfig rc = {};
        AtClientOptions o = {};
        sigset_t mask;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        s->args = args;
        if (asprintf(&s->atsign_field, "NOPORTS_ATSIGN=%s", args->atsign) < 0)
                return log_oom();
        r = sd_event_default(&s->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        if ((r = sd_event_add_signal(s->event, NULL, SIGTERM, on_exit_signal, s)) < 0 ||
            (r = sd_event_add_signal(s->event, NULL, SIGINT, on_exit_signal, s)) < 0 ||
            (r = sd_event_add_signal(s->event, NULL, SIGHUP, on_sighup, s)) < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        rc.port_min = args->port_min;
        rc.port_max = args->port_max;
        r = srvd_relay_new(s->event, &rc, &s->relay);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the relay: %m");
        srvd_relay_set_changed_callback(s->relay, on_relay_changed, s);
        (void) srvd_bus_setup(s);

        r = at_keys_load(args->key_file, &s->keys);
        if (r < 0)
                return log_error_errno(r, "Cannot load the keys of %s from %s: %m", args->atsign, args->key_file);
        if (parse_root(args->root_server, &root_host, &o.root_port) < 0)
                return log_oom();
        o.atsign = args->atsign;
        o.keys = s->keys;
        o.root_host = root_host;
        o.ca_file = args->ca_file;
        if ((r = at_client_new(&o, &s->cmd)) < 0 || (r = at_shared_keys_new(&s->shared_keys)) < 0)
                return log_error_errno(r, "Cannot set up the atProtocol client: %m");
        *ret = TAKE_PTR(s);
        return 0;
}

Srvd *srvd_free(Srvd *s) {
        if (!s)
                return NULL;
        at_monitor_free(s->monitor);
        sd_bus_flush_close_unref(s->bus);
        srvd_relay_free(s->relay);
        srvd_session_watch_clear(&s->watch);
        /* closing the connection ends the commands in flight (-ECANCELED) while s still exists */
        at_client_free(s->cmd);
        at_shared_keys_free(s->shared_keys);
        at_keys_free(s->keys);
        sd_event_unref(s->event);
        free(s->atsign_field);
        free(s);
        return NULL;
}

int srvd_run(Srvd *s) {
        int r;

        /* nothing here blocks: the connections are made from the loop and kept up with backoff */
        r = at_client_start(s->cmd, s->event, on_client_state, s);
        if (r >= 0)
                r = monitor_begin(s);
        if (r < 0)
                return log_error_errno(r, "Cannot schedule the atServer connection: %m");
        notify_status(s, false);
        r = sd_event_loop(s->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
