/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aes.h"
#include "macro.h"
#include "metadata.h"

/* A notification as a monitor connection delivers it: "notification: {json}" with the fields
 * the atServer writes (at_server monitor_verb_handler.dart Notification.toJson):
 *   id, from, to, key, value, operation, epochMillis, messageType, isEncrypted,
 *   metadata{encKeyName, encAlgo, ivNonce, skeEncKeyName, skeEncAlgo, sharedKeyEnc, ...}.
 * Any of them may be JSON null except id and key. The server's stats notification, sent to
 * every monitor connection, has id "-1" (stats_notification_service.dart): not a real one. */

#define AT_NOTIFICATION_JSON_MAX (1024U * 1024U)     /* the whole JSON text */
#define AT_NOTIFICATION_VALUE_MAX (1024U * 1024U)
#define AT_NOTIFICATION_KEY_MAX 2048U                /* text notifications carry text in the key */
#define AT_NOTIFICATION_ID_MAX 128U
#define AT_NOTIFICATION_ATSIGN_MAX 64U
#define AT_NOTIFICATION_WORD_MAX 64U                 /* operation, messageType */

typedef struct AtNotification {
        char *id;
        char *from;           /* "@alice" (as sent; may be NULL) */
        char *to;
        char *key;            /* the full key, e.g. "@bob:ping.dev1.sshnp@alice" */
        char *value;          /* NULL when absent; base64 ciphertext when is_encrypted */
        char *operation;      /* "update", "delete", ... (NULL when absent) */
        char *message_type;   /* "MessageType.key" / "MessageType.text" (NULL when absent) */
        int64_t epoch_millis; /* 0 when absent */
        bool is_encrypted;
        AtMetadata metadata;
        bool has_iv;          /* metadata.iv_nonce decoded (exactly 16 bytes) */
        uint8_t iv[AT_AES_IV_SIZE];
} AtNotification;

/* Parses the JSON text; a leading "notification:" and blanks are accepted and skipped.
 * Hostile input: -EBADMSG for malformed JSON, a non-object, a field of the wrong type, a
 * missing id or key, an ivNonce that is not base64 of 16 bytes, a negative epochMillis;
 * -E2BIG when the text or a field exceeds its bound. */
int at_notification_parse(const char *text, size_t size, AtNotification **ret);
void at_notification_free(AtNotification *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtNotification *, at_notification_free);

/* The server's periodic stats notification (id "-1"): skip it. */
bool at_notification_is_heartbeat(const AtNotification *n);
/* Keys about shared-key exchange ("shared_key" in the key): not for applications. */
bool at_notification_is_shared_key(const AtNotification *n);
/* The value decrypted with key: AES-256-CTR + PKCS#7, the IV from ivNonce, or 16 zero bytes when
 * there is none (at_chops at_chops_util.dart generateIVLegacy). A value that is not encrypted
 * is copied (key may then be NULL). -ENODATA: no value; -EBADMSG: not base64, bad padding, or
 * not text. */
int at_notification_decrypt_value(const AtNotification *n, const uint8_t key[AT_AES_KEY_SIZE], char **ret);

/* operation "delete" */
bool at_notification_is_delete(const AtNotification *n);
