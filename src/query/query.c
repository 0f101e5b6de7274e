/* query.c — see query.h. The kinds and parameters of the reports, each
 * declared once; parsing and running through them for the API and the CLI. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/query.h"
#include "dwell/source.h"
#include "base/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- parsing one parameter ---------------------------------------------------- */

/* Parses a whole decimal number of 0 .. MAX. Returns 0, or -1. */
static int parse_count(const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Sets WHY to the static reason TEXT and returns -1. */
static int refuse(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return -1;
}

static int parse_bots(struct query *q, const char *v, char *why, size_t cap)
{
    if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
        return refuse(why, cap, "must be 0 or 1");
    q->q.include_bots = v[0] == '1';
    return 0;
}

/* Text keys sort ascending by default, numbers descending. */
static int parse_sort(struct query *q, const char *v, char *why, size_t cap)
{
    bool known = false;
    for (int i = 0; report_sort_keys[i]; i++)
        known |= strcmp(v, report_sort_keys[i]) == 0;
    if (!known)
        return refuse(why, cap, "unknown metric");
    q->sort = v;
    q->descending = strcmp(v, "title") != 0 && strcmp(v, "path") != 0 &&
                    strcmp(v, "category") != 0;
    return 0;
}

static int parse_order(struct query *q, const char *v, char *why, size_t cap)
{
    if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0)
        return refuse(why, cap, "must be asc or desc");
    q->descending = v[0] == 'd';
    return 0;
}

static int parse_limit(struct query *q, const char *v, char *why, size_t cap)
{
    if (parse_count(v, QUERY_MAX_LIMIT, &q->limit) != 0 || q->limit == 0) {
        snprintf(why, cap, "must be 1–%d", QUERY_MAX_LIMIT);
        return -1;
    }
    return 0;
}

static int parse_offset(struct query *q, const char *v, char *why, size_t cap)
{
    if (parse_count(v, QUERY_MAX_OFFSET, &q->offset) != 0)
        return refuse(why, cap, "must be a number >= 0");
    return 0;
}

static int parse_prefix(struct query *q, const char *v, char *why, size_t cap)
{
    if (v[0] != '\0' && v[0] != '/')
        return refuse(why, cap, "must start with /");
    q->q.prefix = v[0] ? v : NULL;
    return 0;
}

static int parse_category(struct query *q, const char *v, char *why,
                          size_t cap)
{
    (void)why;
    (void)cap;
    q->q.category = v[0] ? v : NULL;
    return 0;
}

static int parse_kind(struct query *q, const char *v, char *why, size_t cap)
{
    if (report_parse_kinds(v, &q->q.kinds) != 0)
        return refuse(why, cap, "expected article, search, list, home "
                      "(joined by commas) or all");
    return 0;
}

static int parse_window(struct query *q, const char *v, char *why, size_t cap)
{
    if (correlate_parse_window(v, &q->window_us) != 0)
        return refuse(why, cap, "expected e.g. 30m, 24h or 7d "
                      "(1 minute to 30 days)");
    q->window = v;
    return 0;
}

static int parse_topics(struct query *q, const char *v, char *why, size_t cap)
{
    if (v[0] == '\0')
        return 0;
    int n = correlate_parse_map(v, q->map, QUERY_MAX_TOPICS);
    if (n < 0)
        return refuse(why, cap, "expected category:tag,…");
    q->nmap = (size_t)n;
    return 0;
}

/* --- the tables ------------------------------------------------------------- */

#define R QUERY_CLI_REPORT
#define C QUERY_CLI_CORRELATE

const struct query_param query_params[] = {
    { "from", "from", "DATE", "see days",
      "first UTC day YYYY-MM-DD, included", R | C, false, NULL },
    { "to", "to", "DATE", "yesterday",
      "last UTC day YYYY-MM-DD, included; after today: today", R | C, false,
      NULL },
    { "days", "days", "N", "30 (tickets: 90)",
      "1–3660: the N full days before today, or N days from from", R | C,
      false, NULL },
    { "include_bots", "include-bots", NULL, "off",
      "add bot traffic to every number", R, false, parse_bots },
    { "sort", "sort", "METRIC", "views",
      "the article list's order (a metric, title, path or category)", R,
      false, parse_sort },
    { "order", "order", "asc|desc", "desc (asc for text keys)",
      "sort order; undefined values come last either way", R, false,
      parse_order },
    { "limit", "limit", "N", "50",
      "1–1000: rows of the article list, queries of each search list", R,
      false, parse_limit },
    { "offset", "offset", "N", "0",
      "rows of the article list skipped before the first", R, false,
      parse_offset },
    { "prefix", "prefix", "PATH", "none",
      "only articles whose path starts with PATH (starts with /)", R, false,
      parse_prefix },
    { "category", "category", "NAME", "none",
      "only articles of category NAME", R, false, parse_category },
    { "kind", "kind", "KINDS", "article",
      "page kinds listed: article, search, list, home (joined by commas) "
      "or all", R, false, parse_kind },
    { "window", "window", "W", "24h",
      "attribution window: 30m, 24h, 7d … (1 minute to 30 days)", C, false,
      parse_window },
    { "topics", "topic", "CATEGORY=TAG", "none",
      "tickets tagged TAG count for the articles of CATEGORY (besides a tag "
      "equal to it)", C, true, parse_topics },
    { NULL, NULL, NULL, NULL, NULL, 0, false, NULL }
};

#undef R
#undef C

const struct query_kind_def query_kinds[QUERY_KINDS] = {
    [QUERY_SUMMARY] = { "summary", NULL, 30, "the site summary" },
    [QUERY_ARTICLES] = { "articles", NULL, 30, "the article list" },
    [QUERY_ARTICLE] = { "articles/ID", NULL, 30, "one article" },
    [QUERY_SEARCHES] = { "searches", NULL, 30, "search queries" },
    [QUERY_CONTACT_AFTER_READ] = { "contact-after-read", "deflection", 90,
                                   "tickets after reading, per article" },
    [QUERY_TOPICS] = { "topics", NULL, 90,
                       "reads and tickets per topic over time" },
    [QUERY_GAPS] = { "gaps", NULL, 90, "searches followed by a ticket" },
    [QUERY_TICKET_READS] = { "tickets/ID/reads", NULL, 30,
                             "what one ticket's requester read before it" },
    [QUERY_LEGEND] = { "legend", NULL, 30, "what every metric means" },
    [QUERY_CORRELATION] = { NULL, NULL, 90,
                            "tickets after reading, every part" },
};

int query_kind_of(const char *name)
{
    for (int k = 0; k < QUERY_KINDS; k++) {
        const struct query_kind_def *d = &query_kinds[k];
        if ((d->name && strcmp(name, d->name) == 0) ||
            (d->alias && strcmp(name, d->alias) == 0))
            return k;
    }
    return -1;
}

/* Decides the dates from the from, to and days parameters. */
static int parse_range(struct query *out, query_arg_fn arg, void *ctx,
                       const char **param, char *why, size_t cap)
{
    struct report_range_ask ask = { arg(ctx, "from"), arg(ctx, "to"),
                                    arg(ctx, "days") };
    const char *reason;
    if (report_range_resolve(&ask, query_kinds[out->kind].default_days,
                             time_today(), &out->range, param,
                             &reason) != 0)
        return refuse(why, cap, reason);
    out->q.from = out->range.from;
    out->q.to = out->range.to;
    return 0;
}

int query_parse(enum query_kind kind, const char *site, query_arg_fn arg,
                void *ctx, struct query *out, const char **param, char *why,
                size_t cap)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->site = site;
    out->sort = "views";
    out->descending = true;
    out->limit = 50;
    out->window = "24h";
    out->window_us = 24 * 3600 * 1000000ull;
    *param = NULL;
    if (kind == QUERY_LEGEND)
        return 0;
    if (parse_range(out, arg, ctx, param, why, cap) != 0)
        return -1;
    for (const struct query_param *p = query_params; p->name; p++) {
        const char *v = p->parse ? arg(ctx, p->name) : NULL;
        if (v && p->parse(out, v, why, cap) != 0) {
            *param = p->name;
            return -1;
        }
    }
    return 0;
}

/* --- running ---------------------------------------------------------------- */

/* How a run that failed on SRC failed: the source said why (ClickHouse
 * down or refusing), or the store failed. */
static enum query_status failed(const struct report_source *src)
{
    return report_source_error(src) ? QUERY_UNAVAILABLE : QUERY_STORAGE;
}

/* The reads before Q's ticket, rendered. */
static enum query_status run_ticket_reads(const struct report_source *src,
                                          const struct query *q,
                                          const struct render_scope *sc,
                                          enum render_format f, char **text)
{
    enum { CAP = 200 };
    struct correlate_read reads[CAP];
    struct store_article *arts = calloc(CAP, sizeof *arts);
    size_t n = 0;
    bool linked = false;
    if (arts == NULL)
        return QUERY_NO_MEMORY;
    int rc = correlate_ticket_reads_from(src, q->q.site_id, q->ticket, q->window_us,
                                    reads, CAP, &n, &linked);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            if (src->ops->article_get(src->ctx, q->q.site_id,
                                      reads[i].article, &arts[i]) != 0)
                snprintf(arts[i].path, sizeof arts[i].path, "?");
        *text = render_ticket_reads(sc, q->ticket, q->window, linked, reads,
                                    n, arts, f);
    }
    free(arts);
    if (rc != 0)
        return rc > 0 ? QUERY_NOT_FOUND : failed(src);
    return *text ? QUERY_OK : QUERY_NO_MEMORY;
}

/* The article list, sorted and cut to Q's page. */
static int run_articles(const struct report_source *src,
                        const struct query *q,
                        const struct render_scope *sc, enum render_format f,
                        char **text)
{
    struct report_list l;
    int rc = report_articles_from(src, &q->q, false, &l);
    if (rc == 0) {
        if (strcmp(q->sort, "attention") == 0)
            report_rank_attention(&l);
        report_sort(&l, q->sort, q->descending);
        *text = render_articles(sc, &l, q->offset, q->limit, q->sort,
                                q->descending, f);
    }
    report_list_free(&l);
    return rc;
}

/* The searches and the searches that found nothing. */
static int run_searches(const struct report_source *src,
                        const struct query *q,
                        const struct render_scope *sc, enum render_format f,
                        char **text)
{
    struct report_counts s = { 0 }, z = { 0 };
    int rc = report_searches_from(src, &q->q, q->limit, &s);
    if (rc == 0)
        rc = report_dim_from(src, &q->q, 0, STORE_DIM_SEARCH_ZERO, q->limit, &z);
    if (rc == 0)
        *text = render_searches(sc, &s, &z, f);
    report_counts_free(&s);
    report_counts_free(&z);
    return rc;
}

/* One part (or, for QUERY_CORRELATION, every part) of the tickets after
 * reading; CSV holds one part, contact-after-read by default. */
static int run_correlation(const struct report_source *src,
                        const struct query *q,
                           const struct render_scope *sc,
                           enum render_format f, char **text)
{
    struct correlate_query cq = { q->q.site_id, q->q.from, q->q.to,
                                  q->window_us, q->map, q->nmap };
    struct correlate_result res;
    enum render_part part =
        q->kind == QUERY_CONTACT_AFTER_READ ? RENDER_DEFLECTION
        : q->kind == QUERY_TOPICS ? RENDER_TOPICS
        : q->kind == QUERY_GAPS ? RENDER_GAPS
        : f == RENDER_CSV ? RENDER_DEFLECTION : RENDER_ALL;
    int rc = correlate_run_from(src, &cq, &res);
    if (rc == 0)
        *text = render_correlation(sc, q->window, &res, part, f);
    correlate_free(&res);
    return rc;
}

/* The summary, or one article in depth; 1 when there is no such article. */
static int run_report(const struct report_source *src,
                        const struct query *q,
                      const struct render_scope *sc, enum render_format f,
                      char **text)
{
    int rc;
    if (q->kind == QUERY_SUMMARY) {
        struct report_summary s;
        if ((rc = report_summary_from(src, &q->q, &s)) == 0)
            *text = render_summary(sc, &s, f);
        report_summary_free(&s);
        return rc;
    }
    struct report_detail d;
    if ((rc = report_detail_from(src, &q->q, q->article, &d)) == 0)
        *text = render_article(sc, &d, f);
    report_detail_free(&d);
    return rc;
}

enum query_status query_run(struct store *st, const struct query *q,
                            enum render_format f, char **text)
{
    struct report_source src = report_source_store(st);
    return query_run_from(&src, q, f, text);
}

enum query_status query_run_from(const struct report_source *src,
                                 const struct query *q, enum render_format f,
                                 char **text)
{
    struct render_scope sc = { q->site, &q->q, &q->range };
    int rc = 0;
    *text = NULL;
    switch (q->kind) {
    case QUERY_SUMMARY:
    case QUERY_ARTICLE:
        rc = run_report(src, q, &sc, f, text);
        break;
    case QUERY_ARTICLES:
        rc = run_articles(src, q, &sc, f, text);
        break;
    case QUERY_SEARCHES:
        rc = run_searches(src, q, &sc, f, text);
        break;
    case QUERY_CONTACT_AFTER_READ:
    case QUERY_TOPICS:
    case QUERY_GAPS:
    case QUERY_CORRELATION:
        rc = run_correlation(src, q, &sc, f, text);
        break;
    case QUERY_TICKET_READS:
        return run_ticket_reads(src, q, &sc, f, text);
    case QUERY_LEGEND:
        *text = render_legend(f);
        break;
    case QUERY_KINDS:
        break;
    }
    if (rc != 0) {
        free(*text);
        *text = NULL;
        return rc > 0 ? QUERY_NOT_FOUND : failed(src);
    }
    return *text ? QUERY_OK : QUERY_NO_MEMORY;
}
