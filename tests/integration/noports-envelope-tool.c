/* SPDX-License-Identifier: BSD-3-Clause */
/* noports-envelope-tool: test helper (not installed) that exposes our envelope code to scripts
 * checking it against an independent implementation (tests/integration/envelope-interop.sh).
 *   noports-envelope-tool sign PRIVATE_KEY_FILE    payload JSON on stdin -> envelope on stdout
 *   noports-envelope-tool verify PUBLIC_KEY_FILE   envelope on stdin -> the signed bytes on
 *                                                  stdout, exit 0 if the signature holds, else 1
 * Key files: one line of base64 DER, PKCS#8 (private) or SubjectPublicKeyInfo (public). */
#include <stdio.h>

#include "dart_json.h"
#include "envelope.h"
#include "secure.h"

#define MAX_INPUT (64U * 1024U)

static int read_all(FILE *f, char **ret, size_t *ret_size) {
        char *buf = malloc(MAX_INPUT + 1);
        size_t n;

        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, MAX_INPUT + 1, f);
        if (n > MAX_INPUT) {
                free(buf);
                return -EMSGSIZE;
        }
        buf[n] = 0;
        *ret = buf;
        *ret_size = n;
        return 0;
}

static int read_key_text(const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t n;
        FILE *f = fopen(path, "re");
        int r;

        if (!f)
                return -errno;
        r = read_all(f, &text, &n);
        fclose(f);
        if (r < 0)
                return r;
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
                text[--n] = 0;
        *ret = TAKE_PTR(text);
        return 0;
}

static int sign(const char *key_path) {
        _cleanup_free_ char *key_text = NULL, *input = NULL, *out = NULL;
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *key = NULL;
        json_t *payload = NULL;
        size_t n;
        int r;

        if ((r = read_key_text(key_path, &key_text)) < 0 || (r = at_rsa_private_from_base64(key_text, &key)) < 0)
                return fprintf(stderr, "cannot read the private key %s: %s\n", key_path, strerror(-r)), 2;
        if ((r = read_all(stdin, &input, &n)) < 0 || (r = dart_json_parse_object(input, n, MAX_INPUT, &payload)) < 0)
                return fprintf(stderr, "the payload is not a JSON object: %s\n", strerror(-r)), 2;
        r = envelope_sign(payload, key, &out);
        json_decref(payload);
        if (r < 0)
                return fprintf(stderr, "envelope_sign: %s\n", strerror(-r)), 2;
        fputs(out, stdout);
        return 0;
}

static int verify(const char *key_path) {
        _cleanup_free_ char *key_text = NULL, *input = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *key = NULL;
        _cleanup_(envelope_freep) Envelope *e = NULL;
        size_t n;
        int r;

        if ((r = read_key_text(key_path, &key_text)) < 0 || (r = at_rsa_public_from_base64(key_text, &key)) < 0)
                return fprintf(stderr, "cannot read the public key %s: %s\n", key_path, strerror(-r)), 2;
        if ((r = read_all(stdin, &input, &n)) < 0 || (r = envelope_parse(input, n, &e)) < 0)
                return fprintf(stderr, "not an envelope: %s\n", strerror(-r)), 2;
        fputs(e->payload_bytes, stdout);
        if (envelope_verify(e, key) < 0)
                return fprintf(stderr, "signature does not verify\n"), 1;
        return 0;
}

int main(int argc, char **argv) {
        at_secure_init();
        if (argc == 3 && streq(argv[1], "sign"))
                return sign(argv[2]);
        if (argc == 3 && streq(argv[1], "verify"))
                return verify(argv[2]);
        fprintf(stderr, "usage: noports-envelope-tool sign PRIVATE_KEY_FILE | verify PUBLIC_KEY_FILE\n");
        return 2;
}
