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

int at_root_lookup(const char *root_host, uint16_t root_port, const char *ca_file, const char *atsign,
                   uint64_t timeout_usec, char **ret_host, uint16_t *ret_port) {
        _cleanup_(at_conn_unrefp) AtConn *conn = NULL;
        _cleanup_(at_response_freep) AtResponse *resp = NULL;
        _cleanup_free_ char *name = NULL, *key = NULL, *host = NULL;
        uint16_t port;
        int r;

        root_host = root_host ?: AT_ROOT_DEFAULT_HOST;
        root_port = root_port ?: AT_ROOT_DEFAULT_PORT;

        r = at_atsign_normalize(atsign, &name);
        if (r < 0)
                return log_error_errno(r, "Invalid atSign \"%s\".", atsign ?: "");

        if (asprintf(&key, "%s:%u/%s", root_host, root_port, name) < 0)
                return -ENOMEM;
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
        if (resp->kind != AT_RESPONSE_OTHER && resp->kind != AT_RESPONSE_DATA)
                return log_error_errno(EPROTO, "Root server %s:%u answered %s with an unexpected line.", root_host,
                                       root_port, name);

        r = at_root_parse_answer(resp->text, &host, &port);
        if (r == -ENXIO)
                return log_error_errno(r, "The atSign %s is not known to the root server %s:%u.", name, root_host,
                                       root_port);
        if (r < 0)
                return log_error_errno(r, "Root server %s:%u answered %s with a malformed address.", root_host,
                                       root_port, name);

        log_debug("Root server: %s is at %s:%u", name, host, port);
        cache_put(TAKE_PTR(key), host, port);
        *ret_host = TAKE_PTR(host);
        *ret_port = port;
        return 0;
}
