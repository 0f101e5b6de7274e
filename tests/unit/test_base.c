/* test_base.c — base/buf (caps and sticky errors), base/time (dates,
 * ISO 8601, durations, the monotonic deadline), base/utf8, base/csv and
 * base/jscan. Expected instants computed with Python's datetime. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "base/buf.h"
#include "base/csv.h"
#include "base/jscan.h"
#include "base/time.h"
#include "base/utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- buf ----------------------------------------------------------------- */

TEST(buf_appends_and_hands_over_nul_terminated_text)
{
    struct buf b;
    buf_init(&b, 100);
    buf_str(&b, "id,");
    buf_printf(&b, "%d-%s", 42, "x");
    buf_put(&b, "yz", 1);
    CHECK(!buf_failed(&b));
    size_t n = 0;
    char *s = buf_take(&b, &n);
    CHECK_EQ_STR(s, "id,42-xy");
    CHECK_EQ_INT(n, 8);
    free(s);
    s = buf_take(&b, &n);                       /* untouched: "" */
    CHECK_EQ_STR(s, "");
    free(s);
}

TEST(buf_cap_is_hard_and_failure_sticky)
{
    struct buf b;
    buf_init(&b, 10);
    buf_put(&b, "0123456789", 10);              /* exactly the cap */
    CHECK(!buf_failed(&b));
    CHECK_EQ_INT(b.n, 10);
    buf_put(&b, "a", 1);                        /* one past */
    CHECK(buf_failed(&b));
    CHECK_EQ_INT(b.n, 10);
    buf_reset(&b);
    CHECK(!buf_failed(&b));
    buf_put(&b, "abc", 3);
    buf_put(&b, "0123456789", 10);              /* passes it: fails */
    buf_put(&b, "d", 1);                        /* and stays failed */
    CHECK(buf_failed(&b));
    CHECK(buf_take(&b, NULL) == NULL);
}

TEST(buf_printf_longer_than_its_scratch_and_over_the_cap)
{
    struct buf b;
    char big[600];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_init(&b, 1000);
    buf_printf(&b, "<%s>", big);
    CHECK(!buf_failed(&b));
    CHECK_EQ_INT(b.n, 601);
    CHECK(b.p[0] == '<' && b.p[600] == '>' && b.p[601] == '\0');
    buf_printf(&b, "<%s>", big);                /* 1202 > 1000 */
    CHECK(buf_failed(&b));
    buf_free(&b);
}

TEST(grow_array_doubles_and_refuses_past_max)
{
    int *a = NULL;
    size_t cap = 0;
    CHECK_EQ_INT(buf_grow_array(&a, &cap, 1, sizeof *a, 100), 0);
    CHECK_EQ_INT(cap, 16);
    a[15] = 7;
    CHECK_EQ_INT(buf_grow_array(&a, &cap, 17, sizeof *a, 100), 0);
    CHECK_EQ_INT(cap, 32);
    CHECK_EQ_INT(a[15], 7);
    CHECK_EQ_INT(buf_grow_array(&a, &cap, 90, sizeof *a, 100), 0);
    CHECK_EQ_INT(cap, 100);                     /* clamped to max */
    CHECK_EQ_INT(buf_grow_array(&a, &cap, 101, sizeof *a, 100), -1);
    CHECK_EQ_INT(cap, 100);
    CHECK_EQ_INT(buf_grow_array(&a, &cap, SIZE_MAX / 2, 8, SIZE_MAX), -1);
    free(a);
}

/* --- time ---------------------------------------------------------------- */

/* ISO 8601 times and what they parse to; BAD marks a rejected one. */
#define BAD UINT64_MAX
static const struct { const char *s; uint64_t us; } iso_cases[] = {
    { "1970-01-01", 0 },
    { "2024-02-29T12:34:56Z", UINT64_C(1709210096000000) },
    { "2024-02-29t12:34:56z", UINT64_C(1709210096000000) },
    { " 2024-02-29 12:34:56 UTC ", UINT64_C(1709210096000000) },
    { "2024-02-29T14:34:56+02:00", UINT64_C(1709210096000000) },
    { "2024-02-29T07:04:56-0530", UINT64_C(1709210096000000) },
    { "2024-02-29T13:34:56+01", UINT64_C(1709210096000000) },
    { "2024-02-29T12:34", UINT64_C(1709210040000000) },
    { "2024-02-29T12:34:56.5Z", UINT64_C(1709210096500000) },
    { "2024-02-29T12:34:56,1234567Z", UINT64_C(1709210096123456) },
    { "2016-12-31T23:59:60Z", UINT64_C(1483228800000000) },  /* leap s */
    { "9999-12-31T23:59:59Z", UINT64_C(253402300799000000) },
    { "", BAD },
    { "2023-02-29", BAD },                      /* not a leap year */
    { "2024-13-01", BAD },
    { "2024-04-31", BAD },
    { "2024-01-01T24:00Z", BAD },
    { "2024-01-01T12:60Z", BAD },
    { "2024-01-01T12:00:00.Z", BAD },
    { "2024-01-01T12:00+24:00", BAD },
    { "2024-01-01T12:00 PST", BAD },
    { "1969-12-31T23:59:59Z", BAD },            /* before the epoch */
    { "1970-01-01T00:30+01:00", BAD },
    { "2024-1-01", BAD },
    { "1700000000", BAD },                      /* Unix seconds: not ISO */
};

TEST(iso8601_forms_zones_fractions_and_rejections)
{
    for (size_t i = 0; i < sizeof iso_cases / sizeof iso_cases[0]; i++) {
        uint64_t us = BAD;
        const char *s = iso_cases[i].s;
        if (time_parse_iso8601(s, strlen(s), &us) != 0)
            us = BAD;
        if (us != iso_cases[i].us)
            printf("  \"%s\" gave %llu\n", s, (unsigned long long)us);
        CHECK(us == iso_cases[i].us);
    }
}

TEST(iso8601_format_round_trips)
{
    char out[TIME_ISO_LEN];
    time_format_iso8601(UINT64_C(1709210096123456), out);
    CHECK_EQ_STR(out, "2024-02-29T12:34:56.123456Z");
    char secs[TIME_ISO_S_LEN];
    time_format_iso8601_s(UINT64_C(1709210096999999), secs);
    CHECK_EQ_STR(secs, "2024-02-29T12:34:56Z");
    time_format_iso8601(0, out);
    CHECK_EQ_STR(out, "1970-01-01T00:00:00.000000Z");
    uint64_t us = 0;
    CHECK_EQ_INT(time_parse_iso8601(out, strlen(out), &us), 0);
    CHECK_EQ_INT(us, 0);
}

TEST(dates_days_and_back)
{
    uint32_t day = 0;
    char out[TIME_DATE_LEN];
    CHECK_EQ_INT(time_parse_date("1970-01-01", &day), 0);
    CHECK_EQ_INT(day, 0);
    CHECK_EQ_INT(time_parse_date("2024-02-29", &day), 0);
    CHECK_EQ_INT(day, 19782);
    time_format_date(day, out);
    CHECK_EQ_STR(out, "2024-02-29");
    CHECK_EQ_INT(time_parse_date("2000-02-29", &day), 0);   /* leap */
    CHECK_EQ_INT(time_parse_date("1900-02-28", &day), -1);  /* pre-1970 */
    CHECK_EQ_INT(time_parse_date("2100-02-29", &day), -1);  /* not leap */
    CHECK_EQ_INT(time_parse_date("2024-02-29T", &day), -1);
    CHECK_EQ_INT(time_days_from_civil(1969, 12, 31), -1);
    int y;
    unsigned m, d;
    time_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
}

TEST(durations)
{
    uint64_t us = 0;
    CHECK_EQ_INT(time_parse_duration("90s", &us), 0);
    CHECK_EQ_INT(us, UINT64_C(90000000));
    CHECK_EQ_INT(time_parse_duration("30m", &us), 0);
    CHECK_EQ_INT(us, UINT64_C(1800000000));
    CHECK_EQ_INT(time_parse_duration("24h", &us), 0);
    CHECK_EQ_INT(us, UINT64_C(86400000000));
    CHECK_EQ_INT(time_parse_duration("7d", &us), 0);
    CHECK_EQ_INT(us, UINT64_C(604800000000));
    CHECK_EQ_INT(time_parse_duration("7", &us), -1);
    CHECK_EQ_INT(time_parse_duration("d", &us), -1);
    CHECK_EQ_INT(time_parse_duration("-1d", &us), -1);
    CHECK_EQ_INT(time_parse_duration("1w", &us), -1);
    CHECK_EQ_INT(time_parse_duration("1dd", &us), -1);
    CHECK_EQ_INT(time_parse_duration("99999999999999999d", &us), -1);
}

TEST(monotonic_deadline_times_out_a_wait)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c;
    CHECK_EQ_INT(time_cond_init_monotonic(&c), 0);
    struct timespec t0 = time_deadline_ms(0);
    struct timespec until = time_deadline_ms(20);
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (rc == 0)
        rc = pthread_cond_timedwait(&c, &mu, &until);
    pthread_mutex_unlock(&mu);
    struct timespec t1 = time_deadline_ms(0);
    long ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 +
              (t1.tv_nsec - t0.tv_nsec) / 1000000;
    pthread_cond_destroy(&c);
    CHECK(ms >= 19 && ms < 2000);
    CHECK(time_now_us() > UINT64_C(1700000000000000));
    CHECK(time_today() == (uint32_t)(time_now_us() / TIME_US_PER_DAY));
}

/* --- utf8 ---------------------------------------------------------------- */

TEST(utf8_accepts_well_formed_and_rejects_the_rest)
{
    CHECK(utf8_valid("", 0));
    CHECK(utf8_valid("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12));
    CHECK(utf8_valid("\xf4\x8f\xbf\xbf", 4));           /* U+10FFFF */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));          /* > U+10FFFF */
    CHECK(!utf8_valid("\xc0\xaf", 2));                  /* overlong / */
    CHECK(!utf8_valid("\xe0\x80\xaf", 3));              /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3));              /* surrogate */
    CHECK(!utf8_valid("\xe2\x82", 2));                  /* truncated */
    CHECK(!utf8_valid("\x80", 1));                      /* stray */
    CHECK(!utf8_valid("\xff", 1));
}

TEST(utf8_text_refuses_controls)
{
    CHECK(utf8_text_ok("Caf\xc3\xa9", 5));
    CHECK(!utf8_text_ok("a\tb", 3));
    CHECK(!utf8_text_ok("a\x7f", 2));
    CHECK(!utf8_text_ok("a\xc2\x85", 3));               /* C1 NEL */
    CHECK(utf8_text_ok("\xc2\xa0", 2));                 /* NBSP is text */
}

TEST(utf8_cut_ends_on_a_boundary)
{
    bool ok;
    const char *s = "ab\xe2\x82\xac";                   /* "ab€" */
    CHECK_EQ_INT(utf8_cut(s, 5, 4, &ok), 2);
    CHECK(ok);
    CHECK_EQ_INT(utf8_cut(s, 5, 5, &ok), 5);
    CHECK(ok);
    CHECK_EQ_INT(utf8_cut("ab\xff", 3, 10, &ok), 2);
    CHECK(!ok);
    CHECK_EQ_INT(utf8_cut("abc\xff", 4, 3, &ok), 3);    /* past the cap */
    CHECK(ok);
}

/* --- csv ----------------------------------------------------------------- */

TEST(csv_reads_quoted_fields_and_counts_lines)
{
    const char *in = "a,\"b,\"\"c\"\"\r\nd\",e\r\n\nx\n";
    struct csv c = { in, in + strlen(in), 1 };
    struct csv_field f[4];
    size_t nf, start;
    char v[32];
    bool cut;
    CHECK_EQ_INT(csv_next(&c, f, 4, &nf, &start), 1);
    CHECK_EQ_INT(nf, 3);
    CHECK_EQ_INT(start, 1);
    csv_value(f[1], v, sizeof v, &cut);
    CHECK_EQ_STR(v, "b,\"c\"\r\nd");
    CHECK(!cut);
    CHECK_EQ_INT(csv_next(&c, f, 4, &nf, &start), 1);
    CHECK(csv_blank_record(f, nf));
    CHECK_EQ_INT(start, 3);
    CHECK_EQ_INT(csv_next(&c, f, 4, &nf, &start), 1);
    CHECK_EQ_INT(start, 4);
    CHECK_EQ_INT(csv_value(f[0], v, 1, &cut), 0);      /* no room */
    CHECK(cut);
    CHECK_EQ_INT(csv_next(&c, f, 4, &nf, &start), 0);
    const char *open = "a,\"never closed\n";
    struct csv o = { open, open + strlen(open), 1 };
    CHECK_EQ_INT(csv_next(&o, f, 4, &nf, &start), -1);
}

TEST(csv_writer_quotes_and_defuses_formulas)
{
    struct buf b;
    buf_init(&b, 200);
    csv_put_field(&b, "plain");
    buf_str(&b, ",");
    csv_put_field(&b, "a,\"b\"");
    buf_str(&b, ",");
    csv_put_field(&b, "=1+1");
    buf_str(&b, ",");
    csv_put_field(&b, "");
    char *s = buf_take(&b, NULL);
    CHECK_EQ_STR(s, "plain,\"a,\"\"b\"\"\",\"'=1+1\",");
    free(s);
}

/* --- jscan --------------------------------------------------------------- */

TEST(jscan_checks_values_and_says_where)
{
    const char *ok = "{\"a\":[1,-2.5e3,true,null],\"b\":\"x\\u00e9\"} ";
    struct jscan_err err;
    const char *end = jscan_value(ok, ok + strlen(ok), &err);
    CHECK(end != NULL && *end == ' ');
    const char *bad = "{\"a\":\n  [1,]}";
    CHECK(jscan_value(bad, bad + strlen(bad), &err) == NULL);
    CHECK_EQ_STR(err.what, "unexpected character");
    char where[40];
    jscan_where(bad, err.at, where, sizeof where);
    CHECK_EQ_STR(where, "line 2, column 6");
    const char *cut = "[\"abc";
    CHECK(jscan_value(cut, cut + strlen(cut), &err) == NULL);
    CHECK_EQ_STR(err.what, "ends inside a string");
    char deep[300];
    memset(deep, '[', sizeof deep);
    CHECK(jscan_value(deep, deep + sizeof deep, &err) == NULL);
    CHECK_EQ_STR(err.what, "nested too deeply");
}

TEST(jscan_iterates_members)
{
    const char *o = "{\"x\": 1, \"y\": {\"z\": [2, 3]}, \"x\": 9}";
    struct jspan obj = { o, strlen(o) }, v[3];
    static const char *const keys[] = { "y", "x", "w" };
    jscan_members(obj, keys, 3, v);
    CHECK(jscan_is(v[0], '{'));
    CHECK(v[1].n == 1 && v[1].p[0] == '1');     /* the first "x" */
    CHECK_EQ_INT(v[2].n, 0);
    struct jscan_iter it;
    struct jspan k, val;
    jscan_iter_init(&it, obj);
    int n = 0;
    while (jscan_next(&it, &k, &val))
        n++;
    CHECK_EQ_INT(n, 3);
}

int main(void)
{
    RUN(buf_appends_and_hands_over_nul_terminated_text);
    RUN(buf_cap_is_hard_and_failure_sticky);
    RUN(buf_printf_longer_than_its_scratch_and_over_the_cap);
    RUN(grow_array_doubles_and_refuses_past_max);
    RUN(iso8601_forms_zones_fractions_and_rejections);
    RUN(iso8601_format_round_trips);
    RUN(dates_days_and_back);
    RUN(durations);
    RUN(monotonic_deadline_times_out_a_wait);
    RUN(utf8_accepts_well_formed_and_rejects_the_rest);
    RUN(utf8_text_refuses_controls);
    RUN(utf8_cut_ends_on_a_boundary);
    RUN(csv_reads_quoted_fields_and_counts_lines);
    RUN(csv_writer_quotes_and_defuses_formulas);
    RUN(jscan_checks_values_and_says_where);
    RUN(jscan_iterates_members);
    return check_summary();
}
