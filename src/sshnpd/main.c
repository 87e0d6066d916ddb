/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnpd: the NoPorts device daemon. */
#include "args.h"
#include "log.h"
#include "sshnpd.h"

int main(int argc, char **argv) {
        _cleanup_(sshnpd_freep) Sshnpd *d = NULL;
        SshnpdArgs args;
        int r;

        log_setup("sshnpd");
        r = sshnpd_args_parse(&args, argc, argv);
        if (r != 0) {
                sshnpd_args_done(&args);
                return r > 0 ? EXIT_SUCCESS : 2;
        }
        if (args.debug)
                log_set_max_level(LOG_DEBUG);
        else if (args.verbose && log_get_max_level() < LOG_INFO)
                log_set_max_level(LOG_INFO);

        r = sshnpd_new(&args, &d);
        if (r >= 0)
                r = sshnpd_run(d);
        d = sshnpd_free(d);
        sshnpd_args_done(&args);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
