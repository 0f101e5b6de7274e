/* fnv.h — FNV-1a, 64 bits: the hash of article ids (event_article_id,
 * whose values are stored: it must never change), of the store's
 * dictionary entries and of dwell check's view identities. Pure; inline.
 * Not for keys an attacker picks to collide: see ratelimit.c's seeded
 * mix for those. */
#ifndef DWELL_FNV_H
#define DWELL_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 0xcbf29ce484222325ull

/* H carried on over the N bytes at P. */
static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* H carried on over the four bytes of V, least significant first. */
static inline uint64_t fnv1a_u32(uint64_t h, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    return h;
}

#endif
