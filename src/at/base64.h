/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Standard base64 (RFC 4648, '+' '/' with '=' padding), as every atProtocol value uses.
 * Returns a newly allocated NUL-terminated string. */
int at_base64_encode(const void *data, size_t size, char **ret);

/* Strict decoding: rejects characters outside the alphabet, bad padding and (len > max_size)
 * with -EINVAL / -EFBIG. The output is NUL-terminated (not counted in *ret_size). */
int at_base64_decode(const char *text, size_t text_len, size_t max_size, uint8_t **ret, size_t *ret_size);

/* Same, but into libsodium secure memory (free with at_secure_free). */
int at_base64_decode_secure(const char *text, size_t text_len, size_t max_size, uint8_t **ret, size_t *ret_size);
