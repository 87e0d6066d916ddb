/* SPDX-License-Identifier: BSD-3-Clause */
#include "enrollment.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

/* Jansson provides json_decrefp() for cleanup attributes */
#define _cleanup_json_ _cleanup_(json_decrefp)

static bool is_word_or_dash(const char *s, size_t max) {
        size_t n = 0;

        if (!s || !*s)
                return false;
        for (; *s; s++, n++) {
                if (n >= max)
                        return false;
                if (!isascii((unsigned char) *s) || !(isalnum((unsigned char) *s) || *s == '_' || *s == '-'))
                        return false;
        }
        return true;
}

bool enrollment_id_is_valid(const char *id) {
        return is_word_or_dash(id, ENROLLMENT_ID_MAX);
}

bool enrollment_name_is_valid(const char *name) {
        return is_word_or_dash(name, ENROLLMENT_NAME_MAX);
}

/* json_dumps in insertion order (Jansson >= 2.8 keeps it; the flag documents the intent) */
static int dump_command(const char *prefix, const json_t *j, char **ret) {
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                return -ENOMEM;
        if (asprintf(ret, "%s%s", prefix, text) < 0)
                return -ENOMEM;
        return 0;
}

static int set_string_if(json_t *o, const char *key, const char *value) {
        if (!value || !*value)
                return 0;
        if (strchr(value, '\n') || strchr(value, '\r'))
                return -EINVAL;
        return json_object_set_new(o, key, json_string(value)) < 0 ? -EINVAL : 0;
}

int enroll_request_command(const EnrollRequest *q, char **ret) {
        _cleanup_json_ json_t *o = json_object();
        int r;

        if (!o)
                return -ENOMEM;
        if (!enrollment_name_is_valid(q->app_name) || !enrollment_name_is_valid(q->device_name) || !q->apkam_public_key)
                return -EINVAL;

        if ((r = set_string_if(o, "appName", q->app_name)) < 0 ||
            (r = set_string_if(o, "deviceName", q->device_name)) < 0)
                return r;
        if (q->namespaces) {
                if (!json_is_object(q->namespaces) || json_object_size(q->namespaces) == 0)
                        return -EINVAL;
                if (json_object_set(o, "namespaces", (json_t *) q->namespaces) < 0)
                        return -ENOMEM;
        }
        if ((r = set_string_if(o, "otp", q->otp)) < 0 ||
            (r = set_string_if(o, "encryptedDefaultEncryptionPrivateKey", q->encrypted_default_encryption_private_key)) < 0 ||
            (r = set_string_if(o, "encryptedDefaultSelfEncryptionKey", q->encrypted_default_self_encryption_key)) < 0 ||
            (r = set_string_if(o, "encryptedAPKAMSymmetricKey", q->encrypted_apkam_symmetric_key)) < 0 ||
            (r = set_string_if(o, "apkamPublicKey", q->apkam_public_key)) < 0)
                return r;
        if (q->apkam_keys_expiry_ms > 0 &&
            json_object_set_new(o, "apkamKeysExpiryInMillis", json_integer(q->apkam_keys_expiry_ms)) < 0)
                return -ENOMEM;

        return dump_command("enroll:request:", o, ret);
}

int enroll_approve_command(const char *id, const char *encrypted_private_key, const char *encrypted_self_key,
                           char **ret) {
        _cleanup_json_ json_t *o = json_object();
        int r;

        if (!o)
                return -ENOMEM;
        if (!enrollment_id_is_valid(id) || !encrypted_private_key || !*encrypted_private_key || !encrypted_self_key ||
            !*encrypted_self_key)
                return -EINVAL;
        /* auth_cli.dart / at_enrollment_impl.dart approve(): this field order */
        if ((r = set_string_if(o, "enrollmentId", id)) < 0 ||
            (r = set_string_if(o, "encryptedDefaultEncryptionPrivateKey", encrypted_private_key)) < 0 ||
            (r = set_string_if(o, "encryptedDefaultSelfEncryptionKey", encrypted_self_key)) < 0)
                return r;
        return dump_command("enroll:approve:", o, ret);
}

int enroll_simple_command(const char *operation, const char *id, bool force, char **ret) {
        _cleanup_json_ json_t *o = json_object();
        char prefix[64];
        int r;

        if (!o)
                return -ENOMEM;
        if (!enrollment_id_is_valid(id) ||
            !(streq(operation, "deny") || streq(operation, "revoke") || streq(operation, "fetch")))
                return -EINVAL;
        if ((r = set_string_if(o, "enrollmentId", id)) < 0)
                return r;
        /* at_commons enroll_verb_builder.dart: "enroll:<op>[:force]:{json}" */
        snprintf(prefix, sizeof(prefix), "enroll:%s%s:", operation, force ? ":force" : "");
        return dump_command(prefix, o, ret);
}

int enroll_list_command(const char *status_filter, char **ret) {
        char *s;

        if (!status_filter)
                s = strdup("enroll:list");
        else {
                if (!enrollment_name_is_valid(status_filter))
                        return -EINVAL;
                if (asprintf(&s, "enroll:list:{\"enrollmentStatusFilter\":[\"%s\"]}", status_filter) < 0)
                        s = NULL;
        }
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool namespace_name_is_valid(const char *s, size_t n) {
        if (n == 0 || n > ENROLLMENT_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isascii((unsigned char) s[i]) ||
                    !(isalnum((unsigned char) s[i]) || strchr("_-.*", s[i])))
                        return false;
        return true;
}

/* trims blanks and double quotes at both ends of [*s, *s + *n) */
static void trim(const char **s, size_t *n) {
        while (*n > 0 && (isspace((unsigned char) **s) || **s == '"')) {
                (*s)++;
                (*n)--;
        }
        while (*n > 0 && (isspace((unsigned char) (*s)[*n - 1]) || (*s)[*n - 1] == '"'))
                (*n)--;
}

int enroll_namespaces_parse(const char *text, json_t **ret) {
        _cleanup_json_ json_t *o = json_object();
        const char *p = text;

        if (!o)
                return -ENOMEM;
        while (*p) {
                const char *end = strchrnul(p, ','), *colon;
                const char *name = p, *perm;
                size_t name_n, perm_n;
                char key[ENROLLMENT_NAME_MAX + 1];

                colon = memchr(p, ':', end - p);
                if (!colon)
                        return -EINVAL;
                name_n = colon - p;
                perm = colon + 1;
                perm_n = end - perm;
                trim(&name, &name_n);
                trim(&perm, &perm_n);
                if (!namespace_name_is_valid(name, name_n))
                        return -EINVAL;
                if (!((perm_n == 1 && perm[0] == 'r') || (perm_n == 2 && perm[0] == 'r' && perm[1] == 'w')))
                        return -EINVAL;
                memcpy(key, name, name_n);
                key[name_n] = 0;
                if (json_object_set_new(o, key, json_stringn(perm, perm_n)) < 0)
                        return -ENOMEM;
                p = *end ? end + 1 : end;
        }
        if (json_object_size(o) == 0)
                return -EINVAL;
        *ret = TAKE_PTR(o);
        return 0;
}

static int load_object(const char *data, json_t **ret) {
        json_t *j;

        if (!data)
                return -EBADMSG;
        j = json_loads(data, JSON_REJECT_DUPLICATES, NULL);
        if (!j)
                return -EBADMSG;
        if (!json_is_object(j)) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

/* a string member of at most max bytes; -ENOENT if absent or null, -EBADMSG if not a string */
static int get_string(const json_t *o, const char *key, size_t max, char **ret) {
        const json_t *v = json_object_get(o, key);
        char *s;

        if (!v || json_is_null(v))
                return -ENOENT;
        if (!json_is_string(v) || json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
                return -EBADMSG;
        s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int enroll_response_parse(const char *data, char **ret_id, char **ret_status) {
        _cleanup_json_ json_t *o = NULL;
        _cleanup_free_ char *id = NULL, *status = NULL;
        int r;

        r = load_object(data, &o);
        if (r < 0)
                return r;
        r = get_string(o, "enrollmentId", ENROLLMENT_ID_MAX, &id);
        if (r < 0)
                return -EBADMSG;
        if (!enrollment_id_is_valid(id))
                return -EBADMSG;
        r = get_string(o, "status", ENROLLMENT_NAME_MAX, &status);
        if (r < 0 || !enrollment_name_is_valid(status))
                return -EBADMSG;
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        if (ret_status)
                *ret_status = TAKE_PTR(status);
        return 0;
}

void enrollment_info_done(EnrollmentInfo *info) {
        free(info->id);
        free(info->app_name);
        free(info->device_name);
        free(info->namespaces);
        free(info->encrypted_apkam_symmetric_key);
        free(info->status);
        *info = (EnrollmentInfo) {};
}

void enrollment_info_array_free(EnrollmentInfo *infos, size_t n) {
        for (size_t i = 0; i < n; i++)
                enrollment_info_done(&infos[i]);
        free(infos);
}

/* base64 of an RSA-2048 ciphertext is 344 characters; allow up to RSA-8192 */
#define ENCRYPTED_KEY_MAX 2048

static int info_from_object(const json_t *o, const char *id, EnrollmentInfo *ret) {
        EnrollmentInfo info = {};
        const json_t *ns;
        int r;

        if (!json_is_object(o))
                return -EBADMSG;
        info.id = strdup(id);
        if (!info.id)
                return -ENOMEM;
        if ((r = get_string(o, "appName", ENROLLMENT_NAME_MAX * 4, &info.app_name)) < 0 ||
            (r = get_string(o, "deviceName", ENROLLMENT_NAME_MAX * 4, &info.device_name)) < 0 ||
            (r = get_string(o, "status", ENROLLMENT_NAME_MAX, &info.status)) < 0)
                goto fail;
        r = get_string(o, "encryptedAPKAMSymmetricKey", ENCRYPTED_KEY_MAX, &info.encrypted_apkam_symmetric_key);
        if (r < 0 && r != -ENOENT)
                goto fail;
        ns = json_object_get(o, "namespace");
        if (ns && !json_is_null(ns)) {
                if (!json_is_object(ns)) {
                        r = -EBADMSG;
                        goto fail;
                }
                info.namespaces = json_dumps(ns, JSON_COMPACT | JSON_PRESERVE_ORDER);
        } else
                info.namespaces = strdup("{}");
        if (!info.namespaces) {
                r = -ENOMEM;
                goto fail;
        }
        *ret = info;
        return 0;
fail:
        enrollment_info_done(&info);
        return r == -ENOMEM ? r : -EBADMSG;
}

int enrollment_info_parse(const char *data, const char *id, EnrollmentInfo *ret) {
        _cleanup_json_ json_t *o = NULL;
        int r;

        if (!enrollment_id_is_valid(id))
                return -EINVAL;
        r = load_object(data, &o);
        if (r < 0)
                return r;
        return info_from_object(o, id, ret);
}

static int compare_info(const void *a, const void *b) {
        return strcmp(((const EnrollmentInfo *) a)->id, ((const EnrollmentInfo *) b)->id);
}

int enrollment_list_parse(const char *data, EnrollmentInfo **ret, size_t *ret_n) {
        _cleanup_json_ json_t *o = NULL;
        EnrollmentInfo *infos = NULL;
        size_t n = 0;
        const char *key;
        json_t *value;
        int r;

        r = load_object(data, &o);
        if (r < 0)
                return r;
        infos = calloc(json_object_size(o) + 1, sizeof(EnrollmentInfo));
        if (!infos)
                return -ENOMEM;
        json_object_foreach(o, key, value) {
                /* "<id>.new.enrollments.__manage@alice": the id is the text before the first '.' */
                size_t id_n = strcspn(key, ".");
                char id[ENROLLMENT_ID_MAX + 1];

                if (id_n == 0 || id_n > ENROLLMENT_ID_MAX) {
                        r = -EBADMSG;
                        goto fail;
                }
                memcpy(id, key, id_n);
                id[id_n] = 0;
                if (!enrollment_id_is_valid(id)) {
                        r = -EBADMSG;
                        goto fail;
                }
                r = info_from_object(value, id, &infos[n]);
                if (r < 0)
                        goto fail;
                n++;
        }
        qsort(infos, n, sizeof(EnrollmentInfo), compare_info);
        *ret = infos;
        *ret_n = n;
        return 0;
fail:
        enrollment_info_array_free(infos, n);
        return r;
}

int enroll_keys_value_parse(const char *data, char **ret) {
        _cleanup_json_ json_t *o = NULL;
        char *v = NULL;
        int r;

        r = load_object(data, &o);
        if (r < 0)
                return r;
        r = get_string(o, "value", 64 * 1024, &v);
        if (r < 0 || !*v) {
                free(v);
                return -EBADMSG;
        }
        *ret = v;
        return 0;
}
