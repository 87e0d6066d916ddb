/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "conn.h"
#include "log.h"
#include "macro.h"
#include "tls.h"

/* ---- framing ---- */

void at_line_buffer_init(AtLineBuffer *b, size_t max_line) {
        *b = (AtLineBuffer) { .max_line = max_line > 0 ? max_line : AT_CONN_LINE_MAX_DEFAULT };
}

void at_line_buffer_done(AtLineBuffer *b) {
        free(b->data);
        *b = (AtLineBuffer) { .max_line = b->max_line };
}

static void line_buffer_compact(AtLineBuffer *b) {
        if (b->consumed == 0)
                return;
        memmove(b->data, b->data + b->consumed, b->size - b->consumed);
        b->size -= b->consumed;
        b->consumed = 0;
}

int at_line_buffer_append(AtLineBuffer *b, const void *data, size_t size) {
        line_buffer_compact(b);
        if (size > SIZE_MAX - b->size - 1)
                return -ENOMEM;
        if (b->size + size + 1 > b->allocated) {
                size_t n = MAX(b->allocated * 2, b->size + size + 1);
                n = MAX(n, (size_t) 4096);
                char *p = realloc(b->data, n);
                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->allocated = n;
        }
        memcpy(b->data + b->size, data, size);
        b->size += size;
        return 0;
}

int at_line_buffer_next(AtLineBuffer *b, const char **ret_line, size_t *ret_size) {
        line_buffer_compact(b);

        char *start = b->data;
        size_t avail = b->size;
        char *nl = avail > b->scanned ? memchr(start + b->scanned, '\n', avail - b->scanned) : NULL;
        if (!nl) {
                b->scanned = avail;
                return avail > b->max_line ? -EMSGSIZE : 0;
        }
        size_t len = (size_t) (nl - start);
        if (len > b->max_line)
                return -EMSGSIZE;
        *nl = 0;
        b->consumed = len + 1;
        b->scanned = 0;
        *ret_line = start;
        *ret_size = len;
        return 1;
}

/* ---- the connection ---- */

typedef struct Pending Pending;
struct Pending {
        Pending *next;
        AtConnResponseHandler handler;
        void *userdata;
        AtResponse **sync_slot; /* blocking command: the response is handed over here */
        uint64_t queued_usec;
};

struct AtConn {
        unsigned n_ref;
        AtTls *tls;
        AtLineBuffer in;
        char *out;
        size_t out_start, out_size, out_allocated;

        Pending *head, *tail;
        AtResponse **receive_slot; /* at_conn_receive(): the next line of any kind */

        sd_event *event;
        sd_event_source *io, *timer, *defer;
        uint64_t command_timeout;

        AtConnNotificationHandler notification_handler;
        void *notification_userdata;
        AtConnDisconnectHandler disconnect_handler;
        void *disconnect_userdata;

        char *host;
        uint16_t port;
        int error;
        bool failure_described; /* last_error already says why the connection failed */
        char last_error[512];
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

_printf_(2, 3) static void set_last_error(AtConn *c, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(c->last_error, sizeof(c->last_error), format, ap);
        va_end(ap);
}

int at_conn_new_from_tls(AtTls *tls, AtConn **ret) {
        AtConn *c;

        c = calloc(1, sizeof(*c));
        if (!c) {
                at_tls_free(tls);
                return -ENOMEM;
        }
        c->n_ref = 1;
        at_line_buffer_init(&c->in, AT_CONN_LINE_MAX_DEFAULT);
        c->tls = tls;
        c->port = at_tls_port(tls);
        c->host = strdup(at_tls_host(tls));
        if (!c->host) {
                at_conn_unref(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int at_conn_connect(const char *host, uint16_t port, const char *ca_file, uint64_t timeout_usec, AtConn **ret) {
        AtTls *tls = NULL;
        int r;

        r = at_tls_connect(host, port, ca_file, timeout_usec, &tls);
        if (r < 0)
                return r;
        return at_conn_new_from_tls(tls, ret);
}

AtConn *at_conn_ref(AtConn *c) {
        if (c)
                c->n_ref++;
        return c;
}

static void pending_free_all(AtConn *c, int error) {
        /* The callbacks may queue new commands; those fail at once since c->error is set. */
        while (c->head) {
                Pending *p = c->head;
                c->head = p->next;
                if (!c->head)
                        c->tail = NULL;
                if (!p->sync_slot && p->handler)
                        p->handler(c, error, NULL, p->userdata);
                free(p);
        }
}

static void release_io(AtConn *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->defer = sd_event_source_disable_unref(c->defer);
        at_tls_free(c->tls);
        c->tls = NULL;
}

AtConn *at_conn_unref(AtConn *c) {
        if (!c)
                return NULL;
        if (--c->n_ref > 0)
                return NULL;
        release_io(c);
        if (!c->error)
                c->error = -ECANCELED;
        c->disconnect_handler = NULL;
        c->n_ref = 1; /* callbacks below must not free it again */
        pending_free_all(c, -ECANCELED);
        c->event = sd_event_unref(c->event);
        at_line_buffer_done(&c->in);
        free(c->out);
        free(c->host);
        free(c);
        return NULL;
}

/* Fails the connection once: closes it, fails the pending commands, tells the owner. */
static void conn_fail(AtConn *c, int error) {
        if (c->error)
                return;
        c->error = error < 0 ? error : -EIO;
        if (!c->failure_described)
                set_last_error(c, "connection to %s:%u failed: %s", c->host, c->port, strerror(-c->error));
        log_debug("Connection to %s:%u failed: %s", c->host, c->port, strerror(-c->error));
        release_io(c);
        at_conn_ref(c);
        pending_free_all(c, c->error);
        if (c->disconnect_handler)
                c->disconnect_handler(c, c->error, c->disconnect_userdata);
        at_conn_unref(c);
}

void at_conn_close(AtConn *c) {
        if (!c || c->error)
                return;
        c->disconnect_handler = NULL;
        conn_fail(c, -ECANCELED);
}

void at_conn_set_line_max(AtConn *c, size_t max) {
        c->in.max_line = max > 0 ? max : AT_CONN_LINE_MAX_DEFAULT;
}

void at_conn_set_command_timeout(AtConn *c, uint64_t usec) {
        c->command_timeout = usec;
}

void at_conn_set_notification_handler(AtConn *c, AtConnNotificationHandler handler, void *userdata) {
        c->notification_handler = handler;
        c->notification_userdata = userdata;
}

void at_conn_set_disconnect_handler(AtConn *c, AtConnDisconnectHandler handler, void *userdata) {
        c->disconnect_handler = handler;
        c->disconnect_userdata = userdata;
}

const char *at_conn_last_error(AtConn *c) {
        return c->last_error;
}

bool at_conn_is_open(AtConn *c) {
        return c && c->error == 0 && c->tls;
}

int at_conn_error(AtConn *c) {
        return c->error;
}

const char *at_conn_host(AtConn *c) {
        return c->host;
}

uint16_t at_conn_port(AtConn *c) {
        return c->port;
}

/* One complete line from the server. */
static void dispatch_line(AtConn *c, const char *line, size_t size) {
        _cleanup_(at_response_freep) AtResponse *r = NULL;
        int k;

        k = at_response_parse(line, size, &r);
        if (k < 0) {
                conn_fail(c, k);
                return;
        }

        if (r->kind == AT_RESPONSE_OTHER && r->text_size == 0)
                return; /* a bare prompt or an empty line */

        if (r->kind == AT_RESPONSE_ERROR)
                set_last_error(c, "%s%s%s", r->error_code, r->error_code[0] ? ": " : "", r->text);

        if (c->receive_slot && !c->head) {
                *c->receive_slot = TAKE_PTR(r);
                c->receive_slot = NULL;
                return;
        }

        if (r->kind == AT_RESPONSE_NOTIFICATION) {
                if (c->notification_handler)
                        c->notification_handler(c, r->text, r->text_size, c->notification_userdata);
                return;
        }

        Pending *p = c->head;
        if (!p) {
                log_debug("Ignoring unsolicited line from %s:%u (%zu bytes).", c->host, c->port, size);
                return;
        }
        c->head = p->next;
        if (!c->head)
                c->tail = NULL;

        if (p->sync_slot)
                *p->sync_slot = TAKE_PTR(r);
        else if (p->handler)
                p->handler(c, 0, r, p->userdata);
        free(p);
}

static int flush_output(AtConn *c) {
        while (c->tls && c->out_size > 0) {
                ssize_t n = at_tls_write(c->tls, c->out + c->out_start, MIN(c->out_size, (size_t) 65536));
                if (n == -EAGAIN)
                        return 0;
                if (n < 0)
                        return (int) n;
                c->out_start += (size_t) n;
                c->out_size -= (size_t) n;
        }
        if (c->out_size == 0)
                c->out_start = 0;
        return 0;
}

#define READ_BUDGET (1024U * 1024U)

/* Reads what is available (up to a budget) and dispatches complete lines. Returns 1 if data may
 * remain inside GnuTLS (budget used up), 0 otherwise, <0 after failing the connection. */
static int read_input(AtConn *c) {
        char buf[16384];
        size_t total = 0;

        at_conn_ref(c);
        while (c->tls && c->error == 0) {
                if (total >= READ_BUDGET) {
                        at_conn_unref(c);
                        return 1;
                }
                ssize_t n = at_tls_read(c->tls, buf, sizeof(buf));
                if (n == -EAGAIN)
                        break;
                if (n == 0)
                        n = -ECONNRESET; /* the server closed the connection */
                if (n < 0) {
                        if (n == -ECONNRESET) {
                                set_last_error(c, "%s:%u closed the connection", c->host, c->port);
                                c->failure_described = true;
                        }
                        conn_fail(c, (int) n);
                        break;
                }
                total += (size_t) n;
                int k = at_line_buffer_append(&c->in, buf, (size_t) n);
                for (;;) {
                        const char *line;
                        size_t size;
                        if (k >= 0)
                                k = at_line_buffer_next(&c->in, &line, &size);
                        if (k < 0) {
                                if (k == -EMSGSIZE) {
                                        set_last_error(c, "%s:%u sent a line longer than %zu bytes", c->host,
                                                       c->port, c->in.max_line);
                                        c->failure_described = true;
                                }
                                conn_fail(c, k);
                                break;
                        }
                        if (k == 0)
                                break;
                        dispatch_line(c, line, size);
                        if (c->error)
                                break;
                }
        }
        int r = c->error;
        at_conn_unref(c);
        return r;
}

/* ---- asynchronous use ---- */

static void update_io_events(AtConn *c) {
        if (!c->io || !c->tls)
                return;
        uint32_t events = EPOLLIN;
        if (c->out_size > 0 || at_tls_poll_events(c->tls) == POLLOUT)
                events |= EPOLLOUT;
        (void) sd_event_source_set_io_events(c->io, events);
}

static void update_timer(AtConn *c) {
        if (!c->timer)
                return;
        if (!c->head || c->command_timeout == 0) {
                (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(c->timer, c->head->queued_usec + c->command_timeout);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void process(AtConn *c);

static int on_defer(sd_event_source *s, void *userdata) {
        process(userdata);
        return 0;
}

static void process(AtConn *c) {
        int r;

        at_conn_ref(c);
        r = flush_output(c);
        if (r < 0) {
                conn_fail(c, r);
                goto finish;
        }
        r = read_input(c);
        if (r < 0)
                goto finish;
        if (r > 0 || (c->tls && at_tls_pending(c->tls))) {
                /* Decrypted bytes wait inside GnuTLS where epoll cannot see them: come back. */
                if (c->defer)
                        (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
        }
        r = flush_output(c); /* callbacks may have queued commands */
        if (r < 0) {
                conn_fail(c, r);
                goto finish;
        }
        update_io_events(c);
        update_timer(c);
finish:
        at_conn_unref(c);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        process(userdata);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AtConn *c = userdata;
        set_last_error(c, "no response from %s:%u within %llu ms", c->host, c->port,
                       (unsigned long long) (c->command_timeout / 1000));
        c->failure_described = true;
        conn_fail(c, -ETIMEDOUT);
        return 0;
}

int at_conn_attach_event(AtConn *c, sd_event *event, int64_t priority) {
        int r;

        if (c->event)
                return -EBUSY;
        if (!c->tls)
                return -ENOTCONN;
        r = sd_event_add_io(event, &c->io, at_tls_fd(c->tls), EPOLLIN, on_io, c);
        if (r < 0)
                goto fail;
        r = sd_event_add_time(event, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, c);
        if (r < 0)
                goto fail;
        r = sd_event_add_defer(event, &c->defer, on_defer, c);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_priority(c->io, priority);
        (void) sd_event_source_set_priority(c->timer, priority);
        (void) sd_event_source_set_priority(c->defer, priority);
        (void) sd_event_source_set_description(c->io, "at-conn-io");
        c->event = sd_event_ref(event);
        /* Lines may already be buffered (e.g. after a blocking login). */
        (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
        update_io_events(c);
        return 0;
fail:
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->defer = sd_event_source_disable_unref(c->defer);
        return r;
}

void at_conn_detach_event(AtConn *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->defer = sd_event_source_disable_unref(c->defer);
        c->event = sd_event_unref(c->event);
}

static int queue_command(AtConn *c, const char *command, AtConnResponseHandler handler, void *userdata,
                         AtResponse **sync_slot, bool expect_answer) {
        size_t n;

        if (!c)
                return -ENOTCONN; /* a client between connections */
        if (c->error || !c->tls)
                return c->error ?: -ENOTCONN;
        n = strlen(command);
        if (n > AT_CONN_COMMAND_MAX)
                return -E2BIG;
        if (strpbrk(command, "\r\n"))
                return -EINVAL;

        Pending *p = NULL;
        if (expect_answer) {
                p = calloc(1, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                *p = (Pending) { .handler = handler, .userdata = userdata, .sync_slot = sync_slot,
                                 .queued_usec = now_usec() };
        }

        if (c->out_start > 0 && c->out_start + c->out_size + n + 1 > c->out_allocated && c->out_size == 0)
                c->out_start = 0;
        if (c->out_start + c->out_size + n + 1 > c->out_allocated) {
                /* keep the bytes GnuTLS may be retrying at their place; only grow */
                size_t want = MAX(c->out_allocated * 2, c->out_start + c->out_size + n + 1);
                char *o = realloc(c->out, want);
                if (!o) {
                        free(p);
                        return -ENOMEM;
                }
                c->out = o;
                c->out_allocated = want;
        }
        memcpy(c->out + c->out_start + c->out_size, command, n);
        c->out[c->out_start + c->out_size + n] = '\n';
        c->out_size += n + 1;

        if (p) {
                if (c->tail)
                        c->tail->next = p;
                else
                        c->head = p;
                c->tail = p;
        }

        char verb[24];
        size_t vl = strcspn(command, ": ");
        snprintf(verb, sizeof(verb), "%.*s", (int) MIN(vl, sizeof(verb) - 1), command);
        log_debug("-> %s:%u %s... (%zu bytes)", c->host, c->port, verb, n);
        return 0;
}

int at_conn_send(AtConn *c, const char *command) {
        int r = queue_command(c, command, NULL, NULL, NULL, false);
        if (r < 0)
                return r;
        if (c->io)
                update_io_events(c);
        return 0;
}

int at_conn_command_async(AtConn *c, const char *command, AtConnResponseHandler handler, void *userdata) {
        int r = queue_command(c, command, handler, userdata, NULL, true);
        if (r < 0)
                return r;
        if (c->io) {
                update_io_events(c);
                if (c->head == c->tail)
                        update_timer(c);
        }
        return 0;
}

/* ---- blocking use ---- */

/* Runs I/O with poll() until *slot is filled, the connection fails or the deadline passes. */
static int run_until(AtConn *c, AtResponse **slot, uint64_t deadline, bool fail_on_timeout) {
        while (!*slot) {
                if (c->error)
                        return c->error;
                int r = flush_output(c);
                if (r < 0) {
                        conn_fail(c, r);
                        return r;
                }
                r = read_input(c);
                if (r < 0)
                        return r;
                if (*slot)
                        break;
                if (r > 0 || at_tls_pending(c->tls))
                        continue;

                uint64_t n = now_usec();
                if (n >= deadline) {
                        if (!fail_on_timeout)
                                return -ETIMEDOUT;
                        set_last_error(c, "no response from %s:%u in time", c->host, c->port);
                        c->failure_described = true;
                        conn_fail(c, -ETIMEDOUT);
                        return -ETIMEDOUT;
                }
                short events = POLLIN;
                if (c->out_size > 0 || at_tls_poll_events(c->tls) == POLLOUT)
                        events |= POLLOUT;
                struct pollfd pfd = { .fd = at_tls_fd(c->tls), .events = events };
                uint64_t ms = (deadline - n + 999) / 1000;
                r = poll(&pfd, 1, (int) MIN(ms, (uint64_t) INT32_MAX));
                if (r < 0 && errno != EINTR) {
                        r = -errno;
                        conn_fail(c, r);
                        return r;
                }
        }
        return 0;
}

int at_conn_command(AtConn *c, const char *command, uint64_t timeout_usec, AtResponse **ret) {
        _cleanup_(at_response_freep) AtResponse *slot = NULL;
        int r;

        if (c->error || !c->tls)
                return c->error ?: -ENOTCONN;
        if (c->head || c->receive_slot)
                return -EBUSY;
        if (!command)
                return at_conn_receive(c, timeout_usec, ret);

        r = queue_command(c, command, NULL, NULL, &slot, true);
        if (r < 0)
                return r;
        at_conn_ref(c);
        r = run_until(c, &slot, now_usec() + timeout_usec, true);
        if (r >= 0)
                update_io_events(c);
        at_conn_unref(c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(slot);
        return 0;
}

int at_conn_command_data(AtConn *c, const char *command, uint64_t timeout_usec, char **ret_data) {
        _cleanup_(at_response_freep) AtResponse *resp = NULL;
        const char *text;
        int r;

        r = at_conn_command(c, command, timeout_usec, &resp);
        if (r < 0)
                return r;
        r = at_response_data(resp, &text);
        if (r < 0) {
                if (resp->kind != AT_RESPONSE_ERROR)
                        set_last_error(c, "unexpected answer from %s:%u", c->host, c->port);
                return r;
        }
        if (ret_data) {
                *ret_data = TAKE_PTR(resp->text);
        }
        return 0;
}

int at_conn_receive(AtConn *c, uint64_t timeout_usec, AtResponse **ret) {
        _cleanup_(at_response_freep) AtResponse *slot = NULL;
        int r;

        if (c->error || !c->tls)
                return c->error ?: -ENOTCONN;
        if (c->head || c->receive_slot)
                return -EBUSY;

        c->receive_slot = &slot;
        at_conn_ref(c);
        r = run_until(c, &slot, now_usec() + timeout_usec, false);
        c->receive_slot = NULL;
        at_conn_unref(c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(slot);
        return 0;
}
