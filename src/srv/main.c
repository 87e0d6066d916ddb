/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "args.h"
#include "log.h"
#include "secure.h"

#define FOREACH_SRV_SECRET_ENV(f) \
        do { \
                const char *_n[] = { "RV_AUTH", "RV_AES", "RV_IV", "RV_AES_C2D", "RV_IV_C2D", "RV_AES_D2C", "RV_IV_D2C" }; \
                for (size_t _i = 0; _i < ELEMENTSOF(_n); _i++) \
                        f(_n[_i]); \
        } while (0)

static void wipe_env(const char *name) {
        char *v = getenv(name);
        if (v)
                explicit_bzero(v, strlen(v));
}

int main(int argc, char **argv) {
        SrvArgs args = {};
        int r;

        log_setup("srv");
        if (at_secure_init() < 0)
                return 1;
        r = srv_args_parse(&args, argc, argv);
        if (r < 0 || args.help) {
                srv_args_usage(stderr);
                srv_args_done(&args);
                return r < 0 ? 1 : 0;
        }
        if (args.verbose)
                log_set_max_level(LOG_DEBUG);
        /* the secrets are copied: wipe them from the environment block, which stays readable
         * in /proc/<pid>/environ even after unsetenv() */
        FOREACH_SRV_SECRET_ENV(wipe_env);

        r = srv_run(&args.config);
        srv_args_done(&args);
        if (r < 0) {
                /* upstream's failure marker, which the parent looks for (srv.dart) */
                log_error_errno(r, "Exception running srv : %m");
                return 200;
        }
        return 0;
}
