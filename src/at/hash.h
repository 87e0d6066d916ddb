/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define AT_SHA256_SIZE 32
#define AT_SHA512_SIZE 64

typedef enum AtHashAlgo {
        AT_HASH_SHA256,
        AT_HASH_SHA512,
} AtHashAlgo;

/* "sha256" / "sha512" as used in envelopes' "hashingAlgo"; -EINVAL otherwise */
int at_hash_algo_from_string(const char *s, AtHashAlgo *ret);
const char *at_hash_algo_to_string(AtHashAlgo algo);

int at_sha256(const void *data, size_t size, uint8_t out[AT_SHA256_SIZE]);
int at_sha512(const void *data, size_t size, uint8_t out[AT_SHA512_SIZE]);

/* lower-case hex, newly allocated */
int at_hex_encode(const void *data, size_t size, char **ret);
