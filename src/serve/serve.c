/* serve.c — see serve.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/serve.h"

#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dwell/api.h"
#include "dwell/assets.h"
#include "dwell/geo.h"
#include "dwell/http.h"
#include "dwell/ingest.h"
#include "dwell/log.h"
#include "dwell/ratelimit.h"
#include "serve/metrics.h"

static const char *const durability_names[] = { "fsync", "commit", "none" };

struct health {
    struct store *store;
    struct http_server *http;
};

/* GET /healthz: liveness and the queue's depth. */
static void serve_health(void *ctx, const struct http_req *q,
                         struct http_reply *r)
{
    struct health *h = ctx;
    struct store_stats s;
    struct http_stats hs = { 0, 0, 0, { 0 } };
    (void)q;
    store_get_stats(h->store, &s);
    if (h->http)
        http_get_stats(h->http, &hs);
    int n = snprintf(r->scratch, sizeof r->scratch,
                     "{\"status\":\"ok\",\"version\":\"%s\",\"queue\":%zu,"
                     "\"events_stored\":%llu,\"batches\":%llu,"
                     "\"orphans\":%llu,\"write_errors\":%llu,"
                     "\"purged\":%llu,\"sync_errors\":%llu,"
                     "\"map_bytes\":%zu,\"connections\":%u,"
                     "\"connections_cut\":%llu,\"connections_refused\":%llu}\n",
                     DWELL_VERSION, s.queue_depth,
                     (unsigned long long)s.events_stored,
                     (unsigned long long)s.batches,
                     (unsigned long long)s.orphans,
                     (unsigned long long)s.write_errors,
                     (unsigned long long)s.purged,
                     (unsigned long long)s.sync_errors, s.map_size,
                     hs.connections, (unsigned long long)hs.cut,
                     (unsigned long long)hs.refused);
    r->status = 200;
    r->content_type = "application/json";
    r->body = r->scratch;
    r->len = n > 0 && (size_t)n < sizeof r->scratch ? (size_t)n : 0;
    http_reply_header(r, "Cache-Control", "no-store");
}

static int count_site(void *ctx, const struct site *s)
{
    (void)s;
    ++*(size_t *)ctx;
    return 1;                           /* one is enough */
}

/* Logs how to add a site when the store of DATA_DIR holds none. */
static void hint_no_sites(struct store *st, const char *data_dir)
{
    size_t n = 0;
    if (store_site_each(st, count_site, &n) == 0 && n == 0)
        log_info("no sites yet: events are refused until one is added: "
                 "dwell site add SITE --origin https://YOUR-HELP-CENTER "
                 "--data %s", data_dir);
}

/* On SIGABRT (a library's panic, a failed assertion): the stack to the
 * log, then the default action. */
static void on_abort(int sig)
{
    static const char head[] = "dwell: aborted; stack:\n";
    void *frames[48];
    ssize_t w = write(STDERR_FILENO, head, sizeof head - 1);
    (void)w;
    backtrace_symbols_fd(frames, backtrace(frames, 48), STDERR_FILENO);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Blocks SIGINT and SIGTERM in this thread and every thread it starts. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
    void *warm[1];                      /* loads the unwinder now, not */
    backtrace(warm, 1);                 /* in the handler */
    signal(SIGABRT, on_abort);
}

/* Starts shipping to ClickHouse when --ship is given, as --node or the
 * host name. Returns 0, or -1 with the reason in ERR. */
static int start_shipping(const struct serve_options *opt, struct store *st,
                          char *err, size_t errlen)
{
    char host[256];
    const char *node = opt->node;
    if (opt->ship == NULL)
        return 0;
    if (node == NULL) {
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "dwell");
        host[sizeof host - 1] = '\0';
        node = host;
    }
    return store_ship_start(st, opt->ship, node, err, errlen);
}

/* Refuses new requests, lets every queued event be committed and
 * answered, then stops the server. The writer is stopped (everything it
 * was given answered) before libmicrohttpd, which must not be stopped
 * with requests still suspended on their acknowledgement. */
static void shut_down(struct http_server *http, struct store *st)
{
    http_refuse_new(http);
    if (store_drain(st, 30000) != 0)
        log_warn("shutdown: the queue did not drain in 30 s; finishing it");
    store_stop_writer(st);
    store_ship_stop(st);
    if (http_wait_idle(http, 5000) != 0)
        log_warn("shutdown: %u request(s) still open", http_inflight(http));
    http_stop(http);
}

int serve_run(const struct serve_options *opt)
{
    char err[512];
    sigset_t sigs;
    struct geo *geo = NULL;
    struct store *st = NULL;
    struct http_server *http = NULL;

    block_signals(&sigs);
    if (opt->geo_path && geo_open(opt->geo_path, &geo, err, sizeof err)) {
        log_error("--geo: %s", err);
        return 1;
    }
    if (geo == NULL)
        log_warn("no country database (--geo): countries will be \"--\"");
    if (store_open(opt->data_dir, &opt->store, &st, err, sizeof err) != 0 ||
        start_shipping(opt, st, err, sizeof err) != 0 ||
        store_start_writer(st, err, sizeof err) != 0) {
        log_error("store %s: %s", opt->data_dir, err);
        store_close(st);
        geo_close(geo);
        return 1;
    }

    struct rate_limit events, auth;
    if (rate_init(&events, opt->rate_per_s, opt->rate_burst) != 0 ||
        rate_init(&auth, opt->auth_fails_per_min / 60.0,
                  opt->auth_fails_per_min) != 0) {
        log_error("out of memory for the rate limits");
        store_close(st);
        geo_close(geo);
        return 1;
    }
    struct ingest in = {
        .store = st, .geo = geo, .trusted = opt->trusted,
        .ntrusted = opt->ntrusted,
        .ack_on_enqueue = opt->store.durability == STORE_NONE,
        .limit = &events
    };
    struct assets assets;
    assets_init(&assets, opt->demo_dir);
    struct health health = { .store = st };
    struct metrics_source msrc = { .store = st,
                                   .token = opt->metrics_token };
    metrics_start(opt->log_ip);
    struct api api = { .store = st, .helpscout_secret = opt->helpscout_secret,
                       .auth_fails = &auth, .trusted = opt->trusted,
                       .ntrusted = opt->ntrusted, .reports = opt->reports };
    const struct http_route routes[] = {
        { "/e", false, HTTP_POST, ingest_beacon, &in, 0, ingest_refused },
        { "/p.gif", false, HTTP_GET | HTTP_HEAD, ingest_pixel, &in, 0,
          ingest_refused },
        { "/dwell.js", false, HTTP_GET | HTTP_HEAD, assets_snippet, &assets,
          0, NULL },
        { "/metrics", false, HTTP_GET | HTTP_HEAD, metrics_serve, &msrc, 0,
          NULL },
        { "/healthz", false, HTTP_GET | HTTP_HEAD, serve_health, &health, 0,
          NULL },
        { "/demo/", true, HTTP_GET | HTTP_HEAD, assets_demo, &assets, 0,
          NULL },
        { "/api/v1/tickets", false, HTTP_POST, api_tickets, &api,
          API_WEBHOOK_MAX_BODY, api_tickets_refused },
        { "/api/v1/sites/", true, HTTP_GET | HTTP_HEAD, api_reports, &api,
          0, NULL },
        { "/report/", true, HTTP_GET | HTTP_HEAD, assets_report, &assets, 0,
          NULL },
        { "/report.js", false, HTTP_GET | HTTP_HEAD, assets_report_file,
          &assets, 0, NULL },
        { "/report.css", false, HTTP_GET | HTTP_HEAD, assets_report_file,
          &assets, 0, NULL },
        { "/docs/", true, HTTP_GET | HTTP_HEAD, assets_docs, &assets, 0,
          NULL },
    };
    struct http_options hopt = {
        .listen = opt->listen, .threads = opt->threads,
        .max_per_ip = opt->max_per_ip,
        .request_timeout_s = opt->request_timeout_s,
        .idle_timeout_s = opt->idle_timeout_s,
        .trusted = opt->trusted, .ntrusted = opt->ntrusted,
        .access_log = opt->access_log, .log_ip = opt->log_ip
    };
    if (http_start(&hopt, routes, sizeof routes / sizeof routes[0], &http,
                   err, sizeof err) != 0) {
        log_error("%s", err);
        store_close(st);
        geo_close(geo);
        rate_free(&events);
        rate_free(&auth);
        return 1;
    }
    health.http = http;
    hint_no_sites(st, opt->data_dir);
    msrc.http = http;
    log_info("dwell %s listening on http://%s (data %s, durability %s)",
             DWELL_VERSION, http_bound_address(http), opt->data_dir,
             durability_names[opt->store.durability]);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("%s: draining and stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    shut_down(http, st);
    store_close(st);
    geo_close(geo);
    rate_free(&events);
    rate_free(&auth);
    log_info("stopped");
    return 0;
}
