/* SPDX-License-Identifier: BSD-3-Clause */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_uint(const char *s, uint64_t max, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int cli_parse_port(const char *s, bool allow_zero, uint16_t *ret) {
        uint64_t v;

        if (cli_parse_uint(s, 65535, &v) < 0)
                return -EINVAL;
        if (v == 0 && !allow_zero)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

size_t cli_strv_length(char *const *list) {
        size_t n = 0;

        while (list && list[n])
                n++;
        return n;
}

int cli_strv_push(char ***list, const char *value) {
        size_t n = cli_strv_length(*list);
        char **l;
        char *copy;

        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        l = realloc(*list, sizeof(char *) * (n + 2));
        if (!l) {
                free(copy);
                return -ENOMEM;
        }
        l[n] = copy;
        l[n + 1] = NULL;
        *list = l;
        return 0;
}

int cli_strv_extend_comma(char ***list, const char *value) {
        const char *p = value;

        for (;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                _cleanup_free_ char *item = NULL;
                int r;

                while (len > 0 && isspace((unsigned char) *p)) {
                        p++;
                        len--;
                }
                while (len > 0 && isspace((unsigned char) p[len - 1]))
                        len--;
                if (len > 0) {
                        item = strndup(p, len);
                        if (!item)
                                return -ENOMEM;
                        r = cli_strv_push(list, item);
                        if (r < 0)
                                return r;
                }
                if (!comma)
                        return 0;
                p = comma + 1;
        }
}

char *cli_strv_join(char *const *list, const char *sep) {
        size_t len = 1, n = cli_strv_length(list);
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                len += strlen(list[i]) + strlen(sep);
        s = malloc(len);
        if (!s)
                return NULL;
        p = s;
        *p = 0;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        p = stpcpy(p, sep);
                p = stpcpy(p, list[i]);
        }
        return s;
}

/* at_commons utils/at_key_regex_utils.dart: 1 to 55 characters after the '@' */
#define ATSIGN_MAX 55

int cli_atsign_normalize(const char *s, char **ret) {
        size_t len;
        char *a;

        if (!s)
                return -EINVAL;
        if (s[0] == '@')
                s++;
        len = strlen(s);
        if (len == 0 || len > ATSIGN_MAX)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;
                if (c <= ' ' || c == 0x7f || c == ':' || c == '@' || c == ',')
                        return -EINVAL;
        }
        a = malloc(len + 2);
        if (!a)
                return -ENOMEM;
        a[0] = '@';
        for (size_t i = 0; i <= len; i++)
                a[i + 1] = (char) tolower((unsigned char) s[i]);
        *ret = a;
        return 0;
}

int cli_device_name_normalize(const char *s, char **ret) {
        _cleanup_free_ char *d = NULL;
        size_t n = 0;
        bool in_space = false;

        if (!s)
                return -EINVAL;
        d = malloc(strlen(s) + 1);
        if (!d)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;
                if (isspace(c)) {
                        if (!in_space)
                                d[n++] = '_';
                        in_space = true;
                        continue;
                }
                in_space = false;
                d[n++] = (char) tolower(c);
        }
        d[n] = 0;
        if (n < 2 || n > 36)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char c = d[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (i > 0 && c == '-');
                if (!ok)
                        return -EINVAL;
        }
        *ret = TAKE_PTR(d);
        return 0;
}

int cli_parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "ms", 1000ULL },      { "us", 1ULL },          { "d", 86400000000ULL },
                { "h", 3600000000ULL }, { "m", 60000000ULL },    { "s", 1000000ULL },
        };
        uint64_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        for (;;) {
                unsigned long long v;
                uint64_t mult = 1000000ULL;
                char *end;
                size_t ulen = 0;

                while (isspace((unsigned char) *p))
                        p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                errno = 0;
                v = strtoull(p, &end, 10);
                if (errno != 0 || v > 1000000000ULL)
                        return -EINVAL;
                p = end;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].suffix);
                        if (strncmp(p, units[i].suffix, l) == 0) {
                                mult = units[i].usec;
                                ulen = l;
                                break;
                        }
                }
                p += ulen;
                if (v > UINT64_MAX / mult || total > UINT64_MAX - v * mult)
                        return -EINVAL;
                total += v * mult;
                while (isspace((unsigned char) *p))
                        p++;
                if (*p == 0)
                        break;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
        *ret_usec = total;
        return 0;
}

int cli_default_keys_file(const char *atsign, char **ret) {
        const char *home = getenv("HOME");

        if (!home || !*home) {
                struct passwd *pw = getpwuid(getuid());
                if (!pw || !pw->pw_dir)
                        return -ENOENT;
                home = pw->pw_dir;
        }
        /* upstream at_cli_commons: ~/.atsign/keys/<atSign>_key.atKeys */
        if (asprintf(ret, "%s/.atsign/keys/%s_key.atKeys", home, atsign) < 0)
                return -ENOMEM;
        return 0;
}

int cli_set_string(char **field, const char *value) {
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

int cli_invalid(const char *program, const char *what, const char *value) {
        fprintf(stderr, "%s: invalid %s: '%s'\n", program, what, value);
        return -EINVAL;
}
