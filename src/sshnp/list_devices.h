/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "args.h"

/* sshnp --list-devices (spec §6.2): the device_info records shared with us (by -t, or by anyone),
 * a ping to each, and a report of the active and inactive devices with their version and
 * allowedServices. Returns 0, or -errno with the reason printed. */
int sshnp_list_devices(const SshnpArgs *a);

/* "[cached:][@me:]device_info.<dev>.sshnp@<owner>" -> dev and owner; -EINVAL for anything else. */
int device_info_key_parse(const char *key, char **ret_device, char **ret_owner);
