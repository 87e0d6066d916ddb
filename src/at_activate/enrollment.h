/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "macro.h"

/* The JSON of the APKAM "enroll" verb family, as at_commons EnrollVerbBuilder writes it and
 * at_secondary_server's enroll_verb_handler.dart answers it. Pure functions: no I/O. Server
 * answers are hostile input: every field is type-checked and bounded. */

#define ENROLLMENT_ID_MAX 64
#define ENROLLMENT_NAME_MAX 100

/* enroll:request:{json}. Fields left NULL (or 0) are omitted, in upstream's order
 * (at_commons verb/enroll_params.g.dart): appName, deviceName, namespaces, otp,
 * encryptedDefaultEncryptionPrivateKey, encryptedDefaultSelfEncryptionKey,
 * encryptedAPKAMSymmetricKey, apkamPublicKey, apkamKeysExpiryInMillis. */
typedef struct EnrollRequest {
        const char *app_name;
        const char *device_name;
        const json_t *namespaces; /* object {"ns":"rw"} or NULL */
        const char *otp;
        const char *encrypted_default_encryption_private_key;
        const char *encrypted_default_self_encryption_key;
        const char *encrypted_apkam_symmetric_key;
        const char *apkam_public_key;
        int64_t apkam_keys_expiry_ms; /* 0: not sent */
} EnrollRequest;

int enroll_request_command(const EnrollRequest *request, char **ret);

/* enroll:approve:{"enrollmentId","encryptedDefaultEncryptionPrivateKey","encryptedDefaultSelfEncryptionKey"} */
int enroll_approve_command(const char *id, const char *encrypted_private_key, const char *encrypted_self_key,
                           char **ret);
/* enroll:<operation>[:force]:{"enrollmentId":"<id>"} for deny, revoke, fetch */
int enroll_simple_command(const char *operation, const char *id, bool force, char **ret);
/* enroll:list or enroll:list:{"enrollmentStatusFilter":["<status>"]} */
int enroll_list_command(const char *status_filter, char **ret);

/* "sshnp:rw,sshrvd:r" -> {"sshnp":"rw","sshrvd":"r"}; blanks and double quotes around names
 * are ignored as upstream does; -EINVAL for an empty list, a bad name or permission. */
int enroll_namespaces_parse(const char *text, json_t **ret);

/* Enrollment ids come from the server and go back into commands: 1..64 of [A-Za-z0-9_-]. */
bool enrollment_id_is_valid(const char *id);
/* App and device names: 1..100 of [A-Za-z0-9_-] (they become part of key names). */
bool enrollment_name_is_valid(const char *name);

/* {"enrollmentId":"..","status":".."} (the answer of request/approve/deny/revoke) */
int enroll_response_parse(const char *data, char **ret_id, char **ret_status);

typedef struct EnrollmentInfo {
        char *id;
        char *app_name;
        char *device_name;
        char *namespaces;  /* compact JSON text of the "namespace" object, for display */
        char *encrypted_apkam_symmetric_key; /* NULL when the server has none (first enrollment) */
        char *status;
} EnrollmentInfo;

void enrollment_info_done(EnrollmentInfo *info);
void enrollment_info_array_free(EnrollmentInfo *infos, size_t n);

/* enroll:fetch answer: {"appName","deviceName","namespace","encryptedAPKAMSymmetricKey","status"} */
int enrollment_info_parse(const char *data, const char *id, EnrollmentInfo *ret);
/* enroll:list answer: {"<id>.new.enrollments.__manage@alice": {...}, ...} */
int enrollment_list_parse(const char *data, EnrollmentInfo **ret, size_t *ret_n);

/* keys:get answer {"value":"<base64>"} -> the value */
int enroll_keys_value_parse(const char *data, char **ret);
