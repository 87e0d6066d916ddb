/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "macro.h"
#include "rsa.h"
#include "secure.h"
#include "tests.h"

/* upstream at_c packages/atchops/tests/test_rsasign.c: key, PKAM-style challenge, expected
 * SHA-256 signature (also reproduced with Python cryptography). */

#define SIGN_PRIVATE_KEY \
        "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCy64Pzy9ZDdm6e96z3Dmje" \
        "ktD7sKUo40Ax+1VD12Ksm3pUPTGDkM3Nf4Sp2ATcy6ZbCRHSEWtx7dPfC/H1p7yS9KOVLtAm" \
        "x8aT0SNiT+WGsclshI/n/XP+jCjxrpYwf4ntgX2i6p6hlo/ZiW8i3+Ayyhw8uYuVMUyMHv70" \
        "EaoTN0+N5QF9l74LkLYL7cXyfZayDPTZJxbLF2WEoQz4ZWJhgFk40EeBw03jiLg/T0hw1gbS" \
        "0z97HhZs/QPtTaDR9EJYq27eZagRFZ6em7esrjjTpmGaTJmtZjEomV6o/EOtdvImRe1tViI2" \
        "2DWGAKi87BBGXR5Zr3xoRXPSypHLqLsNAgMBAAECggEAatzd//QEMmD/KzVU+m6B1kYsSde0" \
        "nZo1kmTCBXYUenGWe8/cze7j7NQ4AVWDefiskHz3Rteeq/pXbEXvK0EXEVLKjWTbb/4sLcdg" \
        "8ew0c+GmI4l9hhtMd4FxRwB2tdrHH7MSvgaR3oNVwaEjXtoGR2+Ns/tCUkaSqLIupsoSIc0M" \
        "j07Teq7SZvAe++oMyNgkyArR509oSG0GQFQp706VgLaUVrvtlMEXvtGB0pcn/y1Axz/l9VvY" \
        "pojYp7MqSwVU6R4GWxjrn4JXCVQrh48VmuJS83i2oqFgbAXD2KyNjjkoW3Z26uhfJ0qgN2Pe" \
        "QgMYH06gNhfEYOAGTI8HgtfChQKBgQDc7xIYG0IchAX/0lds4yUXRRF9wEjZmsvaf6LZPEs9" \
        "7/z11cAbTp41zlppCqpGL0md/lTwFVwsmGuZNob999sGKi7A6mM2sBj+QiBoHACvl2e167O7" \
        "2eFYqyXtJwDH5XOA5JMHbc6GJpSeVE29UnIgq1czgp3DtapQRX3BOPMRYwKBgQDPUVjZJERK" \
        "5N9ccs59gjyKiu6e60m42AVjpvaCWbqPSZXTEhGM8X9OJNsdZufRoMi6tYctXGthiB4HOoV1" \
        "E5ACvJxgWpOTmbqqbBDA5pQPrJ4eRdigHjGnrAWdsJ+3smMbhk/6Ai00gmqwz8rv7eyGSY+d" \
        "wOem/vPoJOrlRFFkzwKBgH+IhbJiscQSNgBZpFvXtwZ6uUEU6Tir0bccbJ3n3ysuyKAENnPM" \
        "6yj2KFxwaqA/FcjdEpzQR7f6eEomHsCl/cnOOdTkuEbOWm8TLu/KEl9KD/UEzWjHufxcN3Vx" \
        "SVMa0ZT63SCxs0DfLnVDBukdmYHgRmMWqAlcaacSpigOvskvAoGADVikSp5OEzA2vOHbLzNC" \
        "KH0XLX3iKhcmCatG9U9Hdk/7aDIilRs64dH3lSX5yIH8SiDDigUIGKhFnpuC2e2feL2hp4ZN" \
        "N9ROswfv8Csn3vZy22oNrwkikzO8zNEBBzdhr/Tukx6uwFGhAq7t1pJPhrmXmEVB5HtHQmuV" \
        "/5ptTvsCgYA5d5L3hO3+1Na4C6xj8luQXFhkSLNe0rwoe16OLjcyzcnhlb2KKA8rORGP28s1" \
        "JcCL4Htasf0YzCkOJ/jR28GzX/0qvWu0hBSilV2mCAqwQ1fvZx0L4quJznkAhJPMZ+oag8o1" \
        "LlQiJGgnhsIMbDLZApKh3NuYlTmdqo20FfkZkg=="

#define SIGN_MESSAGE "_4a160d33-0c63-4800-bee0-ee254752f8c8@jeremy_0:6c987cc1-0dde-4ba1-af56-a9677086182"

#define SIGN_EXPECTED_SHA256 \
        "AwsKWNqRHiCtdNJ0U5GXZ1H5obptEWVR1+A1kPhot4cdLfmulvBVXRaBIrP+jd2TSP2J/KNA" \
        "gv2BDLH7DXUibdTnzJaKm/QKAjpwpuShnV6Y9KSWTnomBw9x9OWDkVrBzSo5rOFpHHOTZJhp" \
        "4ygStKEzZDa108g8uP5PpkfzntO2eIVEOdMHoL9/yAkuYJcz+VmCH+1AJtCdeKfhjfmlk0bP" \
        "72fwsait6pA3TW0iEll9ptZmlLjNtCTi982h1yNprh+XtrjMz7ClbJChQf3LLHiJMZ+7r4yK" \
        "TrehdBVfxQoNNw9r2D7TBRaY8bXYwMombMHRuu0oVbqNU1jEs60NGQ=="

/* computed independently with Python cryptography 38 (PKCS1v15, SHA512) over SIGN_MESSAGE */

#define SIGN_EXPECTED_SHA512 \
        "f4H78ltoId5Rn5beJhX2aqocOchP43hmr5Gj/O1hzMLtygBCQOKN59Ap/6VPqVEYF7XdKEPV" \
        "ycA0//YtSxoJMwwQLy4btTyC3GMykY6L1v22U4vaYKtDS5L77lByRIsXbgzaJyFA1JVdAAMF" \
        "mHiJAFZqKM3DnJ4g6UJKZEIwhXJZML1N4bS7kunjlIDxY9y+MpOZCu8YgKwR3Eb11P2cwVn5" \
        "DwkKSgoCwZGOauNG1wGQCMR+nYtqJ3C/vakj+50fKpfI9o2ZE7f4ZEarjn1BlOgKIHX6+3mv" \
        "nw5mMaJMPB6rf22q4iVACE+frvcQ3CFXS196cZ1dpb1aa5yetLUUFQ=="

/* public half of SIGN_PRIVATE_KEY, DER SPKI, exported with Python cryptography */

#define SIGN_PUBLIC_KEY \
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsuuD88vWQ3Zunves9w5o3pLQ+7Cl" \
        "KONAMftVQ9dirJt6VD0xg5DNzX+EqdgE3MumWwkR0hFrce3T3wvx9ae8kvSjlS7QJsfGk9Ej" \
        "Yk/lhrHJbISP5/1z/owo8a6WMH+J7YF9ouqeoZaP2YlvIt/gMsocPLmLlTFMjB7+9BGqEzdP" \
        "jeUBfZe+C5C2C+3F8n2Wsgz02ScWyxdlhKEM+GViYYBZONBHgcNN44i4P09IcNYG0tM/ex4W" \
        "bP0D7U2g0fRCWKtu3mWoERWenpu3rK4406ZhmkyZrWYxKJleqPxDrXbyJkXtbVYiNtg1hgCo" \
        "vOwQRl0eWa98aEVz0sqRy6i7DQIDAQAB"

/* upstream at_c packages/atchops/tests/test_rsaverify.c: a matching key pair (its
 * EXPECTED_SIGNATURE is not used there and does not verify, so neither do we) */

#define VERIFY_PUBLIC_KEY \
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuA7KmWrIPcKTH3hSzsDZys60kxaq" \
        "KgHeTuGCwgzHSi2SkMV9iYBCd2//KagWVoUKWyuI2KOQo2WFslqFOjOsj4NqlhM3EamBqZqV" \
        "FI5IUHtTNbXcea3igp4nVWoHwPHyJNiMf0I0rHSUeiuAbeR56lYGE8b64fXzKkRyQ7YRVyrp" \
        "7HtYRrmA27xGDtAKT9mr+0T+5lzsHR1YLT3capllnlUf5w8p6l8DJ4qGnODpG4/gOggEr6H5" \
        "/aAVjGn8WGuRY9d7SZLJfeYG+vJ1/o/P37L5/7sc2D6kYS1Qh45EN0jUF8ILRUJRNFKZpqWD" \
        "n64LKHKCwKz00NT6OANUHNdFawIDAQAB"

#define VERIFY_PRIVATE_KEY \
        "MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQC4DsqZasg9wpMfeFLOwNnK" \
        "zrSTFqoqAd5O4YLCDMdKLZKQxX2JgEJ3b/8pqBZWhQpbK4jYo5CjZYWyWoU6M6yPg2qWEzcR" \
        "qYGpmpUUjkhQe1M1tdx5reKCnidVagfA8fIk2Ix/QjSsdJR6K4Bt5HnqVgYTxvrh9fMqRHJD" \
        "thFXKunse1hGuYDbvEYO0ApP2av7RP7mXOwdHVgtPdxqmWWeVR/nDynqXwMnioac4Okbj+A6" \
        "CASvofn9oBWMafxYa5Fj13tJksl95gb68nX+j8/fsvn/uxzYPqRhLVCHjkQ3SNQXwgtFQlE0" \
        "UpmmpYOfrgsocoLArPTQ1Po4A1Qc10VrAgMBAAECggEBAJ+FMlKFGcdtO9WqkxpeSmRbgmV4" \
        "30JJHEOBb7J/ILpJhR20DHl/kBu0FZIk/DdAVxltQc2A9XqoIpfRnGY1Ivm/DEHFpZTJNHeq" \
        "YkrOhh46xINoew16hzZtm+mLW+z9xL/qbtpcpwpQf97ilQypWICgzeOWMRpl77pSWDYXNjA0" \
        "qQP/Y6A2ocAYBVkBz/SGtpWBRKb/CouzvDUqiDAa0EEKTu/Ywa9yz2GGd+eUxk2FsM20zTmZ" \
        "fUipaIWkrS0bOevAcUvcVaX9Ydq1vKXa34+oZcNQqW/sS4+B+RM3ogl8Lg2PCLYQG7azSSFH" \
        "CJPwG5u7RyMWjLXwPrVkT1Nj3wECgYEA2guA5gMp7LAtmH1kPFOz2kENveBYW1o/xzgvaBlL" \
        "CZUubQCE55zlbyAMQUtEuzkyz8dT6SDLkllsDASt30et9g8rDqa2//gK3O/mfSsx64pOqRXg" \
        "r0Fb1OmHP0ESGoj3xt4pS8wENtUiwfeAU2j+NPU4t9Y1iqslVsBJVIImLpcCgYEA2BjBcWZ9" \
        "QNmFbE0rlX3+G3GQH4amc5RJ2AUt6EyIexAZNr+1cpTGKswePw3EWwQz0sbC/Fci4qfsR5+d" \
        "4rfcJp75mSV3HHElZ6m7iH50zKIVePSRrlgMzOPmpEoo2VelLFVx/sP70s4sPNZyKQZngn78" \
        "MgtcOqQKjTtIU96JDk0CgYEAiLLTkeCD5Tair0pVkBit1fQY6GSBIGyZNY288teAmrZjT8UW" \
        "jZpooN2HsVu98F6ww2Dk83AzEEJtoa9BTo1Cu9PQm7PbYOih7tecOfbdqhygqhLkNRuVtgre" \
        "VsK11dru9EeNvk5eif3fd5lyY1icnpjqgR6TnKcllpigoJGj3GsCgYA0mHnkruxHb2oA/Rth" \
        "jEPfzBknAy/aK7p5YHFW++GwCjAI2kpAdCNzYTDvadtjx7cRUx08K70q63If0KKt/tAPelwH" \
        "wU2nV4aiH3asdxLYh46wXN5kT7v11nZZgE9G7wUdsEJJnsvY+CNeP1eT0qI46c1aJNey0iBb" \
        "VZV6DEzRdQKBgQCPtEKSHGDom9bTErpLTJ//6ZIrUlS+5mpCIOTgA1lyTORq9Xe+qMD7FbFQ" \
        "NDdlNuXtBKvwu5vYJ6Ib+VItsDFCwDRQsGFXNkdnSFZovMfmNQp+p6fuOgrnuSfLR1gI8nV3" \
        "JQy8U/eZT5ABh06j3A6sUy0M7TXTd6ljRS3MRBatOA=="

/* upstream at_c packages/atchops/tests/test_rsadecrypt.c: a Dart-SDK-generated PKCS#8 key and a
 * PKCS#1 v1.5 ciphertext of "banana" (plaintext recovered with Python cryptography) */

#define DECRYPT_PRIVATE_KEY \
        "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCDc/uZ5+pmDYY1A+IQdiKe" \
        "ZNhRxttbYCv1aLksIP+5Fk1GJAnKlsBBum+Tp8CjXCHk22nWSM8YesiKRQFVEQi1OS6Whs44" \
        "9U1oLkVSDzqRAnZaT5nI9oIh+u2jsa/7KfYOIqqN1h17GOZopsw73RZJnvISYLaarxtFABIP" \
        "Q+gbdFfWySEaRXUW89sfg4QO7MzEd8ZwK8KLf4E9xuCMshP90p7bMAdLn98T04rVvP78W60l" \
        "MXwzospBjwT6HZxCNMSfdFEmVwynivCr/QY2abeY1jkSFRxqYqJJYgsb1rydjN4hRp9eYRIJ" \
        "mT4nXJW71ByZc/wOiS/7gou/vr9jVGypAgMBAAECggEAFTkjlQypfoKOeX6///Ji0nnrpwBZ" \
        "KB6V2lBnHSXSw7pDDaEB57CBJ9uG6ir6YiWc30tBgjRNI2GngRN1DJvscP3jdLAdGXsZXUmj" \
        "LYWB6imgnCIf7R9HkV7nATfN9tomfM/CA5ZfOiGiCaFsdfnTAF3mLWtp7/13hKNnRwmqrsvU" \
        "zJrqzNFqZty7YRtkm2pxxetsycq2WGKkOjwEyJdDZSI5XbQyAzuu878WEi+Th4EI2MV21jAu" \
        "P7WEAZC/tBSLLFSZgiHnMaMnQ9ogWnxCbdIJfWPBiK54kcDRN2o/I7iXAVD5W3oadEYgEn6S" \
        "BuG4ZQtqTM8cFSofxrGuVfyQgQKBgQDZnwC501pza1Jm4/H/lvB67kup9EFwQFbCTjJKuHd1" \
        "NuV1O0LcHER5wfgLOac2My7kXva8gsheLHdi9ciPNtqhHrJVpl4QyXYd6h7m3FImGCfd1xwq" \
        "rfWPPA0aMM8e8QZGANrX7Z20xzEzSgMu/0trg7WS4P7ChO2VHXviEn4mMQKBgQCaorqBjvaj" \
        "f9wkwh5V06HmpaI8Ji7JvRD44l1G0eGJgCrSYbvFUQr4KzfaQltfwaMJnqoNVrqey9yhPaFa" \
        "cjI2QbBM3zECjmasy9m20VS70QsV7XKq7tKco8M+YfUwzOFOKrpxUm/AG7SoTmTIwsg+VkZN" \
        "TPWQB74kwKmRkkj3+QKBgGxnXi8y702rWmLSjYvqHmS+K4a/m5FVG2KzHS5HcYo8DFU3bfjD" \
        "RAD69Jpy366KFIPCIlqJM1JmCBqNoJhmlMXJysALnbPzBxmjtDz/5xP+2G0TaH6CJV5yZXx0" \
        "b9hT6/IXHuyM+xBAYWvRJIDWvzURaPN/jKhNGyQ6ial12M0hAoGAdFadbr+6O0QEwfrxi6zP" \
        "D5HpvssTRF/kFvtnJdLdle9BSEqTVF4mnJMXUDPAPwiVurUORz7K5JGHih+t9zgXIs7E7vC0" \
        "FLJB+RrczzgqQauCZZrhPEy1U3e5eoOETpS1pXNsFbnprWSqxD1GgexZbtzFw350+Ul5+nig" \
        "mo6uKzECgYBuZVdUFt0XpIWZ8hugSMhCxHhNZMrOAIbQp0eXMs3U25zd8RpUx4qXK39Sp+X6" \
        "Ifs8jCfSjThhI5Ip0L0/vz5IyBrTUwbaCJVmLZU69UHNm2g8I6FoMQx3w7/ILo2mlfhd9QwT" \
        "EzyT9dsdXq23HJeMkWzoVLieTHySu20n+PxXbQ=="

#define DECRYPT_CIPHERTEXT \
        "QVZmFo7iE0qr8QbF9pwBM9/AwPezOe+zzzSl2J/CKkyjwc8RsU4MCi5Mr/L09S+t8j3a092p" \
        "ax6OglKeS49xGlfmBWoFoCStb98T+ifwlYFnnKiSehDqUh3tvtMDgmmiUVxbCKR5CTsQYndG" \
        "VeQaKhCLzl2Pv5OOutP9Uon2C42NQK3nOlEV7vMIlzY/HyiSWU+0sUkWLG01lChjI4m8cdfL" \
        "jM/c+vxJe8qOFJKewtAuTdg63Q0tR0qZ/O7EHJ1JMKdc/fPFpKz8whZAevhx3UIIzilI7xBl" \
        "uMYKEi4jDH/p4UARTc1LALGE/7eQ5mVdPsdPU/h4Jd5jWbkXWOA1nA=="

TEST(sign_matches_upstream_vector) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *key = NULL;
        _cleanup_free_ char *sig256 = NULL, *sig512 = NULL;

        ASSERT_OK(at_rsa_private_from_base64(SIGN_PRIVATE_KEY, &key));
        ASSERT_OK(at_rsa_sign(key, AT_HASH_SHA256, SIGN_MESSAGE, strlen(SIGN_MESSAGE), &sig256));
        ASSERT_STREQ(sig256, SIGN_EXPECTED_SHA256);
        ASSERT_OK(at_rsa_sign(key, AT_HASH_SHA512, SIGN_MESSAGE, strlen(SIGN_MESSAGE), &sig512));
        ASSERT_STREQ(sig512, SIGN_EXPECTED_SHA512);
}

TEST(verify_accepts_good_and_rejects_tampered) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL;
        _cleanup_free_ char *bad = strdup(SIGN_EXPECTED_SHA256);

        ASSERT_OK(at_rsa_public_from_base64(SIGN_PUBLIC_KEY, &pub));
        ASSERT_TRUE(at_rsa_public_bits(pub) == 2048);
        ASSERT_OK(at_rsa_verify(pub, AT_HASH_SHA256, SIGN_MESSAGE, strlen(SIGN_MESSAGE), SIGN_EXPECTED_SHA256));
        ASSERT_OK(at_rsa_verify(pub, AT_HASH_SHA512, SIGN_MESSAGE, strlen(SIGN_MESSAGE), SIGN_EXPECTED_SHA512));
        /* wrong hash, wrong message, flipped signature bits */
        ASSERT_ERR(at_rsa_verify(pub, AT_HASH_SHA512, SIGN_MESSAGE, strlen(SIGN_MESSAGE), SIGN_EXPECTED_SHA256), -EBADMSG);
        ASSERT_ERR(at_rsa_verify(pub, AT_HASH_SHA256, SIGN_MESSAGE, strlen(SIGN_MESSAGE) - 1, SIGN_EXPECTED_SHA256), -EBADMSG);
        bad[10] = bad[10] == 'A' ? 'B' : 'A';
        ASSERT_ERR(at_rsa_verify(pub, AT_HASH_SHA256, SIGN_MESSAGE, strlen(SIGN_MESSAGE), bad), -EBADMSG);
        /* not base64; empty; too long for the key */
        ASSERT_ERR(at_rsa_verify(pub, AT_HASH_SHA256, SIGN_MESSAGE, strlen(SIGN_MESSAGE), "!!!"), -EINVAL);
        ASSERT_ERR(at_rsa_verify(pub, AT_HASH_SHA256, SIGN_MESSAGE, strlen(SIGN_MESSAGE), ""), -EBADMSG);
        _cleanup_free_ char *longer = NULL;
        ASSERT_TRUE(asprintf(&longer, "AAAA%s", SIGN_EXPECTED_SHA256) > 0);
        ASSERT_ERR(at_rsa_verify(pub, AT_HASH_SHA256, SIGN_MESSAGE, strlen(SIGN_MESSAGE), longer), -EBADMSG);
}

TEST(upstream_pair_signs_and_verifies) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *priv = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL, *derived = NULL, *other = NULL;
        _cleanup_free_ char *sig = NULL, *b64 = NULL;

        ASSERT_OK(at_rsa_private_from_base64(VERIFY_PRIVATE_KEY, &priv));
        ASSERT_OK(at_rsa_public_from_base64(VERIFY_PUBLIC_KEY, &pub));
        ASSERT_OK(at_rsa_sign(priv, AT_HASH_SHA256, "hello", 5, &sig));
        ASSERT_TRUE(strlen(sig) == 344);
        ASSERT_OK(at_rsa_verify(pub, AT_HASH_SHA256, "hello", 5, sig));
        /* the public half derived from the private key exports to the upstream SPKI text */
        ASSERT_OK(at_rsa_private_get_public(priv, &derived));
        ASSERT_OK(at_rsa_public_to_base64(derived, &b64));
        ASSERT_STREQ(b64, VERIFY_PUBLIC_KEY);
        /* another atSign's key does not verify it */
        ASSERT_OK(at_rsa_public_from_base64(SIGN_PUBLIC_KEY, &other));
        ASSERT_ERR(at_rsa_verify(other, AT_HASH_SHA256, "hello", 5, sig), -EBADMSG);
}

TEST(decrypts_upstream_dart_ciphertext) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *key = NULL;
        _cleanup_secure_ uint8_t *plain = NULL;
        size_t size;

        ASSERT_OK(at_rsa_private_from_base64(DECRYPT_PRIVATE_KEY, &key));
        ASSERT_OK(at_rsa_decrypt(key, DECRYPT_CIPHERTEXT, &plain, &size));
        ASSERT_TRUE(size == 6);
        ASSERT_STREQ((char *) plain, "banana");
}

TEST(keys_export_to_the_text_they_came_from) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *priv = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL;
        _cleanup_secure_ char *priv_b64 = NULL;
        _cleanup_free_ char *pub_b64 = NULL;

        ASSERT_OK(at_rsa_private_from_base64(DECRYPT_PRIVATE_KEY, &priv));
        ASSERT_OK(at_rsa_private_to_base64(priv, &priv_b64));
        ASSERT_STREQ(priv_b64, DECRYPT_PRIVATE_KEY);
        ASSERT_OK(at_rsa_public_from_base64(VERIFY_PUBLIC_KEY, &pub));
        ASSERT_OK(at_rsa_public_to_base64(pub, &pub_b64));
        ASSERT_STREQ(pub_b64, VERIFY_PUBLIC_KEY);
}

TEST(generated_key_round_trips) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *priv = NULL, *again = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL, *pub2 = NULL;
        _cleanup_secure_ char *priv_b64 = NULL;
        _cleanup_secure_ uint8_t *plain = NULL;
        _cleanup_free_ char *pub_b64 = NULL, *sig = NULL, *cipher = NULL;
        size_t size;

        ASSERT_OK(at_rsa_generate(2048, &priv));
        ASSERT_OK(at_rsa_private_get_public(priv, &pub));
        ASSERT_TRUE(at_rsa_public_bits(pub) == 2048);
        ASSERT_OK(at_rsa_public_to_base64(pub, &pub_b64));
        ASSERT_TRUE(strneq(pub_b64, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 44)); /* SPKI, rsaEncryption */
        ASSERT_OK(at_rsa_private_to_base64(priv, &priv_b64));
        ASSERT_TRUE(strneq(priv_b64, "MIIE", 4));
        /* PKCS#8: SEQUENCE { INTEGER 0, SEQUENCE { rsaEncryption, NULL }, OCTET STRING ... } */
        ASSERT_TRUE(strneq(priv_b64 + 6, "IBADANBgkqhkiG9w0BAQEFAASC", 26));

        /* re-imported, the key still works with the exported public key */
        ASSERT_OK(at_rsa_private_from_base64(priv_b64, &again));
        ASSERT_OK(at_rsa_public_from_base64(pub_b64, &pub2));
        ASSERT_OK(at_rsa_sign(again, AT_HASH_SHA256, "challenge", 9, &sig));
        ASSERT_OK(at_rsa_verify(pub2, AT_HASH_SHA256, "challenge", 9, sig));

        /* the session key wrapping of noports: base64 text of a 32-byte key */
        static const char key_b64[] = "1DPU9OP3CYvamnVBMwGgL7fm8yB1klAap0Uc5Z9R79g=";
        ASSERT_OK(at_rsa_encrypt(pub2, key_b64, strlen(key_b64), &cipher));
        ASSERT_TRUE(strlen(cipher) == 344);
        ASSERT_OK(at_rsa_decrypt(priv, cipher, &plain, &size));
        ASSERT_TRUE(size == strlen(key_b64));
        ASSERT_STREQ((char *) plain, key_b64);
}

TEST(encrypt_refuses_oversized_plaintext) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL;
        _cleanup_free_ char *c = NULL;
        char buf[300];

        memset(buf, 'x', sizeof(buf));
        ASSERT_OK(at_rsa_public_from_base64(VERIFY_PUBLIC_KEY, &pub));
        ASSERT_OK(at_rsa_encrypt(pub, buf, 245, &c)); /* k - 11 */
        ASSERT_ERR(at_rsa_encrypt(pub, buf, 246, &c), -EMSGSIZE);
}

TEST(decrypt_rejects_garbage) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *key = NULL;
        _cleanup_free_ char *zeros = NULL, *wrong = NULL;
        uint8_t raw[256] = {}, *plain = NULL;
        size_t size;

        ASSERT_OK(at_rsa_private_from_base64(DECRYPT_PRIVATE_KEY, &key));
        ASSERT_ERR(at_rsa_decrypt(key, "not base64", &plain, &size), -EINVAL);
        ASSERT_ERR(at_rsa_decrypt(key, "", &plain, &size), -EBADMSG);
        ASSERT_OK(at_base64_encode(raw, sizeof(raw), &zeros));
        ASSERT_ERR(at_rsa_decrypt(key, zeros, &plain, &size), -EBADMSG);
        ASSERT_ERR(at_rsa_decrypt(key, "AAAA", &plain, &size), -EBADMSG);

        /* a ciphertext for another key */
        _cleanup_(at_rsa_public_freep) AtRsaPublic *other = NULL;
        ASSERT_OK(at_rsa_public_from_base64(VERIFY_PUBLIC_KEY, &other));
        ASSERT_OK(at_rsa_encrypt(other, "banana", 6, &wrong));
        ASSERT_ERR(at_rsa_decrypt(key, wrong, &plain, &size), -EBADMSG);
        ASSERT_TRUE(plain == NULL);
}

TEST(import_rejects_bad_keys) {
        AtRsaPublic *pub = NULL;
        AtRsaPrivate *priv = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        _cleanup_free_ char *b64 = NULL;
        size_t size;

        ASSERT_ERR(at_rsa_public_from_base64("", &pub), -EINVAL);
        ASSERT_ERR(at_rsa_public_from_base64("MIIB", &pub), -EINVAL);
        ASSERT_ERR(at_rsa_public_from_base64("not base64 at all", &pub), -EINVAL);
        ASSERT_ERR(at_rsa_private_from_base64("", &priv), -EINVAL);
        ASSERT_ERR(at_rsa_private_from_base64("MIIE", &priv), -EINVAL);
        /* a private key where a public one is expected, and the other way round */
        ASSERT_ERR(at_rsa_public_from_base64(VERIFY_PRIVATE_KEY, &pub), -EINVAL);
        ASSERT_ERR(at_rsa_private_from_base64(VERIFY_PUBLIC_KEY, &priv), -EINVAL);

        /* truncated DER, trailing garbage, one byte flipped inside the structure */
        ASSERT_OK(at_base64_decode(VERIFY_PUBLIC_KEY, strlen(VERIFY_PUBLIC_KEY), 4096, &der, &size));
        for (size_t cut = 1; cut < size; cut += 7) {
                _cleanup_free_ char *t = NULL;
                ASSERT_OK(at_base64_encode(der, size - cut, &t));
                ASSERT_ERR(at_rsa_public_from_base64(t, &pub), -EINVAL);
        }
        uint8_t longer[512];
        memcpy(longer, der, size);
        longer[size] = 0;
        ASSERT_OK(at_base64_encode(longer, size + 1, &b64));
        ASSERT_ERR(at_rsa_public_from_base64(b64, &pub), -EINVAL);
        der[4] ^= 0x01; /* inside the AlgorithmIdentifier's tag */
        free(b64);
        ASSERT_OK(at_base64_encode(der, size, &b64));
        ASSERT_ERR(at_rsa_public_from_base64(b64, &pub), -EINVAL);
        ASSERT_TRUE(pub == NULL && priv == NULL);

        free(der);
        der = NULL;
        ASSERT_OK(at_base64_decode(VERIFY_PRIVATE_KEY, strlen(VERIFY_PRIVATE_KEY), 4096, &der, &size));
        for (size_t cut = 1; cut < size; cut += 97) {
                _cleanup_free_ char *t = NULL;
                ASSERT_OK(at_base64_encode(der, size - cut, &t));
                ASSERT_ERR(at_rsa_private_from_base64(t, &priv), -EINVAL);
        }
        ASSERT_TRUE(priv == NULL);

        /* too small to be an atSign key */
        ASSERT_ERR(at_rsa_generate(1024, &priv), -EINVAL);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        RUN(sign_matches_upstream_vector);
        RUN(verify_accepts_good_and_rejects_tampered);
        RUN(upstream_pair_signs_and_verifies);
        RUN(decrypts_upstream_dart_ciphertext);
        RUN(keys_export_to_the_text_they_came_from);
        RUN(generated_key_round_trips);
        RUN(encrypt_refuses_oversized_plaintext);
        RUN(decrypt_rejects_garbage);
        RUN(import_rejects_bad_keys);
        return 0;
}
