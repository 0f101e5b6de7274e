/* ratelimit.h — token buckets keyed by 16 bytes (a client address, a hash
 * of a token), held in a fixed-size table: memory does not grow with the
 * number of clients. A key the table has no room for takes the slot of the
 * most idle bucket of its set; a bucket that was evicted comes back full,
 * so eviction only ever lets a client through, never refuses one. */
#ifndef DWELL_RATELIMIT_H
#define DWELL_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dwell/http.h"

#define RATE_SLOTS 8192     /* buckets held at once */
#define RATE_WAYS  8        /* a key may sit in one of this many slots */

struct rate_slot;

struct rate_limit {
    double per_s;           /* tokens added per second; 0: no limit */
    double burst;           /* a bucket's size (a new bucket is full) */
    uint64_t seed;          /* random: where a key sits is not guessable */
    pthread_mutex_t mu;
    struct rate_slot *slots;
};

/* Prepares RL to allow PER_S events a second per key after a burst of
 * BURST (at least 1). PER_S 0 makes an RL that allows everything and
 * holds no table. Returns 0, or -1 (no memory). */
int rate_init(struct rate_limit *rl, double per_s, double burst);

/* Frees RL's table. */
void rate_free(struct rate_limit *rl);

/* Takes one token from KEY's bucket at monotonic time NOW_US. Returns 0
 * when there was one; otherwise nothing is taken and the return is the
 * whole seconds (at least 1) until there will be one: the Retry-After. */
unsigned rate_take(struct rate_limit *rl, const uint8_t key[16],
                   uint64_t now_us);

/* As rate_take, but takes nothing: 0 when KEY has a token left. */
unsigned rate_peek(struct rate_limit *rl, const uint8_t key[16],
                   uint64_t now_us);

/* The monotonic clock in microseconds (the NOW_US of the calls above). */
uint64_t rate_now_us(void);

/* Parses "N/s", "N/s,BURST" or "0" (no limit) into *PER_S and *BURST (a
 * burst not given is 20 seconds' worth, at least 1). Returns 0, or -1. */
int rate_parse(const char *s, double *per_s, double *burst);

/* Fills R with 429, the JSON error MSG (short) and Retry-After: WAIT. */
void rate_reply(struct http_reply *r, unsigned wait, const char *msg);

#endif
