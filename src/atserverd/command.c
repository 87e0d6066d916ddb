/* SPDX-License-Identifier: BSD-3-Clause */
/* Syntax facts from at_libraries packages/at_commons/lib/src/verb/syntax.dart (VerbSyntax). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"

static const char *const verb_names[_ATS_VERB_MAX] = {
        [ATS_VERB_FROM] = "from",
        [ATS_VERB_POL] = "pol",
        [ATS_VERB_CRAM] = "cram",
        [ATS_VERB_PKAM] = "pkam",
        [ATS_VERB_UPDATE] = "update",
        [ATS_VERB_UPDATE_META] = "update:meta",
        [ATS_VERB_LLOOKUP] = "llookup",
        [ATS_VERB_LOOKUP] = "lookup",
        [ATS_VERB_PLOOKUP] = "plookup",
        [ATS_VERB_SCAN] = "scan",
        [ATS_VERB_DELETE] = "delete",
        [ATS_VERB_NOTIFY] = "notify",
        [ATS_VERB_NOTIFY_STATUS] = "notify:status",
        [ATS_VERB_NOTIFY_LIST] = "notify:list",
        [ATS_VERB_NOTIFY_FETCH] = "notify:fetch",
        [ATS_VERB_NOTIFY_REMOVE] = "notify:remove",
        [ATS_VERB_MONITOR] = "monitor",
        [ATS_VERB_NOOP] = "noop",
        [ATS_VERB_INFO] = "info",
        [ATS_VERB_ENROLL] = "enroll",
        [ATS_VERB_OTP] = "otp",
        [ATS_VERB_KEYS] = "keys",
};

const char *ats_verb_name(AtsVerb v) {
        return v >= 0 && v < _ATS_VERB_MAX ? verb_names[v] : "?";
}

bool ats_verb_allowed_unauthenticated(AtsVerb v) {
        /* upstream: verbs whose requiresAuth() is false (from, pol, cram, pkam, lookup, plookup,
         * scan, notify from a pol connection, noop, info, enroll with an OTP) */
        switch (v) {
        case ATS_VERB_FROM:
        case ATS_VERB_POL:
        case ATS_VERB_CRAM:
        case ATS_VERB_PKAM:
        case ATS_VERB_LOOKUP:
        case ATS_VERB_PLOOKUP:
        case ATS_VERB_SCAN:
        case ATS_VERB_NOTIFY:
        case ATS_VERB_NOOP:
        case ATS_VERB_INFO:
        case ATS_VERB_ENROLL:
                return true;
        default:
                return false;
        }
}

void ats_metadata_init(AtsMetadata *m) {
        *m = (AtsMetadata) {
                .ttl = ATS_UNSET, .ttb = ATS_UNSET, .ttr = ATS_UNSET,
                .ccd = -1, .is_binary = -1, .is_encrypted = -1,
        };
}

void ats_command_done(AtsCommand *c) {
        if (!c)
                return;
        free(c->buf);
        c->buf = NULL;
}

/* ---- small validators mirroring the regex character classes ---- */

static bool is_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s))
                        return false;
        return true;
}

static int parse_int(const char *s, bool allow_negative, int64_t *ret) {
        const char *d = s;
        if (allow_negative && *d == '-')
                d++;
        if (!is_digits(d) || strlen(d) > 18)
                return -EBADMSG;
        *ret = strtoll(s, NULL, 10);
        return 0;
}

static int parse_bool(const char *s, int *ret) {
        if (streq(s, "true"))
                *ret = 1;
        else if (streq(s, "false"))
                *ret = 0;
        else
                return -EBADMSG;
        return 0;
}

/* [^:@\s]+ */
static bool is_plain(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s == ':' || *s == '@' || isspace((unsigned char) *s))
                        return false;
        return true;
}

static bool has_space(const char *s) {
        for (; *s; s++)
                if (isspace((unsigned char) *s))
                        return true;
        return false;
}

/* An atSign as written in a command: optional '@' then [^:@\s]+; returns it without '@'. */
static const char *atsign_name(const char *s) {
        if (*s == '@')
                s++;
        return is_plain(s) ? s : NULL;
}

/* Cuts the next ':'-separated token off *p (NUL-terminates it); NULL when none is left. */
static char *take_token(char **p) {
        char *s = *p, *colon;
        if (!s)
                return NULL;
        colon = strchr(s, ':');
        if (colon) {
                *colon = 0;
                *p = colon + 1;
        } else
                *p = NULL;
        return s;
}

/* Length of the token at p (up to ':' or end). */
static size_t token_len(const char *p) {
        const char *colon = strchr(p, ':');
        return colon ? (size_t) (colon - p) : strlen(p);
}

static bool token_is(const char *p, const char *word) {
        size_t n = strlen(word);
        return p && token_len(p) == n && strneq(p, word, n);
}

/* Is there a token after the one at p, and one after that? (a named field needs its value
 * and must leave something for the key) */
static bool tokens_follow(const char *p, unsigned n) {
        for (unsigned i = 0; i < n; i++) {
                p = strchr(p, ':');
                if (!p)
                        return false;
                p++;
        }
        return true;
}

static int set_metadata_field(AtsMetadata *m, const char *name, const char *value) {
        if (streq(name, "ttl"))
                return parse_int(value, true, &m->ttl);
        if (streq(name, "ttb"))
                return parse_int(value, true, &m->ttb);
        if (streq(name, "ttr"))
                return parse_int(value, true, &m->ttr);
        if (streq(name, "ccd"))
                return parse_bool(value, &m->ccd);
        if (streq(name, "isBinary"))
                return parse_bool(value, &m->is_binary);
        if (streq(name, "isEncrypted"))
                return parse_bool(value, &m->is_encrypted);

        static const struct {
                const char *name;
                size_t offset;
        } strings[] = {
                { "dataSignature", offsetof(AtsMetadata, data_signature) },
                { "sharedKeyStatus", offsetof(AtsMetadata, shared_key_status) },
                { "sharedKeyEnc", offsetof(AtsMetadata, shared_key_enc) },
                { "pubKeyCS", offsetof(AtsMetadata, pub_key_cs) },
                { "encoding", offsetof(AtsMetadata, encoding) },
                { "encKeyName", offsetof(AtsMetadata, enc_key_name) },
                { "encAlgo", offsetof(AtsMetadata, enc_algo) },
                { "ivNonce", offsetof(AtsMetadata, iv_nonce) },
                { "skeEncKeyName", offsetof(AtsMetadata, ske_enc_key_name) },
                { "skeEncAlgo", offsetof(AtsMetadata, ske_enc_algo) },
        };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (streq(name, strings[i].name)) {
                        if (!is_plain(value))
                                return -EBADMSG;
                        *(const char **) ((char *) m + strings[i].offset) = value;
                        return 0;
                }
        return -ENOENT;
}

static bool is_metadata_name(const char *p) {
        static const char *const names[] = {
                "ttl", "ttb", "ttr", "ccd", "isBinary", "isEncrypted", "dataSignature",
                "sharedKeyStatus", "sharedKeyEnc", "pubKeyCS", "encoding", "encKeyName",
                "encAlgo", "ivNonce", "skeEncKeyName", "skeEncAlgo",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (token_is(p, names[i]))
                        return true;
        return false;
}

static bool is_notify_name(const char *p) {
        static const char *const names[] = {
                "id", "messageType", "priority", "strategy", "latestN", "notifier", "ttln",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (token_is(p, names[i]))
                        return true;
        return false;
}

static int set_notify_field(AtsCommand *c, const char *name, const char *value) {
        if (streq(name, "id")) {
                for (const char *s = value; *s; s++)
                        if (!isalnum((unsigned char) *s) && *s != '-' && *s != '_')
                                return -EBADMSG;
                c->id = value;
        } else if (streq(name, "messageType")) {
                if (!streq(value, "key") && !streq(value, "text"))
                        return -EBADMSG;
                c->message_type = value;
        } else if (streq(name, "priority")) {
                if (!streq(value, "low") && !streq(value, "medium") && !streq(value, "high"))
                        return -EBADMSG;
                c->priority = value;
        } else if (streq(name, "strategy")) {
                if (!streq(value, "all") && !streq(value, "latest"))
                        return -EBADMSG;
                c->strategy = value;
        } else if (streq(name, "latestN"))
                return parse_int(value, false, &c->latest_n);
        else if (streq(name, "notifier")) {
                if (!*value || has_space(value))
                        return -EBADMSG;
                c->notifier = value;
        } else if (streq(name, "ttln"))
                return parse_int(value, false, &c->ttln);
        else
                return -ENOENT;
        return 0;
}

/* Consumes named "name:value" fields from *p. With notify, also the notify fields and a bare
 * update/delete operation. Stops at the first token that is not a field name (or is one but
 * leaves nothing after its value). */
static int take_named_fields(char **p, AtsCommand *c, bool notify) {
        int r;
        while (*p) {
                if (notify && (token_is(*p, "update") || token_is(*p, "delete")) && tokens_follow(*p, 1)) {
                        c->operation = take_token(p);
                        continue;
                }
                bool meta = is_metadata_name(*p), nf = notify && is_notify_name(*p);
                if (!(meta || nf) || !tokens_follow(*p, 2))
                        return 0;
                char *name = take_token(p), *value = take_token(p);
                r = meta ? set_metadata_field(&c->meta, name, value) : set_notify_field(c, name, value);
                if (r < 0)
                        return -EBADMSG;
        }
        return 0;
}

/* Optional scope token "public" or "@bob", only if more tokens follow. */
static int take_scope(char **p, AtsCommand *c, bool required) {
        if (*p && token_is(*p, "public") && tokens_follow(*p, 1)) {
                take_token(p);
                c->public_scope = true;
                return 0;
        }
        if (*p && **p == '@' && tokens_follow(*p, 1)) {
                char *t = take_token(p);
                if (!is_plain(t + 1))
                        return -EBADMSG;
                c->for_atsign = t + 1;
                return 0;
        }
        return required ? -EBADMSG : 0;
}

/* "key@owner" with key [^:@\s]+ and an optional (or required) owner [^:@\s]+. */
static int split_plain_key(char *s, AtsCommand *c, bool owner_required) {
        char *at = strchr(s, '@');
        if (at) {
                *at = 0;
                if (!is_plain(at + 1))
                        return -EBADMSG;
                c->atsign = at + 1;
        } else if (owner_required)
                return -EBADMSG;
        if (!is_plain(s))
                return -EBADMSG;
        c->key = s;
        return 0;
}

/* "key@owner" where the key may hold ':' (not "::") but no '@' and does not start with ':'
 * (llookup's [^:]((?!:{2})[^@])+). */
static int split_colon_key(char *s, AtsCommand *c) {
        char *at = strrchr(s, '@');
        if (!at || !is_plain(at + 1))
                return -EBADMSG;
        *at = 0;
        if (strlen(s) < 2 || s[0] == ':' || strchr(s, '@') || strstr(s, "::") || has_space(s))
                return -EBADMSG;
        c->key = s;
        c->atsign = at + 1;
        return 0;
}

static int parse_lookup_op(char **p, AtsCommand *c) {
        if (*p && (token_is(*p, "meta") || token_is(*p, "all")) && tokens_follow(*p, 1))
                c->operation = take_token(p);
        return 0;
}

static int parse_from(char *p, AtsCommand *c) {
        char *cc = strstr(p, ":clientConfig:");
        if (cc) {
                *cc = 0;
                c->client_config = cc + strlen(":clientConfig:");
                size_t n = strlen(c->client_config);
                if (n < 3 || c->client_config[0] != '{' || c->client_config[n - 1] != '}')
                        return -EBADMSG;
        }
        c->atsign = atsign_name(p);
        return c->atsign ? 0 : -EBADMSG;
}

static int parse_pkam(char *p, AtsCommand *c) {
        if (strneq(p, "signingAlgo:", 12)) {
                p += 12;
                char *t = take_token(&p);
                if (!p || (!streq(t, "rsa2048") && !streq(t, "ecc_secp256r1")))
                        return -EBADMSG;
                c->signing_algo = t;
        }
        if (strneq(p, "hashingAlgo:", 12)) {
                p += 12;
                char *t = take_token(&p);
                if (!p || (!streq(t, "sha256") && !streq(t, "sha512")))
                        return -EBADMSG;
                c->hashing_algo = t;
        }
        if (strneq(p, "enrollmentId:", 13)) {
                p += 13;
                char *last = strrchr(p, ':');
                if (!last || last == p)
                        return -EBADMSG;
                *last = 0;
                c->enrollment_id = p;
                p = last + 1;
        }
        if (!*p)
                return -EBADMSG;
        c->signature = p;
        return 0;
}

static int parse_update(char *p, AtsCommand *c) {
        char *space = strchr(p, ' ');
        int r;

        if (strneq(p, "json:", 5))
                return -EBADMSG; /* update:json is not supported */
        if (!space || !space[1])
                return -EBADMSG;
        *space = 0;
        c->value = space + 1;

        r = take_named_fields(&p, c, false);
        if (r < 0)
                return r;
        r = take_scope(&p, c, false);
        if (r < 0 || !p)
                return -EBADMSG;
        if (streq(p, "privatekey:at_pkam_publickey")) {
                c->key = p;
                return 0;
        }
        return split_plain_key(p, c, false);
}

static int parse_update_meta(char *p, AtsCommand *c) {
        /* update:meta(:public|:@bob):<key>@<owner><metadata> */
        int r = take_scope(&p, c, false);
        if (r < 0 || !p)
                return -EBADMSG;
        char *t = take_token(&p);
        r = split_plain_key(t, c, true);
        if (r < 0)
                return r;
        while (p) {
                char *name = take_token(&p), *value = take_token(&p);
                if (!value || set_metadata_field(&c->meta, name, value) < 0)
                        return -EBADMSG;
        }
        return 0;
}

static int parse_llookup(char *p, AtsCommand *c) {
        parse_lookup_op(&p, c);
        if (p && token_is(p, "cached") && tokens_follow(p, 1)) {
                take_token(&p);
                c->cached = true;
        }
        int r = take_scope(&p, c, false);
        if (r < 0 || !p)
                return -EBADMSG;
        return split_colon_key(p, c);
}

static int parse_bypass(char **p, AtsCommand *c) {
        if (*p && token_is(*p, "bypassCache") && tokens_follow(*p, 2)) {
                take_token(p);
                char *v = take_token(p);
                int b;
                if (parse_bool(v, &b) < 0)
                        return -EBADMSG;
                c->bypass_cache = b;
        }
        return 0;
}

static int parse_lookup(char *p, AtsCommand *c, bool plookup) {
        if (parse_bypass(&p, c) < 0)
                return -EBADMSG;
        parse_lookup_op(&p, c);
        if (!p)
                return -EBADMSG;
        char *at = strrchr(p, '@');
        if (!at || !is_plain(at + 1) || at == p || *p == ':')
                return -EBADMSG;
        *at = 0;
        if (has_space(p) || (plookup && strchr(p, '@')))
                return -EBADMSG;
        c->key = p;
        c->atsign = at + 1;
        return 0;
}

static int parse_delete(char *p, AtsCommand *c) {
        if (p && token_is(p, "priority") && tokens_follow(p, 2)) {
                take_token(&p);
                if (set_notify_field(c, "priority", take_token(&p)) < 0)
                        return -EBADMSG;
        }
        if (p && token_is(p, "cached") && tokens_follow(p, 1)) {
                take_token(&p);
                c->cached = true;
        }
        int r = take_scope(&p, c, false);
        if (r < 0 || !p)
                return -EBADMSG;
        if (streq(p, "privatekey:at_secret")) {
                c->key = p;
                return 0;
        }
        return split_plain_key(p, c, false);
}

static int parse_notify(char *p, AtsCommand *c) {
        int r = take_named_fields(&p, c, true);
        if (r < 0)
                return r;
        r = take_scope(&p, c, true);
        if (r < 0 || !p)
                return -EBADMSG;
        /* (?<atKey>[^:@]((?!:{2})[^@])+)(@(?<atSign>[^:@\s]+))?(:(?<value>.+))? */
        if (*p == ':' || *p == '@')
                return -EBADMSG;
        char *at = strchr(p, '@');
        if (at) {
                *at = 0;
                char *owner = at + 1, *colon = strchr(owner, ':');
                if (colon) {
                        *colon = 0;
                        if (!colon[1])
                                return -EBADMSG;
                        c->value = colon + 1;
                }
                if (!is_plain(owner))
                        return -EBADMSG;
                c->atsign = owner;
        }
        if (strlen(p) < 2 || strstr(p, "::"))
                return -EBADMSG;
        c->key = p;
        return 0;
}

static int parse_scan(char *p, AtsCommand *c) {
        /* p points after "scan" */
        char *space = strchr(p, ' ');
        if (space) {
                *space = 0;
                if (!space[1] || has_space(space + 1))
                        return -EBADMSG;
                c->regex = space + 1;
        }
        if (*p == 0)
                return 0;
        if (*p != ':')
                return -EBADMSG;
        p++;
        if (token_is(p, "showhidden")) {
                take_token(&p);
                char *v = take_token(&p);
                int b;
                if (!v || parse_bool(v, &b) < 0)
                        return -EBADMSG;
                c->show_hidden = b;
        }
        if (p && *p == '@') {
                char *t = take_token(&p);
                if (!is_plain(t + 1))
                        return -EBADMSG;
                c->for_atsign = t + 1;
        }
        if (p && token_is(p, "page")) {
                take_token(&p);
                char *v = take_token(&p);
                if (!v || parse_int(v, false, &c->page) < 0)
                        return -EBADMSG;
        }
        return p ? -EBADMSG : 0;
}

static int parse_monitor(char *p, AtsCommand *c) {
        char *space = strchr(p, ' ');
        if (space) {
                *space = 0;
                if (!space[1])
                        return -EBADMSG;
                c->regex = space + 1;
        }
        if (*p == 0)
                return 0;
        if (*p != ':')
                return -EBADMSG;
        p++;
        if (token_is(p, "strict")) {
                take_token(&p);
                c->strict = true;
        }
        if (p && token_is(p, "selfNotifications")) {
                take_token(&p);
                c->self_notifications = true;
        }
        if (p && token_is(p, "multiplexed")) {
                take_token(&p);
                c->multiplexed = true;
        }
        if (p) {
                char *t = take_token(&p);
                if (parse_int(t, false, &c->epoch_ms) < 0)
                        return -EBADMSG;
        }
        return p ? -EBADMSG : 0;
}

static bool is_date(const char *s) {
        /* \d{4}-[01]?\d?-[0123]?\d? */
        size_t n = strlen(s);
        if (n < 6 || n > 10)
                return false;
        for (int i = 0; i < 4; i++)
                if (!isdigit((unsigned char) s[i]))
                        return false;
        if (s[4] != '-')
                return false;
        const char *dash = strchr(s + 5, '-');
        if (!dash)
                return false;
        for (const char *t = s + 5; *t; t++)
                if (t != dash && !isdigit((unsigned char) *t))
                        return false;
        return true;
}

static int parse_notify_list(char *p, AtsCommand *c) {
        /* p after "notify:list" */
        if (*p == 0)
                return 0;
        if (*p == ' ') { /* some clients send "notify:list <regex>" */
                c->regex = p + 1;
                return *c->regex ? 0 : -EBADMSG;
        }
        if (*p != ':')
                return -EBADMSG;
        p++;
        char tok[16];
        if (token_len(p) < sizeof tok) {
                memcpy(tok, p, token_len(p));
                tok[token_len(p)] = 0;
                if (is_date(tok)) {
                        c->from_date = take_token(&p);
                        if (p && token_len(p) < sizeof tok) {
                                memcpy(tok, p, token_len(p));
                                tok[token_len(p)] = 0;
                                if (is_date(tok))
                                        c->to_date = take_token(&p);
                        }
                }
        }
        if (p) {
                if (!*p || strchr(p, ':'))
                        return -EBADMSG;
                c->regex = p;
        }
        return 0;
}

static int parse_enroll(char *p, AtsCommand *c) {
        static const char *const ops[] = {
                "request", "approve", "deny", "revoke", "list", "fetch", "unrevoke", "delete",
        };
        size_t n = 0;
        while (p[n] && p[n] != ':')
                n++;
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (n == strlen(ops[i]) && strneq(p, ops[i], n)) {
                        c->operation = p;
                        break;
                }
        if (!c->operation)
                return -EBADMSG;
        if (!p[n]) {
                return 0;
        }
        p[n] = 0;
        p += n + 1;
        if (token_is(p, "force")) {
                c->force = true;
                p += 5;
                if (*p == ':')
                        p++;
        }
        if (*p)
                c->params = p;
        return 0;
}

static int parse_otp(char *p, AtsCommand *c) {
        char *op = take_token(&p);
        if (!op || (!streq(op, "get") && !streq(op, "put")))
                return -EBADMSG;
        c->operation = op;
        if (streq(op, "put")) {
                char *otp = take_token(&p);
                if (!otp || strlen(otp) < 6)
                        return -EBADMSG;
                for (const char *s = otp; *s; s++)
                        if (!isalnum((unsigned char) *s) && *s != '_')
                                return -EBADMSG;
                c->otp = otp;
        }
        if (p) {
                char *name = take_token(&p), *v = take_token(&p);
                if (!streq(name, "ttl") || !v || p || parse_int(v, false, &c->otp_ttl) < 0)
                        return -EBADMSG;
        }
        return 0;
}

static int parse_keys(char *p, AtsCommand *c) {
        char *op = take_token(&p);
        if (!op || (!streq(op, "put") && !streq(op, "get") && !streq(op, "delete")))
                return -EBADMSG;
        c->operation = op;
        while (p) {
                if (token_is(p, "public") || token_is(p, "private") || token_is(p, "self")) {
                        c->visibility = take_token(&p);
                        continue;
                }
                if (token_is(p, "keyName")) {
                        take_token(&p);
                        if (!p || !*p)
                                return -EBADMSG;
                        char *space = strchr(p, ' ');
                        if (space) {
                                *space = 0;
                                c->value = space + 1;
                        }
                        c->key_name = p;
                        return 0;
                }
                /* namespace/appName/deviceName/keyType/encryptionKeyName are accepted and unused */
                char *name = take_token(&p);
                if (!p)
                        return *name ? -EBADMSG : 0;
                take_token(&p);
        }
        return 0;
}

/* Matches the verb word at the start of s, case-insensitively (upstream lower-cases the verb
 * before matching, secondary_util.dart convertCommand). Returns the text after the word or NULL. */
static char *match_word(char *s, const char *word, bool need_colon) {
        size_t n = strlen(word);
        if (strncasecmp(s, word, n) != 0)
                return NULL;
        char next = s[n];
        if (need_colon)
                return next == ':' ? s + n + 1 : NULL;
        if (next == 0 || next == ':' || next == ' ')
                return s + n;
        return NULL;
}

int ats_command_parse(const char *line, size_t len, AtsCommand *c) {
        char *p;

        *c = (AtsCommand) { .epoch_ms = ATS_UNSET, .page = 0, .ttln = ATS_UNSET,
                            .latest_n = ATS_UNSET, .delay_ms = 0, .otp_ttl = ATS_UNSET };
        ats_metadata_init(&c->meta);
        if (len > ATS_LINE_MAX)
                return -E2BIG;
        if (memchr(line, 0, len))
                return -EBADMSG;
        /* tolerate a trailing '\r' from line-oriented tools */
        if (len > 0 && line[len - 1] == '\r')
                len--;
        c->buf = strndup(line, len);
        if (!c->buf)
                return -ENOMEM;
        p = c->buf;

        char *rest;
        if (streq(p, "pol") || strcasecmp(p, "pol") == 0) {
                c->verb = ATS_VERB_POL;
                return 0;
        }
        if ((rest = match_word(p, "from", true))) {
                c->verb = ATS_VERB_FROM;
                return parse_from(rest, c);
        }
        if ((rest = match_word(p, "cram", true))) {
                c->verb = ATS_VERB_CRAM;
                c->digest = rest;
                return *rest ? 0 : -EBADMSG;
        }
        if ((rest = match_word(p, "pkam", true))) {
                c->verb = ATS_VERB_PKAM;
                return parse_pkam(rest, c);
        }
        if ((rest = match_word(p, "update", true))) {
                char *meta = match_word(rest, "meta", true);
                if (meta) {
                        c->verb = ATS_VERB_UPDATE_META;
                        return parse_update_meta(meta, c);
                }
                c->verb = ATS_VERB_UPDATE;
                return parse_update(rest, c);
        }
        if ((rest = match_word(p, "llookup", true))) {
                c->verb = ATS_VERB_LLOOKUP;
                return parse_llookup(rest, c);
        }
        if ((rest = match_word(p, "lookup", true))) {
                c->verb = ATS_VERB_LOOKUP;
                return parse_lookup(rest, c, false);
        }
        if ((rest = match_word(p, "plookup", true))) {
                c->verb = ATS_VERB_PLOOKUP;
                return parse_lookup(rest, c, true);
        }
        if ((rest = match_word(p, "scan", false))) {
                c->verb = ATS_VERB_SCAN;
                return parse_scan(rest, c);
        }
        if ((rest = match_word(p, "delete", true))) {
                c->verb = ATS_VERB_DELETE;
                return parse_delete(rest, c);
        }
        if ((rest = match_word(p, "notify", true))) {
                char *sub;
                if ((sub = match_word(rest, "status", true))) {
                        c->verb = ATS_VERB_NOTIFY_STATUS;
                        c->id = sub;
                        return *sub && !has_space(sub) ? 0 : -EBADMSG;
                }
                if ((sub = match_word(rest, "fetch", true))) {
                        c->verb = ATS_VERB_NOTIFY_FETCH;
                        c->id = sub;
                        return *sub && !has_space(sub) ? 0 : -EBADMSG;
                }
                if ((sub = match_word(rest, "remove", true))) {
                        c->verb = ATS_VERB_NOTIFY_REMOVE;
                        return set_notify_field(c, "id", sub) == 0 && *sub ? 0 : -EBADMSG;
                }
                if (strncasecmp(rest, "list", 4) == 0 && (rest[4] == 0 || rest[4] == ':' || rest[4] == ' ')) {
                        c->verb = ATS_VERB_NOTIFY_LIST;
                        return parse_notify_list(rest + 4, c);
                }
                if (strneq(rest, "all:", 4))
                        return -EBADMSG; /* notify:all is deprecated upstream; not supported */
                c->verb = ATS_VERB_NOTIFY;
                return parse_notify(rest, c);
        }
        if ((rest = match_word(p, "monitor", false))) {
                c->verb = ATS_VERB_MONITOR;
                return parse_monitor(rest, c);
        }
        if ((rest = match_word(p, "noop", true))) {
                c->verb = ATS_VERB_NOOP;
                return parse_int(rest, false, &c->delay_ms);
        }
        if ((rest = match_word(p, "info", false))) {
                c->verb = ATS_VERB_INFO;
                if (*rest == 0)
                        return 0;
                if (streq(rest, ":brief")) {
                        c->brief = true;
                        return 0;
                }
                return -EBADMSG;
        }
        if ((rest = match_word(p, "enroll", true))) {
                c->verb = ATS_VERB_ENROLL;
                return parse_enroll(rest, c);
        }
        if ((rest = match_word(p, "otp", true))) {
                c->verb = ATS_VERB_OTP;
                return parse_otp(rest, c);
        }
        if ((rest = match_word(p, "keys", true))) {
                c->verb = ATS_VERB_KEYS;
                return parse_keys(rest, c);
        }
        return -ENOENT;
}
