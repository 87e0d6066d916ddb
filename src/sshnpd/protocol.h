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

/* The atProtocol side of sshnpd. Nothing in it blocks the event loop:
 *  - "cmd": a client whose main connection lives on the loop and is kept up by the library
 *    (at_client_start: asynchronous connect, reconnect with backoff); notifications, updates,
 *    public key and shared key lookups go over it as asynchronous commands;
 *  - the monitor: its own connection, made and remade asynchronously by the library, with its
 *    shared-key lookups on cmd's connection.
 * While the atServer cannot be reached the daemon keeps serving D-Bus and its sessions. */
typedef struct SshnpdProtocol {
        Sshnpd *daemon;
        AtKeys *keys;
        AtClient *cmd;
        AtSharedKeys *shared_keys;
        AtMonitor *monitor;
        PermitOpen *permit_open;
        char *regex;              /* what the monitor subscribes to */
        char *key_suffix;         /* ".<dev>.sshnp@" */
        sd_event_source *refresh; /* device_info refresh timer */
        bool announced;           /* "monitor started" logged, READY=1 sent */
        char *cached_pks_dir;     /* pinned client public keys (cached_pks.c); NULL: none */
        bool strict;              /* refuse a signer whose key differs from the pinned one */
        struct PendingSrv *pending; /* sessions waiting for srv to say it is up (requests.c) */
} SshnpdProtocol;

static inline SshnpdProtocol *sshnpd_protocol(Sshnpd *d) {
        return d->protocol;
}

/* Queues an encrypted notification on the command connection (at_notify_send_async); the
 * outcome is logged. < 0 when it cannot even be queued (e.g. -ENOTCONN while reconnecting). */
int protocol_notify(SshnpdProtocol *p, const char *recipient, const char *key, const char *value, int64_t ttl_ms);
/* public:publickey@<atsign> (plookup, bypassing the server's cache), fetched for every request
 * and compared with the key pinned in cached_pks_dir: pinned on first use; a changed key is
 * refused with -EKEYREJECTED under strict, else replaces the pinned one (with a warning). When
 * the lookup fails the pinned key is used. The handler gets the key (valid during the call) or
 * the error, from the loop (-ECANCELED when the daemon stops: do nothing then). < 0: nothing
 * queued, the handler is not called. */
typedef void (*ProtocolPublicKeyHandler)(int error, const AtRsaPublic *key, void *userdata);
int protocol_public_key_async(SshnpdProtocol *p, const char *atsign, ProtocolPublicKeyHandler handler,
                              void *userdata);
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
