/* SPDX-License-Identifier: BSD-3-Clause */
#include "ssh_command.h"

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

static int push(char ***l, const char *s) {
        return cli_strv_push(l, s);
}

static int push_options(char ***l, const char *item) {
        _cleanup_free_ char *copy = strdup(item);
        char *save = NULL, *w;
        bool first = true;
        int r;

        if (!copy)
                return -ENOMEM;
        for (w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                if (first && w[0] != '-' && (r = push(l, "-o")) < 0)
                        return r;
                first = false;
                if ((r = push(l, w)) < 0)
                        return r;
        }
        return 0;
}

int ssh_command_build(const SshCommandParams *p, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *target = NULL;
        const char *host = p->host ?: "localhost";
        char port[8];
        bool identity = p->identity_file && *p->identity_file;
        int r;

        if (p->local_port == 0 || host[0] == '-' || !*host || (p->remote_user && (!*p->remote_user ||
                                                                                   p->remote_user[0] == '-' ||
                                                                                   strpbrk(p->remote_user, "@ \t\n"))))
                return -EINVAL;
        for (const char *u = p->remote_user; u && *u; u++)
                if ((unsigned char) *u < 0x20 || *u == 0x7f)
                        return -EINVAL; /* the name comes from the device */
        snprintf(port, sizeof port, "%u", p->local_port);
        if ((r = push(&l, "ssh")) < 0 || (r = push(&l, "-p")) < 0 || (r = push(&l, port)) < 0)
                return r;
        if (identity && ((r = push(&l, "-o")) < 0 || (r = push(&l, "StrictHostKeyChecking=accept-new")) < 0 ||
                         (r = push(&l, "-o")) < 0 || (r = push(&l, "IdentitiesOnly=yes")) < 0))
                return r;
        for (char *const *o = p->local_ssh_options; o && *o; o++)
                if ((r = push_options(&l, *o)) < 0)
                        return r;
        if (p->remote_user ? asprintf(&target, "%s@%s", p->remote_user, host) < 0 : !(target = strdup(host)))
                return -ENOMEM;
        if ((r = push(&l, target)) < 0)
                return r;
        if (identity && ((r = push(&l, "-i")) < 0 || (r = push(&l, p->identity_file)) < 0))
                return r;
        for (char *const *c = p->remote_command; c && *c; c++)
                if ((r = push(&l, *c)) < 0)
                        return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static bool needs_quotes(const char *w) {
        if (!*w)
                return true;
        for (; *w; w++)
                if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') || (*w >= '0' && *w <= '9') ||
                      strchr("-_./=:@,+%", *w)))
                        return true;
        return false;
}

int ssh_command_format(char *const *argv, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        for (char *const *a = argv; a && *a; a++) {
                if (a != argv)
                        fputc(' ', f);
                if (!needs_quotes(*a)) {
                        fputs(*a, f);
                        continue;
                }
                fputc('\'', f);
                for (const char *c = *a; *c; c++)
                        if (*c == '\'')
                                fputs("'\\''", f);
                        else
                                fputc(*c, f);
                fputc('\'', f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
