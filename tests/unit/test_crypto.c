/* test_crypto.c — base/crypto: SHA-1 and SHA-256 against FIPS 180-4,
 * HMAC against RFC 2202 (SHA-1) and RFC 4231 (SHA-256), SipHash-2-4
 * against the reference table, random bytes, constant-time compare,
 * base64, base64url and hex. Expected digests cross-checked with Python's
 * hashlib and hmac. */
#include "check.h"
#include "base/crypto.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* --- SHA-1 and HMAC-SHA-1 (moved from test_helpdesk.c) ------------------- */

/* The digest of MSG under H (HMAC-H under KEY when KEY is not NULL) as
 * hex, compared on the first strlen(WANT) digits (RFC 4231 case 5 checks
 * a truncated MAC). */
static bool digest_is(enum crypto_hash h, const void *key, size_t klen,
                      const void *msg, size_t mlen, const char *want)
{
    uint8_t d[CRYPTO_MAC_MAX];
    char hex[2 * CRYPTO_MAC_MAX + 1];
    if (key != NULL)
        crypto_hmac(h, key, klen, msg, mlen, d);
    else if (h == CRYPTO_SHA1)
        crypto_sha1(msg, mlen, d);
    else
        crypto_sha256(msg, mlen, d);
    crypto_hex(d, crypto_hash_len(h), hex);
    bool ok = strlen(want) >= 32 && strncmp(hex, want, strlen(want)) == 0;
    if (!ok)
        printf("  digest = %s, expected %s\n", hex, want);
    return ok;
}

#define sha1_is(m, n, w)            digest_is(CRYPTO_SHA1, NULL, 0, m, n, w)
#define sha256_is(m, n, w)          digest_is(CRYPTO_SHA256, NULL, 0, m, n, w)
#define hmac1_is(k, kn, m, n, w)    digest_is(CRYPTO_SHA1, k, kn, m, n, w)
#define hmac256_is(k, kn, m, n, w)  digest_is(CRYPTO_SHA256, k, kn, m, n, w)

TEST(sha1_fips180_and_rfc3174_vectors)
{
    /* RFC 3174 section 7.3, TEST1..TEST4. */
    CHECK(sha1_is("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d"));
    const char *t2 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK(sha1_is(t2, strlen(t2), "84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
    static char million[1000000];
    memset(million, 'a', sizeof million);
    CHECK(sha1_is(million, sizeof million,
                  "34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
    char t4[640];
    for (int i = 0; i < 80; i++)
        memcpy(t4 + 8 * i, "01234567", 8);
    CHECK(sha1_is(t4, sizeof t4, "dea356a2cddd90c7a7ecedc5ebb563934f460452"));
    CHECK(sha1_is("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
}

TEST(hmac_sha1_rfc2202_cases_1_to_7)
{
    uint8_t k[80];
    uint8_t m[50];
    memset(k, 0x0b, 20);
    CHECK(hmac1_is(k, 20, "Hi There", 8,
                  "b617318655057264e28bc0b6fb378c8ef146be00"));
    CHECK(hmac1_is("Jefe", 4, "what do ya want for nothing?", 28,
                  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
    memset(k, 0xaa, 20);
    memset(m, 0xdd, 50);
    CHECK(hmac1_is(k, 20, m, 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"));
    for (int i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(m, 0xcd, 50);
    CHECK(hmac1_is(k, 25, m, 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"));
    memset(k, 0x0c, 20);
    CHECK(hmac1_is(k, 20, "Test With Truncation", 20,
                  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"));
    memset(k, 0xaa, 80);
    const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK(hmac1_is(k, 80, big, strlen(big),
                  "aa4ae5e15272d00e95705637ce8a3b55ed402112"));
    const char *two = "Test Using Larger Than Block-Size Key and Larger "
                      "Than One Block-Size Data";
    CHECK(hmac1_is(k, 80, two, strlen(two),
                  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"));
}

/* --- SHA-256 and HMAC-SHA-256 -------------------------------------------- */

TEST(sha256_fips180_vectors)
{
    /* FIPS 180-4 examples: "abc", the 448-bit message, a million 'a'. */
    CHECK(sha256_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223"
                              "b00361a396177a9cb410ff61f20015ad"));
    const char *t2 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK(sha256_is(t2, strlen(t2), "248d6a61d20638b8e5c026930c3e6039"
                                    "a33ce45964ff2167f6ecedd419db06c1"));
    static char million[1000000];
    memset(million, 'a', sizeof million);
    CHECK(sha256_is(million, sizeof million,
                    "cdc76e5c9914fb9281a1c7e284d73e67"
                    "f1809a48a497200e046d39ccc7112cd0"));
    CHECK(sha256_is("", 0, "e3b0c44298fc1c149afbf4c8996fb924"
                           "27ae41e4649b934ca495991b7852b855"));
}

TEST(hmac_sha256_rfc4231_cases_1_to_7)
{
    uint8_t k[131], m[50];
    memset(k, 0x0b, 20);
    CHECK(hmac256_is(k, 20, "Hi There", 8,
                     "b0344c61d8db38535ca8afceaf0bf12b"
                     "881dc200c9833da726e9376c2e32cff7"));
    CHECK(hmac256_is("Jefe", 4, "what do ya want for nothing?", 28,
                     "5bdcc146bf60754e6a042426089575c7"
                     "5a003f089d2739839dec58b964ec3843"));
    memset(k, 0xaa, 20);
    memset(m, 0xdd, 50);
    CHECK(hmac256_is(k, 20, m, 50, "773ea91e36800e46854db8ebd09181a7"
                                   "2959098b3ef8c122d9635514ced565fe"));
    for (int i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(m, 0xcd, 50);
    CHECK(hmac256_is(k, 25, m, 50, "82558a389a443c0ea4cc819899f2083a"
                                   "85f0faa3e578f8077a2e3ff46729665b"));
    memset(k, 0x0c, 20);                        /* case 5: 128 bits kept */
    CHECK(hmac256_is(k, 20, "Test With Truncation", 20,
                     "a3b6167473100ee06e0c796c2955552b"));
    memset(k, 0xaa, 131);
    const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK(hmac256_is(k, 131, big, strlen(big),
                     "60e431591ee0b67f0d8a26aacbf5b77f"
                     "8e0bc6213728c5140546040f0ee37f54"));
    const char *two = "This is a test using a larger than block-size key "
                      "and a larger than block-size data. The key needs to "
                      "be hashed before being used by the HMAC algorithm.";
    CHECK(hmac256_is(k, 131, two, strlen(two),
                     "9b09ffa71b942fcb27635fbcd5b0e944"
                     "bfdc63644f0713938a7f51535c3a35e2"));
}

TEST(hmac_takes_null_for_empty_key_and_message)
{
    uint8_t a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN];
    crypto_hmac(CRYPTO_SHA256, NULL, 0, NULL, 0, a);
    crypto_hmac(CRYPTO_SHA256, "", 0, "", 0, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(hmac256_is("", 0, "", 0, "b613679a0814d9ec772f95d778c35fc5"
                                   "ff1697c493715653c6c712144292c5ad"));
    CHECK_EQ_INT(crypto_hash_len(CRYPTO_SHA1), 20);
    CHECK_EQ_INT(crypto_hash_len(CRYPTO_SHA256), 32);
}

/* --- SipHash-2-4 --------------------------------------------------------- */

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

TEST(siphash_official_vector_15_bytes)
{
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    CHECK(crypto_siphash24(ref_key, msg, sizeof msg) ==
          UINT64_C(0xa129ca6149be45e5));
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
    CHECK(crypto_siphash24(ref_key, buf + 3, 15) ==
          UINT64_C(0xa129ca6149be45e5));
    CHECK(crypto_siphash24(ref_key, buf + 3, 63) == reference_vectors[63]);
}

TEST(siphash_streamed_in_pieces_equals_whole)
{
    uint8_t msg[63];
    for (int i = 0; i < 63; i++)
        msg[i] = (uint8_t)i;
    for (size_t cut = 0; cut <= 63; cut += 5) {
        struct crypto_sip s;
        crypto_sip_init(&s, ref_key);
        crypto_sip_update(&s, msg, cut);
        crypto_sip_update(&s, msg + cut, 63 - cut);
        CHECK(crypto_sip_final(&s) == reference_vectors[63]);
    }
}

/* --- random, compare ----------------------------------------------------- */

TEST(random_fills_and_differs)
{
    uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };
    CHECK_EQ_INT(crypto_random(a, sizeof a), 0);
    CHECK_EQ_INT(crypto_random(b, sizeof b), 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
}

TEST(equal_is_memcmp_zero)
{
    CHECK(crypto_equal("abcdef", "abcdef", 6));
    CHECK(!crypto_equal("abcdef", "abcdeg", 6));
    CHECK(!crypto_equal("xbcdef", "abcdef", 6));
    CHECK(crypto_equal("a", "b", 0));
}

/* --- base64, base64url, hex ---------------------------------------------- */

TEST(base64_rfc4648_vectors_and_round_trip)
{
    static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    char out[16];
    uint8_t back[8];
    for (size_t n = 0; n <= 6; n++) {
        CHECK_EQ_INT(crypto_base64("foobar", n, out, sizeof out),
                     strlen(want[n]));
        CHECK_EQ_STR(out, want[n]);
        CHECK_EQ_INT(crypto_unbase64(out, strlen(out), false, back,
                                     sizeof back), n);
        CHECK(memcmp(back, "foobar", n) == 0);
    }
    CHECK_EQ_INT(crypto_base64("foo", 3, out, 4), -1);      /* no room */
    CHECK_EQ_INT(crypto_base64("foo", 3, out, 5), 4);
    CHECK_EQ_INT(crypto_unbase64("Zm9", 3, false, back, 8), -1);
    CHECK_EQ_INT(crypto_unbase64("Zm9v!A==", 8, false, back, 8), -1);
    CHECK_EQ_INT(crypto_unbase64("Zh==", 4, false, back, 8), -1);
    CHECK_EQ_INT(crypto_unbase64("Zm9vYmFy", 8, false, back, 5), -1);
}

TEST(base64url_has_no_padding_and_url_alphabet)
{
    const uint8_t in[] = { 0xfb, 0xff, 0xbf, 0xfe };
    char out[16];
    uint8_t back[8];
    CHECK_EQ_INT(crypto_base64(in, 4, out, sizeof out), 8);
    CHECK_EQ_STR(out, "+/+//g==");
    CHECK_EQ_INT(crypto_base64url(in, 4, out, sizeof out), 6);
    CHECK_EQ_STR(out, "-_-__g");
    CHECK_EQ_INT(crypto_unbase64(out, 6, true, back, sizeof back), 4);
    CHECK(memcmp(back, in, 4) == 0);
    CHECK_EQ_INT(crypto_unbase64("-_-__g==", 8, true, back, 8), 4);
    CHECK_EQ_INT(crypto_unbase64("+/+//g==", 8, true, back, 8), -1);
}

TEST(hex_round_trip_and_rejects_non_hex)
{
    const uint8_t in[] = { 0x00, 0x7f, 0x80, 0xff, 0xa5 };
    char out[11];
    uint8_t back[5];
    crypto_hex(in, sizeof in, out);
    CHECK_EQ_STR(out, "007f80ffa5");
    CHECK_EQ_INT(crypto_unhex("007F80FFA5", 5, back), 0);
    CHECK(memcmp(back, in, 5) == 0);
    CHECK_EQ_INT(crypto_unhex("0g", 1, back), -1);
}

/* Writes HKDF-SHA256 of the hex arguments (NULL salt or info: absent)
 * into OUT as hex. */
static void hkdf_hex(const char *ikm, const char *salt, const char *info,
                     size_t l, char *out)
{
    uint8_t k[80], s[80], i[80], okm[82];
    size_t kn = strlen(ikm) / 2, sn = salt ? strlen(salt) / 2 : 0,
           in = info ? strlen(info) / 2 : 0;
    crypto_unhex(ikm, kn, k);
    if (salt)
        crypto_unhex(salt, sn, s);
    if (info)
        crypto_unhex(info, in, i);
    memset(out, 0, 2 * l + 1);
    if (crypto_hkdf_sha256(salt ? s : NULL, sn, k, kn, info ? i : NULL, in,
                           okm, l) == 0)
        crypto_hex(okm, l, out);
}

TEST(hkdf_sha256_rfc5869_cases_1_to_3)
{
    char out[2 * 82 + 1];
    hkdf_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
             "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42, out);
    CHECK_EQ_STR(out, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
                      "2d56ecc4c5bf34007208d5b887185865");
    hkdf_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
             "1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b"
             "3c3d3e3f404142434445464748494a4b4c4d4e4f",
             "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d"
             "7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b"
             "9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
             "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccd"
             "cecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaeb"
             "ecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", 82, out);
    CHECK_EQ_STR(out, "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050"
                      "cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c"
                      "2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f"
                      "1d87");
    hkdf_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", NULL, NULL, 42,
             out);
    CHECK_EQ_STR(out, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e"
                      "5f3c738d2d9d201395faa4b61a96c8");
    uint8_t okm[1];
    CHECK_EQ_INT(crypto_hkdf_sha256(NULL, 0, "k", 1, NULL, 0, okm, 0), -1);
    CHECK_EQ_INT(crypto_hkdf_sha256(NULL, 0, "k", 1, NULL, 0, okm,
                                    255 * 32 + 1), -1);
}

int main(void)
{
    RUN(sha1_fips180_and_rfc3174_vectors);
    RUN(hmac_sha1_rfc2202_cases_1_to_7);
    RUN(sha256_fips180_vectors);
    RUN(hmac_sha256_rfc4231_cases_1_to_7);
    RUN(hmac_takes_null_for_empty_key_and_message);
    RUN(siphash_official_vector_15_bytes);
    RUN(siphash_official_vector_empty_message);
    RUN(siphash_matches_all_64_reference_vectors);
    RUN(siphash_reads_unaligned_input);
    RUN(siphash_streamed_in_pieces_equals_whole);
    RUN(random_fills_and_differs);
    RUN(equal_is_memcmp_zero);
    RUN(base64_rfc4648_vectors_and_round_trip);
    RUN(base64url_has_no_padding_and_url_alphabet);
    RUN(hex_round_trip_and_rejects_non_hex);
    RUN(hkdf_sha256_rfc5869_cases_1_to_3);
    return check_summary();
}
