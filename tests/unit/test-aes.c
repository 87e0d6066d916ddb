/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "base64.h"
#include "macro.h"
#include "secure.h"
#include "tests.h"

static void unhex(const char *hex, uint8_t *out) {
        for (size_t i = 0; hex[2 * i]; i++) {
                unsigned v;
                ASSERT_TRUE(sscanf(hex + 2 * i, "%2x", &v) == 1);
                out[i] = (uint8_t) v;
        }
}

/* NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt */
#define SP_KEY "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
#define SP_IV "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
#define SP_PLAIN "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" \
                 "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
#define SP_CIPHER "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5" \
                  "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"

TEST(ctr_matches_sp800_38a) {
        uint8_t key[32], iv[16], plain[64], cipher[64], out[64];
        AtAesCtr *ctr;

        unhex(SP_KEY, key);
        unhex(SP_IV, iv);
        unhex(SP_PLAIN, plain);
        unhex(SP_CIPHER, cipher);

        ASSERT_OK(at_aes_ctr_new(key, iv, &ctr));
        at_aes_ctr_crypt(ctr, plain, out, sizeof(plain));
        at_aes_ctr_free(ctr);
        ASSERT_MEMEQ(out, cipher, sizeof(cipher));

        /* the same stream in awkward pieces (1, 15, 17, 5, 26 bytes), in place */
        static const size_t pieces[] = { 1, 15, 17, 5, 26 };
        memcpy(out, plain, sizeof(plain));
        ASSERT_OK(at_aes_ctr_new(key, iv, &ctr));
        for (size_t i = 0, off = 0; i < ELEMENTSOF(pieces); off += pieces[i], i++)
                at_aes_ctr_crypt(ctr, out + off, out + off, pieces[i]);
        at_aes_ctr_free(ctr);
        ASSERT_MEMEQ(out, cipher, sizeof(cipher));
}

TEST(ctr_streaming_equals_one_shot) {
        enum { N = 70000 };
        uint8_t key[32], iv[16];
        _cleanup_free_ uint8_t *in = malloc(N), *whole = malloc(N), *split = malloc(N);
        AtAesCtr *a, *b;

        ASSERT_TRUE(in && whole && split);
        at_random_bytes(key, sizeof(key));
        at_random_bytes(iv, sizeof(iv));
        at_random_bytes(in, N);

        ASSERT_OK(at_aes_ctr_new(key, iv, &a));
        at_aes_ctr_crypt(a, in, whole, N);
        at_aes_ctr_free(a);

        ASSERT_OK(at_aes_ctr_new(key, iv, &b));
        for (size_t off = 0, step = 0; off < N; step++) {
                uint16_t r;
                size_t n;

                at_random_bytes(&r, sizeof(r));
                n = step % 7 == 0 ? 0 : r % 3000; /* zero-size pieces too */
                n = MIN(n, (size_t) N - off);
                at_aes_ctr_crypt(b, in + off, split + off, n);
                off += n;
        }
        at_aes_ctr_free(b);
        ASSERT_MEMEQ(whole, split, N);

        /* decrypting is the same operation */
        ASSERT_OK(at_aes_ctr_new(key, iv, &a));
        at_aes_ctr_crypt(a, whole, whole, N);
        at_aes_ctr_free(a);
        ASSERT_MEMEQ(whole, in, N);
}

/* A .atKeys field from upstream at_c packages/atchops/tests/test_aes_ctr_decrypt.c: a private key
 * (base64 PKCS#8 text) encrypted under this self-encryption key with an all-zero IV.
 * Cross-checked with Python cryptography: PKCS#7 pad of 8 bytes, 1624 bytes of key text. */
#define ATKEYS_AES_KEY "su16AzIiiGZULJYFsxDWyyy8yAJQNJvEsmVNkr2/0Vo="
#define ATKEYS_FIELD \
        "yY9vOA8bbzyADNGOxFPdT6bGxySKmNd6usP5/LBufYo4oBJt4ntFCecxESIjZuCqX5ALV8YNujt9V7s5f5QdfEuLAX7pa8apJp23BwDP7j7e3qz5NVbGocGpChdQBX8ni2aoMOrKZyMjtls8G4cCG0b7QIDSSEk1sv6fH50lToBZ/4fNSKonHZ0JvsbkE/1vg7VrcQ8tqwZJNfSfZaoP6zQpROknfjgRyYGJfy/Rao/vJRoSicH5sOcXKg+41BUa0Uc8Iqz4wJrzkI+uz7sJUIBZ3b5ZLdHXmk5z5cee3Suh58+yE2p29hcF2Dzpygx2KdT8ValH2PdB9u4B4DzTikQBKDqP9mDPPR4K/TGBvI90vsX2vZo2LSRpx2NC7aZxvx5RXdjjfFNffYCAwX2n0SKvyUBhXmYu2zdgx99MDsfwp/7LG7Noy5q/InfDb/dQdvJAGdWcsnqdHIANVen1+cQFKPk79MMcSsBQI6WAYYZAI2ctWju6y2SN5MhSOAdWehWRS8P3fv4j30KqAHKnXiNzqfTb8135u2hsDCCP6H6fdf3IKQmqVasFUs2AgUcdIVEQxOfRNu5URemIk7imJ0pGP/P47gCb2TwThObE7XCPcNfgyY51cRgKQc5vQXyqJw4gKE49QmuDIsMyoSdroYhnn/1nhfO7AxG74+3y76CHvhcqsNT5LK1Nr9ecdAeKTEqp4SvVcxxA7CJcjbjv6GuSAQovv04uxiOGjMFoWeU+CaVi0jNAYa+bE/TBpdL7Meg8EStK8p3Sb2AQc46LHVHEW7OMDT9JG2jgtL3wjjYbhm+o7W+yEkGZL5p274749LFMCeHafW5qKougjUuR3g1AUzW9TeL84J52/ZaqHPOpk0+7uhVzUhnNvKofVypyV3bGnGyqUeAx5uRbBjrFJdor+cZ6NmsnOHyVlzXHOsFItmB5STth+zSTyZ/53SZkTP9NoTiZMl3iuJAffzRXjmvouA6JstxdXYbAfGNVRz+VIvHPlqYbrS/SopijypqEZ1Hnju3y0HexsUc4xilDXvy+XaTUibAbi6hHy8QfRd1/KU6DgOVNjlOsvELjsa3f+hLE9Zu+QOrC42vpzR3BVC+rh2X5RXEn+aY5i4oejYH2HiRQo00gUfrffL79NCpfvn10NMawlWQxRiVLbJ0qi6TN4hsKr2HAzTmuh1lN+tC4VciexHfy87Bs2l8/oXCFzAT6TdpTXBaTWXzmXBy8YaQwXxMb3xNV+LaEaYy1AlDTypPZdkkIkpJkG9Tkbw4JXt7RKQ0oS/sFp2MkHKjkbJjHaFm+Fi55uMKMht3200PWwTQSHS/GupZhTIlXm86HbQHUUAbxe/Dgpup6NQ96TMgYOi3t+FG78TY7QXJMejkAHNpS57deB0EmeFhbJRCgSEc0amwjEk7AIKYbg0J+j7lYcJvB/uiUj2GSfBBU75iudTrvMJ60VnbQF055piUwlRlYc9TUf/43Oa7wszCq+oPI/Kjaho/GO4cO2mnc92sgw7wR/+hv/8Bd8/j2gSssraQgepEkjVL1HKvrxil+OuJo5hy+bM88CjB8Q04to0gkLApPbirL6w2ZlOCn2LRrGuSkajl0QgviL95GEM8zNqZscPkBiV2yVUw403G+T5+3ERtbZ1kJrgKuTSnjPTt8bFMYEdJVQ1+Z1mtnWX4AxR/j6vC2H+DSuGfOyaH1vociT+nNeDtq3axck5sf8h443Yw9jSbMVjyE+HkZWvxzyD4MjSvnEVp1Sso0/eDKFyTVRPn4dsw09+ltOm0F8CGeH/FAoXLF8CGrEoFe//Tlk8b+PbW1FVIph42cnQXpwHLrlsSAGjHmg4mWK8QXcRLjykdYpH4sX+Wd1wxHvlKAWEDBlZB1NSHkTgrprovr7xxqUCA3vRkRRD1RzG+Q6ikb0/1PmBPlOW3v8Dwr1BGuu9a7fruisMrl88LuPVXgxBpjANa4aq3nVmcZ2WMduDEgH1bWWqaciT3IkYm/97QMIQRyFTfQ5tWY9ZcsP9DKluqM222whKBsLz3sL4F9gL5L2HECz3y5EGX4J5QSrU4y4Y8HE5KNz9SqwlTdYSj87dm/e5l8mVNVR8gMFtzbd9MqNaCoNPm8GfWvx+QIctKNR3zEjxqWrMkiyezZU0PxC98eeHIkef0s1OPcDLMRiwIl"

TEST(decrypts_upstream_atkeys_field) {
        uint8_t key[32], iv[16] = {};
        _cleanup_secure_ uint8_t *plain = NULL;
        size_t size;

        ASSERT_OK(at_aes_key_from_base64(ATKEYS_AES_KEY, key));
        ASSERT_OK(at_aes_decrypt_b64(key, iv, ATKEYS_FIELD, &plain, &size));
        ASSERT_TRUE(size == 1624);
        ASSERT_TRUE(plain[size] == 0);
        ASSERT_TRUE(strneq((char *) plain, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCAshHiDZwY", 60));
        ASSERT_STREQ((char *) plain + size - 12, "DUsMhYSMXJM=");
}

/* at_c packages/atchops/tests/test_aes_ctr.c encrypts this text under this key with a zero IV
 * (its test only round-trips); expected ciphertext computed independently with Python
 * cryptography (PKCS7(128) padder + AES-256-CTR). */
TEST(encrypt_matches_independent_pkcs7_ctr) {
        uint8_t key[32], iv[16] = {};
        _cleanup_free_ char *b64 = NULL;
        _cleanup_secure_ uint8_t *plain = NULL;
        size_t size;

        ASSERT_OK(at_aes_key_from_base64("1DPU9OP3CYvamnVBMwGgL7fm8yB1klAap0Uc5Z9R79g=", key));
        ASSERT_OK(at_aes_encrypt_b64(key, iv, "I like to eat pizza 123", 23, &b64));
        ASSERT_STREQ(b64, "JOybRjOLcaENX5XUwf/FekHNFVb9dchpeJsUktBwOWQ=");
        ASSERT_OK(at_aes_decrypt_b64(key, iv, b64, &plain, &size));
        ASSERT_TRUE(size == 23);
        ASSERT_STREQ((char *) plain, "I like to eat pizza 123");
}

TEST(padding_lengths_round_trip) {
        uint8_t key[32], iv[16], msg[40];

        at_random_bytes(key, sizeof(key));
        at_random_bytes(iv, sizeof(iv));
        at_random_bytes(msg, sizeof(msg));
        for (size_t n = 0; n <= sizeof(msg); n++) {
                _cleanup_free_ char *b64 = NULL;
                _cleanup_free_ uint8_t *raw = NULL;
                _cleanup_secure_ uint8_t *plain = NULL;
                size_t size;

                ASSERT_OK(at_aes_encrypt_b64(key, iv, msg, n, &b64));
                ASSERT_OK(at_base64_decode(b64, strlen(b64), 1000, &raw, &size));
                ASSERT_TRUE(size == (n / 16 + 1) * 16); /* a full block of padding when aligned */
                ASSERT_OK(at_aes_decrypt_b64(key, iv, b64, &plain, &size));
                ASSERT_TRUE(size == n);
                ASSERT_MEMEQ(plain, msg, n);
        }
}

/* encrypts raw bytes with CTR only (no padding) and returns base64 */
static char *ctr_raw_b64(const uint8_t *key, const uint8_t *iv, const uint8_t *data, size_t n) {
        uint8_t buf[64];
        AtAesCtr *ctr;
        char *b64;

        ASSERT_TRUE(n <= sizeof(buf));
        ASSERT_OK(at_aes_ctr_new(key, iv, &ctr));
        at_aes_ctr_crypt(ctr, data, buf, n);
        at_aes_ctr_free(ctr);
        ASSERT_OK(at_base64_encode(buf, n, &b64));
        return b64;
}

TEST(decrypt_rejects_bad_padding_and_sizes) {
        uint8_t key[32], iv[16], other[32], blk[32];
        uint8_t *plain = NULL;
        size_t size;

        at_random_bytes(key, sizeof(key));
        at_random_bytes(iv, sizeof(iv));

        memset(blk, 'a', sizeof(blk));
        blk[15] = 0; /* pad byte 0 */
        _cleanup_free_ char *zero = ctr_raw_b64(key, iv, blk, 16);
        ASSERT_ERR(at_aes_decrypt_b64(key, iv, zero, &plain, &size), -EBADMSG);
        blk[15] = 17; /* pad byte > block */
        _cleanup_free_ char *big = ctr_raw_b64(key, iv, blk, 16);
        ASSERT_ERR(at_aes_decrypt_b64(key, iv, big, &plain, &size), -EBADMSG);
        blk[15] = 3; blk[14] = 3; blk[13] = 2; /* inconsistent pad bytes */
        _cleanup_free_ char *mixed = ctr_raw_b64(key, iv, blk, 16);
        ASSERT_ERR(at_aes_decrypt_b64(key, iv, mixed, &plain, &size), -EBADMSG);
        memset(blk, 16, 16); /* a block of pure padding is valid: empty plaintext */
        _cleanup_free_ char *empty = ctr_raw_b64(key, iv, blk, 16);
        ASSERT_OK(at_aes_decrypt_b64(key, iv, empty, &plain, &size));
        ASSERT_TRUE(size == 0);
        at_secure_free(plain);
        plain = NULL;

        /* not a whole number of blocks, or nothing at all */
        _cleanup_free_ char *odd = ctr_raw_b64(key, iv, blk, 15);
        ASSERT_ERR(at_aes_decrypt_b64(key, iv, odd, &plain, &size), -EBADMSG);
        ASSERT_ERR(at_aes_decrypt_b64(key, iv, "", &plain, &size), -EBADMSG);
        /* not base64 */
        ASSERT_ERR(at_aes_decrypt_b64(key, iv, "not base64!", &plain, &size), -EINVAL);

        /* the wrong key almost always yields bad padding, never a crash */
        _cleanup_free_ char *good = NULL;
        ASSERT_OK(at_aes_encrypt_b64(key, iv, "secret", 6, &good));
        at_random_bytes(other, sizeof(other));
        int r = at_aes_decrypt_b64(other, iv, good, &plain, &size);
        if (r >= 0) {
                ASSERT_TRUE(size != 6 || memcmp(plain, "secret", 6) != 0);
                at_secure_free(plain);
        } else
                ASSERT_ERR(r, -EBADMSG);
        ASSERT_TRUE(plain == NULL || r >= 0);
}

TEST(key_from_base64_checks_size) {
        uint8_t key[32];
        _cleanup_free_ char *k16 = NULL, *k33 = NULL;
        uint8_t raw[33] = {};

        ASSERT_OK(at_base64_encode(raw, 16, &k16));
        ASSERT_OK(at_base64_encode(raw, 33, &k33));
        ASSERT_ERR(at_aes_key_from_base64(k16, key), -EINVAL);
        ASSERT_ERR(at_aes_key_from_base64(k33, key), -EINVAL);
        ASSERT_ERR(at_aes_key_from_base64("", key), -EINVAL);
        ASSERT_ERR(at_aes_key_from_base64("1DPU9OP3CYvamnVBMwGgL7fm8yB1klAap0Uc5Z9R79g", key), -EINVAL);
        ASSERT_OK(at_aes_key_from_base64("1DPU9OP3CYvamnVBMwGgL7fm8yB1klAap0Uc5Z9R79g=", key));
        ASSERT_TRUE(key[0] == 0xd4 && key[31] == 0xd8);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        RUN(ctr_matches_sp800_38a);
        RUN(ctr_streaming_equals_one_shot);
        RUN(decrypts_upstream_atkeys_field);
        RUN(encrypt_matches_independent_pkcs7_ctr);
        RUN(padding_lengths_round_trip);
        RUN(decrypt_rejects_bad_padding_and_sizes);
        RUN(key_from_base64_checks_size);
        return 0;
}
