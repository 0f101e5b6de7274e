/* ratelimit.c — see ratelimit.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/ratelimit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/crypto.h"

struct rate_slot {
    uint8_t key[16];
    bool used;
    double tokens;          /* as of at_us */
    uint64_t at_us;
};

int rate_init(struct rate_limit *rl, double per_s, double burst)
{
    memset(rl, 0, sizeof *rl);
    rl->per_s = per_s > 0 ? per_s : 0;
    rl->burst = burst >= 1 ? burst : 1;
    pthread_mutex_init(&rl->mu, NULL);
    if (rl->per_s == 0)
        return 0;
    if (crypto_random(&rl->seed, sizeof rl->seed) != 0)
        rl->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
    rl->slots = calloc(RATE_SLOTS, sizeof *rl->slots);
    return rl->slots ? 0 : -1;
}

void rate_free(struct rate_limit *rl)
{
    free(rl->slots);
    rl->slots = NULL;
    pthread_mutex_destroy(&rl->mu);
}

uint64_t rate_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The first slot of KEY's set: a seeded mix of its bytes. */
static size_t set_of(const struct rate_limit *rl, const uint8_t key[16])
{
    uint64_t h = rl->seed;
    for (int i = 0; i < 16; i++) {
        h ^= key[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return (size_t)(h % (RATE_SLOTS / RATE_WAYS)) * RATE_WAYS;
}

/* The tokens of slot S at NOW_US (refilled, never above the burst). */
static double tokens_at(const struct rate_limit *rl,
                        const struct rate_slot *s, uint64_t now_us)
{
    double t = s->tokens;
    if (now_us > s->at_us)
        t += (double)(now_us - s->at_us) / 1e6 * rl->per_s;
    return t > rl->burst ? rl->burst : t;
}

/* KEY's slot: its own, else a free one, else the most idle of its set
 * (refilled the most), made a full bucket for KEY. */
static struct rate_slot *slot_of(struct rate_limit *rl, const uint8_t key[16],
                                 uint64_t now_us)
{
    struct rate_slot *set = rl->slots + set_of(rl, key), *pick = NULL;
    double most = -1;
    for (int i = 0; i < RATE_WAYS; i++) {
        struct rate_slot *s = &set[i];
        if (s->used && memcmp(s->key, key, 16) == 0)
            return s;
        double t = s->used ? tokens_at(rl, s, now_us) : rl->burst + 1;
        if (t > most) {
            most = t;
            pick = s;
        }
    }
    memcpy(pick->key, key, 16);
    pick->used = true;
    pick->tokens = rl->burst;
    pick->at_us = now_us;
    return pick;
}

/* rate_take and rate_peek: takes a token when TAKE. */
static unsigned rate_use(struct rate_limit *rl, const uint8_t key[16],
                         uint64_t now_us, bool take)
{
    if (rl->per_s == 0)
        return 0;
    pthread_mutex_lock(&rl->mu);
    struct rate_slot *s = slot_of(rl, key, now_us);
    double t = tokens_at(rl, s, now_us);
    s->tokens = t;
    s->at_us = now_us;
    unsigned wait = 0;
    if (t >= 1) {
        if (take)
            s->tokens = t - 1;
    } else {
        wait = (unsigned)ceil((1 - t) / rl->per_s);
        if (wait == 0)
            wait = 1;
    }
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

unsigned rate_take(struct rate_limit *rl, const uint8_t key[16],
                   uint64_t now_us)
{
    return rate_use(rl, key, now_us, true);
}

unsigned rate_peek(struct rate_limit *rl, const uint8_t key[16],
                   uint64_t now_us)
{
    return rate_use(rl, key, now_us, false);
}

int rate_parse(const char *s, double *per_s, double *burst)
{
    char *end;
    errno = 0;
    double n = strtod(s, &end);
    if (errno != 0 || end == s || !(n >= 0) || n > 1e6)
        return -1;
    if (n == 0 && *end == '\0') {
        *per_s = 0;
        *burst = 1;
        return 0;
    }
    if (strncmp(end, "/s", 2) != 0)
        return -1;
    end += 2;
    double b = n * 20 < 1 ? 1 : n * 20;
    if (*end == ',') {
        const char *p = end + 1;
        errno = 0;
        b = strtod(p, &end);
        if (errno != 0 || end == p || !(b >= 1) || b > 1e9)
            return -1;
    }
    if (*end != '\0')
        return -1;
    *per_s = n;
    *burst = b;
    return 0;
}

void rate_reply(struct http_reply *r, unsigned wait, const char *msg)
{
    http_reply_error(r, 429, msg);
    /* the header's text lives at the end of the scratch, past the body */
    char *t = r->scratch + sizeof r->scratch - 12;
    if (r->len > (size_t)(t - r->scratch))
        http_reply_error(r, 429, "too many requests");
    snprintf(t, 12, "%u", wait);
    http_reply_header(r, "Retry-After", t);
}
