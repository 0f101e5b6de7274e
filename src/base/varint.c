/* varint.c — see varint.h. */
#include "base/varint.h"

size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int varint_get(const uint8_t *p, size_t len, size_t *off, size_t maxbytes,
               uint64_t *v)
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
