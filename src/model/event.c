/* event.c — see event.h. The wire format is a contract with pages already
 * deployed: fields may be added, never reinterpreted. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/event.h"
#include "base/fnv.h"
#include "base/jscan.h"
#include "base/utf8.h"
#include "base/varint.h"
#include "dwell/log.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RECORD_V1 1       /* read only: see event_decode */
#define RECORD_V2 2       /* read only: strings only in full */
#define RECORD_V3 3       /* read only: a flags byte of its own */
#define RECORD_VERSION 4  /* the version event_encode writes */

/* Version 4's first byte holds the version and the flags: 001fffff, the
 * tag above RECORD_V4_FLAGS (a first byte below the tag is an older
 * version's number; one of 010xxxxx and above is no version yet). */
#define RECORD_V4_TAG   0x20
#define RECORD_V4_FLAGS 0x1f
_Static_assert((EVENT_FLAGS_ALL & ~RECORD_V4_FLAGS) == 0,
               "every EVENT_FLAG_* fits the flag bits of record version 4");

static const char *const type_names[] = {
    NULL, "view", "engage", "vote", "search", "link", "identify", "event"
};

const char *event_type_name(int type)
{
    if (type < EVENT_VIEW || type > EVENT_CUSTOM)
        return "?";
    return type_names[type];
}

static int type_of_name(const char *s)
{
    for (int t = EVENT_VIEW; t <= EVENT_CUSTOM; t++)
        if (strcmp(s, type_names[t]) == 0)
            return t;
    return 0;
}

static const char *const page_kind_names[EVENT_PAGE_KINDS] = {
    "article", "search", "list", "home"
};

const char *event_page_kind_name(int kind)
{
    if (kind < 0 || kind >= EVENT_PAGE_KINDS)
        return "?";
    return page_kind_names[kind];
}

int event_page_kind_of(const char *s)
{
    for (int k = 0; s != NULL && k < EVENT_PAGE_KINDS; k++)
        if (strcasecmp(s, page_kind_names[k]) == 0)
            return k;
    return -1;
}

/* Writes "event I: " + the formatted message to ERR; returns -1. */
static int fail(char *err, size_t errlen, int index, const char *fmt, ...)
    DWELL_PRINTF(4, 5);

static int fail(char *err, size_t errlen, int index, const char *fmt, ...)
{
    size_t off = 0;
    if (index >= 0) {
        int n = snprintf(err, errlen, "event %d: ", index);
        if (n > 0 && (size_t)n < errlen)
            off = (size_t)n;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + off, errlen - off, fmt, ap);
    va_end(ap);
    return -1;
}

/* Copies S[0..N) (already cut to its cap) into the batch arena, turning
 * control characters into spaces. Returns the copy. */
static struct event_str arena_copy(struct event_batch *b, const char *s,
                                   size_t n)
{
    struct event_str out = { b->arena + b->used, (uint16_t)n };
    char *d = b->arena + b->used;
    for (size_t i = 0; i < n; i++)
        d[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    b->used += n;
    return out;
}

/* Validates S as UTF-8, cuts it to CAP and stores it in the arena. */
static int put_text(struct event_batch *b, const char *s, size_t n, size_t cap,
                    struct event_str *out)
{
    bool ok;
    size_t keep = utf8_cut(s, n, cap, &ok);
    if (!ok)
        return -1;
    if (b->used + keep > sizeof b->arena)
        return -1;
    *out = arena_copy(b, s, keep);
    return 0;
}

static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Stores an identifier of MIN–MAX characters of [A-Za-z0-9_-]. */
static int put_id(struct event_batch *b, const char *s, size_t min, size_t max,
                  struct event_str *out)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_id_char(s[i]))
            return -1;
    return put_text(b, s, n, max, out);
}

static char lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Length of a URL's scheme and "://" (http or https), or 0. */
static size_t scheme_len(const char *u)
{
    if (strncmp(u, "https://", 8) == 0)
        return 8;
    if (strncmp(u, "http://", 7) == 0)
        return 7;
    return 0;
}

/* Stores the path of U (a full http(s) URL or an absolute path), without
 * fragment, and without query string unless KEEP_QUERY. Returns -1 if U is
 * neither. */
static int put_path(struct event_batch *b, const char *u, bool keep_query,
                    struct event_str *out)
{
    const char *p = u;
    size_t sl = scheme_len(u);
    if (sl > 0) {
        p = u + sl;
        p += strcspn(p, "/?#");
    } else if (u[0] != '/') {
        return -1;
    }
    size_t n = strcspn(p, keep_query ? "#" : "?#");
    if (n == 0 || p[0] == '?')
        return put_text(b, "/", 1, EVENT_PATH_MAX, out);
    return put_text(b, p, n, EVENT_PATH_MAX, out);
}

/* Stores the lower-cased host of referrer URL R (without its port); an
 * unusable referrer, or one carrying credentials, is stored as empty (it is
 * a hint, never a reason to reject). */
static void put_referrer(struct event_batch *b, const char *r,
                         struct event_str *out)
{
    out->p = b->arena + b->used;
    out->n = 0;
    size_t sl = scheme_len(r);
    if (sl == 0)
        return;
    const char *h = r + sl;
    size_t auth = strcspn(h, "/?#");
    if (memchr(h, '@', auth) != NULL)    /* "user:password@host" */
        return;
    size_t n = strcspn(h, ":/?#");
    if (n > auth)
        n = auth;
    if (n == 0 || n > EVENT_REFERRER_MAX)
        return;
    for (size_t i = 0; i < n; i++)
        if (!is_id_char(h[i]) && h[i] != '.')
            return;
    char host[EVENT_REFERRER_MAX];
    for (size_t i = 0; i < n; i++)
        host[i] = lower_ascii(h[i]);
    *out = arena_copy(b, host, n);
}

/* Stores search query Q trimmed, with inner runs of blanks folded to one
 * space, ASCII letters lower-cased, cut to EVENT_QUERY_MAX bytes. */
static int put_query(struct event_batch *b, const char *q, struct event_str *out)
{
    char norm[EVENT_QUERY_MAX + 4];
    size_t n = 0;
    bool space = false;
    for (const char *c = q; *c && n < sizeof norm; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r') {
            space = n > 0;
            continue;
        }
        if (space && n < sizeof norm)
            norm[n++] = ' ';
        space = false;
        if (n < sizeof norm)
            norm[n++] = lower_ascii(*c);
    }
    if (put_text(b, norm, n, EVENT_QUERY_MAX, out) != 0)
        return -1;
    while (out->n > 0 && out->p[out->n - 1] == ' ')
        out->n--;
    return 0;
}

static int put_hash(struct event_batch *b, const char *h, struct event_str *out)
{
    char low[EVENT_HASH_LEN];
    if (strlen(h) != EVENT_HASH_LEN)
        return -1;
    for (size_t i = 0; i < EVENT_HASH_LEN; i++) {
        char c = lower_ascii(h[i]);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        low[i] = c;
    }
    return put_text(b, low, EVENT_HASH_LEN, EVENT_HASH_LEN, out);
}

/* The members of an event object that the parser reads. */
enum {
    M_S, M_T, M_V, M_SD, M_WV, M_B, M_U, M_R, M_TI, M_C, M_L, M_KQ, M_PK,
    M_W, M_SW, M_E, M_X, M_Q, M_N, M_I, M_K, M_H, M_A, M_COUNT
};

static const char member_names[M_COUNT][3] = {
    "s", "t", "v", "sd", "wv", "b", "u", "r", "ti", "c", "l", "kq", "pk",
    "w", "sw", "e", "x", "q", "n", "i", "k", "h", "a"
};

/* One event object of a beacon: the raw value of the first member of
 * each name read (n == 0 when absent), and room for its strings decoded
 * and NUL-terminated (SCRATCH, as large as the body: a string decodes to
 * fewer bytes than it takes with its quotes). */
struct obj {
    struct jspan m[M_COUNT];
    char *scratch;
    size_t used, cap;
};

/* The member index of the name K[0..N) as written (escapes decoded), or
 * -1 for a name the parser does not read. */
static int member_of(const char *k, size_t n)
{
    char buf[3];
    bool escaped = false;
    for (size_t i = 0; i < n && !escaped; i++)   /* names are short */
        escaped = k[i] == '\\';
    if (escaped) {
        ptrdiff_t d = jscan_unescape(k, n, buf, sizeof buf);
        if (d < 0)
            return -1;
        k = buf;
        n = (size_t)d;
    }
    if (n == 0 || n > 2)
        return -1;
    for (int i = 0; i < M_COUNT; i++)
        if (member_names[i][0] == k[0] && member_names[i][1] ==
            (n == 2 ? k[1] : '\0'))
            return i;
    return -1;
}

/* Fills O->m from the members of the checked object V (the first of
 * each name counts, as cJSON's lookup did). */
static void obj_read(struct obj *o, struct jspan v)
{
    struct jscan_iter it;
    struct jspan k, val;
    memset(o->m, 0, sizeof o->m);
    jscan_iter_init(&it, v);
    while (jscan_next(&it, &k, &val)) {
        int i = member_of(k.p, k.n);
        if (i >= 0 && o->m[i].n == 0)
            o->m[i] = val;
    }
}

/* True when member K is present and not null. */
static bool has(const struct obj *o, int k)
{
    return o->m[k].n > 0 && o->m[k].p[0] != 'n';
}

/* True when member K is true or the number 1 (a flag). */
static bool get_flag(const struct obj *o, int k)
{
    double d;
    if (jscan_is(o->m[k], 't'))
        return true;
    return jscan_number(o->m[k], &d) && d == 1;
}

/* Reads integer member K of O into *OUT if present and within 0–MAX.
 * Returns 1 if set, 0 if absent, -1 if not a number in range. */
static int get_uint(const struct obj *o, int k, uint32_t max, uint32_t *out)
{
    double d;
    if (!has(o, k))
        return 0;
    if (!jscan_number(o->m[k], &d))
        return -1;
    if (!isfinite(d) || d < 0 || d > (double)max)
        return -1;
    *out = (uint32_t)floor(d);
    return 1;
}

/* The string member K of O decoded (NUL-terminated, in O's scratch), NULL
 * if absent; *BAD set if of another type. */
static const char *get_str(struct obj *o, int k, bool *bad)
{
    struct jspan v = o->m[k];
    if (!has(o, k))
        return NULL;
    char *d = o->scratch + o->used;
    ptrdiff_t n = -1;
    if (v.p[0] == '"')
        n = jscan_unescape(v.p + 1, v.n - 2, d, o->cap - o->used - 1);
    if (n < 0) {
        *bad = true;
        return NULL;
    }
    d[n] = '\0';
    o->used += (size_t)n + 1;
    return d;
}

/* Reads the optional per-view sequence number "i" of a search or custom
 * event into EV->seq (0 when absent). */
static int get_seq(const struct obj *o, struct event *ev, char *err,
                   size_t errlen, int i)
{
    uint32_t seq;
    int got = get_uint(o, M_I, EVENT_MAX_SEQ, &seq);
    if (got < 0 || (got == 1 && seq == 0))
        return fail(err, errlen, i, "i: sequence number must be 1–%u",
                    EVENT_MAX_SEQ);
    ev->seq = got == 1 ? (uint16_t)seq : 0;
    return 0;
}

/* The strings of a view, shared by beacons and pixels. */
struct view_fields {
    const char *u, *r, *ti, *c, *l;
    bool keep_query;
    const char *pk;          /* page kind, NULL when absent */
};

/* True when PATH is the site root ("/", with or without a kept query). */
static bool is_site_root(const struct event_str *path)
{
    return path->n >= 1 && path->p[0] == '/' &&
           (path->n == 1 || path->p[1] == '?');
}

/* Sets EV->kind from PK, a kind name in any case. Absent or unknown (a
 * page author's typo in <meta name="dwell:page">, which must not cost the
 * page its views), it is home for the site root and article otherwise. */
static void put_page_kind(struct event *ev, const char *pk)
{
    int k = pk != NULL ? event_page_kind_of(pk) : -1;
    if (k < 0)
        k = is_site_root(&ev->path) ? EVENT_PAGE_HOME : EVENT_PAGE_ARTICLE;
    ev->kind = (uint8_t)k;
}

/* Parses the fields of a view event. */
static int fill_view(struct event_batch *b, struct event *ev,
                     const struct view_fields *f, char *err, size_t errlen,
                     int i)
{
    const char *u = f->u, *r = f->r, *ti = f->ti, *c = f->c, *l = f->l;
    if (u == NULL)
        return fail(err, errlen, i, "u: missing (the page URL)");
    if (put_path(b, u, f->keep_query, &ev->path) != 0)
        return fail(err, errlen, i, "u: not an http(s) URL or absolute path");
    put_page_kind(ev, f->pk);
    ev->article = event_article_id(ev->path.p, ev->path.n);
    if (r != NULL)
        put_referrer(b, r, &ev->referrer);
    if (ti != NULL && put_text(b, ti, strlen(ti), EVENT_TITLE_MAX, &ev->title))
        return fail(err, errlen, i, "ti: invalid UTF-8");
    if (c != NULL && put_text(b, c, strlen(c), EVENT_CATEGORY_MAX,
                              &ev->category))
        return fail(err, errlen, i, "c: invalid UTF-8");
    if (l != NULL && put_text(b, l, strlen(l), EVENT_LANG_MAX, &ev->lang))
        return fail(err, errlen, i, "l: invalid UTF-8");
    return 0;
}

/* The member that carries the argument of a dwell(…) command (vote,
 * search, identify, event): wire 3 sends every command's in "a", earlier
 * wires each in its own, OLD ("x", "q", "h" or "n"). */
static int arg_member(const struct event *ev, int old)
{
    return ev->wire >= 3 ? M_A : old;
}

/* Reads a search's result count "n" into *OUT: 1 if set, 0 if absent, -1
 * if not a count. Wire 3 sends the page's third argument as it is, and
 * only a number is a count (anything else is absent, as the snippets of
 * wire 2 left it out); before, "n" is a number or absent. */
static int get_results(const struct obj *o, const struct event *ev,
                       uint32_t *out)
{
    double d;
    if (ev->wire >= 3 && !jscan_number(o->m[M_N], &d))
        return 0;
    return get_uint(o, M_N, EVENT_MAX_RESULTS, out);
}

/* Parses the fields that depend on the event type. */
static int fill_typed(struct event_batch *b, struct event *ev, struct obj *o,
                      char *err, size_t errlen, int i)
{
    bool bad = false;
    uint32_t v;
    if (ev->wire >= 3 && has(o, M_A) && (ev->type == EVENT_VIEW ||
        ev->type == EVENT_ENGAGE || ev->type == EVENT_LINK))
        return fail(err, errlen, i, "a: not a field of %s events",
                    event_type_name(ev->type));
    switch (ev->type) {
    case EVENT_VIEW: {
        struct view_fields f = {
            get_str(o, M_U, &bad), get_str(o, M_R, &bad),
            get_str(o, M_TI, &bad), get_str(o, M_C, &bad),
            get_str(o, M_L, &bad),
            /* wire 2: u is what to keep (the snippet drops the query
             * unless told to keep it); wire 1 said so with kq */
            ev->wire >= 2 || get_flag(o, M_KQ),
            get_str(o, M_PK, &bad)
        };
        if (bad)
            return fail(err, errlen, i,
                        "u, r, ti, c, l, pk: must be strings");
        if (fill_view(b, ev, &f, err, errlen, i) != 0)
            return -1;
        if (get_uint(o, M_W, EVENT_MAX_WORDS, &ev->words) < 0)
            return fail(err, errlen, i, "w: not a word count (0–%u)",
                        EVENT_MAX_WORDS);
        if (get_uint(o, M_SW, EVENT_MAX_SCREEN, &ev->screen_w) < 0)
            return fail(err, errlen, i, "sw: not a screen width");
        return 0;
    }
    case EVENT_ENGAGE:
        /* wire 2 sends the view's total, wire 1 one interval */
        v = ev->wire >= 2 ? EVENT_MAX_VIEW_ENGAGED_MS : EVENT_MAX_ENGAGED_MS;
        if (get_uint(o, M_E, v, &ev->engaged_ms) != 1)
            return fail(err, errlen, i,
                        "e: missing or out of range (0–%u ms)", v);
        return 0;
    case EVENT_VOTE: {
        int k = arg_member(ev, M_X);
        const char *x = get_str(o, k, &bad);
        if (x != NULL && strcmp(x, "up") == 0)
            ev->vote = EVENT_VOTE_UP;
        else if (x != NULL && strcmp(x, "down") == 0)
            ev->vote = EVENT_VOTE_DOWN;
        else
            return fail(err, errlen, i, "%s: must be \"up\" or \"down\"",
                        member_names[k]);
        return 0;
    }
    case EVENT_SEARCH: {
        int k = arg_member(ev, M_Q);
        const char *q = get_str(o, k, &bad);
        if (q == NULL || put_query(b, q, &ev->text) != 0)
            return fail(err, errlen, i, "%s: missing or invalid UTF-8",
                        member_names[k]);
        if (ev->text.n == 0)
            return fail(err, errlen, i, "%s: empty search query",
                        member_names[k]);
        int got = get_results(o, ev, &v);
        if (got < 0)
            return fail(err, errlen, i, "n: not a result count");
        ev->results = got == 1 ? v : EVENT_RESULTS_NONE;
        return get_seq(o, ev, err, errlen, i);
    }
    case EVENT_LINK: {
        const char *k = get_str(o, M_K, &bad);
        if (k == NULL || put_id(b, k, EVENT_LINK_MIN, EVENT_LINK_MAX,
                                &ev->text) != 0)
            return fail(err, errlen, i,
                        "k: link id must be %d–%d of [A-Za-z0-9_-]",
                        EVENT_LINK_MIN, EVENT_LINK_MAX);
        return 0;
    }
    case EVENT_IDENTIFY: {
        int k = arg_member(ev, M_H);
        const char *h = get_str(o, k, &bad);
        if (h == NULL || put_hash(b, h, &ev->text) != 0)
            return fail(err, errlen, i, "%s: must be 64 hex digits (sha256)",
                        member_names[k]);
        return 0;
    }
    case EVENT_CUSTOM: {
        int k = arg_member(ev, M_N);
        const char *n = get_str(o, k, &bad);
        if (n == NULL || put_text(b, n, strlen(n), EVENT_NAME_MAX,
                                  &ev->text) != 0 || ev->text.n == 0)
            return fail(err, errlen, i, "%s: missing event name",
                        member_names[k]);
        return get_seq(o, ev, err, errlen, i);
    }
    }
    return fail(err, errlen, i, "t: unknown type");
}

/* Parses the checked value VAL as event number I of the batch, decoding
 * its strings into O's scratch. */
static int parse_one(struct event_batch *b, struct jspan val, struct obj *o,
                     int i, char *err, size_t errlen)
{
    struct event *ev = &b->ev[b->n];
    bool bad = false;
    memset(ev, 0, sizeof *ev);
    ev->scroll = EVENT_SCROLL_NONE;
    memcpy(ev->country, "--", 3);

    if (!jscan_is(val, '{'))
        return fail(err, errlen, i, "not a JSON object");
    obj_read(o, val);
    o->used = 0;
    const char *s = get_str(o, M_S, &bad);
    if (s == NULL || s[0] == '\0' || strlen(s) > EVENT_SITE_MAX)
        return fail(err, errlen, i, "s: missing site");
    if (put_text(b, s, strlen(s), EVENT_SITE_MAX, &ev->site) != 0)
        return fail(err, errlen, i, "s: invalid UTF-8");
    const char *t = get_str(o, M_T, &bad);
    if (t == NULL)
        return fail(err, errlen, i, "t: missing event type");
    ev->type = (uint8_t)type_of_name(t);
    if (ev->type == 0)
        return fail(err, errlen, i, "t: unknown event type");
    const char *v = get_str(o, M_V, &bad);
    if (v == NULL || put_id(b, v, EVENT_ID_MIN, EVENT_ID_MAX, &ev->view_id))
        return fail(err, errlen, i,
                    "v: page-view id must be %d–%d of [A-Za-z0-9_-]",
                    EVENT_ID_MIN, EVENT_ID_MAX);
    uint32_t sd;
    int got = get_uint(o, M_SD, 100, &sd);
    if (got < 0)
        return fail(err, errlen, i, "sd: scroll depth must be 0–100");
    if (got == 1)
        ev->scroll = (uint8_t)sd;
    uint32_t wv;
    got = get_uint(o, M_WV, 255, &wv);
    if (got < 0 || (got == 1 && (wv < 1 || wv > EVENT_WIRE_CURRENT)))
        return fail(err, errlen, i, "wv: wire version must be 1–%d",
                    EVENT_WIRE_CURRENT);
    ev->wire = got == 1 ? (uint8_t)wv : 1;
    if (ev->wire >= 2)
        ev->flags |= EVENT_FLAG_WIRE2;
    if (get_flag(o, M_B))
        ev->flags |= EVENT_FLAG_AUTOMATED | EVENT_FLAG_BOT;
    if (fill_typed(b, ev, o, err, errlen, i) != 0)
        return -1;
    if (ev->wire > 2)
        ev->wire = 2;   /* wire 3 only sends the fields above differently */
    b->n++;
    return 0;
}

/* The offset of the first NUL character in the JSON text BODY — a raw NUL
 * byte, or a \u0000 escape (which would decode into a C string that ends
 * there, so "s.test\u0000evil" would count for s.test) — or -1. */
static ptrdiff_t nul_in_json(const char *body, size_t len)
{
    const char *p = body, *e = body + len;
    if (memchr(body, '\0', len) != NULL) {         /* byte by byte */
        for (size_t i = 0; i < len; i++) {
            if (body[i] == '\0')
                return (ptrdiff_t)i;
            if (body[i] != '\\' || i + 1 >= len)
                continue;
            if (body[i + 1] == 'u' && i + 5 < len &&
                memcmp(body + i + 2, "0000", 4) == 0)
                return (ptrdiff_t)i;
            i++;                          /* the escaped character */
        }
        return -1;
    }
    for (; (p = memchr(p, '\\', (size_t)(e - p))) != NULL; p += 2) {
        if (e - p >= 6 && p[1] == 'u' && memcmp(p + 2, "0000", 4) == 0)
            return p - body;
        if (e - p < 2)
            break;
    }
    return -1;
}

/* The number of elements of the checked array A. */
static int array_size(struct jspan a)
{
    struct jscan_iter it;
    struct jspan v;
    int n = 0;
    jscan_iter_init(&it, a);
    while (jscan_next(&it, NULL, &v))
        n++;
    return n;
}

/* Parses the events of the checked value ROOT (an event or an array of
 * them) into B. */
static int parse_events(struct event_batch *b, struct jspan root,
                        struct obj *o, char *err, size_t errlen)
{
    if (!jscan_is(root, '['))
        return parse_one(b, root, o, -1, err, errlen);
    int n = array_size(root);
    if (n == 0 || n > EVENT_MAX_BATCH)
        return fail(err, errlen, -1, "a batch holds 1–%d events, not %d",
                    EVENT_MAX_BATCH, n);
    struct jscan_iter it;
    struct jspan v;
    jscan_iter_init(&it, root);
    for (int i = 0; jscan_next(&it, NULL, &v); i++)
        if (parse_one(b, v, o, i, err, errlen) != 0)
            return -1;
    return 0;
}

/* Checks BODY (no NUL in it, at most EVENT_MAX_BODY bytes) as JSON, read
 * as cJSON read it (jscan_value_lax, a UTF-8 byte order mark skipped),
 * then parses its events into B. Allocates nothing: strings are decoded
 * into a scratch buffer on the stack, then copied into B's arena. */
static int parse_body(const char *body, size_t len, struct event_batch *b,
                      char *err, size_t errlen)
{
    const char *p = body, *e = body + len;
    char scratch[EVENT_MAX_BODY];
    struct obj o = { .scratch = scratch, .cap = sizeof scratch };
    struct jscan_err jerr;
    if (len > 4 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    const char *end = jscan_value_lax(p, e, &jerr);
    if (end == NULL)
        return fail(err, errlen, -1, "malformed JSON near byte %td",
                    jerr.at < e ? jerr.at - body : (ptrdiff_t)len - 1);
    const char *rest = end;
    while (rest < e && (*rest == ' ' || *rest == '\n' || *rest == '\r' ||
                        *rest == '\t'))
        rest++;
    if (rest != e)
        return fail(err, errlen, -1, "malformed JSON: text after the value "
                    "at byte %td", rest - body);
    while ((unsigned char)*p <= 0x20)
        p++;
    struct jspan root = { p, (size_t)(end - p) };
    if (parse_events(b, root, &o, err, errlen) != 0) {
        b->n = 0;
        return -1;
    }
    return 0;
}

int event_parse_json(const char *body, size_t len, struct event_batch *b,
                     char *err, size_t errlen)
{
    b->n = 0;
    b->used = 0;
    if (len == 0)
        return fail(err, errlen, -1, "empty body");
    if (len > EVENT_MAX_BODY)
        return fail(err, errlen, -1, "body larger than %d bytes",
                    EVENT_MAX_BODY);
    ptrdiff_t nul = nul_in_json(body, len);
    if (nul >= 0)
        return fail(err, errlen, -1, "a NUL character (\\u0000) at byte %td:"
                    " not allowed in any field", nul);
    return parse_body(body, len, b, err, errlen);
}

int event_parse_pixel(event_param_fn get, void *ctx, const char *view_id,
                      struct event_batch *b, char *err, size_t errlen)
{
    struct event *ev = &b->ev[0];
    b->n = 0;
    b->used = 0;
    memset(ev, 0, sizeof *ev);
    ev->type = EVENT_VIEW;
    ev->flags = EVENT_FLAG_PIXEL;
    ev->wire = 1;
    ev->scroll = EVENT_SCROLL_NONE;
    memcpy(ev->country, "--", 3);

    const char *s = get(ctx, "s");
    if (s == NULL || s[0] == '\0' || strlen(s) > EVENT_SITE_MAX ||
        put_text(b, s, strlen(s), EVENT_SITE_MAX, &ev->site) != 0)
        return fail(err, errlen, -1, "s: missing site");
    if (put_id(b, view_id, EVENT_ID_MIN, EVENT_ID_MAX, &ev->view_id) != 0)
        return fail(err, errlen, -1, "internal: bad view id");
    struct view_fields f = { get(ctx, "u"), get(ctx, "r"), get(ctx, "t"),
                             get(ctx, "c"), get(ctx, "l"), false,
                             get(ctx, "pk") };
    if (fill_view(b, ev, &f, err, errlen, -1) != 0)
        return -1;
    b->n = 1;
    return 0;
}

bool event_within_limits(const struct event *ev)
{
    size_t text_cap = ev->type == EVENT_LINK ? EVENT_LINK_MAX
                    : ev->type == EVENT_SEARCH ? EVENT_QUERY_MAX
                    : ev->type == EVENT_IDENTIFY ? EVENT_HASH_LEN
                    : EVENT_NAME_MAX;
    return ev->site.n <= EVENT_SITE_MAX && ev->view_id.n <= EVENT_ID_MAX &&
           ev->path.n <= EVENT_PATH_MAX && ev->title.n <= EVENT_TITLE_MAX &&
           ev->referrer.n <= EVENT_REFERRER_MAX &&
           ev->category.n <= EVENT_CATEGORY_MAX &&
           ev->lang.n <= EVENT_LANG_MAX && ev->text.n <= text_cap;
}

uint64_t event_article_id(const char *path, size_t len)
{
    uint64_t h = fnv1a(FNV1A_INIT, path, len);
    return h ? h : 1;
}

/* --- binary records ------------------------------------------------------ */

enum {
    STR_VIEW_ID, STR_PATH, STR_TITLE, STR_REFERRER, STR_CATEGORY, STR_LANG,
    STR_TEXT, STR_COUNT
};
enum {
    NUM_ENGAGED = 1, NUM_WORDS = 2, NUM_RESULTS = 4, NUM_SCREEN = 8,
    NUM_ARTICLE = 16, NUM_SEQ = 32,
    NUM_KIND = 64            /* a view's page kind; absent = article */
};

/* The string fields of EV in record order. */
static struct event_str *str_field(struct event *ev, int k)
{
    switch (k) {
    case STR_VIEW_ID: return &ev->view_id;
    case STR_PATH: return &ev->path;
    case STR_TITLE: return &ev->title;
    case STR_REFERRER: return &ev->referrer;
    case STR_CATEGORY: return &ev->category;
    case STR_LANG: return &ev->lang;
    default: return &ev->text;
    }
}

/* The dictionary field of string field K, or -1 for one always in full. */
static int ref_of_str(int k)
{
    return k >= STR_PATH && k <= STR_LANG ? k - STR_PATH + EVENT_REF_PATH : -1;
}

struct event_str *event_ref_str(struct event *ev, int r)
{
    return str_field(ev, r - EVENT_REF_PATH + STR_PATH);
}

/* The dictionary id of string field K of EV, 0 when it is in full. */
static uint32_t str_ref(const struct event *ev, int k)
{
    int r = ref_of_str(k);
    return r < 0 ? 0 : ev->ref[r];
}

struct wbuf {
    uint8_t *p;
    size_t n, cap;
    bool full;
};

static void put_byte(struct wbuf *w, uint8_t c)
{
    if (w->n >= w->cap) {
        w->full = true;
        return;
    }
    w->p[w->n++] = c;
}

static void put_bytes(struct wbuf *w, const void *src, size_t n)
{
    if (w->n + n > w->cap) {
        w->full = true;
        return;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void put_varint(struct wbuf *w, uint64_t v)
{
    uint8_t tmp[VARINT_MAX];
    put_bytes(w, tmp, varint_put(tmp, v));
}

static void put_u64(struct wbuf *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        put_byte(w, (uint8_t)(v >> (8 * i)));
}

/* Record flags of versions 2 to 4, beside the masks' bits. */
enum {
    SMASK_ID_PACKED = 0x80,  /* the view id is packed 6 bits a character */
    NMASK_SCROLL = 0x80,     /* a scroll byte follows (else none reported) */
    TYPE_VOTE_SHIFT = 4,     /* type byte: type(4 bits) vote(2 bits) */
    TYPE_ARTICLE_OF_PATH = 0x40, /* the article is event_article_id(path) */
    TYPE_ARTICLE_REF = 0x80  /* version 3 on: the article is a dictionary id */
};

static const char id_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/* The 6-bit code of view id character C (its place in id_alphabet), or
 * -1. Two of these per character of every record written: no search. */
static int id_code(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* True when S, at most EVENT_ID_MAX characters, packs into 6 bits each. */
static bool id_packs(const struct event_str *s)
{
    if (s->n > EVENT_ID_MAX)           /* unpacked into id_buf */
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (id_code(s->p[i]) < 0)
            return false;
    return s->n > 0;
}

/* Writes the N characters of S packed 6 bits each, low bits first. */
static void put_packed_id(struct wbuf *w, const struct event_str *s)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < s->n; i++) {
        acc |= (uint32_t)id_code(s->p[i]) << bits;
        for (bits += 6; bits >= 8; bits -= 8, acc >>= 8)
            put_byte(w, (uint8_t)acc);
    }
    if (bits > 0)
        put_byte(w, (uint8_t)acc);
}

/* True when EV's dictionary ids can be written: within EVENT_REF_MAX, and
 * an article of the path only with a path. */
static bool refs_ok(const struct event *ev)
{
    for (int r = 0; r < EVENT_REF_STRINGS; r++)
        if (ev->ref[r] > EVENT_REF_MAX)
            return false;
    uint32_t a = ev->ref[EVENT_REF_ARTICLE];
    if (a == EVENT_REF_OF_PATH)
        return ev->path.n > 0 || ev->ref[EVENT_REF_PATH] != 0;
    return a <= EVENT_REF_MAX;
}

/* Which of the article's forms EV's record takes: its type byte's
 * article flags, and whether the article number follows. */
static uint8_t article_form(const struct event *ev, bool *number)
{
    uint32_t ref = ev->ref[EVENT_REF_ARTICLE];
    *number = false;
    if (ref == EVENT_REF_OF_PATH)
        return TYPE_ARTICLE_OF_PATH;
    *number = ref != 0 || ev->article != 0;
    if (ref != 0)
        return TYPE_ARTICLE_REF;
    if (ev->article && ev->path.n > 0 &&
        ev->article == event_article_id(ev->path.p, ev->path.n)) {
        *number = false;
        return TYPE_ARTICLE_OF_PATH;
    }
    return 0;
}

/* Version 4: RECORD_V4_TAG|flags(1) type|vote<<4|article flags(1)
 * country(2) site(varint) visitor(8) smask(1) nmask(1), the strings
 * present, each a varint h: a dictionary id h >> 1 when h is odd, else
 * h >> 1 bytes follow (a packed view id: ceil(6n/8) bytes); the numbers
 * present (varints; the article a varint dictionary id with
 * TYPE_ARTICLE_REF, else a u64, and absent when of the path; the scroll
 * byte when reported; the page kind byte last). Version 3 was the same
 * with a version byte (3), then the type byte, then a flags byte; version
 * 2 as 3 with plain string lengths and no TYPE_ARTICLE_REF. */
int event_encode(const struct event *ev, uint8_t *buf, size_t cap)
{
    struct wbuf w = { buf, 0, cap, false };
    struct event copy = *ev;
    uint8_t smask = 0, nmask = 0, type = ev->type;
    bool article_number;

    if (ev->type > 15 || ev->vote > 3 || (ev->flags & ~EVENT_FLAGS_ALL) ||
        !refs_ok(ev))
        return -1;
    for (int k = 0; k < STR_COUNT; k++)
        if (str_field(&copy, k)->n > 0 || str_ref(ev, k) != 0)
            smask |= (uint8_t)(1u << k);
    if (id_packs(&ev->view_id))
        smask |= SMASK_ID_PACKED;
    if (ev->engaged_ms) nmask |= NUM_ENGAGED;
    if (ev->words) nmask |= NUM_WORDS;
    if (ev->results != EVENT_RESULTS_NONE && ev->type == EVENT_SEARCH)
        nmask |= NUM_RESULTS;
    if (ev->screen_w) nmask |= NUM_SCREEN;
    type |= article_form(ev, &article_number);
    if (article_number) nmask |= NUM_ARTICLE;
    if (ev->seq) nmask |= NUM_SEQ;
    if (ev->kind) nmask |= NUM_KIND;
    if (ev->scroll != EVENT_SCROLL_NONE) nmask |= NMASK_SCROLL;

    put_byte(&w, (uint8_t)(RECORD_V4_TAG | ev->flags));
    put_byte(&w, (uint8_t)(type | ev->vote << TYPE_VOTE_SHIFT));
    put_bytes(&w, ev->country, 2);
    put_varint(&w, ev->site_id);
    put_u64(&w, ev->visitor);
    put_byte(&w, smask);
    put_byte(&w, nmask);
    for (int k = 0; k < STR_COUNT; k++) {
        const struct event_str *s = str_field(&copy, k);
        uint32_t ref = str_ref(ev, k);
        if (ref != 0) {
            put_varint(&w, (uint64_t)ref << 1 | 1);
            continue;
        }
        if (s->n == 0)
            continue;
        put_varint(&w, (uint64_t)s->n << 1);
        if (k == STR_VIEW_ID && (smask & SMASK_ID_PACKED))
            put_packed_id(&w, s);
        else
            put_bytes(&w, s->p, s->n);
    }
    if (nmask & NUM_ENGAGED) put_varint(&w, ev->engaged_ms);
    if (nmask & NUM_WORDS) put_varint(&w, ev->words);
    if (nmask & NUM_RESULTS) put_varint(&w, ev->results);
    if (nmask & NUM_SCREEN) put_varint(&w, ev->screen_w);
    if ((nmask & NUM_ARTICLE) && (type & TYPE_ARTICLE_REF))
        put_varint(&w, ev->ref[EVENT_REF_ARTICLE]);
    else if (nmask & NUM_ARTICLE)
        put_u64(&w, ev->article);
    if (nmask & NUM_SEQ) put_varint(&w, ev->seq);
    if (nmask & NMASK_SCROLL) put_byte(&w, ev->scroll);
    if (nmask & NUM_KIND) put_byte(&w, ev->kind);
    return w.full ? -1 : (int)w.n;
}

struct rbuf {
    const uint8_t *p;
    size_t n, off;
    bool bad;
};

static uint8_t get_byte(struct rbuf *r)
{
    if (r->off >= r->n) {
        r->bad = true;
        return 0;
    }
    return r->p[r->off++];
}

static uint64_t get_varint(struct rbuf *r)
{
    uint64_t v;
    if (varint_get(r->p, r->n, &r->off, VARINT_MAX, &v) == 0)
        return v;
    r->bad = true;
    return 0;
}

static uint64_t get_u64(struct rbuf *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)get_byte(r) << (8 * i);
    return v;
}

/* Reads a view id of N characters packed 6 bits each into EV->id_buf. */
static void get_packed_id(struct rbuf *r, size_t n, struct event *ev)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && !r->bad; i++) {
        if (bits < 6) {
            acc |= (uint32_t)get_byte(r) << bits;
            bits += 8;
        }
        ev->id_buf[i] = id_alphabet[acc & 63];
        acc >>= 6;
        bits -= 6;
    }
    ev->view_id = (struct event_str){ ev->id_buf, (uint16_t)n };
}

/* The strings of a record (SMASK) of VERSION at R into EV; false when
 * damaged. */
static bool get_strings(struct rbuf *r, int version, uint8_t smask,
                        struct event *ev)
{
    for (int k = 0; k < STR_COUNT && !r->bad; k++) {
        if (!(smask & (1u << k)))
            continue;
        uint64_t n = get_varint(r);
        if (version >= RECORD_V3 && (n & 1)) {
            int ref = ref_of_str(k);
            if (ref < 0 || n >> 1 == 0 || n >> 1 > EVENT_REF_MAX)
                return false;
            ev->ref[ref] = (uint32_t)(n >> 1);
            continue;
        }
        if (version >= RECORD_V3)
            n >>= 1;
        if (k == STR_VIEW_ID && (smask & SMASK_ID_PACKED)) {
            if (n > EVENT_ID_MAX)
                return false;
            get_packed_id(r, (size_t)n, ev);
            continue;
        }
        if (n > UINT16_MAX || r->off + n > r->n)
            return false;
        struct event_str *s = str_field(ev, k);
        s->p = (const char *)r->p + r->off;
        s->n = (uint16_t)n;
        r->off += n;
    }
    return !r->bad;
}

/* The article of a record of VERSION with type byte TYPE and number mask
 * NMASK, whose strings EV already holds, from R into EV; false when
 * damaged. */
static bool get_article(struct rbuf *r, int version, uint8_t type,
                        uint8_t nmask, struct event *ev)
{
    bool by_ref = version >= RECORD_V3 && (type & TYPE_ARTICLE_REF);
    if ((by_ref && !(nmask & NUM_ARTICLE)) ||
        (version >= RECORD_V3 && (nmask & NUM_ARTICLE) &&
         (type & TYPE_ARTICLE_OF_PATH)))
        return false;                   /* versions 3, 4 write one form */
    if (by_ref) {
        uint64_t id = get_varint(r);
        if (id == 0 || id > EVENT_REF_MAX)
            return false;
        ev->ref[EVENT_REF_ARTICLE] = (uint32_t)id;
    } else if (nmask & NUM_ARTICLE) {
        ev->article = get_u64(r);
    }
    if (version == RECORD_V1 || !(type & TYPE_ARTICLE_OF_PATH))
        return true;
    if (ev->ref[EVENT_REF_PATH] != 0)
        ev->ref[EVENT_REF_ARTICLE] = EVENT_REF_OF_PATH;
    else
        ev->article = event_article_id(ev->path.p, ev->path.n);
    return true;
}

/* The record version of a record beginning with byte FIRST, or 0 for
 * none. */
static int record_version(uint8_t first)
{
    if ((first & ~RECORD_V4_FLAGS) == RECORD_V4_TAG)
        return RECORD_VERSION;
    return first >= RECORD_V1 && first <= RECORD_V3 ? first : 0;
}

int event_decode(const uint8_t *buf, size_t len, struct event *ev)
{
    struct rbuf r = { buf, len, 0, false };
    memset(ev, 0, sizeof *ev);
    uint8_t first = get_byte(&r);
    int version = record_version(first);
    if (version == 0)
        return -1;
    uint8_t type = get_byte(&r);
    ev->type = version == RECORD_V1 ? type : type & 15;
    ev->flags = version == RECORD_VERSION ? first & RECORD_V4_FLAGS
                                          : get_byte(&r);
    if (ev->flags & ~EVENT_FLAGS_ALL)
        return -1;                      /* no writer set it */
    ev->wire = (ev->flags & EVENT_FLAG_WIRE2) ? 2 : 1;
    if (version == RECORD_V1) {
        ev->scroll = get_byte(&r);
        ev->vote = get_byte(&r);
    } else {
        ev->scroll = EVENT_SCROLL_NONE;
        ev->vote = (type >> TYPE_VOTE_SHIFT) & 3;
    }
    ev->country[0] = (char)get_byte(&r);
    ev->country[1] = (char)get_byte(&r);
    ev->country[2] = '\0';
    ev->site_id = (uint32_t)get_varint(&r);
    ev->visitor = get_u64(&r);
    uint8_t smask = get_byte(&r), nmask = get_byte(&r);
    if (version == RECORD_V1 && ((smask | nmask) & 0x80))
        return -1;
    if (version == RECORD_V2 && (type & TYPE_ARTICLE_REF))
        return -1;
    if (!get_strings(&r, version, smask, ev))
        return -1;
    ev->results = EVENT_RESULTS_NONE;
    if (nmask & NUM_ENGAGED) ev->engaged_ms = (uint32_t)get_varint(&r);
    if (nmask & NUM_WORDS) ev->words = (uint32_t)get_varint(&r);
    if (nmask & NUM_RESULTS) ev->results = (uint32_t)get_varint(&r);
    if (nmask & NUM_SCREEN) ev->screen_w = (uint32_t)get_varint(&r);
    if (!get_article(&r, version, type, nmask, ev))
        return -1;
    if (nmask & NUM_SEQ) ev->seq = (uint16_t)get_varint(&r);
    if (nmask & NMASK_SCROLL) ev->scroll = get_byte(&r);
    if (nmask & NUM_KIND) ev->kind = get_byte(&r);
    if (r.bad || r.off != r.n || ev->type < EVENT_VIEW ||
        ev->type > EVENT_CUSTOM || ev->kind >= EVENT_PAGE_KINDS ||
        ev->vote > 3)
        return -1;
    return 0;
}

bool event_record_current(const uint8_t *buf, size_t len)
{
    return len > 0 && record_version(buf[0]) == RECORD_VERSION;
}
