/* chsource.c — see chsource.h. Each operation is one or two SQL queries
 * answered as TabSeparated text; the collector's rules are mirrored here
 * (src/store/apply.c), so that the rows equal the store's:
 *
 * - a view is its view_id's first counted `view` row (duplicates from a
 *   resent batch or another node count once); its follow-ups count on the
 *   view's day and article, in the view's bot class;
 * - engaged time: wire 2, the largest stored value; wire 1, the sum of the
 *   counted deltas, once per (node, seq); the histogram bucket is
 *   rollup_bucket_of_ms's, in SQL;
 * - a read: >= ROLLUP_READ_MS and a scroll to 100 % or past the first
 *   known depth (the page fits, or the reader scrolled);
 * - votes: the view's last vote; searches and custom events once per
 *   (view, ev_seq) when ev_seq > 0; only counted rows move anything;
 *   a follow-up's article (rollups and breakdowns) is its view row's, as
 *   the collector that stored it may not have seen the view;
 * - visitors: distinct per article and day (per day for the site row); per
 *   day in the class of the visitor's first view that day, over a range
 *   the (day, visitor) pairs of the class's views.
 *
 * The big queries read without FINAL (FINAL merges the range on one
 * thread): every aggregate is one a row stored twice cannot move. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/chsource.h"

#include "base/buf.h"
#include "base/crypto.h"
#include "base/fetch.h"
#include "base/time.h"
#include "dwell/rollup.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH_TIMEOUT_MS   30000
#define CH_REPLY_MAX    (512u << 20)    /* one answer at most */
#define CH_SQL_MAX      (1u << 20)
#define CH_FOLLOW_DAYS  3               /* follow-ups come this late at most
                                           (views are kept two days) */
#define CH_LED_HERE_US  (30ull * 60 * 1000000)

struct chsource {
    char url[512];             /* scheme://[user:pw@]host:port/ */
    char db[64];
};

/* One thread's source: its connection, site and last error. */
struct chrun {
    struct chsource *cs;
    struct fetch *f;
    char site[EVENT_SITE_MAX + 1];
    char err[256];
    bool failed;
};

/* --- opening ------------------------------------------------------------ */

int chsource_open(const char *spec, struct chsource **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (strncmp(spec, "clickhouse=", 11) == 0)
        spec += 11;
    const char *scheme_end = strstr(spec, "://");
    if (scheme_end == NULL || (strncmp(spec, "http://", 7) != 0 &&
                               strncmp(spec, "https://", 8) != 0)) {
        snprintf(err, errlen, "%s: not clickhouse=http://HOST:PORT/DB",
                 spec);
        return -1;
    }
    const char *slash = strchr(scheme_end + 3, '/');
    const char *db = slash ? slash + 1 : "";
    size_t dl = strlen(db);
    if (dl > 0 && db[dl - 1] == '/')
        dl--;
    if (slash == NULL || dl == 0 || dl >= sizeof(*out)->db) {
        snprintf(err, errlen, "%s: the URL must end with /DATABASE", spec);
        return -1;
    }
    for (size_t i = 0; i < dl; i++) {
        char c = db[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_')) {
            snprintf(err, errlen, "%s: a database name is letters, digits "
                     "and _", spec);
            return -1;
        }
    }
    struct chsource *cs = calloc(1, sizeof *cs);
    size_t ul = (size_t)(slash - spec) + 1;
    if (cs == NULL || ul >= sizeof cs->url) {
        free(cs);
        snprintf(err, errlen, cs ? "URL too long" : "out of memory");
        return -1;
    }
    memcpy(cs->url, spec, ul);
    memcpy(cs->db, db, dl);
    if (fetch_global_init() != 0) {
        free(cs);
        snprintf(err, errlen, "cannot initialise the HTTP client");
        return -1;
    }
    *out = cs;
    return 0;
}

void chsource_close(struct chsource *cs)
{
    free(cs);
}

/* --- asking ---------------------------------------------------------------- */

/* Remembers the first failure of R: PREFIX and WHAT. */
static void fail(struct chrun *r, const char *prefix, const char *what)
{
    if (!r->failed)
        snprintf(r->err, sizeof r->err, "%s%s", prefix, what);
    r->failed = true;
}

/* Runs SQL (FORMAT TabSeparated is added) and puts the answer in REPLY
 * (initialised here; the caller frees it). Returns 0, or -1 with R->err
 * set: no answer, or an error answer (its first line). */
static int ask(struct chrun *r, struct buf *sql, struct buf *reply)
{
    char err[200];
    long status = 0;
    buf_str(sql, " FORMAT TabSeparated");
    buf_init(reply, CH_REPLY_MAX);
    if (buf_failed(sql))
        return fail(r, "", "query too long"), -1;
    if (r->f == NULL && (r->f = fetch_new(CH_TIMEOUT_MS)) == NULL)
        return fail(r, "", "out of memory"), -1;
    if (fetch_post(r->f, r->cs->url, sql->p, sql->n, reply, &status, err,
                   sizeof err) != 0)
        return fail(r, "ClickHouse: ", err), -1;
    if (status != 200) {
        const char *p = reply->p ? reply->p : "";
        char line[160];
        size_t n = strcspn(p, "\n");
        n = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        snprintf(err, sizeof err, "HTTP %ld: %s", status, line);
        return fail(r, "ClickHouse: ", err), -1;
    }
    return 0;
}

/* Appends S as a quoted SQL string literal. */
static void put_str(struct buf *b, const char *s, size_t n)
{
    buf_put(b, "'", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            buf_put(b, "\\", 1);
        buf_put(b, &s[i], 1);
    }
    buf_put(b, "'", 1);
}

static void put_day(struct buf *b, uint32_t day)
{
    char d[TIME_DATE_LEN];
    time_format_date(day, d);
    buf_printf(b, "toDate('%s')", d);
}

/* The WHERE start of an events query whose rows must be distinct: the
 * table read FINAL (a resent batch merged away) and the site. */
static void put_events(struct buf *b, struct chrun *r)
{
    buf_printf(b, " FROM %s.events FINAL WHERE site = ", r->cs->db);
    put_str(b, r->site, strlen(r->site));
}

/* The same without FINAL, for a query that aggregates so that a row
 * stored twice cannot count twice (min, max, argMin, distinct counts):
 * FINAL merges the whole range on one thread, most of a report's time. */
static void put_events_raw(struct buf *b, struct chrun *r)
{
    buf_printf(b, " FROM %s.events WHERE site = ", r->cs->db);
    put_str(b, r->site, strlen(r->site));
}

/* --- reading TabSeparated ------------------------------------------------ */

/* Splits the next line of *P (up to END) into at most MAX fields, unescaping
 * each in place. Returns the field count, 0 at the end. */
static size_t next_row(char **p, char *end, char **fields, size_t max)
{
    if (*p >= end)
        return 0;
    char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));
    char *stop = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    size_t n = 0;
    char *w = line, *s = line;
    fields[n++] = w;
    for (; s < stop; s++) {
        if (*s == '\t') {
            *w++ = '\0';
            if (n == max)
                break;
            fields[n++] = w;
        } else if (*s == '\\' && s + 1 < stop) {
            char c = *++s;
            *w++ = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r'
                 : c == '0' ? '\0' : c == 'b' ? '\b' : c == 'f' ? '\f' : c;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return n;
}

static uint64_t u64(const char *s)
{
    return strtoull(s, NULL, 10);
}

/* Reads a sumMap tuple "([k,k],[v,v])" into A (N slots), adding. */
static void read_map(const char *s, uint32_t *a, size_t n)
{
    const char *k = strchr(s, '[');
    const char *v = k ? strchr(k + 1, '[') : NULL;
    if (k == NULL || v == NULL)
        return;
    k++;
    v++;
    while (*k && *k != ']' && *v && *v != ']') {
        char *ke, *ve;
        unsigned long long key = strtoull(k, &ke, 10);
        unsigned long long val = strtoull(v, &ve, 10);
        if (ke == k || ve == v)
            return;
        if (key < n)
            a[key] += (uint32_t)val;
        k = *ke == ',' ? ke + 1 : ke;
        v = *ve == ',' ? ve + 1 : ve;
    }
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* --- articles -------------------------------------------------------------- */

/* Asks for the article records (one article, or all when ID is 0). */
static int ask_articles(struct chrun *r, uint64_t id, struct buf *reply)
{
    struct buf b;
    buf_init(&b, CH_SQL_MAX);
    buf_str(&b, "SELECT article, toUInt32(min(day)), toUInt32(max(day)), "
            "argMaxIf(words, time_us, words != 0), "
            "argMax(page_kind, time_us), any(path), "
            "argMaxIf(title, time_us, title != ''), "
            "argMaxIf(category, time_us, category != '')");
    put_events_raw(&b, r);
    buf_str(&b, " AND type = 'view' AND counted = 1");
    if (id)
        buf_printf(&b, " AND article = %llu", (unsigned long long)id);
    buf_str(&b, " GROUP BY article ORDER BY article");
    int rc = ask(r, &b, reply);
    buf_free(&b);
    return rc;
}

static void read_article(char **f, struct store_article *a)
{
    memset(a, 0, sizeof *a);
    a->id = u64(f[0]);
    a->first_day = (uint32_t)u64(f[1]);
    a->last_day = (uint32_t)u64(f[2]);
    a->words = (uint32_t)u64(f[3]);
    int k = f[4][0] ? event_page_kind_of(f[4]) : EVENT_PAGE_ARTICLE;
    a->kind = (uint8_t)(k < 0 ? EVENT_PAGE_ARTICLE : k);
    copy_field(a->path, sizeof a->path, f[5]);
    copy_field(a->title, sizeof a->title, f[6]);
    copy_field(a->category, sizeof a->category, f[7]);
}

static int ch_articles_each(void *ctx, uint32_t site_id,
                            int (*fn)(void *, const struct store_article *),
                            void *fctx)
{
    struct chrun *r = ctx;
    struct buf reply;
    (void)site_id;
    int rc = ask_articles(r, 0, &reply);
    char *p = reply.p, *end = reply.p + reply.n, *f[8];
    struct store_article a;
    while (rc == 0 && next_row(&p, end, f, 8) == 8) {
        read_article(f, &a);
        if (fn(fctx, &a) != 0)
            break;
    }
    buf_free(&reply);
    return rc;
}

static int ch_article_get(void *ctx, uint32_t site_id, uint64_t id,
                          struct store_article *out)
{
    struct chrun *r = ctx;
    struct buf reply;
    (void)site_id;
    if (id == 0)
        return 1;
    int rc = ask_articles(r, id, &reply);
    char *p = reply.p, *end = reply.p + reply.n, *f[8];
    if (rc == 0)
        rc = next_row(&p, end, f, 8) == 8 ? (read_article(f, out), 0) : 1;
    buf_free(&reply);
    return rc;
}

/* --- rollups ---------------------------------------------------------------- */

/* Which rollup rows a query asks for. */
enum scope { SCOPE_SITE, SCOPE_ALL, SCOPE_ONE };

struct chday {
    uint64_t article;
    uint32_t day;
    struct rollup_day d;
};

struct chdays {
    struct chday *v;
    size_t n, cap;
};

/* Appends " AND day >= FROM AND day <= TO". */
static void put_days(struct buf *b, uint32_t from, uint32_t to)
{
    buf_str(b, " AND day >= ");
    put_day(b, from);
    buf_str(b, " AND day <= ");
    put_day(b, to);
}

/* The per-view subquery: one row per view of the range FROM..TO with its
 * article, day, class, visitor and final state. Searches, links and custom
 * events (few) are counted apart and joined: a distinct-count state on
 * every view would not fit in memory at millions of views. No FINAL: every
 * aggregate is one that a row stored twice (a resent batch) cannot move —
 * the first view, maxima, the last vote, distinct counts; the wire-1 deltas
 * are summed once per (node, seq), their hashes kept beside them. */
static void put_views(struct buf *b, struct chrun *r, enum scope sc,
                      uint64_t article, uint32_t from, uint32_t to,
                      bool bots)
{
    buf_str(b, "SELECT * FROM (SELECT view_id, "
            "argMinIf(article, time_us, type = 'view') AS art, "
            "toUInt32(argMinIf(day, time_us, type = 'view')) AS vday, "
            "argMinIf(bot, time_us, type = 'view') AS vbot, "
            "argMinIf(visitor, time_us, type = 'view') AS vis, "
            "argMinIf(scroll, time_us, type = 'view') AS vs, "
            "countIf(type != 'view' AND scroll != 255) AS fn, "
            "argMinIf(scroll, time_us, type != 'view' AND scroll != 255) "
            "AS ff, "
            "maxIf(scroll, type != 'view' AND scroll != 255) AS fm, "
            "maxIf(engaged_ms, type != 'view' AND wire = 2) AS e2, "
            "groupArrayIf(cityHash64(node, seq), type != 'view' AND "
            "wire != 2 AND engaged_ms != 0) AS e1k, "
            "groupArrayIf(engaged_ms, type != 'view' AND wire != 2 AND "
            "engaged_ms != 0) AS e1v, "
            "argMaxIf(vote, time_us, type = 'vote') AS vt");
    put_events_raw(b, r);
    buf_str(b, " AND counted = 1");
    put_days(b, from, to + CH_FOLLOW_DAYS);
    buf_printf(b, " GROUP BY view_id HAVING countIf(type = 'view') > 0 "
               "AND vday >= %u AND vday <= %u", from, to);
    if (!bots)
        buf_str(b, " AND vbot = 0");
    if (sc == SCOPE_ONE)
        buf_printf(b, " AND art = %llu", (unsigned long long)article);
    buf_str(b, ") ANY LEFT JOIN (SELECT view_id, "
            "uniqExactIf(cityHash64(node, seq), type = 'search' AND "
            "ev_seq = 0) + "
            "uniqExactIf(ev_seq, type = 'search' AND ev_seq > 0) AS srch, "
            "uniqExactIf(name, type = 'link') AS lnk, "
            "uniqExactIf(cityHash64(node, seq), type = 'event' AND "
            "ev_seq = 0) + "
            "uniqExactIf(ev_seq, type = 'event' AND ev_seq > 0) AS evs");
    put_events_raw(b, r);
    buf_str(b, " AND counted = 1 AND type IN ('search', 'link', 'event')");
    put_days(b, from, to + CH_FOLLOW_DAYS);
    buf_str(b, " GROUP BY view_id) USING view_id");
}

/* The rollup counters per (article, day): PER_DAY, else per article.
 * Over a range (not PER_DAY) the last column is the distinct visitors per
 * day, summed: (day, visitor) pairs of the views kept. */
static int ask_rollups(struct chrun *r, enum scope sc, uint64_t article,
                       uint32_t from, uint32_t to, bool bots, bool per_day,
                       struct buf *reply)
{
    struct buf b;
    buf_init(&b, CH_SQL_MAX);
    buf_printf(&b, "SELECT %s, %s, count(), sum(rd), sum(vt = 1), "
               "sum(vt = -1), sum(srch), sum(lnk), sum(evs), sum(eng), "
               "sumMap([bk], [toUInt64(1)]), sumMap([sb], [toUInt64(1)]), "
               "%s FROM (SELECT art, vday, vis, vt, srch, lnk, evs, eng, "
               "toUInt16(multiIf(eng < 60000, toUInt64(intDiv(eng, 1000)), "
               "eng < 300000, toUInt64(60 + intDiv(eng - 60000, 5000)), "
               "eng < 3600000, toUInt64(108 + intDiv(eng - 300000, 30000)), "
               "toUInt64(218))) "
               "AS bk, toUInt8(if(fin >= 100, 10, intDiv(fin, 10))) AS sb, "
               "eng >= %u AND (fin >= 100 OR (s0 != 255 AND fin > s0)) "
               "AS rd FROM (SELECT *, "
               "if(vs != 255, vs, if(fn > 0, ff, 255)) AS s0, "
               "greatest(if(vs = 255, 0, vs), if(fn > 0, fm, 0)) AS fin, "
               "greatest(e2, arraySum(arrayFilter((v, k, i) -> "
               "indexOf(e1k, k) = i, e1v, e1k, arrayEnumerate(e1k)))) AS eng "
               "FROM (",
               sc == SCOPE_SITE ? "toUInt64(0) AS a" : "art AS a",
               per_day ? "vday AS d" : "toUInt32(0) AS d",
               per_day ? "toUInt64(0)" : "uniqExact(cityHash64(vday, vis))",
               ROLLUP_READ_MS);
    put_views(&b, r, sc, article, from, to, bots);
    buf_str(&b, "))) GROUP BY a, d ORDER BY a, d");
    int rc = ask(r, &b, reply);
    buf_free(&b);
    return rc;
}

/* Distinct visitors per (article, day), in their first view's class: the
 * per-day rows (a distinct set per row would not fit at millions). */
static int ask_visitors(struct chrun *r, enum scope sc, uint64_t article,
                        uint32_t from, uint32_t to, bool bots,
                        struct buf *reply)
{
    struct buf b;
    buf_init(&b, CH_SQL_MAX);
    buf_printf(&b, "SELECT a, vday, count() FROM (SELECT %s AS a, "
               "toUInt32(day) AS vday, visitor, argMin(bot, time_us) AS b",
               sc == SCOPE_SITE ? "toUInt64(0)" : "article");
    put_events_raw(&b, r);
    buf_str(&b, " AND type = 'view' AND counted = 1");
    put_days(&b, from, to);
    if (sc == SCOPE_ONE)
        buf_printf(&b, " AND article = %llu", (unsigned long long)article);
    buf_printf(&b, " GROUP BY a, vday, visitor)%s GROUP BY a, vday "
               "ORDER BY a, vday", bots ? "" : " WHERE b = 0");
    int rc = ask(r, &b, reply);
    buf_free(&b);
    return rc;
}

static int cmp_day(const void *pa, const void *pb)
{
    const struct chday *a = pa, *b = pb;
    if (a->article != b->article)
        return a->article < b->article ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

/* Fills OUT with the rollup rows of the query, sorted by (article, day);
 * the site row keeps counters only, as the store's does. */
static int fetch_days(struct chrun *r, enum scope sc, uint64_t article,
                      uint32_t from, uint32_t to, bool bots, bool per_day,
                      struct chdays *out)
{
    struct buf main, vis;
    memset(out, 0, sizeof *out);
    if (ask_rollups(r, sc, article, from, to, bots, per_day, &main) != 0) {
        buf_free(&main);
        return -1;
    }
    char *p = main.p, *end = main.p + main.n, *f[13];
    while (next_row(&p, end, f, 13) == 13) {
        if (buf_grow_array(&out->v, &out->cap, out->n + 1, sizeof *out->v,
                           SIZE_MAX) != 0) {
            buf_free(&main);
            return fail(r, "", "out of memory"), -1;
        }
        struct chday *c = &out->v[out->n++];
        memset(c, 0, sizeof *c);
        c->article = u64(f[0]);
        c->day = per_day ? (uint32_t)u64(f[1]) : to;
        struct rollup_day *d = &c->d;
        d->views = (uint32_t)u64(f[2]);
        d->reads = (uint32_t)u64(f[3]);
        d->votes_up = (uint32_t)u64(f[4]);
        d->votes_down = (uint32_t)u64(f[5]);
        d->searches = (uint32_t)u64(f[6]);
        d->visitors = (uint32_t)u64(f[12]);
        if (sc != SCOPE_SITE) {
            d->links = (uint32_t)u64(f[7]);
            d->events = (uint32_t)u64(f[8]);
            d->engaged_ms = u64(f[9]);
            read_map(f[10], d->hist, ROLLUP_HIST_BUCKETS);
            read_map(f[11], d->scroll, ROLLUP_SCROLL_BUCKETS);
        }
    }
    buf_free(&main);
    if (!per_day)
        return 0;
    if (ask_visitors(r, sc, article, from, to, bots, &vis) != 0) {
        buf_free(&vis);
        return -1;
    }
    p = vis.p;
    end = vis.p + vis.n;
    while (next_row(&p, end, f, 3) == 3) {
        struct chday key = { .article = u64(f[0]),
                             .day = (uint32_t)u64(f[1]) };
        struct chday *c = out->n ? bsearch(&key, out->v, out->n,
                                           sizeof *out->v, cmp_day) : NULL;
        if (c)
            c->d.visitors = (uint32_t)u64(f[2]);
    }
    buf_free(&vis);
    return 0;
}

static int ch_rollups_each(void *ctx, uint32_t site_id, uint64_t article,
                           uint32_t from, uint32_t to, bool include_bots,
                           bool per_day, store_rollup_fn fn, void *fctx)
{
    struct chrun *r = ctx;
    struct chdays days;
    (void)site_id;
    enum scope sc = article == 0 ? SCOPE_SITE
                  : article == STORE_ALL_ARTICLES ? SCOPE_ALL : SCOPE_ONE;
    if (fetch_days(r, sc, article, from, to, include_bots, per_day,
                   &days) != 0) {
        free(days.v);
        return -1;
    }
    for (size_t i = 0; i < days.n; i++)
        if (fn(fctx, days.v[i].article, days.v[i].day, &days.v[i].d) != 0)
            break;
    free(days.v);
    return 0;
}

/* An article's index in IDS, by its id. */
struct id_index {
    uint64_t id;
    size_t i;
};

static int cmp_id(const void *pa, const void *pb)
{
    const struct id_index *a = pa, *b = pb;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int ch_sums_each(void *ctx, uint32_t site_id, const uint64_t *ids,
                        size_t n, const struct store_range *ranges, size_t nr,
                        bool include_bots, store_sums_fn fn, void *fctx)
{
    struct chrun *r = ctx;
    (void)site_id;
    if (n == 0)
        return 0;
    struct rollup_day *sums = calloc(n * nr, sizeof *sums);
    struct id_index *idx = malloc(n * sizeof *idx);
    int rc = sums && idx ? 0 : -1;
    if (rc != 0)
        fail(r, "", "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        idx[i] = (struct id_index){ ids[i], i };
    if (rc == 0)
        qsort(idx, n, sizeof *idx, cmp_id);
    for (size_t k = 0; rc == 0 && k < nr; k++) {
        struct chdays days;
        rc = fetch_days(r, SCOPE_ALL, 0, ranges[k].from, ranges[k].to,
                        include_bots, false, &days);
        for (size_t j = 0; rc == 0 && j < days.n; j++) {
            struct id_index key = { days.v[j].article, 0 };
            struct id_index *at = bsearch(&key, idx, n, sizeof *idx, cmp_id);
            if (at)
                sums[at->i * nr + k] = days.v[j].d;
        }
        free(days.v);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (fn(fctx, i, &sums[i * nr]) != 0)
            break;
    free(sums);
    free(idx);
    return rc;
}

/* --- breakdowns ------------------------------------------------------------- */

/* Searches that led to views of ARTICLE: each view credits its visitor's
 * last search before it, if no more than 30 minutes before (the store's
 * "searched" record), on the view's day and class. */
static int led_here(struct chrun *r, uint64_t article, uint32_t from,
                    uint32_t to, bool bots,
                    int (*fn)(void *, const char *, size_t, uint64_t),
                    void *fctx)
{
    struct buf b, reply;
    buf_init(&b, CH_SQL_MAX);
    buf_printf(&b, "SELECT q, count() FROM (SELECT vt, "
               "arrayFilter(x -> x.1 < vt, ss) AS before, "
               "length(before) > 0 ? before[length(before)] : (toUInt64(0), '') AS s, "
               "s.2 AS q, s.1 AS st FROM (SELECT visitor, "
               "min(time_us) AS vt FROM %s.events WHERE site = ",
               r->cs->db);
    put_str(&b, r->site, strlen(r->site));
    buf_printf(&b, " AND type = 'view' AND counted = 1 AND article = %llu",
               (unsigned long long)article);
    buf_str(&b, " AND day >= ");
    put_day(&b, from);
    buf_str(&b, " AND day <= ");
    put_day(&b, to);
    if (!bots)
        buf_str(&b, " AND bot = 0");
    buf_printf(&b, " GROUP BY view_id, visitor) ANY INNER JOIN (SELECT "
               "visitor, arraySort(x -> x.1, groupArray((time_us, query))) "
               "AS ss FROM %s.events WHERE site = ", r->cs->db);
    put_str(&b, r->site, strlen(r->site));
    buf_str(&b, " AND type = 'search' AND counted = 1 AND day >= ");
    put_day(&b, from > 0 ? from - 1 : 0);
    buf_str(&b, " AND day <= ");
    put_day(&b, to);
    buf_printf(&b, " GROUP BY visitor) USING visitor) WHERE st > 0 AND "
               "vt - st <= %llu GROUP BY q",
               (unsigned long long)CH_LED_HERE_US);
    int rc = ask(r, &b, &reply);
    buf_free(&b);
    char *p = reply.p, *end = reply.p + reply.n, *f[2];
    while (rc == 0 && next_row(&p, end, f, 2) == 2)
        if (fn(fctx, f[0], strlen(f[0]), u64(f[1])) != 0)
            break;
    buf_free(&reply);
    return rc;
}

static int ch_dims_each(void *ctx, uint32_t site_id, uint64_t article,
                        enum store_dim dim, uint32_t from, uint32_t to,
                        bool include_bots,
                        int (*fn)(void *, const char *, size_t, uint64_t),
                        void *fctx)
{
    struct chrun *r = ctx;
    (void)site_id;
    if (dim == STORE_DIM_LED_HERE)
        return led_here(r, article, from, to, include_bots, fn, fctx);
    struct buf b, reply;
    buf_init(&b, CH_SQL_MAX);
    /* a search or custom event counts once per (view, ev_seq), else once
     * per stored row: a resent batch or a retry through the other node
     * cannot count twice */
    const char *value, *type, *extra = "",
               *count = "uniqExact(if(ev_seq > 0, cityHash64(view_id, ev_seq),"
                        " cityHash64(node, seq)))";
    switch (dim) {
    case STORE_DIM_COUNTRY:
        value = "toString(country)", type = "view";
        count = "uniqExact(view_id)";
        break;
    case STORE_DIM_REFERRER:
        value = "if(referrer = '', '(direct)', referrer)", type = "view";
        count = "uniqExact(view_id)";
        break;
    case STORE_DIM_SEARCH:
        value = "query", type = "search", extra = " AND results != 0";
        break;
    case STORE_DIM_SEARCH_ZERO:
        value = "query", type = "search", extra = " AND results = 0";
        break;
    default:
        value = "name", type = "event";
        break;
    }
    buf_printf(&b, "SELECT %s AS v, %s", value, count);
    put_events_raw(&b, r);
    buf_printf(&b, " AND type = '%s' AND counted = 1%s", type, extra);
    put_days(&b, from, to);
    if (!include_bots)
        buf_str(&b, " AND bot = 0");
    if (article != 0 && strcmp(type, "view") == 0) {
        buf_printf(&b, " AND article = %llu", (unsigned long long)article);
    } else if (article != 0) {
        /* a follow-up's article is its view's: the collector that stored
         * it may not have seen the view (article 0 there) */
        buf_printf(&b, " AND view_id IN (SELECT view_id FROM %s.events "
                   "WHERE site = ", r->cs->db);
        put_str(&b, r->site, strlen(r->site));
        buf_printf(&b, " AND type = 'view' AND counted = 1 AND "
                   "article = %llu", (unsigned long long)article);
        put_days(&b, from > CH_FOLLOW_DAYS ? from - CH_FOLLOW_DAYS : 0, to);
        buf_str(&b, ")");
    } else if (dim != STORE_DIM_SEARCH && dim != STORE_DIM_SEARCH_ZERO)
        buf_str(&b, " AND 0");           /* the site row has searches only */
    buf_str(&b, " GROUP BY v");
    int rc = ask(r, &b, &reply);
    buf_free(&b);
    char *p = reply.p, *end = reply.p + reply.n, *f[2];
    while (rc == 0 && next_row(&p, end, f, 2) == 2) {
        size_t len = strlen(f[0]);
        if (dim == STORE_DIM_COUNTRY)       /* FixedString(2) pads with NUL */
            len = len > 2 ? 2 : len;
        if (fn(fctx, f[0], len, u64(f[1])) != 0)
            break;
    }
    buf_free(&reply);
    return rc;
}

/* --- tickets, links, identities, visits --------------------------------------- */

/* Reads 64 hex digits into OUT. Returns true if S was that. */
static bool read_key(const char *s, uint8_t out[32])
{
    return strlen(s) == 64 && crypto_unhex(s, 64, out) == 0;
}

/* Reads the tags of an Array(String) "['a','b']" into T. */
static void read_tags(const char *s, struct store_ticket *t)
{
    while (*s && t->ntags < STORE_TICKET_TAGS) {
        const char *q = strchr(s, '\'');
        if (q == NULL)
            return;
        char *tag = t->tags[t->ntags];
        size_t n = 0;
        for (q++; *q && *q != '\''; q++) {
            if (*q == '\\' && q[1])
                q++;
            if (n < STORE_TICKET_TAG_MAX)
                tag[n++] = *q;
        }
        tag[n] = '\0';
        t->ntags++;
        s = *q ? q + 1 : q;
    }
}

static void read_ticket(char **f, struct store_ticket *t)
{
    memset(t, 0, sizeof *t);
    copy_field(t->id, sizeof t->id, f[0]);
    t->created_us = u64(f[1]);
    copy_field(t->link, sizeof t->link, f[2]);
    t->has_email = read_key(f[3], t->email_key);
    t->has_requester = read_key(f[4], t->requester_key);
    copy_field(t->channel, sizeof t->channel, f[5]);
    read_tags(f[6], t);
}

/* Asks for tickets created in [FROM_US, TO_US), or ticket ID. */
static int ask_tickets(struct chrun *r, uint64_t from_us, uint64_t to_us,
                       const char *id, struct buf *reply)
{
    struct buf b;
    buf_init(&b, CH_SQL_MAX);
    buf_printf(&b, "SELECT ticket_id, created_us, link, email_key, "
               "requester_key, channel, tags FROM %s.tickets FINAL "
               "WHERE site = ", r->cs->db);
    put_str(&b, r->site, strlen(r->site));
    if (id) {
        buf_str(&b, " AND ticket_id = ");
        put_str(&b, id, strlen(id));
    } else {
        buf_printf(&b, " AND created_us >= %llu AND created_us < %llu",
                   (unsigned long long)from_us, (unsigned long long)to_us);
    }
    buf_str(&b, " ORDER BY created_us, ticket_id");
    int rc = ask(r, &b, reply);
    buf_free(&b);
    return rc;
}

static int ch_tickets_each(void *ctx, uint32_t site_id, uint64_t from_us,
                           uint64_t to_us,
                           int (*fn)(void *, const struct store_ticket *),
                           void *fctx)
{
    struct chrun *r = ctx;
    struct buf reply;
    struct store_ticket t;
    (void)site_id;
    int rc = ask_tickets(r, from_us, to_us, NULL, &reply);
    char *p = reply.p, *end = reply.p + reply.n, *f[7];
    while (rc == 0 && next_row(&p, end, f, 7) == 7) {
        read_ticket(f, &t);
        if (fn(fctx, &t) != 0)
            break;
    }
    buf_free(&reply);
    return rc;
}

static int ch_ticket_get(void *ctx, uint32_t site_id, const char *id,
                         struct store_ticket *out)
{
    struct chrun *r = ctx;
    struct buf reply;
    (void)site_id;
    int rc = ask_tickets(r, 0, 0, id, &reply);
    char *p = reply.p, *end = reply.p + reply.n, *f[7];
    if (rc == 0)
        rc = next_row(&p, end, f, 7) == 7 ? (read_ticket(f, out), 0) : 1;
    buf_free(&reply);
    return rc;
}

static int ch_link_get(void *ctx, uint32_t site_id, const char *link,
                       uint64_t *time_us, uint64_t visitors[2])
{
    struct chrun *r = ctx;
    struct buf b, reply;
    (void)site_id;
    buf_init(&b, CH_SQL_MAX);
    buf_str(&b, "SELECT time_us, visitor, visitor_prev");
    put_events(&b, r);
    buf_str(&b, " AND type = 'link' AND counted = 1 AND name = ");
    put_str(&b, link, strlen(link));
    buf_str(&b, " ORDER BY time_us DESC LIMIT 1");
    int rc = ask(r, &b, &reply);
    buf_free(&b);
    char *p = reply.p, *end = reply.p + reply.n, *f[3];
    if (rc == 0) {
        rc = next_row(&p, end, f, 3) == 3 ? 0 : 1;
        if (rc == 0) {
            *time_us = u64(f[0]);
            visitors[0] = u64(f[1]);
            visitors[1] = u64(f[2]);
        }
    }
    buf_free(&reply);
    return rc;
}

static int ch_identity_each(void *ctx, uint32_t site_id,
                            const uint8_t identity[32], uint64_t from_us,
                            uint64_t to_us,
                            int (*fn)(void *, uint64_t, uint64_t),
                            void *fctx)
{
    struct chrun *r = ctx;
    struct buf b, reply;
    char hex[65];
    (void)site_id;
    crypto_hex(identity, 32, hex);
    buf_init(&b, CH_SQL_MAX);
    buf_str(&b, "SELECT time_us, visitor");
    put_events(&b, r);
    buf_str(&b, " AND type = 'identify' AND name = ");
    put_str(&b, hex, 64);
    buf_printf(&b, " AND time_us >= %llu AND time_us < %llu ORDER BY "
               "time_us", (unsigned long long)from_us,
               (unsigned long long)to_us);
    int rc = ask(r, &b, &reply);
    buf_free(&b);
    char *p = reply.p, *end = reply.p + reply.n, *f[2];
    while (rc == 0 && next_row(&p, end, f, 2) == 2)
        if (fn(fctx, u64(f[0]), u64(f[1])) != 0)
            break;
    buf_free(&reply);
    return rc;
}

static int ch_visits_each(void *ctx, uint32_t site_id, uint64_t visitor,
                          uint64_t from_us, uint64_t to_us,
                          store_visit_fn fn, void *fctx)
{
    struct chrun *r = ctx;
    struct buf b, reply;
    (void)site_id;
    buf_init(&b, CH_SQL_MAX);
    buf_str(&b, "SELECT time_us, type = 'view', article, query, "
            "results = 0");
    put_events(&b, r);
    buf_printf(&b, " AND visitor = %llu AND bot = 0 AND counted = 1 AND "
               "type IN ('view', 'search') AND time_us >= %llu AND "
               "time_us <= %llu ORDER BY time_us",
               (unsigned long long)visitor, (unsigned long long)from_us,
               (unsigned long long)to_us);
    int rc = ask(r, &b, &reply);
    buf_free(&b);
    char *p = reply.p, *end = reply.p + reply.n, *f[5];
    while (rc == 0 && next_row(&p, end, f, 5) == 5) {
        bool view = f[1][0] == '1';
        if (fn(fctx, u64(f[0]), view ? u64(f[2]) : 0, view ? NULL : f[3],
               view ? 0 : strlen(f[3]), f[4][0] == '1') != 0)
            break;
    }
    buf_free(&reply);
    return rc;
}

static const char *ch_error(void *ctx)
{
    struct chrun *r = ctx;
    return r->failed ? r->err : NULL;
}

static const struct report_source_ops ch_ops = {
    ch_articles_each, ch_article_get, ch_rollups_each, ch_sums_each,
    ch_dims_each, ch_tickets_each, ch_ticket_get, ch_link_get,
    ch_identity_each, ch_visits_each, ch_error, false
};

int chsource_begin(struct chsource *cs, const char *site,
                   struct report_source *out)
{
    struct chrun *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    r->cs = cs;
    copy_field(r->site, sizeof r->site, site);
    *out = (struct report_source){ &ch_ops, r };
    return 0;
}

void chsource_end(struct report_source *src)
{
    struct chrun *r = src->ctx;
    if (r == NULL)
        return;
    fetch_free(r->f);
    free(r);
    src->ctx = NULL;
}

int chsource_ping(struct chsource *cs, char *err, size_t errlen)
{
    struct report_source src;
    if (chsource_begin(cs, "", &src) != 0)
        return snprintf(err, errlen, "out of memory"), -1;
    struct chrun *r = src.ctx;
    struct buf b, reply;
    buf_init(&b, 256);
    buf_printf(&b, "SELECT count() FROM %s.events WHERE 0", cs->db);
    int rc = ask(r, &b, &reply);
    if (rc != 0)
        snprintf(err, errlen, "%s", r->err);
    buf_free(&b);
    buf_free(&reply);
    chsource_end(&src);
    return rc;
}
