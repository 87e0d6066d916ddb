/* SPDX-License-Identifier: BSD-3-Clause */
/* The asynchronous connect path never blocks the loop: name resolution, TCP connect, a TLS
 * handshake that never completes, the client's root lookup and its keep-connected retries, each
 * against local sockets (a listener that accepts and stays silent, a closed port). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "client.h"
#include "notify.h"
#include "resolve.h"
#include "tests.h"
#include "tls.h"

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

/* A listening socket on 127.0.0.1: the kernel completes TCP connects, nobody ever answers. */
static int silent_listener(uint16_t *ret_port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0);
        ASSERT_TRUE(listen(fd, 16) == 0);
        ASSERT_TRUE(getsockname(fd, (struct sockaddr *) &a, &len) == 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

/* A port nothing listens on (bound, then closed). */
static uint16_t closed_port(void) {
        uint16_t port;
        close(silent_listener(&port));
        return port;
}

/* The loop stays responsive: a 20 ms ticker counts while the operation under test runs. */
typedef struct Ticker {
        unsigned ticks;
} Ticker;

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        ((Ticker *) userdata)->ticks++;
        (void) sd_event_source_set_time_relative(s, 20000);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static sd_event_source *ticker(sd_event *e, Ticker *t) {
        sd_event_source *s = NULL;
        ASSERT_OK(sd_event_add_time_relative(e, &s, CLOCK_MONOTONIC, 20000, 0, on_tick, t));
        return s;
}

/* Runs the loop until *done or the deadline (then fails). */
static void run_until(sd_event *e, const bool *done, uint64_t max_usec) {
        uint64_t end = now_usec() + max_usec;
        while (!*done) {
                ASSERT_TRUE(now_usec() < end);
                ASSERT_OK(sd_event_run(e, 10000));
        }
}

/* ---- resolve ---- */

typedef struct Resolved {
        bool done;
        int error;
        int family;
} Resolved;

static void on_resolved(int error, struct addrinfo *list, void *userdata) {
        Resolved *r = userdata;
        r->done = true;
        r->error = error;
        if (list) {
                r->family = list->ai_family;
                freeaddrinfo(list);
        }
}

TEST(resolve_numeric_and_name_from_the_loop) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Resolved a = {}, b = {}, c = {};
        AtResolve *q = NULL;

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(at_resolve_async(e, "127.0.0.1", 64, on_resolved, &a, &q));
        ASSERT_TRUE(!a.done); /* never from within the call */
        run_until(e, &a.done, 2000000);
        ASSERT_OK(a.error);
        ASSERT_TRUE(a.family == AF_INET);

        ASSERT_OK(at_resolve_async(e, "localhost", 64, on_resolved, &b, &q));
        run_until(e, &b.done, 10000000);
        ASSERT_OK(b.error);

        ASSERT_ERR(at_resolve_async(e, "", 64, on_resolved, &c, &q), -EINVAL);
}

TEST(resolve_cancelled_never_calls_back) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Resolved a = {}, b = {};
        AtResolve *q = NULL, *p = NULL;

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(at_resolve_async(e, "localhost", 64, on_resolved, &a, &q));
        ASSERT_OK(at_resolve_async(e, "127.0.0.1", 64, on_resolved, &b, &p));
        at_resolve_cancel(q);
        at_resolve_cancel(p);
        for (unsigned i = 0; i < 20; i++)
                ASSERT_OK(sd_event_run(e, 10000));
        ASSERT_TRUE(!a.done && !b.done);
}

/* ---- TLS connect ---- */

typedef struct Connected {
        bool done;
        int error;
        uint64_t at;
} Connected;

static void on_tls(int error, AtTls *tls, void *userdata) {
        Connected *c = userdata;
        c->done = true;
        c->error = error;
        c->at = now_usec();
        at_tls_free(tls);
}

TEST(tls_connect_times_out_without_stalling_the_loop) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_close_ int fd = -1;
        Connected c = {};
        Ticker t = {};
        AtTlsConnect *op = NULL;
        uint16_t port;

        ASSERT_OK(sd_event_new(&e));
        fd = silent_listener(&port);
        sd_event_source *s = ticker(e, &t);
        uint64_t start = now_usec();
        ASSERT_OK(at_tls_connect_async(e, "127.0.0.1", port, NULL, 300000, on_tls, &c, &op));
        ASSERT_TRUE(!c.done);
        run_until(e, &c.done, 3000000);
        ASSERT_ERR(c.error, -ETIMEDOUT);
        ASSERT_TRUE(c.at - start >= 290000);
        ASSERT_TRUE(t.ticks >= 8); /* about 15 expected: the loop kept running meanwhile */
        sd_event_source_disable_unref(s);
}

TEST(tls_connect_refused_and_cancelled) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_close_ int fd = -1;
        Connected c = {}, d = {};
        AtTlsConnect *op = NULL;
        uint16_t port;

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(at_tls_connect_async(e, "127.0.0.1", closed_port(), NULL, 2000000, on_tls, &c, &op));
        run_until(e, &c.done, 2000000);
        ASSERT_ERR(c.error, -ECONNREFUSED);

        fd = silent_listener(&port);
        ASSERT_OK(at_tls_connect_async(e, "127.0.0.1", port, NULL, 2000000, on_tls, &d, &op));
        for (unsigned i = 0; i < 5; i++)
                ASSERT_OK(sd_event_run(e, 10000));
        at_tls_connect_cancel(op); /* mid-handshake */
        for (unsigned i = 0; i < 5; i++)
                ASSERT_OK(sd_event_run(e, 10000));
        ASSERT_TRUE(!d.done);
}

/* ---- the client ---- */

static void on_client_conn(int error, AtConn *conn, void *userdata) {
        Connected *c = userdata;
        c->done = true;
        c->error = error;
        at_conn_unref(conn);
}

TEST(client_connect_times_out_at_a_silent_root_server) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(at_client_freep) AtClient *client = NULL;
        _cleanup_close_ int fd = -1;
        Connected c = {}, d = {};
        Ticker t = {};
        AtClientConnect *op = NULL;
        uint16_t port;

        ASSERT_OK(sd_event_new(&e));
        fd = silent_listener(&port);
        ASSERT_OK(at_client_new(&(AtClientOptions) { .atsign = "@alice", .root_host = "127.0.0.1", .root_port = port,
                                                     .connect_timeout_usec = 300000 },
                                &client));
        sd_event_source *s = ticker(e, &t);
        ASSERT_OK(at_client_open_connection_async(client, e, on_client_conn, &c, &op));
        run_until(e, &c.done, 3000000);
        ASSERT_ERR(c.error, -ETIMEDOUT);
        ASSERT_TRUE(t.ticks >= 8);

        /* cancelled while the root lookup waits: no callback, nothing left running */
        ASSERT_OK(at_client_open_connection_async(client, e, on_client_conn, &d, &op));
        for (unsigned i = 0; i < 5; i++)
                ASSERT_OK(sd_event_run(e, 10000));
        at_client_connect_cancel(op);
        for (unsigned i = 0; i < 40; i++)
                ASSERT_OK(sd_event_run(e, 10000));
        ASSERT_TRUE(!d.done);
        sd_event_source_disable_unref(s);
}

typedef struct States {
        unsigned failures, successes;
        int last;
        bool waited;
        int wait_error;
} States;

static void on_state(AtClient *client, int error, void *userdata) {
        States *st = userdata;
        if (error < 0)
                st->failures++;
        else
                st->successes++;
        st->last = error;
}

static void on_ready(AtClient *client, int error, void *userdata) {
        States *st = userdata;
        st->waited = true;
        st->wait_error = error;
}

static void on_notified(int error, const char *id, void *userdata) {
        ASSERT_TRUE(!"a notification that could not be queued must not call back");
}

TEST(client_kept_connected_retries_with_backoff_and_waiters_time_out) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(at_client_freep) AtClient *client = NULL;
        States st = {}, st2 = {};

        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(at_client_new(&(AtClientOptions) { .atsign = "@alice", .secondary_host = "127.0.0.1",
                                                     .secondary_port = closed_port(), .connect_timeout_usec = 200000,
                                                     .reconnect_min_usec = 50000, .reconnect_max_usec = 100000 },
                                &client));
        /* not kept connected: nothing to wait for */
        ASSERT_ERR(at_client_when_connected(client, 1000, on_ready, &st), -ENOTCONN);
        ASSERT_ERR(at_notify_send_async(client, NULL, &(AtNotifyMessage) { .recipient = "@bob", .key = "k.ns",
                                                                          .value = "v", .plain = true },
                                        on_notified, &st),
                   -ENOTCONN);

        ASSERT_OK(at_client_start(client, e, on_state, &st));
        ASSERT_TRUE(st.failures == 0); /* from the loop only */
        ASSERT_OK(at_client_when_connected(client, 300000, on_ready, &st));
        uint64_t end = now_usec() + 500000;
        while (now_usec() < end)
                ASSERT_OK(sd_event_run(e, 10000));
        /* attempts at 0, 50, 150, 250, 350, 450 ms (backoff 50 ms doubling to 100 ms) */
        ASSERT_TRUE(st.failures >= 4 && st.failures <= 7);
        ASSERT_ERR(st.last, -ECONNREFUSED);
        ASSERT_TRUE(st.successes == 0);
        ASSERT_TRUE(st.waited);
        ASSERT_ERR(st.wait_error, -ETIMEDOUT);
        ASSERT_TRUE(!at_client_is_connected(client));

        /* stopping hands -ECANCELED to whoever still waits */
        ASSERT_OK(at_client_when_connected(client, 10000000, on_ready, &st2));
        at_client_stop(client);
        ASSERT_TRUE(st2.waited);
        ASSERT_ERR(st2.wait_error, -ECANCELED);
        unsigned before = st.failures;
        for (unsigned i = 0; i < 20; i++)
                ASSERT_OK(sd_event_run(e, 10000));
        ASSERT_TRUE(st.failures == before);
}

int main(void) {
        RUN(resolve_numeric_and_name_from_the_loop);
        RUN(resolve_cancelled_never_calls_back);
        RUN(tls_connect_times_out_without_stalling_the_loop);
        RUN(tls_connect_refused_and_cancelled);
        RUN(client_connect_times_out_at_a_silent_root_server);
        RUN(client_kept_connected_retries_with_backoff_and_waiters_time_out);
        return 0;
}
