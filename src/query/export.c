/* export.c — see export.h. NDJSON is written through the streaming JSON
 * writer (base/json.h), member by member in a fixed order; the schema of
 * `dwell export` is one table of fields (field_names) that both formats
 * write, NDJSON the fields of a record's type, CSV every column. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/export.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/time.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One line is far below this; a writer past it fails rather than cut. */
#define EXPORT_LINE_MAX 16384

/* Writes member KEY with the string S, up to its first NUL and at most
 * 1023 bytes (as the export always wrote it). */
static void put_str(struct json *j, const char *key, const struct event_str *s)
{
    size_t n = s->n < 1023 ? s->n : 1023;
    const char *nul = n ? memchr(s->p, '\0', n) : NULL;
    if (nul != NULL)
        n = (size_t)(nul - s->p);
    json_key(j, key);
    json_string_n(j, n ? s->p : "", n);
}

/* Writes the members only events of EV's type have. */
static void put_typed(struct json *j, const struct event *ev)
{
    switch (ev->type) {
    case EVENT_VIEW:
        put_str(j, "title", &ev->title);
        put_str(j, "referrer", &ev->referrer);
        put_str(j, "category", &ev->category);
        put_str(j, "lang", &ev->lang);
        json_key_uint(j, "words", ev->words);
        json_key_uint(j, "screen_width", ev->screen_w);
        if (ev->kind != EVENT_PAGE_ARTICLE)
            json_key_string(j, "page", event_page_kind_name(ev->kind));
        break;
    case EVENT_VOTE:
        json_key_string(j, "vote", ev->vote == EVENT_VOTE_UP ? "up" : "down");
        break;
    case EVENT_SEARCH:
        put_str(j, "query", &ev->text);
        json_key(j, "results");
        if (ev->results == EVENT_RESULTS_NONE)
            json_null(j);
        else
            json_uint(j, ev->results);
        break;
    case EVENT_LINK:
        put_str(j, "link", &ev->text);
        break;
    case EVENT_IDENTIFY:
        put_str(j, "identity", &ev->text);
        break;
    case EVENT_CUSTOM:
        put_str(j, "name", &ev->text);
        break;
    default:
        break;
    }
}

int export_event_ndjson(const struct event *ev, FILE *out)
{
    char when[TIME_ISO_LEN];
    struct json j;
    json_init(&j, EXPORT_LINE_MAX);
    time_format_iso8601(ev->time_us, when);
    json_object_begin(&j);
    json_key_string(&j, "time", when);
    json_key_string(&j, "type", event_type_name(ev->type));
    put_str(&j, "view", &ev->view_id);
    put_str(&j, "path", &ev->path);
    json_key_uint(&j, "engaged_ms", ev->engaged_ms);
    json_key(&j, "scroll");
    if (ev->scroll == EVENT_SCROLL_NONE)
        json_null(&j);
    else
        json_uint(&j, ev->scroll);
    json_key_string(&j, "country", ev->country);
    char visitor[17];
    snprintf(visitor, sizeof visitor, "%016" PRIx64, ev->visitor);
    json_key_string(&j, "visitor", visitor);
    json_key_bool(&j, "bot", (ev->flags & EVENT_FLAG_BOT) != 0);
    if (ev->flags & EVENT_FLAG_AUTOMATED)
        json_key_bool(&j, "automated", true);
    if (ev->flags & EVENT_FLAG_PIXEL)
        json_key_bool(&j, "pixel", true);
    if (ev->wire >= 2)
        json_key_uint(&j, "wire", ev->wire);
    if (ev->seq)
        json_key_uint(&j, "seq", ev->seq);
    put_typed(&j, ev);
    json_object_end(&j);
    json_newline(&j);
    size_t len;
    char *line = json_finish(&j, &len);
    if (line == NULL)
        return -1;
    int rc = fwrite(line, 1, len, out) == len ? 0 : -1;
    free(line);
    return rc;
}

/* --- dwell export: schema 1 ------------------------------------------------ */

/* The fields of schema 1, in CSV column order; docs/export.md lists the
 * same names (tests/http/export.py checks both against each other). */
enum {
    X_V, X_TYPE, X_TIME, X_SITE, X_VIEW, X_PATH, X_TITLE, X_CATEGORY,
    X_WORDS, X_PAGE, X_LANG, X_REFERRER, X_SCREEN, X_COUNTRY, X_BOT,
    X_AUTOMATED, X_PIXEL, X_WIRE, X_ENGAGED, X_SCROLL, X_VOTE, X_QUERY,
    X_RESULTS, X_SEQ, X_NAME, X_IDENTITY, X_LINK, X_TICKET, X_CHANNEL,
    X_TAGS, X_REQUESTER, X_COUNT
};

static const char *const field_names[X_COUNT] = {
    "v", "type", "time", "site", "view", "path", "title", "category",
    "words", "page", "lang", "referrer", "screen_width", "country", "bot",
    "automated", "pixel", "wire", "engaged_ms", "scroll", "vote", "query",
    "results", "seq", "name", "identity", "link", "ticket", "channel",
    "tags", "requester"
};

/* One field's value in a record: absent (not a field of this type), a
 * string (N bytes), an integer, a boolean or null. */
struct xval {
    enum { XV_NONE, XV_STR, XV_INT, XV_BOOL, XV_NULL } t;
    const char *s;
    size_t n;
    uint64_t i;
};

struct xrec {
    struct xval f[X_COUNT];
};

#define EXPORT_STR_MAX 1023

static void set_str_n(struct xrec *r, int k, const char *s, size_t n)
{
    const char *nul = n ? memchr(s, '\0', n) : NULL;
    if (nul != NULL)
        n = (size_t)(nul - s);
    r->f[k] = (struct xval){ XV_STR, n ? s : "", n < EXPORT_STR_MAX ? n
                             : EXPORT_STR_MAX, 0 };
}

static void set_str(struct xrec *r, int k, const char *s)
{
    set_str_n(r, k, s, strlen(s));
}

static void set_estr(struct xrec *r, int k, const struct event_str *s)
{
    set_str_n(r, k, s->p, s->n);
}

static void set_int(struct xrec *r, int k, uint64_t v)
{
    r->f[k] = (struct xval){ XV_INT, NULL, 0, v };
}

static void set_bool(struct xrec *r, int k, bool v)
{
    r->f[k] = (struct xval){ XV_BOOL, NULL, 0, v };
}

static void set_null(struct xrec *r, int k)
{
    r->f[k] = (struct xval){ XV_NULL, NULL, 0, 0 };
}

/* Writes R as one NDJSON line to B: its present fields in column order. */
static void put_ndjson(struct buf *b, const struct xrec *r)
{
    struct json j;
    json_init(&j, EXPORT_LINE_MAX);
    json_object_begin(&j);
    for (int k = 0; k < X_COUNT; k++) {
        const struct xval *v = &r->f[k];
        if (v->t == XV_NONE)
            continue;
        json_key(&j, field_names[k]);
        if (v->t == XV_STR)
            json_string_n(&j, v->s, v->n);
        else if (v->t == XV_INT)
            json_uint(&j, v->i);
        else if (v->t == XV_BOOL)
            json_bool(&j, v->i != 0);
        else
            json_null(&j);
    }
    json_object_end(&j);
    json_newline(&j);
    size_t len;
    char *line = json_finish(&j, &len);
    if (line == NULL) {
        b->failed = true;
        return;
    }
    buf_put(b, line, len);
    free(line);
}

/* Appends S (N bytes) as one CSV field: quoted when it holds ',', '"',
 * CR or LF, or when it starts with one of = + - @ ' (then also led by an
 * apostrophe, so a spreadsheet never runs it as a formula; a reader strips
 * one leading apostrophe from any text value). */
static void put_csv_str(struct buf *b, const char *s, size_t n)
{
    bool lead = n > 0 && strchr("=+-@'", s[0]) != NULL;
    bool quote = lead;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        buf_put(b, s, n);
        return;
    }
    buf_put(b, lead ? "\"'" : "\"", lead ? 2 : 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            buf_put(b, "\"", 1);
        buf_put(b, s + i, 1);
    }
    buf_put(b, "\"", 1);
}

/* Writes R as one CSV row to B: every column, empty where absent or null. */
static void put_csv(struct buf *b, const struct xrec *r)
{
    for (int k = 0; k < X_COUNT; k++) {
        const struct xval *v = &r->f[k];
        if (k > 0)
            buf_put(b, ",", 1);
        if (v->t == XV_STR)
            put_csv_str(b, v->s, v->n);
        else if (v->t == XV_INT)
            buf_printf(b, "%" PRIu64, v->i);
        else if (v->t == XV_BOOL)
            buf_str(b, v->i ? "true" : "false");
    }
    buf_put(b, "\r\n", 2);
}

/* Articles recently looked up, by id: engage, vote, … records carry only
 * their article's id. Direct-mapped; a miss reads the store. */
#define ARTICLE_CACHE 256

struct article_slot {
    uint64_t id;               /* 0: empty */
    int found;                 /* 1: A holds it; 0: the store has none */
    struct store_article a;
};

struct exporter {
    struct store *st;
    const struct export_options *o;
    FILE *out;
    struct buf line;
    struct article_slot *cache;
    export_progress_fn progress;
    void *ctx;
    struct export_result *res;
    int failed;                /* 1: write error, 2: storage error */
    /* where a pass of store_events_each resumes */
    uint64_t last_us;
    size_t at_last;            /* records at LAST_US already written */
    size_t skip;               /* of those, still to skip in this pass */
    size_t in_pass;
    size_t pass;               /* records per pass */
    bool more;                 /* the pass stopped early: another one */
    char tags[STORE_TICKET_TAGS * (STORE_TICKET_TAG_MAX + 1) + 1];
};

/* The article ID of the site, or NULL when the store has none. */
static const struct store_article *article_of(struct exporter *x,
                                              uint32_t site, uint64_t id)
{
    struct article_slot *s = &x->cache[id % ARTICLE_CACHE];
    if (id == 0)
        return NULL;
    if (s->id != id) {
        int rc = store_article_get(x->st, site, id, &s->a);
        if (rc < 0)
            return NULL;
        s->id = id;
        s->found = rc == 0;
    }
    return s->found ? &s->a : NULL;
}

/* Writes the line in X->line to the output; returns 0 or -1. */
static int flush_line(struct exporter *x)
{
    if (buf_failed(&x->line) ||
        fwrite(x->line.p, 1, x->line.n, x->out) != x->line.n) {
        x->failed = 1;
        return -1;
    }
    buf_reset(&x->line);
    return 0;
}

static int write_rec(struct exporter *x, const struct xrec *r)
{
    if (x->o->format == EXPORT_CSV)
        put_csv(&x->line, r);
    else
        put_ndjson(&x->line, r);
    return flush_line(x);
}

/* The fields every record has. */
static void set_common(struct xrec *r, const char *type, uint64_t us,
                       const char *site, char when[TIME_ISO_LEN])
{
    memset(r, 0, sizeof *r);
    time_format_iso8601(us, when);
    set_int(r, X_V, EXPORT_SCHEMA_VERSION);
    set_str(r, X_TYPE, type);
    set_str(r, X_TIME, when);
    set_str(r, X_SITE, site);
}

/* Fills the fields of event EV (the article's for records other than a
 * view) into R. */
static void set_event(struct exporter *x, struct xrec *r,
                      const struct event *ev)
{
    const struct store_article *a = ev->type == EVENT_VIEW ? NULL
        : article_of(x, ev->site_id, ev->article);
    set_estr(r, X_VIEW, &ev->view_id);
    set_estr(r, X_PATH, &ev->path);
    if (ev->type == EVENT_VIEW) {
        set_estr(r, X_TITLE, &ev->title);
        set_estr(r, X_CATEGORY, &ev->category);
        set_int(r, X_WORDS, ev->words);
        set_str(r, X_PAGE, event_page_kind_name(ev->kind));
        set_estr(r, X_LANG, &ev->lang);
        set_estr(r, X_REFERRER, &ev->referrer);
        set_int(r, X_SCREEN, ev->screen_w);
    } else {
        set_str(r, X_TITLE, a ? a->title : "");
        set_str(r, X_CATEGORY, a ? a->category : "");
        set_int(r, X_WORDS, a ? a->words : 0);
        if (a != NULL)
            set_str(r, X_PAGE, event_page_kind_name(a->kind));
        else
            set_str(r, X_PAGE, "");
    }
    set_str_n(r, X_COUNTRY, ev->country, strnlen(ev->country, 2));
    set_bool(r, X_BOT, (ev->flags & EVENT_FLAG_BOT) != 0);
    set_bool(r, X_AUTOMATED, (ev->flags & EVENT_FLAG_AUTOMATED) != 0);
    set_bool(r, X_PIXEL, (ev->flags & EVENT_FLAG_PIXEL) != 0);
    set_int(r, X_WIRE, ev->wire ? ev->wire : 1);
    if (ev->scroll == EVENT_SCROLL_NONE)
        set_null(r, X_SCROLL);
    else
        set_int(r, X_SCROLL, ev->scroll);
    switch (ev->type) {
    case EVENT_ENGAGE:
        set_int(r, X_ENGAGED, ev->engaged_ms);
        break;
    case EVENT_VOTE:
        set_str(r, X_VOTE, ev->vote == EVENT_VOTE_UP ? "up" : "down");
        break;
    case EVENT_SEARCH:
        set_estr(r, X_QUERY, &ev->text);
        if (ev->results == EVENT_RESULTS_NONE)
            set_null(r, X_RESULTS);
        else
            set_int(r, X_RESULTS, ev->results);
        set_int(r, X_SEQ, ev->seq);
        break;
    case EVENT_CUSTOM:
        set_estr(r, X_NAME, &ev->text);
        set_int(r, X_SEQ, ev->seq);
        break;
    case EVENT_IDENTIFY:
        set_estr(r, X_IDENTITY, &ev->text);
        break;
    case EVENT_LINK:
        set_estr(r, X_LINK, &ev->text);
        break;
    default:
        break;
    }
}

/* Read transactions of the event walk end after this many records, so
 * that an export under load never pins old pages for long. */
#define EXPORT_PASS 2000
/* Tickets are read by id, pages far apart: shorter passes. */
#define EXPORT_TICKET_PASS 250

/* Counts the record at US for resuming; returns false when it was
 * written by the pass before (to be skipped). */
static bool pass_mark(struct exporter *x, uint64_t us)
{
    if (us == x->last_us && x->skip > 0) {
        x->skip--;
        return false;
    }
    if (us != x->last_us) {
        x->last_us = us;
        x->at_last = 0;
    }
    x->at_last++;
    return true;
}

/* Ends the pass after X->pass records: returns 1 to stop the walk. */
static int pass_count(struct exporter *x)
{
    if (++x->in_pass < x->pass)
        return 0;
    x->more = true;
    return 1;
}


static int take_event(void *ctx, const struct event *ev)
{
    struct exporter *x = ctx;
    if (ev->time_us >= x->o->to_us)
        return 1;
    if (!pass_mark(x, ev->time_us))
        return 0;
    if (x->o->types & (1u << ev->type)) {
        struct xrec r;
        char when[TIME_ISO_LEN];
        set_common(&r, event_type_name(ev->type), ev->time_us,
                   x->o->site, when);
        set_event(x, &r, ev);
        if (write_rec(x, &r) != 0)
            return 1;
        x->res->events++;
        if (x->progress != NULL)
            x->progress(x->ctx, x->res->events + x->res->tickets);
    }
    return pass_count(x);
}

/* Writes the events of the range, in passes of EXPORT_PASS records, each
 * in a read transaction of its own. Returns 0, or -1 (FAILED set). */
static int export_events(struct exporter *x)
{
    x->last_us = x->o->from_us;
    x->at_last = 0;
    x->pass = EXPORT_PASS;
    do {
        x->more = false;
        x->in_pass = 0;
        x->skip = x->at_last;
        if (store_events_each(x->st, x->o->site_id, x->last_us, 0,
                              take_event, x) != 0 && !x->failed)
            x->failed = 2;
        store_release_pages(x->st);
    } while (x->more && !x->failed);
    return x->failed ? -1 : 0;
}

static int take_ticket(void *ctx, const struct store_ticket *t)
{
    struct exporter *x = ctx;
    if (!pass_mark(x, t->created_us))
        return 0;
    struct xrec r;
    char when[TIME_ISO_LEN], req[17];
    set_common(&r, "ticket", t->created_us, x->o->site, when);
    size_t at = 0;
    for (size_t i = 0; i < t->ntags; i++) {
        size_t n = strlen(t->tags[i]);
        if (i > 0)
            x->tags[at++] = ',';
        memcpy(x->tags + at, t->tags[i], n);
        at += n;
    }
    x->tags[at] = '\0';
    set_str(&r, X_LINK, t->link);
    set_str(&r, X_TICKET, t->id);
    set_str(&r, X_CHANNEL, t->channel);
    set_str(&r, X_TAGS, x->tags);
    req[0] = '\0';
    if (t->has_requester || t->has_email)
        crypto_hex(t->has_requester ? t->requester_key : t->email_key, 8,
                   req);
    set_str(&r, X_REQUESTER, req);
    if (write_rec(x, &r) != 0)
        return 1;
    x->res->tickets++;
    if (x->progress != NULL)
        x->progress(x->ctx, x->res->events + x->res->tickets);
    return pass_count(x);
}

/* Writes the tickets of the range in passes, as export_events does. */
static int export_tickets(struct exporter *x)
{
    x->last_us = x->o->from_us;
    x->at_last = 0;
    x->pass = EXPORT_TICKET_PASS;
    do {
        x->more = false;
        x->in_pass = 0;
        x->skip = x->at_last;
        if (store_tickets_each(x->st, x->o->site_id, x->last_us, x->o->to_us,
                               take_ticket, x) != 0 && !x->failed)
            x->failed = 2;
        store_release_pages(x->st);
    } while (x->more && !x->failed);
    return x->failed ? -1 : 0;
}

int export_types_of(const char *s, unsigned *out)
{
    static const struct { const char *name; unsigned bit; } types[] = {
        { "view", 1u << EVENT_VIEW },       { "engage", 1u << EVENT_ENGAGE },
        { "vote", 1u << EVENT_VOTE },       { "search", 1u << EVENT_SEARCH },
        { "link", 1u << EVENT_LINK },
        { "identify", 1u << EVENT_IDENTIFY },
        { "event", 1u << EVENT_CUSTOM },    { "ticket", EXPORT_TICKETS },
        { "all", EXPORT_ALL },
    };
    unsigned bits = 0;
    while (s != NULL && *s) {
        size_t n = strcspn(s, ","), i = 0;
        while (i < sizeof types / sizeof types[0] &&
               (strlen(types[i].name) != n ||
                strncmp(types[i].name, s, n) != 0))
            i++;
        if (i == sizeof types / sizeof types[0])
            return -1;
        bits |= types[i].bit;
        s += n + (s[n] == ',');
    }
    if (bits == 0)
        return -1;
    *out = bits;
    return 0;
}

const char *export_csv_header(void)
{
    static char header[512];
    if (header[0] == '\0') {
        size_t at = 0;
        for (int k = 0; k < X_COUNT; k++) {
            size_t n = strlen(field_names[k]);
            if (k > 0)
                header[at++] = ',';
            memcpy(header + at, field_names[k], n);
            at += n;
        }
        memcpy(header + at, "\r\n", 3);
    }
    return header;
}

int export_site(struct store *st, const struct export_options *o, FILE *out,
                export_progress_fn progress, void *ctx,
                struct export_result *res)
{
    struct exporter x = { .st = st, .o = o, .out = out, .progress = progress,
                          .ctx = ctx, .res = res };
    memset(res, 0, sizeof *res);
    buf_init(&x.line, EXPORT_LINE_MAX);
    x.cache = calloc(ARTICLE_CACHE, sizeof *x.cache);
    if (x.cache == NULL)
        return -1;
    if (o->format == EXPORT_CSV &&
        fputs(export_csv_header(), out) == EOF)
        x.failed = 1;
    if (!x.failed && (o->types & EXPORT_EVENTS) != 0)
        export_events(&x);
    if (!x.failed && (o->types & EXPORT_TICKETS) != 0)
        export_tickets(&x);
    free(x.cache);
    buf_free(&x.line);
    if (!x.failed && fflush(out) != 0)
        x.failed = 1;
    return x.failed ? -1 : 0;
}
