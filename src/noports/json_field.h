/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Jansson (>= 2.9) provides json_decrefp() for the cleanup attribute */
#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

/* Typed, bounded reads of fields from hostile JSON objects. Each returns 0 and sets *ret, or
 * -EBADMSG when the field has the wrong type or is out of bounds. "optional" means a missing
 * field is fine (ret keeps its default); "nullable" means JSON null is accepted too. Strings
 * are returned as new copies (NULL for null/missing). */

typedef enum JsonFieldFlags {
        JSON_FIELD_REQUIRED = 0,
        JSON_FIELD_OPTIONAL = 1 << 0, /* may be absent */
        JSON_FIELD_NULLABLE = 1 << 1, /* may be null */
        JSON_FIELD_PRINTABLE = 1 << 2, /* strings: no control characters (text shown to a user) */
} JsonFieldFlags;

int json_field_string(const json_t *obj, const char *name, size_t max_len, JsonFieldFlags flags, char **ret);
int json_field_bool(const json_t *obj, const char *name, JsonFieldFlags flags, bool *ret);
/* integers in [min, max]; doubles with an integral value are accepted as Dart may send them */
int json_field_int(const json_t *obj, const char *name, int64_t min, int64_t max, JsonFieldFlags flags, int64_t *ret);

/* Adds to obj (insertion order matters for signatures); a NULL string is written as null. */
int json_add_string(json_t *obj, const char *name, const char *value);
int json_add_bool(json_t *obj, const char *name, bool value);
int json_add_int(json_t *obj, const char *name, int64_t value);
int json_add_null(json_t *obj, const char *name);
