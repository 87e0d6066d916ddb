/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>

#include "json_field.h"
#include "macro.h"

/* 1: present with a value to read; 0: absent or null and allowed; <0: not allowed */
static int field_get(const json_t *obj, const char *name, JsonFieldFlags flags, json_t **ret) {
        json_t *v = json_object_get(obj, name);

        if (!v)
                return (flags & JSON_FIELD_OPTIONAL) ? 0 : -EBADMSG;
        if (json_is_null(v))
                return (flags & JSON_FIELD_NULLABLE) ? 0 : -EBADMSG;
        *ret = v;
        return 1;
}

int json_field_string(const json_t *obj, const char *name, size_t max_len, JsonFieldFlags flags, char **ret) {
        json_t *v;
        char *s;
        int r;

        r = field_get(obj, name, flags, &v);
        if (r <= 0) {
                if (r == 0)
                        *ret = NULL;
                return r;
        }
        if (!json_is_string(v) || json_string_length(v) > max_len)
                return -EBADMSG;
        if (flags & JSON_FIELD_PRINTABLE)
                for (const char *c = json_string_value(v); *c; c++)
                        if ((unsigned char) *c < 0x20 || *c == 0x7f)
                                return -EBADMSG;
        /* Jansson rejects \u0000 by default, so the length is the C string length */
        s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int json_field_bool(const json_t *obj, const char *name, JsonFieldFlags flags, bool *ret) {
        json_t *v;
        int r;

        r = field_get(obj, name, flags, &v);
        if (r <= 0)
                return r;
        if (!json_is_boolean(v))
                return -EBADMSG;
        *ret = json_is_true(v);
        return 0;
}

int json_field_int(const json_t *obj, const char *name, int64_t min, int64_t max, JsonFieldFlags flags, int64_t *ret) {
        json_t *v;
        int64_t i;
        int r;

        r = field_get(obj, name, flags, &v);
        if (r <= 0)
                return r;
        if (json_is_integer(v))
                i = json_integer_value(v);
        else if (json_is_real(v)) {
                double d = json_real_value(v);
                if (!isfinite(d) || d != floor(d) || d < (double) min || d > (double) max)
                        return -EBADMSG;
                i = (int64_t) d;
        } else
                return -EBADMSG;
        if (i < min || i > max)
                return -EBADMSG;
        *ret = i;
        return 0;
}

static int add(json_t *obj, const char *name, json_t *v) {
        if (!v)
                return -ENOMEM;
        return json_object_set_new(obj, name, v) < 0 ? -ENOMEM : 0;
}

int json_add_string(json_t *obj, const char *name, const char *value) {
        return add(obj, name, value ? json_string(value) : json_null());
}

int json_add_bool(json_t *obj, const char *name, bool value) {
        return add(obj, name, json_boolean(value));
}

int json_add_int(json_t *obj, const char *name, int64_t value) {
        return add(obj, name, json_integer(value));
}

int json_add_null(json_t *obj, const char *name) {
        return add(obj, name, json_null());
}
