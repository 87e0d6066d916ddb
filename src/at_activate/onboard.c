/* SPDX-License-Identifier: BSD-3-Clause */
/* First activation of an atSign, as at_auth's AtAuthImpl.onboard() does it
 * (at_auth/lib/src/at_auth_impl.dart; at_onboarding_cli/lib/src/onboard/at_onboarding_service_impl.dart):
 * CRAM login, key generation, first enrollment (auto-approved on a CRAM connection), PKAM login
 * with the new enrollment, public encryption key, removal of the CRAM secret, .atKeys file. */
#include <libgen.h>
#include <sys/stat.h>

#include "activate.h"
#include "apkam.h"
#include "enrollment.h"
#include "fs.h"
#include "log.h"
#include "rsa.h"
#include "secure.h"

int activate_prepare_keys_path(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        struct stat st;
        int r;

        if (!copy)
                return log_oom();
        if (lstat(path, &st) >= 0)
                return log_error_errno(EEXIST, "The keys file %s already exists; refusing to overwrite it.", path);
        if (errno != ENOENT)
                return log_error_errno(errno, "Cannot use the keys file %s: %m", path);
        r = mkdir_parents(dirname(copy), 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create the directory of the keys file %s: %m", path);
        return 0;
}

static int send_first_enrollment(AtClient *client, AtKeys *keys) {
        _cleanup_free_ char *enc_private = NULL, *enc_self = NULL, *apkam_public = NULL, *command = NULL,
                            *answer = NULL, *id = NULL, *status = NULL;
        int r;

        r = apkam_wrap_default_keys(keys, keys->apkam_symmetric_key, &enc_private, &enc_self);
        if (r < 0)
                return log_error_errno(r, "Failed to encrypt the keys for the first enrollment: %m");
        r = at_rsa_public_to_base64(keys->pkam_public, &apkam_public);
        if (r < 0)
                return log_error_errno(r, "Failed to encode the APKAM public key: %m");

        /* at_auth_impl.dart: _defaultAppNameForOnboarding / _defaultDeviceNameForOnboarding */
        r = enroll_request_command(&(EnrollRequest) {
                                           .app_name = "firstApp",
                                           .device_name = "firstDevice",
                                           .encrypted_default_encryption_private_key = enc_private,
                                           .encrypted_default_self_encryption_key = enc_self,
                                           .apkam_public_key = apkam_public,
                                   },
                                   &command);
        if (r < 0)
                return log_error_errno(r, "Failed to build the first enrollment request: %m");

        r = activate_send(client, "send the first enrollment request", command, &answer);
        if (r < 0)
                return r;
        r = enroll_response_parse(answer, &id, &status);
        if (r < 0)
                return log_error_errno(r, "The atServer of %s answered the first enrollment request with something "
                                       "unexpected.", keys->atsign);
        if (!streq(status, "approved"))
                return log_error_errno(EPROTO, "The first enrollment %s of %s was not approved (status '%s').", id,
                                       keys->atsign, status);
        log_info("First enrollment %s approved.", id);
        keys->enrollment_id = TAKE_PTR(id);
        return 0;
}

static int publish_and_clean_up(AtClient *client, const AtKeys *keys) {
        _cleanup_free_ char *public_b64 = NULL, *command = NULL;
        int r;

        r = at_rsa_public_to_base64(keys->encrypt_public, &public_b64);
        if (r < 0)
                return log_error_errno(r, "Failed to encode the encryption public key: %m");
        if (asprintf(&command, "update:public:publickey%s %s", keys->atsign, public_b64) < 0)
                return log_oom();
        r = activate_send(client, "publish public:publickey", command, NULL);
        if (r < 0)
                return r;

        /* at_auth_impl.dart step 8: delete the CRAM secret (AtConstants.atCramSecret) */
        return activate_send(client, "delete the CRAM secret", "delete:privatekey:at_secret", NULL);
}

int activate_onboard(const ActivateOptions *o) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        _cleanup_(at_client_freep) AtClient *cram_client = NULL, *pkam_client = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = activate_keys_path(o, &path);
        if (r < 0)
                return log_error_errno(r, "Failed to find the keys file path for %s: %m", o->atsign);
        r = activate_prepare_keys_path(path);
        if (r < 0)
                return r;

        r = activate_connect(o, NULL, o->cram_secret, &cram_client);
        if (r == -EACCES) /* the atServer refused the digest */
                return log_error_errno(r, "Onboarding %s failed: its atServer refused the CRAM secret (wrong secret, "
                                       "or already activated?).", o->atsign);
        if (r < 0) /* what failed (root, TLS, connection) is logged above */
                return log_error_errno(r, "Onboarding %s failed: %m", o->atsign);
        log_info("CRAM login to %s at %s:%u succeeded.", o->atsign, at_client_secondary_host(cram_client),
                 at_client_secondary_port(cram_client));

        r = apkam_generate_onboarding_keys(o->atsign, &keys);
        if (r < 0)
                return r;
        r = send_first_enrollment(cram_client, keys);
        if (r < 0)
                return r;
        at_client_free(TAKE_PTR(cram_client));

        /* at_auth_impl.dart steps 4-6: reconnect and prove the new APKAM keys work */
        r = activate_connect(o, keys, NULL, &pkam_client);
        if (r < 0)
                return log_error_errno(r, "Onboarding %s failed: PKAM login with the new enrollment %s failed.",
                                       o->atsign, keys->enrollment_id);

        /* Saved before the CRAM secret goes: from here on the keys are the only way in. */
        r = at_keys_save(keys, path, false);
        if (r < 0)
                return log_error_errno(r, "Failed to write the keys file %s for %s: %m", path, o->atsign);

        r = publish_and_clean_up(pkam_client, keys);
        if (r < 0)
                return log_error_errno(r, "Onboarding %s is incomplete; its keys file is %s.", o->atsign, path);

        printf("Activated %s (enrollment %s). Keys file: %s\n", o->atsign, keys->enrollment_id, path);
        return 0;
}
