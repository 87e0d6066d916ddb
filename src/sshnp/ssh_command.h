/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdint.h>

#include "macro.h"

/* The ssh command sshnp runs (or prints with -x) once the tunnel is up, as upstream builds it
 * (noports_core sshnp/models/sshnp_result.dart, SshnpCommand.args):
 *   ssh -p <localPort> [-o StrictHostKeyChecking=accept-new -o IdentitiesOnly=yes] [options]
 *       <user>@localhost [-i <identity>] [remote command...]
 * The two -o options come only with an identity file. Each --local-ssh-options item is split on
 * whitespace and passed as is (upstream joins and splits on ' '); an item that does not start
 * with '-' is an ssh option and gets its "-o" (ours: "-o BatchMode=yes" and "BatchMode=yes" both
 * work). */

typedef struct SshCommandParams {
        uint16_t local_port;
        const char *remote_user;      /* NULL: no "user@" */
        const char *host;             /* NULL: "localhost" */
        const char *identity_file;    /* NULL or "": none */
        char *const *local_ssh_options; /* NULL-terminated or NULL */
        char *const *remote_command;    /* NULL-terminated or NULL: appended at the end */
} SshCommandParams;

/* NULL-terminated argv starting with "ssh" (strv_free). -EINVAL for a user or host that could
 * be read as an option. */
int ssh_command_build(const SshCommandParams *p, char ***ret);

/* One line for a shell: words separated by spaces, a word quoted with '' only when it holds
 * characters a shell would interpret. */
int ssh_command_format(char *const *argv, char **ret);
