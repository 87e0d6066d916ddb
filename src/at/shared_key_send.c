/* SPDX-License-Identifier: BSD-3-Clause */
/* The key for what we send to another atSign, fetched or made without blocking: the same steps
 * and upstream facts as the blocking at_shared_key_for_sending() in shared_key.c
 * (at_client_sdk abstract_atkey_encryption.dart), each step started from the previous answer.
 * Not thread-safe: one loop per process, as everything here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rsa.h"
#include "secure.h"
#include "shared_key.h"
#include "verbs.h"

typedef struct SendKey {
        AtSharedKeys *cache;
        AtConn *conn; /* a reference */
        const AtKeys *keys;
        char *me;    /* "@alice" */
        char *other; /* "@bob" */
        bool was_cached, with_their_copy;
        uint8_t *key; /* secure memory */
        char *their_copy, *public_b64, *checksum;
        AtRsaPublic *public_key;
        AtSharedKeySendHandler handler;
        void *userdata;
        /* Only one request per cache and peer looks up or makes the key; the others wait for it
         * (two would each make a key, and the second would overwrite the first). */
        bool leading;
        struct SendKey *next_leader, *followers, *next_follower;
} SendKey;

static SendKey *leaders;

static SendKey *leader_find(AtSharedKeys *cache, const char *other) {
        for (SendKey *l = leaders; l; l = l->next_leader)
                if (l->cache == cache && streq(l->other, other))
                        return l;
        return NULL;
}

static void leader_remove(SendKey *q) {
        for (SendKey **i = &leaders; *i; i = &(*i)->next_leader)
                if (*i == q) {
                        *i = q->next_leader;
                        break;
                }
        q->leading = false;
}

static void begin(SendKey *q);

static void send_key_free(SendKey *q) {
        at_conn_unref(q->conn);
        free(q->me);
        free(q->other);
        at_secure_free(q->key);
        free(q->their_copy);
        free(q->public_b64);
        free(q->checksum);
        at_rsa_public_free(q->public_key);
        free(q);
}

static void finish(SendKey *q, int error) {
        SendKey *followers = NULL;

        if (error >= 0)
                error = at_shared_keys_put(q->cache, q->other, true, q->key);
        if (q->leading) {
                leader_remove(q);
                followers = TAKE_PTR(q->followers);
        }
        q->handler(error, error >= 0 ? q->key : NULL, error >= 0 ? q->their_copy : NULL,
                   error >= 0 ? q->checksum : NULL, q->userdata);
        send_key_free(q);
        /* the key is cached now (or the waiters try themselves) */
        while (followers) {
                SendKey *f = followers;
                followers = f->next_follower;
                f->next_follower = NULL;
                begin(f);
        }
}

static bool is_null(const char *data) {
        return !data || streq(data, "null");
}

/* errors of a remote lookup that say the other atSign's server cannot be reached now, not that
 * its key is missing or bad (as in shared_key.c) */
static bool peer_unreachable(int error) {
        return error == -ENXIO || error == -ECONNABORTED || error == -EHOSTUNREACH || error == -ECONNREFUSED;
}

static void done(SendKey *q) {
        int r = 0;

        if (q->with_their_copy && q->public_b64)
                r = at_shared_key_public_key_checksum(q->public_b64, &q->checksum);
        finish(q, r);
}

static void on_their_copy_stored(AtConn *conn, int error, const char *data, void *userdata) {
        SendKey *q = userdata;

        if (error < 0) {
                log_error_errno(error, "Cannot store %s:shared_key%s: %m", q->other, q->me);
                finish(q, error);
                return;
        }
        done(q);
}

static void on_public_key(AtConn *conn, int error, const char *data, void *userdata) {
        SendKey *q = userdata;
        _cleanup_free_ char *k = NULL;
        int r;

        if (error >= 0 && is_null(data))
                error = -ENOENT;
        if (error < 0 && q->their_copy && peer_unreachable(error)) {
                /* their copy exists, so sharedKeyEnc can go without pubKeyCS (see shared_key.c) */
                log_info_errno(error, "Cannot read public:publickey%s (%m); sending without pubKeyCS", q->other);
                done(q);
                return;
        }
        if (error < 0) {
                log_error_errno(error, "Cannot read public:publickey%s: %m", q->other);
                finish(q, error);
                return;
        }
        r = at_rsa_public_from_base64(data, &q->public_key);
        if (r < 0) {
                log_error_errno(r, "public:publickey%s is not an RSA public key: %m", q->other);
                finish(q, r);
                return;
        }
        q->public_b64 = strdup(data);
        if (!q->public_b64) {
                finish(q, -ENOMEM);
                return;
        }
        if (q->their_copy) {
                done(q);
                return;
        }
        /* verifyTheirCopyOfSharedSymmetricKey: encrypt for them, store with ttr 3888000 s */
        AtMetadata md = { .has_ttr = true, .ttr = AT_SHARED_KEY_THEIR_COPY_TTR };
        r = at_shared_key_encrypt(q->public_key, q->key, &q->their_copy);
        if (r >= 0 && asprintf(&k, "%s:shared_key%s", q->other, q->me) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = at_verb_update_async(q->conn, k, &md, q->their_copy, on_their_copy_stored, q);
        if (r < 0)
                finish(q, r);
}

static void on_their_copy(AtConn *conn, int error, const char *data, void *userdata) {
        SendKey *q = userdata;
        _cleanup_free_ char *k = NULL;
        int r;

        if (error < 0 && error != -ENOENT) {
                log_error_errno(error, "Cannot read %s:shared_key%s: %m", q->other, q->me);
                finish(q, error);
                return;
        }
        if (error >= 0 && !is_null(data) && !(q->their_copy = strdup(data))) {
                finish(q, -ENOMEM);
                return;
        }
        if (q->their_copy && !q->with_their_copy) {
                done(q);
                return;
        }
        if (asprintf(&k, "publickey%s", q->other) < 0) {
                finish(q, -ENOMEM);
                return;
        }
        r = at_verb_plookup_async(q->conn, k, on_public_key, q);
        if (r < 0)
                finish(q, r);
}

static void check_their_copy(SendKey *q) {
        _cleanup_free_ char *k = NULL;
        int r;

        if (asprintf(&k, "%s:shared_key%s", q->other, q->me) < 0) {
                finish(q, -ENOMEM);
                return;
        }
        r = at_verb_llookup_async(q->conn, k, on_their_copy, q);
        if (r < 0)
                finish(q, r);
}

static void on_our_copy_stored(AtConn *conn, int error, const char *data, void *userdata) {
        SendKey *q = userdata;

        if (error < 0) {
                log_error_errno(error, "Cannot store shared_key.%s%s: %m", q->other + 1, q->me);
                finish(q, error);
                return;
        }
        log_info("Created a new shared key for %s (shared_key.%s%s)", q->other, q->other + 1, q->me);
        check_their_copy(q);
}

static void on_stale_deleted(AtConn *conn, int error, const char *data, void *userdata) {
        if (error < 0 && error != -ENOENT && error != -ECANCELED)
                log_debug_errno(error, "Deleting a stale copy of theirs failed, continuing: %m");
}

/* Makes a key: our copy first, then theirs (createMyCopyOfSharedSymmetricKey deletes a stale
 * copy of theirs before storing ours); the two commands go out together. */
static void create_key(SendKey *q) {
        _cleanup_free_ char *ours = NULL, *our_key = NULL, *delete = NULL;
        int r;

        at_random_bytes(q->key, AT_AES_KEY_SIZE);
        r = at_shared_key_encrypt(q->keys->encrypt_public, q->key, &ours);
        if (r >= 0 && (asprintf(&our_key, "shared_key.%s%s", q->other + 1, q->me) < 0 ||
                       asprintf(&delete, "delete:%s:shared_key%s", q->other, q->me) < 0))
                r = -ENOMEM;
        if (r >= 0)
                r = at_verb_command_async(q->conn, delete, on_stale_deleted, NULL);
        if (r >= 0)
                r = at_verb_update_async(q->conn, our_key, NULL, ours, on_our_copy_stored, q);
        if (r < 0)
                finish(q, r);
}

static void on_our_copy(AtConn *conn, int error, const char *data, void *userdata) {
        SendKey *q = userdata;
        int r;

        if (error == -ENOENT || (error >= 0 && is_null(data))) {
                create_key(q);
                return;
        }
        if (error < 0) {
                finish(q, error);
                return;
        }
        r = at_shared_key_decrypt(q->keys, data, q->key);
        if (r < 0) {
                log_error_errno(r, "Cannot decrypt shared_key.%s%s with the encryption key of %s: %m", q->other + 1,
                                q->me, q->me);
                finish(q, r);
                return;
        }
        check_their_copy(q);
}

static void begin(SendKey *q) {
        _cleanup_free_ char *k = NULL;
        SendKey *l;
        int r;

        if (at_shared_keys_get_cached(q->cache, q->other, true, q->key) >= 0) {
                q->was_cached = true;
                if (!q->with_their_copy)
                        finish(q, 0);
                else
                        check_their_copy(q);
                return;
        }
        l = leader_find(q->cache, q->other);
        if (l) {
                q->next_follower = l->followers;
                l->followers = q;
                return;
        }
        if (asprintf(&k, "shared_key.%s%s", q->other + 1, q->me) < 0)
                r = -ENOMEM;
        else
                r = at_verb_llookup_async(q->conn, k, on_our_copy, q);
        if (r < 0) {
                finish(q, r);
                return;
        }
        q->leading = true;
        q->next_leader = leaders;
        leaders = q;
}

int at_shared_key_for_sending_async(AtSharedKeys *cache, AtClient *client, const char *other, bool with_their_copy,
                                    AtSharedKeySendHandler handler, void *userdata) {
        const AtKeys *keys = at_client_keys(client);
        AtConn *conn = at_client_conn(client);
        SendKey *q;
        int r;

        if (!cache || !handler)
                return -EINVAL;
        if (!at_conn_is_open(conn))
                return conn ? (at_conn_error(conn) ?: -ENOTCONN) : -ENOTCONN;
        if (!keys || !keys->encrypt_private || !keys->encrypt_public)
                return -ENOKEY;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (SendKey) { .cache = cache, .keys = keys, .with_their_copy = with_their_copy, .handler = handler,
                         .userdata = userdata };
        q->key = at_secure_alloc(AT_AES_KEY_SIZE);
        q->me = strdup(at_client_atsign(client));
        if (!q->key || !q->me) {
                send_key_free(q);
                return -ENOMEM;
        }
        r = at_shared_key_peer_normalize(other, &q->other);
        if (r < 0) {
                send_key_free(q);
                return r;
        }
        q->conn = at_conn_ref(conn);
        begin(q);
        return 0;
}
