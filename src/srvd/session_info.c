/* SPDX-License-Identifier: BSD-3-Clause */
#include "relay-internal.h"
#include "session_info.h"

SrvdSession *srvd_info_first_session(const SrvdRelay *relay) {
        return relay->sessions;
}

SrvdSession *srvd_info_next_session(const SrvdSession *s) {
        return s->next;
}

SrvdSession *srvd_info_find_session(const SrvdRelay *relay, const char *id) {
        for (SrvdSession *s = relay->sessions; s; s = s->next)
                if (streq(s->session_id, id))
                        return s;
        return NULL;
}

const char *srvd_info_atsign(const SrvdSession *s, int side) {
        return s->atsign[side ? 1 : 0];
}

bool srvd_info_authenticates(const SrvdSession *s, int side) {
        return s->key[side ? 1 : 0] != NULL;
}

unsigned srvd_info_n_connections(const SrvdSession *s) {
        return s->n_pairs;
}

unsigned srvd_info_n_connections_total(const SrvdSession *s) {
        return s->n_pairs_total;
}
