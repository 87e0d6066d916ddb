/* SPDX-License-Identifier: BSD-3-Clause */
#include "apkam.h"

#include <sodium.h>

#include "base64.h"
#include "log.h"
#include "rsa.h"
#include "secure.h"

static const uint8_t zero_iv[AT_AES_IV_SIZE] = {};

int apkam_symmetric_key_new(uint8_t **ret) {
        uint8_t *key = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!key)
                return -ENOMEM;
        at_random_bytes(key, AT_AES_KEY_SIZE);
        *ret = key;
        return 0;
}

int apkam_symmetric_key_to_base64(const uint8_t key[AT_AES_KEY_SIZE], char **ret) {
        _cleanup_free_ char *b64 = NULL;
        char *s;
        int r;

        r = at_base64_encode(key, AT_AES_KEY_SIZE, &b64);
        if (r < 0)
                return r;
        s = at_secure_strdup(b64);
        sodium_memzero(b64, strlen(b64));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int apkam_encrypt_text(const uint8_t key[AT_AES_KEY_SIZE], const char *text, char **ret_b64) {
        return at_aes_encrypt_b64(key, zero_iv, text, strlen(text), ret_b64);
}

int apkam_decrypt_text(const uint8_t key[AT_AES_KEY_SIZE], const char *b64, char **ret) {
        uint8_t *plain = NULL;
        size_t size = 0;
        int r;

        r = at_aes_decrypt_b64(key, zero_iv, b64, &plain, &size);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (memchr(plain, 0, size)) {
                at_secure_free(plain);
                return -EBADMSG;
        }
        *ret = (char *) plain;
        return 0;
}

int apkam_generate_onboarding_keys(const char *atsign, AtKeys **ret) {
        _cleanup_(at_keys_freep) AtKeys *keys = at_keys_new();
        int r;

        if (!keys)
                return log_oom();
        keys->atsign = strdup(atsign);
        if (!keys->atsign)
                return log_oom();

        log_info("Generating the encryption key pair (RSA-2048) for %s.", atsign);
        r = at_rsa_generate(2048, &keys->encrypt_private);
        if (r < 0)
                return log_error_errno(r, "Failed to generate the encryption key pair: %m");
        r = at_rsa_private_get_public(keys->encrypt_private, &keys->encrypt_public);
        if (r < 0)
                return log_error_errno(r, "Failed to derive the encryption public key: %m");

        log_info("Generating the APKAM key pair (RSA-2048) for %s.", atsign);
        r = at_rsa_generate(2048, &keys->pkam_private);
        if (r < 0)
                return log_error_errno(r, "Failed to generate the APKAM key pair: %m");
        r = at_rsa_private_get_public(keys->pkam_private, &keys->pkam_public);
        if (r < 0)
                return log_error_errno(r, "Failed to derive the APKAM public key: %m");

        r = apkam_symmetric_key_new(&keys->self_encryption_key);
        if (r < 0)
                return log_oom();
        r = apkam_symmetric_key_new(&keys->apkam_symmetric_key);
        if (r < 0)
                return log_oom();

        *ret = TAKE_PTR(keys);
        return 0;
}

int apkam_wrap_default_keys(const AtKeys *keys, const uint8_t apkam_key[AT_AES_KEY_SIZE],
                            char **ret_encrypted_private_key, char **ret_encrypted_self_key) {
        _cleanup_secure_ char *private_b64 = NULL, *self_b64 = NULL;
        _cleanup_free_ char *enc_private = NULL, *enc_self = NULL;
        int r;

        if (!keys->encrypt_private || !keys->self_encryption_key)
                return -EINVAL;
        r = at_rsa_private_to_base64(keys->encrypt_private, &private_b64);
        if (r < 0)
                return r;
        r = apkam_symmetric_key_to_base64(keys->self_encryption_key, &self_b64);
        if (r < 0)
                return r;
        r = apkam_encrypt_text(apkam_key, private_b64, &enc_private);
        if (r < 0)
                return r;
        r = apkam_encrypt_text(apkam_key, self_b64, &enc_self);
        if (r < 0)
                return r;
        *ret_encrypted_private_key = TAKE_PTR(enc_private);
        *ret_encrypted_self_key = TAKE_PTR(enc_self);
        return 0;
}
