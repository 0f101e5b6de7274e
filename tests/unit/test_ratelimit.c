/* test_ratelimit.c — the token buckets behind --rate-limit and
 * --auth-fail-limit, and the view record that holds when a view was first
 * seen (the engage cap). */
#define _POSIX_C_SOURCE 200809L
#include "dwell/ratelimit.h"

#include <string.h>

#include "store/codec.h"
#include "check.h"

/* The key of client N (an IPv4-mapped address). */
static void key_of(uint32_t n, uint8_t key[16])
{
    memset(key, 0, 16);
    key[10] = key[11] = 0xff;
    key[12] = (uint8_t)(n >> 24);
    key[13] = (uint8_t)(n >> 16);
    key[14] = (uint8_t)(n >> 8);
    key[15] = (uint8_t)n;
}

TEST(a_bucket_allows_its_burst_then_refuses_with_the_wait)
{
    struct rate_limit rl;
    uint8_t k[16];
    key_of(1, k);
    CHECK(rate_init(&rl, 2, 5) == 0);
    for (int i = 0; i < 5; i++)
        CHECK(rate_take(&rl, k, 1000000) == 0);
    CHECK(rate_take(&rl, k, 1000000) == 1);       /* 0.5 s, rounded up */
    CHECK(rate_take(&rl, k, 1500000) == 0);       /* one token back */
    CHECK(rate_take(&rl, k, 1500000) >= 1);
    rate_free(&rl);
}

TEST(a_slow_refill_gives_a_long_retry_after)
{
    struct rate_limit rl;            /* 10 a minute, as --auth-fail-limit */
    uint8_t k[16];
    key_of(2, k);
    CHECK(rate_init(&rl, 10 / 60.0, 10) == 0);
    for (int i = 0; i < 10; i++)
        CHECK(rate_take(&rl, k, 5000000) == 0);
    CHECK(rate_peek(&rl, k, 5000000) == 6);
    CHECK(rate_peek(&rl, k, 5000000) == 6);       /* peeking takes nothing */
    CHECK(rate_peek(&rl, k, 11000000) == 0);
    rate_free(&rl);
}

TEST(other_keys_are_not_affected)
{
    struct rate_limit rl;
    uint8_t a[16], b[16];
    key_of(3, a);
    key_of(4, b);
    CHECK(rate_init(&rl, 1, 1) == 0);
    CHECK(rate_take(&rl, a, 0) == 0);
    CHECK(rate_take(&rl, a, 0) != 0);
    CHECK(rate_take(&rl, b, 0) == 0);
    rate_free(&rl);
}

TEST(a_spray_of_keys_never_refuses_a_new_one_and_memory_stays_fixed)
{
    struct rate_limit rl;
    uint8_t k[16];
    CHECK(rate_init(&rl, 1, 1) == 0);
    void *table = rl.slots;
    for (uint32_t n = 0; n < 10 * RATE_SLOTS; n++) {
        key_of(1000 + n, k);
        CHECK(rate_take(&rl, k, 1000) == 0);       /* each starts full */
    }
    CHECK(rl.slots == table);
    rate_free(&rl);
}

TEST(zero_is_no_limit)
{
    struct rate_limit rl;
    uint8_t k[16];
    key_of(5, k);
    CHECK(rate_init(&rl, 0, 0) == 0);
    for (int i = 0; i < 1000; i++)
        CHECK(rate_take(&rl, k, 0) == 0);
    rate_free(&rl);
}

TEST(rate_parse_reads_the_flag)
{
    double r, b;
    CHECK(rate_parse("20/s,400", &r, &b) == 0 && r == 20 && b == 400);
    CHECK(rate_parse("5/s", &r, &b) == 0 && r == 5 && b == 100);
    CHECK(rate_parse("0", &r, &b) == 0 && r == 0);
    CHECK(rate_parse("0.5/s,3", &r, &b) == 0 && r == 0.5 && b == 3);
    const char *bad[] = { "", "20", "20/m", "-1/s", "20/s,", "20/s,0",
                          "20/s,x", "x/s", "20/s,10 ", "nan/s" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(rate_parse(bad[i], &r, &b) == -1);
}

TEST(view_records_of_every_layout_read_back)
{
    struct view_rec w = { .article = 0x1122334455667788ull, .day = 20000,
                          .engaged_ms = 31000, .scroll = 80, .scroll0 = 10,
                          .flags = VIEW_READ, .vote = 2, .seqs = 5,
                          .first_us = 1765000000123456ull }, r;
    uint8_t buf[VIEW_REC_LEN];
    view_pack(&w, buf);
    MDB_val v = { VIEW_REC_LEN, buf };
    CHECK(VIEW_REC_LEN == 36);
    CHECK(view_read(&v, &r));
    CHECK(r.first_us == w.first_us && r.seqs == 5 && r.engaged_ms == 31000);
    v.mv_size = VIEW_REC_LEN_V2;                    /* 28: no first_us */
    CHECK(view_read(&v, &r));
    CHECK(r.first_us == 0 && r.seqs == 5 && r.article == w.article);
    v.mv_size = VIEW_REC_LEN_V1;                    /* 20: no seqs either */
    CHECK(view_read(&v, &r));
    CHECK(r.first_us == 0 && r.seqs == 0 && r.vote == 2);
    v.mv_size = 30;
    CHECK(!view_read(&v, &r));
}

int main(void)
{
    RUN(a_bucket_allows_its_burst_then_refuses_with_the_wait);
    RUN(a_slow_refill_gives_a_long_retry_after);
    RUN(other_keys_are_not_affected);
    RUN(a_spray_of_keys_never_refuses_a_new_one_and_memory_stays_fixed);
    RUN(zero_is_no_limit);
    RUN(rate_parse_reads_the_flag);
    RUN(view_records_of_every_layout_read_back);
    return check_summary();
}
