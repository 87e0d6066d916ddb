/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzzes what a hostile atServer controls on the client side: the line framing (small cap so
 * over-long lines are reached), response classification (prompts, data/error/notification,
 * JSON error bodies), root answers, and the JSON of llookup:all answers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conn.h"
#include "metadata.h"
#include "response.h"
#include "root.h"
#include "verbs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const char *line, size_t size) {
        AtResponse *r = NULL;
        if (at_response_parse(line, size, &r) < 0)
                return;
        const char *text;
        (void) at_response_data(r, &text);
        (void) at_error_code_describe(r->error_code);

        if (r->kind == AT_RESPONSE_DATA && r->text_size > 0 && r->text[0] == '{') {
                char *value = NULL;
                AtMetadata m = {};
                if (at_verb_parse_all(r->text, r->text_size, &value, &m) >= 0) {
                        char *rendered = NULL;
                        if (at_metadata_render(&m, &rendered) >= 0)
                                free(rendered);
                        at_metadata_done(&m);
                        free(value);
                }
        }
        if (r->kind == AT_RESPONSE_OTHER) {
                char *host = NULL;
                uint16_t port;
                if (at_root_parse_answer(r->text, &host, &port) >= 0)
                        free(host);
        }
        at_response_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        AtLineBuffer b;
        const char *line;
        size_t n;
        int k;

        /* the first byte picks how the input is cut into reads */
        size_t chunk = size > 0 ? (size_t) data[0] % 64 + 1 : 1;
        at_line_buffer_init(&b, 4096);
        for (size_t off = size > 0 ? 1 : 0; off < size; off += chunk) {
                if (at_line_buffer_append(&b, data + off, MIN(chunk, size - off)) < 0)
                        break;
                while ((k = at_line_buffer_next(&b, &line, &n)) > 0) {
                        if (strlen(line) > n)
                                __builtin_trap(); /* the line must be NUL-terminated at its end */
                        one_line(line, n);
                }
                if (k < 0)
                        break; /* over-long: the connection would be closed */
        }
        at_line_buffer_done(&b);
        return 0;
}
