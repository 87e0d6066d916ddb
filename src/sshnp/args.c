/* SPDX-License-Identifier: BSD-3-Clause */
#include "args.h"

#include <getopt.h>

#include "cli.h"

enum {
        ARG_IDENTITY_PASSPHRASE = 0x100,
        ARG_ROOT_SERVER,
        ARG_REMOTE_SSHD_PORT,
        ARG_IDLE_TIMEOUT,
        ARG_SSH_ALGORITHM,
        ARG_ADD_FORWARDS,
        ARG_CONFIG_FILE,
        ARG_LIST_DEVICES,
        ARG_AC, ARG_NO_AC,
        ARG_AD, ARG_NO_AD,
        ARG_RELAY_AUTH_MODE,
        ARG_ET, ARG_NO_ET,
        ARG_DPT,
        ARG_443, ARG_NO_443,
        ARG_SSH_CLIENT,
        ARG_CA_FILE,
        ARG_HELP,
};

static const struct option options[] = {
        { "help", no_argument, NULL, ARG_HELP },
        { "key-file", required_argument, NULL, 'k' },
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "device", required_argument, NULL, 'd' },
        { "srvd", required_argument, NULL, 'r' },
        { "host", required_argument, NULL, 'h' },
        { "local-port", required_argument, NULL, 'l' },
        { "identity-file", required_argument, NULL, 'i' },
        { "identity-passphrase", required_argument, NULL, ARG_IDENTITY_PASSPHRASE },
        { "send-ssh-public-key", no_argument, NULL, 's' },
        { "local-ssh-options", required_argument, NULL, 'o' },
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "remote-user-name", required_argument, NULL, 'u' },
        { "tunnel-user-name", required_argument, NULL, 'U' },
        { "root-server", required_argument, NULL, ARG_ROOT_SERVER },
        { "root-domain", required_argument, NULL, ARG_ROOT_SERVER },
        { "rootDomain", required_argument, NULL, ARG_ROOT_SERVER },
        { "remote-sshd-port", required_argument, NULL, ARG_REMOTE_SSHD_PORT },
        { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
        { "ssh-algorithm", required_argument, NULL, ARG_SSH_ALGORITHM },
        { "add-forwards-to-tunnel", no_argument, NULL, ARG_ADD_FORWARDS },
        { "config-file", required_argument, NULL, ARG_CONFIG_FILE },
        { "list-devices", no_argument, NULL, ARG_LIST_DEVICES },
        { "ls", no_argument, NULL, ARG_LIST_DEVICES },
        { "authenticate-client-to-rvd", no_argument, NULL, ARG_AC },
        { "ac", no_argument, NULL, ARG_AC },
        { "no-authenticate-client-to-rvd", no_argument, NULL, ARG_NO_AC },
        { "no-ac", no_argument, NULL, ARG_NO_AC },
        { "authenticate-device-to-rvd", no_argument, NULL, ARG_AD },
        { "ad", no_argument, NULL, ARG_AD },
        { "no-authenticate-device-to-rvd", no_argument, NULL, ARG_NO_AD },
        { "no-ad", no_argument, NULL, ARG_NO_AD },
        { "relay-auth-mode", required_argument, NULL, ARG_RELAY_AUTH_MODE },
        { "ram", required_argument, NULL, ARG_RELAY_AUTH_MODE },
        { "encrypt-rvd-traffic", no_argument, NULL, ARG_ET },
        { "et", no_argument, NULL, ARG_ET },
        { "no-encrypt-rvd-traffic", no_argument, NULL, ARG_NO_ET },
        { "no-et", no_argument, NULL, ARG_NO_ET },
        { "daemon-ping-timeout", required_argument, NULL, ARG_DPT },
        { "dpt", required_argument, NULL, ARG_DPT },
        { "443", no_argument, NULL, ARG_443 },
        { "no-443", no_argument, NULL, ARG_NO_443 },
        { "ssh-client", required_argument, NULL, ARG_SSH_CLIENT },
        { "output-execution-command", no_argument, NULL, 'x' },
        { "ca-file", required_argument, NULL, ARG_CA_FILE },
        {}
};

void sshnp_args_usage(FILE *f) {
        fputs("Usage: sshnp -f @client -t @device -r @relay [-d device] [options] [--] [remote command]\n"
              "       sshnp -f @client [-t @device] --list-devices\n"
              "\n"
              "Opens an ssh session to a device through a NoPorts relay; no port is open on the device.\n"
              "\n"
              "  -f, --from ATSIGN                 this client's atSign (mandatory)\n"
              "  -t, --to ATSIGN                   the device's atSign\n"
              "  -d, --device NAME                 device name (default \"default\")\n"
              "  -r, --srvd ATSIGN                 the relay's atSign\n"
              "  -k, --key-file PATH               keys file if not ~/.atsign/keys/@x_key.atKeys\n"
              "  -u, --remote-user-name USER       user on the device (default: the name the device shares)\n"
              "  -i, --identity-file PATH          ssh identity to use\n"
              "  -s, --send-ssh-public-key         send <identity>.pub to the device (needs sshnpd -s)\n"
              "  -l, --local-port PORT             local port for the tunnel (default: the kernel picks)\n"
              "  -o, --local-ssh-options OPT       extra options for the ssh command (repeatable)\n"
              "  -x, --output-execution-command    print the ssh command instead of running it\n"
              "      --list-devices, --ls          list devices and their information\n"
              "      --daemon-ping-timeout, --dpt S  seconds to wait for the device (default 20)\n"
              "      --[no-]authenticate-client-to-rvd, --ac   (default on)\n"
              "      --[no-]authenticate-device-to-rvd, --ad   (default on)\n"
              "      --[no-]encrypt-rvd-traffic, --et          (default on)\n"
              "      --relay-auth-mode, --ram payload|escr     (default payload)\n"
              "      --root-server HOST[:PORT]     atDirectory (aliases --root-domain, --rootDomain)\n"
              "      --ca-file PATH                PEM trust anchors for atServers (default: system store)\n"
              "      --remote-sshd-port PORT, --idle-timeout S, --ssh-algorithm A, --tunnel-user-name U,\n"
              "      --add-forwards-to-tunnel, --identity-passphrase P, --ssh-client C, --443\n"
              "                                    accepted for compatibility\n"
              "  -v, --verbose / -q, --quiet       more / less logging\n"
              "      --help                        show this help\n",
              f);
}

static int bad(const char *what, const char *value) {
        return cli_invalid("sshnp", what, value);
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

static int parse_seconds(const char *value, const char *what, unsigned *ret) {
        uint64_t v;
        if (cli_parse_uint(value, 86400 * 365, &v) < 0)
                return bad(what, value);
        *ret = (unsigned) v;
        return 0;
}

int sshnp_args_parse(SshnpArgs *a, int argc, char **argv) {
        _cleanup_free_ char *dev = NULL;
        int c, r = 0;

        *a = (SshnpArgs){
                .remote_sshd_port = 22, .idle_timeout = 15, .daemon_ping_timeout = 20,
                .authenticate_client_to_rvd = true, .authenticate_device_to_rvd = true,
                .encrypt_rvd_traffic = true,
        };
        if (cli_set_string(&a->device, "default") < 0 || cli_set_string(&a->root_server, "root.atsign.org") < 0 ||
            cli_set_string(&a->ssh_algorithm, "ssh-ed25519") < 0 || cli_set_string(&a->relay_auth_mode, "payload") < 0 ||
            cli_set_string(&a->ssh_client, "openssh") < 0)
                return -ENOMEM;

        optind = 0;
        while ((c = getopt_long(argc, argv, "k:f:t:d:r:h:l:i:so:vqu:U:x", options, NULL)) >= 0) {
                switch (c) {
                case ARG_HELP: a->help = true; break;
                case 'k': r = cli_set_string(&a->key_file, optarg); break;
                case 'f': r = set_atsign(&a->from, optarg, "--from"); break;
                case 't': r = set_atsign(&a->to, optarg, "--to"); break;
                case 'd': r = cli_set_string(&a->device, optarg); break;
                case 'r':
                case 'h': r = set_atsign(&a->srvd, optarg, "--srvd"); break;
                case 'l':
                        if (cli_parse_port(optarg, true, &a->local_port) < 0)
                                return bad("--local-port", optarg);
                        break;
                case 'i': r = cli_set_string(&a->identity_file, optarg); break;
                case ARG_IDENTITY_PASSPHRASE: r = cli_set_string(&a->identity_passphrase, optarg); break;
                case 's': a->send_ssh_public_key = true; break;
                case 'o': r = cli_strv_extend_comma(&a->local_ssh_options, optarg); break;
                case 'v': a->verbose = true; break;
                case 'q': a->quiet = true; break;
                case 'u': r = cli_set_string(&a->remote_user_name, optarg); break;
                case 'U': r = cli_set_string(&a->tunnel_user_name, optarg); break;
                case ARG_ROOT_SERVER:
                        if (!*optarg)
                                return bad("--root-server", optarg);
                        r = cli_set_string(&a->root_server, optarg);
                        break;
                case ARG_REMOTE_SSHD_PORT:
                        if (cli_parse_port(optarg, false, &a->remote_sshd_port) < 0)
                                return bad("--remote-sshd-port", optarg);
                        break;
                case ARG_IDLE_TIMEOUT: r = parse_seconds(optarg, "--idle-timeout", &a->idle_timeout); break;
                case ARG_SSH_ALGORITHM:
                        if (!streq(optarg, "ssh-ed25519") && !streq(optarg, "ssh-rsa"))
                                return bad("--ssh-algorithm (ssh-ed25519 or ssh-rsa)", optarg);
                        r = cli_set_string(&a->ssh_algorithm, optarg);
                        break;
                case ARG_ADD_FORWARDS: a->add_forwards_to_tunnel = true; break;
                case ARG_CONFIG_FILE: r = cli_set_string(&a->config_file, optarg); break;
                case ARG_LIST_DEVICES: a->list_devices = true; break;
                case ARG_AC: a->authenticate_client_to_rvd = true; break;
                case ARG_NO_AC: a->authenticate_client_to_rvd = false; break;
                case ARG_AD: a->authenticate_device_to_rvd = true; break;
                case ARG_NO_AD: a->authenticate_device_to_rvd = false; break;
                case ARG_RELAY_AUTH_MODE:
                        if (!streq(optarg, "payload") && !streq(optarg, "escr"))
                                return bad("--relay-auth-mode (payload or escr)", optarg);
                        r = cli_set_string(&a->relay_auth_mode, optarg);
                        break;
                case ARG_ET: a->encrypt_rvd_traffic = true; break;
                case ARG_NO_ET: a->encrypt_rvd_traffic = false; break;
                case ARG_DPT: r = parse_seconds(optarg, "--daemon-ping-timeout", &a->daemon_ping_timeout); break;
                case ARG_443: a->only_443 = true; break;
                case ARG_NO_443: a->only_443 = false; break;
                case ARG_SSH_CLIENT:
                        if (!streq(optarg, "openssh") && !streq(optarg, "dart"))
                                return bad("--ssh-client (openssh or dart)", optarg);
                        r = cli_set_string(&a->ssh_client, optarg);
                        break;
                case 'x': a->output_execution_command = true; break;
                case ARG_CA_FILE: r = cli_set_string(&a->ca_file, optarg); break;
                default:
                        fputs("Try 'sshnp --help' for more information.\n", stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        /* ours: what follows the options is the remote command, appended to the ssh command */
        for (; optind < argc; optind++)
                if ((r = cli_strv_push(&a->remote_command, argv[optind])) < 0)
                        return r;
        if (a->help) {
                sshnp_args_usage(stdout);
                return 1;
        }
        if (!a->from) {
                fputs("sshnp: option --from is mandatory\n", stderr);
                return -EINVAL;
        }
        if (!a->list_devices && (!a->to || !a->srvd)) {
                fputs("sshnp: --to and --srvd are required (unless --list-devices)\n", stderr);
                return -EINVAL;
        }
        if (cli_device_name_normalize(a->device, &dev) < 0) {
                fprintf(stderr, "sshnp: invalid device name '%s': 2 to 36 characters of a-z, 0-9, '_' and '-'\n",
                        a->device);
                return -EINVAL;
        }
        free(a->device);
        a->device = TAKE_PTR(dev);
        if (a->send_ssh_public_key && !a->identity_file) {
                fputs("sshnp: --send-ssh-public-key needs --identity-file\n", stderr);
                return -EINVAL;
        }
        if (a->config_file) {
                fprintf(stderr, "sshnp: --config-file %s: config files are not supported, pass flags instead\n",
                        a->config_file);
                return -EINVAL;
        }
        if (!a->key_file) {
                r = cli_default_keys_file(a->from, &a->key_file);
                if (r < 0) {
                        fputs("sshnp: cannot find the home directory for the default --key-file\n", stderr);
                        return r;
                }
        }
        return 0;
}

void sshnp_args_done(SshnpArgs *a) {
        free(a->from);
        free(a->to);
        free(a->device);
        free(a->srvd);
        free(a->identity_file);
        if (a->identity_passphrase)
                explicit_bzero(a->identity_passphrase, strlen(a->identity_passphrase));
        free(a->identity_passphrase);
        strv_free(a->local_ssh_options);
        strv_free(a->remote_command);
        free(a->remote_user_name);
        free(a->tunnel_user_name);
        free(a->root_server);
        free(a->ssh_algorithm);
        free(a->config_file);
        free(a->key_file);
        free(a->relay_auth_mode);
        free(a->ssh_client);
        free(a->ca_file);
        *a = (SshnpArgs){};
}
