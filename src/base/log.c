/* log.c — see log.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/log.h"
#include "base/time.h"
#include "base/utf8.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int log_quiet;
static enum log_format log_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = { "info", "warn", "error" };

void log_set_quiet(int quiet)
{
    log_quiet = quiet;
}

void log_set_format(enum log_format f)
{
    log_format = f;
}

int log_format_parse(const char *s, enum log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

/* Writes the N bytes of LINE and a newline to standard error at once. */
static void log_write(char *line, size_t n, size_t cap)
{
    if (n > cap - 1)
        n = cap - 1;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

/* Appends S to LINE (length *N, capacity CAP, one byte kept for the
 * newline); what does not fit is dropped. */
static void put(char *line, size_t *n, size_t cap, const char *s, size_t len)
{
    if (*n + 1 >= cap)
        return;
    if (len > cap - 1 - *n)
        len = cap - 1 - *n;
    memcpy(line + *n, s, len);
    *n += len;
}

/* True when a text value must be quoted to read back as one value. */
static bool needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' ||
            *s == '\\' || *s == 0x7f)
            return true;
    return false;
}

/* Appends S as a text value: as it is, or quoted with C escapes. */
static void put_text_value(char *line, size_t *n, size_t cap, const char *s)
{
    if (!needs_quotes(s)) {
        put(line, n, cap, s, strlen(s));
        return;
    }
    put(line, n, cap, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[5];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(line, n, cap, esc, 2);
        } else if (c == '\n') {
            put(line, n, cap, "\\n", 2);
        } else if (c < ' ' || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            put(line, n, cap, esc, 4);
        } else {
            put(line, n, cap, (const char *)&c, 1);
        }
    }
    put(line, n, cap, "\"", 1);
}

/* The line as text: "TS LEVEL MSG k=v …". */
static void log_text(enum log_level level, const char *msg,
                     const struct log_field *f, size_t nf)
{
    char line[LOG_LINE_MAX + 1];
    size_t n = 0;
    char ts[TIME_ISO_S_LEN];
    time_format_iso8601_s(time_now_us(), ts);
    put(line, &n, sizeof line, ts, strlen(ts));
    put(line, &n, sizeof line, " ", 1);
    put(line, &n, sizeof line, level_names[level],
        strlen(level_names[level]));
    put(line, &n, sizeof line, " ", 1);
    put(line, &n, sizeof line, msg, strlen(msg));
    for (size_t i = 0; i < nf; i++) {
        char num[32];
        const char *v = f[i].str;
        if (f[i].kind == LOG_KIND_STR && v == NULL)
            continue;
        if (f[i].kind == LOG_KIND_INT) {
            snprintf(num, sizeof num, "%lld", (long long)f[i].num);
            v = num;
        } else if (f[i].kind == LOG_KIND_REAL) {
            snprintf(num, sizeof num, "%.3f", f[i].real);
            v = num;
        }
        put(line, &n, sizeof line, " ", 1);
        put(line, &n, sizeof line, f[i].key, strlen(f[i].key));
        put(line, &n, sizeof line, "=", 1);
        put_text_value(line, &n, sizeof line, v);
    }
    log_write(line, n, sizeof line);
}

/* Appends S as a JSON string: '"', '\\' and control characters escaped,
 * a byte that is not part of well-formed UTF-8 as U+FFFD. */
static void put_json_string(char *line, size_t *n, size_t cap, const char *s)
{
    size_t len = strlen(s);
    put(line, n, cap, "\"", 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(line, n, cap, esc, 2);
            i++;
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(line, n, cap, esc, 6);
            i++;
        } else if (c < 0x80) {
            put(line, n, cap, s + i, 1);
            i++;
        } else {
            size_t k = utf8_decode(s + i, len - i, &cp);
            put(line, n, cap, k ? s + i : "\xef\xbf\xbd", k ? k : 3);
            i += k ? k : 1;
        }
    }
    put(line, n, cap, "\"", 1);
}

/* Appends ,"KEY": and F's value. */
static void put_json_field(char *line, size_t *n, size_t cap,
                           const struct log_field *f)
{
    char num[40];
    put(line, n, cap, ",", 1);
    put_json_string(line, n, cap, f->key);
    put(line, n, cap, ":", 1);
    if (f->kind == LOG_KIND_STR) {
        put_json_string(line, n, cap, f->str);
        return;
    }
    if (f->kind == LOG_KIND_INT)
        snprintf(num, sizeof num, "%lld", (long long)f->num);
    else if (isfinite(f->real))
        snprintf(num, sizeof num, "%.3f", f->real);
    else
        snprintf(num, sizeof num, "null");
    put(line, n, cap, num, strlen(num));
}

/* The line as one JSON object. Whatever is cut, it stays one valid
 * object: fields that do not fit whole are dropped, and a message that
 * does not fit is cut first. */
static void log_json(enum log_level level, const char *msg,
                     const struct log_field *f, size_t nf)
{
    char line[LOG_LINE_MAX + 1];
    char ts[TIME_ISO_LEN];
    char cut[LOG_LINE_MAX / 8];
    size_t n = 0, cap = sizeof line - 1;       /* room for the '}' */
    time_format_iso8601(time_now_us(), ts);
    put(line, &n, cap, "{\"ts\":\"", 7);
    put(line, &n, cap, ts, strlen(ts));
    put(line, &n, cap, "\",\"level\":\"", 11);
    put(line, &n, cap, level_names[level], strlen(level_names[level]));
    put(line, &n, cap, "\",\"msg\":", 8);
    if (strlen(msg) * 6 + n + 2 >= cap) {       /* escaped, it may not fit */
        bool whole;
        size_t k = utf8_cut(msg, strlen(msg), sizeof cut - 1, &whole);
        memcpy(cut, msg, k);
        cut[k] = '\0';
        msg = cut;
    }
    put_json_string(line, &n, cap, msg);
    for (size_t i = 0; i < nf; i++) {
        if (f[i].kind == LOG_KIND_STR && f[i].str == NULL)
            continue;
        size_t before = n;
        put_json_field(line, &n, cap, &f[i]);
        if (n + 2 >= cap)                      /* maybe cut: drop it */
            n = before;
    }
    line[n++] = '}';
    log_write(line, n, sizeof line);
}

void log_fields(enum log_level level, int always, const char *msg,
                const struct log_field *f, size_t n)
{
    if (level == LOG_INFO && log_quiet && !always)
        return;
    if (log_format == LOG_FORMAT_JSON)
        log_json(level, msg, f, n);
    else
        log_text(level, msg, f, n);
}

static DWELL_PRINTF(2, 0) void log_line(enum log_level level,
                                         const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        return;
    log_fields(level, 0, msg, NULL, 0);
}

void log_info(const char *fmt, ...)
{
    if (log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_INFO, fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_WARN, fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_ERROR, fmt, ap);
    va_end(ap);
}
