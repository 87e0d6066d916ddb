/* SPDX-License-Identifier: BSD-3-Clause */
/* What reaches the log of a daemon when a peer's text is part of the message. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "tests.h"

/* Logs one message with stderr redirected to a file; returns what was written. */
static char *logged(const char *peer_text) {
        char path[] = "/tmp/test-log-XXXXXX";
        static char out[4096];
        int fd = mkstemp(path), saved = dup(STDERR_FILENO);
        ssize_t n;

        ASSERT_TRUE(fd >= 0 && saved >= 0);
        fflush(stderr);
        ASSERT_TRUE(dup2(fd, STDERR_FILENO) >= 0);
        log_info("root lookup atsign=%s peer=127.0.0.1:1", peer_text);
        fflush(stderr);
        ASSERT_TRUE(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        n = pread(fd, out, sizeof out - 1, 0);
        ASSERT_TRUE(n > 0);
        out[n] = 0;
        close(fd);
        unlink(path);
        return out;
}

TEST(peer_text_cannot_forge_lines_or_escape_the_terminal) {
        const char *out = logged("@x\nsshnpd: authenticated atsign=@admin\r\x1b[2K\x7f");
        /* one line, the newline at its end only */
        ASSERT_TRUE(strchr(out, '\n') == out + strlen(out) - 1);
        ASSERT_TRUE(!strchr(out, '\r') && !strchr(out, '\x1b') && !strchr(out, '\x7f'));
        ASSERT_TRUE(strstr(out, "atsign=@x?sshnpd: authenticated atsign=@admin??[2K? peer=127.0.0.1:1"));
}

TEST(ordinary_text_is_unchanged) {
        ASSERT_TRUE(strstr(logged("@alice üñí"), "atsign=@alice üñí peer=127.0.0.1:1\n"));
}

int main(void) {
        log_setup("test-log");
        log_set_journal(0);
        RUN(peer_text_cannot_forge_lines_or_escape_the_terminal);
        RUN(ordinary_text_is_unchanged);
        return 0;
}
