/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "hash.h"
#include "macro.h"
#include "rsa.h"

/* Signed envelopes, as every NoPorts request and response carries them:
 *   {"payload":P,"signature":"<b64>","hashingAlgo":"sha256","signingAlgo":"rsa2048"}
 * The signature (RSA PKCS#1 v1.5 with the atSign's encryption key) covers the compact Dart JSON
 * of P (dart_json.h); the verifier re-serialises the received payload in the received order.
 * (upstream: noports_core/lib/src/common/validation_utils.dart, signAndWrapAndJsonEncode and
 * verifyEnvelopeSignature) */

#define ENVELOPE_MAX_SIZE (64U * 1024U)

/* Signs payload (a JSON object) and returns the envelope text (no trailing newline). */
int envelope_sign(const json_t *payload, const AtRsaPrivate *key, char **ret);

typedef struct Envelope {
        json_t *root;         /* owns everything below */
        json_t *payload;      /* borrowed from root: always an object */
        char *payload_bytes;  /* Dart serialisation of payload: the signed bytes */
        const char *signature;
        AtHashAlgo hash;
} Envelope;

/* Parses text (at most ENVELOPE_MAX_SIZE): checks the field types, the algorithms
 * (hashingAlgo sha256|sha512, signingAlgo rsa2048) and rebuilds the signed bytes. Does not verify.
 * -EMSGSIZE, -EBADMSG (not an envelope), -EPROTONOSUPPORT (unknown algorithm). */
int envelope_parse(const char *text, size_t size, Envelope **ret);
/* 0 when the signature matches key, -EBADMSG otherwise. */
int envelope_verify(const Envelope *e, const AtRsaPublic *key);
void envelope_free(Envelope *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Envelope *, envelope_free);

/* Parse + verify in one step; on success *ret_payload is a new reference to the payload. */
int envelope_open(const char *text, size_t size, const AtRsaPublic *key, json_t **ret_payload);
