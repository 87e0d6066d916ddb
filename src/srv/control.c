/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>

#include "control.h"
#include "secure.h"

void control_message_done(ControlMessage *m) {
        session_key_free(m->c2d);
        session_key_free(m->d2c);
        m->c2d = m->d2c = NULL;
}

int control_parse(const char *text, size_t size, ControlMessage *ret) {
        char *fields[6] = {};
        char *copy, *p;
        size_t n = 0;
        int r = -EBADMSG;

        while (size > 0 && isspace((unsigned char) *text))
                text++, size--;
        while (size > 0 && isspace((unsigned char) text[size - 1]))
                size--;
        if (size == 0 || size >= CONTROL_MAX_LINE)
                return -EBADMSG;
        copy = at_secure_strndup(text, size); /* holds keys */
        if (!copy)
                return -ENOMEM;
        for (p = copy; n < ELEMENTSOF(fields); n++) {
                fields[n] = p;
                p = strchr(p, ':');
                if (!p) {
                        n++;
                        break;
                }
                *p++ = '\0';
        }
        if (p) /* more than six fields */
                goto out;

        *ret = (ControlMessage) {};
        if (n == 2 && streq(fields[0], "heartbeat")) {
                ret->kind = CONTROL_HEARTBEAT;
                r = 0;
        } else if (!streq(fields[0], "connect"))
                r = -EBADMSG;
        else if (n == 3 && streq(fields[1], "no") && streq(fields[2], "encrypt")) {
                ret->kind = CONTROL_CONNECT_CLEAR;
                r = 0;
        } else if (n == 3 || n == 5) {
                ret->kind = CONTROL_CONNECT_KEYS;
                r = session_key_from_base64(fields[1], fields[2], &ret->c2d);
                if (r >= 0 && n == 5)
                        r = session_key_from_base64(fields[3], fields[4], &ret->d2c);
                if (r < 0) {
                        control_message_done(ret);
                        r = r == -ENOMEM ? r : -EBADMSG;
                }
        }
out:
        at_secure_free(copy);
        return r;
}

int control_format_connect(const SessionKey *c2d, const SessionKey *d2c, char **ret) {
        char *s = at_secure_alloc(2 * (SESSION_KEY_B64_LEN + SESSION_IV_B64_LEN) + 32);

        if (!s)
                return -ENOMEM;
        if (!c2d)
                strcpy(s, "connect:no:encrypt\n");
        else if (!d2c)
                sprintf(s, "connect:%s:%s\n", c2d->key_b64, c2d->iv_b64);
        else
                sprintf(s, "connect:%s:%s:%s:%s\n", c2d->key_b64, c2d->iv_b64, d2c->key_b64, d2c->iv_b64);
        *ret = s;
        return 0;
}

int control_reader_feed(ControlReader *r, const void *data, size_t size) {
        if (size > sizeof r->buf - r->size)
                return -EMSGSIZE;
        memcpy(r->buf + r->size, data, size);
        r->size += size;
        return 0;
}

int control_reader_next(ControlReader *r, char *out, size_t out_size, size_t *ret_size) {
        char *nl = memchr(r->buf, '\n', r->size);
        size_t take, consume;

        if (nl) {
                r->seen_newline = true;
                take = (size_t) (nl - r->buf);
                consume = take + 1;
        } else if (!r->seen_newline && r->size > 0 && r->size % CONTROL_LEGACY_SIZE == 0) {
                /* a pre-5.6.1 client: messages without newline, 77 bytes each */
                take = consume = CONTROL_LEGACY_SIZE;
        } else
                return 0;
        if (take >= out_size)
                return -EMSGSIZE;
        memcpy(out, r->buf, take);
        out[take] = '\0';
        memmove(r->buf, r->buf + consume, r->size - consume);
        r->size -= consume;
        explicit_bzero(r->buf + r->size, consume);
        *ret_size = take;
        return 1;
}
