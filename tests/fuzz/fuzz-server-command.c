/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: atserverd's command parser on arbitrary lines, and the key naming of
 * whatever it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "command.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        AtsCommand c;
        if (ats_command_parse((const char *) data, size, &c) >= 0) {
                char *key = NULL;
                (void) ats_verb_name(c.verb);
                if (c.key && ats_key_compose(&c, c.atsign ? "@owner" : NULL, &key) >= 0) {
                        (void) ats_key_is_hidden(key);
                        free(key);
                }
                /* every field the parser returns lies inside its own copy of the line */
                const char *fields[] = { c.atsign, c.key, c.value, c.for_atsign, c.regex, c.id, c.params };
                size_t len = size; /* tokens are NUL-terminated in place: bound by the input size */
                for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
                        if (fields[i] && (fields[i] < c.buf || fields[i] > c.buf + len))
                                __builtin_trap();
        }
        ats_command_done(&c);
        return 0;
}
