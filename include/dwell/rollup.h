/* rollup.h — the per-article daily rollup: counters, the engaged-time
 * histogram and the scroll-depth buckets, and how one view moves between
 * buckets as its engaged time grows. Pure: no I/O; the store persists the
 * records this module encodes. */
#ifndef DWELL_ROLLUP_H
#define DWELL_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

/* Engaged-time buckets: 1 s wide below 60 s, 5 s wide to 5 min, 30 s wide
 * to 1 h, then one open bucket (>= 1 h). Bucket b covers
 * [rollup_bucket_lower_ms(b), rollup_bucket_upper_ms(b)). */
#define ROLLUP_HIST_BUCKETS   219
/* Scroll buckets: 0–9 %, 10–19 %, …, 90–99 %, and 100 %. */
#define ROLLUP_SCROLL_BUCKETS 11

/* Views that reached these engaged times count as "read" (with a scroll or
 * a page that fits) or as a quick exit. */
#define ROLLUP_READ_MS        10000u
#define ROLLUP_QUICK_EXIT_MS  5000u

struct rollup_day {
    uint32_t views;
    uint32_t visitors;       /* distinct visitor hashes that day */
    uint32_t reads;          /* views that became reads */
    uint32_t votes_up;
    uint32_t votes_down;
    uint32_t searches;       /* searches made on this article's page */
    uint32_t links;          /* contact link ids issued on this page */
    uint32_t events;         /* custom events */
    uint64_t engaged_ms;     /* sum of engaged time, all views */
    uint32_t hist[ROLLUP_HIST_BUCKETS];
    uint32_t scroll[ROLLUP_SCROLL_BUCKETS];
};

/* The engaged-time bucket of MS. */
int rollup_bucket_of_ms(uint64_t ms);

/* Lower and upper bounds of bucket B in ms (the last bucket's upper bound
 * is reported as 2 h for interpolation). */
uint32_t rollup_bucket_lower_ms(int b);
uint32_t rollup_bucket_upper_ms(int b);

/* The scroll bucket of PCT (0–100). */
int rollup_scroll_bucket(unsigned pct);

/* Moves one view from bucket FROM to bucket TO of HIST (no-op if equal).
 * A bucket never goes below zero. */
void rollup_move(uint32_t *hist, int from, int to);

/* Encodes D compactly (zero counters and empty buckets take no space).
 * Returns the length, or -1 if CAP is too small; ROLLUP_RECORD_MAX always
 * suffices. */
#define ROLLUP_RECORD_MAX 2048
int rollup_encode(const struct rollup_day *d, uint8_t *buf, size_t cap);

/* Decodes a record made by rollup_encode into D. Returns 0, or -1 if the
 * record is damaged. */
int rollup_decode(const uint8_t *buf, size_t len, struct rollup_day *d);

/* Adds the record made by rollup_encode at BUF to D (without clearing D
 * first). Returns 0, or -1 if the record is damaged (D may then hold part
 * of it). */
int rollup_decode_add(const uint8_t *buf, size_t len, struct rollup_day *d);

/* Adds (SIGN > 0) or subtracts (SIGN < 0, never below zero) the record at
 * BUF to or from D. Returns 0, or -1 if the record is damaged. */
int rollup_decode_merge(const uint8_t *buf, size_t len, struct rollup_day *d,
                        int sign);

/* Subtracts every counter and bucket of SRC from DST (never below 0). */
void rollup_sub(struct rollup_day *dst, const struct rollup_day *src);

/* Adds every counter and bucket of SRC to DST. */
void rollup_add(struct rollup_day *dst, const struct rollup_day *src);

/* The Q-quantile (0 < Q < 1) of the engaged time in HIST, in ms,
 * interpolated linearly inside its bucket; 0 for an empty histogram. */
double rollup_quantile_ms(const uint32_t *hist, double q);

/* The N quantiles Q (ascending) of HIST in one pass, into OUT; the same
 * values as rollup_quantile_ms. */
void rollup_quantiles_ms(const uint32_t *hist, const double *q, size_t n,
                         double *out);

#endif
