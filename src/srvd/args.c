/* SPDX-License-Identifier: BSD-3-Clause */
#include "args.h"

#include <getopt.h>

#include "cli.h"

enum {
        ARG_ROOT_SERVER = 0x100,
        ARG_STORAGE_PATH,
        ARG_BIND_PORT,
        ARG_BIND_443, ARG_NO_BIND_443,
        ARG_LOG_TRAFFIC, ARG_NO_LOG_TRAFFIC,
        ARG_PSS, ARG_NO_PSS,
        ARG_PORT_RANGE,
        ARG_DETECT_WINDOW,
        ARG_SNOOP,
        ARG_CA_FILE,
        ARG_CONFIG,
        ARG_DEBUG,
        ARG_HELP,
        ARG_VERSION,
};

static const struct option options[] = {
        { "config", required_argument, NULL, ARG_CONFIG },
        { "atsign", required_argument, NULL, 'a' },
        { "root-server", required_argument, NULL, ARG_ROOT_SERVER },
        { "root-domain", required_argument, NULL, ARG_ROOT_SERVER },
        { "key-file", required_argument, NULL, 'k' },
        { "keyFile", required_argument, NULL, 'k' },
        { "storage-path", required_argument, NULL, ARG_STORAGE_PATH },
        { "storage-dir", required_argument, NULL, ARG_STORAGE_PATH },
        { "pass-phrase", required_argument, NULL, 'P' },
        { "passPhrase", required_argument, NULL, 'P' },
        { "manager", required_argument, NULL, 'm' },
        { "ip", required_argument, NULL, 'i' },
        { "bindPort", required_argument, NULL, ARG_BIND_PORT },
        { "443-bind-port", required_argument, NULL, ARG_BIND_PORT },
        { "bind443", no_argument, NULL, ARG_BIND_443 },
        { "443", no_argument, NULL, ARG_BIND_443 },
        { "no-bind443", no_argument, NULL, ARG_NO_BIND_443 },
        { "no-443", no_argument, NULL, ARG_NO_BIND_443 },
        { "logTraffic", no_argument, NULL, ARG_LOG_TRAFFIC },
        { "no-logTraffic", no_argument, NULL, ARG_NO_LOG_TRAFFIC },
        { "perSessionStorage", no_argument, NULL, ARG_PSS },
        { "no-perSessionStorage", no_argument, NULL, ARG_NO_PSS },
        /* newest srvd_params.dart spellings */
        { "per-session-storage", no_argument, NULL, ARG_PSS },
        { "no-per-session-storage", no_argument, NULL, ARG_NO_PSS },
        { "pss", no_argument, NULL, ARG_PSS },
        { "no-pss", no_argument, NULL, ARG_NO_PSS },
        { "relay-auth-detect-window-ms", required_argument, NULL, ARG_DETECT_WINDOW },
        { "snoop", no_argument, NULL, ARG_SNOOP },
        { "port-range", required_argument, NULL, ARG_PORT_RANGE },
        { "ca-file", required_argument, NULL, ARG_CA_FILE },
        { "verbose", no_argument, NULL, 'v' },
        { "debug", no_argument, NULL, ARG_DEBUG },
        { "help", no_argument, NULL, ARG_HELP },
        { "version", no_argument, NULL, ARG_VERSION },
        {}
};

void srvd_args_usage(FILE *f) {
        fputs("Usage: srvd -a @relay -i HOST [options]\n"
              "\n"
              "The NoPorts relay: pairs a client's and a device's outbound connections; it never sees plaintext.\n"
              "\n"
              "  -a, --atsign ATSIGN          the relay's atSign (mandatory)\n"
              "  -i, --ip HOST                address given to clients, verbatim (mandatory)\n"
              "  -m, --manager LIST           atSigns allowed to request sessions (comma separated;\n"
              "                               default or \"open\": anyone)\n"
              "  -k, --key-file PATH          keys file if not ~/.atsign/keys/@x_key.atKeys (alias --keyFile)\n"
              "      --root-server HOST[:PORT] atDirectory (alias --root-domain; default root.atsign.org)\n"
              "      --ca-file PATH           PEM trust anchors for the atServer (default: system store)\n"
              "      --port-range LOW-HIGH    ports for sessions (default: the kernel picks)\n"
              "      --bind443, --443 / --bindPort, --443-bind-port PORT   (accepted; single-port mode is\n"
              "                               not implemented)\n"
              "      --[no-]logTraffic, --[no-]per-session-storage (--[no-]pss, --[no-]perSessionStorage),\n"
              "      --storage-path DIR, --relay-auth-detect-window-ms MS  (accepted)\n"
              "  -s, --snoop                  (accepted and ignored: the relay carries ciphertext)\n"
              "  -v, --verbose / --debug      more / all logging\n"
              "      --help / --version\n",
              f);
}

static int bad(const char *what, const char *value) {
        return cli_invalid("srvd", what, value);
}

static int parse_managers(SrvdArgs *a, const char *value) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = cli_strv_extend_comma(&l, value);
        if (r < 0)
                return r;
        for (char **i = l; i && *i; i++) {
                _cleanup_free_ char *m = NULL;
                if (streq(*i, "open"))  /* upstream's default value: anyone may use the relay */
                        continue;
                if (cli_atsign_normalize(*i, &m) < 0)
                        return bad("--manager atSign", *i);
                r = cli_strv_push(&a->managers, m);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_port_range(SrvdArgs *a, const char *value) {
        _cleanup_free_ char *low = NULL;
        const char *dash = strchr(value, '-');

        if (!dash || !(low = strndup(value, (size_t) (dash - value))))
                return bad("--port-range (LOW-HIGH)", value);
        if (cli_parse_port(low, false, &a->port_min) < 0 || cli_parse_port(dash + 1, false, &a->port_max) < 0 ||
            a->port_max < a->port_min || a->port_max - a->port_min < 1)
                return bad("--port-range (LOW-HIGH, at least two ports)", value);
        return 0;
}

int srvd_args_parse(SrvdArgs *a, int argc, char **argv) {
        int c, r = 0;

        *a = (SrvdArgs){ .bind_port = 443, .log_traffic = true, .per_session_storage = true };
        if (cli_set_string(&a->root_server, "root.atsign.org") < 0)
                return -ENOMEM;

        optind = 0;
        while ((c = getopt_long(argc, argv, "a:k:P:m:i:vs", options, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        free(a->atsign);
                        a->atsign = NULL;
                        r = cli_atsign_normalize(optarg, &a->atsign);
                        if (r == -EINVAL)
                                return bad("--atsign", optarg);
                        break;
                case ARG_ROOT_SERVER:
                        if (!*optarg)
                                return bad("--root-server", optarg);
                        r = cli_set_string(&a->root_server, optarg);
                        break;
                case 'k': r = cli_set_string(&a->key_file, optarg); break;
                case ARG_STORAGE_PATH: r = cli_set_string(&a->storage_path, optarg); break;
                case 'P': r = cli_set_string(&a->pass_phrase, optarg); break;
                case 'm': r = parse_managers(a, optarg); break;
                case 'i':
                        if (!*optarg || strpbrk(optarg, " \t\r\n,"))
                                return bad("--ip", optarg);
                        r = cli_set_string(&a->ip, optarg);
                        break;
                case ARG_BIND_PORT:
                        if (cli_parse_port(optarg, false, &a->bind_port) < 0)
                                return bad("--bindPort", optarg);
                        break;
                case ARG_BIND_443: a->bind_443 = true; break;
                case ARG_NO_BIND_443: a->bind_443 = false; break;
                case ARG_LOG_TRAFFIC: a->log_traffic = true; break;
                case ARG_NO_LOG_TRAFFIC: a->log_traffic = false; break;
                case ARG_PSS: a->per_session_storage = true; break;
                case ARG_NO_PSS: a->per_session_storage = false; break;
                case ARG_PORT_RANGE: r = parse_port_range(a, optarg); break;
                case ARG_DETECT_WINDOW: {
                        /* only used for ESCR auto-detection, which we do not implement: checked, then unused */
                        char *end;
                        unsigned long ms = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || ms > 60000)
                                return bad("--relay-auth-detect-window-ms", optarg);
                        break;
                }
                case 's':
                case ARG_SNOOP:
                        /* upstream offers it only in builds with ENABLE_SNOOP; relayed bytes are ciphertext anyway */
                        fputs("srvd: --snoop is not supported; ignored\n", stderr);
                        break;
                case ARG_CA_FILE: r = cli_set_string(&a->ca_file, optarg); break;
                case ARG_CONFIG: r = cli_set_string(&a->config, optarg); break;
                case 'v': a->verbose = true; break;
                case ARG_DEBUG: a->debug = true; break;
                case ARG_HELP: a->help = true; break;
                case ARG_VERSION: a->version = true; break;
                default:
                        fputs("Try 'srvd --help' for more information.\n", stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "srvd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (a->help) {
                srvd_args_usage(stdout);
                return 1;
        }
        if (a->version) {
                printf("srvd %s\n", NOPORTS_VERSION);
                return 1;
        }
        if (!a->atsign || !a->ip) {
                fputs("srvd: options --atsign and --ip are mandatory\n", stderr);
                return -EINVAL;
        }
        if (a->config) {
                fprintf(stderr, "srvd: --config %s: YAML config files are not supported, pass flags instead\n",
                        a->config);
                return -EINVAL;
        }
        if (a->bind_443)
                fputs("srvd: warning: --bind443 (single-port mode) is not implemented; ignoring it\n", stderr);
        if (!a->key_file) {
                r = cli_default_keys_file(a->atsign, &a->key_file);
                if (r < 0) {
                        fputs("srvd: cannot find the home directory for the default --key-file\n", stderr);
                        return r;
                }
        }
        return 0;
}

bool srvd_args_allows(const SrvdArgs *a, const char *atsign) {
        if (!a->managers)
                return true;
        for (char **m = a->managers; *m; m++)
                if (streq(*m, atsign))
                        return true;
        return false;
}

void srvd_args_done(SrvdArgs *a) {
        free(a->atsign);
        free(a->root_server);
        free(a->key_file);
        free(a->storage_path);
        if (a->pass_phrase)
                explicit_bzero(a->pass_phrase, strlen(a->pass_phrase));
        free(a->pass_phrase);
        strv_free(a->managers);
        free(a->ip);
        free(a->ca_file);
        free(a->config);
        *a = (SrvdArgs){};
}
