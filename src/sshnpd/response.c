/* SPDX-License-Identifier: BSD-3-Clause */
#include "envelope.h"
#include "response.h"

static void response_clear(NpSessionResponse *r) {
        free(r->aes_key_c2d);
        free(r->iv_c2d);
        free(r->aes_key_d2c);
        free(r->iv_d2c);
}

int sshnpd_response_build(NpRequestKind kind, const char *session_id, const char *client_pk, const SessionKey *c2d,
                          const SessionKey *d2c, const AtRsaPrivate *signer, char **ret) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *ephemeral = NULL;
        NpSessionResponse resp = { .status = (char *) "connected", .session_id = (char *) session_id };
        NpResponseForm form;
        json_t *j = NULL;
        int r;

        if (!client_pk || !c2d)
                return -EINVAL;
        if (d2c)
                form = NP_RESPONSE_NEWEST;
        else
                form = kind == NP_REQUEST_SSH ? NP_RESPONSE_SSH_BASELINE : NP_RESPONSE_NPT_BASELINE;

        r = at_rsa_public_from_base64(client_pk, &ephemeral);
        if (r >= 0)
                r = session_wrap(ephemeral, c2d->key_b64, &resp.aes_key_c2d);
        if (r >= 0)
                r = session_wrap(ephemeral, c2d->iv_b64, &resp.iv_c2d);
        if (r >= 0 && d2c)
                r = session_wrap(ephemeral, d2c->key_b64, &resp.aes_key_d2c);
        if (r >= 0 && d2c)
                r = session_wrap(ephemeral, d2c->iv_b64, &resp.iv_d2c);
        if (r >= 0)
                r = np_session_response_to_json(&resp, form, &j);
        if (r >= 0)
                r = envelope_sign(j, signer, ret);
        json_decref(j);
        response_clear(&resp);
        return r;
}
