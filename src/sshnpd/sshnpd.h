/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "args.h"
#include "session.h"

/* The daemon's state: one sd_event loop, an optional D-Bus connection, the sessions, and
 * (once connected) the atProtocol client. */
typedef struct Sshnpd {
        SshnpdArgs *args;
        sd_event *event;
        sd_bus *bus;               /* NULL when there is no bus: the daemon works without one */
        SshnpdSession *sessions;
        unsigned n_sessions;
        unsigned n_sessions_total;
        char *device_field;        /* "NOPORTS_DEVICE=<dev>" */
        char *atsign_field;        /* "NOPORTS_ATSIGN=<@d>" */
        void *protocol;            /* the atProtocol side (protocol.c), opaque here */
        bool ready;
} Sshnpd;

int sshnpd_new(SshnpdArgs *args, Sshnpd **ret);
Sshnpd *sshnpd_free(Sshnpd *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sshnpd *, sshnpd_free);
int sshnpd_run(Sshnpd *d);
/* Sends STATUS= (and READY=1 the first time it is called with ready) to the service manager. */
void sshnpd_notify_status(Sshnpd *d);
/* SIGHUP and the Reload() D-Bus method: reconnect to the atServer and republish device info. */
int sshnpd_reload(Sshnpd *d);

/* dbus.c */
int sshnpd_bus_setup(Sshnpd *d);
void sshnpd_bus_session_added(Sshnpd *d, SshnpdSession *s);
void sshnpd_bus_session_removed(Sshnpd *d, SshnpdSession *s);

/* protocol.c: the atProtocol side; these are weak so that the shell runs before it exists */
int sshnpd_protocol_start(Sshnpd *d) __attribute__((weak));
void sshnpd_protocol_stop(Sshnpd *d) __attribute__((weak));
int sshnpd_protocol_reload(Sshnpd *d) __attribute__((weak));
