/* SPDX-License-Identifier: BSD-3-Clause */
/* The atProtocol side of sshnp and npt: keys, two clients, the monitor, waits on one sd_event
 * loop, notifications and lookups (spec §4, §6; upstream noports_core sshnp/sshnp_core.dart). */
#include <ctype.h>
#include <signal.h>
#include <time.h>

#include "aes.h"
#include "base64.h"
#include "cli.h"
#include "log.h"
#include "notify.h"
#include "np_client.h"
#include "secure.h"
#include "verbs.h"

#define NOTIFY_TTL_MS 10000  /* upstream: metadata ttl of every request */
#define NOTIFY_TTLN_MS 60000 /* upstream: every NoPorts notification expires after a minute */

int np_parse_root_server(const char *root, char **ret_host, uint16_t *ret_port) {
        const char *colon = strrchr(root, ':');

        *ret_port = 64; /* upstream: root.atsign.org:64 */
        if (colon && cli_parse_port(colon + 1, false, ret_port) >= 0)
                *ret_host = strndup(root, (size_t) (colon - root));
        else
                *ret_host = strdup(root);
        return *ret_host ? 0 : -ENOMEM;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        NpClient *c = userdata;

        c->interrupted = true;
        return 0;
}

static int load_keys(NpClient *c) {
        const NpClientOptions *o = c->options;
        int r;

        r = at_keys_load(o->key_file, &c->keys);
        if (r == -ENOENT) {
                fprintf(stderr, "%s: no keys file %s for %s (onboard the atSign with at_activate, or pass -k FILE)\n",
                        o->program, o->key_file, o->atsign);
                return r;
        }
        if (r < 0) {
                fprintf(stderr, "%s: cannot load the keys file %s: %s\n", o->program, o->key_file, strerror(-r));
                return r;
        }
        if (c->keys->atsign && !streq(c->keys->atsign, o->atsign)) {
                fprintf(stderr, "%s: the keys file %s holds the keys of %s, not %s\n", o->program, o->key_file,
                        c->keys->atsign, o->atsign);
                return -EINVAL;
        }
        return 0;
}

int np_client_open(NpClient *c, const NpClientOptions *o) {
        _cleanup_free_ char *root_host = NULL;
        AtClientOptions ao = {};
        sigset_t mask;
        int r;

        *c = (NpClient){ .options = o };
        r = load_keys(c);
        if (r < 0)
                return r;

        r = sd_event_default(&c->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        if ((r = sd_event_add_signal(c->event, NULL, SIGINT, on_signal, c)) < 0 ||
            (r = sd_event_add_signal(c->event, NULL, SIGTERM, on_signal, c)) < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        r = np_parse_root_server(o->root_server, &root_host, &ao.root_port);
        if (r < 0)
                return log_oom();
        ao.atsign = o->atsign;
        ao.keys = c->keys;
        ao.root_host = root_host;
        ao.ca_file = o->ca_file;
        if ((r = at_client_new(&ao, &c->cmd)) < 0 || (r = at_client_new(&ao, &c->mon)) < 0 ||
            (r = at_shared_keys_new(&c->shared_keys)) < 0) {
                fprintf(stderr, "%s: cannot set up the atProtocol client for %s: %s\n", o->program, o->atsign,
                        strerror(-r));
                return r;
        }
        r = at_client_connect(c->cmd);
        if (r >= 0)
                r = at_client_connect(c->mon);
        if (r >= 0)
                r = at_conn_attach_event(at_client_conn(c->mon), c->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                fprintf(stderr, "%s: cannot connect to the atServer of %s (root %s): %s\n", o->program, o->atsign,
                        o->root_server, strerror(-r));
                return r;
        }
        return 0;
}

void np_client_monitor_stop(NpClient *c) {
        at_monitor_free(c->monitor);
        c->monitor = NULL;
}

void np_client_close(NpClient *c) {
        np_client_monitor_stop(c);
        at_client_free(c->cmd);
        at_client_free(c->mon);
        at_shared_keys_free(c->shared_keys);
        at_keys_free(c->keys);
        sd_event_unref(c->event);
        *c = (NpClient){};
}

static void lower(char *s) {
        for (; *s; s++)
                *s = (char) tolower((unsigned char) *s);
}

static void on_monitor(AtMonitor *m, const AtNotification *n, const char *value, int error, void *userdata) {
        NpClient *c = userdata;
        _cleanup_free_ char *from = NULL, *key = NULL, *decrypted = NULL;

        if (!n->from || !n->key || at_notification_is_delete(n) || !c->handler)
                return;
        if (cli_atsign_normalize(n->from, &from) < 0 || !(key = strdup(n->key)))
                return;
        lower(key); /* upstream clients lower-case received keys */
        if (!value && n->value && error < 0) {
                /* the monitor could not decrypt it: once more, blocking, on the command connection */
                int r = at_notify_decrypt(c->cmd, c->shared_keys, n, &decrypted);
                if (r < 0)
                        log_debug_errno(r, "Cannot decrypt %s from %s: %m", key, from);
                value = decrypted;
        }
        c->handler(c, from, key, value, c->userdata);
}

int np_client_monitor(NpClient *c, const char *regex, NpClientHandler handler, void *userdata) {
        AtMonitorOptions mo = { .regex = regex };
        int r;

        np_client_monitor_stop(c);
        c->handler = handler;
        c->userdata = userdata;
        r = at_monitor_new(c->event, c->mon, c->shared_keys, &mo, on_monitor, c, &c->monitor);
        if (r >= 0)
                r = at_monitor_start(c->monitor);
        if (r < 0) {
                np_client_monitor_stop(c);
                fprintf(stderr, "%s: cannot monitor notifications for %s: %s\n", c->options->program,
                        c->options->atsign, strerror(-r));
                return r;
        }
        /* the monitor command is written by the loop: get it out before anything is sent that
         * could be answered */
        for (int i = 0; i < 4; i++)
                if (sd_event_run(c->event, 0) <= 0)
                        break;
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

int np_client_wait(NpClient *c, bool (*done)(void *userdata), void *userdata, uint64_t timeout_usec) {
        uint64_t deadline = now_usec() + timeout_usec;

        for (;;) {
                uint64_t now;
                int r;

                if (done(userdata))
                        return 0;
                if (c->interrupted)
                        return -EINTR;
                now = now_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd_event_run(c->event, deadline - now);
                if (r < 0)
                        return log_error_errno(r, "Event loop failed: %m");
        }
}

int np_client_notify(NpClient *c, const char *recipient, const char *key, const char *value) {
        AtNotifyMessage msg = {
                .recipient = recipient, .key = key, .value = value, .ttl_ms = NOTIFY_TTL_MS,
                .ttln_ms = NOTIFY_TTLN_MS, .operation = AT_NOTIFY_UPDATE,
        };
        int r;

        r = at_notify_send(c->cmd, c->shared_keys, &msg, NULL);
        if (r < 0)
                fprintf(stderr, "%s: cannot notify %s of %s: %s\n", c->options->program, recipient, key,
                        strerror(-r));
        return r;
}

int np_client_public_key(NpClient *c, const char *atsign, AtRsaPublic **ret) {
        _cleanup_free_ char *key = NULL, *value = NULL;
        int r;

        if (asprintf(&key, "publickey%s", atsign) < 0)
                return -ENOMEM;
        r = at_verb_plookup(at_client_conn(c->cmd), key, true, at_client_command_timeout(c->cmd), &value);
        if (r < 0)
                return r;
        return at_rsa_public_from_base64(value, ret);
}

static void metadata_donep(AtMetadata *m) {
        at_metadata_done(m);
}

int np_client_lookup_shared(NpClient *c, const char *name, const char *owner, char **ret) {
        _cleanup_free_ char *key = NULL, *value = NULL;
        _cleanup_(metadata_donep) AtMetadata md = {};
        _cleanup_free_ uint8_t *iv = NULL;
        _cleanup_secure_ uint8_t *plain = NULL, *skey = NULL;
        uint8_t zero[AT_AES_IV_SIZE] = {};
        size_t size;
        int r;

        if (asprintf(&key, "%s%s", name, owner) < 0)
                return -ENOMEM;
        r = at_verb_lookup(at_client_conn(c->cmd), key, at_client_command_timeout(c->cmd), &value, &md);
        if (r < 0)
                return r;
        if (!value)
                return -ENOENT;
        if (md.is_encrypted != AT_TRUE) {
                *ret = TAKE_PTR(value);
                return 0;
        }
        skey = at_secure_alloc(AT_AES_KEY_SIZE);
        if (!skey)
                return -ENOMEM;
        r = at_shared_key_for_receiving(c->shared_keys, c->cmd, owner, skey);
        if (r < 0)
                return r;
        if (md.iv_nonce) {
                r = at_base64_decode(md.iv_nonce, strlen(md.iv_nonce), AT_AES_IV_SIZE, &iv, &size);
                if (r < 0 || size != AT_AES_IV_SIZE)
                        return -EBADMSG;
        }
        r = at_aes_decrypt_b64(skey, iv ?: zero, value, &plain, &size);
        if (r < 0)
                return r;
        *ret = strndup((const char *) plain, size);
        return *ret ? 0 : -ENOMEM;
}
