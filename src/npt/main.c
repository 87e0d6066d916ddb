/* SPDX-License-Identifier: BSD-3-Clause */
/* npt: a local port forwarded to a port the device permits (upstream sshnoports bin/npt.dart). */
#include "args.h"
#include "log.h"
#include "npt.h"
#include "secure.h"

int main(int argc, char **argv) {
        NptArgs a = {};
        int r;

        log_setup("npt");
        r = npt_args_parse(&a, argc, argv);
        if (r != 0) {
                npt_args_done(&a);
                return r < 0 ? 1 : 0;
        }
        log_set_max_level(a.verbose ? LOG_DEBUG : a.quiet ? LOG_ERR : LOG_WARNING);
        if (at_secure_init() < 0) {
                npt_args_done(&a);
                return 1;
        }
        r = npt_run(&a);
        npt_args_done(&a);
        return r < 0 ? 1 : 0;
}
