/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>

/* The client public keys sshnpd has seen, one file per atSign ("<dir>/<atsign without @>", the
 * base64 key and a newline, mode 0600, written atomically), kept across restarts. Upstream keeps
 * the same file layout in ~/.atsign/sshnp/cached_pks (noports_core common/validation_utils.dart). */

typedef enum CachedPkState {
        CACHED_PK_NEW,     /* nothing cached: the key is now */
        CACHED_PK_SAME,    /* the cached key is this one */
        CACHED_PK_CHANGED, /* a different key was cached (replaced unless strict) */
} CachedPkState;

/* $STATE_DIRECTORY/cached_pks (first entry) under systemd, else ~/.atsign/sshnp/cached_pks. */
int cached_pks_dir_default(char **ret);
/* The cached key of atsign, canonical base64; *ret = NULL when none. A file that is too big or
 * does not hold an RSA public key counts as none (-EBADMSG is not returned). */
int cached_pks_load(const char *dir, const char *atsign, char **ret);
int cached_pks_store(const char *dir, const char *atsign, const char *key_base64);
/* Compares the signer's current key with the cached one; caches it when none was cached, and
 * when it changed and !strict. -EINVAL when current is not an RSA public key. A failure to
 * write the cache is returned only through *ret_store_error (the comparison stands). */
int cached_pks_check(const char *dir, const char *atsign, const char *current_base64, bool strict,
                     CachedPkState *ret_state, int *ret_store_error);
/* Removes every cached key; a missing directory is not an error. Returns how many were removed. */
int cached_pks_clear(const char *dir);
