/* SPDX-License-Identifier: BSD-3-Clause */
#include "session.h"

#include <signal.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "log.h"
#include "sshnpd.h"

#define SESSION_PATH_PREFIX "/org/noports/Sshnpd1/session"

const char *sshnpd_session_field(SshnpdSession *s, int which) {
        switch (which) {
        case 0:
                return s->session_field;
        case 1:
                return s->daemon->atsign_field;
        default:
                return s->daemon->device_field;
        }
}

int sshnpd_session_object_path(const char *id, char **ret) {
        return sd_bus_path_encode(SESSION_PATH_PREFIX, id, ret);
}

SshnpdSession *sshnpd_session_find(Sshnpd *d, const char *id) {
        for (SshnpdSession *s = d->sessions; s; s = s->next)
                if (streq(s->id, id))
                        return s;
        return NULL;
}

static void session_free(SshnpdSession *s) {
        sd_event_source_disable_unref(s->child_source);
        free(s->id);
        free(s->client);
        free(s->kind);
        free(s->target);
        free(s->session_field);
        free(s);
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int sshnpd_session_new(Sshnpd *d, const char *id, const char *client, const char *kind, const char *target,
                       SshnpdSession **ret) {
        SshnpdSession *s;

        if (sshnpd_session_find(d, id))
                return -EEXIST;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->daemon = d;
        s->id = strdup(id);
        s->client = strdup(client);
        s->kind = strdup(kind);
        s->target = strdup(target);
        if (!s->id || !s->client || !s->kind || !s->target ||
            asprintf(&s->session_field, "NOPORTS_SESSION=%s", id) < 0) {
                s->session_field = NULL;
                session_free(s);
                return -ENOMEM;
        }
        s->started_usec = now_realtime_usec();

        s->next = d->sessions;
        if (d->sessions)
                d->sessions->prev = s;
        d->sessions = s;
        d->n_sessions++;
        d->n_sessions_total++;

        SESSION_LOG(s, LOG_INFO, "Session %s started for %s (%s to %s)", id, client, kind, target);
        sshnpd_bus_session_added(d, s);
        sshnpd_notify_status(d);
        if (ret)
                *ret = s;
        return 0;
}

static int on_srv_exit(sd_event_source *source, const siginfo_t *si, void *userdata) {
        SshnpdSession *s = userdata;
        char reason[64];

        if (si->si_code == CLD_EXITED)
                snprintf(reason, sizeof(reason), "srv exited with status %d", si->si_status);
        else
                snprintf(reason, sizeof(reason), "srv killed by signal %d", si->si_status);
        s->srv_pid = 0; /* reaped: do not signal a recycled pid */
        sshnpd_session_close(s, reason);
        return 0;
}

int sshnpd_session_attach_srv(SshnpdSession *s, pid_t pid) {
        int r;

        r = sd_event_add_child(s->daemon->event, &s->child_source, pid, WEXITED, on_srv_exit, s);
        if (r < 0)
                return r;
        s->srv_pid = pid;
        return 0;
}

static int reap_only(sd_event_source *source, const siginfo_t *si, void *userdata) {
        return 0;
}

void sshnpd_session_close(SshnpdSession *s, const char *reason) {
        Sshnpd *d = s->daemon;

        s->child_source = sd_event_source_disable_unref(s->child_source);
        if (s->srv_pid > 0) {
                (void) kill(s->srv_pid, SIGTERM);
                /* a floating watch reaps it once it has gone, so no zombie stays behind */
                if (sd_event_add_child(d->event, NULL, s->srv_pid, WEXITED, reap_only, NULL) < 0)
                        (void) waitpid(s->srv_pid, NULL, WNOHANG);
        }
        SESSION_LOG(s, LOG_INFO, "Session %s ended: %s", s->id, reason);

        if (s->prev)
                s->prev->next = s->next;
        else
                d->sessions = s->next;
        if (s->next)
                s->next->prev = s->prev;
        d->n_sessions--;

        sshnpd_bus_session_removed(d, s);
        session_free(s);
        sshnpd_notify_status(d);
}
