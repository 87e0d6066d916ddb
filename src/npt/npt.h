/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "args.h"

/* npt: forwards a local port to host:port on the device's side (spec §2.2, §4; upstream
 * sshnoports bin/npt.dart, noports_core npt/npt_impl.dart). With -x the local port is printed on
 * stdout and srv keeps running on its own; otherwise npt stays until srv ends (or a signal),
 * and with -K starts a new session on the same port 5 s later. 0, or -errno (printed). */
int npt_run(const NptArgs *a);
