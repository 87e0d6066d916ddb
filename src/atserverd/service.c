/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "service.h"

#define STATUS_USEC (5ULL * 1000 * 1000)

struct AtsService {
        AtsServer *server;
        sd_event_source *sighup, *status_timer;
        size_t last_hosted;
        unsigned last_sessions;
};

/* the IP literal a socket is bound to ("0.0.0.0", "::", "192.0.2.1") */
static int socket_address(int fd, char **ret) {
        struct sockaddr_storage sa = {};
        socklen_t len = sizeof sa;
        char buf[INET6_ADDRSTRLEN];
        const void *a;

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        if (sa.ss_family == AF_INET6) {
                const struct in6_addr *in6 = &((struct sockaddr_in6 *) &sa)->sin6_addr;
                a = in6;
                /* a v4-mapped address is reached as IPv4 */
                if (IN6_IS_ADDR_V4MAPPED(in6)) {
                        if (!inet_ntop(AF_INET, &in6->s6_addr[12], buf, sizeof buf))
                                return -errno;
                        goto done;
                }
        } else if (sa.ss_family == AF_INET)
                a = &((struct sockaddr_in *) &sa)->sin_addr;
        else
                return -EAFNOSUPPORT;
        if (!inet_ntop(sa.ss_family, a, buf, sizeof buf))
                return -errno;
done:
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int root_fd_passed(int *ret_fd) {
        *ret_fd = -1;
        /* unsets LISTEN_FDS/LISTEN_PID so that nothing we start inherits them */
        int n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to read the sockets passed by the service manager: %m");
        if (n == 0)
                return 0;
        if (n > 1)
                return log_error_errno(EINVAL, "Got %d sockets from the service manager; expected one, the root "
                                               "directory's (one ListenStream= in atserverd.socket)", n);
        int fd = SD_LISTEN_FDS_START;
        int r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
        if (r < 0)
                return log_error_errno(r, "Failed to check the passed socket: %m");
        if (r == 0)
                return log_error_errno(EINVAL, "The passed socket is not a listening stream socket");
        /* accept() runs until EAGAIN: the socket must not block (systemd passes it blocking) */
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return log_error_errno(errno, "Failed to make the passed socket non-blocking: %m");
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return log_error_errno(errno, "Failed to set close-on-exec on the passed socket: %m");
        *ret_fd = fd;
        return 1;
}

int ats_service_take_root_socket(AtsServer *s, bool keep_listen_addr) {
        int fd, r;

        r = root_fd_passed(&fd);
        if (r <= 0)
                return r;
        s->root_fd = fd;
        if (keep_listen_addr)
                return 1;
        char *addr = NULL;
        r = socket_address(fd, &addr);
        if (r < 0)
                return log_error_errno(r, "Failed to read the passed socket's address: %m");
        free(s->listen_addr);
        s->listen_addr = addr;
        return 1;
}

static void service_status(AtsService *svc, const char *prefix) {
        AtsServer *s = svc->server;
        svc->last_hosted = s->n_hosted;
        svc->last_sessions = s->n_sessions;
        (void) sd_notifyf(false, "%sSTATUS=Serving %zu atSign%s, %u connection%s; root on port %d", prefix,
                          s->n_hosted, s->n_hosted == 1 ? "" : "s", s->n_sessions, s->n_sessions == 1 ? "" : "s",
                          s->root_port);
}

static int on_status_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        AtsService *svc = userdata;
        if (svc->last_hosted != svc->server->n_hosted || svc->last_sessions != svc->server->n_sessions)
                service_status(svc, "");
        (void) sd_event_source_set_time_relative(src, STATUS_USEC);
        (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

static int on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        AtsService *svc = userdata;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        /* MONOTONIC_USEC: what Type=notify-reload (systemd 253) expects with RELOADING=1 */
        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu",
                          (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000);
        log_info("Reloading: looking for newly registered atSigns");
        int r = ats_server_reload(svc->server);
        if (r < 0)
                log_warning_errno(r, "Reload: not every atSign could be served: %m");
        else
                log_info("Reloaded: %d new atSign%s, %zu served", r, r == 1 ? "" : "s", svc->server->n_hosted);
        service_status(svc, "READY=1\n");
        return 0;
}

int ats_service_start(AtsServer *s, AtsService **ret) {
        AtsService *svc = calloc(1, sizeof *svc);
        sigset_t mask;
        int r;

        if (!svc)
                return log_oom();
        svc->server = s;
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(s->event, &svc->sighup, SIGHUP, on_sighup, svc);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &svc->status_timer, CLOCK_MONOTONIC, STATUS_USEC,
                                               1000 * 1000, on_status_timer, svc);
        if (r < 0) {
                ats_service_free(svc);
                return log_error_errno(r, "Failed to set up reload and status updates: %m");
        }
        service_status(svc, "READY=1\n");
        *ret = svc;
        return 0;
}

AtsService *ats_service_free(AtsService *svc) {
        if (!svc)
                return NULL;
        sd_event_source_disable_unref(svc->sighup);
        sd_event_source_disable_unref(svc->status_timer);
        free(svc);
        return NULL;
}
