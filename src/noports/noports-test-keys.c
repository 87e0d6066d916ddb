/* SPDX-License-Identifier: BSD-3-Clause */
/* noports-test-keys: test helper (not installed).
 *   noports-test-keys genkey PRIVATE_FILE PUBLIC_FILE   RSA-2048, base64 PKCS#8 / SPKI text
 *   noports-test-keys authline PRIVATE_FILE SESSION_ID CLIENT_NONCE RVD_NONCE
 *                                                       prints the relay auth line (RV_AUTH)
 *   noports-test-keys sessionkey                        prints "<key b64> <iv b64>" */
#include <stdio.h>

#include "fs.h"
#include "relay_auth.h"
#include "secure.h"
#include "session_crypto.h"

static int write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fprintf(f, "%s\n", text);
        return fclose(f) < 0 ? -errno : 0;
}

static int read_private(const char *path, AtRsaPrivate **ret) {
        char buf[8192];
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return -errno;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                n--;
        buf[n] = '\0';
        return at_rsa_private_from_base64(buf, ret);
}

int main(int argc, char **argv) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *key = NULL;
        int r;

        at_secure_init();
        if (argc == 4 && streq(argv[1], "genkey")) {
                _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL;
                char *priv_b64 = NULL;
                _cleanup_free_ char *pub_b64 = NULL;

                if ((r = at_rsa_generate(2048, &key)) < 0 || (r = at_rsa_private_get_public(key, &pub)) < 0 ||
                    (r = at_rsa_private_to_base64(key, &priv_b64)) < 0 || (r = at_rsa_public_to_base64(pub, &pub_b64)) < 0)
                        return fprintf(stderr, "genkey: %s\n", strerror(-r)), 1;
                r = write_text(argv[2], priv_b64);
                at_secure_free(priv_b64);
                if (r < 0 || (r = write_text(argv[3], pub_b64)) < 0)
                        return fprintf(stderr, "write: %s\n", strerror(-r)), 1;
                return 0;
        }
        if (argc == 6 && streq(argv[1], "authline")) {
                _cleanup_free_ char *line = NULL;

                if ((r = read_private(argv[2], &key)) < 0 || (r = relay_auth_build(argv[3], argv[4], argv[5], key, &line)) < 0)
                        return fprintf(stderr, "authline: %s\n", strerror(-r)), 1;
                printf("%s\n", line);
                return 0;
        }
        if (argc == 2 && streq(argv[1], "sessionkey")) {
                _cleanup_(session_key_freep) SessionKey *k = NULL;

                if ((r = session_key_generate(&k)) < 0)
                        return 1;
                printf("%s %s\n", k->key_b64, k->iv_b64);
                return 0;
        }
        fprintf(stderr, "usage: noports-test-keys genkey PRIV PUB | authline PRIV SID CNONCE RVDNONCE | sessionkey\n");
        return 2;
}
