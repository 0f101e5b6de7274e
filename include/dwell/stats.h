/* stats.h — the statistics behind the ticket correlation: proportions with
 * Wilson intervals, Pearson correlation with Fisher-z intervals, weekday
 * prewhitening and lagged cross-correlation. Pure functions, no I/O, no
 * allocation unless stated. Formulas: docs/tickets.md. */
#ifndef DWELL_STATS_H
#define DWELL_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats_interval {
    double lo, hi;
};

/* The two-sided standard normal quantile for CONFIDENCE (e.g. 0.95 gives
 * 1.959964). CONFIDENCE must lie in (0, 1). */
double stats_z(double confidence);

/* Wilson score interval of K successes in N trials for critical value Z.
 * Returns 0, or -1 when N == 0 or K > N (OUT untouched). */
int stats_wilson(uint64_t k, uint64_t n, double z, struct stats_interval *out);

/* Pearson's r of the N pairs (X[i], Y[i]); NAN when N < 3 or either
 * series is constant. */
double stats_pearson(const double *x, const double *y, size_t n);

/* Interval of a correlation R from N pairs through Fisher's z:
 * tanh(atanh(r) ± Z / sqrt(N - 3)). Returns 0, or -1 when N <= 3 or R is
 * NAN or |R| >= 1. */
int stats_fisher(double r, size_t n, double z, struct stats_interval *out);

/* Prewhitens a daily series: each of the N values (VALUES[0] is day
 * FIRST_DAY, days since 1970-01-01, a Thursday) is divided by the mean of
 * its weekday over the series (left as is when that mean is 0), then the
 * result is first-differenced. Writes N - 1 values to OUT. Returns 0, or -1
 * when N < 2. */
int stats_prewhiten(const double *values, size_t n, uint32_t first_day,
                    double *out);

struct stats_lag {
    int lag;                   /* X leads Y by LAG days */
    double r;                  /* NAN if undefined */
    size_t n;                  /* pairs used */
    struct stats_interval ci;  /* Fisher interval at the Z given */
};

/* Cross-correlates X and Y (N values each) at lags 0..MAXLAG, X leading:
 * r(L) = pearson(X[0..N-L), Y[L..N)). Fills OUT[0..MAXLAG]. Returns the
 * index of the lag with the largest |r| (ties: the smaller lag), or -1 when
 * no lag has a defined r. */
int stats_xcorr(const double *x, const double *y, size_t n, int maxlag,
                double z, struct stats_lag *out);

/* The median of the N values at V (reorders V); NAN when N == 0. */
double stats_median(double *v, size_t n);

#endif
