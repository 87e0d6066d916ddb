/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "base64.h"
#include "hash.h"
#include "key.h"
#include "log.h"
#include "rsa.h"
#include "secure.h"
#include "shared_key.h"
#include "verbs.h"

typedef struct SharedKeyEntry {
        char *other;      /* "@bob", lower case */
        bool sending;
        uint8_t *key;     /* AT_AES_KEY_SIZE bytes, secure memory */
} SharedKeyEntry;

struct AtSharedKeys {
        SharedKeyEntry *entries;
        size_t n_entries;
};

/* A peer's atSign as cache index and key text: "@bob", lower case. */
int at_shared_key_peer_normalize(const char *other, char **ret) {
        if (!at_atsign_is_valid(other))
                return -EINVAL;
        char *s;
        if (asprintf(&s, "@%s", other[0] == '@' ? other + 1 : other) < 0)
                return -ENOMEM;
        for (char *p = s; *p; p++)
                *p = tolower((unsigned char) *p);
        *ret = s;
        return 0;
}

int at_shared_keys_new(AtSharedKeys **ret) {
        AtSharedKeys *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

static void entry_done(SharedKeyEntry *e) {
        free(e->other);
        at_secure_free(e->key);
}

void at_shared_keys_free(AtSharedKeys *cache) {
        if (!cache)
                return;
        for (size_t i = 0; i < cache->n_entries; i++)
                entry_done(&cache->entries[i]);
        free(cache->entries);
        free(cache);
}

static SharedKeyEntry *cache_find(AtSharedKeys *cache, const char *other_norm, bool sending) {
        for (size_t i = 0; i < cache->n_entries; i++)
                if (cache->entries[i].sending == sending && streq(cache->entries[i].other, other_norm))
                        return &cache->entries[i];
        return NULL;
}

void at_shared_keys_forget(AtSharedKeys *cache, const char *other) {
        _cleanup_free_ char *o = NULL;

        if (!cache || at_shared_key_peer_normalize(other, &o) < 0)
                return;
        for (size_t i = 0; i < cache->n_entries;) {
                if (streq(cache->entries[i].other, o)) {
                        entry_done(&cache->entries[i]);
                        cache->entries[i] = cache->entries[--cache->n_entries];
                } else
                        i++;
        }
}

int at_shared_keys_get_cached(AtSharedKeys *cache, const char *other, bool sending, uint8_t ret_key[AT_AES_KEY_SIZE]) {
        _cleanup_free_ char *o = NULL;
        int r;

        r = at_shared_key_peer_normalize(other, &o);
        if (r < 0)
                return r;
        SharedKeyEntry *e = cache_find(cache, o, sending);
        if (!e)
                return -ENOENT;
        memcpy(ret_key, e->key, AT_AES_KEY_SIZE);
        return 0;
}

int at_shared_keys_put(AtSharedKeys *cache, const char *other, bool sending, const uint8_t key[AT_AES_KEY_SIZE]) {
        _cleanup_free_ char *o = NULL;
        int r;

        r = at_shared_key_peer_normalize(other, &o);
        if (r < 0)
                return r;
        SharedKeyEntry *e = cache_find(cache, o, sending);
        if (!e) {
                SharedKeyEntry *n = reallocarray(cache->entries, cache->n_entries + 1, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                cache->entries = n;
                uint8_t *k = at_secure_alloc(AT_AES_KEY_SIZE);
                if (!k)
                        return -ENOMEM;
                e = &cache->entries[cache->n_entries++];
                *e = (SharedKeyEntry) { .other = TAKE_PTR(o), .sending = sending, .key = k };
        }
        memcpy(e->key, key, AT_AES_KEY_SIZE);
        return 0;
}

int at_shared_key_decrypt(const AtKeys *keys, const char *encrypted_b64, uint8_t ret_key[AT_AES_KEY_SIZE]) {
        _cleanup_secure_ uint8_t *text = NULL;
        size_t size;
        int r;

        if (!keys || !keys->encrypt_private)
                return -ENOKEY;
        if (!encrypted_b64 || !encrypted_b64[0] || streq(encrypted_b64, "null"))
                return -ENOENT;
        r = at_rsa_decrypt(keys->encrypt_private, encrypted_b64, &text, &size);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        /* the plaintext is the key's base64 text (at_c encryption_key_helpers.c) */
        r = at_aes_key_from_base64((const char *) text, ret_key);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        return 0;
}

int at_shared_key_encrypt(const AtRsaPublic *public_key, const uint8_t key[AT_AES_KEY_SIZE], char **ret) {
        char *b64 = NULL;
        int r;

        r = at_base64_encode(key, AT_AES_KEY_SIZE, &b64);
        if (r < 0)
                return r;
        r = at_rsa_encrypt(public_key, b64, strlen(b64), ret);
        explicit_bzero(b64, strlen(b64));
        free(b64);
        return r;
}

int at_shared_key_public_key_checksum(const char *public_key_b64, char **ret) {
        uint8_t digest[16];
        int r;

        r = gnutls_hash_fast(GNUTLS_DIG_MD5, public_key_b64, strlen(public_key_b64), digest);
        if (r < 0)
                return -EIO;
        return at_hex_encode(digest, sizeof(digest), ret);
}

/* ---- blocking exchange on the client connection ---- */

typedef struct Exchange {
        AtConn *conn;
        const AtKeys *keys;
        const char *me;          /* "@alice" */
        char *other;             /* "@bob" */
        uint64_t timeout;
} Exchange;

static int exchange_init(Exchange *x, AtClient *client, const char *other) {
        int r;

        *x = (Exchange) {
                .conn = at_client_conn(client),
                .keys = at_client_keys(client),
                .me = at_client_atsign(client),
                .timeout = at_client_command_timeout(client),
        };
        if (!x->conn)
                return -ENOTCONN;
        if (!x->keys || !x->keys->encrypt_private || !x->keys->encrypt_public)
                return -ENOKEY;
        r = at_shared_key_peer_normalize(other, &x->other);
        if (r < 0)
                return r;
        return 0;
}

/* llookup:shared_key.bob@alice -> our copy */
static int read_our_copy(Exchange *x, uint8_t key[AT_AES_KEY_SIZE]) {
        _cleanup_free_ char *k = NULL, *value = NULL;
        int r;

        if (asprintf(&k, "shared_key.%s%s", x->other + 1, x->me) < 0)
                return -ENOMEM;
        r = at_verb_llookup(x->conn, k, x->timeout, &value, NULL);
        if (r < 0)
                return r;
        r = at_shared_key_decrypt(x->keys, value, key);
        if (r < 0)
                return log_error_errno(r, "Cannot decrypt %s with the encryption key of %s: %m", k, x->me);
        return 0;
}

/* plookup:publickey@bob */
static int fetch_public_key(Exchange *x, char **ret_b64, AtRsaPublic **ret) {
        _cleanup_free_ char *k = NULL, *value = NULL;
        int r;

        if (asprintf(&k, "publickey%s", x->other) < 0)
                return -ENOMEM;
        r = at_verb_plookup(x->conn, k, false, x->timeout, &value);
        if (r < 0)
                return r; /* the caller knows whether that is fatal */
        r = at_rsa_public_from_base64(value, ret);
        if (r < 0)
                return log_error_errno(r, "public:%s is not an RSA public key: %m", k);
        *ret_b64 = TAKE_PTR(value);
        return 0;
}

/* Makes a key: our copy first, then theirs (abstract_atkey_encryption.dart
 * createMyCopyOfSharedSymmetricKey deletes a stale copy of theirs before storing ours). */
static int create_key(Exchange *x, uint8_t key[AT_AES_KEY_SIZE]) {
        _cleanup_free_ char *ours = NULL, *our_key = NULL, *their_key = NULL;
        int r;

        at_random_bytes(key, AT_AES_KEY_SIZE);
        r = at_shared_key_encrypt(x->keys->encrypt_public, key, &ours);
        if (r < 0)
                return r;
        if (asprintf(&our_key, "shared_key.%s%s", x->other + 1, x->me) < 0 ||
            asprintf(&their_key, "%s:shared_key%s", x->other, x->me) < 0)
                return -ENOMEM;
        r = at_verb_delete(x->conn, their_key, x->timeout);
        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "Deleting stale %s failed, continuing: %m", their_key);
        r = at_verb_update(x->conn, our_key, NULL, ours, x->timeout);
        if (r < 0)
                return log_error_errno(r, "Cannot store %s: %m", our_key);
        log_info("Created a new shared key for %s (%s)", x->other, our_key);
        return 0;
}

/* errors of a remote lookup that say the other atSign's server cannot be reached now
 * (AT0007, AT0008, AT0021, see conn-facts), not that its key is missing or bad */
static bool peer_unreachable(int error) {
        return error == -ENXIO || error == -ECONNABORTED || error == -EHOSTUNREACH || error == -ECONNREFUSED;
}

/* verifyTheirCopyOfSharedSymmetricKey: llookup @bob:shared_key@alice, else encrypt for bob and
 * store it with ttr 3888000. */
static int ensure_their_copy(Exchange *x, const uint8_t key[AT_AES_KEY_SIZE], char **ret_copy, char **ret_cs) {
        _cleanup_free_ char *k = NULL, *copy = NULL, *pub_b64 = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL;
        int r;

        if (asprintf(&k, "%s:shared_key%s", x->other, x->me) < 0)
                return -ENOMEM;
        r = at_verb_llookup(x->conn, k, x->timeout, &copy, NULL);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Cannot read %s: %m", k);
        if (r >= 0 && streq(copy, "null")) {
                free(copy);
                copy = NULL;
        }
        if (!copy || ret_cs) {
                r = fetch_public_key(x, &pub_b64, &pub);
                if (r < 0 && copy && peer_unreachable(r)) {
                        /* Their copy exists, so sharedKeyEnc can go; the checksum of their public
                         * key is optional metadata. Without it a notification can still be sent (and
                         * queued by our server) while the recipient's server is unreachable. */
                        log_info_errno(r, "Cannot read public:publickey%s (%m); sending without pubKeyCS", x->other);
                        ret_cs = NULL;
                } else if (r < 0)
                        return log_error_errno(r, "Cannot read public:publickey%s: %m", x->other);
        }
        if (!copy) {
                AtMetadata md = { .has_ttr = true, .ttr = AT_SHARED_KEY_THEIR_COPY_TTR };

                r = at_shared_key_encrypt(pub, key, &copy);
                if (r < 0)
                        return r;
                r = at_verb_update(x->conn, k, &md, copy, x->timeout);
                if (r < 0)
                        return log_error_errno(r, "Cannot store %s: %m", k);
        }
        if (ret_cs) {
                r = at_shared_key_public_key_checksum(pub_b64, ret_cs);
                if (r < 0)
                        return r;
        }
        if (ret_copy)
                *ret_copy = TAKE_PTR(copy);
        return 0;
}

int at_shared_key_for_sending(AtSharedKeys *cache, AtClient *client, const char *other,
                              uint8_t ret_key[AT_AES_KEY_SIZE], char **ret_their_copy, char **ret_pub_key_cs) {
        _cleanup_free_ char *copy = NULL, *cs = NULL;
        Exchange x;
        int r;

        r = exchange_init(&x, client, other);
        if (r < 0)
                return r;
        _cleanup_free_ char *other_norm = x.other;

        r = at_shared_keys_get_cached(cache, other_norm, true, ret_key);
        if (r == -ENOENT) {
                r = read_our_copy(&x, ret_key);
                if (r == -ENOENT)
                        r = create_key(&x, ret_key);
                if (r < 0)
                        return r;
        }
        /* cached or not, their copy must exist: Dart checks it on every encryption */
        if (!cache_find(cache, other_norm, true) || ret_their_copy || ret_pub_key_cs) {
                r = ensure_their_copy(&x, ret_key, ret_their_copy ? &copy : NULL, ret_pub_key_cs ? &cs : NULL);
                if (r < 0)
                        return r;
        }
        r = at_shared_keys_put(cache, other_norm, true, ret_key);
        if (r < 0)
                return r;
        if (ret_their_copy)
                *ret_their_copy = TAKE_PTR(copy);
        if (ret_pub_key_cs)
                *ret_pub_key_cs = TAKE_PTR(cs);
        return 0;
}

int at_shared_key_for_receiving(AtSharedKeys *cache, AtClient *client, const char *other,
                                uint8_t ret_key[AT_AES_KEY_SIZE]) {
        _cleanup_free_ char *k = NULL, *value = NULL;
        Exchange x;
        int r;

        r = exchange_init(&x, client, other);
        if (r < 0)
                return r;
        _cleanup_free_ char *other_norm = x.other;

        if (at_shared_keys_get_cached(cache, other_norm, false, ret_key) >= 0)
                return 0;
        /* at_c encryption_key_helpers.c: lookup:shared_key@bob */
        if (asprintf(&k, "shared_key%s", other_norm) < 0)
                return -ENOMEM;
        r = at_verb_lookup(x.conn, k, x.timeout, &value, NULL);
        if (r < 0)
                return r;
        r = at_shared_key_decrypt(x.keys, value, ret_key);
        if (r < 0)
                return r;
        return at_shared_keys_put(cache, other_norm, false, ret_key);
}

/* ---- asynchronous receiving key ---- */

typedef struct ReceiveRequest {
        AtSharedKeys *cache;
        const AtKeys *keys;
        char *other;
        AtSharedKeyHandler handler;
        void *userdata;
} ReceiveRequest;

static void receive_request_free(ReceiveRequest *q) {
        if (!q)
                return;
        free(q->other);
        free(q);
}

static void on_lookup(AtConn *conn, int error, const char *data, void *userdata) {
        ReceiveRequest *q = userdata;
        uint8_t key[AT_AES_KEY_SIZE];
        int r = error;

        if (r >= 0)
                r = at_shared_key_decrypt(q->keys, data, key);
        if (r >= 0)
                r = at_shared_keys_put(q->cache, q->other, false, key);
        q->handler(r, r >= 0 ? key : NULL, q->userdata);
        explicit_bzero(key, sizeof(key));
        receive_request_free(q);
}

int at_shared_key_for_receiving_async(AtSharedKeys *cache, AtConn *conn, const AtKeys *keys, const char *other,
                                      AtSharedKeyHandler handler, void *userdata) {
        _cleanup_free_ char *k = NULL;
        uint8_t key[AT_AES_KEY_SIZE];
        ReceiveRequest *q;
        int r;

        if (at_shared_keys_get_cached(cache, other, false, key) >= 0) {
                handler(0, key, userdata);
                explicit_bzero(key, sizeof(key));
                return 0;
        }
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (ReceiveRequest) { .cache = cache, .keys = keys, .handler = handler, .userdata = userdata };
        r = at_shared_key_peer_normalize(other, &q->other);
        if (r < 0 || asprintf(&k, "shared_key%s", q->other) < 0) {
                receive_request_free(q);
                return r < 0 ? r : -ENOMEM;
        }
        r = at_verb_lookup_async(conn, k, on_lookup, q);
        if (r < 0) {
                receive_request_free(q);
                return r;
        }
        return 0;
}
