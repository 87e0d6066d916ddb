/* SPDX-License-Identifier: BSD-3-Clause */
/* from / cram / pkam / pol as at_server's from_verb_handler.dart, cram_verb_handler.dart,
 * pkam_verb_handler.dart and pol_verb_handler.dart do them. */
#include <string.h>

#include <sodium.h>

#include "hash.h"
#include "log.h"
#include "secure.h"
#include "server.h"

void ats_verb_from(AtsSession *ss, AtsCommand *c) {
        _cleanup_free_ char *atsign = NULL;
        char uuid[37];

        if (ats_atsign_fix(c->atsign, &atsign) < 0) {
                ats_reply_error(ss, "AT0003", "invalid atSign");
                return;
        }
        if (c->client_config) {
                json_t *cfg = json_loads(c->client_config, 0, NULL);
                const char *v = json_string_value(json_object_get(cfg, "version"));
                free(ss->client_version);
                ss->client_version = v && strlen(v) < 32 ? strdup(v) : NULL;
                json_decref(cfg);
        }
        /* a new from: starts a new login */
        ss->authenticated = ss->pol_authenticated = ss->cram = false;
        free(ss->enrollment_id);
        ss->enrollment_id = NULL;
        ats_uuid(uuid);
        snprintf(ss->challenge, sizeof ss->challenge, "%s", uuid);
        free(ss->from_atsign);
        ss->from_atsign = TAKE_PTR(atsign);
        ss->from = streq(ss->from_atsign, ss->hosted->atsign) ? ATS_FROM_SELF : ATS_FROM_OTHER;
        log_info("from atsign=%s peer=%s from=%s", ss->hosted->atsign, ats_conn_peer(ss->conn), ss->from_atsign);
        /* "data:<sessionId>@alice:<uuid>" to the owner, "data:proof:<sessionId>@bob:<uuid>" to another atServer */
        ats_reply_dataf(ss, "%s%s%s:%s", ss->from == ATS_FROM_SELF ? "" : "proof:", ss->session_id, ss->from_atsign,
                        ss->challenge);
}

/* the text a client signs (PKAM) or hashes (CRAM): "<sessionId>@alice:<uuid>" */
static char *challenge_text(AtsSession *ss) {
        char *s;
        if (asprintf(&s, "%s%s:%s", ss->session_id, ss->hosted->atsign, ss->challenge) < 0)
                return NULL;
        return s;
}

static void auth_failed(AtsSession *ss, const char *what, const char *message) {
        ss->authenticated = false;
        ss->from = ATS_FROM_NONE; /* no second guess with the same challenge */
        log_notice("refused: %s failed atsign=%s peer=%s", what, ss->hosted->atsign, ats_conn_peer(ss->conn));
        ats_reply_error(ss, "AT0401", "%s", message);
}

static void auth_succeeded(AtsSession *ss, const char *what) {
        ss->authenticated = true;
        ss->from = ATS_FROM_NONE; /* a challenge is good for one login */
        log_info("authenticated atsign=%s peer=%s by %s%s%s", ss->hosted->atsign, ats_conn_peer(ss->conn), what,
                 ss->enrollment_id ? " enrollment=" : "", ss->enrollment_id ? ss->enrollment_id : "");
        ats_reply_data(ss, "success");
        ats_session_set_idle(ss);
}

void ats_verb_cram(AtsSession *ss, AtsCommand *c) {
        _cleanup_secure_ char *secret = NULL, *text = NULL;
        _cleanup_free_ char *challenge = NULL, *hex = NULL;
        uint8_t digest[AT_SHA512_SIZE];

        if (ss->from != ATS_FROM_SELF) {
                auth_failed(ss, "cram", "Authentication Failed");
                return;
        }
        if (ats_store_cram_secret(ss->server->store, ss->hosted->atsign, &secret) < 0) {
                auth_failed(ss, "cram (no secret)", "Authentication Failed");
                return;
        }
        challenge = challenge_text(ss);
        if (!challenge) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        size_t n = strlen(secret) + strlen(challenge) + 1;
        text = at_secure_alloc(n);
        if (!text) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        snprintf(text, n, "%s%s", secret, challenge);
        at_sha512(text, n - 1, digest);
        if (at_hex_encode(digest, sizeof digest, &hex) < 0) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        sodium_memzero(digest, sizeof digest);
        if (strlen(c->digest) != strlen(hex) || sodium_memcmp(c->digest, hex, strlen(hex)) != 0) {
                auth_failed(ss, "cram", "Authentication Failed");
                return;
        }
        ss->cram = true;
        auth_succeeded(ss, "cram");
}

void ats_verb_pkam(AtsSession *ss, AtsCommand *c) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *key = NULL;
        _cleanup_free_ char *challenge = NULL;
        AtHashAlgo algo = AT_HASH_SHA256;
        int r;

        if (ss->from != ATS_FROM_SELF) {
                auth_failed(ss, "pkam (no from)", "pkam authentication failed");
                return;
        }
        if (c->signing_algo && !streq(c->signing_algo, "rsa2048")) {
                auth_failed(ss, "pkam (unsupported signing algorithm)", "pkam authentication failed");
                return;
        }
        if (c->hashing_algo && streq(c->hashing_algo, "sha512"))
                algo = AT_HASH_SHA512;

        if (c->enrollment_id) {
                _cleanup_(ats_enrollment_freep) AtsEnrollment *e = NULL;
                /* pkam_verb_handler.dart _getApprovalStatus */
                if (ats_store_enrollment_get(ss->server->store, ss->hosted->atsign, c->enrollment_id, &e) < 0 ||
                    (e->expires_at > 0 && e->expires_at <= ats_now_ms() && !streq(e->status, "approved"))) {
                        log_notice("refused: pkam with unknown enrollment atsign=%s peer=%s", ss->hosted->atsign,
                                   ats_conn_peer(ss->conn));
                        ats_reply_error(ss, "AT0028", "enrollment_id: %s is expired or invalid", c->enrollment_id);
                        return;
                }
                if (!streq(e->status, "approved")) {
                        const char *code = streq(e->status, "denied")    ? "AT0025"
                                         : streq(e->status, "pending")   ? "AT0026"
                                         : streq(e->status, "revoked")   ? "AT0027"
                                                                         : "AT0028";
                        log_notice("refused: pkam with %s enrollment atsign=%s peer=%s", e->status, ss->hosted->atsign,
                                   ats_conn_peer(ss->conn));
                        ats_reply_error(ss, code, "enrollment_id: %s is %s", c->enrollment_id,
                                        streq(code, "AT0028") ? "expired or invalid" : e->status);
                        return;
                }
                r = e->apkam_public_key ? at_rsa_public_from_base64(e->apkam_public_key, &key) : -ENOENT;
        } else {
                _cleanup_(ats_record_freep) AtsRecord *rec = NULL;
                r = ats_store_get(ss->server->store, ss->hosted->atsign, "privatekey:at_pkam_publickey", ats_now_ms(), &rec);
                if (r >= 0)
                        r = at_rsa_public_from_base64(rec->value, &key);
        }
        if (r < 0) {
                auth_failed(ss, "pkam (no public key)", "pkam publickey not found");
                return;
        }
        challenge = challenge_text(ss);
        if (!challenge) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        r = at_rsa_verify(key, algo, challenge, strlen(challenge), c->signature);
        if (r < 0) {
                auth_failed(ss, "pkam signature check", "pkam authentication failed");
                return;
        }
        if (c->enrollment_id) {
                ss->enrollment_id = strdup(c->enrollment_id);
                if (!ss->enrollment_id) {
                        ats_reply_error(ss, "AT0011", "out of memory");
                        return;
                }
        }
        auth_succeeded(ss, c->enrollment_id ? "apkam" : "pkam");
}

/* ---- pol: the other atServer proves it speaks for from_atsign ---- */

typedef struct PolContext {
        AtsServer *server;
        uint64_t session;
} PolContext;

static AtsSession *find_session(AtsServer *s, uint64_t id) {
        for (AtsSession *ss = s->sessions; ss; ss = ss->next)
                if (ss->id == id)
                        return ss;
        return NULL;
}

static void pol_done(AtsServer *s, int error, const char *response, void *userdata) {
        PolContext *ctx = userdata;
        AtsSession *ss = find_session(s, ctx->session);
        free(ctx);
        if (!ss)
                return;
        if (error < 0) {
                log_notice("refused: pol failed atsign=%s peer=%s from=%s: %s", ss->hosted->atsign,
                           ats_conn_peer(ss->conn), ss->from_atsign, strerror(-error));
                ats_reply_error(ss, "AT0401", "Pol Authentication Failed");
        } else {
                ss->pol_authenticated = true;
                ss->from = ATS_FROM_NONE;
                log_info("pol authenticated atsign=%s peer=%s from=%s", ss->hosted->atsign, ats_conn_peer(ss->conn),
                         ss->from_atsign);
                /* pol_response_handler.dart: the answer is just "@bob@" */
                (void) ats_conn_printf(ss->conn, "%s@", ss->from_atsign);
        }
        ats_session_done(ss);
}

void ats_verb_pol(AtsSession *ss, AtsCommand *c) {
        int r;
        if (ss->from != ATS_FROM_OTHER) {
                ats_reply_error(ss, "AT0022", "You must execute a 'from:' command before you may run the pol command");
                return;
        }
        PolContext *ctx = calloc(1, sizeof *ctx);
        if (!ctx) {
                ats_reply_error(ss, "AT0011", "out of memory");
                return;
        }
        *ctx = (PolContext) { .server = ss->server, .session = ss->id };
        ss->busy = true;
        r = ats_outbound_verify_pol(ss->server, ss->from_atsign, ss->session_id, ss->challenge, pol_done, ctx);
        if (r < 0) {
                free(ctx);
                ss->busy = false;
                ats_reply_error(ss, "AT0021", "Unable to connect to secondary of %s", ss->from_atsign);
        }
}
