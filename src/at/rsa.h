/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "macro.h"

/* RSA as the atProtocol uses it (GnuTLS underneath):
 *  - public keys travel as base64 of DER SubjectPublicKeyInfo (X.509),
 *  - private keys as base64 of DER PKCS#8 (unencrypted),
 *  - signatures: PKCS#1 v1.5 over SHA-256 (or SHA-512), base64,
 *  - encryption: PKCS#1 v1.5, ciphertext base64. */

typedef struct AtRsaPublic AtRsaPublic;
typedef struct AtRsaPrivate AtRsaPrivate;

int at_rsa_public_from_base64(const char *b64, AtRsaPublic **ret);
int at_rsa_private_from_base64(const char *b64, AtRsaPrivate **ret);
/* Base64 text of the DER encoding; the private one is in secure memory (at_secure_free). */
int at_rsa_public_to_base64(const AtRsaPublic *key, char **ret);
int at_rsa_private_to_base64(const AtRsaPrivate *key, char **ret);

int at_rsa_generate(unsigned bits, AtRsaPrivate **ret);
int at_rsa_private_get_public(const AtRsaPrivate *key, AtRsaPublic **ret);
unsigned at_rsa_public_bits(const AtRsaPublic *key);

void at_rsa_public_free(AtRsaPublic *key);
void at_rsa_private_free(AtRsaPrivate *key);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtRsaPublic *, at_rsa_public_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtRsaPrivate *, at_rsa_private_free);

/* Signature over data with the given hash, returned as base64 text. */
int at_rsa_sign(const AtRsaPrivate *key, AtHashAlgo algo, const void *data, size_t size, char **ret_b64);
/* 0 if the base64 signature is valid, -EBADMSG if not, -EINVAL if it is not base64. */
int at_rsa_verify(const AtRsaPublic *key, AtHashAlgo algo, const void *data, size_t size, const char *sig_b64);

/* PKCS#1 v1.5 encryption; returns base64 ciphertext. */
int at_rsa_encrypt(const AtRsaPublic *key, const void *data, size_t size, char **ret_b64);
/* Decrypts base64 ciphertext into secure memory (NUL-terminated, at_secure_free). -EBADMSG on failure. */
int at_rsa_decrypt(const AtRsaPrivate *key, const char *ciphertext_b64, uint8_t **ret, size_t *ret_size);
