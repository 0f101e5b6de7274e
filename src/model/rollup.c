/* rollup.c — see rollup.h. */
#include "dwell/rollup.h"

#include <string.h>

#include "base/varint.h"

#define FINE_END_MS    60000u     /* 1 s buckets below this */
#define MID_END_MS     300000u    /* 5 s buckets below this */
#define COARSE_END_MS  3600000u   /* 30 s buckets below this */
#define FINE_N   60
#define MID_N    48
#define COARSE_N 110

int rollup_bucket_of_ms(uint64_t ms)
{
    if (ms < FINE_END_MS)
        return (int)(ms / 1000u);
    if (ms < MID_END_MS)
        return FINE_N + (int)((ms - FINE_END_MS) / 5000u);
    if (ms < COARSE_END_MS)
        return FINE_N + MID_N + (int)((ms - MID_END_MS) / 30000u);
    return ROLLUP_HIST_BUCKETS - 1;
}

uint32_t rollup_bucket_lower_ms(int b)
{
    if (b < FINE_N)
        return (uint32_t)b * 1000u;
    if (b < FINE_N + MID_N)
        return FINE_END_MS + (uint32_t)(b - FINE_N) * 5000u;
    if (b < FINE_N + MID_N + COARSE_N)
        return MID_END_MS + (uint32_t)(b - FINE_N - MID_N) * 30000u;
    return COARSE_END_MS;
}

uint32_t rollup_bucket_upper_ms(int b)
{
    if (b >= ROLLUP_HIST_BUCKETS - 1)
        return 2 * COARSE_END_MS;
    return rollup_bucket_lower_ms(b + 1);
}

int rollup_scroll_bucket(unsigned pct)
{
    if (pct >= 100)
        return ROLLUP_SCROLL_BUCKETS - 1;
    return (int)(pct / 10u);
}

void rollup_move(uint32_t *hist, int from, int to)
{
    if (from == to)
        return;
    if (hist[from] > 0)
        hist[from]--;
    hist[to]++;
}

/* --- encoding: a version byte, then (index, value) varint pairs for every
 * non-zero slot of the record seen as one array of counters. ------------- */

#define RECORD_VERSION 1
#define N_COUNTERS 8
#define N_SLOTS (N_COUNTERS + 1 + ROLLUP_HIST_BUCKETS + ROLLUP_SCROLL_BUCKETS)

/* The 32-bit counter of slot I (any slot but N_COUNTERS, engaged_ms). */
static uint32_t *slot32(struct rollup_day *d, int i)
{
    switch (i) {
    case 0: return &d->views;
    case 1: return &d->visitors;
    case 2: return &d->reads;
    case 3: return &d->votes_up;
    case 4: return &d->votes_down;
    case 5: return &d->searches;
    case 6: return &d->links;
    case 7: return &d->events;
    }
    i -= N_COUNTERS + 1;
    if (i < ROLLUP_HIST_BUCKETS)
        return &d->hist[i];
    return &d->scroll[i - ROLLUP_HIST_BUCKETS];
}

/* Adds V to slot I of D (SIGN > 0) or takes it away, stopping at zero. */
static void slot_merge(struct rollup_day *d, int i, uint64_t v, int sign)
{
    if (i == N_COUNTERS) {
        uint64_t cur = d->engaged_ms;
        d->engaged_ms = sign > 0 ? cur + v : cur >= v ? cur - v : 0;
        return;
    }
    uint32_t *p = slot32(d, i);
    uint64_t cur = *p;
    *p = (uint32_t)(sign > 0 ? cur + v : cur >= v ? cur - v : 0);
}

/* Appends slot I with value V to BUF (N bytes used of CAP) unless V is 0.
 * Returns the new length, or 0 if CAP is too small or N is already 0 (an
 * earlier slot did not fit). */
static size_t slot_put(uint8_t *buf, size_t n, size_t cap, int i, uint64_t v)
{
    uint8_t tmp[2 * VARINT_MAX];
    if (v == 0 || n == 0)
        return n;
    size_t k = varint_put(tmp, (uint64_t)i);
    k += varint_put(tmp + k, v);
    if (n + k > cap)
        return 0;
    memcpy(buf + n, tmp, k);
    return n + k;
}

/* Appends the non-zero entries of ARR (LEN of them) as slots FIRST,
 * FIRST + 1, ...; the same contract as slot_put. */
static size_t slots_put(uint8_t *buf, size_t n, size_t cap, int first,
                        const uint32_t *arr, int len)
{
    for (int b = 0; b < len && n != 0; b++)
        if (arr[b] != 0)
            n = slot_put(buf, n, cap, first + b, arr[b]);
    return n;
}

int rollup_encode(const struct rollup_day *d, uint8_t *buf, size_t cap)
{
    const uint32_t counters[N_COUNTERS] = {
        d->views, d->visitors, d->reads, d->votes_up, d->votes_down,
        d->searches, d->links, d->events
    };
    if (cap < 1)
        return -1;
    buf[0] = RECORD_VERSION;
    size_t n = slots_put(buf, 1, cap, 0, counters, N_COUNTERS);
    n = slot_put(buf, n, cap, N_COUNTERS, d->engaged_ms);
    n = slots_put(buf, n, cap, N_COUNTERS + 1, d->hist, ROLLUP_HIST_BUCKETS);
    n = slots_put(buf, n, cap, N_COUNTERS + 1 + ROLLUP_HIST_BUCKETS,
                  d->scroll, ROLLUP_SCROLL_BUCKETS);
    return n == 0 ? -1 : (int)n;
}

int rollup_decode(const uint8_t *buf, size_t len, struct rollup_day *d)
{
    memset(d, 0, sizeof *d);
    return rollup_decode_merge(buf, len, d, 1);
}

void rollup_add(struct rollup_day *dst, const struct rollup_day *src)
{
    dst->views += src->views;
    dst->visitors += src->visitors;
    dst->reads += src->reads;
    dst->votes_up += src->votes_up;
    dst->votes_down += src->votes_down;
    dst->searches += src->searches;
    dst->links += src->links;
    dst->events += src->events;
    dst->engaged_ms += src->engaged_ms;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        dst->hist[b] += src->hist[b];
    for (int b = 0; b < ROLLUP_SCROLL_BUCKETS; b++)
        dst->scroll[b] += src->scroll[b];
}

static uint32_t sub32(uint32_t a, uint32_t b)
{
    return a > b ? a - b : 0;
}

void rollup_sub(struct rollup_day *dst, const struct rollup_day *src)
{
    dst->views = sub32(dst->views, src->views);
    dst->visitors = sub32(dst->visitors, src->visitors);
    dst->reads = sub32(dst->reads, src->reads);
    dst->votes_up = sub32(dst->votes_up, src->votes_up);
    dst->votes_down = sub32(dst->votes_down, src->votes_down);
    dst->searches = sub32(dst->searches, src->searches);
    dst->links = sub32(dst->links, src->links);
    dst->events = sub32(dst->events, src->events);
    dst->engaged_ms = dst->engaged_ms > src->engaged_ms
                    ? dst->engaged_ms - src->engaged_ms : 0;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        dst->hist[b] = sub32(dst->hist[b], src->hist[b]);
    for (int b = 0; b < ROLLUP_SCROLL_BUCKETS; b++)
        dst->scroll[b] = sub32(dst->scroll[b], src->scroll[b]);
}

int rollup_decode_add(const uint8_t *buf, size_t len, struct rollup_day *d)
{
    return rollup_decode_merge(buf, len, d, 1);
}

int rollup_decode_merge(const uint8_t *buf, size_t len, struct rollup_day *d,
                        int sign)
{
    if (len < 1 || buf[0] != RECORD_VERSION)
        return -1;
    size_t off = 1;
    while (off < len) {
        uint64_t i, v;
        if (varint_get(buf, len, &off, VARINT_MAX, &i) != 0 ||
            varint_get(buf, len, &off, VARINT_MAX, &v) != 0 || i >= N_SLOTS)
            return -1;
        slot_merge(d, (int)i, v, sign);
    }
    return 0;
}

void rollup_quantiles_ms(const uint32_t *hist, const double *q, size_t n,
                         double *out)
{
    uint64_t total = 0;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        total += hist[b];
    size_t k = 0;
    uint64_t below = 0;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS && k < n && total; b++) {
        if (hist[b] == 0)
            continue;
        while (k < n && (double)(below + hist[b]) >= q[k] * (double)total) {
            double lo = rollup_bucket_lower_ms(b);
            double hi = rollup_bucket_upper_ms(b);
            double frac = (q[k] * (double)total - (double)below) /
                          (double)hist[b];
            out[k++] = lo + frac * (hi - lo);
        }
        below += hist[b];
    }
    for (; k < n; k++)
        out[k] = total ? rollup_bucket_lower_ms(ROLLUP_HIST_BUCKETS - 1) : 0;
}

double rollup_quantile_ms(const uint32_t *hist, double q)
{
    uint64_t total = 0;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        total += hist[b];
    if (total == 0)
        return 0;
    double rank = q * (double)total;
    uint64_t below = 0;
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++) {
        if (hist[b] == 0)
            continue;
        if ((double)(below + hist[b]) >= rank) {
            double lo = rollup_bucket_lower_ms(b);
            double hi = rollup_bucket_upper_ms(b);
            double frac = (rank - (double)below) / (double)hist[b];
            return lo + frac * (hi - lo);
        }
        below += hist[b];
    }
    return rollup_bucket_lower_ms(ROLLUP_HIST_BUCKETS - 1);
}
