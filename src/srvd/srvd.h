/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "args.h"
#include "client.h"
#include "keys_file.h"
#include "monitor.h"
#include "relay.h"
#include "session_watch.h"
#include "shared_key.h"

/* srvd's daemon side: the atServer connections and the request handling around the relay
 * engine (relay.h). One sd_event loop that the atServer never stalls; connecting fails softly
 * and is retried with backoff. */
typedef struct Srvd {
        SrvdArgs *args;
        sd_event *event;
        SrvdRelay *relay;
        AtKeys *keys;
        AtClient *cmd;            /* kept connected on the loop (at_client_start): notify, plookup and the
                                   * monitor's lookups, all asynchronous */
        AtSharedKeys *shared_keys;
        AtMonitor *monitor;       /* its own connection, (re)made asynchronously */
        char *atsign_field;       /* "NOPORTS_ATSIGN=@relay" */
        sd_bus *bus;              /* NULL when there is no bus: the relay works without one */
        SrvdSessionWatch watch;   /* the sessions as D-Bus shows them */
} Srvd;

int srvd_new(SrvdArgs *args, Srvd **ret);
Srvd *srvd_free(Srvd *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Srvd *, srvd_free);
int srvd_run(Srvd *s);
/* SIGHUP and the Reload() D-Bus method: reconnect to the atServer. */
int srvd_reload(Srvd *s);

/* requests.c: one notification from the monitor */
void srvd_handle_notification(Srvd *s, const AtNotification *n, const char *value);

/* dbus.c: org.noports.Srvd1; optional (0 when there is no bus) */
int srvd_bus_setup(Srvd *s);
/* The relay's session count changed: update the records, send SessionNew/SessionRemoved. */
void srvd_bus_sessions_changed(Srvd *s);
