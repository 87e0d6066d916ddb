/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secure.h"
#include "server.h"
#include "store.h"
#include "tests.h"

static char dir[] = "/tmp/test-store-XXXXXX";
static char path[256];

static AtsStore *open_store(void) {
        AtsStore *s = NULL;
        ASSERT_OK(ats_store_open(path, &s));
        return s;
}

TEST(put_get_survives_reopen) {
        AtsStore *s = open_store();
        AtsMetadata m;
        int64_t c1 = 0, c2 = 0;
        ats_metadata_init(&m);
        ASSERT_OK(ats_store_atsign_add(s, "@alice", "secret", NULL, 0));
        ASSERT_ERR(ats_store_atsign_add(s, "@alice", "secret", NULL, 0), -EEXIST);
        m.is_encrypted = 1;
        m.iv_nonce = "aXY=";
        ASSERT_OK(ats_store_put(s, "@alice", "@bob:k@alice", "v1", &m, "@alice", 1000, &c1));
        ats_metadata_init(&m);
        ASSERT_OK(ats_store_put(s, "@alice", "@bob:k@alice", "v2", &m, "@alice", 2000, &c2));
        ASSERT_TRUE(c2 == c1 + 1);
        ats_store_free(s);

        s = open_store();
        AtsRecord *r = NULL;
        ASSERT_OK(ats_store_get(s, "@alice", "@bob:k@alice", 3000, &r));
        ASSERT_STREQ(r->value, "v2");
        /* metadata not mentioned in an update is kept */
        ASSERT_STREQ(json_string_value(json_object_get(r->meta, "ivNonce")), "aXY=");
        ASSERT_TRUE(r->created_at == 1000 && r->updated_at == 2000 && r->version == 1);
        ats_record_free(r);
        char *secret = NULL;
        ASSERT_OK(ats_store_cram_secret(s, "@alice", &secret));
        ASSERT_STREQ(secret, "secret");
        at_secure_free(secret);
        ASSERT_OK(ats_store_cram_secret_delete(s, "@alice"));
        ASSERT_ERR(ats_store_cram_secret(s, "@alice", &secret), -ENOENT);
        ats_store_free(s);
}

TEST(ttl_and_ttb) {
        AtsStore *s = open_store();
        AtsMetadata m;
        AtsRecord *r = NULL;
        char **keys = NULL;
        ats_metadata_init(&m);
        m.ttl = 500;
        ASSERT_OK(ats_store_put(s, "@alice", "temp@alice", "x", &m, NULL, 10000, NULL));
        ASSERT_OK(ats_store_get(s, "@alice", "temp@alice", 10499, &r));
        ats_record_free(r);
        r = NULL;
        ASSERT_TRUE(r == NULL);
        ASSERT_OK(ats_store_keys(s, "@alice", 10499, &keys));
        bool found = false;
        for (char **k = keys; *k; k++)
                found |= strcmp(*k, "temp@alice") == 0;
        ASSERT_TRUE(found);
        strv_free(keys);
        ASSERT_ERR(ats_store_get(s, "@alice", "temp@alice", 10500, &r), -ENOENT);
        /* the lazy check removed it for good */
        ASSERT_ERR(ats_store_get(s, "@alice", "temp@alice", 0, &r), -ENOENT);

        ats_metadata_init(&m);
        m.ttb = 1000;
        ASSERT_OK(ats_store_put(s, "@alice", "later@alice", "y", &m, NULL, 20000, NULL));
        ASSERT_ERR(ats_store_get(s, "@alice", "later@alice", 20999, &r), -ENOENT);
        ASSERT_OK(ats_store_get(s, "@alice", "later@alice", 21000, &r));
        ats_record_free(r);

        ats_metadata_init(&m);
        m.ttl = 10;
        ASSERT_OK(ats_store_put(s, "@alice", "sweep@alice", "z", &m, NULL, 30000, NULL));
        ASSERT_OK(ats_store_sweep(s, 30011));
        ASSERT_OK(ats_store_keys(s, "@alice", 0, &keys));
        for (char **k = keys; *k; k++)
                ASSERT_TRUE(strcmp(*k, "sweep@alice") != 0);
        strv_free(keys);
        ats_store_free(s);
}

/* metadata from another atServer's JSON may carry any int64 */
TEST(huge_ttl_ttb_ttr_do_not_overflow) {
        AtsStore *s = open_store();
        AtsMetadata m;
        AtsRecord *r = NULL;
        ats_metadata_init(&m);
        m.ttl = INT64_MAX;
        m.ttr = INT64_MAX;
        ASSERT_OK(ats_store_put(s, "@alice", "cached:@alice:huge@bob", "x", &m, "@bob", 1700000000000, NULL));
        ASSERT_OK(ats_store_get(s, "@alice", "cached:@alice:huge@bob", 1700000000001, &r));
        ASSERT_TRUE(r->expires_at == INT64_MAX);
        ASSERT_TRUE(r->refresh_at == INT64_MAX);
        ats_record_free(r);
        r = NULL;
        ats_metadata_init(&m);
        m.ttb = INT64_MAX - 5;
        m.ttl = INT64_MAX - 5;
        ASSERT_OK(ats_store_put(s, "@alice", "late@alice", "y", &m, NULL, 1700000000000, NULL));
        ASSERT_ERR(ats_store_get(s, "@alice", "late@alice", 1800000000000, &r), -ENOENT);
        ats_store_free(s);
}

TEST(notifications_expire_and_order) {
        AtsStore *s = open_store();
        AtsNotification n = {
                .id = (char *) "n1", .owner = (char *) "@bob", .type = ATS_NOTIFICATION_RECEIVED,
                .from = (char *) "@alice", .to = (char *) "@bob", .key = (char *) "@bob:k@alice",
                .value = (char *) "v", .operation = (char *) "update", .message_type = (char *) "key",
                .status = (char *) "delivered", .created_at = 100, .expires_at = 1100,
        };
        ASSERT_OK(ats_store_notification_add(s, &n));
        n.id = (char *) "n2";
        n.created_at = 200;
        n.expires_at = 0;
        ASSERT_OK(ats_store_notification_add(s, &n));
        AtsNotification **l = NULL;
        size_t count = 0;
        ASSERT_OK(ats_store_notifications(s, "@bob", -1, 0, 500, &l, &count));
        ASSERT_TRUE(count == 2);
        ASSERT_STREQ(l[0]->id, "n1");
        ats_notifications_free(l, count);
        /* since-epoch is exclusive; expired ones are gone */
        ASSERT_OK(ats_store_notifications(s, "@bob", -1, 100, 5000, &l, &count));
        ASSERT_TRUE(count == 1);
        ASSERT_STREQ(l[0]->id, "n2");
        json_t *j = ats_notification_to_json(l[0]);
        ASSERT_STREQ(json_string_value(json_object_get(j, "messageType")), "MessageType.key");
        ASSERT_STREQ(json_string_value(json_object_get(j, "from")), "@alice");
        ASSERT_TRUE(json_integer_value(json_object_get(j, "epochMillis")) == 200);
        json_decref(j);
        ats_notifications_free(l, count);
        ASSERT_OK(ats_store_sweep(s, 5000));
        AtsNotification *one = NULL;
        ASSERT_ERR(ats_store_notification_get(s, "@bob", "n1", &one), -ENOENT);
        ats_store_free(s);
}

TEST(notification_id_belongs_to_its_sender) {
        /* the same sender may store its notification again (status, retries); another atSign that
         * learnt the id must not replace it */
        AtsStore *s = open_store();
        AtsNotification n = {
                .id = (char *) "n1", .owner = (char *) "@bob", .type = ATS_NOTIFICATION_RECEIVED,
                .from = (char *) "@alice", .to = (char *) "@bob", .key = (char *) "@bob:k@alice",
                .value = (char *) "genuine", .operation = (char *) "update", .message_type = (char *) "key",
                .status = (char *) "delivered", .created_at = 100, .expires_at = 0,
        };
        ASSERT_OK(ats_store_notification_add(s, &n));
        n.status = (char *) "read";
        ASSERT_OK(ats_store_notification_add(s, &n));
        n.from = (char *) "@mallory";
        n.value = (char *) "forged";
        ASSERT_ERR(ats_store_notification_add(s, &n), -EEXIST);
        AtsNotification *one = NULL;
        ASSERT_OK(ats_store_notification_get(s, "@bob", "n1", &one));
        ASSERT_STREQ(one->from, "@alice");
        ASSERT_STREQ(one->value, "genuine");
        ASSERT_STREQ(one->status, "read");
        ats_notification_free(one);
        ats_store_free(s);
}

TEST(otp_is_single_use) {
        AtsStore *s = open_store();
        ASSERT_OK(ats_store_otp_put(s, "@alice", "ABC123", 1000));
        ASSERT_ERR(ats_store_otp_use(s, "@alice", "ABC123", 1000), -ENOENT); /* expired */
        ASSERT_OK(ats_store_otp_put(s, "@alice", "XYZ789", 5000));
        ASSERT_OK(ats_store_otp_use(s, "@alice", "XYZ789", 1000));
        ASSERT_ERR(ats_store_otp_use(s, "@alice", "XYZ789", 1000), -ENOENT);
        ats_store_free(s);
}

static AtsNotification received(const char *owner, const char *from, const char *key, const char *value,
                                const char *operation) {
        return (AtsNotification){
                .id = (char *) "n", .owner = (char *) owner, .type = ATS_NOTIFICATION_RECEIVED, .from = (char *) from,
                .to = (char *) owner, .key = (char *) key, .value = (char *) value, .operation = (char *) operation,
                .message_type = (char *) "key",
        };
}

static bool has_key(AtsStore *s, const char *atsign, const char *key) {
        AtsRecord *r = NULL;
        if (ats_store_get(s, atsign, key, ats_now_ms(), &r) < 0)
                return false;
        ats_record_free(r);
        return true;
}

/* upstream notify_verb_handler.dart: @d's update of a key shared with @c, with ttr, leaves
 * "cached:@c:<key>@d" in @c's store; a delete removes it only when cached with ccd */
TEST(shared_key_with_ttr_is_cached_and_cascade_deleted) {
        AtsServer srv = { .store = open_store() };
        AtsRecord *r = NULL;
        AtsMetadata m;
        AtsNotification n;

        ASSERT_OK(ats_store_atsign_add(srv.store, "@c", "secret", NULL, 0));
        ats_metadata_init(&m);
        m.ttr = -1;
        m.ccd = 1;
        m.iv_nonce = "aXY=";
        n = received("@c", "@d", "@c:device_info.dev.sshnp@d", "v1", "update");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &m));
        ASSERT_OK(ats_store_get(srv.store, "@c", "cached:@c:device_info.dev.sshnp@d", ats_now_ms(), &r));
        ASSERT_STREQ(r->value, "v1");
        ASSERT_STREQ(json_string_value(json_object_get(r->meta, "ivNonce")), "aXY=");
        ats_record_free(r);
        r = NULL;
        /* ttr -1: usable for lookups until told otherwise */
        ASSERT_OK(ats_cache_get(&srv, "@c", "@c:device_info.dev.sshnp@d", ats_now_ms() + 86400000LL, &r));
        ASSERT_STREQ(r->value, "v1");
        ats_record_free(r);
        r = NULL;

        /* a later update without value keeps the value, with value replaces it */
        n = received("@c", "@d", "@c:device_info.dev.sshnp@d", "v2", "update");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &m));
        ASSERT_OK(ats_cache_get(&srv, "@c", "@c:device_info.dev.sshnp@d", ats_now_ms(), &r));
        ASSERT_STREQ(r->value, "v2");
        ats_record_free(r);
        r = NULL;

        /* no ttr: not cached; keys not shared with the receiver or not owned by the sender: not cached */
        AtsMetadata plain;
        ats_metadata_init(&plain);
        n = received("@c", "@d", "@c:other.sshnp@d", "x", "update");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &plain));
        ASSERT_TRUE(!has_key(srv.store, "@c", "cached:@c:other.sshnp@d"));
        n = received("@c", "@x", "@c:forged.sshnp@d", "x", "update");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &m));
        ASSERT_TRUE(!has_key(srv.store, "@c", "cached:@c:forged.sshnp@d"));
        n = received("@c", "@d", "@e:notmine.sshnp@d", "x", "update");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &m));
        ASSERT_TRUE(!has_key(srv.store, "@c", "cached:@e:notmine.sshnp@d"));

        /* a positive ttr: stale once it has passed */
        AtsMetadata soon;
        ats_metadata_init(&soon);
        soon.ttr = 1000;
        n = received("@c", "@d", "@c:username.dev.sshnp@d", "alice", "update");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &soon));
        ASSERT_OK(ats_cache_get(&srv, "@c", "@c:username.dev.sshnp@d", ats_now_ms(), &r));
        ats_record_free(r);
        r = NULL;
        ASSERT_ERR(ats_cache_get(&srv, "@c", "@c:username.dev.sshnp@d", ats_now_ms() + 5000, &r), -ESTALE);
        ASSERT_ERR(ats_cache_get(&srv, "@c", "@c:missing@d", ats_now_ms(), &r), -ENOENT);

        /* delete: cascades only for ccd */
        n = received("@c", "@d", "@c:username.dev.sshnp@d", NULL, "delete");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &plain));
        ASSERT_TRUE(has_key(srv.store, "@c", "cached:@c:username.dev.sshnp@d"));
        n = received("@c", "@d", "@c:device_info.dev.sshnp@d", NULL, "delete");
        ASSERT_OK(ats_cache_on_notification(&srv, &n, &plain));
        ASSERT_TRUE(!has_key(srv.store, "@c", "cached:@c:device_info.dev.sshnp@d"));
        ats_store_free(srv.store);
}

TEST(metadata_json_round_trip) {
        AtsStore *s = open_store();
        AtsRecord *r = NULL;
        AtsMetadata m, back;
        ats_metadata_init(&m);
        m.ttl = 2592000000LL;
        m.ttr = -1;
        m.ccd = 1;
        m.is_encrypted = 1;
        m.shared_key_enc = "c2tl";
        ASSERT_OK(ats_store_atsign_add(s, "@d", "secret", NULL, 0));
        ASSERT_OK(ats_store_put(s, "@d", "@c:k@d", "v", &m, "@d", ats_now_ms(), NULL));
        ASSERT_OK(ats_store_get(s, "@d", "@c:k@d", ats_now_ms(), &r));
        ats_metadata_from_json(r->meta, &back);
        ASSERT_TRUE(back.ttl == 2592000000LL && back.ttr == -1 && back.ccd == 1 && back.is_encrypted == 1);
        ASSERT_TRUE(back.ttb == ATS_UNSET && back.is_binary == -1 && back.iv_nonce == NULL);
        ASSERT_STREQ(back.shared_key_enc, "c2tl");
        ats_record_free(r);
        ats_store_free(s);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/db", dir);
        RUN(put_get_survives_reopen);
        RUN(ttl_and_ttb);
        RUN(huge_ttl_ttb_ttr_do_not_overflow);
        RUN(notifications_expire_and_order);
        RUN(notification_id_belongs_to_its_sender);
        RUN(otp_is_single_use);
        RUN(shared_key_with_ttr_is_cached_and_cascade_deleted);
        RUN(metadata_json_round_trip);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void) system(cmd);
        return 0;
}
