/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <sodium.h>
#include <string.h>

#include "aes.h"
#include "base64.h"
#include "macro.h"
#include "secure.h"

/* Largest ciphertext at_aes_decrypt_b64 accepts (decoded bytes); values and key fields are far smaller. */
#define AT_AES_MAX_CIPHERTEXT (16U * 1024 * 1024)

struct AtAesCtr {
        struct aes256_ctx aes;
        uint8_t counter[AES_BLOCK_SIZE];   /* next counter block */
        uint8_t keystream[AES_BLOCK_SIZE]; /* current partly used keystream block */
        size_t used;                       /* bytes of keystream[] already consumed; 16 = none left */
};

int at_aes_ctr_new(const uint8_t key[AT_AES_KEY_SIZE], const uint8_t iv[AT_AES_IV_SIZE], AtAesCtr **ret) {
        AtAesCtr *ctr;

        if (!key || !iv || !ret)
                return -EINVAL;
        ctr = at_secure_alloc(sizeof(*ctr)); /* holds the key schedule */
        if (!ctr)
                return -ENOMEM;
        aes256_set_encrypt_key(&ctr->aes, key);
        memcpy(ctr->counter, iv, AES_BLOCK_SIZE);
        ctr->used = AES_BLOCK_SIZE;
        *ret = ctr;
        return 0;
}

void at_aes_ctr_crypt(AtAesCtr *ctr, const uint8_t *in, uint8_t *out, size_t size) {
        size_t n;

        /* 1. finish the keystream block a previous call started */
        n = MIN(size, AES_BLOCK_SIZE - ctr->used);
        for (size_t i = 0; i < n; i++)
                out[i] = in[i] ^ ctr->keystream[ctr->used + i];
        ctr->used += n;
        in += n;
        out += n;
        size -= n;

        /* 2. whole blocks in one go: nettle pipelines these (AES-NI when available) */
        n = size & ~(size_t) (AES_BLOCK_SIZE - 1);
        if (n > 0) {
                ctr_crypt(&ctr->aes, (nettle_cipher_func *) aes256_encrypt, AES_BLOCK_SIZE, ctr->counter,
                          n, out, in);
                in += n;
                out += n;
                size -= n;
        }

        /* 3. a tail shorter than a block: make one keystream block and keep what is left of it */
        if (size > 0) {
                memset(ctr->keystream, 0, AES_BLOCK_SIZE);
                ctr_crypt(&ctr->aes, (nettle_cipher_func *) aes256_encrypt, AES_BLOCK_SIZE, ctr->counter,
                          AES_BLOCK_SIZE, ctr->keystream, ctr->keystream);
                for (size_t i = 0; i < size; i++)
                        out[i] = in[i] ^ ctr->keystream[i];
                ctr->used = size;
        }
}

void at_aes_ctr_free(AtAesCtr *ctr) {
        at_secure_free(ctr);
}

/* One-shot CTR from a fresh counter = iv over a buffer in place. */
static int ctr_oneshot(const uint8_t key[AT_AES_KEY_SIZE], const uint8_t iv[AT_AES_IV_SIZE], uint8_t *buf, size_t size) {
        AtAesCtr *ctr;
        int r;

        r = at_aes_ctr_new(key, iv, &ctr);
        if (r < 0)
                return r;
        at_aes_ctr_crypt(ctr, buf, buf, size);
        at_aes_ctr_free(ctr);
        return 0;
}

int at_aes_encrypt_b64(const uint8_t key[AT_AES_KEY_SIZE], const uint8_t iv[AT_AES_IV_SIZE],
                       const void *plaintext, size_t size, char **ret_b64) {
        _cleanup_secure_ uint8_t *buf = NULL;
        size_t pad, total;
        int r;

        if (!key || !iv || !ret_b64 || (!plaintext && size > 0))
                return -EINVAL;
        if (size > AT_AES_MAX_CIPHERTEXT - AES_BLOCK_SIZE)
                return -EFBIG;

        /* PKCS#7 before CTR, as at_chops (package encrypt: AES SIC + PKCS7) and at_c do:
         * always 1..16 bytes of padding, each holding the padding length */
        pad = AES_BLOCK_SIZE - size % AES_BLOCK_SIZE;
        total = size + pad;
        buf = at_secure_alloc(total);
        if (!buf)
                return -ENOMEM;
        if (size > 0)
                memcpy(buf, plaintext, size);
        memset(buf + size, (int) pad, pad);

        r = ctr_oneshot(key, iv, buf, total);
        if (r < 0)
                return r;
        return at_base64_encode(buf, total, ret_b64);
}

int at_aes_decrypt_b64(const uint8_t key[AT_AES_KEY_SIZE], const uint8_t iv[AT_AES_IV_SIZE],
                       const char *ciphertext_b64, uint8_t **ret, size_t *ret_size) {
        _cleanup_secure_ uint8_t *buf = NULL;
        size_t size;
        uint8_t pad;
        int r;

        if (!key || !iv || !ciphertext_b64 || !ret)
                return -EINVAL;

        r = at_base64_decode_secure(ciphertext_b64, strlen(ciphertext_b64), AT_AES_MAX_CIPHERTEXT, &buf, &size);
        if (r < 0)
                return r;
        if (size == 0 || size % AES_BLOCK_SIZE != 0)
                return -EBADMSG; /* padded plaintext always fills whole blocks */

        r = ctr_oneshot(key, iv, buf, size);
        if (r < 0)
                return r;

        pad = buf[size - 1];
        if (pad == 0 || pad > AES_BLOCK_SIZE)
                return -EBADMSG;
        for (size_t i = size - pad; i < size; i++)
                if (buf[i] != pad)
                        return -EBADMSG;

        size -= pad;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int at_aes_key_from_base64(const char *b64, uint8_t out[AT_AES_KEY_SIZE]) {
        _cleanup_secure_ uint8_t *buf = NULL;
        size_t size;
        int r;

        if (!b64 || !out)
                return -EINVAL;
        r = at_base64_decode_secure(b64, strlen(b64), AT_AES_KEY_SIZE, &buf, &size);
        if (r < 0)
                return -EINVAL;
        if (size != AT_AES_KEY_SIZE)
                return -EINVAL;
        memcpy(out, buf, AT_AES_KEY_SIZE);
        return 0;
}

void at_random_bytes(void *buf, size_t size) {
        if (sodium_init() < 0)
                abort(); /* no usable randomness: nothing secure can continue */
        randombytes_buf(buf, size);
}
