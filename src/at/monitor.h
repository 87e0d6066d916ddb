/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "client.h"
#include "macro.h"
#include "notification.h"
#include "shared_key.h"

/* AtMonitor: a separately authenticated connection that sends
 * "monitor[:<epochMillis>] <regex>" and receives "notification: {json}" lines, on sd_event.
 *  - each real notification is parsed, decrypted with the sender's shared key (the
 *    sharedKeyEnc it carries, else "lookup:shared_key@<from>" on the client's main connection,
 *    which must then be attached to the same event loop), and handed to the handler;
 *  - the server's stats notifications (id "-1") and shared-key notifications are skipped;
 *  - "noop:0" every heartbeat interval (10 s); no answer within a third of it -> reconnect
 *    (at_client_sdk manager/monitor.dart);
 *  - on any failure it reconnects with exponential backoff, resuming with
 *    "monitor:<last epochMillis seen>" so nothing sent meanwhile is lost.
 * The success of "monitor" has no response line (at_server monitor_response_handler.dart). */

typedef struct AtMonitor AtMonitor;

/* value: the decrypted (or plain) value, NULL if there is none or decryption failed
 * (error < 0 then says why). Both are valid during the call. */
typedef void (*AtMonitorHandler)(AtMonitor *monitor, const AtNotification *n, const char *value, int error,
                                 void *userdata);
/* Called on each (re)connect attempt's outcome: error 0 = monitoring, < 0 = failed (retrying). */
typedef void (*AtMonitorStateHandler)(AtMonitor *monitor, int error, void *userdata);

typedef struct AtMonitorOptions {
        const char *regex;               /* NULL or "": everything */
        int64_t since_epoch_millis;      /* > 0: also what arrived after this time */
        uint64_t heartbeat_usec;         /* 0: 10 s */
        uint64_t heartbeat_timeout_usec; /* 0: heartbeat / 3 */
        uint64_t reconnect_min_usec;     /* 0: 1 s */
        uint64_t reconnect_max_usec;     /* 0: 60 s */
        bool include_shared_key;         /* also deliver shared_key notifications */
} AtMonitorOptions;

#define AT_MONITOR_HEARTBEAT_USEC_DEFAULT (10U * 1000000U)

/* client: connected, borrowed (must outlive the monitor); cache: borrowed. */
int at_monitor_new(sd_event *event, AtClient *client, AtSharedKeys *cache, const AtMonitorOptions *options,
                   AtMonitorHandler handler, void *userdata, AtMonitor **ret);
void at_monitor_set_state_handler(AtMonitor *monitor, AtMonitorStateHandler handler, void *userdata);
/* Connects (blocking, within the client's connect timeout) and starts monitoring. On failure
 * the error is returned and nothing is retried. Later reconnects never block. For tools. */
int at_monitor_start(AtMonitor *monitor);
/* Starts without blocking (daemons): connects with at_client_open_connection_async() from the
 * loop; each outcome goes to the state handler, and failures are retried with backoff. */
int at_monitor_start_async(AtMonitor *monitor);
/* A connection attempt is under way or scheduled. */
bool at_monitor_is_connecting(AtMonitor *monitor);
void at_monitor_free(AtMonitor *monitor);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtMonitor *, at_monitor_free);

/* epochMillis of the newest notification delivered (0 if none): where a restart resumes. */
int64_t at_monitor_last_epoch_millis(AtMonitor *monitor);
bool at_monitor_is_connected(AtMonitor *monitor);

/* "monitor[:<epochMillis>][ <regex>]" (at_commons verb/monitor_verb_builder.dart) */
int at_monitor_format_command(const char *regex, int64_t since_epoch_millis, char **ret);
