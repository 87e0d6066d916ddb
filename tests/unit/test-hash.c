/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "macro.h"
#include "tests.h"

static void check_hex(const uint8_t *digest, size_t size, const char *expected) {
        _cleanup_free_ char *hex = NULL;

        ASSERT_OK(at_hex_encode(digest, size, &hex));
        ASSERT_STREQ(hex, expected);
}

/* FIPS 180-4 examples ("abc", empty string) */
TEST(sha256_known_answers) {
        uint8_t d[AT_SHA256_SIZE];

        ASSERT_OK(at_sha256("abc", 3, d));
        check_hex(d, sizeof(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        ASSERT_OK(at_sha256(NULL, 0, d));
        check_hex(d, sizeof(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        /* the input of upstream at_c packages/atchops/tests/test_sha.c; digest computed with
         * Python hashlib */
        ASSERT_OK(at_sha256("Hello!", 6, d));
        check_hex(d, sizeof(d), "334d016f755cd6dc58c53a86e183882f8ec14f52fb05345887c8a5edd42c87b7");
}

TEST(sha512_known_answers) {
        uint8_t d[AT_SHA512_SIZE];

        ASSERT_OK(at_sha512("abc", 3, d));
        check_hex(d, sizeof(d),
                  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
        ASSERT_OK(at_sha512("Hello!", 6, d));
        check_hex(d, sizeof(d),
                  "3a928aa2cc3bf291a4657d1b51e0e087dfb1dea060c89d20776b8943d24e712e"
                  "a65778fe608ddaee0a191bc6680483ad12be1f357389a2380f660db246be5844");
}

TEST(algo_names) {
        AtHashAlgo a;

        ASSERT_OK(at_hash_algo_from_string("sha256", &a));
        ASSERT_TRUE(a == AT_HASH_SHA256);
        ASSERT_OK(at_hash_algo_from_string("sha512", &a));
        ASSERT_TRUE(a == AT_HASH_SHA512);
        ASSERT_STREQ(at_hash_algo_to_string(AT_HASH_SHA256), "sha256");
        ASSERT_STREQ(at_hash_algo_to_string(AT_HASH_SHA512), "sha512");
        ASSERT_ERR(at_hash_algo_from_string("SHA256", &a), -EINVAL);
        ASSERT_ERR(at_hash_algo_from_string("md5", &a), -EINVAL);
        ASSERT_ERR(at_hash_algo_from_string("", &a), -EINVAL);
}

TEST(hex_encode) {
        _cleanup_free_ char *hex = NULL;

        ASSERT_OK(at_hex_encode("\x00\x0f\xf0\xff", 4, &hex));
        ASSERT_STREQ(hex, "000ff0ff");
}

int main(void) {
        RUN(sha256_known_answers);
        RUN(sha512_known_answers);
        RUN(algo_names);
        RUN(hex_encode);
        return 0;
}
