/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "metadata.h"

/* The atProtocol verbs a client uses. Keys are passed as the protocol writes them:
 *   own keys:        "public:publickey@alice", "@bob:shared_key@alice", "shared_key.bob@alice",
 *                    "device_info.dev.sshnp@alice"  (update, llookup, delete)
 *   other's keys:    "shared_key@bob" (lookup of what @bob shared with us), "publickey@bob"
 *                    (plookup: public keys)
 *   notify keys:     "@bob:ping.dev.sshnp@alice"
 * Blocking calls take a timeout and return -errno; an "error:" response maps to an errno
 * (see at_error_code_to_errno) with the server's text in at_conn_last_error(). Values may not
 * contain '\n'. The at_verb_format_* functions build the command lines (no '\n'). */

/* update<metadata>:<key> <value> -> "data:<commit id>" */
int at_verb_format_update(const char *key, const AtMetadata *metadata, const char *value, char **ret);
int at_verb_update(AtConn *conn, const char *key, const AtMetadata *metadata, const char *value,
                   uint64_t timeout_usec);

/* llookup:<key> -> value; with metadata != NULL "llookup:all:<key>" and the JSON answer parsed
 * into value and metadata. A key without value gives -ENOENT. */
int at_verb_llookup(AtConn *conn, const char *key, uint64_t timeout_usec, char **ret_value, AtMetadata *ret_metadata);

/* lookup:<key>, key = "name@otheratsign" -> value (or, with metadata, "lookup:all:"). */
int at_verb_lookup(AtConn *conn, const char *key, uint64_t timeout_usec, char **ret_value, AtMetadata *ret_metadata);

/* plookup[:bypassCache:true]:<key>, key = "publickey@bob" -> value */
int at_verb_plookup(AtConn *conn, const char *key, bool bypass_cache, uint64_t timeout_usec, char **ret_value);

/* scan[:showhidden:true][ <regex>] -> NULL-terminated list of keys (strv_free) */
int at_verb_format_scan(const char *regex, bool show_hidden, char **ret);
int at_verb_scan(AtConn *conn, const char *regex, bool show_hidden, uint64_t timeout_usec, char ***ret_keys);

/* delete:<key> */
int at_verb_delete(AtConn *conn, const char *key, uint64_t timeout_usec);

typedef enum AtNotifyOperation {
        AT_NOTIFY_UPDATE,
        AT_NOTIFY_DELETE,
} AtNotifyOperation;

typedef struct AtNotifyParams {
        const char *id;               /* notification id; NULL: a random UUID v4 is made */
        AtNotifyOperation operation;
        const char *message_type;     /* "key" (default when NULL) or "text" */
        int64_t ttln_ms;              /* notification lifetime; 0: not sent (server default) */
        const AtMetadata *metadata;   /* may be NULL */
        const char *key;              /* "@bob:name.ns@alice" (or "public:name@alice") */
        const char *value;            /* may be NULL (delete, or a notification without value) */
} AtNotifyParams;

/* notify:id:<id>:<update|delete>:messageType:<key|text>[:ttln:<ms>]<metadata>:<key>[:<value>]
 * ret_id (optional): the id used (newly allocated). */
int at_verb_format_notify(const AtNotifyParams *params, char **ret, char **ret_id);
/* -> the server's notification id ("data:<id>") in ret_id (optional). */
int at_verb_notify(AtConn *conn, const AtNotifyParams *params, uint64_t timeout_usec, char **ret_id);
/* notify:status:<id> -> "delivered", "undelivered", "expired", "queued", ... */
int at_verb_notify_status(AtConn *conn, const char *id, uint64_t timeout_usec, char **ret_status);
/* noop:0 */
int at_verb_noop(AtConn *conn, uint64_t timeout_usec);

/* Asynchronous variants for daemons on sd_event. The handler gets error < 0 (transport failure
 * or mapped "error:" response) or 0 and the data text (valid during the call). */
typedef void (*AtVerbDataHandler)(AtConn *conn, int error, const char *data, void *userdata);
int at_verb_command_async(AtConn *conn, const char *command, AtVerbDataHandler handler, void *userdata);
int at_verb_notify_async(AtConn *conn, const AtNotifyParams *params, AtVerbDataHandler handler, void *userdata);
int at_verb_lookup_async(AtConn *conn, const char *key, AtVerbDataHandler handler, void *userdata);
int at_verb_plookup_async(AtConn *conn, const char *key, AtVerbDataHandler handler, void *userdata);
int at_verb_llookup_async(AtConn *conn, const char *key, AtVerbDataHandler handler, void *userdata);
int at_verb_update_async(AtConn *conn, const char *key, const AtMetadata *metadata, const char *value,
                         AtVerbDataHandler handler, void *userdata);

/* Parses "llookup:all"/"lookup:all" JSON: {"key":..., "data":..., "metaData":{...}}. */
int at_verb_parse_all(const char *json, size_t size, char **ret_value, AtMetadata *ret_metadata);
