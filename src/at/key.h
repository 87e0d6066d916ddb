/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* atKeys and atSigns as text. The forms (docs/protocol.md "Key naming"):
 *   public:name.ns@alice         public, readable by anyone (plookup / lookup)
 *   @bob:name.ns@alice           shared by @alice with @bob
 *   name.ns@alice                self (only @alice)
 *   _name@alice, @bob:_name@a    hidden: the name starts with '_'
 *   cached:@bob:name@alice       @bob's cached copy of a key @alice shared with him
 *   cached:public:name@alice     a cached public key
 *   local:name@alice             never leaves the client
 *   privatekey:at_pkam_publickey reserved server-side keys, the atSign is optional
 * The namespace is the part after the last '.', when it is made of word characters
 * (at_commons keystore/at_key.dart AtKey.fromString uses lastIndexOf('.')). */

/* at_commons validators/at_key_validation_impl.dart KeyLengthValidation: 248 characters, or 255
 * when the key starts with "cached:". */
#define AT_KEY_MAX_LENGTH 248
#define AT_KEY_MAX_LENGTH_CACHED 255
/* at_commons utils/at_key_regex_utils.dart: an atSign is 1 to 55 characters (without the '@') */
#define AT_ATSIGN_MAX_LENGTH 55

typedef enum AtKeyType {
        AT_KEY_SELF,
        AT_KEY_PUBLIC,
        AT_KEY_SHARED,
        AT_KEY_LOCAL,
        AT_KEY_PRIVATE,   /* "privatekey:" reserved keys */
        _AT_KEY_TYPE_MAX,
} AtKeyType;

typedef struct AtKey {
        AtKeyType type;
        bool cached;
        char *name;        /* entity without the namespace, e.g. "ping.dev1"; never empty */
        char *namespace_;  /* e.g. "sshnp", or NULL */
        char *shared_by;   /* owner with '@', e.g. "@alice"; NULL only for AT_KEY_PRIVATE */
        char *shared_with; /* "@bob" for AT_KEY_SHARED (and a self key written "@alice:x@alice"), else NULL */
} AtKey;

const char *at_key_type_to_string(AtKeyType t);

/* Parses and validates text (hostile input): -EINVAL when malformed, -E2BIG when too long. */
int at_key_parse(const char *text, AtKey **ret);
/* Builds and validates a key from parts; atSigns may be given with or without '@'. */
int at_key_new(AtKeyType type, const char *name, const char *namespace_, const char *shared_by,
               const char *shared_with, AtKey **ret);
/* The canonical text form; -EINVAL if the key is invalid. */
int at_key_format(const AtKey *key, char **ret);
int at_key_copy(const AtKey *key, AtKey **ret);
void at_key_free(AtKey *key);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtKey *, at_key_free);

/* "name.namespace" (or just "name"): what goes between the visibility prefix and the owner */
int at_key_entity(const AtKey *key, char **ret);
static inline bool at_key_is_hidden(const AtKey *key) {
        return key->name && key->name[0] == '_';
}

/* Strict atSign check ("@alice" or "alice"): 1..55 word characters or '-', plus any non-ASCII
 * byte for emoji atSigns. (at_atsign_normalize() is in client.h.) */
bool at_atsign_is_valid(const char *atsign);
/* Compares two atSigns ignoring a leading '@' and ASCII case (atSigns are case-insensitive). */
bool at_atsign_equal(const char *a, const char *b);
