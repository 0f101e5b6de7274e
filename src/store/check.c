/* check.c — see store.h: store_check walks every database, decodes every
 * record with the codec and compares the daily rollups' view counts with a
 * recount from the raw events. A floor of its own above env.c and codec.c;
 * nothing calls it but the command line. */
#define _POSIX_C_SOURCE 200809L
#include "store/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "dwell/log.h"
#include "dwell/rollup.h"
#include "dwell/visitor.h"
#include "store/codec.h"
#include "store/env.h"
#include "store/erase.h"
#include "store/retention.h"

#define CHECK_SHOWN_PER_DB 10     /* problems printed per database at most */

static const char *const check_names[DB_COUNT] = {
    "meta", "sites", "events", "views", "articles", "daily", "daily_dim",
    "seen", "links", "searched", "tokens", "cum", "dirty", "visits",
    "idents", "tickets", "ticket_times", "recent", "heads"
};

/* One view counted: from the raw events (ID: a hash of its view id) or
 * from a rollup row. */
struct counted {
    uint64_t id, time_us, article;
    uint32_t site, day, views;
    int cls;
};

/* The walk's state: where problems go and the view counts gathered. */
struct check {
    store_check_fn fn;
    void *ctx;
    uint32_t only_site;           /* 0: every site */
    size_t problems, shown;
    struct counted *raw, *rows;
    size_t nraw, craw, nrows, crows;
    bool oom;
    bool unreadable;              /* a database could not be read whole */
    uint32_t retained;            /* days before it lost raw events */
    size_t skipped;               /* rows of such days, not compared */
};

/* Reports one problem (printed while fewer than CHECK_SHOWN_PER_DB of
 * this database were). */
static void problem(struct check *c, const char *fmt, ...)
    DWELL_PRINTF(2, 3);

static void problem(struct check *c, const char *fmt, ...)
{
    c->problems++;
    if (c->shown++ >= CHECK_SHOWN_PER_DB)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->fn(c->ctx, line);
}

/* Appends X to the array *A (N used of CAP); false when memory runs out. */
static bool push(struct check *c, struct counted **a, size_t *n, size_t *cap,
                 const struct counted *x)
{
    if (*n == *cap) {
        size_t next = *cap ? *cap * 2 : 1024;
        struct counted *p = realloc(*a, next * sizeof *p);
        if (p == NULL) {
            c->oom = true;
            return false;
        }
        *a = p;
        *cap = next;
    }
    (*a)[(*n)++] = *x;
    return true;
}

/* FNV-1a of SITE and the view id: the identity of a view. */
static uint64_t view_hash(uint32_t site, const struct event_str *id)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 4; i++)
        h = (h ^ ((site >> (8 * i)) & 0xff)) * 1099511628211ull;
    for (size_t i = 0; i < id->n; i++)
        h = (h ^ (uint8_t)id->p[i]) * 1099511628211ull;
    return h;
}

/* True when meta record (K, V) is one dwell writes, well formed. */
static bool meta_ok(const MDB_val *k, const MDB_val *v)
{
    uint32_t day, u;
    if (salt_key_day(k, &day))
        return v->mv_size == VISITOR_SALT_LEN;
    if (k->mv_size > 8 && memcmp(k->mv_data, "note", 4) == 0)
        return true;
    if (k->mv_size == REMOVING_PREFIX_LEN + 4 &&
        memcmp(k->mv_data, REMOVING_PREFIX, REMOVING_PREFIX_LEN) == 0)
        return v->mv_size > 0 && v->mv_size <= EVENT_SITE_MAX;
    static const char *const u32s[] = { "schema", "site_seq", "final",
                                        "settling", RETAINED_KEY };
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
        if (k->mv_size == strlen(u32s[i]) &&
            memcmp(k->mv_data, u32s[i], k->mv_size) == 0)
            return u32_read(v, &u);
    return k->mv_size == 6 && memcmp(k->mv_data, "secret", 6) == 0 &&
           v->mv_size == 32;
}

/* True when a rollup record of LEN bytes at P decodes. */
static bool rollup_ok(const void *p, size_t len)
{
    struct rollup_day d;
    return rollup_decode(p, len, &d) == 0;
}

/* A view event (K, V) of the events database, gathered for the recount. */
static bool event_ok(struct check *c, const MDB_val *k, const MDB_val *v)
{
    uint64_t t;
    uint32_t seq;
    struct event ev;
    if (!event_key_read(k, &t, &seq) ||
        event_decode(v->mv_data, v->mv_size, &ev) != 0)
        return false;
    if (ev.type != EVENT_VIEW ||
        (c->only_site && ev.site_id != c->only_site))
        return true;
    struct counted x = { view_hash(ev.site_id, &ev.view_id), t, ev.article,
                         ev.site_id, day_of_us(t), 1,
                         (ev.flags & EVENT_FLAG_BOT) ? 1 : 0 };
    push(c, &c->raw, &c->nraw, &c->craw, &x);
    return true;
}

/* A daily or recent row (K, V): decoded, its view count gathered. */
static bool daily_ok(struct check *c, const MDB_val *k, const MDB_val *v)
{
    struct rollup_day d;
    if (k->mv_size != DAILY_KEY_LEN ||
        rollup_decode(v->mv_data, v->mv_size, &d) != 0)
        return false;
    uint32_t site = key_site(k->mv_data);
    uint64_t article = key_article(k->mv_data);
    if (article == 0 || (c->only_site && site != c->only_site))
        return true;
    struct counted x = { 0, 0, article, site, key_day(k->mv_data), d.views,
                         key_class(k->mv_data) };
    push(c, &c->rows, &c->nrows, &c->crows, &x);
    return true;
}

/* True when record (K, V) of database DB decodes as the codec writes it. */
static bool record_ok(struct check *c, int db, const MDB_val *k,
                      const MDB_val *v)
{
    union {
        struct site site;
        struct store_article article;
        struct store_token token;
        struct store_ticket ticket;
        struct view_rec view;
        struct link_rec link;
        struct visit visit;
        struct head head;
    } u;
    uint32_t s, x32;
    uint64_t a, x64;
    int cls;
    const char *p;
    size_t n;
    switch (db) {
    case DB_META:
        if (k->mv_size == strlen(RETAINED_KEY) &&
            memcmp(k->mv_data, RETAINED_KEY, k->mv_size) == 0)
            u32_read(v, &c->retained);
        return meta_ok(k, v);
    case DB_SITES:
        return site_unpack(k->mv_data, k->mv_size, v, &u.site) == 0;
    case DB_EVENTS:
        return event_ok(c, k, v);
    case DB_VIEWS:
        return k->mv_size > 4 && view_read(v, &u.view);
    case DB_ARTICLES:
        return k->mv_size == SITE_ID_KEY_LEN &&
               store_article_unpack(k, v, &u.article) == 0;
    case DB_DAILY:
    case DB_RECENT:
        return daily_ok(c, k, v);
    case DB_CUM:
        return k->mv_size == DAILY_KEY_LEN &&
               rollup_ok(v->mv_data, v->mv_size);
    case DB_DIM:
        return k->mv_size >= DIM_KEY_LEN && u32_read(v, &x32);
    case DB_SEEN:
        return seen_key_day(k, &x32) && v->mv_size == 0;
    case DB_LINKS:
        return k->mv_size > 4 && link_read(v, &u.link);
    case DB_SEARCHED:
        return k->mv_size == SITE_ID_KEY_LEN &&
               searched_read(v, &x64, &p, &n);
    case DB_TOKENS:
        return token_unpack(k, v, &u.token) == 0;
    case DB_DIRTY:
        return class_key_read(k, &s, &a, &cls) && u32_read(v, &x32);
    case DB_VISITS:
        return visit_read(k, v, &u.visit);
    case DB_IDENTS:
        return ident_key_time(k, &x64) && u64_read(v, &x64);
    case DB_TICKETS:
        return ticket_unpack(k, v, &u.ticket) == 0;
    case DB_TICKET_TIMES:
        return ticket_time_read(k, &x64, &p, &n) && v->mv_size == 0;
    case DB_HEADS:
        return class_key_read(k, &s, &a, &cls) && head_read(v, &u.head) &&
               rollup_ok(u.head.rec, u.head.len);
    }
    return false;
}

/* Walks database DB in TXN, checking every record. Returns its records. */
static size_t check_db(struct check *c, struct store *st, MDB_txn *txn,
                       int db)
{
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;
    c->shown = 0;
    int rc = mdb_cursor_open(txn, st->dbi[db], &cur);
    if (rc != 0) {
        problem(c, "%s: cannot be read: %s", check_names[db],
                mdb_strerror(rc));
        c->unreadable = true;
        return 0;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        n++;
        if (!record_ok(c, db, &k, &v))
            problem(c, "%s: record %zu (key of %zu bytes, value of %zu) "
                    "does not decode", check_names[db], n, k.mv_size,
                    v.mv_size);
    }
    if (rc != MDB_NOTFOUND) {
        problem(c, "%s: damaged after record %zu: %s", check_names[db], n,
                mdb_strerror(rc));
        c->unreadable = true;
    }
    mdb_cursor_close(cur);
    return n;
}

static int by_view(const void *pa, const void *pb)
{
    const struct counted *a = pa, *b = pb;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return a->time_us < b->time_us ? -1 : a->time_us > b->time_us;
}

static int by_row(const void *pa, const void *pb)
{
    const struct counted *a = pa, *b = pb;
    if (a->site != b->site)
        return a->site < b->site ? -1 : 1;
    if (a->article != b->article)
        return a->article < b->article ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return a->cls - b->cls;
}

/* Sums the views of rows that share a key in the sorted array A (N);
 * returns the rows left. */
static size_t merge_rows(struct counted *a, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out > 0 && by_row(&a[out - 1], &a[i]) == 0)
            a[out - 1].views += a[i].views;
        else
            a[out++] = a[i];
    }
    return out;
}

/* Compares the rollups' views per article, day and class with the raw
 * events' distinct views. Returns the rows compared. */
static size_t compare_views(struct check *c)
{
    qsort(c->raw, c->nraw, sizeof *c->raw, by_view);
    size_t kept = 0;               /* each view once: its first event */
    for (size_t i = 0; i < c->nraw; i++)
        if (kept == 0 || c->raw[kept - 1].id != c->raw[i].id)
            c->raw[kept++] = c->raw[i];
    qsort(c->raw, kept, sizeof *c->raw, by_row);
    size_t nraw = merge_rows(c->raw, kept);
    qsort(c->rows, c->nrows, sizeof *c->rows, by_row);
    size_t nrows = merge_rows(c->rows, c->nrows);
    size_t i = 0, j = 0, compared = 0;
    c->shown = 0;
    while (i < nraw || j < nrows) {
        int cmp = i == nraw ? 1 : j == nrows ? -1
                : by_row(&c->raw[i], &c->rows[j]);
        const struct counted *r = cmp <= 0 ? &c->raw[i] : &c->rows[j];
        uint32_t have = cmp >= 0 ? c->rows[j].views : 0;
        uint32_t want = cmp <= 0 ? c->raw[i].views : 0;
        char day[TIME_DATE_LEN];
        time_format_date(r->day, day);
        if (r->day < c->retained)
            c->skipped++;
        else if (have != want)
            problem(c, "rollups: site %u article %016llx day %s %s: field "
                    "views: stored %u, recomputed from the raw events %u",
                    r->site, (unsigned long long)r->article, day,
                    r->cls ? "bots" : "readers", have, want);
        if (r->day >= c->retained)
            compared++;
        if (cmp <= 0)
            i++;
        if (cmp >= 0)
            j++;
    }
    return compared;
}

int store_check(struct store *st, uint32_t only_site, store_check_fn fn,
                void *ctx, struct store_check_result *out)
{
    struct check c = { .fn = fn, .ctx = ctx, .only_site = only_site };
    MDB_txn *txn;
    memset(out, 0, sizeof *out);
    int rc = store_read_begin(st, &txn);
    if (rc != 0) {
        problem(&c, "cannot begin a read: %s", mdb_strerror(rc));
        out->problems = c.problems;
        return -1;
    }
    for (int db = 0; db < DB_COUNT && txn; db++) {
        out->records += check_db(&c, st, txn, db);
        if (!c.unreadable || db + 1 == DB_COUNT)
            continue;
        /* LMDB fails the whole transaction on a damaged page: the next
         * databases are read in a fresh one */
        store_read_end(st, txn);
        if (store_read_begin(st, &txn) != 0)
            txn = NULL;
    }
    if (txn)
        store_read_end(st, txn);
    c.shown = 0;
    if (c.unreadable)
        problem(&c, "rollups: not recounted (a database could not be read "
                "whole)");
    else if (c.oom)
        problem(&c, "rollups: out of memory, views not recounted");
    else
        out->rows = compare_views(&c);
    out->skipped = c.skipped;
    out->retained = c.retained;
    free(c.raw);
    free(c.rows);
    out->problems = c.problems;
    return 0;
}
