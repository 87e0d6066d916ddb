/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define AT_AES_KEY_SIZE 32
#define AT_AES_IV_SIZE 16

/* Streaming AES-256-CTR (nettle): the IV is the initial 128-bit counter block, incremented
 * big-endian per 16-byte block; state runs across calls, so a TCP stream can be encrypted in
 * pieces of any size. Used by srv for relayed bytes. */
typedef struct AtAesCtr AtAesCtr;

int at_aes_ctr_new(const uint8_t key[AT_AES_KEY_SIZE], const uint8_t iv[AT_AES_IV_SIZE], AtAesCtr **ret);
void at_aes_ctr_crypt(AtAesCtr *ctr, const uint8_t *in, uint8_t *out, size_t size); /* in == out allowed */
void at_aes_ctr_free(AtAesCtr *ctr); /* wipes the state */

/* One-shot AES-256-CTR with PKCS#7 padding, as the atProtocol encrypts values (shared-key
 * encrypted notifications and keys, the .atKeys fields): plaintext -> base64 ciphertext. */
int at_aes_encrypt_b64(const uint8_t key[AT_AES_KEY_SIZE], const uint8_t iv[AT_AES_IV_SIZE],
                       const void *plaintext, size_t size, char **ret_b64);
/* base64 ciphertext -> plaintext (secure memory, NUL-terminated); -EBADMSG on bad padding. */
int at_aes_decrypt_b64(const uint8_t key[AT_AES_KEY_SIZE], const uint8_t iv[AT_AES_IV_SIZE],
                       const char *ciphertext_b64, uint8_t **ret, size_t *ret_size);

/* Decodes a base64 AES-256 key (exactly 32 bytes, else -EINVAL) into out. */
int at_aes_key_from_base64(const char *b64, uint8_t out[AT_AES_KEY_SIZE]);

/* Random bytes (libsodium) */
void at_random_bytes(void *buf, size_t size);
