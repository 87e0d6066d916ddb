/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: the relay's handshake path, exactly as srvd runs it on the first bytes of a
 * socket: find the line within the bound, then verify it for a session. */
#include <stddef.h>
#include <stdint.h>

#include "relay_auth.h"
#include "secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static AtRsaPublic *key;
        int n;

        if (!key) {
                AtRsaPrivate *k = NULL;
                at_secure_init();
                if (at_rsa_generate(2048, &k) < 0 || at_rsa_private_get_public(k, &key) < 0)
                        abort();
                at_rsa_private_free(k);
        }

        n = relay_auth_line_length((const char *) data, size);
        if (n >= 0)
                (void) relay_auth_verify((const char *) data, (size_t) n, "0b6c3ae3-5b7d-4e2b-9a5e-3c0f0d5f2a11",
                                         "2024-06-21T22:30:19.436915", "2024-06-21T22:30:20.112233", key);
        return 0;
}
