/* SPDX-License-Identifier: BSD-3-Clause */
/* (not "features.h": that name is glibc's, and this directory is on the include path) */
#pragma once

#include "args.h"
#include "messages.h"

/* What this daemon tells clients it can do (ping answer, heartbeat, device_info), spec §5.5/§6.1.
 * Each feature is advertised only when the daemon really implements it; clients gate on these
 * booleans (upstream noports_core common/features.dart, DaemonFeature). */

/* The NpFeature bits that are true for a daemon started with args. */
unsigned sshnpd_features(const SshnpdArgs *args);
/* The NpFeature bits written into supportedFeatures (true or false). */
unsigned sshnpd_features_present(const SshnpdArgs *args);

/* The control-protocol version ("npCpVersion") that features honestly claims: the highest version
 * V such that every feature introduced at or before V is implemented, as "x.y.z"; NULL when not even
 * 1.0.0 is complete. Upstream reports the highest "since" of all its features, because it
 * implements them all; we lack one of 1.4.0 (supportsRamEscr), so we stop below it. */
const char *sshnpd_np_cp_version(unsigned implemented);
/* What this daemon implements at all (independent of configuration such as -s). */
unsigned sshnpd_features_implemented(const SshnpdArgs *args);

/* Whether a session answers with twin keys: the request asks for them (twinKeys:true, with
 * encryption) and the daemon has them enabled. Otherwise the baseline: one key both ways. */
bool sshnpd_twin_keys_for(const SshnpdArgs *args, const NpSessionRequest *req);
