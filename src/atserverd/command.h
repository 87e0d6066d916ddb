/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The server's command parser: one request line (without its '\n') into a verb and its fields.
 * The accepted syntax follows upstream's verb regexes (at_libraries
 * packages/at_commons/lib/src/verb/syntax.dart, VerbSyntax), with one deliberate leniency:
 * named fields (ttl, ttr, ivNonce, id, ttln, ...) are accepted in any order, since clients
 * build them in different orders. Every string field points into the command's own copy of
 * the line; nothing is looked up or stored here. */

#define ATS_LINE_MAX (64 * 1024 + 2048) /* value cap plus key and metadata */
#define ATS_KEY_MAX 255                /* upstream's maximum key length */

typedef enum AtsVerb {
        ATS_VERB_FROM,
        ATS_VERB_POL,
        ATS_VERB_CRAM,
        ATS_VERB_PKAM,
        ATS_VERB_UPDATE,
        ATS_VERB_UPDATE_META,
        ATS_VERB_LLOOKUP,
        ATS_VERB_LOOKUP,
        ATS_VERB_PLOOKUP,
        ATS_VERB_SCAN,
        ATS_VERB_DELETE,
        ATS_VERB_NOTIFY,
        ATS_VERB_NOTIFY_STATUS,
        ATS_VERB_NOTIFY_LIST,
        ATS_VERB_NOTIFY_FETCH,
        ATS_VERB_NOTIFY_REMOVE,
        ATS_VERB_MONITOR,
        ATS_VERB_NOOP,
        ATS_VERB_INFO,
        ATS_VERB_ENROLL,
        ATS_VERB_OTP,
        ATS_VERB_KEYS,
        _ATS_VERB_MAX,
} AtsVerb;

/* Metadata as the update/notify verbs carry it; an int64 of INT64_MIN or a tri-state of -1
 * means "not given". */
typedef struct AtsMetadata {
        int64_t ttl, ttb, ttr;
        int ccd, is_binary, is_encrypted;
        const char *data_signature, *shared_key_status, *shared_key_enc, *pub_key_cs, *encoding,
                *enc_key_name, *enc_algo, *iv_nonce, *ske_enc_key_name, *ske_enc_algo;
} AtsMetadata;

#define ATS_UNSET INT64_MIN

typedef struct AtsCommand {
        AtsVerb verb;
        char *buf; /* owned copy of the line; the fields below point into it */

        /* from */
        const char *atsign;        /* also: the key's owner (the part after the last '@') */
        const char *client_config; /* JSON text, may be NULL */
        /* cram / pkam */
        const char *digest;
        const char *signing_algo, *hashing_algo, *enrollment_id, *signature;

        /* keys: update, llookup, lookup, plookup, delete, notify */
        const char *operation; /* meta|all (lookups), update|delete (notify), enroll/otp/keys op */
        bool cached, public_scope, bypass_cache;
        const char *for_atsign; /* without '@' */
        const char *key;        /* the key name without scope and owner */
        const char *value;
        AtsMetadata meta;

        /* scan */
        bool show_hidden;
        const char *regex;
        int64_t page;

        /* notify */
        const char *id, *message_type, *priority, *strategy, *notifier;
        int64_t ttln, latest_n;
        /* notify:list */
        const char *from_date, *to_date;

        /* monitor */
        bool strict, self_notifications, multiplexed;
        int64_t epoch_ms; /* ATS_UNSET if not given */

        /* noop */
        int64_t delay_ms;
        /* info */
        bool brief;

        /* enroll */
        bool force;
        const char *params; /* JSON text, may be NULL */
        /* otp */
        const char *otp;
        int64_t otp_ttl;
        /* keys */
        const char *visibility, *key_name;
} AtsCommand;

/* 0 on success; -EBADMSG for a line that matches no verb's syntax (the protocol's "invalid
 * syntax"), -ENOENT for an unknown verb, -E2BIG for an over-long line. *ret is always
 * initialised and must be released with ats_command_done(). */
int ats_command_parse(const char *line, size_t len, AtsCommand *ret);
void ats_command_done(AtsCommand *c);

const char *ats_verb_name(AtsVerb v);
/* Verbs upstream lets unauthenticated connections run (the handler may still refuse). */
bool ats_verb_allowed_unauthenticated(AtsVerb v);

void ats_metadata_init(AtsMetadata *m);
