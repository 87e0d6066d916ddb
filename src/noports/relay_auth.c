/* SPDX-License-Identifier: BSD-3-Clause */
#include "dart_json.h"
#include "envelope.h"
#include "json_field.h"
#include "relay_auth.h"

static int expected_payload(const char *session_id, const char *client_nonce, const char *rvd_nonce, json_t **ret) {
        _cleanup_json_ json_t *p = json_object();
        int r;

        if (!p)
                return -ENOMEM;
        if ((r = json_add_string(p, "sessionId", session_id)) < 0 ||
            (r = json_add_string(p, "clientNonce", client_nonce)) < 0 ||
            (r = json_add_string(p, "rvdNonce", rvd_nonce)) < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int relay_auth_build(const char *session_id, const char *client_nonce, const char *rvd_nonce,
                     const AtRsaPrivate *key, char **ret) {
        _cleanup_json_ json_t *p = NULL;
        int r;

        if (!session_id)
                return -EINVAL;
        r = expected_payload(session_id, client_nonce, rvd_nonce, &p);
        if (r < 0)
                return r;
        return envelope_sign(p, key, ret);
}

int relay_auth_line_length(const char *buf, size_t size) {
        const char *nl = memchr(buf, '\n', MIN(size, (size_t) RELAY_AUTH_MAX_LINE));

        if (nl)
                return (int) (nl - buf);
        return size >= RELAY_AUTH_MAX_LINE ? -EMSGSIZE : -EAGAIN;
}

int relay_auth_verify(const char *line, size_t size, const char *session_id, const char *client_nonce,
                      const char *rvd_nonce, const AtRsaPublic *key) {
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_json_ json_t *expected = NULL;
        _cleanup_free_ char *expected_bytes = NULL;
        json_t *nonce;
        int r;

        if (size > RELAY_AUTH_MAX_LINE)
                return -EMSGSIZE;
        /* a '\r' before the newline (a Windows peer's writeln) is not part of the JSON */
        if (size > 0 && line[size - 1] == '\r')
                size--;
        r = envelope_parse(line, size, &e);
        if (r < 0)
                return r;

        nonce = json_object_get(e->payload, "rvdNonce");
        if (!json_is_string(nonce) || !rvd_nonce || !streq(json_string_value(nonce), rvd_nonce))
                return -EPERM;

        /* the signed bytes are rebuilt from the session's own values, not from the payload */
        r = expected_payload(session_id, client_nonce, rvd_nonce, &expected);
        if (r < 0)
                return r;
        r = dart_json_encode(expected, &expected_bytes);
        if (r < 0)
                return r;
        r = at_rsa_verify(key, e->hash, expected_bytes, strlen(expected_bytes), e->signature);
        if (r == -EINVAL)
                return -EBADMSG;
        return r;
}
