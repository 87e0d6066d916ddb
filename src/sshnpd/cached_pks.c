/* SPDX-License-Identifier: BSD-3-Clause */
/* Client public keys pinned across restarts, for --strict. Upstream: noports_core
 * common/validation_utils.dart (getLocallyCachedPK: one file per atSign, "<pk>\n") and
 * sshnpd/sshnpd_impl.dart (--clear-cached-pks forgets them at start). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cached_pks.h"
#include "fs.h"
#include "log.h"
#include "macro.h"
#include "rsa.h"

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* a 4096-bit RSA SubjectPublicKeyInfo is ~740 base64 characters */
#define CACHED_PK_MAX_SIZE 8192

int cached_pks_dir_default(char **ret) {
        const char *state = getenv("STATE_DIRECTORY"), *home = getenv("HOME");
        char *d;

        if (state && state[0] == '/') { /* systemd: colon-separated list, ours is the first */
                size_t n = strcspn(state, ":");
                if (asprintf(&d, "%.*s/cached_pks", (int) n, state) < 0)
                        return -ENOMEM;
        } else if (home && home[0] == '/') {
                if (asprintf(&d, "%s/.atsign/sshnp/cached_pks", home) < 0)
                        return -ENOMEM;
        } else
                return -ENOENT;
        *ret = d;
        return 0;
}

/* "<dir>/<name>": the atSign must make one plain file name, never a path or a hidden file. */
static int cached_pk_path(const char *dir, const char *atsign, char **ret) {
        const char *name = atsign[0] == '@' ? atsign + 1 : atsign;
        size_t n = strlen(name);

        if (n == 0 || n > 255 || name[0] == '.' || strchr(name, '/'))
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return -EINVAL;
        return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

/* base64 -> key -> base64: validates and gives one spelling to compare */
static int canonical_key(const char *b64, char **ret) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pk = NULL;
        int r;

        r = at_rsa_public_from_base64(b64, &pk);
        if (r < 0)
                return -EINVAL;
        return at_rsa_public_to_base64(pk, ret);
}

/* Not read_file_bounded(): a symlink or FIFO planted in the cache must neither redirect nor block us. */
static int read_small_file(const char *path, char **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        if (st.st_size > CACHED_PK_MAX_SIZE)
                return -EFBIG;
        buf = malloc(CACHED_PK_MAX_SIZE + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + size, CACHED_PK_MAX_SIZE + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > CACHED_PK_MAX_SIZE)
                        return -EFBIG;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int cached_pks_load(const char *dir, const char *atsign, char **ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t n;
        int r;

        *ret = NULL;
        r = cached_pk_path(dir, atsign, &path);
        if (r < 0)
                return r;
        r = read_small_file(path, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_warning_errno(r, "Ignoring the cached public key %s: %m", path);
                return 0;
        }
        n = strcspn(text, "\r\n"); /* "<base64>\n"; a Dart client writes the same */
        text[n] = 0;
        r = canonical_key(text, ret);
        if (r == -EINVAL) {
                log_warning("Ignoring the cached public key %s: not an RSA public key", path);
                return 0;
        }
        return r;
}

int cached_pks_store(const char *dir, const char *atsign, const char *key_base64) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        int r;

        r = cached_pk_path(dir, atsign, &path);
        if (r < 0)
                return r;
        if (asprintf(&text, "%s\n", key_base64) < 0)
                return -ENOMEM;
        r = mkdir_parents(dir, 0700);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, strlen(text), 0600, true);
}

int cached_pks_check(const char *dir, const char *atsign, const char *current_base64, bool strict,
                     CachedPkState *ret_state, int *ret_store_error) {
        _cleanup_free_ char *current = NULL, *cached = NULL;
        CachedPkState state;
        int r;

        *ret_store_error = 0;
        r = canonical_key(current_base64, &current);
        if (r < 0)
                return r;
        r = cached_pks_load(dir, atsign, &cached);
        if (r < 0)
                return r;
        if (!cached)
                state = CACHED_PK_NEW;
        else
                state = streq(cached, current) ? CACHED_PK_SAME : CACHED_PK_CHANGED;
        if (state == CACHED_PK_NEW || (state == CACHED_PK_CHANGED && !strict))
                *ret_store_error = cached_pks_store(dir, atsign, current);
        *ret_state = state;
        return 0;
}

int cached_pks_clear(const char *dir) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int n = 0, r = 0;

        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
                        if (errno != EISDIR && errno != EPERM && r == 0)
                                r = -errno;
                        continue;
                }
                n++;
        }
        return r < 0 ? r : n;
}
