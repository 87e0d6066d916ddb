/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "command.h"
#include "tests.h"

static int parse(const char *line, AtsCommand *c) {
        return ats_command_parse(line, strlen(line), c);
}

#define PARSE_OK(line, c) ASSERT_OK(parse((line), (c)))
#define PARSE_BAD(line)                                  \
        do {                                             \
                AtsCommand _c;                           \
                ASSERT_ERR(parse((line), &_c), -EBADMSG); \
                ats_command_done(&_c);                   \
        } while (0)

TEST(from_forms) {
        AtsCommand c;
        PARSE_OK("from:@alice", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_FROM);
        ASSERT_STREQ(c.atsign, "alice");
        ats_command_done(&c);
        PARSE_OK("from:alice:clientConfig:{\"version\":\"3.0.50\"}", &c);
        ASSERT_STREQ(c.atsign, "alice");
        ASSERT_STREQ(c.client_config, "{\"version\":\"3.0.50\"}");
        ats_command_done(&c);
        PARSE_BAD("from:");
        PARSE_BAD("from:@al ice");
        PARSE_BAD("from:@alice:clientConfig:notjson");
}

TEST(pkam_both_forms) {
        AtsCommand c;
        PARSE_OK("pkam:c2lnbmF0dXJl", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_PKAM);
        ASSERT_STREQ(c.signature, "c2lnbmF0dXJl");
        ASSERT_TRUE(!c.enrollment_id && !c.signing_algo);
        ats_command_done(&c);
        PARSE_OK("pkam:signingAlgo:rsa2048:hashingAlgo:sha256:enrollmentId:1234-abcd:c2ln", &c);
        ASSERT_STREQ(c.signing_algo, "rsa2048");
        ASSERT_STREQ(c.hashing_algo, "sha256");
        ASSERT_STREQ(c.enrollment_id, "1234-abcd");
        ASSERT_STREQ(c.signature, "c2ln");
        ats_command_done(&c);
        PARSE_OK("pkam:enrollmentId:e1:sig", &c); /* at_c's form */
        ASSERT_STREQ(c.enrollment_id, "e1");
        ASSERT_STREQ(c.signature, "sig");
        ats_command_done(&c);
        PARSE_BAD("pkam:");
        PARSE_BAD("pkam:signingAlgo:md5:x");
}

TEST(cram_pol_noop_info) {
        AtsCommand c;
        PARSE_OK("cram:abcdef", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_CRAM);
        ASSERT_STREQ(c.digest, "abcdef");
        ats_command_done(&c);
        PARSE_OK("pol", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_POL);
        ats_command_done(&c);
        PARSE_OK("noop:0", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_NOOP && c.delay_ms == 0);
        ats_command_done(&c);
        PARSE_BAD("noop:x");
        PARSE_OK("info:brief", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_INFO && c.brief);
        ats_command_done(&c);
        PARSE_BAD("info:long");
}

TEST(update_scopes_and_metadata) {
        AtsCommand c;
        PARSE_OK("update:public:publickey@alice MIIBIjAN AQAB", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_UPDATE && c.public_scope);
        ASSERT_STREQ(c.key, "publickey");
        ASSERT_STREQ(c.atsign, "alice");
        ASSERT_STREQ(c.value, "MIIBIjAN AQAB");
        ats_command_done(&c);

        PARSE_OK("update:ttl:60000:ttr:-1:ccd:true:isEncrypted:true:ivNonce:aXY=:@bob:shared_key.x@alice val", &c);
        ASSERT_TRUE(c.meta.ttl == 60000 && c.meta.ttr == -1 && c.meta.ccd == 1 && c.meta.is_encrypted == 1);
        ASSERT_STREQ(c.meta.iv_nonce, "aXY=");
        ASSERT_STREQ(c.for_atsign, "bob");
        ASSERT_STREQ(c.key, "shared_key.x");
        ASSERT_STREQ(c.value, "val");
        ats_command_done(&c);

        /* any order of named fields */
        PARSE_OK("update:isEncrypted:false:ttl:5:k@alice v", &c);
        ASSERT_TRUE(c.meta.ttl == 5 && c.meta.is_encrypted == 0);
        ats_command_done(&c);

        PARSE_OK("update:privatekey:at_pkam_publickey MIIB", &c);
        ASSERT_STREQ(c.key, "privatekey:at_pkam_publickey");
        ats_command_done(&c);

        /* a key named like a field is still a key */
        PARSE_OK("update:ttl v", &c);
        ASSERT_STREQ(c.key, "ttl");
        ats_command_done(&c);

        PARSE_BAD("update:k@alice");         /* no value */
        PARSE_BAD("update:ttl:abc:k@alice v"); /* ttl not a number */
        PARSE_BAD("update:ccd:maybe:k@alice v");
        PARSE_BAD("update:a:b:c@alice v");   /* ':' in key */
}

TEST(lookups) {
        AtsCommand c;
        PARSE_OK("llookup:all:cached:public:publickey@bob", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_LLOOKUP && c.cached && c.public_scope);
        ASSERT_STREQ(c.operation, "all");
        ASSERT_STREQ(c.key, "publickey");
        ASSERT_STREQ(c.atsign, "bob");
        ats_command_done(&c);
        PARSE_OK("llookup:@bob:shared_key@alice", &c);
        ASSERT_STREQ(c.for_atsign, "bob");
        ASSERT_STREQ(c.key, "shared_key");
        ats_command_done(&c);
        PARSE_BAD("llookup:nokey");

        PARSE_OK("lookup:bypassCache:true:meta:phone.wavi@bob", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_LOOKUP && c.bypass_cache);
        ASSERT_STREQ(c.operation, "meta");
        ASSERT_STREQ(c.key, "phone.wavi");
        ASSERT_STREQ(c.atsign, "bob");
        ats_command_done(&c);
        PARSE_OK("plookup:publickey@bob", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_PLOOKUP);
        ats_command_done(&c);
        PARSE_BAD("lookup:phone");
        PARSE_BAD("plookup:a b@bob");
}

TEST(scan_delete) {
        AtsCommand c;
        PARSE_OK("scan", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_SCAN && !c.regex);
        ats_command_done(&c);
        PARSE_OK("scan:showhidden:true .*\\.wavi", &c);
        ASSERT_TRUE(c.show_hidden);
        ASSERT_STREQ(c.regex, ".*\\.wavi");
        ats_command_done(&c);
        PARSE_OK("scan:@bob", &c);
        ASSERT_STREQ(c.for_atsign, "bob");
        ats_command_done(&c);
        PARSE_BAD("scan:showhidden:maybe");
        ASSERT_ERR(parse("scanner", &c), -ENOENT); /* not the scan verb at all */
        ats_command_done(&c);

        PARSE_OK("delete:@bob:k@alice", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_DELETE);
        ASSERT_STREQ(c.for_atsign, "bob");
        ASSERT_STREQ(c.key, "k");
        ats_command_done(&c);
        PARSE_OK("delete:privatekey:at_secret", &c);
        ASSERT_STREQ(c.key, "privatekey:at_secret");
        ats_command_done(&c);
        PARSE_BAD("delete:a b");
}

TEST(notify_forms) {
        AtsCommand c;
        PARSE_OK("notify:id:abc-1:update:messageType:key:ttln:60000:ttl:10000:isEncrypted:true:ivNonce:SVY=:"
                 "@bob:ping.dev.sshnp@alice:the:value with spaces", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_NOTIFY);
        ASSERT_STREQ(c.id, "abc-1");
        ASSERT_STREQ(c.operation, "update");
        ASSERT_STREQ(c.message_type, "key");
        ASSERT_TRUE(c.ttln == 60000 && c.meta.ttl == 10000 && c.meta.is_encrypted == 1);
        ASSERT_STREQ(c.for_atsign, "bob");
        ASSERT_STREQ(c.key, "ping.dev.sshnp");
        ASSERT_STREQ(c.atsign, "alice");
        ASSERT_STREQ(c.value, "the:value with spaces");
        ats_command_done(&c);
        /* the order upstream's server forwards in */
        AtsCommand d;
        ASSERT_ERR(ats_command_parse("notify:id:x:delete:messageType:key:notifier:SYSTEM:ttln:5:isEncrypted:false:@bob:k1@alice",
                                     strlen("notify:id:x:delete:messageType:key:notifier:SYSTEM:ttln:5:isEncrypted:false:@bob:k1@alice"), &d), 0);
        ASSERT_STREQ(d.operation, "delete");
        ASSERT_STREQ(d.notifier, "SYSTEM");
        ASSERT_TRUE(!d.value);
        ats_command_done(&d);
        /* an update forwarded with its cache fields (resource_manager.dart prepareNotifyCommandBody) */
        PARSE_OK("notify:id:y:update:messageType:key:notifier:SYSTEM:ttln:86400000:ttl:2592000000:ttr:-1:ccd:true:"
                 "isEncrypted:true:ivNonce:SVY=:@c:device_info.dev.sshnp@d:ct", &c);
        ASSERT_TRUE(c.meta.ttr == -1 && c.meta.ccd == 1 && c.meta.ttl == 2592000000LL && c.meta.ttb == ATS_UNSET);
        ASSERT_STREQ(c.for_atsign, "c");
        ASSERT_STREQ(c.key, "device_info.dev.sshnp");
        ASSERT_STREQ(c.atsign, "d");
        ASSERT_STREQ(c.value, "ct");
        ats_command_done(&c);
        PARSE_OK("notify:messageType:text:@bob:hello there", &c);
        ASSERT_STREQ(c.key, "hello there");
        ats_command_done(&c);
        PARSE_BAD("notify:k@alice:v");          /* no recipient */
        PARSE_BAD("notify:ttln:x:@bob:k@alice");
        PARSE_BAD("notify:id:a b:@bob:k@alice");

        PARSE_OK("notify:status:abc-1", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_NOTIFY_STATUS);
        ASSERT_STREQ(c.id, "abc-1");
        ats_command_done(&c);
        PARSE_OK("notify:list:2024-01-01:2024-12-31:.*sshnp", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_NOTIFY_LIST);
        ASSERT_STREQ(c.from_date, "2024-01-01");
        ASSERT_STREQ(c.to_date, "2024-12-31");
        ASSERT_STREQ(c.regex, ".*sshnp");
        ats_command_done(&c);
        PARSE_OK("notify:list", &c);
        ats_command_done(&c);
}

TEST(monitor_forms) {
        AtsCommand c;
        PARSE_OK("monitor", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_MONITOR && c.epoch_ms == ATS_UNSET && !c.regex);
        ats_command_done(&c);
        PARSE_OK("monitor:strict:selfNotifications:multiplexed:1700000000000 dev\\.sshnp@", &c);
        ASSERT_TRUE(c.strict && c.self_notifications && c.multiplexed && c.epoch_ms == 1700000000000LL);
        ASSERT_STREQ(c.regex, "dev\\.sshnp@");
        ats_command_done(&c);
        PARSE_OK("monitor:1700000000000", &c);
        ASSERT_TRUE(c.epoch_ms == 1700000000000LL);
        ats_command_done(&c);
        PARSE_BAD("monitor:soon");
}

TEST(enroll_otp_keys) {
        AtsCommand c;
        PARSE_OK("enroll:request:{\"appName\":\"a\"}", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_ENROLL);
        ASSERT_STREQ(c.operation, "request");
        ASSERT_STREQ(c.params, "{\"appName\":\"a\"}");
        ats_command_done(&c);
        PARSE_OK("enroll:revoke:force:{\"enrollmentId\":\"x\"}", &c);
        ASSERT_TRUE(c.force);
        ASSERT_STREQ(c.operation, "revoke");
        ats_command_done(&c);
        PARSE_OK("enroll:list", &c);
        ASSERT_TRUE(!c.params);
        ats_command_done(&c);
        PARSE_BAD("enroll:explode:{}");

        PARSE_OK("otp:get:ttl:60000", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_OTP && c.otp_ttl == 60000);
        ats_command_done(&c);
        PARSE_OK("otp:put:ABC123", &c);
        ASSERT_STREQ(c.otp, "ABC123");
        ats_command_done(&c);
        PARSE_BAD("otp:put:abc");

        PARSE_OK("keys:get:keyName:id.default_enc_private_key.__manage@alice", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_KEYS);
        ASSERT_STREQ(c.key_name, "id.default_enc_private_key.__manage@alice");
        ats_command_done(&c);
}

TEST(malformed_input) {
        AtsCommand c;
        ASSERT_ERR(parse("", &c), -ENOENT);
        ats_command_done(&c);
        ASSERT_ERR(parse("hello", &c), -ENOENT);
        ats_command_done(&c);
        ASSERT_ERR(ats_command_parse("from:a\0b", 8, &c), -EBADMSG);
        ats_command_done(&c);
        char *big = malloc(ATS_LINE_MAX + 10);
        memset(big, 'a', ATS_LINE_MAX + 9);
        big[ATS_LINE_MAX + 9] = 0;
        ASSERT_ERR(parse(big, &c), -E2BIG);
        ats_command_done(&c);
        free(big);
        /* verbs are case-insensitive, as upstream lower-cases them */
        PARSE_OK("FROM:@alice", &c);
        ASSERT_TRUE(c.verb == ATS_VERB_FROM);
        ats_command_done(&c);
        ASSERT_TRUE(ats_verb_allowed_unauthenticated(ATS_VERB_LOOKUP));
        ASSERT_TRUE(!ats_verb_allowed_unauthenticated(ATS_VERB_UPDATE));
        ASSERT_TRUE(!ats_verb_allowed_unauthenticated(ATS_VERB_MONITOR));
}

int main(void) {
        RUN(from_forms);
        RUN(pkam_both_forms);
        RUN(cram_pol_noop_info);
        RUN(update_scopes_and_metadata);
        RUN(lookups);
        RUN(scan_delete);
        RUN(notify_forms);
        RUN(monitor_forms);
        RUN(enroll_otp_keys);
        RUN(malformed_input);
        return 0;
}
