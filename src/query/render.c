/* render.c — see render.h.
 *
 * Every kind of row (an article's metrics, a day of a series, a search,
 * a topic, …) is a table of columns, each declared once with its JSON key,
 * its CSV header and how its value is read and formatted; one JSON writer
 * and one CSV writer walk the tables. JSON goes through the streaming
 * writer (base/json.h) and CSV and tables through a capped buffer
 * (base/buf.h): running out of memory or passing render_max_text gives NULL,
 * never a truncated text. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/render.h"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/csv.h"
#include "base/json.h"
#include "base/time.h"
#include "query/legend.h"

size_t render_max_text = 64u << 20;

/* --- columns ------------------------------------------------------------------------ */

/* How a column's value is stored and written. "Undefined" values are null
 * in JSON and an empty CSV cell. */
enum cell {
    CELL_ID,          /* uint64_t: 16 hex digits */
    CELL_TEXT,        /* char[]: a string */
    CELL_STR,         /* const char *: a string; JSON leaves the key out
                         when NULL */
    CELL_PAGE,        /* uint8_t page kind: its name */
    CELL_DATE,        /* uint32_t day: "YYYY-MM-DD" */
    CELL_TIME,        /* uint64_t µs since the epoch: ISO 8601, seconds */
    CELL_U32,         /* uint32_t */
    CELL_U64,         /* uint64_t */
    CELL_SIZE,        /* size_t */
    CELL_INT,         /* int */
    CELL_LAG,         /* int: undefined when negative */
    CELL_RATIO,       /* double: 4 decimals; undefined when NAN */
    CELL_MS,          /* double: whole numbers; undefined when NAN */
    CELL_CI,          /* struct stats_interval: JSON [lo, hi] (4 decimals)
                         or null, CSV two cells */
    CELL_YESNO,       /* bool: JSON true/false, CSV yes/no */
    CELL_LABEL        /* text made by the column's label function */
};

#define COL_CSV_FIRST 1u  /* CSV puts the column before the others */
#define COL_CSV_LAST  2u  /* … or after them */
#define COL_CTX       4u  /* the value is in the context, not the row */

struct column {
    const char *json;            /* JSON key, or NULL: CSV only */
    const char *csv;             /* CSV header (two for CELL_CI), or NULL:
                                    JSON only */
    enum cell type;
    size_t at;                   /* offsetof the value in the row */
    size_t guard;                /* 1 + offsetof a count that must be > 0
                                    for the value to be defined; 0: none */
    enum cell guard_type;        /* CELL_U32 or CELL_U64 */
    double (*number)(const void *row);   /* a derived ratio or time */
    void (*label)(const void *row, const void *ctx, char *out, size_t n);
    unsigned flags;              /* COL_* */
};

#define COL(j, c, t, st, f) { j, c, t, offsetof(st, f), 0, 0, NULL, NULL, 0 }
#define COL_F(j, c, t, st, f, fl) \
    { j, c, t, offsetof(st, f), 0, 0, NULL, NULL, fl }
/* Defined only while the count G (of type GT) of the row is above 0. */
#define COL_IF(j, c, t, st, f, g, gt) \
    { j, c, t, offsetof(st, f), offsetof(st, g) + 1, gt, NULL, NULL, 0 }
#define COL_NUM(j, c, t, fn, st, g, gt) \
    { j, c, t, 0, offsetof(st, g) + 1, gt, fn, NULL, 0 }
#define COL_LABEL(j, c, fn) { j, c, CELL_LABEL, 0, 0, 0, NULL, fn, 0 }

#define NCOLS(a) (sizeof (a) / sizeof (a)[0])

/* An article's identity, first in every row about one: id, path, title
 * (ID_CSV: the id's CSV header, or NULL when CSV leaves it out). */
#define ARTICLE_COLS(st, id_csv)                                         \
    COL("id", id_csv, CELL_ID, st, a.id),                                \
    COL("path", "path", CELL_TEXT, st, a.path),                          \
    COL("title", "title", CELL_TEXT, st, a.title)

/* The address of column C's value in ROW (or CTX). */
static const void *cell_at(const struct column *c, const void *row,
                           const void *ctx)
{
    return (const char *)(c->flags & COL_CTX ? ctx : row) + c->at;
}

/* False when C's guard count in ROW is 0. */
static bool cell_defined(const struct column *c, const void *row)
{
    if (c->guard == 0)
        return true;
    const void *g = (const char *)row + c->guard - 1;
    return c->guard_type == CELL_U32 ? *(const uint32_t *)g > 0
                                     : *(const uint64_t *)g > 0;
}

/* C's double value in ROW: derived or read. */
static double cell_double(const struct column *c, const void *row,
                          const void *ctx)
{
    return c->number ? c->number(row) : *(const double *)cell_at(c, row, ctx);
}

static double round4(double v)
{
    return round(v * 10000.0) / 10000.0;
}

/* A ratio with 4 decimals, or null when undefined. */
static void json_ratio(struct json *j, double v)
{
    json_double(j, isnan(v) || isinf(v) ? NAN : round4(v));
}

static void json_date(struct json *j, uint32_t day)
{
    char d[TIME_DATE_LEN];
    time_format_date(day, d);
    json_string(j, d);
}

/* Writes the value of column C of ROW as JSON. */
static void json_cell(struct json *j, const struct column *c, const void *row,
                      const void *ctx)
{
    const void *p = cell_at(c, row, ctx);
    char s[256];
    if (!cell_defined(c, row)) {
        json_null(j);
        return;
    }
    switch (c->type) {
    case CELL_ID:
        snprintf(s, sizeof s, "%016" PRIx64, *(const uint64_t *)p);
        json_string(j, s);
        break;
    case CELL_TEXT:  json_string(j, (const char *)p); break;
    case CELL_STR:   json_string(j, *(const char *const *)p); break;
    case CELL_PAGE:
        json_string(j, event_page_kind_name(*(const uint8_t *)p));
        break;
    case CELL_DATE:  json_date(j, *(const uint32_t *)p); break;
    case CELL_TIME:
        time_format_iso8601_s(*(const uint64_t *)p, s);
        json_string(j, s);
        break;
    case CELL_U32:   json_uint(j, *(const uint32_t *)p); break;
    case CELL_U64:   json_uint(j, *(const uint64_t *)p); break;
    case CELL_SIZE:  json_uint(j, *(const size_t *)p); break;
    case CELL_INT:   json_int(j, *(const int *)p); break;
    case CELL_LAG:
        if (*(const int *)p < 0)
            json_null(j);
        else
            json_int(j, *(const int *)p);
        break;
    case CELL_RATIO: json_ratio(j, cell_double(c, row, ctx)); break;
    case CELL_MS:    json_double(j, round(cell_double(c, row, ctx))); break;
    case CELL_CI: {
        const struct stats_interval *ci = p;
        if (isnan(ci->lo) || isnan(ci->hi)) {
            json_null(j);
            break;
        }
        json_array_begin(j);
        json_double(j, round4(ci->lo));
        json_double(j, round4(ci->hi));
        json_array_end(j);
        break;
    }
    case CELL_YESNO: json_bool(j, *(const bool *)p); break;
    case CELL_LABEL:
        c->label(row, ctx, s, sizeof s);
        json_string(j, s);
        break;
    }
}

/* Writes the members of ROW's JSON columns of COLS[0..N) into the open
 * object. */
static void json_members(struct json *j, const struct column *cols, size_t n,
                         const void *row, const void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        const struct column *c = &cols[i];
        if (c->json == NULL)
            continue;
        if (c->type == CELL_STR &&
            *(const char *const *)cell_at(c, row, ctx) == NULL)
            continue;
        json_key(j, c->json);
        json_cell(j, c, row, ctx);
    }
}

/* Writes ROW as one JSON object of the JSON columns of COLS[0..N). */
static void json_row(struct json *j, const struct column *cols, size_t n,
                     const void *row, const void *ctx)
{
    json_object_begin(j);
    json_members(j, cols, n, row, ctx);
    json_object_end(j);
}

/* Writes KEY: an array of the N rows at ROWS (each SIZE bytes apart). */
static void json_rows(struct json *j, const char *key,
                      const struct column *cols, size_t ncols,
                      const void *rows, size_t size, size_t n,
                      const void *ctx)
{
    json_key(j, key);
    json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        json_row(j, cols, ncols, (const char *)rows + i * size, ctx);
    json_array_end(j);
}

/* A number with DECIMALS, or nothing when undefined. */
static void csv_num(struct buf *b, double v, int decimals)
{
    if (!isnan(v))
        buf_printf(b, "%.*f", decimals, v);
}

/* Writes the value of column C of ROW as CSV cells. */
static void csv_cell(struct buf *b, const struct column *c, const void *row,
                     const void *ctx)
{
    const void *p = cell_at(c, row, ctx);
    char s[256];
    if (!cell_defined(c, row))
        return;
    switch (c->type) {
    case CELL_ID:    buf_printf(b, "%016" PRIx64, *(const uint64_t *)p); break;
    case CELL_TEXT:  csv_put_field(b, (const char *)p); break;
    case CELL_STR: {
        const char *v = *(const char *const *)p;
        csv_put_field(b, v ? v : "");
        break;
    }
    case CELL_PAGE:
        buf_str(b, event_page_kind_name(*(const uint8_t *)p));
        break;
    case CELL_DATE:
        time_format_date(*(const uint32_t *)p, s);
        buf_str(b, s);
        break;
    case CELL_TIME:
        time_format_iso8601_s(*(const uint64_t *)p, s);
        buf_str(b, s);
        break;
    case CELL_U32:   buf_printf(b, "%" PRIu32, *(const uint32_t *)p); break;
    case CELL_U64:   buf_printf(b, "%" PRIu64, *(const uint64_t *)p); break;
    case CELL_SIZE:  buf_printf(b, "%zu", *(const size_t *)p); break;
    case CELL_INT:   buf_printf(b, "%d", *(const int *)p); break;
    case CELL_LAG:
        if (*(const int *)p >= 0)
            buf_printf(b, "%d", *(const int *)p);
        break;
    case CELL_RATIO: csv_num(b, cell_double(c, row, ctx), 4); break;
    case CELL_MS:    csv_num(b, cell_double(c, row, ctx), 0); break;
    case CELL_CI: {
        const struct stats_interval *ci = p;
        csv_num(b, ci->lo, 4);
        buf_str(b, ",");
        csv_num(b, ci->hi, 4);
        break;
    }
    case CELL_YESNO: buf_str(b, *(const bool *)p ? "yes" : "no"); break;
    case CELL_LABEL:
        c->label(row, ctx, s, sizeof s);
        csv_put_field(b, s);
        break;
    }
}

#define MAX_COLS 32

/* The indexes of the CSV columns of COLS[0..N) in CSV order: the
 * COL_CSV_FIRST ones, the others, then the COL_CSV_LAST ones. Returns how
 * many. */
static size_t csv_order(const struct column *cols, size_t n,
                        size_t order[MAX_COLS])
{
    static const unsigned pass[3] = { COL_CSV_FIRST, 0, COL_CSV_LAST };
    size_t k = 0;
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < n && k < MAX_COLS; i++)
            if (cols[i].csv != NULL &&
                (cols[i].flags & (COL_CSV_FIRST | COL_CSV_LAST)) == pass[p])
                order[k++] = i;
    return k;
}

/* Writes the CSV header line of COLS[0..N). */
static void csv_header(struct buf *b, const struct column *cols, size_t n)
{
    size_t order[MAX_COLS], k = csv_order(cols, n, order);
    for (size_t i = 0; i < k; i++) {
        if (i)
            buf_str(b, ",");
        buf_str(b, cols[order[i]].csv);
    }
    buf_str(b, "\r\n");
}

/* Writes ROW as one CSV line of the CSV columns of COLS[0..N). */
static void csv_row(struct buf *b, const struct column *cols, size_t n,
                    const void *row, const void *ctx)
{
    size_t order[MAX_COLS], k = csv_order(cols, n, order);
    for (size_t i = 0; i < k; i++) {
        if (i)
            buf_str(b, ",");
        csv_cell(b, &cols[order[i]], row, ctx);
    }
    buf_str(b, "\r\n");
}

/* Writes the header and the N rows at ROWS (SIZE bytes apart). */
static void csv_rows(struct buf *b, const struct column *cols, size_t ncols,
                     const void *rows, size_t size, size_t n, const void *ctx)
{
    csv_header(b, cols, ncols);
    for (size_t i = 0; i < n; i++)
        csv_row(b, cols, ncols, (const char *)rows + i * size, ctx);
}

/* --- the tables of columns ------------------------------------------------------------ */

#define ROW struct report_row

/* An article over a range (report_row). */
static const struct column row_cols[] = {
    COL("id", "id", CELL_ID, ROW, a.id),        /* ARTICLE_COLS, as pointers */
    COL("path", "path", CELL_STR, ROW, a.path),
    COL("title", "title", CELL_STR, ROW, a.title),
    COL("category", "category", CELL_STR, ROW, a.category),
    COL_F("page", "page", CELL_PAGE, ROW, a.kind, COL_CSV_LAST),
    COL("words", "words", CELL_U32, ROW, a.words),
    COL("views", "views", CELL_U64, ROW, views),
    COL("visitors", "visitors", CELL_U64, ROW, visitors),
    COL("reads", "reads", CELL_U64, ROW, reads),
    COL("read_rate", "read_rate", CELL_RATIO, ROW, read_rate),
    COL("read_through", "read_through", CELL_RATIO, ROW, read_through),
    COL("read_ratio", "read_ratio", CELL_RATIO, ROW, read_ratio),
    COL("quick_exit_rate", "quick_exit_rate", CELL_RATIO, ROW,
        quick_exit_rate),
    COL_IF("engaged_p50_ms", "engaged_p50_ms", CELL_MS, ROW, p50_ms, views,
           CELL_U64),
    COL_IF("engaged_p75_ms", "engaged_p75_ms", CELL_MS, ROW, p75_ms, views,
           CELL_U64),
    COL_IF("engaged_p90_ms", "engaged_p90_ms", CELL_MS, ROW, p90_ms, views,
           CELL_U64),
    COL("engaged_mean_ms", "engaged_mean_ms", CELL_MS, ROW, mean_ms),
    COL("votes_up", "votes_up", CELL_U32, ROW, votes_up),
    COL("votes_down", "votes_down", CELL_U32, ROW, votes_down),
    COL("helpful_rate", "helpful_rate", CELL_RATIO, ROW, helpful_rate),
    COL("views_prev", "views_prev", CELL_U64, ROW, views_prev),
    COL("views_change", "views_change", CELL_RATIO, ROW, views_change),
    COL_IF("engaged_p50_prev_ms", NULL, CELL_MS, ROW, p50_prev_ms,
           views_prev, CELL_U64),
    COL("attention_reason", NULL, CELL_STR, ROW, attention_reason),
};
#undef ROW
_Static_assert(NCOLS(row_cols) <= MAX_COLS, "csv_order holds MAX_COLS");

/* The first columns of row_cols: what names an article (id, path, title,
 * category), as the summary lists the articles without views. */
#define IDENTITY_COLS 4

#define TOT struct report_totals

/* Site-wide numbers over a range (JSON only). */
static const struct column totals_cols[] = {
    COL("views", NULL, CELL_U32, TOT, sum.views),
    COL("visitors", NULL, CELL_U64, TOT, visitors),
    COL("reads", NULL, CELL_U32, TOT, sum.reads),
    COL("read_rate", NULL, CELL_RATIO, TOT, read_rate),
    COL("read_through", NULL, CELL_RATIO, TOT, read_through),
    COL("quick_exit_rate", NULL, CELL_RATIO, TOT, quick_exit_rate),
    COL_IF("engaged_p50_ms", NULL, CELL_MS, TOT, p50_ms, sum.views, CELL_U32),
    COL_IF("engaged_p75_ms", NULL, CELL_MS, TOT, p75_ms, sum.views, CELL_U32),
    COL_IF("engaged_p90_ms", NULL, CELL_MS, TOT, p90_ms, sum.views, CELL_U32),
    COL("votes_up", NULL, CELL_U32, TOT, sum.votes_up),
    COL("votes_down", NULL, CELL_U32, TOT, sum.votes_down),
    COL("helpful_rate", NULL, CELL_RATIO, TOT, helpful_rate),
    COL("searches", NULL, CELL_U64, TOT, searches),
};
#undef TOT

static double day_p50_ms(const void *row)
{
    return rollup_quantile_ms(((const struct report_day *)row)->sum.hist, 0.5);
}

#define DAY struct report_day

/* One day of a series; the site's series has the first SITE_DAY_COLS. */
static const struct column day_cols[] = {
    COL("date", "date", CELL_DATE, DAY, day),
    COL("views", "views", CELL_U32, DAY, sum.views),
    COL("visitors", "visitors", CELL_U32, DAY, sum.visitors),
    COL("reads", "reads", CELL_U32, DAY, sum.reads),
    COL_NUM("engaged_p50_ms", "engaged_p50_ms", CELL_MS, day_p50_ms, DAY,
            sum.views, CELL_U32),
};
#define SITE_DAY_COLS 4
#undef DAY

/* A search with its count and, for the top searches, how many found
 * nothing (the first 2 columns otherwise). */
static const struct column search_cols[] = {
    COL("query", "query", CELL_TEXT, struct report_count, value),
    COL("count", "count", CELL_U64, struct report_count, count),
    COL("zero_results", "zero_results", CELL_U64, struct report_count, zero),
};

/* One value of a breakdown (country, referrer, search) with its count. */
static const struct column value_cols[] = {
    COL("value", "value", CELL_TEXT, struct report_count, value),
    COL("count", "count", CELL_U64, struct report_count, count),
};

/* What every correlation row may read besides itself. */
struct corr_ctx {
    struct correlate_site site;
    const char *window;
};

/* A share as the report page writes it: one decimal below 10 %, else
 * whole percents. */
static void fmt_share(char *out, size_t n, double v)
{
    double p = v * 100.0;
    if (isnan(v))
        snprintf(out, n, "-");
    else
        snprintf(out, n, p > 0 && p < 10 ? "%.1f%%" : "%.0f%%", p);
}

/* The rate as what it is, a lower bound: "at least 41% contacted support
 * within 24h". */
static void contact_label(const void *row, const void *ctx, char *out,
                          size_t n)
{
    const struct correlate_article *a = row;
    const struct corr_ctx *c = ctx;
    char p[16];
    fmt_share(p, sizeof p, a->rate);
    snprintf(out, n, "at least %s contacted support within %s", p,
             c->window);
}

#define CA struct correlate_article
#define CTX struct corr_ctx

/* An article's contact after reading; CSV repeats the period's linked
 * share on every row, next to each rate. */
static const struct column corr_article_cols[] = {
    ARTICLE_COLS(CA, "id"),
    COL("category", NULL, CELL_TEXT, CA, a.category),
    COL("views", "views", CELL_U64, CA, views),
    COL("followed_by_ticket", "followed_by_ticket", CELL_U64, CA, followed),
    COL("contact_after_read", "contact_after_read", CELL_RATIO, CA, rate),
    COL("contact_after_read_ci", "ci_low,ci_high", CELL_CI, CA, ci),
    COL_LABEL("contact_after_read_label", NULL, contact_label),
    COL("median_read_to_ticket_s", "median_read_to_ticket_s", CELL_MS, CA,
        median_to_ticket_s),
    COL_F(NULL, "period_linked_tickets", CELL_U64, CTX, site.linked, COL_CTX),
    COL_F(NULL, "period_tickets", CELL_U64, CTX, site.tickets, COL_CTX),
    COL_F(NULL, "linked_share", CELL_RATIO, CTX, site.linked_share, COL_CTX),
};
#undef CA
#undef CTX

#define SITE struct correlate_site

/* The site's numbers of tickets after reading (JSON only). */
static const struct column site_numbers_cols[] = {
    COL("tickets", NULL, CELL_U64, SITE, tickets),
    COL("linked_tickets", NULL, CELL_U64, SITE, linked),
    COL("tickets_with_read", NULL, CELL_U64, SITE, with_read),
    COL("requesters", NULL, CELL_U64, SITE, requesters),
    COL("visitors", NULL, CELL_U64, SITE, visitors),
    COL("views", NULL, CELL_U64, SITE, views),
    COL("self_service_score", NULL, CELL_RATIO, SITE, self_service_score),
    COL("tickets_per_1000_views", NULL, CELL_RATIO, SITE,
        tickets_per_1000_views),
    COL("share_of_tickets_after_reading", NULL, CELL_RATIO, SITE,
        share_with_read),
};

/* How much of the helpdesk the rates can see: linked tickets of all the
 * period's tickets (JSON only). */
static const struct column linked_share_cols[] = {
    COL("linked_tickets", NULL, CELL_U64, SITE, linked),
    COL("tickets", NULL, CELL_U64, SITE, tickets),
    COL("share", NULL, CELL_RATIO, SITE, linked_share),
};
#undef SITE

/* A plain-language reading of a topic's result. */
static void topic_verdict(const void *row, const void *ctx, char *out,
                          size_t n)
{
    const struct correlate_topic *t = row;
    (void)ctx;
    if (t->best_lag < 0)
        snprintf(out, n, "not enough data (%zu days, %llu tickets)", t->days,
                 (unsigned long long)t->tickets);
    else if (!t->evidence)
        snprintf(out, n, "no evidence");
    else
        snprintf(out, n, "more reads are followed by %s tickets %d day%s "
                 "later", t->r < 0 ? "fewer" : "more", t->best_lag,
                 t->best_lag == 1 ? "" : "s");
}

#define TOPIC struct correlate_topic

/* A topic's reads against its tickets (JSON adds the lags after these). */
static const struct column topic_cols[] = {
    COL("category", "category", CELL_TEXT, TOPIC, category),
    COL("days", "days", CELL_SIZE, TOPIC, days),
    COL("reads", "reads", CELL_U64, TOPIC, reads),
    COL("tickets", "tickets", CELL_U64, TOPIC, tickets),
    COL("best_lag_days", "best_lag_days", CELL_LAG, TOPIC, best_lag),
    COL("r", "r", CELL_RATIO, TOPIC, r),
    COL("n", "n", CELL_SIZE, TOPIC, n),
    COL("ci", "ci_low,ci_high", CELL_CI, TOPIC, ci),
    COL("evidence", "evidence", CELL_YESNO, TOPIC, evidence),
    COL_LABEL("verdict", NULL, topic_verdict),
};
#undef TOPIC

/* One lag of a topic (JSON only). */
static const struct column lag_cols[] = {
    COL("lag", NULL, CELL_INT, struct stats_lag, lag),
    COL("r", NULL, CELL_RATIO, struct stats_lag, r),
    COL("n", NULL, CELL_SIZE, struct stats_lag, n),
};

/* A search followed by tickets. */
static const struct column gap_cols[] = {
    COL("query", "query", CELL_TEXT, struct correlate_gap, query),
    COL("tickets", "tickets", CELL_U64, struct correlate_gap, tickets),
    COL("zero_results", "zero_results", CELL_YESNO, struct correlate_gap,
        zero_results),
};

/* An article one ticket's requester read before it. */
struct read_row {
    struct store_article a;
    uint64_t time_us;
    double before_s;
};

static const struct column read_cols[] = {
    ARTICLE_COLS(struct read_row, NULL),
    COL_F("time", "time", CELL_TIME, struct read_row, time_us,
          COL_CSV_FIRST),
    COL("before_s", "before_s", CELL_MS, struct read_row, before_s),
};

#define LEG struct legend_entry

/* What one metric means. */
static const struct column legend_cols[] = {
    COL("key", "key", CELL_STR, LEG, key),
    COL("label", "label", CELL_STR, LEG, label),
    COL("definition", "definition", CELL_STR, LEG, text),
    COL("doc", "doc", CELL_STR, LEG, doc),
};
#undef LEG

/* --- JSON documents -------------------------------------------------------------------- */

static void json_key_date(struct json *j, const char *key, uint32_t day)
{
    json_key(j, key);
    json_date(j, day);
}

static void json_key_ratio(struct json *j, const char *key, double v)
{
    json_key(j, key);
    json_ratio(j, v);
}

/* Starts a report's object with what every report is about: the site, the
 * dates and, when known, how they were decided. */
static void json_begin_scope(struct json *j, const struct render_scope *sc)
{
    json_init(j, render_max_text);
    json_object_begin(j);
    json_key_string(j, "site", sc->site);
    json_key_date(j, "from", sc->q->from);
    json_key_date(j, "to", sc->q->to);
    const struct report_range *rg = sc->range;
    if (rg == NULL)
        return;
    json_key(j, "range");
    json_object_begin(j);
    json_key_date(j, "from", sc->q->from);
    json_key_date(j, "to", sc->q->to);
    json_key_uint(j, "days", sc->q->to - sc->q->from + 1);
    json_key_date(j, "today", rg->today);
    json_key_bool(j, "includes_today", sc->q->to >= rg->today);
    json_key_bool(j, "clamped", rg->clamped);
    if (rg->clamped)
        json_key_date(j, "requested_to", rg->asked_to);
    json_object_end(j);
}

/* Closes the report's object and hands out its text with a newline, or
 * NULL when anything failed. */
static char *json_done(struct json *j)
{
    json_object_end(j);
    json_newline(j);
    return json_finish(j, NULL);
}

/* KEY: the object of ROW's columns. */
static void json_key_row(struct json *j, const char *key,
                         const struct column *cols, size_t n, const void *row)
{
    json_key(j, key);
    json_row(j, cols, n, row, NULL);
}

static double change(double cur, double prev)
{
    return prev > 0 && !isnan(cur) ? (cur - prev) / prev : NAN;
}

/* --- tables (80 columns) --------------------------------------------------------------- */

static void fmt_ms(char *out, size_t n, double ms)
{
    if (isnan(ms)) {
        snprintf(out, n, "-");
        return;
    }
    unsigned s = (unsigned)(ms / 1000.0 + 0.5);
    if (s < 60)
        snprintf(out, n, "%us", s);
    else
        snprintf(out, n, "%um%02us", s / 60, s % 60);
}

static void fmt_pct(char *out, size_t n, double v)
{
    if (isnan(v))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.0f%%", v * 100.0);
}

/* Copies at most W display columns of S (UTF-8 aware) into OUT. */
static void fit(char *out, size_t cap, const char *s, size_t w)
{
    size_t n = 0, cols = 0, len = strlen(s);
    while (n < len && cols < w) {
        size_t step = 1;
        while (n + step < len && ((unsigned char)s[n + step] & 0xC0) == 0x80)
            step++;
        if (n + step >= cap)
            break;
        n += step;
        cols++;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    if (n < len && n > 0 && cols == w) {      /* mark the cut */
        size_t back = n - 1;
        while (back > 0 && ((unsigned char)out[back] & 0xC0) == 0x80)
            back--;
        out[back] = '~';
        out[back + 1] = '\0';
    }
    for (; cols < w && n + 1 < cap; cols++)  /* pad */
        out[n++] = ' ', out[n] = '\0';
}

static void table_rows(struct buf *t, const struct report_row *rows,
                       size_t n)
{
    buf_printf(t, "%-30s %7s %7s %6s %6s %5s %5s %7s\n", "article", "views",
                "visitrs", "p50", "p90", "read", "help", "change");
    for (size_t i = 0; i < n; i++) {
        const struct report_row *r = &rows[i];
        char path[160], p50[16], p90[16], rd[8], hp[8], ch[12];
        fit(path, sizeof path, r->a.path, 30);
        fmt_ms(p50, sizeof p50, r->views ? r->p50_ms : NAN);
        fmt_ms(p90, sizeof p90, r->views ? r->p90_ms : NAN);
        fmt_pct(rd, sizeof rd, r->read_rate);
        fmt_pct(hp, sizeof hp, r->helpful_rate);
        if (isnan(r->views_change))
            snprintf(ch, sizeof ch, "-");
        else
            snprintf(ch, sizeof ch, "%+.0f%%", r->views_change * 100.0);
        buf_printf(t, "%s %7" PRIu64 " %7" PRIu64 " %6s %6s %5s %5s %7s\n",
                    path, r->views, r->visitors, p50, p90, rd, hp, ch);
    }
}

static void table_counts(struct buf *t, const char *title,
                         const struct report_counts *c)
{
    if (c->n == 0)
        return;
    buf_printf(t, "\n%s\n", title);
    for (size_t i = 0; i < c->n; i++) {
        char v[200];
        fit(v, sizeof v, c->items[i].value, 60);
        buf_printf(t, "  %s %10" PRIu64 "\n", v, c->items[i].count);
    }
}

/* Writes LINE cut to 80 columns, then a newline. */
static void table_line(struct buf *t, const char *line)
{
    char cut[400];
    fit(cut, sizeof cut, line, 80);
    size_t n = strlen(cut);
    while (n > 0 && cut[n - 1] == ' ')
        n--;
    buf_put(t, cut, n);
    buf_str(t, "\n");
}

static void table_header(struct buf *t, const struct render_scope *sc,
                         const char *what)
{
    char f[TIME_DATE_LEN], to[TIME_DATE_LEN], line[400];
    time_format_date(sc->q->from, f);
    time_format_date(sc->q->to, to);
    const char *part = sc->range == NULL ? ""
                     : sc->q->to >= sc->range->today ? " (today so far included)"
                     : " (full days)";
    snprintf(line, sizeof line, "%s to %s UTC%s%s: %s, %s", f, to, part,
             sc->q->include_bots ? " (bots included)" : "", sc->site, what);
    table_line(t, line);
    buf_str(t, "\n");
}


static void correlation_table(struct buf *t, const struct render_scope *sc,
                              const char *window,
                              const struct correlate_result *r)
{
    char line[400];
    snprintf(line, sizeof line, "tickets after reading (window %s)", window);
    table_header(t, sc, line);
    const struct correlate_site *s = &r->site;
    char sss[32], per[32], share[32], linked[32];
    fmt_share(share, sizeof share, s->share_with_read);
    fmt_share(linked, sizeof linked, s->linked_share);
    snprintf(sss, sizeof sss, isnan(s->self_service_score) ? "-" : "%.1f",
             s->self_service_score);
    snprintf(per, sizeof per, isnan(s->tickets_per_1000_views) ? "-" : "%.1f",
             s->tickets_per_1000_views);
    buf_printf(t, "tickets %" PRIu64 ", linked to a reader %" PRIu64
                " (%s), after reading %s\n", s->tickets, s->linked, linked,
                share);
    buf_printf(t, "self-service score %s (visitors per requester), "
                "tickets per 1,000 views %s\n\n", sss, per);
    /* the rate is a lower bound: say so, with the share it can see */
    snprintf(line, sizeof line, "at least this share of views contacted "
             "support within %s: only tickets", window);
    table_line(t, line);
    snprintf(line, sizeof line, "linked to a reader count, %" PRIu64 " of %"
             PRIu64 " (%s)", s->linked, s->tickets, linked);
    table_line(t, line);
    buf_printf(t, "%-36s %7s %6s %8s %15s\n", "article", "views", "ticket",
                "at least", "95% interval");
    for (size_t i = 0; i < r->narticles && i < 15; i++) {
        const struct correlate_article *a = &r->articles[i];
        char path[200], rate[16], ci[32];
        if (a->views == 0)
            break;
        fit(path, sizeof path, a->a.path, 36);
        fmt_share(rate, sizeof rate, a->rate);
        if (isnan(a->ci.lo))
            snprintf(ci, sizeof ci, "-");
        else {
            char lo[16], hi[16];
            fmt_share(lo, sizeof lo, a->ci.lo);
            fmt_share(hi, sizeof hi, a->ci.hi);
            snprintf(ci, sizeof ci, "%s-%s", lo, hi);
        }
        buf_printf(t, "%s %7" PRIu64 " %6" PRIu64 " %8s %15s\n", path,
                    a->views, a->followed, rate, ci);
    }
    buf_str(t, "\ntopics (reads vs tickets, lags 0-14 days)\n");
    for (size_t i = 0; i < r->ntopics; i++) {
        char verdict[160], name[64];
        fit(name, sizeof name, r->topics[i].category, 14);
        topic_verdict(&r->topics[i], NULL, verdict, sizeof verdict);
        if (r->topics[i].best_lag >= 0)
            snprintf(line, sizeof line, "  %s r %+.2f at %2d d, n %zu: %s",
                     name, r->topics[i].r, r->topics[i].best_lag,
                     r->topics[i].n, verdict);
        else
            snprintf(line, sizeof line, "  %s %s", name, verdict);
        table_line(t, line);
    }
    if (r->ngaps)
        buf_str(t, "\nsearches followed by a ticket\n");
    for (size_t i = 0; i < r->ngaps && i < 10; i++) {
        char q[200];
        fit(q, sizeof q, r->gaps[i].query, 50);
        buf_printf(t, "  %s %6" PRIu64 "%s\n", q, r->gaps[i].tickets,
                    r->gaps[i].zero_results ? "  (no results)" : "");
    }
}

/* Writes a span of S seconds in its two largest units: "42s", "5m03s",
 * "1h30m", "2d03h". */
static void fmt_span(char *out, size_t n, double s)
{
    unsigned long long v = isnan(s) || s < 0 ? 0
                         : (unsigned long long)(s + 0.5);
    if (v < 60)
        snprintf(out, n, "%llus", v);
    else if (v < 3600)
        snprintf(out, n, "%llum%02llus", v / 60, v % 60);
    else if (v < 86400)
        snprintf(out, n, "%lluh%02llum", v / 3600, v / 60 % 60);
    else
        snprintf(out, n, "%llud%02lluh", v / 86400, v / 3600 % 24);
}

/* One ticket's reads: a line saying what was looked for, then a row per
 * read (time, path, title, how long before the ticket), or why none. */
static void ticket_reads_table(struct buf *t, const struct render_scope *sc,
                               const char *ticket, const char *window,
                               bool linked, const struct read_row *rows,
                               size_t n)
{
    char line[400];
    snprintf(line, sizeof line, "%s, ticket %s: articles read in the %s "
             "before it", sc->site, ticket, window);
    table_line(t, line);
    buf_str(t, "\n");
    if (!linked) {
        table_line(t, "not linked to a reader: no link id or identity ties "
                   "it to a visitor");
        return;
    }
    if (n == 0) {
        table_line(t, "linked to a reader, who read no article in the window");
        return;
    }
    buf_printf(t, "%-20s %-24s %-24s %8s\n", "time", "article", "title",
               "before");
    for (size_t i = 0; i < n; i++) {
        char when[TIME_ISO_S_LEN], path[160], title[160], before[24];
        time_format_iso8601_s(rows[i].time_us, when);
        fit(path, sizeof path, rows[i].a.path, 24);
        fit(title, sizeof title, rows[i].a.title, 24);
        fmt_span(before, sizeof before, rows[i].before_s);
        buf_printf(t, "%s %s %s %8s\n", when, path, title, before);
    }
}

/* Writes S indented by two spaces, wrapped at spaces to 80 columns (a
 * column is a UTF-8 character). */
static void wrap_line(struct buf *t, const char *s)
{
    while (*s) {
        size_t cols = 0, cut = 0, i = 0;
        for (; s[i] && cols < 78; i++) {
            if (((unsigned char)s[i] & 0xC0) != 0x80)
                cols++;
            if (s[i] == ' ')
                cut = i;
        }
        if (s[i] == '\0' || s[i] == ' ' || cut == 0)
            cut = i;
        buf_str(t, "  ");
        buf_put(t, s, cut);
        buf_str(t, "\n");
        s += cut;
        while (*s == ' ')
            s++;
    }
}

/* --- the reports ------------------------------------------------------------------------ */

/* A text buffer for CSV and tables, capped at render_max_text. */
static struct buf text_start(void)
{
    struct buf b;
    buf_init(&b, render_max_text);
    return b;
}

char *render_summary(const struct render_scope *sc,
                     const struct report_summary *s, enum render_format f)
{
    struct buf t = text_start();
    if (f == RENDER_CSV) {
        csv_rows(&t, day_cols, SITE_DAY_COLS, s->series.days,
                 sizeof *s->series.days, s->series.n, NULL);
        return buf_take(&t, NULL);
    }
    if (f == RENDER_TABLE) {
        char p50[16];
        table_header(&t, sc, "summary");
        fmt_ms(p50, sizeof p50, s->cur.sum.views ? s->cur.p50_ms : NAN);
        buf_printf(&t, "views %u  visitors %" PRIu64 "  reads %u  "
                   "median engaged %s  searches %" PRIu64 "\n\n",
                   s->cur.sum.views, s->cur.visitors, s->cur.sum.reads, p50,
                   s->cur.searches);
        size_t n = s->articles.n < 10 ? s->articles.n : 10;
        table_rows(&t, s->articles.rows, n);
        table_counts(&t, "top searches", &s->searches);
        table_counts(&t, "searches with no results", &s->zero_searches);
        return buf_take(&t, NULL);
    }
    struct json j;
    json_begin_scope(&j, sc);
    json_key(&j, "previous");
    json_object_begin(&j);
    json_key_date(&j, "from", s->prev_from);
    json_key_date(&j, "to", s->prev_to);
    json_object_end(&j);
    json_key_row(&j, "totals", totals_cols, NCOLS(totals_cols), &s->cur);
    json_key_row(&j, "previous_totals", totals_cols, NCOLS(totals_cols),
                 &s->prev);
    json_key(&j, "change");
    json_object_begin(&j);
    json_key_ratio(&j, "views", change(s->cur.sum.views, s->prev.sum.views));
    json_key_ratio(&j, "visitors", change((double)s->cur.visitors,
                                          (double)s->prev.visitors));
    json_key_ratio(&j, "reads", change(s->cur.sum.reads, s->prev.sum.reads));
    json_key_ratio(&j, "engaged_p50_ms",
                   s->prev.sum.views ? change(s->cur.p50_ms, s->prev.p50_ms)
                                     : NAN);
    json_object_end(&j);
    json_rows(&j, "series", day_cols, SITE_DAY_COLS, s->series.days,
              sizeof *s->series.days, s->series.n, NULL);
    json_key(&j, "top_articles");
    json_array_begin(&j);
    for (size_t i = 0; i < s->articles.n && i < 10; i++)
        if (s->articles.rows[i].views > 0)
            json_row(&j, row_cols, NCOLS(row_cols), &s->articles.rows[i],
                     NULL);
    json_array_end(&j);
    json_rows(&j, "needs_attention", row_cols, NCOLS(row_cols), s->attention,
              sizeof *s->attention, s->n_attention, NULL);
    json_rows(&j, "top_searches", search_cols, 3, s->searches.items,
              sizeof *s->searches.items, s->searches.n, NULL);
    json_rows(&j, "zero_result_searches", search_cols, 2,
              s->zero_searches.items, sizeof *s->zero_searches.items,
              s->zero_searches.n, NULL);
    json_key(&j, "no_views");
    json_array_begin(&j);
    for (size_t i = 0; i < s->articles.n; i++)
        if (s->articles.rows[i].views == 0)
            json_row(&j, row_cols, IDENTITY_COLS, &s->articles.rows[i], NULL);
    json_array_end(&j);
    return json_done(&j);
}

char *render_articles(const struct render_scope *sc,
                      const struct report_list *l, size_t offset,
                      size_t limit, const char *sort, bool descending,
                      enum render_format f)
{
    size_t end = offset < l->n ? offset + limit : offset;
    if (end > l->n)
        end = l->n;
    size_t n = end > offset ? end - offset : 0;
    struct buf t = text_start();
    if (f == RENDER_CSV) {
        csv_rows(&t, row_cols, NCOLS(row_cols), l->rows + offset,
                 sizeof *l->rows, n, NULL);
        return buf_take(&t, NULL);
    }
    if (f == RENDER_TABLE) {
        table_header(&t, sc, "articles");
        if (n > 0)
            table_rows(&t, l->rows + offset, n);
        buf_printf(&t, "\n%zu of %zu articles, by %s\n", n, l->n, sort);
        return buf_take(&t, NULL);
    }
    struct json j;
    json_begin_scope(&j, sc);
    json_key_uint(&j, "total", l->n);
    json_key_uint(&j, "limit", limit);
    json_key_uint(&j, "offset", offset);
    json_key_string(&j, "sort", sort);
    json_key_string(&j, "order", descending ? "desc" : "asc");
    json_rows(&j, "articles", row_cols, NCOLS(row_cols), l->rows + offset,
              sizeof *l->rows, n, NULL);
    return json_done(&j);
}

/* One bucket: {LO_KEY: LO, HI_KEY: HI, "count": COUNT}. */
static void json_bucket(struct json *j, const char *lo_key, int64_t lo,
                        const char *hi_key, int64_t hi, uint32_t count)
{
    json_object_begin(j);
    json_key_int(j, lo_key, lo);
    json_key_int(j, hi_key, hi);
    json_key_uint(j, "count", count);
    json_object_end(j);
}

/* "histogram": R's engaged-time buckets up to its last non-empty one, and
 * "scroll": its scroll-depth buckets (0-9 %, …, 90-99 %, 100 %). */
static void json_histograms(struct json *j, const struct rollup_day *r)
{
    int last = -1;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        if (r->hist[b])
            last = b;
    json_key(j, "histogram");
    json_array_begin(j);
    for (int b = 0; b <= last; b++)
        json_bucket(j, "lower_ms", rollup_bucket_lower_ms(b), "upper_ms",
                    rollup_bucket_upper_ms(b), r->hist[b]);
    json_array_end(j);
    json_key(j, "scroll");
    json_array_begin(j);
    for (int b = 0; b < ROLLUP_SCROLL_BUCKETS; b++)
        json_bucket(j, "from", b * 10, "to", b == 10 ? 100 : b * 10 + 9,
                    r->scroll[b]);
    json_array_end(j);
}

/* KEY: the values of a breakdown with their counts. */
static void json_values(struct json *j, const char *key,
                        const struct report_counts *c)
{
    json_rows(j, key, value_cols, NCOLS(value_cols), c->items,
              sizeof *c->items, c->n, NULL);
}

char *render_article(const struct render_scope *sc,
                     const struct report_detail *d, enum render_format f)
{
    struct buf t = text_start();
    const struct report_row *r = &d->row;
    if (f == RENDER_CSV) {
        csv_rows(&t, day_cols, NCOLS(day_cols), d->series.days,
                 sizeof *d->series.days, d->series.n, NULL);
        return buf_take(&t, NULL);
    }
    if (f == RENDER_TABLE) {
        table_header(&t, sc, r->a.path);
        char line[400];
        snprintf(line, sizeof line, "title    %s", r->a.title);
        table_line(&t, line);
        snprintf(line, sizeof line, "category %s", r->a.category);
        table_line(&t, line);
        buf_printf(&t, "words    %u\n\n", r->a.words);
        table_rows(&t, r, 1);
        table_counts(&t, "countries", &d->countries);
        table_counts(&t, "referrers", &d->referrers);
        table_counts(&t, "searches that led here", &d->led_here);
        return buf_take(&t, NULL);
    }
    struct json j;
    json_begin_scope(&j, sc);
    json_key_row(&j, "article", row_cols, NCOLS(row_cols), r);
    json_histograms(&j, &d->sum);
    json_rows(&j, "series", day_cols, NCOLS(day_cols), d->series.days,
              sizeof *d->series.days, d->series.n, NULL);
    json_values(&j, "countries", &d->countries);
    json_values(&j, "referrers", &d->referrers);
    json_values(&j, "searches_led_here", &d->led_here);
    json_values(&j, "searches_here", &d->searched_here);
    return json_done(&j);
}

char *render_searches(const struct render_scope *sc,
                      const struct report_counts *searches,
                      const struct report_counts *zero, enum render_format f)
{
    struct buf t = text_start();
    if (f == RENDER_CSV) {
        csv_rows(&t, search_cols, 3, searches->items, sizeof *searches->items,
                 searches->n, NULL);
        return buf_take(&t, NULL);
    }
    if (f == RENDER_TABLE) {
        table_header(&t, sc, "searches");
        table_counts(&t, "searches", searches);
        table_counts(&t, "searches with no results", zero);
        return buf_take(&t, NULL);
    }
    struct json j;
    json_begin_scope(&j, sc);
    json_rows(&j, "searches", search_cols, 3, searches->items,
              sizeof *searches->items, searches->n, NULL);
    json_rows(&j, "zero_result_searches", search_cols, 2, zero->items,
              sizeof *zero->items, zero->n, NULL);
    return json_done(&j);
}

/* --- tickets after reading ----------------------------------------------------- */

static void correlation_csv(struct buf *t, const struct correlate_result *r,
                            const struct corr_ctx *ctx, enum render_part part)
{
    if (part == RENDER_TOPICS)
        csv_rows(t, topic_cols, NCOLS(topic_cols), r->topics,
                 sizeof *r->topics, r->ntopics, NULL);
    else if (part == RENDER_GAPS)
        csv_rows(t, gap_cols, NCOLS(gap_cols), r->gaps, sizeof *r->gaps,
                 r->ngaps, NULL);
    else
        csv_rows(t, corr_article_cols, NCOLS(corr_article_cols),
                 r->articles, sizeof *r->articles, r->narticles, ctx);
}

/* KEY: the topics, each with its lags when it has a best lag. */
static void json_topics(struct json *j, const char *key,
                        const struct correlate_result *r)
{
    json_key(j, key);
    json_array_begin(j);
    for (size_t i = 0; i < r->ntopics; i++) {
        const struct correlate_topic *t = &r->topics[i];
        json_object_begin(j);
        json_members(j, topic_cols, NCOLS(topic_cols), t, NULL);
        json_key(j, "lags");
        json_array_begin(j);
        for (int l = 0; l <= CORRELATE_MAX_LAG && t->best_lag >= 0; l++)
            json_row(j, lag_cols, NCOLS(lag_cols), &t->lags[l], NULL);
        json_array_end(j);
        json_object_end(j);
    }
    json_array_end(j);
}

char *render_correlation(const struct render_scope *sc, const char *window,
                         const struct correlate_result *r,
                         enum render_part part, enum render_format f)
{
    struct corr_ctx ctx = { r->site, window };
    struct buf t = text_start();
    if (f == RENDER_TABLE) {
        correlation_table(&t, sc, window, r);
        return buf_take(&t, NULL);
    }
    if (f == RENDER_CSV) {
        correlation_csv(&t, r, &ctx, part);
        return buf_take(&t, NULL);
    }
    struct json j;
    json_begin_scope(&j, sc);
    json_key_string(&j, "window", window);
    if (part == RENDER_ALL || part == RENDER_DEFLECTION) {
        json_key_row(&j, "linked_share", linked_share_cols,
                     NCOLS(linked_share_cols), &r->site);
        json_key_row(&j, "site_numbers", site_numbers_cols,
                     NCOLS(site_numbers_cols), &r->site);
        json_key(&j, "articles");
        json_array_begin(&j);
        for (size_t i = 0; i < r->narticles; i++)
            if (r->articles[i].views > 0)
                json_row(&j, corr_article_cols, NCOLS(corr_article_cols),
                         &r->articles[i], &ctx);
        json_array_end(&j);
    }
    if (part == RENDER_ALL || part == RENDER_TOPICS)
        json_topics(&j, "topics", r);
    if (part == RENDER_ALL || part == RENDER_GAPS)
        json_rows(&j, "gaps", gap_cols, NCOLS(gap_cols), r->gaps,
                  sizeof *r->gaps, r->ngaps, NULL);
    return json_done(&j);
}

char *render_ticket_reads(const struct render_scope *sc, const char *ticket,
                          const char *window, bool linked,
                          const struct correlate_read *reads, size_t n,
                          const struct store_article *arts,
                          enum render_format f)
{
    struct read_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (rows == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        rows[i].a = arts[i];
        rows[i].a.id = reads[i].article;
        rows[i].time_us = reads[i].time_us;
        rows[i].before_s = reads[i].before_s;
    }
    char *text;
    if (f == RENDER_JSON) {
        struct json j;
        json_init(&j, render_max_text);
        json_object_begin(&j);
        json_key_string(&j, "site", sc->site);
        json_key_string(&j, "ticket", ticket);
        json_key_string(&j, "window", window);
        json_key_bool(&j, "linked", linked);
        json_rows(&j, "reads", read_cols, NCOLS(read_cols), rows,
                  sizeof *rows, n, NULL);
        text = json_done(&j);
    } else {
        struct buf t = text_start();
        if (f == RENDER_CSV)
            csv_rows(&t, read_cols, NCOLS(read_cols), rows, sizeof *rows, n,
                     NULL);
        else
            ticket_reads_table(&t, sc, ticket, window, linked, rows, n);
        text = buf_take(&t, NULL);
    }
    free(rows);
    return text;
}

/* --- the legend ------------------------------------------------------------------------ */

char *render_legend(enum render_format f)
{
    struct buf t = text_start();
    if (f == RENDER_CSV) {
        csv_rows(&t, legend_cols, NCOLS(legend_cols), legend_entries,
                 sizeof *legend_entries, legend_count, NULL);
        return buf_take(&t, NULL);
    }
    if (f == RENDER_TABLE) {
        for (size_t i = 0; i < legend_count; i++) {
            const struct legend_entry *e = &legend_entries[i];
            buf_printf(&t, "%s%s (%s)\n", i ? "\n" : "", e->label, e->key);
            wrap_line(&t, e->text);
            wrap_line(&t, e->doc);
        }
        return buf_take(&t, NULL);
    }
    struct json j;
    json_init(&j, render_max_text);
    json_object_begin(&j);
    json_rows(&j, "metrics", legend_cols, NCOLS(legend_cols), legend_entries,
              sizeof *legend_entries, legend_count, NULL);
    return json_done(&j);
}
