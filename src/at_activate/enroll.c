/* SPDX-License-Identifier: BSD-3-Clause */
/* A further device asks for its own keys (APKAM): at_onboarding_cli auth_cli.dart enroll(),
 * at_onboarding_service_impl.dart sendEnrollRequest()/awaitApproval(), at_auth
 * at_enrollment_impl.dart _handleEnrollmentRequest(). */
#include <time.h>

#include "activate.h"
#include "apkam.h"
#include "auth.h"
#include "conn.h"
#include "enrollment.h"
#include "log.h"
#include "rsa.h"
#include "secure.h"

/* at_onboarding_service_impl.dart _maxActivationRetries: network failures tolerated in a row */
#define ENROLL_MAX_CONNECT_FAILURES 5

static int lookup_encryption_public_key(AtClient *client, const char *atsign, char **ret_b64, AtRsaPublic **ret) {
        _cleanup_free_ char *command = NULL, *b64 = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *key = NULL;
        int r;

        if (asprintf(&command, "lookup:publickey%s", atsign) < 0)
                return log_oom();
        r = activate_send(client, "look up public:publickey", command, &b64);
        if (r < 0)
                return r;
        r = at_rsa_public_from_base64(b64, &key);
        if (r < 0)
                return log_error_errno(r, "The public:publickey of %s is not an RSA public key: %m", atsign);
        *ret_b64 = TAKE_PTR(b64);
        *ret = TAKE_PTR(key);
        return 0;
}

static int send_request(const ActivateOptions *o, AtClient *client, AtKeys *keys, const json_t *namespaces) {
        _cleanup_secure_ char *symmetric_b64 = NULL;
        _cleanup_free_ char *encrypted_symmetric = NULL, *apkam_public = NULL, *command = NULL, *answer = NULL,
                            *id = NULL, *status = NULL;
        int r;

        r = apkam_symmetric_key_to_base64(keys->apkam_symmetric_key, &symmetric_b64);
        if (r < 0)
                return log_oom();
        /* the APKAM symmetric key's base64 text, RSA-encrypted to the atSign's encryption key */
        r = at_rsa_encrypt(keys->encrypt_public, symmetric_b64, strlen(symmetric_b64), &encrypted_symmetric);
        if (r < 0)
                return log_error_errno(r, "Failed to encrypt the APKAM symmetric key: %m");
        r = at_rsa_public_to_base64(keys->pkam_public, &apkam_public);
        if (r < 0)
                return log_error_errno(r, "Failed to encode the APKAM public key: %m");

        r = enroll_request_command(&(EnrollRequest) {
                                           .app_name = o->app_name,
                                           .device_name = o->device_name,
                                           .namespaces = namespaces,
                                           .otp = o->passcode,
                                           .encrypted_apkam_symmetric_key = encrypted_symmetric,
                                           .apkam_public_key = apkam_public,
                                           .apkam_keys_expiry_ms = o->has_expiry ? (int64_t) (o->expiry_usec / 1000) : 0,
                                   },
                                   &command);
        if (r < 0)
                return log_error_errno(r, "Failed to build the enrollment request: %m");

        r = activate_send(client, "send the enrollment request", command, &answer);
        if (r < 0)
                return r;
        r = enroll_response_parse(answer, &id, &status);
        if (r < 0)
                return log_error_errno(r, "The atServer of %s answered the enrollment request with something "
                                       "unexpected.", o->atsign);
        if (!streq(status, "pending") && !streq(status, "approved"))
                return log_error_errno(EPROTO, "Enrollment %s of %s has status '%s'.", id, o->atsign, status);
        printf("Enrollment ID: %s\n", id);
        fflush(stdout);
        keys->enrollment_id = TAKE_PTR(id);
        return 0;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Tries PKAM with the enrollment until the server lets us in. Returns the logged-in client;
 * -EACCES when the enrollment was denied, revoked or expired. Upstream retries on AT0401 and
 * AT0026 (pending) and stops on AT0025 (denied); we also stop on AT0027/AT0028. */
static int await_approval(const ActivateOptions *o, const AtKeys *keys, AtClient **ret) {
        unsigned failures = 0;
        int r;

        log_info("Waiting for enrollment %s to be approved; trying to log in every %.1f s.", keys->enrollment_id,
                 o->poll_interval_usec / 1e6);
        for (;;) {
                _cleanup_(at_client_freep) AtClient *client = NULL;
                const char *e;

                r = activate_connect(o, NULL, NULL, &client);
                if (r < 0) {
                        if (++failures >= ENROLL_MAX_CONNECT_FAILURES)
                                return log_error_errno(r, "Giving up on enrollment %s of %s after %u failed "
                                                       "connections.", keys->enrollment_id, o->atsign, failures);
                        sleep_usec(o->poll_interval_usec);
                        continue;
                }
                failures = 0;

                /* refusals are expected until approval: keep at_auth's error lines out unless debugging */
                int level = log_get_max_level();
                if (level < LOG_DEBUG)
                        log_set_max_level(LOG_CRIT);
                r = at_auth_pkam(at_client_conn(client), o->atsign, keys, at_client_command_timeout(client));
                log_set_max_level(level);
                if (r >= 0) {
                        log_info("Enrollment %s approved.", keys->enrollment_id);
                        *ret = TAKE_PTR(client);
                        return 0;
                }
                e = at_conn_last_error(at_client_conn(client));
                if (strneq(e, "AT0025", 6))
                        return log_error_errno(EACCES, "Enrollment %s of %s was denied.", keys->enrollment_id, o->atsign);
                if (strneq(e, "AT0027", 6))
                        return log_error_errno(EACCES, "Enrollment %s of %s was revoked.", keys->enrollment_id, o->atsign);
                if (strneq(e, "AT0028", 6))
                        return log_error_errno(EACCES, "Enrollment %s of %s expired.", keys->enrollment_id, o->atsign);
                if (r != -EACCES)
                        log_warning_errno(r, "Login attempt for enrollment %s failed: %m", keys->enrollment_id);
                else
                        log_debug("Enrollment %s not approved yet (%s).", keys->enrollment_id, e);
                sleep_usec(o->poll_interval_usec);
        }
}

/* keys:get of one of the keys the approver left for us, decrypted with our APKAM key */
static int fetch_key(AtClient *client, const AtKeys *keys, const char *name, char **ret) {
        _cleanup_free_ char *command = NULL, *answer = NULL, *value = NULL;
        int r;

        /* at_onboarding_service_impl.dart _getEncryptionPrivateKeyFromServer / _getSelfEncryptionKeyFromServer */
        if (asprintf(&command, "keys:get:keyName:%s.%s.__manage%s", keys->enrollment_id, name, keys->atsign) < 0)
                return log_oom();
        r = activate_send(client, "fetch the approved keys", command, &answer);
        if (r < 0)
                return r;
        r = enroll_keys_value_parse(answer, &value);
        if (r < 0)
                return log_error_errno(r, "The atServer of %s answered keys:get for %s with something unexpected.",
                                       keys->atsign, name);
        r = apkam_decrypt_text(keys->apkam_symmetric_key, value, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to decrypt %s of %s with our APKAM key: %m", name, keys->atsign);
        return 0;
}

static int fetch_default_keys(AtClient *client, AtKeys *keys) {
        _cleanup_secure_ char *private_b64 = NULL, *self_b64 = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *derived = NULL;
        _cleanup_free_ char *derived_b64 = NULL, *public_b64 = NULL;
        uint8_t *self_key;
        int r;

        r = fetch_key(client, keys, "default_enc_private_key", &private_b64);
        if (r < 0)
                return r;
        r = fetch_key(client, keys, "default_self_enc_key", &self_b64);
        if (r < 0)
                return r;

        r = at_rsa_private_from_base64(private_b64, &keys->encrypt_private);
        if (r < 0)
                return log_error_errno(r, "The encryption private key approved for %s is not valid: %m", keys->atsign);
        /* The private key must belong to public:publickey, or nothing shared with us decrypts */
        r = at_rsa_private_get_public(keys->encrypt_private, &derived);
        if (r < 0)
                return log_error_errno(r, "Failed to derive the public key of %s: %m", keys->atsign);
        if (at_rsa_public_to_base64(derived, &derived_b64) < 0 || at_rsa_public_to_base64(keys->encrypt_public, &public_b64) < 0)
                return log_oom();
        if (!streq(derived_b64, public_b64))
                return log_error_errno(EBADMSG, "The encryption private key approved for %s does not match its "
                                       "public:publickey.", keys->atsign);

        self_key = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!self_key)
                return log_oom();
        r = at_aes_key_from_base64(self_b64, self_key);
        if (r < 0) {
                at_secure_free(self_key);
                return log_error_errno(r, "The self-encryption key approved for %s is not a 256-bit key.", keys->atsign);
        }
        keys->self_encryption_key = self_key;
        return 0;
}

int activate_enroll(const ActivateOptions *o) {
        _cleanup_(at_client_freep) AtClient *client = NULL, *logged_in = NULL;
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        _cleanup_free_ char *public_b64 = NULL;
        json_t *namespaces = NULL;
        int r;

        if (!enrollment_name_is_valid(o->app_name))
                return log_error_errno(EINVAL, "Invalid app name '%s': letters, digits, '_' and '-' only.", o->app_name);
        if (!enrollment_name_is_valid(o->device_name))
                return log_error_errno(EINVAL, "Invalid device name '%s': letters, digits, '_' and '-' only.",
                                       o->device_name);
        r = enroll_namespaces_parse(o->namespaces, &namespaces);
        if (r < 0)
                return log_error_errno(r, "Invalid namespaces '%s': expected NAME:r or NAME:rw, comma-separated.",
                                       o->namespaces);
        r = activate_prepare_keys_path(o->keys_file);
        if (r < 0)
                goto finish;

        keys = at_keys_new();
        if (!keys || !(keys->atsign = strdup(o->atsign))) {
                r = log_oom();
                goto finish;
        }

        r = activate_connect(o, NULL, NULL, &client);
        if (r < 0)
                goto finish;
        r = lookup_encryption_public_key(client, o->atsign, &public_b64, &keys->encrypt_public);
        if (r < 0)
                goto finish;

        log_info("Generating the APKAM key pair (RSA-2048) for this device.");
        r = at_rsa_generate(2048, &keys->pkam_private);
        if (r >= 0)
                r = at_rsa_private_get_public(keys->pkam_private, &keys->pkam_public);
        if (r >= 0)
                r = apkam_symmetric_key_new(&keys->apkam_symmetric_key);
        if (r < 0) {
                r = log_error_errno(r, "Failed to generate the APKAM keys: %m");
                goto finish;
        }

        r = send_request(o, client, keys, namespaces);
        if (r < 0)
                goto finish;
        at_client_free(TAKE_PTR(client));

        r = await_approval(o, keys, &logged_in);
        if (r < 0)
                goto finish;
        r = fetch_default_keys(logged_in, keys);
        if (r < 0)
                goto finish;

        r = at_keys_save(keys, o->keys_file, false);
        if (r < 0) {
                r = log_error_errno(r, "Failed to write the keys file %s for %s: %m", o->keys_file, o->atsign);
                goto finish;
        }
        printf("Enrollment %s approved. Keys file: %s\n", keys->enrollment_id, o->keys_file);
        r = 0;
finish:
        json_decref(namespaces);
        return r;
}
