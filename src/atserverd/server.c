/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>

#include "aes.h"
#include "fs.h"
#include "log.h"
#include "secure.h"
#include "server.h"
#include "service.h"

#define SWEEP_USEC (30ULL * 1000 * 1000)

int64_t ats_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ats_uuid(char out[37]) {
        uint8_t b[16];
        at_random_bytes(b, sizeof b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int ats_atsign_fix(const char *in, char **ret) {
        if (!in)
                return -EINVAL;
        if (*in == '@')
                in++;
        size_t n = strlen(in);
        if (n == 0 || n > 64)
                return -EINVAL;
        char *s = malloc(n + 2);
        if (!s)
                return -ENOMEM;
        s[0] = '@';
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) in[i];
                if (ch == '@' || ch == ':' || isspace(ch) || ch < 0x20) {
                        free(s);
                        return -EINVAL;
                }
                s[i + 1] = (char) tolower(ch);
        }
        s[n + 1] = 0;
        *ret = s;
        return 0;
}

AtsHosted *ats_server_find_hosted(AtsServer *s, const char *atsign) {
        for (size_t i = 0; i < s->n_hosted; i++)
                if (streq(s->hosted[i]->atsign, atsign))
                        return s->hosted[i];
        return NULL;
}

int ats_directory_lookup(AtsServer *s, const char *atsign, char **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size, n = strlen(atsign);
        if (!s->directory_file)
                return -ENOENT;
        int r = read_file_bounded(s->directory_file, 1024 * 1024, &data, &size);
        if (r < 0)
                return r;
        for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n"))
                if (strneq(line, atsign, n) && line[n] == ' ') {
                        *ret = strdup(line + n + 1);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

/* Records our atSigns in the shared directory file (under an exclusive lock). */
static int directory_publish(AtsServer *s) {
        _cleanup_free_ char *lock = NULL, *old = NULL, *out = NULL;
        _cleanup_close_ int fd = -1;
        size_t size = 0, out_size = 0;
        if (!s->directory_file)
                return 0;
        if (asprintf(&lock, "%s.lock", s->directory_file) < 0)
                return -ENOMEM;
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || flock(fd, LOCK_EX) < 0)
                return log_error_errno(errno, "Failed to lock %s: %m", lock);
        (void) read_file_bounded(s->directory_file, 1024 * 1024, &old, &size);
        FILE *f = open_memstream(&out, &out_size);
        if (!f)
                return -ENOMEM;
        for (char *line = old ? strtok(old, "\n") : NULL; line; line = strtok(NULL, "\n")) {
                char *sp = strchr(line, ' ');
                if (sp) {
                        *sp = 0;
                        bool ours = ats_server_find_hosted(s, line) != NULL;
                        *sp = ' ';
                        if (ours)
                                continue;
                }
                fprintf(f, "%s\n", line);
        }
        for (size_t i = 0; i < s->n_hosted; i++)
                fprintf(f, "%s %s:%d\n", s->hosted[i]->atsign, s->hostname, s->hosted[i]->port);
        if (fclose(f) != 0)
                return -ENOMEM;
        int r = write_file_atomic(s->directory_file, out, out_size, 0644, true);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", s->directory_file);
        return 0;
}

static int make_listener(const char *addr, int port, int *ret_fd, int *ret_port) {
        struct sockaddr_storage sa = {};
        socklen_t len;
        int one = 1, fd;

        if (strchr(addr, ':')) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sa;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) port);
                if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
                        return -EINVAL;
                len = sizeof *in6;
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *) &sa;
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t) port);
                if (inet_pton(AF_INET, addr, &in->sin_addr) != 1)
                        return -EINVAL;
                len = sizeof *in;
        }
        fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 512) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                                                   : ((struct sockaddr_in *) &sa)->sin_port);
        *ret_fd = fd;
        return 0;
}

/* Out of descriptors, a connection stays in the backlog and the listener wakes the loop again at
 * once, forever (a peer holding ~1,000 connections under the default limit made the process
 * spin and log a million lines a second). A spare descriptor, given up for a moment, lets us
 * take each waiting connection off the backlog and close it. */
static int spare_fd = -1;

static bool drop_one(int lfd) {
        int fd;

        if (spare_fd >= 0) {
                close(spare_fd);
                spare_fd = -1;
        }
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
                close(fd);
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return fd >= 0;
}

static void accept_all(AtsServer *s, int lfd, AtsHosted *h) {
        if (spare_fd < 0)
                spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE) {
                                int error = errno;
                                unsigned n = 0;
                                while (drop_one(lfd))
                                        n++;
                                log_full_errno(n ? LOG_NOTICE : LOG_DEBUG, error,
                                               "refused: %u connection(s) for %s closed at once: %m", n,
                                               h ? h->atsign : "the root");
                        } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "accept failed: %m");
                        return;
                }
                /* one small TLS record per answer: without this, Nagle holds an answer behind the
                 * previous prompt until the client's delayed ACK (~200 ms per command) */
                int one = 1;
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                (void) ats_session_new(s, h, fd);
        }
}

static int on_secondary_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        AtsHosted *h = userdata;
        accept_all(h->server, fd, h);
        return 0;
}

static int on_root_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        accept_all(userdata, fd, NULL);
        return 0;
}

static int on_sweep(sd_event_source *src, uint64_t usec, void *userdata) {
        AtsServer *s = userdata;
        int r = ats_store_sweep(s->store, ats_now_ms());
        if (r < 0)
                log_warning_errno(r, "Expiry sweep failed: %m");
        ats_outbound_retry_queued(s);
        (void) sd_event_source_set_time_relative(src, SWEEP_USEC);
        (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

int ats_server_new(sd_event *e, AtsStore *store, const char *data_dir, AtsServer **ret) {
        AtsServer *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->store = store;
        s->data_dir = strdup(data_dir);
        s->root_fd = -1;
        s->started_ms = ats_now_ms();
        s->limits = (AtsLimits) {
                .max_line = ATS_LINE_MAX,
                .max_value = 64 * 1024,
                .max_per_ip = 1100,
                .idle_unauth = 30ULL * 1000 * 1000,
                .idle_auth = 10ULL * 60 * 1000 * 1000,
                .idle_monitor = 0,
                .max_connections = 10000,
        };
        if (!s->data_dir) {
                free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

static void hosted_free(AtsHosted *h) {
        if (!h)
                return;
        sd_event_source_disable_unref(h->listen);
        if (h->fd >= 0)
                close(h->fd);
        at_rsa_private_free(h->signing_key);
        free(h->atsign);
        free(h);
}

/* Listens for atSign a on its recorded port (a new one if taken) and adds it to s->hosted. */
static int hosted_add(AtsServer *s, const AtsAtsign *a) {
        AtsHosted **l = realloc(s->hosted, (s->n_hosted + 1) * sizeof *l);
        if (!l)
                return log_oom();
        s->hosted = l;
        AtsHosted *h = calloc(1, sizeof *h);
        if (!h)
                return log_oom();
        h->server = s;
        h->fd = -1;
        h->atsign = strdup(a->atsign);
        if (!h->atsign) {
                hosted_free(h);
                return log_oom();
        }
        /* the recorded port, so clients' cached addresses stay valid; a new one if taken */
        int r = make_listener(s->listen_addr, a->port, &h->fd, &h->port);
        if (r < 0 && a->port != 0) {
                log_warning_errno(r, "Port %d of %s is not available (%m); choosing another", a->port, h->atsign);
                r = make_listener(s->listen_addr, 0, &h->fd, &h->port);
        }
        if (r < 0)
                log_error_errno(r, "Failed to listen for %s: %m", h->atsign);
        else {
                r = sd_event_add_io(s->event, &h->listen, h->fd, EPOLLIN, on_secondary_accept, h);
                if (r < 0)
                        log_error_errno(r, "Failed to watch the listener of %s: %m", h->atsign);
        }
        if (r < 0) {
                hosted_free(h);
                return r;
        }
        if (a->signing_private)
                (void) at_rsa_private_from_base64(a->signing_private, &h->signing_key);
        if (h->port != a->port)
                (void) ats_store_atsign_set_port(s->store, h->atsign, h->port);
        s->hosted[s->n_hosted++] = h;
        log_info("Serving %s on %s:%d", h->atsign, s->listen_addr, h->port);
        return 0;
}

int ats_server_reload(AtsServer *s) {
        AtsAtsign *a = NULL;
        size_t n = 0;
        int r, added = 0;

        r = ats_store_atsigns(s->store, &a, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read the hosted atSigns: %m");
        r = 0;
        for (size_t i = 0; i < n; i++) {
                if (ats_server_find_hosted(s, a[i].atsign))
                        continue;
                int k = hosted_add(s, &a[i]);
                if (k >= 0)
                        added++;
                else if (r == 0)
                        r = k; /* the others are still served */
        }
        ats_atsigns_free(a, n);
        if (added > 0)
                (void) directory_publish(s);
        return r < 0 ? r : added;
}

AtsHosted *ats_server_find_hosted_or_load(AtsServer *s, const char *atsign) {
        /* one process serves one AtsServer; the store is re-read at most once a second so
         * that lookups of unknown atSigns cannot keep the database busy */
        static int64_t last_ms;
        AtsHosted *h = ats_server_find_hosted(s, atsign);
        int64_t now = ats_now_ms();
        if (h || (now - last_ms >= 0 && now - last_ms < 1000))
                return h;
        last_ms = now;
        (void) ats_server_reload(s); /* logs what failed; the others are served */
        return ats_server_find_hosted(s, atsign);
}

static int socket_port(int fd) {
        struct sockaddr_storage sa = {};
        socklen_t len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        if (sa.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *) &sa)->sin6_port);
        if (sa.ss_family == AF_INET)
                return ntohs(((struct sockaddr_in *) &sa)->sin_port);
        return -EAFNOSUPPORT;
}

int ats_server_start(AtsServer *s) {
        int r, port;

        r = ats_server_reload(s);
        if (r < 0)
                return r;

        if (s->root_fd >= 0) {
                /* socket activation: the root listener was passed in (see service.c) */
                port = socket_port(s->root_fd);
                if (port < 0)
                        return log_error_errno(port, "Failed to read the root socket's address: %m");
                log_info("Root directory on the socket passed by the service manager (port %d)", port);
        } else {
                r = make_listener(s->listen_addr, s->root_port, &s->root_fd, &port);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on root port %d: %m", s->root_port);
                log_info("Root directory on %s:%d answering host %s", s->listen_addr, port, s->hostname);
        }
        s->root_port = port;
        r = sd_event_add_io(s->event, &s->root_listen, s->root_fd, EPOLLIN, on_root_accept, s);
        if (r < 0)
                return r;
        r = directory_publish(s);
        if (r < 0)
                return r;
        if (!s->root_server && asprintf(&s->root_server, "%s:%d", s->hostname, port) < 0)
                return log_oom();

        r = sd_event_add_time_relative(s->event, &s->sweep, CLOCK_MONOTONIC, SWEEP_USEC, 1000 * 1000, on_sweep, s);
        if (r < 0)
                return r;
        (void) ats_store_sweep(s->store, ats_now_ms());
        ats_outbound_retry_queued(s);
        return 0;
}

void ats_server_free(AtsServer *s) {
        if (!s)
                return;
        while (s->sessions)
                ats_session_free(s->sessions);
        ats_outbound_free_all(s);
        for (size_t i = 0; i < s->n_hosted; i++)
                hosted_free(s->hosted[i]);
        free(s->hosted);
        sd_event_source_disable_unref(s->root_listen);
        sd_event_source_disable_unref(s->sweep);
        if (s->root_fd >= 0)
                close(s->root_fd);
        if (s->server_cred)
                gnutls_certificate_free_credentials(s->server_cred);
        if (s->client_cred)
                gnutls_certificate_free_credentials(s->client_cred);
        free(s->peers);
        free(s->data_dir);
        free(s->hostname);
        free(s->listen_addr);
        free(s->root_server);
        free(s->directory_file);
        sd_event_unref(s->event);
        free(s);
}
