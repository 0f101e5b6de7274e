/* visitor.c — see visitor.h. SipHash-2-4 after Aumasson and Bernstein's
 * reference implementation (https://github.com/veorq/SipHash), streamed so
 * that a long user agent needs no copy. */
#define _DEFAULT_SOURCE
#include "dwell/visitor.h"
#include "dwell/clientaddr.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

struct sip {
    uint64_t v0, v1, v2, v3;
    uint8_t tail[8];    /* bytes not yet folded in */
    size_t ntail;
    uint64_t total;     /* bytes absorbed so far */
};

/* Rotates X left by B bits (0 < B < 64). */
static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

/* Reads 8 bytes at P as a little-endian integer. */
static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* One SipRound on S. */
static void sip_round(struct sip *s)
{
    s->v0 += s->v1; s->v1 = rotl(s->v1, 13); s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3; s->v3 = rotl(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = rotl(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = rotl(s->v1, 17); s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

/* Starts S under the 128-bit KEY. */
static void sip_init(struct sip *s, const uint8_t key[16])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v0 = UINT64_C(0x736f6d6570736575) ^ k0;
    s->v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
    s->v2 = UINT64_C(0x6c7967656e657261) ^ k0;
    s->v3 = UINT64_C(0x7465646279746573) ^ k1;
    s->ntail = 0;
    s->total = 0;
}

/* Folds the 64-bit message word M into S (two compression rounds). */
static void sip_block(struct sip *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

/* Absorbs the LEN bytes at DATA; the result depends only on the
 * concatenation of all bytes absorbed, not on how they were split. */
static void sip_update(struct sip *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->total += len;
    if (s->ntail > 0) {
        size_t take = 8 - s->ntail;
        if (take > len)
            take = len;
        memcpy(s->tail + s->ntail, p, take);
        s->ntail += take;
        p += take;
        len -= take;
        if (s->ntail < 8)
            return;
        sip_block(s, load_le64(s->tail));
        s->ntail = 0;
    }
    for (; len >= 8; p += 8, len -= 8)
        sip_block(s, load_le64(p));
    if (len > 0)
        memcpy(s->tail, p, len);
    s->ntail = len;
}

/* Finishes S and returns the 64-bit SipHash-2-4 value. */
static uint64_t sip_final(struct sip *s)
{
    uint64_t b = (s->total & 0xff) << 56;
    for (size_t i = 0; i < s->ntail; i++)
        b |= (uint64_t)s->tail[i] << (8 * i);
    sip_block(s, b);
    s->v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The reference SipHash-2-4 value; DATA may be NULL when LEN is 0. */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
    struct sip s;
    sip_init(&s, key);
    if (len > 0)
        sip_update(&s, data, len);
    return sip_final(&s);
}

/* SipHash-2-4 under SALT of site id (LE32) || 16 address bytes || UA. */
uint64_t visitor_hash(const uint8_t salt[VISITOR_SALT_LEN], uint32_t site_id,
                      const struct ipaddr *addr, const char *ua, size_t ualen)
{
    /* Fixed-width fields first, the user agent last: no two inputs share an
     * encoding. The site id is little-endian whatever the host. */
    uint8_t head[4 + sizeof addr->b];
    for (int i = 0; i < 4; i++)
        head[i] = (uint8_t)(site_id >> (8 * i));
    memcpy(head + 4, addr->b, sizeof addr->b);

    struct sip s;
    sip_init(&s, salt);
    sip_update(&s, head, sizeof head);
    if (ua != NULL && ualen > 0)
        sip_update(&s, ua, ualen);
    return sip_final(&s);
}

/* getrandom(2), retried on EINTR; -1 if the kernel refuses. */
int visitor_new_salt(uint8_t salt[VISITOR_SALT_LEN])
{
    size_t got = 0;
    while (got < VISITOR_SALT_LEN) {
        ssize_t r = getrandom(salt + got, VISITOR_SALT_LEN - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

/* Today's or yesterday's salt; never a future one. */
bool visitor_salt_live(uint32_t salt_day, uint32_t today)
{
    return salt_day == today || (today > 0 && salt_day == today - 1);
}
