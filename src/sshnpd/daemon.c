/* SPDX-License-Identifier: BSD-3-Clause */
/* The daemon shell: one sd_event loop, signals, service-manager notifications. */
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "sshnpd.h"

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Sshnpd *d = userdata;

        log_info("Received %s, stopping", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        return sd_event_exit(d->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) sshnpd_reload(userdata);
        return 0;
}

int sshnpd_reload(Sshnpd *d) {
        int r = 0;

        log_info("Reloading: reconnecting and republishing device information");
        (void) sd_notify(false, "RELOADING=1");
        if (sshnpd_protocol_reload)
                r = sshnpd_protocol_reload(d);
        (void) sd_notify(false, "READY=1");
        sshnpd_notify_status(d);
        return r;
}

void sshnpd_notify_status(Sshnpd *d) {
        (void) sd_notifyf(false, "%sSTATUS=%s; %u session%s active, %u since start", d->ready ? "READY=1\n" : "",
                          d->ready ? "Serving" : "Connecting", d->n_sessions, d->n_sessions == 1 ? "" : "s",
                          d->n_sessions_total);
}

int sshnpd_new(SshnpdArgs *args, Sshnpd **ret) {
        _cleanup_(sshnpd_freep) Sshnpd *d = NULL;
        sigset_t mask;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return log_oom();
        d->args = args;
        if (asprintf(&d->device_field, "NOPORTS_DEVICE=%s", args->device) < 0 ||
            asprintf(&d->atsign_field, "NOPORTS_ATSIGN=%s", args->atsign) < 0)
                return log_oom();

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* srv children must not inherit a blocked signal mask: they reset it themselves (see
         * protocol.c) */
        if ((r = sd_event_add_signal(d->event, NULL, SIGTERM, on_exit_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGINT, on_exit_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d)) < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        (void) sshnpd_bus_setup(d);

        *ret = TAKE_PTR(d);
        return 0;
}

Sshnpd *sshnpd_free(Sshnpd *d) {
        if (!d)
                return NULL;
        while (d->sessions)
                sshnpd_session_close(d->sessions, "daemon stopping");
        if (sshnpd_protocol_stop)
                sshnpd_protocol_stop(d);
        sd_bus_flush_close_unref(d->bus);
        sd_event_unref(d->event);
        free(d->device_field);
        free(d->atsign_field);
        free(d);
        return NULL;
}

int sshnpd_run(Sshnpd *d) {
        int r;

        if (sshnpd_protocol_start) {
                r = sshnpd_protocol_start(d);
                if (r < 0)
                        return r;
        } else {
                log_warning("This build has no atProtocol client: serving D-Bus only");
                d->ready = true;
        }
        sshnpd_notify_status(d);

        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
