/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <systemd/sd-event.h>

#include "command.h"
#include "conn.h"
#include "rsa.h"
#include "store.h"

/* The whole daemon: one root directory listener, one listener per hosted atSign, sessions,
 * and the limits that keep it serving. */

typedef struct AtsServer AtsServer;
typedef struct AtsSession AtsSession;
typedef struct AtsOutbound AtsOutbound;

typedef struct AtsLimits {
        size_t max_line;        /* a command line, bytes */
        size_t max_value;       /* a value in update/notify, bytes */
        unsigned max_per_ip;    /* concurrent connections per peer IP */
        uint64_t idle_unauth;   /* usec: before authentication */
        uint64_t idle_auth;     /* usec: authenticated, not monitoring */
        uint64_t idle_monitor;  /* usec: monitors (0 = never) */
        unsigned max_connections;
} AtsLimits;

typedef struct AtsHosted {
        AtsServer *server;
        char *atsign; /* "@alice" */
        int port;
        int fd;
        sd_event_source *listen;
        AtRsaPrivate *signing_key; /* pol proofs, see outbound.c */
} AtsHosted;

typedef struct AtsPeerCount {
        char ip[48];
        unsigned n;
} AtsPeerCount;

struct AtsServer {
        sd_event *event;
        AtsStore *store;
        gnutls_certificate_credentials_t server_cred, client_cred;
        char *data_dir;
        char *hostname;    /* what the root answers and outbound uses to reach us */
        char *listen_addr; /* IPv4/IPv6 literal */
        int root_port;
        int root_fd;
        sd_event_source *root_listen;
        char *root_server; /* host:port of the root directory for remote atSigns */
        char *directory_file; /* shared "atsign host:port" lines: atSigns of other processes */
        AtsLimits limits;

        AtsHosted **hosted;
        size_t n_hosted;

        AtsSession *sessions; /* every live session, for monitors and counts */
        unsigned n_sessions;
        AtsPeerCount *peers;
        size_t n_peers, peers_alloc;

        AtsOutbound *outbound; /* server-to-server deliveries in flight */
        sd_event_source *sweep;
        int64_t started_ms;
};

typedef enum AtsFrom {
        ATS_FROM_NONE,
        ATS_FROM_SELF,  /* from:@<this atSign>: a client about to cram/pkam */
        ATS_FROM_OTHER, /* from:@<other>: another atServer about to pol */
} AtsFrom;

struct AtsSession {
        AtsServer *server;
        AtsHosted *hosted; /* NULL on the root port */
        AtsConn *conn;
        AtsSession *prev, *next;
        char session_id[40];     /* "_<uuid>" */
        char challenge[40];      /* proof uuid of the last from: */
        AtsFrom from;
        char *from_atsign;       /* "@bob" for pol, or our own atSign */
        bool authenticated, pol_authenticated, cram;
        char *enrollment_id;     /* APKAM login */
        char *client_version;    /* from clientConfig; JSON errors above 3.0.37 */
        bool monitor, monitor_self, monitor_regex_set;
        regex_t monitor_regex;
        bool busy; /* an asynchronous command (pol, remote lookup) is running */
        uint64_t id;
};

/* server.c */
int ats_server_new(sd_event *e, AtsStore *store, const char *data_dir, AtsServer **ret);
int ats_server_start(AtsServer *s);
void ats_server_free(AtsServer *s);
AtsHosted *ats_server_find_hosted(AtsServer *s, const char *atsign);
/* "host:port" of an atSign hosted by another process, from the directory file */
int ats_directory_lookup(AtsServer *s, const char *atsign, char **ret);
int64_t ats_now_ms(void);
void ats_uuid(char out[37]);
/* lower-case, with '@' */
int ats_atsign_fix(const char *in, char **ret);

/* session.c */
int ats_session_new(AtsServer *s, AtsHosted *h, int fd);
void ats_session_free(AtsSession *ss);
void ats_session_set_idle(AtsSession *ss);
void ats_session_done(AtsSession *ss); /* an async command finished: resume reading */

/* reply.c: responses in upstream's framing (base_response_handler.dart,
 * global_exception_handler.dart) */
const char *ats_prompt(AtsSession *ss, char buf[], size_t size);
int ats_reply_data(AtsSession *ss, const char *data);
int ats_reply_dataf(AtsSession *ss, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ats_reply_raw(AtsSession *ss, const char *text); /* text + '\n' + prompt */
/* code like "AT0015"; message is the exception's own text */
int ats_reply_error(AtsSession *ss, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *ats_error_description(const char *code);

/* verbs_*.c: each handles a parsed command on a session and replies (or marks it busy) */
void ats_verb_from(AtsSession *ss, AtsCommand *c);
void ats_verb_cram(AtsSession *ss, AtsCommand *c);
void ats_verb_pkam(AtsSession *ss, AtsCommand *c);
void ats_verb_pol(AtsSession *ss, AtsCommand *c);
void ats_verb_update(AtsSession *ss, AtsCommand *c);
void ats_verb_update_meta(AtsSession *ss, AtsCommand *c);
void ats_verb_llookup(AtsSession *ss, AtsCommand *c);
void ats_verb_lookup(AtsSession *ss, AtsCommand *c);
void ats_verb_scan(AtsSession *ss, AtsCommand *c);
void ats_verb_delete(AtsSession *ss, AtsCommand *c);
void ats_verb_notify(AtsSession *ss, AtsCommand *c);
void ats_verb_notify_status(AtsSession *ss, AtsCommand *c);
void ats_verb_notify_list(AtsSession *ss, AtsCommand *c);
void ats_verb_notify_fetch(AtsSession *ss, AtsCommand *c);
void ats_verb_notify_remove(AtsSession *ss, AtsCommand *c);
void ats_verb_monitor(AtsSession *ss, AtsCommand *c);
void ats_verb_enroll(AtsSession *ss, AtsCommand *c);
void ats_verb_otp(AtsSession *ss, AtsCommand *c);
void ats_verb_keys(AtsSession *ss, AtsCommand *c);

/* limits.c: a peer's regular expression (scan, notify:list, monitor), compiled REG_EXTENDED |
 * REG_NOSUB only if it is cheap to run: -EPERM for a back-reference, -E2BIG if too long or it
 * would expand to too many states, -EINVAL if malformed. */
int ats_regex_check(const char *pattern);
int ats_regex_compile(regex_t *re, const char *pattern);
/* the reply for a refused regex */
void ats_reply_bad_regex(AtsSession *ss, int error, const char *pattern);

/* keyname.c: composes the stored key name (lower-case) from a command's fields */
int ats_key_compose(const AtsCommand *c, const char *owner, char **ret);
bool ats_key_is_hidden(const char *key);
/* APKAM namespace check: may the session's enrollment read (write=false) or write key? */
bool ats_session_may_access(AtsSession *ss, const char *key, bool write);

/* notifier.c: storing and delivering notifications */
/* A notification for a hosted atSign (received, or self): store, then push to monitors. */
int ats_notifier_deliver_local(AtsServer *s, AtsNotification *n);
/* Pushes one notification to matching monitor sessions of n->owner. */
void ats_notifier_push(AtsServer *s, const AtsNotification *n);
/* Sends one notification to monitor session ss if it matches the regex. */
void ats_notifier_send_to(AtsSession *ss, const AtsNotification *n);

/* cache.c: "cached:" copies of keys other atSigns share with a hosted atSign */
/* After notification n was stored for hosted atSign n->owner: caches an update that carries a
 * ttr, removes the copy on a delete when it was cached with ccd. */
int ats_cache_on_notification(AtsServer *s, const AtsNotification *n, const AtsMetadata *m);
/* The cached copy of key ("@c:k@d", "public:k@d") in atsign's store if live and fresh (ttr -1,
 * or before its refresh time); -ENOENT, -ESTALE otherwise. */
int ats_cache_get(AtsServer *s, const char *atsign, const char *key, int64_t now, AtsRecord **ret);

/* verbs_notify.c: sending a notification n (owner = the sending hosted atSign, type sent) to
 * n->to: stored, delivered here when n->to is hosted here (and cached per m), else forwarded
 * with retries. ttln in ms. n->command is set by this call. */
int ats_notify_send(AtsServer *s, AtsNotification *n, const AtsMetadata *m, int64_t ttln);
/* update/delete of a key shared with another atSign notifies it (upstream autoNotify) */
void ats_notify_shared_change(AtsServer *s, AtsHosted *h, const char *key, const char *value, const AtsMetadata *m,
                              const char *operation);

/* outbound.c: server-to-server (from + pol), see at_server outbound_client.dart */
typedef void (*AtsOutboundDone)(AtsServer *s, int error, const char *response, void *userdata);
/* Sends a notify command body to the owner atSign's server as hosted atSign from. */
int ats_outbound_notify(AtsServer *s, AtsHosted *from, const char *to_atsign, const char *notify_body,
                        AtsOutboundDone done, void *userdata);
/* lookup:<key>@<owner> on another server, authenticated as from (pol) */
int ats_outbound_lookup(AtsServer *s, AtsHosted *from, const char *owner, const char *lookup_arg,
                        AtsOutboundDone done, void *userdata);
/* any one command line (e.g. "scan <regex>") on another server, authenticated as from (pol);
 * done gets the answer line without its prompt */
int ats_outbound_command(AtsServer *s, AtsHosted *from, const char *target, const char *command,
                         AtsOutboundDone done, void *userdata);
/* unauthenticated lookups used by pol verification (lookup of the signed proof, plookup of
 * the signing public key) */
int ats_outbound_verify_pol(AtsServer *s, const char *from_atsign, const char *session_id,
                            const char *challenge, AtsOutboundDone done, void *userdata);
void ats_outbound_free_all(AtsServer *s);
/* Retries queued sent notifications (at start-up and periodically). */
void ats_outbound_retry_queued(AtsServer *s);
