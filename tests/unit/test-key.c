/* SPDX-License-Identifier: BSD-3-Clause */
#include "key.h"
#include "macro.h"
#include "tests.h"

static void check_roundtrip(const char *text) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        _cleanup_free_ char *s = NULL;

        ASSERT_OK(at_key_parse(text, &k));
        ASSERT_OK(at_key_format(k, &s));
        ASSERT_STREQ(s, text);
}

/* The six scenarios of at_c packages/atclient/src/atkey.c atclient_atkey_from_string, plus the
 * NoPorts keys of docs/protocol.md (namespace after the last '.', as at_commons at_key.dart). */
TEST(parses_public_shared_self_and_cached_keys) {
        AtKey *k;

        ASSERT_OK(at_key_parse("public:name.wavi@smoothalligator", &k));
        ASSERT_TRUE(k->type == AT_KEY_PUBLIC && !k->cached);
        ASSERT_STREQ(k->name, "name");
        ASSERT_STREQ(k->namespace_, "wavi");
        ASSERT_STREQ(k->shared_by, "@smoothalligator");
        ASSERT_TRUE(k->shared_with == NULL);
        at_key_free(k);

        ASSERT_OK(at_key_parse("cached:public:name.wavi@smoothalligator", &k));
        ASSERT_TRUE(k->type == AT_KEY_PUBLIC && k->cached);
        at_key_free(k);

        ASSERT_OK(at_key_parse("@foo:name.wavi@bar", &k));
        ASSERT_TRUE(k->type == AT_KEY_SHARED && !k->cached);
        ASSERT_STREQ(k->shared_with, "@foo");
        ASSERT_STREQ(k->shared_by, "@bar");
        ASSERT_STREQ(k->name, "name");
        at_key_free(k);

        ASSERT_OK(at_key_parse("cached:@bar:name.wavi@foo", &k));
        ASSERT_TRUE(k->type == AT_KEY_SHARED && k->cached);
        ASSERT_STREQ(k->shared_with, "@bar");
        at_key_free(k);

        ASSERT_OK(at_key_parse("name@smoothalligator", &k));
        ASSERT_TRUE(k->type == AT_KEY_SELF);
        ASSERT_TRUE(k->namespace_ == NULL);
        ASSERT_STREQ(k->name, "name");
        at_key_free(k);

        ASSERT_OK(at_key_parse("@d:ping.dev1.sshnp@c", &k));
        ASSERT_TRUE(k->type == AT_KEY_SHARED);
        ASSERT_STREQ(k->name, "ping.dev1");
        ASSERT_STREQ(k->namespace_, "sshnp");
        at_key_free(k);

        ASSERT_OK(at_key_parse("shared_key.bob@alice", &k));
        ASSERT_TRUE(k->type == AT_KEY_SELF);
        ASSERT_STREQ(k->name, "shared_key");
        ASSERT_STREQ(k->namespace_, "bob");
        at_key_free(k);
}

TEST(hidden_local_privatekey_and_self_shared_with_self) {
        AtKey *k;

        ASSERT_OK(at_key_parse("_secret.app@alice", &k));
        ASSERT_TRUE(at_key_is_hidden(k) && k->type == AT_KEY_SELF);
        at_key_free(k);
        ASSERT_OK(at_key_parse("@bob:_latest@alice", &k));
        ASSERT_TRUE(at_key_is_hidden(k) && k->type == AT_KEY_SHARED);
        at_key_free(k);

        ASSERT_OK(at_key_parse("local:lastNotificationReceived@alice", &k));
        ASSERT_TRUE(k->type == AT_KEY_LOCAL);
        at_key_free(k);

        ASSERT_OK(at_key_parse("privatekey:at_pkam_publickey", &k));
        ASSERT_TRUE(k->type == AT_KEY_PRIVATE && k->shared_by == NULL);
        ASSERT_STREQ(k->name, "at_pkam_publickey");
        at_key_free(k);

        /* at_key_regex_utils.dart: sharedWith == owner is a self key */
        ASSERT_OK(at_key_parse("@alice:phone@ALICE", &k));
        ASSERT_TRUE(k->type == AT_KEY_SELF);
        at_key_free(k);
}

TEST(format_roundtrips) {
        check_roundtrip("public:publickey@alice");
        check_roundtrip("@bob:shared_key@alice");
        check_roundtrip("shared_key.bob@alice");
        check_roundtrip("cached:@bob:shared_key@alice");
        check_roundtrip("cached:public:publickey@alice");
        check_roundtrip("@c:0f3c8e1a-7b2d-4c1e-9a55-0d3f6b2a8c11.dev1.sshnp@d");
        check_roundtrip("local:lastNotificationReceived@alice");
        check_roundtrip("privatekey:privatekey");
        check_roundtrip("_latestNotificationIdv2@alice");
}

TEST(new_builds_keys_and_adds_at) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        _cleanup_free_ char *s = NULL;

        ASSERT_OK(at_key_new(AT_KEY_SHARED, "ping.dev1", "sshnp", "c", "@d", &k));
        ASSERT_OK(at_key_format(k, &s));
        ASSERT_STREQ(s, "@d:ping.dev1.sshnp@c");
        free(s);
        s = NULL;

        at_key_free(k);
        k = NULL;
        ASSERT_OK(at_key_new(AT_KEY_PUBLIC, "publickey", NULL, "@bob", NULL, &k));
        k->cached = true;
        ASSERT_OK(at_key_format(k, &s));
        ASSERT_STREQ(s, "cached:public:publickey@bob");

        AtKey *bad;
        ASSERT_ERR(at_key_new(AT_KEY_SHARED, "x", NULL, "@alice", NULL, &bad), -EINVAL);
        ASSERT_ERR(at_key_new(AT_KEY_SHARED, "x", NULL, "@alice", "@alice", &bad), -EINVAL);
        ASSERT_ERR(at_key_new(AT_KEY_PUBLIC, "x", NULL, "@alice", "@bob", &bad), -EINVAL);
        ASSERT_ERR(at_key_new(AT_KEY_SELF, "x", NULL, NULL, NULL, &bad), -EINVAL);
        ASSERT_ERR(at_key_new(AT_KEY_SELF, "", NULL, "@a", NULL, &bad), -EINVAL);
        ASSERT_ERR(at_key_new(AT_KEY_SELF, "a b", NULL, "@a", NULL, &bad), -EINVAL);
        ASSERT_ERR(at_key_new(AT_KEY_SELF, "x", "n-s", "@a", NULL, &bad), -EINVAL);
        ASSERT_ERR(at_key_new(AT_KEY_SELF, "x", NULL, "@a:b", NULL, &bad), -EINVAL);
}

TEST(rejects_malformed_keys) {
        static const char *const bad[] = {
                "",
                "name",                   /* no owner */
                "name@",                  /* empty owner */
                "@bob:",                  /* nothing after the sharedWith */
                "@bob",                   /* no colon */
                "@:x@alice",              /* empty sharedWith */
                "public:@alice",          /* empty entity */
                "public:x@alice@bob",     /* two owners */
                "a:b:c@alice",            /* unknown prefix */
                "@bob:a:b@alice",         /* stray colon */
                "cached:x@alice",         /* a cached self key */
                "cached:local:x@alice",
                "local:@bob:x@alice",
                "na me@alice",            /* whitespace */
                "name@ali ce",
                "name\n@alice",
                "name@al/ice",            /* bad atSign character */
                "na/me@alice",            /* bad entity character */
                "name@alice:",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AtKey *k = NULL;
                int r = at_key_parse(bad[i], &k);
                if (r >= 0)
                        fprintf(stderr, "accepted \"%s\"\n", bad[i]);
                ASSERT_ERR(r, -EINVAL);
                ASSERT_TRUE(k == NULL);
        }
        AtKey *k;
        ASSERT_ERR(at_key_parse(NULL, &k), -EINVAL);
}

TEST(enforces_upstream_length_limits) {
        char buf[400];
        AtKey *k;

        /* 248 characters is the limit without "cached:" (KeyLengthValidation) */
        memset(buf, 'a', sizeof(buf));
        strcpy(buf + 248 - 6, "@alice");
        ASSERT_TRUE(strlen(buf) == 248);
        ASSERT_OK(at_key_parse(buf, &k));
        at_key_free(k);

        memset(buf, 'a', sizeof(buf));
        strcpy(buf + 249 - 6, "@alice");
        ASSERT_ERR(at_key_parse(buf, &k), -E2BIG);

        /* 255 with "cached:" */
        memcpy(buf, "cached:@bob:", 12);
        memset(buf + 12, 'a', sizeof(buf) - 12);
        strcpy(buf + 255 - 6, "@alice");
        ASSERT_TRUE(strlen(buf) == 255);
        ASSERT_OK(at_key_parse(buf, &k));
        at_key_free(k);
        strcpy(buf + 256 - 6, "@alice");
        ASSERT_ERR(at_key_parse(buf, &k), -E2BIG);

        /* a 100 KiB key is refused without reading all of it */
        char *huge = malloc(100 * 1024 + 1);
        ASSERT_TRUE(huge);
        memset(huge, 'x', 100 * 1024);
        huge[100 * 1024] = 0;
        ASSERT_ERR(at_key_parse(huge, &k), -E2BIG);
        free(huge);
}

TEST(atsigns) {
        char long_atsign[60];

        ASSERT_TRUE(at_atsign_is_valid("alice"));
        ASSERT_TRUE(at_atsign_is_valid("@bob_1-x"));
        ASSERT_TRUE(at_atsign_equal("@Alice", "alice"));
        ASSERT_TRUE(!at_atsign_equal("@alice", "@alicea"));
        ASSERT_TRUE(at_atsign_is_valid("@\xf0\x9f\x98\x80"));  /* emoji atSign */
        ASSERT_TRUE(!at_atsign_is_valid("@"));
        ASSERT_TRUE(!at_atsign_is_valid(""));
        ASSERT_TRUE(!at_atsign_is_valid("@al ice"));
        ASSERT_TRUE(!at_atsign_is_valid("@@alice"));
        ASSERT_TRUE(!at_atsign_is_valid(NULL));

        memset(long_atsign, 'a', sizeof(long_atsign));
        long_atsign[0] = '@';
        long_atsign[56] = 0;   /* 55 characters after '@' */
        ASSERT_TRUE(at_atsign_is_valid(long_atsign));
        long_atsign[56] = 'a';
        long_atsign[57] = 0;
        ASSERT_TRUE(!at_atsign_is_valid(long_atsign));
}

int main(void) {
        RUN(parses_public_shared_self_and_cached_keys);
        RUN(hidden_local_privatekey_and_self_shared_with_self);
        RUN(format_roundtrips);
        RUN(new_builds_keys_and_adds_at);
        RUN(rejects_malformed_keys);
        RUN(enforces_upstream_length_limits);
        RUN(atsigns);
        return 0;
}
