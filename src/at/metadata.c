/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metadata.h"

#define METADATA_STRING_MAX 4096

void at_metadata_done(AtMetadata *m) {
        char **strings[] = {
                &m->data_signature, &m->shared_key_status, &m->shared_key_enc, &m->pub_key_cs, &m->encoding,
                &m->enc_key_name, &m->enc_algo, &m->iv_nonce, &m->ske_enc_key_name, &m->ske_enc_algo,
                &m->created_by, &m->updated_by, &m->created_at, &m->updated_at, &m->available_at,
                &m->expires_at, &m->refresh_at,
        };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                free(*strings[i]);
        *m = (AtMetadata) {};
}

int at_metadata_set(char **field, const char *value) {
        char *s = NULL;
        if (value) {
                s = strdup(value);
                if (!s)
                        return -ENOMEM;
        }
        free(*field);
        *field = s;
        return 0;
}

/* A value the syntax can carry: [^:@\s]+ (at_commons VerbSyntax.metadataFragment). */
static bool value_ok(const char *s) {
        if (!s || !*s || strlen(s) > METADATA_STRING_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (*p == ':' || *p == '@' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' ||
                    *p == '\f')
                        return false;
        return true;
}

static int append(char **buf, size_t *size, const char *format, ...) _printf_(3, 4);
static int append(char **buf, size_t *size, const char *format, ...) {
        va_list ap;
        char *piece = NULL;
        int n;

        va_start(ap, format);
        n = vasprintf(&piece, format, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        char *b = realloc(*buf, *size + (size_t) n + 1);
        if (!b) {
                free(piece);
                return -ENOMEM;
        }
        memcpy(b + *size, piece, (size_t) n + 1);
        *size += (size_t) n;
        *buf = b;
        free(piece);
        return 0;
}

static int append_bool(char **buf, size_t *size, const char *name, AtTristate v) {
        if (v == AT_UNSET)
                return 0;
        return append(buf, size, ":%s:%s", name, v == AT_TRUE ? "true" : "false");
}

static int append_string(char **buf, size_t *size, const char *name, const char *v) {
        if (!v)
                return 0;
        if (!value_ok(v))
                return -EINVAL;
        return append(buf, size, ":%s:%s", name, v);
}

/* The order is the server's: at_commons lib/src/verb/syntax.dart, metadataFragment. */
int at_metadata_render(const AtMetadata *m, char **ret) {
        _cleanup_free_ char *buf = strdup("");
        size_t size = 0;
        int r = 0;

        if (!buf)
                return -ENOMEM;
        if (!m) {
                *ret = TAKE_PTR(buf);
                return 0;
        }
        if (m->has_ttl && r >= 0)
                r = append(&buf, &size, ":ttl:%" PRIi64, m->ttl);
        if (m->has_ttb && r >= 0)
                r = append(&buf, &size, ":ttb:%" PRIi64, m->ttb);
        if (m->has_ttr && r >= 0)
                r = append(&buf, &size, ":ttr:%" PRIi64, m->ttr);
        if (r >= 0)
                r = append_bool(&buf, &size, "ccd", m->ccd);
        if (r >= 0)
                r = append_string(&buf, &size, "dataSignature", m->data_signature);
        if (r >= 0)
                r = append_string(&buf, &size, "sharedKeyStatus", m->shared_key_status);
        if (r >= 0)
                r = append_bool(&buf, &size, "isBinary", m->is_binary);
        if (r >= 0)
                r = append_bool(&buf, &size, "isEncrypted", m->is_encrypted);
        if (r >= 0)
                r = append_string(&buf, &size, "sharedKeyEnc", m->shared_key_enc);
        if (r >= 0)
                r = append_string(&buf, &size, "pubKeyCS", m->pub_key_cs);
        if (r >= 0)
                r = append_string(&buf, &size, "encoding", m->encoding);
        if (r >= 0)
                r = append_string(&buf, &size, "encKeyName", m->enc_key_name);
        if (r >= 0)
                r = append_string(&buf, &size, "encAlgo", m->enc_algo);
        if (r >= 0)
                r = append_string(&buf, &size, "ivNonce", m->iv_nonce);
        if (r >= 0)
                r = append_string(&buf, &size, "skeEncKeyName", m->ske_enc_key_name);
        if (r >= 0)
                r = append_string(&buf, &size, "skeEncAlgo", m->ske_enc_algo);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Numbers as JSON integers (the server's toJson), or decimal strings. */
static int read_number(const json_t *o, const char *name, bool *has, int64_t *v) {
        const json_t *j = json_object_get(o, name);
        if (!j || json_is_null(j))
                return 0;
        if (json_is_integer(j)) {
                *v = (int64_t) json_integer_value(j);
        } else if (json_is_string(j)) {
                const char *s = json_string_value(j);
                char *end;
                errno = 0;
                long long x = strtoll(s, &end, 10);
                if (errno != 0 || end == s || *end != 0)
                        return -EBADMSG;
                *v = x;
        } else
                return -EBADMSG;
        *has = true;
        return 0;
}

static int read_bool(const json_t *o, const char *name, AtTristate *v) {
        const json_t *j = json_object_get(o, name);
        if (!j || json_is_null(j))
                return 0;
        if (json_is_boolean(j))
                *v = json_is_true(j) ? AT_TRUE : AT_FALSE;
        else if (json_is_string(j) && streq(json_string_value(j), "true"))
                *v = AT_TRUE;
        else if (json_is_string(j) && streq(json_string_value(j), "false"))
                *v = AT_FALSE;
        else
                return -EBADMSG;
        return 0;
}

static int read_string(const json_t *o, const char *name, char **v) {
        const json_t *j = json_object_get(o, name);
        if (!j || json_is_null(j))
                return 0;
        if (!json_is_string(j) || json_string_length(j) > METADATA_STRING_MAX ||
            strlen(json_string_value(j)) != json_string_length(j))
                return -EBADMSG;
        return at_metadata_set(v, json_string_value(j));
}

/* Field names: at_server packages/at_persistence_secondary_server/lib/src/model/at_meta_data.dart
 * (toJson) with at_commons AtConstants. */
int at_metadata_from_json(const json_t *o, AtMetadata *ret) {
        AtMetadata m = {};
        int r = 0;

        if (!json_is_object(o))
                return -EBADMSG;

        r = read_number(o, "ttl", &m.has_ttl, &m.ttl);
        if (r >= 0)
                r = read_number(o, "ttb", &m.has_ttb, &m.ttb);
        if (r >= 0)
                r = read_number(o, "ttr", &m.has_ttr, &m.ttr);
        if (r >= 0)
                r = read_bool(o, "ccd", &m.ccd);
        if (r >= 0)
                r = read_bool(o, "isBinary", &m.is_binary);
        if (r >= 0)
                r = read_bool(o, "isEncrypted", &m.is_encrypted);

        static const struct {
                const char *name;
                size_t offset;
        } strings[] = {
                { "dataSignature", offsetof(AtMetadata, data_signature) },
                { "sharedKeyStatus", offsetof(AtMetadata, shared_key_status) },
                { "sharedKeyEnc", offsetof(AtMetadata, shared_key_enc) },
                { "pubKeyCS", offsetof(AtMetadata, pub_key_cs) },
                { "encoding", offsetof(AtMetadata, encoding) },
                { "encKeyName", offsetof(AtMetadata, enc_key_name) },
                { "encAlgo", offsetof(AtMetadata, enc_algo) },
                { "ivNonce", offsetof(AtMetadata, iv_nonce) },
                { "skeEncKeyName", offsetof(AtMetadata, ske_enc_key_name) },
                { "skeEncAlgo", offsetof(AtMetadata, ske_enc_algo) },
                { "createdBy", offsetof(AtMetadata, created_by) },
                { "updatedBy", offsetof(AtMetadata, updated_by) },
                { "createdAt", offsetof(AtMetadata, created_at) },
                { "updatedAt", offsetof(AtMetadata, updated_at) },
                { "availableAt", offsetof(AtMetadata, available_at) },
                { "expiresAt", offsetof(AtMetadata, expires_at) },
                { "refreshAt", offsetof(AtMetadata, refresh_at) },
        };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(strings); i++)
                r = read_string(o, strings[i].name, (char **) ((uint8_t *) &m + strings[i].offset));

        if (r < 0) {
                at_metadata_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}
