/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-bus.h>

/* Authorizes a D-Bus method call that changes state. Callers with CAP_SYS_ADMIN are allowed at
 * once (as systemd's own daemons do); anyone else is checked with polkit
 * (org.freedesktop.PolicyKit1.Authority.CheckAuthorization, subject "system-bus-name").
 * done() runs exactly once, from the event loop or before this returns, with allowed = 1 or 0;
 * a polkit that cannot be reached means 0. The request message is kept referenced until then.
 * Returns 0 or a negative errno if the check could not be started (done() is then not called). */
typedef void (*polkit_done_t)(sd_bus_message *request, int allowed, void *userdata);
int polkit_check_async(sd_bus_message *request, const char *action_id, polkit_done_t done, void *userdata);

/* The reply to send when done() says no. */
int polkit_reply_denied(sd_bus_message *request, const char *action_id);
