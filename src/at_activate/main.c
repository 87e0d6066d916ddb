/* SPDX-License-Identifier: BSD-3-Clause */
/* at_activate: onboarding of an atSign and APKAM enrollments (upstream at_onboarding_cli). */
#include "activate.h"
#include "log.h"
#include "secure.h"

int main(int argc, char *argv[]) {
        _cleanup_(activate_options_done) ActivateOptions o = {};
        int r;

        log_setup("at_activate");
        if (at_secure_init() < 0) {
                log_error("Failed to initialise libsodium.");
                return ACTIVATE_EXIT_FAILURE;
        }

        r = activate_parse_argv(argc, argv, &o);
        if (r != 0)
                return r > 0 ? 0 : ACTIVATE_EXIT_FAILURE;

        switch (o.command) {
        case ACTIVATE_STATUS:
                return activate_status(&o);
        case ACTIVATE_ONBOARD:
                r = activate_onboard(&o);
                break;
        case ACTIVATE_ENROLL:
                r = activate_enroll(&o);
                break;
        case ACTIVATE_OTP:
                r = activate_otp(&o);
                break;
        case ACTIVATE_SPP:
                r = activate_spp(&o);
                break;
        case ACTIVATE_LIST:
                r = activate_list(&o);
                break;
        case ACTIVATE_FETCH:
                r = activate_fetch(&o);
                break;
        case ACTIVATE_APPROVE:
                r = activate_approve(&o);
                break;
        case ACTIVATE_DENY:
                r = activate_deny(&o);
                break;
        case ACTIVATE_REVOKE:
                r = activate_revoke(&o);
                break;
        default:
                activate_help();
                r = 0;
        }
        return r < 0 ? ACTIVATE_EXIT_FAILURE : 0;
}
