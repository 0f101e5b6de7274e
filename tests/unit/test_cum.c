/* test_cum.c — the cumulative rollups (store.c "cum" rows) give the same
 * sums as adding the daily rows, for final and open days, after late writes
 * to final days (dirty articles), with and without bots. Real LMDB. */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "rawlmdb.h"

#include "check.h"
#include "fixture.h"
#include "dwell/clientaddr.h"
#include "dwell/demo.h"
#include "dwell/event.h"
#include "dwell/rollup.h"
#include "dwell/store.h"

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

TEST(summed_ranges_equal_daily_sums_after_settling)
{
    size_t events;
    CHECK_EQ_INT(demo_generate(st, site_id, "cum.test", 40, 7, &events), 0);
    CHECK(events > 1000);
    CHECK_EQ_INT(store_settle(st), 0);
    uint32_t t = store_today();
    CHECK(same_sums(t - 39, t, false));
    CHECK(same_sums(t - 39, t, true));
    CHECK(same_sums(t - 20, t - 10, false));      /* all final days */
    CHECK(same_sums(t - 5, t, false));            /* final and open */
    CHECK(same_sums(t - 1, t, false));            /* open days only */
    CHECK(same_sums(t - 39, t - 39, true));       /* one day */
}

/* Every range over the demo of the test before, so that each boundary falls on each place in its stride of
 * cum rows: on a cum row, between two, before the first, after the last. */
TEST(summed_ranges_equal_daily_sums_for_every_range)
{
    uint32_t t = store_today();
    for (uint32_t from = t - 39; from <= t; from++)
        for (uint32_t to = from; to <= t; to++)
            for (int bots = 0; bots <= 1; bots++)
                if (!same_sums(from, to, bots)) {
                    CHECK(!"summed and daily sums differ");
                    return;
                }
}

TEST(a_late_write_to_a_final_day_is_seen_before_and_after_rebuild)
{
    uint32_t t = store_today();
    CHECK_EQ_INT(send_at(st, site_id, t - 20, 3600, "203.0.113.9", "UA", NULL,
        "[{\"s\":\"cum.test\",\"t\":\"view\",\"v\":\"latewrite1\","
        "\"u\":\"/kb/reset-password\",\"w\":520},"
        "{\"s\":\"cum.test\",\"t\":\"engage\",\"v\":\"latewrite1\","
        "\"e\":42000,\"sd\":100}]"), 0);
    CHECK_EQ_INT(store_drain(st, 10000), 0);
    /* dirty now or already rebuilt by the idle writer: both must agree */
    CHECK(same_sums(t - 39, t, false));
    CHECK(same_sums(t - 25, t - 15, false));
    CHECK_EQ_INT(store_settle(st), 0);
    CHECK(same_sums(t - 39, t, false));
    CHECK(same_sums(t - 20, t - 20, false));
}

/* --- settling in small steps ----------------------------------------------- */

static struct store *ms;               /* settled only when the test says */
static uint32_t ms_site;
static char ms_dir[128];

#define NRANGES 7
static const int range_days[NRANGES][3] = {   /* from, to (days before
                                                 today), bots */
    { 39, 0, 0 }, { 20, 10, 0 }, { 5, 0, 0 }, { 1, 0, 0 }, { 30, 2, 0 },
    { 39, 0, 1 }, { 20, 4, 0 },
};

/* Per-article sums of every range in RANGE_DAYS, the per-day way. */
static int per_day_sums(struct acc out[NRANGES])
{
    uint32_t t = store_today();
    for (int i = 0; i < NRANGES; i++)
        if (store_rollups_each(ms, ms_site, STORE_ALL_ARTICLES,
                               t - range_days[i][0], t - range_days[i][1],
                               range_days[i][2], true, add_fn, &out[i]) != 0)
            return -1;
    return 0;
}

/* Whether every way of summing agrees with TRUTH, except for a difference
 * of EXTRA views in one article over the ranges that hold day T - LATE. */
static int sums_hold(struct acc truth[NRANGES], int extra, int late)
{
    static struct rollup_day bufs[3][NRANGES][64];
    struct acc per_day[NRANGES], summed[NRANGES];
    uint32_t t = store_today();
    for (int i = 0; i < NRANGES; i++) {
        per_day[i] = (struct acc){ bufs[0][i], { 0 }, 0 };
        summed[i] = (struct acc){ bufs[1][i], { 0 }, 0 };
        if (store_rollups_each(ms, ms_site, STORE_ALL_ARTICLES,
                               t - range_days[i][0], t - range_days[i][1],
                               range_days[i][2], false, add_fn,
                               &summed[i]) != 0)
            return 0;
    }
    if (per_day_sums(per_day) != 0)
        return 0;
    for (int i = 0; i < NRANGES; i++) {
        /* the list's way: two ranges at once, by article id */
        struct store_range both[2] = {
            { t - range_days[i][0], t - range_days[i][1] },
            { t - range_days[i][0] - 7, t - range_days[i][0] - 1 } };
        struct rollup_day *two = bufs[2][0];
        size_t n = truth[i].n;
        if (n > 32 || store_rollup_sums(ms, ms_site, truth[i].ids, n, both, 2,
                                        range_days[i][2], two) != 0)
            return 0;
        bool holds_late = late >= range_days[i][1] &&
                          late <= range_days[i][0];
        int differing = 0;
        for (size_t j = 0; j < n; j++) {
            uint64_t id = truth[i].ids[j];
            const struct rollup_day *want = &truth[i].sums[j];
            const struct rollup_day *got[3] = { slot_of(&per_day[i], id),
                                                slot_of(&summed[i], id),
                                                &two[2 * j] };
            if (got[0] == NULL || got[1] == NULL)
                return 0;
            if (memcmp(got[0], want, sizeof *want) == 0 &&
                memcmp(got[1], want, sizeof *want) == 0 &&
                memcmp(got[2], want, sizeof *want) == 0)
                continue;
            differing++;
            for (int w = 0; w < 3; w++)
                if (!holds_late || extra == 0 ||
                    got[w]->views != want->views + (uint32_t)extra) {
                    printf("  range %d, article %016llx: way %d differs "
                           "(%u views, expected %u%s)\n", i,
                           (unsigned long long)id, w, got[w]->views,
                           want->views, holds_late ? " + late" : "");
                    return 0;
                }
        }
        if (differing != (holds_late && extra ? 1 : 0)) {
            printf("  range %d: %d articles differ\n", i, differing);
            return 0;
        }
    }
    return 1;
}

/* Sends one view of /kb/reset-password at noon DAYS_AGO days ago. */
static int late_view(struct store *s, uint32_t site, int days_ago,
                     const char *id)
{
    char body[256];
    snprintf(body, sizeof body,
             "[{\"s\":\"cum.steps\",\"t\":\"view\",\"v\":\"%s\","
             "\"u\":\"/kb/reset-password\"}]", id);
    if (send_at(s, site, store_today() - (uint32_t)days_ago, 43200,
                "203.0.113.7", "UA", NULL, body) != 0)
        return -1;
    return store_drain(s, 10000);
}

TEST(sums_hold_at_every_step_of_a_settling_pass_and_under_late_writes)
{
    static struct rollup_day tbuf[NRANGES][64];
    struct acc truth[NRANGES];
    size_t events;
    for (int i = 0; i < NRANGES; i++)
        truth[i] = (struct acc){ tbuf[i], { 0 }, 0 };
    /* nothing settled yet: every row is still a recent one */
    CHECK_EQ_INT(demo_generate(ms, ms_site, "cum.steps", 40, 11, &events), 0);
    CHECK(events > 1000);
    CHECK_EQ_INT(per_day_sums(truth), 0);
    CHECK(truth[0].n > 5 && truth[0].n <= 32);
    CHECK(sums_hold(truth, 0, -1));
    int steps = 0, rc, extra = 0;
    while ((rc = store_settle_step(ms, 1)) == 1) {
        steps++;
        if (steps == 3) {          /* mid-pass: a day the pass settles */
            CHECK_EQ_INT(late_view(ms, ms_site, 12, "steps-late-1"), 0);
            extra = 1;
        }
        if (steps % 7 == 0)
            CHECK(sums_hold(truth, extra, 12));
    }
    CHECK_EQ_INT(rc, 0);
    CHECK(steps > 20);             /* the pass really went in small steps */
    CHECK(sums_hold(truth, extra, 12));
    /* after the pass: a late write to a settled day, before and after its
     * article is rebuilt */
    CHECK_EQ_INT(late_view(ms, ms_site, 12, "steps-late-2"), 0);
    CHECK(sums_hold(truth, 2, 12));
    CHECK_EQ_INT(store_settle(ms), 0);
    CHECK(sums_hold(truth, 2, 12));
}

/* --- schema 1 ------------------------------------------------------------------- */

/* Turns the store in PATH back into schema 1 with LMDB's own API: every
 * recent row back in "daily", no "recent" or "heads" database. */
static int downgrade_to_v1(const char *path)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi recent, daily, heads, meta;
    MDB_cursor *cur;
    MDB_val k, v;
    if (raw_begin(path, 0, &env, &txn) != 0)
        return -1;
    int rc = mdb_dbi_open(txn, "recent", 0, &recent);
    if (rc == 0) rc = mdb_dbi_open(txn, "daily", 0, &daily);
    if (rc == 0) rc = mdb_dbi_open(txn, "heads", 0, &heads);
    if (rc == 0) rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == 0) rc = mdb_cursor_open(txn, recent, &cur);
    int moved = 0;
    if (rc == 0) {
        int c = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        while (c == 0 && (rc = mdb_put(txn, daily, &k, &v, 0)) == 0) {
            moved++;
            c = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(cur);
    }
    uint8_t one[4] = { 0, 0, 0, 1 };
    MDB_val sk = { 6, "schema" }, sv = { 4, one };
    if (rc == 0) rc = mdb_drop(txn, recent, 1);
    if (rc == 0) rc = mdb_drop(txn, heads, 1);
    if (rc == 0) rc = mdb_put(txn, meta, &sk, &sv, 0);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 && moved > 0 ? 0 : -1;
}

TEST(a_schema_1_store_is_migrated_and_reports_the_same)
{
    static struct rollup_day tbuf[NRANGES][64];
    struct acc truth[NRANGES];
    char err[256];
    for (int i = 0; i < NRANGES; i++)
        truth[i] = (struct acc){ tbuf[i], { 0 }, 0 };
    CHECK_EQ_INT(per_day_sums(truth), 0);
    CHECK(truth[0].n > 5);
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(downgrade_to_v1(ms_dir), 0);
    /* a reading opening migrates through a writable one */
    struct store_options ro = { .readonly = true };
    CHECK_EQ_INT(store_open(ms_dir, &ro, &ms, err, sizeof err), 0);
    CHECK(sums_hold(truth, 0, -1));
    store_close(ms);
    struct store_options rw = { .durability = STORE_NONE,
                                .manual_settle = true };
    CHECK_EQ_INT(store_open(ms_dir, &rw, &ms, err, sizeof err), 0);
    CHECK(sums_hold(truth, 0, -1));
    /* and it takes new events where they belong */
    CHECK_EQ_INT(store_start_writer(ms, err, sizeof err), 0);
    CHECK_EQ_INT(late_view(ms, ms_site, 0, "after-migration"), 0);
    CHECK(sums_hold(truth, 1, 0));
}

/* --- schema 3: a cum row on every day ------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Turns the cum rows of the store in PATH back into schema 3's with LMDB's
 * own API: one on every day that has a daily row (the running sum through
 * it), schema SCHEMA and meta "thin" = THIN (THINLEN bytes; none when
 * NULL). Returns the cum rows written, or -1. */
static long densify(const char *path, uint32_t schema, const void *thin,
                    size_t thinlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi daily, cum, meta;
    MDB_cursor *cur;
    MDB_val k, v;
    static struct rollup_day sum[2];
    uint8_t prev[12] = { 0 }, buf[ROLLUP_RECORD_MAX];
    long n = 0;
    if (raw_begin(path, 0, &env, &txn) != 0)
        return -1;
    int rc = mdb_dbi_open(txn, "daily", 0, &daily);
    if (rc == 0) rc = mdb_dbi_open(txn, "cum", 0, &cum);
    if (rc == 0) rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == 0) rc = mdb_cursor_open(txn, daily, &cur);
    int c = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : rc;
    while (rc == 0 && c == 0) {
        const uint8_t *p = k.mv_data;
        int cls = p[16];
        if (cls > 1) {                   /* schema 6's cum rows: not here */
            rc = mdb_cursor_del(cur, 0);
            c = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT) : rc;
            continue;
        }
        if (memcmp(prev, p, 12) != 0)
            memset(sum, 0, sizeof sum);
        memcpy(prev, p, 12);
        if (be64(p + 4) != 0 && cls <= 1) {     /* the site row: no cum */
            int len = -1;
            if (rollup_decode_add(v.mv_data, v.mv_size, &sum[cls]) == 0)
                len = rollup_encode(&sum[cls], buf, sizeof buf);
            if (len < 0)
                rc = -1;
            MDB_val cv = { (size_t)len, buf };
            if (rc == 0 && (rc = mdb_put(txn, cum, &k, &cv, 0)) == 0)
                n++;
        }
        c = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    uint8_t ver[4] = { 0, 0, 0, (uint8_t)schema };
    MDB_val sk = { 6, "schema" }, sv = { 4, ver };
    MDB_val tk = { 4, "thin" }, tv = { thinlen, (void *)thin };
    if (rc == 0) rc = mdb_put(txn, meta, &sk, &sv, 0);
    if (rc == 0 && thin) rc = mdb_put(txn, meta, &tk, &tv, 0);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 ? n : -1;
}

/* Counts, in the store in PATH, the cum rows that share their 7-day stride
 * with a later row of the same article and class: of articles below SPLIT
 * into *BELOW, of the others into *ABOVE; and all rows into *ROWS. */
static int stride_twins(const char *path, uint64_t split, long *below,
                        long *above, long *rows)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    *below = *above = *rows = 0;
    if (raw_begin(path, 0, &env, &txn) != 0)
        return -1;
    int rc = 0;
    for (int d = 0; d < 2 && rc == 0; d++) {     /* "cum", then "daily" */
        MDB_dbi dbi;
        uint8_t last[2][16];
        int have[2] = { 0, 0 };
        rc = mdb_dbi_open(txn, d ? "daily" : "cum", 0, &dbi);
        if (rc == 0) rc = mdb_cursor_open(txn, dbi, &cur);
        int c = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : rc;
        for (; rc == 0 && c == 0; c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            const uint8_t *p = k.mv_data;
            int cls = p[16] & 1;
            if (d == 1 && p[16] < 2)
                continue;                        /* a daily row */
            (*rows)++;
            if (have[cls] && memcmp(last[cls], p, 12) == 0 &&
                be32(last[cls] + 12) / 7 == be32(p + 12) / 7)
                (*(be64(p + 4) < split ? below : above))++;
            memcpy(last[cls], p, 16);
            have[cls] = 1;
        }
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 ? 0 : -1;
}

TEST(a_schema_3_store_is_thinned_even_when_cut_and_reports_the_same)
{
    static struct rollup_day tbuf[NRANGES][64];
    struct acc truth[NRANGES];
    char err[256];
    long below, above, rows, thin_rows;
    for (int i = 0; i < NRANGES; i++)
        truth[i] = (struct acc){ tbuf[i], { 0 }, 0 };
    CHECK_EQ_INT(store_settle(ms), 0);
    CHECK_EQ_INT(per_day_sums(truth), 0);
    CHECK(truth[0].n > 5);
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(stride_twins(ms_dir, 0, &below, &above, &thin_rows), 0);
    CHECK_EQ_INT(above, 0);                 /* schema 4 as written */
    /* a migration cut after the articles below SPLIT: the rest resumes */
    uint64_t split = (uint64_t)1 << 63;
    uint8_t at[12] = { 0 };
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(ms_site >> (24 - 8 * i));
    at[4] = 0x80;
    long dense = densify(ms_dir, 4, at, sizeof at);
    CHECK(dense > 3 * thin_rows);
    struct store_options rw = { .durability = STORE_NONE,
                                .manual_settle = true };
    CHECK_EQ_INT(store_open(ms_dir, &rw, &ms, err, sizeof err), 0);
    CHECK(sums_hold(truth, 0, -1));          /* either layout reads right */
    store_close(ms);
    ms = NULL;
    /* schema 6 drops the cum rows of "cum", thinned or not, and rebuilds
     * them in "daily" as it settles (not yet: settling is manual here) */
    CHECK_EQ_INT(stride_twins(ms_dir, split, &below, &above, &rows), 0);
    CHECK_EQ_INT(rows, 0);
    /* a whole migration from schema 3 */
    CHECK(densify(ms_dir, 3, NULL, 0) == dense);
    struct store_options ro = { .readonly = true };
    CHECK_EQ_INT(store_open(ms_dir, &ro, &ms, err, sizeof err), 0);
    CHECK(sums_hold(truth, 0, -1));
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(store_open(ms_dir, &rw, &ms, err, sizeof err), 0);
    CHECK_EQ_INT(store_settle(ms), 0);
    CHECK(sums_hold(truth, 0, -1));
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(stride_twins(ms_dir, split, &below, &above, &rows), 0);
    CHECK_EQ_INT(below + above, 0);
    CHECK(rows == thin_rows);                /* as settling writes them */
    CHECK_EQ_INT(store_open(ms_dir, &rw, &ms, err, sizeof err), 0);
    CHECK_EQ_INT(store_start_writer(ms, err, sizeof err), 0);
    CHECK_EQ_INT(late_view(ms, ms_site, 12, "after-thinning"), 0);
    CHECK(sums_hold(truth, 1, 12));
    CHECK_EQ_INT(store_settle(ms), 0);
    CHECK(sums_hold(truth, 1, 12));
}

/* Writes meta value NAME = LEN bytes of VAL into the store in PATH with
 * LMDB's own API. Returns 0 or -1. */
static int raw_meta_put(const char *path, const char *name, const void *val,
                        size_t len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    if (raw_begin(path, 0, &env, &txn) != 0)
        return -1;
    MDB_val k = { strlen(name), (void *)name }, v = { len, (void *)val };
    int rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == 0) rc = mdb_put(txn, meta, &k, &v, 0);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 ? 0 : -1;
}

TEST(a_malformed_settled_day_is_an_error_not_a_wrong_report)
{
    static struct rollup_day tbuf[NRANGES][64];
    struct acc got[NRANGES];
    char err[256];
    for (int i = 0; i < NRANGES; i++)
        got[i] = (struct acc){ tbuf[i], { 0 }, 0 };
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(raw_meta_put(ms_dir, "final", "\0\1\2", 3), 0);
    struct store_options ro = { .readonly = true };
    CHECK_EQ_INT(store_open(ms_dir, &ro, &ms, err, sizeof err), 0);
    CHECK_EQ_INT(per_day_sums(got), -1);      /* reads refuse */
    uint64_t id = 0;
    struct rollup_day sum;
    struct store_range r = { store_today() - 30, store_today() };
    CHECK_EQ_INT(store_rollup_sums(ms, ms_site, &id, 1, &r, 1, false, &sum),
                 -1);
    store_close(ms);
    /* and the writer stores nothing rather than guess where rows belong */
    struct store_options rw = { .durability = STORE_NONE,
                                .manual_settle = true };
    CHECK_EQ_INT(store_open(ms_dir, &rw, &ms, err, sizeof err), 0);
    CHECK_EQ_INT(store_start_writer(ms, err, sizeof err), 0);
    late_view(ms, ms_site, 0, "after-corruption");
    struct store_stats s;
    store_get_stats(ms, &s);
    CHECK(s.write_errors > 0);
    CHECK_EQ_INT(s.events_stored, 0);
}

/* Schema 5 kept the cum rows in "cum": the migration drops them and marks
 * every article dirty; reports read the daily rows meanwhile, and the
 * settling passes write the same rows into "daily". */
TEST(a_schema_5_store_gets_its_cum_rows_rebuilt_in_daily_and_reports_the_same)
{
    static struct rollup_day tbuf[NRANGES][64];
    struct acc truth[NRANGES];
    char err[256];
    long below, above, rows, rows6;
    struct store_options rw = { .durability = STORE_NONE,
                                .manual_settle = true };
    for (int i = 0; i < NRANGES; i++)
        truth[i] = (struct acc){ tbuf[i], { 0 }, 0 };
    if (ms == NULL && store_open(ms_dir, &rw, &ms, err, sizeof err) != 0) {
        CHECK(!"the store opens");
        return;
    }
    CHECK_EQ_INT(store_settle(ms), 0);
    CHECK_EQ_INT(per_day_sums(truth), 0);
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(stride_twins(ms_dir, 0, &below, &above, &rows6), 0);
    CHECK(rows6 > 0);
    CHECK(densify(ms_dir, 5, NULL, 0) > rows6);       /* all in "cum" */
    if (store_open(ms_dir, &rw, &ms, err, sizeof err) != 0) {
        CHECK(!"the store opens");
        return;
    }
    CHECK(sums_hold(truth, 0, -1));                     /* all dirty */
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(stride_twins(ms_dir, 0, &below, &above, &rows), 0);
    CHECK_EQ_INT(rows, 0);
    if (store_open(ms_dir, &rw, &ms, err, sizeof err) != 0) {
        CHECK(!"the store opens");
        return;
    }
    CHECK_EQ_INT(store_settle(ms), 0);
    CHECK(sums_hold(truth, 0, -1));                     /* rebuilt */
    store_close(ms);
    ms = NULL;
    CHECK_EQ_INT(stride_twins(ms_dir, 0, &below, &above, &rows), 0);
    CHECK(rows == rows6 && below + above == 0);
    if (store_open(ms_dir, &rw, &ms, err, sizeof err) != 0) {
        CHECK(!"the store opens");
        return;
    }
}

int main(void)
{
    if (fixture_begin("cum") != 0)
        return 1;
    st = open_writing("cum", STORE_NONE, false);
    if (st == NULL || (site_id = add_site(st, "cum.test")) == 0)
        return 1;
    RUN(summed_ranges_equal_daily_sums_after_settling);
    RUN(summed_ranges_equal_daily_sums_for_every_range);
    RUN(a_late_write_to_a_final_day_is_seen_before_and_after_rebuild);
    store_close(st);
    data_dir(ms_dir, sizeof ms_dir, "steps");
    ms = open_writing("steps", STORE_NONE, true);
    if (ms == NULL || (ms_site = add_site(ms, "cum.steps")) == 0)
        return 1;
    RUN(sums_hold_at_every_step_of_a_settling_pass_and_under_late_writes);
    RUN(a_schema_1_store_is_migrated_and_reports_the_same);
    RUN(a_schema_3_store_is_thinned_even_when_cut_and_reports_the_same);
    RUN(a_schema_5_store_gets_its_cum_rows_rebuilt_in_daily_and_reports_the_same);
    RUN(a_malformed_settled_day_is_an_error_not_a_wrong_report);
    store_close(ms);
    int rc = check_summary();
    fixture_end();
    return rc;
}
