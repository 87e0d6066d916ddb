/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* Metadata of an atProtocol key, as sent in update/notify commands and returned by
 * "llookup:all:" / "llookup:meta:" and in notifications. A zeroed struct means "nothing set".
 * Strings are owned (at_metadata_done frees them); set them with at_metadata_set(). */

typedef enum AtTristate {
        AT_UNSET = 0,
        AT_FALSE,
        AT_TRUE,
} AtTristate;

typedef struct AtMetadata {
        bool has_ttl, has_ttb, has_ttr;
        int64_t ttl;               /* ms the key lives (0 = forever) */
        int64_t ttb;               /* ms before it becomes visible */
        int64_t ttr;               /* ms a cached copy stays fresh (-1 = cache forever) */
        AtTristate ccd;            /* cascade delete of cached copies */
        AtTristate is_binary;
        AtTristate is_encrypted;
        char *data_signature;
        char *shared_key_status;
        char *shared_key_enc;      /* sharedKeyEnc */
        char *pub_key_cs;          /* pubKeyCS */
        char *encoding;
        char *enc_key_name;        /* encKeyName */
        char *enc_algo;            /* encAlgo */
        char *iv_nonce;            /* ivNonce (base64) */
        char *ske_enc_key_name;    /* skeEncKeyName */
        char *ske_enc_algo;        /* skeEncAlgo */
        /* only from the server (llookup:all / notifications), never rendered: */
        char *created_by, *updated_by, *created_at, *updated_at, *available_at, *expires_at, *refresh_at;
} AtMetadata;

void at_metadata_done(AtMetadata *m); /* frees the strings, zeroes */
/* Replaces *field with a copy of value (NULL clears). */
int at_metadata_set(char **field, const char *value);

/* Renders the set fields in the order the server's command syntax requires
 * (ttl, ttb, ttr, ccd, dataSignature, sharedKeyStatus, isBinary, isEncrypted, sharedKeyEnc,
 * pubKeyCS, encoding, encKeyName, encAlgo, ivNonce, skeEncKeyName, skeEncAlgo), each as
 * ":name:value"; "" when nothing is set. -EINVAL if a string value is empty or contains ':',
 * '@' or whitespace (the syntax cannot carry it), or a number is out of range. */
int at_metadata_render(const AtMetadata *m, char **ret);

/* Reads a metadata JSON object (the "metaData" of llookup:all, the "metadata" of a
 * notification). Unknown fields are ignored; a known field of the wrong type is -EBADMSG;
 * JSON null counts as absent. *ret is overwritten on success (not freed first), untouched on failure. */
int at_metadata_from_json(const json_t *object, AtMetadata *ret);
