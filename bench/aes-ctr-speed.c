/* SPDX-License-Identifier: BSD-3-Clause */
/* Single-core AES-256-CTR throughput of our cipher (src/at/aes.c), 64 KiB pieces as srv uses:
 * the reference for the encrypted relay's target. Prints bytes per second. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aes.h"
#include "secure.h"

int main(int argc, char **argv) {
        double seconds = argc > 1 ? atof(argv[1]) : 2.0;
        static uint8_t buf[64 * 1024];
        uint8_t key[AT_AES_KEY_SIZE] = { 1 }, iv[AT_AES_IV_SIZE] = { 2 };
        AtAesCtr *ctr;
        struct timespec a, b;
        double elapsed;
        unsigned long long bytes = 0;

        if (at_secure_init() < 0 || at_aes_ctr_new(key, iv, &ctr) < 0)
                return 1;
        clock_gettime(CLOCK_MONOTONIC, &a);
        do {
                for (int i = 0; i < 256; i++)
                        at_aes_ctr_crypt(ctr, buf, buf, sizeof(buf));
                bytes += 256ULL * sizeof(buf);
                clock_gettime(CLOCK_MONOTONIC, &b);
                elapsed = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
        } while (elapsed < seconds);
        at_aes_ctr_free(ctr);
        printf("%.0f\n", (double) bytes / elapsed);
        return 0;
}
