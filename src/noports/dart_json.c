/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "dart_json.h"
#include "macro.h"

typedef struct Buffer {
        char *data;
        size_t size;
        size_t allocated;
} Buffer;

static int buffer_append(Buffer *b, const char *s, size_t n) {
        if (b->size + n + 1 > b->allocated) {
                size_t want = MAX(b->allocated * 2, b->size + n + 1);
                want = MAX(want, (size_t) 256);
                char *p = realloc(b->data, want);
                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->allocated = want;
        }
        memcpy(b->data + b->size, s, n);
        b->size += n;
        b->data[b->size] = '\0';
        return 0;
}

static int buffer_appends(Buffer *b, const char *s) {
        return buffer_append(b, s, strlen(s));
}

/* Dart's JSON stringifier (dart:convert, _JsonStringifier.writeStringContent) escapes only
 * characters below 0x20, '"' and '\\'; valid UTF-8 from Jansson has no lone surrogates. */
static int encode_string(Buffer *b, const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        size_t start = 0;
        int r;

        r = buffer_append(b, "\"", 1);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char esc[7];
                size_t esc_len = 2;

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                r = buffer_append(b, s + start, i - start);
                if (r < 0)
                        return r;
                esc[0] = '\\';
                switch (c) {
                case '"': esc[1] = '"'; break;
                case '\\': esc[1] = '\\'; break;
                case '\b': esc[1] = 'b'; break;
                case '\t': esc[1] = 't'; break;
                case '\n': esc[1] = 'n'; break;
                case '\f': esc[1] = 'f'; break;
                case '\r': esc[1] = 'r'; break;
                default:
                        esc[1] = 'u';
                        esc[2] = '0';
                        esc[3] = '0';
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 0xf];
                        esc_len = 6;
                }
                r = buffer_append(b, esc, esc_len);
                if (r < 0)
                        return r;
                start = i + 1;
        }
        r = buffer_append(b, s + start, n - start);
        if (r < 0)
                return r;
        return buffer_append(b, "\"", 1);
}

/* Shortest decimal digits that read back as the same double, then laid out as ECMAScript's
 * Number.prototype.toString (which Dart follows), with ".0" added to integral values as Dart
 * does when there is no exponent. */
static int encode_double(Buffer *b, double v) {
        char digits_buf[40], out[64];
        char digits[20];
        int ndigits = 0, exp10 = 0;

        if (!isfinite(v))
                return -EINVAL;
        if (v == 0)
                return buffer_appends(b, signbit(v) ? "-0.0" : "0.0");

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(digits_buf, sizeof digits_buf, "%.*e", prec - 1, fabs(v));
                if (strtod(digits_buf, NULL) == fabs(v))
                        break;
        }
        /* digits_buf is d[.ddd]e±XX */
        for (const char *p = digits_buf; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9' && ndigits < (int) sizeof digits - 1)
                        digits[ndigits++] = *p;
        digits[ndigits] = '\0';
        exp10 = atoi(strchr(digits_buf, 'e') + 1);
        while (ndigits > 1 && digits[ndigits - 1] == '0')
                digits[--ndigits] = '\0';

        /* n = position of the decimal point relative to the digit string */
        int n = exp10 + 1;
        size_t o = 0;
        if (v < 0)
                out[o++] = '-';
        if (ndigits <= n && n <= 21) {
                memcpy(out + o, digits, ndigits);
                o += ndigits;
                for (int i = ndigits; i < n; i++)
                        out[o++] = '0';
                memcpy(out + o, ".0", 2);
                o += 2;
        } else if (0 < n && n <= 21) {
                memcpy(out + o, digits, n);
                o += n;
                out[o++] = '.';
                memcpy(out + o, digits + n, ndigits - n);
                o += ndigits - n;
        } else if (-6 < n && n <= 0) {
                memcpy(out + o, "0.", 2);
                o += 2;
                for (int i = 0; i < -n; i++)
                        out[o++] = '0';
                memcpy(out + o, digits, ndigits);
                o += ndigits;
        } else {
                out[o++] = digits[0];
                if (ndigits > 1) {
                        out[o++] = '.';
                        memcpy(out + o, digits + 1, ndigits - 1);
                        o += ndigits - 1;
                }
                o += snprintf(out + o, sizeof out - o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
        }
        return buffer_append(b, out, o);
}

static int encode_value(Buffer *b, const json_t *v, unsigned depth) {
        char num[32];
        int r;

        if (depth > 64)
                return -ELOOP;

        switch (json_typeof(v)) {
        case JSON_NULL:
                return buffer_appends(b, "null");
        case JSON_TRUE:
                return buffer_appends(b, "true");
        case JSON_FALSE:
                return buffer_appends(b, "false");
        case JSON_INTEGER:
                snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return buffer_appends(b, num);
        case JSON_REAL:
                return encode_double(b, json_real_value(v));
        case JSON_STRING:
                return encode_string(b, json_string_value(v), json_string_length(v));
        case JSON_ARRAY: {
                size_t i;
                json_t *item;

                r = buffer_append(b, "[", 1);
                if (r < 0)
                        return r;
                json_array_foreach(v, i, item) {
                        if (i > 0 && (r = buffer_append(b, ",", 1)) < 0)
                                return r;
                        r = encode_value(b, item, depth + 1);
                        if (r < 0)
                                return r;
                }
                return buffer_append(b, "]", 1);
        }
        case JSON_OBJECT: {
                const char *key;
                json_t *item;
                bool first = true;

                r = buffer_append(b, "{", 1);
                if (r < 0)
                        return r;
                /* Jansson (>= 2.8) iterates objects in insertion order, i.e. received order */
                json_object_foreach((json_t *) v, key, item) {
                        if (!first && (r = buffer_append(b, ",", 1)) < 0)
                                return r;
                        first = false;
                        r = encode_string(b, key, strlen(key));
                        if (r < 0)
                                return r;
                        r = buffer_append(b, ":", 1);
                        if (r < 0)
                                return r;
                        r = encode_value(b, item, depth + 1);
                        if (r < 0)
                                return r;
                }
                return buffer_append(b, "}", 1);
        }
        }
        return -EINVAL;
}

int dart_json_encode(const json_t *value, char **ret) {
        Buffer b = {};
        int r;

        if (!value)
                return -EINVAL;
        r = encode_value(&b, value, 0);
        if (r < 0) {
                free(b.data);
                return r;
        }
        *ret = b.data;
        return 0;
}

int dart_json_parse_object(const char *text, size_t size, size_t max_size, json_t **ret) {
        json_error_t error;
        json_t *j;

        if (size > max_size)
                return -EMSGSIZE;
        j = json_loadb(text, size, JSON_REJECT_DUPLICATES, &error);
        if (!j)
                return -EBADMSG;
        if (!json_is_object(j)) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}
