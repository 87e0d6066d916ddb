/* SPDX-License-Identifier: BSD-3-Clause */
#include <jansson.h>

#include "base64.h"
#include "notification.h"
#include "secure.h"

void at_notification_free(AtNotification *n) {
        if (!n)
                return;
        free(n->id);
        free(n->from);
        free(n->to);
        free(n->key);
        free(n->value);
        free(n->operation);
        free(n->message_type);
        at_metadata_done(&n->metadata);
        free(n);
}

/* A string field: absent or null -> NULL (-ENOENT if required); wrong type -> -EBADMSG. */
static int get_string(json_t *root, const char *name, size_t max, bool required, char **ret) {
        json_t *v = json_object_get(root, name);

        if (!v || json_is_null(v))
                return required ? -EBADMSG : 0;
        if (!json_is_string(v))
                return -EBADMSG;
        size_t n = json_string_length(v);
        if (n > max)
                return -E2BIG;
        char *s = strndup(json_string_value(v), n);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int parse_fields(json_t *root, AtNotification *n) {
        json_t *v;
        int r;

        r = get_string(root, "id", AT_NOTIFICATION_ID_MAX, true, &n->id);
        if (r < 0)
                return r;
        r = get_string(root, "key", AT_NOTIFICATION_KEY_MAX, true, &n->key);
        if (r < 0)
                return r;
        r = get_string(root, "from", AT_NOTIFICATION_ATSIGN_MAX, false, &n->from);
        if (r < 0)
                return r;
        r = get_string(root, "to", AT_NOTIFICATION_ATSIGN_MAX, false, &n->to);
        if (r < 0)
                return r;
        r = get_string(root, "value", AT_NOTIFICATION_VALUE_MAX, false, &n->value);
        if (r < 0)
                return r;
        r = get_string(root, "operation", AT_NOTIFICATION_WORD_MAX, false, &n->operation);
        if (r < 0)
                return r;
        r = get_string(root, "messageType", AT_NOTIFICATION_WORD_MAX, false, &n->message_type);
        if (r < 0)
                return r;

        v = json_object_get(root, "epochMillis");
        if (v && !json_is_null(v)) {
                if (!json_is_integer(v) || json_integer_value(v) < 0)
                        return -EBADMSG;
                n->epoch_millis = json_integer_value(v);
        }

        v = json_object_get(root, "isEncrypted");
        if (v && !json_is_null(v)) {
                if (!json_is_boolean(v))
                        return -EBADMSG;
                n->is_encrypted = json_is_true(v);
        }

        v = json_object_get(root, "metadata");
        if (v && !json_is_null(v)) {
                if (!json_is_object(v))
                        return -EBADMSG;
                r = at_metadata_from_json(v, &n->metadata);
                if (r < 0)
                        return r == -ENOMEM ? r : -EBADMSG;
        }
        return 0;
}

static int decode_iv(AtNotification *n) {
        _cleanup_free_ uint8_t *iv = NULL;
        size_t size;
        int r;

        if (!n->metadata.iv_nonce)
                return 0;
        r = at_base64_decode(n->metadata.iv_nonce, strlen(n->metadata.iv_nonce), AT_AES_IV_SIZE, &iv, &size);
        if (r < 0 || size != AT_AES_IV_SIZE)
                return r == -ENOMEM ? r : -EBADMSG;
        memcpy(n->iv, iv, AT_AES_IV_SIZE);
        n->has_iv = true;
        return 0;
}

int at_notification_parse(const char *text, size_t size, AtNotification **ret) {
        _cleanup_(at_notification_freep) AtNotification *n = NULL;
        _cleanup_(json_decrefp) json_t *root = NULL;
        json_error_t error;
        int r;

        if (!text)
                return -EBADMSG;
        if (size > AT_NOTIFICATION_JSON_MAX + 64)
                return -E2BIG;
        if (size >= 13 && strneq(text, "notification:", 13)) {
                text += 13;
                size -= 13;
        }
        while (size > 0 && (*text == ' ' || *text == '\t')) {
                text++;
                size--;
        }
        if (size > AT_NOTIFICATION_JSON_MAX)
                return -E2BIG;

        root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &error);
        if (!root || !json_is_object(root))
                return -EBADMSG;

        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        r = parse_fields(root, n);
        if (r < 0)
                return r;
        r = decode_iv(n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

bool at_notification_is_heartbeat(const AtNotification *n) {
        return n && n->id && streq(n->id, "-1");
}

bool at_notification_is_shared_key(const AtNotification *n) {
        return n && n->key && strstr(n->key, "shared_key");
}

bool at_notification_is_delete(const AtNotification *n) {
        return n && n->operation && streq(n->operation, "delete");
}

int at_notification_decrypt_value(const AtNotification *n, const uint8_t key[AT_AES_KEY_SIZE], char **ret) {
        static const uint8_t zero_iv[AT_AES_IV_SIZE] = {};
        _cleanup_secure_ uint8_t *plain = NULL;
        size_t size;
        int r;

        if (!n->value)
                return -ENODATA;
        if (!n->is_encrypted) {
                *ret = strdup(n->value);
                return *ret ? 0 : -ENOMEM;
        }
        r = at_aes_decrypt_b64(key, n->has_iv ? n->iv : zero_iv, n->value, &plain, &size);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (strlen((const char *) plain) != size)
                return -EBADMSG;
        *ret = strndup((const char *) plain, size);
        return *ret ? 0 : -ENOMEM;
}
