/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stddef.h>

#include "macro.h"

/* Secrets (private keys, AES keys, their base64 text) live in libsodium guarded memory:
 * locked, wiped on free. at_secure_init() must be called once (it calls sodium_init()). */
int at_secure_init(void);
void *at_secure_alloc(size_t size);
char *at_secure_strdup(const char *s);
char *at_secure_strndup(const char *s, size_t n);
void at_secure_free(void *p); /* NULL is fine */

static inline void at_secure_freep(void *p) {
        at_secure_free(*(void **) p);
}
#define _cleanup_secure_ _cleanup_(at_secure_freep)
