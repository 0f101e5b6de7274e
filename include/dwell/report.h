/* report.h — what content writers read: per-article metrics for a date
 * range, computed from the daily rollups only (never from raw events),
 * site summaries, search terms and the "needs attention" list.
 * Definitions and formulas: docs/metrics.md. Knows neither HTTP nor JSON. */
#ifndef DWELL_REPORT_H
#define DWELL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/rollup.h"
#include "dwell/store.h"

struct report_source;          /* source.h */

#define REPORT_WPM 230.0       /* expected reading speed, words a minute */
#define REPORT_MAX_DAYS 3660   /* longest range a report covers */

struct report_query {
    uint32_t site_id;
    uint32_t from, to;         /* days since the epoch, inclusive */
    bool include_bots;
    const char *prefix;        /* path prefix filter, or NULL */
    const char *category;      /* category filter, or NULL */
    unsigned kinds;            /* page kinds the article tables list: a bit
                                  (1u << enum event_page_kind) each; 0, the
                                  default, means articles only. Site totals
                                  count every kind whatever this says. */
};

/* Parses a `kind` parameter: page kind names joined by commas ("search",
 * "article,search"), or "all", into a REPORT_QUERY kinds mask. Returns 0,
 * or -1 for an empty list or an unknown name. One parser for the API's
 * `kind=` and the CLI's `--kind`. */
int report_parse_kinds(const char *s, unsigned *kinds);

/* What a report shows of an article's record: its numbers, and its path,
 * title and category as strings owned by the list or the detail the row is
 * in (a row is small: the article list at 100,000 articles is a few tens of
 * MB, see docs/performance.md). */
struct report_article {
    uint64_t id;
    uint32_t words;
    uint8_t kind;              /* enum event_page_kind */
    const char *path, *title, *category;
};

/* One article over a range: its record, the votes and the metrics derived
 * from its summed rollup. Ratios are NAN when undefined (no views, no
 * votes, no words). */
struct report_row {
    struct report_article a;
    uint32_t votes_up, votes_down;
    uint64_t views, visitors, reads, quick_exits, read_throughs;
    double p50_ms, p75_ms, p90_ms, mean_ms;
    double read_rate, read_through, read_ratio, quick_exit_rate;
    double helpful_rate;
    uint64_t views_prev;       /* the previous period of equal length */
    double p50_prev_ms;
    double views_change;       /* (views - prev) / prev, NAN if prev == 0 */
    double attention;          /* "needs attention" score, 0 if none */
    const char *attention_reason;
};

/* Fills R's votes and derived metrics from SUM, R's summed rollup over the
 * range, R->a.words and R->views_prev. */
void report_derive(struct report_row *r, const struct rollup_day *sum);

struct report_list {
    struct report_row *rows;   /* owned; free with report_list_free */
    size_t n;
    char *text;                /* owned: the rows' paths, titles, categories */
};

/* Every article of Q's site matching Q's filters that had a view in the
 * range or in the previous period, with the previous period filled in.
 * Articles without views are included when WITH_IDLE. Returns 0, or -1. */
int report_articles(struct store *st, const struct report_query *q,
                    bool with_idle, struct report_list *out);

void report_list_free(struct report_list *l);

/* Sort keys of report_sort (NULL-terminated, for error messages). */
extern const char *const report_sort_keys[];

/* Sorts L by KEY (one of report_sort_keys) in descending or ascending order;
 * undefined values (NAN) sort last either way. Returns 0, or -1 for an
 * unknown key. */
int report_sort(struct report_list *l, const char *key, bool descending);

/* Scores L's rows for "needs attention" (see docs/metrics.md) and sorts
 * the ones that need it first. Returns how many do. */
size_t report_rank_attention(struct report_list *l);

/* One value of a breakdown with its count. */
struct report_count {
    char value[EVENT_PATH_MAX + 1];
    uint64_t count;
    uint64_t zero;             /* searches: how many had no results */
};

struct report_counts {
    struct report_count *items;   /* owned; free with report_counts_free */
    size_t n;
};

/* Dimension DIM of ARTICLE (0: site-wide) summed over Q's range, largest
 * first, at most LIMIT (0: all). Returns 0, or -1. */
int report_dim(struct store *st, const struct report_query *q,
               uint64_t article, enum store_dim dim, size_t limit,
               struct report_counts *out);

/* Site-wide searches over Q's range, merged with their zero-result counts
 * (item.zero), most frequent first, at most LIMIT (0: all). */
int report_searches(struct store *st, const struct report_query *q,
                    size_t limit, struct report_counts *out);

void report_counts_free(struct report_counts *c);

/* One day of a series. */
struct report_day {
    uint32_t day;
    struct rollup_day sum;
};

struct report_series {
    struct report_day *days;   /* every day of the range, zeros included */
    size_t n;
};

/* The daily series of ARTICLE (0: site-wide) over Q's range. */
int report_series(struct store *st, const struct report_query *q,
                  uint64_t article, struct report_series *out);

void report_series_free(struct report_series *s);

/* Site-wide numbers over a range. */
struct report_totals {
    struct rollup_day sum;     /* summed over articles (buckets included) */
    uint64_t visitors;         /* distinct per day on the site, summed */
    uint64_t searches;
    double p50_ms, p75_ms, p90_ms;
    double read_rate, read_through, quick_exit_rate, helpful_rate;
};

struct report_summary {
    struct report_totals cur, prev;
    uint32_t prev_from, prev_to;
    struct report_series series;       /* site-wide, every day */
    struct report_list articles;       /* all matching, views descending */
    struct report_row *attention;      /* owned copy, needs attention first;
                                          its strings are articles' */
    size_t n_attention;
    struct report_counts searches;     /* top 20, zero-result counts too */
    struct report_counts zero_searches;/* top 20 with no results */
};

/* Everything the summary page shows for Q. Returns 0, or -1; free OUT with
 * report_summary_free (also after an error). */
int report_summary(struct store *st, const struct report_query *q,
                   struct report_summary *out);

void report_summary_free(struct report_summary *s);

/* One article in depth. */
struct report_detail {
    struct report_row row;     /* row.a's strings are article's */
    struct store_article article;
    struct rollup_day sum;     /* the summed rollup over the range */
    struct report_series series;
    struct report_counts countries, referrers, led_here, searched_here;
};

/* The detail of article ID over Q's range (with the previous period).
 * Returns 0; 1 if the site has no such article; -1 on error. Free OUT with
 * report_detail_free (also after an error). */
int report_detail(struct store *st, const struct report_query *q,
                  uint64_t id, struct report_detail *out);

void report_detail_free(struct report_detail *d);

/* The date range a report covers, as decided by report_range_resolve. */
struct report_range {
    uint32_t from, to;         /* days since the epoch, inclusive */
    uint32_t today;            /* the UTC day it was decided on */
    uint32_t asked_to;         /* the `to` asked for, before clamping */
    bool clamped;              /* asked_to was after today: to is today */
};

/* A range as asked for: "YYYY-MM-DD" dates and a day count ("30"), each
 * NULL when not given. */
struct report_range_ask {
    const char *from, *to, *days;
};

/* The one place that decides a report's dates, for the API and the CLI
 * (docs/metrics.md, Date ranges). Only full days by default: without `to`
 * the range ends yesterday (TODAY - 1), and spans DAYS, else DEFAULT_DAYS,
 * days; a `to` after TODAY is clamped to TODAY. With `from` and `days` and
 * no `to`, the range starts at `from`. Returns 0 with OUT set, or -1 with
 * *PARAM naming the bad parameter ("from", "to", "days") and *WHY a reason
 * (static strings). */
int report_range_resolve(const struct report_range_ask *ask,
                         uint32_t default_days, uint32_t today,
                         struct report_range *out, const char **param,
                         const char **why);

/* The functions above read ST's own rollups; each has a twin that reads
 * them from SRC (source.h: the store, or ClickHouse), with the same
 * promises. */
int report_articles_from(const struct report_source *src,
                         const struct report_query *q, bool with_idle,
                         struct report_list *out);
int report_dim_from(const struct report_source *src,
                    const struct report_query *q, uint64_t article,
                    enum store_dim dim, size_t limit,
                    struct report_counts *out);
int report_searches_from(const struct report_source *src,
                         const struct report_query *q, size_t limit,
                         struct report_counts *out);
int report_series_from(const struct report_source *src,
                       const struct report_query *q, uint64_t article,
                       struct report_series *out);
int report_summary_from(const struct report_source *src,
                        const struct report_query *q,
                        struct report_summary *out);
int report_detail_from(const struct report_source *src,
                       const struct report_query *q, uint64_t id,
                       struct report_detail *out);

#endif
