/* SPDX-License-Identifier: BSD-3-Clause */
/* APKAM: enroll request/approve/deny/revoke/list/fetch, otp:get/put and keys:get, after
 * at_server's enroll_verb_handler.dart, otp_verb_handler.dart and keys_verb_handler.dart. */
#include <ctype.h>
#include <string.h>

#include "aes.h"
#include "log.h"
#include "secure.h"
#include "server.h"

#define ENROLL_PENDING_TTL_MS (48LL * 60 * 60 * 1000)
#define OTP_DEFAULT_TTL_MS (5LL * 60 * 1000)

static void reply_json(AtsSession *ss, json_t *o) {
        char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!j) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        ats_reply_data(ss, j);
        free(j);
}

static bool has_manage(AtsSession *ss) {
        if (!ss->authenticated)
                return false;
        if (!ss->enrollment_id)
                return true; /* CRAM or legacy PKAM */
        _cleanup_(ats_enrollment_freep) AtsEnrollment *e = NULL;
        if (ats_store_enrollment_get(ss->server->store, ss->hosted->atsign, ss->enrollment_id, &e) < 0)
                return false;
        json_t *m = json_object_get(e->namespaces, "__manage");
        return streq(e->status, "approved") && json_is_string(m) && strchr(json_string_value(m), 'w');
}

static const char *str_field(json_t *o, const char *name, size_t max) {
        json_t *v = json_object_get(o, name);
        const char *s = json_string_value(v);
        return s && strlen(s) <= max ? s : NULL;
}

static int put_manage_key(AtsSession *ss, const char *id, const char *name, const char *value) {
        _cleanup_free_ char *key = NULL;
        AtsMetadata m;
        ats_metadata_init(&m);
        if (asprintf(&key, "%s.%s.__manage%s", id, name, ss->hosted->atsign) < 0)
                return -ENOMEM;
        for (char *p = key; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return ats_store_put(ss->server->store, ss->hosted->atsign, key, value, &m, ss->hosted->atsign, ats_now_ms(), NULL);
}

static void enroll_request(AtsSession *ss, json_t *p) {
        AtsServer *s = ss->server;
        const char *app = str_field(p, "appName", 256), *device = str_field(p, "deviceName", 256),
                   *apkam = str_field(p, "apkamPublicKey", 4096), *otp = str_field(p, "otp", 64),
                   *sym = str_field(p, "encryptedAPKAMSymmetricKey", 4096);
        json_t *ns = json_object_get(p, "namespaces");
        char id[37];
        int64_t now = ats_now_ms();
        int r;

        if (!app || !device || !apkam) {
                ats_reply_error(ss, "AT0022", "appName, deviceName and apkamPublicKey are mandatory");
                return;
        }
        if (ns && !json_is_object(ns)) {
                ats_reply_error(ss, "AT0022", "namespaces must be an object");
                return;
        }
        bool auto_approve = ss->authenticated && (ss->cram || has_manage(ss));
        if (!auto_approve) {
                if (!otp || ats_store_otp_use(s->store, ss->hosted->atsign, otp, now) < 0) {
                        log_notice("refused: enroll request with invalid otp atsign=%s peer=%s", ss->hosted->atsign,
                                   ats_conn_peer(ss->conn));
                        ats_reply_error(ss, "AT0011", "invalid otp. Cannot process enroll request");
                        /* one guess per connection: a 6-character passcode must not be
                         * brute-forced at the speed of a pipelined stream of requests */
                        if (!ss->authenticated)
                                ats_conn_close(ss->conn);
                        return;
                }
        }
        ats_uuid(id);
        _cleanup_(json_decrefp) json_t *namespaces = auto_approve && ss->cram
                ? json_pack("{s:s, s:s}", "__manage", "rw", "*", "rw")
                : (ns ? json_deep_copy(ns) : json_object());
        AtsEnrollment e = {
                .id = id,
                .atsign = ss->hosted->atsign,
                .app_name = (char *) app,
                .device_name = (char *) device,
                .namespaces = namespaces,
                .apkam_public_key = (char *) apkam,
                .encrypted_apkam_symmetric_key = (char *) sym,
                .status = (char *) (auto_approve ? "approved" : "pending"),
                .created_at = now,
                .expires_at = auto_approve ? 0 : now + ENROLL_PENDING_TTL_MS,
        };
        r = ats_store_enrollment_put(s->store, &e);
        if (r >= 0 && auto_approve) {
                AtsMetadata m;
                ats_metadata_init(&m);
                const char *priv = str_field(p, "encryptedDefaultEncryptionPrivateKey", 16384),
                           *self = str_field(p, "encryptedDefaultSelfEncryptionKey", 4096);
                if (priv)
                        r = put_manage_key(ss, id, "default_enc_private_key", priv);
                if (r >= 0 && self)
                        r = put_manage_key(ss, id, "default_self_enc_key", self);
                /* the first enrollment's key is also the legacy PKAM key */
                if (r >= 0 && ss->cram)
                        r = ats_store_put(s->store, ss->hosted->atsign, "privatekey:at_pkam_publickey", apkam, &m,
                                          ss->hosted->atsign, now, NULL);
        }
        if (r >= 0 && !auto_approve) {
                /* the managers learn of it by a self notification "<id>.new.enrollments.__manage" */
                json_t *v = json_pack("{s:s?, s:s, s:s, s:O}", "encryptedApkamSymmetricKey", sym, "appName", app,
                                      "deviceName", device, "namespace", namespaces);
                char *vs = v ? json_dumps(v, JSON_COMPACT) : NULL;
                json_decref(v);
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "%s.new.enrollments.__manage%s", id, ss->hosted->atsign) >= 0 && vs) {
                        char nid[37];
                        ats_uuid(nid);
                        AtsNotification n = {
                                .id = nid, .owner = ss->hosted->atsign, .type = ATS_NOTIFICATION_SELF,
                                .from = ss->hosted->atsign, .to = ss->hosted->atsign, .key = key, .value = vs,
                                .operation = (char *) "update", .message_type = (char *) "key",
                                .status = (char *) "delivered", .created_at = now,
                                .expires_at = now + ENROLL_PENDING_TTL_MS,
                        };
                        (void) ats_notifier_deliver_local(s, &n);
                }
                free(vs);
        }
        if (r < 0) {
                ats_reply_error(ss, "AT0002", "failed to store the enrollment");
                return;
        }
        if (auto_approve && !ss->enrollment_id)
                ss->enrollment_id = strdup(id);
        log_info("enrollment %s %s atsign=%s app=%s device=%s", id, e.status, ss->hosted->atsign, app, device);
        reply_json(ss, json_pack("{s:s, s:s}", "enrollmentId", id, "status", e.status));
}

static json_t *enrollment_json(const AtsEnrollment *e) {
        return json_pack("{s:s?, s:s?, s:O, s:s?, s:s}", "appName", e->app_name, "deviceName", e->device_name,
                         "namespace", e->namespaces ? e->namespaces : json_object(), "encryptedAPKAMSymmetricKey",
                         e->encrypted_apkam_symmetric_key, "status", e->status);
}

static void enroll_change(AtsSession *ss, const char *op, bool force, json_t *p) {
        _cleanup_(ats_enrollment_freep) AtsEnrollment *e = NULL;
        const char *id = str_field(p, "enrollmentId", 64);
        if (!id) {
                ats_reply_error(ss, "AT0022", "enrollmentId is mandatory for enroll:%s", op);
                return;
        }
        if (ats_store_enrollment_get(ss->server->store, ss->hosted->atsign, id, &e) < 0) {
                ats_reply_error(ss, "AT0028", "enrollment_id: %s is expired or invalid", id);
                return;
        }
        if (streq(op, "fetch")) {
                reply_json(ss, enrollment_json(e));
                return;
        }
        const char *next = streq(op, "approve") ? "approved"
                         : streq(op, "deny")    ? "denied"
                         : streq(op, "revoke")  ? "revoked"
                         : streq(op, "unrevoke") ? "approved"
                                                : NULL;
        if (!next) {
                ats_reply_error(ss, "AT0022", "enroll:%s is not supported", op);
                return;
        }
        bool allowed = (streq(op, "approve") || streq(op, "deny")) ? streq(e->status, "pending")
                     : streq(op, "revoke")                          ? streq(e->status, "approved")
                                                                    : streq(e->status, "revoked");
        if (!allowed) {
                ats_reply_error(ss, "AT0030", "Failed to %s enrollment id: %s. Cannot %s a %s enrollment", op, id, op,
                                e->status);
                return;
        }
        if (streq(op, "revoke") && ss->enrollment_id && streq(ss->enrollment_id, id) && !force) {
                ats_reply_error(ss, "AT0031", "Current client cannot revoke its own enrollment");
                return;
        }
        int r = 0;
        if (streq(op, "approve")) {
                const char *priv = str_field(p, "encryptedDefaultEncryptionPrivateKey", 16384),
                           *self = str_field(p, "encryptedDefaultSelfEncryptionKey", 4096);
                if (priv)
                        r = put_manage_key(ss, id, "default_enc_private_key", priv);
                if (r >= 0 && self)
                        r = put_manage_key(ss, id, "default_self_enc_key", self);
        }
        free(e->status);
        e->status = strdup(next);
        e->expires_at = 0;
        if (r >= 0)
                r = e->status ? ats_store_enrollment_put(ss->server->store, e) : -ENOMEM;
        if (r < 0) {
                ats_reply_error(ss, "AT0002", "failed to store the enrollment");
                return;
        }
        log_info("enrollment %s %s atsign=%s peer=%s", id, next, ss->hosted->atsign, ats_conn_peer(ss->conn));
        if (streq(next, "revoked"))
                /* enroll_verb_handler.dart _dropRevokedClientConnection */
                for (AtsSession *o = ss->server->sessions; o; o = o->next)
                        if (o != ss && o->hosted == ss->hosted && o->enrollment_id && streq(o->enrollment_id, id))
                                ats_conn_close(o->conn);
        reply_json(ss, json_pack("{s:s, s:s}", "status", next, "enrollmentId", id));
}

static void enroll_list(AtsSession *ss, json_t *p) {
        AtsEnrollment **l = NULL;
        size_t n = 0;
        json_t *filter = json_object_get(p, "enrollmentStatusFilter");
        if (ats_store_enrollments(ss->server->store, ss->hosted->atsign, &l, &n) < 0) {
                ats_reply_error(ss, "AT0002", "failed to read enrollments");
                return;
        }
        json_t *o = json_object();
        for (size_t i = 0; o && i < n; i++) {
                if (json_is_array(filter) && json_array_size(filter) > 0) {
                        bool match = false;
                        size_t k;
                        json_t *v;
                        json_array_foreach(filter, k, v) if (json_is_string(v) && streq(json_string_value(v), l[i]->status))
                                match = true;
                        if (!match)
                                continue;
                }
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "%s.new.enrollments.__manage%s", l[i]->id, ss->hosted->atsign) < 0)
                        continue;
                json_object_set_new(o, key, enrollment_json(l[i]));
        }
        ats_enrollments_free(l, n);
        reply_json(ss, o);
}

void ats_verb_enroll(AtsSession *ss, AtsCommand *c) {
        _cleanup_(json_decrefp) json_t *p = NULL;
        if (c->params) {
                if (strlen(c->params) > 64 * 1024 || !(p = json_loads(c->params, 0, NULL)) || !json_is_object(p)) {
                        ats_reply_error(ss, "AT0022", "Enroll parameters are not a JSON object");
                        return;
                }
        } else
                p = json_object();
        if (streq(c->operation, "request")) {
                enroll_request(ss, p);
                return;
        }
        if (!ss->authenticated) {
                ats_reply_error(ss, "AT0401", "Cannot %s enrollment without authentication", c->operation);
                return;
        }
        if (!has_manage(ss)) {
                ats_reply_error(ss, "AT0009", "Client is not authorized for namespaces in the enrollment request");
                return;
        }
        if (streq(c->operation, "list"))
                enroll_list(ss, p);
        else
                enroll_change(ss, c->operation, c->force, p);
}

void ats_verb_otp(AtsSession *ss, AtsCommand *c) {
        static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        char otp[7];
        int64_t ttl = c->otp_ttl != ATS_UNSET && c->otp_ttl > 0 ? MIN(c->otp_ttl, 24LL * 60 * 60 * 1000) : OTP_DEFAULT_TTL_MS;
        if (!has_manage(ss)) {
                ats_reply_error(ss, "AT0009", "otp requires an enrollment with __manage access");
                return;
        }
        if (streq(c->operation, "put")) {
                if (ats_store_otp_put(ss->server->store, ss->hosted->atsign, c->otp, ats_now_ms() + ttl) < 0)
                        ats_reply_error(ss, "AT0002", "failed to store the otp");
                else
                        ats_reply_data(ss, "ok");
                return;
        }
        uint8_t b[6];
        at_random_bytes(b, sizeof b);
        for (size_t i = 0; i < 6; i++)
                otp[i] = alphabet[b[i] % (sizeof alphabet - 1)];
        otp[6] = 0;
        if (ats_store_otp_put(ss->server->store, ss->hosted->atsign, otp, ats_now_ms() + ttl) < 0) {
                ats_reply_error(ss, "AT0002", "failed to store the otp");
                return;
        }
        ats_reply_data(ss, otp);
}

void ats_verb_keys(AtsSession *ss, AtsCommand *c) {
        if (!streq(c->operation, "get")) {
                ats_reply_error(ss, "AT0022", "keys:%s is not supported", c->operation);
                return;
        }
        if (!c->key_name) {
                ats_reply_data(ss, "[]");
                return;
        }
        _cleanup_free_ char *key = strdup(c->key_name);
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        if (!key) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        for (char *p = key; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        /* an enrollment may read its own __manage keys (and, with __manage access, the others'),
         * and otherwise only keys of namespaces it was granted, as llookup would
         * (keys_verb_handler.dart _isAuthorizedForKey) */
        if (ss->enrollment_id) {
                size_t n = strlen(ss->enrollment_id);
                bool manage_key = strstr(key, ".__manage"), own = strneq(key, ss->enrollment_id, n) && key[n] == '.';
                if (manage_key ? !own && !has_manage(ss) : !ats_session_may_access(ss, key, false)) {
                        log_notice("refused: keys:get of %s by enrollment %s atsign=%s peer=%s", key, ss->enrollment_id,
                                   ss->hosted->atsign, ats_conn_peer(ss->conn));
                        ats_reply_error(ss, "AT0009", "not authorized to read %s", key);
                        return;
                }
        }
        if (ats_store_get(ss->server->store, ss->hosted->atsign, key, ats_now_ms(), &rec) < 0) {
                ats_reply_error(ss, "AT0015", "%s does not exist in keystore", key);
                return;
        }
        reply_json(ss, json_pack("{s:s, s:s}", "value", rec->value ? rec->value : "", "key", key));
}
