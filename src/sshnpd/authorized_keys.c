/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnpd -s: a manager's ssh public key into ~/.ssh/authorized_keys (upstream
 * sshnpd_impl.dart _handlePublicKeyNotification; spec §7.3). */
#include <fcntl.h>
#include <sys/stat.h>

#include "fs.h"
#include "log.h"
#include "protocol.h"

#define AUTHORIZED_KEYS_MAX (1024 * 1024)
#define PUBLIC_KEY_MAX 16384

static bool key_type_allowed(const char *line) {
        static const char *const prefixes[] = { "ecdsa-sha2-nistp", "rsa-sha2-", "ssh-rsa ", "ssh-ed25519 " };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strneq(line, prefixes[i], strlen(prefixes[i])))
                        return true;
        return false;
}

int authorized_keys_add(const char *home, const char *permissions, const char *public_key_line) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *old = NULL, *line = NULL, *key = NULL;
        size_t old_size = 0, len;
        _cleanup_close_ int fd = -1;
        int r;

        /* one line of printable text, of a known type */
        key = strdup(public_key_line);
        if (!key)
                return -ENOMEM;
        len = strlen(key);
        while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' || key[len - 1] == ' '))
                key[--len] = 0;
        if (len == 0 || len > PUBLIC_KEY_MAX || !key_type_allowed(key))
                return -EINVAL;
        for (const char *c = key; *c; c++)
                if ((unsigned char) *c < ' ' || *c == 0x7f)
                        return -EINVAL;

        if (asprintf(&dir, "%s/.ssh", home) < 0 || asprintf(&path, "%s/authorized_keys", dir) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        r = read_file_bounded(path, AUTHORIZED_KEYS_MAX, &old, &old_size);
        if (r < 0 && r != -ENOENT)
                return r;
        if (old && strstr(old, key))
                return 0; /* already there */
        if (asprintf(&line, "%s%s%s%s\n", old && old_size > 0 && old[old_size - 1] != '\n' ? "\n" : "",
                     permissions ?: "", permissions && *permissions ? " " : "", key) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, line, strlen(line)) != (ssize_t) strlen(line))
                return -EIO;
        return 0;
}
