/* jscan.c — see jscan.h. Moved from query/helpdesk.c; the lax reading
 * (cJSON's) added for the beacon parser. */
#include "base/jscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How one scan reads: RFC 8259, or cJSON 1.7's leniencies. */
struct mode {
    bool lax;
    int max_depth;
};

static const struct mode strict_mode = { false, JSCAN_MAX_DEPTH };
static const struct mode lax_mode = { true, JSCAN_LAX_MAX_DEPTH };

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

const char *jscan_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

const char *jscan_fail(struct jscan_err *err, const char *at,
                       const char *what)
{
    err->at = at;
    err->what = what;
    return NULL;
}

/* The first byte at or after P (before E) that is not white space for M:
 * in lax mode every byte up to 0x20 is. */
static const char *ws(const struct mode *m, const char *p, const char *e)
{
    if (!m->lax)
        return jscan_ws(p, e);
    while (p < e && (unsigned char)*p <= 0x20)
        p++;
    return p;
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The 16-bit code of the 4 hex digits at P, or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (!is_hex(c))
            return -1;
        v = v * 16 + (is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* The code point of the \u escape (or surrogate pair) at P, before E,
 * and its length in *LEN; -1 when the digits are not hex, the surrogate
 * is lone, or a pair is cut. */
static long unicode_escape(const char *p, const char *e, size_t *len)
{
    if (e - p < 6)
        return -1;
    long hi = hex4(p + 2);
    *len = 6;
    if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
        return -1;
    if (hi < 0xD800 || hi > 0xDBFF)
        return hi;
    if (e - p < 12 || p[6] != '\\' || p[7] != 'u')
        return -1;
    long lo = hex4(p + 8);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    *len = 12;
    return 0x10000 + ((hi & 0x3FF) << 10 | (lo & 0x3FF));
}

/* The first '"' or '\\' at or after P (before E), or E: memchr's speed
 * on the long runs of plain bytes strings are made of. */
static const char *quote_or_backslash(const char *p, const char *e)
{
    const char *q = memchr(p, '"', (size_t)(e - p));
    const char *b = memchr(p, '\\', (size_t)((q ? q : e) - p));
    return b ? b : q ? q : e;
}

/* Each returns the end of the value starting at P, or NULL with ERR. */
static const char *jstring(const struct mode *m, const char *p,
                           const char *e, struct jscan_err *err)
{
    for (p++; p < e;) {
        if (m->lax && (p = quote_or_backslash(p, e)) >= e)
            break;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            if (e - p < 2)
                break;
            char x = p[1];
            if (x == 'u') {
                size_t n;
                if (e - p < 6)
                    break;
                if (m->lax && unicode_escape(p, e, &n) < 0)
                    return jscan_fail(err, p, "bad \\u escape in a string");
                for (int i = 2; i < 6; i++)
                    if (!is_hex(p[i]))
                        return jscan_fail(err, p, "bad \\u escape in a string");
                p += m->lax ? n : 6;
            } else if (x == '"' || x == '\\' || x == '/' || x == 'b' ||
                       x == 'f' || x == 'n' || x == 'r' || x == 't') {
                p += 2;
            } else {
                return jscan_fail(err, p, "bad escape in a string");
            }
        } else if (c < 0x20 && !m->lax) {
            return jscan_fail(err, p, "control character in a string");
        } else {
            p++;
        }
    }
    return jscan_fail(err, e, "ends inside a string");
}

static const char *jdigits(const char *p, const char *e,
                           struct jscan_err *err)
{
    if (p >= e)
        return jscan_fail(err, e, "ends inside a number");
    if (!is_digit(*p))
        return jscan_fail(err, p, "bad number");
    while (p < e && is_digit(*p))
        p++;
    return p;
}

static const char *jnumber(const char *p, const char *e,
                           struct jscan_err *err)
{
    if (*p == '-')
        p++;
    if (p < e && *p == '0')
        p++;
    else if ((p = jdigits(p, e, err)) == NULL)
        return NULL;
    if (p < e && *p == '.' && (p = jdigits(p + 1, e, err)) == NULL)
        return NULL;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        p = jdigits(p, e, err);
    }
    return p;
}

static bool is_number_byte(char c)
{
    return is_digit(c) || c == '+' || c == '-' || c == 'e' || c == 'E' ||
           c == '.';
}

/* Reads the number at P as cJSON does: strtod over the run of
 * [0-9+-eE.] there, copied (on the stack, or for a run of 64 bytes or
 * more, the only case that allocates, on the heap). Returns the value and
 * sets *USED to the bytes strtod took, 0 when none. */
static double number_read(const char *p, const char *e, size_t *used)
{
    char small[64], *buf = small, *end;
    size_t n = 0, digits = 0;
    double v = 0;
    while (p + n < e && is_digit(p[n]) && digits < 15)   /* exact in a double */
        v = v * 10 + (p[n++] - '0'), digits++;
    if (n > 0 && (p + n >= e || !is_number_byte(p[n]))) {
        *used = n;                      /* a plain integer: strtod's value */
        return v;
    }
    while (p + n < e && is_number_byte(p[n]))
        n++;
    *used = 0;
    if (n >= sizeof small && (buf = malloc(n + 1)) == NULL)
        return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    double d = strtod(buf, &end);
    *used = (size_t)(end - buf);
    if (buf != small)
        free(buf);
    return d;
}

/* A number as cJSON reads it (number_read). */
static const char *jnumber_lax(const char *p, const char *e,
                               struct jscan_err *err)
{
    size_t used;
    number_read(p, e, &used);
    if (used == 0)
        return jscan_fail(err, p, "bad number");
    return p + used;
}

static const char *jliteral(const char *p, const char *e, const char *lit,
                            struct jscan_err *err)
{
    size_t n = strlen(lit), have = (size_t)(e - p);
    if (have < n && memcmp(p, lit, have) == 0)
        return jscan_fail(err, e, "ends inside a literal");
    if (have < n || memcmp(p, lit, n) != 0)
        return jscan_fail(err, p, "unexpected character");
    return p + n;
}

static const char *value(const struct mode *m, const char *p, const char *e,
                         int depth, struct jscan_err *err)
{
    p = ws(m, p, e);
    if (p >= e)
        return jscan_fail(err, e, depth == 0 ? "no value"
                                             : "ends before a value");
    switch (*p) {
    case '"':
        return jstring(m, p, e, err);
    case 't':
        return jliteral(p, e, "true", err);
    case 'f':
        return jliteral(p, e, "false", err);
    case 'n':
        return jliteral(p, e, "null", err);
    case '{':
    case '[': {
        bool obj = *p == '{';
        char close = obj ? '}' : ']';
        const char *inside = obj ? "ends inside an object"
                                 : "ends inside an array";
        if (depth >= m->max_depth)
            return jscan_fail(err, p, "nested too deeply");
        p = ws(m, p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            p = ws(m, p, e);
            if (p >= e)
                return jscan_fail(err, e, inside);
            if (obj) {
                if (*p != '"')
                    return jscan_fail(err, p, "expected a member name");
                if ((p = jstring(m, p, e, err)) == NULL)
                    return NULL;
                p = ws(m, p, e);
                if (p >= e)
                    return jscan_fail(err, e, inside);
                if (*p != ':')
                    return jscan_fail(err, p, "expected ':'");
                p++;
            }
            if ((p = value(m, p, e, depth + 1, err)) == NULL)
                return NULL;
            p = ws(m, p, e);
            if (p >= e)
                return jscan_fail(err, e, inside);
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return jscan_fail(err, p, obj ? "expected ',' or '}'"
                                         : "expected ',' or ']'");
            p++;
        }
    }
    default:
        if (*p == '-' || is_digit(*p))
            return m->lax ? jnumber_lax(p, e, err) : jnumber(p, e, err);
        return jscan_fail(err, p, "unexpected character");
    }
}

const char *jscan_value(const char *p, const char *e, struct jscan_err *err)
{
    return value(&strict_mode, p, e, 0, err);
}

const char *jscan_value_lax(const char *p, const char *e,
                            struct jscan_err *err)
{
    return value(&lax_mode, p, e, 0, err);
}

/* The end of the string whose opening quote is at P (checked). */
static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e && (p = quote_or_backslash(p, e)) < e; p += 2)
        if (*p == '"')
            return p + 1;
    return e;
}

/* The end of the checked value at P (after white space), before E:
 * checks nothing, so it serves both modes. */
static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;
    p = ws(&lax_mode, p, e);
    do {
        if (p >= e)
            return e;
        char c = *p;
        if (c == '"') {
            p = skip_string(p, e);
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        else if (depth == 0) {              /* a number or literal */
            while (p < e && (unsigned char)*p > 0x20 && *p != ',' &&
                   *p != '}' && *p != ']')
                p++;
            return p;
        }
        p++;
    } while (depth > 0);
    return p;
}

void jscan_iter_init(struct jscan_iter *it, struct jspan v)
{
    it->p = v.p + 1;
    it->e = v.p + v.n;
}

bool jscan_next(struct jscan_iter *it, struct jspan *key, struct jspan *val)
{
    const char *p = ws(&lax_mode, it->p, it->e);
    if (p < it->e && *p == ',')
        p = ws(&lax_mode, p + 1, it->e);
    if (p >= it->e || *p == ']' || *p == '}')
        return false;
    if (key != NULL) {
        const char *k = p;
        p = skip_string(p, it->e);
        key->p = k + 1;
        key->n = (size_t)(p - k - 2);
        p = ws(&lax_mode, p, it->e);
        p = ws(&lax_mode, p + 1, it->e);                /* the ':' */
    }
    const char *v = p;
    p = skip_value(p, it->e);
    val->p = v;
    val->n = (size_t)(p - v);
    it->p = p;
    return true;
}

/* Appends code point CP as UTF-8 at D; returns the byte after it. */
static char *put_utf8(char *d, long cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | cp >> 6);
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | cp >> 12);
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | cp >> 18);
        *d++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* The byte an escape \X stands for, or -1 (u and unknown ones). */
static int simple_escape(char x)
{
    switch (x) {
    case '"': case '\\': case '/': return x;
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    }
    return -1;
}

ptrdiff_t jscan_unescape(const char *s, size_t n, char *out, size_t cap)
{
    const char *p = s, *e = s + n;
    char *d = out, *de = out + cap;
    if (memchr(s, '\\', n) == NULL) {
        if (n > cap)
            return -1;
        memcpy(out, s, n);
        return (ptrdiff_t)n;
    }
    while (p < e) {
        if (*p != '\\') {
            if (d >= de)
                return -1;
            *d++ = *p++;
            continue;
        }
        int c = e - p < 2 ? -1 : simple_escape(p[1]);
        if (c >= 0) {
            if (d >= de)
                return -1;
            *d++ = (char)c;
            p += 2;
            continue;
        }
        size_t len;
        long cp = e - p >= 2 && p[1] == 'u' ? unicode_escape(p, e, &len) : -1;
        if (cp < 0 || de - d < (cp < 0x80 ? 1 : cp < 0x800 ? 2 :
                                cp < 0x10000 ? 3 : 4))
            return -1;
        d = put_utf8(d, cp);
        p += len;
    }
    return d - out;
}

bool jscan_number(struct jspan v, double *out)
{
    size_t used;
    if (v.n == 0 || !(v.p[0] == '-' || is_digit(v.p[0])))
        return false;
    *out = number_read(v.p, v.p + v.n, &used);
    return used > 0;
}

void jscan_members(struct jspan obj, const char *const *keys, size_t nkeys,
                   struct jspan *vals)
{
    struct jscan_iter it;
    struct jspan k, v;
    for (size_t i = 0; i < nkeys; i++)
        vals[i] = (struct jspan){ NULL, 0 };
    if (obj.n == 0 || obj.p[0] != '{')
        return;
    jscan_iter_init(&it, obj);
    while (jscan_next(&it, &k, &v))
        for (size_t i = 0; i < nkeys; i++)
            if (vals[i].n == 0 && k.n == strlen(keys[i]) &&
                memcmp(k.p, keys[i], k.n) == 0)
                vals[i] = v;
}

bool jscan_is(struct jspan v, char kind)
{
    return v.n > 0 && v.p[0] == kind;
}

void jscan_where(const char *data, const char *at, char *buf, size_t cap)
{
    size_t line = 1;
    const char *ls = data;
    for (const char *p = data; p < at; p++)
        if (*p == '\n') {
            line++;
            ls = p + 1;
        }
    snprintf(buf, cap, "line %zu, column %zu", line, (size_t)(at - ls) + 1);
}
