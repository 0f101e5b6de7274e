/* log.h — one line per message on standard error, with a UTC timestamp and
 * a level, as text ("TS LEVEL MSG k=v …", the default) or as one JSON
 * object per line ({"ts":…,"level":…,"msg":…, fields…}). Thread-safe (one
 * write(2) per line). */
#ifndef DWELL_LOG_H
#define DWELL_LOG_H

#include <stddef.h>
#include <stdint.h>

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

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Every line from now on in format F. Call before threads start. */
void log_set_format(enum log_format f);

/* Reads "text" or "json" into *OUT; returns 0, or -1 for anything else. */
int log_format_parse(const char *s, enum log_format *out);

enum log_level { LOG_INFO, LOG_WARN, LOG_ERROR };

/* One member of a structured line. */
enum log_kind { LOG_KIND_STR, LOG_KIND_INT, LOG_KIND_REAL };
struct log_field {
    const char *key;          /* [a-z_]+, never "ts", "level" or "msg" */
    enum log_kind kind;
    const char *str;          /* LOG_KIND_STR; NULL: the field is left out */
    int64_t num;              /* LOG_KIND_INT */
    double real;              /* LOG_KIND_REAL, printed with 3 decimals */
};

#define LOG_STR(k, v) ((struct log_field){ (k), LOG_KIND_STR, (v), 0, 0 })
#define LOG_INT(k, v) \
    ((struct log_field){ (k), LOG_KIND_INT, NULL, (int64_t)(v), 0 })
#define LOG_REAL(k, v) \
    ((struct log_field){ (k), LOG_KIND_REAL, NULL, 0, (double)(v) })

/* The longest line written; a longer one is cut (as JSON: its fields
 * dropped, so that the line stays one valid object). */
#define LOG_LINE_MAX 2048

/* A line of LEVEL with MSG and the N fields F. As text, fields follow MSG
 * as key=value, a value holding a space, '"', '=', '\\' or a control
 * character quoted with C escapes; as JSON, they are members after "msg".
 * ALWAYS: printed even when quiet (an access log a flag asked for). */
void log_fields(enum log_level level, int always, const char *msg,
                const struct log_field *f, size_t n);

#endif
