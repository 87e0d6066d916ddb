/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-event.h>

#include "server.h"

/* atserverd under a service manager: the root listener passed by socket activation, SIGHUP
 * reload of the hosted atSigns, and READY=/STATUS=/RELOADING= notifications. */

typedef struct AtsService AtsService;

/* Takes the root directory's listening socket passed by systemd (atserverd.socket), made
 * non-blocking, as s->root_fd: 1, or 0 when none was passed. More than one socket, or one that
 * is not a listening stream socket, is an error. Unless keep_listen_addr, the secondaries listen
 * on the socket's address (s->listen_addr). */
int ats_service_take_root_socket(AtsServer *s, bool keep_listen_addr);

/* After ats_server_start(): handles SIGHUP (ats_server_reload), keeps STATUS= current and
 * reports READY=1. */
int ats_service_start(AtsServer *s, AtsService **ret);
AtsService *ats_service_free(AtsService *svc);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtsService *, ats_service_free);

/* server.c: starts serving the atSigns registered in the store since the last (re)load, and
 * publishes them in the directory file; the number added, or -errno if one failed (the
 * others are served). */
int ats_server_reload(AtsServer *s);
/* ats_server_find_hosted(), and for an unknown atSign, a reload (at most once a second) so
 * that an atSign just added with --add-atsign is found by the root without SIGHUP */
AtsHosted *ats_server_find_hosted_or_load(AtsServer *s, const char *atsign);
