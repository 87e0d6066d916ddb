/* SPDX-License-Identifier: BSD-3-Clause */
/* What the daemon tells its managers about itself: the ping answer (heartbeat), and the
 * device_info and username records (upstream sshnpd_impl.dart: _handlePingNotification,
 * _shareDeviceInfo / _shareUsername; spec §6). */
#include <pwd.h>

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

typedef struct SharedPut {
        SshnpdProtocol *protocol;
        char *manager, *name, *key, *value;
        int64_t ttl_ms;
} SharedPut;

static void shared_put_free(SharedPut *q) {
        free(q->manager);
        free(q->name);
        free(q->key);
        free(q->value);
        free(q);
}

static void on_stored(AtConn *conn, int error, const char *data, void *userdata) {
        SharedPut *q = userdata;

        if (error < 0 && error != -ECANCELED)
                log_warning_errno(error, "Cannot share %s with %s: %m", q->name, q->manager);
        shared_put_free(q);
}

/* With the sending key: encrypt as an atClient put does (AES-256-CTR + PKCS#7, ivNonce), store. */
static void on_shared_key(int error, const uint8_t *skey, const char *their_copy, const char *cs, void *userdata) {
        SharedPut *q = userdata;
        _cleanup_free_ char *ct = NULL, *iv_b64 = NULL;
        uint8_t iv[AT_AES_IV_SIZE];
        AtMetadata md = { .has_ttr = true, .ttr = -1, .ccd = AT_TRUE, .is_encrypted = AT_TRUE };
        int r = error;

        if (r >= 0) {
                at_random_bytes(iv, sizeof(iv));
                r = at_aes_encrypt_b64(skey, iv, q->value, strlen(q->value), &ct);
        }
        if (r >= 0)
                r = at_base64_encode(iv, sizeof(iv), &iv_b64);
        if (r >= 0) {
                if (q->ttl_ms > 0) {
                        md.has_ttl = true;
                        md.ttl = q->ttl_ms;
                }
                md.iv_nonce = iv_b64; /* borrowed: not freed through md */
                r = at_verb_update_async(at_client_conn(q->protocol->cmd), q->key, &md, ct, on_stored, q);
                md.iv_nonce = NULL;
                at_metadata_done(&md);
        }
        if (r < 0) {
                on_stored(NULL, r, NULL, q);
                return;
        }
}

/* update of "@<manager>:<name>.<dev>.sshnp@<me>", encrypted with the shared key; asynchronous,
 * failures are logged */
static int put_shared(SshnpdProtocol *p, const char *manager, const char *name, const char *value, int64_t ttl_ms) {
        Sshnpd *d = p->daemon;
        SharedPut *q;
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (SharedPut) { .protocol = p, .ttl_ms = ttl_ms };
        if (!(q->manager = strdup(manager)) || !(q->name = strdup(name)) || !(q->value = strdup(value)) ||
            asprintf(&q->key, "%s:%s.%s.sshnp%s", manager, name, d->args->device, d->args->atsign) < 0) {
                shared_put_free(q);
                return -ENOMEM;
        }
        r = at_shared_key_for_sending_async(p->shared_keys, p->cmd, manager, false, on_shared_key, q);
        if (r < 0)
                shared_put_free(q);
        return r;
}

static void on_deleted(AtConn *conn, int error, const char *data, void *userdata) {
        if (error < 0 && error != -ENOENT && error != -ECANCELED)
                log_debug_errno(error, "Cannot delete a shared record: %m");
}

static int delete_shared(SshnpdProtocol *p, const char *manager, const char *name) {
        _cleanup_free_ char *cmd = NULL;
        Sshnpd *d = p->daemon;

        if (asprintf(&cmd, "delete:%s:%s.%s.sshnp%s", manager, name, d->args->device, d->args->atsign) < 0)
                return -ENOMEM;
        return at_verb_command_async(at_client_conn(p->cmd), cmd, on_deleted, NULL);
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
