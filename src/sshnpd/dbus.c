/* SPDX-License-Identifier: BSD-3-Clause */
/* org.noports.Sshnpd1: the daemon's control interface on the system bus. Reading is open;
 * closing a session and reloading are checked with polkit (polkit/org.noports.policy). */
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "polkit.h"
#include "sshnpd.h"

#define OBJECT_PATH "/org/noports/Sshnpd1"
#define INTERFACE "org.noports.Sshnpd1"
#define SESSION_PREFIX "/org/noports/Sshnpd1/session"
#define SESSION_INTERFACE "org.noports.Sshnpd1.Session"
#define ACTION_CLOSE "org.noports.sshnpd.close-session"
#define ACTION_RELOAD "org.noports.sshnpd.reload"

static int property_get_string_arg(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Sshnpd *d = userdata;
        const char *v = "";

        if (streq(property, "AtSign"))
                v = d->args->atsign;
        else if (streq(property, "Device"))
                v = d->args->device;
        else if (streq(property, "DeviceGroup"))
                v = d->args->device_group;
        else if (streq(property, "Version"))
                v = NOPORTS_VERSION;
        return sd_bus_message_append(reply, "s", v ?: "");
}

static int property_get_strv_arg(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Sshnpd *d = userdata;
        char **l = streq(property, "Managers") ? d->args->managers : d->args->permit_open;
        static char *empty[] = { NULL };

        return sd_bus_message_append_strv(reply, l ?: empty);
}

static int property_get_count(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Sshnpd *d = userdata;

        return sd_bus_message_append(reply, "u", streq(property, "NSessions") ? d->n_sessions : d->n_sessions_total);
}

static int append_session(sd_bus_message *reply, SshnpdSession *s) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sshnpd_session_object_path(s->id, &path);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "(sssstuo)", s->id, s->client, s->kind, s->target, s->started_usec,
                                     (uint32_t) s->srv_pid, path);
}

static int method_list_sessions(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Sshnpd *d = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssstuo)");
        if (r < 0)
                return r;
        for (SshnpdSession *s = d->sessions; s; s = s->next) {
                r = append_session(reply, s);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

typedef struct CloseRequest {
        Sshnpd *daemon;
        char *id;
} CloseRequest;

static void close_authorized(sd_bus_message *request, int allowed, void *userdata) {
        CloseRequest *c = userdata;
        SshnpdSession *s;

        if (!allowed) {
                log_notice("Refused to close session %s: caller not authorized", c->id);
                (void) polkit_reply_denied(request, ACTION_CLOSE);
        } else if (!(s = sshnpd_session_find(c->daemon, c->id)))
                (void) sd_bus_reply_method_errorf(request, "org.noports.Sshnpd1.NoSuchSession",
                                                  "No session %s", c->id);
        else {
                sshnpd_session_close(s, "closed over D-Bus");
                (void) sd_bus_reply_method_return(request, NULL);
        }
        free(c->id);
        free(c);
}

static int close_session_checked(sd_bus_message *m, Sshnpd *d, const char *id, sd_bus_error *error) {
        CloseRequest *c;
        int r;

        /* authorization first: unauthorized callers learn nothing, not even whether id exists */
        if (strlen(id) > 128)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Session id too long");
        c = calloc(1, sizeof(*c));
        if (!c || !(c->id = strdup(id))) {
                free(c);
                return -ENOMEM;
        }
        c->daemon = d;
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
        Sshnpd *d = userdata;
        int r;

        if (!allowed) {
                (void) polkit_reply_denied(request, ACTION_RELOAD);
                return;
        }
        r = sshnpd_reload(d);
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
        SD_BUS_PROPERTY("Device", "s", property_get_string_arg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceGroup", "s", property_get_string_arg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Managers", "as", property_get_strv_arg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PermitOpen", "as", property_get_strv_arg, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NSessions", "u", property_get_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NSessionsTotal", "u", property_get_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ListSessions", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssstuo)", sessions), method_list_sessions,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloseSession", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT,
                                method_close_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("SessionNew", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("SessionRemoved", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_VTABLE_END
};

/* Session objects */

static int method_session_close(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        SshnpdSession *s = userdata;
        return close_session_checked(m, s->daemon, s->id, error);
}

static const sd_bus_vtable session_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", NULL, offsetof(SshnpdSession, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ClientAtSign", "s", NULL, offsetof(SshnpdSession, client), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", NULL, offsetof(SshnpdSession, kind), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "s", NULL, offsetof(SshnpdSession, target), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedUSec", "t", NULL, offsetof(SshnpdSession, started_usec),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SrvPID", "u", NULL, offsetof(SshnpdSession, srv_pid), 0),
        SD_BUS_METHOD_WITH_ARGS("Close", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_session_close,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int session_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        _cleanup_free_ char *id = NULL;
        SshnpdSession *s;
        int r;

        r = sd_bus_path_decode(path, SESSION_PREFIX, &id);
        if (r <= 0)
                return 0;
        s = sshnpd_session_find(userdata, id);
        if (!s)
                return 0;
        *found = s;
        return 1;
}

static int session_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Sshnpd *d = userdata;
        char **l;
        size_t i = 0;

        l = calloc(d->n_sessions + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (SshnpdSession *s = d->sessions; s; s = s->next)
                if (sshnpd_session_object_path(s->id, &l[i]) >= 0)
                        i++;
        *nodes = l;
        return 0;
}

static void session_signal(Sshnpd *d, SshnpdSession *s, const char *member) {
        _cleanup_free_ char *path = NULL;

        if (!d->bus || sshnpd_session_object_path(s->id, &path) < 0)
                return;
        (void) sd_bus_emit_signal(d->bus, OBJECT_PATH, INTERFACE, member, "so", s->id, path);
        (void) sd_bus_emit_properties_changed(d->bus, OBJECT_PATH, INTERFACE, "NSessions", "NSessionsTotal", NULL);
}

void sshnpd_bus_session_added(Sshnpd *d, SshnpdSession *s) {
        session_signal(d, s, "SessionNew");
}

void sshnpd_bus_session_removed(Sshnpd *d, SshnpdSession *s) {
        session_signal(d, s, "SessionRemoved");
}

/* A bus name element may hold [A-Za-z0-9_] and must not start with a digit; device names may
 * hold '-' and start with one, so '-' becomes "_2d" and a leading digit gets a '_'. */
static char *device_bus_name(const char *device) {
        char *n = malloc(strlen(INTERFACE) + 2 + 3 * strlen(device) + 2), *p;

        if (!n)
                return NULL;
        p = stpcpy(stpcpy(n, INTERFACE), ".");
        if (device[0] >= '0' && device[0] <= '9')
                *p++ = '_';
        for (const char *c = device; *c; c++)
                p = *c == '-' ? stpcpy(p, "_2d") : (*p = *c, p + 1);
        *p = 0;
        return n;
}

int sshnpd_bus_setup(Sshnpd *d) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        r = sd_bus_open_system_with_description(&bus, "sshnpd");
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, OBJECT_PATH, INTERFACE, daemon_vtable, d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, SESSION_PREFIX, SESSION_INTERFACE, session_vtable,
                                               session_find, d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, NULL, SESSION_PREFIX, session_enumerate, d);
        if (r >= 0)
                r = sd_bus_add_object_manager(bus, NULL, OBJECT_PATH);
        if (r >= 0)
                r = sd_bus_attach_event(bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0) {
                /* one instance per device: each owns its own name; the first also gets the short one */
                name = device_bus_name(d->args->device);
                r = name ? sd_bus_request_name(bus, name, 0) : -ENOMEM;
        }
        if (r < 0) {
                log_full_errno(LOG_NOTICE, r, "D-Bus control interface not available, continuing without it: %m");
                return 0;
        }
        (void) sd_bus_request_name_async(bus, NULL, INTERFACE, SD_BUS_NAME_QUEUE, NULL, NULL);
        d->bus = TAKE_PTR(bus);
        log_debug("D-Bus control interface on %s and %s", name, INTERFACE);
        return 1;
}
