/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Small helpers for command-line parsing shared by the NoPorts programs. Every function takes
 * untrusted text (a user's command line or a config file) and returns -EINVAL on bad input. */

/* Replaces *field with a copy of value. */
int cli_set_string(char **field, const char *value);

/* Prints "<program>: invalid <what>: '<value>'" on stderr and returns -EINVAL. */
int cli_invalid(const char *program, const char *what, const char *value);

/* A TCP port: 1..65535, or 0..65535 with allow_zero ("let the kernel pick"). */
int cli_parse_port(const char *s, bool allow_zero, uint16_t *ret);

/* A non-negative integer no larger than max. */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *ret);

/* Appends the comma-separated items of value to the NULL-terminated list *list, trimming
 * whitespace and skipping empty items (Dart's multi-options split on commas the same way). */
int cli_strv_extend_comma(char ***list, const char *value);
/* Appends one string as is. */
int cli_strv_push(char ***list, const char *value);
size_t cli_strv_length(char *const *list);
/* Joins with sep; an empty or NULL list gives "". */
char *cli_strv_join(char *const *list, const char *sep);

/* An atSign as users type it ("alice", "@Alice") into canonical form: a leading '@', ASCII
 * lower case. Rejects empty names, whitespace, control characters, ':' and names longer
 * than 55 characters after the '@'. */
int cli_atsign_normalize(const char *s, char **ret);

/* Device names (upstream noports_core common/validation_utils.dart): lower-cased, each run
 * of whitespace replaced by '_', then [a-z0-9_][a-z0-9_-]{1,35}. */
int cli_device_name_normalize(const char *s, char **ret);

/* Durations in the human form of Dart's package:duration ("30s", "1h,14m,30s", "7d",
 * "500ms"); a bare number means seconds. Units: d h m s ms us. */
int cli_parse_duration(const char *s, uint64_t *ret_usec);

/* ~/.atsign/keys/@alice_key.atKeys for the given atSign (with '@'). */
int cli_default_keys_file(const char *atsign, char **ret);
