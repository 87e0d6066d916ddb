/* SPDX-License-Identifier: BSD-3-Clause */
#include "polkit.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "macro.h"

typedef struct PolkitQuery {
        sd_bus_message *request;
        char *action_id;
        polkit_done_t done;
        void *userdata;
} PolkitQuery;

static void polkit_query_free(PolkitQuery *q) {
        if (!q)
                return;
        sd_bus_message_unref(q->request);
        free(q->action_id);
        free(q);
}

static int polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        if (e)
                log_warning("polkit check for %s failed: %s", q->action_id, e->message ?: e->name);
        else {
                /* CheckAuthorization answers (bba{ss}): enter the struct, then read the two booleans */
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        log_warning_errno(r, "Bad reply from polkit for %s: %m", q->action_id);
                        authorized = 0;
                }
        }
        q->done(q->request, authorized > 0, q->userdata);
        polkit_query_free(q);
        return 0;
}

int polkit_check_async(sd_bus_message *request, const char *action_id, polkit_done_t done, void *userdata) {
        sd_bus *bus = sd_bus_message_get_bus(request);
        const char *sender = sd_bus_message_get_sender(request);
        PolkitQuery *q;
        uint32_t flags = 0;
        int r;

        if (!sender)
                return -EBADMSG;

        r = sd_bus_query_sender_privilege(request, CAP_SYS_ADMIN);
        if (r > 0) {
                done(request, 1, userdata);
                return 0;
        }

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->request = sd_bus_message_ref(request);
        q->action_id = strdup(action_id);
        q->done = done;
        q->userdata = userdata;
        if (!q->action_id) {
                polkit_query_free(q);
                return -ENOMEM;
        }
        if (sd_bus_message_get_allow_interactive_authorization(request) > 0)
                flags |= 1; /* AllowUserInteraction */

        r = sd_bus_call_method_async(bus, NULL, "org.freedesktop.PolicyKit1",
                                     "/org/freedesktop/PolicyKit1/Authority",
                                     "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
                                     polkit_reply, q, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
                                     sender, action_id, 0, flags, "");
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }
        return 0;
}

int polkit_reply_denied(sd_bus_message *request, const char *action_id) {
        return sd_bus_reply_method_errorf(request, SD_BUS_ERROR_ACCESS_DENIED,
                                          "Not authorized for %s (polkit)", action_id);
}
