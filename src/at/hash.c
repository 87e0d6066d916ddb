/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdlib.h>

#include "hash.h"
#include "macro.h"

int at_hash_algo_from_string(const char *s, AtHashAlgo *ret) {
        if (!s || !ret)
                return -EINVAL;
        /* noports envelopes carry "hashingAlgo":"sha256" (noports_core ... signing code) */
        if (streq(s, "sha256"))
                *ret = AT_HASH_SHA256;
        else if (streq(s, "sha512"))
                *ret = AT_HASH_SHA512;
        else
                return -EINVAL;
        return 0;
}

const char *at_hash_algo_to_string(AtHashAlgo algo) {
        switch (algo) {
        case AT_HASH_SHA256:
                return "sha256";
        case AT_HASH_SHA512:
                return "sha512";
        }
        return NULL;
}

int at_sha256(const void *data, size_t size, uint8_t out[AT_SHA256_SIZE]) {
        if (!data && size > 0)
                return -EINVAL;
        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data ? data : "", size, out) < 0)
                return -EIO;
        return 0;
}

int at_sha512(const void *data, size_t size, uint8_t out[AT_SHA512_SIZE]) {
        if (!data && size > 0)
                return -EINVAL;
        if (gnutls_hash_fast(GNUTLS_DIG_SHA512, data ? data : "", size, out) < 0)
                return -EIO;
        return 0;
}

int at_hex_encode(const void *data, size_t size, char **ret) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *p = data;
        char *s;

        if (!ret || (!data && size > 0))
                return -EINVAL;
        if (size > (SIZE_MAX - 1) / 2)
                return -EFBIG;
        s = malloc(size * 2 + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < size; i++) {
                s[2 * i] = digits[p[i] >> 4];
                s[2 * i + 1] = digits[p[i] & 15];
        }
        s[size * 2] = '\0';
        *ret = s;
        return 0;
}
