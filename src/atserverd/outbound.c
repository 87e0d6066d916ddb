/* SPDX-License-Identifier: BSD-3-Clause */
/* Server-to-server connections: not yet implemented; callers see -EHOSTUNREACH and queue. */
#include "server.h"

int ats_outbound_notify(AtsServer *s, AtsHosted *from, const char *to_atsign, const char *notify_body,
                        AtsOutboundDone done, void *userdata) {
        return -EHOSTUNREACH;
}

int ats_outbound_lookup(AtsServer *s, AtsHosted *from, const char *owner, const char *lookup_arg,
                        AtsOutboundDone done, void *userdata) {
        return -EHOSTUNREACH;
}

int ats_outbound_verify_pol(AtsServer *s, const char *from_atsign, const char *session_id,
                            const char *challenge, AtsOutboundDone done, void *userdata) {
        return -EHOSTUNREACH;
}

void ats_outbound_free_all(AtsServer *s) {
}
