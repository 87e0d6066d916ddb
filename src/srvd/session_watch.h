/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "relay.h"

/* What srvd's D-Bus side knows of each live relay session: the facts that never change while it
 * lives (copied, so a record can be read and announced without touching the engine) and when
 * it was first seen. The engine only says "the number of sessions changed"; each time it does,
 * srvd_session_watch_sync() compares the engine's list with the records. That is exact because
 * the engine calls back once per session created (after linking it) and once per session ended
 * (after unlinking it, before freeing it), so no address can be reused between two syncs. */
typedef struct SrvdSessionRecord {
        SrvdSession *session;       /* valid as long as the record exists */
        char *id, *atsign_a, *atsign_b;
        uint16_t port_a, port_b;
        uint64_t started_usec;      /* CLOCK_REALTIME */
        struct SrvdSessionRecord *next;
} SrvdSessionRecord;

typedef struct SrvdSessionWatch {
        SrvdSessionRecord *records; /* oldest first */
        unsigned n_records;
        unsigned n_total;           /* sessions seen since start */
} SrvdSessionWatch;

/* added: the record was just made; !added: its session is gone (record->session must not be
 * read); the record is still listed during the call and freed after it. */
typedef void (*srvd_session_watch_cb_t)(SrvdSessionRecord *record, bool added, void *userdata);

/* Returns the number of changes, or -ENOMEM (sessions without a record are retried next time). */
int srvd_session_watch_sync(SrvdSessionWatch *w, const SrvdRelay *relay, srvd_session_watch_cb_t cb, void *userdata);
SrvdSessionRecord *srvd_session_watch_find(const SrvdSessionWatch *w, const char *id);
/* Drops every record without callbacks (shutdown). */
void srvd_session_watch_clear(SrvdSessionWatch *w);
