/* SPDX-License-Identifier: BSD-3-Clause */
/* sshnp --list-devices (spec §6.2; upstream noports_core sshnp/sshnp_core.dart listDevices). */
#include "list_devices.h"

#include <jansson.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "messages.h"
#include "np_client.h"
#include "verbs.h"

#define LIST_WINDOW_MAX_USEC (10ULL * 1000000ULL) /* upstream waits 10 s for the heartbeats */
#define MAX_DEVICES 1024

typedef struct Device {
        char *name;
        char *owner;
        NpPing *info;       /* device_info record */
        NpPing *heartbeat;  /* ping answer: the device is active */
} Device;

typedef struct DeviceList {
        Device *items;
        size_t n;
        size_t answered;
} DeviceList;

int device_info_key_parse(const char *key, char **ret_device, char **ret_owner) {
        const char *p = key, *at, *end;
        _cleanup_free_ char *dev = NULL, *owner = NULL;

        if (strneq(p, "cached:", 7))
                p += 7;
        if (p[0] == '@') {
                const char *colon = strchr(p, ':');
                if (!colon)
                        return -EINVAL;
                p = colon + 1;
        }
        if (!strneq(p, "device_info.", 12))
                return -EINVAL;
        p += 12;
        at = strrchr(p, '@');
        if (!at || at - p < 7 || !strneq(at - 6, ".sshnp", 6))
                return -EINVAL;
        end = at - 6;
        dev = strndup(p, (size_t) (end - p));
        if (!dev)
                return -ENOMEM;
        if (cli_device_name_normalize(dev, ret_device) < 0)
                return -EINVAL;
        if (cli_atsign_normalize(at, &owner) < 0) {
                free(*ret_device);
                *ret_device = NULL;
                return -EINVAL;
        }
        *ret_owner = TAKE_PTR(owner);
        return 0;
}

static void device_list_done(DeviceList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].owner);
                np_ping_free(l->items[i].info);
                np_ping_free(l->items[i].heartbeat);
        }
        free(l->items);
}

static int device_list_add(DeviceList *l, const char *key, const char *only_owner) {
        _cleanup_free_ char *dev = NULL, *owner = NULL;
        Device *n;

        if (device_info_key_parse(key, &dev, &owner) < 0)
                return 0;
        if (only_owner && !streq(owner, only_owner))
                return 0;
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, dev) && streq(l->items[i].owner, owner))
                        return 0;
        if (l->n >= MAX_DEVICES)
                return 0;
        n = realloc(l->items, (l->n + 1) * sizeof(Device));
        if (!n)
                return -ENOMEM;
        l->items = n;
        l->items[l->n++] = (Device){ .name = TAKE_PTR(dev), .owner = TAKE_PTR(owner) };
        return 0;
}

/* keys shared with us by owner, asked of owner's atServer (at_client_sdk getAtKeys(sharedBy:)) */
static int scan_remote(NpClient *c, const char *owner, DeviceList *l) {
        _cleanup_free_ char *command = NULL, *data = NULL;
        json_t *keys, *k;
        size_t i;
        int r;

        if (asprintf(&command, "scan:%s device_info\\..*\\.sshnp", owner) < 0)
                return -ENOMEM;
        r = at_conn_command_data(at_client_conn(c->cmd), command, at_client_command_timeout(c->cmd), &data);
        if (r < 0)
                return r;
        keys = json_loads(data, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_array(keys)) {
                json_decref(keys);
                return -EBADMSG;
        }
        json_array_foreach(keys, i, k) {
                _cleanup_free_ char *full = NULL;
                if (!json_is_string(k))
                        continue;
                /* the other server shows the key without our "@me:" prefix and may omit the owner */
                if (!strchr(json_string_value(k), '@') ? asprintf(&full, "%s%s", json_string_value(k), owner) < 0
                                                       : !(full = strdup(json_string_value(k)))) {
                        json_decref(keys);
                        return -ENOMEM;
                }
                r = device_list_add(l, full, owner);
                if (r < 0)
                        break;
        }
        json_decref(keys);
        return r < 0 ? r : 0;
}

/* cached copies on our own atServer ("cached:@me:device_info.<dev>.sshnp@owner") */
static int scan_local(NpClient *c, const char *only_owner, DeviceList *l) {
        _cleanup_strv_free_ char **keys = NULL;
        int r;

        r = at_verb_scan(at_client_conn(c->cmd), "device_info\\..*\\.sshnp", false, at_client_command_timeout(c->cmd),
                         &keys);
        if (r < 0)
                return r;
        for (char **k = keys; k && *k; k++)
                if ((r = device_list_add(l, *k, only_owner)) < 0)
                        return r;
        return 0;
}

static void on_heartbeat(NpClient *c, const char *from, const char *key, const char *value, void *userdata) {
        DeviceList *l = userdata;

        if (!value)
                return;
        for (size_t i = 0; i < l->n; i++) {
                Device *d = &l->items[i];
                _cleanup_free_ char *expected = NULL;
                if (d->heartbeat || !streq(from, d->owner))
                        continue;
                if (asprintf(&expected, "%s:heartbeat.%s.sshnp%s", c->options->atsign, d->name, d->owner) < 0)
                        return;
                if (!streq(key, expected))
                        continue;
                if (np_ping_parse(value, strlen(value), &d->heartbeat) >= 0)
                        l->answered++;
                return;
        }
}

static bool all_answered(void *userdata) {
        DeviceList *l = userdata;
        return l->answered == l->n;
}

static void print_device(const Device *d) {
        const NpPing *p = d->heartbeat ?: d->info;
        _cleanup_free_ char *services = NULL;

        printf("  %s%s", d->name, d->owner);
        if (p) {
                services = cli_strv_join(p->allowed_services, ", ");
                printf("  version %s (core %s)  allowedServices: %s", p->version ?: "?",
                       p->core_package_version ?: "?", services ?: "");
        }
        printf("\n");
}

static void print_report(const DeviceList *l) {
        size_t active = l->answered;

        printf("Active Devices:\n");
        if (active == 0)
                printf("  (none)\n");
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].heartbeat)
                        print_device(&l->items[i]);
        printf("Inactive Devices:\n");
        if (active == l->n)
                printf("  (none)\n");
        for (size_t i = 0; i < l->n; i++)
                if (!l->items[i].heartbeat)
                        print_device(&l->items[i]);
}

static int collect(NpClient *c, const SshnpArgs *a, DeviceList *l) {
        int r;

        if (a->to) {
                r = scan_remote(c, a->to, l);
                if (r < 0)
                        log_warning_errno(r, "Cannot scan the device_info records %s shares: %m", a->to);
        }
        r = scan_local(c, a->to, l);
        if (r < 0)
                log_warning_errno(r, "Cannot scan our own atServer for device_info records: %m");
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *name = NULL, *value = NULL;
                Device *d = &l->items[i];
                if (asprintf(&name, "device_info.%s.sshnp", d->name) < 0)
                        return -ENOMEM;
                r = np_client_lookup_shared(c, name, d->owner, &value);
                if (r >= 0)
                        (void) np_ping_parse(value, strlen(value), &d->info);
                else
                        log_debug_errno(r, "Cannot read device_info of %s%s: %m", d->name, d->owner);
        }
        return 0;
}

int sshnp_list_devices(const SshnpArgs *a) {
        NpClientOptions co = {
                .program = "sshnp", .atsign = a->from, .root_server = a->root_server, .key_file = a->key_file,
                .ca_file = a->ca_file,
        };
        DeviceList l = {};
        NpClient c;
        uint64_t window = MIN((uint64_t) a->daemon_ping_timeout * 1000000ULL, LIST_WINDOW_MAX_USEC);
        int r;

        r = np_client_open(&c, &co);
        if (r >= 0)
                r = collect(&c, a, &l);
        if (r >= 0 && l.n == 0) {
                fprintf(stderr, "sshnp: no devices found: no device_info shared with %s%s%s\n", a->from,
                        a->to ? " by " : "", a->to ?: "");
                r = -ENOENT;
        }
        if (r >= 0)
                r = np_client_monitor(&c, "heartbeat\\.", on_heartbeat, &l);
        for (size_t i = 0; r >= 0 && i < l.n; i++) {
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "ping.%s.sshnp", l.items[i].name) < 0)
                        r = -ENOMEM;
                else
                        (void) np_client_notify(&c, l.items[i].owner, key, "ping");
        }
        if (r >= 0) {
                r = np_client_wait(&c, all_answered, &l, window);
                if (r == -ETIMEDOUT)
                        r = 0;
        }
        if (r >= 0)
                print_report(&l);
        device_list_done(&l);
        np_client_close(&c);
        return r;
}
