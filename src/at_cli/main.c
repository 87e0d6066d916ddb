/* SPDX-License-Identifier: BSD-3-Clause */
#include <getopt.h>
#include <syslog.h>

#include "cli.h"
#include "log.h"
#include "root.h"
#include "secure.h"

static void help(void) {
        printf("Usage: at_cli -a @ATSIGN [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "Commands:\n"
               "  scan [REGEX]              list the atSign's keys\n"
               "  get KEY                   print a value (shared values are decrypted)\n"
               "  put KEY VALUE             store a value (\"@bob:x@alice\" is encrypted for @bob)\n"
               "  delete KEY                delete a key\n"
               "  notify @BOB KEY VALUE     send an encrypted notification; prints its id\n"
               "  monitor [REGEX]           print notifications until SIGINT/SIGTERM\n"
               "\n"
               "Options:\n"
               "  -a, --atsign @ATSIGN      the atSign to act as (required)\n"
               "  -r, --root-domain H[:P]   root server (default %s:%d)\n"
               "      --ca-file FILE        trust only this CA (self-hosted servers)\n"
               "  -k, --keys FILE           .atKeys file (default ~/.atsign/keys/@ATSIGN_key.atKeys)\n"
               "      --show-hidden         scan: include hidden keys\n"
               "      --ttl MS              put/notify: time to live\n"
               "      --ttln MS             notify: notification lifetime\n"
               "      --count N             monitor: exit after N notifications\n"
               "      --timeout SEC         monitor: exit after SEC seconds (error if --count not reached)\n"
               "      --json                monitor: one JSON object per line\n"
               "      --since EPOCH_MS      monitor: first the stored notifications received after this\n"
               "                            time (milliseconds since the epoch), then new ones\n"
               "  -v, --verbose             more logging (repeat for debug)\n"
               "  -h, --help                this text\n",
               AT_ROOT_DEFAULT_HOST, AT_ROOT_DEFAULT_PORT);
}

static int parse_number(const char *s, const char *name, long long min, long long *ret) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < min)
                return log_error_errno(-EINVAL, "Invalid %s: %s", name, s);
        *ret = v;
        return 0;
}

static int parse_args(int argc, char **argv, Cli *cli) {
        enum { ARG_CA_FILE = 0x100, ARG_SHOW_HIDDEN, ARG_TTL, ARG_TTLN, ARG_COUNT, ARG_TIMEOUT, ARG_JSON, ARG_SINCE };
        static const struct option options[] = {
                { "atsign", required_argument, NULL, 'a' },
                { "root-domain", required_argument, NULL, 'r' },
                { "ca-file", required_argument, NULL, ARG_CA_FILE },
                { "keys", required_argument, NULL, 'k' },
                { "show-hidden", no_argument, NULL, ARG_SHOW_HIDDEN },
                { "ttl", required_argument, NULL, ARG_TTL },
                { "ttln", required_argument, NULL, ARG_TTLN },
                { "count", required_argument, NULL, ARG_COUNT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "json", no_argument, NULL, ARG_JSON },
                { "since", required_argument, NULL, ARG_SINCE },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c, verbosity = 0, r;
        long long v;

        while ((c = getopt_long(argc, argv, "+a:r:k:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        cli->atsign = optarg;
                        break;
                case 'r':
                        free(cli->root_host);
                        cli->root_host = NULL;
                        if (!strchr(optarg, ':')) {
                                cli->root_host = strdup(optarg);
                                cli->root_port = AT_ROOT_DEFAULT_PORT;
                        } else if (at_host_port_parse(optarg, &cli->root_host, &cli->root_port) < 0)
                                return log_error_errno(-EINVAL, "Invalid --root-domain %s (HOST:PORT)", optarg);
                        break;
                case ARG_CA_FILE:
                        cli->ca_file = optarg;
                        break;
                case 'k':
                        cli->keys_path = optarg;
                        break;
                case ARG_SHOW_HIDDEN:
                        cli->show_hidden = true;
                        break;
                case ARG_TTL:
                case ARG_TTLN:
                        r = parse_number(optarg, c == ARG_TTL ? "--ttl" : "--ttln", 0, &v);
                        if (r < 0)
                                return r;
                        *(c == ARG_TTL ? &cli->ttl_ms : &cli->ttln_ms) = v;
                        break;
                case ARG_COUNT:
                        r = parse_number(optarg, "--count", 1, &v);
                        if (r < 0)
                                return r;
                        cli->count = v;
                        break;
                case ARG_TIMEOUT:
                        r = parse_number(optarg, "--timeout", 1, &v);
                        if (r < 0 || v > 365LL * 24 * 3600)
                                return r < 0 ? r : log_error_errno(-EINVAL, "Invalid --timeout %s", optarg);
                        cli->timeout_usec = (uint64_t) v * 1000000U;
                        break;
                case ARG_JSON:
                        cli->json = true;
                        break;
                case ARG_SINCE:
                        r = parse_number(optarg, "--since", 1, &v);
                        if (r < 0)
                                return r;
                        cli->since_epoch_ms = v;
                        break;
                case 'v':
                        verbosity++;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        log_set_max_level(verbosity >= 2 ? LOG_DEBUG : verbosity == 1 ? LOG_INFO : LOG_WARNING);
        if (!cli->atsign)
                return log_error_errno(-EINVAL, "Missing -a @ATSIGN (see --help)");
        if (optind >= argc)
                return log_error_errno(-EINVAL, "Missing command (see --help)");
        return 1;
}

static int run(Cli *cli, int argc, char **argv) {
        const char *cmd = argv[0];
        int n = argc - 1;

        if (streq(cmd, "scan") && n <= 1)
                return cli_scan(cli, n ? argv[1] : NULL);
        if (streq(cmd, "get") && n == 1)
                return cli_get(cli, argv[1]);
        if (streq(cmd, "put") && n == 2)
                return cli_put(cli, argv[1], argv[2]);
        if (streq(cmd, "delete") && n == 1)
                return cli_delete(cli, argv[1]);
        if (streq(cmd, "notify") && n == 3)
                return cli_notify(cli, argv[1], argv[2], argv[3]);
        if (streq(cmd, "monitor") && n <= 1)
                return cli_monitor(cli, n ? argv[1] : NULL);
        return log_error_errno(-EINVAL, "Unknown command or wrong arguments: %s (see --help)", cmd);
}

static bool command_known(const char *cmd) {
        static const char *const known[] = { "scan", "get", "put", "delete", "notify", "monitor" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(cmd, known[i]))
                        return true;
        return false;
}

int main(int argc, char **argv) {
        Cli cli = {};
        int r;

        log_setup("at_cli");
        r = parse_args(argc, argv, &cli);
        if (r <= 0)
                goto finish;
        if (!command_known(argv[optind])) {
                r = log_error_errno(-EINVAL, "Unknown command %s (see --help)", argv[optind]);
                goto finish;
        }
        r = at_secure_init();
        if (r < 0)
                goto finish;
        setvbuf(stdout, NULL, _IOLBF, 0);
        r = cli_connect(&cli);
        if (r >= 0)
                r = run(&cli, argc - optind, argv + optind);
finish:
        cli_done(&cli);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
