/* SPDX-License-Identifier: BSD-3-Clause */
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "aes.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
#include "secure.h"
#include "server.h"
#include "service.h"
#include "tls.h"

typedef struct Options {
        const char *data_dir, *add_atsign, *listen, *tls_cert, *tls_key, *root_server, *directory;
        char **hostnames;
        size_t n_hostnames;
        char **ca_files;
        size_t n_ca_files;
        int root_port, port;
        AtsLimits limits;
        int verbose;
} Options;

static void help(void) {
        printf("Usage: atserverd --data-dir DIR [OPTIONS]\n"
               "       atserverd --data-dir DIR --add-atsign @NAME [--port PORT]\n\n"
               "An atServer: a root directory and the secondary servers of the atSigns registered in DIR.\n\n"
               "  --data-dir DIR          keystore (atserverd.db), certificates, ca.pem\n"
               "  --add-atsign @NAME      register an atSign and print its one-time CRAM secret\n"
               "  --port PORT             with --add-atsign: the secondary's port (default: any free one)\n"
               "  --listen ADDR           address to listen on (default 127.0.0.1, or the address of the\n"
               "                          root socket systemd passes)\n"
               "  --root-port PORT        root directory port (default 64; unused when systemd passes the\n"
               "                          root socket: atserverd.socket)\n"
               "  --hostname NAME         host name clients use; the root answers the first one\n"
               "                          (default localhost; the certificate also covers 127.0.0.1)\n"
               "  --tls-cert FILE --tls-key FILE   use this certificate instead of the local CA\n"
               "  --root-server HOST:PORT root directory for atSigns hosted elsewhere (default: our own)\n"
               "  --directory FILE        shared file of \"@atsign host:port\" lines: several atserverd\n"
               "                          processes publish their atSigns there and each root answers for all\n"
               "  --ca-file FILE          trust this CA for server-to-server connections (repeatable)\n"
               "  --max-line BYTES        longest command line (default %d)\n"
               "  --max-value BYTES       largest value (default 65536)\n"
               "  --max-connections-per-ip N   (default 1100)\n"
               "  --idle-timeout SEC      before authentication (default 30)\n"
               "  --auth-idle-timeout SEC after authentication (default 600; monitors never time out)\n"
               "  -v, --verbose           more log output\n",
               ATS_LINE_MAX);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int push(char ***l, size_t *n, const char *s) {
        char **m = realloc(*l, (*n + 2) * sizeof(char *));
        if (!m)
                return -ENOMEM;
        *l = m;
        m[(*n)++] = (char *) s;
        m[*n] = NULL;
        return 0;
}

static int parse_args(int argc, char **argv, Options *o) {
        enum { ARG_DATA = 0x100, ARG_ADD, ARG_PORT, ARG_LISTEN, ARG_ROOT_PORT, ARG_HOSTNAME, ARG_CERT, ARG_KEY,
               ARG_ROOT_SERVER, ARG_DIRECTORY, ARG_CA, ARG_MAX_LINE, ARG_MAX_VALUE, ARG_PER_IP, ARG_IDLE, ARG_AUTH_IDLE };
        static const struct option opts[] = {
                { "data-dir", required_argument, NULL, ARG_DATA },
                { "add-atsign", required_argument, NULL, ARG_ADD },
                { "port", required_argument, NULL, ARG_PORT },
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "root-port", required_argument, NULL, ARG_ROOT_PORT },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "tls-cert", required_argument, NULL, ARG_CERT },
                { "tls-key", required_argument, NULL, ARG_KEY },
                { "root-server", required_argument, NULL, ARG_ROOT_SERVER },
                { "ca-file", required_argument, NULL, ARG_CA },
                { "directory", required_argument, NULL, ARG_DIRECTORY },
                { "max-line", required_argument, NULL, ARG_MAX_LINE },
                { "max-value", required_argument, NULL, ARG_MAX_VALUE },
                { "max-connections-per-ip", required_argument, NULL, ARG_PER_IP },
                { "idle-timeout", required_argument, NULL, ARG_IDLE },
                { "auth-idle-timeout", required_argument, NULL, ARG_AUTH_IDLE },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        unsigned long v;
        int c;
        while ((c = getopt_long(argc, argv, "vh", opts, NULL)) >= 0) {
                switch (c) {
                case ARG_DATA: o->data_dir = optarg; break;
                case ARG_ADD: o->add_atsign = optarg; break;
                case ARG_LISTEN: o->listen = optarg; break;
                case ARG_CERT: o->tls_cert = optarg; break;
                case ARG_KEY: o->tls_key = optarg; break;
                case ARG_ROOT_SERVER: o->root_server = optarg; break;
                case ARG_DIRECTORY: o->directory = optarg; break;
                case ARG_HOSTNAME:
                        if (push(&o->hostnames, &o->n_hostnames, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_CA:
                        if (push(&o->ca_files, &o->n_ca_files, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_PORT:
                case ARG_ROOT_PORT:
                        if (parse_uint(optarg, 65535, &v) < 0)
                                return log_error_errno(EINVAL, "Invalid port: %s", optarg);
                        *(c == ARG_PORT ? &o->port : &o->root_port) = (int) v;
                        break;
                case ARG_MAX_LINE:
                        if (parse_uint(optarg, ATS_LINE_MAX, &v) < 0 || v < 256)
                                return log_error_errno(EINVAL, "Invalid --max-line (256..%d): %s", ATS_LINE_MAX, optarg);
                        o->limits.max_line = v;
                        break;
                case ARG_MAX_VALUE:
                        if (parse_uint(optarg, 1024 * 1024, &v) < 0)
                                return log_error_errno(EINVAL, "Invalid --max-value: %s", optarg);
                        o->limits.max_value = v;
                        break;
                case ARG_PER_IP:
                        if (parse_uint(optarg, 100000, &v) < 0 || v == 0)
                                return log_error_errno(EINVAL, "Invalid --max-connections-per-ip: %s", optarg);
                        o->limits.max_per_ip = (unsigned) v;
                        break;
                case ARG_IDLE:
                case ARG_AUTH_IDLE:
                        if (parse_uint(optarg, 86400, &v) < 0 || v == 0)
                                return log_error_errno(EINVAL, "Invalid timeout: %s", optarg);
                        *(c == ARG_IDLE ? &o->limits.idle_unauth : &o->limits.idle_auth) = v * 1000 * 1000;
                        break;
                case 'v': o->verbose++; break;
                case 'h': help(); exit(0);
                default: return -EINVAL;
                }
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument: %s", argv[optind]);
        if (!o->data_dir)
                return log_error_errno(EINVAL, "--data-dir is required (see --help)");
        if (!!o->tls_cert != !!o->tls_key)
                return log_error_errno(EINVAL, "--tls-cert and --tls-key go together");
        return 0;
}

static int add_atsign(AtsStore *store, const char *name, int port) {
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *key = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *pub = NULL;
        _cleanup_secure_ char *priv_b64 = NULL;
        _cleanup_free_ char *atsign = NULL, *pub_b64 = NULL, *secret = NULL, *pubkey_name = NULL;
        uint8_t raw[64];
        int r;

        r = ats_atsign_fix(name, &atsign);
        if (r < 0)
                return log_error_errno(r, "Invalid atSign: %s", name);
        /* the server's signing key pair for pol proofs (at_secondary_impl.dart generates
         * signing_privatekey / public:signing_publickey once per atSign) */
        r = at_rsa_generate(2048, &key);
        if (r >= 0)
                r = at_rsa_private_to_base64(key, &priv_b64);
        if (r >= 0)
                r = at_rsa_private_get_public(key, &pub);
        if (r >= 0)
                r = at_rsa_public_to_base64(pub, &pub_b64);
        if (r < 0)
                return log_error_errno(r, "Failed to create the signing key: %m");
        at_random_bytes(raw, sizeof raw);
        r = at_hex_encode(raw, sizeof raw, &secret);
        if (r < 0)
                return log_oom();
        r = ats_store_atsign_add(store, atsign, secret, priv_b64, port);
        if (r == -EEXIST)
                return log_error_errno(r, "%s is already registered.", atsign);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", atsign);
        AtsMetadata m;
        ats_metadata_init(&m);
        if (asprintf(&pubkey_name, "public:signing_publickey%s", atsign) < 0)
                return log_oom();
        r = ats_store_put(store, atsign, pubkey_name, pub_b64, &m, atsign, ats_now_ms(), NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to store the signing public key: %m");
        log_info("Registered %s", atsign);
        printf("%s\n", secret);
        fflush(stdout);
        return 0;
}

static int serve(AtsStore *store, Options *o) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(ats_service_freep) AtsService *svc = NULL;
        AtsServer *s = NULL;
        sigset_t mask;
        int r;

        r = sd_event_default(&e);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        (void) sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);

        r = ats_server_new(e, store, o->data_dir, &s);
        if (r < 0)
                return log_oom();
        if (o->limits.max_line)
                s->limits.max_line = o->limits.max_line;
        if (o->limits.max_value)
                s->limits.max_value = o->limits.max_value;
        if (o->limits.max_per_ip)
                s->limits.max_per_ip = o->limits.max_per_ip;
        if (o->limits.idle_unauth)
                s->limits.idle_unauth = o->limits.idle_unauth;
        if (o->limits.idle_auth)
                s->limits.idle_auth = o->limits.idle_auth;
        s->listen_addr = strdup(o->listen ? o->listen : "127.0.0.1");
        s->hostname = strdup(o->n_hostnames ? o->hostnames[0] : "localhost");
        s->root_port = o->root_port >= 0 ? o->root_port : 64;
        s->root_server = o->root_server ? strdup(o->root_server) : NULL;
        s->directory_file = o->directory ? strdup(o->directory) : NULL;
        if (!s->listen_addr || !s->hostname) {
                ats_server_free(s);
                return log_oom();
        }
        r = ats_service_take_root_socket(s, o->listen != NULL);
        if (r < 0) {
                ats_server_free(s);
                return r;
        }

        /* the certificate covers every name given, plus localhost and 127.0.0.1 */
        char **names = NULL;
        size_t n = 0;
        for (size_t i = 0; i < o->n_hostnames; i++)
                (void) push(&names, &n, o->hostnames[i]);
        (void) push(&names, &n, "localhost");
        (void) push(&names, &n, "127.0.0.1");
        if (o->listen && !streq(o->listen, "0.0.0.0") && !streq(o->listen, "::"))
                (void) push(&names, &n, o->listen);
        r = names ? ats_tls_server_credentials(o->data_dir, o->tls_cert, o->tls_key, names, &s->server_cred) : -ENOMEM;
        free(names);
        if (r >= 0)
                r = ats_tls_client_credentials(o->data_dir, o->ca_files, &s->client_cred);
        if (r >= 0)
                r = ats_server_start(s);
        if (r >= 0)
                r = ats_service_start(s, &svc);
        if (r < 0) {
                ats_server_free(s);
                return r;
        }
        r = sd_event_loop(e);
        (void) sd_notify(false, "STOPPING=1");
        log_info("Shutting down");
        svc = ats_service_free(svc);
        ats_server_free(s);
        return r;
}

int main(int argc, char **argv) {
        _cleanup_(ats_store_freep) AtsStore *store = NULL;
        _cleanup_free_ char *db = NULL;
        Options o = { .root_port = -1 };
        int r;

        log_setup("atserverd");
        r = parse_args(argc, argv, &o);
        if (r < 0)
                return 2;
        if (o.verbose)
                log_set_max_level(LOG_DEBUG);
        /* the database holds CRAM secrets and signing keys, whoever runs --add-atsign first */
        umask(0077);
        r = at_secure_init();
        if (r < 0)
                return log_error_errno(r, "Failed to initialise libsodium: %m"), 1;
        r = mkdir_parents(o.data_dir, 0700);
        if (r >= 0 && mkdir(o.data_dir, 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", o.data_dir), 1;
        if (asprintf(&db, "%s/atserverd.db", o.data_dir) < 0)
                return log_oom(), 1;
        r = ats_store_open(db, &store);
        if (r < 0)
                return 1;
        if (o.add_atsign)
                r = add_atsign(store, o.add_atsign, o.port);
        else
                r = serve(store, &o);
        free(o.hostnames);
        free(o.ca_files);
        return r < 0 ? 1 : 0;
}
