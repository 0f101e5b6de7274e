/* test_json.c — the streaming JSON writer (src/base/json.c): escaping of
 * every control character, quotes and backslashes, UTF-8 passing through
 * (U+2028/2029 too) and bad bytes replaced, nesting and misuse, the cap,
 * and numbers printed byte for byte as cJSON printed them (the reports'
 * JSON must not change). */
#include "check.h"
#include "base/json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The text of one string value S[0..N) as the writer writes it; the caller
 * frees it. */
static char *string_of(const char *s, size_t n)
{
    struct json j;
    json_init(&j, 1 << 16);
    json_string_n(&j, s, n);
    return json_finish(&j, NULL);
}

/* The text of one double as the writer writes it, into OUT. */
static void double_of(double v, char out[64])
{
    struct json j;
    json_init(&j, 64);
    json_double(&j, v);
    char *s = json_finish(&j, NULL);
    snprintf(out, 64, "%s", s ? s : "(error)");
    free(s);
}

/* How cJSON 1.7 printed V as a number (what render.c answered before). */
static void cjson_double_of(double v, char out[64])
{
    cJSON *n = cJSON_CreateNumber(v);
    char *s = cJSON_PrintUnformatted(n);
    snprintf(out, 64, "%s", s ? s : "(error)");
    cJSON_free(s);
    cJSON_Delete(n);
}

TEST(every_control_char_is_escaped)
{
    for (int c = 0; c < 0x20; c++) {
        char in[1] = { (char)c }, want[16];
        const char *shortform = c == '\b' ? "\\b" : c == '\f' ? "\\f"
                              : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                              : c == '\t' ? "\\t" : NULL;
        if (shortform)
            snprintf(want, sizeof want, "\"%s\"", shortform);
        else
            snprintf(want, sizeof want, "\"\\u%04x\"", (unsigned)c);
        char *got = string_of(in, 1);
        CHECK(got != NULL);
        if (strcmp(got, want) != 0)
            printf("  char 0x%02x: %s, expected %s\n", c, got, want);
        CHECK(strcmp(got, want) == 0);
        free(got);
    }
}

TEST(control_chars_match_cjson)
{
    char in[32];
    for (int c = 1; c < 0x20; c++)
        in[c - 1] = (char)c;
    in[31] = '\0';
    char *got = string_of(in, 31);
    cJSON *s = cJSON_CreateString(in);
    char *want = cJSON_PrintUnformatted(s);
    CHECK(got != NULL && want != NULL);
    CHECK_EQ_STR(got, want);
    free(got);
    cJSON_free(want);
    cJSON_Delete(s);
}

TEST(quote_backslash_and_del)
{
    const char *in = "say \"hi\" \\ bye\x7f/";
    char *got = string_of(in, strlen(in));
    CHECK_EQ_STR(got, "\"say \\\"hi\\\" \\\\ bye\x7f/\"");
    free(got);
}

TEST(valid_utf8_passes_through_u2028_too)
{
    const char *s = "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 "
                    "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c";
    char *got = string_of(s, strlen(s));
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", s);
    CHECK_EQ_STR(got, want);
    free(got);
}

TEST(invalid_utf8_becomes_replacement_char)
{
    static const struct { const char *in, *want; } cases[] = {
        { "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },           /* never valid */
        { "\xe6\x97", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },       /* cut short */
        { "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },       /* overlong '/' */
        { "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
                                                              /* surrogate */
        { "\x80", "\"\xef\xbf\xbd\"" },                       /* lone tail */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = string_of(cases[i].in, strlen(cases[i].in));
        CHECK_EQ_STR(got, cases[i].want);
        free(got);
    }
}

TEST(nul_inside_a_counted_string_is_escaped)
{
    char *got = string_of("a\0b", 3);
    CHECK_EQ_STR(got, "\"a\\u0000b\"");
    free(got);
}

TEST(nesting_places_commas_and_colons)
{
    struct json j;
    json_init(&j, 1024);
    json_object_begin(&j);
    json_key(&j, "a");
    json_array_begin(&j);
    json_int(&j, 1);
    json_object_begin(&j);
    json_key(&j, "b");
    json_array_begin(&j);
    json_array_end(&j);
    json_object_end(&j);
    json_object_begin(&j);
    json_object_end(&j);
    json_array_end(&j);
    json_key(&j, "c");
    json_null(&j);
    json_key(&j, "d\"");
    json_bool(&j, true);
    json_key(&j, "e");
    json_bool(&j, false);
    json_key(&j, "f");
    json_string(&j, NULL);
    json_key_string(&j, "g", "x");
    json_key_int(&j, "h", -2);
    json_key_uint(&j, "i", 3);
    json_key_bool(&j, "k", true);
    json_object_end(&j);
    size_t len = 0;
    char *s = json_finish(&j, &len);
    const char *want =
        "{\"a\":[1,{\"b\":[]},{}],\"c\":null,\"d\\\"\":true,\"e\":false,"
        "\"f\":null,\"g\":\"x\",\"h\":-2,\"i\":3,\"k\":true}";
    CHECK_EQ_STR(s, want);
    CHECK_EQ_INT(len, strlen(want));
    free(s);
}

TEST(misuse_is_an_error_and_gives_no_text)
{
    struct json j;
    json_init(&j, 1024);                        /* a value without a key */
    json_object_begin(&j);
    json_int(&j, 1);
    CHECK_EQ_INT(json_error(&j), JSON_EMISUSE);
    CHECK(json_finish(&j, NULL) == NULL);

    json_array_begin(&j);                       /* a key in an array */
    json_key(&j, "k");
    CHECK_EQ_INT(json_error(&j), JSON_EMISUSE);
    json_free(&j);

    json_array_begin(&j);                       /* the wrong end */
    json_object_end(&j);
    CHECK_EQ_INT(json_error(&j), JSON_EMISUSE);
    json_free(&j);

    json_object_begin(&j);                      /* a key without a value */
    json_key(&j, "k");
    json_object_end(&j);
    CHECK_EQ_INT(json_error(&j), JSON_EMISUSE);
    json_free(&j);

    json_object_begin(&j);                      /* never closed */
    CHECK_EQ_INT(json_error(&j), JSON_OK);
    CHECK(json_finish(&j, NULL) == NULL);

    json_int(&j, 1);                            /* two top-level values */
    json_int(&j, 2);
    CHECK_EQ_INT(json_error(&j), JSON_EMISUSE);
    json_free(&j);

    CHECK(json_finish(&j, NULL) == NULL);       /* nothing written */

    for (int d = 0; d <= JSON_MAX_DEPTH; d++)   /* too deep */
        json_array_begin(&j);
    CHECK_EQ_INT(json_error(&j), JSON_EMISUSE);
    json_free(&j);
}

TEST(the_cap_is_exact_and_overflow_is_sticky)
{
    struct json j;
    json_init(&j, 7);                           /* {"a":1} is 7 bytes */
    json_object_begin(&j);
    json_key(&j, "a");
    json_int(&j, 1);
    json_object_end(&j);
    char *s = json_finish(&j, NULL);
    CHECK_EQ_STR(s, "{\"a\":1}");
    free(s);

    json_init(&j, 6);
    json_object_begin(&j);
    json_key(&j, "a");
    json_int(&j, 1);
    json_object_end(&j);
    CHECK_EQ_INT(json_error(&j), JSON_EBUF);
    CHECK(json_finish(&j, NULL) == NULL);

    json_init(&j, 100);                         /* a long string passes it */
    json_array_begin(&j);
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_string(&j, big);
    CHECK_EQ_INT(json_error(&j), JSON_EBUF);
    json_int(&j, 1);                            /* later calls do nothing */
    json_array_end(&j);
    CHECK_EQ_INT(json_error(&j), JSON_EBUF);
    CHECK(json_finish(&j, NULL) == NULL);
}

TEST(integers_print_exactly)
{
    struct json j;
    json_init(&j, 1024);
    json_array_begin(&j);
    json_int(&j, INT64_MIN);
    json_int(&j, -1);
    json_int(&j, 0);
    json_uint(&j, UINT64_MAX);
    json_array_end(&j);
    char *s = json_finish(&j, NULL);
    CHECK_EQ_STR(s, "[-9223372036854775808,-1,0,18446744073709551615]");
    free(s);
}

TEST(doubles_print_as_cjson_printed_them)
{
    static const double v[] = {
        0.0, -0.0, 1, -1, 0.5, 0.1, 0.6592, 0.3714, -0.0417, 1.0 / 3,
        2.0 / 3, 41820, 103693.5, 2147483647.0, 2147483648.0, -2147483648.0,
        3e9, 123456789012345.0, 999999999999999.0, 1e15, 1e-7, 1e300,
        -1e-300, 5e-324, 303.9, 0.0001, 12.3456
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char got[64], want[64];
        double_of(v[i], got);
        cjson_double_of(v[i], want);
        if (strcmp(got, want) != 0)
            printf("  %.17g: %s, cJSON %s\n", v[i], got, want);
        CHECK_EQ_STR(got, want);
        CHECK(strtod(got, NULL) == v[i]);       /* and reads back as V */
    }
    char got[64];
    double_of(0.1 + 0.2, got);      /* cJSON wrote 0.3, one ulp off */
    CHECK_EQ_STR(got, "0.30000000000000004");
    double_of(NAN, got);
    CHECK_EQ_STR(got, "null");
    double_of(-INFINITY, got);
    CHECK_EQ_STR(got, "null");
}

TEST(newline_separates_ndjson_values)
{
    struct json j;
    json_init(&j, 1024);
    json_object_begin(&j);
    json_key(&j, "a");
    json_uint(&j, 1);
    json_object_end(&j);
    json_newline(&j);
    json_array_begin(&j);
    json_array_end(&j);
    json_newline(&j);
    char *s = json_finish(&j, NULL);
    CHECK_EQ_STR(s, "{\"a\":1}\n[]\n");
    free(s);
    json_newline(&j);                           /* before any value */
    CHECK_EQ_INT(json_error(&j), JSON_EMISUSE);
    json_free(&j);
}

int main(void)
{
    RUN(every_control_char_is_escaped);
    RUN(control_chars_match_cjson);
    RUN(quote_backslash_and_del);
    RUN(valid_utf8_passes_through_u2028_too);
    RUN(invalid_utf8_becomes_replacement_char);
    RUN(nul_inside_a_counted_string_is_escaped);
    RUN(nesting_places_commas_and_colons);
    RUN(misuse_is_an_error_and_gives_no_text);
    RUN(the_cap_is_exact_and_overflow_is_sticky);
    RUN(integers_print_exactly);
    RUN(doubles_print_as_cjson_printed_them);
    RUN(newline_separates_ndjson_values);
    return check_summary();
}
