/* test_jscan.c — base/jscan's lax reading (cJSON's, for beacons), the
 * unescaping of strings and the reading of numbers. The verdicts expected
 * of the lax mode are those of cJSON 1.7.15 (Debian's libcjson1) on the
 * same bytes. The strict mode's own tests are in test_base.c. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "base/jscan.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* True when the lax reading takes S (NUL-terminated) whole. */
static bool lax_ok(const char *s)
{
    struct jscan_err err;
    const char *e = s + strlen(s), *end = jscan_value_lax(s, e, &err);
    return end != NULL && jscan_ws(end, e) == e;
}

static bool strict_ok(const char *s)
{
    struct jscan_err err;
    const char *e = s + strlen(s), *end = jscan_value(s, e, &err);
    return end != NULL && jscan_ws(end, e) == e;
}

/* The decoded inside of the string literal S ("..." with its quotes) into
 * OUT (NUL-terminated), or NULL when it does not decode. */
static const char *unescaped(const char *s, char *out, size_t cap)
{
    ptrdiff_t n = jscan_unescape(s + 1, strlen(s) - 2, out, cap - 1);
    if (n < 0)
        return NULL;
    out[n] = '\0';
    return out;
}

TEST(lax_reading_keeps_what_cjson_accepted)
{
    CHECK(lax_ok("{\"ti\":\"a\tb\x01\"}"));         /* raw control bytes */
    CHECK(!strict_ok("{\"ti\":\"a\tb\"}"));
    CHECK(lax_ok("\x0b{\x0c\"e\"\x1f:\x01" "1}"));  /* any byte <= 0x20 */
    CHECK(!strict_ok("\x0b{\"e\":1}"));
    CHECK(lax_ok("[01, 1., -.5, 1.e5, 0.5e-3]"));
    CHECK(!strict_ok("[01]"));
    CHECK(!strict_ok("[1.]"));
    CHECK(lax_ok("[\"\\ud83d\\ude00\", \"\\u00e9\"]"));
}

TEST(lax_reading_refuses_what_cjson_refused)
{
    CHECK(!lax_ok("[.5]"));
    CHECK(!lax_ok("[+1]"));
    CHECK(!lax_ok("[1e]"));
    CHECK(!lax_ok("[1e5x]"));
    CHECK(!lax_ok("[-]"));
    CHECK(!lax_ok("[1,]"));
    CHECK(!lax_ok("{\"a\":1,}"));
    CHECK(!lax_ok("{\"a\" 1}"));
    CHECK(!lax_ok("[\"\\x\"]"));                   /* unknown escape */
    CHECK(!lax_ok("[\"\\u12\"]"));                 /* cut \u escape */
    CHECK(!lax_ok("[\"\\udc00\"]"));               /* lone low surrogate */
    CHECK(!lax_ok("[\"\\ud800\"]"));               /* lone high surrogate */
    CHECK(!lax_ok("[\"\\ud800\\u0041\"]"));        /* not a pair */
    CHECK(!lax_ok("[nul]"));
    CHECK(!lax_ok("[\"open"));
}

TEST(lax_reading_refuses_bad_hex_digits_which_cjson_read_as_nul)
{
    /* cJSON decoded "\u00zz" as U+0000, ending the C string there; the
     * beacon parser refuses it as malformed instead. */
    CHECK(!lax_ok("[\"s.test\\u00zzevil\"]"));
    CHECK(!lax_ok("[\"\\ud800\\uzzzz\"]"));
}

TEST(lax_nesting_goes_to_1000_levels_like_cjson)
{
    static char deep[2 * 1001 + 1];
    for (int levels = 1000; levels <= 1001; levels++) {
        memset(deep, '[', (size_t)levels);
        memset(deep + levels, ']', (size_t)levels);
        deep[2 * levels] = '\0';
        CHECK(lax_ok(deep) == (levels == 1000));
    }
    CHECK(!strict_ok(deep));
}

TEST(lax_number_of_any_length_reads_as_strtod_does)
{
    static char num[301];
    double d;
    memset(num, '1', 300);
    num[300] = '\0';
    CHECK(lax_ok(num));
    CHECK(jscan_number((struct jspan){ num, 300 }, &d));
    CHECK(d > 1.1e299 && d < 1.12e299);
    CHECK(jscan_number((struct jspan){ "1e2", 3 }, &d) && d == 100);
    CHECK(jscan_number((struct jspan){ "-.5", 3 }, &d) && d == -0.5);
    CHECK(!jscan_number((struct jspan){ "\"1\"", 3 }, &d));
    CHECK(!jscan_number((struct jspan){ "true", 4 }, &d));
    CHECK(!jscan_number((struct jspan){ "", 0 }, &d));
}

TEST(unescape_decodes_escapes_to_utf8)
{
    char out[64];
    CHECK_EQ_STR(unescaped("\"plain\"", out, sizeof out), "plain");
    CHECK_EQ_STR(unescaped("\"a\\\"b\\\\c\\/d\\n\\t\"", out, sizeof out),
                 "a\"b\\c/d\n\t");
    CHECK_EQ_STR(unescaped("\"caf\\u00e9\"", out, sizeof out), "caf\xc3\xa9");
    CHECK_EQ_STR(unescaped("\"\\u20AC\"", out, sizeof out), "\xe2\x82\xac");
    CHECK_EQ_STR(unescaped("\"\\ud83d\\ude00\"", out, sizeof out),
                 "\xf0\x9f\x98\x80");
    CHECK(unescaped("\"\\ud800\"", out, sizeof out) == NULL);
    CHECK(unescaped("\"\\q\"", out, sizeof out) == NULL);
}

TEST(unescape_never_writes_past_its_buffer)
{
    char out[8];
    CHECK(unescaped("\"abcdefghij\"", out, 6) == NULL);
    CHECK(unescaped("\"abcd\\u20AC\"", out, 7) == NULL);   /* 4 + 3 bytes */
    CHECK_EQ_STR(unescaped("\"abcd\\u20AC\"", out, 8), "abcd\xe2\x82\xac");
}

TEST(iterators_walk_a_lax_checked_object)
{
    const char *s = "{\x0b\"ti\":\"a\tb\",\"n\":[1,{\"x\":\"]}\"}],\"e\":01}";
    struct jscan_err err;
    CHECK(jscan_value_lax(s, s + strlen(s), &err) != NULL);
    struct jscan_iter it;
    struct jspan k, v;
    const char *want[] = { "ti", "\"a\tb\"", "n", "[1,{\"x\":\"]}\"}]",
                           "e", "01" };
    int i = 0;
    jscan_iter_init(&it, (struct jspan){ s, strlen(s) });
    while (jscan_next(&it, &k, &v)) {
        CHECK(i < 6);
        CHECK(k.n == strlen(want[i]) && memcmp(k.p, want[i], k.n) == 0);
        CHECK(v.n == strlen(want[i + 1]) &&
              memcmp(v.p, want[i + 1], v.n) == 0);
        i += 2;
    }
    CHECK_EQ_INT(i, 6);
}

int main(void)
{
    RUN(lax_reading_keeps_what_cjson_accepted);
    RUN(lax_reading_refuses_what_cjson_refused);
    RUN(lax_reading_refuses_bad_hex_digits_which_cjson_read_as_nul);
    RUN(lax_nesting_goes_to_1000_levels_like_cjson);
    RUN(lax_number_of_any_length_reads_as_strtod_does);
    RUN(unescape_decodes_escapes_to_utf8);
    RUN(unescape_never_writes_past_its_buffer);
    RUN(iterators_walk_a_lax_checked_object);
    return check_summary();
}
