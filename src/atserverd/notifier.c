/* SPDX-License-Identifier: BSD-3-Clause */
/* Delivery to monitors as at_server's monitor_verb_handler.dart does it: a line
 * "notification: {json}\n" for each notification whose key (or sender without '@') matches the
 * monitor's regex; received notifications always, self ones only with selfNotifications. */
#include <string.h>

#include "log.h"
#include "server.h"

#define MONITOR_BACKLOG_MAX (16u * 1024 * 1024)

void ats_notifier_send_to(AtsSession *ss, const AtsNotification *n) {
        if (ss->monitor_regex_set) {
                const char *from = n->from ? n->from : "";
                if (*from == '@')
                        from++;
                if (regexec(&ss->monitor_regex, n->key ? n->key : "", 0, NULL, 0) != 0 &&
                    regexec(&ss->monitor_regex, from, 0, NULL, 0) != 0)
                        return;
        }
        if (ss->enrollment_id && n->key && !ats_session_may_access(ss, n->key, false))
                return;
        json_t *o = ats_notification_to_json(n);
        char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!j) {
                log_oom();
                return;
        }
        (void) ats_conn_printf(ss->conn, "notification: %s\n", j);
        free(j);
}

void ats_notifier_push(AtsServer *s, const AtsNotification *n) {
        for (AtsSession *ss = s->sessions; ss; ss = ss->next) {
                if (!ss->monitor || !ss->hosted || !streq(ss->hosted->atsign, n->owner))
                        continue;
                if (n->type == ATS_NOTIFICATION_SELF && !ss->monitor_self)
                        continue;
                if (n->type == ATS_NOTIFICATION_SENT || ats_conn_is_closing(ss->conn))
                        continue;
                if (ats_conn_pending(ss->conn) > MONITOR_BACKLOG_MAX) {
                        /* live notifications are not held back by flow control as answers are: a
                         * monitor that does not read would grow our buffer without end. It
                         * reconnects and asks for what it missed (monitor:<epoch>); that replay
                         * is bounded by the store, so it is not counted here. */
                        log_notice("refused: monitor not reading (%zu bytes waiting), closing atsign=%s peer=%s",
                                   ats_conn_pending(ss->conn), ss->hosted->atsign, ats_conn_peer(ss->conn));
                        ats_conn_close(ss->conn);
                        continue;
                }
                ats_notifier_send_to(ss, n);
        }
}

int ats_notifier_deliver_local(AtsServer *s, AtsNotification *n) {
        int r = ats_store_notification_add(s->store, n);
        if (r < 0)
                return log_error_errno(r, "Failed to store notification for %s: %m", n->owner);
        log_debug("notification id=%s from=%s to=%s stored", n->id, n->from, n->owner);
        ats_notifier_push(s, n);
        return 0;
}
