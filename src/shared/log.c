/* SPDX-License-Identifier: BSD-3-Clause */
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

static const char *log_program = NULL;
static int log_max_level = LOG_INFO;
static int log_journal = -1; /* -1: autodetect */

void log_setup(const char *program) {
        log_program = program;
        const char *e = getenv("NOPORTS_LOG_LEVEL");
        if (e && *e >= '0' && *e <= '7' && e[1] == 0)
                log_max_level = *e - '0';
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

void log_set_journal(int enabled) {
        log_journal = enabled;
}

/* stderr is the journal if JOURNAL_STREAM names the device:inode of our stderr */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;
        unsigned long long dev, ino;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

static bool use_journal(void) {
        if (log_journal < 0)
                log_journal = stderr_is_journal();
        return log_journal > 0;
}

int log_internalv(int level, int error, const char *const *fields, const char *format, va_list ap) {
        int saved_errno = errno;
        int abs_error = error < 0 ? -error : error;
        char message[2048];

        if (level > log_max_level)
                return -abs_error;

        /* make %m refer to the error we were handed */
        errno = abs_error;
        vsnprintf(message, sizeof(message), format, ap);
        /* messages carry peers' text (atSigns, names, lines from the network): a newline or
         * terminal escape in it must not forge log lines or rewrite the operator's terminal */
        for (char *p = message; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';

        if (use_journal()) {
                struct iovec iov[40];
                char priority[32], errno_field[32];
                _cleanup_free_ char *msg = NULL;
                size_t n = 0;

                if (asprintf(&msg, "MESSAGE=%s", message) < 0)
                        goto stderr;
                snprintf(priority, sizeof(priority), "PRIORITY=%d", level);
                iov[n++] = (struct iovec){ msg, strlen(msg) };
                iov[n++] = (struct iovec){ priority, strlen(priority) };
                if (abs_error > 0) {
                        snprintf(errno_field, sizeof(errno_field), "ERRNO=%d", abs_error);
                        iov[n++] = (struct iovec){ errno_field, strlen(errno_field) };
                }
                for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
                        iov[n++] = (struct iovec){ (void *) fields[i], strlen(fields[i]) };
                if (sd_journal_sendv(iov, (int) n) >= 0)
                        goto done;
        }
stderr:
        if (log_program)
                fprintf(stderr, "%s: %s\n", log_program, message);
        else
                fprintf(stderr, "%s\n", message);
done:
        errno = saved_errno;
        return -abs_error;
}

int log_internal(int level, int error, const char *const *fields, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_internalv(level, error, fields, format, ap);
        va_end(ap);
        return r;
}

int log_oom_internal(const char *func) {
        return log_internal(LOG_ERR, ENOMEM, NULL, "Out of memory in %s().", func);
}
