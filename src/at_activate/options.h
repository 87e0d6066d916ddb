/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "macro.h"

/* The sub-commands of at_activate, as upstream at_onboarding_cli names them
 * (at_onboarding_cli/lib/src/cli/auth_cli_args.dart). */
typedef enum ActivateCommand {
        ACTIVATE_ONBOARD,
        ACTIVATE_STATUS,
        ACTIVATE_OTP,
        ACTIVATE_SPP,
        ACTIVATE_ENROLL,
        ACTIVATE_LIST,
        ACTIVATE_FETCH,
        ACTIVATE_APPROVE,
        ACTIVATE_DENY,
        ACTIVATE_REVOKE,
        ACTIVATE_HELP,
        _ACTIVATE_COMMAND_MAX,
        _ACTIVATE_COMMAND_INVALID = -1,
} ActivateCommand;

/* Exit codes: 0 success, 1 failure; "status" has its own (see status.c). */
#define ACTIVATE_EXIT_FAILURE 1

typedef struct ActivateOptions {
        ActivateCommand command;
        char *atsign;            /* "@alice" */
        char *keys_file;         /* -k; default ~/.atsign/keys/@alice_key.atKeys where allowed */
        char *root_host;         /* -r / --root-domain */
        uint16_t root_port;
        char *ca_file;
        char *cram_secret;       /* -c (secure memory) */
        char *passcode;          /* enroll -s */
        char *app_name;          /* -p */
        char *device_name;       /* -d */
        char *namespaces;        /* -n "ns:rw,ns2:r" */
        char *enrollment_id;     /* -i */
        char *status_filter;     /* list -s */
        char *app_regex;         /* -A --arx: app names to act on (POSIX extended, searched) */
        char *device_regex;      /* -D --drx: device names to act on */
        uint64_t expiry_usec;    /* -e (otp passcode lifetime, enroll APKAM key lifetime) */
        bool has_expiry;
        bool force;              /* revoke --force: one's own enrollment */
        uint64_t poll_interval_usec; /* enroll: PKAM retry interval (upstream: 10 s) */
} ActivateOptions;

void activate_options_done(ActivateOptions *o);

const char *activate_command_to_string(ActivateCommand c);
ActivateCommand activate_command_from_string(const char *s);

/* Parses argv (argv[0] is the program). Returns 0 and fills o, 1 if help was printed (exit 0),
 * -EINVAL after printing a one-line error (exit 1). */
int activate_parse_argv(int argc, char *argv[], ActivateOptions *o);

void activate_help(void);

/* AtClientOptions for o: root, CA file; keys/CRAM are set by the caller. */
void activate_client_options(const ActivateOptions *o, AtClientOptions *ret);

/* Keys file path: -k, or the default for the atSign. */
int activate_keys_path(const ActivateOptions *o, char **ret);
