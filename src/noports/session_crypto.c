/* SPDX-License-Identifier: BSD-3-Clause */
#include "base64.h"
#include "secure.h"
#include "session_crypto.h"

static void secure_freep_u8(uint8_t **p) {
        at_secure_free(*p);
}

int session_key_generate(SessionKey **ret) {
        uint8_t raw[AT_AES_KEY_SIZE + AT_AES_IV_SIZE];
        _cleanup_free_ char *kb = NULL, *ib = NULL;
        SessionKey *k;
        int r;

        at_random_bytes(raw, sizeof raw);
        r = at_base64_encode(raw, AT_AES_KEY_SIZE, &kb);
        if (r >= 0)
                r = at_base64_encode(raw + AT_AES_KEY_SIZE, AT_AES_IV_SIZE, &ib);
        explicit_bzero(raw, sizeof raw);
        if (r < 0)
                goto wipe;
        if (strlen(kb) != SESSION_KEY_B64_LEN || strlen(ib) != SESSION_IV_B64_LEN) {
                r = -EIO;
                goto wipe;
        }
        k = at_secure_alloc(sizeof *k);
        if (!k) {
                r = -ENOMEM;
                goto wipe;
        }
        memcpy(k->key_b64, kb, SESSION_KEY_B64_LEN + 1);
        memcpy(k->iv_b64, ib, SESSION_IV_B64_LEN + 1);
        *ret = k;
        r = 0;
wipe:
        if (kb)
                explicit_bzero(kb, strlen(kb));
        if (ib)
                explicit_bzero(ib, strlen(ib));
        return r;
}

static int decode_exact(const char *b64, size_t want, uint8_t *out) {
        uint8_t *raw __attribute__((cleanup(secure_freep_u8))) = NULL;
        size_t n;
        int r;

        if (!b64)
                return -EINVAL;
        r = at_base64_decode_secure(b64, strlen(b64), want, &raw, &n);
        if (r < 0)
                return -EINVAL;
        if (n != want)
                return -EINVAL;
        if (out)
                memcpy(out, raw, want);
        return 0;
}

int session_key_from_base64(const char *key_b64, const char *iv_b64, SessionKey **ret) {
        SessionKey *k;

        if (!key_b64 || !iv_b64 || strlen(key_b64) != SESSION_KEY_B64_LEN || strlen(iv_b64) != SESSION_IV_B64_LEN)
                return -EINVAL;
        if (decode_exact(key_b64, AT_AES_KEY_SIZE, NULL) < 0 || decode_exact(iv_b64, AT_AES_IV_SIZE, NULL) < 0)
                return -EINVAL;
        k = at_secure_alloc(sizeof *k);
        if (!k)
                return -ENOMEM;
        memcpy(k->key_b64, key_b64, SESSION_KEY_B64_LEN + 1);
        memcpy(k->iv_b64, iv_b64, SESSION_IV_B64_LEN + 1);
        *ret = k;
        return 0;
}

void session_key_free(SessionKey *k) {
        at_secure_free(k);
}

int session_key_new_cipher(const SessionKey *k, AtAesCtr **ret) {
        uint8_t key[AT_AES_KEY_SIZE], iv[AT_AES_IV_SIZE];
        int r;

        r = decode_exact(k->key_b64, AT_AES_KEY_SIZE, key);
        if (r >= 0)
                r = decode_exact(k->iv_b64, AT_AES_IV_SIZE, iv);
        if (r >= 0)
                r = at_aes_ctr_new(key, iv, ret);
        explicit_bzero(key, sizeof key);
        explicit_bzero(iv, sizeof iv);
        return r;
}

int session_wrap(const AtRsaPublic *ephemeral, const char *b64_text, char **ret) {
        if (!ephemeral || !b64_text)
                return -EINVAL;
        return at_rsa_encrypt(ephemeral, b64_text, strlen(b64_text), ret);
}

static int unwrap_one(const AtRsaPrivate *ephemeral, const char *wrapped, size_t want_len, char *out) {
        uint8_t *plain __attribute__((cleanup(secure_freep_u8))) = NULL;
        size_t n;
        int r;

        if (!wrapped)
                return -EBADMSG;
        r = at_rsa_decrypt(ephemeral, wrapped, &plain, &n);
        if (r < 0)
                return -EBADMSG;
        if (n != want_len)
                return -EBADMSG;
        memcpy(out, plain, n);
        out[n] = '\0';
        return 0;
}

int session_unwrap_key(const AtRsaPrivate *ephemeral, const char *wrapped_key, const char *wrapped_iv,
                       SessionKey **ret) {
        SessionKey *k;
        int r;

        k = at_secure_alloc(sizeof *k);
        if (!k)
                return -ENOMEM;
        r = unwrap_one(ephemeral, wrapped_key, SESSION_KEY_B64_LEN, k->key_b64);
        if (r >= 0)
                r = unwrap_one(ephemeral, wrapped_iv, SESSION_IV_B64_LEN, k->iv_b64);
        if (r >= 0 && (decode_exact(k->key_b64, AT_AES_KEY_SIZE, NULL) < 0 ||
                       decode_exact(k->iv_b64, AT_AES_IV_SIZE, NULL) < 0))
                r = -EBADMSG;
        if (r < 0) {
                at_secure_free(k);
                return r;
        }
        *ret = k;
        return 0;
}
