/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "rsa.h"

/* The relay engine of srvd: per session two listening ports, side A (the client) and side B
 * (the daemon). Each accepted socket is authenticated when its side must be (first line, the
 * payload-mode relay auth of src/noports/relay_auth.h, within 5 s), then queued; the heads of
 * the two queues are joined first-in-first-out and spliced (splice_pair.h). A session ends when
 * its grace period (30 s) passes without an established pair, or afterwards when its last pair
 * closes. (upstream: socket_connector 2.2.0 serverToServer; noports_core srvd/socket_connector.dart) */

#define SRVD_AUTH_TIMEOUT_USEC (5U * 1000000U)
#define SRVD_GRACE_USEC (30ULL * 1000000ULL)
#define SRVD_MAX_PENDING_PER_SIDE 64
/* How long a socket that has sent nothing yet keeps later sockets of its side from pairing */
#define SRVD_ORDER_HOLD_USEC (1U * 1000000U)

typedef struct SrvdRelay SrvdRelay;
typedef struct SrvdSession SrvdSession;

typedef struct SrvdRelayConfig {
        const char *bind_address; /* NULL: 0.0.0.0 (upstream binds anyIPv4) */
        uint16_t port_min, port_max; /* 0, 0: kernel-chosen ports */
        uint64_t grace_usec;         /* 0: SRVD_GRACE_USEC */
        unsigned max_sessions;       /* 0: 1000 */
} SrvdRelayConfig;

/* Called whenever the number of sessions changes (for sd_notify STATUS=). */
typedef void (*srvd_relay_changed_t)(SrvdRelay *relay, void *userdata);

int srvd_relay_new(sd_event *event, const SrvdRelayConfig *config, SrvdRelay **ret);
void srvd_relay_set_changed_callback(SrvdRelay *relay, srvd_relay_changed_t cb, void *userdata);
unsigned srvd_relay_n_sessions(const SrvdRelay *relay);
SrvdRelay *srvd_relay_free(SrvdRelay *relay); /* ends every session */
DEFINE_TRIVIAL_CLEANUP_FUNC(SrvdRelay *, srvd_relay_free);

typedef struct SrvdSessionParams {
        const char *session_id;
        const char *atsign_a, *atsign_b;
        const char *client_nonce;
        /* a side authenticates iff its key is given (the key of the atSign named for that side) */
        const AtRsaPublic *key_a, *key_b;
} SrvdSessionParams;

/* Opens the session's two ports. The session belongs to the relay (freed when it ends); the
 * returned pointer stays valid until then. Keys are copied. */
int srvd_session_new(SrvdRelay *relay, const SrvdSessionParams *params, SrvdSession **ret);
uint16_t srvd_session_port_a(const SrvdSession *s);
uint16_t srvd_session_port_b(const SrvdSession *s);
const char *srvd_session_rvd_nonce(const SrvdSession *s);
const char *srvd_session_id(const SrvdSession *s);

/* Ends a session now (D-Bus close, shutdown). */
void srvd_session_close(SrvdSession *s);
