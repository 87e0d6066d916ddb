/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secure.h"
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

TEST(otp_is_single_use) {
        AtsStore *s = open_store();
        ASSERT_OK(ats_store_otp_put(s, "@alice", "ABC123", 1000));
        ASSERT_ERR(ats_store_otp_use(s, "@alice", "ABC123", 1000), -ENOENT); /* expired */
        ASSERT_OK(ats_store_otp_put(s, "@alice", "XYZ789", 5000));
        ASSERT_OK(ats_store_otp_use(s, "@alice", "XYZ789", 1000));
        ASSERT_ERR(ats_store_otp_use(s, "@alice", "XYZ789", 1000), -ENOENT);
        ats_store_free(s);
}

int main(void) {
        ASSERT_OK(at_secure_init());
        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/db", dir);
        RUN(put_get_survives_reopen);
        RUN(ttl_and_ttb);
        RUN(notifications_expire_and_order);
        RUN(otp_is_single_use);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void) system(cmd);
        return 0;
}
