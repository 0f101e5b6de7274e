/* jscan.h — a validating JSON scanner (RFC 8259) over the caller's bytes.
 * It allocates nothing (but see jscan_value_lax) and builds no tree: jscan_value() checks one value
 * whole and says where it ends; the iterators then walk an already checked
 * object or array, handing out raw spans (strings with quotes and escapes
 * as written), which jscan_unescape() and jscan_number() read. Pure. */
#ifndef DWELL_JSCAN_H
#define DWELL_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSCAN_MAX_DEPTH 128     /* deeper nesting is an error */
#define JSCAN_LAX_MAX_DEPTH 1000 /* the same in lax mode (cJSON's limit) */

/* A span of the caller's bytes: a whole value, or a member name without
 * its quotes. */
struct jspan {
    const char *p;
    size_t n;
};

/* Where and why a scan failed: AT points into the input (or at its end). */
struct jscan_err {
    const char *at;
    const char *what;           /* a static phrase: "bad escape in a string" */
};

/* The first byte at or after P (before E) that is not JSON white space. */
const char *jscan_ws(const char *p, const char *e);

/* Records AT and WHAT in ERR; returns NULL. */
const char *jscan_fail(struct jscan_err *err, const char *at,
                       const char *what);

/* Checks the one value starting at P (after optional white space) and
 * returns the byte after it, or NULL with ERR filled. Bytes after the
 * value are not looked at. */
const char *jscan_value(const char *p, const char *e, struct jscan_err *err);

/* jscan_value() with cJSON 1.7's reading, for inputs it accepted (the
 * beacon, POST /e): every byte up to 0x20 is white space, control
 * characters may stand raw in strings, a number is what strtod takes of
 * the run of [0-9+-eE.] after a '-' or digit ("01", "1.", "-.5"; a run of
 * 64 bytes or more is copied to the heap for strtod, the one allocation),
 * nesting goes to JSCAN_LAX_MAX_DEPTH. Stricter than cJSON
 * on one point only: a \u escape must have 4 hex digits and pair its
 * surrogates (cJSON reads bad digits as U+0000 and refuses lone
 * surrogates), so that every string it passes jscan_unescape() decodes. */
const char *jscan_value_lax(const char *p, const char *e,
                            struct jscan_err *err);

/* Iterating an object or array already checked by jscan_value() or
 * jscan_value_lax(); the iterators check nothing themselves. */
struct jscan_iter {
    const char *p, *e;
};

/* Starts IT at the first element or member of V (an object or array). */
void jscan_iter_init(struct jscan_iter *it, struct jspan v);

/* The next element (KEY NULL) or member (name into KEY, value into VAL).
 * Returns false at the end. */
bool jscan_next(struct jscan_iter *it, struct jspan *key, struct jspan *val);

/* The values of OBJ's members named KEYS[i] (raw bytes, the first of each
 * name) into VALS[i], in one pass; n == 0 for those absent or when OBJ is
 * not an object. */
void jscan_members(struct jspan obj, const char *const *keys, size_t nkeys,
                   struct jspan *vals);

/* Decodes the N bytes at S, the inside of a string (without its quotes)
 * checked by jscan_value_lax(), into OUT (CAP bytes; N always suffices):
 * escapes become their bytes, \u escapes UTF-8. Returns the length, or -1
 * when OUT is too small or an escape is bad. Writes no NUL. */
ptrdiff_t jscan_unescape(const char *s, size_t n, char *out, size_t cap);

/* True when V is a number, with its value (strtod's, as cJSON reads it)
 * in *OUT. */
bool jscan_number(struct jspan v, double *out);

/* True when V is a value of KIND, its first byte: '{', '[', '"', ... */
bool jscan_is(struct jspan v, char kind);

/* Writes "line L, column C" of AT in DATA to BUF (CAP bytes). */
void jscan_where(const char *data, const char *at, char *buf, size_t cap);

#endif
