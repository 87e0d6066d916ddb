/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>

#include "permit_open.h"

int permit_open_new(PermitOpen **ret) {
        PermitOpen *p = calloc(1, sizeof *p);

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

void permit_open_free(PermitOpen *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_entries; i++)
                free(p->entries[i].host);
        free(p->entries);
        free(p);
}

static int parse_port(const char *s, size_t n, uint16_t *ret) {
        unsigned v = 0;

        if (n == 1 && s[0] == '*') {
                *ret = PERMIT_OPEN_ANY_PORT;
                return 0;
        }
        if (n == 0 || n > 5)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v < 1 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

static int add_range(PermitOpen *p, const char *s, size_t n) {
        const char *colon = NULL;
        PermitOpenEntry *e;
        uint16_t port;
        char *host;

        while (n > 0 && isspace((unsigned char) *s))
                s++, n--;
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                n--;
        for (size_t i = 0; i < n; i++)
                if (s[i] == ':')
                        colon = s + i;
        if (!colon || colon == s)
                return -EINVAL;
        if (parse_port(colon + 1, n - (size_t) (colon + 1 - s), &port) < 0)
                return -EINVAL;
        for (const char *c = s; c < colon; c++)
                if (isspace((unsigned char) *c) || *c == ',' || (unsigned char) *c < 0x20)
                        return -EINVAL;
        if (p->n_entries >= PERMIT_OPEN_MAX_ENTRIES)
                return -E2BIG;

        host = strndup(s, (size_t) (colon - s));
        if (!host)
                return -ENOMEM;
        e = realloc(p->entries, (p->n_entries + 1) * sizeof *e);
        if (!e) {
                free(host);
                return -ENOMEM;
        }
        p->entries = e;
        p->entries[p->n_entries++] = (PermitOpenEntry) { .host = host, .port = port };
        return 0;
}

int permit_open_add(PermitOpen *p, const char *entry) {
        return add_range(p, entry, strlen(entry));
}

int permit_open_parse(const char *text, PermitOpen **ret) {
        _cleanup_(permit_open_freep) PermitOpen *p = NULL;
        const char *s = text;
        int r;

        r = permit_open_new(&p);
        if (r < 0)
                return r;
        for (;;) {
                const char *comma = strchr(s, ',');
                size_t n = comma ? (size_t) (comma - s) : strlen(s);

                r = add_range(p, s, n);
                if (r < 0)
                        return r;
                if (!comma)
                        break;
                s = comma + 1;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

bool permit_open_allows(const PermitOpen *p, const char *host, unsigned port) {
        if (!p || !host || port < 1 || port > 65535)
                return false;
        for (size_t i = 0; i < p->n_entries; i++) {
                const PermitOpenEntry *e = &p->entries[i];

                if (e->port != PERMIT_OPEN_ANY_PORT && e->port != port)
                        continue;
                if (streq(e->host, "*") || streq(e->host, host))
                        return true;
        }
        return false;
}

int permit_open_entry_to_string(const PermitOpen *p, size_t i, char **ret) {
        const PermitOpenEntry *e;
        int n;

        if (i >= p->n_entries)
                return -ENOENT;
        e = &p->entries[i];
        /* a wildcard port is written '*' (the C 0.2.0 daemon wrote 0, which clients misread) */
        if (e->port == PERMIT_OPEN_ANY_PORT)
                n = asprintf(ret, "%s:*", e->host);
        else
                n = asprintf(ret, "%s:%u", e->host, (unsigned) e->port);
        return n < 0 ? -ENOMEM : 0;
}
