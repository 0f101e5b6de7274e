/* jscan.c — see jscan.h. Moved as is from query/helpdesk.c. */
#include "base/jscan.h"

#include <stdio.h>
#include <string.h>

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

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Each returns the end of the value starting at P, or NULL with ERR. */
static const char *jstring(const char *p, const char *e,
                           struct jscan_err *err)
{
    for (p++; p < e;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            if (e - p < 2)
                break;
            char x = p[1];
            if (x == 'u') {
                if (e - p < 6)
                    break;
                for (int i = 2; i < 6; i++)
                    if (!is_hex(p[i]))
                        return jscan_fail(err, p, "bad \\u escape in a string");
                p += 6;
            } else if (x == '"' || x == '\\' || x == '/' || x == 'b' ||
                       x == 'f' || x == 'n' || x == 'r' || x == 't') {
                p += 2;
            } else {
                return jscan_fail(err, p, "bad escape in a string");
            }
        } else if (c < 0x20) {
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

static const char *value(const char *p, const char *e, int depth,
                         struct jscan_err *err)
{
    p = jscan_ws(p, e);
    if (p >= e)
        return jscan_fail(err, e, depth == 0 ? "no value"
                                             : "ends before a value");
    switch (*p) {
    case '"':
        return jstring(p, e, err);
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
        if (depth >= JSCAN_MAX_DEPTH)
            return jscan_fail(err, p, "nested too deeply");
        p = jscan_ws(p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            p = jscan_ws(p, e);
            if (p >= e)
                return jscan_fail(err, e, inside);
            if (obj) {
                if (*p != '"')
                    return jscan_fail(err, p, "expected a member name");
                if ((p = jstring(p, e, err)) == NULL)
                    return NULL;
                p = jscan_ws(p, e);
                if (p >= e)
                    return jscan_fail(err, e, inside);
                if (*p != ':')
                    return jscan_fail(err, p, "expected ':'");
                p++;
            }
            if ((p = value(p, e, depth + 1, err)) == NULL)
                return NULL;
            p = jscan_ws(p, e);
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
            return jnumber(p, e, err);
        return jscan_fail(err, p, "unexpected character");
    }
}

const char *jscan_value(const char *p, const char *e, struct jscan_err *err)
{
    return value(p, e, 0, err);
}

void jscan_iter_init(struct jscan_iter *it, struct jspan v)
{
    it->p = v.p + 1;
    it->e = v.p + v.n;
}

bool jscan_next(struct jscan_iter *it, struct jspan *key, struct jspan *val)
{
    struct jscan_err err;
    const char *p = jscan_ws(it->p, it->e);
    if (p < it->e && *p == ',')
        p = jscan_ws(p + 1, it->e);
    if (p >= it->e || *p == ']' || *p == '}')
        return false;
    if (key != NULL) {
        const char *k = p;
        if ((p = jstring(p, it->e, &err)) == NULL)
            return false;
        key->p = k + 1;
        key->n = (size_t)(p - k - 2);
        p = jscan_ws(p, it->e);
        p = jscan_ws(p + 1, it->e);                     /* the ':' */
    }
    const char *v = p;
    if ((p = jscan_value(p, it->e, &err)) == NULL)
        return false;
    val->p = v;
    val->n = (size_t)(p - v);
    it->p = p;
    return true;
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
