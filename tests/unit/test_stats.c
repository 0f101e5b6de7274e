/* test_stats.c — normal quantile, Wilson and Fisher intervals, Pearson's r,
 * weekday prewhitening, lagged cross-correlation and the median.
 * Reference values were computed independently with Python 3's
 * statistics.NormalDist and statistics.correlation and the math module,
 * and by hand where shown. */
#include "check.h"
#include "dwell/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

/* Deterministic pseudo-random numbers in [0, 1): xorshift64*. */
static double noise_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * UINT64_C(2685821657736338717)) >> 11) /
           9007199254740992.0; /* 2^53 */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- stats_z ---------------------------------------------------------- */

TEST(z_matches_python_inv_cdf_for_common_confidences)
{
    /* python3: NormalDist().inv_cdf(1 - (1 - c) / 2) */
    CHECK(NEAR(stats_z(0.95), 1.959963984540, 1e-9));
    CHECK(NEAR(stats_z(0.99), 2.575829303549, 1e-9));
    /* Bonferroni over 15 lags: 1 - 0.05/15. */
    CHECK(NEAR(stats_z(1.0 - 0.05 / 15.0), 2.935199468867, 1e-9));
    CHECK(NEAR(stats_z(0.5), 0.674489750196, 1e-9));
    CHECK(NEAR(stats_z(0.8), 1.281551565545, 1e-9));
    CHECK(NEAR(stats_z(0.999999), 4.891638475671, 1e-9));
    CHECK(NEAR(stats_z(1e-6), 0.000001253314, 1e-12));
}

TEST(z_inverts_the_normal_tail_across_the_whole_range)
{
    /* Φ(-z) = 0.5·erfc(z/√2) must give back the tail (1 - c)/2, in both
     * of the approximation's regions (the tail switch is at p = 0.02425,
     * i.e. c = 0.9515). */
    for (int i = 1; i < 1000; i++) {
        double c = i / 1000.0;
        double tail = 0.5 * erfc(stats_z(c) / sqrt(2.0));
        CHECK(NEAR(tail, (1.0 - c) / 2.0, 1e-13 + 1e-12 * tail));
    }
    /* Far tails, to 1 - 1e-15 (c is rounded, so compare with ITS tail). */
    for (double a = 1e-3; a > 1e-16; a /= 10.0) {
        double c = 1.0 - a, want = (1.0 - c) / 2.0;
        double tail = 0.5 * erfc(stats_z(c) / sqrt(2.0));
        CHECK(fabs(tail - want) <= 1e-12 * want);
    }
}

TEST(z_increases_with_confidence)
{
    double prev = stats_z(0.001);
    for (int i = 2; i < 1000; i++) {
        double z = stats_z(i / 1000.0);
        CHECK(z > prev);
        prev = z;
    }
}

TEST(z_outside_the_open_unit_interval_is_nan)
{
    CHECK(isnan(stats_z(0.0)));
    CHECK(isnan(stats_z(1.0)));
    CHECK(isnan(stats_z(-0.5)));
    CHECK(isnan(stats_z(1.5)));
    CHECK(isnan(stats_z(NAN)));
}

/* ---- stats_wilson ----------------------------------------------------- */

/* z = 1.96 throughout, z² = 3.8416, z²/2 = 1.9208, z²/4 = 0.9604. */

TEST(wilson_0_of_10)
{
    /* center = 1.9208 / 13.8416 = 0.1387701
     * half   = 1.96·√(0 + 0.9604) / 13.8416 = 1.96·0.98 / 13.8416
     *        = 1.9208 / 13.8416 = center, so lo = 0, hi = 0.2775402.
     * python3: 0.0000000000 0.2775401688 */
    struct stats_interval ci;
    CHECK_EQ_INT(stats_wilson(0, 10, 1.96, &ci), 0);
    CHECK(ci.lo >= 0.0 && ci.lo <= 1e-15);
    CHECK(NEAR(ci.hi, 0.2775401688, 1e-9));
}

TEST(wilson_5_of_10)
{
    /* center = (5 + 1.9208) / 13.8416 = 0.5
     * half   = 1.96·√(25/10 + 0.9604) / 13.8416 = 1.96·1.8602150 / 13.8416
     *        = 0.2634104  →  [0.2365896, 0.7634104]
     * python3: 0.2365895936 0.7634104064 */
    struct stats_interval ci;
    CHECK_EQ_INT(stats_wilson(5, 10, 1.96, &ci), 0);
    CHECK(NEAR(ci.lo, 0.2365895936, 1e-9));
    CHECK(NEAR(ci.hi, 0.7634104064, 1e-9));
}

TEST(wilson_10_of_10)
{
    /* The mirror of 0 of 10: lo = 1 - 0.2775402 = 0.7224598, hi = 1.
     * python3: 0.7224598312 1.0000000000 */
    struct stats_interval ci;
    CHECK_EQ_INT(stats_wilson(10, 10, 1.96, &ci), 0);
    CHECK(NEAR(ci.lo, 0.7224598312, 1e-9));
    CHECK(ci.hi <= 1.0 && ci.hi >= 1.0 - 1e-15);
}

TEST(wilson_1_of_100)
{
    /* center = 2.9208 / 103.8416 = 0.0281274
     * half   = 1.96·√(99/100 + 0.9604) / 103.8416 = 1.96·1.3965672 / 103.8416
     *        = 0.0263601  →  [0.0017674, 0.0544875]
     * python3: 0.0017673866 0.0544875248 */
    struct stats_interval ci;
    CHECK_EQ_INT(stats_wilson(1, 100, 1.96, &ci), 0);
    CHECK(NEAR(ci.lo, 0.0017673866, 1e-9));
    CHECK(NEAR(ci.hi, 0.0544875248, 1e-9));
}

TEST(wilson_40_of_100)
{
    /* center = 41.9208 / 103.8416 = 0.4036992
     * half   = 1.96·√(2400/100 + 0.9604) / 103.8416 = 1.96·4.9960384
     *          / 103.8416 = 0.0942997  →  [0.3093997, 0.4979992]
     * python3: 0.3093997461 0.4979992154 */
    struct stats_interval ci;
    CHECK_EQ_INT(stats_wilson(40, 100, 1.96, &ci), 0);
    CHECK(NEAR(ci.lo, 0.3093997461, 1e-9));
    CHECK(NEAR(ci.hi, 0.4979992154, 1e-9));
}

TEST(wilson_stays_in_the_unit_interval_and_holds_the_proportion)
{
    for (uint64_t n = 1; n <= 60; n++) {
        for (uint64_t k = 0; k <= n; k++) {
            struct stats_interval ci;
            CHECK_EQ_INT(stats_wilson(k, n, 1.96, &ci), 0);
            double p = (double)k / (double)n;
            CHECK(ci.lo >= 0.0 && ci.hi <= 1.0);
            CHECK(ci.lo <= p + 1e-12 && p <= ci.hi + 1e-12);
        }
    }
}

TEST(wilson_rejects_no_trials_and_more_successes_than_trials)
{
    struct stats_interval ci = {-7.0, -7.0};
    CHECK_EQ_INT(stats_wilson(0, 0, 1.96, &ci), -1);
    CHECK_EQ_INT(stats_wilson(11, 10, 1.96, &ci), -1);
    CHECK_EQ_INT(stats_wilson(UINT64_MAX, 1, 1.96, &ci), -1);
    CHECK(ci.lo == -7.0 && ci.hi == -7.0); /* untouched */
}

/* ---- stats_pearson ---------------------------------------------------- */

TEST(pearson_of_a_small_exact_example)
{
    /* x = 1..5, y = 2,4,5,4,5: means 3 and 4;
     * dx = -2,-1,0,1,2; dy = -2,0,1,0,1;
     * Σdxdy = 4+0+0+0+2 = 6, Σdx² = 10, Σdy² = 6;
     * r = 6/√60 = 0.7745966692. python3 statistics.correlation agrees. */
    const double x[] = {1, 2, 3, 4, 5}, y[] = {2, 4, 5, 4, 5};
    CHECK(NEAR(stats_pearson(x, y, 5), 0.7745966692, 1e-10));
    CHECK(NEAR(stats_pearson(y, x, 5), 0.7745966692, 1e-10));
}

TEST(pearson_of_perfect_lines_is_exactly_plus_or_minus_one)
{
    const double x[] = {1, 2, 3, 4, 5}, up[] = {10, 12, 14, 16, 18},
                 down[] = {5, 4, 3, 2, 1};
    CHECK(stats_pearson(x, up, 5) == 1.0);
    CHECK(stats_pearson(x, down, 5) == -1.0);
}

TEST(pearson_is_unchanged_by_shifting_and_scaling)
{
    /* Same example as above with x → 1000 + 3x, y → -2y: r flips sign. */
    const double x[] = {1003, 1006, 1009, 1012, 1015},
                 y[] = {-4, -8, -10, -8, -10};
    CHECK(NEAR(stats_pearson(x, y, 5), -0.7745966692, 1e-10));
}

TEST(pearson_is_nan_for_fewer_than_3_pairs_or_a_constant_series)
{
    const double x[] = {1, 2, 3, 4}, c[] = {7, 7, 7, 7};
    CHECK(isnan(stats_pearson(x, x, 0)));
    CHECK(isnan(stats_pearson(x, x, 2)));
    CHECK(!isnan(stats_pearson(x, x, 3)));
    CHECK(isnan(stats_pearson(x, c, 4)));
    CHECK(isnan(stats_pearson(c, x, 4)));
}

/* ---- stats_fisher ----------------------------------------------------- */

TEST(fisher_r_0_5_n_30)
{
    /* atanh 0.5 = ½·ln 3 = 0.5493061; 1.96/√27 = 0.3772022;
     * tanh(0.1721040) = 0.1704246, tanh(0.9265083) = 0.7289618.
     * python3: 0.1704246353 0.7289618045 */
    struct stats_interval ci;
    CHECK_EQ_INT(stats_fisher(0.5, 30, 1.96, &ci), 0);
    CHECK(NEAR(ci.lo, 0.1704246353, 1e-9));
    CHECK(NEAR(ci.hi, 0.7289618045, 1e-9));
}

TEST(fisher_r_minus_0_2_n_100)
{
    /* atanh(-0.2) = ½·ln(0.8/1.2) = -0.2027326; 1.96/√97 = 0.1990078;
     * tanh(-0.4017404) = -0.3814371, tanh(-0.0037247) = -0.0037247.
     * python3: -0.3814371325 -0.0037246885 */
    struct stats_interval ci;
    CHECK_EQ_INT(stats_fisher(-0.2, 100, 1.96, &ci), 0);
    CHECK(NEAR(ci.lo, -0.3814371325, 1e-9));
    CHECK(NEAR(ci.hi, -0.0037246885, 1e-9));
}

TEST(fisher_rejects_n_of_3_or_less_nan_and_unit_r)
{
    struct stats_interval ci = {-7.0, -7.0};
    CHECK_EQ_INT(stats_fisher(0.5, 3, 1.96, &ci), -1);
    CHECK_EQ_INT(stats_fisher(0.5, 0, 1.96, &ci), -1);
    CHECK_EQ_INT(stats_fisher(NAN, 30, 1.96, &ci), -1);
    CHECK_EQ_INT(stats_fisher(1.0, 30, 1.96, &ci), -1);
    CHECK_EQ_INT(stats_fisher(-1.0, 30, 1.96, &ci), -1);
    CHECK_EQ_INT(stats_fisher(1.5, 30, 1.96, &ci), -1);
    CHECK(ci.lo == -7.0 && ci.hi == -7.0); /* untouched */
    CHECK_EQ_INT(stats_fisher(0.5, 4, 1.96, &ci), 0);
}

/* ---- stats_prewhiten -------------------------------------------------- */

TEST(prewhiten_of_a_pure_weekly_pattern_is_all_zeros)
{
    /* Four weeks of the same weekly shape: each value equals its weekday's
     * mean, so every day scales to 1 and every difference is 0. */
    const double week[7] = {3, 40, 55, 52, 47, 38, 6};
    double v[28], out[27];
    for (int i = 0; i < 28; i++)
        v[i] = week[i % 7];
    for (uint32_t first = 19000; first < 19007; first++) {
        CHECK_EQ_INT(stats_prewhiten(v, 28, first, out), 0);
        for (int i = 0; i < 27; i++)
            CHECK(fabs(out[i]) < 1e-15);
    }
}

TEST(prewhiten_of_a_linear_trend_over_one_week_is_constant)
{
    /* v = 10, 20, ..., 70: each weekday appears once, so its mean is the
     * value itself, every day scales to 1 and the differences are all 0. */
    const double v[7] = {10, 20, 30, 40, 50, 60, 70};
    double out[6];
    CHECK_EQ_INT(stats_prewhiten(v, 7, 0, out), 0);
    for (int i = 0; i < 6; i++)
        CHECK(out[i] == 0.0);
}

TEST(prewhiten_of_a_linear_trend_over_eight_days_by_hand)
{
    /* v = 1..8 from day 0 (a Thursday). Days 0 and 7 are both Thursdays:
     * mean (1 + 8)/2 = 4.5; every other weekday appears once.
     * scaled = 1/4.5, 1, 1, 1, 1, 1, 1, 8/4.5 = 2/9, 1, ..., 1, 16/9
     * diffs  = 7/9, 0, 0, 0, 0, 0, 7/9 */
    const double v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const double want[7] = {7.0 / 9, 0, 0, 0, 0, 0, 7.0 / 9};
    double out[7];
    CHECK_EQ_INT(stats_prewhiten(v, 8, 0, out), 0);
    for (int i = 0; i < 7; i++)
        CHECK(NEAR(out[i], want[i], 1e-15));
}

TEST(prewhiten_of_a_linear_trend_over_two_weeks_by_hand)
{
    /* v = 1..14: day i and day i + 7 share a weekday with mean
     * ((i + 1) + (i + 8))/2 = i + 4.5, so scaled[i] = (i + 1)/(i%7 + 4.5):
     *   week 1: 1/4.5 2/5.5 3/6.5 4/7.5 5/8.5 6/9.5 7/10.5
     *   week 2: 8/4.5 9/5.5 10/6.5 11/7.5 12/8.5 13/9.5 14/10.5
     * Dividing by weekday means does not keep a trend linear, so the
     * differences are not constant: the first is 2/5.5 - 1/4.5 =
     * 0.1414141, the week boundary (day 6 → 7) 8/4.5 - 7/10.5 = 1.1111111,
     * the last 14/10.5 - 13/9.5 = -0.0350877. */
    double v[14], out[13];
    for (int i = 0; i < 14; i++)
        v[i] = i + 1;
    CHECK_EQ_INT(stats_prewhiten(v, 14, 0, out), 0);
    for (int i = 0; i < 13; i++) {
        int j = i + 1;
        double want = (j + 1) / (j % 7 + 4.5) - (i + 1) / (i % 7 + 4.5);
        CHECK(NEAR(out[i], want, 1e-15));
    }
    CHECK(NEAR(out[0], 0.1414141414, 1e-9));
    CHECK(NEAR(out[6], 1.1111111111, 1e-9));
    CHECK(NEAR(out[12], -0.0350877193, 1e-9));
}

TEST(prewhiten_leaves_a_weekday_whose_mean_is_zero_as_is)
{
    /* Two weeks from day 3 (a Sunday, 1970-01-04): Sundays are 0, every
     * other day is 5. Sundays keep 0, the rest scale to 1:
     * scaled = 0 1 1 1 1 1 1 0 1 1 1 1 1 1
     * diffs  = 1 0 0 0 0 0 -1 1 0 0 0 0 0 */
    double v[14], out[13];
    const double want[13] = {1, 0, 0, 0, 0, 0, -1, 1, 0, 0, 0, 0, 0};
    for (int i = 0; i < 14; i++)
        v[i] = i % 7 == 0 ? 0.0 : 5.0;
    CHECK_EQ_INT(stats_prewhiten(v, 14, 3, out), 0);
    for (int i = 0; i < 13; i++)
        CHECK(out[i] == want[i]);
}

TEST(prewhiten_groups_by_weekday_whatever_the_first_day)
{
    /* Only the grouping of days 7 apart matters, so any FIRST_DAY gives the
     * same result — including ones near UINT32_MAX, which must not wrap. */
    double v[20], ref[19], out[19];
    uint64_t s = 42;
    for (int i = 0; i < 20; i++)
        v[i] = 1.0 + 10.0 * noise_next(&s);
    CHECK_EQ_INT(stats_prewhiten(v, 20, 0, ref), 0);
    const uint32_t firsts[] = {1, 6, 19723, UINT32_MAX - 3, UINT32_MAX};
    for (size_t f = 0; f < sizeof firsts / sizeof firsts[0]; f++) {
        CHECK_EQ_INT(stats_prewhiten(v, 20, firsts[f], out), 0);
        for (int i = 0; i < 19; i++)
            CHECK(out[i] == ref[i]);
    }
}

TEST(prewhiten_may_write_over_its_input)
{
    const double v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    double in_place[8], out[7];
    memcpy(in_place, v, sizeof v);
    CHECK_EQ_INT(stats_prewhiten(v, 8, 0, out), 0);
    CHECK_EQ_INT(stats_prewhiten(in_place, 8, 0, in_place), 0);
    for (int i = 0; i < 7; i++)
        CHECK(in_place[i] == out[i]);
}

TEST(prewhiten_needs_two_values)
{
    const double v[1] = {4};
    double out[1] = {-7.0};
    CHECK_EQ_INT(stats_prewhiten(v, 0, 0, out), -1);
    CHECK_EQ_INT(stats_prewhiten(v, 1, 0, out), -1);
    CHECK(out[0] == -7.0);
    const double two[2] = {4, 6};
    CHECK_EQ_INT(stats_prewhiten(two, 2, 0, out), 0);
    CHECK(out[0] == 0.0); /* each day alone in its weekday: 1 - 1 */
}

/* ---- stats_xcorr ------------------------------------------------------ */

TEST(xcorr_finds_a_planted_lag_of_3)
{
    /* y[t] = x[t - 3] + noise of a twentieth of x's spread. */
    enum { N = 120, MAXLAG = 14 };
    double x[N], y[N];
    struct stats_lag out[MAXLAG + 1];
    uint64_t s = 1;
    for (int t = 0; t < N; t++)
        x[t] = noise_next(&s);
    for (int t = 0; t < N; t++)
        y[t] = (t >= 3 ? x[t - 3] : noise_next(&s)) +
               0.05 * (noise_next(&s) - 0.5);
    int best = stats_xcorr(x, y, N, MAXLAG, 1.96, out);
    CHECK_EQ_INT(best, 3);
    CHECK(out[3].r > 0.9);
    CHECK_EQ_INT(out[3].n, N - 3);
    CHECK(out[3].ci.lo < out[3].r && out[3].r < out[3].ci.hi);
    for (int l = 0; l <= MAXLAG; l++) {
        CHECK_EQ_INT(out[l].lag, l);
        CHECK_EQ_INT(out[l].n, N - l);
        if (l != 3)
            CHECK(fabs(out[l].r) < 0.4);
    }
}

TEST(xcorr_of_independent_series_is_small_at_every_lag)
{
    /* 200 pairs: r's standard error is about 1/√200 = 0.07. */
    enum { N = 200, MAXLAG = 14 };
    double x[N], y[N];
    struct stats_lag out[MAXLAG + 1];
    uint64_t sx = 7, sy = 0x9e3779b97f4a7c15u;
    for (int t = 0; t < N; t++) {
        x[t] = noise_next(&sx);
        y[t] = noise_next(&sy);
    }
    int best = stats_xcorr(x, y, N, MAXLAG, 1.96, out);
    CHECK(best >= 0 && best <= MAXLAG);
    for (int l = 0; l <= MAXLAG; l++) {
        CHECK(!isnan(out[l].r));
        CHECK(fabs(out[l].r) < 0.25);
        CHECK(fabs(out[l].r) <= fabs(out[best].r));
    }
}

TEST(xcorr_ties_go_to_the_smaller_lag)
{
    /* Two straight lines correlate perfectly at every lag: r = 1 exactly
     * (integer deviations), so lag 0 wins. A perfect r has no Fisher
     * interval; its interval is the point itself. */
    double x[10], y[10];
    struct stats_lag out[4];
    for (int i = 0; i < 10; i++) {
        x[i] = i + 1;
        y[i] = 2 * i + 5;
    }
    CHECK_EQ_INT(stats_xcorr(x, y, 10, 3, 1.96, out), 0);
    for (int l = 0; l <= 3; l++) {
        CHECK(out[l].r == 1.0);
        CHECK(out[l].ci.lo == 1.0 && out[l].ci.hi == 1.0);
    }
}

TEST(xcorr_skips_lags_with_fewer_than_4_pairs)
{
    /* n = 6: lag 0 has 6 pairs, 1 has 5, 2 has 4, 3 has 3 (skipped), 9 has
     * none. y = x shifted by 3 makes lag 3 perfect, but it is skipped. */
    const double x[6] = {1, 5, 2, 8, 3, 9};
    const double y[6] = {4, 0, 6, 1, 5, 2};
    struct stats_lag out[10];
    int best = stats_xcorr(x, y, 6, 9, 1.96, out);
    CHECK(best >= 0 && best <= 2);
    for (int l = 0; l <= 2; l++) {
        CHECK(!isnan(out[l].r));
        CHECK_EQ_INT(out[l].n, 6 - l);
    }
    for (int l = 3; l <= 9; l++) {
        CHECK_EQ_INT(out[l].lag, l);
        CHECK(isnan(out[l].r));
        CHECK(isnan(out[l].ci.lo) && isnan(out[l].ci.hi));
        CHECK_EQ_INT(out[l].n, l < 6 ? 6 - l : 0);
    }
}

TEST(xcorr_is_minus_one_when_no_lag_has_an_r)
{
    const double x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const double flat[8] = {3, 3, 3, 3, 3, 3, 3, 3};
    struct stats_lag out[3];
    CHECK_EQ_INT(stats_xcorr(x, flat, 8, 2, 1.96, out), -1);
    CHECK(isnan(out[0].r) && isnan(out[2].r));
    CHECK_EQ_INT(stats_xcorr(x, x, 3, 2, 1.96, out), -1);
    CHECK_EQ_INT(stats_xcorr(x, x, 0, 2, 1.96, out), -1);
    CHECK_EQ_INT(stats_xcorr(x, x, 8, -1, 1.96, out), -1);
}

TEST(xcorr_at_lag_0_alone_is_pearson_with_its_fisher_interval)
{
    /* The Pearson example above at lag 0 only: x = 1..5,
     * y = 2,4,5,4,5 → r = 0.7745967, interval from stats_fisher(r, 5). */
    const double x[5] = {1, 2, 3, 4, 5}, y[5] = {2, 4, 5, 4, 5};
    struct stats_lag out[1];
    struct stats_interval ci;
    CHECK_EQ_INT(stats_xcorr(x, y, 5, 0, 1.96, out), 0);
    CHECK(NEAR(out[0].r, 0.7745966692, 1e-10));
    CHECK_EQ_INT(stats_fisher(out[0].r, 5, 1.96, &ci), 0);
    CHECK(out[0].ci.lo == ci.lo && out[0].ci.hi == ci.hi);
}

/* ---- stats_median ----------------------------------------------------- */

TEST(median_of_odd_count)
{
    double v[] = {5, 1, 3};
    CHECK(stats_median(v, 3) == 3.0);
    double w[] = {9, -2, 7, 7, 0}; /* sorted: -2 0 7 7 9 */
    CHECK(stats_median(w, 5) == 7.0);
}

TEST(median_of_even_count_is_the_mean_of_the_middle_two)
{
    double v[] = {4, 1, 3, 2}; /* sorted 1 2 3 4 → (2 + 3)/2 */
    CHECK(stats_median(v, 4) == 2.5);
    double w[] = {10, -10}; /* (−10 + 10)/2 */
    CHECK(stats_median(w, 2) == 0.0);
}

TEST(median_of_one_value_is_that_value)
{
    double v[] = {42.5};
    CHECK(stats_median(v, 1) == 42.5);
}

TEST(median_of_nothing_is_nan)
{
    double v[1] = {1};
    CHECK(isnan(stats_median(v, 0)));
}

TEST(median_of_mostly_equal_values)
{
    double v[] = {0, 0, 0, 1, 0, 0}; /* sorted 0 0 0 0 0 1 */
    CHECK(stats_median(v, 6) == 0.0);
    double w[] = {2, 2, 2, 2, 1, 1, 1, 1}; /* (1 + 2)/2 */
    CHECK(stats_median(w, 8) == 1.5);
}

TEST(median_agrees_with_sorting_and_keeps_the_values)
{
    enum { MAXN = 101 };
    double v[MAXN], sorted[MAXN], after[MAXN];
    uint64_t s = 3;
    for (size_t n = 1; n <= MAXN; n++) {
        for (int round = 0; round < 20; round++) {
            for (size_t i = 0; i < n; i++)
                v[i] = round % 2 ? (double)(int)(noise_next(&s) * 5)
                                 : noise_next(&s) * 100 - 50;
            memcpy(sorted, v, n * sizeof v[0]);
            qsort(sorted, n, sizeof sorted[0], cmp_double);
            double want = n % 2 ? sorted[n / 2]
                                : sorted[n / 2 - 1] / 2 + sorted[n / 2] / 2;
            CHECK(stats_median(v, n) == want);
            memcpy(after, v, n * sizeof v[0]);
            qsort(after, n, sizeof after[0], cmp_double);
            CHECK(memcmp(after, sorted, n * sizeof v[0]) == 0);
        }
    }
}

int main(void)
{
    RUN(z_matches_python_inv_cdf_for_common_confidences);
    RUN(z_inverts_the_normal_tail_across_the_whole_range);
    RUN(z_increases_with_confidence);
    RUN(z_outside_the_open_unit_interval_is_nan);
    RUN(wilson_0_of_10);
    RUN(wilson_5_of_10);
    RUN(wilson_10_of_10);
    RUN(wilson_1_of_100);
    RUN(wilson_40_of_100);
    RUN(wilson_stays_in_the_unit_interval_and_holds_the_proportion);
    RUN(wilson_rejects_no_trials_and_more_successes_than_trials);
    RUN(pearson_of_a_small_exact_example);
    RUN(pearson_of_perfect_lines_is_exactly_plus_or_minus_one);
    RUN(pearson_is_unchanged_by_shifting_and_scaling);
    RUN(pearson_is_nan_for_fewer_than_3_pairs_or_a_constant_series);
    RUN(fisher_r_0_5_n_30);
    RUN(fisher_r_minus_0_2_n_100);
    RUN(fisher_rejects_n_of_3_or_less_nan_and_unit_r);
    RUN(prewhiten_of_a_pure_weekly_pattern_is_all_zeros);
    RUN(prewhiten_of_a_linear_trend_over_one_week_is_constant);
    RUN(prewhiten_of_a_linear_trend_over_eight_days_by_hand);
    RUN(prewhiten_of_a_linear_trend_over_two_weeks_by_hand);
    RUN(prewhiten_leaves_a_weekday_whose_mean_is_zero_as_is);
    RUN(prewhiten_groups_by_weekday_whatever_the_first_day);
    RUN(prewhiten_may_write_over_its_input);
    RUN(prewhiten_needs_two_values);
    RUN(xcorr_finds_a_planted_lag_of_3);
    RUN(xcorr_of_independent_series_is_small_at_every_lag);
    RUN(xcorr_ties_go_to_the_smaller_lag);
    RUN(xcorr_skips_lags_with_fewer_than_4_pairs);
    RUN(xcorr_is_minus_one_when_no_lag_has_an_r);
    RUN(xcorr_at_lag_0_alone_is_pearson_with_its_fisher_interval);
    RUN(median_of_odd_count);
    RUN(median_of_even_count_is_the_mean_of_the_middle_two);
    RUN(median_of_one_value_is_that_value);
    RUN(median_of_nothing_is_nan);
    RUN(median_of_mostly_equal_values);
    RUN(median_agrees_with_sorting_and_keeps_the_values);
    return check_summary();
}
