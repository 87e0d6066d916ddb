/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "log.h"
#include "resolve.h"

/* What the lookup thread and the loop share; the last of the two to let go frees it. */
typedef struct Job {
        unsigned n_ref; /* atomic */
        int fd;         /* eventfd: the thread signals completion */
        char *host;
        char service[8];
        int gai_error;
        int sys_errno;
        struct addrinfo *addresses;
} Job;

struct AtResolve {
        Job *job;                 /* NULL for a numeric address */
        struct addrinfo *numeric; /* the answer for a numeric address, handed over from a defer source */
        sd_event_source *source;
        AtResolveHandler handler;
        void *userdata;
};

static void job_unref(Job *j) {
        if (!j || __atomic_sub_fetch(&j->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        if (j->addresses)
                freeaddrinfo(j->addresses);
        if (j->fd >= 0)
                close(j->fd);
        free(j->host);
        free(j);
}

static const struct addrinfo hints_stream = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV,
};

static void *job_run(void *arg) {
        Job *j = arg;
        uint64_t one = 1;

        j->gai_error = getaddrinfo(j->host, j->service, &hints_stream, &j->addresses);
        j->sys_errno = errno;
        (void) !write(j->fd, &one, sizeof(one));
        job_unref(j);
        return NULL;
}

AtResolve *at_resolve_cancel(AtResolve *q) {
        if (!q)
                return NULL;
        sd_event_source_disable_unref(q->source);
        job_unref(q->job);
        if (q->numeric)
                freeaddrinfo(q->numeric);
        free(q);
        return NULL;
}

static void complete(AtResolve *q, int error, struct addrinfo *list) {
        AtResolveHandler handler = q->handler;
        void *userdata = q->userdata;

        at_resolve_cancel(q);
        handler(error, list, userdata);
}

static int on_job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AtResolve *q = userdata;
        Job *j = q->job;
        struct addrinfo *list = TAKE_PTR(j->addresses);

        if (j->gai_error != 0) {
                log_debug("Failed to resolve %s: %s", j->host,
                          j->gai_error == EAI_SYSTEM ? strerror(j->sys_errno) : gai_strerror(j->gai_error));
                complete(q, -EHOSTUNREACH, NULL);
        } else
                complete(q, 0, list);
        return 0;
}

static int on_numeric(sd_event_source *s, void *userdata) {
        AtResolve *q = userdata;
        complete(q, 0, TAKE_PTR(q->numeric));
        return 0;
}

static int start_thread(Job *j) {
        pthread_attr_t attr;
        pthread_t thread;
        sigset_t all, saved;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, 256 * 1024);
        /* the thread must not take the process's signals (they belong to the loop's signalfd) */
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &saved);
        r = pthread_create(&thread, &attr, job_run, j);
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        pthread_attr_destroy(&attr);
        return -r;
}

int at_resolve_async(sd_event *event, const char *host, uint16_t port, AtResolveHandler handler, void *userdata,
                     AtResolve **ret) {
        _cleanup_(at_resolve_cancelp) AtResolve *q = NULL;
        struct addrinfo hints = hints_stream;
        char service[8];
        int r;

        if (!event || !host || !*host || port == 0 || !handler)
                return -EINVAL;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->handler = handler;
        q->userdata = userdata;
        snprintf(service, sizeof(service), "%u", port);

        /* a numeric address needs no lookup: getaddrinfo() converts it without any I/O */
        hints.ai_flags |= AI_NUMERICHOST;
        if (getaddrinfo(host, service, &hints, &q->numeric) == 0) {
                r = sd_event_add_defer(event, &q->source, on_numeric, q);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(q);
                return 0;
        }

        Job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (Job) { .n_ref = 1, .fd = -1 };
        q->job = j;
        memcpy(j->service, service, sizeof(service));
        j->host = strdup(host);
        if (!j->host)
                return -ENOMEM;
        j->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (j->fd < 0)
                return -errno;
        r = sd_event_add_io(event, &q->source, j->fd, EPOLLIN, on_job_done, q);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(q->source, "at-resolve");
        __atomic_add_fetch(&j->n_ref, 1, __ATOMIC_ACQ_REL); /* the thread's */
        r = start_thread(j);
        if (r < 0) {
                job_unref(j);
                return r;
        }
        *ret = TAKE_PTR(q);
        return 0;
}
