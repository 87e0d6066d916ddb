/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aes.h"
#include "log.h"
#include "macro.h"
#include "verbs.h"

/* Command syntax: at_libraries packages/at_commons/lib/src/verb/syntax.dart (VerbSyntax). */

#define KEY_MAX 1024
#define SCAN_KEYS_MAX 100000

static bool key_ok(const char *key) {
        if (!key || !*key || strlen(key) > KEY_MAX)
                return false;
        for (const char *p = key; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

static bool value_ok(const char *value) {
        return value && !strpbrk(value, "\r\n");
}

int at_verb_format_update(const char *key, const AtMetadata *metadata, const char *value, char **ret) {
        _cleanup_free_ char *meta = NULL;
        int r;

        /* update<metadata>:<key> <value>: the value follows a blank and must not be empty */
        if (!key_ok(key) || !value_ok(value) || !*value)
                return -EINVAL;
        r = at_metadata_render(metadata, &meta);
        if (r < 0)
                return r;
        return asprintf(ret, "update%s:%s %s", meta, key, value) < 0 ? -ENOMEM : 0;
}

static int command_data(AtConn *conn, const char *cmd, uint64_t timeout_usec, char **ret) {
        return at_conn_command_data(conn, cmd, timeout_usec, ret);
}

int at_verb_update(AtConn *conn, const char *key, const AtMetadata *metadata, const char *value,
                   uint64_t timeout_usec) {
        _cleanup_free_ char *cmd = NULL;
        int r = at_verb_format_update(key, metadata, value, &cmd);
        if (r < 0)
                return r;
        return command_data(conn, cmd, timeout_usec, NULL);
}

int at_verb_parse_all(const char *json, size_t size, char **ret_value, AtMetadata *ret_metadata) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        AtMetadata m = {};
        int r;

        j = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        json_t *data = json_object_get(j, "data");
        if (data && !json_is_null(data) && !json_is_string(data))
                return -EBADMSG;
        if (!data || json_is_null(data))
                return -ENOENT;
        json_t *meta = json_object_get(j, "metaData");
        if (meta && !json_is_null(meta)) {
                r = at_metadata_from_json(meta, &m);
                if (r < 0)
                        return r;
        }
        if (ret_value) {
                *ret_value = strndup(json_string_value(data), json_string_length(data));
                if (!*ret_value) {
                        at_metadata_done(&m);
                        return -ENOMEM;
                }
        }
        if (ret_metadata)
                *ret_metadata = m;
        else
                at_metadata_done(&m);
        return 0;
}

/* llookup/lookup share the shape: "<verb>:<key>" or "<verb>:all:<key>" */
static int lookup_common(AtConn *conn, const char *verb, const char *key, uint64_t timeout_usec, char **ret_value,
                         AtMetadata *ret_metadata) {
        _cleanup_free_ char *cmd = NULL, *data = NULL;
        int r;

        if (!key_ok(key))
                return -EINVAL;
        if (asprintf(&cmd, "%s:%s%s", verb, ret_metadata ? "all:" : "", key) < 0)
                return -ENOMEM;
        r = command_data(conn, cmd, timeout_usec, &data);
        if (r < 0)
                return r;
        if (ret_metadata)
                return at_verb_parse_all(data, strlen(data), ret_value, ret_metadata);
        /* the server answers "data:null" when a key has no value (SecondaryUtil.prepareResponseData) */
        if (streq(data, "null"))
                return -ENOENT;
        if (ret_value)
                *ret_value = TAKE_PTR(data);
        return 0;
}

int at_verb_llookup(AtConn *conn, const char *key, uint64_t timeout_usec, char **ret_value, AtMetadata *ret_metadata) {
        return lookup_common(conn, "llookup", key, timeout_usec, ret_value, ret_metadata);
}

int at_verb_lookup(AtConn *conn, const char *key, uint64_t timeout_usec, char **ret_value, AtMetadata *ret_metadata) {
        return lookup_common(conn, "lookup", key, timeout_usec, ret_value, ret_metadata);
}

static int format_plookup(const char *key, bool bypass_cache, char **ret) {
        if (!key_ok(key))
                return -EINVAL;
        return asprintf(ret, "plookup:%s%s", bypass_cache ? "bypassCache:true:" : "", key) < 0 ? -ENOMEM : 0;
}

int at_verb_plookup(AtConn *conn, const char *key, bool bypass_cache, uint64_t timeout_usec, char **ret_value) {
        _cleanup_free_ char *cmd = NULL, *data = NULL;
        int r;

        r = format_plookup(key, bypass_cache, &cmd);
        if (r < 0)
                return r;
        r = command_data(conn, cmd, timeout_usec, &data);
        if (r < 0)
                return r;
        if (streq(data, "null"))
                return -ENOENT;
        if (ret_value)
                *ret_value = TAKE_PTR(data);
        return 0;
}

int at_verb_format_scan(const char *regex, bool show_hidden, char **ret) {
        if (regex && (!*regex || strpbrk(regex, " \t\r\n") || strlen(regex) > KEY_MAX))
                return -EINVAL; /* the syntax takes the regex as one \S+ word */
        return asprintf(ret, "scan%s%s%s", show_hidden ? ":showhidden:true" : "", regex ? " " : "", regex ?: "") < 0
                       ? -ENOMEM
                       : 0;
}

int at_verb_scan(AtConn *conn, const char *regex, bool show_hidden, uint64_t timeout_usec, char ***ret_keys) {
        _cleanup_free_ char *cmd = NULL, *data = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_strv_free_ char **keys = NULL;
        int r;

        r = at_verb_format_scan(regex, show_hidden, &cmd);
        if (r < 0)
                return r;
        r = command_data(conn, cmd, timeout_usec, &data);
        if (r < 0)
                return r;
        j = json_loads(data, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_array(j) || json_array_size(j) > SCAN_KEYS_MAX)
                return -EBADMSG;
        keys = calloc(json_array_size(j) + 1, sizeof(char *));
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_size(j); i++) {
                json_t *k = json_array_get(j, i);
                if (!json_is_string(k))
                        return -EBADMSG;
                keys[i] = strndup(json_string_value(k), json_string_length(k));
                if (!keys[i])
                        return -ENOMEM;
        }
        *ret_keys = TAKE_PTR(keys);
        return 0;
}

int at_verb_delete(AtConn *conn, const char *key, uint64_t timeout_usec) {
        _cleanup_free_ char *cmd = NULL;
        if (!key_ok(key))
                return -EINVAL;
        if (asprintf(&cmd, "delete:%s", key) < 0)
                return -ENOMEM;
        return command_data(conn, cmd, timeout_usec, NULL);
}

static int make_uuid(char **ret) {
        uint8_t b[16];
        at_random_bytes(b, sizeof(b));
        b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80);
        return asprintf(ret, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                        b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]) < 0
                       ? -ENOMEM
                       : 0;
}

static bool id_ok(const char *id) {
        /* [\w\d\-\_]+ */
        if (!*id || strlen(id) > 128)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '_'))
                        return false;
        return true;
}

int at_verb_format_notify(const AtNotifyParams *p, char **ret, char **ret_id) {
        _cleanup_free_ char *id = NULL, *meta = NULL, *ttln = NULL;
        const char *type = p->message_type ?: "key";
        int r;

        /* notify needs the scope: "@bob:..." or "public:..." */
        if (!key_ok(p->key) || (p->key[0] != '@' && !strneq(p->key, "public:", 7)))
                return -EINVAL;
        if (!streq(type, "key") && !streq(type, "text"))
                return -EINVAL;
        if (p->value && (!value_ok(p->value) || !*p->value))
                return -EINVAL;
        if (p->ttln_ms < 0)
                return -EINVAL;
        if (p->id) {
                if (!id_ok(p->id))
                        return -EINVAL;
                id = strdup(p->id);
                if (!id)
                        return -ENOMEM;
        } else {
                r = make_uuid(&id);
                if (r < 0)
                        return r;
        }
        r = at_metadata_render(p->metadata, &meta);
        if (r < 0)
                return r;
        if (p->ttln_ms > 0 && asprintf(&ttln, ":ttln:%" PRIi64, p->ttln_ms) < 0)
                return -ENOMEM;

        r = asprintf(ret, "notify:id:%s:%s:messageType:%s%s%s:%s%s%s", id,
                     p->operation == AT_NOTIFY_DELETE ? "delete" : "update", type, ttln ?: "", meta, p->key,
                     p->value ? ":" : "", p->value ?: "");
        if (r < 0)
                return -ENOMEM;
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

int at_verb_notify(AtConn *conn, const AtNotifyParams *params, uint64_t timeout_usec, char **ret_id) {
        _cleanup_free_ char *cmd = NULL;
        int r = at_verb_format_notify(params, &cmd, NULL);
        if (r < 0)
                return r;
        return command_data(conn, cmd, timeout_usec, ret_id);
}

int at_verb_notify_status(AtConn *conn, const char *id, uint64_t timeout_usec, char **ret_status) {
        _cleanup_free_ char *cmd = NULL;
        if (!id || !key_ok(id))
                return -EINVAL;
        if (asprintf(&cmd, "notify:status:%s", id) < 0)
                return -ENOMEM;
        return command_data(conn, cmd, timeout_usec, ret_status);
}

int at_verb_noop(AtConn *conn, uint64_t timeout_usec) {
        return command_data(conn, "noop:0", timeout_usec, NULL);
}

/* ---- asynchronous ---- */

typedef struct DataClosure {
        AtVerbDataHandler handler;
        void *userdata;
} DataClosure;

static void on_response(AtConn *conn, int error, const AtResponse *response, void *userdata) {
        DataClosure d = *(DataClosure *) userdata;
        const char *text = NULL;

        free(userdata);
        if (error >= 0)
                error = at_response_data(response, &text);
        d.handler(conn, error < 0 ? error : 0, error < 0 ? NULL : text, d.userdata);
}

int at_verb_command_async(AtConn *conn, const char *command, AtVerbDataHandler handler, void *userdata) {
        DataClosure *d = malloc(sizeof(*d));
        if (!d)
                return -ENOMEM;
        *d = (DataClosure) { .handler = handler, .userdata = userdata };
        int r = at_conn_command_async(conn, command, on_response, d);
        if (r < 0)
                free(d);
        return r;
}

int at_verb_notify_async(AtConn *conn, const AtNotifyParams *params, AtVerbDataHandler handler, void *userdata) {
        _cleanup_free_ char *cmd = NULL;
        int r = at_verb_format_notify(params, &cmd, NULL);
        if (r < 0)
                return r;
        return at_verb_command_async(conn, cmd, handler, userdata);
}

static int simple_async(AtConn *conn, const char *verb, const char *key, AtVerbDataHandler handler, void *userdata) {
        _cleanup_free_ char *cmd = NULL;
        if (!key_ok(key))
                return -EINVAL;
        if (asprintf(&cmd, "%s:%s", verb, key) < 0)
                return -ENOMEM;
        return at_verb_command_async(conn, cmd, handler, userdata);
}

int at_verb_lookup_async(AtConn *conn, const char *key, AtVerbDataHandler handler, void *userdata) {
        return simple_async(conn, "lookup", key, handler, userdata);
}

int at_verb_plookup_async(AtConn *conn, const char *key, AtVerbDataHandler handler, void *userdata) {
        return simple_async(conn, "plookup", key, handler, userdata);
}

int at_verb_llookup_async(AtConn *conn, const char *key, AtVerbDataHandler handler, void *userdata) {
        return simple_async(conn, "llookup", key, handler, userdata);
}

int at_verb_update_async(AtConn *conn, const char *key, const AtMetadata *metadata, const char *value,
                         AtVerbDataHandler handler, void *userdata) {
        _cleanup_free_ char *cmd = NULL;
        int r = at_verb_format_update(key, metadata, value, &cmd);
        if (r < 0)
                return r;
        return at_verb_command_async(conn, cmd, handler, userdata);
}
