/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes data to path atomically: a temporary file in the same directory with the given mode,
 * write, fsync, rename, fsync of the directory. With replace=false an existing path is not
 * overwritten and -EEXIST is returned. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode, bool replace);

/* Reads a whole regular file, refusing anything larger than max_size (-EFBIG). The returned
 * buffer is NUL-terminated (not counted in *ret_size). */
int read_file_bounded(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* mkdir -p with the given mode for directories that are created. */
int mkdir_parents(const char *path, mode_t mode);
