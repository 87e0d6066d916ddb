/* SPDX-License-Identifier: BSD-3-Clause */
/* org.noports.Srvd1: the relay's control interface on the system bus. Reading is open; closing
 * a session and reloading are checked with polkit (polkit/org.noports.policy). */
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "polkit.h"
#include "session_info.h"
#include "srvd.h"

#define BUS_NAME "org.noports.Srvd1"
#define OBJECT_PATH "/org/noports/Srvd1"
#define INTERFACE "org.noports.Srvd1"
#define SESSION_PREFIX "/org/noports/Srvd1/session"
#define SESSION_INTERFACE "org.noports.Srvd1.Session"
#define ACTION_CLOSE "org.noports.srvd.close-session"
#define ACTION_RELOAD "org.noports.srvd.reload"
#define SESSION_ID_MAX 128

static int session_object_path(const char *id, char **ret) {
        return sd_bus_path_encode(SESSION_PREFIX, id, ret);
}

static int property_get_string_arg(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Srvd *s = userdata;
        const char *v = NULL;

        if (streq(property, "AtSign"))
                v = s->args->atsign;
        else if (streq(property, "Address"))
                v = s->args->ip;
        else if (streq(property, "Version"))
                v = NOPORTS_VERSION;
        return sd_bus_message_append(reply, "s", v ?: "");
}

static int property_get_managers(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Srvd *s = userdata;
        static char *empty[] = { NULL };

        return sd_bus_message_append_strv(reply, s->args->managers ?: empty);
}

static int property_get_count(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Srvd *s = userdata;

        return sd_bus_message_append(reply, "u",
                                     streq(property, "NSessions") ? s->watch.n_records : s->watch.n_total);
}

static int append_session(sd_bus_message *reply, const SrvdSessionRecord *rec) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = session_object_path(rec->id, &path);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "(sssqqto)", rec->id, rec->atsign_a, rec->atsign_b, rec->port_a,
                                     rec->port_b, rec->started_usec, path);
}

static int method_list_sessions(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Srvd *s = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssqqto)");
        if (r < 0)
                return r;
        for (SrvdSessionRecord *rec = s->watch.records; rec; rec = rec->next) {
                r = append_session(reply, rec);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

typedef struct CloseRequest {
        Srvd *daemon;
        char *id;
} CloseRequest;

static void close_authorized(sd_bus_message *request, int allowed, void *userdata) {
        CloseRequest *c = userdata;
        SrvdSessionRecord *rec;

        if (!allowed) {
                log_notice("Refused to close session %s: caller not authorized", c->id);
                (void) polkit_reply_denied(request, ACTION_CLOSE);
        } else if (!(rec = srvd_session_watch_find(&c->daemon->watch, c->id)))
                (void) sd_bus_reply_method_errorf(request, "org.noports.Srvd1.NoSuchSession", "No session %s",
                                                  c->id);
        else {
                log_info("Closing session %s (%s, %s) on request over D-Bus", rec->id, rec->atsign_a, rec->atsign_b);
                srvd_session_close(rec->session); /* rec is gone now */
                (void) sd_bus_reply_method_return(request, NULL);
        }
        free(c->id);
        free(c);
}

static int close_session_checked(sd_bus_message *m, Srvd *s, const char *id, sd_bus_error *error) {
        CloseRequest *c;
        int r;

        /* authorization first: unauthorized callers learn nothing, not even whether id exists */
        if (strlen(id) > SESSION_ID_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Session id too long");
        c = calloc(1, sizeof(*c));
        if (!c || !(c->id = strdup(id))) {
                free(c);
                return -ENOMEM;
        }
        c->daemon = s;
        r = polkit_check_async(m, ACTION_CLOSE, close_authorized, c);
        if (r < 0) {
                free(c->id);
                free(c);
                return sd_bus_error_set_errnof(error, -r, "Cannot check authorization: %m");
        }
        return 1; /* the reply comes from close_authorized() */
}

static int method_close_session(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        return close_session_checked(m, userdata, id, error);
}

static void reload_authorized(sd_bus_message *request, int allowed, void *userdata) {
        int r;

        if (!allowed) {
                (void) polkit_reply_denied(request, ACTION_RELOAD);
                return;
        }
        r = srvd_reload(userdata);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(request, r, "Reload failed: %m");
        else
                (void) sd_bus_reply_method_return(request, NULL);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int r = polkit_check_async(m, ACTION_RELOAD, reload_authorized, userdata);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot check authorization: %m");
        return 1;
}

static const sd_bus_vtable daemon_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_string_arg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AtSign", "s", property_get_string_arg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Address", "s", property_get_string_arg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* the atSigns allowed to request sessions; empty: anyone */
        SD_BUS_PROPERTY("Managers", "as", property_get_managers, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NSessions", "u", property_get_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NSessionsTotal", "u", property_get_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ListSessions", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssqqto)", sessions), method_list_sessions,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloseSession", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT,
                                method_close_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("SessionNew", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("SessionRemoved", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_VTABLE_END
};

/* Session objects: userdata is the SrvdSessionRecord */

static int method_session_close(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        SrvdSessionRecord *rec = userdata;
        Srvd *s = sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(m)));

        return close_session_checked(m, s, rec->id, error);
}

static int property_get_session_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        SrvdSessionRecord *rec = userdata;

        return sd_bus_message_append(reply, "b",
                                     (int) srvd_info_authenticates(rec->session, streq(property, "AuthenticateSocketB")));
}

static int property_get_session_count(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        SrvdSessionRecord *rec = userdata;

        return sd_bus_message_append(reply, "u",
                                     streq(property, "NConnections") ? srvd_info_n_connections(rec->session)
                                                                     : srvd_info_n_connections_total(rec->session));
}

static const sd_bus_vtable session_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", NULL, offsetof(SrvdSessionRecord, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AtSignA", "s", NULL, offsetof(SrvdSessionRecord, atsign_a), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AtSignB", "s", NULL, offsetof(SrvdSessionRecord, atsign_b), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortA", "q", NULL, offsetof(SrvdSessionRecord, port_a), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PortB", "q", NULL, offsetof(SrvdSessionRecord, port_b), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedUSec", "t", NULL, offsetof(SrvdSessionRecord, started_usec),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AuthenticateSocketA", "b", property_get_session_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AuthenticateSocketB", "b", property_get_session_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NConnections", "u", property_get_session_count, 0, 0),
        SD_BUS_PROPERTY("NConnectionsTotal", "u", property_get_session_count, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Close", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_session_close,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int session_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        _cleanup_free_ char *id = NULL;
        Srvd *s = userdata;
        SrvdSessionRecord *rec;
        int r;

        r = sd_bus_path_decode(path, SESSION_PREFIX, &id);
        if (r <= 0)
                return 0;
        rec = srvd_session_watch_find(&s->watch, id);
        if (!rec)
                return 0;
        *found = rec;
        return 1;
}

static int session_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Srvd *s = userdata;
        size_t i = 0;
        char **l;

        l = calloc(s->watch.n_records + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (SrvdSessionRecord *rec = s->watch.records; rec && i < s->watch.n_records; rec = rec->next)
                if (session_object_path(rec->id, &l[i]) >= 0)
                        i++;
        *nodes = l;
        return 0;
}

static bool path_shared(Srvd *s, const SrvdSessionRecord *rec) {
        for (SrvdSessionRecord *i = s->watch.records; i; i = i->next)
                if (i != rec && streq(i->id, rec->id))
                        return true;
        return false;
}

static void on_session_change(SrvdSessionRecord *rec, bool added, void *userdata) {
        _cleanup_free_ char *path = NULL;
        Srvd *s = userdata;

        if (!s->bus || session_object_path(rec->id, &path) < 0)
                return;
        /* for ObjectManager clients; live sessions with the same id share one path */
        if (!path_shared(s, rec))
                (void) (added ? sd_bus_emit_object_added(s->bus, path) : sd_bus_emit_object_removed(s->bus, path));
        (void) sd_bus_emit_signal(s->bus, OBJECT_PATH, INTERFACE, added ? "SessionNew" : "SessionRemoved", "so",
                                  rec->id, path);
}

void srvd_bus_sessions_changed(Srvd *s) {
        int r;

        r = srvd_session_watch_sync(&s->watch, s->relay, on_session_change, s);
        if (r < 0)
                log_warning_errno(r, "Cannot track the relay's sessions for D-Bus: %m");
        if (r != 0 && s->bus)
                (void) sd_bus_emit_properties_changed(s->bus, OBJECT_PATH, INTERFACE, "NSessions", "NSessionsTotal",
                                                      NULL);
}

int srvd_bus_setup(Srvd *s) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system_with_description(&bus, "srvd");
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, OBJECT_PATH, INTERFACE, daemon_vtable, s);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, SESSION_PREFIX, SESSION_INTERFACE, session_vtable,
                                               session_find, s);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, SESSION_PREFIX, session_enumerate, s);
        if (r >= 0)
                r = sd_bus_add_object_manager(bus, NULL, OBJECT_PATH);
        if (r >= 0)
                r = sd_bus_attach_event(bus, s->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_request_name(bus, BUS_NAME, 0);
        if (r < 0) {
                log_full_errno(LOG_NOTICE, r, "D-Bus control interface not available, continuing without it: %m");
                return 0;
        }
        s->bus = TAKE_PTR(bus);
        log_debug("D-Bus control interface on %s", BUS_NAME);
        return 1;
}
