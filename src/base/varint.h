/* varint.h — unsigned integers in groups of 7 bits, least significant
 * first, the high bit set on every byte but the last (LEB128): how the
 * event records, rollup rows and breakdown rows store their numbers.
 * Pure; inline, since every record encoded or decoded on the ingest path
 * goes through it. */
#ifndef DWELL_VARINT_H
#define DWELL_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes a 64-bit value takes. */
#define VARINT_MAX 10

/* Writes V at P, which has room for VARINT_MAX bytes; returns the number
 * of bytes written (1..VARINT_MAX). */
static inline size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads the varint at P[*OFF..LEN), of at most MAXBYTES bytes (1..
 * VARINT_MAX), into *V and moves *OFF past it. Returns 0, or -1 when it
 * runs past LEN or past MAXBYTES (*OFF and *V are then unspecified);
 * never reads outside P[*OFF..LEN). */
static inline int varint_get(const uint8_t *p, size_t len, size_t *off,
                             size_t maxbytes, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < maxbytes && i < VARINT_MAX && *off < len; i++) {
        uint8_t c = p[(*off)++];
        *v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

#endif
