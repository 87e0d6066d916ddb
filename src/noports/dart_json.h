/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <jansson.h>

/* Serialises a JSON value exactly as Dart's jsonEncode() does, because NoPorts signs those bytes
 * and the verifier rebuilds them: no whitespace, object keys in insertion order, only '"', '\\'
 * and control characters escaped (\b \t \n \f \r, else \u00xx in lower-case hex), '/' and
 * non-ASCII written raw, integers as integers, doubles as Dart's double.toString() ("1.0",
 * "0.1", "1e+21"). Jansson's own json_dumps() differs on \u escapes (upper-case hex) and on
 * doubles (17 significant digits), hence this serialiser. NaN and infinities are -EINVAL. */
int dart_json_encode(const json_t *value, char **ret);

/* Helpers for the bounded parse of hostile input: decodes text (at most max_size bytes, with
 * duplicate keys rejected) into an object; -EMSGSIZE if too long, -EBADMSG if not a JSON object. */
int dart_json_parse_object(const char *text, size_t size, size_t max_size, json_t **ret);
