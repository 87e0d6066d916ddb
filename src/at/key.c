/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdint.h>
#include <stdio.h>
#include <strings.h>

#include "key.h"

static const char *const key_type_names[_AT_KEY_TYPE_MAX] = {
        [AT_KEY_SELF] = "self",
        [AT_KEY_PUBLIC] = "public",
        [AT_KEY_SHARED] = "shared",
        [AT_KEY_LOCAL] = "local",
        [AT_KEY_PRIVATE] = "privatekey",
};

const char *at_key_type_to_string(AtKeyType t) {
        if ((unsigned) t >= _AT_KEY_TYPE_MAX)
                return NULL;
        return key_type_names[t];
}

/* Character classes from at_commons utils/at_key_regex_utils.dart: atSigns are [\w-] plus emoji,
 * entities [\w.-'*"] plus emoji, namespaces \w. Any non-ASCII byte stands in for "emoji". */
static bool is_word(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_atsign_char(unsigned char c) {
        return is_word(c) || c == '-' || c >= 0x80;
}

static bool is_entity_char(unsigned char c) {
        return is_word(c) || c >= 0x80 || strchr(".-'*\"", c);
}

static bool span_all(const char *s, size_t n, bool (*ok)(unsigned char)) {
        for (size_t i = 0; i < n; i++)
                if (!ok((unsigned char) s[i]))
                        return false;
        return true;
}

static bool atsign_span_valid(const char *s, size_t n) {
        if (n > 0 && s[0] == '@') {
                s++;
                n--;
        }
        return n >= 1 && n <= AT_ATSIGN_MAX_LENGTH && span_all(s, n, is_atsign_char);
}

bool at_atsign_is_valid(const char *atsign) {
        return atsign && atsign_span_valid(atsign, strnlen(atsign, AT_ATSIGN_MAX_LENGTH + 2));
}

static int atsign_normalize_span(const char *s, size_t n, char **ret) {
        if (!atsign_span_valid(s, n))
                return -EINVAL;
        if (s[0] == '@') {
                s++;
                n--;
        }
        char *a = malloc(n + 2);
        if (!a)
                return -ENOMEM;
        a[0] = '@';
        memcpy(a + 1, s, n);
        a[n + 1] = 0;
        *ret = a;
        return 0;
}

static int atsign_normalize(const char *atsign, char **ret) {
        if (!atsign)
                return -EINVAL;
        return atsign_normalize_span(atsign, strnlen(atsign, AT_ATSIGN_MAX_LENGTH + 2), ret);
}

bool at_atsign_equal(const char *a, const char *b) {
        if (!a || !b)
                return false;
        if (a[0] == '@')
                a++;
        if (b[0] == '@')
                b++;
        return strcasecmp(a, b) == 0;
}

void at_key_free(AtKey *key) {
        if (!key)
                return;
        free(key->name);
        free(key->namespace_);
        free(key->shared_by);
        free(key->shared_with);
        free(key);
}

static bool entity_valid(const char *name) {
        size_t n = name ? strlen(name) : 0;
        return n > 0 && n <= AT_KEY_MAX_LENGTH && span_all(name, n, is_entity_char);
}

static bool namespace_valid(const char *ns) {
        size_t n = strlen(ns);
        return n > 0 && n <= AT_KEY_MAX_LENGTH && span_all(ns, n, is_word);
}

/* The rules of at_commons at_key_validation_impl.dart (KeyShareValidation) and the key types of
 * at_key_regex_utils.dart, as they apply to a key's parts. */
static int key_validate(const AtKey *k) {
        if ((unsigned) k->type >= _AT_KEY_TYPE_MAX)
                return -EINVAL;
        if (!entity_valid(k->name))
                return -EINVAL;
        if (k->namespace_ && !namespace_valid(k->namespace_))
                return -EINVAL;
        if (k->shared_by ? !at_atsign_is_valid(k->shared_by) : k->type != AT_KEY_PRIVATE)
                return -EINVAL;
        if (k->shared_with && !at_atsign_is_valid(k->shared_with))
                return -EINVAL;
        switch (k->type) {
        case AT_KEY_SHARED:
                if (!k->shared_with || at_atsign_equal(k->shared_with, k->shared_by))
                        return -EINVAL;
                break;
        case AT_KEY_SELF:
                /* "@alice:x@alice" is a self key */
                if (k->shared_with && !at_atsign_equal(k->shared_with, k->shared_by))
                        return -EINVAL;
                if (k->cached)
                        return -EINVAL;
                break;
        default:
                if (k->shared_with)
                        return -EINVAL;
                if (k->cached && k->type != AT_KEY_PUBLIC)
                        return -EINVAL;
        }
        return 0;
}

int at_key_entity(const AtKey *key, char **ret) {
        char *s;
        int r;

        if (key->namespace_)
                r = asprintf(&s, "%s.%s", key->name, key->namespace_);
        else
                r = asprintf(&s, "%s", key->name);
        if (r < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int at_key_format(const AtKey *key, char **ret) {
        _cleanup_free_ char *entity = NULL, *prefix = NULL;
        char *s;
        int r;

        if (!key)
                return -EINVAL;
        r = key_validate(key);
        if (r < 0)
                return r;
        r = at_key_entity(key, &entity);
        if (r < 0)
                return r;

        switch (key->type) {
        case AT_KEY_PUBLIC:
                r = asprintf(&prefix, "public:");
                break;
        case AT_KEY_LOCAL:
                r = asprintf(&prefix, "local:");
                break;
        case AT_KEY_PRIVATE:
                r = asprintf(&prefix, "privatekey:");
                break;
        default:
                if (key->shared_with)
                        r = asprintf(&prefix, "%s%s:", key->shared_with[0] == '@' ? "" : "@", key->shared_with);
                else
                        r = asprintf(&prefix, "%s", "");
        }
        if (r < 0)
                return -ENOMEM;

        const char *by = key->shared_by ? key->shared_by : "";
        r = asprintf(&s, "%s%s%s%s%s", key->cached ? "cached:" : "", prefix, entity,
                     by[0] && by[0] != '@' ? "@" : "", by);
        if (r < 0)
                return -ENOMEM;
        if ((size_t) r > (key->cached ? AT_KEY_MAX_LENGTH_CACHED : AT_KEY_MAX_LENGTH)) {
                free(s);
                return -E2BIG;
        }
        *ret = s;
        return 0;
}

static int strdup_span(const char *s, size_t n, char **ret) {
        char *c = strndup(s, n);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

static bool has_prefix(const char *s, const char *prefix, const char **rest) {
        size_t n = strlen(prefix);
        if (strncmp(s, prefix, n) != 0)
                return false;
        *rest = s + n;
        return true;
}

/* entity[@owner] -> name, namespace, owner */
static int parse_entity_and_owner(AtKey *k, const char *p) {
        const char *at = strchr(p, '@');
        size_t elen = at ? (size_t) (at - p) : strlen(p);
        int r;

        if (strchr(p, ':'))
                return -EINVAL;
        if (at) {
                if (strchr(at + 1, '@'))
                        return -EINVAL;
                r = atsign_normalize_span(at + 1, strlen(at + 1), &k->shared_by);
                if (r < 0)
                        return r;
        } else if (k->type != AT_KEY_PRIVATE)
                return -EINVAL;

        if (elen == 0 || !span_all(p, elen, is_entity_char))
                return -EINVAL;

        /* namespace: after the last '.', when that is a non-empty run of word characters */
        const char *dot = memrchr(p, '.', elen);
        if (dot && dot > p && dot + 1 < p + elen && span_all(dot + 1, p + elen - dot - 1, is_word)) {
                r = strdup_span(dot + 1, p + elen - dot - 1, &k->namespace_);
                if (r < 0)
                        return r;
                elen = dot - p;
        }
        return strdup_span(p, elen, &k->name);
}

int at_key_parse(const char *text, AtKey **ret) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        const char *p;
        size_t len;
        int r;

        if (!text)
                return -EINVAL;
        len = strnlen(text, AT_KEY_MAX_LENGTH_CACHED + 1);
        if (len == 0)
                return -EINVAL;
        if (len > (strneq(text, "cached:", 7) ? AT_KEY_MAX_LENGTH_CACHED : AT_KEY_MAX_LENGTH))
                return -E2BIG;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) text[i] <= ' ' || text[i] == 0x7f)
                        return -EINVAL;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;

        p = text;
        if (has_prefix(p, "cached:", &p))
                k->cached = true;

        if (has_prefix(p, "public:", &p))
                k->type = AT_KEY_PUBLIC;
        else if (has_prefix(p, "local:", &p))
                k->type = AT_KEY_LOCAL;
        else if (has_prefix(p, "privatekey:", &p))
                k->type = AT_KEY_PRIVATE;
        else if (p[0] == '@') {
                const char *colon = strchr(p, ':');
                if (!colon)
                        return -EINVAL;
                r = atsign_normalize_span(p, colon - p, &k->shared_with);
                if (r < 0)
                        return r;
                p = colon + 1;
                k->type = AT_KEY_SHARED;
        } else
                k->type = AT_KEY_SELF;

        r = parse_entity_and_owner(k, p);
        if (r < 0)
                return r;

        /* at_key_regex_utils.dart RegexUtil.keyType: sharedWith == owner makes it a self key */
        if (k->type == AT_KEY_SHARED && at_atsign_equal(k->shared_with, k->shared_by))
                k->type = AT_KEY_SELF;

        r = key_validate(k);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

static int dup_or_null(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int at_key_new(AtKeyType type, const char *name, const char *namespace_, const char *shared_by,
               const char *shared_with, AtKey **ret) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        int r;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->type = type;
        r = dup_or_null(name, &k->name);
        if (r < 0)
                return r;
        if (namespace_ && namespace_[0]) {
                r = dup_or_null(namespace_, &k->namespace_);
                if (r < 0)
                        return r;
        }
        if (shared_by) {
                r = atsign_normalize(shared_by, &k->shared_by);
                if (r < 0)
                        return r;
        }
        if (shared_with) {
                r = atsign_normalize(shared_with, &k->shared_with);
                if (r < 0)
                        return r;
        }
        r = key_validate(k);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

int at_key_copy(const AtKey *key, AtKey **ret) {
        AtKey *k;
        int r;

        r = at_key_new(key->type, key->name, key->namespace_, key->shared_by, key->shared_with, &k);
        if (r < 0)
                return r;
        k->cached = key->cached;
        *ret = k;
        return 0;
}
