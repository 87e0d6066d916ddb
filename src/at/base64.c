/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "secure.h"

/* The atProtocol uses standard padded base64 everywhere (RFC 4648 §4): libsodium's ORIGINAL
 * variant, which also rejects non-zero trailing bits and missing or stray padding. */
#define VARIANT sodium_base64_VARIANT_ORIGINAL

int at_base64_encode(const void *data, size_t size, char **ret) {
        char *s;
        size_t len;

        if (!ret || (!data && size > 0))
                return -EINVAL;
        if (size > (SIZE_MAX / 4) * 3 - 3)
                return -EFBIG;

        len = sodium_base64_ENCODED_LEN(size, VARIANT); /* includes the NUL */
        s = malloc(len);
        if (!s)
                return -ENOMEM;
        sodium_bin2base64(s, len, data ? data : (const void *) "", size, VARIANT);
        *ret = s;
        return 0;
}

static int decode(const char *text, size_t text_len, size_t max_size, bool secure,
                  uint8_t **ret, size_t *ret_size) {
        uint8_t *buf;
        size_t bound, bin_len = 0;

        if (!text || !ret)
                return -EINVAL;
        if (text_len % 4 != 0)
                return -EINVAL; /* padded base64 always comes in quads */
        /* base64 of max_size bytes is 4*ceil(max_size/3) characters; anything longer is too big */
        if (max_size < SIZE_MAX / 2 && text_len / 4 > (max_size + 2) / 3)
                return -EFBIG;

        bound = text_len / 4 * 3;
        buf = secure ? at_secure_alloc(bound + 1) : malloc(bound + 1);
        if (!buf)
                return -ENOMEM;

        if (sodium_base642bin(buf, bound, text, text_len, NULL, &bin_len, NULL, VARIANT) != 0 ||
            bin_len > max_size) {
                int r = bin_len > max_size ? -EFBIG : -EINVAL;

                if (secure)
                        at_secure_free(buf);
                else
                        free(buf);
                return r;
        }

        buf[bin_len] = 0;
        *ret = buf;
        if (ret_size)
                *ret_size = bin_len;
        return 0;
}

int at_base64_decode(const char *text, size_t text_len, size_t max_size, uint8_t **ret, size_t *ret_size) {
        return decode(text, text_len, max_size, false, ret, ret_size);
}

int at_base64_decode_secure(const char *text, size_t text_len, size_t max_size, uint8_t **ret, size_t *ret_size) {
        return decode(text, text_len, max_size, true, ret, ret_size);
}
