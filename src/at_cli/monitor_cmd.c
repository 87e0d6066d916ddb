/* SPDX-License-Identifier: BSD-3-Clause */
#include <jansson.h>
#include <signal.h>

#include "cli.h"
#include "log.h"
#include "monitor.h"

typedef struct Watch {
        Cli *cli;
        sd_event *event;
        long seen;
        int result;
} Watch;

static void print_notification(Cli *cli, const AtNotification *n, const char *value, int error) {
        if (cli->json) {
                _cleanup_free_ char *s = NULL;
                json_t *o = json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:s?, s:I, s:b}", "id", n->id, "from", n->from,
                                      "to", n->to, "key", n->key, "value", value, "operation", n->operation,
                                      "epochMillis", (json_int_t) n->epoch_millis, "decrypted", error >= 0);
                if (o) {
                        s = json_dumps(o, JSON_COMPACT);
                        json_decref(o);
                }
                if (s)
                        printf("%s\n", s);
        } else {
                /* one line: newlines of the value are shown as \n */
                printf("%s %s ", n->from ?: "?", n->key);
                for (const char *p = value ?: ""; *p; p++)
                        if (*p == '\n')
                                fputs("\\n", stdout);
                        else
                                putchar(*p);
                putchar('\n');
        }
        fflush(stdout);
}

static void on_notification(AtMonitor *m, const AtNotification *n, const char *value, int error, void *userdata) {
        Watch *w = userdata;

        print_notification(w->cli, n, value, error);
        w->seen++;
        if (w->cli->count > 0 && w->seen >= w->cli->count)
                sd_event_exit(w->event, 0);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Watch *w = userdata;

        if (w->cli->count > 0) {
                log_error("monitor as %s: %ld of %ld notifications within the timeout", w->cli->atsign, w->seen,
                          w->cli->count);
                return sd_event_exit(w->event, -ETIMEDOUT);
        }
        return sd_event_exit(w->event, 0);
}

int cli_monitor(Cli *cli, const char *regex) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(at_monitor_freep) AtMonitor *monitor = NULL;
        sigset_t mask;
        int r;

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Cannot create an event loop: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sd_event_add_signal(event, NULL, SIGINT, NULL, NULL) < 0 ||
            sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL) < 0)
                return log_error_errno(-EIO, "Cannot watch SIGINT/SIGTERM");

        Watch w = { .cli = cli, .event = event };
        if (cli->timeout_usec > 0) {
                r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, cli->timeout_usec, 0, on_timeout, &w);
                if (r < 0)
                        return log_error_errno(r, "Cannot arm the timeout: %m");
        }
        /* shared keys are looked up asynchronously on the main connection */
        r = at_conn_attach_event(at_client_conn(cli->client), event, 0);
        if (r < 0)
                return cli_fail(cli, r, "monitor", regex);

        AtMonitorOptions o = { .regex = regex, .since_epoch_millis = cli->since_epoch_ms };
        r = at_monitor_new(event, cli->client, cli->shared_keys, &o, on_notification, &w, &monitor);
        if (r < 0)
                return cli_fail(cli, r, "monitor", regex);
        r = at_monitor_start(monitor);
        if (r < 0)
                return cli_fail(cli, r, "monitor", regex);

        r = sd_event_loop(event);
        at_conn_detach_event(at_client_conn(cli->client));
        if (r < 0)
                return r;
        return 0;
}
