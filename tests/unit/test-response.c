/* SPDX-License-Identifier: BSD-3-Clause */
#include "conn.h"
#include "response.h"
#include "tests.h"

static AtResponse *parse(const char *line) {
        AtResponse *r = NULL;
        ASSERT_OK(at_response_parse(line, strlen(line), &r));
        ASSERT_TRUE(r);
        return r;
}

TEST(data_with_and_without_prompts) {
        const char *lines[] = { "data:42", "@data:42", "@alice@data:42", "@@alice@data:42", "@alice@@data:42\r" };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                _cleanup_(at_response_freep) AtResponse *r = parse(lines[i]);
                ASSERT_TRUE(r->kind == AT_RESPONSE_DATA);
                ASSERT_STREQ(r->text, "42");
                ASSERT_TRUE(r->text_size == 2);
                ASSERT_TRUE(r->error == 0);
        }
}

TEST(data_keeps_colons_and_at_signs) {
        _cleanup_(at_response_freep) AtResponse *r = parse("@alice@data:_1b2c@alice:3f4e");
        ASSERT_TRUE(r->kind == AT_RESPONSE_DATA);
        ASSERT_STREQ(r->text, "_1b2c@alice:3f4e");
        _cleanup_(at_response_freep) AtResponse *e = parse("data:");
        ASSERT_TRUE(e->kind == AT_RESPONSE_DATA);
        ASSERT_STREQ(e->text, "");
}

TEST(error_forms) {
        _cleanup_(at_response_freep) AtResponse *a = parse("@alice@error:AT0015-key not found : foo@alice does not exist");
        ASSERT_TRUE(a->kind == AT_RESPONSE_ERROR);
        ASSERT_STREQ(a->error_code, "AT0015");
        ASSERT_TRUE(a->error == -ENOENT);
        ASSERT_STREQ(a->text, "key not found : foo@alice does not exist");

        _cleanup_(at_response_freep) AtResponse *b = parse("error:AT0401:Client authentication failed");
        ASSERT_STREQ(b->error_code, "AT0401");
        ASSERT_TRUE(b->error == -EACCES);
        ASSERT_STREQ(b->text, "Client authentication failed");

        _cleanup_(at_response_freep) AtResponse *c =
                parse("@error:{\"errorCode\":\"AT0003\",\"errorDescription\":\"Invalid syntax : x\"}");
        ASSERT_STREQ(c->error_code, "AT0003");
        ASSERT_TRUE(c->error == -EINVAL);
        ASSERT_STREQ(c->text, "Invalid syntax : x");

        _cleanup_(at_response_freep) AtResponse *d = parse("error:something went wrong");
        ASSERT_STREQ(d->error_code, "");
        ASSERT_TRUE(d->error == -EPROTO);
        ASSERT_STREQ(d->text, "something went wrong");

        /* JSON with wrong types: no code, still an error */
        _cleanup_(at_response_freep) AtResponse *f = parse("error:{\"errorCode\":15,\"errorDescription\":[]}");
        ASSERT_TRUE(f->kind == AT_RESPONSE_ERROR);
        ASSERT_STREQ(f->error_code, "");
        ASSERT_TRUE(f->error == -EPROTO);

        /* not a code: AT + letters */
        _cleanup_(at_response_freep) AtResponse *g = parse("error:ATABCD-x");
        ASSERT_STREQ(g->error_code, "");
        ASSERT_STREQ(g->text, "ATABCD-x");
}

TEST(error_code_mapping) {
        ASSERT_TRUE(at_error_code_to_errno("AT0015") == -ENOENT);
        ASSERT_TRUE(at_error_code_to_errno("AT0009") == -EACCES);
        ASSERT_TRUE(at_error_code_to_errno("AT0401") == -EACCES);
        ASSERT_TRUE(at_error_code_to_errno("AT0026") == -EACCES);
        ASSERT_TRUE(at_error_code_to_errno("AT0023") == -ETIMEDOUT);
        ASSERT_TRUE(at_error_code_to_errno("AT0003") == -EINVAL);
        ASSERT_TRUE(at_error_code_to_errno("AT9999") == -EPROTO);
        ASSERT_TRUE(at_error_code_to_errno(NULL) == -EPROTO);
        ASSERT_STREQ(at_error_code_describe("AT0015"), "key not found");
        ASSERT_TRUE(at_error_code_describe("AT9999") == NULL);
}

TEST(notification_lines) {
        _cleanup_(at_response_freep) AtResponse *r = parse("notification: {\"id\":\"1\"}");
        ASSERT_TRUE(r->kind == AT_RESPONSE_NOTIFICATION);
        ASSERT_STREQ(r->text, "{\"id\":\"1\"}");
        _cleanup_(at_response_freep) AtResponse *s = parse("@alice@notification:{}");
        ASSERT_TRUE(s->kind == AT_RESPONSE_NOTIFICATION);
        ASSERT_STREQ(s->text, "{}");
}

TEST(other_and_prompt_only) {
        _cleanup_(at_response_freep) AtResponse *a = parse("@alice@");
        ASSERT_TRUE(a->kind == AT_RESPONSE_OTHER);
        ASSERT_STREQ(a->text, "");
        _cleanup_(at_response_freep) AtResponse *b = parse("@");
        ASSERT_STREQ(b->text, "");
        _cleanup_(at_response_freep) AtResponse *c = parse("host.example:6464");
        ASSERT_TRUE(c->kind == AT_RESPONSE_OTHER);
        ASSERT_STREQ(c->text, "host.example:6464");
        _cleanup_(at_response_freep) AtResponse *d = parse("@alice hello@data:1");
        ASSERT_TRUE(d->kind == AT_RESPONSE_OTHER); /* a prompt has no blanks */
        _cleanup_(at_response_freep) AtResponse *e = parse("DATA:1");
        ASSERT_TRUE(e->kind == AT_RESPONSE_OTHER);
}

TEST(response_data_helper) {
        const char *t = NULL;
        _cleanup_(at_response_freep) AtResponse *a = parse("data:ok");
        ASSERT_OK(at_response_data(a, &t));
        ASSERT_STREQ(t, "ok");
        _cleanup_(at_response_freep) AtResponse *b = parse("error:AT0015-key not found");
        ASSERT_ERR(at_response_data(b, &t), -ENOENT);
        _cleanup_(at_response_freep) AtResponse *c = parse("notification: {}");
        ASSERT_ERR(at_response_data(c, &t), -EPROTO);
}

TEST(line_buffer_splits_and_caps) {
        AtLineBuffer b;
        const char *line;
        size_t size;

        at_line_buffer_init(&b, 16);
        ASSERT_OK(at_line_buffer_append(&b, "data:1\n@data:", 13));
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), 1);
        ASSERT_STREQ(line, "data:1");
        ASSERT_TRUE(size == 6);
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), 0);
        ASSERT_OK(at_line_buffer_append(&b, "2\n\n", 3));
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), 1);
        ASSERT_STREQ(line, "@data:2");
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), 1);
        ASSERT_TRUE(size == 0);
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), 0);

        /* exactly at the cap is fine, one more byte is not, with or without a newline yet */
        ASSERT_OK(at_line_buffer_append(&b, "0123456789abcdef\n", 17));
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), 1);
        ASSERT_TRUE(size == 16);
        ASSERT_OK(at_line_buffer_append(&b, "0123456789abcdefg", 17));
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), -EMSGSIZE);
        at_line_buffer_done(&b);

        at_line_buffer_init(&b, 16);
        ASSERT_OK(at_line_buffer_append(&b, "0123456789abcdefgh\n", 19));
        ASSERT_ERR(at_line_buffer_next(&b, &line, &size), -EMSGSIZE);
        at_line_buffer_done(&b);
}

TEST(line_buffer_byte_by_byte) {
        AtLineBuffer b;
        const char *in = "@data:abc\n@alice@error:AT0015-x\n";
        const char *line;
        size_t size;
        unsigned lines = 0;

        at_line_buffer_init(&b, 0);
        for (const char *p = in; *p; p++) {
                ASSERT_OK(at_line_buffer_append(&b, p, 1));
                int k;
                while ((k = at_line_buffer_next(&b, &line, &size)) > 0) {
                        lines++;
                        ASSERT_TRUE(strlen(line) == size);
                }
                ASSERT_OK(k);
        }
        ASSERT_TRUE(lines == 2);
        at_line_buffer_done(&b);
}

int main(void) {
        RUN(data_with_and_without_prompts);
        RUN(data_keeps_colons_and_at_signs);
        RUN(error_forms);
        RUN(error_code_mapping);
        RUN(notification_lines);
        RUN(other_and_prompt_only);
        RUN(response_data_helper);
        RUN(line_buffer_splits_and_caps);
        RUN(line_buffer_byte_by_byte);
        return 0;
}
