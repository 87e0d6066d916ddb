/* SPDX-License-Identifier: BSD-3-Clause */
/* Key naming as upstream stores keys (abstract_update_verb_handler.dart): "public:k@alice",
 * "@bob:k@alice" (shared), "k@alice" (self), "cached:..." (copies of others' keys), and the
 * reserved "privatekey:at_pkam_publickey" / "privatekey:at_secret". Keys are lower-case. */
#include <ctype.h>
#include <string.h>

#include "server.h"

int ats_key_compose(const AtsCommand *c, const char *owner, char **ret) {
        char *s;
        int r;

        if (!c->key)
                return -EINVAL;
        if (strneq(c->key, "privatekey:", 11)) {
                s = strdup(c->key);
        } else {
                r = asprintf(&s, "%s%s%s%s%s%s%s", c->cached ? "cached:" : "", c->public_scope ? "public:" : "",
                             c->for_atsign ? "@" : "", c->for_atsign ? c->for_atsign : "", c->for_atsign ? ":" : "",
                             c->key, owner ? owner : "");
                if (r < 0)
                        s = NULL;
        }
        if (!s)
                return -ENOMEM;
        if (strlen(s) > ATS_KEY_MAX + 64) {
                free(s);
                return -ENAMETOOLONG;
        }
        for (char *p = s; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        *ret = s;
        return 0;
}

/* scan_verb_handler.dart _isPrivateKeyForAtSign: hidden unless showHidden */
bool ats_key_is_hidden(const char *key) {
        return strneq(key, "public:_", 8) || key[0] == '_';
}

/* The namespace of a key: the text after the last '.' of the name part (before the owner). */
static void key_namespace(const char *key, char *buf, size_t size) {
        const char *colon = strrchr(key, ':');
        const char *name = colon ? colon + 1 : key;
        const char *at = strchr(name, '@');
        size_t n = at ? (size_t) (at - name) : strlen(name);
        const char *dot = memrchr(name, '.', n);
        buf[0] = 0;
        if (!dot)
                return;
        size_t len = n - (size_t) (dot + 1 - name);
        if (len >= size)
                len = size - 1;
        memcpy(buf, dot + 1, len);
        buf[len] = 0;
}

bool ats_session_may_access(AtsSession *ss, const char *key, bool write) {
        _cleanup_(ats_enrollment_freep) AtsEnrollment *e = NULL;
        char ns[256];

        if (!ss->enrollment_id)
                return true; /* legacy PKAM and CRAM: everything */
        if (!write && strneq(key, "public:", 7))
                return true;
        if (ats_store_enrollment_get(ss->server->store, ss->hosted->atsign, ss->enrollment_id, &e) < 0)
                return false;
        if (!streq(e->status, "approved"))
                return false;
        key_namespace(key, ns, sizeof ns);
        /* enroll_verb_handler / abstract_verb_handler isAuthorized: "*" or ".*" grants all
         * namespaces; __manage grants everything for the first (onboarding) enrollment */
        const char *k;
        json_t *v;
        json_object_foreach(e->namespaces, k, v) {
                const char *access = json_string_value(v);
                if (!access)
                        continue;
                bool ok = !write || strchr(access, 'w');
                if (!ok)
                        continue;
                if (streq(k, "*") || streq(k, ".*") || streq(k, "__manage") || (ns[0] && streq(k, ns)))
                        return true;
        }
        return false;
}
