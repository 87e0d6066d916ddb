/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "fs.h"
#include "key.h"
#include "keys_file.h"
#include "log.h"
#include "secure.h"

/* Field names, as upstream writes them (at_c packages/atclient/include/atclient/atkeys_file.h,
 * at_libraries at_onboarding_cli onboarding_service_impl.dart _generateAtKeysFile). */
#define FIELD_PKAM_PUBLIC "aesPkamPublicKey"
#define FIELD_PKAM_PRIVATE "aesPkamPrivateKey"
#define FIELD_ENCRYPT_PUBLIC "aesEncryptPublicKey"
#define FIELD_ENCRYPT_PRIVATE "aesEncryptPrivateKey"
#define FIELD_SELF_KEY "selfEncryptionKey"
#define FIELD_APKAM_KEY "apkamSymmetricKey"
#define FIELD_ENROLLMENT_ID "enrollmentId"

#define MAX_KEY_FIELD 16384  /* an encrypted 8192-bit PKCS#8 key is about 9 KB of base64 */
#define MAX_ENROLLMENT_ID 128 /* a UUID in practice */

AtKeys *at_keys_new(void) {
        return calloc(1, sizeof(AtKeys));
}

void at_keys_free(AtKeys *keys) {
        if (!keys)
                return;
        free(keys->atsign);
        at_rsa_private_free(keys->pkam_private);
        at_rsa_public_free(keys->pkam_public);
        at_rsa_private_free(keys->encrypt_private);
        at_rsa_public_free(keys->encrypt_public);
        at_secure_free(keys->self_encryption_key);
        at_secure_free(keys->apkam_symmetric_key);
        free(keys->enrollment_id);
        free(keys);
}

/* The enrollment id goes into "pkam:...:enrollmentId:<id>:<sig>", so it must not hold ':' or
 * anything odd; upstream ids are UUIDs. */
static bool enrollment_id_is_valid(const char *id) {
        size_t n = strlen(id);

        if (n == 0 || n > MAX_ENROLLMENT_ID)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(id[i] == '-' || id[i] == '_' || (id[i] >= '0' && id[i] <= '9') ||
                      (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z')))
                        return false;
        return true;
}

/* Returns the string value of a field: 0 and NULL when absent, -EBADMSG when not a string or too long. */
static int get_string(json_t *root, const char *field, size_t max, const char **ret) {
        json_t *v = json_object_get(root, field);

        *ret = NULL;
        if (!v)
                return 0;
        if (!json_is_string(v))
                return log_error_errno(EBADMSG, ".atKeys field \"%s\" is not a string", field);
        if (json_string_length(v) > max)
                return log_error_errno(EBADMSG, ".atKeys field \"%s\" is too long", field);
        *ret = json_string_value(v);
        return 0;
}

static int get_required(json_t *root, const char *field, size_t max, const char **ret) {
        int r = get_string(root, field, max, ret);

        if (r < 0)
                return r;
        if (!*ret)
                return log_error_errno(EBADMSG, ".atKeys file has no \"%s\"", field);
        return 0;
}

/* A 32-byte AES key given as base64 text, into secure memory */
static int parse_aes_key(const char *field, const char *b64, uint8_t **ret) {
        uint8_t *k = at_secure_alloc(AT_AES_KEY_SIZE);

        if (!k)
                return -ENOMEM;
        if (at_aes_key_from_base64(b64, k) < 0) {
                at_secure_free(k);
                return log_error_errno(EBADMSG, ".atKeys field \"%s\" is not a base64 AES-256 key", field);
        }
        *ret = k;
        return 0;
}

/* Decrypts one of the four key fields: the plaintext is the key's base64 DER text. */
static int decrypt_field(const AtKeys *keys, const char *field, const char *value, char **ret) {
        _cleanup_secure_ uint8_t *text = NULL;
        uint8_t iv[AT_AES_IV_SIZE] = {}; /* all-zero IV (at_c atchops tests/test_aes_ctr_decrypt.c) */
        size_t size;
        int r;

        r = at_aes_decrypt_b64(keys->self_encryption_key, iv, value, &text, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || strlen((char *) text) != size)
                return log_error_errno(EBADMSG, ".atKeys field \"%s\" does not decrypt with selfEncryptionKey", field);
        *ret = (char *) TAKE_PTR(text);
        return 0;
}

static int parse_private(AtKeys *keys, json_t *root, const char *field, AtRsaPrivate **ret) {
        _cleanup_secure_ char *b64 = NULL;
        const char *value;
        int r;

        r = get_required(root, field, MAX_KEY_FIELD, &value);
        if (r < 0)
                return r;
        r = decrypt_field(keys, field, value, &b64);
        if (r < 0)
                return r;
        r = at_rsa_private_from_base64(b64, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_error_errno(EBADMSG, ".atKeys field \"%s\" is not an RSA PKCS#8 private key", field);
        return 0;
}

static int parse_public(AtKeys *keys, json_t *root, const char *field, AtRsaPublic **ret) {
        _cleanup_secure_ char *b64 = NULL;
        const char *value;
        int r;

        r = get_required(root, field, MAX_KEY_FIELD, &value);
        if (r < 0)
                return r;
        r = decrypt_field(keys, field, value, &b64);
        if (r < 0)
                return r;
        r = at_rsa_public_from_base64(b64, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_error_errno(EBADMSG, ".atKeys field \"%s\" is not an RSA public key", field);
        return 0;
}

/* The atSign: at_auth's typed documents carry "atsign"; older files a key "@alice" whose value
 * is the self encryption key (at_onboarding_cli _generateAtKeysFile). */
static int parse_atsign(AtKeys *keys, json_t *root) {
        const char *name, *found = NULL;
        json_t *v;

        v = json_object_get(root, "atsign");
        if (json_is_string(v) && at_atsign_is_valid(json_string_value(v)))
                found = json_string_value(v);
        else
                json_object_foreach(root, name, v) {
                        if (name[0] != '@' || !json_is_string(v) || !at_atsign_is_valid(name))
                                continue;
                        if (found)
                                return 0; /* ambiguous: leave it unknown */
                        found = name;
                }
        if (!found)
                return 0;
        if (asprintf(&keys->atsign, "%s%s", found[0] == '@' ? "" : "@", found) < 0) {
                keys->atsign = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int parse_root(AtKeys *keys, json_t *root) {
        const char *self_key, *apkam_key, *enrollment_id;
        int r;

        if (!json_is_object(root))
                return log_error_errno(EBADMSG, ".atKeys file is not a JSON object");
        /* at_auth AtKeysCrypto passphrase envelope: {"content":..,"iv":..,"hashingAlgoType":..} */
        if (json_object_get(root, "iv") && json_object_get(root, "content") && !json_object_get(root, FIELD_SELF_KEY))
                return log_error_errno(EPROTONOSUPPORT, "Passphrase-protected .atKeys files are not supported");

        r = get_required(root, FIELD_SELF_KEY, 64, &self_key);
        if (r < 0)
                return r;
        r = parse_aes_key(FIELD_SELF_KEY, self_key, &keys->self_encryption_key);
        if (r < 0)
                return r;

        r = parse_private(keys, root, FIELD_PKAM_PRIVATE, &keys->pkam_private);
        if (r < 0)
                return r;
        r = parse_public(keys, root, FIELD_PKAM_PUBLIC, &keys->pkam_public);
        if (r < 0)
                return r;
        r = parse_private(keys, root, FIELD_ENCRYPT_PRIVATE, &keys->encrypt_private);
        if (r < 0)
                return r;
        r = parse_public(keys, root, FIELD_ENCRYPT_PUBLIC, &keys->encrypt_public);
        if (r < 0)
                return r;

        r = get_string(root, FIELD_APKAM_KEY, 64, &apkam_key);
        if (r < 0)
                return r;
        if (apkam_key) {
                r = parse_aes_key(FIELD_APKAM_KEY, apkam_key, &keys->apkam_symmetric_key);
                if (r < 0)
                        return r;
        }

        r = get_string(root, FIELD_ENROLLMENT_ID, MAX_ENROLLMENT_ID, &enrollment_id);
        if (r < 0)
                return r;
        if (enrollment_id) {
                if (!enrollment_id_is_valid(enrollment_id))
                        return log_error_errno(EBADMSG, ".atKeys field \"%s\" is not a valid enrollment id", FIELD_ENROLLMENT_ID);
                keys->enrollment_id = strdup(enrollment_id);
                if (!keys->enrollment_id)
                        return -ENOMEM;
        }

        return parse_atsign(keys, root);
}

/* While a keys file is parsed, every block Jansson frees is wiped first: its lexer buffers and
 * string values hold the self encryption key (and the APKAM key) in plain text, and freed heap
 * is what a core dump or a later allocation shows. Jansson allocates with malloc unless told
 * otherwise, so the block's size is malloc_usable_size(). */
static json_free_t keys_parse_saved_free;

static void keys_parse_wiping_free(void *p) {
        if (!p)
                return;
        explicit_bzero(p, malloc_usable_size(p));
        keys_parse_saved_free(p);
}

int at_keys_parse(const char *json, size_t size, AtKeys **ret) {
        _cleanup_(at_keys_freep) AtKeys *keys = NULL;
        json_error_t error;
        json_t *root;
        int r;

        if (!json || !ret)
                return -EINVAL;
        if (size > AT_KEYS_FILE_MAX_SIZE)
                return log_error_errno(EFBIG, ".atKeys file is larger than %u bytes", (unsigned) AT_KEYS_FILE_MAX_SIZE);

        keys = at_keys_new();
        if (!keys)
                return -ENOMEM;
        json_malloc_t saved_malloc;
        json_get_alloc_funcs(&saved_malloc, &keys_parse_saved_free);
        json_set_alloc_funcs(saved_malloc, keys_parse_wiping_free);
        /* duplicate fields would make "which value counts" ambiguous: refuse them */
        root = json_loadb(json, size, JSON_REJECT_DUPLICATES, &error);
        r = root ? parse_root(keys, root) : -EBADMSG;
        json_decref(root);
        json_set_alloc_funcs(saved_malloc, keys_parse_saved_free);
        if (!root)
                return log_error_errno(EBADMSG, ".atKeys file is not valid JSON (line %d: %s)", error.line, error.text);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(keys);
        return 0;
}

int at_keys_load(const char *path, AtKeys **ret) {
        char *data = NULL;
        size_t size = 0;
        int r;

        if (!path || !ret)
                return -EINVAL;
        r = read_file_bounded(path, AT_KEYS_FILE_MAX_SIZE, &data, &size);
        if (r == -EFBIG)
                return log_error_errno(r, "%s is larger than %u bytes, not an .atKeys file", path,
                                       (unsigned) AT_KEYS_FILE_MAX_SIZE);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        r = at_keys_parse(data, size, ret);
        sodium_memzero(data, size); /* it holds the self encryption key */
        free(data);
        if (r < 0)
                return log_error_errno(r, "Failed to load keys from %s: %m", path);
        return 0;
}

/* base64 of AES-256(selfEncryptionKey, zero IV) over the key's base64 text */
static int encrypt_field(const AtKeys *keys, const char *b64, char **ret) {
        uint8_t iv[AT_AES_IV_SIZE] = {};

        return at_aes_encrypt_b64(keys->self_encryption_key, iv, b64, strlen(b64), ret);
}

/* base64 of a 32-byte AES key, in secure memory */
static int aes_key_to_base64(const uint8_t *key, char **ret) {
        size_t len = sodium_base64_ENCODED_LEN(AT_AES_KEY_SIZE, sodium_base64_VARIANT_ORIGINAL);
        char *s = at_secure_alloc(len);

        if (!s)
                return -ENOMEM;
        sodium_bin2base64(s, len, key, AT_AES_KEY_SIZE, sodium_base64_VARIANT_ORIGINAL);
        *ret = s;
        return 0;
}

typedef struct Builder {
        char *buf;
        size_t size, pos;
} Builder;

/* Appends "name":"value" (with a leading comma after the first). Values are base64 text, a
 * validated atSign or enrollment id: nothing that needs JSON escaping. */
static void builder_field(Builder *b, const char *name, const char *value) {
        int n = snprintf(b->buf + b->pos, b->size - b->pos, "%s\"%s\":\"%s\"", b->pos > 1 ? "," : "", name, value);

        if (n > 0)
                b->pos = MIN(b->pos + (size_t) n, b->size);
}

int at_keys_format(const AtKeys *keys, char **ret) {
        _cleanup_secure_ char *pkam_priv = NULL, *enc_priv = NULL, *self_key = NULL, *apkam_key = NULL;
        _cleanup_free_ char *pkam_pub = NULL, *enc_pub = NULL;
        _cleanup_free_ char *e_pkam_pub = NULL, *e_pkam_priv = NULL, *e_enc_pub = NULL, *e_enc_priv = NULL;
        _cleanup_secure_ char *out = NULL;
        Builder b = {};
        int r;

        if (!keys || !ret || !keys->pkam_private || !keys->pkam_public || !keys->encrypt_private ||
            !keys->encrypt_public || !keys->self_encryption_key)
                return -EINVAL;
        /* these go into the JSON unescaped: they must be plain */
        if ((keys->atsign && (!at_atsign_is_valid(keys->atsign) || keys->atsign[0] != '@')) ||
            (keys->enrollment_id && !enrollment_id_is_valid(keys->enrollment_id)))
                return -EINVAL;

        if ((r = at_rsa_private_to_base64(keys->pkam_private, &pkam_priv)) < 0 ||
            (r = at_rsa_public_to_base64(keys->pkam_public, &pkam_pub)) < 0 ||
            (r = at_rsa_private_to_base64(keys->encrypt_private, &enc_priv)) < 0 ||
            (r = at_rsa_public_to_base64(keys->encrypt_public, &enc_pub)) < 0)
                return r;
        if ((r = encrypt_field(keys, pkam_pub, &e_pkam_pub)) < 0 ||
            (r = encrypt_field(keys, pkam_priv, &e_pkam_priv)) < 0 ||
            (r = encrypt_field(keys, enc_pub, &e_enc_pub)) < 0 ||
            (r = encrypt_field(keys, enc_priv, &e_enc_priv)) < 0)
                return r;
        if ((r = aes_key_to_base64(keys->self_encryption_key, &self_key)) < 0)
                return r;
        if (keys->apkam_symmetric_key && (r = aes_key_to_base64(keys->apkam_symmetric_key, &apkam_key)) < 0)
                return r;

        b.size = strlen(e_pkam_pub) + strlen(e_pkam_priv) + strlen(e_enc_pub) + strlen(e_enc_priv) +
                 2 * strlen(self_key) + (apkam_key ? strlen(apkam_key) : 0) +
                 (keys->atsign ? strlen(keys->atsign) : 0) +
                 (keys->enrollment_id ? strlen(keys->enrollment_id) : 0) + 512;
        out = b.buf = at_secure_alloc(b.size);
        if (!out)
                return -ENOMEM;
        b.buf[b.pos++] = '{';
        /* at_onboarding_cli's field order, with the PKAM private key beside its public half */
        builder_field(&b, FIELD_PKAM_PUBLIC, e_pkam_pub);
        builder_field(&b, FIELD_PKAM_PRIVATE, e_pkam_priv);
        builder_field(&b, FIELD_ENCRYPT_PUBLIC, e_enc_pub);
        builder_field(&b, FIELD_ENCRYPT_PRIVATE, e_enc_priv);
        builder_field(&b, FIELD_SELF_KEY, self_key);
        if (keys->atsign)
                builder_field(&b, keys->atsign, self_key); /* legacy copy that names the atSign */
        if (apkam_key)
                builder_field(&b, FIELD_APKAM_KEY, apkam_key);
        if (keys->enrollment_id)
                builder_field(&b, FIELD_ENROLLMENT_ID, keys->enrollment_id);
        if (b.pos + 2 > b.size)
                return -EIO; /* cannot happen: the size above covers every field */
        b.buf[b.pos++] = '}';
        b.buf[b.pos] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int dirname_of(const char *path, char **ret) {
        const char *slash = strrchr(path, '/');

        if (!slash) {
                *ret = NULL;
                return 0;
        }
        *ret = strndup(path, slash == path ? 1 : (size_t) (slash - path));
        return *ret ? 0 : -ENOMEM;
}

int at_keys_save(const AtKeys *keys, const char *path, bool replace) {
        _cleanup_secure_ char *text = NULL;
        _cleanup_free_ char *dir = NULL;
        int r;

        if (!keys || !path)
                return -EINVAL;
        r = at_keys_format(keys, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to serialise keys for %s: %m", path);
        r = dirname_of(path, &dir);
        if (r < 0)
                return r;
        if (dir) {
                r = mkdir_parents(dir, 0700);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s: %m", dir);
        }
        r = write_file_atomic(path, text, strlen(text), 0600, replace);
        if (r == -EEXIST)
                return log_error_errno(r, "%s already exists, not overwriting it", path);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        return 0;
}

int at_keys_default_path(const char *atsign, char **ret) {
        const char *home;

        if (!atsign || !ret || !at_atsign_is_valid(atsign))
                return -EINVAL;
        home = secure_getenv("HOME");
        if (!home || home[0] != '/') {
                struct passwd *pw = getpwuid(getuid());

                if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
                        return -ENOENT;
                home = pw->pw_dir;
        }
        /* ~/.atsign/keys/@alice_key.atKeys (at_c atclient, at_onboarding_cli default paths) */
        if (asprintf(ret, "%s/.atsign/keys/%s%s_key.atKeys", home, atsign[0] == '@' ? "" : "@", atsign) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}
