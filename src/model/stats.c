/* stats.c — see stats.h. */
#include "dwell/stats.h"

#include <math.h>

/* Coefficients of Peter J. Acklam's rational approximation of the inverse
 * standard normal CDF (relative error below 1.15e-9 before refinement). */
static const double acklam_a[6] = {
    -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
    1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00,
};
static const double acklam_b[5] = {
    -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
    6.680131188771972e+01,  -1.328068155288572e+01,
};
static const double acklam_c[6] = {
    -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
    -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00,
};
static const double acklam_d[4] = {
    7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
    3.754408661907416e+00,
};
#define ACKLAM_P_LOW 0.02425
#define SQRT_2PI     2.50662827463100050242

/* The standard normal quantile of P, for P in (0, 0.5]: Acklam's
 * approximation, then one Halley step on erfc, which brings it to nearly
 * full double precision. Working in the lower tail keeps small tail
 * probabilities exact instead of forming 1 - p. */
static double normal_quantile_lower(double p)
{
    const double *a = acklam_a, *b = acklam_b, *c = acklam_c, *d = acklam_d;
    double x;

    if (p < ACKLAM_P_LOW) {
        double q = sqrt(-2.0 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q +
             c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
             a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r +
             1.0);
    }

    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    double u = e * SQRT_2PI * exp(x * x / 2.0);
    return x - u / (1.0 + x * u / 2.0);
}

double stats_z(double confidence)
{
    if (!(confidence > 0.0 && confidence < 1.0))
        return NAN;
    /* z = Φ⁻¹(1 - α/2) = -Φ⁻¹(α/2) with α = 1 - confidence. */
    return -normal_quantile_lower((1.0 - confidence) / 2.0);
}

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

int stats_wilson(uint64_t k, uint64_t n, double z, struct stats_interval *out)
{
    if (n == 0 || k > n)
        return -1;
    double dk = (double)k, dn = (double)n, z2 = z * z;
    double denom = dn + z2;
    double center = (dk + z2 / 2.0) / denom;
    double half = fabs(z) * sqrt(dk * (double)(n - k) / dn + z2 / 4.0) / denom;
    out->lo = clamp01(center - half);
    out->hi = clamp01(center + half);
    return 0;
}

double stats_pearson(const double *x, const double *y, size_t n)
{
    if (n < 3)
        return NAN;
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;

    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (!(sxx > 0.0 && syy > 0.0))
        return NAN;
    double r = sxy / sqrt(sxx * syy);
    /* Rounding can push a perfect correlation a hair past ±1. */
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

int stats_fisher(double r, size_t n, double z, struct stats_interval *out)
{
    if (n <= 3 || isnan(r) || fabs(r) >= 1.0)
        return -1;
    double zr = atanh(r), se = fabs(z) / sqrt((double)(n - 3));
    out->lo = tanh(zr - se);
    out->hi = tanh(zr + se);
    return 0;
}

/* Weekday of the day FIRST_DAY + I: 0 = Sunday (day 0 was a Thursday).
 * Reduced first so that no sum can wrap. */
static unsigned weekday_of(uint32_t first_day, size_t i)
{
    return (unsigned)((first_day % 7u + i % 7u + 4u) % 7u);
}

int stats_prewhiten(const double *values, size_t n, uint32_t first_day,
                    double *out)
{
    if (n < 2)
        return -1;
    double sum[7] = {0}, mean[7];
    size_t count[7] = {0};
    for (size_t i = 0; i < n; i++) {
        unsigned w = weekday_of(first_day, i);
        sum[w] += values[i];
        count[w]++;
    }
    for (unsigned w = 0; w < 7; w++)
        mean[w] = count[w] ? sum[w] / (double)count[w] : 0.0;

    /* Reads VALUES[i + 1] before writing OUT[i], so OUT may be VALUES. */
    double m0 = mean[weekday_of(first_day, 0)];
    double prev = m0 != 0.0 ? values[0] / m0 : values[0];
    for (size_t i = 1; i < n; i++) {
        double m = mean[weekday_of(first_day, i)];
        double cur = m != 0.0 ? values[i] / m : values[i];
        out[i - 1] = cur - prev;
        prev = cur;
    }
    return 0;
}

int stats_xcorr(const double *x, const double *y, size_t n, int maxlag,
                double z, struct stats_lag *out)
{
    if (maxlag < 0)
        return -1;
    int best = -1;
    double best_abs = 0.0;
    for (size_t lag = 0; lag <= (size_t)maxlag; lag++) {
        struct stats_lag *o = &out[lag];
        size_t pairs = n > lag ? n - lag : 0;
        o->lag = (int)lag;
        o->n = pairs;
        o->r = NAN;
        o->ci.lo = o->ci.hi = NAN;
        if (pairs < 4)
            continue;
        o->r = stats_pearson(x, y + lag, pairs);
        if (isnan(o->r))
            continue;
        /* A perfect correlation has no Fisher interval; its limit is the
         * point itself. */
        if (stats_fisher(o->r, pairs, z, &o->ci) != 0)
            o->ci.lo = o->ci.hi = o->r;
        if (best < 0 || fabs(o->r) > best_abs) {
            best = (int)lag;
            best_abs = fabs(o->r);
        }
    }
    return best;
}

static void swap_doubles(double *v, size_t i, size_t j)
{
    double t = v[i];
    v[i] = v[j];
    v[j] = t;
}

static double median_of_three(double a, double b, double c)
{
    if (a < b) {
        if (b < c)
            return b;
        return a < c ? c : a;
    }
    if (a < c)
        return a;
    return b < c ? c : b;
}

/* Reorders V[0..N) so that V[K] holds the value of rank K, everything
 * before it is no greater and everything after it no smaller; returns
 * V[K]. Quickselect with a three-way partition, so runs of equal values
 * (days with no tickets) cost no more than distinct ones. */
static double select_rank(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        double p = median_of_three(v[lo], v[lo + (hi - lo) / 2], v[hi - 1]);
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (v[i] < p)
                swap_doubles(v, lt++, i++);
            else if (v[i] > p)
                swap_doubles(v, i, --gt);
            else
                i++;
        }
        /* [lo, lt) < p, [lt, gt) == p (never empty: p came from V),
         * [gt, hi) > p. */
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return v[k];
    }
    return v[k];
}

double stats_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    size_t k = n / 2;
    double upper = select_rank(v, n, k);
    if (n % 2 == 1)
        return upper;
    double lower = v[0];
    for (size_t i = 1; i < k; i++)
        if (v[i] > lower)
            lower = v[i];
    return lower / 2.0 + upper / 2.0;
}
