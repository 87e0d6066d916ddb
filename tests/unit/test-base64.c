/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "macro.h"
#include "secure.h"
#include "tests.h"

/* RFC 4648 §10 test vectors */
static const struct {
        const char *plain, *b64;
} rfc4648[] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
};

TEST(rfc4648_vectors_encode_and_decode) {
        for (size_t i = 0; i < ELEMENTSOF(rfc4648); i++) {
                _cleanup_free_ char *enc = NULL;
                _cleanup_free_ uint8_t *dec = NULL;
                size_t size;

                ASSERT_OK(at_base64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain), &enc));
                ASSERT_STREQ(enc, rfc4648[i].b64);
                ASSERT_OK(at_base64_decode(rfc4648[i].b64, strlen(rfc4648[i].b64), 100, &dec, &size));
                ASSERT_TRUE(size == strlen(rfc4648[i].plain));
                ASSERT_MEMEQ(dec, rfc4648[i].plain, size);
                ASSERT_TRUE(dec[size] == 0);
        }
}

TEST(binary_round_trip_uses_plus_and_slash) {
        uint8_t bin[256];
        _cleanup_free_ char *enc = NULL;
        _cleanup_free_ uint8_t *dec = NULL;
        size_t size;

        for (size_t i = 0; i < sizeof(bin); i++)
                bin[i] = (uint8_t) (255 - i);
        ASSERT_OK(at_base64_encode(bin, sizeof(bin), &enc));
        ASSERT_TRUE(strlen(enc) == 344); /* what a 2048-bit signature's base64 looks like */
        ASSERT_TRUE(strchr(enc, '+') && strchr(enc, '/'));
        ASSERT_OK(at_base64_decode(enc, strlen(enc), sizeof(bin), &dec, &size));
        ASSERT_TRUE(size == sizeof(bin));
        ASSERT_MEMEQ(dec, bin, sizeof(bin));
}

TEST(decode_rejects_garbage) {
        static const char *bad[] = {
                "Zg",         /* missing padding */
                "Zg=",        /* short padding */
                "Zg===",      /* too much padding */
                "Zh==",       /* non-zero trailing bits */
                "Z===",       /* impossible padding */
                "Zm9v\n",     /* whitespace is not ignored */
                " Zm9v",
                "Zm9v!!!!",   /* outside the alphabet */
                "Zm-v",       /* URL-safe alphabet is not ours */
                "Zm_v",
                "Zg==Zg==",   /* data after padding */
                "=Zg=",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint8_t *dec = NULL;
                fprintf(stderr, "   bad: \"%s\"\n", bad[i]);
                ASSERT_ERR(at_base64_decode(bad[i], strlen(bad[i]), 100, &dec, NULL), -EINVAL);
                ASSERT_TRUE(dec == NULL);
        }
        /* an embedded NUL inside the given length is garbage too */
        uint8_t *dec = NULL;
        ASSERT_ERR(at_base64_decode("Zm\0v", 4, 100, &dec, NULL), -EINVAL);
}

TEST(decode_enforces_max_size) {
        _cleanup_free_ uint8_t *dec = NULL;
        size_t size;

        ASSERT_ERR(at_base64_decode("Zm9vYmFy", 8, 5, &dec, &size), -EFBIG);
        ASSERT_ERR(at_base64_decode("Zm9vYg==", 8, 3, &dec, &size), -EFBIG);
        ASSERT_OK(at_base64_decode("Zm9vYg==", 8, 4, &dec, &size));
        ASSERT_TRUE(size == 4);
}

TEST(decode_secure_round_trip) {
        uint8_t *dec = NULL;
        size_t size;

        ASSERT_OK(at_base64_decode_secure("Zm9vYmE=", 8, 16, &dec, &size));
        ASSERT_TRUE(size == 5);
        ASSERT_STREQ((char *) dec, "fooba");
        at_secure_free(dec);
        ASSERT_ERR(at_base64_decode_secure("Zm9vYmE", 7, 16, &dec, &size), -EINVAL);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        RUN(rfc4648_vectors_encode_and_decode);
        RUN(binary_round_trip_uses_plus_and_slash);
        RUN(decode_rejects_garbage);
        RUN(decode_enforces_max_size);
        RUN(decode_secure_round_trip);
        return 0;
}
