/* json.c — see json.h. */
#include "base/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

#define LEVEL_OBJECT 1u        /* the level is an object (else an array) */
#define LEVEL_ITEMS  2u        /* it holds an item: the next needs a comma */

void json_init(struct json *j, size_t max)
{
    memset(j, 0, sizeof *j);
    buf_init(&j->b, max);
}

/* Records the first error; returns false so callers can `return fail()`. */
static bool fail(struct json *j, enum json_error e)
{
    if (j->err == JSON_OK)
        j->err = e;
    return false;
}

/* Writes N bytes, noting a buffer failure as the writer's error. */
static void put(struct json *j, const char *s, size_t n)
{
    buf_put(&j->b, s, n);
    if (buf_failed(&j->b))
        fail(j, JSON_EBUF);
}

/* Checks that a value may be written here and writes the comma before it.
 * Returns false (nothing written) when the writer failed or a value is out
 * of place: in an object without a key, or after a finished document. */
static bool value_start(struct json *j)
{
    if (j->err != JSON_OK)
        return false;
    if (j->depth == 0)
        return j->done ? fail(j, JSON_EMISUSE) : true;
    uint8_t *lv = &j->level[j->depth - 1];
    if (*lv & LEVEL_OBJECT) {
        if (!j->want_value)
            return fail(j, JSON_EMISUSE);
        j->want_value = false;
        return true;
    }
    if (*lv & LEVEL_ITEMS)
        put(j, ",", 1);
    *lv |= LEVEL_ITEMS;
    return j->err == JSON_OK;
}

/* Notes that a value ended; at the top level the document is complete. */
static void value_end(struct json *j)
{
    if (j->depth == 0)
        j->done = true;
}

static void open_level(struct json *j, uint8_t kind, char c)
{
    if (!value_start(j))
        return;
    if (j->depth == JSON_MAX_DEPTH) {
        fail(j, JSON_EMISUSE);
        return;
    }
    j->level[j->depth++] = kind;
    put(j, &c, 1);
}

static void close_level(struct json *j, uint8_t kind, char c)
{
    if (j->err != JSON_OK)
        return;
    if (j->depth == 0 || j->want_value ||
        (j->level[j->depth - 1] & LEVEL_OBJECT) != kind) {
        fail(j, JSON_EMISUSE);
        return;
    }
    j->depth--;
    put(j, &c, 1);
    value_end(j);
}

void json_object_begin(struct json *j)
{
    open_level(j, LEVEL_OBJECT, '{');
}

void json_object_end(struct json *j)
{
    close_level(j, LEVEL_OBJECT, '}');
}

void json_array_begin(struct json *j)
{
    open_level(j, 0, '[');
}

void json_array_end(struct json *j)
{
    close_level(j, 0, ']');
}

/* Writes S[0..N) quoted and escaped (see json.h). */
static void put_quoted(struct json *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;            /* start of the bytes not yet written */
    put(j, "\"", 1);
    for (size_t i = 0; i < n && j->err == JSON_OK;) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = "\\u00";
        const char *out = esc;
        size_t len = 2, step = 1;
        uint32_t cp;
        if (c == '"' || c == '\\')
            esc[1] = (char)c;
        else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
                 c == '\t')
            esc[1] = c == '\b' ? 'b' : c == '\f' ? 'f' : c == '\n' ? 'n'
                   : c == '\r' ? 'r' : 't';
        else if (c < 0x20)
            esc[4] = hex[c >> 4], esc[5] = hex[c & 15], len = 6;
        else if (c < 0x80 || (step = utf8_decode(s + i, n - i, &cp)) > 0) {
            i += c < 0x80 ? 1 : step;
            continue;          /* passes through as it is */
        } else
            out = "\xEF\xBF\xBD", len = 3, step = 1;   /* U+FFFD */
        put(j, s + run, i - run);
        put(j, out, len);
        i += step;
        run = i;
    }
    put(j, s + run, n - run);
    put(j, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
    if (j->err != JSON_OK)
        return;
    if (j->depth == 0 || j->want_value ||
        !(j->level[j->depth - 1] & LEVEL_OBJECT)) {
        fail(j, JSON_EMISUSE);
        return;
    }
    uint8_t *lv = &j->level[j->depth - 1];
    if (*lv & LEVEL_ITEMS)
        put(j, ",", 1);
    *lv |= LEVEL_ITEMS;
    put_quoted(j, key, strlen(key));
    put(j, ":", 1);
    j->want_value = true;
}

void json_string_n(struct json *j, const char *s, size_t n)
{
    if (!value_start(j))
        return;
    put_quoted(j, s, n);
    value_end(j);
}

void json_string(struct json *j, const char *s)
{
    if (s == NULL)
        json_null(j);
    else
        json_string_n(j, s, strlen(s));
}

/* Writes the literal or number text S as one value. */
static void put_value(struct json *j, const char *s, size_t n)
{
    if (!value_start(j))
        return;
    put(j, s, n);
    value_end(j);
}

void json_int(struct json *j, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRId64, v);
    put_value(j, t, (size_t)n);
}

void json_uint(struct json *j, uint64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRIu64, v);
    put_value(j, t, (size_t)n);
}

void json_double(struct json *j, double v)
{
    char t[32];
    int n;
    if (isnan(v) || isinf(v)) {
        put_value(j, "null", 4);
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15)
        n = snprintf(t, sizeof t, "%.0f", v);
    else {
        n = snprintf(t, sizeof t, "%1.15g", v);
        if (strtod(t, NULL) != v)
            n = snprintf(t, sizeof t, "%1.17g", v);
    }
    put_value(j, t, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
    put_value(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
    put_value(j, "null", 4);
}

void json_key_string(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_string(j, s);
}

void json_key_int(struct json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_int(j, v);
}

void json_key_uint(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_uint(j, v);
}

void json_key_bool(struct json *j, const char *key, bool v)
{
    json_key(j, key);
    json_bool(j, v);
}

void json_newline(struct json *j)
{
    if (j->err != JSON_OK)
        return;
    if (!j->done) {
        fail(j, JSON_EMISUSE);
        return;
    }
    put(j, "\n", 1);
    j->done = false;
}

enum json_error json_error(const struct json *j)
{
    return j->err;
}

char *json_finish(struct json *j, size_t *len)
{
    bool whole = j->depth == 0 && (j->done || j->b.n > 0);
    if (j->err != JSON_OK || !whole) {
        json_free(j);
        return NULL;
    }
    char *s = buf_take(&j->b, len);
    json_init(j, j->b.max);
    return s;
}

void json_free(struct json *j)
{
    size_t max = j->b.max;
    buf_free(&j->b);
    json_init(j, max);
}
