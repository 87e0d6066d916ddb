/* SPDX-License-Identifier: BSD-3-Clause */
/* Which regular expressions from the network atserverd agrees to run (src/atserverd/limits.c). */
#include <regex.h>

#include "server.h"
#include "tests.h"

TEST(ordinary_regexes_pass) {
        /* what sshnp, sshnpd, at_cli and the Dart SDK send */
        const char *ok[] = {
                "device_info\\..*\\.sshnp",
                "\\.sshnp@",
                ".*",
                "^public:.*@alice$",
                "[[:alnum:]_-]+\\.wavi",
                "[]a]{1,3}x",
                "(a|b)+c?",
                "k{70}@alice",
                "(.*){1,200}(.*){1,200}x",
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                regex_t re;
                fprintf(stderr, "  %s\n", ok[i]);
                ASSERT_OK(ats_regex_compile(&re, ok[i]));
                regfree(&re);
        }
}

TEST(back_references_are_refused) {
        ASSERT_ERR(ats_regex_check("(.*)(.*)(.*)(.*)(.*)\\5\\4\\3\\2\\1x"), -EPERM);
        ASSERT_ERR(ats_regex_check("(a)\\1"), -EPERM);
        /* an escaped backslash followed by a digit is a literal */
        ASSERT_OK(ats_regex_check("a\\\\1"));
}

TEST(nested_counted_repetition_is_refused) {
        ASSERT_ERR(ats_regex_check("((a{1,100}){1,100}){1,100}"), -E2BIG);
        ASSERT_ERR(ats_regex_check("(((.{1,50}){1,50}){1,50})x"), -E2BIG);
        ASSERT_ERR(ats_regex_check("a{30000}"), -E2BIG);
        ASSERT_ERR(ats_regex_check("(x{200}|y){100}z{10}"), -E2BIG);
}

TEST(malformed_and_long_are_refused) {
        regex_t re;
        char big[600];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        ASSERT_ERR(ats_regex_check(big), -E2BIG);
        ASSERT_ERR(ats_regex_check("(a"), -EINVAL);
        ASSERT_ERR(ats_regex_check("a)"), -EINVAL);
        ASSERT_ERR(ats_regex_check("[abc"), -EINVAL);
        ASSERT_ERR(ats_regex_check("a\\"), -EINVAL);
        ASSERT_ERR(ats_regex_check("a{2,1}"), -EINVAL);
        ASSERT_ERR(ats_regex_compile(&re, "a**{"), -EINVAL);
}

int main(void) {
        RUN(ordinary_regexes_pass);
        RUN(back_references_are_refused);
        RUN(nested_counted_repetition_is_refused);
        RUN(malformed_and_long_are_refused);
        return 0;
}
