/* test_rollup.c — engaged-time and scroll buckets, moving a view between
 * buckets, the compact record, and quantiles from summed histograms. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "dwell/rollup.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define LAST_BUCKET (ROLLUP_HIST_BUCKETS - 1)

/* --- engaged-time buckets -------------------------------------------------- */

TEST(bucket_boundaries_of_engaged_time)
{
    CHECK_EQ_INT(rollup_bucket_of_ms(0), 0);
    CHECK_EQ_INT(rollup_bucket_of_ms(999), 0);
    CHECK_EQ_INT(rollup_bucket_of_ms(1000), 1);
    CHECK_EQ_INT(rollup_bucket_of_ms(59999), 59);
    CHECK_EQ_INT(rollup_bucket_of_ms(60000), 60);
    CHECK_EQ_INT(rollup_bucket_of_ms(64999), 60);
    CHECK_EQ_INT(rollup_bucket_of_ms(65000), 61);
    CHECK_EQ_INT(rollup_bucket_of_ms(299999), 107);
    CHECK_EQ_INT(rollup_bucket_of_ms(300000), 108);
    CHECK_EQ_INT(rollup_bucket_of_ms(3599999), 217);
    CHECK_EQ_INT(rollup_bucket_of_ms(3600000), 218);
    CHECK_EQ_INT(rollup_bucket_of_ms(86400000), 218);
    CHECK_EQ_INT(rollup_bucket_of_ms(UINT64_MAX), 218);
    CHECK_EQ_INT(ROLLUP_HIST_BUCKETS, 219);
}

TEST(bucket_bounds_agree_with_bucket_of_ms_for_every_bucket)
{
    CHECK_EQ_INT(rollup_bucket_lower_ms(0), 0);
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++) {
        uint32_t lo = rollup_bucket_lower_ms(b), hi = rollup_bucket_upper_ms(b);
        if (!(lo < hi) || rollup_bucket_of_ms(lo) != b)
            printf("  bucket %d: [%u, %u), bucket_of(lo) = %d\n", b, lo, hi,
                   rollup_bucket_of_ms(lo));
        CHECK(lo < hi);
        CHECK_EQ_INT(rollup_bucket_of_ms(lo), b);
        if (b < LAST_BUCKET) {
            CHECK_EQ_INT(rollup_bucket_of_ms(hi - 1), b);
            CHECK_EQ_INT(rollup_bucket_of_ms(hi), b + 1);
            CHECK_EQ_INT(hi, rollup_bucket_lower_ms(b + 1));
        }
    }
    CHECK_EQ_INT(rollup_bucket_lower_ms(LAST_BUCKET), 3600000);
    CHECK_EQ_INT(rollup_bucket_upper_ms(LAST_BUCKET), 7200000);
}

TEST(bucket_widths_are_1s_then_5s_then_30s)
{
    for (int b = 0; b < LAST_BUCKET; b++) {
        uint32_t w = rollup_bucket_upper_ms(b) - rollup_bucket_lower_ms(b);
        uint32_t want = b < 60 ? 1000 : b < 108 ? 5000 : 30000;
        if (w != want)
            printf("  bucket %d is %u ms wide\n", b, w);
        CHECK_EQ_INT(w, want);
    }
}

TEST(every_millisecond_to_one_hour_lies_inside_its_bucket)
{
    for (uint32_t ms = 0; ms <= 3600000; ms += 7) {
        int b = rollup_bucket_of_ms(ms);
        CHECK(b >= 0 && b < ROLLUP_HIST_BUCKETS);
        CHECK(rollup_bucket_lower_ms(b) <= ms);
        CHECK(ms < rollup_bucket_upper_ms(b));
    }
}

TEST(scroll_buckets)
{
    CHECK_EQ_INT(rollup_scroll_bucket(0), 0);
    CHECK_EQ_INT(rollup_scroll_bucket(9), 0);
    CHECK_EQ_INT(rollup_scroll_bucket(10), 1);
    CHECK_EQ_INT(rollup_scroll_bucket(55), 5);
    CHECK_EQ_INT(rollup_scroll_bucket(90), 9);
    CHECK_EQ_INT(rollup_scroll_bucket(99), 9);
    CHECK_EQ_INT(rollup_scroll_bucket(100), 10);
    CHECK_EQ_INT(rollup_scroll_bucket(255), ROLLUP_SCROLL_BUCKETS - 1);
}

/* --- moving a view ------------------------------------------------------- */

TEST(move_to_the_same_bucket_changes_nothing)
{
    uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
    hist[3] = 2;
    rollup_move(hist, 3, 3);
    CHECK_EQ_INT(hist[3], 2);
    rollup_move(hist, 7, 7);
    CHECK_EQ_INT(hist[7], 0);
}

TEST(move_takes_one_view_from_one_bucket_to_another)
{
    uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
    hist[0] = 3;
    rollup_move(hist, 0, 15);
    CHECK_EQ_INT(hist[0], 2);
    CHECK_EQ_INT(hist[15], 1);
    rollup_move(hist, 15, LAST_BUCKET);
    CHECK_EQ_INT(hist[15], 0);
    CHECK_EQ_INT(hist[LAST_BUCKET], 1);
}

TEST(move_never_takes_a_bucket_below_zero)
{
    uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
    rollup_move(hist, 4, 9);
    CHECK_EQ_INT(hist[4], 0);
    CHECK_EQ_INT(hist[9], 1);
    uint32_t scroll[ROLLUP_SCROLL_BUCKETS] = { 0 };
    rollup_move(scroll, 0, 10);
    CHECK_EQ_INT(scroll[0], 0);
    CHECK_EQ_INT(scroll[10], 1);
}

/* --- records ------------------------------------------------------------- */

/* A record with every counter and bucket non-zero and distinct. */
static void fill_full(struct rollup_day *d)
{
    memset(d, 0, sizeof *d);
    d->views = 1;
    d->visitors = 127;
    d->reads = 128;
    d->votes_up = 16384;
    d->votes_down = 2097152;
    d->searches = 268435456;
    d->links = UINT32_MAX;
    d->events = 42;
    d->engaged_ms = UINT64_C(123456789012345);
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        d->hist[b] = (uint32_t)(b * 977 + 1);
    for (int s = 0; s < ROLLUP_SCROLL_BUCKETS; s++)
        d->scroll[s] = (uint32_t)(s * 100003 + 5);
}

static bool same_day(const struct rollup_day *a, const struct rollup_day *b)
{
    if (a->views != b->views || a->visitors != b->visitors ||
        a->reads != b->reads || a->votes_up != b->votes_up ||
        a->votes_down != b->votes_down || a->searches != b->searches ||
        a->links != b->links || a->events != b->events ||
        a->engaged_ms != b->engaged_ms) {
        printf("  counters differ\n");
        return false;
    }
    for (int i = 0; i < ROLLUP_HIST_BUCKETS; i++)
        if (a->hist[i] != b->hist[i]) {
            printf("  hist[%d]: %u != %u\n", i, a->hist[i], b->hist[i]);
            return false;
        }
    for (int i = 0; i < ROLLUP_SCROLL_BUCKETS; i++)
        if (a->scroll[i] != b->scroll[i]) {
            printf("  scroll[%d]: %u != %u\n", i, a->scroll[i], b->scroll[i]);
            return false;
        }
    return true;
}

TEST(full_record_round_trips)
{
    struct rollup_day d, back;
    uint8_t buf[ROLLUP_RECORD_MAX];
    fill_full(&d);
    int len = rollup_encode(&d, buf, sizeof buf);
    CHECK(len > 1);
    memset(&back, 0xee, sizeof back);
    CHECK_EQ_INT(rollup_decode(buf, (size_t)len, &back), 0);
    CHECK(same_day(&d, &back));
}

TEST(largest_record_fits_the_record_max)
{
    struct rollup_day d, back;
    uint8_t buf[ROLLUP_RECORD_MAX];
    memset(&d, 0xff, sizeof d);           /* every value at its maximum */
    int len = rollup_encode(&d, buf, sizeof buf);
    CHECK(len > 0);
    CHECK(len <= ROLLUP_RECORD_MAX);
    CHECK_EQ_INT(rollup_decode(buf, (size_t)len, &back), 0);
    CHECK(same_day(&d, &back));
}

TEST(empty_record_encodes_to_one_byte_and_round_trips)
{
    struct rollup_day d, back;
    uint8_t buf[ROLLUP_RECORD_MAX];
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(rollup_encode(&d, buf, sizeof buf), 1);
    memset(&back, 0xee, sizeof back);
    CHECK_EQ_INT(rollup_decode(buf, 1, &back), 0);
    CHECK(same_day(&d, &back));
    uint8_t one[1];
    CHECK_EQ_INT(rollup_encode(&d, one, sizeof one), 1);
}

TEST(sparse_record_takes_little_space)
{
    struct rollup_day d;
    uint8_t buf[ROLLUP_RECORD_MAX];
    memset(&d, 0, sizeof d);
    d.views = 1;
    d.hist[0] = 1;
    d.scroll[0] = 1;
    /* version + three (index, value) pairs: index 237 takes two bytes */
    CHECK_EQ_INT(rollup_encode(&d, buf, sizeof buf), 1 + 2 + 2 + 3);
}

/* The stored bytes are a format: data dirs written by any earlier binary
 * hold them. Slot order, varint index then varint value, zeros left out. */
TEST(record_bytes_are_the_stored_format)
{
    struct rollup_day d;
    uint8_t buf[ROLLUP_RECORD_MAX];
    memset(&d, 0, sizeof d);
    d.views = 1;
    d.events = 300;
    d.engaged_ms = 200;
    d.hist[3] = 2;
    d.scroll[10] = 1;
    static const uint8_t want[] = {
        1,                      /* record version */
        0, 1,                   /* views */
        7, 0xac, 0x02,          /* events 300 */
        8, 0xc8, 0x01,          /* engaged_ms 200 */
        12, 2,                  /* hist[3]: slot 9 + 3 */
        0xee, 0x01, 1,          /* scroll[10]: slot 9 + 219 + 10 = 238 */
    };
    int len = rollup_encode(&d, buf, sizeof buf);
    CHECK_EQ_INT(len, (int)sizeof want);
    CHECK(memcmp(buf, want, sizeof want) == 0);
}

TEST(encode_into_a_too_small_buffer_fails)
{
    struct rollup_day d;
    uint8_t buf[ROLLUP_RECORD_MAX];
    fill_full(&d);
    int len = rollup_encode(&d, buf, sizeof buf);
    CHECK(len > 0);
    for (int cap = 0; cap < len; cap++) {
        uint8_t *small = malloc(cap ? (size_t)cap : 1);
        CHECK(small != NULL);
        int rc = rollup_encode(&d, small, (size_t)cap);
        free(small);
        CHECK_EQ_INT(rc, -1);
    }
}

TEST(damaged_record_is_rejected)
{
    struct rollup_day d;
    uint8_t buf[ROLLUP_RECORD_MAX];
    memset(&d, 0, sizeof d);
    d.views = 300;                        /* value varint of two bytes */
    int len = rollup_encode(&d, buf, sizeof buf);
    CHECK_EQ_INT(len, 4);
    CHECK_EQ_INT(rollup_decode(buf, 4, &d), 0);
    CHECK_EQ_INT(d.views, 300);

    CHECK_EQ_INT(rollup_decode(buf, 0, &d), -1);     /* nothing */
    CHECK_EQ_INT(rollup_decode(buf, 2, &d), -1);     /* index, no value */
    CHECK_EQ_INT(rollup_decode(buf, 3, &d), -1);     /* half a varint */

    uint8_t bad_version[] = { 2, 0, 1 };
    CHECK_EQ_INT(rollup_decode(bad_version, sizeof bad_version, &d), -1);
    uint8_t zero_version[] = { 0 };
    CHECK_EQ_INT(rollup_decode(zero_version, 1, &d), -1);

    /* slot 239 is one past the last (8 counters, engaged, 219 + 11) */
    uint8_t bad_index[] = { 1, 0xef, 0x01, 5 };
    CHECK_EQ_INT(rollup_decode(bad_index, sizeof bad_index, &d), -1);
    uint8_t last_index[] = { 1, 0xee, 0x01, 5 };
    CHECK_EQ_INT(rollup_decode(last_index, sizeof last_index, &d), 0);
    CHECK_EQ_INT(d.scroll[ROLLUP_SCROLL_BUCKETS - 1], 5);

    /* a varint that never ends */
    uint8_t endless[16];
    endless[0] = 1;
    memset(endless + 1, 0x80, sizeof endless - 1);
    CHECK_EQ_INT(rollup_decode(endless, sizeof endless, &d), -1);
}

TEST(every_truncation_of_a_full_record_decodes_or_fails_without_overread)
{
    /* A cut between two pairs is a valid shorter record; any other cut
     * must fail. Each prefix is copied to a buffer of its own size so that
     * ASan sees any read past it. */
    struct rollup_day d, back;
    uint8_t buf[ROLLUP_RECORD_MAX];
    fill_full(&d);
    int len = rollup_encode(&d, buf, sizeof buf);
    CHECK(len > 0);
    int ok = 0;
    for (int cut = 0; cut < len; cut++) {
        uint8_t *part = malloc(cut ? (size_t)cut : 1);
        CHECK(part != NULL);
        memcpy(part, buf, (size_t)cut);
        if (rollup_decode(part, (size_t)cut, &back) == 0)
            ok++;
        free(part);
    }
    /* 1 (version only) + one per complete pair before the last */
    CHECK_EQ_INT(ok, 8 + 1 + ROLLUP_HIST_BUCKETS + ROLLUP_SCROLL_BUCKETS);
}

TEST(add_sums_every_counter_and_bucket)
{
    struct rollup_day a, b, sum;
    fill_full(&a);
    memset(&b, 0, sizeof b);
    b.views = 2;
    b.visitors = 3;
    b.reads = 4;
    b.votes_up = 5;
    b.votes_down = 6;
    b.searches = 7;
    b.links = 0;
    b.events = 8;
    b.engaged_ms = UINT64_C(5000000000);
    b.hist[0] = 10;
    b.hist[LAST_BUCKET] = 11;
    b.scroll[10] = 12;
    sum = a;
    rollup_add(&sum, &b);
    CHECK_EQ_INT(sum.views, a.views + 2);
    CHECK_EQ_INT(sum.visitors, a.visitors + 3);
    CHECK_EQ_INT(sum.reads, a.reads + 4);
    CHECK_EQ_INT(sum.votes_up, a.votes_up + 5);
    CHECK_EQ_INT(sum.votes_down, a.votes_down + 6);
    CHECK_EQ_INT(sum.searches, a.searches + 7);
    CHECK_EQ_INT(sum.links, a.links);
    CHECK_EQ_INT(sum.events, a.events + 8);
    CHECK(sum.engaged_ms == a.engaged_ms + UINT64_C(5000000000));
    CHECK_EQ_INT(sum.hist[0], a.hist[0] + 10);
    CHECK_EQ_INT(sum.hist[1], a.hist[1]);
    CHECK_EQ_INT(sum.hist[LAST_BUCKET], a.hist[LAST_BUCKET] + 11);
    CHECK_EQ_INT(sum.scroll[10], a.scroll[10] + 12);
    CHECK_EQ_INT(sum.scroll[0], a.scroll[0]);

    struct rollup_day zero;
    memset(&zero, 0, sizeof zero);
    rollup_add(&zero, &a);
    CHECK(same_day(&zero, &a));
}

/* --- quantiles ------------------------------------------------------------ */

TEST(empty_histogram_has_quantile_zero)
{
    uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
    CHECK(rollup_quantile_ms(hist, 0.5) == 0);
    CHECK(rollup_quantile_ms(hist, 0.9) == 0);
}

TEST(all_mass_in_one_second_bucket_gives_a_median_inside_it)
{
    uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
    hist[12] = 40;                                  /* 12 s to 13 s */
    double m = rollup_quantile_ms(hist, 0.5);
    CHECK(m >= 12000 && m <= 13000);
    double p90 = rollup_quantile_ms(hist, 0.9);
    CHECK(p90 >= m && p90 <= 13000);
    hist[12] = 1;                                   /* a single view */
    m = rollup_quantile_ms(hist, 0.5);
    CHECK(m >= 12000 && m <= 13000);
}

TEST(quantile_of_views_spread_over_buckets_0_to_99_is_within_5_percent)
{
    /* One view at the middle of each of buckets 0..99 (0.5 s … 257.5 s). */
    uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
    double values[100];
    for (int b = 0; b < 100; b++) {
        hist[b] = 1;
        values[b] = (rollup_bucket_lower_ms(b) + rollup_bucket_upper_ms(b)) /
                    2.0;
    }
    double truth = values[49];                      /* the 50th of 100 */
    double p50 = rollup_quantile_ms(hist, 0.5);
    if (fabs(p50 - truth) > 0.05 * truth)
        printf("  p50 %.0f, true %.0f\n", p50, truth);
    CHECK(fabs(p50 - truth) <= 0.05 * truth);
    double p90 = rollup_quantile_ms(hist, 0.9);     /* the 90th of 100 */
    CHECK(fabs(p90 - values[89]) <= 0.05 * values[89]);
}

/* A deterministic generator (xorshift64*), so runs are reproducible. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * UINT64_C(2685821657736338717);
    return (double)(r >> 11) / 9007199254740992.0;    /* [0, 1) */
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

enum shape { UNIFORM_2MIN, EXPONENTIAL_30S, QUICK_EXITS_AND_READS,
             LOG_UNIFORM_TO_50MIN, SHAPES };
static const char *const shape_names[SHAPES] = {
    "uniform 0-2 min", "exponential mean 30 s",
    "quick exits and long reads", "log-uniform 0.1 s-50 min"
};

/* One engaged time in ms, below one hour, drawn from SHAPE. */
static uint32_t draw(enum shape s)
{
    double u = uniform01(), ms = 0;
    switch (s) {
    case UNIFORM_2MIN:
        ms = u * 120000.0;
        break;
    case EXPONENTIAL_30S:
        ms = -30000.0 * log(1.0 - u);
        break;
    case QUICK_EXITS_AND_READS:
        ms = u < 0.4 ? uniform01() * 5000.0
                     : 120000.0 + uniform01() * 480000.0;
        break;
    default:
        ms = 100.0 * pow(30000.0, u);
        break;
    }
    if (ms > 3599999.0)
        ms = 3599999.0;
    return (uint32_t)ms;
}

TEST(quantile_error_stays_within_the_bucket_width)
{
    enum { N = 5000 };
    static uint32_t values[N];
    const double qs[] = { 0.5, 0.75, 0.9 };
    for (int s = 0; s < SHAPES; s++) {
        uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
        for (int i = 0; i < N; i++) {
            values[i] = draw((enum shape)s);
            hist[rollup_bucket_of_ms(values[i])]++;
        }
        qsort(values, N, sizeof values[0], cmp_u32);
        for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
            /* the exact q-quantile: the ceil(q N)-th smallest value */
            size_t rank = (size_t)ceil(qs[k] * N);
            uint32_t exact = values[rank - 1];
            int b = rollup_bucket_of_ms(exact);
            double width = rollup_bucket_upper_ms(b) -
                           rollup_bucket_lower_ms(b);
            double est = rollup_quantile_ms(hist, qs[k]);
            printf("# %s: p%02.0f exact %u ms, estimate %.0f ms "
                   "(%.1f %%, bucket %.0f ms)\n", shape_names[s],
                   qs[k] * 100, exact, est,
                   exact ? 100.0 * (est - exact) / exact : 0.0, width);
            CHECK(fabs(est - exact) <= width);
        }
    }
}

TEST(quantile_of_summed_histograms_equals_quantile_of_all_views)
{
    /* Reports sum days: the quantile of the sum is the quantile of the
     * union of the views. */
    struct rollup_day d1, d2, all;
    memset(&d1, 0, sizeof d1);
    memset(&d2, 0, sizeof d2);
    memset(&all, 0, sizeof all);
    for (int i = 0; i < 300; i++) {
        uint32_t v = draw(EXPONENTIAL_30S);
        struct rollup_day *d = i % 3 ? &d1 : &d2;
        d->hist[rollup_bucket_of_ms(v)]++;
        all.hist[rollup_bucket_of_ms(v)]++;
    }
    struct rollup_day sum = d1;
    rollup_add(&sum, &d2);
    CHECK(rollup_quantile_ms(sum.hist, 0.5) ==
          rollup_quantile_ms(all.hist, 0.5));
    CHECK(rollup_quantile_ms(sum.hist, 0.9) ==
          rollup_quantile_ms(all.hist, 0.9));
}

TEST(quantiles_do_not_decrease_with_q)
{
    uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
    for (int i = 0; i < 1000; i++)
        hist[rollup_bucket_of_ms(draw(QUICK_EXITS_AND_READS))]++;
    double prev = 0;
    for (int k = 1; k < 100; k++) {
        double v = rollup_quantile_ms(hist, k / 100.0);
        CHECK(v >= prev);
        prev = v;
    }
}

/* The Q-quantile by its definition: in the first bucket whose running
 * count of views, as a double, reaches Q times all views, interpolated. */
static double quantile_by_definition(const uint32_t *hist, double q)
{
    double total = 0, below = 0;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        total += hist[b];
    for (int b = 0; b < ROLLUP_HIST_BUCKETS && total > 0; b++) {
        if (hist[b] == 0 || below + hist[b] < q * total) {
            below += hist[b];
            continue;
        }
        double lo = rollup_bucket_lower_ms(b), hi = rollup_bucket_upper_ms(b);
        return lo + (q * total - below) / hist[b] * (hi - lo);
    }
    return total > 0 ? rollup_bucket_lower_ms(ROLLUP_HIST_BUCKETS - 1) : 0;
}

/* Small totals put Q * views exactly on a running count (4 views, the
 * median at 2) as often as between two: both must land in the bucket the
 * definition names, with the same value to the last bit. */
TEST(quantiles_land_in_the_bucket_the_definition_names_even_on_exact_ranks)
{
    const double q[] = { 0.25, 0.5, 0.75, 0.9, 0.99 };
    srand(7);
    for (int round = 0; round < 2000; round++) {
        uint32_t hist[ROLLUP_HIST_BUCKETS] = { 0 };
        int spread = 1 + rand() % ROLLUP_HIST_BUCKETS, n = rand() % 41;
        for (int i = 0; i < n; i++)
            hist[rand() % spread] += round % 2 ? 1 : (uint32_t)(rand() % 1000);
        double all[5];
        rollup_quantiles_ms(hist, q, 5, all);
        for (int k = 0; k < 5; k++) {
            double want = quantile_by_definition(hist, q[k]);
            if (rollup_quantile_ms(hist, q[k]) != want || all[k] != want) {
                CHECK(!"a quantile differs from its definition");
                return;
            }
        }
    }
}

int main(void)
{
    RUN(bucket_boundaries_of_engaged_time);
    RUN(bucket_bounds_agree_with_bucket_of_ms_for_every_bucket);
    RUN(bucket_widths_are_1s_then_5s_then_30s);
    RUN(every_millisecond_to_one_hour_lies_inside_its_bucket);
    RUN(scroll_buckets);
    RUN(move_to_the_same_bucket_changes_nothing);
    RUN(move_takes_one_view_from_one_bucket_to_another);
    RUN(move_never_takes_a_bucket_below_zero);
    RUN(full_record_round_trips);
    RUN(largest_record_fits_the_record_max);
    RUN(empty_record_encodes_to_one_byte_and_round_trips);
    RUN(sparse_record_takes_little_space);
    RUN(record_bytes_are_the_stored_format);
    RUN(encode_into_a_too_small_buffer_fails);
    RUN(damaged_record_is_rejected);
    RUN(every_truncation_of_a_full_record_decodes_or_fails_without_overread);
    RUN(add_sums_every_counter_and_bucket);
    RUN(empty_histogram_has_quantile_zero);
    RUN(all_mass_in_one_second_bucket_gives_a_median_inside_it);
    RUN(quantile_of_views_spread_over_buckets_0_to_99_is_within_5_percent);
    RUN(quantile_error_stays_within_the_bucket_width);
    RUN(quantile_of_summed_histograms_equals_quantile_of_all_views);
    RUN(quantiles_do_not_decrease_with_q);
    RUN(quantiles_land_in_the_bucket_the_definition_names_even_on_exact_ranks);
    return check_summary();
}
