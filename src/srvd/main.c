/* SPDX-License-Identifier: BSD-3-Clause */
/* srvd: the NoPorts relay. */
#include "args.h"
#include "log.h"
#include "srvd.h"

int main(int argc, char **argv) {
        _cleanup_(srvd_freep) Srvd *s = NULL;
        SrvdArgs args;
        int r;

        log_setup("srvd");
        r = srvd_args_parse(&args, argc, argv);
        if (r != 0) {
                srvd_args_done(&args);
                return r > 0 ? EXIT_SUCCESS : 2;
        }
        if (args.debug)
                log_set_max_level(LOG_DEBUG);
        else if (args.verbose && log_get_max_level() < LOG_INFO)
                log_set_max_level(LOG_INFO);

        r = srvd_new(&args, &s);
        if (r >= 0)
                r = srvd_run(s);
        s = srvd_free(s);
        srvd_args_done(&args);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
