/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <sys/stat.h>

#include "fs.h"
#include "macro.h"
#include "tests.h"

static char dir[] = "/tmp/test-fs-XXXXXX";

TEST(atomic_write_creates_0600_and_refuses_overwrite) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        struct stat st;
        size_t size;

        ASSERT_TRUE(asprintf(&path, "%s/keys", dir) > 0);
        ASSERT_OK(write_file_atomic(path, "secret", 6, 0600, false));
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE((st.st_mode & 0777) == 0600);
        ASSERT_ERR(write_file_atomic(path, "other", 5, 0600, false), -EEXIST);
        ASSERT_OK(read_file_bounded(path, 100, &data, &size));
        ASSERT_STREQ(data, "secret");
        ASSERT_TRUE(size == 6);
        free(data);
        ASSERT_OK(write_file_atomic(path, "other", 5, 0600, true));
        ASSERT_OK(read_file_bounded(path, 100, &data, &size));
        ASSERT_STREQ(data, "other");
        unlink(path);
}

TEST(read_refuses_oversized_and_non_regular) {
        _cleanup_free_ char *path = NULL, *data = NULL;

        ASSERT_TRUE(asprintf(&path, "%s/big", dir) > 0);
        ASSERT_OK(write_file_atomic(path, "0123456789", 10, 0644, true));
        ASSERT_ERR(read_file_bounded(path, 9, &data, NULL), -EFBIG);
        ASSERT_ERR(read_file_bounded(dir, 100, &data, NULL), -EBADF);
        ASSERT_ERR(read_file_bounded("/nonexistent/x", 100, &data, NULL), -ENOENT);
        unlink(path);
}

TEST(mkdir_parents_makes_nested_dirs) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        ASSERT_TRUE(asprintf(&path, "%s/a/b/c", dir) > 0);
        ASSERT_OK(mkdir_parents(path, 0700));
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode));
        ASSERT_OK(mkdir_parents(path, 0700));
}

int main(void) {
        ASSERT_TRUE(mkdtemp(dir));
        RUN(atomic_write_creates_0600_and_refuses_overwrite);
        RUN(read_refuses_oversized_and_non_regular);
        RUN(mkdir_parents_makes_nested_dirs);
        return 0;
}
