/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "conn.h"
#include "log.h"
#include "macro.h"
#include "root.h"

#define HOST_MAX 253

int at_host_port_parse(const char *s, char **ret_host, uint16_t *ret_port) {
        const char *colon, *host;
        size_t host_len;

        if (!s)
                return -EINVAL;
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':')
                        return -EINVAL;
                host = s + 1;
                host_len = (size_t) (end - host);
                colon = end + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon)
                        return -EINVAL;
                host = s;
                host_len = (size_t) (colon - s);
                if (memchr(host, ':', host_len))
                        return -EINVAL; /* bare IPv6 needs brackets */
        }
        if (host_len == 0 || host_len > HOST_MAX)
                return -EINVAL;
        for (size_t i = 0; i < host_len; i++)
                if ((unsigned char) host[i] <= ' ' || host[i] == '@' || host[i] == '/' || host[i] == 0x7f)
                        return -EINVAL;

        const char *p = colon + 1;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        unsigned long port = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
                port = port * 10 + (unsigned long) (*p - '0');
                if (port > 65535)
                        return -EINVAL;
        }
        if (*p != 0 || port == 0)
                return -EINVAL;

        char *h = strndup(host, host_len);
        if (!h)
                return -ENOMEM;
        *ret_host = h;
        *ret_port = (uint16_t) port;
        return 0;
}

/* The root server writes "@" on connect and "<host:port or null>\r\n@" per lookup: at_server
 * packages/at_root_server/lib/src/client/at_root_client.dart and server/at_root_server_impl.dart. */
int at_root_parse_answer(const char *line, char **ret_host, uint16_t *ret_port) {
        size_t n;

        if (!line)
                return -EPROTO;
        while (*line == '@')
                line++;
        if (strneq(line, "data:", 5))
                line += 5;
        n = strlen(line);
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
                n--;
        if (n == 4 && strneq(line, "null", 4))
                return -ENXIO;
        if (n > HOST_MAX + 6)
                return -EPROTO;

        char buf[HOST_MAX + 8];
        memcpy(buf, line, n);
        buf[n] = 0;
        int r = at_host_port_parse(buf, ret_host, ret_port);
        return r == -EINVAL ? -EPROTO : r;
}

typedef struct CacheEntry {
        char *key; /* "roothost:port/atsign" */
        char *host;
        uint16_t port;
        uint64_t expires;
} CacheEntry;

static CacheEntry cache[16];

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

void at_root_cache_clear(void) {
        for (size_t i = 0; i < ELEMENTSOF(cache); i++) {
                free(cache[i].key);
                free(cache[i].host);
                cache[i] = (CacheEntry) {};
        }
}

static CacheEntry *cache_find(const char *key) {
        uint64_t n = now_usec();
        for (size_t i = 0; i < ELEMENTSOF(cache); i++)
                if (cache[i].key && streq(cache[i].key, key) && cache[i].expires > n)
                        return &cache[i];
        return NULL;
}

static void cache_put(char *key, const char *host, uint16_t port) {
        CacheEntry *slot = &cache[0];
        for (size_t i = 0; i < ELEMENTSOF(cache); i++) {
                if (!cache[i].key || streq(cache[i].key, key)) {
                        slot = &cache[i];
                        break;
                }
                if (cache[i].expires < slot->expires)
                        slot = &cache[i];
        }
        char *h = strdup(host);
        if (!h) {
                free(key);
                return;
        }
        free(slot->key);
        free(slot->host);
        *slot = (CacheEntry) { .key = key, .host = h, .port = port, .expires = now_usec() + AT_ROOT_CACHE_USEC };
}

/* "roothost:port/@atsign" and the normalized atSign, logged when invalid */
static int lookup_key(const char *root_host, uint16_t root_port, const char *atsign, char **ret_key, char **ret_name) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = at_atsign_normalize(atsign, &name);
        if (r < 0)
                return log_error_errno(r, "Invalid atSign \"%s\".", atsign ?: "");
        if (asprintf(ret_key, "%s:%u/%s", root_host, root_port, name) < 0)
                return -ENOMEM;
        *ret_name = TAKE_PTR(name);
        return 0;
}

/* The root server's answer line -> host and port, logged when it is not one. */
static int answer_parse(const char *root_host, uint16_t root_port, const char *name, const AtResponse *resp,
                        char **ret_host, uint16_t *ret_port) {
        int r;

        if (resp->kind != AT_RESPONSE_OTHER && resp->kind != AT_RESPONSE_DATA)
                return log_error_errno(EPROTO, "Root server %s:%u answered %s with an unexpected line.", root_host,
                                       root_port, name);
        r = at_root_parse_answer(resp->text, ret_host, ret_port);
        if (r == -ENXIO)
                return log_error_errno(r, "The atSign %s is not known to the root server %s:%u.", name, root_host,
                                       root_port);
        if (r < 0)
                return log_error_errno(r, "Root server %s:%u answered %s with a malformed address.", root_host,
                                       root_port, name);
        log_debug("Root server: %s is at %s:%u", name, *ret_host, *ret_port);
        return 0;
}

int at_root_lookup(const char *root_host, uint16_t root_port, const char *ca_file, const char *atsign,
                   uint64_t timeout_usec, char **ret_host, uint16_t *ret_port) {
        _cleanup_(at_conn_unrefp) AtConn *conn = NULL;
        _cleanup_(at_response_freep) AtResponse *resp = NULL;
        _cleanup_free_ char *name = NULL, *key = NULL, *host = NULL;
        uint16_t port;
        int r;

        root_host = root_host ?: AT_ROOT_DEFAULT_HOST;
        root_port = root_port ?: AT_ROOT_DEFAULT_PORT;

        r = lookup_key(root_host, root_port, atsign, &key, &name);
        if (r < 0)
                return r;
        CacheEntry *e = cache_find(key);
        if (e) {
                host = strdup(e->host);
                if (!host)
                        return -ENOMEM;
                *ret_host = TAKE_PTR(host);
                *ret_port = e->port;
                return 0;
        }

        r = at_conn_connect(root_host, root_port, ca_file, timeout_usec, &conn);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the root server %s:%u: %m", root_host, root_port);
        at_conn_set_line_max(conn, 1024);

        /* the atSign without '@' */
        r = at_conn_command(conn, name + 1, timeout_usec, &resp);
        if (r < 0)
                return log_error_errno(r, "Root server %s:%u gave no answer for %s: %m", root_host, root_port, name);
        r = answer_parse(root_host, root_port, name, resp, &host, &port);
        if (r < 0)
                return r;
        cache_put(TAKE_PTR(key), host, port);
        *ret_host = TAKE_PTR(host);
        *ret_port = port;
        return 0;
}

/* ---- asynchronous ---- */

struct AtRootLookup {
        sd_event *event;
        char *root_host;
        uint16_t root_port;
        char *name, *key;
        AtTlsConnect *connect;
        AtConn *conn;
        sd_event_source *timer, *defer;
        char *host; /* the answer */
        uint16_t port;
        bool finished;
        AtRootLookupHandler handler;
        void *userdata;
};

AtRootLookup *at_root_lookup_cancel(AtRootLookup *q) {
        if (!q)
                return NULL;
        q->finished = true; /* the answer callback that closing the connection runs must not finish it */
        at_tls_connect_cancel(q->connect);
        if (q->conn) {
                at_conn_close(q->conn);
                at_conn_unref(q->conn);
        }
        sd_event_source_disable_unref(q->timer);
        sd_event_source_disable_unref(q->defer);
        sd_event_unref(q->event);
        free(q->root_host);
        free(q->name);
        free(q->key);
        free(q->host);
        free(q);
        return NULL;
}

static void lookup_finish(AtRootLookup *q, int error) {
        AtRootLookupHandler handler = q->handler;
        void *userdata = q->userdata;
        _cleanup_free_ char *host = NULL;
        uint16_t port = q->port;

        if (q->finished)
                return;
        if (error >= 0) {
                host = TAKE_PTR(q->host);
                if (q->key)
                        cache_put(TAKE_PTR(q->key), host, port);
        }
        at_root_lookup_cancel(q);
        handler(error, host, port, userdata);
}

static void on_root_answer(AtConn *conn, int error, const AtResponse *resp, void *userdata) {
        AtRootLookup *q = userdata;

        if (q->finished)
                return;
        if (error < 0) {
                log_error_errno(error, "Root server %s:%u gave no answer for %s: %m", q->root_host, q->root_port,
                                q->name);
                lookup_finish(q, error);
                return;
        }
        lookup_finish(q, answer_parse(q->root_host, q->root_port, q->name, resp, &q->host, &q->port));
}

static void on_root_connected(int error, AtTls *tls, void *userdata) {
        AtRootLookup *q = userdata;
        int r;

        q->connect = NULL;
        if (error < 0) {
                log_error_errno(error, "Failed to connect to the root server %s:%u: %m", q->root_host, q->root_port);
                lookup_finish(q, error);
                return;
        }
        r = at_conn_new_from_tls(tls, &q->conn);
        if (r >= 0) {
                at_conn_set_line_max(q->conn, 1024);
                r = at_conn_attach_event(q->conn, q->event, SD_EVENT_PRIORITY_NORMAL);
        }
        if (r >= 0) /* the atSign without '@' */
                r = at_conn_command_async(q->conn, q->name + 1, on_root_answer, q);
        if (r < 0)
                lookup_finish(q, r);
}

static int on_lookup_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        AtRootLookup *q = userdata;
        log_error("Root server %s:%u gave no answer for %s in time.", q->root_host, q->root_port, q->name);
        lookup_finish(q, -ETIMEDOUT);
        return 0;
}

static int on_cached(sd_event_source *s, void *userdata) {
        lookup_finish(userdata, 0);
        return 0;
}

int at_root_lookup_async(sd_event *event, const char *root_host, uint16_t root_port, const char *ca_file,
                         const char *atsign, uint64_t timeout_usec, AtRootLookupHandler handler, void *userdata,
                         AtRootLookup **ret) {
        AtRootLookup *q;
        int r;

        if (!event || !handler || !ret)
                return -EINVAL;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (AtRootLookup) {
                .event = sd_event_ref(event),
                .root_port = root_port ?: AT_ROOT_DEFAULT_PORT,
                .handler = handler,
                .userdata = userdata,
        };
        q->root_host = strdup(root_host ?: AT_ROOT_DEFAULT_HOST);
        r = q->root_host ? lookup_key(q->root_host, q->root_port, atsign, &q->key, &q->name) : -ENOMEM;
        if (r < 0)
                goto fail;

        CacheEntry *e = cache_find(q->key);
        if (e) {
                q->host = strdup(e->host);
                q->port = e->port;
                free(q->key); /* nothing to store */
                q->key = NULL;
                r = q->host ? sd_event_add_defer(event, &q->defer, on_cached, q) : -ENOMEM;
                if (r < 0)
                        goto fail;
                *ret = q;
                return 0;
        }
        r = sd_event_add_time_relative(event, &q->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_lookup_timeout, q);
        if (r >= 0)
                r = at_tls_connect_async(event, q->root_host, q->root_port, ca_file, timeout_usec, on_root_connected, q,
                                         &q->connect);
        if (r < 0)
                goto fail;
        *ret = q;
        return 0;
fail:
        at_root_lookup_cancel(q);
        return r;
}
