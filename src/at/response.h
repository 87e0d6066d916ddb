/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* One line from an atServer, classified. The server writes its prompt ("@" before
 * authentication, "@alice@" after) without a newline, so a response line may start with one or
 * more prompts: "@alice@data:42". at_response_parse() strips them. */

typedef enum AtResponseKind {
        AT_RESPONSE_DATA,         /* "data:<text>" */
        AT_RESPONSE_ERROR,        /* "error:<code>-<description>", "error:<code>:<message>", "error:{json}" */
        AT_RESPONSE_NOTIFICATION, /* "notification: <json>" (unsolicited, monitor connections) */
        AT_RESPONSE_OTHER,        /* anything else (text kept verbatim) */
} AtResponseKind;

#define AT_ERROR_CODE_MAX 16

typedef struct AtResponse {
        AtResponseKind kind;
        /* DATA: text after "data:"; NOTIFICATION: text after "notification:" without leading
         * blanks; ERROR: the server's message (may be empty); OTHER: the line verbatim, or "" if
         * it held nothing but prompts. */
        char *text;
        size_t text_size;
        /* ERROR only: "AT0015" (empty if the server gave none) and the mapped negative errno
         * (see at_error_code_to_errno); 0 for the other kinds. */
        char error_code[AT_ERROR_CODE_MAX];
        int error;
} AtResponse;

/* Parses one line (without its '\n'; a trailing '\r' is dropped). Only -ENOMEM fails. */
int at_response_parse(const char *line, size_t size, AtResponse **ret);
void at_response_free(AtResponse *response);
DEFINE_TRIVIAL_CLEANUP_FUNC(AtResponse *, at_response_free);

/* Returns the offset after any leading prompts ("@" or "@<atsign>@", repeated) that precede a
 * "data:", "error:" or "notification:" keyword; 0 if the line does not start with a prompt. */
size_t at_response_prompt_length(const char *line, size_t size);

/* AT#### -> negative errno: AT0015 key not found -> -ENOENT, AT0009/AT0401/AT0025..27
 * unauthorized/auth failed -> -EACCES, AT0003/AT0016/AT0022 bad syntax/key/argument -> -EINVAL,
 * AT0023 -> -ETIMEDOUT, AT0028 -> -EBUSY, AT0007 -> -ENXIO, ..., unknown -> -EPROTO. */
int at_error_code_to_errno(const char *code);
/* Short upstream description of a code ("key not found"), or NULL if unknown. */
const char *at_error_code_describe(const char *code);

/* The data of a DATA response, or the mapped error of anything else (-EPROTO for
 * OTHER/NOTIFICATION). Returns a pointer into response. */
int at_response_data(const AtResponse *response, const char **ret_text);
