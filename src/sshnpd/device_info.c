/* SPDX-License-Identifier: BSD-3-Clause */
/* What the daemon tells its managers about itself: the ping answer (heartbeat), and the
 * device_info and username records (upstream sshnpd_impl.dart: _handlePingNotification,
 * _shareDeviceInfo / _shareUsername; spec §6). */
#include <pwd.h>

#include <sodium.h>

#include "aes.h"
#include "base64.h"
#include "dart_json.h"
#include "capabilities.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"
#include "verbs.h"

#define HEARTBEAT_TTL_MS 10000
#define DEVICE_INFO_TTL_MS 2592000000LL /* 30 days */

int device_info_json(SshnpdProtocol *p, char **ret) {
        SshnpdArgs *a = p->daemon->args;
        _cleanup_strv_free_ char **services = NULL;
        _cleanup_free_ char *core = NULL;
        json_t *j = NULL;
        NpPing ping;
        int r;

        services = calloc(p->permit_open->n_entries + 1, sizeof(char *));
        if (!services)
                return -ENOMEM;
        for (size_t i = 0; i < p->permit_open->n_entries; i++) {
                r = permit_open_entry_to_string(p->permit_open, i, &services[i]);
                if (r < 0)
                        return r;
        }
        if (asprintf(&core, "c%s", NOPORTS_VERSION) < 0)
                return -ENOMEM;
        ping = (NpPing){
                .device_name = a->device,
                .device_group_name = a->device_group,
                .version = (char *) NOPORTS_VERSION,
                .core_package_version = core,
                .has_supported_features = true,
                .features = sshnpd_features(a),
                .features_present = sshnpd_features_present(a),
                .allowed_services = services,
                .np_cp_version = (char *) sshnpd_np_cp_version(sshnpd_features_implemented(a)),
        };
        r = np_ping_to_json(&ping, &j);
        if (r < 0)
                return r;
        r = dart_json_encode(j, ret);
        json_decref(j);
        return r;
}

int device_info_answer_ping(SshnpdProtocol *p, const char *from) {
        _cleanup_free_ char *json = NULL, *key = NULL;
        int r;

        r = device_info_json(p, &json);
        if (r < 0)
                return log_error_errno(r, "Cannot build the ping answer: %m");
        if (asprintf(&key, "heartbeat.%s.sshnp", p->daemon->args->device) < 0)
                return log_oom();
        r = protocol_notify(p, from, key, json, HEARTBEAT_TTL_MS);
        if (r < 0)
                return log_warning_errno(r, "Cannot answer the ping from %s: %m", from);
        log_debug("Answered a ping from %s", from);
        return 0;
}

/* update of "@<manager>:<name>.<dev>.sshnp@<me>", encrypted with the shared key as an atClient
 * put does (AES-256-CTR + PKCS#7, ivNonce) */
static int put_shared(SshnpdProtocol *p, const char *manager, const char *name, const char *value, int64_t ttl_ms) {
        Sshnpd *d = p->daemon;
        _cleanup_free_ char *key = NULL, *ct = NULL, *iv_b64 = NULL;
        uint8_t skey[AT_AES_KEY_SIZE], iv[AT_AES_IV_SIZE];
        AtMetadata md = { .has_ttr = true, .ttr = -1, .ccd = AT_TRUE, .is_encrypted = AT_TRUE };
        int r;

        if (asprintf(&key, "%s:%s.%s.sshnp%s", manager, name, d->args->device, d->args->atsign) < 0)
                return -ENOMEM;
        r = at_shared_key_for_sending(p->shared_keys, p->cmd, manager, skey, NULL, NULL);
        if (r < 0)
                return r;
        at_random_bytes(iv, sizeof(iv));
        r = at_aes_encrypt_b64(skey, iv, value, strlen(value), &ct);
        sodium_memzero(skey, sizeof(skey));
        if (r < 0)
                return r;
        r = at_base64_encode(iv, sizeof(iv), &iv_b64);
        if (r < 0)
                return r;
        if (ttl_ms > 0) {
                md.has_ttl = true;
                md.ttl = ttl_ms;
        }
        md.iv_nonce = iv_b64; /* borrowed: not freed through md */
        r = at_verb_update(at_client_conn(p->cmd), key, &md, ct, at_client_command_timeout(p->cmd));
        md.iv_nonce = NULL;
        at_metadata_done(&md);
        return r;
}

static int delete_shared(SshnpdProtocol *p, const char *manager, const char *name) {
        _cleanup_free_ char *key = NULL;
        Sshnpd *d = p->daemon;

        if (asprintf(&key, "%s:%s.%s.sshnp%s", manager, name, d->args->device, d->args->atsign) < 0)
                return -ENOMEM;
        return at_verb_delete(at_client_conn(p->cmd), key, at_client_command_timeout(p->cmd));
}

int device_info_publish(SshnpdProtocol *p) {
        SshnpdArgs *a = p->daemon->args;
        _cleanup_free_ char *json = NULL;
        struct passwd *pw = getpwuid(geteuid());
        const char *user = pw ? pw->pw_name : getenv("USER");
        int r;

        if (a->hide) {
                for (char **m = a->managers; m && *m; m++) {
                        (void) delete_shared(p, *m, "device_info");
                        (void) delete_shared(p, *m, "username");
                }
                return 0;
        }
        r = device_info_json(p, &json);
        if (r < 0)
                return log_error_errno(r, "Cannot build device_info: %m");
        for (char **m = a->managers; m && *m; m++) {
                r = put_shared(p, *m, "device_info", json, DEVICE_INFO_TTL_MS);
                if (r < 0)
                        log_warning_errno(r, "Cannot share device_info with %s: %m", *m);
                if (user && a->un_hide) {
                        r = put_shared(p, *m, "username", user, 0);
                        if (r < 0)
                                log_warning_errno(r, "Cannot share the username with %s: %m", *m);
                }
        }
        log_debug("Shared device_info%s with the managers", user && a->un_hide ? " and username" : "");
        return 0;
}
