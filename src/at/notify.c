/* SPDX-License-Identifier: BSD-3-Clause */
#include "base64.h"
#include "key.h"
#include "log.h"
#include "notify.h"
#include "rsa.h"
#include "secure.h"
#include "verbs.h"

static void metadata_donep(AtMetadata *m) {
        at_metadata_done(m);
}

/* value -> base64 ciphertext, with the IV's base64 for ivNonce */
static int encrypt_value(const uint8_t key[AT_AES_KEY_SIZE], const char *value, char **ret_b64, char **ret_iv_b64) {
        uint8_t iv[AT_AES_IV_SIZE];
        int r;

        at_random_bytes(iv, sizeof(iv));
        r = at_aes_encrypt_b64(key, iv, value, strlen(value), ret_b64);
        if (r < 0)
                return r;
        r = at_base64_encode(iv, sizeof(iv), ret_iv_b64);
        if (r < 0) {
                free(*ret_b64);
                *ret_b64 = NULL;
        }
        return r;
}

int at_notify_send(AtClient *client, AtSharedKeys *cache, const AtNotifyMessage *m, char **ret_id) {
        _cleanup_(at_key_freep) AtKey *key = NULL;
        _cleanup_free_ char *key_text = NULL, *ciphertext = NULL, *iv_b64 = NULL, *their_copy = NULL, *cs = NULL;
        _cleanup_(metadata_donep) AtMetadata md = {};
        const char *me = at_client_atsign(client);
        int r;

        if (!m || !m->recipient || !m->key)
                return -EINVAL;
        r = at_key_new(AT_KEY_SHARED, m->key, NULL, me, m->recipient, &key);
        if (r < 0)
                return log_error_errno(r, "Invalid notification key %s for %s from %s", m->key, m->recipient, me);
        r = at_key_format(key, &key_text);
        if (r < 0)
                return log_error_errno(r, "Invalid notification key %s for %s: %m", m->key, m->recipient);

        if (m->ttl_ms > 0) {
                md.has_ttl = true;
                md.ttl = m->ttl_ms;
        }
        if (m->value && !m->plain) {
                uint8_t *shared = at_secure_alloc(AT_AES_KEY_SIZE);
                if (!shared)
                        return log_oom();
                r = at_shared_key_for_sending(cache, client, m->recipient, shared,
                                              m->omit_shared_key_enc ? NULL : &their_copy,
                                              m->omit_shared_key_enc ? NULL : &cs);
                if (r >= 0)
                        r = encrypt_value(shared, m->value, &ciphertext, &iv_b64);
                at_secure_free(shared);
                if (r < 0)
                        return log_error_errno(r, "Cannot encrypt %s for %s: %m", key_text, m->recipient);
                md.is_encrypted = AT_TRUE;
                if (at_metadata_set(&md.iv_nonce, iv_b64) < 0 ||
                    at_metadata_set(&md.shared_key_enc, their_copy) < 0 ||
                    at_metadata_set(&md.pub_key_cs, cs) < 0)
                        return log_oom();
        } else if (m->value)
                md.is_encrypted = AT_FALSE;

        AtNotifyParams params = {
                .id = m->id,
                .operation = m->operation,
                .ttln_ms = m->ttln_ms,
                .metadata = &md,
                .key = key_text,
                .value = ciphertext ? ciphertext : m->value,
        };
        r = at_verb_notify(at_client_conn(client), &params, at_client_command_timeout(client), ret_id);
        if (r < 0)
                return log_error_errno(r, "Notifying %s of %s via %s:%u failed: %m%s%s", m->recipient, key_text,
                                       at_client_secondary_host(client), at_client_secondary_port(client),
                                       *at_conn_last_error(at_client_conn(client)) ? ": " : "",
                                       at_conn_last_error(at_client_conn(client)));
        return 0;
}

/* ---- asynchronous ---- */

typedef struct NotifySend {
        AtClient *client;
        AtSharedKeys *cache;
        bool plain, omit_shared_key_enc;
        char *recipient, *key_text, *value, *id;
        int64_t ttl_ms, ttln_ms;
        AtNotifyOperation operation;
        bool starting; /* inside at_notify_send_async(): failures are returned, not handed over */
        bool retried;
        int start_error;
        AtNotifySendHandler handler;
        void *userdata;
} NotifySend;

static void notify_send_free(NotifySend *q) {
        free(q->recipient);
        free(q->key_text);
        if (q->value)
                explicit_bzero(q->value, strlen(q->value));
        free(q->value);
        free(q->id);
        free(q);
}

static void on_connected(AtClient *client, int error, void *userdata);

/* The connection went away under the command (as the blocking callers' "reconnect and try once
 * more"): worth one more try on the next connection. */
static bool connection_lost(int error) {
        return error == -ECONNRESET || error == -EPIPE || error == -ENOTCONN || error == -ETIMEDOUT ||
               error == -ECANCELED;
}

static void notify_finish(NotifySend *q, int error, const char *id) {
        if (q->starting) {
                q->start_error = error < 0 ? error : 0; /* the caller frees */
                return;
        }
        if (error < 0 && !q->retried && connection_lost(error)) {
                q->retried = true;
                /* only while the client is kept connected: after at_client_stop() this fails */
                if (at_client_when_connected(q->client, at_client_command_timeout(q->client), on_connected, q) >= 0) {
                        log_debug_errno(error, "Notifying %s of %s: connection lost (%m), once more when it is back",
                                        q->recipient, q->key_text);
                        return;
                }
        }
        if (error < 0 && error != -ECANCELED)
                log_error_errno(error, "Notifying %s of %s via %s:%u failed: %m", q->recipient, q->key_text,
                                at_client_secondary_host(q->client) ?: "?", at_client_secondary_port(q->client));
        q->handler(error, id, q->userdata);
        notify_send_free(q);
}

static void on_notified(AtConn *conn, int error, const char *data, void *userdata) {
        notify_finish(userdata, error, error >= 0 ? data : NULL);
}

static int notify_queue(NotifySend *q, AtMetadata *md, const char *value) {
        AtNotifyParams params = {
                .id = q->id,
                .operation = q->operation,
                .ttln_ms = q->ttln_ms,
                .metadata = md,
                .key = q->key_text,
                .value = value,
        };
        if (q->ttl_ms > 0) {
                md->has_ttl = true;
                md->ttl = q->ttl_ms;
        }
        return at_verb_notify_async(at_client_conn(q->client), &params, on_notified, q);
}

static void on_send_key(int error, const uint8_t *key, const char *their_copy, const char *cs, void *userdata) {
        NotifySend *q = userdata;
        _cleanup_free_ char *ciphertext = NULL, *iv_b64 = NULL;
        _cleanup_(metadata_donep) AtMetadata md = {};
        int r = error;

        if (r >= 0)
                r = encrypt_value(key, q->value, &ciphertext, &iv_b64);
        if (r >= 0) {
                md.is_encrypted = AT_TRUE;
                if (at_metadata_set(&md.iv_nonce, iv_b64) < 0 || at_metadata_set(&md.shared_key_enc, their_copy) < 0 ||
                    at_metadata_set(&md.pub_key_cs, cs) < 0)
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = notify_queue(q, &md, ciphertext);
        if (r < 0)
                notify_finish(q, r, NULL);
}

/* The shared key (if the value is encrypted), then the notify command. */
static int notify_start(NotifySend *q) {
        if (q->value && !q->plain)
                return at_shared_key_for_sending_async(q->cache, q->client, q->recipient, !q->omit_shared_key_enc,
                                                       on_send_key, q);

        _cleanup_(metadata_donep) AtMetadata md = {};
        if (q->value)
                md.is_encrypted = AT_FALSE;
        return notify_queue(q, &md, q->value);
}

static void on_connected(AtClient *client, int error, void *userdata) {
        NotifySend *q = userdata;

        if (error >= 0)
                error = notify_start(q);
        if (error < 0)
                notify_finish(q, error, NULL);
}

int at_notify_send_async(AtClient *client, AtSharedKeys *cache, const AtNotifyMessage *m, AtNotifySendHandler handler,
                         void *userdata) {
        _cleanup_(at_key_freep) AtKey *key = NULL;
        const char *me = at_client_atsign(client);
        NotifySend *q;
        int r;

        if (!m || !m->recipient || !m->key || !handler)
                return -EINVAL;
        r = at_key_new(AT_KEY_SHARED, m->key, NULL, me, m->recipient, &key);
        if (r < 0)
                return log_error_errno(r, "Invalid notification key %s for %s from %s", m->key, m->recipient, me);
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (NotifySend) { .client = client, .ttl_ms = m->ttl_ms, .ttln_ms = m->ttln_ms, .operation = m->operation,
                            .handler = handler, .userdata = userdata, .starting = true };
        r = at_key_format(key, &q->key_text);
        if (r < 0) {
                notify_send_free(q);
                return log_error_errno(r, "Invalid notification key %s for %s: %m", m->key, m->recipient);
        }
        if (!(q->recipient = strdup(m->recipient)) || (m->value && !(q->value = strdup(m->value))) ||
            (m->id && !(q->id = strdup(m->id)))) {
                notify_send_free(q);
                return -ENOMEM;
        }

        q->cache = cache;
        q->plain = m->plain;
        q->omit_shared_key_enc = m->omit_shared_key_enc;

        if (at_client_is_connected(client))
                r = notify_start(q);
        else /* being reconnected: wait for it (-ENOTCONN if nobody keeps it connected) */
                r = at_client_when_connected(client, at_client_command_timeout(client), on_connected, q);
        if (r >= 0)
                r = q->start_error;
        if (r < 0) {
                log_error_errno(r, "Notifying %s of %s via %s:%u failed: %m", m->recipient, q->key_text,
                                at_client_secondary_host(client) ?: "?", at_client_secondary_port(client));
                notify_send_free(q);
                return r;
        }
        q->starting = false;
        return 0;
}

int at_notification_carried_key(const AtNotification *n, const AtKeys *keys, uint8_t ret_key[AT_AES_KEY_SIZE]) {
        int r;

        if (!n->metadata.shared_key_enc)
                return -ENOENT;
        /* shared_key_decryption.dart: refuse a copy made for another public key of ours */
        if (n->metadata.pub_key_cs && keys->encrypt_public) {
                _cleanup_free_ char *own = NULL;
                _cleanup_free_ char *cs = NULL;

                r = at_rsa_public_to_base64(keys->encrypt_public, &own);
                if (r < 0)
                        return r;
                r = at_shared_key_public_key_checksum(own, &cs);
                if (r < 0)
                        return r;
                if (!streq(cs, n->metadata.pub_key_cs))
                        return -EKEYREJECTED;
        }
        return at_shared_key_decrypt(keys, n->metadata.shared_key_enc, ret_key);
}

int at_notify_decrypt(AtClient *client, AtSharedKeys *cache, const AtNotification *n, char **ret) {
        _cleanup_(at_secure_freep) uint8_t *key = NULL;
        int r;

        if (!n->is_encrypted)
                return at_notification_decrypt_value(n, NULL, ret);
        if (!n->from)
                return -EBADMSG;
        key = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!key)
                return -ENOMEM;

        r = at_notification_carried_key(n, at_client_keys(client), key);
        if (r >= 0)
                return at_notification_decrypt_value(n, key, ret);
        if (r != -ENOENT)
                log_debug_errno(r, "The key carried by notification %s is not usable, looking it up: %m", n->id);

        bool was_cached = at_shared_keys_get_cached(cache, n->from, false, key) >= 0;
        r = at_shared_key_for_receiving(cache, client, n->from, key);
        if (r < 0)
                return r;
        r = at_notification_decrypt_value(n, key, ret);
        if (r == -EBADMSG && was_cached) {
                /* the sender may have made a new key since we cached ours */
                at_shared_keys_forget(cache, n->from);
                r = at_shared_key_for_receiving(cache, client, n->from, key);
                if (r < 0)
                        return r;
                r = at_notification_decrypt_value(n, key, ret);
        }
        return r;
}
