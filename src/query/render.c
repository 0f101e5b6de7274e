/* render.c — see render.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/render.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query/legend.h"

/* --- a growable text buffer with a hard cap ---------------------------------- */

#define TEXT_MAX (64u << 20)

struct text {
    char *p;
    size_t n, cap;
    bool failed;
};

static void text_put(struct text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *p = cap <= TEXT_MAX ? realloc(t->p, cap) : NULL;
        if (p == NULL) {
            t->failed = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

/* Appends the NUL-terminated S. */
static void text_str(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

static void text_printf(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        t->failed = true;
        return;
    }
    text_put(t, buf, (size_t)n);
}

static char *text_done(struct text *t)
{
    if (t->failed || t->p == NULL) {
        free(t->p);
        return NULL;
    }
    return t->p;
}

/* --- CSV ----------------------------------------------------------------------------- */

/* Writes S as one CSV field: quoted when needed, and with a leading
 * apostrophe when a spreadsheet would take it for a formula. */
static void csv_field(struct text *t, const char *s)
{
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        text_put(t, s, strlen(s));
        return;
    }
    text_str(t, "\"");
    if (formula)
        text_str(t, "'");
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            text_str(t, "\"");
        text_put(t, c, 1);
    }
    text_str(t, "\"");
}

static void csv_num(struct text *t, double v, int decimals)
{
    if (isnan(v))
        return;
    text_printf(t, "%.*f", decimals, v);
}

static const char article_csv_header[] =
    "id,path,title,category,words,views,visitors,reads,read_rate,"
    "read_through,read_ratio,quick_exit_rate,engaged_p50_ms,engaged_p75_ms,"
    "engaged_p90_ms,engaged_mean_ms,votes_up,votes_down,helpful_rate,"
    "views_prev,views_change,page\r\n";

static void csv_row(struct text *t, const struct report_row *r)
{
    text_printf(t, "%016" PRIx64 ",", r->a.id);
    csv_field(t, r->a.path);
    text_str(t, ",");
    csv_field(t, r->a.title);
    text_str(t, ",");
    csv_field(t, r->a.category);
    text_printf(t, ",%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", r->a.words,
                r->views, r->visitors, r->reads);
    const double rates[] = { r->read_rate, r->read_through, r->read_ratio,
                             r->quick_exit_rate };
    for (size_t i = 0; i < 4; i++) {
        csv_num(t, rates[i], 4);
        text_str(t, ",");
    }
    const double ms[] = { r->views ? r->p50_ms : NAN, r->views ? r->p75_ms : NAN,
                          r->views ? r->p90_ms : NAN, r->mean_ms };
    for (size_t i = 0; i < 4; i++) {
        csv_num(t, ms[i], 0);
        text_str(t, ",");
    }
    text_printf(t, "%u,%u,", r->sum.votes_up, r->sum.votes_down);
    csv_num(t, r->helpful_rate, 4);
    text_printf(t, ",%" PRIu64 ",", r->views_prev);
    csv_num(t, r->views_change, 4);
    text_printf(t, ",%s\r\n", event_page_kind_name(r->a.kind));
}

static void csv_counts(struct text *t, const char *name,
                       const struct report_counts *c, bool zero)
{
    text_printf(t, "%s,count%s\r\n", name, zero ? ",zero_results" : "");
    for (size_t i = 0; i < c->n; i++) {
        csv_field(t, c->items[i].value);
        text_printf(t, ",%" PRIu64, c->items[i].count);
        if (zero)
            text_printf(t, ",%" PRIu64, c->items[i].zero);
        text_str(t, "\r\n");
    }
}

/* --- JSON ------------------------------------------------------------------------------ */

/* Adds NAME: V, or null when V is undefined; ratios keep 4 decimals. */
static void json_ratio(cJSON *o, const char *name, double v)
{
    if (isnan(v) || isinf(v))
        cJSON_AddNullToObject(o, name);
    else
        cJSON_AddNumberToObject(o, name, round(v * 10000.0) / 10000.0);
}

static void json_ms(cJSON *o, const char *name, double v)
{
    if (isnan(v))
        cJSON_AddNullToObject(o, name);
    else
        cJSON_AddNumberToObject(o, name, round(v));
}

static void json_date(cJSON *o, const char *name, uint32_t day)
{
    char d[11];
    report_format_date(day, d);
    cJSON_AddStringToObject(o, name, d);
}

static cJSON *json_scope(const struct render_scope *sc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "site", sc->site);
    json_date(o, "from", sc->q->from);
    json_date(o, "to", sc->q->to);
    const struct report_range *rg = sc->range;
    if (rg == NULL)
        return o;
    cJSON *r = cJSON_AddObjectToObject(o, "range");
    json_date(r, "from", sc->q->from);
    json_date(r, "to", sc->q->to);
    cJSON_AddNumberToObject(r, "days", sc->q->to - sc->q->from + 1);
    json_date(r, "today", rg->today);
    cJSON_AddBoolToObject(r, "includes_today", sc->q->to >= rg->today);
    cJSON_AddBoolToObject(r, "clamped", rg->clamped);
    if (rg->clamped)
        json_date(r, "requested_to", rg->asked_to);
    return o;
}

static cJSON *json_row(const struct report_row *r)
{
    char id[17];
    cJSON *o = cJSON_CreateObject();
    snprintf(id, sizeof id, "%016" PRIx64, r->a.id);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "path", r->a.path);
    cJSON_AddStringToObject(o, "title", r->a.title);
    cJSON_AddStringToObject(o, "category", r->a.category);
    cJSON_AddStringToObject(o, "page", event_page_kind_name(r->a.kind));
    cJSON_AddNumberToObject(o, "words", r->a.words);
    cJSON_AddNumberToObject(o, "views", (double)r->views);
    cJSON_AddNumberToObject(o, "visitors", (double)r->visitors);
    cJSON_AddNumberToObject(o, "reads", (double)r->reads);
    json_ratio(o, "read_rate", r->read_rate);
    json_ratio(o, "read_through", r->read_through);
    json_ratio(o, "read_ratio", r->read_ratio);
    json_ratio(o, "quick_exit_rate", r->quick_exit_rate);
    json_ms(o, "engaged_p50_ms", r->views ? r->p50_ms : NAN);
    json_ms(o, "engaged_p75_ms", r->views ? r->p75_ms : NAN);
    json_ms(o, "engaged_p90_ms", r->views ? r->p90_ms : NAN);
    json_ms(o, "engaged_mean_ms", r->mean_ms);
    cJSON_AddNumberToObject(o, "votes_up", r->sum.votes_up);
    cJSON_AddNumberToObject(o, "votes_down", r->sum.votes_down);
    json_ratio(o, "helpful_rate", r->helpful_rate);
    cJSON_AddNumberToObject(o, "views_prev", (double)r->views_prev);
    json_ratio(o, "views_change", r->views_change);
    json_ms(o, "engaged_p50_prev_ms", r->views_prev ? r->p50_prev_ms : NAN);
    if (r->attention_reason)
        cJSON_AddStringToObject(o, "attention_reason", r->attention_reason);
    return o;
}

static cJSON *json_totals(const struct report_totals *t)
{
    cJSON *o = cJSON_CreateObject();
    bool any = t->sum.views > 0;
    cJSON_AddNumberToObject(o, "views", t->sum.views);
    cJSON_AddNumberToObject(o, "visitors", (double)t->visitors);
    cJSON_AddNumberToObject(o, "reads", t->sum.reads);
    json_ratio(o, "read_rate", t->read_rate);
    json_ratio(o, "read_through", t->read_through);
    json_ratio(o, "quick_exit_rate", t->quick_exit_rate);
    json_ms(o, "engaged_p50_ms", any ? t->p50_ms : NAN);
    json_ms(o, "engaged_p75_ms", any ? t->p75_ms : NAN);
    json_ms(o, "engaged_p90_ms", any ? t->p90_ms : NAN);
    cJSON_AddNumberToObject(o, "votes_up", t->sum.votes_up);
    cJSON_AddNumberToObject(o, "votes_down", t->sum.votes_down);
    json_ratio(o, "helpful_rate", t->helpful_rate);
    cJSON_AddNumberToObject(o, "searches", (double)t->searches);
    return o;
}

static double change(double cur, double prev)
{
    return prev > 0 && !isnan(cur) ? (cur - prev) / prev : NAN;
}

static cJSON *json_counts(const struct report_counts *c, const char *key,
                          bool zero)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < c->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, key, c->items[i].value);
        cJSON_AddNumberToObject(o, "count", (double)c->items[i].count);
        if (zero)
            cJSON_AddNumberToObject(o, "zero_results",
                                    (double)c->items[i].zero);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static char *json_done(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *out = malloc(n + 2);          /* owned by the caller, freed with free */
    if (out) {
        memcpy(out, s, n);
        out[n] = '\n';
        out[n + 1] = '\0';
    }
    cJSON_free(s);
    return out;
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

static void table_rows(struct text *t, const struct report_row *rows,
                       size_t n)
{
    text_printf(t, "%-30s %7s %7s %6s %6s %5s %5s %7s\n", "article", "views",
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
        text_printf(t, "%s %7" PRIu64 " %7" PRIu64 " %6s %6s %5s %5s %7s\n",
                    path, r->views, r->visitors, p50, p90, rd, hp, ch);
    }
}

static void table_counts(struct text *t, const char *title,
                         const struct report_counts *c)
{
    if (c->n == 0)
        return;
    text_printf(t, "\n%s\n", title);
    for (size_t i = 0; i < c->n; i++) {
        char v[200];
        fit(v, sizeof v, c->items[i].value, 60);
        text_printf(t, "  %s %10" PRIu64 "\n", v, c->items[i].count);
    }
}

/* Writes LINE cut to 80 columns, then a newline. */
static void table_line(struct text *t, const char *line)
{
    char cut[400];
    fit(cut, sizeof cut, line, 80);
    size_t n = strlen(cut);
    while (n > 0 && cut[n - 1] == ' ')
        n--;
    text_put(t, cut, n);
    text_str(t, "\n");
}

static void table_header(struct text *t, const struct render_scope *sc,
                         const char *what)
{
    char f[11], to[11], line[400];
    report_format_date(sc->q->from, f);
    report_format_date(sc->q->to, to);
    const char *part = sc->range == NULL ? ""
                     : sc->q->to >= sc->range->today ? " (today so far included)"
                     : " (full days)";
    snprintf(line, sizeof line, "%s to %s UTC%s%s: %s, %s", f, to, part,
             sc->q->include_bots ? " (bots included)" : "", sc->site, what);
    table_line(t, line);
    text_str(t, "\n");
}

/* Writes US (µs since the epoch) as an ISO 8601 UTC time. */
static void format_time_us(uint64_t us, char out[32])
{
    time_t secs = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- the reports ------------------------------------------------------------------------ */

char *render_summary(const struct render_scope *sc,
                     const struct report_summary *s, enum render_format f)
{
    struct text t = { 0 };
    if (f == RENDER_CSV) {
        text_str(&t, "date,views,visitors,reads\r\n");
        for (size_t i = 0; i < s->series.n; i++) {
            char d[11];
            report_format_date(s->series.days[i].day, d);
            text_printf(&t, "%s,%u,%u,%u\r\n", d,
                        s->series.days[i].sum.views,
                        s->series.days[i].sum.visitors,
                        s->series.days[i].sum.reads);
        }
        return text_done(&t);
    }
    if (f == RENDER_TABLE) {
        char p50[16];
        table_header(&t, sc, "summary");
        fmt_ms(p50, sizeof p50, s->cur.sum.views ? s->cur.p50_ms : NAN);
        text_printf(&t, "views %u  visitors %" PRIu64 "  reads %u  "
                    "median engaged %s  searches %" PRIu64 "\n\n",
                    s->cur.sum.views, s->cur.visitors, s->cur.sum.reads, p50,
                    s->cur.searches);
        size_t n = s->articles.n < 10 ? s->articles.n : 10;
        table_rows(&t, s->articles.rows, n);
        table_counts(&t, "top searches", &s->searches);
        table_counts(&t, "searches with no results", &s->zero_searches);
        return text_done(&t);
    }
    cJSON *o = json_scope(sc);
    cJSON *prev = cJSON_AddObjectToObject(o, "previous");
    json_date(prev, "from", s->prev_from);
    json_date(prev, "to", s->prev_to);
    cJSON_AddItemToObject(o, "totals", json_totals(&s->cur));
    cJSON_AddItemToObject(o, "previous_totals", json_totals(&s->prev));
    cJSON *ch = cJSON_AddObjectToObject(o, "change");
    json_ratio(ch, "views", change(s->cur.sum.views, s->prev.sum.views));
    json_ratio(ch, "visitors", change((double)s->cur.visitors,
                                      (double)s->prev.visitors));
    json_ratio(ch, "reads", change(s->cur.sum.reads, s->prev.sum.reads));
    json_ratio(ch, "engaged_p50_ms",
               s->prev.sum.views ? change(s->cur.p50_ms, s->prev.p50_ms)
                                 : NAN);
    cJSON *series = cJSON_AddArrayToObject(o, "series");
    for (size_t i = 0; i < s->series.n; i++) {
        cJSON *d = cJSON_CreateObject();
        json_date(d, "date", s->series.days[i].day);
        cJSON_AddNumberToObject(d, "views", s->series.days[i].sum.views);
        cJSON_AddNumberToObject(d, "visitors",
                                s->series.days[i].sum.visitors);
        cJSON_AddNumberToObject(d, "reads", s->series.days[i].sum.reads);
        cJSON_AddItemToArray(series, d);
    }
    cJSON *top = cJSON_AddArrayToObject(o, "top_articles");
    for (size_t i = 0; i < s->articles.n && i < 10; i++)
        if (s->articles.rows[i].views > 0)
            cJSON_AddItemToArray(top, json_row(&s->articles.rows[i]));
    cJSON *att = cJSON_AddArrayToObject(o, "needs_attention");
    for (size_t i = 0; i < s->n_attention; i++)
        cJSON_AddItemToArray(att, json_row(&s->attention[i]));
    cJSON_AddItemToObject(o, "top_searches",
                          json_counts(&s->searches, "query", true));
    cJSON_AddItemToObject(o, "zero_result_searches",
                          json_counts(&s->zero_searches, "query", false));
    cJSON *idle = cJSON_AddArrayToObject(o, "no_views");
    for (size_t i = 0; i < s->articles.n; i++) {
        const struct report_row *r = &s->articles.rows[i];
        if (r->views > 0)
            continue;
        char id[17];
        cJSON *a = cJSON_CreateObject();
        snprintf(id, sizeof id, "%016" PRIx64, r->a.id);
        cJSON_AddStringToObject(a, "id", id);
        cJSON_AddStringToObject(a, "path", r->a.path);
        cJSON_AddStringToObject(a, "title", r->a.title);
        cJSON_AddStringToObject(a, "category", r->a.category);
        cJSON_AddItemToArray(idle, a);
    }
    return json_done(o);
}

char *render_articles(const struct render_scope *sc,
                      const struct report_list *l, size_t offset,
                      size_t limit, const char *sort, bool descending,
                      enum render_format f)
{
    size_t end = offset < l->n ? offset + limit : offset;
    if (end > l->n)
        end = l->n;
    struct text t = { 0 };
    if (f == RENDER_CSV) {
        text_put(&t, article_csv_header, sizeof article_csv_header - 1);
        for (size_t i = offset; i < end; i++)
            csv_row(&t, &l->rows[i]);
        return text_done(&t);
    }
    if (f == RENDER_TABLE) {
        table_header(&t, sc, "articles");
        if (end > offset)
            table_rows(&t, l->rows + offset, end - offset);
        text_printf(&t, "\n%zu of %zu articles, by %s\n",
                    end > offset ? end - offset : 0, l->n, sort);
        return text_done(&t);
    }
    cJSON *o = json_scope(sc);
    cJSON_AddNumberToObject(o, "total", (double)l->n);
    cJSON_AddNumberToObject(o, "limit", (double)limit);
    cJSON_AddNumberToObject(o, "offset", (double)offset);
    cJSON_AddStringToObject(o, "sort", sort);
    cJSON_AddStringToObject(o, "order", descending ? "desc" : "asc");
    cJSON *a = cJSON_AddArrayToObject(o, "articles");
    for (size_t i = offset; i < end; i++)
        cJSON_AddItemToArray(a, json_row(&l->rows[i]));
    return json_done(o);
}

static void series_csv(struct text *t, const struct report_series *s)
{
    text_str(t, "date,views,visitors,reads,engaged_p50_ms\r\n");
    for (size_t i = 0; i < s->n; i++) {
        char d[11];
        const struct rollup_day *x = &s->days[i].sum;
        report_format_date(s->days[i].day, d);
        text_printf(t, "%s,%u,%u,%u,", d, x->views, x->visitors, x->reads);
        if (x->views)
            text_printf(t, "%.0f", rollup_quantile_ms(x->hist, 0.5));
        text_str(t, "\r\n");
    }
}

char *render_article(const struct render_scope *sc,
                     const struct report_detail *d, enum render_format f)
{
    struct text t = { 0 };
    const struct report_row *r = &d->row;
    if (f == RENDER_CSV) {
        series_csv(&t, &d->series);
        return text_done(&t);
    }
    if (f == RENDER_TABLE) {
        table_header(&t, sc, r->a.path);
        char line[400];
        snprintf(line, sizeof line, "title    %s", r->a.title);
        table_line(&t, line);
        snprintf(line, sizeof line, "category %s", r->a.category);
        table_line(&t, line);
        text_printf(&t, "words    %u\n\n", r->a.words);
        table_rows(&t, r, 1);
        table_counts(&t, "countries", &d->countries);
        table_counts(&t, "referrers", &d->referrers);
        table_counts(&t, "searches that led here", &d->led_here);
        return text_done(&t);
    }
    cJSON *o = json_scope(sc);
    cJSON_AddItemToObject(o, "article", json_row(r));
    int last = -1;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        if (r->sum.hist[b])
            last = b;
    cJSON *h = cJSON_AddArrayToObject(o, "histogram");
    for (int b = 0; b <= last; b++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "lower_ms", rollup_bucket_lower_ms(b));
        cJSON_AddNumberToObject(x, "upper_ms", rollup_bucket_upper_ms(b));
        cJSON_AddNumberToObject(x, "count", r->sum.hist[b]);
        cJSON_AddItemToArray(h, x);
    }
    cJSON *sc_arr = cJSON_AddArrayToObject(o, "scroll");
    for (int b = 0; b < ROLLUP_SCROLL_BUCKETS; b++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "from", b * 10);
        cJSON_AddNumberToObject(x, "to", b == 10 ? 100 : b * 10 + 9);
        cJSON_AddNumberToObject(x, "count", r->sum.scroll[b]);
        cJSON_AddItemToArray(sc_arr, x);
    }
    cJSON *series = cJSON_AddArrayToObject(o, "series");
    for (size_t i = 0; i < d->series.n; i++) {
        const struct rollup_day *x = &d->series.days[i].sum;
        cJSON *e = cJSON_CreateObject();
        json_date(e, "date", d->series.days[i].day);
        cJSON_AddNumberToObject(e, "views", x->views);
        cJSON_AddNumberToObject(e, "visitors", x->visitors);
        cJSON_AddNumberToObject(e, "reads", x->reads);
        json_ms(e, "engaged_p50_ms",
                x->views ? rollup_quantile_ms(x->hist, 0.5) : NAN);
        cJSON_AddItemToArray(series, e);
    }
    cJSON_AddItemToObject(o, "countries",
                          json_counts(&d->countries, "value", false));
    cJSON_AddItemToObject(o, "referrers",
                          json_counts(&d->referrers, "value", false));
    cJSON_AddItemToObject(o, "searches_led_here",
                          json_counts(&d->led_here, "value", false));
    cJSON_AddItemToObject(o, "searches_here",
                          json_counts(&d->searched_here, "value", false));
    return json_done(o);
}

char *render_searches(const struct render_scope *sc,
                      const struct report_counts *searches,
                      const struct report_counts *zero, enum render_format f)
{
    struct text t = { 0 };
    if (f == RENDER_CSV) {
        csv_counts(&t, "query", searches, true);
        return text_done(&t);
    }
    if (f == RENDER_TABLE) {
        table_header(&t, sc, "searches");
        table_counts(&t, "searches", searches);
        table_counts(&t, "searches with no results", zero);
        return text_done(&t);
    }
    cJSON *o = json_scope(sc);
    cJSON_AddItemToObject(o, "searches", json_counts(searches, "query", true));
    cJSON_AddItemToObject(o, "zero_result_searches",
                          json_counts(zero, "query", false));
    return json_done(o);
}

/* --- tickets after reading ----------------------------------------------------- */

static void json_interval(cJSON *o, const char *name, double lo, double hi)
{
    if (isnan(lo) || isnan(hi)) {
        cJSON_AddNullToObject(o, name);
        return;
    }
    cJSON *a = cJSON_AddArrayToObject(o, name);
    cJSON_AddItemToArray(a, cJSON_CreateNumber(round(lo * 10000) / 10000));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(round(hi * 10000) / 10000));
}

/* A plain-language reading of a topic's result. */
static void topic_verdict(const struct correlate_topic *t, char *out,
                          size_t n)
{
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

static cJSON *json_site_numbers(const struct correlate_site *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tickets", (double)s->tickets);
    cJSON_AddNumberToObject(o, "linked_tickets", (double)s->linked);
    cJSON_AddNumberToObject(o, "tickets_with_read", (double)s->with_read);
    cJSON_AddNumberToObject(o, "requesters", (double)s->requesters);
    cJSON_AddNumberToObject(o, "visitors", (double)s->visitors);
    cJSON_AddNumberToObject(o, "views", (double)s->views);
    json_ratio(o, "self_service_score", s->self_service_score);
    json_ratio(o, "tickets_per_1000_views", s->tickets_per_1000_views);
    json_ratio(o, "share_of_tickets_after_reading", s->share_with_read);
    return o;
}

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

/* How much of the helpdesk the rates can see: linked tickets of all the
 * period's tickets. */
static cJSON *json_linked_share(const struct correlate_site *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "linked_tickets", (double)s->linked);
    cJSON_AddNumberToObject(o, "tickets", (double)s->tickets);
    json_ratio(o, "share", s->linked_share);
    return o;
}

/* The rate as what it is, a lower bound: "at least 41% contacted support
 * within 24h". */
static void contact_label(char *out, size_t n, double rate,
                          const char *window)
{
    char p[16];
    fmt_share(p, sizeof p, rate);
    snprintf(out, n, "at least %s contacted support within %s", p, window);
}

static cJSON *json_correlate_article(const struct correlate_article *a,
                                     const char *window)
{
    char id[17], label[96];
    cJSON *o = cJSON_CreateObject();
    snprintf(id, sizeof id, "%016" PRIx64, a->a.id);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "path", a->a.path);
    cJSON_AddStringToObject(o, "title", a->a.title);
    cJSON_AddStringToObject(o, "category", a->a.category);
    cJSON_AddNumberToObject(o, "views", (double)a->views);
    cJSON_AddNumberToObject(o, "followed_by_ticket", (double)a->followed);
    json_ratio(o, "contact_after_read", a->rate);
    json_interval(o, "contact_after_read_ci", a->ci.lo, a->ci.hi);
    contact_label(label, sizeof label, a->rate, window);
    cJSON_AddStringToObject(o, "contact_after_read_label", label);
    json_ms(o, "median_read_to_ticket_s", a->median_to_ticket_s);
    return o;
}

static cJSON *json_topic(const struct correlate_topic *t)
{
    char verdict[160];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "category", t->category);
    cJSON_AddNumberToObject(o, "days", (double)t->days);
    cJSON_AddNumberToObject(o, "reads", (double)t->reads);
    cJSON_AddNumberToObject(o, "tickets", (double)t->tickets);
    if (t->best_lag < 0)
        cJSON_AddNullToObject(o, "best_lag_days");
    else
        cJSON_AddNumberToObject(o, "best_lag_days", t->best_lag);
    json_ratio(o, "r", t->r);
    cJSON_AddNumberToObject(o, "n", (double)t->n);
    json_interval(o, "ci", t->ci.lo, t->ci.hi);
    cJSON_AddBoolToObject(o, "evidence", t->evidence);
    topic_verdict(t, verdict, sizeof verdict);
    cJSON_AddStringToObject(o, "verdict", verdict);
    cJSON *lags = cJSON_AddArrayToObject(o, "lags");
    for (int l = 0; l <= CORRELATE_MAX_LAG && t->best_lag >= 0; l++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "lag", t->lags[l].lag);
        json_ratio(x, "r", t->lags[l].r);
        cJSON_AddNumberToObject(x, "n", (double)t->lags[l].n);
        cJSON_AddItemToArray(lags, x);
    }
    return o;
}

static void correlation_csv(struct text *t, const struct correlate_result *r,
                            enum render_part part)
{
    if (part == RENDER_TOPICS) {
        text_str(t, "category,days,reads,tickets,best_lag_days,r,n,ci_low,"
             "ci_high,evidence\r\n");
        for (size_t i = 0; i < r->ntopics; i++) {
            const struct correlate_topic *x = &r->topics[i];
            csv_field(t, x->category);
            text_printf(t, ",%zu,%" PRIu64 ",%" PRIu64 ",", x->days, x->reads,
                        x->tickets);
            if (x->best_lag >= 0)
                text_printf(t, "%d", x->best_lag);
            text_str(t, ",");
            csv_num(t, x->r, 4);
            text_printf(t, ",%zu,", x->n);
            csv_num(t, x->ci.lo, 4);
            text_str(t, ",");
            csv_num(t, x->ci.hi, 4);
            text_printf(t, ",%s\r\n", x->evidence ? "yes" : "no");
        }
        return;
    }
    if (part == RENDER_GAPS) {
        text_str(t, "query,tickets,zero_results\r\n");
        for (size_t i = 0; i < r->ngaps; i++) {
            csv_field(t, r->gaps[i].query);
            text_printf(t, ",%" PRIu64 ",%s\r\n", r->gaps[i].tickets,
                        r->gaps[i].zero_results ? "yes" : "no");
        }
        return;
    }
    /* the period's linked share on every row, next to each rate */
    text_str(t, "id,path,title,views,followed_by_ticket,contact_after_read,"
             "ci_low,ci_high,median_read_to_ticket_s,period_linked_tickets,"
             "period_tickets,linked_share\r\n");
    for (size_t i = 0; i < r->narticles; i++) {
        const struct correlate_article *a = &r->articles[i];
        text_printf(t, "%016" PRIx64 ",", a->a.id);
        csv_field(t, a->a.path);
        text_str(t, ",");
        csv_field(t, a->a.title);
        text_printf(t, ",%" PRIu64 ",%" PRIu64 ",", a->views, a->followed);
        csv_num(t, a->rate, 4);
        text_str(t, ",");
        csv_num(t, a->ci.lo, 4);
        text_str(t, ",");
        csv_num(t, a->ci.hi, 4);
        text_str(t, ",");
        csv_num(t, a->median_to_ticket_s, 0);
        text_printf(t, ",%" PRIu64 ",%" PRIu64 ",", r->site.linked,
                    r->site.tickets);
        csv_num(t, r->site.linked_share, 4);
        text_str(t, "\r\n");
    }
}

static void correlation_table(struct text *t, const struct render_scope *sc,
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
    text_printf(t, "tickets %" PRIu64 ", linked to a reader %" PRIu64
                " (%s), after reading %s\n", s->tickets, s->linked, linked,
                share);
    text_printf(t, "self-service score %s (visitors per requester), "
                "tickets per 1,000 views %s\n\n", sss, per);
    /* the rate is a lower bound: say so, with the share it can see */
    snprintf(line, sizeof line, "at least this share of views contacted "
             "support within %s: only tickets", window);
    table_line(t, line);
    snprintf(line, sizeof line, "linked to a reader count, %" PRIu64 " of %"
             PRIu64 " (%s)", s->linked, s->tickets, linked);
    table_line(t, line);
    text_printf(t, "%-36s %7s %6s %8s %15s\n", "article", "views", "ticket",
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
        text_printf(t, "%s %7" PRIu64 " %6" PRIu64 " %8s %15s\n", path,
                    a->views, a->followed, rate, ci);
    }
    text_str(t, "\ntopics (reads vs tickets, lags 0-14 days)\n");
    for (size_t i = 0; i < r->ntopics; i++) {
        char verdict[160], name[64];
        fit(name, sizeof name, r->topics[i].category, 14);
        topic_verdict(&r->topics[i], verdict, sizeof verdict);
        if (r->topics[i].best_lag >= 0)
            snprintf(line, sizeof line, "  %s r %+.2f at %2d d, n %zu: %s",
                     name, r->topics[i].r, r->topics[i].best_lag,
                     r->topics[i].n, verdict);
        else
            snprintf(line, sizeof line, "  %s %s", name, verdict);
        table_line(t, line);
    }
    if (r->ngaps)
        text_str(t, "\nsearches followed by a ticket\n");
    for (size_t i = 0; i < r->ngaps && i < 10; i++) {
        char q[200];
        fit(q, sizeof q, r->gaps[i].query, 50);
        text_printf(t, "  %s %6" PRIu64 "%s\n", q, r->gaps[i].tickets,
                    r->gaps[i].zero_results ? "  (no results)" : "");
    }
}

char *render_correlation(const struct render_scope *sc, const char *window,
                         const struct correlate_result *r,
                         enum render_part part, enum render_format f)
{
    struct text t = { 0 };
    if (f == RENDER_TABLE) {
        correlation_table(&t, sc, window, r);
        return text_done(&t);
    }
    if (f == RENDER_CSV) {
        correlation_csv(&t, r, part);
        return text_done(&t);
    }
    cJSON *o = json_scope(sc);
    cJSON_AddStringToObject(o, "window", window);
    if (part == RENDER_ALL || part == RENDER_DEFLECTION) {
        cJSON_AddItemToObject(o, "linked_share", json_linked_share(&r->site));
        cJSON_AddItemToObject(o, "site_numbers", json_site_numbers(&r->site));
        cJSON *a = cJSON_AddArrayToObject(o, "articles");
        for (size_t i = 0; i < r->narticles; i++)
            if (r->articles[i].views > 0)
                cJSON_AddItemToArray(a, json_correlate_article(
                                            &r->articles[i], window));
    }
    if (part == RENDER_ALL || part == RENDER_TOPICS) {
        cJSON *a = cJSON_AddArrayToObject(o, "topics");
        for (size_t i = 0; i < r->ntopics; i++)
            cJSON_AddItemToArray(a, json_topic(&r->topics[i]));
    }
    if (part == RENDER_ALL || part == RENDER_GAPS) {
        cJSON *a = cJSON_AddArrayToObject(o, "gaps");
        for (size_t i = 0; i < r->ngaps; i++) {
            cJSON *g = cJSON_CreateObject();
            cJSON_AddStringToObject(g, "query", r->gaps[i].query);
            cJSON_AddNumberToObject(g, "tickets", (double)r->gaps[i].tickets);
            cJSON_AddBoolToObject(g, "zero_results", r->gaps[i].zero_results);
            cJSON_AddItemToArray(a, g);
        }
    }
    return json_done(o);
}

char *render_ticket_reads(const struct render_scope *sc, const char *ticket,
                          const char *window, bool linked,
                          const struct correlate_read *reads, size_t n,
                          const struct store_article *arts,
                          enum render_format f)
{
    struct text t = { 0 };
    if (f == RENDER_CSV) {
        text_str(&t, "time,path,title,before_s\r\n");
        for (size_t i = 0; i < n; i++) {
            char when[32];
            format_time_us(reads[i].time_us, when);
            text_printf(&t, "%s,", when);
            csv_field(&t, arts[i].path);
            text_str(&t, ",");
            csv_field(&t, arts[i].title);
            text_printf(&t, ",%.0f\r\n", reads[i].before_s);
        }
        return text_done(&t);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "site", sc->site);
    cJSON_AddStringToObject(o, "ticket", ticket);
    cJSON_AddStringToObject(o, "window", window);
    cJSON_AddBoolToObject(o, "linked", linked);
    cJSON *a = cJSON_AddArrayToObject(o, "reads");
    for (size_t i = 0; i < n; i++) {
        char id[17], when[32];
        cJSON *x = cJSON_CreateObject();
        snprintf(id, sizeof id, "%016" PRIx64, reads[i].article);
        format_time_us(reads[i].time_us, when);
        cJSON_AddStringToObject(x, "id", id);
        cJSON_AddStringToObject(x, "path", arts[i].path);
        cJSON_AddStringToObject(x, "title", arts[i].title);
        cJSON_AddStringToObject(x, "time", when);
        cJSON_AddNumberToObject(x, "before_s", round(reads[i].before_s));
        cJSON_AddItemToArray(a, x);
    }
    return json_done(o);
}

/* --- the legend ------------------------------------------------------------------------ */

/* Writes S indented by two spaces, wrapped at spaces to 80 columns (a
 * column is a UTF-8 character). */
static void wrap_line(struct text *t, const char *s)
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
        text_str(t, "  ");
        text_put(t, s, cut);
        text_str(t, "\n");
        s += cut;
        while (*s == ' ')
            s++;
    }
}

char *render_legend(enum render_format f)
{
    struct text t = { 0 };
    if (f == RENDER_CSV) {
        text_str(&t, "key,label,definition,doc\r\n");
        for (size_t i = 0; i < legend_count; i++) {
            const struct legend_entry *e = &legend_entries[i];
            const char *cell[4] = { e->key, e->label, e->text, e->doc };
            for (int c = 0; c < 4; c++) {
                if (c)
                    text_str(&t, ",");
                csv_field(&t, cell[c]);
            }
            text_str(&t, "\r\n");
        }
        return text_done(&t);
    }
    if (f == RENDER_TABLE) {
        for (size_t i = 0; i < legend_count; i++) {
            const struct legend_entry *e = &legend_entries[i];
            text_printf(&t, "%s%s (%s)\n", i ? "\n" : "", e->label, e->key);
            wrap_line(&t, e->text);
            wrap_line(&t, e->doc);
        }
        return text_done(&t);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "metrics");
    for (size_t i = 0; i < legend_count; i++) {
        const struct legend_entry *e = &legend_entries[i];
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "key", e->key);
        cJSON_AddStringToObject(m, "label", e->label);
        cJSON_AddStringToObject(m, "definition", e->text);
        cJSON_AddStringToObject(m, "doc", e->doc);
        cJSON_AddItemToArray(a, m);
    }
    return json_done(o);
}
