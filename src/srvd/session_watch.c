/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "macro.h"
#include "session_info.h"
#include "session_watch.h"

static void record_free(SrvdSessionRecord *r) {
        if (!r)
                return;
        free(r->id);
        free(r->atsign_a);
        free(r->atsign_b);
        free(r);
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int record_new(SrvdSession *s, SrvdSessionRecord **ret) {
        SrvdSessionRecord *r = calloc(1, sizeof *r);

        if (!r)
                return -ENOMEM;
        r->session = s;
        r->id = strdup(srvd_session_id(s));
        r->atsign_a = strdup(srvd_info_atsign(s, 0));
        r->atsign_b = strdup(srvd_info_atsign(s, 1));
        if (!r->id || !r->atsign_a || !r->atsign_b) {
                record_free(r);
                return -ENOMEM;
        }
        r->port_a = srvd_session_port_a(s);
        r->port_b = srvd_session_port_b(s);
        r->started_usec = now_realtime_usec();
        *ret = r;
        return 0;
}

static bool relay_has(const SrvdRelay *relay, const SrvdSession *s) {
        for (SrvdSession *i = srvd_info_first_session(relay); i; i = srvd_info_next_session(i))
                if (i == s)
                        return true;
        return false;
}

static bool watch_has(const SrvdSessionWatch *w, const SrvdSession *s) {
        for (SrvdSessionRecord *r = w->records; r; r = r->next)
                if (r->session == s)
                        return true;
        return false;
}

int srvd_session_watch_sync(SrvdSessionWatch *w, const SrvdRelay *relay, srvd_session_watch_cb_t cb, void *userdata) {
        SrvdSessionRecord **tail = &w->records;
        int changes = 0, r = 0;

        /* gone first: their addresses are not to be confused with new sessions' */
        while (*tail) {
                SrvdSessionRecord *rec = *tail;
                if (relay_has(relay, rec->session)) {
                        tail = &rec->next;
                        continue;
                }
                /* still findable by id during the callback (InterfacesRemoved looks it up) */
                if (cb)
                        cb(rec, false, userdata);
                *tail = rec->next;
                w->n_records--;
                record_free(rec);
                changes++;
        }
        /* the engine's list is newest first; each sync normally finds one new session at most */
        for (SrvdSession *s = srvd_info_first_session(relay); s; s = srvd_info_next_session(s)) {
                SrvdSessionRecord *rec;
                if (watch_has(w, s))
                        continue;
                if (record_new(s, &rec) < 0) {
                        r = -ENOMEM;
                        continue;
                }
                *tail = rec;
                tail = &rec->next;
                w->n_records++;
                w->n_total++;
                if (cb)
                        cb(rec, true, userdata);
                changes++;
        }
        return r < 0 ? r : changes;
}

SrvdSessionRecord *srvd_session_watch_find(const SrvdSessionWatch *w, const char *id) {
        for (SrvdSessionRecord *r = w->records; r; r = r->next)
                if (streq(r->id, id))
                        return r;
        return NULL;
}

void srvd_session_watch_clear(SrvdSessionWatch *w) {
        while (w->records) {
                SrvdSessionRecord *r = w->records;
                w->records = r->next;
                record_free(r);
        }
        w->n_records = 0;
}
