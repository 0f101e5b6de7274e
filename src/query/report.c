/* report.c — see report.h. Every number here comes from the daily rollups
 * read through store.h; formulas are in docs/metrics.md. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/report.h"
#include "dwell/source.h"
#include "base/buf.h"
#include "base/time.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Parses a day count of 1 .. REPORT_MAX_DAYS. Returns 0, or -1. */
static int parse_days(const char *s, uint32_t *out)
{
    uint32_t n = 0;
    if (s == NULL || s[0] == '\0' || strlen(s) > 4)
        return -1;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        n = n * 10 + (uint32_t)(*c - '0');
    }
    if (n == 0 || n > REPORT_MAX_DAYS)
        return -1;
    *out = n;
    return 0;
}

int report_range_resolve(const struct report_range_ask *ask,
                         uint32_t default_days, uint32_t today,
                         struct report_range *out, const char **param,
                         const char **why)
{
    uint32_t n = default_days, from = 0, to = 0;
    memset(out, 0, sizeof *out);
    *param = *why = NULL;
    if (ask->days && parse_days(ask->days, &n) != 0)
        return *param = "days", *why = "must be 1–3660", -1;
    if (ask->days && ask->from && ask->to)
        return *param = "days", *why = "give from and to, or days", -1;
    if (ask->from && time_parse_date(ask->from, &from) != 0)
        return *param = "from", *why = "not a date (YYYY-MM-DD)", -1;
    if (ask->to && time_parse_date(ask->to, &to) != 0)
        return *param = "to", *why = "not a date (YYYY-MM-DD)", -1;
    if (ask->to == NULL) {
        uint32_t yesterday = today > 0 ? today - 1 : 0;
        if (ask->from && ask->days)
            to = from + (n - 1);
        else
            to = ask->from && from > yesterday ? from : yesterday;
    }
    out->asked_to = to;
    if (to > today) {
        to = today;
        out->clamped = true;
    }
    if (ask->from == NULL)
        from = to >= n - 1 ? to - (n - 1) : 0;
    if (from > to)
        return *param = "from", *why = out->clamped ? "after today (UTC)"
                                                    : "after to", -1;
    if (to - from >= REPORT_MAX_DAYS)
        return *param = "from", *why = "range longer than 3660 days", -1;
    out->from = from;
    out->to = to;
    out->today = today;
    return 0;
}

/* --- one row ----------------------------------------------------------------- */

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : NAN;
}

void report_derive(struct report_row *r, const struct rollup_day *s)
{
    int quick = rollup_bucket_of_ms(ROLLUP_QUICK_EXIT_MS);
    r->views = s->views;
    r->visitors = s->visitors;
    r->reads = s->reads;
    r->votes_up = s->votes_up;
    r->votes_down = s->votes_down;
    r->quick_exits = 0;
    for (int b = 0; b < quick; b++)
        r->quick_exits += s->hist[b];
    r->read_throughs = s->scroll[9] + s->scroll[10];
    static const double qs[3] = { 0.50, 0.75, 0.90 };
    double qv[3];
    rollup_quantiles_ms(s->hist, qs, 3, qv);
    r->p50_ms = qv[0];
    r->p75_ms = qv[1];
    r->p90_ms = qv[2];
    r->mean_ms = r->views ? (double)s->engaged_ms / (double)r->views : NAN;
    r->read_rate = ratio(r->reads, r->views);
    r->read_through = ratio(r->read_throughs, r->views);
    r->quick_exit_rate = ratio(r->quick_exits, r->views);
    r->helpful_rate = ratio(s->votes_up, (uint64_t)s->votes_up + s->votes_down);
    double expected_ms = r->a.words * 60000.0 / REPORT_WPM;
    r->read_ratio = (r->views && r->a.words) ? r->p50_ms / expected_ms : NAN;
    r->views_change = r->views_prev
        ? ((double)r->views - (double)r->views_prev) / (double)r->views_prev
        : NAN;
}

/* --- the article list ---------------------------------------------------------- */

struct collect {
    struct report_row *rows;
    size_t n, cap;
    char *text;                  /* each row's path, title and category */
    size_t len, text_cap;
    size_t *at;                  /* where row i's path starts in text */
    size_t at_cap;
    const struct report_query *q;
    bool every_kind;             /* also pages the tables do not list */
};

int report_parse_kinds(const char *s, unsigned *kinds)
{
    if (s == NULL)
        return -1;
    if (strcmp(s, "all") == 0) {
        *kinds = (1u << EVENT_PAGE_KINDS) - 1;
        return 0;
    }
    unsigned mask = 0;
    for (;;) {
        char name[16];
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof name)
            return -1;
        memcpy(name, s, n);
        name[n] = '\0';
        int k = event_page_kind_of(name);
        if (k < 0)
            return -1;
        mask |= 1u << k;
        if (s[n] == '\0')
            break;
        s += n + 1;
    }
    *kinds = mask;
    return 0;
}

/* True when Q's article tables list pages of KIND. */
static bool listed(const struct report_query *q, uint8_t kind)
{
    unsigned mask = q->kinds ? q->kinds : 1u << EVENT_PAGE_ARTICLE;
    return kind < EVENT_PAGE_KINDS && (mask & (1u << kind)) != 0;
}

static bool matches(const struct report_query *q, const struct store_article *a)
{
    if (q->prefix && strncmp(a->path, q->prefix, strlen(q->prefix)) != 0)
        return false;
    if (q->category && strcmp(a->category, q->category) != 0)
        return false;
    return true;
}

/* Points V's strings at A's (a view that lives as long as A). */
static void view_article(struct report_article *v,
                         const struct store_article *a)
{
    v->id = a->id;
    v->words = a->words;
    v->kind = a->kind;
    v->path = a->path;
    v->title = a->title;
    v->category = a->category;
}

/* Appends S with its NUL to C's text. */
static void put_text(struct collect *c, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(c->text + c->len, s, n);
    c->len += n;
}

/* Keeps A as a row: its numbers in the row, its strings in C's text (the
 * row's pointers are set by point_rows once the text stops moving). */
static int collect_article(void *ctx, const struct store_article *a)
{
    struct collect *c = ctx;
    if (!matches(c->q, a) || (!c->every_kind && !listed(c->q, a->kind)))
        return 0;
    size_t need = strlen(a->path) + strlen(a->title) + strlen(a->category) + 3;
    if (buf_grow_array(&c->rows, &c->cap, c->n + 1, sizeof *c->rows,
                       SIZE_MAX) != 0 ||
        buf_grow_array(&c->at, &c->at_cap, c->n + 1, sizeof *c->at,
                       SIZE_MAX) != 0 ||
        buf_grow_array(&c->text, &c->text_cap, c->len + need, 1,
                       SIZE_MAX) != 0)
        return -1;
    struct report_row *r = &c->rows[c->n];
    memset(r, 0, sizeof *r);
    r->a.id = a->id;
    r->a.words = a->words;
    r->a.kind = a->kind;
    c->at[c->n++] = c->len;
    put_text(c, a->path);
    put_text(c, a->title);
    put_text(c, a->category);
    return 0;
}

/* Points every row's path, title and category into C's text. */
static void point_rows(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct report_article *a = &c->rows[i].a;
        a->path = c->text + c->at[i];
        a->title = a->path + strlen(a->path) + 1;
        a->category = a->title + strlen(a->title) + 1;
    }
}

/* One share of the articles, summed and derived on its own thread. */
struct share {
    const struct report_source *src;
    const struct report_query *q;
    struct report_row *rows;
    const uint64_t *ids;
    size_t n, nr;
    struct store_range ranges[2];
    struct rollup_day *totals;   /* NULL, or the share's sums of both */
    int rc;
};

/* Fills row I of the share from its sums (the range, then the previous
 * period) and derives its metrics. */
static int fill_row(void *ctx, size_t i, const struct rollup_day *sums)
{
    struct share *s = ctx;
    struct report_row *r = &s->rows[i];
    if (s->nr > 1 && sums[1].views > 0) {
        r->views_prev = sums[1].views;
        r->p50_prev_ms = rollup_quantile_ms(sums[1].hist, 0.5);
    }
    report_derive(r, &sums[0]);
    for (size_t k = 0; s->totals != NULL && k < s->nr; k++)
        rollup_add(&s->totals[k], &sums[k]);
    return 0;
}

static void *sum_share(void *arg)
{
    struct share *s = arg;
    s->rc = s->src->ops->rollup_sums_each(s->src->ctx, s->q->site_id,
                                          s->ids, s->n, s->ranges, s->nr,
                                          s->q->include_bots, fill_row, s);
    return NULL;
}

/* Sums and derives every row over the range and the previous one, on two
 * threads when there are many articles (the machine's two cores); adds the
 * rows' sums of both periods to TOTALS[0] and [1] unless it is NULL. */
static int sum_rows(const struct report_source *src,
                    const struct report_query *q,
                    struct collect *c, struct rollup_day *totals)
{
    uint32_t len = q->to - q->from + 1;
    size_t nr = q->from >= len ? 2 : 1;
    uint64_t *ids = malloc(c->n * sizeof *ids);
    struct rollup_day *part = totals ? calloc(4, sizeof *part) : NULL;
    if (ids == NULL || (totals && part == NULL)) {
        free(ids);
        free(part);
        return -1;
    }
    for (size_t i = 0; i < c->n; i++)
        ids[i] = c->rows[i].a.id;
    struct share sh[2];
    size_t half = c->n >= 2000 && src->ops->threads ? c->n / 2 : c->n;
    for (int t = 0; t < 2; t++) {
        size_t from = t ? half : 0;
        sh[t] = (struct share){ src, q, c->rows + from, ids + from,
                                t ? c->n - half : half, nr,
                                { { q->from, q->to },
                                  { q->from - (nr > 1 ? len : 0),
                                    q->from - (nr > 1 ? 1 : 0) } },
                                part ? part + 2 * t : NULL, 0 };
    }
    pthread_t helper;
    bool threaded = half < c->n &&
                    pthread_create(&helper, NULL, sum_share, &sh[1]) == 0;
    sum_share(&sh[0]);
    if (threaded)
        pthread_join(helper, NULL);
    else if (half < c->n)
        sum_share(&sh[1]);
    for (int k = 0; part != NULL && k < 2; k++) {
        rollup_add(&totals[k], &part[k]);
        rollup_add(&totals[k], &part[2 + k]);
    }
    free(ids);
    free(part);
    return sh[0].rc == 0 && sh[1].rc == 0 ? 0 : -1;
}

/* report_articles; also adds the sums of every matching page over the
 * range and over the previous period to TOTALS[0] and [1] unless NULL:
 * pages of every kind, listed or not (site totals count them all). */
static int list_articles(const struct report_source *src,
                         const struct report_query *q,
                         bool with_idle, struct rollup_day *totals,
                         struct report_list *out)
{
    struct collect c = { .q = q, .every_kind = totals != NULL };
    out->rows = NULL;
    out->n = 0;
    out->text = NULL;
    int rc = src->ops->articles_each(src->ctx, q->site_id, collect_article,
                                     &c);
    if (rc == 0)
        point_rows(&c);
    free(c.at);
    if (rc != 0 || (c.n > 0 && sum_rows(src, q, &c, totals) != 0)) {
        free(c.rows);
        free(c.text);
        return -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < c.n; i++) {
        struct report_row *r = &c.rows[i];
        if (!listed(q, r->a.kind))
            continue;
        if (with_idle || r->views > 0 || r->views_prev > 0) {
            if (kept != i)
                c.rows[kept] = *r;
            kept++;
        }
    }
    out->rows = c.rows;
    out->n = kept;
    out->text = c.text;
    return 0;
}

int report_articles_from(const struct report_source *src,
                         const struct report_query *q, bool with_idle,
                         struct report_list *out)
{
    return list_articles(src, q, with_idle, NULL, out);
}

int report_articles(struct store *st, const struct report_query *q,
                    bool with_idle, struct report_list *out)
{
    struct report_source src = report_source_store(st);
    return report_articles_from(&src, q, with_idle, out);
}

void report_list_free(struct report_list *l)
{
    free(l->rows);
    free(l->text);
    l->rows = NULL;
    l->text = NULL;
    l->n = 0;
}

/* --- sorting ---------------------------------------------------------------------- */

const char *const report_sort_keys[] = {
    "views", "visitors", "reads", "read_rate", "read_through", "read_ratio",
    "quick_exits", "engaged_p50", "engaged_p75", "engaged_p90",
    "engaged_mean", "helpful", "votes", "views_change", "attention", "title",
    "path", "category", NULL
};

static _Thread_local int sort_key;     /* qsort has no context argument */
static _Thread_local bool sort_desc;

/* The numeric value of row R for sort key K. */
static double row_value(const struct report_row *r, int k)
{
    switch (k) {
    case 0: return (double)r->views;
    case 1: return (double)r->visitors;
    case 2: return (double)r->reads;
    case 3: return r->read_rate;
    case 4: return r->read_through;
    case 5: return r->read_ratio;
    case 6: return r->quick_exit_rate;
    case 7: return r->views ? r->p50_ms : NAN;
    case 8: return r->views ? r->p75_ms : NAN;
    case 9: return r->views ? r->p90_ms : NAN;
    case 10: return r->mean_ms;
    case 11: return r->helpful_rate;
    case 12: return (double)r->votes_up + r->votes_down;
    case 13: return r->views_change;
    default: return r->attention;
    }
}

static int cmp_rows(const void *pa, const void *pb)
{
    const struct report_row *a = pa, *b = pb;
    int c;
    if (sort_key >= 15) {
        const char *sa = sort_key == 15 ? a->a.title
                       : sort_key == 16 ? a->a.path : a->a.category;
        const char *sb = sort_key == 15 ? b->a.title
                       : sort_key == 16 ? b->a.path : b->a.category;
        c = strcmp(sa, sb);
        c = sort_desc ? -c : c;
    } else {
        double x = row_value(a, sort_key), y = row_value(b, sort_key);
        if (isnan(x) || isnan(y))
            c = isnan(x) - isnan(y);            /* undefined values last */
        else
            c = (x < y) ? -1 : (x > y);
        if (!isnan(x) && !isnan(y) && sort_desc)
            c = -c;
    }
    if (c == 0)                                  /* stable: by path */
        c = strcmp(a->a.path, b->a.path);
    return c;
}

/* A row to sort with its numeric key, computed once. */
struct sort_item {
    double key;
    const struct report_row *row;
};

static int cmp_items(const void *pa, const void *pb)
{
    const struct sort_item *a = pa, *b = pb;
    if (sort_key >= 15)
        return cmp_rows(a->row, b->row);
    int c;
    if (isnan(a->key) || isnan(b->key))
        c = isnan(a->key) - isnan(b->key);     /* undefined values last */
    else
        c = sort_desc ? (a->key < b->key) - (a->key > b->key)
                      : (a->key > b->key) - (a->key < b->key);
    return c ? c : strcmp(a->row->a.path, b->row->a.path);
}

/* Puts ROWS in the order of ORDER (ORDER[i].row is the row that belongs
 * at i), moving each row once along the permutation's cycles, with one row
 * of scratch instead of a second array. Clears ORDER's row pointers. */
static void permute(struct report_row *rows, struct sort_item *order,
                    size_t n)
{
    struct report_row tmp;
    for (size_t i = 0; i < n; i++) {
        if (order[i].row == NULL || order[i].row == &rows[i])
            continue;
        tmp = rows[i];
        size_t j = i;
        for (;;) {
            size_t from = (size_t)(order[j].row - rows);
            order[j].row = NULL;
            if (from == i) {
                rows[j] = tmp;
                break;
            }
            rows[j] = rows[from];
            j = from;
        }
    }
}

int report_sort(struct report_list *l, const char *key, bool descending)
{
    int k = -1;
    for (int i = 0; report_sort_keys[i]; i++)
        if (strcmp(key, report_sort_keys[i]) == 0)
            k = i;
    if (k < 0)
        return -1;
    sort_key = k;
    sort_desc = descending;
    if (l->n < 2)
        return 0;
    /* rows are large: sort keys and pointers, then move the rows in place */
    struct sort_item *order = malloc(l->n * sizeof *order);
    if (order == NULL) {
        qsort(l->rows, l->n, sizeof *l->rows, cmp_rows);
        return 0;
    }
    for (size_t i = 0; i < l->n; i++)
        order[i] = (struct sort_item){
            k < 15 ? row_value(&l->rows[i], k) : 0, &l->rows[i] };
    qsort(order, l->n, sizeof *order, cmp_items);
    permute(l->rows, order, l->n);
    free(order);
    return 0;
}

size_t report_rank_attention(struct report_list *l)
{
    uint64_t total = 0;
    for (size_t i = 0; i < l->n; i++)
        total += l->rows[i].views;
    double floor_views = l->n ? (double)total / (double)l->n : 0;
    if (floor_views < 10)
        floor_views = 10;
    size_t flagged = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct report_row *r = &l->rows[i];
        double w = 0;
        r->attention = 0;
        r->attention_reason = NULL;
        if ((double)r->views < floor_views)
            continue;
        uint64_t votes = (uint64_t)r->votes_up + r->votes_down;
        if (votes >= 5 && r->helpful_rate < 0.5) {
            w += 1.0 - r->helpful_rate;
            r->attention_reason = "few readers find it helpful";
        }
        if (!isnan(r->read_ratio) && r->read_ratio < 0.35) {
            w += 1.0 - r->read_ratio;
            if (!r->attention_reason)
                r->attention_reason = "read far shorter than its length";
        }
        if (r->quick_exit_rate > 0.5) {
            w += r->quick_exit_rate - 0.5;
            if (!r->attention_reason)
                r->attention_reason = "most readers leave within 5 s";
        }
        r->attention = w * (double)r->views;
        flagged += w > 0;
    }
    report_sort(l, "attention", true);
    return flagged;
}

/* --- breakdowns ---------------------------------------------------------------------- */

struct dim_acc {
    struct report_count *items;
    size_t n, cap;
    bool zero;                   /* counting zero-result searches */
};

static int add_dim(void *ctx, const char *value, size_t len, uint64_t count)
{
    struct dim_acc *a = ctx;
    if (len > EVENT_PATH_MAX)
        len = EVENT_PATH_MAX;
    if (buf_grow_array(&a->items, &a->cap, a->n + 1, sizeof *a->items,
                       SIZE_MAX) != 0)
        return -1;
    struct report_count *it = &a->items[a->n++];
    memcpy(it->value, value, len);
    it->value[len] = '\0';
    it->count = count;
    it->zero = a->zero ? count : 0;
    return 0;
}

static int cmp_value(const void *pa, const void *pb)
{
    const struct report_count *a = pa, *b = pb;
    return strcmp(a->value, b->value);
}

static int cmp_count(const void *pa, const void *pb)
{
    const struct report_count *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return strcmp(a->value, b->value);
}

/* Merges equal values, orders by count and keeps the first LIMIT. */
static void finish_counts(struct dim_acc *a, size_t limit,
                          struct report_counts *out)
{
    if (a->n > 1)
        qsort(a->items, a->n, sizeof *a->items, cmp_value);
    size_t m = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (m > 0 && strcmp(a->items[m - 1].value, a->items[i].value) == 0) {
            a->items[m - 1].count += a->items[i].count;
            a->items[m - 1].zero += a->items[i].zero;
        } else {
            a->items[m++] = a->items[i];
        }
    }
    if (m > 1)
        qsort(a->items, m, sizeof *a->items, cmp_count);
    out->items = a->items;
    out->n = limit && m > limit ? limit : m;
}

int report_dim_from(const struct report_source *src,
                    const struct report_query *q, uint64_t article,
                    enum store_dim dim, size_t limit,
                    struct report_counts *out)
{
    struct dim_acc a = { 0 };
    if (src->ops->dims_each(src->ctx, q->site_id, article, dim, q->from,
                            q->to, q->include_bots, add_dim, &a) != 0) {
        free(a.items);
        return -1;
    }
    finish_counts(&a, limit, out);
    return 0;
}

int report_dim(struct store *st, const struct report_query *q,
               uint64_t article, enum store_dim dim, size_t limit,
               struct report_counts *out)
{
    struct report_source src = report_source_store(st);
    return report_dim_from(&src, q, article, dim, limit, out);
}

int report_searches_from(const struct report_source *src,
                         const struct report_query *q, size_t limit,
                         struct report_counts *out)
{
    struct dim_acc a = { 0 };
    int rc = src->ops->dims_each(src->ctx, q->site_id, 0, STORE_DIM_SEARCH,
                                 q->from, q->to, q->include_bots, add_dim,
                                 &a);
    a.zero = true;
    if (rc == 0)
        rc = src->ops->dims_each(src->ctx, q->site_id, 0,
                                 STORE_DIM_SEARCH_ZERO, q->from, q->to,
                                 q->include_bots, add_dim, &a);
    if (rc != 0) {
        free(a.items);
        return -1;
    }
    finish_counts(&a, limit, out);
    return 0;
}

int report_searches(struct store *st, const struct report_query *q,
                    size_t limit, struct report_counts *out)
{
    struct report_source src = report_source_store(st);
    return report_searches_from(&src, q, limit, out);
}

void report_counts_free(struct report_counts *c)
{
    free(c->items);
    c->items = NULL;
    c->n = 0;
}

/* --- series ---------------------------------------------------------------------------- */

static int add_day(void *ctx, uint64_t article, uint32_t day,
                   const struct rollup_day *d)
{
    struct report_series *s = ctx;
    (void)article;
    uint32_t first = s->days[0].day;
    if (day >= first && day - first < s->n)
        rollup_add(&s->days[day - first].sum, d);
    return 0;
}

int report_series_from(const struct report_source *src,
                       const struct report_query *q, uint64_t article,
                       struct report_series *out)
{
    size_t n = (size_t)(q->to - q->from) + 1;
    out->days = calloc(n, sizeof *out->days);
    out->n = n;
    if (out->days == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        out->days[i].day = q->from + (uint32_t)i;
    if (src->ops->rollups_each(src->ctx, q->site_id, article, q->from, q->to,
                               q->include_bots, true, add_day, out) != 0) {
        report_series_free(out);
        return -1;
    }
    return 0;
}

int report_series(struct store *st, const struct report_query *q,
                  uint64_t article, struct report_series *out)
{
    struct report_source src = report_source_store(st);
    return report_series_from(&src, q, article, out);
}

void report_series_free(struct report_series *s)
{
    free(s->days);
    s->days = NULL;
    s->n = 0;
}

/* --- summary ------------------------------------------------------------------------------ */

/* Totals over Q's range: the articles' summed rollups (buckets included),
 * with visitors and searches from the site-wide row. */
/* Fills T from SUM, the articles' sums over Q's range, and the site-wide
 * row's daily visitors and searches. */
static int fill_totals(const struct report_source *src,
                       const struct report_query *q,
                       const struct rollup_day *sum, struct report_totals *t)
{
    memset(t, 0, sizeof *t);
    t->sum = *sum;
    struct report_series site;
    if (report_series_from(src, q, 0, &site) != 0)
        return -1;
    for (size_t i = 0; i < site.n; i++) {
        t->visitors += site.days[i].sum.visitors;
        t->searches += site.days[i].sum.searches;
    }
    report_series_free(&site);
    struct report_row r = { .views_prev = 0 };
    report_derive(&r, &t->sum);
    t->p50_ms = r.p50_ms;
    t->p75_ms = r.p75_ms;
    t->p90_ms = r.p90_ms;
    t->read_rate = r.read_rate;
    t->read_through = r.read_through;
    t->quick_exit_rate = r.quick_exit_rate;
    t->helpful_rate = r.helpful_rate;
    return 0;
}

int report_summary_from(const struct report_source *src,
                        const struct report_query *q,
                        struct report_summary *out)
{
    memset(out, 0, sizeof *out);
    uint32_t len = q->to - q->from + 1;
    out->prev_to = q->from >= 1 ? q->from - 1 : 0;
    out->prev_from = q->from >= len ? q->from - len : 0;
    struct report_query pq = *q;
    pq.from = out->prev_from;
    pq.to = out->prev_to;
    struct rollup_day *sums = calloc(2, sizeof *sums);  /* range, previous */
    int rc = sums == NULL ||
             list_articles(src, q, true, sums, &out->articles) != 0 ||
             report_series_from(src, q, 0, &out->series) != 0 ||
             fill_totals(src, q, &sums[0], &out->cur) != 0 ||
             (q->from >= len && fill_totals(src, &pq, &sums[1],
                                            &out->prev) != 0);
    free(sums);
    if (rc)
        return -1;
    out->n_attention = report_rank_attention(&out->articles);
    if (out->n_attention > 10)
        out->n_attention = 10;
    if (out->n_attention) {
        out->attention = malloc(out->n_attention * sizeof *out->attention);
        if (out->attention == NULL)
            return -1;
        memcpy(out->attention, out->articles.rows,
               out->n_attention * sizeof *out->attention);
    }
    report_sort(&out->articles, "views", true);
    if (report_searches_from(src, q, 20, &out->searches) != 0 ||
        report_dim_from(src, q, 0, STORE_DIM_SEARCH_ZERO, 20,
                        &out->zero_searches) != 0)
        return -1;
    return 0;
}

int report_summary(struct store *st, const struct report_query *q,
                   struct report_summary *out)
{
    struct report_source src = report_source_store(st);
    return report_summary_from(&src, q, out);
}

void report_summary_free(struct report_summary *s)
{
    report_series_free(&s->series);
    report_list_free(&s->articles);
    free(s->attention);
    s->attention = NULL;
    report_counts_free(&s->searches);
    report_counts_free(&s->zero_searches);
}

/* --- one article ---------------------------------------------------------------------- */

static int take_sum(void *ctx, uint64_t article, uint32_t day,
                    const struct rollup_day *d)
{
    (void)article;
    (void)day;
    *(struct rollup_day *)ctx = *d;
    return 0;
}

int report_detail_from(const struct report_source *src,
                       const struct report_query *q, uint64_t id,
                       struct report_detail *out)
{
    memset(out, 0, sizeof *out);
    int rc = src->ops->article_get(src->ctx, q->site_id, id, &out->article);
    if (rc != 0)
        return rc;
    view_article(&out->row.a, &out->article);
    struct rollup_day prev;
    memset(&prev, 0, sizeof prev);
    uint32_t len = q->to - q->from + 1;
    if (src->ops->rollups_each(src->ctx, q->site_id, id, q->from, q->to,
                               q->include_bots, false, take_sum,
                               &out->sum) != 0 ||
        (q->from >= len &&
         src->ops->rollups_each(src->ctx, q->site_id, id, q->from - len,
                                q->from - 1, q->include_bots, false,
                                take_sum, &prev) != 0))
        return -1;
    out->row.views_prev = prev.views;
    out->row.p50_prev_ms = rollup_quantile_ms(prev.hist, 0.5);
    report_derive(&out->row, &out->sum);
    if (report_series_from(src, q, id, &out->series) != 0 ||
        report_dim_from(src, q, id, STORE_DIM_COUNTRY, 50, &out->countries) ||
        report_dim_from(src, q, id, STORE_DIM_REFERRER, 50,
                        &out->referrers) ||
        report_dim_from(src, q, id, STORE_DIM_LED_HERE, 50,
                        &out->led_here) ||
        report_dim_from(src, q, id, STORE_DIM_SEARCH, 50,
                        &out->searched_here))
        return -1;
    return 0;
}

int report_detail(struct store *st, const struct report_query *q,
                  uint64_t id, struct report_detail *out)
{
    struct report_source src = report_source_store(st);
    return report_detail_from(&src, q, id, out);
}

void report_detail_free(struct report_detail *d)
{
    report_series_free(&d->series);
    report_counts_free(&d->countries);
    report_counts_free(&d->referrers);
    report_counts_free(&d->led_here);
    report_counts_free(&d->searched_here);
}
