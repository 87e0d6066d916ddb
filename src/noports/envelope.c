/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "dart_json.h"
#include "envelope.h"

int envelope_sign(const json_t *payload, const AtRsaPrivate *key, char **ret) {
        _cleanup_free_ char *payload_bytes = NULL, *signature = NULL;
        char *text;
        int r;

        if (!json_is_object(payload))
                return -EINVAL;
        r = dart_json_encode(payload, &payload_bytes);
        if (r < 0)
                return r;
        r = at_rsa_sign(key, AT_HASH_SHA256, payload_bytes, strlen(payload_bytes), &signature);
        if (r < 0)
                return r;
        /* The exact bytes that were signed are embedded; the signature is base64 (no escaping),
         * and the order of the fields is that of signAndWrapAndJsonEncode. */
        if (asprintf(&text, "{\"payload\":%s,\"signature\":\"%s\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}",
                     payload_bytes, signature) < 0)
                return -ENOMEM;
        *ret = text;
        return 0;
}

void envelope_free(Envelope *e) {
        if (!e)
                return;
        free(e->payload_bytes);
        if (e->root)
                json_decref(e->root);
        free(e);
}

int envelope_parse(const char *text, size_t size, Envelope **ret) {
        _cleanup_(envelope_freep) Envelope *e = NULL;
        json_t *sig, *hashing, *signing;
        int r;

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        r = dart_json_parse_object(text, size, ENVELOPE_MAX_SIZE, &e->root);
        if (r < 0)
                return r;

        e->payload = json_object_get(e->root, "payload");
        sig = json_object_get(e->root, "signature");
        hashing = json_object_get(e->root, "hashingAlgo");
        signing = json_object_get(e->root, "signingAlgo");
        if (!json_is_object(e->payload) || !json_is_string(sig) || !json_is_string(hashing) ||
            !json_is_string(signing))
                return -EBADMSG;
        /* an RSA-4096 signature is 684 base64 characters; anything longer is not one */
        if (json_string_length(sig) == 0 || json_string_length(sig) > 1024)
                return -EBADMSG;
        e->signature = json_string_value(sig);

        if (at_hash_algo_from_string(json_string_value(hashing), &e->hash) < 0)
                return -EPROTONOSUPPORT;
        if (!streq(json_string_value(signing), "rsa2048"))
                return -EPROTONOSUPPORT;

        r = dart_json_encode(e->payload, &e->payload_bytes);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;

        *ret = TAKE_PTR(e);
        return 0;
}

int envelope_verify(const Envelope *e, const AtRsaPublic *key) {
        int r;

        r = at_rsa_verify(key, e->hash, e->payload_bytes, strlen(e->payload_bytes), e->signature);
        if (r == -EINVAL)
                return -EBADMSG; /* not even base64 */
        return r;
}

int envelope_open(const char *text, size_t size, const AtRsaPublic *key, json_t **ret_payload) {
        _cleanup_(envelope_freep) Envelope *e = NULL;
        int r;

        r = envelope_parse(text, size, &e);
        if (r < 0)
                return r;
        r = envelope_verify(e, key);
        if (r < 0)
                return r;
        *ret_payload = json_incref(e->payload);
        return 0;
}
