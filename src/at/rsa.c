/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "base64.h"
#include "rsa.h"
#include "secure.h"

/* Bounds for keys from files and peers: atSign keys are RSA-2048 (at_c and at_chops generate
 * 2048-bit keys); larger ones are accepted up to a cost that cannot hurt the daemon. */
#define AT_RSA_MIN_BITS 2048
#define AT_RSA_MAX_BITS 8192
#define AT_RSA_MAX_DER 8192 /* an 8192-bit PKCS#8 key is about 4.8 KB */

struct AtRsaPublic {
        gnutls_pubkey_t key;
        uint8_t *der; /* the DER it came from, so that re-exporting gives the same text */
        size_t der_size;
};

struct AtRsaPrivate {
        gnutls_x509_privkey_t x509; /* for export and public key derivation */
        gnutls_privkey_t key;       /* for signing and decryption */
        uint8_t *der;               /* secure memory; NULL for generated keys */
        size_t der_size;
};

static int map_gnutls(int r) {
        switch (r) {
        case GNUTLS_E_MEMORY_ERROR:
                return -ENOMEM;
        case GNUTLS_E_PK_SIG_VERIFY_FAILED:
        case GNUTLS_E_DECRYPTION_FAILED:
                return -EBADMSG;
        default:
                return -EINVAL;
        }
}

/* GnuTLS's DER parser may stop at the end of the outer SEQUENCE; trailing bytes would make
 * the stored text differ from what the key is, so the outer length must cover everything. */
static bool der_is_one_sequence(const uint8_t *der, size_t size) {
        size_t len, hdr;

        if (size < 2 || der[0] != 0x30)
                return false;
        if (der[1] < 0x80) {
                len = der[1];
                hdr = 2;
        } else {
                size_t n = der[1] & 0x7f;

                if (n == 0 || n > 3 || size < 2 + n)
                        return false;
                len = 0;
                for (size_t i = 0; i < n; i++)
                        len = (len << 8) | der[2 + i];
                hdr = 2 + n;
        }
        return hdr + len == size;
}

static bool bits_ok(unsigned bits) {
        return bits >= AT_RSA_MIN_BITS && bits <= AT_RSA_MAX_BITS;
}

void at_rsa_public_free(AtRsaPublic *key) {
        if (!key)
                return;
        gnutls_pubkey_deinit(key->key);
        free(key->der);
        free(key);
}

void at_rsa_private_free(AtRsaPrivate *key) {
        if (!key)
                return;
        if (key->key)
                gnutls_privkey_deinit(key->key);
        if (key->x509)
                gnutls_x509_privkey_deinit(key->x509); /* GnuTLS wipes the key material */
        at_secure_free(key->der);
        free(key);
}

static int public_from_der(const uint8_t *der, size_t size, AtRsaPublic **ret) {
        _cleanup_(at_rsa_public_freep) AtRsaPublic *k = NULL;
        gnutls_datum_t d = { .data = (unsigned char *) der, .size = (unsigned) size };
        unsigned bits = 0;
        int r;

        if (!der_is_one_sequence(der, size))
                return -EINVAL;
        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        r = gnutls_pubkey_init(&k->key);
        if (r < 0) {
                k->key = NULL;
                return map_gnutls(r);
        }
        /* DER X.509 SubjectPublicKeyInfo */
        r = gnutls_pubkey_import(k->key, &d, GNUTLS_X509_FMT_DER);
        if (r < 0)
                return map_gnutls(r);
        if (gnutls_pubkey_get_pk_algorithm(k->key, &bits) != GNUTLS_PK_RSA || !bits_ok(bits))
                return -EINVAL;
        k->der = malloc(size);
        if (!k->der)
                return -ENOMEM;
        memcpy(k->der, der, size);
        k->der_size = size;
        *ret = TAKE_PTR(k);
        return 0;
}

int at_rsa_public_from_base64(const char *b64, AtRsaPublic **ret) {
        _cleanup_free_ uint8_t *der = NULL;
        size_t size;
        int r;

        if (!b64 || !ret)
                return -EINVAL;
        r = at_base64_decode(b64, strlen(b64), AT_RSA_MAX_DER, &der, &size);
        if (r < 0)
                return -EINVAL;
        return public_from_der(der, size, ret);
}

/* Wraps an x509 private key (taking ownership) into an AtRsaPrivate. */
static int private_from_x509(gnutls_x509_privkey_t x509, AtRsaPrivate **ret) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *k = NULL;
        unsigned bits = 0;
        int r;

        k = calloc(1, sizeof(*k));
        if (!k) {
                gnutls_x509_privkey_deinit(x509);
                return -ENOMEM;
        }
        k->x509 = x509;
        if (gnutls_x509_privkey_get_pk_algorithm2(x509, &bits) != GNUTLS_PK_RSA || !bits_ok(bits))
                return -EINVAL;
        /* the key must be consistent (p*q = n and so on), or signatures would be garbage */
        if (gnutls_x509_privkey_verify_params(x509) < 0)
                return -EINVAL;
        r = gnutls_privkey_init(&k->key);
        if (r < 0) {
                k->key = NULL;
                return map_gnutls(r);
        }
        r = gnutls_privkey_import_x509(k->key, x509, GNUTLS_PRIVKEY_IMPORT_COPY);
        if (r < 0)
                return map_gnutls(r);
        *ret = TAKE_PTR(k);
        return 0;
}

int at_rsa_private_from_base64(const char *b64, AtRsaPrivate **ret) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *k = NULL;
        _cleanup_secure_ uint8_t *der = NULL;
        gnutls_x509_privkey_t x509;
        gnutls_datum_t d;
        size_t size;
        int r;

        if (!b64 || !ret)
                return -EINVAL;
        r = at_base64_decode_secure(b64, strlen(b64), AT_RSA_MAX_DER, &der, &size);
        if (r < 0)
                return -EINVAL;
        if (!der_is_one_sequence(der, size))
                return -EINVAL;

        r = gnutls_x509_privkey_init(&x509);
        if (r < 0)
                return map_gnutls(r);
        /* DER PKCS#8 PrivateKeyInfo, unencrypted (at_c atchops rsa_key.c parses the same) */
        d = (gnutls_datum_t) { .data = der, .size = (unsigned) size };
        r = gnutls_x509_privkey_import_pkcs8(x509, &d, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN);
        if (r < 0) {
                gnutls_x509_privkey_deinit(x509);
                return map_gnutls(r);
        }
        r = private_from_x509(x509, &k);
        if (r < 0)
                return r;
        k->der = TAKE_PTR(der);
        k->der_size = size;
        *ret = TAKE_PTR(k);
        return 0;
}

int at_rsa_public_to_base64(const AtRsaPublic *key, char **ret) {
        if (!key || !ret)
                return -EINVAL;
        return at_base64_encode(key->der, key->der_size, ret);
}

/* base64 of DER into secure memory */
static int secure_base64(const uint8_t *der, size_t size, char **ret) {
        size_t len = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
        char *s = at_secure_alloc(len);

        if (!s)
                return -ENOMEM;
        sodium_bin2base64(s, len, der, size, sodium_base64_VARIANT_ORIGINAL);
        *ret = s;
        return 0;
}

int at_rsa_private_to_base64(const AtRsaPrivate *key, char **ret) {
        _cleanup_secure_ uint8_t *der = NULL;
        size_t size = 0;
        int r;

        if (!key || !ret)
                return -EINVAL;
        if (key->der)
                return secure_base64(key->der, key->der_size, ret);

        /* generated key: ask for the size, then export into secure memory */
        r = gnutls_x509_privkey_export_pkcs8(key->x509, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN, NULL, &size);
        if (r != GNUTLS_E_SHORT_MEMORY_BUFFER || size == 0 || size > AT_RSA_MAX_DER)
                return -EIO;
        der = at_secure_alloc(size);
        if (!der)
                return -ENOMEM;
        r = gnutls_x509_privkey_export_pkcs8(key->x509, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN, der, &size);
        if (r < 0)
                return -EIO;
        return secure_base64(der, size, ret);
}

int at_rsa_generate(unsigned bits, AtRsaPrivate **ret) {
        gnutls_x509_privkey_t x509;
        int r;

        if (!ret || !bits_ok(bits))
                return -EINVAL;
        r = gnutls_x509_privkey_init(&x509);
        if (r < 0)
                return map_gnutls(r);
        r = gnutls_x509_privkey_generate(x509, GNUTLS_PK_RSA, bits, 0);
        if (r < 0) {
                gnutls_x509_privkey_deinit(x509);
                return -EIO;
        }
        return private_from_x509(x509, ret);
}

int at_rsa_private_get_public(const AtRsaPrivate *key, AtRsaPublic **ret) {
        gnutls_pubkey_t pub = NULL;
        gnutls_datum_t der = {};
        int r;

        if (!key || !ret)
                return -EINVAL;
        r = gnutls_pubkey_init(&pub);
        if (r < 0)
                return map_gnutls(r);
        r = gnutls_pubkey_import_privkey(pub, key->key, 0, 0);
        if (r >= 0)
                r = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);
        gnutls_pubkey_deinit(pub);
        if (r < 0)
                return map_gnutls(r);
        r = public_from_der(der.data, der.size, ret);
        gnutls_free(der.data);
        return r;
}

unsigned at_rsa_public_bits(const AtRsaPublic *key) {
        unsigned bits = 0;

        if (!key)
                return 0;
        gnutls_pubkey_get_pk_algorithm(key->key, &bits);
        return bits;
}

static int digest_of(AtHashAlgo algo, gnutls_digest_algorithm_t *dig, gnutls_sign_algorithm_t *sign) {
        switch (algo) {
        case AT_HASH_SHA256:
                *dig = GNUTLS_DIG_SHA256;
                *sign = GNUTLS_SIGN_RSA_SHA256;
                return 0;
        case AT_HASH_SHA512:
                *dig = GNUTLS_DIG_SHA512;
                *sign = GNUTLS_SIGN_RSA_SHA512;
                return 0;
        }
        return -EINVAL;
}

int at_rsa_sign(const AtRsaPrivate *key, AtHashAlgo algo, const void *data, size_t size, char **ret_b64) {
        gnutls_digest_algorithm_t dig;
        gnutls_sign_algorithm_t sign;
        gnutls_datum_t d, sig = {};
        int r;

        if (!key || !ret_b64 || (!data && size > 0) || size > UINT_MAX)
                return -EINVAL;
        r = digest_of(algo, &dig, &sign);
        if (r < 0)
                return r;
        /* PKCS#1 v1.5 (deterministic), as at_c atchops rsa.c and at_chops sign */
        d = (gnutls_datum_t) { .data = (unsigned char *) (data ? data : ""), .size = (unsigned) size };
        r = gnutls_privkey_sign_data(key->key, dig, 0, &d, &sig);
        if (r < 0)
                return -EIO;
        r = at_base64_encode(sig.data, sig.size, ret_b64);
        gnutls_free(sig.data);
        return r;
}

int at_rsa_verify(const AtRsaPublic *key, AtHashAlgo algo, const void *data, size_t size, const char *sig_b64) {
        gnutls_digest_algorithm_t dig;
        gnutls_sign_algorithm_t sign;
        _cleanup_free_ uint8_t *sig = NULL;
        uint8_t padded[AT_RSA_MAX_BITS / 8];
        size_t sig_size, k;
        gnutls_datum_t d, s;
        int r;

        if (!key || !sig_b64 || (!data && size > 0) || size > UINT_MAX)
                return -EINVAL;
        r = digest_of(algo, &dig, &sign);
        if (r < 0)
                return r;
        r = at_base64_decode(sig_b64, strlen(sig_b64), AT_RSA_MAX_BITS / 8, &sig, &sig_size);
        if (r < 0)
                return -EINVAL;

        k = (at_rsa_public_bits(key) + 7) / 8;
        if (sig_size == 0 || sig_size > k)
                return -EBADMSG;
        /* a signer that drops leading zero bytes is still right: restore the modulus length */
        memset(padded, 0, k - sig_size);
        memcpy(padded + (k - sig_size), sig, sig_size);

        d = (gnutls_datum_t) { .data = (unsigned char *) (data ? data : ""), .size = (unsigned) size };
        s = (gnutls_datum_t) { .data = padded, .size = (unsigned) k };
        r = gnutls_pubkey_verify_data2(key->key, sign, 0, &d, &s);
        return r < 0 ? -EBADMSG : 0;
}

int at_rsa_encrypt(const AtRsaPublic *key, const void *data, size_t size, char **ret_b64) {
        gnutls_datum_t d, c = {};
        int r;

        if (!key || !ret_b64 || (!data && size > 0))
                return -EINVAL;
        /* PKCS#1 v1.5 carries at most k - 11 bytes */
        if (size + 11 > (at_rsa_public_bits(key) + 7) / 8)
                return -EMSGSIZE;
        d = (gnutls_datum_t) { .data = (unsigned char *) (data ? data : ""), .size = (unsigned) size };
        r = gnutls_pubkey_encrypt_data(key->key, 0, &d, &c);
        if (r < 0)
                return -EIO;
        r = at_base64_encode(c.data, c.size, ret_b64);
        gnutls_free(c.data);
        return r;
}

int at_rsa_decrypt(const AtRsaPrivate *key, const char *ciphertext_b64, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *cipher = NULL;
        gnutls_datum_t c, p = {};
        uint8_t *out;
        size_t size;
        int r;

        if (!key || !ciphertext_b64 || !ret)
                return -EINVAL;
        r = at_base64_decode(ciphertext_b64, strlen(ciphertext_b64), AT_RSA_MAX_BITS / 8, &cipher, &size);
        if (r < 0)
                return -EINVAL;
        if (size == 0)
                return -EBADMSG;
        c = (gnutls_datum_t) { .data = cipher, .size = (unsigned) size };
        r = gnutls_privkey_decrypt_data(key->key, 0, &c, &p);
        if (r < 0)
                return -EBADMSG;

        out = at_secure_alloc(p.size + 1);
        if (out) {
                memcpy(out, p.data, p.size);
                out[p.size] = 0;
        }
        size = p.size;
        sodium_memzero(p.data, p.size);
        gnutls_free(p.data);
        if (!out)
                return -ENOMEM;
        *ret = out;
        if (ret_size)
                *ret_size = size;
        return 0;
}
