/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the envelope parser and every message parser that reads hostile JSON
 * (requests, responses, relay request/reply, ping). */
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "json_field.h"
#include "messages.h"
#include "secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static AtRsaPublic *key;
        const char *text = (const char *) data;
        Envelope *e = NULL;

        if (!key) {
                AtRsaPrivate *k = NULL;
                at_secure_init();
                if (at_rsa_generate(2048, &k) < 0 || at_rsa_private_get_public(k, &key) < 0)
                        abort();
                at_rsa_private_free(k);
        }

        if (envelope_parse(text, size, &e) >= 0) {
                NpSessionRequest *r = NULL;
                NpSessionResponse *resp = NULL;

                (void) envelope_verify(e, key);
                if (np_session_request_from_json(NP_REQUEST_SSH, e->payload, &r) >= 0)
                        np_session_request_free(r);
                if (np_session_request_from_json(NP_REQUEST_NPT, e->payload, &r) >= 0)
                        np_session_request_free(r);
                if (np_session_response_from_json(e->payload, &resp) >= 0)
                        np_session_response_free(resp);
                envelope_free(e);
        }

        NpRelayRequest *q = NULL;
        if (np_relay_request_parse(text, size, &q) >= 0)
                np_relay_request_free(q);
        NpRelayReply *rr = NULL;
        if (np_relay_reply_parse(text, size, &rr) >= 0)
                np_relay_reply_free(rr);
        NpPing *p = NULL;
        if (np_ping_parse(text, size, &p) >= 0)
                np_ping_free(p);
        return 0;
}
