/* SPDX-License-Identifier: BSD-3-Clause */
/* update / llookup / lookup / plookup / scan / delete, after at_server's
 * update_verb_handler.dart, local_lookup_verb_handler.dart, lookup_verb_handler.dart,
 * proxy_lookup_verb_handler.dart, scan_verb_handler.dart and delete_verb_handler.dart. */
#include <ctype.h>
#include <inttypes.h>
#include <regex.h>
#include <string.h>

#include "log.h"
#include "server.h"

static bool owner_is_us(AtsSession *ss, const char *owner) {
        _cleanup_free_ char *fixed = NULL;
        if (!owner)
                return true;
        if (ats_atsign_fix(owner, &fixed) < 0)
                return false;
        return streq(fixed, ss->hosted->atsign);
}

static void reply_store_error(AtsSession *ss, int r, const char *key) {
        if (r == -ENOENT)
                ats_reply_error(ss, "AT0015", "%s does not exist in keystore", key);
        else {
                log_error_errno(r, "Store failure atsign=%s: %m", ss->hosted->atsign);
                ats_reply_error(ss, "AT0002", "failed to access the keystore");
        }
}

/* A change to a key shared with another atSign ("@bob:k@alice") is notified to it. */
static void notify_change(AtsSession *ss, const char *key, const char *value, const AtsMetadata *given,
                          const char *operation) {
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        AtsMetadata m;

        if (key[0] != '@')
                return;
        /* the metadata as stored: an update keeps what it does not mention */
        if (given && ats_store_get(ss->server->store, ss->hosted->atsign, key, ats_now_ms(), &rec) >= 0)
                ats_metadata_from_json(rec->meta, &m);
        else if (given)
                m = *given;
        else
                ats_metadata_init(&m);
        ats_notify_shared_change(ss->server, ss->hosted, key, value, &m, operation);
}

void ats_verb_update(AtsSession *ss, AtsCommand *c) {
        _cleanup_free_ char *key = NULL;
        int64_t commit;
        int r;

        if (!owner_is_us(ss, c->atsign)) {
                ats_reply_error(ss, "AT0016", "Invalid update command - sharedBy atsign @%s should be same as current atsign %s",
                                c->atsign, ss->hosted->atsign);
                return;
        }
        if (strlen(c->value) > ss->server->limits.max_value) {
                log_notice("refused: value of %zu bytes atsign=%s peer=%s", strlen(c->value), ss->hosted->atsign,
                           ats_conn_peer(ss->conn));
                ats_reply_error(ss, "AT0005", "value is longer than %zu bytes", ss->server->limits.max_value);
                return;
        }
        r = ats_key_compose(c, c->atsign ? ss->hosted->atsign : NULL, &key);
        if (r < 0) {
                ats_reply_error(ss, "AT0016", "invalid key");
                return;
        }
        if (strneq(key, "privatekey:", 11) && !streq(key, "privatekey:at_pkam_publickey")) {
                ats_reply_error(ss, "AT0016", "You may not update keys of type privateKey");
                return;
        }
        if (!ats_session_may_access(ss, key, true)) {
                ats_reply_error(ss, "AT0009", "Connection with enrollment ID %s is not authorized to update key: %s",
                                ss->enrollment_id, key);
                return;
        }
        r = ats_store_put(ss->server->store, ss->hosted->atsign, key, c->value, &c->meta, ss->hosted->atsign,
                          ats_now_ms(), &commit);
        if (r < 0) {
                reply_store_error(ss, r, key);
                return;
        }
        ats_reply_dataf(ss, "%" PRIi64, commit);
        notify_change(ss, key, c->value, &c->meta, "update");
}

void ats_verb_update_meta(AtsSession *ss, AtsCommand *c) {
        _cleanup_free_ char *key = NULL;
        int64_t commit;
        int r;
        if (!owner_is_us(ss, c->atsign)) {
                ats_reply_error(ss, "AT0016", "sharedBy atsign should be same as current atsign");
                return;
        }
        r = ats_key_compose(c, ss->hosted->atsign, &key);
        if (r >= 0 && !ats_session_may_access(ss, key, true)) {
                ats_reply_error(ss, "AT0009", "not authorized to update key: %s", key);
                return;
        }
        if (r >= 0)
                r = ats_store_put_meta(ss->server->store, ss->hosted->atsign, key, &c->meta, ats_now_ms(), &commit);
        if (r < 0) {
                reply_store_error(ss, r, key ? key : "key");
                return;
        }
        ats_reply_dataf(ss, "%" PRIi64, commit);
        /* update_meta_verb_handler.dart notifies too, without a value */
        notify_change(ss, key, NULL, &c->meta, "update");
}

/* "data:<value>", or the AtData / AtMetaData JSON for all / meta */
static void reply_record(AtsSession *ss, const AtsRecord *rec, const char *operation, const char *owner) {
        if (!operation) {
                ats_reply_data(ss, rec->value);
                return;
        }
        json_t *o = ats_record_to_json(rec, owner, streq(operation, "all"));
        char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!j) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        ats_reply_data(ss, j);
        free(j);
}

void ats_verb_llookup(AtsSession *ss, AtsCommand *c) {
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        _cleanup_free_ char *key = NULL, *owner = NULL;
        int r;

        r = ats_atsign_fix(c->atsign, &owner);
        if (r >= 0)
                r = ats_key_compose(c, owner, &key);
        if (r < 0) {
                ats_reply_error(ss, "AT0016", "invalid key");
                return;
        }
        if (!ats_session_may_access(ss, key, false)) {
                ats_reply_error(ss, "AT0009", "Connection with enrollment ID %s is not authorized to llookup key: %s",
                                ss->enrollment_id, key);
                return;
        }
        r = ats_store_get(ss->server->store, ss->hosted->atsign, key, ats_now_ms(), &rec);
        if (r < 0) {
                reply_store_error(ss, r, key);
                return;
        }
        reply_record(ss, rec, c->operation, ss->hosted->atsign);
}

/* ---- lookup / plookup ---- */

typedef struct LookupContext {
        uint64_t session;
        /* a lookup that maintains our cached copy: "cached:<cache_key>" in cache_atsign's store */
        char *cache_atsign, *cache_key, *key_owner, *operation;
} LookupContext;

static void lookup_context_free(LookupContext *ctx) {
        free(ctx->cache_atsign);
        free(ctx->cache_key);
        free(ctx->key_owner);
        free(ctx->operation);
        free(ctx);
}

static AtsSession *find_session(AtsServer *s, uint64_t id) {
        for (AtsSession *ss = s->sessions; ss; ss = ss->next)
                if (ss->id == id)
                        return ss;
        return NULL;
}

static void cache_drop(AtsServer *s, LookupContext *ctx) {
        _cleanup_free_ char *name = NULL;
        if (asprintf(&name, "cached:%s", ctx->cache_key) >= 0)
                (void) ats_store_delete(s->store, ctx->cache_atsign, name, NULL);
}

/* cache_manager.dart remoteLookUp(maintainCache: true): the other server's answer to
 * "lookup:all:" is cached when it carries a ttr; "does not exist" drops our copy. Returns the
 * data to answer for the operation the client asked, or NULL to pass the answer on as it is. */
static char *lookup_maintain_cache(AtsServer *s, LookupContext *ctx, const char *response) {
        _cleanup_(json_decrefp) json_t *o = NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        if (strneq(response, "error:", 6)) {
                if (strstr(response, "AT0015"))
                        cache_drop(s, ctx);
                return NULL;
        }
        if (!strneq(response, "data:", 5))
                return NULL;
        if (streq(response, "data:null")) {
                cache_drop(s, ctx);
                return NULL;
        }
        o = json_loads(response + 5, JSON_REJECT_DUPLICATES, NULL);
        json_t *data = json_object_get(o, "data"), *meta = json_object_get(o, "metaData");
        if (!json_is_object(o) || !json_is_object(meta) || !(json_is_string(data) || json_is_null(data)))
                return NULL;
        json_t *ttr = json_object_get(meta, "ttr");
        /* ttr 0 or none: the owner does not allow caching */
        if (json_is_integer(ttr) && json_integer_value(ttr) != 0 && json_is_string(data) &&
            asprintf(&name, "cached:%s", ctx->cache_key) >= 0 && strlen(name) <= ATS_KEY_MAX) {
                AtsMetadata m;
                ats_metadata_from_json(meta, &m);
                r = ats_store_put(s->store, ctx->cache_atsign, name, json_string_value(data), &m, ctx->key_owner,
                                  ats_now_ms(), NULL);
                if (r < 0)
                        log_warning_errno(r, "Failed to cache %s for %s: %m", name, ctx->cache_atsign);
        }
        if (ctx->operation && streq(ctx->operation, "all"))
                return strdup(response + 5);
        if (ctx->operation && streq(ctx->operation, "meta"))
                return json_dumps(meta, JSON_COMPACT);
        return strdup(json_is_string(data) ? json_string_value(data) : "null");
}

static void remote_done(AtsServer *s, int error, const char *response, void *userdata) {
        LookupContext *ctx = userdata;
        _cleanup_free_ char *answer = NULL;
        AtsSession *ss = find_session(s, ctx->session);

        if (error >= 0 && response && ctx->cache_key)
                answer = lookup_maintain_cache(s, ctx, response);
        lookup_context_free(ctx);
        if (!ss)
                return;
        if (error < 0)
                ats_reply_error(ss, "AT0021", "Unable to connect to secondary: %s", strerror(-error));
        else if (answer)
                ats_reply_data(ss, answer);
        else if (strneq(response, "data:", 5))
                ats_reply_data(ss, response + 5);
        else if (strneq(response, "error:", 6)) {
                /* pass the other server's error code on */
                char code[8] = "AT0015";
                const char *e = response + 6;
                if (strlen(e) >= 6 && strneq(e, "AT", 2))
                        memcpy(code, e, 6);
                else if (strstr(e, "\"errorCode\":\"AT"))
                        memcpy(code, strstr(e, "\"errorCode\":\"AT") + 13, 6);
                ats_reply_error(ss, code, "%s", e);
        } else
                ats_reply_error(ss, "AT0021", "unexpected answer from the other atServer");
        ats_session_done(ss);
}

/* For a key of another atSign hosted in this process: read its store directly, as that
 * atSign's server would answer us after pol. */
static void lookup_local_other(AtsSession *ss, AtsCommand *c, AtsHosted *other, bool plookup) {
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        _cleanup_free_ char *key = NULL;
        int r;
        if (plookup)
                r = asprintf(&key, "public:%s%s", c->key, other->atsign) < 0 ? -ENOMEM : 0;
        else
                r = asprintf(&key, "%s:%s%s", ss->hosted->atsign, c->key, other->atsign) < 0 ? -ENOMEM : 0;
        if (r >= 0) {
                for (char *p = key; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
                r = ats_store_get(ss->server->store, other->atsign, key, ats_now_ms(), &rec);
        }
        if (r < 0 && !plookup) {
                /* a public key is what lookup answers when nothing is shared with us */
                free(key);
                key = NULL;
                if (asprintf(&key, "public:%s%s", c->key, other->atsign) >= 0) {
                        for (char *p = key; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        r = ats_store_get(ss->server->store, other->atsign, key, ats_now_ms(), &rec);
                }
        }
        if (r < 0) {
                ats_reply_error(ss, "AT0015", "%s%s does not exist in keystore", c->key, other->atsign);
                return;
        }
        reply_record(ss, rec, c->operation, other->atsign);
}

/* lookup_verb_handler.dart _fetchDataOwnedByOtherAtSign: a fresh cached copy answers
 * ("cached:@alice:k@bob", or "cached:public:k@bob" for plookup) unless bypassCache. */
static bool lookup_cached(AtsSession *ss, AtsCommand *c, const char *owner, bool plookup) {
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        _cleanup_free_ char *key = NULL;

        if (c->bypass_cache)
                return false;
        if (asprintf(&key, "%s%s%s%s", plookup ? "public" : ss->hosted->atsign, ":", c->key, owner) < 0)
                return false;
        if (ats_cache_get(ss->server, ss->hosted->atsign, key, ats_now_ms(), &rec) < 0)
                return false;
        reply_record(ss, rec, c->operation, owner);
        return true;
}

static void lookup_remote(AtsSession *ss, AtsCommand *c, const char *owner, bool plookup) {
        _cleanup_free_ char *arg = NULL;
        LookupContext *ctx;
        int r;

        ctx = calloc(1, sizeof *ctx);
        if (!ctx) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        ctx->session = ss->id;
        if (plookup)
                r = asprintf(&arg, "%s%s%s%s", c->operation ? c->operation : "", c->operation ? ":" : "", c->key, owner);
        else {
                /* always "all:", so the answer can refresh our cached copy
                 * (lookup_verb_handler.dart, cache_manager.dart remoteLookUp) */
                r = asprintf(&arg, "all:%s%s", c->key, owner);
                if (r >= 0)
                        r = asprintf(&ctx->cache_key, "%s:%s%s", ss->hosted->atsign, c->key, owner);
                ctx->cache_atsign = strdup(ss->hosted->atsign);
                ctx->key_owner = strdup(owner);
                ctx->operation = c->operation ? strdup(c->operation) : NULL;
                if (r >= 0 && (!ctx->cache_atsign || !ctx->key_owner || (c->operation && !ctx->operation)))
                        r = -ENOMEM;
                if (r >= 0)
                        for (char *p = ctx->cache_key; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
        }
        if (r < 0) {
                lookup_context_free(ctx);
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        ss->busy = true;
        r = ats_outbound_lookup(ss->server, plookup ? NULL : ss->hosted, owner, arg, remote_done, ctx);
        if (r < 0) {
                lookup_context_free(ctx);
                ss->busy = false;
                ats_reply_error(ss, r == -ENXIO ? "AT0007" : "AT0021", "Unable to reach the atServer of %s", owner);
        }
}

void ats_verb_lookup(AtsSession *ss, AtsCommand *c) {
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        _cleanup_free_ char *owner = NULL, *key = NULL;
        bool plookup = c->verb == ATS_VERB_PLOOKUP;
        const char *me = ss->hosted->atsign;
        int64_t now = ats_now_ms();
        int r;

        if (ats_atsign_fix(c->atsign, &owner) < 0) {
                ats_reply_error(ss, "AT0003", "invalid atSign");
                return;
        }
        if (!streq(owner, me)) {
                if (!ss->authenticated) {
                        /* unauthenticated: only this atSign's public keys */
                        ats_reply_error(ss, "AT0015", "public:%s%s does not exist in keystore", c->key, owner);
                        return;
                }
                if (lookup_cached(ss, c, owner, plookup))
                        return;
                AtsHosted *other = ats_server_find_hosted(ss->server, owner);
                if (other) {
                        lookup_local_other(ss, c, other, plookup);
                        return;
                }
                lookup_remote(ss, c, owner, plookup);
                return;
        }

        /* our own atSign's key */
        const char *prefix_fmt;
        if (ss->pol_authenticated && !plookup)
                prefix_fmt = "shared";
        else
                prefix_fmt = "public";
        r = -ENOENT;
        if (ss->authenticated && !plookup) {
                /* lookup_verb_handler.dart looks up "@alice:k@alice"; we also find the self and
                 * public forms of the key, which is what a client means */
                const char *forms[3] = { NULL };
                _cleanup_free_ char *a = NULL, *b = NULL, *d = NULL;
                if (asprintf(&a, "%s:%s%s", me, c->key, me) < 0 || asprintf(&b, "%s%s", c->key, me) < 0 ||
                    asprintf(&d, "public:%s%s", c->key, me) < 0) {
                        ats_reply_error(ss, "AT0011", "out of memory");
                        return;
                }
                forms[0] = a;
                forms[1] = b;
                forms[2] = d;
                for (size_t i = 0; i < 3 && r < 0; i++) {
                        free(key);
                        key = strdup(forms[i]);
                        if (!key)
                                break;
                        for (char *p = key; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        r = ats_store_get(ss->server->store, me, key, now, &rec);
                }
        } else {
                if (streq(prefix_fmt, "shared"))
                        r = asprintf(&key, "%s:%s%s", ss->from_atsign, c->key, me) < 0 ? -ENOMEM : 0;
                else
                        r = asprintf(&key, "public:%s%s", c->key, me) < 0 ? -ENOMEM : 0;
                if (r >= 0) {
                        for (char *p = key; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        r = ats_store_get(ss->server->store, me, key, now, &rec);
                }
        }
        if (r < 0) {
                reply_store_error(ss, r, key ? key : c->key);
                return;
        }
        reply_record(ss, rec, c->operation, me);
}

/* ---- scan ---- */

typedef enum ScanView {
        SCAN_OWNER,  /* the atSign itself: everything but private and (unless asked) hidden keys */
        SCAN_SHARED, /* another atSign (pol): the keys shared with it, without its "@x:" prefix */
        SCAN_PUBLIC, /* anyone: the public keys, without "public:" */
} ScanView;

/* scan_verb_handler.dart getLocalKeys: the keys of atsign matching re (NULL = all) as one view
 * shows them, as a JSON array text. */
static int scan_keys(AtsSession *ss, const char *atsign, const regex_t *re, ScanView view, const char *shared_with,
                     bool show_hidden, char **ret) {
        _cleanup_strv_free_ char **keys = NULL;
        int r;

        r = ats_store_keys(ss->server->store, atsign, ats_now_ms(), &keys);
        if (r < 0)
                return r;
        json_t *a = json_array();
        for (char **k = keys; a && *k; k++) {
                const char *shown = *k;
                if (re && regexec(re, *k, 0, NULL, 0) != 0)
                        continue;
                if (view == SCAN_OWNER) {
                        if (strneq(*k, "privatekey:", 11) || strneq(*k, "private:", 8))
                                continue;
                        if (ats_key_is_hidden(*k) && !show_hidden)
                                continue;
                        if (ss->enrollment_id && !ats_session_may_access(ss, *k, false))
                                continue;
                        if (ss->enrollment_id && strstr(*k, ".__manage"))
                                continue;
                } else if (view == SCAN_SHARED) {
                        size_t n = strlen(shared_with);
                        if (!strneq(*k, shared_with, n) || (*k)[n] != ':')
                                continue;
                        shown = *k + n + 1;
                } else {
                        if (!strneq(*k, "public:", 7) || strneq(*k, "public:_", 8))
                                continue;
                        shown = *k + 7;
                }
                json_array_append_new(a, json_string(shown));
        }
        char *j = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

/* scan:@bob on @alice's connection: the keys @bob shares with @alice, asked of @bob's server
 * after from + pol (scan_verb_handler.dart _getExternalKeys, outbound_client.dart scan). */
static void scan_remote(AtsSession *ss, const char *owner, const char *regex) {
        _cleanup_free_ char *cmd = NULL;
        LookupContext *ctx;
        int r;

        if ((regex ? asprintf(&cmd, "scan %s", regex) : asprintf(&cmd, "scan")) < 0 ||
            !(ctx = calloc(1, sizeof *ctx))) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        ctx->session = ss->id;
        ss->busy = true;
        r = ats_outbound_command(ss->server, ss->hosted, owner, cmd, remote_done, ctx);
        if (r < 0) {
                lookup_context_free(ctx);
                ss->busy = false;
                ats_reply_error(ss, r == -ENXIO ? "AT0007" : "AT0021", "Unable to reach the atServer of %s", owner);
        }
}

void ats_verb_scan(AtsSession *ss, AtsCommand *c) {
        _cleanup_free_ char *other = NULL, *j = NULL;
        regex_t re;
        bool have_re = false;
        AtsHosted *other_here = NULL;
        int r;

        if (c->for_atsign) {
                if (!ss->authenticated) {
                        ats_reply_error(ss, "AT0401", "Scan to another atSign cannot be performed without auth");
                        return;
                }
                if (ats_atsign_fix(c->for_atsign, &other) < 0) {
                        ats_reply_error(ss, "AT0003", "invalid atSign");
                        return;
                }
                if (streq(other, ss->hosted->atsign)) {
                        free(other);
                        other = NULL;
                }
        }
        if (c->regex) {
                r = ats_regex_compile(&re, c->regex);
                if (r < 0) {
                        ats_reply_bad_regex(ss, r, c->regex);
                        return;
                }
                have_re = true;
        }
        if (other) {
                other_here = ats_server_find_hosted(ss->server, other);
                if (!other_here) {
                        if (have_re)
                                regfree(&re);
                        scan_remote(ss, other, c->regex);
                        return;
                }
                /* hosted here: its store answers as its server would answer us after pol */
                r = scan_keys(ss, other_here->atsign, have_re ? &re : NULL, SCAN_SHARED, ss->hosted->atsign, false, &j);
        } else if (ss->authenticated)
                r = scan_keys(ss, ss->hosted->atsign, have_re ? &re : NULL, SCAN_OWNER, NULL, c->show_hidden, &j);
        else if (ss->pol_authenticated && ss->from_atsign)
                r = scan_keys(ss, ss->hosted->atsign, have_re ? &re : NULL, SCAN_SHARED, ss->from_atsign, false, &j);
        else
                r = scan_keys(ss, ss->hosted->atsign, have_re ? &re : NULL, SCAN_PUBLIC, NULL, false, &j);
        if (have_re)
                regfree(&re);
        if (r < 0) {
                reply_store_error(ss, r, "keys");
                return;
        }
        ats_reply_data(ss, j);
}

/* ---- delete ---- */

void ats_verb_delete(AtsSession *ss, AtsCommand *c) {
        _cleanup_free_ char *key = NULL, *owner = NULL;
        int64_t commit = 0;
        int r;

        if (c->key && streq(c->key, "privatekey:at_secret")) {
                if (ss->enrollment_id && !ats_session_may_access(ss, "x.__manage", true)) {
                        ats_reply_error(ss, "AT0009", "not authorized to delete privatekey:at_secret");
                        return;
                }
                r = ats_store_cram_secret_delete(ss->server->store, ss->hosted->atsign);
                if (r >= 0)
                        r = ats_store_next_commit(ss->server->store, ss->hosted->atsign, &commit);
                if (r < 0) {
                        reply_store_error(ss, r, c->key);
                        return;
                }
                log_info("CRAM secret deleted atsign=%s", ss->hosted->atsign);
                ats_reply_dataf(ss, "%" PRIi64, commit);
                return;
        }
        if (c->atsign && ats_atsign_fix(c->atsign, &owner) < 0) {
                ats_reply_error(ss, "AT0016", "invalid key");
                return;
        }
        if (owner && !c->cached && !streq(owner, ss->hosted->atsign)) {
                ats_reply_error(ss, "AT0009", "cannot delete a key of %s", owner);
                return;
        }
        r = ats_key_compose(c, owner, &key);
        if (r < 0) {
                ats_reply_error(ss, "AT0016", "invalid key");
                return;
        }
        if (!ats_session_may_access(ss, key, true)) {
                ats_reply_error(ss, "AT0009", "Connection with enrollment ID %s is not authorized to delete key: %s",
                                ss->enrollment_id, key);
                return;
        }
        r = ats_store_delete(ss->server->store, ss->hosted->atsign, key, &commit);
        if (r < 0 && r != -ENOENT) {
                reply_store_error(ss, r, key);
                return;
        }
        ats_reply_dataf(ss, "%" PRIi64, commit);
        if (r >= 0)
                notify_change(ss, key, NULL, NULL, "delete");
}
