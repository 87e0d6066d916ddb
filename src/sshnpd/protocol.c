/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnpd's atProtocol side: connect (and keep reconnecting), monitor "<dev>.sshnp" notifications,
 * admit only managers, dispatch. Upstream: noports_core sshnpd/sshnpd_impl.dart (run, _handle*). */
#include <ctype.h>
#include <systemd/sd-daemon.h>

#include "cached_pks.h"
#include "cli.h"
#include "log.h"
#include "notify.h"
#include "protocol.h"
#include "verbs.h"

/* upstream sshnpd_impl.dart: device_info is refreshed every hour */
#define DEVICE_INFO_REFRESH_USEC (3600ULL * 1000000ULL)

static AtMonitor *monitor_drop(AtMonitor *m) {
        at_monitor_free(m);
        return NULL;
}

static void protocol_status(SshnpdProtocol *p, const char *what) {
        Sshnpd *d = p->daemon;
        (void) sd_notifyf(false, "STATUS=%s; %u session%s active", what, d->n_sessions, d->n_sessions == 1 ? "" : "s");
}

static bool is_manager(SshnpdProtocol *p, const char *atsign) {
        for (char **m = p->daemon->args->managers; m && *m; m++)
                if (streq(*m, atsign))
                        return true;
        return false;
}

static void lower(char *s) {
        for (; *s; s++)
                *s = (char) tolower((unsigned char) *s);
}

static void on_notification(AtMonitor *m, const AtNotification *n, const char *value, int error, void *userdata) {
        SshnpdProtocol *p = userdata;
        Sshnpd *d = p->daemon;
        _cleanup_free_ char *key = NULL, *from = NULL, *suffix = NULL;
        size_t klen, slen, plen = strlen(d->args->atsign) + 1;
        char *kind;

        if (!n->from || !n->key || at_notification_is_delete(n))
                return;
        if (cli_atsign_normalize(n->from, &from) < 0 || !(key = strdup(n->key)))
                return;
        lower(key); /* upstream lower-cases received keys */
        if (asprintf(&suffix, "%s%s", p->key_suffix, from) < 0)
                return;
        klen = strlen(key);
        slen = strlen(suffix);
        /* "@<me>:<kind>.<dev>.sshnp@<from>" */
        if (klen <= plen + slen || key[0] != '@' || strncmp(key, d->args->atsign, plen - 1) != 0 ||
            key[plen - 1] != ':' || !streq(key + klen - slen, suffix)) {
                log_debug("Ignoring notification %s from %s", n->key, from);
                return;
        }
        key[klen - slen] = 0;
        kind = key + plen;

        /* the sender is checked before anything else is done for it (upstream 0.2.0 C did not) */
        if (!is_manager(p, from)) {
                log_fields(LOG_NOTICE, 0, FIELDS(d->atsign_field, d->device_field),
                           "Ignoring %s from %s: not in --managers list", kind, from);
                return;
        }
        if (!value) {
                /* the monitor already tried the key it carries, the cached one and a lookup */
                log_warning_errno(error, "Cannot decrypt %s from %s: %m", kind, from);
                return;
        }

        if (streq(kind, "ping"))
                (void) device_info_answer_ping(p, from);
        else if (streq(kind, "sshpublickey")) {
                if (!d->args->sshpublickey)
                        log_notice("Ignoring an ssh public key from %s: sshnpd runs without -s", from);
                else {
                        const char *home = getenv("HOME");
                        int r = authorized_keys_add(home ?: "/", d->args->sshpublickey_permissions, value);
                        if (r < 0)
                                log_warning_errno(r, "Not adding the ssh public key from %s: %m", from);
                        else
                                log_info("Added an ssh public key from %s to authorized_keys", from);
                }
        } else if (streq(kind, "ssh_request") || streq(kind, "npt_request"))
                requests_handle(p, n, from, kind, value);
        else
                log_debug("Ignoring unknown request '%s' from %s", kind, from);
}

/* Serving needs both the monitor and the command connection: announced once both are up. */
static void check_serving(SshnpdProtocol *p) {
        Sshnpd *d = p->daemon;

        if (!at_monitor_is_connected(p->monitor) || !at_client_is_connected(p->cmd)) {
                if (!d->ready) /* systemd hears of the first outcome either way, as before */
                        (void) sd_notify(false, "READY=1");
                return;
        }
        protocol_status(p, "Serving");
        if (p->announced)
                return;
        p->announced = true;
        /* the e2e harness of upstream waits for this line */
        log_fields(LOG_INFO, 0, FIELDS(d->atsign_field, d->device_field),
                   "Monitor for %s device %s: monitor started (regex %s)", d->args->atsign, d->args->device,
                   p->regex);
        d->ready = true;
        sshnpd_notify_status(d);
}

static void on_monitor_state(AtMonitor *m, int error, void *userdata) {
        SshnpdProtocol *p = userdata;

        if (error < 0) {
                log_warning_errno(error, "atServer monitor connection down, reconnecting: %m");
                protocol_status(p, "Reconnecting to the atServer");
        } else
                log_info("Monitor connection to the atServer up");
        check_serving(p);
}

static void on_client_state(AtClient *client, int error, void *userdata) {
        SshnpdProtocol *p = userdata;

        if (error < 0)
                protocol_status(p, "Reconnecting to the atServer");
        else
                (void) device_info_publish(p);
        check_serving(p);
}

typedef struct NotifyReply {
        char *recipient, *key;
} NotifyReply;

static void on_notified(int error, const char *id, void *userdata) {
        NotifyReply *q = userdata;

        if (error >= 0)
                log_debug("Notified %s of %s (id %s)", q->recipient, q->key, id ?: "?");
        /* failures are logged by the library; a lost connection is reconnected by the client */
        free(q->recipient);
        free(q->key);
        free(q);
}

int protocol_notify(SshnpdProtocol *p, const char *recipient, const char *key, const char *value, int64_t ttl_ms) {
        AtNotifyMessage msg = {
                .recipient = recipient, .key = key, .value = value, .ttl_ms = ttl_ms,
                .ttln_ms = 60000, /* upstream: every NoPorts notification expires after a minute */
                .operation = AT_NOTIFY_UPDATE,
        };
        NotifyReply *q;
        int r;

        q = calloc(1, sizeof(*q));
        if (!q || !(q->recipient = strdup(recipient)) || !(q->key = strdup(key))) {
                if (q)
                        free(q->recipient);
                free(q);
                return -ENOMEM;
        }
        r = at_notify_send_async(p->cmd, p->shared_keys, &msg, on_notified, q);
        if (r < 0) {
                free(q->recipient);
                free(q->key);
                free(q);
        }
        return r;
}

typedef struct PublicKeyLookup {
        SshnpdProtocol *protocol;
        char *atsign;
        ProtocolPublicKeyHandler handler;
        void *userdata;
} PublicKeyLookup;

/* The signer's current key against the pinned one (upstream: sshnpd_impl.dart verifyRequestSignature,
 * "Likely that the client atSign's public key has changed"). */
static int public_key_pin(SshnpdProtocol *p, const char *atsign, const char *current) {
        CachedPkState state;
        int r, store_error;

        if (!p->cached_pks_dir)
                return 0;
        r = cached_pks_check(p->cached_pks_dir, atsign, current, p->strict, &state, &store_error);
        if (r < 0)
                return r;
        if (store_error < 0)
                log_warning_errno(store_error, "Cannot cache the public key of %s in %s: %m", atsign,
                                  p->cached_pks_dir);
        if (state != CACHED_PK_CHANGED)
                return 0;
        if (p->strict) {
                log_fields(LOG_WARNING, 0, FIELDS(p->daemon->atsign_field, p->daemon->device_field),
                           "The public key of %s differs from the one cached in %s: refusing its requests "
                           "(--strict; start sshnpd once with --clear-cached-pks to accept the new key)",
                           atsign, p->cached_pks_dir);
                return -EKEYREJECTED;
        }
        log_fields(LOG_WARNING, 0, FIELDS(p->daemon->atsign_field, p->daemon->device_field),
                   "The public key of %s changed since it was cached in %s; caching the new key (no --strict)",
                   atsign, p->cached_pks_dir);
        return 0;
}

static void on_public_key(AtConn *conn, int error, const char *data, void *userdata) {
        PublicKeyLookup *q = userdata;
        SshnpdProtocol *p = q->protocol;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pk = NULL;
        _cleanup_free_ char *pinned = NULL;

        if (error == -ECANCELED) { /* stopping: the protocol is going away */
                q->handler(error, NULL, q->userdata);
                goto finish;
        }
        if (error >= 0 && streq(data, "null"))
                error = -ENOENT;
        if (error >= 0) {
                error = public_key_pin(p, q->atsign, data);
                if (error >= 0)
                        error = at_rsa_public_from_base64(data, &pk);
        } else if (p->cached_pks_dir && cached_pks_load(p->cached_pks_dir, q->atsign, &pinned) >= 0 && pinned &&
                   at_rsa_public_from_base64(pinned, &pk) >= 0) {
                log_info_errno(error, "Cannot look up the public key of %s (%m), using the cached one", q->atsign);
                error = 0;
        }
        q->handler(error, error < 0 ? NULL : pk, q->userdata);
finish:
        free(q->atsign);
        free(q);
}

int protocol_public_key_async(SshnpdProtocol *p, const char *atsign, ProtocolPublicKeyHandler handler,
                              void *userdata) {
        _cleanup_free_ char *cmd = NULL;
        PublicKeyLookup *q;
        int r;

        /* every time: a key changed on the atServer must be seen without a restart */
        if (asprintf(&cmd, "plookup:bypassCache:true:publickey%s", atsign) < 0)
                return -ENOMEM;
        q = calloc(1, sizeof(*q));
        if (!q || !(q->atsign = strdup(atsign))) {
                free(q);
                return -ENOMEM;
        }
        q->protocol = p;
        q->handler = handler;
        q->userdata = userdata;
        r = at_client_command_async(p->cmd, cmd, on_public_key, q); /* waits for a reconnect */
        if (r < 0) {
                free(q->atsign);
                free(q);
        }
        return r;
}

/* --clear-cached-pks, --[no-]strict (upstream default: strict only with a policy service) */
static void public_keys_setup(SshnpdProtocol *p) {
        SshnpdArgs *a = p->daemon->args;
        int r;

        p->strict = a->strict > 0 || (a->strict < 0 && a->policy_manager);
        r = cached_pks_dir_default(&p->cached_pks_dir);
        if (r < 0) {
                log_warning_errno(r, "No directory for cached client public keys (neither $STATE_DIRECTORY nor "
                                  "$HOME): keys are not pinned%s: %m", p->strict ? ", --strict has no effect" : "");
                return;
        }
        if (!a->clear_cached_pks)
                return;
        r = cached_pks_clear(p->cached_pks_dir);
        if (r < 0)
                log_warning_errno(r, "Cannot clear the cached client public keys in %s: %m", p->cached_pks_dir);
        else
                log_notice("Cleared %d cached client public key%s from %s", r, r == 1 ? "" : "s", p->cached_pks_dir);
}

static int on_refresh(sd_event_source *s, uint64_t usec, void *userdata) {
        SshnpdProtocol *p = userdata;

        if (at_client_is_connected(p->cmd))
                (void) device_info_publish(p);
        (void) sd_event_source_set_time_relative(s, DEVICE_INFO_REFRESH_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* A new monitor (at start and reload): it connects on its own, from the loop. */
static int monitor_begin(SshnpdProtocol *p) {
        AtMonitorOptions mo = { .regex = p->regex };
        int r;

        p->monitor = monitor_drop(p->monitor);
        r = at_monitor_new(p->daemon->event, p->cmd, p->shared_keys, &mo, on_notification, p, &p->monitor);
        if (r < 0)
                return r;
        at_monitor_set_state_handler(p->monitor, on_monitor_state, p);
        return at_monitor_start_async(p->monitor);
}

static int parse_root(const char *root, char **ret_host, uint16_t *ret_port) {
        const char *colon = strrchr(root, ':');

        *ret_port = 64; /* upstream: root.atsign.org:64 */
        if (colon && cli_parse_port(colon + 1, false, ret_port) >= 0)
                *ret_host = strndup(root, (size_t) (colon - root));
        else
                *ret_host = strdup(root);
        return *ret_host ? 0 : -ENOMEM;
}

int sshnpd_protocol_start(Sshnpd *d) {
        SshnpdArgs *a = d->args;
        _cleanup_free_ char *root_host = NULL, *permit = NULL;
        SshnpdProtocol *p;
        AtClientOptions o = {};
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return log_oom();
        p->daemon = d;
        d->protocol = p;

        r = at_keys_load(a->key_file, &p->keys);
        if (r < 0)
                return log_error_errno(r, "Cannot load the keys of %s from %s: %m", a->atsign, a->key_file);
        if (p->keys->atsign && !streq(p->keys->atsign, a->atsign))
                return log_error_errno(-EINVAL, "%s holds the keys of %s, not %s", a->key_file, p->keys->atsign,
                                       a->atsign);
        public_keys_setup(p);
        permit = cli_strv_join(a->permit_open, ",");
        if (!permit)
                return log_oom();
        r = permit_open_parse(permit, &p->permit_open);
        if (r < 0)
                return log_error_errno(r, "Invalid --permit-open %s: %m", permit);

        if (asprintf(&p->key_suffix, ".%s.sshnp", a->device) < 0 ||
            asprintf(&p->regex, "\\.%s\\.sshnp@", a->device) < 0)
                return log_oom();
        r = parse_root(a->root_server, &root_host, &o.root_port);
        if (r < 0)
                return log_oom();
        o.atsign = a->atsign;
        o.keys = p->keys;
        o.root_host = root_host;
        o.ca_file = a->ca_file;
        if ((r = at_client_new(&o, &p->cmd)) < 0 || (r = at_shared_keys_new(&p->shared_keys)) < 0)
                return log_error_errno(r, "Cannot set up the atProtocol client: %m");

        /* nothing here blocks: the connections are made from the loop and kept up with backoff */
        r = at_client_start(p->cmd, d->event, on_client_state, p);
        if (r >= 0)
                r = monitor_begin(p);
        if (r >= 0)
                r = sd_event_add_time_relative(d->event, &p->refresh, CLOCK_MONOTONIC, DEVICE_INFO_REFRESH_USEC, 0,
                                               on_refresh, p);
        if (r < 0)
                return log_error_errno(r, "Cannot schedule the atServer connection: %m");
        protocol_status(p, "Connecting to the atServer");
        return 0;
}

int sshnpd_protocol_reload(Sshnpd *d) {
        SshnpdProtocol *p = d->protocol;
        int r;

        if (!p)
                return 0;
        r = at_client_restart(p->cmd);
        if (r >= 0)
                r = monitor_begin(p);
        return r;
}

void sshnpd_protocol_stop(Sshnpd *d) {
        SshnpdProtocol *p = d->protocol;

        if (!p)
                return;
        requests_free_pending(p);
        at_monitor_free(p->monitor);
        sd_event_source_disable_unref(p->refresh);
        /* closing the connection ends the commands in flight (-ECANCELED) while p still exists */
        at_client_free(p->cmd);
        at_shared_keys_free(p->shared_keys);
        at_keys_free(p->keys);
        permit_open_free(p->permit_open);
        free(p->cached_pks_dir);
        free(p->regex);
        free(p->key_suffix);
        free(p);
        d->protocol = NULL;
}
