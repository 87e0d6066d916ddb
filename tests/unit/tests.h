/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* A minimal test harness: each test is a function; a failed check prints file:line and the
 * expression and aborts the test program (non-zero exit), which meson reports. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT_TRUE(expr)                                                                      \
        do {                                                                                   \
                if (!(expr)) {                                                                 \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                               \
                }                                                                              \
        } while (0)

#define ASSERT_OK(expr)                                                                        \
        do {                                                                                   \
                long _r = (long) (expr);                                                       \
                if (_r < 0) {                                                                  \
                        fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, strerror((int) -_r)); \
                        abort();                                                               \
                }                                                                              \
        } while (0)

#define ASSERT_ERR(expr, err)                                                                  \
        do {                                                                                   \
                long _r = (long) (expr);                                                       \
                if (_r != (long) (err)) {                                              \
                        fprintf(stderr, "%s:%d: %s returned %ld, expected %ld (%s)\n", __FILE__, __LINE__, #expr, _r, (long) (err), #err); \
                        abort();                                                               \
                }                                                                              \
        } while (0)

#define ASSERT_FAIL(expr)                                                                      \
        do {                                                                                   \
                long _r = (long) (expr);                                                       \
                if (_r >= 0) {                                                                 \
                        fprintf(stderr, "%s:%d: %s unexpectedly succeeded\n", __FILE__, __LINE__, #expr); \
                        abort();                                                               \
                }                                                                              \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                     \
        do {                                                                                   \
                const char *_a = (a), *_b = (b);                                               \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                       \
                        fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, _a ? _a : "(null)", _b ? _b : "(null)"); \
                        abort();                                                               \
                }                                                                              \
        } while (0)

#define ASSERT_MEMEQ(a, b, n) ASSERT_TRUE(memcmp((a), (b), (n)) == 0)

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                                              \
        do {                                                                                   \
                fprintf(stderr, "== %s\n", #name);                                             \
                test_##name();                                                                 \
        } while (0)
