/* SPDX-License-Identifier: BSD-3-Clause */
/* The enroll verb family's JSON: what at_activate sends must match upstream's field order, and
 * what it reads from a server is hostile input. */
#include "enrollment.h"
#include "macro.h"
#include "tests.h"

TEST(first_enrollment_request_has_upstream_field_order) {
        _cleanup_free_ char *c = NULL;

        ASSERT_OK(enroll_request_command(&(EnrollRequest) {
                                                 .app_name = "firstApp",
                                                 .device_name = "firstDevice",
                                                 .encrypted_default_encryption_private_key = "EPK",
                                                 .encrypted_default_self_encryption_key = "ESK",
                                                 .apkam_public_key = "PUB",
                                         },
                                         &c));
        ASSERT_STREQ(c, "enroll:request:{\"appName\":\"firstApp\",\"deviceName\":\"firstDevice\","
                        "\"encryptedDefaultEncryptionPrivateKey\":\"EPK\",\"encryptedDefaultSelfEncryptionKey\":\"ESK\","
                        "\"apkamPublicKey\":\"PUB\"}");
}

TEST(new_device_request_carries_otp_namespaces_and_expiry) {
        _cleanup_free_ char *c = NULL;
        json_t *ns = NULL;

        ASSERT_OK(enroll_namespaces_parse("sshnp:rw, \"sshrvd\":r", &ns));
        ASSERT_OK(enroll_request_command(&(EnrollRequest) {
                                                 .app_name = "noports",
                                                 .device_name = "dev_2",
                                                 .namespaces = ns,
                                                 .otp = "HQ5Q31",
                                                 .encrypted_apkam_symmetric_key = "EAK",
                                                 .apkam_public_key = "PUB",
                                                 .apkam_keys_expiry_ms = 60000,
                                         },
                                         &c));
        ASSERT_STREQ(c, "enroll:request:{\"appName\":\"noports\",\"deviceName\":\"dev_2\","
                        "\"namespaces\":{\"sshnp\":\"rw\",\"sshrvd\":\"r\"},\"otp\":\"HQ5Q31\","
                        "\"encryptedAPKAMSymmetricKey\":\"EAK\",\"apkamPublicKey\":\"PUB\","
                        "\"apkamKeysExpiryInMillis\":60000}");
        json_decref(ns);
}

TEST(request_refuses_names_that_would_break_key_names) {
        _cleanup_free_ char *c = NULL;

        ASSERT_ERR(enroll_request_command(&(EnrollRequest) { .app_name = "a.b", .device_name = "d",
                                                             .apkam_public_key = "P" }, &c), -EINVAL);
        ASSERT_ERR(enroll_request_command(&(EnrollRequest) { .app_name = "a", .device_name = "d:x",
                                                             .apkam_public_key = "P" }, &c), -EINVAL);
        ASSERT_ERR(enroll_request_command(&(EnrollRequest) { .app_name = "a", .device_name = "",
                                                             .apkam_public_key = "P" }, &c), -EINVAL);
        ASSERT_TRUE(c == NULL);
}

TEST(namespaces_parse_rejects_bad_lists) {
        json_t *ns = NULL;

        ASSERT_ERR(enroll_namespaces_parse("", &ns), -EINVAL);
        ASSERT_ERR(enroll_namespaces_parse("sshnp", &ns), -EINVAL);
        ASSERT_ERR(enroll_namespaces_parse("sshnp:w", &ns), -EINVAL);
        ASSERT_ERR(enroll_namespaces_parse("sshnp:rwx", &ns), -EINVAL);
        ASSERT_ERR(enroll_namespaces_parse(":rw", &ns), -EINVAL);
        ASSERT_ERR(enroll_namespaces_parse("a b:rw", &ns), -EINVAL);
        ASSERT_TRUE(ns == NULL);
        ASSERT_OK(enroll_namespaces_parse("sshnp:rw,", &ns));
        ASSERT_TRUE(json_object_size(ns) == 1);
        json_decref(ns);
}

TEST(decision_commands) {
        _cleanup_free_ char *a = NULL, *d = NULL, *r = NULL, *f = NULL, *l = NULL, *l2 = NULL;

        ASSERT_OK(enroll_approve_command("id-1", "EPK", "ESK", &a));
        ASSERT_STREQ(a, "enroll:approve:{\"enrollmentId\":\"id-1\",\"encryptedDefaultEncryptionPrivateKey\":\"EPK\","
                        "\"encryptedDefaultSelfEncryptionKey\":\"ESK\"}");
        ASSERT_OK(enroll_simple_command("deny", "id-1", false, &d));
        ASSERT_STREQ(d, "enroll:deny:{\"enrollmentId\":\"id-1\"}");
        ASSERT_OK(enroll_simple_command("revoke", "id-1", true, &r));
        ASSERT_STREQ(r, "enroll:revoke:force:{\"enrollmentId\":\"id-1\"}");
        ASSERT_OK(enroll_simple_command("fetch", "id-1", false, &f));
        ASSERT_STREQ(f, "enroll:fetch:{\"enrollmentId\":\"id-1\"}");
        ASSERT_OK(enroll_list_command(NULL, &l));
        ASSERT_STREQ(l, "enroll:list");
        ASSERT_OK(enroll_list_command("pending", &l2));
        ASSERT_STREQ(l2, "enroll:list:{\"enrollmentStatusFilter\":[\"pending\"]}");
        /* an id that could inject JSON or protocol syntax is refused */
        ASSERT_FAIL(enroll_simple_command("deny", "x\",\"a", false, &d));
        ASSERT_FAIL(enroll_simple_command("delete", "id", false, &d));
}

TEST(response_parse_checks_types_and_ids) {
        _cleanup_free_ char *id = NULL, *status = NULL;

        ASSERT_OK(enroll_response_parse("{\"enrollmentId\":\"0b7e6a3c-1f2d-4c4e-9a7b-2f7b1d8e4c11\",\"status\":\"pending\"}",
                                        &id, &status));
        ASSERT_STREQ(id, "0b7e6a3c-1f2d-4c4e-9a7b-2f7b1d8e4c11");
        ASSERT_STREQ(status, "pending");
        ASSERT_ERR(enroll_response_parse("{\"enrollmentId\":7,\"status\":\"pending\"}", NULL, NULL), -EBADMSG);
        ASSERT_ERR(enroll_response_parse("{\"enrollmentId\":\"a:b\",\"status\":\"pending\"}", NULL, NULL), -EBADMSG);
        ASSERT_ERR(enroll_response_parse("{\"enrollmentId\":\"a\"}", NULL, NULL), -EBADMSG);
        ASSERT_ERR(enroll_response_parse("[1]", NULL, NULL), -EBADMSG);
        ASSERT_ERR(enroll_response_parse("not json", NULL, NULL), -EBADMSG);
        ASSERT_ERR(enroll_response_parse("{\"enrollmentId\":\"a\\u0000b\",\"status\":\"x\"}", NULL, NULL), -EBADMSG);
}

TEST(list_parse_takes_ids_from_keys_and_sorts) {
        EnrollmentInfo *infos = NULL;
        size_t n = 0;

        ASSERT_OK(enrollment_list_parse(
                "{\"b2.new.enrollments.__manage@alice\":{\"appName\":\"noports\",\"deviceName\":\"d2\","
                "\"namespace\":{\"sshnp\":\"rw\"},\"encryptedAPKAMSymmetricKey\":\"K\",\"status\":\"pending\"},"
                "\"a1.new.enrollments.__manage@alice\":{\"appName\":\"firstApp\",\"deviceName\":\"firstDevice\","
                "\"namespace\":{\"__manage\":\"rw\",\"*\":\"rw\"},\"encryptedAPKAMSymmetricKey\":null,\"status\":\"approved\"}}",
                &infos, &n));
        ASSERT_TRUE(n == 2);
        ASSERT_STREQ(infos[0].id, "a1");
        ASSERT_TRUE(infos[0].encrypted_apkam_symmetric_key == NULL);
        ASSERT_STREQ(infos[0].namespaces, "{\"__manage\":\"rw\",\"*\":\"rw\"}");
        ASSERT_STREQ(infos[1].id, "b2");
        ASSERT_STREQ(infos[1].encrypted_apkam_symmetric_key, "K");
        ASSERT_STREQ(infos[1].status, "pending");
        enrollment_info_array_free(infos, n);

        ASSERT_OK(enrollment_list_parse("{}", &infos, &n));
        ASSERT_TRUE(n == 0);
        enrollment_info_array_free(infos, n);

        ASSERT_ERR(enrollment_list_parse("{\".x\":{}}", &infos, &n), -EBADMSG);
        ASSERT_ERR(enrollment_list_parse("{\"a1.x\":{\"appName\":1}}", &infos, &n), -EBADMSG);
        ASSERT_ERR(enrollment_list_parse("{\"a1.x\":{\"appName\":\"a\",\"deviceName\":\"d\",\"status\":\"s\","
                                         "\"namespace\":[]}}", &infos, &n), -EBADMSG);
}

TEST(keys_value_parse) {
        _cleanup_free_ char *v = NULL;

        ASSERT_OK(enroll_keys_value_parse("{\"value\":\"abc=\"}", &v));
        ASSERT_STREQ(v, "abc=");
        ASSERT_ERR(enroll_keys_value_parse("{\"value\":\"\"}", &v), -EBADMSG);
        ASSERT_ERR(enroll_keys_value_parse("{\"value\":null}", &v), -EBADMSG);
        ASSERT_ERR(enroll_keys_value_parse("{}", &v), -EBADMSG);
}

int main(void) {
        RUN(first_enrollment_request_has_upstream_field_order);
        RUN(new_device_request_carries_otp_namespaces_and_expiry);
        RUN(request_refuses_names_that_would_break_key_names);
        RUN(namespaces_parse_rejects_bad_lists);
        RUN(decision_commands);
        RUN(response_parse_checks_types_and_ids);
        RUN(list_parse_takes_ids_from_keys_and_sorts);
        RUN(keys_value_parse);
        return 0;
}
