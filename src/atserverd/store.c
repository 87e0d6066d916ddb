/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "secure.h"
#include "store.h"

struct AtsStore {
        sqlite3 *db;
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS atsigns ("
        " atsign TEXT PRIMARY KEY, port INTEGER NOT NULL DEFAULT 0, cram_secret TEXT,"
        " signing_private TEXT, commit_seq INTEGER NOT NULL DEFAULT 0, created_at INTEGER);"
        "CREATE TABLE IF NOT EXISTS keys ("
        " atsign TEXT NOT NULL, key TEXT NOT NULL, value TEXT, meta TEXT,"
        " created_at INTEGER, updated_at INTEGER, available_at INTEGER, expires_at INTEGER,"
        " refresh_at INTEGER, version INTEGER, created_by TEXT, PRIMARY KEY (atsign, key));"
        "CREATE INDEX IF NOT EXISTS keys_expiry ON keys(expires_at) WHERE expires_at > 0;"
        "CREATE TABLE IF NOT EXISTS notifications ("
        " owner TEXT NOT NULL, id TEXT NOT NULL, type INTEGER NOT NULL, from_atsign TEXT,"
        " to_atsign TEXT, key TEXT, value TEXT, operation TEXT, message_type TEXT,"
        " is_encrypted INTEGER, meta TEXT, status TEXT, created_at INTEGER, expires_at INTEGER,"
        " retries INTEGER DEFAULT 0, command TEXT, PRIMARY KEY (owner, id));"
        "CREATE INDEX IF NOT EXISTS notifications_time ON notifications(owner, created_at);"
        "CREATE TABLE IF NOT EXISTS enrollments ("
        " atsign TEXT NOT NULL, id TEXT NOT NULL, app_name TEXT, device_name TEXT,"
        " namespaces TEXT, apkam_public_key TEXT, encrypted_apkam_symmetric_key TEXT,"
        " status TEXT, created_at INTEGER, expires_at INTEGER, PRIMARY KEY (atsign, id));"
        "CREATE TABLE IF NOT EXISTS otps ("
        " atsign TEXT NOT NULL, otp TEXT NOT NULL, expires_at INTEGER, PRIMARY KEY (atsign, otp));";

static int sqlite_to_errno(int rc) {
        switch (rc) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        default:
                return -EIO;
        }
}

/* Prepares sql and binds arguments per fmt: 's' text (NULL binds NULL), 'i' int64. */
static int prepare(AtsStore *s, sqlite3_stmt **ret, const char *sql, const char *fmt, ...) {
        sqlite3_stmt *st = NULL;
        va_list ap;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK) {
                log_error("SQLite prepare failed: %s", sqlite3_errmsg(s->db));
                return sqlite_to_errno(rc);
        }
        va_start(ap, fmt);
        for (int i = 0; fmt && fmt[i]; i++) {
                if (fmt[i] == 's') {
                        const char *t = va_arg(ap, const char *);
                        rc = t ? sqlite3_bind_text(st, i + 1, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
                } else
                        rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
                if (rc != SQLITE_OK)
                        break;
        }
        va_end(ap);
        if (rc != SQLITE_OK) {
                sqlite3_finalize(st);
                return sqlite_to_errno(rc);
        }
        *ret = st;
        return 0;
}

static void finalizep(sqlite3_stmt **st) {
        sqlite3_finalize(*st);
}
#define _cleanup_stmt_ _cleanup_(finalizep)

static int step_done(AtsStore *s, sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
                log_error("SQLite statement failed: %s", sqlite3_errmsg(s->db));
                return sqlite_to_errno(rc);
        }
        return 0;
}

/* 1 for a row, 0 at the end, -errno (logged) when the read fails: a list is never silently cut short */
static int step_row(AtsStore *s, sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        log_error("SQLite read failed: %s", sqlite3_errmsg(s->db));
        return sqlite_to_errno(rc);
}

static int exec(AtsStore *s, const char *sql) {
        char *err = NULL;
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
        if (rc != SQLITE_OK) {
                log_error("SQLite '%s' failed: %s", sql, err ? err : "?");
                sqlite3_free(err);
                return sqlite_to_errno(rc);
        }
        return 0;
}

static char *column_strdup(sqlite3_stmt *st, int i) {
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *) t) : NULL;
}

int ats_store_open(const char *path, AtsStore **ret) {
        _cleanup_(ats_store_freep) AtsStore *s = calloc(1, sizeof *s);
        int r;

        if (!s)
                return -ENOMEM;
        int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                return log_error_errno(EIO, "Failed to open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "?");
        /* WAL: readers never block the writer; synchronous=FULL: the WAL is fsynced at every
         * commit, so an acknowledged write survives power loss, not only SIGKILL. */
        r = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                    "PRAGMA cache_size=-2000; PRAGMA wal_autocheckpoint=1000;");
        if (r < 0)
                return r;
        r = exec(s, schema);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

void ats_store_free(AtsStore *s) {
        if (!s)
                return;
        sqlite3_close_v2(s->db);
        free(s);
}

/* ---------------- atSigns ---------------- */

int ats_store_atsign_add(AtsStore *s, const char *atsign, const char *cram_secret,
                         const char *signing_private, int port) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "INSERT INTO atsigns(atsign, port, cram_secret, signing_private, created_at)"
                                " VALUES (?, ?, ?, ?, strftime('%s','now'))",
                        "siss", atsign, (int64_t) port, cram_secret, signing_private);
        if (r < 0)
                return r;
        return step_done(s, st);
}

int ats_store_atsign_set_port(AtsStore *s, const char *atsign, int port) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "UPDATE atsigns SET port = ? WHERE atsign = ?", "is", (int64_t) port, atsign);
        if (r < 0)
                return r;
        return step_done(s, st);
}

void ats_atsigns_free(AtsAtsign *a, size_t n) {
        for (size_t i = 0; a && i < n; i++) {
                free(a[i].atsign);
                at_secure_free(a[i].signing_private);
        }
        free(a);
}

int ats_store_atsigns(AtsStore *s, AtsAtsign **ret, size_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        AtsAtsign *a = NULL;
        size_t n = 0;
        int r = prepare(s, &st, "SELECT atsign, port, signing_private FROM atsigns ORDER BY atsign", NULL);
        if (r < 0)
                return r;
        while ((r = step_row(s, st)) > 0) {
                AtsAtsign *b = realloc(a, (n + 1) * sizeof *a);
                if (!b) {
                        ats_atsigns_free(a, n);
                        return -ENOMEM;
                }
                a = b;
                const unsigned char *priv = sqlite3_column_text(st, 2);
                a[n] = (AtsAtsign) {
                        .atsign = column_strdup(st, 0),
                        .port = sqlite3_column_int(st, 1),
                        .signing_private = priv ? at_secure_strdup((const char *) priv) : NULL,
                };
                n++;
        }
        if (r < 0) {
                ats_atsigns_free(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

int ats_store_cram_secret(AtsStore *s, const char *atsign, char **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "SELECT cram_secret FROM atsigns WHERE atsign = ?", "s", atsign);
        if (r < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL)
                return -ENOENT;
        *ret = at_secure_strdup((const char *) sqlite3_column_text(st, 0));
        return *ret ? 0 : -ENOMEM;
}

int ats_store_cram_secret_delete(AtsStore *s, const char *atsign) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "UPDATE atsigns SET cram_secret = NULL WHERE atsign = ?", "s", atsign);
        if (r < 0)
                return r;
        return step_done(s, st);
}

int ats_store_next_commit(AtsStore *s, const char *atsign, int64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "UPDATE atsigns SET commit_seq = commit_seq + 1 WHERE atsign = ? RETURNING commit_seq",
                        "s", atsign);
        if (r < 0)
                return r;
        r = step_row(s, st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

/* ---------------- keys ---------------- */

void ats_record_free(AtsRecord *r) {
        if (!r)
                return;
        free(r->key);
        free(r->value);
        json_decref(r->meta);
        free(r);
}

static void meta_set_int(json_t *o, const char *name, int64_t v) {
        if (v != ATS_UNSET)
                json_object_set_new(o, name, json_integer(v));
}

static void meta_set_bool(json_t *o, const char *name, int v) {
        if (v >= 0)
                json_object_set_new(o, name, json_boolean(v));
}

static void meta_set_str(json_t *o, const char *name, const char *v) {
        if (v)
                json_object_set_new(o, name, json_string(v));
}

/* Merges the given fields over existing ones (upstream AtMetadataBuilder keeps what an update
 * does not mention). */
static void meta_merge(json_t *o, const AtsMetadata *m) {
        meta_set_int(o, "ttl", m->ttl);
        meta_set_int(o, "ttb", m->ttb);
        meta_set_int(o, "ttr", m->ttr);
        meta_set_bool(o, "ccd", m->ccd);
        meta_set_bool(o, "isBinary", m->is_binary);
        meta_set_bool(o, "isEncrypted", m->is_encrypted);
        meta_set_str(o, "dataSignature", m->data_signature);
        meta_set_str(o, "sharedKeyStatus", m->shared_key_status);
        meta_set_str(o, "sharedKeyEnc", m->shared_key_enc);
        meta_set_str(o, "pubKeyCS", m->pub_key_cs);
        meta_set_str(o, "encoding", m->encoding);
        meta_set_str(o, "encKeyName", m->enc_key_name);
        meta_set_str(o, "encAlgo", m->enc_algo);
        meta_set_str(o, "ivNonce", m->iv_nonce);
        meta_set_str(o, "skeEncKeyName", m->ske_enc_key_name);
        meta_set_str(o, "skeEncAlgo", m->ske_enc_algo);
}

void ats_metadata_from_json(json_t *o, AtsMetadata *m) {
        ats_metadata_init(m);
        const struct {
                const char *name;
                int64_t *v;
        } ints[] = { { "ttl", &m->ttl }, { "ttb", &m->ttb }, { "ttr", &m->ttr } };
        for (size_t i = 0; i < ELEMENTSOF(ints); i++) {
                json_t *v = json_object_get(o, ints[i].name);
                if (json_is_integer(v))
                        *ints[i].v = json_integer_value(v);
        }
        const struct {
                const char *name;
                int *v;
        } bools[] = { { "ccd", &m->ccd }, { "isBinary", &m->is_binary }, { "isEncrypted", &m->is_encrypted } };
        for (size_t i = 0; i < ELEMENTSOF(bools); i++) {
                json_t *v = json_object_get(o, bools[i].name);
                if (json_is_boolean(v))
                        *bools[i].v = json_is_true(v);
        }
        const struct {
                const char *name;
                const char **v;
        } strs[] = {
                { "dataSignature", &m->data_signature }, { "sharedKeyStatus", &m->shared_key_status },
                { "sharedKeyEnc", &m->shared_key_enc },   { "pubKeyCS", &m->pub_key_cs },
                { "encoding", &m->encoding },             { "encKeyName", &m->enc_key_name },
                { "encAlgo", &m->enc_algo },              { "ivNonce", &m->iv_nonce },
                { "skeEncKeyName", &m->ske_enc_key_name }, { "skeEncAlgo", &m->ske_enc_algo },
        };
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                *strs[i].v = json_string_value(json_object_get(o, strs[i].name));
}

static int64_t meta_int(json_t *o, const char *name) {
        json_t *v = json_object_get(o, name);
        return json_is_integer(v) ? json_integer_value(v) : 0;
}

static int load_record(sqlite3_stmt *st, AtsRecord **ret) {
        _cleanup_(ats_record_freep) AtsRecord *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->key = column_strdup(st, 0);
        r->value = column_strdup(st, 1);
        const unsigned char *meta = sqlite3_column_text(st, 2);
        r->meta = meta ? json_loads((const char *) meta, 0, NULL) : NULL;
        if (!r->meta)
                r->meta = json_object();
        r->created_at = sqlite3_column_int64(st, 3);
        r->updated_at = sqlite3_column_int64(st, 4);
        r->available_at = sqlite3_column_int64(st, 5);
        r->expires_at = sqlite3_column_int64(st, 6);
        r->refresh_at = sqlite3_column_int64(st, 7);
        r->version = sqlite3_column_int64(st, 8);
        if (!r->key || !r->meta)
                return -ENOMEM;
        *ret = TAKE_PTR(r);
        return 0;
}

static int get_raw(AtsStore *s, const char *atsign, const char *key, AtsRecord **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "SELECT key, value, meta, created_at, updated_at, available_at, expires_at,"
                                " refresh_at, version FROM keys WHERE atsign = ? AND key = ?",
                        "ss", atsign, key);
        if (r < 0)
                return r;
        r = step_row(s, st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        return load_record(st, ret);
}

static int begin(AtsStore *s) {
        return exec(s, "BEGIN IMMEDIATE");
}

static int commit_or_rollback(AtsStore *s, int r) {
        if (r < 0) {
                (void) exec(s, "ROLLBACK");
                return r;
        }
        return exec(s, "COMMIT");
}

/* now + a peer's ttl/ttb/ttr: metadata can come from another atServer's JSON (a remote lookup's
 * answer) with any int64, so the sum saturates instead of overflowing */
static int64_t time_after(int64_t now, int64_t delta) {
        return delta > INT64_MAX - now ? INT64_MAX : now + delta;
}

static int write_record(AtsStore *s, const char *atsign, const char *key, const char *value,
                        json_t *meta, int64_t created_at, int64_t version, const char *created_by,
                        int64_t now) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *meta_text = json_dumps(meta, JSON_COMPACT);
        int64_t ttl = meta_int(meta, "ttl"), ttb = meta_int(meta, "ttb"), ttr = meta_int(meta, "ttr");
        int r;

        if (!meta_text)
                return -ENOMEM;
        r = prepare(s, &st,
                    "INSERT OR REPLACE INTO keys(atsign, key, value, meta, created_at, updated_at,"
                    " available_at, expires_at, refresh_at, version, created_by)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "ssssiiiiiis", atsign, key, value, meta_text, created_at, now,
                    ttb > 0 ? time_after(now, ttb) : (int64_t) 0,
                    ttl > 0 ? time_after(time_after(now, ttb > 0 ? ttb : 0), ttl) : (int64_t) 0,
                    ttr > 0 ? time_after(now, ttr) : (int64_t) 0, version, created_by);
        if (r < 0)
                return r;
        return step_done(s, st);
}

int ats_store_put(AtsStore *s, const char *atsign, const char *key, const char *value,
                  const AtsMetadata *m, const char *created_by, int64_t now, int64_t *ret_commit) {
        _cleanup_(ats_record_freep) AtsRecord *old = NULL;
        json_t *meta;
        int64_t commit = 0, created = now, version = 0;
        int r;

        r = begin(s);
        if (r < 0)
                return r;
        r = get_raw(s, atsign, key, &old);
        if (r >= 0) {
                meta = json_incref(old->meta);
                created = old->created_at;
                version = old->version + 1;
        } else
                meta = json_object();
        if (!meta)
                r = -ENOMEM;
        else {
                meta_merge(meta, m);
                r = write_record(s, atsign, key, value, meta, created, version, created_by, now);
                json_decref(meta);
        }
        if (r >= 0)
                r = ats_store_next_commit(s, atsign, &commit);
        r = commit_or_rollback(s, r);
        if (r < 0)
                return r;
        if (ret_commit)
                *ret_commit = commit;
        return 0;
}

int ats_store_put_meta(AtsStore *s, const char *atsign, const char *key, const AtsMetadata *m,
                       int64_t now, int64_t *ret_commit) {
        _cleanup_(ats_record_freep) AtsRecord *old = NULL;
        int64_t commit = 0;
        int r = begin(s);
        if (r < 0)
                return r;
        r = get_raw(s, atsign, key, &old);
        if (r >= 0) {
                meta_merge(old->meta, m);
                r = write_record(s, atsign, key, old->value, old->meta, old->created_at, old->version + 1, NULL, now);
        }
        if (r >= 0)
                r = ats_store_next_commit(s, atsign, &commit);
        r = commit_or_rollback(s, r);
        if (r < 0)
                return r;
        if (ret_commit)
                *ret_commit = commit;
        return 0;
}

static int delete_raw(AtsStore *s, const char *atsign, const char *key, bool *ret_found) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "DELETE FROM keys WHERE atsign = ? AND key = ?", "ss", atsign, key);
        if (r < 0)
                return r;
        r = step_done(s, st);
        if (ret_found)
                *ret_found = sqlite3_changes(s->db) > 0;
        return r;
}

int ats_store_get(AtsStore *s, const char *atsign, const char *key, int64_t now, AtsRecord **ret) {
        _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
        int r = get_raw(s, atsign, key, &rec);
        if (r < 0)
                return r;
        if (rec->expires_at > 0 && rec->expires_at <= now) {
                (void) delete_raw(s, atsign, key, NULL); /* lazy expiry */
                return -ENOENT;
        }
        if (rec->available_at > 0 && rec->available_at > now)
                return -ENOENT;
        *ret = TAKE_PTR(rec);
        return 0;
}

int ats_store_delete(AtsStore *s, const char *atsign, const char *key, int64_t *ret_commit) {
        bool found = false;
        int64_t commit = 0;
        int r = begin(s);
        if (r < 0)
                return r;
        r = delete_raw(s, atsign, key, &found);
        if (r >= 0)
                r = ats_store_next_commit(s, atsign, &commit);
        r = commit_or_rollback(s, r);
        if (r < 0)
                return r;
        if (ret_commit)
                *ret_commit = commit;
        return found ? 0 : -ENOENT;
}

int ats_store_keys(AtsStore *s, const char *atsign, int64_t now, char ***ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char **l = NULL;
        size_t n = 0;
        int r = prepare(s, &st, "SELECT key FROM keys WHERE atsign = ? AND (expires_at IS NULL OR expires_at = 0 OR expires_at > ?)"
                                " AND (available_at IS NULL OR available_at = 0 OR available_at <= ?) ORDER BY key",
                        "sii", atsign, now, now);
        if (r < 0)
                return r;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while ((r = step_row(s, st)) > 0) {
                char **m = realloc(l, (n + 2) * sizeof(char *));
                if (!m) {
                        strv_free(l);
                        return -ENOMEM;
                }
                l = m;
                l[n] = column_strdup(st, 0);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                l[++n] = NULL;
        }
        if (r < 0) {
                strv_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

int ats_store_sweep(AtsStore *s, int64_t now) {
        _cleanup_stmt_ sqlite3_stmt *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        int r;
        r = prepare(s, &a, "DELETE FROM keys WHERE expires_at > 0 AND expires_at <= ?", "i", now);
        if (r >= 0)
                r = step_done(s, a);
        if (r >= 0)
                r = prepare(s, &b, "DELETE FROM notifications WHERE expires_at > 0 AND expires_at <= ?", "i", now);
        if (r >= 0)
                r = step_done(s, b);
        if (r >= 0)
                r = prepare(s, &c, "DELETE FROM otps WHERE expires_at <= ?", "i", now);
        if (r >= 0)
                r = step_done(s, c);
        if (r >= 0)
                r = prepare(s, &d, "DELETE FROM enrollments WHERE status = 'pending' AND expires_at > 0 AND expires_at <= ?",
                            "i", now);
        if (r >= 0)
                r = step_done(s, d);
        return r;
}

char *ats_format_time(int64_t ms) {
        time_t t = (time_t) (ms / 1000);
        struct tm tm;
        char buf[64], *ret;
        if (!gmtime_r(&t, &tm))
                return NULL;
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        if (asprintf(&ret, "%s.%03dZ", buf, (int) (ms % 1000)) < 0)
                return NULL;
        return ret;
}

static void json_set_time(json_t *o, const char *name, int64_t ms) {
        if (ms <= 0) {
                json_object_set_new(o, name, json_null());
                return;
        }
        char *t = ats_format_time(ms);
        json_object_set_new(o, name, t ? json_string(t) : json_null());
        free(t);
}

json_t *ats_record_to_json(const AtsRecord *r, const char *atsign, bool with_data) {
        /* at_persistence_secondary_server model/at_meta_data.dart toJson, at_data.dart toJson */
        json_t *m = json_object();
        if (!m)
                return NULL;
        json_object_set_new(m, "createdBy", json_string(atsign));
        json_object_set_new(m, "updatedBy", json_string(atsign));
        json_set_time(m, "createdAt", r->created_at);
        json_set_time(m, "updatedAt", r->updated_at);
        json_set_time(m, "availableAt", r->available_at);
        json_set_time(m, "expiresAt", r->expires_at);
        json_set_time(m, "refreshAt", r->refresh_at);
        json_object_set_new(m, "status", json_string("active"));
        json_object_set_new(m, "version", json_integer(r->version));
        static const char *const ints[] = { "ttl", "ttb", "ttr" };
        for (size_t i = 0; i < ELEMENTSOF(ints); i++) {
                json_t *v = json_object_get(r->meta, ints[i]);
                json_object_set_new(m, ints[i], v ? json_incref(v) : json_integer(0));
        }
        json_t *ccd = json_object_get(r->meta, "ccd");
        json_object_set_new(m, "ccd", ccd ? json_incref(ccd) : json_false());
        static const char *const rest[] = {
                "isBinary", "isEncrypted", "dataSignature", "sharedKeyEnc", "pubKeyCS", "encoding",
                "encKeyName", "encAlgo", "ivNonce", "skeEncKeyName", "skeEncAlgo",
        };
        for (size_t i = 0; i < ELEMENTSOF(rest); i++) {
                json_t *v = json_object_get(r->meta, rest[i]);
                if (v)
                        json_object_set_new(m, rest[i], json_incref(v));
                else if (i < 2)
                        json_object_set_new(m, rest[i], json_false());
        }
        if (!with_data)
                return m;
        json_t *o = json_object();
        if (!o) {
                json_decref(m);
                return NULL;
        }
        json_object_set_new(o, "key", json_string(r->key));
        json_object_set_new(o, "data", r->value ? json_string(r->value) : json_null());
        json_object_set_new(o, "metaData", m);
        return o;
}

/* ---------------- notifications ---------------- */

void ats_notification_free(AtsNotification *n) {
        if (!n)
                return;
        free(n->id);
        free(n->owner);
        free(n->from);
        free(n->to);
        free(n->key);
        free(n->value);
        free(n->operation);
        free(n->message_type);
        json_decref(n->meta);
        free(n->status);
        free(n->command);
        free(n);
}

void ats_notifications_free(AtsNotification **l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                ats_notification_free(l[i]);
        free(l);
}

int ats_store_notification_add(AtsStore *s, const AtsNotification *n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *meta = n->meta ? json_dumps(n->meta, JSON_COMPACT) : NULL;
        int r;
        /* The same sender may store a notification again under its id (status, retries); another
         * sender may not take over an id it has learnt: -EEXIST. */
        r = prepare(s, &st,
                    "INSERT INTO notifications(owner, id, type, from_atsign, to_atsign, key, value,"
                    " operation, message_type, is_encrypted, meta, status, created_at, expires_at, retries, command)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(owner, id) DO UPDATE SET type = excluded.type, to_atsign = excluded.to_atsign,"
                    " key = excluded.key, value = excluded.value, operation = excluded.operation,"
                    " message_type = excluded.message_type, is_encrypted = excluded.is_encrypted,"
                    " meta = excluded.meta, status = excluded.status, created_at = excluded.created_at,"
                    " expires_at = excluded.expires_at, retries = excluded.retries, command = excluded.command"
                    " WHERE notifications.from_atsign IS excluded.from_atsign",
                    "ssissssssissiiis", n->owner, n->id, (int64_t) n->type, n->from, n->to, n->key, n->value,
                    n->operation, n->message_type, (int64_t) n->is_encrypted, meta, n->status,
                    n->created_at, n->expires_at, (int64_t) n->retries, n->command);
        if (r < 0)
                return r;
        r = step_done(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -EEXIST;
}

static const char notification_columns[] =
        "SELECT owner, id, type, from_atsign, to_atsign, key, value, operation, message_type,"
        " is_encrypted, meta, status, created_at, expires_at, retries, command FROM notifications ";

static AtsNotification *load_notification(sqlite3_stmt *st) {
        AtsNotification *n = calloc(1, sizeof *n);
        if (!n)
                return NULL;
        n->owner = column_strdup(st, 0);
        n->id = column_strdup(st, 1);
        n->type = sqlite3_column_int(st, 2);
        n->from = column_strdup(st, 3);
        n->to = column_strdup(st, 4);
        n->key = column_strdup(st, 5);
        n->value = column_strdup(st, 6);
        n->operation = column_strdup(st, 7);
        n->message_type = column_strdup(st, 8);
        n->is_encrypted = sqlite3_column_int(st, 9);
        const unsigned char *meta = sqlite3_column_text(st, 10);
        n->meta = meta ? json_loads((const char *) meta, 0, NULL) : NULL;
        n->status = column_strdup(st, 11);
        n->created_at = sqlite3_column_int64(st, 12);
        n->expires_at = sqlite3_column_int64(st, 13);
        n->retries = sqlite3_column_int(st, 14);
        n->command = column_strdup(st, 15);
        if (!n->id || !n->owner) {
                ats_notification_free(n);
                return NULL;
        }
        return n;
}

int ats_store_notification_get(AtsStore *s, const char *owner, const char *id, AtsNotification **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        if (asprintf(&sql, "%sWHERE owner = ? AND id = ?", notification_columns) < 0)
                return -ENOMEM;
        int r = prepare(s, &st, sql, "ss", owner, id);
        if (r < 0)
                return r;
        r = step_row(s, st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        *ret = load_notification(st);
        return *ret ? 0 : -ENOMEM;
}

int ats_store_notification_set_status(AtsStore *s, const char *owner, const char *id,
                                      const char *status, int retries) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "UPDATE notifications SET status = ?, retries = ? WHERE owner = ? AND id = ?",
                        "siss", status, (int64_t) retries, owner, id);
        if (r < 0)
                return r;
        return step_done(s, st);
}

int ats_store_notification_delete(AtsStore *s, const char *owner, const char *id) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "DELETE FROM notifications WHERE owner = ? AND id = ?", "ss", owner, id);
        if (r < 0)
                return r;
        r = step_done(s, st);
        return r < 0 ? r : sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

static int collect(AtsStore *s, sqlite3_stmt *st, AtsNotification ***ret, size_t *ret_n) {
        AtsNotification **l = NULL;
        size_t n = 0;
        int r;
        while ((r = step_row(s, st)) > 0) {
                AtsNotification **m = realloc(l, (n + 1) * sizeof *l);
                if (!m) {
                        ats_notifications_free(l, n);
                        return -ENOMEM;
                }
                l = m;
                l[n] = load_notification(st);
                if (!l[n]) {
                        ats_notifications_free(l, n);
                        return -ENOMEM;
                }
                n++;
        }
        if (r < 0) {
                ats_notifications_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

int ats_store_notifications(AtsStore *s, const char *owner, int type, int64_t since, int64_t now,
                            AtsNotification ***ret, size_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        if (asprintf(&sql, "%sWHERE owner = ? AND %s AND created_at > ? AND (expires_at = 0 OR expires_at > ?)"
                           " ORDER BY created_at, rowid",
                     notification_columns, type < 0 ? "type IN (1, 2)" : "type = ?") < 0)
                return -ENOMEM;
        int r = type < 0 ? prepare(s, &st, sql, "sii", owner, since, now)
                         : prepare(s, &st, sql, "siii", owner, (int64_t) type, since, now);
        if (r < 0)
                return r;
        return collect(s, st, ret, ret_n);
}

int ats_store_notifications_queued(AtsStore *s, int64_t now, AtsNotification ***ret, size_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        if (asprintf(&sql, "%sWHERE type = 0 AND status = 'queued' AND (expires_at = 0 OR expires_at > ?)"
                           " ORDER BY created_at", notification_columns) < 0)
                return -ENOMEM;
        int r = prepare(s, &st, sql, "i", now);
        if (r < 0)
                return r;
        return collect(s, st, ret, ret_n);
}

json_t *ats_notification_to_json(const AtsNotification *n) {
        /* monitor_verb_handler.dart Notification.toJson; messageType is Dart's enum text */
        json_t *o = json_object(), *m = json_object();
        if (!o || !m) {
                json_decref(o);
                json_decref(m);
                return NULL;
        }
        static const char *const names[] = { "encKeyName", "encAlgo", "ivNonce", "skeEncKeyName", "skeEncAlgo",
                                             "sharedKeyEnc", "pubKeyCS" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                json_t *v = n->meta ? json_object_get(n->meta, names[i]) : NULL;
                json_object_set_new(m, names[i], v ? json_incref(v) : json_null());
        }
        json_object_set_new(m, "availableAt", json_string("null"));
        char *exp = n->expires_at > 0 ? ats_format_time(n->expires_at) : NULL;
        json_object_set_new(m, "expiresAt", json_string(exp ? exp : "null"));
        free(exp);

        _cleanup_free_ char *mt = NULL;
        if (asprintf(&mt, "MessageType.%s", n->message_type ? n->message_type : "key") < 0)
                mt = NULL;
        json_object_set_new(o, "id", json_string(n->id));
        json_object_set_new(o, "from", n->from ? json_string(n->from) : json_null());
        json_object_set_new(o, "to", n->to ? json_string(n->to) : json_null());
        json_object_set_new(o, "key", n->key ? json_string(n->key) : json_null());
        json_object_set_new(o, "value", n->value ? json_string(n->value) : json_null());
        json_object_set_new(o, "operation", json_string(n->operation ? n->operation : "update"));
        json_object_set_new(o, "epochMillis", json_integer(n->created_at));
        json_object_set_new(o, "messageType", mt ? json_string(mt) : json_null());
        json_object_set_new(o, "isEncrypted", json_boolean(n->is_encrypted));
        json_object_set_new(o, "metadata", m);
        return o;
}

/* ---------------- enrolments and OTPs ---------------- */

void ats_enrollment_free(AtsEnrollment *e) {
        if (!e)
                return;
        free(e->id);
        free(e->atsign);
        free(e->app_name);
        free(e->device_name);
        json_decref(e->namespaces);
        free(e->apkam_public_key);
        free(e->encrypted_apkam_symmetric_key);
        free(e->status);
        free(e);
}

void ats_enrollments_free(AtsEnrollment **l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                ats_enrollment_free(l[i]);
        free(l);
}

int ats_store_enrollment_put(AtsStore *s, const AtsEnrollment *e) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *ns = e->namespaces ? json_dumps(e->namespaces, JSON_COMPACT) : NULL;
        int r = prepare(s, &st,
                        "INSERT OR REPLACE INTO enrollments(atsign, id, app_name, device_name, namespaces,"
                        " apkam_public_key, encrypted_apkam_symmetric_key, status, created_at, expires_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "ssssssssii", e->atsign, e->id, e->app_name, e->device_name, ns, e->apkam_public_key,
                        e->encrypted_apkam_symmetric_key, e->status, e->created_at, e->expires_at);
        if (r < 0)
                return r;
        return step_done(s, st);
}

static AtsEnrollment *load_enrollment(sqlite3_stmt *st) {
        AtsEnrollment *e = calloc(1, sizeof *e);
        if (!e)
                return NULL;
        e->atsign = column_strdup(st, 0);
        e->id = column_strdup(st, 1);
        e->app_name = column_strdup(st, 2);
        e->device_name = column_strdup(st, 3);
        const unsigned char *ns = sqlite3_column_text(st, 4);
        e->namespaces = ns ? json_loads((const char *) ns, 0, NULL) : json_object();
        e->apkam_public_key = column_strdup(st, 5);
        e->encrypted_apkam_symmetric_key = column_strdup(st, 6);
        e->status = column_strdup(st, 7);
        e->created_at = sqlite3_column_int64(st, 8);
        e->expires_at = sqlite3_column_int64(st, 9);
        if (!e->id || !e->status) {
                ats_enrollment_free(e);
                return NULL;
        }
        return e;
}

static const char enrollment_columns[] =
        "SELECT atsign, id, app_name, device_name, namespaces, apkam_public_key,"
        " encrypted_apkam_symmetric_key, status, created_at, expires_at FROM enrollments ";

int ats_store_enrollment_get(AtsStore *s, const char *atsign, const char *id, AtsEnrollment **ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        if (asprintf(&sql, "%sWHERE atsign = ? AND id = ?", enrollment_columns) < 0)
                return -ENOMEM;
        int r = prepare(s, &st, sql, "ss", atsign, id);
        if (r < 0)
                return r;
        r = step_row(s, st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        *ret = load_enrollment(st);
        return *ret ? 0 : -ENOMEM;
}

int ats_store_enrollments(AtsStore *s, const char *atsign, AtsEnrollment ***ret, size_t *ret_n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        AtsEnrollment **l = NULL;
        size_t n = 0;
        if (asprintf(&sql, "%sWHERE atsign = ? ORDER BY created_at", enrollment_columns) < 0)
                return -ENOMEM;
        int r = prepare(s, &st, sql, "s", atsign);
        if (r < 0)
                return r;
        while ((r = step_row(s, st)) > 0) {
                AtsEnrollment **m = realloc(l, (n + 1) * sizeof *l);
                if (!m) {
                        ats_enrollments_free(l, n);
                        return -ENOMEM;
                }
                l = m;
                l[n] = load_enrollment(st);
                if (!l[n]) {
                        ats_enrollments_free(l, n);
                        return -ENOMEM;
                }
                n++;
        }
        if (r < 0) {
                ats_enrollments_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

int ats_store_otp_put(AtsStore *s, const char *atsign, const char *otp, int64_t expires_at) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "INSERT OR REPLACE INTO otps(atsign, otp, expires_at) VALUES (?, ?, ?)",
                        "ssi", atsign, otp, expires_at);
        if (r < 0)
                return r;
        return step_done(s, st);
}

int ats_store_otp_use(AtsStore *s, const char *atsign, const char *otp, int64_t now) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, &st, "DELETE FROM otps WHERE atsign = ? AND otp = ? AND expires_at > ?",
                        "ssi", atsign, otp, now);
        if (r < 0)
                return r;
        r = step_done(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}
