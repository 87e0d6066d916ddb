/* SPDX-License-Identifier: BSD-3-Clause */
#include "args.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

enum {
        ARG_ROOT_SERVER = 0x100,
        ARG_CA_FILE,
        ARG_PERMIT_OPEN,
        ARG_DEVICE_GROUP,
        ARG_SSH_CLIENT,
        ARG_LOCAL_SSHD_PORT,
        ARG_EPHEMERAL_PERMISSIONS,
        ARG_SSH_ALGORITHM,
        ARG_STORAGE_PATH,
        ARG_CONFIG,
        ARG_CLEAR_CACHED_PKS,
        ARG_STRICT,
        ARG_NO_STRICT,
        ARG_DEBUG,
        ARG_HELP,
        ARG_VERSION,
        ARG_DOCTOR,
        ARG_NO_HIDE,
        ARG_NO_UN_HIDE,
        ARG_NO_SSHPUBLICKEY,
        ARG_NO_VERBOSE,
        ARG_NO_TWIN_KEYS,
};

/* upstream sshnpd_config.dart: names, aliases ("keyFile", "manager", "po", "dg", "username",
 * "root-domain") and abbreviations; Dart flags are negatable with --no-<name> */
static const struct option options[] = {
        { "key-file", required_argument, NULL, 'k' },
        { "keyFile", required_argument, NULL, 'k' },
        { "pass-phrase", required_argument, NULL, 'P' },
        { "passPhrase", required_argument, NULL, 'P' },
        { "atsign", required_argument, NULL, 'a' },
        { "root-server", required_argument, NULL, ARG_ROOT_SERVER },
        { "root-domain", required_argument, NULL, ARG_ROOT_SERVER },
        { "ca-file", required_argument, NULL, ARG_CA_FILE },
        { "managers", required_argument, NULL, 'm' },
        { "manager", required_argument, NULL, 'm' },
        { "policy-manager", required_argument, NULL, 'p' },
        { "permit-open", required_argument, NULL, ARG_PERMIT_OPEN },
        { "po", required_argument, NULL, ARG_PERMIT_OPEN },
        { "device", required_argument, NULL, 'd' },
        { "device-group", required_argument, NULL, ARG_DEVICE_GROUP },
        { "dg", required_argument, NULL, ARG_DEVICE_GROUP },
        { "hide", no_argument, NULL, 'h' },
        { "no-hide", no_argument, NULL, ARG_NO_HIDE },
        { "un-hide", no_argument, NULL, 'u' },
        { "username", no_argument, NULL, 'u' },
        { "no-un-hide", no_argument, NULL, ARG_NO_UN_HIDE },
        { "no-username", no_argument, NULL, ARG_NO_UN_HIDE },
        { "sshpublickey", no_argument, NULL, 's' },
        { "no-sshpublickey", no_argument, NULL, ARG_NO_SSHPUBLICKEY },
        { "ssh-client", required_argument, NULL, ARG_SSH_CLIENT },
        { "local-sshd-port", required_argument, NULL, ARG_LOCAL_SSHD_PORT },
        { "sshpublickey-permissions", required_argument, NULL, 'S' },
        { "ephemeral-permissions", required_argument, NULL, ARG_EPHEMERAL_PERMISSIONS },
        { "ssh-algorithm", required_argument, NULL, ARG_SSH_ALGORITHM },
        { "storage-path", required_argument, NULL, ARG_STORAGE_PATH },
        { "storage-dir", required_argument, NULL, ARG_STORAGE_PATH },
        { "config", required_argument, NULL, ARG_CONFIG },
        { "clear-cached-pks", no_argument, NULL, ARG_CLEAR_CACHED_PKS },
        { "strict", no_argument, NULL, ARG_STRICT },
        { "no-strict", no_argument, NULL, ARG_NO_STRICT },
        { "verbose", no_argument, NULL, 'v' },
        { "no-verbose", no_argument, NULL, ARG_NO_VERBOSE },
        { "debug", no_argument, NULL, ARG_DEBUG },
        { "help", no_argument, NULL, ARG_HELP },
        { "version", no_argument, NULL, ARG_VERSION },
        { "doctor", no_argument, NULL, ARG_DOCTOR },
        { "output", no_argument, NULL, 'o' },
        /* ours, hidden: a test/compat switch that makes the daemon speak only the baseline */
        { "no-twin-keys", no_argument, NULL, ARG_NO_TWIN_KEYS },
        {}
};

void sshnpd_args_usage(FILE *f) {
        fputs("Usage: sshnpd -a @device -m @manager[,@other] [options]\n"
              "\n"
              "The NoPorts device daemon: answers sshnp and npt requests from its managers.\n"
              "\n"
              "atSign options:\n"
              "  -a, --atsign ATSIGN              atSign of this device (mandatory)\n"
              "  -k, --key-file PATH              keys file if not ~/.atsign/keys/@x_key.atKeys (alias --keyFile)\n"
              "      --root-server HOST[:PORT]    atDirectory (alias --root-domain; default root.atsign.org)\n"
              "      --ca-file PATH               PEM trust anchors for the atServer (default: system store)\n"
              "\n"
              "Access control:\n"
              "  -m, --managers LIST              atSigns allowed to connect (comma separated; alias --manager)\n"
              "  -p, --policy-manager ATSIGN      policy atSign (accepted; delegated policy is not implemented)\n"
              "      --permit-open LIST           host:port pairs clients may open, '*' allowed\n"
              "                                   (alias --po; default localhost:22,localhost:3389)\n"
              "\n"
              "Device configuration:\n"
              "  -d, --device NAME                device name (default \"default\")\n"
              "      --device-group NAME          device group (alias --dg; default __none__)\n"
              "  -h, --hide                       do not publish device info and username to managers\n"
              "\n"
              "sshd configuration:\n"
              "  -s, --sshpublickey               accept ssh public keys from managers into authorized_keys\n"
              "  -S, --sshpublickey-permissions P options written before keys added with -s\n"
              "      --local-sshd-port PORT       port of the local sshd (default 22)\n"
              "      --ssh-client openssh|dart    (accepted for compatibility)\n"
              "      --ephemeral-permissions P    (accepted for compatibility)\n"
              "      --ssh-algorithm ssh-ed25519|ssh-rsa  (accepted for compatibility)\n"
              "\n"
              "Runtime:\n"
              "      --storage-path DIR           (accepted for compatibility; alias --storage-dir)\n"
              "      --[no-]strict                refuse requests whose signer's key changed since cached\n"
              "                                   (default: only with --policy-manager)\n"
              "  -v, --verbose                    more logging\n"
              "      --debug                      all logging\n"
              "      --help                       show this help\n"
              "      --version                    show the version\n",
              f);
}

static int bad(const char *what, const char *value) {
        return cli_invalid("sshnpd", what, value);
}

static int args_defaults(SshnpdArgs *a) {
        *a = (SshnpdArgs){ .un_hide = true, .strict = -1, .local_sshd_port = 22 };
        if (cli_set_string(&a->root_server, "root.atsign.org") < 0 || cli_set_string(&a->device, "default") < 0 ||
            cli_set_string(&a->device_group, "__none__") < 0 || cli_set_string(&a->ssh_client, "openssh") < 0 ||
            cli_set_string(&a->ssh_algorithm, "ssh-ed25519") < 0)
                return -ENOMEM;
        return 0;
}

static int args_finish(SshnpdArgs *a, char **sshpublickey_permissions, char **ephemeral_permissions,
                       bool permit_open_given) {
        _cleanup_free_ char *dev = NULL;
        int r;

        if (!a->atsign) {
                fputs("sshnpd: option --atsign is mandatory\n", stderr);
                return -EINVAL;
        }
        if (cli_strv_length(a->managers) == 0 && !a->policy_manager) {
                fputs("sshnpd: at least one of --managers and --policy-manager must be supplied\n", stderr);
                return -EINVAL;
        }
        if (cli_device_name_normalize(a->device, &dev) < 0) {
                fprintf(stderr, "sshnpd: invalid device name '%s': 2 to 36 characters of a-z, 0-9, '_' and '-'\n",
                        a->device);
                return -EINVAL;
        }
        free(a->device);
        a->device = TAKE_PTR(dev);

        /* upstream #1295: with a policy manager and no --permit-open, permit everything */
        if (!permit_open_given) {
                r = cli_strv_extend_comma(&a->permit_open,
                                          a->policy_manager ? "*:*" : "localhost:22,localhost:3389");
                if (r < 0)
                        return r;
        }
        for (char **p = a->permit_open; p && *p; p++) {
                const char *colon = strrchr(*p, ':');
                uint16_t port;
                if (!colon || colon == *p ||
                    (!streq(colon + 1, "*") && cli_parse_port(colon + 1, false, &port) < 0))
                        return bad("--permit-open entry (want host:port, '*' allowed)", *p);
        }

        a->sshpublickey_permissions = cli_strv_join(sshpublickey_permissions, ",");
        a->ephemeral_permissions = cli_strv_join(ephemeral_permissions, ",");
        if (!a->sshpublickey_permissions || !a->ephemeral_permissions)
                return -ENOMEM;
        /* upstream rejects newlines in the permissions: they would add authorized_keys lines */
        if (strpbrk(a->sshpublickey_permissions, "\r\n"))
                return bad("--sshpublickey-permissions (newlines are not allowed)", a->sshpublickey_permissions);

        if (!a->key_file) {
                r = cli_default_keys_file(a->atsign, &a->key_file);
                if (r < 0) {
                        fputs("sshnpd: cannot find the home directory for the default --key-file\n", stderr);
                        return r;
                }
        }
        if (a->config) {
                /* upstream reads YAML here; we take flags (or systemd's EnvironmentFile) instead */
                fprintf(stderr, "sshnpd: --config %s: YAML config files are not supported, pass flags instead\n",
                        a->config);
                return -EINVAL;
        }
        if (a->doctor) {
                fputs("sshnpd: --doctor is not supported by this implementation\n", stderr);
                return -EINVAL;
        }
        return 0;
}

int sshnpd_args_parse(SshnpdArgs *a, int argc, char **argv) {
        _cleanup_strv_free_ char **pk_perms = NULL, **eph_perms = NULL;
        bool permit_open_given = false;
        uint16_t port;
        int c, r;

        r = args_defaults(a);
        if (r < 0)
                return r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "k:P:a:m:p:d:husS:vo", options, NULL)) >= 0) {
                switch (c) {
                case 'k':
                        r = cli_set_string(&a->key_file, optarg);
                        break;
                case 'P':
                        r = cli_set_string(&a->pass_phrase, optarg);
                        break;
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
                case ARG_CA_FILE:
                        r = cli_set_string(&a->ca_file, optarg);
                        break;
                case 'm': {
                        _cleanup_strv_free_ char **l = NULL;
                        r = cli_strv_extend_comma(&l, optarg);
                        for (char **i = l; r >= 0 && i && *i; i++) {
                                _cleanup_free_ char *m = NULL;
                                if (cli_atsign_normalize(*i, &m) < 0)
                                        return bad("--managers atSign", *i);
                                r = cli_strv_push(&a->managers, m);
                        }
                        break;
                }
                case 'p':
                        free(a->policy_manager);
                        a->policy_manager = NULL;
                        r = cli_atsign_normalize(optarg, &a->policy_manager);
                        if (r == -EINVAL)
                                return bad("--policy-manager", optarg);
                        break;
                case ARG_PERMIT_OPEN:
                        permit_open_given = true;
                        r = cli_strv_extend_comma(&a->permit_open, optarg);
                        break;
                case 'd':
                        r = cli_set_string(&a->device, optarg);
                        break;
                case ARG_DEVICE_GROUP:
                        r = cli_set_string(&a->device_group, optarg);
                        break;
                case 'h':
                        a->hide = true;
                        break;
                case ARG_NO_HIDE:
                        a->hide = false;
                        break;
                case 'u':
                        a->un_hide = true;
                        break;
                case ARG_NO_UN_HIDE:
                        a->un_hide = false;
                        break;
                case 's':
                        a->sshpublickey = true;
                        break;
                case ARG_NO_SSHPUBLICKEY:
                        a->sshpublickey = false;
                        break;
                case ARG_SSH_CLIENT:
                        if (!streq(optarg, "openssh") && !streq(optarg, "dart"))
                                return bad("--ssh-client (openssh or dart)", optarg);
                        r = cli_set_string(&a->ssh_client, optarg);
                        break;
                case ARG_LOCAL_SSHD_PORT:
                        if (cli_parse_port(optarg, false, &port) < 0)
                                return bad("--local-sshd-port", optarg);
                        a->local_sshd_port = port;
                        break;
                case 'S':
                        r = cli_strv_extend_comma(&pk_perms, optarg);
                        break;
                case ARG_EPHEMERAL_PERMISSIONS:
                        r = cli_strv_extend_comma(&eph_perms, optarg);
                        break;
                case ARG_SSH_ALGORITHM:
                        if (!streq(optarg, "ssh-ed25519") && !streq(optarg, "ssh-rsa"))
                                return bad("--ssh-algorithm (ssh-ed25519 or ssh-rsa)", optarg);
                        r = cli_set_string(&a->ssh_algorithm, optarg);
                        break;
                case ARG_STORAGE_PATH:
                        r = cli_set_string(&a->storage_path, optarg);
                        break;
                case ARG_CONFIG:
                        r = cli_set_string(&a->config, optarg);
                        break;
                case ARG_CLEAR_CACHED_PKS:
                        a->clear_cached_pks = true;
                        break;
                case ARG_NO_TWIN_KEYS:
                        a->no_twin_keys = true;
                        break;
                case ARG_STRICT:
                        a->strict = 1;
                        break;
                case ARG_NO_STRICT:
                        a->strict = 0;
                        break;
                case 'v':
                        a->verbose = true;
                        break;
                case ARG_NO_VERBOSE:
                        a->verbose = false;
                        break;
                case ARG_DEBUG:
                        a->debug = true;
                        break;
                case ARG_HELP:
                        a->help = true;
                        break;
                case ARG_VERSION:
                        a->version = true;
                        break;
                case ARG_DOCTOR:
                        a->doctor = true;
                        break;
                case 'o':
                        a->output = true;
                        break;
                default:
                        fputs("Try 'sshnpd --help' for more information.\n", stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "sshnpd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (a->help) {
                sshnpd_args_usage(stdout);
                return 1;
        }
        if (a->version) {
                printf("sshnpd %s\n", NOPORTS_VERSION);
                return 1;
        }
        return args_finish(a, pk_perms, eph_perms, permit_open_given);
}

void sshnpd_args_done(SshnpdArgs *a) {
        free(a->atsign);
        free(a->key_file);
        if (a->pass_phrase)
                explicit_bzero(a->pass_phrase, strlen(a->pass_phrase));
        free(a->pass_phrase);
        free(a->root_server);
        free(a->ca_file);
        strv_free(a->managers);
        free(a->policy_manager);
        strv_free(a->permit_open);
        free(a->device);
        free(a->device_group);
        free(a->ssh_client);
        free(a->sshpublickey_permissions);
        free(a->ephemeral_permissions);
        free(a->ssh_algorithm);
        free(a->storage_path);
        free(a->config);
        *a = (SshnpdArgs){};
}
