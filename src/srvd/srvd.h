/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-event.h>

#include "args.h"
#include "client.h"
#include "keys_file.h"
#include "monitor.h"
#include "relay.h"
#include "shared_key.h"

/* srvd's daemon side: the atServer connections and the request handling around the relay
 * engine (relay.h). One sd_event loop; connecting fails softly and is retried with backoff. */
typedef struct Srvd {
        SrvdArgs *args;
        sd_event *event;
        SrvdRelay *relay;
        AtKeys *keys;
        AtClient *cmd;            /* blocking: notify, plookup */
        AtClient *mon;            /* its main connection serves the monitor's lookups */
        AtSharedKeys *shared_keys;
        AtMonitor *monitor;
        sd_event_source *retry;
        uint64_t backoff_usec;
        char *atsign_field;       /* "NOPORTS_ATSIGN=@relay" */
} Srvd;

int srvd_new(SrvdArgs *args, Srvd **ret);
Srvd *srvd_free(Srvd *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Srvd *, srvd_free);
int srvd_run(Srvd *s);

/* requests.c: one notification from the monitor */
void srvd_handle_notification(Srvd *s, const AtNotification *n, const char *value);
