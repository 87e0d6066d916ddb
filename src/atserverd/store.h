/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "command.h"
#include "macro.h"

/* The keystore of every hosted atSign, one SQLite database in WAL mode with synchronous=FULL:
 * a write returns only after its transaction is on disk, so what a client has been told is
 * stored survives SIGKILL and power loss. Times are milliseconds since the epoch; 0 = none. */

typedef struct AtsStore AtsStore;

int ats_store_open(const char *path, AtsStore **ret);
void ats_store_free(AtsStore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtsStore *, ats_store_free);

/* ---- hosted atSigns ---- */
typedef struct AtsAtsign {
        char *atsign; /* "@alice" */
        int port;
        char *signing_private; /* base64 PKCS#8 of the server's pol signing key for this atSign */
} AtsAtsign;

int ats_store_atsign_add(AtsStore *s, const char *atsign, const char *cram_secret,
                         const char *signing_private, int port);
int ats_store_atsign_set_port(AtsStore *s, const char *atsign, int port);
int ats_store_atsigns(AtsStore *s, AtsAtsign **ret, size_t *ret_n);
void ats_atsigns_free(AtsAtsign *a, size_t n);
/* CRAM secret, secure memory; -ENOENT once deleted */
int ats_store_cram_secret(AtsStore *s, const char *atsign, char **ret);
int ats_store_cram_secret_delete(AtsStore *s, const char *atsign);
int ats_store_next_commit(AtsStore *s, const char *atsign, int64_t *ret);

/* ---- keys ---- */
typedef struct AtsRecord {
        char *key;
        char *value;
        json_t *meta; /* the metadata fields as upstream names them (ttl, ccd, ivNonce, ...) */
        int64_t created_at, updated_at, available_at, expires_at, refresh_at;
        int64_t version;
} AtsRecord;

void ats_record_free(AtsRecord *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtsRecord *, ats_record_free);

/* Creates or replaces key (already normalised: lower-case, full name) merging metadata with
 * the existing record's; returns the atSign's new commit id. */
int ats_store_put(AtsStore *s, const char *atsign, const char *key, const char *value,
                  const AtsMetadata *m, const char *created_by, int64_t now, int64_t *ret_commit);
/* Metadata only (update:meta); -ENOENT if the key does not exist. */
int ats_store_put_meta(AtsStore *s, const char *atsign, const char *key, const AtsMetadata *m,
                       int64_t now, int64_t *ret_commit);
/* -ENOENT if missing, expired (then removed) or not yet born (ttb). */
int ats_store_get(AtsStore *s, const char *atsign, const char *key, int64_t now, AtsRecord **ret);
int ats_store_delete(AtsStore *s, const char *atsign, const char *key, int64_t *ret_commit);
/* Every live key of atsign, sorted; NULL-terminated. */
int ats_store_keys(AtsStore *s, const char *atsign, int64_t now, char ***ret);
/* Removes expired keys, notifications, OTPs and stale enrolment requests. */
int ats_store_sweep(AtsStore *s, int64_t now);

/* The inverse of the merge ats_store_put does: a record's metadata JSON as AtsMetadata; the
 * strings point into o. */
void ats_metadata_from_json(json_t *o, AtsMetadata *m);

/* AtData JSON as upstream's llookup:all returns it / AtMetaData JSON for :meta */
json_t *ats_record_to_json(const AtsRecord *r, const char *atsign, bool with_data);

/* ---- notifications ---- */
typedef enum AtsNotificationType {
        ATS_NOTIFICATION_SENT,
        ATS_NOTIFICATION_RECEIVED,
        ATS_NOTIFICATION_SELF,
} AtsNotificationType;

typedef struct AtsNotification {
        char *id;
        char *owner; /* the hosted atSign whose store holds it */
        AtsNotificationType type;
        char *from, *to; /* "@alice" */
        char *key;       /* the full key, e.g. "@bob:ping.dev.sshnp@alice" */
        char *value;     /* may be NULL */
        char *operation; /* "update" / "delete" */
        char *message_type; /* "key" / "text" */
        bool is_encrypted;
        json_t *meta; /* encKeyName, encAlgo, ivNonce, skeEncKeyName, skeEncAlgo, sharedKeyEnc, ... */
        char *status; /* queued, delivered, errored, expired */
        int64_t created_at, expires_at;
        int retries;
        char *command; /* for sent ones: the notify command body to forward */
} AtsNotification;

void ats_notification_free(AtsNotification *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtsNotification *, ats_notification_free);

int ats_store_notification_add(AtsStore *s, const AtsNotification *n);
int ats_store_notification_get(AtsStore *s, const char *owner, const char *id, AtsNotification **ret);
int ats_store_notification_set_status(AtsStore *s, const char *owner, const char *id,
                                      const char *status, int retries);
int ats_store_notification_delete(AtsStore *s, const char *owner, const char *id);
/* Notifications of owner of the given type created after since (exclusive), oldest first, not
 * expired; type < 0 = received and self. */
int ats_store_notifications(AtsStore *s, const char *owner, int type, int64_t since, int64_t now,
                            AtsNotification ***ret, size_t *ret_n);
/* Sent notifications still queued (to forward after a restart). */
int ats_store_notifications_queued(AtsStore *s, int64_t now, AtsNotification ***ret, size_t *ret_n);
void ats_notifications_free(AtsNotification **l, size_t n);
/* JSON as monitor and notify:list show a notification (monitor_verb_handler.dart Notification). */
json_t *ats_notification_to_json(const AtsNotification *n);

/* ---- enrolments (APKAM) and OTPs ---- */
typedef struct AtsEnrollment {
        char *id;
        char *atsign;
        char *app_name, *device_name;
        json_t *namespaces; /* {"ns":"rw"} */
        char *apkam_public_key;
        char *encrypted_apkam_symmetric_key;
        char *status; /* pending, approved, denied, revoked */
        int64_t created_at, expires_at;
} AtsEnrollment;

void ats_enrollment_free(AtsEnrollment *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtsEnrollment *, ats_enrollment_free);
int ats_store_enrollment_put(AtsStore *s, const AtsEnrollment *e);
int ats_store_enrollment_get(AtsStore *s, const char *atsign, const char *id, AtsEnrollment **ret);
int ats_store_enrollments(AtsStore *s, const char *atsign, AtsEnrollment ***ret, size_t *ret_n);
void ats_enrollments_free(AtsEnrollment **l, size_t n);

int ats_store_otp_put(AtsStore *s, const char *atsign, const char *otp, int64_t expires_at);
/* Consumes the OTP if valid (a one-time code is used once); -ENOENT otherwise. */
int ats_store_otp_use(AtsStore *s, const char *atsign, const char *otp, int64_t now);

/* dd-mm formatting of times as Dart's DateTime.toUtc().toString() does */
char *ats_format_time(int64_t ms);
