/* SPDX-License-Identifier: BSD-3-Clause */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "splice_pair.h"

/* Per direction d: bytes read from fd[d] are written to fd[1 - d]. */
typedef struct Direction {
        int pipe[2];
        size_t in_pipe;  /* bytes in the pipe, not yet written on */
        bool eof;        /* fd[d] has no more to read */
        bool shut;       /* fd[1 - d] got shutdown(SHUT_WR) */
        uint64_t bytes;
} Direction;

struct SplicePair {
        sd_event *event;
        int fd[2];
        sd_event_source *source[2];
        Direction dir[2];
        size_t pipe_size;
        splice_pair_done_t done;
        void *userdata;
        bool finished;
};

#define SPLICE_MAX_ROUNDS 16

void splice_pair_free(SplicePair *p) {
        if (!p)
                return;
        for (int i = 0; i < 2; i++) {
                sd_event_source_disable_unref(p->source[i]);
                if (p->fd[i] >= 0)
                        close(p->fd[i]);
                for (int k = 0; k < 2; k++)
                        if (p->dir[i].pipe[k] >= 0)
                                close(p->dir[i].pipe[k]);
        }
        sd_event_unref(p->event);
        free(p);
}

void splice_pair_bytes(const SplicePair *p, uint64_t ret[2]) {
        ret[0] = p->dir[0].bytes;
        ret[1] = p->dir[1].bytes;
}

/* Ends the pair once: the owner frees it from the callback (or later). */
static void pair_finish(SplicePair *p) {
        if (p->finished)
                return;
        p->finished = true;
        for (int i = 0; i < 2; i++)
                sd_event_source_set_enabled(p->source[i], SD_EVENT_OFF);
        if (p->done)
                p->done(p, p->userdata);
}

static bool direction_complete(const Direction *d) {
        return d->eof && d->in_pipe == 0 && d->shut;
}

/* Moves what can be moved in direction d without blocking; <0 on a socket error. */
static int direction_pump(SplicePair *p, int d) {
        Direction *dir = &p->dir[d];
        int src = p->fd[d], dst = p->fd[1 - d];

        for (int round = 0; round < SPLICE_MAX_ROUNDS; round++) {
                if (dir->in_pipe > 0) {
                        ssize_t n = splice(dir->pipe[0], NULL, dst, NULL, dir->in_pipe, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                        if (n < 0) {
                                if (errno == EAGAIN)
                                        return 0;
                                return -errno;
                        }
                        dir->in_pipe -= (size_t) n;
                        dir->bytes += (uint64_t) n;
                        if (dir->in_pipe > 0)
                                return 0; /* dst is full: wait for EPOLLOUT */
                }
                if (dir->eof) {
                        if (!dir->shut) {
                                (void) shutdown(dst, SHUT_WR);
                                dir->shut = true;
                        }
                        return 0;
                }
                ssize_t n = splice(src, NULL, dir->pipe[1], NULL, p->pipe_size, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                if (n < 0) {
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                if (n == 0)
                        dir->eof = true;
                dir->in_pipe += (size_t) n;
        }
        return 0;
}

static int pair_update_events(SplicePair *p) {
        for (int i = 0; i < 2; i++) {
                const Direction *in = &p->dir[i], *out = &p->dir[1 - i];
                uint32_t ev = 0;
                int r;

                if (!in->eof && in->in_pipe == 0)
                        ev |= EPOLLIN;
                if (out->in_pipe > 0)
                        ev |= EPOLLOUT;
                if (ev == 0 && in->eof && direction_complete(out)) {
                        /* nothing will ever happen on this socket: stop EPOLLHUP from spinning */
                        r = sd_event_source_set_enabled(p->source[i], SD_EVENT_OFF);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = sd_event_source_set_io_events(p->source[i], ev);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SplicePair *p = userdata;
        int i = fd == p->fd[0] ? 0 : 1;

        for (int d = 0; d < 2; d++)
                if (direction_pump(p, d) < 0) {
                        pair_finish(p);
                        return 0;
                }
        /* EPOLLHUP: both directions of this socket are shut (our SHUT_WR and its FIN, or a reset):
         * nothing can be written to it any more */
        if ((revents & (EPOLLERR | EPOLLHUP)) && !direction_complete(&p->dir[1 - i])) {
                pair_finish(p);
                return 0;
        }
        if (direction_complete(&p->dir[0]) && direction_complete(&p->dir[1])) {
                pair_finish(p);
                return 0;
        }
        if (pair_update_events(p) < 0)
                pair_finish(p);
        return 0;
}

int splice_pair_new(sd_event *e, int fd_a, int fd_b, splice_pair_done_t done, void *userdata, SplicePair **ret) {
        _cleanup_(splice_pair_freep) SplicePair *p = NULL;
        int r;

        p = calloc(1, sizeof *p);
        if (!p) {
                close(fd_a);
                close(fd_b);
                return -ENOMEM;
        }
        p->fd[0] = fd_a;
        p->fd[1] = fd_b;
        for (int i = 0; i < 2; i++)
                p->dir[i].pipe[0] = p->dir[i].pipe[1] = -1;
        p->event = sd_event_ref(e);
        p->done = done;
        p->userdata = userdata;

        for (int i = 0; i < 2; i++) {
                if (pipe2(p->dir[i].pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                        return -errno;
                r = fcntl(p->dir[i].pipe[1], F_GETPIPE_SZ);
                if (r <= 0)
                        return -errno;
                p->pipe_size = (size_t) r;
        }
        for (int i = 0; i < 2; i++) {
                r = sd_event_add_io(e, &p->source[i], p->fd[i], EPOLLIN, on_io, p);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
