/* SPDX-License-Identifier: BSD-3-Clause */
/* The atProtocol client against a scripted TLS peer: a root server and an atServer in child
 * processes, speaking the real framing (prompts without newline, data:/error:/notification:
 * lines), with a CA and server certificate made here with the GnuTLS API. The client must
 * succeed on the good paths and fail clearly, without hanging, on the bad ones. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "auth.h"
#include "client.h"
#include "conn.h"
#include "hash.h"
#include "keys_file.h"
#include "log.h"
#include "root.h"
#include "rsa.h"
#include "secure.h"
#include "tests.h"
#include "verbs.h"

static char tmpdir[] = "/tmp/test-at-peer-XXXXXX";
static char ca_path[256];
static gnutls_x509_crt_t server_crt;
static gnutls_x509_privkey_t server_key;
static AtRsaPrivate *pkam_key;       /* the key the server knows */
static AtRsaPublic *pkam_public;
static uint16_t root_port, secondary_port;
static pid_t root_pid, secondary_pid;
static const char *CRAM_SECRET = "b26455a907582760ebf35bc4847de549bc41c24b25c8b1c58d5964f7b4f8a43bc55b0e9a601c9a9657d9a8b8bbc32f88b4e38ffaca03c8710ebae1b14ca9f364";

/* ---- certificates ---- */

static void make_cert(gnutls_x509_crt_t *ret_crt, gnutls_x509_privkey_t *ret_key, const char *cn, bool ca,
                      gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key) {
        gnutls_x509_privkey_t k;
        gnutls_x509_crt_t c;
        unsigned char serial[8], id[64];
        size_t id_size = sizeof(id);
        time_t now = time(NULL);

        ASSERT_TRUE(gnutls_x509_privkey_init(&k) >= 0);
        ASSERT_TRUE(gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_init(&c) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_set_version(c, 3) >= 0);
        gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
        serial[0] &= 0x7f;
        ASSERT_TRUE(gnutls_x509_crt_set_serial(c, serial, sizeof(serial)) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_set_activation_time(c, now - 3600) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_set_expiration_time(c, now + 86400) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_set_key(c, k) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_get_key_id(c, 0, id, &id_size) >= 0);
        ASSERT_TRUE(gnutls_x509_crt_set_subject_key_id(c, id, id_size) >= 0);
        if (ca) {
                ASSERT_TRUE(gnutls_x509_crt_set_basic_constraints(c, 1, -1) >= 0);
                ASSERT_TRUE(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) >= 0);
        } else {
                ASSERT_TRUE(gnutls_x509_crt_set_basic_constraints(c, 0, -1) >= 0);
                ASSERT_TRUE(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE) >= 0);
                ASSERT_TRUE(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0) >= 0);
                /* DNS name only: connecting by address must fail the host check */
                ASSERT_TRUE(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_SET) >= 0);
                id_size = sizeof(id);
                ASSERT_TRUE(gnutls_x509_crt_get_subject_key_id(issuer, id, &id_size, NULL) >= 0);
                ASSERT_TRUE(gnutls_x509_crt_set_authority_key_id(c, id, id_size) >= 0);
        }
        ASSERT_TRUE(gnutls_x509_crt_sign2(c, issuer ?: c, issuer_key ?: k, GNUTLS_DIG_SHA256, 0) >= 0);
        *ret_crt = c;
        *ret_key = k;
}

static void make_pki(void) {
        gnutls_x509_crt_t ca;
        gnutls_x509_privkey_t ca_key;
        gnutls_datum_t pem = {};

        make_cert(&ca, &ca_key, "scripted test CA", true, NULL, NULL);
        make_cert(&server_crt, &server_key, "localhost", false, ca, ca_key);
        ASSERT_TRUE(gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &pem) >= 0);
        snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tmpdir);
        FILE *f = fopen(ca_path, "we");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fwrite(pem.data, 1, pem.size, f) == pem.size);
        ASSERT_TRUE(fclose(f) == 0);
        gnutls_free(pem.data);
        gnutls_x509_crt_deinit(ca);
        gnutls_x509_privkey_deinit(ca_key);
}

/* ---- the scripted peer (runs in child processes) ---- */

typedef struct Peer {
        gnutls_session_t s;
        int fd;
        char buf[8192];
        size_t size;
        bool authenticated;
        char challenge[128];
} Peer;

static void peer_write(Peer *p, const char *text) {
        size_t n = strlen(text), done = 0;
        while (done < n) {
                ssize_t k = gnutls_record_send(p->s, text + done, n - done);
                if (k < 0) {
                        if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                                continue;
                        _exit(0); /* the client went away */
                }
                done += (size_t) k;
        }
}

/* The server answer followed by the prompt, without newline, as the atServer writes it. */
static void peer_answer(Peer *p, const char *answer) {
        char *s = NULL;
        ASSERT_TRUE(asprintf(&s, "%s\n%s", answer, p->authenticated ? "@alice@" : "@") > 0);
        peer_write(p, s);
        free(s);
}

static bool peer_read_line(Peer *p, char *line, size_t max) {
        for (;;) {
                char *nl = memchr(p->buf, '\n', p->size);
                if (nl) {
                        size_t n = (size_t) (nl - p->buf);
                        ASSERT_TRUE(n < max);
                        memcpy(line, p->buf, n);
                        line[n] = 0;
                        memmove(p->buf, nl + 1, p->size - n - 1);
                        p->size -= n + 1;
                        return true;
                }
                ASSERT_TRUE(p->size < sizeof(p->buf));
                ssize_t k = gnutls_record_recv(p->s, p->buf + p->size, sizeof(p->buf) - p->size);
                if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                        continue;
                if (k <= 0)
                        return false;
                p->size += (size_t) k;
        }
}

static void peer_pkam(Peer *p, const char *cmd) {
        const char *apkam = "pkam:signingAlgo:rsa2048:hashingAlgo:sha256:enrollmentId:";
        const char *sig;
        if (strneq(cmd, apkam, strlen(apkam))) {
                const char *id = cmd + strlen(apkam);
                if (!strneq(id, "e7a1-42:", 8))
                        return peer_answer(p, "error:AT0025-Apkam Auth Denied : enrollment_id: unknown is denied");
                sig = id + 8;
        } else
                sig = cmd + 5;
        if (at_rsa_verify(pkam_public, AT_HASH_SHA256, p->challenge, strlen(p->challenge), sig) < 0)
                return peer_answer(p, "error:AT0401-Client authentication failed : pkam authentication failed");
        p->authenticated = true;
        peer_answer(p, "data:success");
}

static void peer_cram(Peer *p, const char *cmd) {
        char *input = NULL, *hex = NULL;
        uint8_t d[AT_SHA512_SIZE];
        ASSERT_TRUE(asprintf(&input, "%s%s", CRAM_SECRET, p->challenge) > 0);
        ASSERT_OK(at_sha512(input, strlen(input), d));
        ASSERT_OK(at_hex_encode(d, sizeof(d), &hex));
        if (streq(cmd + 5, hex)) {
                p->authenticated = true;
                peer_answer(p, "data:success");
        } else
                peer_answer(p, "error:AT0401-Client authentication failed");
        free(input);
        free(hex);
}

static void peer_command(Peer *p, const char *cmd) {
        if (strneq(cmd, "from:", 5)) {
                if (!streq(cmd, "from:@alice"))
                        return peer_answer(p, "error:AT0003-Invalid syntax");
                snprintf(p->challenge, sizeof(p->challenge), "_%08x-4b1c@alice:%08x", (unsigned) random(), (unsigned) random());
                char *a = NULL;
                ASSERT_TRUE(asprintf(&a, "data:%s", p->challenge) > 0);
                peer_answer(p, a);
                free(a);
                return;
        }
        if (strneq(cmd, "pkam:", 5))
                return peer_pkam(p, cmd);
        if (strneq(cmd, "cram:", 5))
                return peer_cram(p, cmd);
        if (!p->authenticated)
                return peer_answer(p, "error:AT0401-Client authentication failed : not authenticated");

        if (streq(cmd, "noop:0"))
                return peer_answer(p, "data:ok");
        if (streq(cmd, "llookup:found.ns@alice"))
                return peer_answer(p, "data:value one: with colons @ and at");
        if (streq(cmd, "llookup:missing.ns@alice"))
                return peer_answer(p, "error:AT0015-key not found : missing.ns@alice does not exist");
        if (streq(cmd, "llookup:secret.ns@alice"))
                return peer_answer(p, "error:{\"errorCode\":\"AT0009\",\"errorDescription\":\"UnAuthorized client in request : no\"}");
        if (streq(cmd, "llookup:all:found.ns@alice"))
                return peer_answer(p, "data:{\"key\":\"found.ns@alice\",\"data\":\"v1\",\"metaData\":{\"ttl\":1000,\"isEncrypted\":true,\"ivNonce\":\"aXY=\"}}");
        if (streq(cmd, "update:ttl:1000:isEncrypted:true:@bob:k.ns@alice hello world"))
                return peer_answer(p, "data:17");
        if (strneq(cmd, "update", 6))
                return peer_answer(p, "error:AT0003-Invalid syntax");
        if (streq(cmd, "scan:showhidden:true .*\\.ns@"))
                return peer_answer(p, "data:[\"found.ns@alice\",\"@bob:k.ns@alice\"]");
        if (streq(cmd, "scan"))
                return peer_answer(p, "data:{\"not\":\"an array\"}");
        if (streq(cmd, "notify:id:n-1:update:messageType:key:ttln:60000:ttl:10000:@bob:ping.dev.sshnp@alice:ping")) {
                /* an unsolicited notification overtakes the answer */
                peer_write(p, "notification: {\"id\":\"x-1\",\"from\":\"@bob\",\"to\":\"@alice\",\"key\":\"@alice:ping.dev.sshnp@bob\"}\n@alice@");
                return peer_answer(p, "data:n-1");
        }
        if (strneq(cmd, "monitor", 7)) {
                /* no answer to monitor itself, only notification lines */
                peer_write(p, "notification: {\"id\":\"x-1\",\"key\":\"@alice:m.ns@bob\"}\n");
                return;
        }
        if (streq(cmd, "notify:status:n-1"))
                return peer_answer(p, "data:delivered");
        if (streq(cmd, "plookup:publickey@bob"))
                return peer_answer(p, "data:null");
        if (streq(cmd, "llookup:long.ns@alice")) {
                size_t n = 2 * 1024 * 1024;
                char *big = malloc(n + 1);
                ASSERT_TRUE(big);
                memset(big, 'A', n);
                big[n] = 0;
                peer_write(p, "data:");
                peer_write(p, big);
                free(big);
                peer_answer(p, "");
                return;
        }
        if (streq(cmd, "llookup:truncate.ns@alice")) {
                peer_write(p, "data:parti");
                close(p->fd); /* no close_notify */
                _exit(0);
        }
        if (streq(cmd, "llookup:silent.ns@alice"))
                return; /* never answers */
        peer_answer(p, "error:AT0003-Invalid syntax : unknown command in this script");
}

static void serve_connection(int fd, bool root) {
        Peer p = { .fd = fd };
        gnutls_certificate_credentials_t creds;
        char line[8192];

        ASSERT_TRUE(gnutls_certificate_allocate_credentials(&creds) >= 0);
        ASSERT_TRUE(gnutls_certificate_set_x509_key(creds, &server_crt, 1, server_key) >= 0);
        ASSERT_TRUE(gnutls_init(&p.s, GNUTLS_SERVER) >= 0);
        ASSERT_TRUE(gnutls_set_default_priority(p.s) >= 0);
        ASSERT_TRUE(gnutls_credentials_set(p.s, GNUTLS_CRD_CERTIFICATE, creds) >= 0);
        gnutls_transport_set_int(p.s, fd);
        int g;
        do
                g = gnutls_handshake(p.s);
        while (g < 0 && !gnutls_error_is_fatal(g));
        if (g < 0)
                _exit(0); /* e.g. the client refused our certificate */

        peer_write(&p, "@");
        while (peer_read_line(&p, line, sizeof(line))) {
                if (root) {
                        char *a = NULL;
                        if (streq(line, "alice"))
                                ASSERT_TRUE(asprintf(&a, "localhost:%u\r\n@", secondary_port) > 0);
                        else if (streq(line, "garbage"))
                                a = strdup("not an address\r\n@");
                        else
                                a = strdup("null\r\n@");
                        peer_write(&p, a);
                        free(a);
                } else
                        peer_command(&p, line);
        }
        gnutls_bye(p.s, GNUTLS_SHUT_RDWR);
        _exit(0);
}

static int listen_local(uint16_t *ret_port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0);
        ASSERT_TRUE(listen(fd, 16) == 0);
        ASSERT_TRUE(getsockname(fd, (struct sockaddr *) &a, &len) == 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static pid_t start_server(int lfd, bool root) {
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid > 0)
                return pid;
        alarm(120); /* never outlive a stuck test */
        signal(SIGCHLD, SIG_IGN); /* no zombies from per-connection children */
        for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                pid_t c = fork();
                if (c == 0) {
                        close(lfd);
                        srandom((unsigned) getpid());
                        serve_connection(fd, root);
                }
                close(fd);
        }
}

/* ---- the client side ---- */

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static AtKeys good_keys(void) {
        return (AtKeys) { .atsign = (char *) "@alice", .pkam_private = pkam_key };
}

static AtClient *client_for(const AtKeys *keys, const char *cram) {
        AtClient *c = NULL;
        AtClientOptions o = {
                .atsign = "alice", .keys = keys, .cram_secret = cram, .root_host = "localhost",
                .root_port = root_port, .ca_file = ca_path, .connect_timeout_usec = 5000000,
                .command_timeout_usec = 5000000,
        };
        ASSERT_OK(at_client_new(&o, &c));
        return c;
}

TEST(root_lookup_finds_secondary_and_refuses_unknown) {
        _cleanup_free_ char *host = NULL;
        uint16_t port = 0;
        char *x = NULL;

        ASSERT_OK(at_root_lookup("localhost", root_port, ca_path, "@alice", 5000000, &host, &port));
        ASSERT_STREQ(host, "localhost");
        ASSERT_TRUE(port == secondary_port);
        ASSERT_ERR(at_root_lookup("localhost", root_port, ca_path, "@nobody", 5000000, &x, &port), -ENXIO);
        ASSERT_ERR(at_root_lookup("localhost", root_port, ca_path, "garbage", 5000000, &x, &port), -EPROTO);
        ASSERT_TRUE(x == NULL);
}

TEST(tls_refuses_unknown_ca_and_wrong_host) {
        AtConn *c = NULL;
        /* the system store does not know our CA */
        ASSERT_ERR(at_conn_connect("localhost", secondary_port, NULL, 5000000, &c), -EPERM);
        /* the certificate names localhost, not the address */
        ASSERT_ERR(at_conn_connect("127.0.0.1", secondary_port, ca_path, 5000000, &c), -EPERM);
        ASSERT_TRUE(c == NULL);
}

TEST(pkam_login_and_blocking_verbs) {
        AtKeys keys = good_keys();
        _cleanup_(at_client_freep) AtClient *cl = client_for(&keys, NULL);
        ASSERT_OK(at_client_connect(cl));
        ASSERT_STREQ(at_client_secondary_host(cl), "localhost");
        AtConn *c = at_client_conn(cl);
        uint64_t t = 5000000;

        _cleanup_free_ char *v = NULL;
        ASSERT_OK(at_verb_llookup(c, "found.ns@alice", t, &v, NULL));
        ASSERT_STREQ(v, "value one: with colons @ and at");

        char *x = NULL;
        ASSERT_ERR(at_verb_llookup(c, "missing.ns@alice", t, &x, NULL), -ENOENT);
        ASSERT_TRUE(strstr(at_conn_last_error(c), "AT0015"));
        ASSERT_ERR(at_verb_llookup(c, "secret.ns@alice", t, &x, NULL), -EACCES);
        ASSERT_TRUE(strstr(at_conn_last_error(c), "AT0009"));
        ASSERT_ERR(at_verb_plookup(c, "publickey@bob", false, t, &x), -ENOENT);

        _cleanup_free_ char *v2 = NULL;
        AtMetadata m = {};
        ASSERT_OK(at_verb_llookup(c, "found.ns@alice", t, &v2, &m));
        ASSERT_STREQ(v2, "v1");
        ASSERT_TRUE(m.has_ttl && m.ttl == 1000 && m.is_encrypted == AT_TRUE);
        ASSERT_STREQ(m.iv_nonce, "aXY=");
        at_metadata_done(&m);

        AtMetadata um = { .has_ttl = true, .ttl = 1000, .is_encrypted = AT_TRUE };
        ASSERT_OK(at_verb_update(c, "@bob:k.ns@alice", &um, "hello world", t));

        _cleanup_strv_free_ char **keys_found = NULL;
        ASSERT_OK(at_verb_scan(c, ".*\\.ns@", true, t, &keys_found));
        ASSERT_TRUE(keys_found[0] && keys_found[1] && !keys_found[2]);
        ASSERT_STREQ(keys_found[1], "@bob:k.ns@alice");
        char **bad = NULL;
        ASSERT_ERR(at_verb_scan(c, NULL, false, t, &bad), -EBADMSG);

        /* blocking notify: the notification line that overtakes the answer is not mistaken for it */
        _cleanup_free_ char *id = NULL, *status = NULL;
        AtMetadata nm = { .has_ttl = true, .ttl = 10000 };
        AtNotifyParams np = { .id = "n-1", .ttln_ms = 60000, .metadata = &nm,
                              .key = "@bob:ping.dev.sshnp@alice", .value = "ping" };
        ASSERT_OK(at_verb_notify(c, &np, t, &id));
        ASSERT_STREQ(id, "n-1");
        ASSERT_OK(at_verb_notify_status(c, "n-1", t, &status));
        ASSERT_STREQ(status, "delivered");
        ASSERT_OK(at_verb_noop(c, t));
        ASSERT_TRUE(at_conn_is_open(c));

        /* a second, separately authenticated connection (the monitor's) */
        _cleanup_(at_conn_unrefp) AtConn *second = NULL;
        ASSERT_OK(at_client_open_connection(cl, &second));
        ASSERT_OK(at_verb_noop(second, t));
        ASSERT_OK(at_client_reconnect(cl));
        ASSERT_OK(at_verb_noop(at_client_conn(cl), t));
}

TEST(wrong_pkam_key_is_refused) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *other = NULL;
        ASSERT_OK(at_rsa_generate(2048, &other));
        AtKeys keys = { .pkam_private = other };
        _cleanup_(at_client_freep) AtClient *cl = client_for(&keys, NULL);
        ASSERT_ERR(at_client_connect(cl), -EACCES);
}

TEST(apkam_and_cram_forms_are_accepted) {
        AtKeys keys = good_keys();
        keys.enrollment_id = (char *) "e7a1-42";
        _cleanup_(at_client_freep) AtClient *a = client_for(&keys, NULL);
        ASSERT_OK(at_client_connect(a));
        ASSERT_OK(at_verb_noop(at_client_conn(a), 5000000));

        keys.enrollment_id = (char *) "unknown";
        _cleanup_(at_client_freep) AtClient *d = client_for(&keys, NULL);
        ASSERT_ERR(at_client_connect(d), -EACCES);

        _cleanup_(at_client_freep) AtClient *c = client_for(NULL, CRAM_SECRET);
        ASSERT_OK(at_client_connect(c));
        ASSERT_OK(at_verb_noop(at_client_conn(c), 5000000));

        _cleanup_(at_client_freep) AtClient *w = client_for(NULL, "wrong");
        ASSERT_ERR(at_client_connect(w), -EACCES);
}

static AtConn *logged_in(void) {
        AtKeys keys = good_keys();
        AtConn *c = NULL;
        ASSERT_OK(at_conn_connect("localhost", secondary_port, ca_path, 5000000, &c));
        ASSERT_OK(at_auth_pkam(c, "@alice", &keys, 5000000));
        return c;
}

TEST(overlong_line_closes_connection) {
        _cleanup_(at_conn_unrefp) AtConn *c = logged_in();
        char *x = NULL;
        ASSERT_ERR(at_verb_llookup(c, "long.ns@alice", 10000000, &x, NULL), -EMSGSIZE);
        ASSERT_TRUE(!at_conn_is_open(c));
        ASSERT_TRUE(strstr(at_conn_last_error(c), "longer than"));
        ASSERT_ERR(at_verb_noop(c, 1000000), -EMSGSIZE);
}

TEST(truncated_close_and_silence_fail_in_time) {
        _cleanup_(at_conn_unrefp) AtConn *c = logged_in();
        char *x = NULL;
        ASSERT_ERR(at_verb_llookup(c, "truncate.ns@alice", 5000000, &x, NULL), -ECONNRESET);
        ASSERT_TRUE(!at_conn_is_open(c));

        _cleanup_(at_conn_unrefp) AtConn *s = logged_in();
        uint64_t start = now_usec();
        ASSERT_ERR(at_verb_llookup(s, "silent.ns@alice", 300000, &x, NULL), -ETIMEDOUT);
        uint64_t took = now_usec() - start;
        ASSERT_TRUE(took >= 250000 && took < 3000000);
        ASSERT_TRUE(!at_conn_is_open(s));
}

/* ---- asynchronous use on sd_event ---- */

typedef struct AsyncState {
        char log[1024];
        unsigned done, expected;
        int disconnect_error;
        sd_event *event;
} AsyncState;

static void async_append(AsyncState *st, const char *s) {
        strncat(st->log, s, sizeof(st->log) - strlen(st->log) - 1);
}

static void on_data(AtConn *c, int error, const char *data, void *userdata) {
        AsyncState *st = userdata;
        char b[128];
        if (error < 0)
                snprintf(b, sizeof(b), "[err %d]", -error);
        else
                snprintf(b, sizeof(b), "[%.40s]", data);
        async_append(st, b);
        if (++st->done == st->expected)
                sd_event_exit(st->event, 0);
}

static void on_notification(AtConn *c, const char *payload, size_t size, void *userdata) {
        async_append(userdata, strstr(payload, "\"x-1\"") ? "[notification]" : "[bad notification]");
}

static void on_disconnect(AtConn *c, int error, void *userdata) {
        AsyncState *st = userdata;
        st->disconnect_error = error;
        async_append(st, "[disconnect]");
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(userdata, -ETIMEDOUT);
}

static int run_loop(sd_event *e, uint64_t usec) {
        _cleanup_(sd_event_source_unrefp) sd_event_source *t = NULL;
        ASSERT_OK(sd_event_add_time_relative(e, &t, CLOCK_MONOTONIC, usec, 0, on_timeout, e));
        return sd_event_loop(e);
}

TEST(async_pipeline_in_order_with_notifications) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(at_conn_unrefp) AtConn *c = logged_in();
        AsyncState st = { .expected = 5 };

        ASSERT_OK(sd_event_new(&e));
        st.event = e;
        at_conn_set_notification_handler(c, on_notification, &st);
        at_conn_set_disconnect_handler(c, on_disconnect, &st);
        ASSERT_OK(at_conn_attach_event(c, e, 0));

        AtMetadata nm = { .has_ttl = true, .ttl = 10000 };
        AtNotifyParams np = { .id = "n-1", .ttln_ms = 60000, .metadata = &nm,
                              .key = "@bob:ping.dev.sshnp@alice", .value = "ping" };
        ASSERT_OK(at_verb_llookup_async(c, "found.ns@alice", on_data, &st));
        ASSERT_OK(at_verb_llookup_async(c, "missing.ns@alice", on_data, &st));
        ASSERT_OK(at_verb_notify_async(c, &np, on_data, &st));
        ASSERT_OK(at_verb_command_async(c, "noop:0", on_data, &st));
        ASSERT_OK(at_verb_llookup_async(c, "truncate.ns@alice", on_data, &st));
        ASSERT_OK(run_loop(e, 10000000));
        fprintf(stderr, "async log: %s\n", st.log);
        ASSERT_STREQ(st.log, "[value one: with colons @ and at][err 2][notification][n-1][ok]"
                             "[err 104][disconnect]");
        ASSERT_TRUE(st.disconnect_error == -ECONNRESET);
        ASSERT_ERR(at_conn_command_async(c, "noop:0", NULL, NULL), -ECONNRESET);
}

TEST(monitor_sends_without_answer) {
        /* blocking: send, then receive the notification line itself */
        _cleanup_(at_conn_unrefp) AtConn *c = logged_in();
        _cleanup_(at_response_freep) AtResponse *r = NULL;
        ASSERT_OK(at_conn_send(c, "monitor:selfNotifications .*"));
        ASSERT_OK(at_conn_receive(c, 5000000, &r));
        ASSERT_TRUE(r->kind == AT_RESPONSE_NOTIFICATION);
        ASSERT_TRUE(strstr(r->text, "\"x-1\""));
        /* nothing more comes: a receive timeout leaves the connection usable */
        AtResponse *none = NULL;
        ASSERT_ERR(at_conn_receive(c, 200000, &none), -ETIMEDOUT);
        ASSERT_TRUE(at_conn_is_open(c));
        ASSERT_OK(at_verb_noop(c, 5000000));

        /* asynchronous: the noop's answer is matched to the noop, not to monitor */
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(at_conn_unrefp) AtConn *a = logged_in();
        AsyncState st = { .expected = 1 };
        ASSERT_OK(sd_event_new(&e));
        st.event = e;
        at_conn_set_notification_handler(a, on_notification, &st);
        ASSERT_OK(at_conn_attach_event(a, e, 0));
        ASSERT_OK(at_conn_send(a, "monitor .*"));
        ASSERT_OK(at_verb_command_async(a, "noop:0", on_data, &st));
        ASSERT_OK(run_loop(e, 5000000));
        ASSERT_STREQ(st.log, "[notification][ok]");
}

TEST(async_command_timeout_fails_pending) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(at_conn_unrefp) AtConn *c = logged_in();
        AsyncState st = { .expected = 2 };

        ASSERT_OK(sd_event_new(&e));
        st.event = e;
        at_conn_set_disconnect_handler(c, on_disconnect, &st);
        at_conn_set_command_timeout(c, 300000);
        ASSERT_OK(at_conn_attach_event(c, e, 0));
        /* (a scripted peer that skips an answer; every later answer would be matched to the
         * wrong command, so the connection is given up) */
        ASSERT_OK(at_verb_llookup_async(c, "silent.ns@alice", on_data, &st));
        ASSERT_OK(at_verb_llookup_async(c, "silent.ns@alice", on_data, &st));
        uint64_t start = now_usec();
        ASSERT_OK(run_loop(e, 5000000));
        ASSERT_TRUE(now_usec() - start < 3000000);
        ASSERT_STREQ(st.log, "[err 110][err 110][disconnect]");
}

static void cleanup(void) {
        if (root_pid > 0)
                kill(root_pid, SIGTERM);
        if (secondary_pid > 0)
                kill(secondary_pid, SIGTERM);
        if (root_pid > 0)
                waitpid(root_pid, NULL, 0);
        if (secondary_pid > 0)
                waitpid(secondary_pid, NULL, 0);
        root_pid = secondary_pid = 0;
        if (ca_path[0])
                unlink(ca_path);
        rmdir(tmpdir);
}

static void on_abort(int sig) {
        cleanup();
        signal(sig, SIG_DFL);
        raise(sig);
}

int main(void) {
        log_setup("test-at-scripted-peer");
        ASSERT_OK(at_secure_init());
        signal(SIGPIPE, SIG_IGN);
        ASSERT_TRUE(mkdtemp(tmpdir));
        signal(SIGABRT, on_abort);
        signal(SIGALRM, on_abort);
        alarm(240);

        make_pki();
        ASSERT_OK(at_rsa_generate(2048, &pkam_key));
        ASSERT_OK(at_rsa_private_get_public(pkam_key, &pkam_public));

        int rfd = listen_local(&root_port);
        int sfd = listen_local(&secondary_port);
        root_pid = start_server(rfd, true);
        secondary_pid = start_server(sfd, false);
        close(rfd);
        close(sfd);

        RUN(root_lookup_finds_secondary_and_refuses_unknown);
        RUN(tls_refuses_unknown_ca_and_wrong_host);
        RUN(pkam_login_and_blocking_verbs);
        RUN(wrong_pkam_key_is_refused);
        RUN(apkam_and_cram_forms_are_accepted);
        RUN(overlong_line_closes_connection);
        RUN(truncated_close_and_silence_fail_in_time);
        RUN(async_pipeline_in_order_with_notifications);
        RUN(monitor_sends_without_answer);
        RUN(async_command_timeout_fails_pending);

        cleanup();
        at_rsa_private_free(pkam_key);
        at_rsa_public_free(pkam_public);
        return 0;
}
