/* metrics.c — see metrics.h. */
#define _POSIX_C_SOURCE 200809L
#include "serve/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/time.h"
#include "dwell/log.h"
#include "dwell/store.h"

#define METRICS_MAX_TEXT  (8u << 20)      /* the rendered text, at most */
#define LOG_EVERY_US      (60ull * 1000000u)

static const char *const reason_names[METRICS_REASONS] = {
    "unknown_site", "origin", "size", "malformed", "rate_limited", "method",
    "queue_full", "store_error"
};

static const char *const webhook_names[METRICS_WEBHOOK_RESULTS] = {
    "stored", "unchanged", "bad_request", "unauthorized", "forbidden",
    "unknown_site", "rate_limited", "too_large", "error"
};

/* One (site, reason) cell: its count, and when and at which count its
 * last log line was written. */
struct refusal_cell {
    atomic_uint_fast64_t n;
    atomic_uint_fast64_t logged_us;       /* 0: never */
    atomic_uint_fast64_t logged_n;
};

/* Row METRICS_SITES is "_other": the sites whose id is past the table. */
static atomic_uint_fast64_t accepted[METRICS_SITES + 1];
static atomic_uint_fast64_t bots[METRICS_SITES + 1];
static struct refusal_cell refused[METRICS_SITES + 1][METRICS_REASONS];
static atomic_uint_fast64_t webhooks[METRICS_WEBHOOK_RESULTS];
static uint64_t start_us;
static bool log_ip;

void metrics_start(bool with_ip)
{
    start_us = time_now_us();
    log_ip = with_ip;
}

static size_t row_of(uint32_t site_id)
{
    return site_id < METRICS_SITES ? site_id : METRICS_SITES;
}

void metrics_accepted(uint32_t site_id, size_t n, bool bot)
{
    size_t row = row_of(site_id);
    atomic_fetch_add_explicit(&accepted[row], n, memory_order_relaxed);
    if (bot)
        atomic_fetch_add_explicit(&bots[row], n, memory_order_relaxed);
}

void metrics_webhook(enum metrics_webhook w)
{
    if (w < METRICS_WEBHOOK_RESULTS)
        atomic_fetch_add_explicit(&webhooks[w], 1, memory_order_relaxed);
}

/* Writes the log line of refusal R, the COUNTth of its cell, SUPPRESSED
 * of them since the last line left unlogged. */
static void log_refusal(const struct metrics_refusal *r, uint64_t count,
                        uint64_t suppressed)
{
    char site[EVENT_SITE_MAX + 1], client[64];
    size_t n = r->site && r->site_len ? r->site_len : 0;
    if (n > EVENT_SITE_MAX)
        n = EVENT_SITE_MAX;
    memcpy(site, n ? r->site : "", n);
    site[n] = '\0';
    bool with_ip = log_ip && r->client &&
                   ipaddr_format(r->client, client, sizeof client) == 0;
    struct log_field f[] = {
        LOG_STR("reason", reason_names[r->reason]),
        LOG_STR("site", r->site_id ? site : ""),
        LOG_STR("requested_site", r->site_id || !n ? NULL : site),
        LOG_INT("status", r->status),
        LOG_STR("error", r->why),
        LOG_STR("origin", r->reason == METRICS_ORIGIN ? r->origin : NULL),
        LOG_INT("count", count),
        LOG_INT("suppressed", suppressed),
        LOG_STR("client", with_ip ? client : NULL),
    };
    log_fields(LOG_WARN, 0, "event request refused", f, sizeof f / sizeof f[0]);
}

void metrics_refused(const struct metrics_refusal *r)
{
    if (r->reason >= METRICS_REASONS)
        return;
    struct refusal_cell *c = &refused[row_of(r->site_id)][r->reason];
    uint64_t count = atomic_fetch_add_explicit(&c->n, 1,
                                               memory_order_relaxed) + 1;
    uint64_t last = atomic_load_explicit(&c->logged_us, memory_order_relaxed);
    uint64_t now = time_now_us();
    if (last != 0 && now - last < LOG_EVERY_US && now >= last)
        return;
    /* one thread wins the minute; the others stay silent */
    if (!atomic_compare_exchange_strong(&c->logged_us, &last, now ? now : 1))
        return;
    uint64_t before = atomic_exchange(&c->logged_n, count);
    log_refusal(r, count, count - 1 - before);
}

/* --- rendering ------------------------------------------------------------------ */

/* "# HELP NAME HELP" and "# TYPE NAME TYPE". */
static void family(struct buf *b, const char *name, const char *type,
                   const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with Prometheus's escapes (\\, \", \n). */
static void label_value(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            buf_str(b, "\\n");
        else
            buf_put(b, s, 1);
    }
}

/* The site rows to render: every site's name by id (the table's rows),
 * "" for row 0 and "_other" for the last. */
struct site_names {
    char (*name)[EVENT_SITE_MAX + 1];
    bool *known;
};

static int note_site(void *ctx, const struct site *s)
{
    struct site_names *sn = ctx;
    if (s->id == 0 || s->id >= METRICS_SITES)
        return 0;
    memcpy(sn->name[s->id], s->name, sizeof sn->name[s->id]);
    sn->known[s->id] = true;
    return 0;
}

/* Whether row I is rendered: a known site, row 0 ("") when it counted
 * something, the "_other" row when it did. */
static bool row_shown(const struct site_names *sn, size_t i, uint64_t any)
{
    if (i == 0 || i == METRICS_SITES)
        return any != 0;
    return sn->known[i];
}

static const char *row_name(const struct site_names *sn, size_t i)
{
    return i == 0 ? "" : i == METRICS_SITES ? "_other" : sn->name[i];
}

static uint64_t load(atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Writes counter family NAME (with HELP) of the per-site counters C, one
 * sample a site shown. */
static void render_by_site(struct buf *b, const struct site_names *sn,
                           const char *name, const char *help,
                           atomic_uint_fast64_t *c)
{
    family(b, name, "counter", help);
    for (size_t i = 0; i <= METRICS_SITES; i++) {
        uint64_t v = load(&c[i]);
        if (!row_shown(sn, i, v))
            continue;
        buf_printf(b, "%s{site=\"", name);
        label_value(b, row_name(sn, i));
        buf_printf(b, "\"} %llu\n", (unsigned long long)v);
    }
}

static void render_events(struct buf *b, const struct site_names *sn)
{
    render_by_site(b, sn, "dwell_events_accepted_total",
                   "Events queued for storage, by site.", accepted);
    render_by_site(b, sn, "dwell_events_bot_total",
                   "Accepted events flagged as a robot's (stored, left out "
                   "of reports by default), by site.", bots);
    family(b, "dwell_events_refused_total", "counter",
           "Event requests (POST /e, GET /p.gif) refused, by site (\"\" "
           "when none is known) and reason.");
    for (size_t i = 0; i <= METRICS_SITES; i++)
        for (size_t k = 0; k < METRICS_REASONS; k++) {
            uint64_t v = load(&refused[i][k].n);
            /* shown: what counted, every reason of no site, and each
               site's origin refusals (the one reason a site has alone) */
            if (v == 0 && i != 0 &&
                (i == METRICS_SITES || !sn->known[i] || k != METRICS_ORIGIN))
                continue;
            buf_str(b, "dwell_events_refused_total{site=\"");
            label_value(b, row_name(sn, i));
            buf_printf(b, "\",reason=\"%s\"} %llu\n", reason_names[k],
                       (unsigned long long)v);
        }
}

/* A histogram family NAME from H with bounds LE. */
static void render_hist(struct buf *b, const char *name, const char *help,
                        const struct store_hist *h, const double *le)
{
    uint64_t cum = 0;
    family(b, name, "histogram", help);
    for (size_t i = 0; i < STORE_HIST_BUCKETS; i++) {
        cum += h->bucket[i];
        buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, le[i],
                   (unsigned long long)cum);
    }
    buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
               (unsigned long long)h->count);
    buf_printf(b, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name,
               (unsigned long long)h->count);
}

/* One sample of a family of one unlabelled sample. */
static void single(struct buf *b, const char *name, const char *type,
                   const char *help, unsigned long long v)
{
    family(b, name, type, help);
    buf_printf(b, "%s %llu\n", name, v);
}

static void render_store(struct buf *b, const struct store_stats *s)
{
    single(b, "dwell_queue_events", "gauge",
           "Events queued, waiting for the writer.", s->queue_depth);
    single(b, "dwell_queue_capacity_events", "gauge",
           "Events the queue holds at most (--queue); past it, 503.",
           s->queue_cap);
    single(b, "dwell_events_stored_total", "counter",
           "Events committed to the store by this process.",
           (unsigned long long)s->events_stored);
    render_hist(b, "dwell_commit_batch_events",
                "Events per ingest commit (one write transaction).",
                &s->batch_events, store_batch_le);
    render_hist(b, "dwell_commit_duration_seconds",
                "Time per ingest commit, its fsync included in durability "
                "fsync.", &s->commit_seconds, store_commit_le);
    single(b, "dwell_store_write_errors_total", "counter",
           "Ingest commits that failed (their events answered 503); in "
           "durability fsync a failed fsync fails its commit.",
           (unsigned long long)s->write_errors);
    single(b, "dwell_store_fsync_failures_total", "counter",
           "Failed flushes of committed data to disk (durability commit "
           "and none: the once-a-second flush).",
           (unsigned long long)s->sync_errors);
    single(b, "dwell_lmdb_map_size_bytes", "gauge",
           "The LMDB map's size (grows on demand).", s->map_size);
    single(b, "dwell_lmdb_used_bytes", "gauge",
           "Bytes of the map in use: up to its last page written.",
           s->map_used);
}

/* The shipping families (docs/http-api.md), when this process ships. */
static void render_ship(struct buf *b, struct store *st)
{
    struct store_ship_stats s;
    store_ship_get_stats(st, &s);
    if (!s.on)
        return;
    single(b, "dwell_ship_backlog_events", "gauge",
           "Events and tickets stored but not yet acknowledged by "
           "ClickHouse.", (unsigned long long)s.backlog);
    family(b, "dwell_ship_lag_seconds", "gauge",
           "Age of the oldest of them (0: none waits).");
    buf_printf(b, "dwell_ship_lag_seconds %.3f\n", s.lag_s);
    single(b, "dwell_ship_events_total", "counter",
           "Rows (events and tickets) ClickHouse acknowledged.",
           (unsigned long long)s.events);
    family(b, "dwell_ship_batches_total", "counter",
           "Batches sent to ClickHouse, by result.");
    buf_printf(b, "dwell_ship_batches_total{result=\"ok\"} %llu\n"
               "dwell_ship_batches_total{result=\"error\"} %llu\n",
               (unsigned long long)s.batches_ok,
               (unsigned long long)s.batches_failed);
    family(b, "dwell_ship_last_success_timestamp_seconds", "gauge",
           "When ClickHouse last acknowledged a batch (0: never).");
    buf_printf(b, "dwell_ship_last_success_timestamp_seconds %.3f\n",
               (double)s.last_success_us / 1e6);
}

static void render_http(struct buf *b, const struct http_stats *h)
{
    static const char *const classes[] = { "other", "1xx", "2xx", "3xx",
                                           "4xx", "5xx" };
    single(b, "dwell_http_connections", "gauge", "HTTP connections open.",
           h->connections);
    single(b, "dwell_http_connections_cut_total", "counter",
           "Connections shut down past --request-timeout.",
           (unsigned long long)h->cut);
    single(b, "dwell_http_connections_refused_total", "counter",
           "Connections or requests over --max-conn-per-ip.",
           (unsigned long long)h->refused);
    family(b, "dwell_http_responses_total", "counter",
           "HTTP responses sent, by status class.");
    for (size_t i = 1; i < 6; i++)
        buf_printf(b, "dwell_http_responses_total{code=\"%s\"} %llu\n",
                   classes[i], (unsigned long long)h->responses[i]);
}

static void render_webhooks(struct buf *b)
{
    family(b, "dwell_ticket_webhooks_total", "counter",
           "Ticket webhooks (POST /api/v1/tickets), by result.");
    for (size_t i = 0; i < METRICS_WEBHOOK_RESULTS; i++)
        buf_printf(b, "dwell_ticket_webhooks_total{result=\"%s\"} %llu\n",
                   webhook_names[i], (unsigned long long)load(&webhooks[i]));
}

char *metrics_render(const struct metrics_source *src, size_t *len)
{
    struct store_stats s;
    struct http_stats h;
    struct site_names sn;
    struct buf b;
    memset(&h, 0, sizeof h);
    sn.name = calloc(METRICS_SITES, sizeof *sn.name);
    sn.known = calloc(METRICS_SITES, sizeof *sn.known);
    if (sn.name == NULL || sn.known == NULL ||
        store_site_each(src->store, note_site, &sn) != 0) {
        free(sn.name);
        free(sn.known);
        return NULL;
    }
    store_get_stats(src->store, &s);
    if (src->http)
        http_get_stats(src->http, &h);
    buf_init(&b, METRICS_MAX_TEXT);
    family(&b, "dwell_build_info", "gauge",
           "Always 1; the version in a label.");
    buf_printf(&b, "dwell_build_info{version=\"%s\"} 1\n", DWELL_VERSION);
    family(&b, "dwell_process_start_time_seconds", "gauge",
           "When the server started, in seconds since the Unix epoch.");
    buf_printf(&b, "dwell_process_start_time_seconds %llu\n",
               (unsigned long long)(start_us / 1000000u));
    render_events(&b, &sn);
    render_store(&b, &s);
    render_ship(&b, src->store);
    render_http(&b, &h);
    render_webhooks(&b);
    free(sn.name);
    free(sn.known);
    return buf_take(&b, len);
}

/* --- GET /metrics --------------------------------------------------------------- */

static bool is_loopback(const struct ipaddr *a)
{
    static const uint8_t v6[16] = { [15] = 1 };
    if (ipaddr_is_v4(a))
        return a->b[12] == 127;
    return memcmp(a->b, v6, 16) == 0;
}

/* Whether Q may read the metrics; fills R with the refusal otherwise. */
static bool allowed(const struct metrics_source *src, const struct http_req *q,
                    struct http_reply *r)
{
    if (src->token != NULL) {
        const char *h = http_req_header(q, "Authorization");
        size_t n = strlen(src->token);
        if (h && strncasecmp(h, "Bearer ", 7) == 0 && strlen(h + 7) == n &&
            crypto_equal(h + 7, src->token, n))
            return true;
        http_reply_error(r, 401, "a metrics token is required "
                         "(Authorization: Bearer TOKEN, see --metrics-token)");
        http_reply_header(r, "WWW-Authenticate", "Bearer");
        return false;
    }
    if (is_loopback(&q->peer) && !http_req_header(q, "X-Forwarded-For") &&
        !http_req_header(q, "Forwarded"))
        return true;
    http_reply_error(r, 403, "metrics are served to loopback clients only; "
                     "set --metrics-token to scrape from elsewhere");
    return false;
}

void metrics_serve(void *ctx, const struct http_req *q, struct http_reply *r)
{
    const struct metrics_source *src = ctx;
    http_reply_header(r, "Cache-Control", "no-store");
    if (!allowed(src, q, r))
        return;
    size_t len;
    char *text = metrics_render(src, &len);
    if (text == NULL) {
        http_reply_error(r, 500, "metrics not rendered: out of memory or "
                         "storage error");
        return;
    }
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->body = text;
    r->len = len;
    r->owned = text;
}
