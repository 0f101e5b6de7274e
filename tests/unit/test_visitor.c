/* test_visitor.c — the visitor hash and the daily salt (SipHash-2-4 itself
 * is in test_crypto.c). */
#define _XOPEN_SOURCE 700
#include "check.h"
#include "fixture.h"
#include "base/crypto.h"
#include "dwell/visitor.h"

#include <stdint.h>

/* A salt whose bytes all equal V. */
static void fill_salt(uint8_t salt[VISITOR_SALT_LEN], uint8_t v)
{
    memset(salt, v, VISITOR_SALT_LEN);
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

TEST(named_hash_is_siphash_of_ff_len_name_addr_ua)
{
    /* The documented encoding: 0xff, the name's length, the name, the 16
     * address bytes, the user agent. */
    uint8_t salt[VISITOR_SALT_LEN], msg[128];
    fill_salt(salt, 0x5a);
    struct ipaddr a = addr_of("192.0.2.7");
    msg[0] = 0xff;
    msg[1] = 9;
    memcpy(msg + 2, "help.test", 9);
    memcpy(msg + 11, a.b, 16);
    memcpy(msg + 27, chrome_ua, 30);
    CHECK(visitor_hash_named(salt, "help.test", 9, &a, chrome_ua, 30) ==
          crypto_siphash24(salt, msg, 57));
    CHECK(visitor_hash_named(salt, "help.test", 9, &a, chrome_ua, 30) !=
          visitor_hash_named(salt, "help.tesu", 9, &a, chrome_ua, 30));
}

TEST(cluster_salt_and_key_are_hkdf_of_the_secret)
{
    /* Known answers (Python's hmac, RFC 5869 by hand) for the documented
     * info strings: "dwell visitor salt v1" || day (big-endian), "dwell
     * keyed hash v1"; the same through crypto_hkdf_sha256. */
    const char *sec = "00112233445566778899aabbccddeeff"
                      "00112233445566778899aabbccddeeff";
    struct visitor_cluster c;
    visitor_cluster_init(&c, sec, 64);
    uint8_t salt[VISITOR_SALT_LEN], key[VISITOR_KEY_LEN], want[32];
    char hex[65];
    visitor_cluster_salt(&c, 20000, salt);
    crypto_hex(salt, sizeof salt, hex);
    CHECK_EQ_STR(hex, "70caaa21e929060e9f7c718758aba88e");
    visitor_cluster_key(&c, key);
    crypto_hex(key, sizeof key, hex);
    CHECK_EQ_STR(hex, "20220e8903cc9958624d61136199633402404fab96b916c6cc90"
                      "36bd109e543d");
    const uint8_t info[] = "dwell visitor salt v1\x00\x00\x4e\x21";
    crypto_hkdf_sha256(NULL, 0, sec, 64, info, sizeof info - 1, want, 16);
    visitor_cluster_salt(&c, 20001, salt);
    CHECK(memcmp(salt, want, 16) == 0);
    /* another secret: unrelated salts */
    struct visitor_cluster d;
    visitor_cluster_init(&d, "10112233445566778899aabbccddeeff"
                             "00112233445566778899aabbccddeeff", 64);
    visitor_cluster_salt(&d, 20001, want);
    CHECK(memcmp(salt, want, 16) != 0);
}

TEST(cluster_secret_needs_256_bits_as_its_alphabet_carries)
{
    char err[512], s[5000];
    memset(s, 'a', sizeof s);                           /* hex digits */
    CHECK_EQ_INT(visitor_secret_check(s, 63, err, sizeof err), -1);
    CHECK(strstr(err, "too short") && strstr(err, "63 hex digits") &&
          strstr(err, "openssl rand -hex 32"));
    CHECK_EQ_INT(visitor_secret_check(s, 64, err, sizeof err), 0);
    memset(s, 'z', 43);                                 /* base64, text */
    CHECK_EQ_INT(visitor_secret_check(s, 42, err, sizeof err), -1);
    CHECK(strstr(err, "252 bits") != NULL);
    CHECK_EQ_INT(visitor_secret_check(s, 43, err, sizeof err), 0);
    memset(s, 0xc3, 32);                                /* raw bytes */
    CHECK_EQ_INT(visitor_secret_check(s, 31, err, sizeof err), -1);
    CHECK_EQ_INT(visitor_secret_check(s, 32, err, sizeof err), 0);
    CHECK_EQ_INT(visitor_secret_check(s, 0, err, sizeof err), -1);
    memset(s, 'a', sizeof s);
    CHECK_EQ_INT(visitor_secret_check(s, VISITOR_SECRET_MAX + 1, err,
                                      sizeof err), -1);
    CHECK(strstr(err, "at most") != NULL);
}

int main(void)
{
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
    RUN(named_hash_is_siphash_of_ff_len_name_addr_ua);
    RUN(cluster_salt_and_key_are_hkdf_of_the_secret);
    RUN(cluster_secret_needs_256_bits_as_its_alphabet_carries);
    return check_summary();
}
