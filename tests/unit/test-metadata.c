/* SPDX-License-Identifier: BSD-3-Clause */
#include "metadata.h"
#include "tests.h"
#include "verbs.h"

TEST(empty_metadata_renders_nothing) {
        _cleanup_free_ char *s = NULL;
        AtMetadata m = {};
        ASSERT_OK(at_metadata_render(&m, &s));
        ASSERT_STREQ(s, "");
        _cleanup_free_ char *t = NULL;
        ASSERT_OK(at_metadata_render(NULL, &t));
        ASSERT_STREQ(t, "");
}

TEST(fields_render_in_server_order) {
        _cleanup_free_ char *s = NULL;
        AtMetadata m = {
                .has_ttl = true, .ttl = 10000, .has_ttr = true, .ttr = -1, .ccd = AT_TRUE,
                .is_encrypted = AT_TRUE, .is_binary = AT_FALSE,
        };
        /* set in an order different from the syntax's */
        ASSERT_OK(at_metadata_set(&m.iv_nonce, "AAAAAAAAAAAAAAAAAAAAAA=="));
        ASSERT_OK(at_metadata_set(&m.pub_key_cs, "abc123"));
        ASSERT_OK(at_metadata_set(&m.shared_key_enc, "k/+="));
        ASSERT_OK(at_metadata_set(&m.data_signature, "sig"));
        ASSERT_OK(at_metadata_render(&m, &s));
        ASSERT_STREQ(s, ":ttl:10000:ttr:-1:ccd:true:dataSignature:sig:isBinary:false:isEncrypted:true"
                        ":sharedKeyEnc:k/+=:pubKeyCS:abc123:ivNonce:AAAAAAAAAAAAAAAAAAAAAA==");
        at_metadata_done(&m);
        ASSERT_TRUE(m.iv_nonce == NULL && !m.has_ttl);
}

TEST(values_the_syntax_cannot_carry_are_refused) {
        const char *bad[] = { "", "a:b", "a@b", "a b", "a\nb" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *s = NULL;
                AtMetadata m = {};
                ASSERT_OK(at_metadata_set(&m.enc_key_name, bad[i]));
                ASSERT_ERR(at_metadata_render(&m, &s), -EINVAL);
                ASSERT_TRUE(s == NULL);
                at_metadata_done(&m);
        }
}

TEST(metadata_from_json) {
        json_error_t e;
        _cleanup_(json_decrefp) json_t *j = json_loads(
                "{\"createdBy\":\"@alice\",\"ttl\":600000,\"ttr\":\"-1\",\"ccd\":false,\"isEncrypted\":true,"
                "\"ivNonce\":\"abc=\",\"sharedKeyEnc\":null,\"unknown\":[1]}", 0, &e);
        AtMetadata m = {};
        ASSERT_TRUE(j);
        ASSERT_OK(at_metadata_from_json(j, &m));
        ASSERT_TRUE(m.has_ttl && m.ttl == 600000);
        ASSERT_TRUE(m.has_ttr && m.ttr == -1);
        ASSERT_TRUE(!m.has_ttb);
        ASSERT_TRUE(m.ccd == AT_FALSE && m.is_encrypted == AT_TRUE && m.is_binary == AT_UNSET);
        ASSERT_STREQ(m.iv_nonce, "abc=");
        ASSERT_STREQ(m.created_by, "@alice");
        ASSERT_TRUE(m.shared_key_enc == NULL);
        at_metadata_done(&m);

        const char *bad[] = { "{\"ttl\":\"ten\"}", "{\"ttl\":1.5}", "{\"isEncrypted\":\"yes\"}",
                              "{\"ivNonce\":5}", "[]" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(json_decrefp) json_t *b = json_loads(bad[i], 0, &e);
                AtMetadata n = {};
                ASSERT_TRUE(b);
                ASSERT_ERR(at_metadata_from_json(b, &n), -EBADMSG);
                ASSERT_TRUE(n.iv_nonce == NULL);
        }
}

TEST(update_command) {
        _cleanup_free_ char *s = NULL, *t = NULL;
        AtMetadata m = { .has_ttl = true, .ttl = 1000 };
        ASSERT_OK(at_verb_format_update("@bob:shared_key@alice", &m, "v a:l@ue", &s));
        ASSERT_STREQ(s, "update:ttl:1000:@bob:shared_key@alice v a:l@ue");
        ASSERT_OK(at_verb_format_update("public:publickey@alice", NULL, "MIIB", &t));
        ASSERT_STREQ(t, "update:public:publickey@alice MIIB");

        char *u = NULL;
        ASSERT_ERR(at_verb_format_update("a b@alice", NULL, "x", &u), -EINVAL);
        ASSERT_ERR(at_verb_format_update("k@alice", NULL, "x\ny", &u), -EINVAL);
        ASSERT_ERR(at_verb_format_update("k@alice", NULL, "", &u), -EINVAL);
}

TEST(notify_command) {
        _cleanup_free_ char *s = NULL, *id = NULL;
        AtMetadata m = { .has_ttl = true, .ttl = 10000, .is_encrypted = AT_TRUE };
        ASSERT_OK(at_metadata_set(&m.iv_nonce, "IV=="));
        AtNotifyParams p = {
                .id = "0b1c-42", .ttln_ms = 60000, .metadata = &m,
                .key = "@bob:ping.dev.sshnp@alice", .value = "abc:def",
        };
        ASSERT_OK(at_verb_format_notify(&p, &s, &id));
        ASSERT_STREQ(s, "notify:id:0b1c-42:update:messageType:key:ttln:60000:ttl:10000:isEncrypted:true:ivNonce:IV=="
                        ":@bob:ping.dev.sshnp@alice:abc:def");
        ASSERT_STREQ(id, "0b1c-42");
        at_metadata_done(&m);

        /* a fresh UUID v4 when no id is given; delete without value */
        _cleanup_free_ char *d = NULL, *id2 = NULL;
        AtNotifyParams q = { .operation = AT_NOTIFY_DELETE, .key = "@bob:x.ns@alice" };
        ASSERT_OK(at_verb_format_notify(&q, &d, &id2));
        ASSERT_TRUE(strlen(id2) == 36 && id2[14] == '4');
        _cleanup_free_ char *want = NULL;
        ASSERT_TRUE(asprintf(&want, "notify:id:%s:delete:messageType:key:@bob:x.ns@alice", id2) > 0);
        ASSERT_STREQ(d, want);

        /* the scope is required; ids are word characters */
        char *x = NULL;
        AtNotifyParams r = { .key = "x.ns@alice" };
        ASSERT_ERR(at_verb_format_notify(&r, &x, NULL), -EINVAL);
        AtNotifyParams t = { .key = "@bob:x@alice", .id = "a:b" };
        ASSERT_ERR(at_verb_format_notify(&t, &x, NULL), -EINVAL);
        AtNotifyParams u = { .key = "@bob:x@alice", .message_type = "blob" };
        ASSERT_ERR(at_verb_format_notify(&u, &x, NULL), -EINVAL);
}

TEST(scan_command) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        ASSERT_OK(at_verb_format_scan(NULL, false, &a));
        ASSERT_STREQ(a, "scan");
        ASSERT_OK(at_verb_format_scan("sshnp", true, &b));
        ASSERT_STREQ(b, "scan:showhidden:true sshnp");
        ASSERT_OK(at_verb_format_scan(".*\\.sshnp@", false, &c));
        ASSERT_STREQ(c, "scan .*\\.sshnp@");
        char *x = NULL;
        ASSERT_ERR(at_verb_format_scan("a b", false, &x), -EINVAL);
}

TEST(parse_all_answer) {
        const char *j = "{\"key\":\"shared_key.bob@alice\",\"data\":\"c2VjcmV0\","
                        "\"metaData\":{\"ttl\":0,\"isEncrypted\":false,\"createdAt\":\"2024-01-01 00:00:00.000Z\"}}";
        _cleanup_free_ char *v = NULL;
        AtMetadata m = {};
        ASSERT_OK(at_verb_parse_all(j, strlen(j), &v, &m));
        ASSERT_STREQ(v, "c2VjcmV0");
        ASSERT_TRUE(m.has_ttl && m.ttl == 0 && m.is_encrypted == AT_FALSE);
        ASSERT_STREQ(m.created_at, "2024-01-01 00:00:00.000Z");
        at_metadata_done(&m);

        char *w = NULL;
        ASSERT_ERR(at_verb_parse_all("{\"data\":null}", 13, &w, NULL), -ENOENT);
        ASSERT_ERR(at_verb_parse_all("{\"data\":5}", 10, &w, NULL), -EBADMSG);
        ASSERT_ERR(at_verb_parse_all("not json", 8, &w, NULL), -EBADMSG);
        ASSERT_ERR(at_verb_parse_all("{\"data\":\"x\",\"metaData\":{\"ttl\":[]}}", 33, &w, NULL), -EBADMSG);
}

int main(void) {
        RUN(empty_metadata_renders_nothing);
        RUN(fields_render_in_server_order);
        RUN(values_the_syntax_cannot_carry_are_refused);
        RUN(metadata_from_json);
        RUN(update_command);
        RUN(notify_command);
        RUN(scan_command);
        RUN(parse_all_answer);
        return 0;
}
