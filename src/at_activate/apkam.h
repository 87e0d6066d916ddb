/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdint.h>

#include "aes.h"
#include "keys_file.h"

/* Key material of onboarding and enrollment. Keys travel between devices as the base64 TEXT of
 * the key (the AES key's base64, or the RSA key's base64 DER), AES-256-CTR encrypted with an
 * all-zero IV and PKCS#7 padding under the APKAM symmetric key, then base64-encoded
 * (at_auth/lib/src/at_auth_impl.dart _sendOnboardingEnrollment, AtChopsUtil.generateIVLegacy). */

/* A fresh AES-256 key in secure memory (at_secure_free). */
int apkam_symmetric_key_new(uint8_t **ret);
/* base64 text of a 32-byte AES key, in secure memory. */
int apkam_symmetric_key_to_base64(const uint8_t key[AT_AES_KEY_SIZE], char **ret);

/* text -> base64 ciphertext under key (zero IV) */
int apkam_encrypt_text(const uint8_t key[AT_AES_KEY_SIZE], const char *text, char **ret_b64);
/* base64 ciphertext -> text (secure memory, NUL-terminated). -EBADMSG if it does not decrypt. */
int apkam_decrypt_text(const uint8_t key[AT_AES_KEY_SIZE], const char *b64, char **ret);

/* Everything onboarding creates: encryption and APKAM RSA-2048 key pairs, the self-encryption
 * key and the APKAM symmetric key (at_auth_impl.dart _generateKeyPairs). */
int apkam_generate_onboarding_keys(const char *atsign, AtKeys **ret);

/* The two values an enrollment carries for a device (first enrollment and approve): the
 * encryption private key and the self-encryption key, each encrypted under apkam_key. */
int apkam_wrap_default_keys(const AtKeys *keys, const uint8_t apkam_key[AT_AES_KEY_SIZE],
                            char **ret_encrypted_private_key, char **ret_encrypted_self_key);
