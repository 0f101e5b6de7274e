/* ingest_fill.c — fills a data dir with EVENTS stored events over DAYS days
 * ending yesterday, through the store's real write path (store_enqueue_at,
 * the writer's batches), for the ingest-as-data-grows benchmark
 * (tests/bench/flat.py). A visit is a view of one of ARTICLES articles
 * (popularity skewed: a few articles take most views), then one engage
 * (wire 2, 10–300 s, a scroll depth), and one visit in eight starts with a
 * search; visitors, countries, referrers and categories vary. The events
 * of a day are spread over it in time order.
 *
 * Bounded and resumable: stops after SECONDS (default 600) of filling and
 * records in DIR/.fill how far it got (first day, target, events stored);
 * a later run with the same DIR continues from there. Prints the events
 * stored, the seconds it took and events per second.
 * usage: ingest_fill DIR SITE EVENTS DAYS ARTICLES [SECONDS] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dwell/clientaddr.h"
#include "dwell/event.h"
#include "dwell/store.h"

#define PER_CALL 10            /* visits per enqueue: at most 30 events */

static const char *const REFS[] = { "www.google.com", "", "www.bing.com",
                                    "app.example.com", "", "duckduckgo.com" };
static const char *const CATS[] = { "accounts", "billing", "api", "sso" };
static const char *const QUERIES[] = { "reset password", "invoice",
                                       "api token", "sso saml", "export" };
static const char CC[][3] = { "US", "DE", "FR", "GB", "IN", "BR", "JP" };

/* Returns the monotonic clock in seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns a well-mixed 64-bit value of X (splitmix64's finaliser). */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Returns the article of visit I among N: skewed, the square of a uniform
 * draw, so the first tenth of the articles gets about a third of views. */
static unsigned article_of(uint64_t i, unsigned n)
{
    double u = (double)(mix(i) >> 11) / 9007199254740992.0;
    return (unsigned)(u * u * n) % n;
}

/* Reads DIR/.fill into *DAY0, *TARGET, *DONE (events), *VISITS. Returns 0
 * if present. */
static int state_read(const char *dir, uint64_t *day0, uint64_t *target,
                      uint64_t *done, uint64_t *visits)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/.fill", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    unsigned long long a, b, c, d;
    int ok = fscanf(f, "%llu %llu %llu %llu", &a, &b, &c, &d) == 4;
    fclose(f);
    if (!ok)
        return -1;
    *day0 = a; *target = b; *done = c; *visits = d;
    return 0;
}

/* Writes DIR/.fill. */
static void state_write(const char *dir, uint64_t day0, uint64_t target,
                        uint64_t done, uint64_t visits)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/.fill", dir);
    FILE *f = fopen(p, "w");
    if (!f)
        return;
    fprintf(f, "%llu %llu %llu %llu\n", (unsigned long long)day0,
            (unsigned long long)target, (unsigned long long)done,
            (unsigned long long)visits);
    fclose(f);
}

struct gen {
    char path[PER_CALL][40], id[PER_CALL][24];
    struct event ev[3 * PER_CALL];
};

/* Fills G with the events of visits I0 .. I0+N-1 (N <= PER_CALL). Returns
 * the number of events. */
static size_t gen_visits(struct gen *g, uint32_t site_id, unsigned articles,
                         uint64_t i0, size_t n)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        uint64_t i = i0 + j, h = mix(i ^ 0x5eed);
        unsigned a = article_of(i, articles);
        int pl = snprintf(g->path[j], sizeof g->path[j], "/kb/article-%06u", a);
        int il = snprintf(g->id[j], sizeof g->id[j], "f%015llx",
                          (unsigned long long)i);
        if (h % 8 == 0) {
            struct event *s = &g->ev[k++];
            memset(s, 0, sizeof *s);
            s->type = EVENT_SEARCH;
            s->site_id = site_id;
            s->scroll = EVENT_SCROLL_NONE;
            memcpy(s->country, CC[h % 7], 3);
            const char *q = QUERIES[(h >> 8) % 5];
            s->text = (struct event_str){ q, (uint16_t)strlen(q) };
            s->results = (unsigned)(h >> 16) % 20;
            s->view_id = (struct event_str){ g->id[j], (uint16_t)il };
            s->seq = 1;
        }
        struct event *v = &g->ev[k++], *e = &g->ev[k++];
        memset(v, 0, sizeof *v);
        v->type = EVENT_VIEW;
        v->site_id = site_id;
        v->scroll = EVENT_SCROLL_NONE;
        memcpy(v->country, CC[h % 7], 3);
        v->view_id = (struct event_str){ g->id[j], (uint16_t)il };
        v->path = (struct event_str){ g->path[j], (uint16_t)pl };
        v->title = v->path;
        const char *r = REFS[(h >> 4) % 6], *c = CATS[a % 4];
        v->referrer = (struct event_str){ r, (uint16_t)strlen(r) };
        v->category = (struct event_str){ c, (uint16_t)strlen(c) };
        v->lang = (struct event_str){ "en", 2 };
        v->words = 300 + a % 1500;
        v->screen_w = 1280;
        v->article = event_article_id(g->path[j], (size_t)pl);
        *e = *v;
        e->type = EVENT_ENGAGE;
        e->flags = EVENT_FLAG_WIRE2;
        e->path = e->title = e->referrer = e->category = e->lang =
            (struct event_str){ NULL, 0 };
        e->words = 0;
        e->screen_w = 0;
        e->engaged_ms = 10000 + (unsigned)((h >> 20) % 290000u);
        e->scroll = (uint8_t)((h >> 40) % 101);
    }
    return k;
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: ingest_fill DIR SITE EVENTS DAYS ARTICLES "
                        "[SECONDS]\n");
        return 2;
    }
    const char *dir = argv[1];
    uint64_t target = strtoull(argv[3], NULL, 10);
    unsigned days = (unsigned)strtoul(argv[4], NULL, 10);
    unsigned articles = (unsigned)strtoul(argv[5], NULL, 10);
    double secs = argc == 7 ? strtod(argv[6], NULL) : 600;
    if (!days || !articles || !target)
        return 2;
    uint64_t day0, done = 0, v = 0;
    uint64_t today = (uint64_t)time(NULL) / 86400;
    if (state_read(dir, &day0, &target, &done, &v) != 0)
        day0 = today - days;
    struct store *st;
    char err[256];
    struct store_options o = { .durability = STORE_NONE,
                               .map_size = (size_t)1 << 30 };
    uint32_t site_id;
    bool created;
    if (store_open(dir, &o, &st, err, sizeof err) != 0 ||
        store_site_put(st, argv[2], NULL, 0, &site_id, &created, err,
                       sizeof err) != 0 ||
        store_start_writer(st, err, sizeof err) != 0) {
        fprintf(stderr, "ingest_fill: %s\n", err);
        return 1;
    }
    /* visits per day: a visit is 2.125 events on average */
    uint64_t visits = target * 8 / 17, per_day = visits / days + 1;
    static struct gen g;
    struct ipaddr addr = { .b = { [10] = 0xff, [11] = 0xff } };
    double t0 = now_s();
    uint64_t stored = done, last_purge_day = v / per_day;
    while (stored < target && now_s() - t0 < secs) {
        uint64_t d = v / per_day, slot = v % per_day;
        uint64_t t = (day0 + d) * 86400000000ull +
                     slot * (86400000000ull / per_day);
        size_t n = gen_visits(&g, site_id, articles, v, PER_CALL);
        uint64_t h = mix(v);
        addr.b[12] = (uint8_t)(h >> 8);
        addr.b[13] = (uint8_t)(h >> 16);
        addr.b[14] = (uint8_t)(h >> 24);
        addr.b[15] = (uint8_t)(h >> 32);
        int q;
        while ((q = store_enqueue_at(st, t, g.ev, n, &addr,
                                     "Mozilla/5.0 bench", 17, NULL,
                                     NULL)) == STORE_EFULL)
            store_drain(st, 1000);
        if (q != 0) {
            fprintf(stderr, "ingest_fill: store_enqueue_at failed\n");
            break;
        }
        v += PER_CALL;
        stored += n;
        if (d >= last_purge_day + 30) {     /* views of past days expire */
            size_t purged = 0;
            store_drain(st, 600000);
            store_purge(st, &purged);
            last_purge_day = d;
            state_write(dir, day0, target, stored, v);
            fprintf(stderr, "  %llu events, day %llu/%u, %.0f s\n",
                    (unsigned long long)stored, (unsigned long long)d + 1,
                    days, now_s() - t0);
        }
    }
    size_t purged = 0;
    int rc = store_drain(st, 600000);
    if (rc == 0)
        rc = store_purge(st, &purged);
    store_close(st);
    state_write(dir, day0, target, stored, v);
    /* the cumulative rollups, which a server would otherwise bring up to
       date when idle, in its first minutes: now, with no writer running */
    o.durability = STORE_FSYNC;
    if (rc == 0 && (rc = store_open(dir, &o, &st, err, sizeof err)) == 0) {
        rc = store_settle(st);
        store_close(st);
    }
    double took = now_s() - t0;
    printf("ingest_fill: %llu events stored (target %llu), %llu this run in "
           "%.0f s, %.0f events/s\n", (unsigned long long)stored,
           (unsigned long long)target, (unsigned long long)(stored - done),
           took, (double)(stored - done) / (took > 0 ? took : 1));
    return rc == 0 ? 0 : 1;
}
