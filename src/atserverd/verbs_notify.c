/* SPDX-License-Identifier: BSD-3-Clause */
/* notify, notify:status/list/fetch/remove and monitor, after at_server's
 * notify_verb_handler.dart, notification/resource_manager.dart (the forwarded command body),
 * notify_status_verb_handler.dart, notify_list_verb_handler.dart and monitor_verb_handler.dart. */
#include <ctype.h>
#include <string.h>

#include "log.h"
#include "server.h"

#define DEFAULT_TTLN_MS (24LL * 60 * 60 * 1000)

static json_t *notification_meta(const AtsMetadata *m) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        const struct {
                const char *name, *value;
        } f[] = {
                { "encKeyName", m->enc_key_name },   { "encAlgo", m->enc_algo },
                { "ivNonce", m->iv_nonce },          { "skeEncKeyName", m->ske_enc_key_name },
                { "skeEncAlgo", m->ske_enc_algo },   { "sharedKeyEnc", m->shared_key_enc },
                { "pubKeyCS", m->pub_key_cs },
        };
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (f[i].value)
                        json_object_set_new(o, f[i].name, json_string(f[i].value));
        if (m->ttr != ATS_UNSET)
                json_object_set_new(o, "ttr", json_integer(m->ttr));
        if (m->ccd >= 0)
                json_object_set_new(o, "ccd", json_boolean(m->ccd));
        if (m->ttl != ATS_UNSET)
                json_object_set_new(o, "ttl", json_integer(m->ttl));
        return o;
}

/* The notify command one atServer sends another (resource_manager.dart
 * _prepareNotificationCommandBody), without the leading "notify:". */
static int forward_body(const AtsNotification *n, const AtsMetadata *m, int64_t ttln, char **ret) {
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "id:%s:%s:messageType:%s:notifier:SYSTEM:ttln:%" PRIi64, n->id, n->operation, n->message_type, ttln);
        if (m->ttl != ATS_UNSET)
                fprintf(f, ":ttl:%" PRIi64, m->ttl);
        if (m->ttb != ATS_UNSET)
                fprintf(f, ":ttb:%" PRIi64, m->ttb);
        if (m->ttr != ATS_UNSET)
                fprintf(f, ":ttr:%" PRIi64 ":ccd:%s", m->ttr, m->ccd > 0 ? "true" : "false");
        fprintf(f, ":isEncrypted:%s", n->is_encrypted ? "true" : "false");
        const struct {
                const char *name, *value;
        } fields[] = {
                { "sharedKeyEnc", m->shared_key_enc }, { "pubKeyCS", m->pub_key_cs },
                { "encKeyName", m->enc_key_name },     { "encAlgo", m->enc_algo },
                { "ivNonce", m->iv_nonce },            { "skeEncKeyName", m->ske_enc_key_name },
                { "skeEncAlgo", m->ske_enc_algo },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i].value)
                        fprintf(f, ":%s:%s", fields[i].name, fields[i].value);
        fprintf(f, ":%s", n->key);
        if (n->value)
                fprintf(f, ":%s", n->value);
        if (fclose(f) != 0) {
                free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

typedef struct ForwardContext {
        char *owner, *id;
} ForwardContext;

static void forward_done(AtsServer *s, int error, const char *response, void *userdata) {
        ForwardContext *ctx = userdata;
        _cleanup_(ats_notification_freep) AtsNotification *n = NULL;
        if (ats_store_notification_get(s->store, ctx->owner, ctx->id, &n) >= 0) {
                bool ok = error >= 0 && response && strneq(response, "data:", 5);
                int retries = n->retries + 1;
                const char *status = ok ? "delivered" : retries >= 3 ? "errored" : "queued";
                log_info("notification id=%s from=%s to=%s %s", n->id, n->from, n->to, status);
                (void) ats_store_notification_set_status(s->store, ctx->owner, ctx->id, status, retries);
        }
        free(ctx->owner);
        free(ctx->id);
        free(ctx);
}

static int forward(AtsServer *s, const AtsNotification *n) {
        AtsHosted *h = ats_server_find_hosted(s, n->owner);
        ForwardContext *ctx = calloc(1, sizeof *ctx);
        if (!h || !ctx || !n->command) {
                free(ctx);
                return -EINVAL;
        }
        ctx->owner = strdup(n->owner);
        ctx->id = strdup(n->id);
        int r = ctx->owner && ctx->id ? ats_outbound_notify(s, h, n->to, n->command, forward_done, ctx) : -ENOMEM;
        if (r < 0) {
                free(ctx->owner);
                free(ctx->id);
                free(ctx);
        }
        return r;
}

void ats_outbound_retry_queued(AtsServer *s) {
        AtsNotification **l = NULL;
        size_t n = 0;
        if (ats_store_notifications_queued(s->store, ats_now_ms(), &l, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                (void) forward(s, l[i]);
        ats_notifications_free(l, n);
}

int ats_notify_send(AtsServer *s, AtsNotification *n, const AtsMetadata *m, int64_t ttln) {
        AtsHosted *other = ats_server_find_hosted(s, n->to);
        int r;

        n->type = ATS_NOTIFICATION_SENT;
        if (other) {
                /* both atSigns live here: the receiving copy is stored directly */
                n->status = (char *) "delivered";
                r = ats_store_notification_add(s->store, n);
                if (r >= 0) {
                        AtsNotification rcv = *n;
                        rcv.type = ATS_NOTIFICATION_RECEIVED;
                        rcv.owner = other->atsign;
                        rcv.command = NULL;
                        /* cached before the monitors hear of it, so a lookup they make finds it */
                        if (ats_cache_on_notification(s, &rcv, m) < 0)
                                log_warning("Failed to cache %s for %s", rcv.key, rcv.owner);
                        r = ats_notifier_deliver_local(s, &rcv);
                }
                log_info("notification id=%s from=%s to=%s delivered locally", n->id, n->from, n->to);
                return r;
        }
        n->status = (char *) "queued";
        r = forward_body(n, m, ttln, &n->command);
        if (r >= 0)
                r = ats_store_notification_add(s->store, n);
        if (r >= 0 && forward(s, n) < 0)
                log_info("notification id=%s to=%s queued for retry", n->id, n->to);
        free(n->command);
        n->command = NULL;
        return r;
}

/* abstract_update_verb_handler.dart notify() and delete_verb_handler.dart _notify(): with
 * autoNotify (upstream's default), a change to "@bob:k@alice" is notified to @bob, whose
 * server then keeps or drops its cached copy. */
void ats_notify_shared_change(AtsServer *s, AtsHosted *h, const char *key, const char *value, const AtsMetadata *m,
                              const char *operation) {
        _cleanup_free_ char *to = NULL;
        const char *colon;
        int64_t now = ats_now_ms();
        char uuid[37];
        int r;

        if (key[0] != '@' || !(colon = strchr(key, ':')))
                return;
        to = strndup(key, (size_t) (colon - key));
        if (!to || streq(to, h->atsign) || strchr(to + 1, '@'))
                return;
        ats_uuid(uuid);
        AtsNotification n = {
                .id = uuid,
                .owner = h->atsign,
                .from = h->atsign,
                .to = to,
                .key = (char *) key,
                .value = (char *) value,
                .operation = (char *) operation,
                .message_type = (char *) "key",
                .is_encrypted = m->is_encrypted > 0,
                .meta = notification_meta(m),
                .created_at = now,
                .expires_at = now + DEFAULT_TTLN_MS,
        };
        r = ats_notify_send(s, &n, m, DEFAULT_TTLN_MS);
        json_decref(n.meta);
        if (r < 0)
                log_warning_errno(r, "Failed to notify %s of the %s of %s: %m", to, operation, key);
}

static char *notification_key(const AtsCommand *c, const char *to, const char *from, bool text) {
        char *s;
        /* messageType text: the "key" is the message itself */
        if (asprintf(&s, "%s%s%s%s", c->public_scope ? "public:" : to, c->public_scope ? "" : ":", c->key,
                     text && !c->atsign ? "" : from) < 0)
                return NULL;
        return s;
}

void ats_verb_notify(AtsSession *ss, AtsCommand *c) {
        AtsServer *s = ss->server;
        _cleanup_free_ char *to = NULL, *from = NULL, *key = NULL;
        bool text = c->message_type && streq(c->message_type, "text");
        int64_t now = ats_now_ms(), ttln = c->ttln != ATS_UNSET && c->ttln > 0 ? c->ttln : DEFAULT_TTLN_MS;
        char uuid[37];
        int r;

        if (!ss->authenticated && !ss->pol_authenticated) {
                ats_reply_error(ss, "AT0401", "Notify command cannot be executed without authentication");
                return;
        }
        if (c->value && strlen(c->value) > s->limits.max_value) {
                log_notice("refused: notification value too long atsign=%s peer=%s", ss->hosted->atsign,
                           ats_conn_peer(ss->conn));
                ats_reply_error(ss, "AT0005", "value is longer than %zu bytes", s->limits.max_value);
                return;
        }
        if (c->public_scope)
                to = strdup("public");
        else if (ats_atsign_fix(c->for_atsign, &to) < 0) {
                ats_reply_error(ss, "AT0003", "invalid atSign");
                return;
        }
        if (ss->authenticated)
                r = c->atsign ? ats_atsign_fix(c->atsign, &from) : ((from = strdup(ss->hosted->atsign)) ? 0 : -ENOMEM);
        else
                r = (from = strdup(ss->from_atsign)) ? 0 : -ENOMEM;
        if (r < 0 || !to) {
                ats_reply_error(ss, "AT0003", "invalid atSign");
                return;
        }
        if (ss->authenticated && !streq(from, ss->hosted->atsign)) {
                ats_reply_error(ss, "AT0009", "cannot notify on behalf of %s", from);
                return;
        }
        key = notification_key(c, to, from, text);
        if (!key) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        if (ss->authenticated && !ats_session_may_access(ss, key, true)) {
                ats_reply_error(ss, "AT0009", "Connection with enrollment ID %s is not authorized to notify key: %s",
                                ss->enrollment_id, key);
                return;
        }
        if (!c->id)
                ats_uuid(uuid);
        AtsNotification n = {
                .id = (char *) (c->id ? c->id : uuid),
                .owner = ss->hosted->atsign,
                .from = from,
                .to = to,
                .key = key,
                .value = (char *) c->value,
                .operation = (char *) (c->operation ? c->operation : "update"),
                .message_type = (char *) (text ? "text" : "key"),
                .is_encrypted = c->meta.is_encrypted > 0,
                .meta = notification_meta(&c->meta),
                .status = (char *) "delivered",
                .created_at = now,
                .expires_at = now + ttln,
        };

        if (!ss->authenticated) {
                /* receiving side: another atServer (pol) hands us a notification for our atSign */
                if (!streq(to, ss->hosted->atsign)) {
                        json_decref(n.meta);
                        ats_reply_error(ss, "AT0009", "notification is not for %s", ss->hosted->atsign);
                        return;
                }
                n.type = ATS_NOTIFICATION_RECEIVED;
                /* notify_verb_handler.dart: an update with ttr is cached, a delete drops a
                 * copy cached with ccd; before the monitors hear of it */
                if (ats_cache_on_notification(s, &n, &c->meta) < 0)
                        log_warning("Failed to cache %s for %s", n.key, n.owner);
                r = ats_notifier_deliver_local(s, &n);
                json_decref(n.meta);
                if (r < 0)
                        ats_reply_error(ss, "AT0002", "failed to store the notification");
                else
                        ats_reply_data(ss, "success");
                return;
        }

        if (streq(to, ss->hosted->atsign)) {
                n.type = ATS_NOTIFICATION_SELF;
                r = ats_notifier_deliver_local(s, &n);
        } else if (c->public_scope) {
                n.type = ATS_NOTIFICATION_SENT;
                r = ats_store_notification_add(s->store, &n);
        } else
                r = ats_notify_send(s, &n, &c->meta, ttln);
        json_decref(n.meta);
        if (r < 0) {
                log_error_errno(r, "Failed to store notification atsign=%s: %m", ss->hosted->atsign);
                ats_reply_error(ss, "AT0002", "failed to store the notification");
                return;
        }
        ats_reply_data(ss, n.id);
}

void ats_verb_notify_status(AtsSession *ss, AtsCommand *c) {
        _cleanup_(ats_notification_freep) AtsNotification *n = NULL;
        if (ats_store_notification_get(ss->server->store, ss->hosted->atsign, c->id, &n) < 0) {
                ats_reply_data(ss, "null");
                return;
        }
        if (n->expires_at > 0 && n->expires_at <= ats_now_ms())
                ats_reply_data(ss, "expired");
        else
                ats_reply_data(ss, n->status ? n->status : "queued");
}

void ats_verb_notify_fetch(AtsSession *ss, AtsCommand *c) {
        _cleanup_(ats_notification_freep) AtsNotification *n = NULL;
        json_t *o;
        if (ats_store_notification_get(ss->server->store, ss->hosted->atsign, c->id, &n) < 0)
                /* the id is the peer's text: quoted by the JSON encoder, not pasted */
                o = json_pack("{s:s, s:s}", "id", c->id, "notificationStatus", "NotificationStatus.expired");
        else
                o = ats_notification_to_json(n);
        char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        ats_reply_data(ss, j ? j : "null");
        free(j);
}

void ats_verb_notify_remove(AtsSession *ss, AtsCommand *c) {
        (void) ats_store_notification_delete(ss->server->store, ss->hosted->atsign, c->id);
        ats_reply_data(ss, "success");
}

void ats_verb_notify_list(AtsSession *ss, AtsCommand *c) {
        AtsNotification **l = NULL;
        size_t n = 0;
        regex_t re;
        bool have_re = false;
        int r;

        if (c->regex) {
                r = ats_regex_compile(&re, c->regex);
                if (r < 0) {
                        ats_reply_bad_regex(ss, r, c->regex);
                        return;
                }
                have_re = true;
        }
        r = ats_store_notifications(ss->server->store, ss->hosted->atsign, ATS_NOTIFICATION_RECEIVED, 0, ats_now_ms(),
                                    &l, &n);
        if (r < 0) {
                if (have_re)
                        regfree(&re);
                ats_reply_error(ss, "AT0002", "failed to read notifications");
                return;
        }
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++) {
                if (have_re && regexec(&re, l[i]->key ? l[i]->key : "", 0, NULL, 0) != 0)
                        continue;
                json_array_append_new(a, ats_notification_to_json(l[i]));
        }
        ats_notifications_free(l, n);
        if (have_re)
                regfree(&re);
        char *j = a && json_array_size(a) ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        ats_reply_data(ss, j ? j : "null");
        free(j);
}

void ats_verb_monitor(AtsSession *ss, AtsCommand *c) {
        AtsNotification **l = NULL;
        size_t n = 0;

        if (c->regex && !streq(c->regex, ".*")) {
                int r = ats_regex_compile(&ss->monitor_regex, c->regex);
                if (r < 0) {
                        ats_reply_bad_regex(ss, r, c->regex);
                        return;
                }
                ss->monitor_regex_set = true;
        }
        ss->monitor = true;
        ss->monitor_self = c->self_notifications;
        log_info("monitor started atsign=%s peer=%s", ss->hosted->atsign, ats_conn_peer(ss->conn));
        /* the notifications received after the given time come first */
        if (c->epoch_ms != ATS_UNSET &&
            ats_store_notifications(ss->server->store, ss->hosted->atsign, -1, c->epoch_ms, ats_now_ms(), &l, &n) >= 0) {
                for (size_t i = 0; i < n; i++)
                        if (l[i]->type == ATS_NOTIFICATION_RECEIVED || ss->monitor_self)
                                ats_notifier_send_to(ss, l[i]);
                ats_notifications_free(l, n);
        }
        ats_session_set_idle(ss);
}
