/* test_correlate.c — the correlation engine recovers the effects that
 * `dwell demo` plants (docs/tickets.md, "Validation"), over many seeds, and
 * finds no evidence where none was planted. Each seed is a fresh real LMDB
 * store filled with 90 days of generated traffic and tickets. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "dwell/correlate.h"
#include "dwell/demo.h"

#define EFFECT_SEEDS 10
#define NULL_SEEDS   40
#define DAYS         90

struct outcome {
    bool rate_inside;           /* planted article: 0.40 inside its CI */
    double rate;
    bool lag_found;             /* accounts: r < 0 at lag 2 ± 1 */
    int lag;
    double r;
    bool accounts_evidence;
    size_t false_topics;        /* other topics with evidence */
    bool by_rate;               /* articles highest contact rate first */
    bool linked_share;          /* linked_share = linked / tickets, < 1 */
};

/* Generates SEED into a fresh store and correlates it. */
static int run_seed(uint64_t seed, bool effects, struct outcome *o)
{
    char name[32], dir[128];
    snprintf(name, sizeof name, "seed-%llu", (unsigned long long)seed);
    struct store *st = open_writing(name, STORE_NONE, false);
    uint32_t id;
    int rc = -1;
    if (st == NULL)
        return -1;
    struct demo_options d = { DAYS, seed, true, effects };
    size_t events, tickets;
    struct correlate_result r = { 0 };
    if ((id = add_site(st, "c.test")) == 0 ||
        demo_generate_ex(st, id, "c.test", &d, &events, &tickets) != 0)
        goto done;
    uint32_t today = store_today();
    struct correlate_query q = { id, today - (DAYS - 1), today,
                                 86400000000ull, NULL, 0 };
    if (correlate_run(st, &q, &r) != 0)
        goto done;
    memset(o, 0, sizeof *o);
    o->lag = -1;
    o->by_rate = true;
    for (size_t i = 1; i < r.narticles; i++)
        if (!isnan(r.articles[i].rate) &&
            !(r.articles[i - 1].rate >= r.articles[i].rate))
            o->by_rate = false;
    o->linked_share = r.site.tickets > r.site.linked &&
        fabs(r.site.linked_share -
             (double)r.site.linked / (double)r.site.tickets) < 1e-12;
    for (size_t i = 0; i < r.narticles; i++)
        if (strcmp(r.articles[i].a.path, "/kb/refund-policy") == 0) {
            o->rate = r.articles[i].rate;
            o->rate_inside = r.articles[i].ci.lo <= 0.40 &&
                             0.40 <= r.articles[i].ci.hi;
        }
    for (size_t i = 0; i < r.ntopics; i++) {
        const struct correlate_topic *t = &r.topics[i];
        if (strcmp(t->category, "accounts") == 0) {
            o->lag = t->best_lag;
            o->r = t->r;
            o->accounts_evidence = t->evidence;
            o->lag_found = t->r < 0 && t->best_lag >= 1 &&
                           t->best_lag <= 3;
        } else {
            o->false_topics += t->evidence;
        }
    }
    rc = 0;
done:
    correlate_free(&r);
    store_close(st);
    fixture_remove_tree(data_dir(dir, sizeof dir, name));
    return rc;
}

TEST(planted_contact_rate_and_topic_lag_are_recovered)
{
    int inside = 0, found = 0, evident = 0;
    for (uint64_t seed = 1; seed <= EFFECT_SEEDS; seed++) {
        struct outcome o;
        CHECK_EQ_INT(run_seed(seed, true, &o), 0);
        CHECK(o.by_rate);
        CHECK(o.linked_share);
        inside += o.rate_inside;
        found += o.lag_found;
        evident += o.accounts_evidence;
        printf("  # seed %2llu: refund-policy rate %.3f%s, accounts lag %d "
               "r %.3f%s\n", (unsigned long long)seed, o.rate,
               o.rate_inside ? "" : " (0.40 outside CI)", o.lag, o.r,
               o.lag_found ? "" : " (not recovered)");
    }
    printf("  # recovered: contact rate %d/%d seeds, topic lag and sign "
           "%d/%d seeds (interval excludes 0 in %d)\n", inside, EFFECT_SEEDS,
           found, EFFECT_SEEDS, evident);
    CHECK(inside >= EFFECT_SEEDS - 1);        /* a 95 % interval */
    CHECK(found >= EFFECT_SEEDS - 1);
}

TEST(no_planted_effect_means_no_evidence_in_95_percent_of_seeds)
{
    int quiet = 0, topics_quiet = 0;
    size_t topics_flagged = 0;
    for (uint64_t seed = 101; seed < 101 + NULL_SEEDS; seed++) {
        struct outcome o;
        CHECK_EQ_INT(run_seed(seed, false, &o), 0);
        quiet += !o.accounts_evidence;
        topics_quiet += !o.accounts_evidence && o.false_topics == 0;
        topics_flagged += o.false_topics + o.accounts_evidence;
    }
    printf("  # no effect planted: accounts quiet in %d/%d seeds; every "
           "topic quiet in %d/%d; %zu of %d topic tests flagged\n", quiet,
           NULL_SEEDS, topics_quiet, NULL_SEEDS, topics_flagged,
           NULL_SEEDS * 6);
    CHECK(quiet * 100 >= NULL_SEEDS * 95);
}

/* The attribution window: minutes, hours or days, 1 minute to 30 days. */
TEST(window_takes_minutes_hours_days_up_to_30_days)
{
    static const struct { const char *s; uint64_t us; } ok[] = {
        { "1m", 60000000ull }, { "24h", 86400000000ull },
        { "30d", 30 * 86400000000ull }, { "720h", 30 * 86400000000ull },
        { "43200m", 30 * 86400000000ull },
    };
    static const char *const bad[] = {
        "0m", "31d", "721h", "43201m", "90s", "7", "d", "-1d", "7d ", " 7d",
        "1w", "7dd", "99999999999999999999d", "", NULL
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t us = 0;
        CHECK_EQ_INT(correlate_parse_window(ok[i].s, &us), 0);
        CHECK(us == ok[i].us);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t us = 777;
        if (correlate_parse_window(bad[i], &us) != -1 || us != 777) {
            printf("  \"%s\" was accepted\n", bad[i] ? bad[i] : "(null)");
            CHECK(0);
        }
    }
}

int main(void)
{
    if (fixture_begin("correlate") != 0)
        return 1;
    RUN(window_takes_minutes_hours_days_up_to_30_days);
    RUN(planted_contact_rate_and_topic_lag_are_recovered);
    RUN(no_planted_effect_means_no_evidence_in_95_percent_of_seeds);
    int rc = check_summary();
    fixture_end();
    return rc;
}
