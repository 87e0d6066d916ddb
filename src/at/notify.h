/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "aes.h"
#include "client.h"
#include "notification.h"
#include "shared_key.h"
#include "verbs.h"

/* Encrypted notifications (docs/protocol.md "Notifications"): the value is AES-256-CTR with
 * PKCS#7 padding under the sender->recipient shared key, with a fresh random 16-byte IV sent
 * base64 as ivNonce, and isEncrypted:true (at_client_sdk notification_service_impl.dart notify,
 * at_c atclient/src/notify.c). Like the Dart client we also attach sharedKeyEnc (the
 * recipient's encrypted copy of the key) and pubKeyCS, so a Dart recipient needs no lookup. */

typedef struct AtNotifyMessage {
        const char *recipient;   /* "@bob" or "bob" */
        const char *key;         /* entity with namespace, e.g. "ping.dev1.sshnp" */
        const char *value;       /* may be NULL (no value) */
        const char *id;          /* NULL: a random UUID */
        int64_t ttl_ms;          /* 0: not sent */
        int64_t ttln_ms;         /* 0: not sent (server default) */
        bool plain;              /* send the value unencrypted */
        bool omit_shared_key_enc; /* do not attach sharedKeyEnc/pubKeyCS (saves two lookups) */
        AtNotifyOperation operation;
} AtNotifyMessage;

/* Blocking, on the client's main connection; makes the shared key on first use. ret_id
 * (optional): the notification id. Logs what failed, naming recipient and key. */
int at_notify_send(AtClient *client, AtSharedKeys *cache, const AtNotifyMessage *message, char **ret_id);

/* The same without blocking, on the client's main connection (attached to a loop, e.g. kept
 * up by at_client_start()): the shared key by at_shared_key_for_sending_async(), then the notify
 * command. While the client is being reconnected (at_client_start) it waits for the connection
 * up to the command timeout. The message is copied. Failures before anything is queued (bad key,
 * not connected and not being reconnected: -ENOTCONN) are returned and the handler is not
 * called; otherwise the handler runs once, from the loop, with the error or 0 and the server's
 * notification id. Failures are logged. */
typedef void (*AtNotifySendHandler)(int error, const char *id, void *userdata);
int at_notify_send_async(AtClient *client, AtSharedKeys *cache, const AtNotifyMessage *message,
                         AtNotifySendHandler handler, void *userdata);

/* Blocking: finds the right key (the sharedKeyEnc it carries, checked against our public key's
 * pubKeyCS, else "lookup:shared_key@<from>") and decrypts. A cached key that fails is looked up
 * again once. */
int at_notify_decrypt(AtClient *client, AtSharedKeys *cache, const AtNotification *n, char **ret);

/* Key for a received notification from what it carries: 0 and the key when it has a usable
 * sharedKeyEnc; -ENOENT when it has none; -EKEYREJECTED when pubKeyCS says it was made for
 * another public key of ours. */
int at_notification_carried_key(const AtNotification *n, const AtKeys *keys, uint8_t ret_key[AT_AES_KEY_SIZE]);
