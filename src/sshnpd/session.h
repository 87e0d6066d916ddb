/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Sshnpd Sshnpd;

/* One relayed session the daemon started for a client: its srv process and what it opened.
 * Sessions are D-Bus objects below /org/noports/Sshnpd1/session/. */
typedef struct SshnpdSession {
        Sshnpd *daemon;
        char *id;            /* the client's session id (UUID) */
        char *client;        /* requesting atSign */
        char *kind;          /* "ssh" or "npt" */
        char *target;        /* host:port opened on the device side */
        uint64_t started_usec; /* CLOCK_REALTIME */
        pid_t srv_pid;       /* 0 when no process is attached */
        sd_event_source *child_source;
        char *session_field; /* "NOPORTS_SESSION=<id>" for the journal */
        struct SshnpdSession *prev, *next;
} SshnpdSession;

/* Creates a session and links it into the daemon (and announces it on the bus). */
int sshnpd_session_new(Sshnpd *d, const char *id, const char *client, const char *kind, const char *target,
                       SshnpdSession **ret);
/* Watches the srv child: when it exits, the session ends. */
int sshnpd_session_attach_srv(SshnpdSession *s, pid_t pid);
/* Ends the session: kills its srv (SIGTERM), unlinks and frees it. */
void sshnpd_session_close(SshnpdSession *s, const char *reason);
SshnpdSession *sshnpd_session_find(Sshnpd *d, const char *id);
/* Object path for a session id; -ENOMEM or -EINVAL. */
int sshnpd_session_object_path(const char *id, char **ret);
/* journal fields for this session: NOPORTS_SESSION=, NOPORTS_ATSIGN=, NOPORTS_DEVICE= */
#define SESSION_LOG(s, level, ...)                                                                    \
        log_fields((level), 0,                                                                       \
                   FIELDS(sshnpd_session_field(s, 0), sshnpd_session_field(s, 1), sshnpd_session_field(s, 2)), \
                   __VA_ARGS__)
const char *sshnpd_session_field(SshnpdSession *s, int which);
