/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>

#include "aes.h"
#include "macro.h"
#include "rsa.h"

/* The .atKeys file (upstream format): JSON object of strings. The four RSA keys are stored as
 * base64 DER text that is AES-256-CTR (zero IV, PKCS#7) encrypted under selfEncryptionKey and
 * base64-encoded again. See docs/protocol.md "The .atKeys file".
 *
 * Fields: aesPkamPublicKey, aesPkamPrivateKey, aesEncryptPublicKey, aesEncryptPrivateKey (all
 * required, encrypted), selfEncryptionKey (required), "@<atsign>" (legacy copy of
 * selfEncryptionKey, gives the atSign), apkamSymmetricKey and enrollmentId (APKAM era, optional).
 * Other fields (at_auth's typed-keys "version"/"atsign"/"enrollments"/...) are ignored, except a
 * string "atsign". Passphrase-protected files ({"iv","content",...}) give -EPROTONOSUPPORT;
 * anything malformed gives -EBADMSG (with the reason logged). */

#define AT_KEYS_FILE_MAX_SIZE (64 * 1024)

typedef struct AtKeys {
        char *atsign;                    /* "@alice"; may be NULL when not known from the file */
        AtRsaPrivate *pkam_private;      /* PKAM / APKAM key pair (login) */
        AtRsaPublic *pkam_public;
        AtRsaPrivate *encrypt_private;   /* encryption key pair (shared keys, envelope signatures) */
        AtRsaPublic *encrypt_public;
        uint8_t *self_encryption_key;    /* 32 bytes, secure memory */
        uint8_t *apkam_symmetric_key;    /* 32 bytes, secure memory, may be NULL */
        char *enrollment_id;             /* may be NULL (legacy files) */
} AtKeys;

AtKeys *at_keys_new(void);
void at_keys_free(AtKeys *keys);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtKeys *, at_keys_free);

/* Parses file contents (hostile input: every field type- and size-checked). On success all four
 * RSA keys and self_encryption_key are set. */
int at_keys_parse(const char *json, size_t size, AtKeys **ret);
int at_keys_load(const char *path, AtKeys **ret);
/* Serialises into secure memory (at_secure_free) / writes 0600 atomically, creating missing
 * parent directories 0700; refuses to replace an existing file unless replace is set (-EEXIST).
 * Needs all four RSA keys and self_encryption_key (-EINVAL otherwise). */
int at_keys_format(const AtKeys *keys, char **ret);
int at_keys_save(const AtKeys *keys, const char *path, bool replace);

/* ~/.atsign/keys/@alice_key.atKeys for "@alice" (or "alice") */
int at_keys_default_path(const char *atsign, char **ret);
