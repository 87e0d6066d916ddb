/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "relay.h"
#include "splice_pair.h"

typedef struct PendingSocket PendingSocket;
typedef struct ActivePair ActivePair;

/* A socket accepted on one side, still authenticating or waiting for its partner. */
struct PendingSocket {
        SrvdSession *session;
        int side; /* 0 = A, 1 = B */
        uint64_t seq; /* accept order on its side */
        uint64_t accepted_usec; /* CLOCK_MONOTONIC */
        int fd;
        bool authenticated;
        sd_event_source *io, *timer;
        PendingSocket *next;
};

struct ActivePair {
        SrvdSession *session;
        SplicePair *pair;
        ActivePair *next;
};

struct SrvdSession {
        SrvdRelay *relay;
        char *session_id, *atsign[2], *client_nonce, *rvd_nonce;
        char *log_field; /* "NOPORTS_SESSION=<id>" */
        AtRsaPublic *key[2];
        int listen_fd[2];
        uint16_t port[2];
        sd_event_source *listen_source[2];
        sd_event_source *accept_retry[2]; /* re-enables a listener paused by EMFILE and kin */
        bool accept_starved[2];           /* said so in the log; quiet until an accept works */
        PendingSocket *pending;          /* authenticating */
        PendingSocket *queue[2];         /* authenticated, in accept order per side */
        unsigned n_pending[2];
        uint64_t n_accepted[2];
        ActivePair *pairs;
        unsigned n_pairs, n_pairs_total;
        sd_event_source *grace_timer;
        sd_event_source *order_timer; /* re-pairs when a silent socket stops holding others back */
        bool grace_passed;
        SrvdSession *next;
};

struct SrvdRelay {
        sd_event *event;
        char *bind_address;
        uint16_t port_min, port_max;
        uint64_t grace_usec;
        unsigned max_sessions;
        SrvdSession *sessions;
        unsigned n_sessions;
        srvd_relay_changed_t changed;
        void *changed_userdata;
};

/* session.c */
void srvd_session_free(SrvdSession *s);
int srvd_session_open_ports(SrvdSession *s);
void srvd_relay_session_gone(SrvdRelay *relay, SrvdSession *s);
