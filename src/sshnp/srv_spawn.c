/* SPDX-License-Identifier: BSD-3-Clause */
/* Starting the client side of srv and waiting for its ready line (upstream sshnoports srv.dart
 * Srv.startedString; sshnp waits for it before it runs ssh). */
#include "srv_spawn.h"

#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "log.h"

#define SRV_READY_LINE "rv started successfully"

const char *np_srv_path(void) {
        static char beside[4096];
        const char *e = getenv("NOPORTS_SRV");
        ssize_t n;

        if (e && *e)
                return e;
        n = readlink("/proc/self/exe", beside, sizeof(beside) - 16); /* room for the suffixes */
        if (n > 0) {
                beside[n] = 0;
                char *slash = strrchr(beside, '/');
                if (slash) {
                        strcpy(slash + 1, "srv");
                        if (access(beside, X_OK) == 0)
                                return beside;
                        /* the build tree: src/sshnp/sshnp and src/srv/srv */
                        strcpy(slash, "/../srv/srv");
                        if (access(beside, X_OK) == 0)
                                return beside;
                }
        }
        return "srv";
}

int np_pick_free_port(const char *host, uint16_t *ret) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd, r;

        /* the same resolution srv does for its listener (src/srv/srv.c client_listen) */
        if (getaddrinfo(host ?: "localhost", "0", &hints, &res) != 0 || !res)
                return -EHOSTUNREACH;
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                freeaddrinfo(res);
                return -errno;
        }
        r = bind(fd, res->ai_addr, res->ai_addrlen) < 0 || getsockname(fd, (struct sockaddr *) &sa, &len) < 0
                    ? -errno
                    : 0;
        freeaddrinfo(res);
        close(fd);
        if (r < 0)
                return r;
        *ret = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                                              : ((struct sockaddr_in *) &sa)->sin_port);
        return *ret ? 0 : -EADDRNOTAVAIL;
}

static void srv_line(SrvProcess *s, const char *line) {
        if (!*line)
                return;
        if (!s->ready && strstr(line, SRV_READY_LINE)) {
                s->ready = true;
                return;
        }
        snprintf(s->last_line, sizeof s->last_line, "%s", line);
        if (s->verbose)
                fprintf(stderr, "srv: %s\n", line);
        else
                log_debug("srv: %s", line);
}

static int on_srv_output(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        SrvProcess *s = userdata;
        ssize_t k;
        char *nl;

        k = read(fd, s->buf + s->n, sizeof(s->buf) - 1 - s->n);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k <= 0) {
                if (s->n > 0) {
                        s->buf[s->n] = 0;
                        srv_line(s, s->buf);
                        s->n = 0;
                }
                s->exited = true;
                srv_process_detach(s);
                return 0;
        }
        s->n += (size_t) k;
        s->buf[s->n] = 0;
        while ((nl = strchr(s->buf, '\n'))) {
                *nl = 0;
                srv_line(s, s->buf);
                s->n -= (size_t) (nl + 1 - s->buf);
                memmove(s->buf, nl + 1, s->n + 1);
        }
        if (s->n == sizeof(s->buf) - 1) { /* an over-long line */
                srv_line(s, s->buf);
                s->n = 0;
        }
        return 0;
}

static void child_exec(const SrvSpawnParams *p, int err_fd) {
        char port_s[8], local_port_s[8], timeout_s[24], heartbeat_s[24];
        const char *argv[24];
        sigset_t none;
        int n = 0, devnull;

        (void) setsid(); /* not killed with our terminal or process group: it ends with its session */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) signal(SIGPIPE, SIG_IGN); /* kept across exec: our end of its stderr may close */
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) {
                (void) dup2(devnull, STDIN_FILENO);
                (void) dup2(devnull, STDOUT_FILENO); /* never our stdout: `$(npt -x)` must not wait for srv */
        }
        (void) dup2(err_fd, STDERR_FILENO);
        (void) close_range(3, ~0U, 0);

        snprintf(port_s, sizeof port_s, "%u", p->relay_port);
        snprintf(local_port_s, sizeof local_port_s, "%u", p->local_port);
        snprintf(timeout_s, sizeof timeout_s, "%llu", (unsigned long long) MAX(p->timeout_usec / 1000000ULL, 1ULL));
        argv[n++] = "srv";
        argv[n++] = "-h";
        argv[n++] = p->relay_host;
        argv[n++] = "-p";
        argv[n++] = port_s;
        argv[n++] = "--local-port";
        argv[n++] = local_port_s;
        argv[n++] = "--local-host";
        argv[n++] = p->local_host ?: "localhost";
        argv[n++] = "--bind-local-port";
        argv[n++] = "--timeout";
        argv[n++] = timeout_s;
        if (p->multi)
                argv[n++] = "--multi";
        if (p->rv_auth) {
                argv[n++] = "--rv-auth";
                (void) setenv("RV_AUTH", p->rv_auth, 1);
        }
        if (p->key && p->key_d2c) {
                /* twin keys, newer srv.dart names */
                argv[n++] = "--rv-e2ee";
                (void) setenv("RV_AES_C2D", p->key->key_b64, 1);
                (void) setenv("RV_IV_C2D", p->key->iv_b64, 1);
                (void) setenv("RV_AES_D2C", p->key_d2c->key_b64, 1);
                (void) setenv("RV_IV_D2C", p->key_d2c->iv_b64, 1);
        } else if (p->key) {
                argv[n++] = "--rv-e2ee";
                (void) setenv("RV_AES", p->key->key_b64, 1);
                (void) setenv("RV_IV", p->key->iv_b64, 1);
        }
        if (p->heartbeat_usec > 0) {
                snprintf(heartbeat_s, sizeof heartbeat_s, "%llu",
                         (unsigned long long) MAX(p->heartbeat_usec / 1000000ULL, 1ULL));
                argv[n++] = "--heartbeat";
                argv[n++] = heartbeat_s;
        }
        if (p->verbose)
                argv[n++] = "-v";
        argv[n] = NULL;
        execvp(np_srv_path(), (char *const *) argv);
        dprintf(STDERR_FILENO, "Exception running srv : cannot execute %s: %m\n", np_srv_path());
        _exit(200);
}

static bool srv_started_or_gone(void *userdata) {
        SrvProcess *s = userdata;
        return s->ready || s->exited;
}

int srv_process_start(NpClient *c, const SrvSpawnParams *p, uint64_t timeout_usec, SrvProcess *s) {
        const char *prog = c->options->program;
        int pipefd[2], r;

        *s = (SrvProcess){ .pid = -1, .stderr_fd = -1, .verbose = p->verbose };
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(errno, "Failed to make a pipe: %m");
        s->pid = fork();
        if (s->pid < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return log_error_errno(r, "Failed to fork: %m");
        }
        if (s->pid == 0)
                child_exec(p, pipefd[1]);
        close(pipefd[1]);
        s->stderr_fd = pipefd[0];
        (void) fcntl(s->stderr_fd, F_SETFL, O_NONBLOCK);
        r = sd_event_add_io(c->event, &s->io, s->stderr_fd, EPOLLIN, on_srv_output, s);
        if (r < 0) {
                srv_process_kill(s);
                return log_error_errno(r, "Failed to watch srv: %m");
        }

        r = np_client_wait(c, srv_started_or_gone, s, timeout_usec);
        if (r >= 0 && s->ready)
                return 0;
        if (r == -ETIMEDOUT)
                fprintf(stderr, "%s: the local end of the tunnel (srv) did not start within %llu s%s%s\n", prog,
                        (unsigned long long) (timeout_usec / 1000000ULL), *s->last_line ? ": " : "", s->last_line);
        else if (r >= 0)
                fprintf(stderr, "%s: the local end of the tunnel (srv) failed: %s\n", prog,
                        *s->last_line ? s->last_line : "it exited");
        srv_process_kill(s);
        return r < 0 ? r : -ECONNABORTED;
}

void srv_process_detach(SrvProcess *s) {
        s->io = sd_event_source_disable_unref(s->io);
        if (s->stderr_fd >= 0)
                close(s->stderr_fd);
        s->stderr_fd = -1;
}

void srv_process_kill(SrvProcess *s) {
        srv_process_detach(s);
        if (s->pid > 0) {
                (void) kill(s->pid, SIGTERM);
                (void) waitpid(s->pid, NULL, 0);
        }
        s->pid = -1;
}
