/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* AtClient's state, shared by client.c (options, blocking connect, keeping connected) and
 * client_connect.c (the asynchronous connect). Not for other modules. */

#include "client.h"
#include "conn.h"

struct AtClient {
        char *atsign; /* "@alice" */
        const AtKeys *keys;
        char *cram_secret; /* secure memory */
        char *root_host;
        uint16_t root_port;
        char *fixed_host;
        uint16_t fixed_port;
        char *ca_file;
        uint64_t connect_timeout, command_timeout;
        uint64_t reconnect_min, reconnect_max;
        size_t line_max;

        AtConn *conn;
        char *secondary_host;
        uint16_t secondary_port;

        /* kept connected on a loop (at_client_start) */
        sd_event *event;
        AtClientConnect *connecting;
        sd_event_source *retry;
        uint64_t backoff;
        AtClientStateHandler state_handler;
        void *state_userdata;
        struct AtClientWaiter *waiters; /* at_client_when_connected() */
};

/* Remembers the secondary address last found (at_client_secondary_host()). */
int at_client_set_secondary(AtClient *client, const char *host, uint16_t port);
