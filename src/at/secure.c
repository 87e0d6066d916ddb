/* SPDX-License-Identifier: BSD-3-Clause */
#include <sodium.h>
#include <string.h>

#include "secure.h"

int at_secure_init(void) {
        /* sodium_init() returns 1 when already initialised: both are fine */
        if (sodium_init() < 0)
                return -EIO;
        return 0;
}

void *at_secure_alloc(size_t size) {
        /* guarded pages need a prior sodium_init(); calling it again is cheap and idempotent */
        if (sodium_init() < 0)
                return NULL;
        return sodium_malloc(size == 0 ? 1 : size);
}

char *at_secure_strndup(const char *s, size_t n) {
        size_t len = strnlen(s, n);
        char *p = at_secure_alloc(len + 1);

        if (!p)
                return NULL;
        memcpy(p, s, len);
        p[len] = '\0';
        return p;
}

char *at_secure_strdup(const char *s) {
        return at_secure_strndup(s, strlen(s));
}

void at_secure_free(void *p) {
        if (p)
                sodium_free(p); /* wipes the buffer before unmapping it */
}
