/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <stdint.h>

#include "notification.h"

/* The monitor's "notification: {json}" parser, and decryption of what it accepts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t key[AT_AES_KEY_SIZE] = { 1, 2, 3 };
        AtNotification *n = NULL;
        char *plain = NULL;

        if (at_notification_parse((const char *) data, size, &n) < 0)
                return 0;
        (void) at_notification_is_heartbeat(n);
        (void) at_notification_is_shared_key(n);
        if (at_notification_decrypt_value(n, key, &plain) >= 0)
                free(plain);
        at_notification_free(n);
        return 0;
}
