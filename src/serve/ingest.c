/* ingest.c — see ingest.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/ingest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dwell/bot.h"
#include "dwell/event.h"
#include "dwell/geo.h"
#include "dwell/ratelimit.h"
#include "dwell/store.h"
#include "dwell/visitor.h"
#include "serve/metrics.h"

/* Length of the origin ("scheme://host[:port]") at the start of URL. */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

/* True when the request's Origin (or, lacking it, its Referer's origin) is
 * one of SITE's origins; a site without origins accepts any. A beacon
 * (POST) must name its Origin, as browsers always do on one; a pixel that
 * names neither (noscript, mail clients) is accepted. */
static bool origin_allowed(const struct site *site, const struct http_req *q)
{
    if (site->norigins == 0)
        return true;
    const char *o = http_req_header(q, "Origin");
    size_t n;
    if (o != NULL) {
        n = strlen(o);
    } else if (q->method == HTTP_POST) {
        return false;
    } else {
        o = http_req_header(q, "Referer");
        if (o == NULL)
            return true;
        n = origin_len(o);
    }
    for (size_t i = 0; i < site->norigins; i++) {
        const char *allowed = site->origins[i];
        if (strlen(allowed) == n && strncasecmp(allowed, o, n) == 0)
            return true;
    }
    return false;
}

/* Answers R with STATUS and WHY, and counts the refusal (reason REASON,
 * of site SITE_ID, named NAME: the name asked for when unknown). */
static void refuse(const struct http_req *q, const struct ipaddr *addr,
                   struct http_reply *r, enum metrics_reason reason,
                   int status, const char *why, uint32_t site_id,
                   const char *name, size_t name_len)
{
    http_reply_error(r, status, why);
    struct metrics_refusal m = {
        .reason = reason, .status = status, .why = why, .site_id = site_id,
        .site = name, .site_len = name_len,
        .origin = http_req_header(q, "Origin"), .client = addr
    };
    metrics_refused(&m);
}

/* The last site an HTTP thread looked up: most requests name the one
 * before's, and the memo answers them without a read transaction. */
static _Thread_local struct site_memo thread_site;

/* Resolves every event's site, checks origins, and fills in the site id,
 * country and bot flag. Returns 0, or -1 with R filled with the error. */
static int enrich(struct ingest *in, const struct http_req *q,
                  struct event_batch *b, const struct ipaddr *addr,
                  struct http_reply *r)
{
    const struct site *site = NULL;
    char country[3];
    const char *ua = http_req_header(q, "User-Agent");
    bool bot = bot_user_agent(ua, ua ? strlen(ua) : 0);
    geo_country_of(in->geo, addr, country);

    for (size_t i = 0; i < b->n; i++) {
        struct event *ev = &b->ev[i];
        if (site == NULL || strlen(site->name) != ev->site.n ||
            memcmp(site->name, ev->site.p, ev->site.n) != 0) {
            int rc = store_site_get_memo(in->store, ev->site.p, ev->site.n,
                                         &thread_site, &site);
            if (rc != 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "unknown site \"%.*s\"",
                         (int)(ev->site.n > 100 ? 100 : ev->site.n),
                         ev->site.p);
                refuse(q, addr, r, rc > 0 ? METRICS_UNKNOWN_SITE
                                          : METRICS_STORE_ERROR,
                       rc > 0 ? 404 : 500, rc > 0 ? msg : "storage error",
                       0, ev->site.p, ev->site.n);
                return -1;
            }
            snprintf(r->site, sizeof r->site, "%s", site->name);
            if (!origin_allowed(site, q)) {
                refuse(q, addr, r, METRICS_ORIGIN, 403,
                       http_req_header(q, "Origin") || q->method != HTTP_POST
                       ? "origin not allowed for this site"
                       : "an Origin header is required: this site accepts "
                         "beacons only from its origins",
                       site->id, site->name, strlen(site->name));
                return -1;
            }
        }
        ev->site_id = site->id;
        memcpy(ev->country, country, sizeof country);
        if (bot)
            ev->flags |= EVENT_FLAG_BOT;
    }
    return 0;
}

/* Queues the batch; sets R to the success reply SUCCESS (sent after the
 * store's ack unless the store acks on enqueue) or to the error. */
static void submit(struct ingest *in, const struct http_req *q,
                   struct event_batch *b, const struct ipaddr *addr,
                   enum http_canned success, struct http_reply *r)
{
    if (enrich(in, q, b, addr, r) != 0)
        return;
    const char *ua = http_req_header(q, "User-Agent");
    store_ack_fn ack = in->ack_on_enqueue ? NULL : http_req_ack;
    int rc = store_enqueue(in->store, b->ev, b->n, addr, ua,
                           ua ? strlen(ua) : 0, ack, http_req_ack_ctx(q));
    uint32_t first = b->n ? b->ev[0].site_id : 0;
    if (rc == STORE_EFULL) {
        refuse(q, addr, r, METRICS_QUEUE_FULL, 503,
               "too many events queued; try again", first, r->site,
               strlen(r->site));
        http_reply_header(r, "Retry-After", "1");
        return;
    }
    if (rc != 0) {
        refuse(q, addr, r, METRICS_STORE_ERROR, 500,
               "could not queue the event", first, r->site,
               strlen(r->site));
        return;
    }
    for (size_t i = 0; i < b->n; i++)
        metrics_accepted(b->ev[i].site_id, 1,
                         (b->ev[i].flags & EVENT_FLAG_BOT) != 0);
    r->canned = success;
    r->pending = !in->ack_on_enqueue;
}

/* Resolves the client's address (through trusted proxies) into ADDR and
 * takes a token from its bucket. Returns 0, or -1 with R set to the 429. */
static int admit(struct ingest *in, const struct http_req *q,
                 struct ipaddr *addr, struct http_reply *r)
{
    const char *xff = http_req_header(q, "X-Forwarded-For");
    clientaddr_resolve(&q->peer, xff, in->trusted, in->ntrusted, addr);
    if (in->limit == NULL)
        return 0;
    uint8_t key[16];
    memcpy(key, addr->b, 16);
    if (!ipaddr_is_v4(addr))            /* an IPv6 client owns a /64 */
        memset(key + 8, 0, 8);
    unsigned wait = rate_take(in->limit, key, rate_now_us());
    if (wait == 0)
        return 0;
    static const char why[] = "too many events from this address; slow "
                              "down (see Retry-After)";
    rate_reply(r, wait, why);
    struct metrics_refusal m = {
        .reason = METRICS_RATE_LIMITED, .status = r->status, .why = why,
        .client = addr
    };
    metrics_refused(&m);
    return -1;
}

/* The batch a handler parses into (16 KiB): one per HTTP thread, since a
 * handler runs on one thread from start to end and the store copies the
 * events before store_enqueue returns; it was a malloc and a free of
 * 16 KiB per request. */
static _Thread_local struct event_batch thread_batch;

void ingest_beacon(void *ctx, const struct http_req *q, struct http_reply *r)
{
    struct ingest *in = ctx;
    char err[256];
    struct ipaddr addr;
    if (admit(in, q, &addr, r) != 0)
        return;
    struct event_batch *b = &thread_batch;
    if (q->body_len == 0)
        refuse(q, &addr, r, METRICS_MALFORMED, 400,
               "empty body: expected a JSON event", 0, NULL, 0);
    else if (event_parse_json(q->body, q->body_len, b, err, sizeof err) != 0)
        refuse(q, &addr, r, METRICS_MALFORMED, 400, err, 0, NULL, 0);
    else
        submit(in, q, b, &addr, HTTP_CANNED_204, r);
}

/* Query-string lookup for event_parse_pixel. */
static const char *pixel_arg(void *ctx, const char *key)
{
    return http_req_arg(ctx, key);
}

/* Pixel view ids: a counter started at the clock's microseconds when the
 * first pixel comes, and a random tag drawn then (two collectors started
 * in the same microsecond still differ). */
static pthread_once_t view_id_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t view_id_next;
static uint8_t view_id_tag[VISITOR_SALT_LEN];
static int view_id_ok;

static void view_id_init(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    atomic_store(&view_id_next, (uint64_t)ts.tv_sec * 1000000u +
                                (uint64_t)ts.tv_nsec / 1000u);
    view_id_ok = visitor_new_salt(view_id_tag) == 0;
}

/* A new page-view id of 16 characters of [A-Za-z0-9_-], never given
 * before: 10 characters of the counter, then 6 of the tag, in an alphabet
 * in byte order, so that the ids a collector hands out sort in the order
 * it gave them and land at the end of the views database instead of on a
 * random page of it (one random id per pixel dirtied a page per view:
 * docs/performance.md). Costs no system call. */
static int new_view_id(char id[17])
{
    static const char abc[] =
        "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    pthread_once(&view_id_once, view_id_init);
    if (!view_id_ok)
        return -1;
    uint64_t n = atomic_fetch_add(&view_id_next, 1);
    for (int i = 9; i >= 0; i--, n >>= 6)
        id[i] = abc[n & 63];
    for (int i = 0; i < 6; i++)
        id[10 + i] = abc[view_id_tag[i] & 63];
    id[16] = '\0';
    return 0;
}

void ingest_pixel(void *ctx, const struct http_req *q, struct http_reply *r)
{
    struct ingest *in = ctx;
    char err[256], view_id[17];
    if (q->method == HTTP_HEAD) {         /* a probe, not a page view */
        r->canned = HTTP_CANNED_GIF;
        return;
    }
    struct ipaddr addr;
    if (admit(in, q, &addr, r) != 0)
        return;
    if (new_view_id(view_id) != 0) {
        http_reply_error(r, 503, "no randomness available");
        return;
    }
    struct event_batch *b = &thread_batch;
    if (event_parse_pixel(pixel_arg, (void *)q, view_id, b, err,
                          sizeof err) != 0)
        refuse(q, &addr, r, METRICS_MALFORMED, 400, err, 0, NULL, 0);
    else
        submit(in, q, b, &addr, HTTP_CANNED_GIF, r);
}

void ingest_refused(void *ctx, int status)
{
    (void)ctx;
    struct metrics_refusal m = {
        .reason = status == 405 ? METRICS_METHOD : METRICS_SIZE,
        .status = status,
        .why = status == 405 ? "method not allowed"
             : status == 414 ? "URL longer than 2048 bytes"
                             : "body larger than 8192 bytes"
    };
    metrics_refused(&m);
}
