/* SPDX-License-Identifier: BSD-3-Clause */
#include "aes.h"
#include "base64.h"
#include "keys_file.h"
#include "monitor.h"
#include "notify.h"
#include "rsa.h"
#include "shared_key.h"
#include "notification.h"
#include "secure.h"
#include "tests.h"

/* Shaped as at_server monitor_verb_handler.dart Notification.toJson writes it. */
static const char real[] =
        "notification: {\"id\":\"5b1f2a0e-9c3d-4e5f-8a7b-1c2d3e4f5a6b\",\"from\":\"@c\",\"to\":\"@d\","
        "\"key\":\"@d:ping.dev1.sshnp@c\",\"value\":\"p71ymAXLFWJhAoynMSmNgoLzxzMPNfRcmfnasEVTvPH3jofWjQO7d32mCIil54t5\","
        "\"operation\":\"update\",\"epochMillis\":1732560000123,\"messageType\":\"MessageType.key\","
        "\"isEncrypted\":true,\"metadata\":{\"encKeyName\":null,\"encAlgo\":null,"
        "\"ivNonce\":\"oKGio6SlpqeoqaqrrK2urw==\",\"skeEncKeyName\":null,\"skeEncAlgo\":null,"
        "\"sharedKeyEnc\":\"abc\"}}";

/* AES-256-CTR + PKCS#7 of the value above, computed independently with python3-cryptography:
 * key bytes 0x00..0x1f, IV bytes 0xa0..0xaf. */
#define VECTOR_KEY_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define VECTOR_PLAIN "{\"sessionId\":\"abc\",\"status\":\"connected\"}"

static int parse(const char *s, AtNotification **ret) {
        return at_notification_parse(s, strlen(s), ret);
}

TEST(parses_a_server_notification) {
        _cleanup_(at_notification_freep) AtNotification *n = NULL;

        ASSERT_OK(parse(real, &n));
        ASSERT_STREQ(n->id, "5b1f2a0e-9c3d-4e5f-8a7b-1c2d3e4f5a6b");
        ASSERT_STREQ(n->from, "@c");
        ASSERT_STREQ(n->to, "@d");
        ASSERT_STREQ(n->key, "@d:ping.dev1.sshnp@c");
        ASSERT_STREQ(n->operation, "update");
        ASSERT_STREQ(n->message_type, "MessageType.key");
        ASSERT_TRUE(n->epoch_millis == 1732560000123LL);
        ASSERT_TRUE(n->is_encrypted);
        ASSERT_TRUE(n->has_iv);
        ASSERT_TRUE(n->iv[0] == 0xa0 && n->iv[15] == 0xaf);
        ASSERT_STREQ(n->metadata.shared_key_enc, "abc");
        ASSERT_TRUE(n->metadata.enc_key_name == NULL);
        ASSERT_TRUE(!at_notification_is_heartbeat(n));
        ASSERT_TRUE(!at_notification_is_shared_key(n));
        ASSERT_TRUE(!at_notification_is_delete(n));
}

TEST(decrypts_the_fixed_vector) {
        _cleanup_(at_notification_freep) AtNotification *n = NULL;
        _cleanup_free_ char *plain = NULL;
        uint8_t key[AT_AES_KEY_SIZE];

        ASSERT_OK(parse(real, &n));
        ASSERT_OK(at_aes_key_from_base64(VECTOR_KEY_B64, key));
        ASSERT_OK(at_notification_decrypt_value(n, key, &plain));
        ASSERT_STREQ(plain, VECTOR_PLAIN);

        /* a wrong key gives bad padding or non-text, never garbage */
        free(plain);
        plain = NULL;
        key[0] ^= 1;
        ASSERT_ERR(at_notification_decrypt_value(n, key, &plain), -EBADMSG);
        ASSERT_TRUE(plain == NULL);
}

TEST(encrypt_decrypt_roundtrip_and_legacy_zero_iv) {
        _cleanup_(at_notification_freep) AtNotification *n = NULL;
        _cleanup_free_ char *ct = NULL, *plain = NULL, *json = NULL;
        uint8_t key[AT_AES_KEY_SIZE];
        static const uint8_t zero_iv[AT_AES_IV_SIZE] = {};

        at_random_bytes(key, sizeof(key));
        ASSERT_OK(at_aes_encrypt_b64(key, zero_iv, "hello bob", 9, &ct));
        /* no ivNonce at all: the legacy all-zero IV */
        ASSERT_TRUE(asprintf(&json, "{\"id\":\"1\",\"key\":\"@bob:x@alice\",\"from\":\"@alice\",\"value\":\"%s\","
                                    "\"isEncrypted\":true,\"metadata\":null}", ct) > 0);
        ASSERT_OK(parse(json, &n));
        ASSERT_TRUE(!n->has_iv);
        ASSERT_OK(at_notification_decrypt_value(n, key, &plain));
        ASSERT_STREQ(plain, "hello bob");
}

TEST(plain_values_and_missing_values) {
        _cleanup_(at_notification_freep) AtNotification *n = NULL, *d = NULL;
        _cleanup_free_ char *v = NULL;

        ASSERT_OK(parse("{\"id\":\"2\",\"key\":\"@bob:x@alice\",\"value\":\"plain\",\"isEncrypted\":false}", &n));
        ASSERT_OK(at_notification_decrypt_value(n, NULL, &v));
        ASSERT_STREQ(v, "plain");

        ASSERT_OK(parse("{\"id\":\"3\",\"key\":\"@bob:x@alice\",\"value\":null,\"operation\":\"delete\"}", &d));
        ASSERT_TRUE(at_notification_is_delete(d));
        ASSERT_TRUE(d->value == NULL);
        ASSERT_ERR(at_notification_decrypt_value(d, NULL, &v), -ENODATA);
}

TEST(recognises_heartbeat_and_shared_key_notifications) {
        _cleanup_(at_notification_freep) AtNotification *h = NULL, *s = NULL;

        /* stats_notification_service.dart: id "-1", metadata null */
        ASSERT_OK(parse("notification: {\"id\":\"-1\",\"from\":\"@alice\",\"to\":\"@alice\","
                        "\"key\":\"statsNotification.@alice\",\"value\":\"42\",\"operation\":\"update\","
                        "\"epochMillis\":1,\"messageType\":\"MessageType.key\",\"isEncrypted\":false,"
                        "\"metadata\":null}", &h));
        ASSERT_TRUE(at_notification_is_heartbeat(h));
        ASSERT_OK(parse("{\"id\":\"9\",\"key\":\"@bob:shared_key@alice\"}", &s));
        ASSERT_TRUE(at_notification_is_shared_key(s));
}

TEST(rejects_hostile_json) {
        static const char *const bad[] = {
                "",
                "notification:",
                "{",
                "not json",
                "[1,2,3]",
                "\"string\"",
                "{\"key\":\"@b:x@a\"}",                               /* no id */
                "{\"id\":\"1\"}",                                     /* no key */
                "{\"id\":1,\"key\":\"@b:x@a\"}",                      /* id a number */
                "{\"id\":\"1\",\"key\":[\"@b:x@a\"]}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"value\":5}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"from\":{}}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"epochMillis\":\"123\"}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"epochMillis\":-5}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"epochMillis\":1.5}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"isEncrypted\":\"true\"}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"metadata\":[]}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"metadata\":{\"ivNonce\":5}}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"metadata\":{\"ivNonce\":\"!!notbase64!!\"}}",
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"metadata\":{\"ivNonce\":\"AAECAwQFBgcICQoL\"}}", /* 12 bytes */
                "{\"id\":\"1\",\"key\":\"@b:x@a\",\"id\":\"2\"}",       /* duplicate field */
                "{\"id\":\"1\\u0000\",\"key\":\"@b:x@a\"}",              /* NUL inside a string */
                "{\"id\":\"1\",\"key\":\"@b:x@a\"} trailing",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AtNotification *n = NULL;
                int r = parse(bad[i], &n);
                if (r != -EBADMSG)
                        fprintf(stderr, "case %zu: %s -> %d\n", i, bad[i], r);
                ASSERT_ERR(r, -EBADMSG);
                ASSERT_TRUE(n == NULL);
        }
        AtNotification *n;
        ASSERT_ERR(at_notification_parse(NULL, 0, &n), -EBADMSG);
}

TEST(bounds_sizes) {
        AtNotification *n = NULL;
        size_t big = AT_NOTIFICATION_VALUE_MAX + 10;
        char *json = malloc(big + 200), *p;

        /* a value over the bound */
        p = json + sprintf(json, "{\"id\":\"1\",\"key\":\"@b:x@a\",\"value\":\"");
        memset(p, 'A', AT_NOTIFICATION_VALUE_MAX + 1);
        strcpy(p + AT_NOTIFICATION_VALUE_MAX + 1, "\"}");
        ASSERT_ERR(parse(json, &n), -E2BIG);

        /* a whole text over the bound */
        memset(json, ' ', big + 150);
        json[big + 150] = 0;
        ASSERT_ERR(parse(json, &n), -E2BIG);

        /* an over-long id and key */
        p = json + sprintf(json, "{\"key\":\"@b:x@a\",\"id\":\"");
        memset(p, '1', AT_NOTIFICATION_ID_MAX + 1);
        strcpy(p + AT_NOTIFICATION_ID_MAX + 1, "\"}");
        ASSERT_ERR(parse(json, &n), -E2BIG);
        p = json + sprintf(json, "{\"id\":\"1\",\"key\":\"");
        memset(p, 'k', AT_NOTIFICATION_KEY_MAX + 1);
        strcpy(p + AT_NOTIFICATION_KEY_MAX + 1, "\"}");
        ASSERT_ERR(parse(json, &n), -E2BIG);

        /* deep nesting is refused, not recursed into without limit */
        size_t depth = 100000;
        p = json;
        p += sprintf(p, "{\"id\":\"1\",\"key\":\"k\",\"x\":");
        memset(p, '[', depth);
        p[depth] = 0;
        ASSERT_ERR(parse(json, &n), -EBADMSG);
        ASSERT_TRUE(n == NULL);
        free(json);
}

TEST(bad_ciphertext_is_an_error) {
        _cleanup_(at_notification_freep) AtNotification *a = NULL, *b = NULL;
        _cleanup_free_ char *v = NULL;
        uint8_t key[AT_AES_KEY_SIZE] = {};

        ASSERT_OK(parse("{\"id\":\"1\",\"key\":\"@b:x@a\",\"value\":\"%%%not base64\",\"isEncrypted\":true}", &a));
        ASSERT_ERR(at_notification_decrypt_value(a, key, &v), -EBADMSG);
        /* 5 bytes: not a whole AES block */
        ASSERT_OK(parse("{\"id\":\"1\",\"key\":\"@b:x@a\",\"value\":\"AAAAAAA=\",\"isEncrypted\":true}", &b));
        ASSERT_ERR(at_notification_decrypt_value(b, key, &v), -EBADMSG);
}

/* The shared key travels as base64 text RSA-encrypted for the recipient; pubKeyCS is the MD5 hex
 * of the recipient's public key text (at_client_sdk encryption_util.dart md5CheckSum). */
TEST(carried_shared_key_roundtrip_and_checksum) {
        _cleanup_(at_keys_freep) AtKeys *bob = at_keys_new();
        _cleanup_(at_notification_freep) AtNotification *n = NULL;
        _cleanup_free_ char *copy = NULL, *cs = NULL, *json = NULL, *ct = NULL, *iv_b64 = NULL, *plain = NULL;
        _cleanup_free_ char *pub_b64 = NULL;
        uint8_t key[AT_AES_KEY_SIZE], got[AT_AES_KEY_SIZE], iv[AT_AES_IV_SIZE];
        _cleanup_free_ char *md5 = NULL;

        ASSERT_OK(at_shared_key_public_key_checksum("abc", &md5));
        ASSERT_STREQ(md5, "900150983cd24fb0d6963f7d28e17f72"); /* RFC 1321 test suite */

        ASSERT_TRUE(bob);
        ASSERT_OK(at_rsa_generate(2048, &bob->encrypt_private));
        ASSERT_OK(at_rsa_private_get_public(bob->encrypt_private, &bob->encrypt_public));
        at_random_bytes(key, sizeof(key));
        at_random_bytes(iv, sizeof(iv));
        ASSERT_OK(at_shared_key_encrypt(bob->encrypt_public, key, &copy));
        ASSERT_OK(at_shared_key_decrypt(bob, copy, got));
        ASSERT_MEMEQ(key, got, sizeof(key));

        ASSERT_OK(at_rsa_public_to_base64(bob->encrypt_public, &pub_b64));
        ASSERT_OK(at_shared_key_public_key_checksum(pub_b64, &cs));
        ASSERT_OK(at_aes_encrypt_b64(key, iv, "ping", 4, &ct));
        ASSERT_OK(at_base64_encode(iv, sizeof(iv), &iv_b64));
        ASSERT_TRUE(asprintf(&json, "{\"id\":\"7\",\"from\":\"@alice\",\"key\":\"@bob:ping.dev.sshnp@alice\","
                                    "\"value\":\"%s\",\"isEncrypted\":true,\"metadata\":{\"ivNonce\":\"%s\","
                                    "\"sharedKeyEnc\":\"%s\",\"pubKeyCS\":\"%s\"}}", ct, iv_b64, copy, cs) > 0);
        ASSERT_OK(parse(json, &n));
        memset(got, 0, sizeof(got));
        ASSERT_OK(at_notification_carried_key(n, bob, got));
        ASSERT_OK(at_notification_decrypt_value(n, got, &plain));
        ASSERT_STREQ(plain, "ping");

        /* made for another public key of ours: refused */
        free(n->metadata.pub_key_cs);
        n->metadata.pub_key_cs = strdup("00000000000000000000000000000000");
        ASSERT_ERR(at_notification_carried_key(n, bob, got), -EKEYREJECTED);
        /* garbage instead of a key copy */
        ASSERT_ERR(at_shared_key_decrypt(bob, "bm90IGEga2V5", got), -EBADMSG);
        ASSERT_ERR(at_shared_key_decrypt(bob, "null", got), -ENOENT);
}

TEST(shared_key_cache) {
        _cleanup_(at_shared_keys_freep) AtSharedKeys *c = NULL;
        uint8_t k1[AT_AES_KEY_SIZE] = { 1 }, k2[AT_AES_KEY_SIZE] = { 2 }, got[AT_AES_KEY_SIZE];

        ASSERT_OK(at_shared_keys_new(&c));
        ASSERT_ERR(at_shared_keys_get_cached(c, "@bob", true, got), -ENOENT);
        ASSERT_OK(at_shared_keys_put(c, "bob", true, k1));
        ASSERT_OK(at_shared_keys_put(c, "@Bob", false, k2));
        ASSERT_OK(at_shared_keys_get_cached(c, "@BOB", true, got));
        ASSERT_MEMEQ(got, k1, sizeof(got));
        ASSERT_OK(at_shared_keys_get_cached(c, "bob", false, got));
        ASSERT_MEMEQ(got, k2, sizeof(got));
        at_shared_keys_forget(c, "@bob");
        ASSERT_ERR(at_shared_keys_get_cached(c, "@bob", false, got), -ENOENT);
        ASSERT_ERR(at_shared_keys_put(c, "bad atsign", true, k1), -EINVAL);
}

/* at_commons verb/monitor_verb_builder.dart */
TEST(monitor_command) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        ASSERT_OK(at_monitor_format_command(NULL, 0, &a));
        ASSERT_STREQ(a, "monitor");
        ASSERT_OK(at_monitor_format_command("\\.sshnp@", 1732560000123LL, &b));
        ASSERT_STREQ(b, "monitor:1732560000123 \\.sshnp@");
        ASSERT_ERR(at_monitor_format_command("a\nnoop:0", 0, &c), -EINVAL);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        RUN(parses_a_server_notification);
        RUN(decrypts_the_fixed_vector);
        RUN(encrypt_decrypt_roundtrip_and_legacy_zero_iv);
        RUN(plain_values_and_missing_values);
        RUN(recognises_heartbeat_and_shared_key_notifications);
        RUN(rejects_hostile_json);
        RUN(bounds_sizes);
        RUN(bad_ciphertext_is_an_error);
        RUN(carried_shared_key_roundtrip_and_checksum);
        RUN(shared_key_cache);
        RUN(monitor_command);
        return 0;
}
