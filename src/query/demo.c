/* demo.c — see demo.h. Synthetic but plausible: articles with their own
 * read-time profiles, weekly rhythm, countries, referrers, votes, searches
 * with and without results, and a few bots. Every event goes through
 * event_parse_json and store_enqueue_at, like a beacon. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/demo.h"
#include "base/buf.h"
#include "base/time.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwell/clientaddr.h"
#include "dwell/event.h"
#include "dwell/log.h"
#include "dwell/rollup.h"

struct profile {
    const char *path, *title, *category;
    unsigned words;
    double weight;          /* share of views */
    double median_s;        /* median engaged seconds of readers */
    double quick_exit;      /* share leaving within 5 s */
    double helpful;         /* share of votes that are "up" */
    double finish;          /* share scrolling to the end */
};

static const struct profile articles[] = {
    { "/kb/reset-password", "Reset your password", "accounts", 520, 9.0,
      70, 0.10, 0.85, 0.70 },
    { "/kb/change-email", "Change the e-mail address of your account",
      "accounts", 310, 3.0, 45, 0.12, 0.80, 0.75 },
    { "/kb/two-factor", "Turn on two-factor authentication", "security",
      760, 4.0, 120, 0.08, 0.78, 0.55 },
    { "/kb/sso-saml", "Set up single sign-on (SAML)", "security", 2150, 2.0,
      420, 0.06, 0.66, 0.35 },
    { "/kb/export-csv", "Export your data to CSV", "data", 590, 5.0, 85,
      0.15, 0.74, 0.60 },
    { "/kb/import-contacts", "Import contacts from a spreadsheet", "data",
      880, 3.5, 150, 0.10, 0.55, 0.45 },
    { "/kb/api-tokens", "Create and rotate API tokens", "developers", 640,
      2.5, 95, 0.09, 0.82, 0.50 },
    { "/kb/webhooks", "Receive events with webhooks", "developers", 1400,
      1.5, 260, 0.07, 0.71, 0.40 },
    { "/kb/billing-invoices", "Download invoices and receipts", "billing",
      280, 4.5, 30, 0.20, 0.88, 0.80 },
    { "/kb/change-plan", "Upgrade or downgrade your plan", "billing", 450,
      3.0, 55, 0.14, 0.62, 0.65 },
    { "/kb/refund-policy", "Refunds and cancellations", "billing", 700, 3.5,
      25, 0.55, 0.30, 0.20 },
    { "/kb/display-language", "Change your display language", "settings",
      90, 2.0, 12, 0.30, 0.90, 0.95 },
    { "/kb/notifications", "Choose which notifications you get", "settings",
      380, 1.8, 48, 0.18, 0.76, 0.60 },
    { "/kb/delete-account", "Delete your account", "accounts", 330, 1.2, 40,
      0.12, 0.58, 0.70 },
    { "/kb/mobile-app", "Use the mobile app offline", "settings", 510, 1.0,
      10, 0.62, 0.25, 0.15 },
    { "/kb/keyboard-shortcuts", "Keyboard shortcuts", "settings", 240, 0.8,
      60, 0.05, 0.93, 0.85 },
};
#define N_ARTICLES (sizeof articles / sizeof articles[0])

static const char *const categories[] = {
    "accounts", "security", "data", "developers", "billing", "settings"
};
#define N_CATEGORIES (sizeof categories / sizeof categories[0])

static const char *const countries[] = {
    "US", "US", "US", "GB", "GB", "DE", "DE", "FR", "IN", "IN", "CA", "AU",
    "NL", "SE", "BR", "JP", "ES", "PL"
};
static const char *const referrers[] = {
    "", "", "", "https://www.google.com/", "https://www.google.com/",
    "https://www.google.com/", "https://www.bing.com/",
    "https://duckduckgo.com/", "https://app.example.com/settings",
    "https://app.example.com/dashboard", "https://community.example.com/t/1"
};
static const char *const user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
};

/* Searches: a query, the article it leads to (index), or -1 for none. */
static const struct { const char *q; int leads_to; } searches[] = {
    { "reset password", 0 }, { "forgot password", 0 }, { "change email", 1 },
    { "2fa", 2 }, { "sso", 3 }, { "saml okta", 3 }, { "export", 4 },
    { "csv export", 4 }, { "import contacts", 5 }, { "api key", 6 },
    { "webhook", 7 }, { "invoice", 8 }, { "refund", 10 },
    { "language", 11 }, { "offline mode", 14 }, { "dark mode", -1 },
    { "gdpr data request", -1 }, { "slack integration", -1 },
    { "cancel subscription", 10 }, { "shortcuts", 15 },
};
#define N_SEARCHES (sizeof searches / sizeof searches[0])

/* --- randomness (splitmix64; reproducible for a seed) --------------------- */

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

static unsigned below(uint64_t *s, unsigned n)
{
    return (unsigned)(uniform(s) * n) % n;
}

/* A log-normal draw with the given median and spread (sigma). */
static double lognormal(uint64_t *s, double median, double sigma)
{
    double u1 = uniform(s), u2 = uniform(s);
    if (u1 < 1e-12)
        u1 = 1e-12;
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
    return median * exp(sigma * z);
}

static unsigned pick_article(uint64_t *s)
{
    double total = 0;
    for (size_t i = 0; i < N_ARTICLES; i++)
        total += articles[i].weight;
    double x = uniform(s) * total;
    for (size_t i = 0; i < N_ARTICLES; i++) {
        x -= articles[i].weight;
        if (x <= 0)
            return (unsigned)i;
    }
    return N_ARTICLES - 1;
}

/* --- one reader's visit ------------------------------------------------------ */

struct visit {
    char json[EVENT_MAX_BODY];
    size_t len;
    unsigned n;
    bool contact;              /* the reader clicked "contact support" */
    char link[17];             /* …with this link id */
    unsigned article;          /* the article read (or searched for) */
};

/* The planted effects (see docs/tickets.md, "Validation"). */
#define PLANTED_ARTICLE 10           /* refund policy: 40 % contact rate */
#define PLANTED_RATE    0.40
#define BASE_RATE       0.03
#define GIVE_UP_CONTACT 0.30         /* after a search that found nothing */
#define TOPIC           "accounts"
#define TOPIC_TICKETS   40.0         /* a day, on average */
#define TOPIC_LAG       2            /* days from reads to fewer tickets */
#define TOPIC_EFFECT    35.0         /* fewer tickets per unit of extra reads */

static void add(struct visit *v, const char *fmt, ...) DWELL_PRINTF(2, 3);

static void add(struct visit *v, const char *fmt, ...)
{
    va_list ap;
    if (v->len + 2 >= sizeof v->json)
        return;
    v->json[v->len++] = v->n++ ? ',' : '[';
    va_start(ap, fmt);
    int n = vsnprintf(v->json + v->len, sizeof v->json - v->len - 1, fmt, ap);
    va_end(ap);
    if (n > 0 && v->len + (size_t)n < sizeof v->json - 1)
        v->len += (size_t)n;
}

/* Builds the events of one view of article A: the view, engaged-time
 * heartbeats, maybe a vote, maybe a search before it. */
static void make_visit(struct visit *v, uint64_t *rng, const char *site,
                       unsigned a, bool bot, bool effects)
{
    const struct profile *p = &articles[a];
    char id[17], page[17];
    for (int i = 0; i < 16; i++)
        id[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[below(rng, 36)];
    id[16] = '\0';
    snprintf(page, sizeof page, "%s", id);
    v->article = a;
    v->len = 0;
    v->n = 0;
    v->contact = false;
    unsigned seq = 1;                  /* of the contact event, "i" */
    bool search = uniform(rng) < 0.18;
    if (search) {
        unsigned k = below(rng, N_SEARCHES);
        if (searches[k].leads_to >= 0)
            a = (unsigned)searches[k].leads_to, p = &articles[a];
        add(v, "{\"s\":\"%s\",\"wv\":2,\"t\":\"view\",\"v\":\"%.8ss0\","
            "\"u\":\"https://help.example.com/search\",\"ti\":\"Search\","
            "\"pk\":\"search\"}", site, id);
        add(v, "{\"s\":\"%s\",\"wv\":2,\"t\":\"search\",\"v\":\"%.8ss0\","
            "\"i\":1,\"q\":\"%s\",\"n\":%d}", site, id, searches[k].q,
            searches[k].leads_to >= 0 ? 3 + (int)below(rng, 8) : 0);
        if (searches[k].leads_to < 0 && uniform(rng) < 0.7) {
            /* nothing found: many give up, some ask support */
            v->contact = !bot && uniform(rng) < GIVE_UP_CONTACT;
            snprintf(page, sizeof page, "%.8ss0", id);
            seq = 2;                   /* after the search */
            v->article = UINT32_MAX;
            goto done;
        }
    }
    v->article = a;
    bool fits = p->words < 150;
    unsigned sd0 = fits ? 100 : 10 + below(rng, 30);
    add(v, "{\"s\":\"%s\",\"wv\":2,\"t\":\"view\",\"v\":\"%s\","
        "\"u\":\"https://help.example.com%s\",\"r\":\"%s\",\"ti\":\"%s\","
        "\"w\":%u,\"c\":\"%s\",\"l\":\"en-US\",\"sw\":%u,\"sd\":%u%s}",
        site, id, p->path, search ? "https://help.example.com/search"
                                  : referrers[below(rng, 11)],
        p->title, p->words, p->category, uniform(rng) < 0.3 ? 390u : 1440u,
        sd0, bot ? ",\"b\":1" : "");
    double secs = uniform(rng) < p->quick_exit ? uniform(rng) * 4.5
                : lognormal(rng, p->median_s, 0.6);
    if (secs > 3000)
        secs = 3000;
    unsigned total_ms = (unsigned)(secs * 1000);
    bool finished = fits || (secs > p->median_s * 0.5 &&
                             uniform(rng) < p->finish);
    unsigned sd = finished ? 100
                : sd0 + (unsigned)((90 - sd0) * fmin(1.0, secs /
                                   (p->median_s * 2)) * uniform(rng));
    for (unsigned sent = 0; sent < total_ms && v->n < 27;) {
        unsigned step = total_ms - sent > 15000 ? 15000 : total_ms - sent;
        sent += step;
        unsigned depth = sd0 + (unsigned)((double)(sd - sd0) * sent /
                                          total_ms);
        add(v, "{\"s\":\"%s\",\"wv\":2,\"t\":\"engage\",\"v\":\"%s\","
            "\"e\":%u,\"sd\":%u}", site, id, sent, depth);
    }
    if (secs > 20 && uniform(rng) < 0.12)
        add(v, "{\"s\":\"%s\",\"wv\":2,\"t\":\"vote\",\"v\":\"%s\","
            "\"x\":\"%s\"}",
            site, id, uniform(rng) < p->helpful ? "up" : "down");
    double contact = effects && a == PLANTED_ARTICLE ? PLANTED_RATE
                                                     : BASE_RATE;
    v->contact = !bot && uniform(rng) < contact;
done:
    if (v->contact) {                  /* "contact support": a link id */
        for (int i = 0; i < 16; i++)
            v->link[i] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[below(rng, 32)];
        v->link[16] = '\0';
        add(v, "{\"s\":\"%s\",\"wv\":2,\"t\":\"event\",\"v\":\"%s\","
            "\"i\":%u,\"n\":\"contact\"}", site, page, seq);
        add(v, "{\"s\":\"%s\",\"wv\":2,\"t\":\"link\",\"v\":\"%s\","
            "\"k\":\"%s\"}", site, page, v->link);
    }
    v->json[v->len++] = ']';
    v->json[v->len] = '\0';
}

/* Queues EV (from ADDR with UA) as having happened at TIME, waiting for
 * room in the queue. Returns 0 or -1. */
static int queue_event(struct store *st, uint64_t time_us,
                       const struct event *ev, const struct ipaddr *addr,
                       const char *ua)
{
    for (int tries = 0; tries < 1000; tries++) {
        int rc = store_enqueue_at(st, time_us, ev, 1, addr, ua, strlen(ua),
                                  NULL, NULL);
        if (rc == 0)
            return 0;
        if (rc != STORE_EFULL)
            return -1;
        store_drain(st, 1000);
    }
    return -1;
}

#define DEMO_SPREAD_US (600ull * 1000000u)

/* One day's visits, parsed, and their events in the order a live server
 * would have received them: by time. */
struct day_visits {
    struct day_visit {
        struct event_batch b;         /* its strings point into b: never
                                         moved, so each is its own block */
        struct ipaddr addr;
        const char *ua;
    } **v;
    size_t n, cap;                    /* in use; allocated (kept for the
                                         next day) */
    struct day_event {
        uint64_t time_us;
        uint32_t visit, i;            /* b.ev[i] of v[visit] */
    } *ev;
    size_t nev, evcap;
};

/* Adds one visit that began at TIME to D: its events parsed, enriched
 * (site, country, address, user agent) and each dated when a reader's
 * browser would have sent it: an engage when its engaged total had passed,
 * what follows it no earlier; the whole visit moved earlier if it would
 * end after NOW_US. Returns 0 or -1. */
static int add_visit(struct day_visits *d, uint32_t site_id, uint64_t time_us,
                     uint64_t now_us, const struct visit *v, uint64_t *rng,
                     bool bot)
{
    char err[256];
    size_t had = d->cap;
    if (buf_grow_array(&d->v, &d->cap, d->n + 1, sizeof *d->v, SIZE_MAX) != 0)
        return -1;
    for (size_t i = had; i < d->cap; i++)
        d->v[i] = NULL;
    if (d->v[d->n] == NULL && (d->v[d->n] = malloc(sizeof **d->v)) == NULL)
        return -1;
    struct day_visit *dv = d->v[d->n];
    if (event_parse_json(v->json, v->len, &dv->b, err, sizeof err) != 0) {
        log_error("demo: generated an invalid event: %s", err);
        return -1;
    }
    if (buf_grow_array(&d->ev, &d->evcap, d->nev + dv->b.n, sizeof *d->ev,
                       SIZE_MAX) != 0)
        return -1;
    const char *country = countries[below(rng, sizeof countries /
                                             sizeof countries[0])];
    dv->addr = (struct ipaddr){ .b = { [10] = 0xff, [11] = 0xff,
                                       [12] = 198, [13] = 51 } };
    dv->addr.b[14] = (uint8_t)below(rng, 256);
    dv->addr.b[15] = (uint8_t)below(rng, 256);
    dv->ua = bot ? "Mozilla/5.0 (compatible; Googlebot/2.1)"
                 : user_agents[below(rng, 4)];
    uint64_t offset_us = 0;
    for (size_t i = 0; i < dv->b.n; i++) {
        struct event *ev = &dv->b.ev[i];
        ev->site_id = site_id;
        memcpy(ev->country, country, 3);
        if (ev->type == EVENT_ENGAGE && ev->engaged_ms * 1000ull > offset_us)
            offset_us = ev->engaged_ms * 1000ull;
        d->ev[d->nev++] = (struct day_event){ time_us + offset_us,
                                              (uint32_t)d->n, (uint32_t)i };
    }
    /* a visit of today that would end after NOW began earlier, to end in
     * the last ten minutes (spread by its own start): the demo stores
     * nothing in the future */
    uint64_t late = time_us + offset_us > now_us
                  ? time_us + offset_us - now_us + time_us % DEMO_SPREAD_US
                  : 0;
    for (size_t k = d->nev - dv->b.n; k < d->nev; k++)
        d->ev[k].time_us -= late;
    d->n++;
    return 0;
}

/* Frees D's memory. */
static void day_free(struct day_visits *d)
{
    for (size_t i = 0; i < d->cap; i++)
        free(d->v[i]);
    free(d->v);
    free(d->ev);
}

/* Orders day events by time, then as they were added. */
static int by_time(const void *a, const void *b)
{
    const struct day_event *x = a, *y = b;
    if (x->time_us != y->time_us)
        return x->time_us < y->time_us ? -1 : 1;
    if (x->visit != y->visit)
        return x->visit < y->visit ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Queues D's events in time order, as a live server would have stored
 * them (appended), counts them in *EVENTS, and empties D. Returns 0 or
 * -1. */
static int queue_day(struct store *st, struct day_visits *d, size_t *events)
{
    if (d->nev > 0)
        qsort(d->ev, d->nev, sizeof *d->ev, by_time);
    for (size_t k = 0; k < d->nev; k++) {
        const struct day_event *e = &d->ev[k];
        const struct day_visit *dv = d->v[e->visit];
        if (queue_event(st, e->time_us, &dv->b.ev[e->i], &dv->addr,
                        dv->ua) != 0)
            return -1;
    }
    *events += d->nev;
    d->n = d->nev = 0;
    return 0;
}

/* A Poisson draw with mean LAMBDA (Knuth; LAMBDA is small here). */
static unsigned poisson(uint64_t *rng, double lambda)
{
    double l = exp(-lambda), p = 1.0;
    unsigned k = 0;
    do {
        k++;
        p *= uniform(rng);
    } while (p > l && k < 1000);
    return k - 1;
}

static bool is_topic(unsigned a)
{
    return a < N_ARTICLES && strcmp(articles[a].category, TOPIC) == 0;
}

/* The tickets being generated, stored at the end in one transaction. */
struct demo_tickets {
    struct store_ticket *t;
    size_t n, cap;
};

static int add_ticket(struct demo_tickets *dt, uint64_t seed, uint64_t when,
                      const char *link, const char *tag, uint64_t *rng)
{
    if (buf_grow_array(&dt->t, &dt->cap, dt->n + 1, sizeof *dt->t,
                       SIZE_MAX) != 0)
        return -1;
    struct store_ticket *t = &dt->t[dt->n];
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "demo-%llu-%zu", (unsigned long long)seed,
             dt->n + 1);
    t->created_us = when;
    snprintf(t->link, sizeof t->link, "%s", link ? link : "");
    snprintf(t->channel, sizeof t->channel, "%s",
             link ? "web" : uniform(rng) < 0.6 ? "email" : "chat");
    if (tag && tag[0]) {
        snprintf(t->tags[0], sizeof t->tags[0], "%s", tag);
        t->ntags = 1;
    }
    dt->n++;
    return 0;
}

int demo_generate(struct store *st, uint32_t site_id, const char *site,
                  unsigned days, uint64_t seed, size_t *events)
{
    struct demo_options o = { .days = days, .seed = seed, .tickets = true,
                              .effects = true };
    size_t tickets;
    return demo_generate_ex(st, site_id, site, &o, events, &tickets);
}

/* demo_generate_ex, calling PROGRESS (if any) with CTX after each day. */
static int generate(struct store *st, uint32_t site_id, const char *site,
                    const struct demo_options *o, demo_progress_fn progress,
                    void *ctx, size_t *events, size_t *tickets)
{
    static struct visit v;
    struct demo_tickets dt = { 0 };
    struct day_visits dv = { 0 };
    unsigned days = o->days;
    uint64_t rng = o->seed * 0x2545f4914f6cdd1dull + 1;
    uint64_t now = time_now_us() / TIME_US_PER_SEC;
    uint64_t today = now / 86400;
    double mult[TOPIC_LAG + 1] = { 1.0, 1.0, 1.0 };   /* recent days' */
    int rc = -1;
    *events = 0;
    *tickets = 0;
    for (unsigned d = days; d-- > 0;) {
        uint64_t day = today - d;
        unsigned weekday = (unsigned)((day + 4) % 7);    /* 0 = Sunday */
        double rhythm = (weekday == 0 || weekday == 6) ? 0.45 : 1.0;
        double growth = 0.8 + 0.4 * (double)(days - d) / (double)days;
        unsigned n = (unsigned)(140 * rhythm * growth * (0.85 + 0.3 *
                                                         uniform(&rng)));
        /* the topic's reads swing from day to day (newsletters, promos) */
        for (int k = TOPIC_LAG; k > 0; k--)
            mult[k] = mult[k - 1];
        mult[0] = 0.4 + 1.2 * uniform(&rng);
        for (unsigned i = 0; i < n; i++) {
            uint64_t t = day * 86400 + 6 * 3600 + below(&rng, 15 * 3600);
            unsigned back = below(&rng, 600);  /* drawn always: same seed,
                                                  same traffic */
            if (t > now)
                t = now - back;
            bool bot = uniform(&rng) < 0.04;
            unsigned a = pick_article(&rng);
            if (is_topic(a) && uniform(&rng) * 1.6 > mult[0])
                a = pick_article(&rng);        /* a quieter topic day */
            make_visit(&v, &rng, site, a, bot, o->effects);
            uint64_t when = t * 1000000u + below(&rng, 1000000);
            if (add_visit(&dv, site_id, when, now * 1000000u, &v, &rng,
                          bot) != 0)
                goto done;
            if (o->tickets && o->effects && v.contact) {   /* its ticket */
                uint64_t after = (uint64_t)(300 + below(&rng, 20 * 3600));
                uint64_t at = when + after * 1000000u;
                if (at > now * 1000000u)
                    at = now * 1000000u - 1;
                const char *tag = v.article < N_ARTICLES
                                ? articles[v.article].category : "";
                if (add_ticket(&dt, o->seed, at, v.link, tag, &rng) != 0)
                    goto done;
            }
        }
        /* unlinked tickets: the topic's fall two days after many reads;
         * without effects, every category gets tickets that owe nothing
         * to reading */
        for (size_t c = 0; c < N_CATEGORIES && o->tickets; c++) {
            bool topic = strcmp(categories[c], TOPIC) == 0;
            if (o->effects && !topic)
                continue;
            double lambda = (topic ? TOPIC_TICKETS : 3.0) * rhythm;
            if (o->effects)
                lambda -= TOPIC_EFFECT * (mult[TOPIC_LAG] - 1.0) * rhythm;
            unsigned nt = poisson(&rng, lambda > 1 ? lambda : 1);
            for (unsigned i = 0; i < nt; i++) {
                uint64_t at = (day * 86400 + below(&rng, 86400)) * 1000000u;
                if (at > now * 1000000u)
                    at = now * 1000000u - 1;
                if (add_ticket(&dt, o->seed, at, NULL, categories[c],
                               &rng) != 0)
                    goto done;
            }
        }
        if (queue_day(st, &dv, events) != 0)
            goto done;
        if (progress)
            progress(ctx, days - d, days);
    }
    if (store_drain(st, 60000) != 0)
        goto done;
    char err[256];
    size_t unchanged;
    if (dt.n && store_tickets_put(st, site_id, dt.t, dt.n, &unchanged, err,
                                  sizeof err) != 0) {
        log_error("demo: tickets: %s", err);
        goto done;
    }
    *tickets = dt.n;
    rc = 0;
done:
    free(dt.t);
    day_free(&dv);
    return rc;
}

int demo_generate_ex(struct store *st, uint32_t site_id, const char *site,
                     const struct demo_options *o, size_t *events,
                     size_t *tickets)
{
    return generate(st, site_id, site, o, NULL, NULL, events, tickets);
}

/* --- dwell demo: only where it mixes with nothing, once per seed --------- */

#define DEMO_PRINT_N 8         /* numbers in a site's fingerprint */

/* The note "demo" on a site: what the demo wrote, and what the site held
 * right after it. */
struct mark {
    uint64_t seed;
    uint32_t first_day, last_day;
    uint64_t at_us;                    /* when it was written */
    uint64_t print[DEMO_PRINT_N];      /* the site's fingerprint then */
};

#define MARK_VERSION 1
#define MARK_LEN (1 + 8 + 4 + 4 + 8 + 8 * DEMO_PRINT_N)

static void put_u(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void mark_encode(const struct mark *m, uint8_t out[MARK_LEN])
{
    out[0] = MARK_VERSION;
    put_u(out + 1, m->seed, 8);
    put_u(out + 9, m->first_day, 4);
    put_u(out + 13, m->last_day, 4);
    put_u(out + 17, m->at_us, 8);
    for (int i = 0; i < DEMO_PRINT_N; i++)
        put_u(out + 25 + 8 * i, m->print[i], 8);
}

/* Reads the note of SITE_ID into M. Returns 0; 1 if there is none; -1 on
 * a storage error or a note this version cannot read. */
static int mark_read(struct store *st, uint32_t site_id, struct mark *m)
{
    uint8_t b[STORE_NOTE_MAX];
    size_t n;
    int rc = store_site_note_get(st, site_id, "demo", b, sizeof b, &n);
    if (rc != 0)
        return rc;
    if (n != MARK_LEN || b[0] != MARK_VERSION) {
        log_error("demo: the site's demo note is not one this version "
                  "reads");
        return -1;
    }
    m->seed = get_u(b + 1, 8);
    m->first_day = (uint32_t)get_u(b + 9, 4);
    m->last_day = (uint32_t)get_u(b + 13, 4);
    m->at_us = get_u(b + 17, 8);
    for (int i = 0; i < DEMO_PRINT_N; i++)
        m->print[i] = get_u(b + 25 + 8 * i, 8);
    return 0;
}

static int print_rollup(void *ctx, uint64_t article, uint32_t day,
                        const struct rollup_day *d)
{
    uint64_t *p = ctx;
    (void)article;
    (void)day;
    p[0] += d->views;
    p[1] += d->reads;
    p[2] += d->votes_up + (uint64_t)d->votes_down;
    p[3] += d->searches;
    p[4] += d->links;
    p[5] += d->events;
    p[6] += d->engaged_ms;
    return 0;
}

static int print_ticket(void *ctx, const struct store_ticket *t)
{
    (void)t;
    ((uint64_t *)ctx)[7]++;
    return 0;
}

/* What SITE_ID holds, in a few numbers that any event or ticket written
 * to it changes: the site-wide rollup's counters summed over every day,
 * readers and bots, and the number of tickets. Kept forever (raw views
 * expire; rollups and tickets do not). Returns 0, or -1. */
static int site_print(struct store *st, uint32_t site_id,
                      uint64_t print[DEMO_PRINT_N])
{
    memset(print, 0, DEMO_PRINT_N * sizeof *print);
    uint32_t to = (uint32_t)(store_now_us() / TIME_US_PER_DAY) + 2;
    if (store_rollups_each(st, site_id, 0, 0, to, true, false,
                           print_rollup, print) != 0 ||
        store_tickets_each(st, site_id, 0, UINT64_MAX, print_ticket,
                           print) != 0)
        return -1;
    return 0;
}

static bool print_empty(const uint64_t print[DEMO_PRINT_N])
{
    for (int i = 0; i < DEMO_PRINT_N; i++)
        if (print[i] != 0)
            return false;
    return true;
}

/* Fills R->reason when the demo must not write to a site holding NOW
 * (note M, or none when HAVE is false); leaves it empty when it may. */
static void why_not(struct demo_result *r, const char *site, bool have,
                    const struct mark *m, const uint64_t now[DEMO_PRINT_N],
                    uint64_t seed)
{
    char from[11], to[11];
    r->reason[0] = '\0';
    if (!have) {
        if (print_empty(now))
            return;
        snprintf(r->reason, sizeof r->reason, "%s already holds data that "
                 "dwell demo did not write (%llu views, %llu tickets); demo "
                 "traffic would mix with it: use a new site (dwell site add), "
                 "or --force to write anyway", site,
                 (unsigned long long)now[0], (unsigned long long)now[7]);
        return;
    }
    if (memcmp(now, m->print, sizeof m->print) != 0) {
        snprintf(r->reason, sizeof r->reason, "%s holds data besides its "
                 "demo traffic (%llu views and %llu tickets now, %llu and "
                 "%llu after dwell demo): use a new site (dwell site add), "
                 "or --force to write anyway", site,
                 (unsigned long long)now[0], (unsigned long long)now[7],
                 (unsigned long long)m->print[0],
                 (unsigned long long)m->print[7]);
        return;
    }
    if (m->seed == seed)
        return;
    time_format_date(m->first_day, from);
    time_format_date(m->last_day, to);
    snprintf(r->reason, sizeof r->reason, "%s holds the demo traffic of "
             "--seed %llu (%s to %s); seed %llu would add to it: run with "
             "--seed %llu (changes nothing), use a new site, or --force to "
             "add it", site, (unsigned long long)m->seed, from, to,
             (unsigned long long)seed, (unsigned long long)m->seed);
}

int demo_run(struct store *st, uint32_t site_id, const char *site,
             unsigned days, uint64_t seed, bool force,
             demo_progress_fn progress, void *ctx, struct demo_result *r)
{
    struct mark m = { 0 };
    uint64_t now[DEMO_PRINT_N];
    memset(r, 0, sizeof *r);
    int have = mark_read(st, site_id, &m);
    if (have < 0 || site_print(st, site_id, now) != 0)
        return -1;
    if (have == 0) {
        r->seed = m.seed;
        r->first_day = m.first_day;
        r->last_day = m.last_day;
    }
    why_not(r, site, have == 0, &m, now, seed);
    if (have == 0 && m.seed == seed) {  /* already there: nothing to do */
        char from[11], to[11];
        time_format_date(m.first_day, from);
        time_format_date(m.last_day, to);
        snprintf(r->reason, sizeof r->reason, "%s already holds the demo "
                 "traffic of seed %llu (%s to %s): nothing written", site,
                 (unsigned long long)seed, from, to);
        return 0;
    }
    if (r->reason[0] && !force) {
        r->refused = true;
        return 0;
    }
    r->reason[0] = '\0';
    struct demo_options o = { .days = days, .seed = seed, .tickets = true,
                              .effects = true };
    if (generate(st, site_id, site, &o, progress, ctx, &r->events,
                 &r->tickets) != 0)
        return -1;
    r->wrote = true;
    uint32_t today = time_today();
    m.seed = seed;
    m.first_day = today - (days - 1);
    m.last_day = today;
    m.at_us = store_now_us();
    if (site_print(st, site_id, m.print) != 0)
        return -1;
    uint8_t b[MARK_LEN];
    char err[256];
    mark_encode(&m, b);
    if (store_site_note_put(st, site_id, "demo", b, sizeof b, err,
                            sizeof err) != 0) {
        log_error("demo: %s", err);
        return -1;
    }
    r->seed = seed;
    r->first_day = m.first_day;
    r->last_day = m.last_day;
    return 0;
}
