/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client.h"
#include "hash.h"
#include "log.h"
#include "macro.h"
#include "rsa.h"
#include "secure.h"
#include "verbs.h"

#define CHALLENGE_MAX 1024

/* "from:<atsign>": at_commons VerbSyntax.from accepts the atSign with or without '@'. */
int at_auth_from_command(const char *atsign, char **ret) {
        _cleanup_free_ char *name = NULL;
        int r = at_atsign_normalize(atsign, &name);
        if (r < 0)
                return r;
        return asprintf(ret, "from:%s", name) < 0 ? -ENOMEM : 0;
}

static int check_challenge(const char *challenge) {
        size_t n = strnlen(challenge, CHALLENGE_MAX + 1);
        if (n == 0 || n > CHALLENGE_MAX)
                return -EPROTO;
        return 0;
}

/* pkam[:signingAlgo:rsa2048:hashingAlgo:sha256][:enrollmentId:<id>]:<signature>:
 * at_commons VerbSyntax.pkam and PkamVerbBuilder; at_server pkam_verb_handler.dart defaults to
 * RSA/SHA-256 when the algorithms are absent. */
int at_auth_pkam_command(const AtKeys *keys, const char *challenge, char **ret) {
        _cleanup_free_ char *sig = NULL;
        int r;

        if (!keys || !keys->pkam_private)
                return -EINVAL;
        r = check_challenge(challenge);
        if (r < 0)
                return r;
        r = at_rsa_sign(keys->pkam_private, AT_HASH_SHA256, challenge, strlen(challenge), &sig);
        if (r < 0)
                return r;

        if (keys->enrollment_id && keys->enrollment_id[0]) {
                if (strpbrk(keys->enrollment_id, ":\r\n \t"))
                        return -EINVAL;
                r = asprintf(ret, "pkam:signingAlgo:rsa2048:hashingAlgo:sha256:enrollmentId:%s:%s",
                             keys->enrollment_id, sig);
        } else
                r = asprintf(ret, "pkam:%s", sig);
        return r < 0 ? -ENOMEM : 0;
}

/* cram:<hex SHA-512(secret || challenge)>: at_libraries packages/at_lookup/lib/src/at_lookup_impl.dart. */
int at_auth_cram_command(const char *cram_secret, const char *challenge, char **ret) {
        _cleanup_secure_ char *input = NULL;
        _cleanup_free_ char *hex = NULL;
        uint8_t digest[AT_SHA512_SIZE];
        int r;

        if (!cram_secret || !*cram_secret)
                return -EINVAL;
        r = check_challenge(challenge);
        if (r < 0)
                return r;

        size_t a = strlen(cram_secret), b = strlen(challenge);
        input = at_secure_alloc(a + b + 1);
        if (!input)
                return -ENOMEM;
        memcpy(input, cram_secret, a);
        memcpy(input + a, challenge, b + 1);
        r = at_sha512(input, a + b, digest);
        if (r < 0)
                return r;
        r = at_hex_encode(digest, sizeof(digest), &hex);
        explicit_bzero(digest, sizeof(digest));
        if (r < 0)
                return r;

        char *cmd = at_secure_alloc(5 + strlen(hex) + 1);
        if (!cmd)
                return -ENOMEM;
        memcpy(cmd, "cram:", 5);
        strcpy(cmd + 5, hex);
        explicit_bzero(hex, strlen(hex));
        *ret = cmd;
        return 0;
}

static int get_challenge(AtConn *conn, const char *atsign, uint64_t timeout_usec, char **ret) {
        _cleanup_free_ char *from = NULL, *challenge = NULL;
        int r;

        r = at_auth_from_command(atsign, &from);
        if (r < 0)
                return log_error_errno(r, "Invalid atSign \"%s\".", atsign ?: "");
        r = at_conn_command_data(conn, from, timeout_usec, &challenge);
        if (r < 0)
                return log_error_errno(r, "%s refused \"%s\": %s", at_conn_host(conn), from, at_conn_last_error(conn));
        r = check_challenge(challenge);
        if (r < 0)
                return log_error_errno(r, "%s sent a malformed challenge.", at_conn_host(conn));
        *ret = TAKE_PTR(challenge);
        return 0;
}

static int expect_success(AtConn *conn, const char *command, const char *what, const char *atsign,
                          uint64_t timeout_usec) {
        _cleanup_free_ char *answer = NULL;
        int r;

        r = at_conn_command_data(conn, command, timeout_usec, &answer);
        if (r < 0)
                return log_error_errno(r, "%s authentication of %s at %s:%u failed: %s", what, atsign,
                                       at_conn_host(conn), at_conn_port(conn),
                                       at_conn_last_error(conn)[0] ? at_conn_last_error(conn) : strerror(-r));
        if (!streq(answer, "success"))
                return log_error_errno(EACCES, "%s authentication of %s failed: server answered \"%.64s\".", what,
                                       atsign, answer);
        return 0;
}

int at_auth_pkam(AtConn *conn, const char *atsign, const AtKeys *keys, uint64_t timeout_usec) {
        _cleanup_free_ char *challenge = NULL, *cmd = NULL;
        int r;

        r = get_challenge(conn, atsign, timeout_usec, &challenge);
        if (r < 0)
                return r;
        r = at_auth_pkam_command(keys, challenge, &cmd);
        if (r < 0)
                return log_error_errno(r, "Failed to sign the PKAM challenge for %s: %m", atsign);
        return expect_success(conn, cmd, keys->enrollment_id ? "APKAM" : "PKAM", atsign, timeout_usec);
}

int at_auth_cram(AtConn *conn, const char *atsign, const char *cram_secret, uint64_t timeout_usec) {
        _cleanup_free_ char *challenge = NULL;
        _cleanup_secure_ char *cmd = NULL;
        int r;

        r = get_challenge(conn, atsign, timeout_usec, &challenge);
        if (r < 0)
                return r;
        r = at_auth_cram_command(cram_secret, challenge, &cmd);
        if (r < 0)
                return log_error_errno(r, "Failed to compute the CRAM digest for %s: %m", atsign);
        return expect_success(conn, cmd, "CRAM", atsign, timeout_usec);
}

/* ---- asynchronous ---- */

typedef struct AuthRequest {
        char *atsign;
        const AtKeys *keys;
        char *cram_secret; /* secure memory */
        AtAuthHandler handler;
        void *userdata;
} AuthRequest;

static void auth_request_free(AuthRequest *q) {
        free(q->atsign);
        at_secure_free(q->cram_secret);
        free(q);
}

static void auth_finish(AuthRequest *q, AtConn *conn, int error) {
        AtAuthHandler handler = q->handler;
        void *userdata = q->userdata;

        auth_request_free(q);
        handler(conn, error, userdata);
}

static void on_auth_answer(AtConn *conn, int error, const char *data, void *userdata) {
        AuthRequest *q = userdata;
        const char *what = q->keys ? q->keys->enrollment_id ? "APKAM" : "PKAM" : "CRAM";

        if (error == -ECANCELED) {
                auth_finish(q, conn, error);
                return;
        }
        if (error < 0)
                log_error_errno(error, "%s authentication of %s at %s:%u failed: %s", what, q->atsign,
                                at_conn_host(conn), at_conn_port(conn),
                                at_conn_last_error(conn)[0] ? at_conn_last_error(conn) : strerror(-error));
        else if (!streq(data, "success"))
                error = log_error_errno(EACCES, "%s authentication of %s failed: server answered \"%.64s\".", what,
                                        q->atsign, data);
        auth_finish(q, conn, error);
}

static void on_challenge(AtConn *conn, int error, const char *data, void *userdata) {
        AuthRequest *q = userdata;
        _cleanup_free_ char *pkam = NULL;
        _cleanup_secure_ char *cram = NULL;
        int r;

        if (error < 0) {
                if (error != -ECANCELED)
                        log_error_errno(error, "%s refused \"from:%s\": %s", at_conn_host(conn), q->atsign,
                                        at_conn_last_error(conn));
                auth_finish(q, conn, error);
                return;
        }
        r = check_challenge(data);
        if (r < 0) {
                log_error_errno(r, "%s sent a malformed challenge.", at_conn_host(conn));
                auth_finish(q, conn, r);
                return;
        }
        if (q->keys) {
                r = at_auth_pkam_command(q->keys, data, &pkam);
                if (r < 0)
                        log_error_errno(r, "Failed to sign the PKAM challenge for %s: %m", q->atsign);
        } else {
                r = at_auth_cram_command(q->cram_secret, data, &cram);
                if (r < 0)
                        log_error_errno(r, "Failed to compute the CRAM digest for %s: %m", q->atsign);
        }
        if (r >= 0)
                r = at_verb_command_async(conn, pkam ?: cram, on_auth_answer, q);
        if (r < 0)
                auth_finish(q, conn, r);
}

int at_auth_async(AtConn *conn, const char *atsign, const AtKeys *keys, const char *cram_secret,
                  AtAuthHandler handler, void *userdata) {
        _cleanup_free_ char *from = NULL;
        AuthRequest *q;
        int r;

        if (!handler || (!keys && !cram_secret))
                return -EINVAL;
        r = at_auth_from_command(atsign, &from);
        if (r < 0)
                return log_error_errno(r, "Invalid atSign \"%s\".", atsign ?: "");
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (AuthRequest) { .keys = keys, .handler = handler, .userdata = userdata };
        q->atsign = strdup(from + 5);
        if (!q->atsign || (cram_secret && !keys && !(q->cram_secret = at_secure_strdup(cram_secret)))) {
                auth_request_free(q);
                return -ENOMEM;
        }
        r = at_verb_command_async(conn, from, on_challenge, q);
        if (r < 0)
                auth_request_free(q);
        return r;
}
