/* SPDX-License-Identifier: BSD-3-Clause */
/* Limits on what a peer's regular expression may cost. scan, notify:list and monitor take a
 * POSIX ERE from the network and run it against every key on the single event loop. glibc
 * matches back-references by backtracking (exponential: "(.*)(.*)(.*)(.*)(.*)\5\4\3\2\1x" takes
 * minutes on a 60-byte key) and expands counted repetitions into automaton states, which nest
 * multiplicatively ("((a{1,100}){1,100}){1,100}" needs a gigabyte in regcomp). So
 * back-references are refused, and the states the pattern can expand to are estimated and
 * bounded before regcomp ever sees it. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

#define REGEX_MAX_LENGTH 512
#define REGEX_MAX_WEIGHT 20000U /* estimated automaton states */
#define REGEX_MAX_DEPTH 32

/* Skips a bracket expression starting at p ('['); returns the character after its ']' or NULL. */
static const char *skip_bracket(const char *p) {
        p++;
        if (*p == '^')
                p++;
        if (*p == ']') /* a leading ']' is literal */
                p++;
        while (*p && *p != ']') {
                if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                        const char *end = strstr(p + 2, (char[]) { p[1], ']', 0 });
                        if (!end)
                                return NULL;
                        p = end + 2;
                } else
                        p++;
        }
        return *p == ']' ? p + 1 : NULL;
}

/* Parses "{m}", "{m,}" or "{m,n}" at p; returns the largest count it allows and sets *end. */
static int parse_bound(const char *p, const char **end, unsigned long *ret) {
        char *e;
        unsigned long m, n;

        if (!isdigit((unsigned char) p[1]))
                return -EINVAL;
        m = strtoul(p + 1, &e, 10);
        n = m;
        if (*e == ',') {
                if (isdigit((unsigned char) e[1]))
                        n = strtoul(e + 1, &e, 10);
                else {
                        n = m + 1; /* "{m,}": m copies and a star */
                        e++;
                }
        }
        if (*e != '}' || n < m || n > RE_DUP_MAX)
                return -EINVAL;
        *end = e + 1;
        *ret = MAX(n, 1UL);
        return 0;
}

static unsigned long saturating_mul(unsigned long a, unsigned long b) {
        return b && a > ULONG_MAX / b ? ULONG_MAX : a * b;
}

static unsigned long saturating_add(unsigned long a, unsigned long b) {
        return a > ULONG_MAX - b ? ULONG_MAX : a + b;
}

int ats_regex_check(const char *pattern) {
        /* weight of the finished items of each open group, and of the last item (what a
         * following repetition operator applies to) */
        unsigned long sum[REGEX_MAX_DEPTH + 1] = { 0 }, last[REGEX_MAX_DEPTH + 1] = { 0 };
        unsigned depth = 0;
        const char *p = pattern;

        if (strlen(pattern) > REGEX_MAX_LENGTH)
                return -E2BIG;
        while (*p) {
                unsigned long w = 1;
                switch (*p) {
                case '\\':
                        if (!p[1])
                                return -EINVAL;
                        if (isdigit((unsigned char) p[1]))
                                return -EPERM; /* back-reference */
                        p += 2;
                        break;
                case '[':
                        p = skip_bracket(p);
                        if (!p)
                                return -EINVAL;
                        break;
                case '(':
                        if (depth >= REGEX_MAX_DEPTH)
                                return -E2BIG;
                        sum[depth] = saturating_add(sum[depth], last[depth]);
                        last[depth] = 0;
                        depth++;
                        sum[depth] = last[depth] = 0;
                        p++;
                        continue;
                case ')':
                        if (depth == 0)
                                return -EINVAL;
                        w = saturating_add(saturating_add(sum[depth], last[depth]), 1);
                        depth--;
                        p++;
                        break;
                case '|':
                        sum[depth] = saturating_add(sum[depth], last[depth]);
                        last[depth] = 0;
                        p++;
                        continue;
                case '{': {
                        unsigned long n;
                        if (parse_bound(p, &p, &n) < 0)
                                return -EINVAL;
                        last[depth] = saturating_mul(last[depth], n);
                        if (last[depth] > REGEX_MAX_WEIGHT)
                                return -E2BIG;
                        continue;
                }
                case '*':
                case '+':
                case '?':
                        p++;
                        continue;
                default:
                        p++;
                        break;
                }
                /* a new item: the previous one is finished */
                sum[depth] = saturating_add(sum[depth], last[depth]);
                last[depth] = w;
                if (sum[depth] > REGEX_MAX_WEIGHT)
                        return -E2BIG;
        }
        if (depth != 0)
                return -EINVAL;
        return saturating_add(sum[0], last[0]) > REGEX_MAX_WEIGHT ? -E2BIG : 0;
}

int ats_regex_compile(regex_t *re, const char *pattern) {
        int r = ats_regex_check(pattern);
        if (r < 0)
                return r;
        return regcomp(re, pattern, REG_EXTENDED | REG_NOSUB) == 0 ? 0 : -EINVAL;
}

void ats_reply_bad_regex(AtsSession *ss, int error, const char *pattern) {
        if (error == -EINVAL) {
                ats_reply_error(ss, "AT0003", "Invalid regular expression. %s is not a valid regex", pattern);
                return;
        }
        log_notice("refused: costly regular expression atsign=%s peer=%s", ss->hosted ? ss->hosted->atsign : "-",
                   ats_conn_peer(ss->conn));
        ats_reply_error(ss, "AT0003", "Invalid regular expression. %s is %s", pattern,
                        error == -EPERM ? "not supported: back-references are not allowed"
                                        : "too complex");
}
