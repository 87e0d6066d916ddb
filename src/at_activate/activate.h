/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "client.h"
#include "keys_file.h"
#include "options.h"

/* The sub-commands. Each logs its own one-line errors and returns 0 or -errno, except
 * activate_status() which returns its exit code. */
int activate_onboard(const ActivateOptions *o);
int activate_enroll(const ActivateOptions *o);
int activate_status(const ActivateOptions *o);
int activate_otp(const ActivateOptions *o);
int activate_spp(const ActivateOptions *o);
int activate_list(const ActivateOptions *o);
int activate_fetch(const ActivateOptions *o);
int activate_approve(const ActivateOptions *o);
int activate_deny(const ActivateOptions *o);
int activate_revoke(const ActivateOptions *o);

/* session.c: connections and commands shared by the sub-commands */

/* Connects to the atSign's atServer: PKAM with keys, CRAM with cram_secret, or neither. */
int activate_connect(const ActivateOptions *o, const AtKeys *keys, const char *cram_secret, AtClient **ret);
/* Loads the keys file (-k or the default path) and checks it belongs to the atSign. */
int activate_load_keys(const ActivateOptions *o, AtKeys **ret);
/* The keys file must not exist and its directory must be creatable; checked before anything is
 * sent, since a CRAM secret or an OTP is single-use. */
int activate_prepare_keys_path(const char *path);
/* Sends one command; returns the "data:" text, or logs "Failed to <what> ...: <server error>"
 * and returns -errno. */
int activate_send(AtClient *client, const char *what, const char *command, char **ret_data);
