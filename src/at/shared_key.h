/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdint.h>

#include "aes.h"
#include "client.h"
#include "conn.h"
#include "keys_file.h"
#include "macro.h"

/* The AES-256 keys two atSigns use for what they share (docs/protocol.md "Shared keys"), as
 * at_client_sdk encryption_service/abstract_atkey_encryption.dart and
 * decryption_service/shared_key_decryption.dart (and at_c encryption_key_helpers.c) make them:
 *  - the key is 32 random bytes; what is stored is its base64 text, RSA-encrypted (PKCS#1 v1.5);
 *  - @alice keeps her copy at "shared_key.bob@alice", encrypted with her own encryption public
 *    key, and gives @bob his at "@bob:shared_key@alice" (ttr 3888000 s), encrypted with
 *    "public:publickey@bob";
 *  - @bob reads his with "lookup:shared_key@alice" (or from a notification's sharedKeyEnc) and
 *    decrypts it with his encryption private key.
 * Keys are cached in memory (secure memory) per peer and direction. */

typedef struct AtSharedKeys AtSharedKeys;

int at_shared_keys_new(AtSharedKeys **ret);
void at_shared_keys_free(AtSharedKeys *cache);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtSharedKeys *, at_shared_keys_free);

/* Drops the cached keys for other (both directions), e.g. after a decryption failure. */
void at_shared_keys_forget(AtSharedKeys *cache, const char *other);

/* "shared_key.bob@alice": TTR of their copy, at_client_sdk abstract_atkey_encryption.dart */
#define AT_SHARED_KEY_THEIR_COPY_TTR 3888000

/* Blocking, on the client's main connection. The key for what we send to other: our copy, or a
 * new key made and stored (ours and theirs) when there is none. ret_their_copy (optional) is
 * their encrypted copy and ret_pub_key_cs (optional) the MD5 hex of their public key, as Dart
 * clients attach them to notifications (sharedKeyEnc, pubKeyCS). */
int at_shared_key_for_sending(AtSharedKeys *cache, AtClient *client, const char *other,
                              uint8_t ret_key[AT_AES_KEY_SIZE], char **ret_their_copy, char **ret_pub_key_cs);

/* Blocking: the key other uses for what it sends to us ("lookup:shared_key@other"). -ENOENT if
 * other never shared one. */
int at_shared_key_for_receiving(AtSharedKeys *cache, AtClient *client, const char *other,
                                uint8_t ret_key[AT_AES_KEY_SIZE]);

/* Asynchronous form for event-loop users (the monitor): the handler gets error < 0, or 0 and
 * the key (valid during the call). The handler may run before this returns (cache hit). */
typedef void (*AtSharedKeyHandler)(int error, const uint8_t *key, void *userdata);
int at_shared_key_for_receiving_async(AtSharedKeys *cache, AtConn *conn, const AtKeys *keys, const char *other,
                                      AtSharedKeyHandler handler, void *userdata);

/* The sending key without blocking, on the client's main connection (attached to a loop): the
 * same steps as at_shared_key_for_sending() as pipelined asynchronous commands. With
 * with_their_copy the handler also gets their encrypted copy and the checksum of their public
 * key (NULL when their atServer cannot be reached now), for sharedKeyEnc/pubKeyCS. The handler
 * gets error < 0, or 0 and the key (valid during the call); it may run before this returns
 * (a cached key without with_their_copy, or a failure to queue the next command). -ENOTCONN at once when the client is not connected. */
typedef void (*AtSharedKeySendHandler)(int error, const uint8_t *key, const char *their_copy, const char *pub_key_cs,
                                       void *userdata);
int at_shared_key_for_sending_async(AtSharedKeys *cache, AtClient *client, const char *other, bool with_their_copy,
                                    AtSharedKeySendHandler handler, void *userdata);

/* "bob"/"@Bob" -> "@bob", the form the cache and key names use; -EINVAL if not an atSign. */
int at_shared_key_peer_normalize(const char *other, char **ret);

/* Cache lookup only: 0 and the key, or -ENOENT. */
int at_shared_keys_get_cached(AtSharedKeys *cache, const char *other, bool sending, uint8_t ret_key[AT_AES_KEY_SIZE]);
int at_shared_keys_put(AtSharedKeys *cache, const char *other, bool sending, const uint8_t key[AT_AES_KEY_SIZE]);

/* RSA-decrypts an encrypted copy (base64) with our encryption private key and decodes the
 * base64 key text inside: -EBADMSG if it is not a 32-byte key. */
int at_shared_key_decrypt(const AtKeys *keys, const char *encrypted_b64, uint8_t ret_key[AT_AES_KEY_SIZE]);

/* The other way: base64 of key, RSA-encrypted for public_key, base64. */
int at_shared_key_encrypt(const AtRsaPublic *public_key, const uint8_t key[AT_AES_KEY_SIZE], char **ret);

/* Lower-case hex MD5 of a public key's base64 text: pubKeyCS (at_client_sdk
 * util/encryption_util.dart md5CheckSum). */
int at_shared_key_public_key_checksum(const char *public_key_b64, char **ret);
