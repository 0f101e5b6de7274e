/* test_visitor.c — SipHash-2-4, the visitor hash and the daily salt. */
#include "check.h"
#include "base/crypto.h"
#include "dwell/clientaddr.h"
#include "dwell/visitor.h"

#include <stdint.h>

/* SipHash-2-4 of the messages 00, 00 01, ..., 00 .. 3e (lengths 0 to 63)
 * under the key 00 .. 0f: vectors_sip64 of the reference implementation
 * (github.com/veorq/SipHash, vectors.h), read as little-endian integers. */
static const uint64_t reference_vectors[64] = {
    UINT64_C(0x726fdb47dd0e0e31), UINT64_C(0x74f839c593dc67fd),
    UINT64_C(0x0d6c8009d9a94f5a), UINT64_C(0x85676696d7fb7e2d),
    UINT64_C(0xcf2794e0277187b7), UINT64_C(0x18765564cd99a68d),
    UINT64_C(0xcbc9466e58fee3ce), UINT64_C(0xab0200f58b01d137),
    UINT64_C(0x93f5f5799a932462), UINT64_C(0x9e0082df0ba9e4b0),
    UINT64_C(0x7a5dbbc594ddb9f3), UINT64_C(0xf4b32f46226bada7),
    UINT64_C(0x751e8fbc860ee5fb), UINT64_C(0x14ea5627c0843d90),
    UINT64_C(0xf723ca908e7af2ee), UINT64_C(0xa129ca6149be45e5),
    UINT64_C(0x3f2acc7f57c29bdb), UINT64_C(0x699ae9f52cbe4794),
    UINT64_C(0x4bc1b3f0968dd39c), UINT64_C(0xbb6dc91da77961bd),
    UINT64_C(0xbed65cf21aa2ee98), UINT64_C(0xd0f2cbb02e3b67c7),
    UINT64_C(0x93536795e3a33e88), UINT64_C(0xa80c038ccd5ccec8),
    UINT64_C(0xb8ad50c6f649af94), UINT64_C(0xbce192de8a85b8ea),
    UINT64_C(0x17d835b85bbb15f3), UINT64_C(0x2f2e6163076bcfad),
    UINT64_C(0xde4daaaca71dc9a5), UINT64_C(0xa6a2506687956571),
    UINT64_C(0xad87a3535c49ef28), UINT64_C(0x32d892fad841c342),
    UINT64_C(0x7127512f72f27cce), UINT64_C(0xa7f32346f95978e3),
    UINT64_C(0x12e0b01abb051238), UINT64_C(0x15e034d40fa197ae),
    UINT64_C(0x314dffbe0815a3b4), UINT64_C(0x027990f029623981),
    UINT64_C(0xcadcd4e59ef40c4d), UINT64_C(0x9abfd8766a33735c),
    UINT64_C(0x0e3ea96b5304a7d0), UINT64_C(0xad0c42d6fc585992),
    UINT64_C(0x187306c89bc215a9), UINT64_C(0xd4a60abcf3792b95),
    UINT64_C(0xf935451de4f21df2), UINT64_C(0xa9538f0419755787),
    UINT64_C(0xdb9acddff56ca510), UINT64_C(0xd06c98cd5c0975eb),
    UINT64_C(0xe612a3cb9ecba951), UINT64_C(0xc766e62cfcadaf96),
    UINT64_C(0xee64435a9752fe72), UINT64_C(0xa192d576b245165a),
    UINT64_C(0x0a8787bf8ecb74b2), UINT64_C(0x81b3e73d20b49b6f),
    UINT64_C(0x7fa8220ba3b2ecea), UINT64_C(0x245731c13ca42499),
    UINT64_C(0xb78dbfaf3a8d83bd), UINT64_C(0xea1ad565322a1a0b),
    UINT64_C(0x60e61c23a3795013), UINT64_C(0x6606d7e446282b93),
    UINT64_C(0x6ca4ecb15c5f91e1), UINT64_C(0x9f626da15c9625f3),
    UINT64_C(0xe51b38608ef25f57), UINT64_C(0x958a324ceb064572),
};

static const uint8_t ref_key[16] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
};

static const char chrome_ua[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/* Parses S, which the test knows to be a valid address. */
static struct ipaddr addr_of(const char *s)
{
    struct ipaddr a;
    memset(&a, 0, sizeof a);
    if (ipaddr_parse(s, strlen(s), &a) != 0)
        printf("  test setup: %s did not parse\n", s);
    return a;
}

/* A salt whose bytes all equal V. */
static void fill_salt(uint8_t salt[VISITOR_SALT_LEN], uint8_t v)
{
    memset(salt, v, VISITOR_SALT_LEN);
}

TEST(siphash_official_vector_15_bytes)
{
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    CHECK(crypto_siphash24(ref_key, msg, sizeof msg) == UINT64_C(0xa129ca6149be45e5));
}

TEST(siphash_official_vector_empty_message)
{
    CHECK(crypto_siphash24(ref_key, "", 0) == UINT64_C(0x726fdb47dd0e0e31));
    CHECK(crypto_siphash24(ref_key, NULL, 0) == UINT64_C(0x726fdb47dd0e0e31));
}

TEST(siphash_matches_all_64_reference_vectors)
{
    uint8_t msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (size_t len = 0; len < 64; len++) {
        uint64_t h = crypto_siphash24(ref_key, msg, len);
        if (h != reference_vectors[len])
            printf("  length %zu: got %016llx\n", len, (unsigned long long)h);
        CHECK(h == reference_vectors[len]);
    }
}

TEST(siphash_reads_unaligned_input)
{
    uint8_t buf[80];
    for (int i = 0; i < 64; i++)
        buf[i + 3] = (uint8_t)i;
    CHECK(crypto_siphash24(ref_key, buf + 3, 15) == UINT64_C(0xa129ca6149be45e5));
    CHECK(crypto_siphash24(ref_key, buf + 3, 63) == reference_vectors[63]);
}

TEST(visitor_hash_is_siphash_of_site_addr_ua)
{
    /* The documented encoding: site id little-endian, the 16 address bytes,
     * then the user agent. Also checks the streamed hash against the one-shot
     * one for user agents of every length around the 8-byte blocks. */
    uint8_t salt[VISITOR_SALT_LEN];
    for (int i = 0; i < VISITOR_SALT_LEN; i++)
        salt[i] = (uint8_t)(0xa0 + i);
    struct ipaddr a = addr_of("2001:db8::42");
    for (size_t n = 0; n <= 40; n++) {
        uint8_t msg[64];
        msg[0] = 0x78; msg[1] = 0x56; msg[2] = 0x34; msg[3] = 0x12;
        memcpy(msg + 4, a.b, 16);
        memcpy(msg + 20, chrome_ua, n);
        CHECK(visitor_hash(salt, 0x12345678u, &a, chrome_ua, n) ==
              crypto_siphash24(salt, msg, 20 + n));
    }
}

TEST(visitor_same_inputs_same_hash)
{
    uint8_t salt[VISITOR_SALT_LEN];
    fill_salt(salt, 7);
    struct ipaddr a = addr_of("203.0.113.9"), b = addr_of("::ffff:203.0.113.9");
    uint64_t h1 = visitor_hash(salt, 3, &a, chrome_ua, strlen(chrome_ua));
    uint64_t h2 = visitor_hash(salt, 3, &b, chrome_ua, strlen(chrome_ua));
    CHECK(h1 == h2);
}

TEST(visitor_different_salt_different_hash)
{
    uint8_t s1[VISITOR_SALT_LEN], s2[VISITOR_SALT_LEN];
    fill_salt(s1, 1);
    fill_salt(s2, 1);
    s2[15] = 2;
    struct ipaddr a = addr_of("203.0.113.9");
    CHECK(visitor_hash(s1, 3, &a, chrome_ua, strlen(chrome_ua)) !=
          visitor_hash(s2, 3, &a, chrome_ua, strlen(chrome_ua)));
}

TEST(visitor_different_site_different_hash)
{
    uint8_t salt[VISITOR_SALT_LEN];
    fill_salt(salt, 1);
    struct ipaddr a = addr_of("203.0.113.9");
    CHECK(visitor_hash(salt, 3, &a, chrome_ua, strlen(chrome_ua)) !=
          visitor_hash(salt, 4, &a, chrome_ua, strlen(chrome_ua)));
}

TEST(visitor_different_addr_different_hash)
{
    uint8_t salt[VISITOR_SALT_LEN];
    fill_salt(salt, 1);
    struct ipaddr a = addr_of("203.0.113.9"), b = addr_of("203.0.113.10");
    struct ipaddr c = addr_of("2001:db8::9");
    uint64_t ha = visitor_hash(salt, 3, &a, chrome_ua, strlen(chrome_ua));
    CHECK(ha != visitor_hash(salt, 3, &b, chrome_ua, strlen(chrome_ua)));
    CHECK(ha != visitor_hash(salt, 3, &c, chrome_ua, strlen(chrome_ua)));
}

TEST(visitor_different_ua_different_hash)
{
    uint8_t salt[VISITOR_SALT_LEN];
    fill_salt(salt, 1);
    struct ipaddr a = addr_of("203.0.113.9");
    size_t n = strlen(chrome_ua);
    uint64_t h = visitor_hash(salt, 3, &a, chrome_ua, n);
    CHECK(h != visitor_hash(salt, 3, &a, chrome_ua, n - 1));
    const char *firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) "
                          "Gecko/20100101 Firefox/121.0";
    CHECK(h != visitor_hash(salt, 3, &a, firefox, strlen(firefox)));
}

TEST(visitor_null_ua_equals_empty_ua)
{
    uint8_t salt[VISITOR_SALT_LEN];
    fill_salt(salt, 9);
    struct ipaddr a = addr_of("198.51.100.1");
    uint64_t empty = visitor_hash(salt, 1, &a, "", 0);
    CHECK(visitor_hash(salt, 1, &a, NULL, 0) == empty);
    CHECK(visitor_hash(salt, 1, &a, NULL, 5) == empty);
}

TEST(visitor_ua_length_bounds_the_read)
{
    /* Only UALEN bytes count; the buffer need not be NUL-terminated. */
    uint8_t salt[VISITOR_SALT_LEN];
    fill_salt(salt, 4);
    struct ipaddr a = addr_of("198.51.100.1");
    const char ua[] = {'c', 'u', 'r', 'l', 'X'};
    CHECK(visitor_hash(salt, 1, &a, ua, 4) ==
          visitor_hash(salt, 1, &a, "curl", 4));
}

TEST(salt_live_today_and_yesterday)
{
    CHECK(visitor_salt_live(20000, 20000));
    CHECK(visitor_salt_live(19999, 20000));
    CHECK(visitor_salt_live(0, 0));
    CHECK(visitor_salt_live(0, 1));
}

TEST(salt_dead_when_older)
{
    CHECK(!visitor_salt_live(19998, 20000));
    CHECK(!visitor_salt_live(0, 20000));
    CHECK(!visitor_salt_live(UINT32_MAX, 0));
}

TEST(salt_dead_when_from_future)
{
    CHECK(!visitor_salt_live(20001, 20000));
    CHECK(!visitor_salt_live(30000, 20000));
    CHECK(!visitor_salt_live(1, 0));
}

TEST(two_new_salts_differ)
{
    uint8_t s1[VISITOR_SALT_LEN], s2[VISITOR_SALT_LEN], zero[VISITOR_SALT_LEN];
    memset(zero, 0, sizeof zero);
    CHECK_EQ_INT(visitor_new_salt(s1), 0);
    CHECK_EQ_INT(visitor_new_salt(s2), 0);
    CHECK(memcmp(s1, s2, VISITOR_SALT_LEN) != 0);
    CHECK(memcmp(s1, zero, VISITOR_SALT_LEN) != 0);
}

int main(void)
{
    RUN(siphash_official_vector_15_bytes);
    RUN(siphash_official_vector_empty_message);
    RUN(siphash_matches_all_64_reference_vectors);
    RUN(siphash_reads_unaligned_input);
    RUN(visitor_hash_is_siphash_of_site_addr_ua);
    RUN(visitor_same_inputs_same_hash);
    RUN(visitor_different_salt_different_hash);
    RUN(visitor_different_site_different_hash);
    RUN(visitor_different_addr_different_hash);
    RUN(visitor_different_ua_different_hash);
    RUN(visitor_null_ua_equals_empty_ua);
    RUN(visitor_ua_length_bounds_the_read);
    RUN(salt_live_today_and_yesterday);
    RUN(salt_dead_when_older);
    RUN(salt_dead_when_from_future);
    RUN(two_new_salts_differ);
    return check_summary();
}
