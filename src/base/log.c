/* log.c — see log.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/log.h"
#include "base/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int log_quiet;

void log_set_quiet(int quiet)
{
    log_quiet = quiet;
}

static DWELL_PRINTF(2, 0) void log_line(const char *level, const char *fmt,
                                         va_list ap)
{
    char line[1024];

    time_format_iso8601_s(time_now_us(), line);
    line[TIME_ISO_S_LEN - 1] = ' ';
    int n = TIME_ISO_S_LEN;
    int m = snprintf(line + n, sizeof line - (size_t)n, "%s ", level);
    if (m > 0)
        n += m;
    m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void log_info(const char *fmt, ...)
{
    if (log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line("info", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("warn", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("error", fmt, ap);
    va_end(ap);
}
