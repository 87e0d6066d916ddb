/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>


#include "keys_file.h"
#include "monitor.h"
#include "rsa.h"
#include "shared_key.h"

/* The atProtocol side of the NoPorts clients (sshnp, npt): one client atSign, one sd_event loop.
 *  - "cmd": an AtClient used blocking (notify, lookup, plookup, scan);
 *  - "mon": a second AtClient whose main connection sits on the event loop for the monitor's
 *    shared-key lookups, and the AtMonitor itself (a third connection).
 * Waits (np_client_wait) run the event loop until a condition holds, a deadline passes or
 * SIGINT/SIGTERM arrives: no polling. */

typedef struct NpClientOptions {
        const char *program;      /* "sshnp", "npt": prefix of user-facing messages */
        const char *atsign;       /* -f */
        const char *root_server;  /* host[:port] */
        const char *key_file;
        const char *ca_file;      /* NULL: system store */
} NpClientOptions;

typedef struct NpClient NpClient;

/* value: decrypted value (NULL when it has none or could not be decrypted). from: normalised
 * sender ("@d"); key: the notification key in lower case. */
typedef void (*NpClientHandler)(NpClient *c, const char *from, const char *key, const char *value, void *userdata);

struct NpClient {
        const NpClientOptions *options;
        sd_event *event;
        AtKeys *keys;
        AtClient *cmd;
        AtClient *mon;
        AtSharedKeys *shared_keys;
        AtMonitor *monitor;
        NpClientHandler handler;
        void *userdata;
        bool interrupted;
};

/* Loads the keys (a missing or unreadable file is named in the message), blocks SIGINT/SIGTERM
 * into the event loop, connects "cmd" and "mon". Messages printed; returns -errno. */
int np_client_open(NpClient *c, const NpClientOptions *options);
void np_client_close(NpClient *c);

/* (Re)starts the monitor with regex; notifications go to handler. */
int np_client_monitor(NpClient *c, const char *regex, NpClientHandler handler, void *userdata);
void np_client_monitor_stop(NpClient *c);

/* Runs the loop until done(userdata) is true (0), timeout_usec passes (-ETIMEDOUT) or a signal
 * (-EINTR). */
int np_client_wait(NpClient *c, bool (*done)(void *userdata), void *userdata, uint64_t timeout_usec);

/* Encrypted notification "@recipient:<key>@me" with ttl 10 s and ttln 1 min (upstream). */
int np_client_notify(NpClient *c, const char *recipient, const char *key, const char *value);

/* public:publickey@<atsign> (fresh, not cached). */
int np_client_public_key(NpClient *c, const char *atsign, AtRsaPublic **ret);

/* Value of "<name>@<owner>" shared with us, decrypted: -ENOENT if there is none. */
int np_client_lookup_shared(NpClient *c, const char *name, const char *owner, char **ret);

/* "host[:port]" -> host and port (64 when absent, upstream's root port). */
int np_parse_root_server(const char *root, char **ret_host, uint16_t *ret_port);
