/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

/* Logging: structured journal entries when stderr is connected to the journal (JOURNAL_STREAM),
 * plain readable lines on a terminal. Extra fields such as "NOPORTS_SESSION=..." are passed as a
 * NULL-terminated list of "KEY=value" strings. Never pass secrets. */

void log_setup(const char *program);
void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_journal(int enabled); /* force journal (1) or stderr (0); default: autodetect */

/* Returns -abs(error) if error != 0, else 0, so that callers can write `return log_error_errno(r, ...)`.
 * "%m" in format is replaced by strerror(error). */
int log_internal(int level, int error, const char *const *fields, const char *format, ...) _printf_(4, 5);
int log_internalv(int level, int error, const char *const *fields, const char *format, va_list ap);

#define log_full_errno(level, error, ...) log_internal((level), (error), NULL, __VA_ARGS__)
#define log_full(level, ...) log_internal((level), 0, NULL, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/* With structured fields: log_fields(LOG_INFO, 0, FIELDS("NOPORTS_SESSION=abc"), "Session %s up", id) */
#define FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define log_fields(level, error, fields, ...) log_internal((level), (error), (fields), __VA_ARGS__)

int log_oom_internal(const char *func);
#define log_oom() log_oom_internal(__func__)
