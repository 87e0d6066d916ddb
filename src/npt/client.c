/* SPDX-License-Identifier: BSD-3-Clause */
#include <netdb.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "log.h"
#include "np_session.h"
#include "npt.h"

#define NPT_DEFAULT_TIMEOUT_USEC (30ULL * 1000000ULL) /* upstream npt -T default */
#define KEEP_ALIVE_DELAY_USEC (5ULL * 1000000ULL)    /* upstream npt -K: 5 s between sessions */

static bool never(void *userdata) {
        return false;
}

static bool srv_gone(void *userdata) {
        SrvProcess *srv = userdata;
        return srv->exited;
}

/* In the foreground: until srv ends or we are asked to stop (then srv is stopped too). */
static int wait_for_srv(NpClient *c, NpSession *s) {
        int r, status = 0;

        r = np_client_wait(c, srv_gone, &s->srv, UINT64_MAX / 2);
        if (r == -EINTR) {
                srv_process_kill(&s->srv);
                return r;
        }
        srv_process_detach(&s->srv);
        if (s->srv.pid > 0 && waitpid(s->srv.pid, &status, 0) > 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0)
                fprintf(stderr, "npt: the tunnel ended with an error (srv exit status %d)%s%s\n", WEXITSTATUS(status),
                        *s->srv.last_line ? ": " : "", s->srv.last_line);
        s->srv.pid = -1;
        return 0;
}

static int one_session(const NptArgs *a, uint16_t *local_port, bool *ret_interrupted) {
        NpClientOptions co = {
                .program = "npt", .atsign = a->from, .root_server = a->root_server, .key_file = a->key_file,
                .ca_file = a->ca_file,
        };
        NpSessionOptions so = {
                .to = a->to, .device = a->device, .srvd = a->srvd,
                .daemon_ping_timeout_usec = (uint64_t) a->daemon_ping_timeout * 1000000ULL,
                .authenticate_client_to_rvd = true, .authenticate_device_to_rvd = true,
                .encrypt_rvd_traffic = a->encrypt_rvd_traffic, .kind = NP_REQUEST_NPT,
                .requested_host = a->remote_host, .requested_port = a->remote_port,
                .timeout_ms = (int64_t) MIN(a->timeout_usec / 1000ULL, (uint64_t) INT64_MAX),
                .require_adjustable_timeout = a->timeout_usec != NPT_DEFAULT_TIMEOUT_USEC,
                .local_host = a->local_host, .local_port = *local_port, .srv_timeout_usec = a->timeout_usec,
                .heartbeat_usec = a->heartbeat_usec,
                .verbose = a->verbose,
        };
        NpClient c;
        NpSession s;
        int r;

        r = np_client_open(&c, &co);
        if (r >= 0)
                r = np_session_open(&c, &so, &s);
        if (r < 0) {
                *ret_interrupted = c.interrupted;
                np_client_close(&c);
                return r;
        }
        *local_port = s.local_port;
        if (a->exit_when_connected) {
                srv_process_detach(&s.srv); /* srv ends on its timeout or when the last connection closes */
                printf("%u\n", s.local_port);
                r = fflush(stdout) == 0 ? 0 : -EIO;
        } else {
                printf("%u\n", s.local_port);
                fflush(stdout);
                if (!a->quiet)
                        fprintf(stderr, "npt: %s:%u is forwarded to %s:%u on device %s of %s; Ctrl-C ends it\n",
                                a->local_host, s.local_port, a->remote_host, a->remote_port, a->device, a->to);
                np_client_monitor_stop(&c);
                r = wait_for_srv(&c, &s);
        }
        *ret_interrupted = c.interrupted;
        np_session_done(&s);
        np_client_close(&c);
        return r;
}

/* --local-host: the first item of the comma list that resolves; "0" means every address
 * (upstream npt.dart) */
static int pick_local_host(const char *list, char **ret) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *h = strtok_r(copy, ", \t", &save); h; h = strtok_r(NULL, ", \t", &save)) {
                struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
                if (streq(h, "0"))
                        h = (char *) "0.0.0.0";
                if (getaddrinfo(h, "0", &hints, &res) != 0)
                        continue;
                freeaddrinfo(res);
                *ret = strdup(h);
                return *ret ? 0 : -ENOMEM;
        }
        fprintf(stderr, "npt: none of --local-host %s resolves to a local address\n", list);
        return -EADDRNOTAVAIL;
}

int npt_run(const NptArgs *args) {
        _cleanup_free_ char *local_host = NULL;
        NptArgs copy = *args, *a = &copy;
        uint16_t local_port = a->local_port;
        bool interrupted = false;
        int r;

        if (!streq(a->relay_auth_mode, "payload")) {
                fprintf(stderr, "npt: --relay-auth-mode %s is not supported yet; use payload\n", a->relay_auth_mode);
                return -EOPNOTSUPP;
        }
        if (a->only_443) {
                fputs("npt: --443 needs the escr relay auth mode, which is not supported yet\n", stderr);
                return -EOPNOTSUPP;
        }
        r = pick_local_host(a->local_host, &local_host);
        if (r < 0)
                return r;
        copy.local_host = local_host;
        for (;;) {
                r = one_session(a, &local_port, &interrupted);
                if (interrupted)
                        return 0;
                if (!a->keep_alive || a->exit_when_connected)
                        return r;
                if (!a->quiet)
                        fprintf(stderr, "npt: session ended; starting a new one on port %u in 5 s\n", local_port);
                /* an interruptible pause on an event loop of its own */
                {
                        NpClient pause = {};
                        sd_event *e = NULL;
                        if (sd_event_default(&e) >= 0) {
                                pause.event = e;
                                (void) np_client_wait(&pause, never, NULL, KEEP_ALIVE_DELAY_USEC);
                                sd_event_unref(e);
                        }
                }
        }
}
