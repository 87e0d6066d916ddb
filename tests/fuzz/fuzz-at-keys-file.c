/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys_file.h"
#include "log.h"
#include "secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int initialized;
        AtKeys *keys = NULL;
        char *text = NULL;

        if (!initialized) {
                log_set_max_level(LOG_CRIT); /* parse errors are the normal case here */
                if (at_secure_init() < 0)
                        abort();
                initialized = 1;
        }

        if (at_keys_parse((const char *) data, size, &keys) < 0) {
                if (keys)
                        abort(); /* a failed parse must not hand anything out */
                return 0;
        }
        /* whatever parses must serialise again */
        if (at_keys_format(keys, &text) < 0)
                abort();
        at_secure_free(text);
        at_keys_free(keys);
        return 0;
}
