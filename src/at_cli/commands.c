/* SPDX-License-Identifier: BSD-3-Clause */
#include "aes.h"
#include "base64.h"
#include "cli.h"
#include "key.h"
#include "log.h"
#include "metadata.h"
#include "notify.h"
#include "secure.h"
#include "verbs.h"

static void metadata_donep(AtMetadata *m) {
        at_metadata_done(m);
}

int cli_scan(Cli *cli, const char *regex) {
        _cleanup_strv_free_ char **keys = NULL;
        int r;

        r = at_verb_scan(at_client_conn(cli->client), regex, cli->show_hidden, at_client_command_timeout(cli->client),
                         &keys);
        if (r < 0)
                return cli_fail(cli, r, "scan", regex);
        for (char **k = keys; k && *k; k++)
                printf("%s\n", *k);
        return 0;
}

/* AES-256-CTR value with the IV from ivNonce (16 zero bytes without one, the legacy IV) */
static int decrypt_value(const uint8_t key[AT_AES_KEY_SIZE], const char *iv_b64, const char *ciphertext, char **ret) {
        _cleanup_free_ uint8_t *iv = NULL;
        _cleanup_secure_ uint8_t *plain = NULL;
        uint8_t zero[AT_AES_IV_SIZE] = {};
        size_t size;
        int r;

        if (iv_b64) {
                r = at_base64_decode(iv_b64, strlen(iv_b64), AT_AES_IV_SIZE, &iv, &size);
                if (r < 0 || size != AT_AES_IV_SIZE)
                        return -EBADMSG;
        }
        r = at_aes_decrypt_b64(key, iv ?: zero, ciphertext, &plain, &size);
        if (r < 0)
                return r;
        *ret = strndup((const char *) plain, size);
        return *ret ? 0 : -ENOMEM;
}

/* Plain values with a newline travel base64-encoded with "encoding:base64" (at_client_sdk
 * transformer/request_transformer/put_request_transformer.dart _encodeIfValueContainsNewLine). */
static int decode_plain(const char *value, const AtMetadata *md, char **ret) {
        _cleanup_free_ uint8_t *raw = NULL;
        size_t size;
        int r;

        if (!md->encoding || !streq(md->encoding, "base64"))
                return 0;
        r = at_base64_decode(value, strlen(value), strlen(value), &raw, &size);
        if (r < 0)
                return -EBADMSG;
        if (memchr(raw, 0, size))
                return -EBADMSG;
        *ret = strndup((const char *) raw, size);
        return *ret ? 1 : -ENOMEM;
}

static int print_decrypted(Cli *cli, const AtKey *k, const char *text, const char *value, const AtMetadata *md) {
        _cleanup_(at_secure_freep) uint8_t *key = NULL;
        _cleanup_free_ char *plain = NULL;
        const char *me = at_client_atsign(cli->client);
        int r;

        if (md->is_encrypted != AT_TRUE) {
                r = decode_plain(value, md, &plain);
                if (r < 0)
                        return cli_fail(cli, r, "get (decoding the base64 value)", text);
                printf("%s\n", plain ?: value);
                return 0;
        }
        key = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!key)
                return log_oom();
        if (k->type == AT_KEY_SHARED && at_atsign_equal(k->shared_by, me))
                r = at_shared_key_for_sending(cli->shared_keys, cli->client, k->shared_with, key, NULL, NULL);
        else if (k->type == AT_KEY_SHARED)
                r = at_shared_key_for_receiving(cli->shared_keys, cli->client, k->shared_by, key);
        else if (k->type == AT_KEY_SELF && cli->keys->self_encryption_key) {
                memcpy(key, cli->keys->self_encryption_key, AT_AES_KEY_SIZE);
                r = 0;
        } else
                r = -ENOKEY;
        if (r < 0)
                return cli_fail(cli, r, "get (finding the key to decrypt)", text);
        r = decrypt_value(key, md->iv_nonce, value, &plain);
        if (r < 0)
                return cli_fail(cli, r, "get (decrypting)", text);
        printf("%s\n", plain);
        return 0;
}

int cli_get(Cli *cli, const char *text) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        _cleanup_free_ char *entity = NULL, *remote = NULL, *value = NULL;
        _cleanup_(metadata_donep) AtMetadata md = {};
        AtConn *conn = at_client_conn(cli->client);
        uint64_t timeout = at_client_command_timeout(cli->client);
        bool mine;
        int r;

        r = at_key_parse(text, &k);
        if (r < 0)
                return cli_fail(cli, r, "get (invalid key)", text);
        mine = !k->shared_by || at_atsign_equal(k->shared_by, at_client_atsign(cli->client));
        r = at_key_entity(k, &entity);
        if (r < 0)
                return log_oom();

        if (k->type == AT_KEY_PUBLIC && !mine && !k->cached) {
                /* someone else's public key: plookup:all:<entity>@<owner>, with the metadata */
                _cleanup_free_ char *data = NULL;
                if (asprintf(&remote, "plookup:all:%s%s", entity, k->shared_by) < 0)
                        return log_oom();
                r = at_conn_command_data(conn, remote, timeout, &data);
                if (r >= 0)
                        r = at_verb_parse_all(data, strlen(data), &value, &md);
        } else if (k->type == AT_KEY_SHARED && !mine && !k->cached) {
                /* shared with us: lookup:<entity>@<owner> */
                if (asprintf(&remote, "%s%s", entity, k->shared_by) < 0)
                        return log_oom();
                r = at_verb_lookup(conn, remote, timeout, &value, &md);
        } else
                r = at_verb_llookup(conn, text, timeout, &value, &md);
        if (r < 0)
                return cli_fail(cli, r, "get", text);
        return print_decrypted(cli, k, text, value, &md);
}

static int encrypt_for(Cli *cli, const AtKey *k, const char *value, AtMetadata *md, char **ret) {
        _cleanup_(at_secure_freep) uint8_t *key = NULL;
        _cleanup_free_ char *copy = NULL, *cs = NULL, *iv_b64 = NULL;
        uint8_t iv[AT_AES_IV_SIZE];
        int r;

        key = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!key)
                return -ENOMEM;
        if (k->type == AT_KEY_SHARED) {
                r = at_shared_key_for_sending(cli->shared_keys, cli->client, k->shared_with, key, &copy, &cs);
                if (r < 0)
                        return r;
        } else if (cli->keys->self_encryption_key)
                memcpy(key, cli->keys->self_encryption_key, AT_AES_KEY_SIZE);
        else
                return -ENOKEY;
        at_random_bytes(iv, sizeof(iv));
        r = at_base64_encode(iv, sizeof(iv), &iv_b64);
        if (r < 0)
                return r;
        r = at_aes_encrypt_b64(key, iv, value, strlen(value), ret);
        if (r < 0)
                return r;
        md->is_encrypted = AT_TRUE;
        if (at_metadata_set(&md->iv_nonce, iv_b64) < 0 || at_metadata_set(&md->shared_key_enc, copy) < 0 ||
            at_metadata_set(&md->pub_key_cs, cs) < 0)
                return -ENOMEM;
        return 0;
}

int cli_put(Cli *cli, const char *text, const char *value) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        _cleanup_free_ char *ciphertext = NULL;
        _cleanup_(metadata_donep) AtMetadata md = {};
        int r;

        r = at_key_parse(text, &k);
        if (r < 0)
                return cli_fail(cli, r, "put (invalid key)", text);
        if (!k->shared_by || !at_atsign_equal(k->shared_by, at_client_atsign(cli->client)) || k->cached)
                return cli_fail(cli, -EPERM, "put (only keys owned by the atSign itself)", text);
        if (cli->ttl_ms > 0) {
                md.has_ttl = true;
                md.ttl = cli->ttl_ms;
        }
        /* shared values are encrypted for the recipient, self values with the self encryption key
         * (at_client_sdk encryption_service/shared_key_encryption.dart, self_key_encryption.dart) */
        if (k->type == AT_KEY_SHARED || k->type == AT_KEY_SELF) {
                r = encrypt_for(cli, k, value, &md, &ciphertext);
                if (r < 0)
                        return cli_fail(cli, r, "put (encrypting)", text);
        } else if (strchr(value, '\n')) {
                /* a plain value cannot hold a newline on the wire: put_request_transformer.dart */
                r = at_base64_encode(value, strlen(value), &ciphertext);
                if (r < 0 || at_metadata_set(&md.encoding, "base64") < 0)
                        return log_oom();
        }
        r = at_verb_update(at_client_conn(cli->client), text, &md, ciphertext ?: value,
                           at_client_command_timeout(cli->client));
        if (r < 0)
                return cli_fail(cli, r, "put", text);
        return 0;
}

int cli_delete(Cli *cli, const char *text) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        int r;

        r = at_key_parse(text, &k);
        if (r < 0)
                return cli_fail(cli, r, "delete (invalid key)", text);
        r = at_verb_delete(at_client_conn(cli->client), text, at_client_command_timeout(cli->client));
        if (r < 0)
                return cli_fail(cli, r, "delete", text);
        return 0;
}

int cli_notify(Cli *cli, const char *recipient, const char *text, const char *value) {
        _cleanup_(at_key_freep) AtKey *k = NULL;
        _cleanup_free_ char *entity = NULL, *id = NULL;
        int r;

        /* "message.app" or a full "@bob:message.app@alice" */
        if (strchr(text, '@')) {
                r = at_key_parse(text, &k);
                if (r < 0)
                        return cli_fail(cli, r, "notify (invalid key)", text);
                r = at_key_entity(k, &entity);
                if (r < 0)
                        return log_oom();
        }
        AtNotifyMessage m = {
                .recipient = recipient,
                .key = entity ?: text,
                .value = value,
                .ttl_ms = cli->ttl_ms,
                .ttln_ms = cli->ttln_ms,
        };
        r = at_notify_send(cli->client, cli->shared_keys, &m, &id);
        if (r < 0)
                return cli_fail(cli, r, "notify", text);
        printf("%s\n", id ?: "");
        return 0;
}
