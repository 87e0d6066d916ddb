/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <jansson.h>
#include <systemd/sd-event.h>

#include "client.h"
#include "keys_file.h"
#include "monitor.h"
#include "notification.h"
#include "permit_open.h"
#include "rsa.h"
#include "shared_key.h"
#include "sshnpd.h"

/* The atProtocol side of sshnpd.
 *  - "cmd": a client whose main connection is used blocking (notify, plookup, update);
 *  - "mon": a client whose main connection lives on the event loop for the monitor's shared-key
 *    lookups, and the monitor itself, which reconnects on its own with backoff.
 * Connecting fails softly: the daemon keeps running and retries with backoff. */
typedef struct PublicKeyCacheEntry {
        char *atsign;
        AtRsaPublic *key;
        struct PublicKeyCacheEntry *next;
} PublicKeyCacheEntry;

typedef struct SshnpdProtocol {
        Sshnpd *daemon;
        AtKeys *keys;
        AtClient *cmd;
        AtClient *mon;
        AtSharedKeys *shared_keys;
        AtMonitor *monitor;
        PermitOpen *permit_open;
        char *regex;              /* what the monitor subscribes to */
        char *key_suffix;         /* ".<dev>.sshnp@" */
        sd_event_source *retry;   /* connect retry / device_info refresh timer */
        uint64_t backoff_usec;
        bool connected;
        PublicKeyCacheEntry *public_keys;
        struct PendingSrv *pending; /* sessions waiting for srv to say it is up (requests.c) */
} SshnpdProtocol;

static inline SshnpdProtocol *sshnpd_protocol(Sshnpd *d) {
        return d->protocol;
}

/* Blocking notify on the command connection, retried once after a reconnect. */
int protocol_notify(SshnpdProtocol *p, const char *recipient, const char *key, const char *value, int64_t ttl_ms);
/* public:publickey@<atsign>, cached in memory (with --strict, a changed key is refused). */
int protocol_public_key(SshnpdProtocol *p, const char *atsign, const AtRsaPublic **ret);
/* The ping/heartbeat/device_info JSON (device_info.c) */
int device_info_json(SshnpdProtocol *p, char **ret);
int device_info_publish(SshnpdProtocol *p);
int device_info_answer_ping(SshnpdProtocol *p, const char *from);
/* authorized_keys.c: -s */
int authorized_keys_add(const char *home, const char *permissions, const char *public_key_line);
/* requests.c */
void requests_handle(SshnpdProtocol *p, const AtNotification *n, const char *from, const char *kind,
                     const char *value);
void requests_free_pending(SshnpdProtocol *p);
