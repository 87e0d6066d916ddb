/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnp: ssh to a device that has no open port (spec §4; upstream sshnoports bin/sshnp.dart). */
#include <signal.h>

#include "args.h"
#include "list_devices.h"
#include "log.h"
#include "np_session.h"
#include "secure.h"
#include "ssh_command.h"

#define SSH_SRV_TIMEOUT_USEC (30ULL * 1000000ULL) /* upstream sshnp gives srv 30 s */

/* The first line of <identity>.pub, which -s sends to the daemon */
static int read_public_key(const char *identity, char **ret) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;
        ssize_t n;

        if (asprintf(&path, "%s.pub", identity) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "sshnp: cannot read the ssh public key %s for -s: %m\n", path);
                return -errno;
        }
        n = getline(&line, &size, f);
        if (n <= 0 || n > 16384 || strncmp(line, "ssh-", 4) != 0) {
                fprintf(stderr, "sshnp: %s does not hold an ssh public key\n", path);
                return -EBADMSG;
        }
        line[strcspn(line, "\r\n")] = 0;
        *ret = TAKE_PTR(line);
        return 0;
}

static void restore_signals(void) {
        sigset_t none;

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) signal(SIGPIPE, SIG_DFL);
}

static int run(const SshnpArgs *a) {
        _cleanup_free_ char *public_key = NULL, *line = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        NpClientOptions co = {
                .program = "sshnp", .atsign = a->from, .root_server = a->root_server, .key_file = a->key_file,
                .ca_file = a->ca_file,
        };
        NpSessionOptions so = {
                .to = a->to, .device = a->device, .srvd = a->srvd,
                .daemon_ping_timeout_usec = (uint64_t) a->daemon_ping_timeout * 1000000ULL,
                .authenticate_client_to_rvd = a->authenticate_client_to_rvd,
                .authenticate_device_to_rvd = a->authenticate_device_to_rvd,
                .encrypt_rvd_traffic = a->encrypt_rvd_traffic, .kind = NP_REQUEST_SSH,
                .lookup_username = !a->remote_user_name, .local_port = a->local_port,
                .srv_timeout_usec = SSH_SRV_TIMEOUT_USEC, .verbose = a->verbose,
        };
        NpClient c;
        NpSession s;
        int r;

        if (!streq(a->relay_auth_mode, "payload")) {
                fprintf(stderr, "sshnp: --relay-auth-mode %s is not supported yet; use payload\n", a->relay_auth_mode);
                return -EOPNOTSUPP;
        }
        if (a->only_443) {
                fputs("sshnp: --443 needs the escr relay auth mode, which is not supported yet\n", stderr);
                return -EOPNOTSUPP;
        }
        if (!streq(a->ssh_client, "openssh")) {
                fprintf(stderr, "sshnp: --ssh-client %s is not supported: only openssh\n", a->ssh_client);
                return -EOPNOTSUPP;
        }
        if (a->send_ssh_public_key) {
                r = read_public_key(a->identity_file, &public_key);
                if (r < 0)
                        return r;
                so.ssh_public_key = public_key;
        }
        r = np_client_open(&c, &co);
        if (r < 0) {
                np_client_close(&c);
                return r;
        }
        r = np_session_open(&c, &so, &s);
        if (r < 0) {
                np_client_close(&c);
                return r;
        }
        SshCommandParams p = {
                .local_port = s.local_port, .remote_user = a->remote_user_name ?: s.remote_user,
                .identity_file = a->identity_file, .local_ssh_options = a->local_ssh_options,
                .remote_command = a->remote_command,
        };
        r = ssh_command_build(&p, &argv);
        if (r >= 0)
                r = ssh_command_format(argv, &line);
        if (r < 0) {
                fprintf(stderr, "sshnp: cannot build the ssh command (remote user '%s'): %s\n",
                        p.remote_user ?: "", strerror(-r));
                srv_process_kill(&s.srv);
                np_session_done(&s);
                np_client_close(&c);
                return r;
        }
        /* srv keeps running on its own: it ends on its timeout or when the ssh session ends */
        srv_process_detach(&s.srv);
        np_session_done(&s);
        np_client_close(&c);

        if (a->output_execution_command) {
                printf("%s\n", line);
                return fflush(stdout) == 0 ? 0 : -EIO;
        }
        log_info("Running %s", line);
        restore_signals();
        execvp("ssh", argv);
        r = -errno;
        fprintf(stderr, "sshnp: cannot run ssh: %m\n");
        return r;
}

int main(int argc, char **argv) {
        SshnpArgs a = {};
        int r;

        log_setup("sshnp");
        r = sshnp_args_parse(&a, argc, argv);
        if (r != 0) {
                sshnp_args_done(&a);
                return r < 0 ? 1 : 0;
        }
        log_set_max_level(a.verbose ? LOG_DEBUG : a.quiet ? LOG_ERR : LOG_WARNING);
        if (at_secure_init() < 0) {
                sshnp_args_done(&a);
                return 1;
        }
        r = a.list_devices ? sshnp_list_devices(&a) : run(&a);
        sshnp_args_done(&a);
        return r < 0 ? 1 : 0;
}
