/* SPDX-License-Identifier: BSD-3-Clause */
#include "log.h"
#include "relay-internal.h"

int srvd_relay_new(sd_event *event, const SrvdRelayConfig *config, SrvdRelay **ret) {
        SrvdRelay *r;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(event);
        if (config && config->bind_address) {
                r->bind_address = strdup(config->bind_address);
                if (!r->bind_address) {
                        srvd_relay_free(r);
                        return -ENOMEM;
                }
        }
        r->port_min = config ? config->port_min : 0;
        r->port_max = config ? config->port_max : 0;
        if (r->port_min > r->port_max) {
                srvd_relay_free(r);
                return -EINVAL;
        }
        r->grace_usec = config && config->grace_usec ? config->grace_usec : SRVD_GRACE_USEC;
        r->max_sessions = config && config->max_sessions ? config->max_sessions : 1000;
        *ret = r;
        return 0;
}

void srvd_relay_set_changed_callback(SrvdRelay *relay, srvd_relay_changed_t cb, void *userdata) {
        relay->changed = cb;
        relay->changed_userdata = userdata;
}

unsigned srvd_relay_n_sessions(const SrvdRelay *relay) {
        return relay->n_sessions;
}

SrvdRelay *srvd_relay_free(SrvdRelay *relay) {
        if (!relay)
                return NULL;
        relay->changed = NULL;
        while (relay->sessions)
                srvd_session_close(relay->sessions);
        sd_event_unref(relay->event);
        free(relay->bind_address);
        free(relay);
        return NULL;
}

/* Unlinks s (which is being freed) and tells the owner. */
void srvd_relay_session_gone(SrvdRelay *relay, SrvdSession *s) {
        for (SrvdSession **p = &relay->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        relay->n_sessions--;
                        break;
                }
        if (relay->changed)
                relay->changed(relay, relay->changed_userdata);
}
