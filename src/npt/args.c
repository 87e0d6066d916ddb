/* SPDX-License-Identifier: BSD-3-Clause */
#include "args.h"

#include <getopt.h>

#include "cli.h"

enum {
        ARG_LOCAL_HOST = 0x100,
        ARG_ROOT_SERVER,
        ARG_DPT,
        ARG_PSS, ARG_NO_PSS,
        ARG_ET, ARG_NO_ET,
        ARG_RELAY_AUTH_MODE,
        ARG_443, ARG_NO_443,
        ARG_CA_FILE,
        ARG_HELP,
};

static const struct option options[] = {
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "srvd", required_argument, NULL, 'r' },
        { "device", required_argument, NULL, 'd' },
        { "local-port", required_argument, NULL, 'l' },
        { "lp", required_argument, NULL, 'l' },
        { "remote-port", required_argument, NULL, 'p' },
        { "rp", required_argument, NULL, 'p' },
        { "remote-host", required_argument, NULL, 'h' },
        { "rh", required_argument, NULL, 'h' },
        { "local-host", required_argument, NULL, ARG_LOCAL_HOST },
        { "lh", required_argument, NULL, ARG_LOCAL_HOST },
        { "key-file", required_argument, NULL, 'k' },
        { "keyFile", required_argument, NULL, 'k' },
        { "root-server", required_argument, NULL, ARG_ROOT_SERVER },
        { "root-domain", required_argument, NULL, ARG_ROOT_SERVER },
        { "daemon-ping-timeout", required_argument, NULL, ARG_DPT },
        { "dpt", required_argument, NULL, ARG_DPT },
        { "per-session-storage", no_argument, NULL, ARG_PSS },
        { "pss", no_argument, NULL, ARG_PSS },
        { "no-per-session-storage", no_argument, NULL, ARG_NO_PSS },
        { "no-pss", no_argument, NULL, ARG_NO_PSS },
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, ARG_HELP },
        { "exit-when-connected", no_argument, NULL, 'x' },
        { "keep-alive", no_argument, NULL, 'K' },
        { "timeout", required_argument, NULL, 'T' },
        { "heartbeat", required_argument, NULL, 'H' },
        { "encrypt-rvd-traffic", no_argument, NULL, ARG_ET },
        { "et", no_argument, NULL, ARG_ET },
        { "no-encrypt-rvd-traffic", no_argument, NULL, ARG_NO_ET },
        { "no-et", no_argument, NULL, ARG_NO_ET },
        { "relay-auth-mode", required_argument, NULL, ARG_RELAY_AUTH_MODE },
        { "ram", required_argument, NULL, ARG_RELAY_AUTH_MODE },
        { "443", no_argument, NULL, ARG_443 },
        { "no-443", no_argument, NULL, ARG_NO_443 },
        { "ca-file", required_argument, NULL, ARG_CA_FILE },
        {}
};

void npt_args_usage(FILE *f) {
        fputs("Usage: npt -f @client -t @device -r @relay -d device -p PORT [options]\n"
              "\n"
              "Forwards a local port to host:port on the device's side, through a NoPorts relay.\n"
              "\n"
              "  -f, --from ATSIGN             this client's atSign\n"
              "  -t, --to ATSIGN               the device's atSign\n"
              "  -r, --srvd ATSIGN             the relay's atSign\n"
              "  -d, --device NAME             device name\n"
              "  -p, --remote-port PORT        port on the device's network (alias --rp)\n"
              "  -h, --remote-host HOST        host on the device's network (alias --rh; default localhost)\n"
              "  -l, --local-port PORT         local port (alias --lp; default: the kernel picks)\n"
              "      --local-host HOST[,HOST]  local address to bind (alias --lh; default localhost)\n"
              "  -k, --key-file PATH           keys file if not ~/.atsign/keys/@x_key.atKeys\n"
              "      --root-server HOST[:PORT] atDirectory (alias --root-domain)\n"
              "      --ca-file PATH            PEM trust anchors for atServers (default: system store)\n"
              "      --daemon-ping-timeout S   seconds to wait for the device (alias --dpt; default 20)\n"
              "  -x, --exit-when-connected     print the local port and leave the tunnel in the background\n"
              "  -K, --keep-alive              start a new session when one ends\n"
              "  -T, --timeout DURATION        idle time before the session ends (default 30s; 0 = never)\n"
              "  -H, --heartbeat DURATION      control channel heartbeat (default 30m)\n"
              "      --[no-]encrypt-rvd-traffic, --et   (default on)\n"
              "      --relay-auth-mode, --ram payload|escr, --443, --[no-]per-session-storage\n"
              "  -v, --verbose / -q, --quiet\n"
              "      --help\n",
              f);
}

static int bad(const char *what, const char *value) {
        return cli_invalid("npt", what, value);
}

static int set_atsign(char **field, const char *value, const char *what) {
        char *s;
        int r = cli_atsign_normalize(value, &s);
        if (r == -EINVAL)
                return bad(what, value);
        if (r < 0)
                return r;
        free(*field);
        *field = s;
        return 0;
}

#define NEVER_USEC (365ULL * 86400ULL * 1000000ULL)  /* upstream: "-T 0" means 365 days */
#define KEEP_ALIVE_USEC (24ULL * 3600ULL * 1000000ULL) /* upstream: -K without -T: 24 hours */

int npt_args_parse(NptArgs *a, int argc, char **argv) {
        _cleanup_free_ char *dev = NULL;
        bool timeout_given = false, remote_port_given = false;
        uint64_t v;
        int c, r = 0;

        *a = (NptArgs){
                .daemon_ping_timeout = 20, .per_session_storage = true, .encrypt_rvd_traffic = true,
                .timeout_usec = 30ULL * 1000000ULL, .heartbeat_usec = 30ULL * 60ULL * 1000000ULL,
        };
        if (cli_set_string(&a->remote_host, "localhost") < 0 || cli_set_string(&a->local_host, "localhost") < 0 ||
            cli_set_string(&a->root_server, "root.atsign.org") < 0 || cli_set_string(&a->relay_auth_mode, "payload") < 0)
                return -ENOMEM;

        optind = 0;
        while ((c = getopt_long(argc, argv, "f:t:r:d:l:p:h:k:vqxKT:H:", options, NULL)) >= 0) {
                switch (c) {
                case 'f': r = set_atsign(&a->from, optarg, "--from"); break;
                case 't': r = set_atsign(&a->to, optarg, "--to"); break;
                case 'r': r = set_atsign(&a->srvd, optarg, "--srvd"); break;
                case 'd': r = cli_set_string(&a->device, optarg); break;
                case 'l':
                        if (cli_parse_port(optarg, true, &a->local_port) < 0)
                                return bad("--local-port", optarg);
                        break;
                case 'p':
                        if (cli_parse_port(optarg, false, &a->remote_port) < 0)
                                return bad("--remote-port", optarg);
                        remote_port_given = true;
                        break;
                case 'h':
                        if (!*optarg || strpbrk(optarg, " \t\r\n:,"))
                                return bad("--remote-host", optarg);
                        r = cli_set_string(&a->remote_host, optarg);
                        break;
                case ARG_LOCAL_HOST: r = cli_set_string(&a->local_host, optarg); break;
                case 'k': r = cli_set_string(&a->key_file, optarg); break;
                case ARG_ROOT_SERVER:
                        if (!*optarg)
                                return bad("--root-server", optarg);
                        r = cli_set_string(&a->root_server, optarg);
                        break;
                case ARG_DPT:
                        if (cli_parse_uint(optarg, 86400, &v) < 0)
                                return bad("--daemon-ping-timeout", optarg);
                        a->daemon_ping_timeout = (unsigned) v;
                        break;
                case ARG_PSS: a->per_session_storage = true; break;
                case ARG_NO_PSS: a->per_session_storage = false; break;
                case 'v': a->verbose = true; break;
                case 'q': a->quiet = true; break;
                case ARG_HELP: a->help = true; break;
                case 'x': a->exit_when_connected = true; break;
                case 'K': a->keep_alive = true; break;
                case 'T':
                        if (cli_parse_duration(optarg, &a->timeout_usec) < 0)
                                return bad("--timeout (e.g. 30s, 1h,14m,30s, 7d)", optarg);
                        if (a->timeout_usec == 0)
                                a->timeout_usec = NEVER_USEC;
                        timeout_given = true;
                        break;
                case 'H':
                        if (cli_parse_duration(optarg, &a->heartbeat_usec) < 0 || a->heartbeat_usec == 0)
                                return bad("--heartbeat", optarg);
                        break;
                case ARG_ET: a->encrypt_rvd_traffic = true; break;
                case ARG_NO_ET: a->encrypt_rvd_traffic = false; break;
                case ARG_RELAY_AUTH_MODE:
                        if (!streq(optarg, "payload") && !streq(optarg, "escr"))
                                return bad("--relay-auth-mode (payload or escr)", optarg);
                        r = cli_set_string(&a->relay_auth_mode, optarg);
                        break;
                case ARG_443: a->only_443 = true; break;
                case ARG_NO_443: a->only_443 = false; break;
                case ARG_CA_FILE: r = cli_set_string(&a->ca_file, optarg); break;
                default:
                        fputs("Try 'npt --help' for more information.\n", stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "npt: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (a->help) {
                npt_args_usage(stdout);
                return 1;
        }
        if (!a->from || !a->to || !a->srvd || !a->device || !remote_port_given) {
                fputs("npt: --from, --to, --srvd, --device and --remote-port are mandatory\n", stderr);
                return -EINVAL;
        }
        if (cli_device_name_normalize(a->device, &dev) < 0) {
                fprintf(stderr, "npt: invalid device name '%s': 2 to 36 characters of a-z, 0-9, '_' and '-'\n",
                        a->device);
                return -EINVAL;
        }
        free(a->device);
        a->device = TAKE_PTR(dev);
        if (a->keep_alive && a->exit_when_connected) {
                fputs("npt: --keep-alive and --exit-when-connected are mutually exclusive\n", stderr);
                return -EINVAL;
        }
        if (a->keep_alive && !timeout_given)
                a->timeout_usec = KEEP_ALIVE_USEC;
        if (!a->key_file) {
                r = cli_default_keys_file(a->from, &a->key_file);
                if (r < 0) {
                        fputs("npt: cannot find the home directory for the default --key-file\n", stderr);
                        return r;
                }
        }
        return 0;
}

void npt_args_done(NptArgs *a) {
        free(a->from);
        free(a->to);
        free(a->srvd);
        free(a->device);
        free(a->remote_host);
        free(a->local_host);
        free(a->key_file);
        free(a->root_server);
        free(a->relay_auth_mode);
        free(a->ca_file);
        *a = (NptArgs){};
}
