/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "../srvd/splice_pair.h" /* the relay's splice engine, shared: clear traffic never enters user space */
#include "stream.h"

typedef struct Direction {
        uint8_t *buf;
        size_t start, end; /* pending bytes buf[start, end) */
        bool eof, shut;
        AtAesCtr *cipher;
} Direction;

/* Clear traffic: `pair` splices the two sockets. Encrypted: fd[0] local, fd[1] relay; dir[d]
 * copies fd[d] -> fd[1 - d] through user space. */
struct SrvStream {
        SplicePair *pair;
        int fd[2];
        sd_event_source *source[2];
        Direction dir[2];
        srv_stream_done_t done;
        void *userdata;
        bool finished;
};

void srv_stream_free(SrvStream *s) {
        if (!s)
                return;
        splice_pair_free(s->pair);
        for (int i = 0; i < 2; i++) {
                sd_event_source_disable_unref(s->source[i]);
                if (s->fd[i] >= 0)
                        close(s->fd[i]);
                free(s->dir[i].buf);
                if (s->dir[i].cipher)
                        at_aes_ctr_free(s->dir[i].cipher);
        }
        free(s);
}

static void stream_finish(SrvStream *s) {
        if (s->finished)
                return;
        s->finished = true;
        for (int i = 0; i < 2; i++)
                if (s->source[i])
                        sd_event_source_set_enabled(s->source[i], SD_EVENT_OFF);
        if (s->done)
                s->done(s, s->userdata);
}

static bool direction_complete(const Direction *d) {
        return d->eof && d->start == d->end && d->shut;
}

static int direction_pump(SrvStream *s, int d) {
        Direction *dir = &s->dir[d];
        int src = s->fd[d], dst = s->fd[1 - d];

        for (int round = 0; round < 16; round++) {
                while (dir->start < dir->end) {
                        ssize_t n = send(dst, dir->buf + dir->start, dir->end - dir->start, MSG_DONTWAIT | MSG_NOSIGNAL);
                        if (n < 0) {
                                if (errno == EAGAIN)
                                        return 0;
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        dir->start += (size_t) n;
                }
                dir->start = dir->end = 0;
                if (dir->eof) {
                        if (!dir->shut) {
                                (void) shutdown(dst, SHUT_WR);
                                dir->shut = true;
                        }
                        return 0;
                }
                ssize_t n = recv(src, dir->buf, SRV_STREAM_BUFFER, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN)
                                return 0;
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0) {
                        dir->eof = true;
                        continue;
                }
                if (dir->cipher)
                        at_aes_ctr_crypt(dir->cipher, dir->buf, dir->buf, (size_t) n);
                dir->end = (size_t) n;
        }
        return 0;
}

static int stream_update_events(SrvStream *s) {
        for (int i = 0; i < 2; i++) {
                const Direction *in = &s->dir[i], *out = &s->dir[1 - i];
                uint32_t ev = 0;

                if (!in->eof && in->start == in->end)
                        ev |= EPOLLIN;
                if (out->start < out->end)
                        ev |= EPOLLOUT;
                if (ev == 0 && in->eof && direction_complete(out)) {
                        if (sd_event_source_set_enabled(s->source[i], SD_EVENT_OFF) < 0)
                                return -EIO;
                        continue;
                }
                if (sd_event_source_set_io_events(s->source[i], ev) < 0)
                        return -EIO;
        }
        return 0;
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        SrvStream *s = userdata;
        int i = fd == s->fd[0] ? 0 : 1;

        for (int d = 0; d < 2; d++)
                if (direction_pump(s, d) < 0) {
                        stream_finish(s);
                        return 0;
                }
        if ((revents & (EPOLLERR | EPOLLHUP)) && !direction_complete(&s->dir[1 - i])) {
                stream_finish(s);
                return 0;
        }
        if ((direction_complete(&s->dir[0]) && direction_complete(&s->dir[1])) || stream_update_events(s) < 0)
                stream_finish(s);
        return 0;
}

static void on_pair_done(SplicePair *p, void *userdata) {
        stream_finish(userdata);
}

int srv_stream_new(sd_event *e, int local_fd, int relay_fd, AtAesCtr *out, AtAesCtr *in,
                   srv_stream_done_t done, void *userdata, SrvStream **ret) {
        _cleanup_(srv_stream_freep) SrvStream *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s) {
                close(local_fd);
                close(relay_fd);
                if (out)
                        at_aes_ctr_free(out);
                if (in)
                        at_aes_ctr_free(in);
                return -ENOMEM;
        }
        s->fd[0] = s->fd[1] = -1;
        s->done = done;
        s->userdata = userdata;
        if (!out && !in) {
                r = splice_pair_new(e, local_fd, relay_fd, on_pair_done, s, &s->pair);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(s);
                return 0;
        }
        s->fd[0] = local_fd;
        s->fd[1] = relay_fd;
        s->dir[0].cipher = out;
        s->dir[1].cipher = in;
        for (int i = 0; i < 2; i++) {
                s->dir[i].buf = malloc(SRV_STREAM_BUFFER);
                if (!s->dir[i].buf)
                        return -ENOMEM;
                r = sd_event_add_io(e, &s->source[i], s->fd[i], EPOLLIN, on_io, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}
