/* SPDX-License-Identifier: BSD-3-Clause */
/* Commands of an enrolled device with __manage rights: otp, list, fetch, approve, deny, revoke
 * (at_onboarding_cli/lib/src/cli/auth_cli.dart; at_auth at_enrollment_impl.dart approve()). */
#include <regex.h>

#include "activate.h"
#include "apkam.h"
#include "enrollment.h"
#include "log.h"
#include "rsa.h"
#include "secure.h"

typedef struct Manager {
        AtKeys *keys;
        AtClient *client;
} Manager;

static void manager_done(Manager *m) {
        at_client_free(m->client);
        at_keys_free(m->keys);
}

static int manager_open(const ActivateOptions *o, Manager *m) {
        int r;

        *m = (Manager) {};
        r = activate_load_keys(o, &m->keys);
        if (r < 0)
                return r;
        return activate_connect(o, m->keys, NULL, &m->client);
}

int activate_otp(const ActivateOptions *o) {
        _cleanup_(manager_done) Manager m = {};
        _cleanup_free_ char *command = NULL, *otp = NULL;
        int r;

        r = manager_open(o, &m);
        if (r < 0)
                return r;
        /* auth_cli.dart generateOtp(): otp:get[:ttl:<ms>] */
        if (o->has_expiry)
                r = asprintf(&command, "otp:get:ttl:%llu", (unsigned long long) (o->expiry_usec / 1000));
        else
                r = asprintf(&command, "otp:get");
        if (r < 0)
                return log_oom();
        r = activate_send(m.client, "get a one-time passcode", command, &otp);
        if (r < 0)
                return r;
        printf("%s\n", otp);
        return 0;
}

int activate_spp(const ActivateOptions *o) {
        _cleanup_(manager_done) Manager m = {};
        _cleanup_free_ char *command = NULL;
        int r;

        r = manager_open(o, &m);
        if (r < 0)
                return r;
        /* auth_cli.dart setSpp(): otp:put:<spp>[:ttl:<ms>] */
        if (o->has_expiry)
                r = asprintf(&command, "otp:put:%s:ttl:%llu", o->passcode, (unsigned long long) (o->expiry_usec / 1000));
        else
                r = asprintf(&command, "otp:put:%s", o->passcode);
        if (r < 0)
                return log_oom();
        r = activate_send(m.client, "set the semi-permanent passcode", command, NULL);
        if (r < 0)
                return r;
        printf("Semi-permanent passcode set for %s.\n", o->atsign);
        return 0;
}

static bool regex_matches(const char *pattern, const char *text) {
        regex_t re;
        bool match;

        if (!pattern)
                return true;
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return false; /* checked when parsing the options */
        match = regexec(&re, text, 0, NULL, 0) == 0;
        regfree(&re);
        return match;
}

/* keeps the enrollments whose app and device names match --arx/--drx (Dart RegExp.hasMatch:
 * a match anywhere in the name) */
static void filter_infos(const ActivateOptions *o, EnrollmentInfo *infos, size_t *n) {
        size_t j = 0;

        for (size_t i = 0; i < *n; i++) {
                if (regex_matches(o->app_regex, infos[i].app_name) && regex_matches(o->device_regex, infos[i].device_name))
                        infos[j++] = infos[i];
                else
                        enrollment_info_done(&infos[i]);
        }
        *n = j;
}

static void print_header(void) {
        /* auth_cli.dart list(): the same columns */
        printf("%-38s%-10s%-20s%-38s%s\n", "Enrollment ID", "Status", "AppName", "DeviceName", "Namespaces");
}

static void print_info(const EnrollmentInfo *e) {
        printf("%-38s%-10s%-20s%-38s%s\n", e->id, e->status, e->app_name, e->device_name, e->namespaces);
}

int activate_list(const ActivateOptions *o) {
        _cleanup_(manager_done) Manager m = {};
        _cleanup_free_ char *command = NULL, *answer = NULL;
        EnrollmentInfo *infos = NULL;
        size_t n = 0;
        int r;

        r = manager_open(o, &m);
        if (r < 0)
                return r;
        r = enroll_list_command(o->status_filter, &command);
        if (r < 0)
                return log_oom();
        r = activate_send(m.client, "list enrollments", command, &answer);
        if (r < 0)
                return r;
        r = enrollment_list_parse(answer, &infos, &n);
        if (r < 0)
                return log_error_errno(r, "The atServer of %s answered enroll:list with something unexpected.",
                                       o->atsign);
        filter_infos(o, infos, &n);
        print_header();
        for (size_t i = 0; i < n; i++)
                print_info(&infos[i]);
        enrollment_info_array_free(infos, n);
        return 0;
}

static int fetch_info(Manager *m, const char *id, EnrollmentInfo *ret) {
        _cleanup_free_ char *command = NULL, *answer = NULL;
        int r;

        r = enroll_simple_command("fetch", id, false, &command);
        if (r < 0)
                return log_error_errno(r, "Invalid enrollment id '%s'.", id);
        r = activate_send(m->client, "fetch the enrollment", command, &answer);
        if (r < 0)
                return r;
        r = enrollment_info_parse(answer, id, ret);
        if (r < 0)
                return log_error_errno(r, "The atServer answered enroll:fetch for %s with something unexpected.", id);
        return 0;
}

/* The enrollments a decision applies to: the one of -i, or those in state status whose names
 * match --arx/--drx (auth_cli.dart _fetchOrListAndFilter). */
static int select_enrollments(Manager *m, const ActivateOptions *o, const char *status, EnrollmentInfo **ret,
                              size_t *ret_n) {
        _cleanup_free_ char *command = NULL, *answer = NULL;
        EnrollmentInfo *infos;
        size_t n;
        int r;

        if (o->enrollment_id) {
                infos = calloc(1, sizeof(EnrollmentInfo));
                if (!infos)
                        return log_oom();
                r = fetch_info(m, o->enrollment_id, &infos[0]);
                if (r < 0) {
                        free(infos);
                        return r;
                }
                *ret = infos;
                *ret_n = 1;
                return 0;
        }
        r = enroll_list_command(status, &command);
        if (r < 0)
                return log_oom();
        r = activate_send(m->client, "list enrollments", command, &answer);
        if (r < 0)
                return r;
        r = enrollment_list_parse(answer, &infos, &n);
        if (r < 0)
                return log_error_errno(r, "The atServer of %s answered enroll:list with something unexpected.",
                                       o->atsign);
        filter_infos(o, infos, &n);
        *ret = infos;
        *ret_n = n;
        return 0;
}

int activate_fetch(const ActivateOptions *o) {
        _cleanup_(manager_done) Manager m = {};
        _cleanup_(enrollment_info_done) EnrollmentInfo info = {};
        int r;

        r = manager_open(o, &m);
        if (r < 0)
                return r;
        r = fetch_info(&m, o->enrollment_id, &info);
        if (r < 0)
                return r;
        print_header();
        print_info(&info);
        return 0;
}

/* at_enrollment_impl.dart approve(): the requester's APKAM symmetric key, RSA-decrypted with our
 * encryption private key, encrypts our encryption private key and self-encryption key for it. */
static int approve_command(const AtKeys *keys, const EnrollmentInfo *info, char **ret) {
        _cleanup_secure_ uint8_t *symmetric_b64 = NULL, *symmetric = NULL;
        _cleanup_free_ char *enc_private = NULL, *enc_self = NULL;
        size_t size = 0;
        int r;

        if (!keys->encrypt_private || !keys->self_encryption_key)
                return log_error_errno(EINVAL, "This keys file lacks the encryption private key or the "
                                       "self-encryption key; it cannot approve.");
        if (!info->encrypted_apkam_symmetric_key)
                return log_error_errno(EINVAL, "Enrollment %s carries no encrypted APKAM key; it cannot be approved.",
                                       info->id);
        r = at_rsa_decrypt(keys->encrypt_private, info->encrypted_apkam_symmetric_key, &symmetric_b64, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to decrypt the APKAM key of enrollment %s (not made for %s?).",
                                       info->id, keys->atsign);
        symmetric = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!symmetric)
                return log_oom();
        r = at_aes_key_from_base64((const char *) symmetric_b64, symmetric);
        if (r < 0)
                return log_error_errno(r, "The APKAM key of enrollment %s is not a 256-bit AES key.", info->id);
        r = apkam_wrap_default_keys(keys, symmetric, &enc_private, &enc_self);
        if (r < 0)
                return log_error_errno(r, "Failed to encrypt the keys for enrollment %s: %m", info->id);
        r = enroll_approve_command(info->id, enc_private, enc_self, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to build the approval of %s: %m", info->id);
        return 0;
}

static int report_decision(const char *answer, const char *id, const char *expected) {
        _cleanup_free_ char *status = NULL;
        int r;

        r = enroll_response_parse(answer, NULL, &status);
        if (r < 0)
                return log_error_errno(r, "Unexpected answer to the decision on %s.", id);
        if (!streq(status, expected))
                return log_error_errno(EPROTO, "Enrollment %s is now '%s', not '%s'.", id, status, expected);
        printf("Enrollment %s %s.\n", id, status);
        return 0;
}

static int approve_one(Manager *m, const EnrollmentInfo *info) {
        _cleanup_free_ char *command = NULL, *answer = NULL;
        int r;

        if (!streq(info->status, "pending"))
                return log_error_errno(EINVAL, "Enrollment %s is %s; only pending enrollments can be approved.",
                                       info->id, info->status);
        log_info("Approving enrollment %s: app \"%s\", device \"%s\", namespaces %s.", info->id, info->app_name,
                 info->device_name, info->namespaces);
        r = approve_command(m->keys, info, &command);
        if (r < 0)
                return r;
        r = activate_send(m->client, "approve the enrollment", command, &answer);
        if (r < 0)
                return r;
        return report_decision(answer, info->id, "approved");
}

static int decide_one(Manager *m, const ActivateOptions *o, const EnrollmentInfo *info, const char *operation,
                      const char *expected) {
        _cleanup_free_ char *command = NULL, *answer = NULL, *what = NULL;
        int r;

        r = enroll_simple_command(operation, info->id, o->force && streq(operation, "revoke"), &command);
        if (r < 0)
                return log_error_errno(r, "Invalid enrollment id '%s'.", info->id);
        if (asprintf(&what, "%s enrollment %s", operation, info->id) < 0)
                return log_oom();
        r = activate_send(m->client, what, command, &answer);
        if (r < 0)
                return r;
        return report_decision(answer, info->id, expected);
}

/* operation "approve", "deny" or "revoke" on each selected enrollment; the first error is
 * returned after trying them all */
static int decide(const ActivateOptions *o, const char *operation, const char *from_status, const char *expected) {
        _cleanup_(manager_done) Manager m = {};
        EnrollmentInfo *infos = NULL;
        size_t n = 0;
        int r, ret = 0;

        r = manager_open(o, &m);
        if (r < 0)
                return r;
        r = select_enrollments(&m, o, from_status, &infos, &n);
        if (r < 0)
                return r;
        if (n == 0)
                log_notice("No %s enrollment of %s matches.", from_status, o->atsign); /* upstream: not an error */
        for (size_t i = 0; i < n; i++) {
                if (streq(operation, "approve"))
                        r = approve_one(&m, &infos[i]);
                else
                        r = decide_one(&m, o, &infos[i], operation, expected);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        enrollment_info_array_free(infos, n);
        return ret;
}

int activate_approve(const ActivateOptions *o) {
        return decide(o, "approve", "pending", "approved");
}

int activate_deny(const ActivateOptions *o) {
        return decide(o, "deny", "pending", "denied");
}

int activate_revoke(const ActivateOptions *o) {
        return decide(o, "revoke", "approved", "revoked");
}
