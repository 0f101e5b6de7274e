/* json.h — a streaming JSON writer into a capped buffer.
 *
 * Values are written in document order; the writer places the commas and
 * colons. Strings are escaped as RFC 8259 asks: '"', '\\' and every control
 * character (U+0000..U+001F: \b \f \n \r \t, else \u00XX); valid UTF-8
 * passes through unchanged (U+2028 and U+2029 too, as cJSON wrote them);
 * a byte that is not part of valid UTF-8 becomes U+FFFD.
 *
 * Errors are sticky: the first failure (memory ran out, the text would pass
 * the cap, or a call out of place such as a value in an object without a
 * key) is kept, every later call does nothing, and json_finish() answers
 * NULL. So a caller writes a whole document and checks once, at the end;
 * a truncated document is never handed out. */
#ifndef DWELL_BASE_JSON_H
#define DWELL_BASE_JSON_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32      /* nesting of objects and arrays */

enum json_error {
    JSON_OK = 0,
    JSON_EBUF,                 /* memory ran out or the text would pass
                                  the cap */
    JSON_EMISUSE               /* a call out of place (a bug of the caller) */
};

/* A writer. Its fields are private: use the functions below. */
struct json {
    struct buf b;              /* the text, owned */
    enum json_error err;
    unsigned depth;
    bool want_value;           /* a key was written: its value comes next */
    bool done;                 /* a whole top-level value was written */
    uint8_t level[JSON_MAX_DEPTH]; /* per open level: JSON_LEVEL_* bits */
};

/* Starts an empty writer whose text may grow to MAX bytes (the NUL not
 * counted). Allocates nothing until the first write. */
void json_init(struct json *j, size_t max);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);

/* The key of the next member of the open object. */
void json_key(struct json *j, const char *key);

/* S as a JSON string; a NULL S is written as null. */
void json_string(struct json *j, const char *s);

/* The N bytes at S as a JSON string (NULs escaped, not ends). */
void json_string_n(struct json *j, const char *s, size_t n);

void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);

/* V as the shorter of "%.15g" and "%.17g" that reads back as exactly V,
 * integers below 1e15 without a fraction or exponent: cJSON's format (which
 * the reports kept), except that cJSON let "%.15g" be one ulp off. null
 * when V is NaN or infinite. */
void json_double(struct json *j, double v);

void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* A member in one call: json_key(J, KEY) and then the value. */
void json_key_string(struct json *j, const char *key, const char *s);
void json_key_int(struct json *j, const char *key, int64_t v);
void json_key_uint(struct json *j, const char *key, uint64_t v);
void json_key_bool(struct json *j, const char *key, bool v);

/* Ends the top-level value with a newline, so another may follow (one
 * value per line, NDJSON). */
void json_newline(struct json *j);

/* The first error, or JSON_OK. */
enum json_error json_error(const struct json *j);

/* Hands over the text: a NUL-terminated string the caller frees with
 * free(), its length in *LEN when LEN is not NULL. Returns NULL when any
 * error happened, when an object or array is still open, or when nothing
 * was written; the writer's memory is released either way and J may be
 * started again with json_init(). */
char *json_finish(struct json *j, size_t *len);

/* Releases J's memory without handing out the text. */
void json_free(struct json *j);

#endif
