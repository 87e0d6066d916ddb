/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "macro.h"
#include "response.h"

/* Names and codes: at_libraries packages/at_commons/lib/src/exception/error_message.dart.
 * errno choices are ours. */
static const struct {
        const char *code;
        int error;
        const char *description;
} error_table[] = {
        { "AT0001", -EIO, "server exception" },
        { "AT0002", -EIO, "data store exception" },
        { "AT0003", -EINVAL, "invalid syntax" },
        { "AT0004", -EIO, "socket error" },
        { "AT0005", -EMSGSIZE, "buffer limit exceeded" },
        { "AT0006", -EBUSY, "outbound connection limit exceeded" },
        { "AT0007", -ENXIO, "secondary server not found" },
        { "AT0008", -ECONNABORTED, "handshake failure" },
        { "AT0009", -EACCES, "unauthorized" },
        { "AT0010", -EIO, "internal server error" },
        { "AT0011", -EIO, "internal server exception" },
        { "AT0012", -EBUSY, "inbound connection limit exceeded" },
        { "AT0013", -EPERM, "connection blocked" },
        { "AT0014", -EIO, "unknown client exception" },
        { "AT0015", -ENOENT, "key not found" },
        { "AT0016", -EINVAL, "invalid key" },
        { "AT0021", -EHOSTUNREACH, "unable to connect to secondary" },
        { "AT0022", -EINVAL, "illegal arguments" },
        { "AT0023", -ETIMEDOUT, "timeout waiting for response" },
        { "AT0024", -EAGAIN, "server is paused" },
        { "AT0025", -EACCES, "APKAM authentication denied" },
        { "AT0026", -EACCES, "APKAM authentication failed" },
        { "AT0027", -EACCES, "APKAM access revoked" },
        { "AT0028", -EBUSY, "too many requests" },
        { "AT0029", -EKEYEXPIRED, "APKAM enrollment expired" },
        { "AT0030", -EINVAL, "invalid enrollment status" },
        { "AT0031", -EPERM, "cannot revoke own enrollment" },
        { "AT0401", -EACCES, "client authentication failed" },
};

int at_error_code_to_errno(const char *code) {
        if (!code)
                return -EPROTO;
        for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
                if (streq(error_table[i].code, code))
                        return error_table[i].error;
        return -EPROTO;
}

const char *at_error_code_describe(const char *code) {
        if (!code)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
                if (streq(error_table[i].code, code))
                        return error_table[i].description;
        return NULL;
}

static bool has_prefix(const char *s, size_t size, size_t pos, const char *prefix) {
        size_t n = strlen(prefix);
        return pos <= size && size - pos >= n && memcmp(s + pos, prefix, n) == 0;
}

static bool keyword_at(const char *line, size_t size, size_t pos) {
        return has_prefix(line, size, pos, "data:") || has_prefix(line, size, pos, "error:") ||
               has_prefix(line, size, pos, "notification:");
}

#define PROMPT_NAME_MAX 256

size_t at_response_prompt_length(const char *line, size_t size) {
        size_t pos = 0;

        /* Each step consumes "@" or "@name@"; pos strictly grows, so this ends. */
        for (;;) {
                if (keyword_at(line, size, pos))
                        return pos;
                if (pos >= size || line[pos] != '@')
                        return 0;
                if (pos + 1 == size)
                        return size; /* the line is nothing but prompts */
                if (keyword_at(line, size, pos + 1) || line[pos + 1] == '@') {
                        pos++;
                        continue;
                }
                size_t i = pos + 1;
                while (i < size && i - pos <= PROMPT_NAME_MAX && line[i] != '@' && line[i] != ':' &&
                       line[i] != ' ' && line[i] != '\t')
                        i++;
                if (i >= size || line[i] != '@')
                        return 0;
                pos = i + 1;
                if (pos == size)
                        return size;
        }
}

static int set_text(AtResponse *r, const char *s, size_t n) {
        r->text = strndup(s, n);
        if (!r->text)
                return -ENOMEM;
        r->text_size = strlen(r->text); /* an embedded NUL ends the text */
        return 0;
}

static bool is_error_code(const char *s, size_t n) {
        /* "AT" followed by four digits, e.g. AT0015, AT0401 */
        if (n < 6 || s[0] != 'A' || s[1] != 'T')
                return false;
        for (size_t i = 2; i < 6; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return n == 6 || s[6] == '-' || s[6] == ':' || s[6] == ' ';
}

static void set_code(AtResponse *r, const char *code, size_t n) {
        n = MIN(n, sizeof(r->error_code) - 1);
        memcpy(r->error_code, code, n);
        r->error_code[n] = 0;
        r->error = at_error_code_to_errno(r->error_code);
}

/* error:{"errorCode":"AT0015","errorDescription":"..."} (newer clients),
 * error:AT0015-<description> and error:AT0015:<message>: at_server
 * packages/at_secondary_server/lib/src/exception/global_exception_handler.dart and
 * .../verb/handler/response/base_response_handler.dart. */
static int parse_error(AtResponse *r, const char *s, size_t n) {
        r->error = -EPROTO;

        if (n > 0 && s[0] == '{') {
                _cleanup_(json_decrefp) json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
                if (json_is_object(j)) {
                        json_t *code = json_object_get(j, "errorCode");
                        json_t *desc = json_object_get(j, "errorDescription");
                        if (json_is_string(code) && is_error_code(json_string_value(code), json_string_length(code)))
                                set_code(r, json_string_value(code), 6);
                        if (json_is_string(desc))
                                return set_text(r, json_string_value(desc), json_string_length(desc));
                        return set_text(r, "", 0);
                }
                return set_text(r, s, n);
        }

        if (is_error_code(s, n)) {
                set_code(r, s, 6);
                s += 6, n -= 6;
                if (n > 0)
                        s++, n--;
        }
        return set_text(r, s, n);
}

int at_response_parse(const char *line, size_t size, AtResponse **ret) {
        _cleanup_(at_response_freep) AtResponse *r = NULL;
        int k;

        if (size > 0 && line[size - 1] == '\r')
                size--;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;

        size_t skip = at_response_prompt_length(line, size);
        const char *s = line + skip;
        size_t n = size - skip;

        if (has_prefix(s, n, 0, "data:")) {
                r->kind = AT_RESPONSE_DATA;
                k = set_text(r, s + 5, n - 5);
        } else if (has_prefix(s, n, 0, "error:")) {
                r->kind = AT_RESPONSE_ERROR;
                k = parse_error(r, s + 6, n - 6);
        } else if (has_prefix(s, n, 0, "notification:")) {
                r->kind = AT_RESPONSE_NOTIFICATION;
                s += 13, n -= 13;
                while (n > 0 && (*s == ' ' || *s == '\t'))
                        s++, n--;
                k = set_text(r, s, n);
        } else {
                r->kind = AT_RESPONSE_OTHER;
                k = set_text(r, s, n);
        }
        if (k < 0)
                return k;

        *ret = TAKE_PTR(r);
        return 0;
}

void at_response_free(AtResponse *r) {
        if (!r)
                return;
        free(r->text);
        free(r);
}

int at_response_data(const AtResponse *r, const char **ret_text) {
        switch (r->kind) {
        case AT_RESPONSE_DATA:
                *ret_text = r->text;
                return 0;
        case AT_RESPONSE_ERROR:
                return r->error < 0 ? r->error : -EPROTO;
        default:
                return -EPROTO;
        }
}
