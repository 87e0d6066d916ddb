/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "aes.h"
#include "log.h"
#include "relay-internal.h"
#include "relay_auth.h"

#define SLOG(s, level, error, ...) log_fields((level), (error), FIELDS((s)->log_field), __VA_ARGS__)
static const char side_name[2] = { 'A', 'B' };

static void session_end(SrvdSession *s, const char *why);

/* ---------------- sockets waiting for auth or a partner ---------------- */

static void pending_free(PendingSocket *p) {
        if (!p)
                return;
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
}

static void list_remove(PendingSocket **head, PendingSocket *p) {
        for (PendingSocket **i = head; *i; i = &(*i)->next)
                if (*i == p) {
                        *i = p->next;
                        p->next = NULL;
                        return;
                }
}

/* Keeps each side's queue in accept order, whatever order the sockets finished authenticating in. */
static void queue_insert(PendingSocket **head, PendingSocket *p) {
        PendingSocket **i = head;
        while (*i && (*i)->seq < p->seq)
                i = &(*i)->next;
        p->next = *i;
        *i = p;
}

static void session_try_pair(SrvdSession *s);

static void pending_refuse(PendingSocket *p, int error, const char *why) {
        SrvdSession *s = p->session;

        SLOG(s, LOG_WARNING, error, "Session %s: refused a socket on side %c (%s): %s", s->session_id,
             side_name[p->side], s->atsign[p->side], why);
        list_remove(&s->pending, p);
        s->n_pending[p->side]--;
        pending_free(p);
        session_try_pair(s); /* it may have held back sockets accepted after it */
}

/* ---------------- pairs ---------------- */

static void on_pair_done(SplicePair *sp, void *userdata) {
        ActivePair *a = userdata;
        SrvdSession *s = a->session;
        uint64_t bytes[2];

        splice_pair_bytes(sp, bytes);
        SLOG(s, LOG_INFO, 0, "Session %s: connection closed (%llu bytes A->B, %llu bytes B->A)", s->session_id,
             (unsigned long long) bytes[0], (unsigned long long) bytes[1]);
        for (ActivePair **i = &s->pairs; *i; i = &(*i)->next)
                if (*i == a) {
                        *i = a->next;
                        break;
                }
        s->n_pairs--;
        splice_pair_free(a->pair);
        free(a);
        if (s->grace_passed && s->n_pairs == 0)
                session_end(s, "its last connection closed");
}

/* Has the peer sent anything yet? */
static bool socket_has_data(int fd) {
        char c;
        return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* The head of a side's queue may be paired once every socket accepted before it on that side
 * has authenticated or gone. Both ends of a multi mode session open their sockets one after
 * another, each writing its auth line at once, and rely on the i-th socket of one side meeting
 * the i-th of the other (each pair carries its own keys); but sockets are authenticated in the
 * order their bytes are dispatched, which is not always the order they connected in, and
 * pairing in order of authentication mixed connections up. An earlier socket that has started
 * its line holds the head back until it authenticates or is refused (SRVD_AUTH_TIMEOUT_USEC at
 * most); one that has sent nothing (a scanner, a silent peer) only for SRVD_ORDER_HOLD_USEC
 * after it connected: then *ret_wake says when to look again. */
static bool side_ready(const SrvdSession *s, int side, uint64_t now, uint64_t *ret_wake) {
        const PendingSocket *head = s->queue[side];

        if (!head)
                return false;
        for (const PendingSocket *p = s->pending; p; p = p->next) {
                if (p->side != side || p->seq > head->seq)
                        continue;
                if (socket_has_data(p->fd))
                        return false;
                if (now < p->accepted_usec + SRVD_ORDER_HOLD_USEC) {
                        *ret_wake = MIN(*ret_wake, p->accepted_usec + SRVD_ORDER_HOLD_USEC);
                        return false;
                }
        }
        return true;
}

static int on_order_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        session_try_pair(userdata);
        return 0;
}

/* Looks again at `wake` (CLOCK_MONOTONIC) */
static void session_arm_order_timer(SrvdSession *s, uint64_t wake) {
        int r;

        if (s->order_timer) {
                r = sd_event_source_set_time(s->order_timer, wake);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->order_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time(s->relay->event, &s->order_timer, CLOCK_MONOTONIC, wake, 1000, on_order_timer, s);
        if (r < 0) /* then the pending socket's own timeout is what releases the queue */
                SLOG(s, LOG_WARNING, r, "Session %s: cannot arm the pairing timer: %m", s->session_id);
}

static void session_try_pair(SrvdSession *s) {
        uint64_t now = 0, wake = UINT64_MAX;

        (void) sd_event_now(s->relay->event, CLOCK_MONOTONIC, &now);
        while (side_ready(s, 0, now, &wake) && side_ready(s, 1, now, &wake)) {
                PendingSocket *a = s->queue[0], *b = s->queue[1];
                ActivePair *pair;
                int fd_a = TAKE_FD(a->fd), fd_b = TAKE_FD(b->fd);
                int r;

                s->queue[0] = a->next;
                s->queue[1] = b->next;
                s->n_pending[0]--;
                s->n_pending[1]--;
                pending_free(a);
                pending_free(b);

                pair = calloc(1, sizeof *pair);
                if (!pair) {
                        close(fd_a);
                        close(fd_b);
                        log_oom();
                        continue;
                }
                pair->session = s;
                r = splice_pair_new(s->relay->event, fd_a, fd_b, on_pair_done, pair, &pair->pair);
                if (r < 0) {
                        SLOG(s, LOG_ERR, r, "Session %s: failed to join sockets: %m", s->session_id);
                        free(pair);
                        continue;
                }
                pair->next = s->pairs;
                s->pairs = pair;
                s->n_pairs++;
                s->n_pairs_total++;
                SLOG(s, LOG_INFO, 0, "Session %s: joined connection %u (%s <-> %s)", s->session_id, s->n_pairs_total,
                     s->atsign[0], s->atsign[1]);
        }
        if (wake != UINT64_MAX)
                session_arm_order_timer(s, wake);
}

static void pending_authenticated(PendingSocket *p) {
        SrvdSession *s = p->session;

        p->io = sd_event_source_disable_unref(p->io);
        p->timer = sd_event_source_disable_unref(p->timer);
        p->authenticated = true;
        list_remove(&s->pending, p);
        queue_insert(&s->queue[p->side], p);
        session_try_pair(s);
}

/* The first line is read with MSG_PEEK (edge-triggered), so that nothing after the newline is
 * consumed: those bytes stay in the socket and are spliced as the first data. */
static int on_pending_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        PendingSocket *p = userdata;
        SrvdSession *s = p->session;
        char buf[RELAY_AUTH_MAX_LINE];
        ssize_t n;
        int len, r;

        n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                pending_refuse(p, errno, "read error");
                return 0;
        }
        len = relay_auth_line_length(buf, (size_t) n);
        if (len == -EAGAIN) {
                if (n == 0 || (revents & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
                        pending_refuse(p, 0, "closed before authenticating");
                return 0;
        }
        if (len < 0) {
                pending_refuse(p, -len, "no auth line within 4096 bytes");
                return 0;
        }
        r = relay_auth_verify(buf, (size_t) len, s->session_id, s->client_nonce, s->rvd_nonce, s->key[p->side]);
        if (r < 0) {
                pending_refuse(p, -r, r == -EPERM ? "wrong rvdNonce" : "signature not verified");
                return 0;
        }
        /* consume exactly the line and its newline */
        n = recv(fd, buf, (size_t) len + 1, MSG_DONTWAIT);
        if (n != len + 1) {
                pending_refuse(p, n < 0 ? errno : EIO, "short read of the auth line");
                return 0;
        }
        SLOG(s, LOG_INFO, 0, "Session %s: side %c authenticated as %s", s->session_id, side_name[p->side],
             s->atsign[p->side]);
        pending_authenticated(p);
        return 0;
}

static int on_pending_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        pending_refuse(userdata, ETIMEDOUT, "no valid auth line within 5 s");
        return 0;
}

#define SRVD_ACCEPT_RETRY_USEC (250U * 1000U)

static int on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        SrvdSession *s = userdata;
        int side = source == s->accept_retry[1];

        (void) sd_event_source_set_enabled(s->listen_source[side], SD_EVENT_ON);
        return 0;
}

/* Out of file descriptors (or memory): the connection stays in the backlog and the listener
 * would wake us again at once, forever, logging each time. Pause this side for a moment. */
static void pause_accepting(SrvdSession *s, int side, int error) {
        int r;

        SLOG(s, s->accept_starved[side] ? LOG_DEBUG : LOG_WARNING, error,
             "Session %s: cannot accept on side %c: %m; retrying every %u ms", s->session_id, side_name[side],
             SRVD_ACCEPT_RETRY_USEC / 1000);
        s->accept_starved[side] = true;
        r = sd_event_source_set_enabled(s->listen_source[side], SD_EVENT_OFF);
        if (r >= 0 && s->accept_retry[side])
                r = sd_event_source_set_time_relative(s->accept_retry[side], SRVD_ACCEPT_RETRY_USEC);
        if (r >= 0 && s->accept_retry[side])
                r = sd_event_source_set_enabled(s->accept_retry[side], SD_EVENT_ONESHOT);
        else if (r >= 0)
                r = sd_event_add_time_relative(s->relay->event, &s->accept_retry[side], CLOCK_MONOTONIC,
                                               SRVD_ACCEPT_RETRY_USEC, 0, on_accept_retry, s);
        if (r < 0) /* without the timer the listener must stay on */
                (void) sd_event_source_set_enabled(s->listen_source[side], SD_EVENT_ON);
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        SrvdSession *s = userdata;
        int side = fd == s->listen_fd[0] ? 0 : 1;

        for (;;) {
                PendingSocket *p;
                int cfd, one = 1, r;

                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                                pause_accepting(s, side, errno);
                        else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                SLOG(s, LOG_WARNING, errno, "Session %s: accept failed: %m", s->session_id);
                        return 0;
                }
                if (s->n_pending[side] >= SRVD_MAX_PENDING_PER_SIDE) {
                        SLOG(s, LOG_WARNING, 0, "Session %s: too many waiting sockets on side %c, refusing one",
                             s->session_id, side_name[side]);
                        close(cfd);
                        continue;
                }
                s->accept_starved[side] = false;
                (void) setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

                p = calloc(1, sizeof *p);
                if (!p) {
                        close(cfd);
                        return log_oom();
                }
                p->session = s;
                p->side = side;
                p->seq = s->n_accepted[side]++;
                (void) sd_event_now(s->relay->event, CLOCK_MONOTONIC, &p->accepted_usec);
                p->fd = cfd;
                s->n_pending[side]++;

                if (!s->key[side]) {
                        queue_insert(&s->queue[side], p);
                        session_try_pair(s);
                        continue;
                }
                p->next = s->pending;
                s->pending = p;
                r = sd_event_add_io(s->relay->event, &p->io, cfd, EPOLLIN | EPOLLRDHUP | EPOLLET, on_pending_io, p);
                if (r >= 0)
                        r = sd_event_add_time_relative(s->relay->event, &p->timer, CLOCK_MONOTONIC,
                                                       SRVD_AUTH_TIMEOUT_USEC, 0, on_pending_timeout, p);
                if (r < 0)
                        pending_refuse(p, -r, "out of resources");
        }
}

/* ---------------- session lifetime ---------------- */

static int on_grace(sd_event_source *source, uint64_t usec, void *userdata) {
        SrvdSession *s = userdata;

        s->grace_passed = true;
        if (s->n_pairs == 0)
                session_end(s, s->n_pairs_total > 0 ? "its connections closed" :
                                                       "both sides did not connect within the grace period");
        return 0;
}

void srvd_session_free(SrvdSession *s) {
        if (!s)
                return;
        while (s->pairs) {
                ActivePair *a = s->pairs;
                s->pairs = a->next;
                splice_pair_free(a->pair);
                free(a);
        }
        for (int i = 0; i < 2; i++) {
                while (s->queue[i]) {
                        PendingSocket *p = s->queue[i];
                        s->queue[i] = p->next;
                        pending_free(p);
                }
                sd_event_source_disable_unref(s->listen_source[i]);
                sd_event_source_disable_unref(s->accept_retry[i]);
                if (s->listen_fd[i] >= 0)
                        close(s->listen_fd[i]);
                at_rsa_public_free(s->key[i]);
                free(s->atsign[i]);
        }
        while (s->pending) {
                PendingSocket *p = s->pending;
                s->pending = p->next;
                pending_free(p);
        }
        sd_event_source_disable_unref(s->grace_timer);
        sd_event_source_disable_unref(s->order_timer);
        free(s->session_id);
        free(s->client_nonce);
        free(s->rvd_nonce);
        free(s->log_field);
        free(s);
}

static void session_end(SrvdSession *s, const char *why) {
        SrvdRelay *relay = s->relay;

        SLOG(s, LOG_INFO, 0, "Session %s ended: %s", s->session_id, why);
        srvd_relay_session_gone(relay, s);
        srvd_session_free(s);
}

void srvd_session_close(SrvdSession *s) {
        session_end(s, "closed");
}

/* ---------------- ports ---------------- */

static int listen_on(const char *address, uint16_t port, int *ret_fd, uint16_t *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        socklen_t len = sizeof sa;
        int fd, one = 1;

        if (address && inet_pton(AF_INET, address, &sa.sin_addr) != 1)
                return -EINVAL;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 64) < 0 ||
            getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_port = ntohs(sa.sin_port);
        return 0;
}

int srvd_session_open_ports(SrvdSession *s) {
        SrvdRelay *relay = s->relay;
        unsigned span, start, found = 0;
        int r;

        if (relay->port_min == 0 && relay->port_max == 0) {
                for (int i = 0; i < 2; i++) {
                        r = listen_on(relay->bind_address, 0, &s->listen_fd[i], &s->port[i]);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        span = (unsigned) relay->port_max - relay->port_min + 1;
        at_random_bytes(&start, sizeof start);
        start %= span;
        for (unsigned k = 0; k < span && found < 2; k++) {
                uint16_t port = (uint16_t) (relay->port_min + (start + k) % span);
                if (listen_on(relay->bind_address, port, &s->listen_fd[found], &s->port[found]) >= 0)
                        found++;
        }
        return found == 2 ? 0 : -EADDRINUSE;
}

/* Dart's DateTime.now().toIso8601String() form, as upstream srvd issues it; any unique
 * string works since it is only compared for equality. */
static int make_rvd_nonce(char **ret) {
        struct timespec ts;
        struct tm tm;
        char buf[64];

        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%06ld", ts.tv_nsec / 1000);
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int copy_key(const AtRsaPublic *key, AtRsaPublic **ret) {
        _cleanup_free_ char *b64 = NULL;
        int r;

        if (!key)
                return 0;
        r = at_rsa_public_to_base64(key, &b64);
        if (r < 0)
                return r;
        return at_rsa_public_from_base64(b64, ret);
}

int srvd_session_new(SrvdRelay *relay, const SrvdSessionParams *params, SrvdSession **ret) {
        SrvdSession *s;
        int r;

        if (!params->session_id || !params->atsign_a || !params->atsign_b)
                return -EINVAL;
        if ((params->key_a || params->key_b) && !params->client_nonce)
                return -EINVAL;
        if (relay->n_sessions >= relay->max_sessions)
                return -EUSERS;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->relay = relay;
        s->listen_fd[0] = s->listen_fd[1] = -1;
        s->session_id = strdup(params->session_id);
        s->atsign[0] = strdup(params->atsign_a);
        s->atsign[1] = strdup(params->atsign_b);
        s->client_nonce = strdup(params->client_nonce ?: "");
        if (!s->session_id || !s->atsign[0] || !s->atsign[1] || !s->client_nonce ||
            asprintf(&s->log_field, "NOPORTS_SESSION=%s", params->session_id) < 0) {
                s->log_field = NULL;
                r = -ENOMEM;
                goto fail;
        }
        r = make_rvd_nonce(&s->rvd_nonce);
        if (r < 0)
                goto fail;
        if ((r = copy_key(params->key_a, &s->key[0])) < 0 || (r = copy_key(params->key_b, &s->key[1])) < 0)
                goto fail;
        r = srvd_session_open_ports(s);
        if (r < 0)
                goto fail;
        for (int i = 0; i < 2; i++) {
                r = sd_event_add_io(relay->event, &s->listen_source[i], s->listen_fd[i], EPOLLIN, on_accept, s);
                if (r < 0)
                        goto fail;
        }
        r = sd_event_add_time_relative(relay->event, &s->grace_timer, CLOCK_MONOTONIC, relay->grace_usec, 0, on_grace, s);
        if (r < 0)
                goto fail;

        s->next = relay->sessions;
        relay->sessions = s;
        relay->n_sessions++;
        SLOG(s, LOG_INFO, 0, "Session %s for %s (A, port %u%s) and %s (B, port %u%s)", s->session_id, s->atsign[0],
             s->port[0], s->key[0] ? ", authenticated" : "", s->atsign[1], s->port[1],
             s->key[1] ? ", authenticated" : "");
        if (relay->changed)
                relay->changed(relay, relay->changed_userdata);
        *ret = s;
        return 0;
fail:
        srvd_session_free(s);
        return r;
}

uint16_t srvd_session_port_a(const SrvdSession *s) {
        return s->port[0];
}

uint16_t srvd_session_port_b(const SrvdSession *s) {
        return s->port[1];
}

const char *srvd_session_rvd_nonce(const SrvdSession *s) {
        return s->rvd_nonce;
}

const char *srvd_session_id(const SrvdSession *s) {
        return s->session_id;
}
