/* test_varint.c — base/varint: the bytes of the format every record of
 * the store uses, round trips at the boundaries, and reads of damaged or
 * cut input that fail without reading past it. */
#include "check.h"
#include "base/varint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

TEST(known_values_have_their_bytes)
{
    uint8_t b[VARINT_MAX];
    CHECK_EQ_INT((int)varint_put(b, 0), 1);
    CHECK_EQ_INT(b[0], 0);
    CHECK_EQ_INT((int)varint_put(b, 127), 1);
    CHECK_EQ_INT(b[0], 127);
    CHECK_EQ_INT((int)varint_put(b, 128), 2);
    CHECK(b[0] == 0x80 && b[1] == 0x01);
    CHECK_EQ_INT((int)varint_put(b, 300), 2);
    CHECK(b[0] == 0xac && b[1] == 0x02);
    CHECK_EQ_INT((int)varint_put(b, UINT32_MAX), 5);
    CHECK_EQ_INT((int)varint_put(b, UINT64_MAX), VARINT_MAX);
    CHECK_EQ_INT(b[VARINT_MAX - 1], 0x01);
}

TEST(values_round_trip_at_every_length)
{
    uint8_t b[VARINT_MAX];
    for (int bits = 0; bits <= 64; bits++) {
        uint64_t vs[3] = { bits == 0 ? 0 : (uint64_t)1 << (bits - 1),
                           bits == 64 ? UINT64_MAX
                                      : ((uint64_t)1 << bits) - 1,
                           bits >= 2 ? ((uint64_t)1 << (bits - 1)) + 1 : 0 };
        for (int i = 0; i < 3; i++) {
            size_t n = varint_put(b, vs[i]), off = 0;
            uint64_t got = 1;
            CHECK_EQ_INT(varint_get(b, n, &off, VARINT_MAX, &got), 0);
            CHECK(got == vs[i]);
            CHECK_EQ_INT((int)off, (int)n);
        }
    }
}

TEST(a_cut_varint_fails_without_reading_past_the_end)
{
    uint8_t b[VARINT_MAX];
    size_t n = varint_put(b, UINT64_MAX);
    for (size_t len = 0; len < n; len++) {
        uint8_t *cut = malloc(len ? len : 1);   /* ASan sees an overread */
        CHECK(cut != NULL);
        memcpy(cut, b, len);
        size_t off = 0;
        uint64_t v;
        CHECK_EQ_INT(varint_get(cut, len, &off, VARINT_MAX, &v), -1);
        CHECK((int)off <= (int)len);
        free(cut);
    }
}

TEST(more_bytes_than_allowed_fail)
{
    uint8_t b[VARINT_MAX];
    size_t n = varint_put(b, (uint64_t)UINT32_MAX + 1), off = 0;
    uint64_t v;
    CHECK_EQ_INT((int)n, 5);
    CHECK_EQ_INT(varint_get(b, n, &off, 4, &v), -1);
    off = 0;
    CHECK_EQ_INT(varint_get(b, n, &off, 5, &v), 0);
    /* eleven continuation bytes: longer than any 64-bit value */
    uint8_t longer[11];
    memset(longer, 0x80, sizeof longer);
    off = 0;
    CHECK_EQ_INT(varint_get(longer, sizeof longer, &off, VARINT_MAX, &v),
                 -1);
    CHECK((int)off <= VARINT_MAX);
}

int main(void)
{
    RUN(known_values_have_their_bytes);
    RUN(values_round_trip_at_every_length);
    RUN(a_cut_varint_fails_without_reading_past_the_end);
    RUN(more_bytes_than_allowed_fail);
    return check_summary();
}
