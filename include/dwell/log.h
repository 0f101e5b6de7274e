/* log.h — one line per message on standard error, with a UTC timestamp and
 * a level. Thread-safe (one write(2) per line). */
#ifndef DWELL_LOG_H
#define DWELL_LOG_H

#if defined(__GNUC__)
#define DWELL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DWELL_PRINTF(a, b)
#endif

void log_info(const char *fmt, ...) DWELL_PRINTF(1, 2);
void log_warn(const char *fmt, ...) DWELL_PRINTF(1, 2);
void log_error(const char *fmt, ...) DWELL_PRINTF(1, 2);

/* Silences log_info (warnings and errors still print). */
void log_set_quiet(int quiet);

#endif
