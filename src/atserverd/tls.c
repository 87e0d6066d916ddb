/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "fs.h"
#include "log.h"
#include "macro.h"
#include "tls.h"

static void crt_deinitp(gnutls_x509_crt_t *c) {
        if (*c)
                gnutls_x509_crt_deinit(*c);
}
static void privkey_deinitp(gnutls_x509_privkey_t *k) {
        if (*k)
                gnutls_x509_privkey_deinit(*k);
}
static void datum_freep(gnutls_datum_t *d) {
        gnutls_free(d->data);
}

static int tls_err(int r, const char *what) {
        log_error("%s: %s", what, gnutls_strerror(r));
        return -EIO;
}

static int load_pem(const char *path, gnutls_datum_t *ret) {
        char *data = NULL;
        size_t size;
        int r = read_file_bounded(path, 1024 * 1024, &data, &size);
        if (r < 0)
                return r;
        ret->data = (unsigned char *) data;
        ret->size = (unsigned) size;
        return 0;
}

static int save_crt(gnutls_x509_crt_t crt, const char *path) {
        _cleanup_(datum_freep) gnutls_datum_t d = {};
        int r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
        if (r < 0)
                return tls_err(r, "Failed to export certificate");
        return write_file_atomic(path, d.data, d.size, 0644, true);
}

static int save_key(gnutls_x509_privkey_t key, const char *path) {
        _cleanup_(datum_freep) gnutls_datum_t d = {};
        int r = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d);
        if (r < 0)
                return tls_err(r, "Failed to export key");
        r = write_file_atomic(path, d.data, d.size, 0600, true);
        gnutls_memset(d.data, 0, d.size);
        return r;
}

static int new_key(gnutls_x509_privkey_t *ret) {
        gnutls_x509_privkey_t k;
        int r = gnutls_x509_privkey_init(&k);
        if (r < 0)
                return tls_err(r, "privkey_init");
        r = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
        if (r < 0) {
                gnutls_x509_privkey_deinit(k);
                return tls_err(r, "Failed to generate key");
        }
        *ret = k;
        return 0;
}

static int crt_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, int days) {
        unsigned char serial[16];
        time_t now = time(NULL);
        int r;
        gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
        serial[0] &= 0x7f;
        if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
            (r = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
            (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
            (r = gnutls_x509_crt_set_expiration_time(crt, now + (time_t) days * 86400)) < 0 ||
            (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn))) < 0 ||
            (r = gnutls_x509_crt_set_key(crt, key)) < 0)
                return tls_err(r, "Failed to fill certificate");
        unsigned char id[64];
        size_t id_size = sizeof id;
        r = gnutls_x509_crt_get_key_id(crt, 0, id, &id_size);
        if (r >= 0)
                r = gnutls_x509_crt_set_subject_key_id(crt, id, id_size);
        if (r < 0)
                return tls_err(r, "Failed to set key id");
        return 0;
}

static int make_ca(const char *ca_path, const char *ca_key_path) {
        _cleanup_(privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        _cleanup_(crt_deinitp) gnutls_x509_crt_t crt = NULL;
        int r;

        r = new_key(&key);
        if (r < 0)
                return r;
        r = gnutls_x509_crt_init(&crt);
        if (r < 0)
                return tls_err(r, "crt_init");
        r = crt_common(crt, key, "atserverd local CA", 3650);
        if (r < 0)
                return r;
        if ((r = gnutls_x509_crt_set_basic_constraints(crt, 1, -1)) < 0 ||
            (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN)) < 0 ||
            (r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
                return tls_err(r, "Failed to sign CA certificate");
        r = save_key(key, ca_key_path);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", ca_key_path);
        r = save_crt(crt, ca_path);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", ca_path);
        log_info("Created local CA %s", ca_path);
        return 0;
}

static int load_ca(const char *ca_path, const char *ca_key_path, gnutls_x509_crt_t *ret_crt,
                   gnutls_x509_privkey_t *ret_key) {
        _cleanup_(datum_freep) gnutls_datum_t c = {}, k = {};
        _cleanup_(crt_deinitp) gnutls_x509_crt_t crt = NULL;
        _cleanup_(privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        int r = load_pem(ca_path, &c);
        if (r < 0)
                return r;
        r = load_pem(ca_key_path, &k);
        if (r < 0)
                return r;
        if ((r = gnutls_x509_crt_init(&crt)) < 0 || (r = gnutls_x509_crt_import(crt, &c, GNUTLS_X509_FMT_PEM)) < 0 ||
            (r = gnutls_x509_privkey_init(&key)) < 0 ||
            (r = gnutls_x509_privkey_import(key, &k, GNUTLS_X509_FMT_PEM)) < 0)
                return tls_err(r, "Failed to load the local CA");
        gnutls_memset(k.data, 0, k.size);
        *ret_crt = TAKE_PTR(crt);
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int add_san(gnutls_x509_crt_t crt, const char *name) {
        unsigned char ip[16];
        if (inet_pton(AF_INET, name, ip) == 1)
                return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND);
        if (inet_pton(AF_INET6, name, ip) == 1)
                return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND);
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name, strlen(name), GNUTLS_FSAN_APPEND);
}

static int make_server_cert(const char *ca_path, const char *ca_key_path, const char *path,
                            const char *key_path, char *const *hostnames) {
        _cleanup_(privkey_deinitp) gnutls_x509_privkey_t key = NULL, ca_key = NULL;
        _cleanup_(crt_deinitp) gnutls_x509_crt_t crt = NULL, ca = NULL;
        int r;

        r = load_ca(ca_path, ca_key_path, &ca, &ca_key);
        if (r < 0)
                return r;
        r = new_key(&key);
        if (r < 0)
                return r;
        r = gnutls_x509_crt_init(&crt);
        if (r < 0)
                return tls_err(r, "crt_init");
        r = crt_common(crt, key, hostnames[0], 825);
        if (r < 0)
                return r;
        for (char *const *h = hostnames; *h; h++)
                if ((r = add_san(crt, *h)) < 0)
                        return tls_err(r, "Failed to add subject alternative name");
        unsigned char id[64];
        size_t id_size = sizeof id;
        if ((r = gnutls_x509_crt_get_subject_key_id(ca, id, &id_size, NULL)) >= 0)
                (void) gnutls_x509_crt_set_authority_key_id(crt, id, id_size);
        if ((r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
            (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT)) < 0 ||
            (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
            (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0 ||
            (r = gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0)) < 0)
                return tls_err(r, "Failed to sign server certificate");
        r = save_key(key, key_path);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", key_path);
        r = save_crt(crt, path);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        log_info("Issued server certificate %s for %s", path, hostnames[0]);
        return 0;
}

/* Does the existing server certificate cover every host name? */
static bool cert_covers(const char *path, char *const *hostnames) {
        _cleanup_(datum_freep) gnutls_datum_t d = {};
        _cleanup_(crt_deinitp) gnutls_x509_crt_t crt = NULL;
        if (load_pem(path, &d) < 0 || gnutls_x509_crt_init(&crt) < 0 ||
            gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
                return false;
        if (gnutls_x509_crt_get_expiration_time(crt) < time(NULL) + 86400)
                return false;
        for (char *const *h = hostnames; *h; h++)
                if (!gnutls_x509_crt_check_hostname(crt, *h))
                        return false;
        return true;
}

int ats_tls_server_credentials(const char *data_dir, const char *cert_file, const char *key_file,
                               char *const *hostnames, gnutls_certificate_credentials_t *ret) {
        _cleanup_free_ char *ca = NULL, *ca_key = NULL, *crt = NULL, *key = NULL;
        gnutls_certificate_credentials_t cred;
        int r;

        if (!cert_file) {
                if (asprintf(&ca, "%s/ca.pem", data_dir) < 0 || asprintf(&ca_key, "%s/ca-key.pem", data_dir) < 0 ||
                    asprintf(&crt, "%s/server.pem", data_dir) < 0 || asprintf(&key, "%s/server-key.pem", data_dir) < 0)
                        return log_oom();
                if (access(ca, F_OK) < 0 || access(ca_key, F_OK) < 0) {
                        r = make_ca(ca, ca_key);
                        if (r < 0)
                                return r;
                        (void) unlink(crt);
                }
                if (access(key, F_OK) < 0 || !cert_covers(crt, hostnames)) {
                        r = make_server_cert(ca, ca_key, crt, key, hostnames);
                        if (r < 0)
                                return r;
                }
                cert_file = crt;
                key_file = key;
        }
        r = gnutls_certificate_allocate_credentials(&cred);
        if (r < 0)
                return tls_err(r, "Failed to allocate credentials");
        r = gnutls_certificate_set_x509_key_file(cred, cert_file, key_file, GNUTLS_X509_FMT_PEM);
        if (r < 0) {
                gnutls_certificate_free_credentials(cred);
                log_error("Failed to load %s / %s: %s", cert_file, key_file, gnutls_strerror(r));
                return -EINVAL;
        }
        *ret = cred;
        return 0;
}

int ats_tls_client_credentials(const char *data_dir, char *const *ca_files,
                               gnutls_certificate_credentials_t *ret) {
        gnutls_certificate_credentials_t cred;
        _cleanup_free_ char *ca = NULL;
        int r = gnutls_certificate_allocate_credentials(&cred);
        if (r < 0)
                return tls_err(r, "Failed to allocate credentials");
        (void) gnutls_certificate_set_x509_system_trust(cred);
        if (data_dir && asprintf(&ca, "%s/ca.pem", data_dir) >= 0 && access(ca, R_OK) == 0)
                (void) gnutls_certificate_set_x509_trust_file(cred, ca, GNUTLS_X509_FMT_PEM);
        for (char *const *f = ca_files; f && *f; f++) {
                r = gnutls_certificate_set_x509_trust_file(cred, *f, GNUTLS_X509_FMT_PEM);
                if (r < 0) {
                        gnutls_certificate_free_credentials(cred);
                        log_error("Failed to load CA file %s: %s", *f, gnutls_strerror(r));
                        return -EINVAL;
                }
        }
        *ret = cred;
        return 0;
}
