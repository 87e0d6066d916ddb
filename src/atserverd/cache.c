/* SPDX-License-Identifier: BSD-3-Clause */
/* "cached:" copies of keys that other atSigns share with a hosted atSign, kept as at_server
 * keeps them: the receiving server caches a notified update that carries a ttr
 * (notify_verb_handler.dart _handlePolAuthenticatedConnection), a notified delete removes the
 * copy when it was cached with ccd (_removeCachedKey), and lookup answers from a copy that is
 * live and not due for refresh (caching/cache_manager.dart get). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "server.h"

static int cached_name(const char *key, char **ret) {
        char *s;
        if (asprintf(&s, "cached:%s", key) < 0)
                return -ENOMEM;
        for (char *p = s; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        *ret = s;
        return 0;
}

/* Only keys shared with the receiver (or public), owned by the atSign that sent them, may be
 * cached in the receiver's store. */
static bool cacheable(const AtsNotification *n) {
        size_t lo = strlen(n->owner), lk = strlen(n->key), lf = strlen(n->from);
        if (!n->message_type || !streq(n->message_type, "key"))
                return false;
        if (!(strncasecmp(n->key, n->owner, lo) == 0 && n->key[lo] == ':') && !strneq(n->key, "public:", 7))
                return false;
        return lk > lf && strcasecmp(n->key + lk - lf, n->from) == 0;
}

int ats_cache_on_notification(AtsServer *s, const AtsNotification *n, const AtsMetadata *m) {
        _cleanup_(ats_record_freep) AtsRecord *old = NULL;
        _cleanup_free_ char *key = NULL;
        int64_t now = ats_now_ms();
        int r;

        if (!n->key || !n->from || !cacheable(n))
                return 0;
        bool delete = n->operation && streq(n->operation, "delete");
        /* an update without ttr is not cached; a delete removes the copy whatever its ttr */
        if (!delete && m->ttr == ATS_UNSET)
                return 0;
        r = cached_name(n->key, &key);
        if (r < 0)
                return r;
        if (strlen(key) > ATS_KEY_MAX) {
                log_notice("not caching %s for %s: key longer than %d", key, n->owner, ATS_KEY_MAX);
                return -ENAMETOOLONG;
        }
        r = ats_store_get(s->store, n->owner, key, now, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        if (delete) {
                json_t *ccd = old ? json_object_get(old->meta, "ccd") : NULL;
                if (!json_is_true(ccd))
                        return 0;
                r = ats_store_delete(s->store, n->owner, key, NULL);
                if (r >= 0)
                        log_info("cached key %s of %s removed (cascade delete)", key, n->owner);
                return r == -ENOENT ? 0 : r;
        }
        if (n->value)
                r = ats_store_put(s->store, n->owner, key, n->value, m, n->from, now, NULL);
        else if (old)
                r = ats_store_put_meta(s->store, n->owner, key, m, now, NULL);
        else
                return 0;
        if (r >= 0)
                log_debug("cached %s for %s", key, n->owner);
        return r;
}

int ats_cache_get(AtsServer *s, const char *atsign, const char *key, int64_t now, AtsRecord **ret) {
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        r = cached_name(key, &name);
        if (r < 0)
                return r;
        r = ats_store_get(s->store, atsign, name, now, &rec);
        if (r < 0)
                return r;
        json_t *ttr = json_object_get(rec->meta, "ttr");
        /* ttr -1: the owner lets us keep it until told otherwise */
        bool fresh = (json_is_integer(ttr) && json_integer_value(ttr) == -1) ||
                     (rec->refresh_at > 0 && now <= rec->refresh_at);
        if (!fresh)
                return -ESTALE;
        *ret = TAKE_PTR(rec);
        return 0;
}
