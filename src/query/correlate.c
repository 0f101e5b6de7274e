/* correlate.c — see correlate.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/correlate.h"
#include "dwell/source.h"
#include "base/buf.h"
#include "base/time.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_VISITORS 16
#define MAX_TICKET_QUERIES 32

/* A view followed by a ticket of the same reader. */
struct pair {
    size_t art;                /* index into the article list */
    uint64_t visitor, time_us;
    double before_s;
};

struct gap_hit {
    char query[EVENT_QUERY_MAX + 1];
    bool zero;
};

struct run {
    const struct report_source *src;
    const struct correlate_query *q;
    uint64_t from_us, to_us;
    struct store_article *arts;        /* ascending id */
    size_t narts, artcap;
    struct pair *pairs;
    size_t npairs, paircap;
    struct gap_hit *gaps;              /* one per (ticket, query) */
    size_t ngaps, gapcap;
    uint8_t (*keys)[32];               /* requester keys */
    size_t nkeys, keycap;
    uint64_t anonymous;                /* tickets without a requester */
    double *topic_tickets;             /* ntopics × days */
    char (*topic_names)[EVENT_CATEGORY_MAX + 1];
    size_t ntopics;
    size_t days;
    struct correlate_site site;
    int failed;
};

/* Keeps article A: pages of other kinds (search, list, home) have no
 * contact rate and no topic; the site numbers still count their views. */
static int take_article(void *ctx, const struct store_article *a)
{
    struct run *r = ctx;
    if (a->kind != EVENT_PAGE_ARTICLE)
        return 0;
    if (buf_grow_array(&r->arts, &r->artcap, r->narts + 1, sizeof *r->arts,
                       SIZE_MAX) != 0)
        return -1;
    r->arts[r->narts++] = *a;
    return 0;
}

static long find_article(const struct run *r, uint64_t id)
{
    size_t lo = 0, hi = r->narts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->arts[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->narts && r->arts[lo].id == id ? (long)lo : -1;
}

/* --- one ticket --------------------------------------------------------------- */

struct visitors {
    uint64_t v[MAX_VISITORS];
    size_t n;
};

static void add_visitor(struct visitors *vs, uint64_t v)
{
    if (v == 0 || vs->n == MAX_VISITORS)
        return;
    for (size_t i = 0; i < vs->n; i++)
        if (vs->v[i] == v)
            return;
    vs->v[vs->n++] = v;
}

static int take_identity(void *ctx, uint64_t time_us, uint64_t visitor)
{
    (void)time_us;
    add_visitor(ctx, visitor);
    return 0;
}

/* The visitor hashes behind ticket T: its link id's, its identified
 * requester's. Returns how many. */
static size_t ticket_visitors(const struct report_source *src, uint32_t site,
                              const struct store_ticket *t, uint64_t window,
                              struct visitors *vs)
{
    vs->n = 0;
    uint64_t when, pair[2];
    if (t->link[0] &&
        src->ops->link_get(src->ctx, site, t->link, &when, pair) == 0) {
        add_visitor(vs, pair[0]);
        add_visitor(vs, pair[1]);
    }
    if (t->has_email) {
        uint64_t from = t->created_us > window + TIME_US_PER_DAY
                      ? t->created_us - window - TIME_US_PER_DAY : 0;
        src->ops->identity_each(src->ctx, site, t->email_key, from,
                                t->created_us + 3600000000ull, take_identity,
                                vs);
    }
    return vs->n;
}

struct ticket_visit {
    struct run *r;
    const struct store_ticket *t;
    uint64_t visitor;
    bool read;
    struct gap_hit seen[MAX_TICKET_QUERIES];
    size_t nseen;
};

static int take_visit(void *ctx, uint64_t time_us, uint64_t article,
                      const char *query, size_t qlen, bool zero)
{
    struct ticket_visit *tv = ctx;
    struct run *r = tv->r;
    if (query == NULL) {
        long i = find_article(r, article);    /* articles only: a search */
        tv->read |= i >= 0;                    /* page is no read */
        if (i < 0 || time_us < r->from_us || time_us >= r->to_us)
            return 0;
        if (buf_grow_array(&r->pairs, &r->paircap, r->npairs + 1,
                           sizeof *r->pairs, SIZE_MAX) != 0)
            return r->failed = 1;
        r->pairs[r->npairs++] = (struct pair){
            (size_t)i, tv->visitor, time_us,
            (double)(tv->t->created_us - time_us) / 1e6 };
        return 0;
    }
    if (qlen > EVENT_QUERY_MAX)
        qlen = EVENT_QUERY_MAX;
    for (size_t i = 0; i < tv->nseen; i++)
        if (strlen(tv->seen[i].query) == qlen &&
            memcmp(tv->seen[i].query, query, qlen) == 0) {
            tv->seen[i].zero |= zero;
            return 0;
        }
    if (tv->nseen < MAX_TICKET_QUERIES) {
        memcpy(tv->seen[tv->nseen].query, query, qlen);
        tv->seen[tv->nseen].query[qlen] = '\0';
        tv->seen[tv->nseen++].zero = zero;
    }
    return 0;
}

/* Adds ticket T's day to the series of every topic whose tag it carries. */
static void count_topic_ticket(struct run *r, const struct store_ticket *t)
{
    uint32_t day = (uint32_t)(t->created_us / TIME_US_PER_DAY);
    if (day < r->q->from || day > r->q->to)
        return;
    for (size_t k = 0; k < r->ntopics; k++) {
        const char *cat = r->topic_names[k];
        bool hit = false;
        for (size_t i = 0; i < t->ntags && !hit; i++) {
            hit = strcasecmp(t->tags[i], cat) == 0;
            for (size_t m = 0; m < r->q->nmap && !hit; m++)
                hit = strcasecmp(r->q->map[m].category, cat) == 0 &&
                      strcasecmp(r->q->map[m].tag, t->tags[i]) == 0;
        }
        if (hit)
            r->topic_tickets[k * r->days + (day - r->q->from)] += 1;
    }
}

static int take_ticket(void *ctx, const struct store_ticket *t)
{
    struct run *r = ctx;
    struct visitors vs;
    struct ticket_visit tv = { .r = r, .t = t };
    r->site.tickets++;
    count_topic_ticket(r, t);
    if (t->has_email || t->has_requester) {
        if (buf_grow_array(&r->keys, &r->keycap, r->nkeys + 1,
                           sizeof *r->keys, SIZE_MAX) != 0)
            return r->failed = 1;
        memcpy(r->keys[r->nkeys++],
               t->has_email ? t->email_key : t->requester_key, 32);
    } else {
        r->anonymous++;
    }
    if (ticket_visitors(r->src, r->q->site_id, t, r->q->window_us, &vs) == 0)
        return 0;
    r->site.linked++;
    uint64_t from = t->created_us > r->q->window_us
                  ? t->created_us - r->q->window_us : 0;
    for (size_t i = 0; i < vs.n; i++) {
        tv.visitor = vs.v[i];
        if (r->src->ops->visits_each(r->src->ctx, r->q->site_id, vs.v[i],
                                     from, t->created_us, take_visit,
                                     &tv) != 0)
            return r->failed = 1;
    }
    r->site.with_read += tv.read;
    for (size_t i = 0; i < tv.nseen; i++) {
        if (buf_grow_array(&r->gaps, &r->gapcap, r->ngaps + 1,
                           sizeof *r->gaps, SIZE_MAX) != 0)
            return r->failed = 1;
        r->gaps[r->ngaps++] = tv.seen[i];
    }
    return r->failed;
}

/* --- summing up ------------------------------------------------------------------ */

static int cmp_pair(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;
    if (a->visitor != b->visitor)
        return a->visitor < b->visitor ? -1 : 1;
    if (a->time_us != b->time_us)
        return a->time_us < b->time_us ? -1 : 1;
    return a->before_s < b->before_s ? -1 : a->before_s > b->before_s;
}

static int cmp_key(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Highest contact rate first (the number every report shows; an article
 * without views last), then most followed, most viewed, by path. */
static int cmp_article(const void *pa, const void *pb)
{
    const struct correlate_article *a = pa, *b = pb;
    if (isnan(a->rate) != isnan(b->rate))
        return isnan(a->rate) ? 1 : -1;
    if (!isnan(a->rate) && a->rate != b->rate)
        return a->rate < b->rate ? 1 : -1;
    if (a->followed != b->followed)
        return a->followed < b->followed ? 1 : -1;
    if (a->views != b->views)
        return a->views < b->views ? 1 : -1;
    return strcmp(a->a.path, b->a.path);
}

/* Per article: views from the rollups, followed views from the pairs (each
 * view once, with its nearest ticket), Wilson interval, median time. */
static int sum_articles(struct run *r, struct correlate_result *out)
{
    size_t n = r->narts;
    out->articles = calloc(n ? n : 1, sizeof *out->articles);
    uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    struct rollup_day *sums = malloc((n ? n : 1) * sizeof *sums);
    double *deltas = malloc((r->npairs ? r->npairs : 1) * sizeof *deltas);
    int rc = -1;
    if (!out->articles || !ids || !sums || !deltas)
        goto done;
    for (size_t i = 0; i < n; i++)
        ids[i] = r->arts[i].id;
    struct store_range range = { r->q->from, r->q->to };
    if (n && report_source_sums(r->src, r->q->site_id, ids, n, &range, 1,
                                false, sums) != 0)
        goto done;
    if (r->npairs > 1)
        qsort(r->pairs, r->npairs, sizeof *r->pairs, cmp_pair);
    for (size_t i = 0; i < n; i++) {
        out->articles[i].a = r->arts[i];
        out->articles[i].views = sums[i].views;
    }
    /* a view counts once, however many tickets followed it */
    size_t m = 0;
    for (size_t i = 0; i < r->npairs; i++)
        if (m == 0 || r->pairs[i].visitor != r->pairs[m - 1].visitor ||
            r->pairs[i].time_us != r->pairs[m - 1].time_us)
            r->pairs[m++] = r->pairs[i];
    r->npairs = m;
    double z = stats_z(0.95);
    for (size_t i = 0; i < n; i++) {
        struct correlate_article *a = &out->articles[i];
        size_t nd = 0;
        for (size_t k = 0; k < r->npairs; k++)
            if (r->pairs[k].art == i)
                deltas[nd++] = r->pairs[k].before_s;
        a->followed = nd;
        if (a->followed > a->views)       /* views of bots, or of days */
            a->views = a->followed;       /* outside the rollups' reach */
        a->rate = a->views ? (double)a->followed / (double)a->views : NAN;
        if (stats_wilson(a->followed, a->views, z, &a->ci) != 0)
            a->ci.lo = a->ci.hi = NAN;
        a->median_to_ticket_s = stats_median(deltas, nd);
    }
    out->narticles = n;
    qsort(out->articles, n, sizeof *out->articles, cmp_article);
    rc = 0;
done:
    free(ids);
    free(sums);
    free(deltas);
    return rc;
}

struct topic_reads {
    struct run *r;
    double *reads;             /* ntopics × days */
};

static int take_day(void *ctx, uint64_t article, uint32_t day,
                    const struct rollup_day *d)
{
    struct topic_reads *tr = ctx;
    struct run *r = tr->r;
    long i = find_article(r, article);
    if (i < 0 || day < r->q->from || day > r->q->to)
        return 0;
    for (size_t k = 0; k < r->ntopics; k++)
        if (strcmp(r->topic_names[k], r->arts[i].category) == 0)
            tr->reads[k * r->days + (day - r->q->from)] += d->views;
    return 0;
}

/* Sample autocorrelation of X (N values) at lag K. */
static double autocorr(const double *x, size_t n, size_t k)
{
    double mean = 0, num = 0, den = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        den += (x[i] - mean) * (x[i] - mean);
    for (size_t i = 0; i + k < n; i++)
        num += (x[i] - mean) * (x[i + k] - mean);
    return den > 0 ? num / den : 0;
}

/* Removes a series' own lag-1 memory (an AR(1) filter, x[t] - phi x[t-1],
 * phi its lag-1 autocorrelation): after differencing, noise alone has
 * phi = -0.5, which would otherwise make unrelated series look related.
 * Shortens the series by one (*N). */
static void whiten_ar1(double *x, size_t *n)
{
    if (*n < 3)
        return;
    double phi = autocorr(x, *n, 1);
    for (size_t i = 0; i + 1 < *n; i++)
        x[i] = x[i + 1] - phi * x[i];
    (*n)--;
}

/* Differenced series are autocorrelated (differencing noise alone gives
 * -0.5 at lag 1), and a cross-correlation of two autocorrelated series
 * varies more than Fisher's 1/(n-3) assumes: Bartlett's approximation
 * inflates its variance by 1 + 2·Σ ρx(k)ρy(k). Recomputes each lag's
 * interval with the effective number of pairs that implies. */
static void widen_for_autocorrelation(const double *x, const double *y,
                                      size_t n, double z,
                                      struct stats_lag *lags)
{
    double f = 1.0;
    for (size_t k = 1; k <= CORRELATE_MAX_LAG && k + 3 < n; k++)
        f += 2.0 * fabs(autocorr(x, n, k) * autocorr(y, n, k));
    if (f < 1.0)
        f = 1.0;
    for (int l = 0; l <= CORRELATE_MAX_LAG; l++) {
        struct stats_lag *g = &lags[l];
        if (isnan(g->r) || g->n <= 3)
            continue;
        size_t eff = 3 + (size_t)((double)(g->n - 3) / f);
        if (stats_fisher(g->r, eff, z, &g->ci) != 0)
            g->ci.lo = g->ci.hi = NAN;
    }
}

/* The lagged correlation of each topic's prewhitened reads and tickets. */
static int sum_topics(struct run *r, struct correlate_result *out)
{
    size_t days = r->days;
    double *reads = calloc(r->ntopics * days + 1, sizeof *reads);
    double *x = malloc(days * sizeof *x), *y = malloc(days * sizeof *y);
    out->topics = calloc(r->ntopics + 1, sizeof *out->topics);
    int rc = -1;
    if (!reads || !x || !y || !out->topics)
        goto done;
    struct topic_reads tr = { r, reads };
    if (r->src->ops->rollups_each(r->src->ctx, r->q->site_id,
                                  STORE_ALL_ARTICLES, r->q->from, r->q->to,
                                  false, true, take_day, &tr) != 0)
        goto done;
    /* simultaneous 95 % intervals over every topic and lag examined
     * (Bonferroni): a report of many topics must not cry wolf */
    size_t tests = (r->ntopics ? r->ntopics : 1) * (CORRELATE_MAX_LAG + 1);
    double z = stats_z(1.0 - 0.05 / (double)tests);
    for (size_t k = 0; k < r->ntopics; k++) {
        struct correlate_topic *t = &out->topics[out->ntopics++];
        const double *rd = reads + k * days, *tk = r->topic_tickets + k * days;
        memcpy(t->category, r->topic_names[k], sizeof t->category);
        t->days = days;
        for (size_t d = 0; d < days; d++) {
            t->reads += (uint64_t)rd[d];
            t->tickets += (uint64_t)tk[d];
        }
        t->best_lag = -1;
        t->r = NAN;
        t->ci.lo = t->ci.hi = NAN;
        if (days < CORRELATE_MIN_DAYS || t->reads == 0 || t->tickets == 0)
            continue;
        if (stats_prewhiten(rd, days, r->q->from, x) != 0 ||
            stats_prewhiten(tk, days, r->q->from, y) != 0)
            continue;
        size_t m = days - 1;
        whiten_ar1(x, &m);
        m = days - 1;
        whiten_ar1(y, &m);
        int best = stats_xcorr(x, y, m, CORRELATE_MAX_LAG, z, t->lags);
        if (best < 0)
            continue;
        widen_for_autocorrelation(x, y, m, z, t->lags);
        t->best_lag = t->lags[best].lag;
        t->r = t->lags[best].r;
        t->n = t->lags[best].n;
        t->ci = t->lags[best].ci;
        t->evidence = !isnan(t->ci.lo) && (t->ci.lo > 0 || t->ci.hi < 0);
    }
    rc = 0;
done:
    free(reads);
    free(x);
    free(y);
    return rc;
}

static int cmp_gap_query(const void *pa, const void *pb)
{
    return strcmp(((const struct gap_hit *)pa)->query,
                  ((const struct gap_hit *)pb)->query);
}

static int cmp_gap(const void *pa, const void *pb)
{
    const struct correlate_gap *a = pa, *b = pb;
    if (a->tickets != b->tickets)
        return a->tickets < b->tickets ? 1 : -1;
    return strcmp(a->query, b->query);
}

static int sum_gaps(struct run *r, struct correlate_result *out)
{
    if (r->ngaps > 1)
        qsort(r->gaps, r->ngaps, sizeof *r->gaps, cmp_gap_query);
    out->gaps = calloc(r->ngaps + 1, sizeof *out->gaps);
    if (out->gaps == NULL)
        return -1;
    for (size_t i = 0; i < r->ngaps; i++) {
        struct correlate_gap *g = out->ngaps
            ? &out->gaps[out->ngaps - 1] : NULL;
        if (g == NULL || strcmp(g->query, r->gaps[i].query) != 0) {
            g = &out->gaps[out->ngaps++];
            memcpy(g->query, r->gaps[i].query, sizeof g->query);
        }
        g->tickets++;
        g->zero_results |= r->gaps[i].zero;
    }
    qsort(out->gaps, out->ngaps, sizeof *out->gaps, cmp_gap);
    return 0;
}

static int take_site_day(void *ctx, uint64_t article, uint32_t day,
                         const struct rollup_day *d)
{
    struct correlate_site *s = ctx;
    (void)article;
    (void)day;
    s->visitors += d->visitors;
    s->views += d->views;
    return 0;
}

/* The topics: every article category. */
static int list_topics(struct run *r)
{
    r->topic_names = calloc(r->narts + 1, sizeof *r->topic_names);
    if (r->topic_names == NULL)
        return -1;
    for (size_t i = 0; i < r->narts; i++) {
        const char *c = r->arts[i].category;
        bool known = c[0] == '\0';
        for (size_t k = 0; k < r->ntopics && !known; k++)
            known = strcmp(r->topic_names[k], c) == 0;
        if (!known)
            memcpy(r->topic_names[r->ntopics++], c,
                   sizeof r->topic_names[0]);
    }
    r->topic_tickets = calloc(r->ntopics * r->days + 1,
                              sizeof *r->topic_tickets);
    return r->topic_tickets ? 0 : -1;
}

int correlate_run(struct store *st, const struct correlate_query *q,
                  struct correlate_result *out)
{
    struct report_source src = report_source_store(st);
    return correlate_run_from(&src, q, out);
}

int correlate_run_from(const struct report_source *src,
                       const struct correlate_query *q,
                       struct correlate_result *out)
{
    struct run r = { .src = src, .q = q };
    memset(out, 0, sizeof *out);
    if (q->from > q->to)
        return -1;
    r.days = (size_t)(q->to - q->from) + 1;
    r.from_us = (uint64_t)q->from * TIME_US_PER_DAY;
    r.to_us = ((uint64_t)q->to + 1) * TIME_US_PER_DAY;
    int rc = -1;
    if (src->ops->articles_each(src->ctx, q->site_id, take_article,
                                &r) != 0 ||
        list_topics(&r) != 0 ||
        src->ops->tickets_each(src->ctx, q->site_id, r.from_us, r.to_us,
                               take_ticket, &r) != 0 || r.failed ||
        src->ops->rollups_each(src->ctx, q->site_id, 0, q->from, q->to,
                               false, false, take_site_day, &r.site) != 0)
        goto done;
    if (r.nkeys > 1)
        qsort(r.keys, r.nkeys, 32, cmp_key);
    uint64_t distinct = 0;
    for (size_t i = 0; i < r.nkeys; i++)
        distinct += i == 0 || memcmp(r.keys[i], r.keys[i - 1], 32) != 0;
    r.site.requesters = distinct + r.anonymous;
    r.site.self_service_score = r.site.requesters
        ? (double)r.site.visitors / (double)r.site.requesters : NAN;
    r.site.tickets_per_1000_views = r.site.views
        ? 1000.0 * (double)r.site.tickets / (double)r.site.views : NAN;
    r.site.share_with_read = r.site.tickets
        ? (double)r.site.with_read / (double)r.site.tickets : NAN;
    r.site.linked_share = r.site.tickets
        ? (double)r.site.linked / (double)r.site.tickets : NAN;
    out->site = r.site;
    if (sum_articles(&r, out) != 0 || sum_topics(&r, out) != 0 ||
        sum_gaps(&r, out) != 0)
        goto done;
    rc = 0;
done:
    free(r.arts);
    free(r.pairs);
    free(r.gaps);
    free(r.keys);
    free(r.topic_tickets);
    free(r.topic_names);
    return rc;
}

void correlate_free(struct correlate_result *r)
{
    free(r->articles);
    free(r->topics);
    free(r->gaps);
    memset(r, 0, sizeof *r);
}

/* --- one ticket's reads ------------------------------------------------------------ */

struct reads_acc {
    const struct store_ticket *t;
    struct correlate_read *out;
    size_t cap, n;
};

static int take_read(void *ctx, uint64_t time_us, uint64_t article,
                     const char *query, size_t qlen, bool zero)
{
    struct reads_acc *a = ctx;
    (void)qlen;
    (void)zero;
    if (query != NULL || a->n >= a->cap)
        return 0;
    a->out[a->n++] = (struct correlate_read){
        article, time_us, (double)(a->t->created_us - time_us) / 1e6 };
    return 0;
}

static int cmp_read(const void *pa, const void *pb)
{
    const struct correlate_read *a = pa, *b = pb;
    return a->time_us < b->time_us ? -1 : a->time_us > b->time_us;
}

int correlate_ticket_reads(struct store *st, uint32_t site_id,
                           const char *ticket_id, uint64_t window_us,
                           struct correlate_read *out, size_t cap,
                           size_t *n, bool *linked)
{
    struct report_source src = report_source_store(st);
    return correlate_ticket_reads_from(&src, site_id, ticket_id, window_us,
                                       out, cap, n, linked);
}

int correlate_ticket_reads_from(const struct report_source *src,
                                uint32_t site_id, const char *ticket_id,
                                uint64_t window_us,
                                struct correlate_read *out, size_t cap,
                                size_t *n, bool *linked)
{
    struct store_ticket t;
    *n = 0;
    *linked = false;
    int rc = src->ops->ticket_get(src->ctx, site_id, ticket_id, &t);
    if (rc != 0)
        return rc;
    struct visitors vs;
    if (ticket_visitors(src, site_id, &t, window_us, &vs) == 0)
        return 0;
    *linked = true;
    struct reads_acc a = { &t, out, cap, 0 };
    uint64_t from = t.created_us > window_us ? t.created_us - window_us : 0;
    for (size_t i = 0; i < vs.n; i++)
        if (src->ops->visits_each(src->ctx, site_id, vs.v[i], from,
                                  t.created_us, take_read, &a) != 0)
            return -1;
    if (a.n > 1)
        qsort(out, a.n, sizeof *out, cmp_read);
    *n = a.n;
    return 0;
}

int correlate_parse_window(const char *s, uint64_t *us)
{
    uint64_t v;
    if (time_parse_duration(s, &v) != 0 || s[strlen(s) - 1] == 's' ||
        v == 0 || v > 30 * TIME_US_PER_DAY)
        return -1;
    *us = v;
    return 0;
}

int correlate_parse_map(const char *s, struct correlate_map *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        const char *sep = memchr(s, ':', len);
        if (sep == NULL)
            sep = memchr(s, '=', len);
        size_t cl = sep ? (size_t)(sep - s) : 0;
        size_t tl = sep ? len - cl - 1 : 0;
        if (n == cap || sep == NULL || cl == 0 || tl == 0 ||
            cl > EVENT_CATEGORY_MAX || tl > STORE_TICKET_TAG_MAX)
            return -1;
        memcpy(out[n].category, s, cl);
        out[n].category[cl] = '\0';
        memcpy(out[n].tag, sep + 1, tl);
        out[n].tag[tl] = '\0';
        n++;
        s += len;
        if (*s == ',')
            s++;
    }
    return (int)n;
}
