/* SPDX-License-Identifier: BSD-3-Clause */
#include "permit_open.h"
#include "tests.h"

static PermitOpen *parse(const char *text) {
        PermitOpen *p = NULL;
        ASSERT_OK(permit_open_parse(text, &p));
        return p;
}

/* The cases of upstream packages/c/sshnpd/tests/test_permit_open.c */
TEST(star_star_allows_everything) {
        PermitOpen *p = parse("*:*");
        ASSERT_TRUE(permit_open_allows(p, "localhost", 22));
        ASSERT_TRUE(permit_open_allows(p, "123.123.123.123", 7878));
        ASSERT_TRUE(permit_open_allows(p, "foo.bar.com", 53));
        permit_open_free(p);
}

TEST(host_star_allows_any_port_of_that_host) {
        PermitOpen *p = parse("localhost:*");
        ASSERT_TRUE(permit_open_allows(p, "localhost", 22));
        ASSERT_TRUE(permit_open_allows(p, "localhost", 7878));
        ASSERT_TRUE(!permit_open_allows(p, "foo.bar.com", 53));
        permit_open_free(p);
}

TEST(star_port_allows_that_port_anywhere) {
        PermitOpen *p = parse("*:22");
        ASSERT_TRUE(permit_open_allows(p, "localhost", 22));
        ASSERT_TRUE(permit_open_allows(p, "123.123.123.123", 22));
        ASSERT_TRUE(!permit_open_allows(p, "foo.bar.com", 53));
        permit_open_free(p);
}

TEST(exact_entry_allows_only_itself) {
        PermitOpen *p = parse("localhost:22");
        ASSERT_TRUE(permit_open_allows(p, "localhost", 22));
        ASSERT_TRUE(!permit_open_allows(p, "123.123.123.123", 22));
        ASSERT_TRUE(!permit_open_allows(p, "localhost", 7878));
        /* textual: no resolution, no case folding */
        ASSERT_TRUE(!permit_open_allows(p, "127.0.0.1", 22));
        ASSERT_TRUE(!permit_open_allows(p, "LOCALHOST", 22));
        permit_open_free(p);
}

TEST(lists_and_default) {
        PermitOpen *p = parse("localhost:22, foo.bar.com:3389 ,[::1]:8080");
        ASSERT_TRUE(p->n_entries == 3);
        ASSERT_TRUE(permit_open_allows(p, "localhost", 22));
        ASSERT_TRUE(permit_open_allows(p, "foo.bar.com", 3389));
        ASSERT_TRUE(permit_open_allows(p, "[::1]", 8080));
        ASSERT_TRUE(!permit_open_allows(p, "foo.bar.com", 22));
        ASSERT_TRUE(!permit_open_allows(p, "localhost", 3389));
        ASSERT_TRUE(!permit_open_allows(p, "localhost", 0));
        ASSERT_TRUE(!permit_open_allows(p, "localhost", 70000));
        permit_open_free(p);

        p = parse(PERMIT_OPEN_DEFAULT);
        ASSERT_TRUE(permit_open_allows(p, "localhost", 22));
        ASSERT_TRUE(permit_open_allows(p, "localhost", 3389));
        ASSERT_TRUE(!permit_open_allows(p, "localhost", 80));
        permit_open_free(p);
}

TEST(bad_lists_are_refused) {
        const char *bad[] = { "", "localhost", "localhost:", ":22", "localhost:0", "localhost:65536", "localhost:22x",
                              "localhost:**", "a:22,,b:23", "local host:22", "localhost:-1", "localhost:+22" };
        PermitOpen *p = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (permit_open_parse(bad[i], &p) >= 0) {
                        fprintf(stderr, "accepted: '%s'\n", bad[i]);
                        ASSERT_TRUE(false);
                }
        }
}

TEST(entries_print_wildcards_as_star) {
        PermitOpen *p = parse("*:*,localhost:22,db:*");
        char *s = NULL;

        ASSERT_OK(permit_open_entry_to_string(p, 0, &s));
        ASSERT_STREQ(s, "*:*");
        free(s);
        ASSERT_OK(permit_open_entry_to_string(p, 1, &s));
        ASSERT_STREQ(s, "localhost:22");
        free(s);
        ASSERT_OK(permit_open_entry_to_string(p, 2, &s));
        ASSERT_STREQ(s, "db:*");
        free(s);
        ASSERT_ERR(permit_open_entry_to_string(p, 3, &s), -ENOENT);
        permit_open_free(p);
}

TEST(authoriser_entries_can_be_added) {
        PermitOpen *p = NULL;

        ASSERT_OK(permit_open_new(&p));
        ASSERT_TRUE(!permit_open_allows(p, "localhost", 22));
        ASSERT_OK(permit_open_add(p, "localhost:22"));
        ASSERT_FAIL(permit_open_add(p, "nonsense"));
        ASSERT_TRUE(permit_open_allows(p, "localhost", 22));
        permit_open_free(p);
}

int main(void) {
        RUN(star_star_allows_everything);
        RUN(host_star_allows_any_port_of_that_host);
        RUN(star_port_allows_that_port_anywhere);
        RUN(exact_entry_allows_only_itself);
        RUN(lists_and_default);
        RUN(bad_lists_are_refused);
        RUN(entries_print_wildcards_as_star);
        RUN(authoriser_entries_can_be_added);
        return 0;
}
