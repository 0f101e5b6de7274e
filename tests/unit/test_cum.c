/* test_cum.c — the cumulative rollups (store.c "cum" rows) give the same
 * sums as adding the daily rows, for final and open days, after late writes
 * to final days (dirty articles), with and without bots. Real LMDB. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dwell/clientaddr.h"
#include "dwell/demo.h"
#include "dwell/event.h"
#include "dwell/rollup.h"
#include "dwell/store.h"

static char dir[64];
static struct store *st;
static uint32_t site_id;

struct acc {
    struct rollup_day *sums;   /* indexed by article slot */
    uint64_t ids[64];
    size_t n;
};

static struct rollup_day *slot_of(struct acc *a, uint64_t id)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->ids[i] == id)
            return &a->sums[i];
    if (a->n == 64)
        return NULL;
    a->ids[a->n] = id;
    memset(&a->sums[a->n], 0, sizeof a->sums[0]);
    return &a->sums[a->n++];
}

static int add_fn(void *ctx, uint64_t article, uint32_t day,
                  const struct rollup_day *d)
{
    (void)day;
    struct rollup_day *s = slot_of(ctx, article);
    if (s)
        rollup_add(s, d);
    return 0;
}

/* Compares per-day sums with the summed path over FROM..TO. */
static int same_sums(uint32_t from, uint32_t to, bool bots)
{
    static struct rollup_day a_sums[64], b_sums[64];
    struct acc a = { a_sums, { 0 }, 0 }, b = { b_sums, { 0 }, 0 };
    if (store_rollups_each(st, site_id, STORE_ALL_ARTICLES, from, to, bots,
                           true, add_fn, &a) != 0 ||
        store_rollups_each(st, site_id, STORE_ALL_ARTICLES, from, to, bots,
                           false, add_fn, &b) != 0)
        return 0;
    if (a.n != b.n) {
        printf("  %zu articles per day, %zu summed (%u..%u)\n", a.n, b.n,
               from, to);
        return 0;
    }
    for (size_t i = 0; i < a.n; i++) {
        struct rollup_day *x = slot_of(&b, a.ids[i]);
        if (x == NULL || memcmp(x, &a.sums[i], sizeof *x) != 0) {
            printf("  article %016llx differs over %u..%u\n",
                   (unsigned long long)a.ids[i], from, to);
            return 0;
        }
    }
    return 1;
}

static uint32_t today(void)
{
    return (uint32_t)(store_now_us() / 86400000000ull);
}

TEST(summed_ranges_equal_daily_sums_after_settling)
{
    size_t events;
    CHECK_EQ_INT(demo_generate(st, site_id, "cum.test", 40, 7, &events), 0);
    CHECK(events > 1000);
    CHECK_EQ_INT(store_settle(st), 0);
    uint32_t t = today();
    CHECK(same_sums(t - 39, t, false));
    CHECK(same_sums(t - 39, t, true));
    CHECK(same_sums(t - 20, t - 10, false));      /* all final days */
    CHECK(same_sums(t - 5, t, false));            /* final and open */
    CHECK(same_sums(t - 1, t, false));            /* open days only */
    CHECK(same_sums(t - 39, t - 39, true));       /* one day */
}

TEST(a_late_write_to_a_final_day_is_seen_before_and_after_rebuild)
{
    uint32_t t = today();
    char body[512];
    struct event_batch *b = malloc(sizeof *b);
    char err[128];
    struct ipaddr addr;
    CHECK(b != NULL);
    CHECK_EQ_INT(ipaddr_parse("203.0.113.9", 11, &addr), 0);
    snprintf(body, sizeof body,
             "[{\"s\":\"cum.test\",\"t\":\"view\",\"v\":\"latewrite1\","
             "\"u\":\"/kb/reset-password\",\"w\":520},"
             "{\"s\":\"cum.test\",\"t\":\"engage\",\"v\":\"latewrite1\","
             "\"e\":42000,\"sd\":100}]");
    CHECK_EQ_INT(event_parse_json(body, strlen(body), b, err, sizeof err), 0);
    for (size_t i = 0; i < b->n; i++)
        b->ev[i].site_id = site_id;
    uint64_t when = (uint64_t)(t - 20) * 86400000000ull + 3600000000ull;
    CHECK_EQ_INT(store_enqueue_at(st, when, b->ev, b->n, &addr, "UA", 2,
                                  NULL, NULL), 0);
    free(b);
    CHECK_EQ_INT(store_drain(st, 10000), 0);
    /* dirty now or already rebuilt by the idle writer: both must agree */
    CHECK(same_sums(t - 39, t, false));
    CHECK(same_sums(t - 25, t - 15, false));
    CHECK_EQ_INT(store_settle(st), 0);
    CHECK(same_sums(t - 39, t, false));
    CHECK(same_sums(t - 20, t - 20, false));
}

int main(void)
{
    char err[256];
    snprintf(dir, sizeof dir, "/tmp/dwell-cum-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    struct store_options o = { .durability = STORE_NONE };
    bool created;
    if (store_open(dir, &o, &st, err, sizeof err) != 0 ||
        store_site_put(st, "cum.test", NULL, 0, &site_id, &created, err,
                       sizeof err) != 0 ||
        store_start_writer(st, err, sizeof err) != 0) {
        printf("setup: %s\n", err);
        return 1;
    }
    RUN(summed_ranges_equal_daily_sums_after_settling);
    RUN(a_late_write_to_a_final_day_is_seen_before_and_after_rebuild);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return check_summary();
}
