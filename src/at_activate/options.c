/* SPDX-License-Identifier: BSD-3-Clause */
#include "options.h"

#include <getopt.h>
#include <regex.h>
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "root.h"
#include "secure.h"

static const char *const command_names[_ACTIVATE_COMMAND_MAX] = {
        [ACTIVATE_ONBOARD] = "onboard",
        [ACTIVATE_STATUS] = "status",
        [ACTIVATE_OTP] = "otp",
        [ACTIVATE_SPP] = "spp",
        [ACTIVATE_ENROLL] = "enroll",
        [ACTIVATE_LIST] = "list",
        [ACTIVATE_FETCH] = "fetch",
        [ACTIVATE_APPROVE] = "approve",
        [ACTIVATE_DENY] = "deny",
        [ACTIVATE_REVOKE] = "revoke",
        [ACTIVATE_HELP] = "help",
};

const char *activate_command_to_string(ActivateCommand c) {
        if (c < 0 || c >= _ACTIVATE_COMMAND_MAX)
                return NULL;
        return command_names[c];
}

ActivateCommand activate_command_from_string(const char *s) {
        for (int i = 0; i < _ACTIVATE_COMMAND_MAX; i++)
                if (streq(s, command_names[i]))
                        return (ActivateCommand) i;
        return _ACTIVATE_COMMAND_INVALID;
}

void activate_options_done(ActivateOptions *o) {
        free(o->atsign);
        free(o->keys_file);
        free(o->root_host);
        free(o->ca_file);
        at_secure_free(o->cram_secret);
        free(o->passcode);
        free(o->app_name);
        free(o->device_name);
        free(o->namespaces);
        free(o->enrollment_id);
        free(o->status_filter);
        free(o->app_regex);
        free(o->device_regex);
        *o = (ActivateOptions) {};
}

void activate_help(void) {
        printf("at_activate COMMAND [OPTIONS]\n"
               "Activates an atSign and manages its APKAM enrollments (one keys file per device).\n"
               "\n"
               "Commands:\n"
               "  onboard  -a ATSIGN -c CRAM_SECRET   first activation: keys, enrollment, keys file\n"
               "  status   -a ATSIGN [-k KEYS_FILE]   exit 0 activated, 1 no public key, 2 atServer\n"
               "                                      unreachable, 3 unknown atSign, 4 root unreachable,\n"
               "                                      5 the given keys file cannot log in\n"
               "  otp      -a ATSIGN [-e EXPIRY]      prints a one-time passcode for 'enroll'\n"
               "  spp      -a ATSIGN -s PASSCODE [-e EXPIRY]  sets a semi-permanent passcode\n"
               "  enroll   -a ATSIGN -s PASSCODE -p APP -d DEVICE -n NS:rw,... -k NEW_KEYS_FILE\n"
               "                                      requests keys, waits for approval, writes them\n"
               "  list     -a ATSIGN [-s STATUS]      lists enrollments (pending, approved, ...)\n"
               "  fetch    -a ATSIGN -i ID            shows one enrollment\n"
               "  approve  -a ATSIGN -i ID            approves a pending enrollment\n"
               "  deny     -a ATSIGN -i ID            denies a pending enrollment\n"
               "  revoke   -a ATSIGN -i ID [--force]  revokes an approved enrollment\n"
               "           (list/approve/deny/revoke: --arx/--drx select by app/device name instead)\n"
               "If the first argument is an option, 'onboard' is assumed.\n"
               "\n"
               "Options:\n"
               "  -a, --atsign ATSIGN        the atSign (required)\n"
               "  -k, --keys FILE            keys file (default ~/.atsign/keys/@ATSIGN_key.atKeys)\n"
               "  -r, --rootServer HOST[:PORT], --root-domain HOST[:PORT]\n"
               "                             root (directory) server (default root.atsign.org:64)\n"
               "      --ca-file FILE         trust only this CA for TLS (self-hosted atServers)\n"
               "  -c, --cramkey SECRET       CRAM secret for 'onboard' ('-': read it from standard input;\n"
               "                             or set AT_CRAM_SECRET), blanked in the process arguments\n"
               "  -s, --passcode CODE        'enroll': passcode from 'otp'; 'spp': the passcode to set\n"
               "                             (6-16 letters and digits); 'list': status filter\n"
               "  -p, --app NAME             'enroll': application name\n"
               "  -d, --device NAME          'enroll': device name\n"
               "  -n, --namespaces LIST      'enroll': namespace access, e.g. sshnp:rw,sshrvd:rw\n"
               "  -i, --enrollmentId ID      enrollment to fetch/approve/deny/revoke\n"
               "  -A, --arx REGEX            only enrollments whose app name matches\n"
               "  -D, --drx REGEX            only enrollments whose device name matches\n"
               "  -e, --expiry DURATION      'otp', 'spp': passcode lifetime; 'enroll': APKAM key lifetime\n"
               "      --force                'revoke': allow revoking the enrollment in use\n"
               "      --poll-interval DURATION 'enroll': how often to try to log in (default 10s)\n"
               "  -v, --verbose, --debug     more logging\n"
               "  -h, --help                 this help\n");
}

enum {
        ARG_ROOT_DOMAIN = 0x100,
        ARG_CA_FILE,
        ARG_FORCE,
        ARG_POLL_INTERVAL,
        ARG_DEBUG,
};

static const struct option long_options[] = {
        { "atsign", required_argument, NULL, 'a' },
        { "keys", required_argument, NULL, 'k' },
        { "rootServer", required_argument, NULL, 'r' },
        { "root-domain", required_argument, NULL, ARG_ROOT_DOMAIN },
        { "ca-file", required_argument, NULL, ARG_CA_FILE },
        { "cramkey", required_argument, NULL, 'c' },
        { "passcode", required_argument, NULL, 's' },
        { "enrollmentStatus", required_argument, NULL, 's' },
        { "spp", required_argument, NULL, 's' },
        { "app", required_argument, NULL, 'p' },
        { "device", required_argument, NULL, 'd' },
        { "namespaces", required_argument, NULL, 'n' },
        { "enrollmentId", required_argument, NULL, 'i' },
        { "arx", required_argument, NULL, 'A' },
        { "drx", required_argument, NULL, 'D' },
        { "expiry", required_argument, NULL, 'e' },
        { "force", no_argument, NULL, ARG_FORCE },
        { "poll-interval", required_argument, NULL, ARG_POLL_INTERVAL },
        { "verbose", no_argument, NULL, 'v' },
        { "debug", no_argument, NULL, ARG_DEBUG },
        { "help", no_argument, NULL, 'h' },
        {}
};

static int set_string(char **field, const char *value) {
        char *s = strdup(value);
        if (!s)
                return log_oom();
        free(*field);
        *field = s;
        return 0;
}

/* "host" or "host:port"; the port defaults to the root's 64 */
static int parse_root(const char *value, ActivateOptions *o) {
        _cleanup_free_ char *host = NULL;
        uint16_t port = AT_ROOT_DEFAULT_PORT;
        int r;

        if (strchr(value, ':')) {
                r = at_host_port_parse(value, &host, &port);
                if (r < 0)
                        return log_error_errno(r, "Invalid root server '%s': expected HOST:PORT.", value);
        } else {
                if (!*value)
                        return log_error_errno(EINVAL, "Empty root server name.");
                host = strdup(value);
                if (!host)
                        return log_oom();
        }
        free(o->root_host);
        o->root_host = TAKE_PTR(host);
        o->root_port = port;
        return 0;
}

/* `-c -`: the secret from the first line of standard input, so it never shows in `ps` */
static int read_cram_secret_stdin(ActivateOptions *o) {
        char *buf = at_secure_alloc(4096);
        size_t n;

        if (!buf)
                return log_oom();
        if (!fgets(buf, 4096, stdin)) {
                at_secure_free(buf);
                return log_error_errno(EINVAL, "No CRAM secret on standard input (-c -).");
        }
        n = strcspn(buf, "\r\n");
        buf[n] = 0;
        if (n == 0) {
                at_secure_free(buf);
                return log_error_errno(EINVAL, "Empty CRAM secret on standard input (-c -).");
        }
        o->cram_secret = buf;
        return 0;
}

static int parse_one(int c, const char *arg, ActivateOptions *o) {
        uint64_t usec;
        int r;

        switch (c) {
        case 'a':
                free(o->atsign);
                o->atsign = NULL;
                r = cli_atsign_normalize(arg, &o->atsign);
                if (r < 0)
                        return log_error_errno(r, "Invalid atSign '%s'.", arg);
                return 0;
        case 'k':
                return set_string(&o->keys_file, arg);
        case 'r':
        case ARG_ROOT_DOMAIN:
                return parse_root(arg, o);
        case ARG_CA_FILE:
                return set_string(&o->ca_file, arg);
        case 'c':
                at_secure_free(o->cram_secret);
                o->cram_secret = streq(arg, "-") ? NULL : at_secure_strdup(arg);
                if (streq(arg, "-"))
                        return read_cram_secret_stdin(o);
                if (!o->cram_secret)
                        return log_oom();
                return 0;
        case 's':
                return set_string(&o->passcode, arg);
        case 'p':
                return set_string(&o->app_name, arg);
        case 'd':
                return set_string(&o->device_name, arg);
        case 'n':
                return set_string(&o->namespaces, arg);
        case 'i':
                return set_string(&o->enrollment_id, arg);
        case 'A':
        case 'D': {
                regex_t re;
                r = regcomp(&re, arg, REG_EXTENDED | REG_NOSUB);
                if (r != 0)
                        return log_error_errno(EINVAL, "Invalid regular expression '%s'.", arg);
                regfree(&re);
                return set_string(c == 'A' ? &o->app_regex : &o->device_regex, arg);
        }
        case 'e':
                r = cli_parse_duration(arg, &usec);
                if (r < 0)
                        return log_error_errno(r, "Invalid expiry '%s' (examples: 30s, 10m, 2h, 7d).", arg);
                o->expiry_usec = usec;
                o->has_expiry = true;
                return 0;
        case ARG_FORCE:
                o->force = true;
                return 0;
        case ARG_POLL_INTERVAL:
                r = cli_parse_duration(arg, &usec);
                if (r < 0 || usec < 100000)
                        return log_error_errno(EINVAL, "Invalid poll interval '%s' (at least 100ms).", arg);
                o->poll_interval_usec = usec;
                return 0;
        case 'v':
        case ARG_DEBUG:
                log_set_max_level(LOG_DEBUG);
                return 0;
        default:
                return -EINVAL;
        }
}

static int require(const char *value, const char *option, ActivateCommand c) {
        if (value)
                return 0;
        return log_error_errno(EINVAL, "The '%s' command needs %s (see --help).", activate_command_to_string(c),
                               option);
}

static int check_command(ActivateOptions *o) {
        ActivateCommand c = o->command;
        int r;

        r = require(o->atsign, "-a ATSIGN", c);
        if (r < 0)
                return r;

        switch (c) {
        case ACTIVATE_ONBOARD:
                return require(o->cram_secret, "-c CRAM_SECRET (the registrar is not supported)", c);
        case ACTIVATE_ENROLL:
                if ((r = require(o->passcode, "-s PASSCODE", c)) < 0 ||
                    (r = require(o->app_name, "-p APP", c)) < 0 ||
                    (r = require(o->device_name, "-d DEVICE", c)) < 0 ||
                    (r = require(o->namespaces, "-n NAMESPACES", c)) < 0 ||
                    (r = require(o->keys_file, "-k KEYS_FILE (a new file)", c)) < 0)
                        return r;
                return 0;
        case ACTIVATE_SPP:
                r = require(o->passcode, "-s PASSCODE", c);
                if (r < 0)
                        return r;
                /* auth_cli_arg_validation.dart sppRegex: [A-Za-z0-9]{6,16} */
                if (strlen(o->passcode) < 6 || strlen(o->passcode) > 16 ||
                    strspn(o->passcode, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
                            strlen(o->passcode))
                        return log_error_errno(EINVAL, "Invalid passcode: 6 to 16 letters and digits.");
                return 0;
        case ACTIVATE_LIST:
                /* -s is the status filter here */
                o->status_filter = TAKE_PTR(o->passcode);
                if (o->status_filter && !streq(o->status_filter, "pending") && !streq(o->status_filter, "approved") &&
                    !streq(o->status_filter, "denied") && !streq(o->status_filter, "revoked") &&
                    !streq(o->status_filter, "expired"))
                        return log_error_errno(EINVAL, "Invalid enrollment status '%s': one of pending, "
                                               "approved, denied, revoked, expired.", o->status_filter);
                return 0;
        case ACTIVATE_FETCH:
                return require(o->enrollment_id, "-i ENROLLMENT_ID", c);
        case ACTIVATE_APPROVE:
        case ACTIVATE_DENY:
        case ACTIVATE_REVOKE:
                /* auth_cli.dart _fetchOrListAndFilter: an id, or app/device regexes */
                if (o->app_regex || o->device_regex)
                        return 0;
                return require(o->enrollment_id, "-i ENROLLMENT_ID (or --arx/--drx)", c);
        default:
                return 0;
        }
}

int activate_parse_argv(int argc, char *argv[], ActivateOptions *o) {
        int first, c, r;

        *o = (ActivateOptions) { .poll_interval_usec = 10 * 1000000ULL };

        if (argc < 2) {
                log_error("No command given; try 'at_activate --help'.");
                return -EINVAL;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                activate_help();
                return 1;
        }
        if (argv[1][0] == '-') {
                /* upstream: no command means 'onboard' (legacy command lines) */
                o->command = ACTIVATE_ONBOARD;
                first = 0;
        } else {
                o->command = activate_command_from_string(argv[1]);
                if (o->command == _ACTIVATE_COMMAND_INVALID) {
                        log_error("Unknown command '%s'; try 'at_activate --help'.", argv[1]);
                        return -EINVAL;
                }
                first = 1;
        }

        /* getopt sees argv[first] as the program name */
        optind = 0; /* glibc: full re-initialisation */
        opterr = 0;
        while ((c = getopt_long(argc - first, argv + first, ":a:k:r:c:s:p:d:n:i:A:D:e:vh", long_options, NULL)) >= 0) {
                if (c == 'h') {
                        activate_help();
                        return 1;
                }
                if (c == '?' || c == ':') {
                        const char *arg = argv[first + optind - 1];
                        if (optopt > 0 && optopt < 0x80 && !strneq(arg, "--", 2))
                                log_error("%s option '-%c'; try 'at_activate --help'.",
                                          c == ':' ? "Missing value for" : "Unknown", optopt);
                        else
                                log_error("%s option '%s'; try 'at_activate --help'.",
                                          c == ':' ? "Missing value for" : "Unknown", arg);
                        return -EINVAL;
                }
                r = parse_one(c, optarg, o);
                if (r < 0)
                        return r;
                /* the secret is copied: blank it in argv so /proc/PID/cmdline no longer shows it */
                if (c == 'c' && optarg && !streq(optarg, "-"))
                        memset(optarg, 'x', strlen(optarg));
        }
        if (!o->cram_secret && getenv("AT_CRAM_SECRET") && *getenv("AT_CRAM_SECRET")) {
                o->cram_secret = at_secure_strdup(getenv("AT_CRAM_SECRET"));
                if (!o->cram_secret)
                        return log_oom();
        }
        if (optind < argc - first) {
                log_error("Unexpected argument '%s'; try 'at_activate --help'.", argv[first + optind]);
                return -EINVAL;
        }

        return check_command(o);
}

void activate_client_options(const ActivateOptions *o, AtClientOptions *ret) {
        *ret = (AtClientOptions) {
                .atsign = o->atsign,
                .root_host = o->root_host,
                .root_port = o->root_port,
                .ca_file = o->ca_file,
        };
}

int activate_keys_path(const ActivateOptions *o, char **ret) {
        char *p;

        if (o->keys_file) {
                p = strdup(o->keys_file);
                if (!p)
                        return log_oom();
                *ret = p;
                return 0;
        }
        return cli_default_keys_file(o->atsign, ret);
}
