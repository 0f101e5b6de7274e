/* test_report.c — the reports (src/report.c) against a real LMDB store in a
 * fresh temporary directory: events go in through store_enqueue_at on
 * chosen past days, exactly as the demo generator and imports put them, and
 * every number the reports give is checked against the value worked out by
 * hand from the definitions (DESIGN.md §7, report.h, store.c).
 *
 * The dataset (site r.example), with D = 2025-03-12:
 *   /kb/maths     accounts, 46 words (12 s expected): on D ten views from
 *                 5 addresses with engaged 1 s … 10 s (view i: i s), scroll
 *                 0 at the view and 50 % (95 % for views 9 and 10) after;
 *                 votes up (views 1–3), down (4), up then down (5); a bot
 *                 view ("b":1) with 60 s, 100 % and a vote up. On D-1 four
 *                 views of 20 s from 4 addresses.
 *   /kb/billing/invoices  billing, 230 words (60 s): on D 30, 40, 50 s,
 *                 one vote up.
 *   /kb/billing/refunds   billing, no word count: on D one view of 2 s.
 *   /guides/start guides, 460 words (120 s): on D 15 s and 25 s, one vote
 *                 down.
 *   /kb/bot-only  settings: one bot view on D.
 *   /kb/old       settings: one view on D-100.
 * Searches and "led here" live on a second site, s.example (and a third,
 * t.example, made by the test of the 30-minute edge). The dataset is built
 * once, by the first test that needs it; the last test adds late events. */
#define _XOPEN_SOURCE 700
#include "check.h"
#include "fixture.h"
#include "base/time.h"
#include "dwell/clientaddr.h"
#include "dwell/event.h"
#include "dwell/log.h"
#include "dwell/report.h"
#include "dwell/rollup.h"
#include "dwell/store.h"

#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DRAIN_MS 120000u      /* generous: sanitizers and fsync are slow */
#define MIN_US (60ull * 1000000)

/* Doubles compared to a millionth: every value here is exact or a ratio of
 * small integers. */
#define CHECK_NEAR(a, b)                                                  \
    do {                                                                  \
        double check_x_ = (a), check_y_ = (b);                            \
        if (!(fabs(check_x_ - check_y_) <= 1e-6)) {                       \
            printf("  %s:%d: %s == %.6f, expected %.6f\n", __FILE__,     \
                   __LINE__, #a, check_x_, check_y_);                     \
            check_current_failed = 1;                                     \
            return;                                                       \
        }                                                                 \
    } while (0)

#define CHECK_NAN(a)                                                      \
    do {                                                                  \
        double check_x_ = (a);                                            \
        if (!isnan(check_x_)) {                                           \
            printf("  %s:%d: %s == %.6f, expected NAN\n", __FILE__,      \
                   __LINE__, #a, check_x_);                               \
            check_current_failed = 1;                                     \
            return;                                                       \
        }                                                                 \
    } while (0)

/* --- the dataset ------------------------------------------------------------ */

static struct store *ds;             /* the dataset's store, or NULL */
static uint32_t site_r, site_s;      /* r.example, s.example */
static uint32_t day_d;               /* 2025-03-12 */
static bool ds_failed;

#define H(h, m) ((uint64_t)(h) * 3600 + (uint64_t)(m) * 60)

/* A view of PATH with id VID and the follow-ups in EXTRA (",{...}" or ""). */
static int view_at(uint32_t site, const char *site_name, uint32_t day,
                   uint64_t secs, const char *addr, const char *ua,
                   const char *cc, const char *vid, const char *path,
                   const char *title, const char *category, unsigned words,
                   const char *view_extra, const char *extra)
{
    char json[2048];
    char wfield[32] = "";
    if (words)
        snprintf(wfield, sizeof wfield, ",\"w\":%u", words);
    snprintf(json, sizeof json,
             "[{\"s\":\"%s\",\"t\":\"view\",\"v\":\"%s\","
             "\"u\":\"https://help.example.com%s\",\"ti\":\"%s\","
             "\"c\":\"%s\"%s%s}%s]",
             site_name, vid, path, title, category, wfield, view_extra,
             extra);
    return send_at(ds, site, day, secs, addr, ua, cc, json);
}

/* A search page view and a search for Q with N results (N < 0: no count). */
static int search_at(uint32_t day, uint64_t secs, const char *addr,
                     const char *ua, const char *vid, const char *q, int n)
{
    char json[1024], count[32] = "";
    if (n >= 0)
        snprintf(count, sizeof count, ",\"n\":%d", n);
    snprintf(json, sizeof json,
             "[{\"s\":\"s.example\",\"t\":\"view\",\"v\":\"%s\","
             "\"u\":\"https://help.example.com/search\",\"ti\":\"Search\"},"
             "{\"s\":\"s.example\",\"t\":\"search\",\"v\":\"%s\","
             "\"q\":\"%s\"%s}]", vid, vid, q, count);
    return send_at(ds, site_s, day, secs, addr, ua, "--", json);
}

static int build_dataset(void)
{
    char vid[32], extra[512], addr[32];
    if (time_parse_date("2025-03-12", &day_d) != 0)
        return -1;
    uint32_t d = day_d;
    site_r = add_site(ds, "r.example");
    site_s = add_site(ds, "s.example");
    if (site_r == 0 || site_s == 0)
        return -1;

    /* /kb/maths on D: view i has engaged i s */
    for (int i = 1; i <= 10; i++) {
        snprintf(vid, sizeof vid, "mathsD%02d", i);
        snprintf(addr, sizeof addr, "198.51.100.%d", i % 5);
        int n = snprintf(extra, sizeof extra,
                         ",{\"s\":\"r.example\",\"t\":\"engage\","
                         "\"v\":\"%s\",\"e\":%d,\"sd\":%d}",
                         vid, i * 1000, i >= 9 ? 95 : 50);
        const char *vote = i <= 3 ? "up" : i == 4 ? "down" : NULL;
        if (vote)
            n += snprintf(extra + n, sizeof extra - (size_t)n,
                          ",{\"s\":\"r.example\",\"t\":\"vote\","
                          "\"v\":\"%s\",\"x\":\"%s\"}", vid, vote);
        if (i == 5)                    /* changes its mind: counts down */
            snprintf(extra + n, sizeof extra - (size_t)n,
                     ",{\"s\":\"r.example\",\"t\":\"vote\",\"v\":\"%s\","
                     "\"x\":\"up\"},{\"s\":\"r.example\",\"t\":\"vote\","
                     "\"v\":\"%s\",\"x\":\"down\"}", vid, vid);
        if (view_at(site_r, "r.example", d, H(10, i), addr, chrome_ua,
                    i <= 6 ? "DE" : "FR", vid, "/kb/maths", "Maths",
                    "accounts", 46, ",\"sd\":0", extra) != 0)
            return -1;
    }
    /* a bot on /kb/maths: counted only with include_bots */
    if (view_at(site_r, "r.example", d, H(11, 0), "192.0.2.99", chrome_ua,
                "US", "mathsBot1", "/kb/maths", "Maths", "accounts", 46,
                ",\"sd\":0,\"b\":1",
                ",{\"s\":\"r.example\",\"t\":\"engage\",\"v\":\"mathsBot1\","
                "\"e\":60000,\"sd\":100,\"b\":1},{\"s\":\"r.example\","
                "\"t\":\"vote\",\"v\":\"mathsBot1\",\"x\":\"up\",\"b\":1}")
        != 0)
        return -1;
    /* /kb/maths on D-1: four views of 20 s */
    for (int i = 1; i <= 4; i++) {
        snprintf(vid, sizeof vid, "mathsP%02d", i);
        snprintf(addr, sizeof addr, "198.51.100.%d", i);
        snprintf(extra, sizeof extra,
                 ",{\"s\":\"r.example\",\"t\":\"engage\",\"v\":\"%s\","
                 "\"e\":20000,\"sd\":60}", vid);
        if (view_at(site_r, "r.example", d - 1, H(9, i), addr, chrome_ua,
                    i <= 2 ? "DE" : "SE", vid, "/kb/maths", "Maths",
                    "accounts", 46, ",\"sd\":0", extra) != 0)
            return -1;
    }
    /* /kb/billing/invoices on D */
    for (int i = 0; i < 3; i++) {
        snprintf(vid, sizeof vid, "invoice%02d", i);
        snprintf(addr, sizeof addr, "198.51.100.%d", 10 + i);
        int n = snprintf(extra, sizeof extra,
                         ",{\"s\":\"r.example\",\"t\":\"engage\","
                         "\"v\":\"%s\",\"e\":%d,\"sd\":40}",
                         vid, 30000 + i * 10000);
        if (i == 0)
            snprintf(extra + n, sizeof extra - (size_t)n,
                     ",{\"s\":\"r.example\",\"t\":\"vote\",\"v\":\"%s\","
                     "\"x\":\"up\"}", vid);
        if (view_at(site_r, "r.example", d, H(12, i), addr, chrome_ua, "GB",
                    vid, "/kb/billing/invoices", "Invoices", "billing", 230,
                    ",\"sd\":0", extra) != 0)
            return -1;
    }
    /* /kb/billing/refunds on D: no word count, one quick view, by a
     * visitor of /kb/maths (not new to the site that day) */
    if (view_at(site_r, "r.example", d, H(13, 0), "198.51.100.0", chrome_ua,
                "GB", "refund01", "/kb/billing/refunds", "Refunds", "billing",
                0, "",
                ",{\"s\":\"r.example\",\"t\":\"engage\",\"v\":\"refund01\","
                "\"e\":2000}") != 0)
        return -1;
    /* /guides/start on D */
    for (int i = 0; i < 2; i++) {
        snprintf(vid, sizeof vid, "guides%02d", i);
        snprintf(addr, sizeof addr, "198.51.100.%d", 20 + i);
        int n = snprintf(extra, sizeof extra,
                         ",{\"s\":\"r.example\",\"t\":\"engage\","
                         "\"v\":\"%s\",\"e\":%d}", vid, 15000 + i * 10000);
        if (i == 1)
            snprintf(extra + n, sizeof extra - (size_t)n,
                     ",{\"s\":\"r.example\",\"t\":\"vote\",\"v\":\"%s\","
                     "\"x\":\"down\"}", vid);
        if (view_at(site_r, "r.example", d, H(14, i), addr, chrome_ua, "NL",
                    vid, "/guides/start", "Getting started", "guides", 460,
                    "", extra) != 0)
            return -1;
    }
    /* an article only bots read */
    if (view_at(site_r, "r.example", d, H(15, 0), "192.0.2.98", chrome_ua,
                "US", "botonly1", "/kb/bot-only", "Bots", "settings", 100,
                ",\"b\":1", "") != 0)
        return -1;
    /* an old article, read once 100 days before D */
    if (view_at(site_r, "r.example", d - 100, H(8, 0), "198.51.100.30",
                chrome_ua, "FR", "oldview1", "/kb/old", "Old", "settings", 50,
                "", "") != 0)
        return -1;

    /* s.example: searches, and the searches that led to /kb/reset */
    static const char reset[] = "/kb/reset";
    /* A searches, then reads /kb/reset 29 minutes later: credited */
    if (search_at(d, H(9, 0), "203.0.113.1", chrome_ua, "srchA001",
                  "reset password", 3) != 0 ||
        view_at(site_s, "s.example", d, H(9, 29), "203.0.113.1", chrome_ua,
                "--", "resetA01", reset, "Reset", "accounts", 200, "", "")
        != 0)
        return -1;
    /* B searches, then reads /kb/reset 31 minutes later: too late */
    if (search_at(d, H(9, 0), "203.0.113.2", chrome_ua, "srchB001",
                  "forgot password", 2) != 0 ||
        view_at(site_s, "s.example", d, H(9, 31), "203.0.113.2", chrome_ua,
                "--", "resetB01", reset, "Reset", "accounts", 200, "", "")
        != 0)
        return -1;
    /* C searches with one browser and reads with another (same address,
     * another visitor): not credited */
    if (search_at(d, H(9, 0), "203.0.113.3", chrome_ua, "srchC001",
                  "password help", 0) != 0 ||
        view_at(site_s, "s.example", d, H(9, 5), "203.0.113.3", firefox_ua,
                "--", "resetC01", reset, "Reset", "accounts", 200, "", "")
        != 0)
        return -1;
    /* E reads /kb/reset first and searches afterwards: not credited */
    if (view_at(site_s, "s.example", d, H(16, 0), "203.0.113.5", chrome_ua,
                "--", "resetE01", reset, "Reset", "accounts", 200, "", "")
        != 0 ||
        search_at(d, H(16, 1), "203.0.113.5", chrome_ua, "srchE001",
                  "after reading", 1) != 0)
        return -1;
    /* more searches: zero results on D, one the day before */
    if (search_at(d, H(17, 0), "203.0.113.10", chrome_ua, "srchZ001",
                  "dark mode", 0) != 0 ||
        search_at(d, H(17, 1), "203.0.113.11", chrome_ua, "srchZ002",
                  "dark mode", 0) != 0 ||
        search_at(d, H(17, 2), "203.0.113.12", chrome_ua, "srchZ003",
                  "reset password", 0) != 0 ||
        search_at(d - 1, H(17, 0), "203.0.113.13", chrome_ua, "srchY001",
                  "reset password", 4) != 0)
        return -1;
    return store_drain(ds, DRAIN_MS);
}

/* The dataset, built on first use; NULL (and a message) if it failed. */
static struct store *dataset(void)
{
    if (ds || ds_failed)
        return ds;
    ds = open_writing("dataset", STORE_COMMIT, false);  /* no fsync */
    if (ds == NULL || build_dataset() != 0) {
        printf("  building the dataset failed\n");
        ds_failed = true;
        store_close(ds);
        ds = NULL;
    }
    return ds;
}

static struct report_query query(uint32_t site, uint32_t from, uint32_t to)
{
    struct report_query q;
    memset(&q, 0, sizeof q);
    q.site_id = site;
    q.from = from;
    q.to = to;
    return q;
}

/* Copies S into DST (CAP bytes), cut if need be. */
static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The row of PATH in L, or NULL. */
static const struct report_row *row_of(const struct report_list *l,
                                       const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->rows[i].a.path, path) == 0)
            return &l->rows[i];
    return NULL;
}

/* Copies R into C with its strings, so that C outlives R's list (the
 * strings go to one of 8 slots, reused in turn). */
static void keep_row(struct report_row *c, const struct report_row *r)
{
    static char slots[8][EVENT_PATH_MAX + EVENT_TITLE_MAX +
                         EVENT_CATEGORY_MAX + 3];
    static int next;
    char *t = slots[next++ % 8];
    *c = *r;
    c->a.path = strcpy(t, r->a.path);
    c->a.title = strcpy(t + EVENT_PATH_MAX + 1, r->a.title);
    c->a.category = strcpy(t + EVENT_PATH_MAX + EVENT_TITLE_MAX + 2,
                           r->a.category);
}

/* The paths of L in order, joined by spaces, into BUF. */
static const char *paths(const struct report_list *l, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->n && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "",
                              l->rows[i].a.path);
    return buf;
}

/* The articles of Q (without idle ones), sorted by KEY, as a path list. */
static const char *sorted_paths(const struct report_query *q, const char *key,
                                bool desc, char *buf, size_t cap)
{
    struct report_list l;
    if (report_articles(ds, q, false, &l) != 0)
        return "(report_articles failed)";
    if (report_sort(&l, key, desc) != 0)
        snprintf(buf, cap, "(report_sort %s failed)", key);
    else
        paths(&l, buf, cap);
    report_list_free(&l);
    return buf;
}

/* --- dates (base/time.h: the dates a report range accepts) ------------- */

TEST(parse_date_rejects_impossible_and_malformed_dates)
{
    static const char *const bad[] = {
        "2026-02-30", "2026-13-01", "2026-1-01", "2026-01-1", "2026-00-10",
        "2026-01-00", "2026-04-31", "2026-02-29", "2100-02-29", "1900-02-28",
        "1969-12-31", "2026/01/01", "2026-01-01x", " 2026-01-01",
        "2026-0a-01", "20260101", "", "2026-01-01 ", "+026-01-01",
        "2026--1-01"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t day = 777;
        if (time_parse_date(bad[i], &day) != -1 || day != 777) {
            printf("  \"%s\" was accepted (day %u)\n", bad[i], day);
            CHECK(0);
        }
    }
    uint32_t day = 777;
    CHECK_EQ_INT(time_parse_date(NULL, &day), -1);
    CHECK_EQ_INT(day, 777);
}

TEST(format_date_and_parse_date_round_trip_every_day_1970_to_2100)
{
    char s[11];
    time_format_date(0, s);
    CHECK_EQ_STR(s, "1970-01-01");
    time_format_date(20159, s);
    CHECK_EQ_STR(s, "2025-03-12");
    time_format_date(19782, s);
    CHECK_EQ_STR(s, "2024-02-29");
    time_format_date(19783, s);
    CHECK_EQ_STR(s, "2024-03-01");
    time_format_date(10956, s);
    CHECK_EQ_STR(s, "1999-12-31");
    for (uint32_t d = 0; d <= 47482; d++) {
        uint32_t back = 0;
        time_format_date(d, s);
        if (strlen(s) != 10 || time_parse_date(s, &back) != 0 ||
            back != d) {
            printf("  day %u -> \"%s\" -> %u\n", d, s, back);
            CHECK(0);
        }
    }
}

/* Resolves ASK against today = 2025-03-12 (day 20159), 30 days by
 * default; returns the result's from/to, or 0/0 with PARAM on error. */
static int range_of(const char *from, const char *to, const char *days,
                    struct report_range *rg, const char **param)
{
    struct report_range_ask ask = { from, to, days };
    const char *why = NULL;
    *param = NULL;
    int rc = report_range_resolve(&ask, 30, 20159, rg, param, &why);
    if (rc != 0 && (*param == NULL || why == NULL || why[0] == '\0'))
        return -2;
    return rc;
}

TEST(default_range_is_the_30_full_days_before_today)
{
    struct report_range rg;
    const char *param;
    CHECK_EQ_INT(range_of(NULL, NULL, NULL, &rg, &param), 0);
    CHECK_EQ_INT(rg.to, 20158);                  /* yesterday */
    CHECK_EQ_INT(rg.from, 20158 - 29);
    CHECK_EQ_INT(rg.today, 20159);
    CHECK(!rg.clamped);
    CHECK_EQ_INT(range_of(NULL, NULL, "7", &rg, &param), 0);
    CHECK_EQ_INT(rg.to, 20158);
    CHECK_EQ_INT(rg.from, 20152);
    CHECK_EQ_INT(range_of("2025-03-01", NULL, NULL, &rg, &param), 0);
    CHECK_EQ_INT(rg.from, 20148);
    CHECK_EQ_INT(rg.to, 20158);                  /* from alone: to yesterday */
    CHECK_EQ_INT(range_of("2025-03-12", NULL, NULL, &rg, &param), 0);
    CHECK_EQ_INT(rg.from, 20159);                /* today alone, asked for */
    CHECK_EQ_INT(rg.to, 20159);
    CHECK_EQ_INT(range_of(NULL, "2025-03-12", NULL, &rg, &param), 0);
    CHECK_EQ_INT(rg.to, 20159);                  /* to today: partial, kept */
    CHECK_EQ_INT(rg.from, 20130);
    CHECK(!rg.clamped);
    CHECK_EQ_INT(range_of("2025-03-01", NULL, "3", &rg, &param), 0);
    CHECK_EQ_INT(rg.from, 20148);
    CHECK_EQ_INT(rg.to, 20150);
}

TEST(range_into_the_future_is_clamped_to_today)
{
    struct report_range rg;
    const char *param;
    CHECK_EQ_INT(range_of("2025-03-01", "2025-04-30", NULL, &rg, &param), 0);
    CHECK_EQ_INT(rg.from, 20148);
    CHECK_EQ_INT(rg.to, 20159);
    CHECK(rg.clamped);
    CHECK_EQ_INT(rg.asked_to, 20208);
    CHECK_EQ_INT(range_of(NULL, "2099-01-01", NULL, &rg, &param), 0);
    CHECK_EQ_INT(rg.to, 20159);                  /* 30 days ending today */
    CHECK_EQ_INT(rg.from, 20130);
    CHECK(rg.clamped);
    CHECK_EQ_INT(range_of("2025-03-10", NULL, "7", &rg, &param), 0);
    CHECK_EQ_INT(rg.to, 20159);                  /* would end on the 16th */
    CHECK(rg.clamped);
    CHECK_EQ_INT(range_of("2025-03-13", NULL, NULL, &rg, &param), -1);
    CHECK_EQ_STR(param, "from");                 /* starts after today */
    CHECK_EQ_INT(range_of("2025-04-01", "2025-04-30", NULL, &rg, &param), -1);
    CHECK_EQ_STR(param, "from");
}

TEST(range_names_the_bad_parameter)
{
    struct report_range rg;
    const char *param;
    static const struct { const char *from, *to, *days, *param; } bad[] = {
        { "2025-02-30", NULL, NULL, "from" },
        { NULL, "2025-13-01", NULL, "to" },
        { NULL, "", NULL, "to" },
        { "2025-03-10", "2025-03-01", NULL, "from" },
        { "2000-01-01", "2025-01-01", NULL, "from" },
        { NULL, NULL, "0", "days" },
        { NULL, NULL, "3661", "days" },
        { NULL, NULL, "7d", "days" },
        { NULL, NULL, "", "days" },
        { NULL, NULL, "-1", "days" },
        { "2025-03-01", "2025-03-05", "5", "days" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = range_of(bad[i].from, bad[i].to, bad[i].days, &rg, &param);
        if (rc != -1 || param == NULL || strcmp(param, bad[i].param) != 0) {
            printf("  case %zu: rc %d, param %s, expected %s\n", i, rc,
                   param ? param : "(none)", bad[i].param);
            CHECK(0);
        }
    }
    CHECK_EQ_INT(range_of(NULL, NULL, "3660", &rg, &param), 0);
    CHECK_EQ_INT(rg.to - rg.from, 3659);
}

/* --- one row, derived (no store) ------------------------------------------ */

TEST(derive_gives_nan_for_undefined_ratios)
{
    struct report_row r;
    struct rollup_day s;
    memset(&r, 0, sizeof r);
    memset(&s, 0, sizeof s);
    report_derive(&r, &s);
    CHECK_EQ_INT(r.views, 0);
    CHECK_NAN(r.read_rate);
    CHECK_NAN(r.read_through);
    CHECK_NAN(r.quick_exit_rate);
    CHECK_NAN(r.helpful_rate);
    CHECK_NAN(r.read_ratio);
    CHECK_NAN(r.mean_ms);
    CHECK_NAN(r.views_change);
    /* views but no words: read ratio undefined; no previous: change too */
    memset(&r, 0, sizeof r);
    s.views = 2;
    s.hist[rollup_bucket_of_ms(7000)] = 2;
    s.engaged_ms = 14000;
    s.votes_up = 1;
    report_derive(&r, &s);
    CHECK_EQ_INT(r.votes_up, 1);
    CHECK_NAN(r.read_ratio);
    CHECK_NAN(r.views_change);
    CHECK_NEAR(r.helpful_rate, 1.0);
    CHECK_NEAR(r.mean_ms, 7000);
    CHECK_NEAR(r.quick_exit_rate, 0);
}

TEST(derive_counts_quick_exits_below_5_s_and_read_through_from_90_pct)
{
    struct report_row r;
    struct rollup_day s;
    memset(&r, 0, sizeof r);
    memset(&s, 0, sizeof s);
    /* engaged 0, 4.999, 5.0, 5.5 s; scroll 89, 90, 99, 100 % */
    static const unsigned ms[] = { 0, 4999, 5000, 5500 };
    static const unsigned sc[] = { 89, 90, 99, 100 };
    for (int i = 0; i < 4; i++) {
        s.hist[rollup_bucket_of_ms(ms[i])]++;
        s.scroll[rollup_scroll_bucket(sc[i])]++;
        s.engaged_ms += ms[i];
    }
    s.views = 4;
    s.votes_up = 1;
    s.votes_down = 3;
    r.a.words = 23;                      /* 6 s expected */
    r.views_prev = 8;
    report_derive(&r, &s);
    CHECK_EQ_INT(r.quick_exits, 2);
    CHECK_NEAR(r.quick_exit_rate, 0.5);
    CHECK_EQ_INT(r.read_throughs, 3);
    CHECK_NEAR(r.read_through, 0.75);
    CHECK_NEAR(r.helpful_rate, 0.25);
    CHECK_NEAR(r.views_change, -0.5);
    CHECK_NEAR(r.read_ratio, r.p50_ms / 6000.0);
    CHECK_NEAR(r.mean_ms, (0 + 4999 + 5000 + 5500) / 4.0);
}

/* --- sorting (no store) ----------------------------------------------------- */

static void fill_row(struct report_row *r, const char *path, const char *title,
                     double read_rate)
{
    memset(r, 0, sizeof *r);
    r->a.path = path;                     /* static strings */
    r->a.title = title;
    r->a.category = "";
    r->read_rate = read_rate;
}

/* A list owning a heap copy of the N rows at ROWS, as report_articles
 * makes them (but its strings are the rows'). */
static struct report_list heap_list(const struct report_row *rows, size_t n)
{
    struct report_list l = { malloc(n * sizeof *rows), n, NULL };
    if (l.rows == NULL)
        l.n = 0;
    else
        memcpy(l.rows, rows, n * sizeof *rows);
    return l;
}

TEST(sort_puts_undefined_values_last_in_both_orders)
{
    static struct report_row rows[5];
    fill_row(&rows[0], "/a", "E", 0.5);
    fill_row(&rows[1], "/b", "D", NAN);
    fill_row(&rows[2], "/c", "C", 0.2);
    fill_row(&rows[3], "/d", "B", NAN);
    fill_row(&rows[4], "/e", "A", 0.9);
    struct report_list l = heap_list(rows, 5);
    CHECK_EQ_INT(l.n, 5);
    char got[5][64];
    int rc[7];
    rc[0] = report_sort(&l, "read_rate", true);
    paths(&l, got[0], sizeof got[0]);
    rc[1] = report_sort(&l, "read_rate", false);
    paths(&l, got[1], sizeof got[1]);
    rc[2] = report_sort(&l, "title", false);
    paths(&l, got[2], sizeof got[2]);
    rc[3] = report_sort(&l, "title", true);
    paths(&l, got[3], sizeof got[3]);
    rc[4] = report_sort(&l, "path", true);
    paths(&l, got[4], sizeof got[4]);
    rc[5] = report_sort(&l, "no-such-metric", true);
    rc[6] = report_sort(&l, "", true);
    report_list_free(&l);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(rc[i], 0);
    CHECK_EQ_INT(rc[5], -1);
    CHECK_EQ_INT(rc[6], -1);
    CHECK_EQ_STR(got[0], "/e /a /c /b /d");
    CHECK_EQ_STR(got[1], "/c /a /e /b /d");
    CHECK_EQ_STR(got[2], "/e /d /c /b /a");
    CHECK_EQ_STR(got[3], "/a /b /c /d /e");
    CHECK_EQ_STR(got[4], "/e /d /c /b /a");
}

/* Rows are moved in place along the permutation's cycles: every row ends
 * where its key puts it, whole (its path, title and numbers together), in
 * the same array. 1,000 rows in a scrambled order (i * 7919 mod 1000). */
TEST(sort_moves_whole_rows_in_place)
{
    enum { N = 1000 };
    static struct report_row rows[N];
    static char names[N][2][16];
    for (int i = 0; i < N; i++) {
        int v = (i * 7919) % N;
        snprintf(names[i][0], sizeof names[i][0], "/p%04d", v);
        snprintf(names[i][1], sizeof names[i][1], "T%04d", N - 1 - v);
        fill_row(&rows[i], names[i][0], names[i][1], v / (double)N);
        rows[i].views = (uint64_t)v;
    }
    struct report_list l = heap_list(rows, N);
    CHECK_EQ_INT(l.n, N);
    const struct report_row *array = l.rows;
    int bad[3] = { 0, 0, 0 };
    CHECK_EQ_INT(report_sort(&l, "read_rate", true), 0);
    for (int i = 0; i < N; i++) {
        int v = N - 1 - i;
        char path[16], title[16];
        snprintf(path, sizeof path, "/p%04d", v);
        snprintf(title, sizeof title, "T%04d", N - 1 - v);
        bad[0] += strcmp(l.rows[i].a.path, path) != 0 ||
                  strcmp(l.rows[i].a.title, title) != 0 ||
                  l.rows[i].views != (uint64_t)v;
    }
    CHECK_EQ_INT(report_sort(&l, "title", false), 0);  /* /p0999 first */
    for (int i = 0; i < N; i++)
        bad[1] += l.rows[i].views != (uint64_t)(N - 1 - i);
    CHECK_EQ_INT(report_sort(&l, "path", false), 0);
    for (int i = 0; i < N; i++)
        bad[2] += l.rows[i].views != (uint64_t)i;
    bool same = l.rows == array;
    report_list_free(&l);
    CHECK_EQ_INT(bad[0], 0);
    CHECK_EQ_INT(bad[1], 0);
    CHECK_EQ_INT(bad[2], 0);
    CHECK(same);
}

TEST(sort_keys_are_all_accepted)
{
    static struct report_row rows[2];
    fill_row(&rows[0], "/a", "A", 0.1);
    fill_row(&rows[1], "/b", "B", 0.2);
    struct report_list l = heap_list(rows, 2);
    CHECK_EQ_INT(l.n, 2);
    int n = 0, bad = 0;
    for (int i = 0; report_sort_keys[i]; i++, n++) {
        if (report_sort(&l, report_sort_keys[i], true) != 0 ||
            report_sort(&l, report_sort_keys[i], false) != 0) {
            printf("  sort key %s refused\n", report_sort_keys[i]);
            bad++;
        }
    }
    size_t left = l.n;
    report_list_free(&l);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(left, 2);
    CHECK(n >= 10);
}

/* docs/metrics.md "Needs attention": views at least the mean (and 10);
 * w from helpful (>= 5 votes, < 0.5), read ratio (< 0.35) and quick exits
 * (> 0.5); score w × views, highest first; the reason is the first rule. */
TEST(rank_attention_scores_and_orders_articles)
{
    static struct report_row rows[4];
    fill_row(&rows[0], "/d", "D", NAN);      /* 60 views, all fine */
    rows[0].views = 60;
    rows[0].helpful_rate = NAN;
    rows[0].read_ratio = NAN;
    rows[0].quick_exit_rate = 0;
    fill_row(&rows[1], "/c", "C", NAN);      /* 5 views: below the floor */
    rows[1].views = 5;
    rows[1].votes_down = 10;
    rows[1].helpful_rate = 0;
    rows[1].read_ratio = 0.01;
    rows[1].quick_exit_rate = 1;
    fill_row(&rows[2], "/b", "B", NAN);      /* 60 views, skimmed, left */
    rows[2].views = 60;
    rows[2].helpful_rate = NAN;
    rows[2].read_ratio = 0.2;
    rows[2].quick_exit_rate = 0.6;
    fill_row(&rows[3], "/a", "A", NAN);      /* 100 views, unhelpful */
    rows[3].views = 100;
    rows[3].votes_up = 2;
    rows[3].votes_down = 8;
    rows[3].helpful_rate = 0.2;
    rows[3].read_ratio = 0.5;
    rows[3].quick_exit_rate = 0.1;
    struct report_list l = heap_list(rows, 4);
    CHECK_EQ_INT(l.n, 4);
    /* floor: (100 + 60 + 5 + 60) / 4 = 56.25 */
    size_t flagged = report_rank_attention(&l);
    char order[64];
    paths(&l, order, sizeof order);
    double score[4];
    const char *reason[4];
    for (int i = 0; i < 4; i++) {
        score[i] = l.rows[i].attention;
        reason[i] = l.rows[i].attention_reason;     /* static strings */
    }
    report_list_free(&l);
    CHECK_EQ_INT(flagged, 2);
    CHECK_EQ_STR(order, "/a /b /c /d");
    CHECK_NEAR(score[0], 0.8 * 100);
    CHECK_EQ_STR(reason[0], "few readers find it helpful");
    CHECK_NEAR(score[1], (0.8 + 0.1) * 60);
    CHECK_EQ_STR(reason[1], "read far shorter than its length");
    CHECK_NEAR(score[2], 0);
    CHECK(reason[2] == NULL);
    CHECK_NEAR(score[3], 0);
    CHECK(reason[3] == NULL);
}

/* --- the dataset: one article's numbers ------------------------------------ */

TEST(ten_views_with_engaged_1_to_10_s_give_exact_metrics)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d, day_d);
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    const struct report_row *r = row_of(&l, "/kb/maths");
    struct report_row c;
    memset(&c, 0, sizeof c);
    if (r)
        keep_row(&c, r);
    report_list_free(&l);
    CHECK(r != NULL);
    CHECK_EQ_STR(c.a.title, "Maths");
    CHECK_EQ_STR(c.a.category, "accounts");
    CHECK_EQ_INT(c.a.words, 46);
    CHECK(c.a.id == event_article_id("/kb/maths", 9));
    CHECK_EQ_INT(c.views, 10);
    CHECK_EQ_INT(c.visitors, 5);             /* 10 views from 5 addresses */
    CHECK_NEAR(c.mean_ms * (double)c.views, 55000);
    /* the histogram: one view in each of the buckets 1 s … 10 s */
    struct report_detail d;
    CHECK_EQ_INT(report_detail(ds, &q, c.a.id, &d), 0);
    report_detail_free(&d);
    CHECK_EQ_INT(d.sum.engaged_ms, 55000);
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++)
        CHECK_EQ_INT(d.sum.hist[b], b >= 1 && b <= 10 ? 1 : 0);
    /* median: the 5th of 10 lies in the bucket [5 s, 6 s) */
    int b5 = rollup_bucket_of_ms(5000);
    CHECK(c.p50_ms >= rollup_bucket_lower_ms(b5));
    CHECK(c.p50_ms <= rollup_bucket_upper_ms(b5));
    CHECK_NEAR(c.p50_ms, 6000);              /* rank 5 of 10, top of [5,6) */
    CHECK_NEAR(c.p75_ms, 8500);              /* rank 7.5: middle of [8,9) */
    CHECK_NEAR(c.p90_ms, 10000);             /* rank 9: top of [9,10) */
    CHECK_NEAR(c.mean_ms, 5500);
    /* quick exits: engaged < 5 s (1, 2, 3 and 4 s) */
    CHECK_EQ_INT(c.quick_exits, 4);
    CHECK_NEAR(c.quick_exit_rate, 0.4);
    /* reads: engaged >= 10 s and scrolled on (view 10 only) */
    CHECK_EQ_INT(c.reads, 1);
    CHECK_NEAR(c.read_rate, 0.1);
    /* read-through: max scroll >= 90 % (views 9 and 10) */
    CHECK_EQ_INT(c.read_throughs, 2);
    CHECK_NEAR(c.read_through, 0.2);
    /* votes: up 1-3; down 4; up then down 5 (one vote: down) */
    CHECK_EQ_INT(c.votes_up, 3);
    CHECK_EQ_INT(c.votes_down, 2);
    CHECK_NEAR(c.helpful_rate, 0.6);
    /* 46 words at 230 wpm: 12 s expected; median 6 s */
    CHECK_NEAR(c.read_ratio, 0.5);
}

TEST(previous_period_of_equal_length_gives_views_change)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d, day_d);
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    const struct report_row *r = row_of(&l, "/kb/maths");
    struct report_row c;
    memset(&c, 0, sizeof c);
    if (r)
        keep_row(&c, r);
    report_list_free(&l);
    CHECK(r != NULL);
    CHECK_EQ_INT(c.views_prev, 4);
    CHECK_NEAR(c.views_change, (10.0 - 4.0) / 4.0);
    /* four views of 20 s: the median is inside [20 s, 21 s) */
    CHECK(c.p50_prev_ms >= 20000 && c.p50_prev_ms <= 21000);
    CHECK_NEAR(c.p50_prev_ms, 20500);

    /* two days (D-1, D): the previous period D-3..D-2 is empty */
    q = query(site_r, day_d - 1, day_d);
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    r = row_of(&l, "/kb/maths");
    if (r)
        keep_row(&c, r);
    report_list_free(&l);
    CHECK(r != NULL);
    CHECK_EQ_INT(c.views, 14);
    CHECK_EQ_INT(c.visitors, 9);             /* 5 on D + 4 on D-1 */
    CHECK_EQ_INT(c.views_prev, 0);
    CHECK_NAN(c.views_change);
    CHECK_NEAR(c.mean_ms * (double)c.views, 55000 + 4 * 20000);
    /* 14 views: 1…10 s and 4 × 20 s; rank 7 is the top of [7 s, 8 s) */
    CHECK_NEAR(c.p50_ms, 8000);

    /* D+1: no views, but the previous period (D) had 10 */
    q = query(site_r, day_d + 1, day_d + 1);
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    r = row_of(&l, "/kb/maths");
    if (r)
        keep_row(&c, r);
    report_list_free(&l);
    CHECK(r != NULL);
    CHECK_EQ_INT(c.views, 0);
    CHECK_EQ_INT(c.views_prev, 10);
    CHECK_NEAR(c.views_change, -1.0);
    CHECK_NAN(c.read_rate);
    CHECK_NAN(c.helpful_rate);
}

TEST(detail_matches_the_list_row_and_has_the_previous_period)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d, day_d);
    struct report_detail d;
    int rc = report_detail(ds, &q, event_article_id("/kb/maths", 9), &d);
    struct report_row c = d.row;
    size_t nseries = d.series.n;
    report_detail_free(&d);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(c.a.path, "/kb/maths");
    CHECK_EQ_INT(c.views, 10);
    CHECK_EQ_INT(c.visitors, 5);
    CHECK_EQ_INT(c.reads, 1);
    CHECK_NEAR(c.p50_ms, 6000);
    CHECK_NEAR(c.helpful_rate, 0.6);
    CHECK_EQ_INT(c.views_prev, 4);
    CHECK_NEAR(c.views_change, 1.5);
    CHECK_EQ_INT(nseries, 1);
    /* an id the site does not have */
    rc = report_detail(ds, &q, 0x1234, &d);
    report_detail_free(&d);
    CHECK_EQ_INT(rc, 1);
    /* an article of another site */
    q.site_id = site_s;
    rc = report_detail(ds, &q, event_article_id("/kb/maths", 9), &d);
    report_detail_free(&d);
    CHECK_EQ_INT(rc, 1);
}

TEST(other_articles_have_their_exact_numbers)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d, day_d);
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    struct report_row inv, ref, gui;
    memset(&inv, 0, sizeof inv);
    memset(&ref, 0, sizeof ref);
    memset(&gui, 0, sizeof gui);
    const struct report_row *a = row_of(&l, "/kb/billing/invoices");
    const struct report_row *b = row_of(&l, "/kb/billing/refunds");
    const struct report_row *c = row_of(&l, "/guides/start");
    size_t n = l.n;
    if (a) inv = *a;
    if (b) keep_row(&ref, b);
    if (c) gui = *c;
    bool bot = row_of(&l, "/kb/bot-only") != NULL;
    bool old = row_of(&l, "/kb/old") != NULL;
    report_list_free(&l);
    CHECK(a && b && c);
    CHECK(!bot);                      /* bots only: not without include_bots */
    CHECK(!old);
    CHECK_EQ_INT(n, 4);
    /* invoices: 30, 40, 50 s; 230 words = 60 s */
    CHECK_EQ_INT(inv.views, 3);
    CHECK_EQ_INT(inv.visitors, 3);
    CHECK_NEAR(inv.p50_ms, 40500);
    CHECK_NEAR(inv.read_ratio, 40500.0 / 60000.0);
    CHECK_EQ_INT(inv.quick_exits, 0);
    CHECK_EQ_INT(inv.reads, 3);       /* >= 10 s and scrolled 0 -> 40 % */
    CHECK_EQ_INT(inv.read_throughs, 0);
    CHECK_NEAR(inv.helpful_rate, 1.0);
    /* refunds: no word count, no votes, one 2 s view */
    CHECK_EQ_INT(ref.views, 1);
    CHECK_NEAR(ref.p50_ms, 2500);
    CHECK_NAN(ref.read_ratio);
    CHECK_NAN(ref.helpful_rate);
    CHECK_NEAR(ref.quick_exit_rate, 1.0);
    CHECK_EQ_INT(ref.views_prev, 0);
    CHECK_NAN(ref.views_change);
    /* guides: 15 and 25 s, no scroll reported at all: no reads */
    CHECK_EQ_INT(gui.views, 2);
    CHECK_NEAR(gui.p50_ms, 16000);
    CHECK_EQ_INT(gui.reads, 0);
    CHECK_NEAR(gui.read_rate, 0.0);
    CHECK_NEAR(gui.helpful_rate, 0.0);
    CHECK_NEAR(gui.read_ratio, 16000.0 / 120000.0);
}

TEST(range_without_the_day_has_no_views)
{
    CHECK(dataset() != NULL);
    /* 50 to 60 days before D: nothing then, nor in the 11 days before */
    struct report_query q = query(site_r, day_d - 60, day_d - 50);
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    size_t n = l.n;
    report_list_free(&l);
    CHECK_EQ_INT(n, 0);
    /* with idle articles: all six, none with a view */
    CHECK_EQ_INT(report_articles(ds, &q, true, &l), 0);
    n = l.n;
    uint64_t views = 0, prev = 0;
    for (size_t i = 0; i < l.n; i++) {
        views += l.rows[i].views;
        prev += l.rows[i].views_prev;
    }
    report_list_free(&l);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(views, 0);
    CHECK_EQ_INT(prev, 0);
    /* the day after D to a week later: no views (the previous period,
     * which holds D, only gives views_prev) */
    q = query(site_r, day_d + 1, day_d + 7);
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    views = 0;
    for (size_t i = 0; i < l.n; i++)
        views += l.rows[i].views;
    report_list_free(&l);
    CHECK_EQ_INT(views, 0);
    /* a range holding D-100 has the old article */
    q = query(site_r, day_d - 100, day_d - 100);
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    char buf[256];
    paths(&l, buf, sizeof buf);
    uint64_t v0 = l.n ? l.rows[0].views : 0;
    report_list_free(&l);
    CHECK_EQ_STR(buf, "/kb/old");
    CHECK_EQ_INT(v0, 1);
}

TEST(prefix_and_category_filters_select_articles)
{
    CHECK(dataset() != NULL);
    char buf[512];
    struct report_query q = query(site_r, day_d, day_d);
    q.prefix = "/kb/billing/";
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf),
                 "/kb/billing/invoices /kb/billing/refunds");
    q.prefix = "/kb/";
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf),
                 "/kb/billing/invoices /kb/billing/refunds /kb/maths");
    q.prefix = "/guides";
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf),
                 "/guides/start");
    q.prefix = "/nothing";
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf), "");
    q.prefix = NULL;
    q.category = "billing";
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf),
                 "/kb/billing/invoices /kb/billing/refunds");
    q.category = "bill";                 /* categories match whole */
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf), "");
    q.category = "accounts";
    q.prefix = "/kb/";
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf),
                 "/kb/maths");
    q.prefix = "/guides/";
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf), "");
}

TEST(sort_by_views_title_and_engaged_p50_both_ways)
{
    CHECK(dataset() != NULL);
    char buf[512];
    struct report_query q = query(site_r, day_d, day_d);
    CHECK_EQ_STR(sorted_paths(&q, "views", true, buf, sizeof buf),
                 "/kb/maths /kb/billing/invoices /guides/start "
                 "/kb/billing/refunds");
    CHECK_EQ_STR(sorted_paths(&q, "views", false, buf, sizeof buf),
                 "/kb/billing/refunds /guides/start /kb/billing/invoices "
                 "/kb/maths");
    CHECK_EQ_STR(sorted_paths(&q, "title", false, buf, sizeof buf),
                 "/guides/start /kb/billing/invoices /kb/maths "
                 "/kb/billing/refunds");
    CHECK_EQ_STR(sorted_paths(&q, "title", true, buf, sizeof buf),
                 "/kb/billing/refunds /kb/maths /kb/billing/invoices "
                 "/guides/start");
    /* p50: invoices 40.5 s, guides 16 s, maths 6 s, refunds 2.5 s */
    CHECK_EQ_STR(sorted_paths(&q, "engaged_p50", true, buf, sizeof buf),
                 "/kb/billing/invoices /guides/start /kb/maths "
                 "/kb/billing/refunds");
    CHECK_EQ_STR(sorted_paths(&q, "engaged_p50", false, buf, sizeof buf),
                 "/kb/billing/refunds /kb/maths /guides/start "
                 "/kb/billing/invoices");
    /* helpful: invoices 1, maths 0.6, guides 0, refunds none (last) */
    CHECK_EQ_STR(sorted_paths(&q, "helpful", true, buf, sizeof buf),
                 "/kb/billing/invoices /kb/maths /guides/start "
                 "/kb/billing/refunds");
    CHECK_EQ_STR(sorted_paths(&q, "helpful", false, buf, sizeof buf),
                 "/guides/start /kb/maths /kb/billing/invoices "
                 "/kb/billing/refunds");
    /* read ratio: invoices .675, maths .5, guides .133, refunds none */
    CHECK_EQ_STR(sorted_paths(&q, "read_ratio", true, buf, sizeof buf),
                 "/kb/billing/invoices /kb/maths /guides/start "
                 "/kb/billing/refunds");
    CHECK_EQ_STR(sorted_paths(&q, "read_ratio", false, buf, sizeof buf),
                 "/guides/start /kb/maths /kb/billing/invoices "
                 "/kb/billing/refunds");
    /* views_change: only maths had a previous period; the rest are last,
     * in path order */
    CHECK_EQ_STR(sorted_paths(&q, "views_change", false, buf, sizeof buf),
                 "/kb/maths /guides/start /kb/billing/invoices "
                 "/kb/billing/refunds");
}

TEST(bot_events_count_only_with_include_bots)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d, day_d);
    q.include_bots = true;
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    const struct report_row *m = row_of(&l, "/kb/maths");
    const struct report_row *b = row_of(&l, "/kb/bot-only");
    struct report_row mc, bc;
    memset(&mc, 0, sizeof mc);
    memset(&bc, 0, sizeof bc);
    if (m) keep_row(&mc, m);
    if (b) keep_row(&bc, b);
    size_t n = l.n;
    report_list_free(&l);
    CHECK(m && b);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(mc.views, 11);
    CHECK_EQ_INT(mc.votes_up, 4);
    CHECK_EQ_INT(mc.votes_down, 2);
    CHECK_NEAR(mc.helpful_rate, 4.0 / 6.0);
    CHECK_NEAR(mc.mean_ms * (double)mc.views, 55000 + 60000);
    CHECK_EQ_INT(mc.read_throughs, 3);
    CHECK_EQ_INT(bc.views, 1);
    /* countries: the bot's US only with include_bots */
    struct report_counts c;
    CHECK_EQ_INT(report_dim(ds, &q, event_article_id("/kb/maths", 9),
                            STORE_DIM_COUNTRY, 0, &c), 0);
    bool us = false;
    for (size_t i = 0; i < c.n; i++)
        us |= strcmp(c.items[i].value, "US") == 0 && c.items[i].count == 1;
    report_counts_free(&c);
    CHECK(us);
    q.include_bots = false;
    CHECK_EQ_INT(report_dim(ds, &q, event_article_id("/kb/maths", 9),
                            STORE_DIM_COUNTRY, 0, &c), 0);
    us = false;
    for (size_t i = 0; i < c.n; i++)
        us |= strcmp(c.items[i].value, "US") == 0;
    report_counts_free(&c);
    CHECK(!us);
}

TEST(countries_are_summed_over_several_days)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d - 1, day_d);
    struct report_counts c;
    CHECK_EQ_INT(report_dim(ds, &q, event_article_id("/kb/maths", 9),
                            STORE_DIM_COUNTRY, 0, &c), 0);
    /* D: 6 DE, 4 FR; D-1: 2 DE, 2 SE */
    size_t n = c.n;
    char got[3][8] = { "", "", "" };
    uint64_t cnt[3] = { 0, 0, 0 };
    for (size_t i = 0; i < n && i < 3; i++) {
        copy_str(got[i], sizeof got[i], c.items[i].value);
        cnt[i] = c.items[i].count;
    }
    report_counts_free(&c);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(got[0], "DE");
    CHECK_EQ_INT(cnt[0], 8);
    CHECK_EQ_STR(got[1], "FR");
    CHECK_EQ_INT(cnt[1], 4);
    CHECK_EQ_STR(got[2], "SE");
    CHECK_EQ_INT(cnt[2], 2);
    /* a limit keeps the largest */
    CHECK_EQ_INT(report_dim(ds, &q, event_article_id("/kb/maths", 9),
                            STORE_DIM_COUNTRY, 1, &c), 0);
    n = c.n;
    copy_str(got[0], sizeof got[0], n ? c.items[0].value : "");
    report_counts_free(&c);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(got[0], "DE");
    /* referrers: every view came without one */
    CHECK_EQ_INT(report_dim(ds, &q, event_article_id("/kb/maths", 9),
                            STORE_DIM_REFERRER, 0, &c), 0);
    n = c.n;
    copy_str(got[0], sizeof got[0], n ? c.items[0].value : "");
    cnt[0] = n ? c.items[0].count : 0;
    report_counts_free(&c);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(cnt[0], 14);
}

TEST(series_has_every_day_of_the_range_with_zeros)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d - 3, day_d + 1);
    struct report_series s;
    CHECK_EQ_INT(report_series(ds, &q, 0, &s), 0);
    size_t n = s.n;
    uint32_t days[5] = { 0 }, views[5] = { 0 }, vis[5] = { 0 };
    for (size_t i = 0; i < n && i < 5; i++) {
        days[i] = s.days[i].day;
        views[i] = s.days[i].sum.views;
        vis[i] = s.days[i].sum.visitors;
    }
    report_series_free(&s);
    CHECK_EQ_INT(n, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(days[i], day_d - 3 + (uint32_t)i);
    CHECK_EQ_INT(views[0], 0);
    CHECK_EQ_INT(views[1], 0);
    CHECK_EQ_INT(views[2], 4);
    CHECK_EQ_INT(views[3], 16);        /* 10 + 3 + 1 + 2, bots left out */
    CHECK_EQ_INT(views[4], 0);
    CHECK_EQ_INT(vis[2], 4);
    CHECK_EQ_INT(vis[3], 10);          /* the refunds reader read maths too */
    /* one article's series */
    CHECK_EQ_INT(report_series(ds, &q, event_article_id("/kb/maths", 9), &s),
                 0);
    n = s.n;
    for (size_t i = 0; i < n && i < 5; i++)
        views[i] = s.days[i].sum.views;
    uint32_t reads = n == 5 ? s.days[3].sum.reads : 99;
    report_series_free(&s);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(views[0] + views[1] + views[4], 0);
    CHECK_EQ_INT(views[2], 4);
    CHECK_EQ_INT(views[3], 10);
    CHECK_EQ_INT(reads, 1);
    /* a range of one day */
    q = query(site_r, day_d, day_d);
    CHECK_EQ_INT(report_series(ds, &q, 0, &s), 0);
    n = s.n;
    uint32_t v = n ? s.days[0].sum.views : 0;
    report_series_free(&s);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(v, 16);
}

/* DESIGN §7: the daily series counts reads. The site-wide row gets views,
 * visitors, votes and searches; its reads must be those of its articles:
 * on D-1 the four 20 s views of maths (scrolled 0 -> 60 %), on D maths'
 * view 10 and the three invoices views. */
TEST(site_series_counts_the_reads_of_its_articles)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d - 1, day_d);
    struct report_series s;
    CHECK_EQ_INT(report_series(ds, &q, 0, &s), 0);
    size_t n = s.n;
    uint32_t reads[2] = { 0, 0 };
    for (size_t i = 0; i < n && i < 2; i++)
        reads[i] = s.days[i].sum.reads;
    report_series_free(&s);
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    uint64_t article_reads = 0;
    for (size_t i = 0; i < l.n; i++)
        article_reads += l.rows[i].reads;
    report_list_free(&l);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(article_reads, 4 + 4);
    CHECK_EQ_INT(reads[0], 4);
    CHECK_EQ_INT(reads[1], 4);
}

TEST(summary_totals_previous_period_and_idle_articles)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d, day_d);
    struct report_summary s;
    int rc = report_summary(ds, &q, &s);
    struct report_totals cur = s.cur, prev = s.prev;
    uint32_t pf = s.prev_from, pt = s.prev_to;
    size_t narticles = s.articles.n, nseries = s.series.n;
    size_t idle = 0;
    for (size_t i = 0; i < s.articles.n; i++)
        idle += s.articles.rows[i].views == 0;
    const char *first = s.articles.n ? s.articles.rows[0].a.path : "";
    char first_path[64];
    copy_str(first_path, sizeof first_path, first);
    size_t nsearch = s.searches.n;
    report_summary_free(&s);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(pf, day_d - 1);
    CHECK_EQ_INT(pt, day_d - 1);
    CHECK_EQ_INT(cur.sum.views, 16);
    CHECK_EQ_INT(cur.visitors, 10);
    CHECK_EQ_INT(cur.sum.reads, 1 + 3);
    CHECK_EQ_INT(cur.sum.votes_up, 3 + 1);
    CHECK_EQ_INT(cur.sum.votes_down, 2 + 1);
    CHECK_NEAR(cur.helpful_rate, 4.0 / 7.0);
    CHECK_NEAR(cur.read_rate, 4.0 / 16.0);
    CHECK_NEAR(cur.quick_exit_rate, 5.0 / 16.0);    /* 4 maths + refunds */
    /* 16 views: rank 8 is the 8th value of 1..10, 2, 15, 25, 30, 40, 50 s,
     * sorted 1,2,2,3,4,5,6,7,…: the 8th is 7 s, top of [7 s, 8 s) */
    CHECK_NEAR(cur.p50_ms, 8000);
    CHECK_EQ_INT(prev.sum.views, 4);
    CHECK_EQ_INT(prev.visitors, 4);
    CHECK_NEAR(prev.p50_ms, 20500);
    CHECK_EQ_INT(nseries, 1);
    CHECK_EQ_INT(narticles, 6);           /* with the idle ones */
    CHECK_EQ_INT(idle, 2);                /* bot-only and old */
    CHECK_EQ_STR(first_path, "/kb/maths");
    CHECK_EQ_INT(nsearch, 0);
}

/* --- searches ---------------------------------------------------------------- */

TEST(searches_merge_zero_result_counts)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_s, day_d - 1, day_d);
    struct report_counts c;
    CHECK_EQ_INT(report_searches(ds, &q, 0, &c), 0);
    /* reset password: A (3 results) and Z003 (none) on D, Y001 (4) on
     * D-1; dark mode: twice without results on D */
    struct { char q[32]; uint64_t n, z; } got[8];
    size_t n = c.n;
    for (size_t i = 0; i < n && i < 8; i++) {
        copy_str(got[i].q, sizeof got[i].q, c.items[i].value);
        got[i].n = c.items[i].count;
        got[i].z = c.items[i].zero;
    }
    report_counts_free(&c);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_STR(got[0].q, "reset password");
    CHECK_EQ_INT(got[0].n, 3);
    CHECK_EQ_INT(got[0].z, 1);
    CHECK_EQ_STR(got[1].q, "dark mode");
    CHECK_EQ_INT(got[1].n, 2);
    CHECK_EQ_INT(got[1].z, 2);
    /* then the ones searched once, by name */
    CHECK_EQ_STR(got[2].q, "after reading");
    CHECK_EQ_INT(got[2].n, 1);
    CHECK_EQ_INT(got[2].z, 0);
    CHECK_EQ_STR(got[3].q, "forgot password");
    CHECK_EQ_INT(got[3].z, 0);
    CHECK_EQ_STR(got[4].q, "password help");
    CHECK_EQ_INT(got[4].n, 1);
    CHECK_EQ_INT(got[4].z, 1);
    /* D only: dark mode and reset password twice each (equal counts go
     * by name), reset password once without results */
    q = query(site_s, day_d, day_d);
    CHECK_EQ_INT(report_searches(ds, &q, 2, &c), 0);
    n = c.n;
    for (size_t i = 0; i < n && i < 8; i++) {
        copy_str(got[i].q, sizeof got[i].q, c.items[i].value);
        got[i].n = c.items[i].count;
        got[i].z = c.items[i].zero;
    }
    report_counts_free(&c);
    CHECK_EQ_INT(n, 2);                   /* the limit */
    CHECK_EQ_STR(got[0].q, "dark mode");
    CHECK_EQ_INT(got[0].n, 2);
    CHECK_EQ_STR(got[1].q, "reset password");
    CHECK_EQ_INT(got[1].n, 2);
    CHECK_EQ_INT(got[1].z, 1);
    /* zero-result searches alone */
    q = query(site_s, day_d - 1, day_d);
    CHECK_EQ_INT(report_dim(ds, &q, 0, STORE_DIM_SEARCH_ZERO, 0, &c), 0);
    n = c.n;
    for (size_t i = 0; i < n && i < 8; i++) {
        copy_str(got[i].q, sizeof got[i].q, c.items[i].value);
        got[i].n = c.items[i].count;
    }
    report_counts_free(&c);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(got[0].q, "dark mode");
    CHECK_EQ_INT(got[0].n, 2);
    CHECK_EQ_STR(got[1].q, "password help");
    CHECK_EQ_STR(got[2].q, "reset password");
    CHECK_EQ_INT(got[2].n, 1);
    /* another site's searches are not these */
    q = query(site_r, day_d - 1, day_d);
    CHECK_EQ_INT(report_searches(ds, &q, 0, &c), 0);
    n = c.n;
    report_counts_free(&c);
    CHECK_EQ_INT(n, 0);
    /* the summary counts the searches of the site row */
    q = query(site_s, day_d, day_d);
    struct report_summary s;
    int rc = report_summary(ds, &q, &s);
    uint64_t searches = s.cur.searches;
    size_t top = s.searches.n, zero = s.zero_searches.n;
    report_summary_free(&s);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(searches, 7);            /* A B C E Z001 Z002 Z003 */
    CHECK_EQ_INT(top, 5);
    CHECK_EQ_INT(zero, 3);
}

TEST(search_then_view_within_30_minutes_credits_the_query)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_s, day_d, day_d);
    struct report_detail d;
    int rc = report_detail(ds, &q, event_article_id("/kb/reset", 9), &d);
    uint64_t views = d.row.views;
    size_t n = d.led_here.n;
    char first[64] = "";
    uint64_t count = 0;
    if (n) {
        copy_str(first, sizeof first, d.led_here.items[0].value);
        count = d.led_here.items[0].count;
    }
    for (size_t i = 0; n != 1 && i < n; i++)
        printf("  led here: \"%s\" %llu\n", d.led_here.items[i].value,
               (unsigned long long)d.led_here.items[i].count);
    report_detail_free(&d);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(views, 4);               /* A, B, C and E read it */
    /* A (29 min) only: not B (31 min), not C (another browser), not E
     * (searched after reading) */
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(first, "reset password");
    CHECK_EQ_INT(count, 1);
}

/* docs/metrics.md: a search "at most 30 minutes before the view" leads
 * there: a view at 30:00 is credited, one at 30:01 is not. */
TEST(search_exactly_30_minutes_before_a_view_is_credited)
{
    CHECK(dataset() != NULL);
    uint32_t t_id = add_site(ds, "t.example");
    CHECK(t_id != 0);
    static const char *const json[] = {
        "[{\"s\":\"t.example\",\"t\":\"view\",\"v\":\"tsearch1\","
        "\"u\":\"https://t.example/search\"},{\"s\":\"t.example\","
        "\"t\":\"search\",\"v\":\"tsearch1\",\"q\":\"on the dot\","
        "\"n\":1}]",
        "{\"s\":\"t.example\",\"t\":\"view\",\"v\":\"tview001\","
        "\"u\":\"https://t.example/kb/dot\"}",
        "[{\"s\":\"t.example\",\"t\":\"view\",\"v\":\"tsearch2\","
        "\"u\":\"https://t.example/search\"},{\"s\":\"t.example\","
        "\"t\":\"search\",\"v\":\"tsearch2\",\"q\":\"one second late\","
        "\"n\":1}]",
        "{\"s\":\"t.example\",\"t\":\"view\",\"v\":\"tview002\","
        "\"u\":\"https://t.example/kb/dot\"}",
    };
    uint64_t base = (uint64_t)day_d * 86400000000ull + H(8, 0) * 1000000ull;
    struct { int j; uint64_t at; const char *addr; } steps[] = {
        { 0, base, "203.0.113.60" },
        { 1, base + 30 * MIN_US, "203.0.113.60" },
        { 2, base, "203.0.113.61" },
        { 3, base + 30 * MIN_US + 1000000, "203.0.113.61" },
    };
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(send_at_us(ds, t_id, steps[i].at, steps[i].addr,
                                chrome_ua, "--", json[steps[i].j]), 0);
    }
    CHECK_EQ_INT(store_drain(ds, DRAIN_MS), 0);
    struct report_query q = query(t_id, day_d, day_d);
    struct report_detail d;
    int rc = report_detail(ds, &q, event_article_id("/kb/dot", 7), &d);
    uint64_t views = d.row.views;
    size_t n = d.led_here.n;
    char first[64] = "";
    if (n)
        copy_str(first, sizeof first, d.led_here.items[0].value);
    report_detail_free(&d);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(views, 2);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(first, "on the dot");
}

/* --- data that arrives later ----------------------------------------------- */

TEST(late_events_on_old_days_show_in_the_next_report)
{
    CHECK(dataset() != NULL);
    struct report_query q = query(site_r, day_d - 1, day_d);
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    const struct report_row *r = row_of(&l, "/kb/maths");
    uint64_t before = r ? r->views : 0;
    report_list_free(&l);
    CHECK_EQ_INT(before, 14);
    /* an import adds a view on D-1 and one on D-2 */
    CHECK_EQ_INT(view_at(site_r, "r.example", day_d - 1, H(20, 0),
                         "198.51.100.40", chrome_ua, "DE", "lateD1v1",
                         "/kb/maths", "Maths", "accounts", 46, "",
                         ",{\"s\":\"r.example\",\"t\":\"engage\","
                         "\"v\":\"lateD1v1\",\"e\":1000}"), 0);
    CHECK_EQ_INT(view_at(site_r, "r.example", day_d - 2, H(20, 0),
                         "198.51.100.41", chrome_ua, "DE", "lateD2v1",
                         "/kb/maths", "Maths", "accounts", 46, "", ""), 0);
    CHECK_EQ_INT(store_drain(ds, DRAIN_MS), 0);
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    r = row_of(&l, "/kb/maths");
    struct report_row c;
    memset(&c, 0, sizeof c);
    if (r)
        keep_row(&c, r);
    report_list_free(&l);
    CHECK(r != NULL);
    CHECK_EQ_INT(c.views, 15);
    CHECK_EQ_INT(c.visitors, 10);
    CHECK_EQ_INT(c.views_prev, 1);        /* D-3..D-2: the D-2 view */
    struct report_detail d;                /* 1 s twice now */
    CHECK_EQ_INT(report_detail(ds, &q, c.a.id, &d), 0);
    report_detail_free(&d);
    CHECK_EQ_INT(d.sum.hist[1], 2);
    /* and the series and the old numbers of D alone still hold */
    q = query(site_r, day_d, day_d);
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    r = row_of(&l, "/kb/maths");
    if (r)
        keep_row(&c, r);
    report_list_free(&l);
    CHECK(r != NULL);
    CHECK_EQ_INT(c.views, 10);
    CHECK_EQ_INT(c.views_prev, 5);
    CHECK_NEAR(c.p50_ms, 6000);
}

/* A view that omits title, category and word count (the noscript pixel)
 * keeps what the article's earlier views said: the report still shows
 * them. Runs last: under AddressSanitizer a fault here ends the process. */
TEST(view_without_metadata_keeps_the_articles_title_category_and_words)
{
    CHECK(dataset() != NULL);
    uint32_t m_id = add_site(ds, "m.example");
    CHECK(m_id != 0);
    CHECK_EQ_INT(view_at(m_id, "m.example", day_d, H(9, 0), "198.51.100.50",
                         chrome_ua, "DE", "metaful1", "/kb/meta",
                         "Known title", "known-category", 460, "", ""), 0);
    CHECK_EQ_INT(send_at(ds, m_id, day_d, H(9, 5), "198.51.100.51",
                         chrome_ua, "DE",
                         "{\"s\":\"m.example\",\"t\":\"view\","
                         "\"v\":\"metaless\","
                         "\"u\":\"https://help.example.com/kb/meta\"}"), 0);
    CHECK_EQ_INT(store_drain(ds, DRAIN_MS), 0);
    struct report_query q = query(m_id, day_d, day_d);
    struct report_detail d;
    int rc = report_detail(ds, &q, event_article_id("/kb/meta", 8), &d);
    struct report_row c = d.row;
    report_detail_free(&d);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(c.views, 2);
    CHECK_EQ_STR(c.a.title, "Known title");
    CHECK_EQ_STR(c.a.category, "known-category");
    CHECK_EQ_INT(c.a.words, 460);
}

/* --- pages that are not articles ------------------------------------------- */

/* k.example on D: /kb/a, an article (2 views of 20 s, scrolled); /search,
 * marked "search" (12 views, none engaged: all quick exits); "/" without a
 * kind (home); /kb, marked "list" (1 view each). */
static uint32_t site_k;

static int build_kinds(void)
{
    char vid[32], addr[32], extra[256];
    if ((site_k = add_site(ds, "k.example")) == 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        snprintf(vid, sizeof vid, "kinda%03d", i);
        snprintf(addr, sizeof addr, "198.51.100.%d", 60 + i);
        snprintf(extra, sizeof extra, ",{\"s\":\"k.example\",\"t\":\"engage\","
                 "\"v\":\"%s\",\"e\":20000,\"sd\":50}", vid);
        if (view_at(site_k, "k.example", day_d, H(8, i), addr, chrome_ua,
                    "DE", vid, "/kb/a", "A", "kb", 230, ",\"sd\":0",
                    extra) != 0)
            return -1;
    }
    for (int i = 0; i < 12; i++) {
        snprintf(vid, sizeof vid, "kinds%03d", i);
        snprintf(addr, sizeof addr, "198.51.100.%d", 70 + i);
        if (view_at(site_k, "k.example", day_d, H(9, i), addr, chrome_ua,
                    "DE", vid, "/search", "Search", "", 0,
                    ",\"pk\":\"search\"", "") != 0)
            return -1;
    }
    if (view_at(site_k, "k.example", day_d, H(10, 0), "198.51.100.90",
                chrome_ua, "DE", "kindh000", "/", "Help center", "", 0, "",
                "") != 0 ||
        view_at(site_k, "k.example", day_d, H(10, 1), "198.51.100.91",
                chrome_ua, "DE", "kindl000", "/kb", "All articles", "", 0,
                ",\"pk\":\"list\"", "") != 0)
        return -1;
    return store_drain(ds, DRAIN_MS);
}

TEST(pages_that_are_not_articles_count_in_totals_not_in_article_tables)
{
    CHECK(dataset() != NULL);
    CHECK_EQ_INT(build_kinds(), 0);
    struct report_query q = query(site_k, day_d, day_d);
    char buf[256];
    /* the article list: the article only */
    CHECK_EQ_STR(sorted_paths(&q, "views", true, buf, sizeof buf), "/kb/a");
    /* the summary: totals of every page; tables of articles only */
    struct report_summary s;
    int rc = report_summary(ds, &q, &s);
    struct report_totals cur = s.cur;
    size_t narticles = s.articles.n, natt = s.n_attention;
    copy_str(buf, sizeof buf, narticles ? s.articles.rows[0].a.path : "");
    report_summary_free(&s);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(cur.sum.views, 2 + 12 + 1 + 1);
    CHECK_EQ_INT(cur.visitors, 16);
    CHECK_NEAR(cur.quick_exit_rate, 14.0 / 16.0);
    CHECK_EQ_INT(narticles, 1);            /* idle ones included: none */
    CHECK_EQ_STR(buf, "/kb/a");
    CHECK_EQ_INT(natt, 0);                 /* /search would top it */
}

TEST(kind_lists_search_pages_and_ranks_them_like_articles)
{
    CHECK(dataset() != NULL);
    CHECK(site_k != 0);                    /* built by the test above */
    struct report_query q = query(site_k, day_d, day_d);
    CHECK_EQ_INT(report_parse_kinds("search", &q.kinds), 0);
    struct report_list l;
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    size_t n = l.n, flagged = report_rank_attention(&l);
    struct report_row r;
    memset(&r, 0, sizeof r);
    if (n == 1)
        keep_row(&r, &l.rows[0]);
    report_list_free(&l);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(r.a.path, "/search");
    CHECK_EQ_INT(r.a.kind, EVENT_PAGE_SEARCH);
    CHECK_EQ_INT(r.views, 12);
    CHECK_NEAR(r.quick_exit_rate, 1.0);
    CHECK_EQ_INT(flagged, 1);
    CHECK_EQ_STR(r.attention_reason, "most readers leave within 5 s");

    char buf[256];
    CHECK_EQ_INT(report_parse_kinds("all", &q.kinds), 0);
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf),
                 "/ /kb /kb/a /search");
    CHECK_EQ_INT(report_articles(ds, &q, false, &l), 0);
    const struct report_row *home = row_of(&l, "/"),
                            *list = row_of(&l, "/kb");
    int hk = home ? home->a.kind : -1, lk = list ? list->a.kind : -1;
    report_list_free(&l);
    CHECK_EQ_INT(hk, EVENT_PAGE_HOME);     /* the site root, unmarked */
    CHECK_EQ_INT(lk, EVENT_PAGE_LIST);
    CHECK_EQ_INT(report_parse_kinds("home,list", &q.kinds), 0);
    CHECK_EQ_STR(sorted_paths(&q, "path", false, buf, sizeof buf), "/ /kb");

    /* one page in detail, whatever its kind */
    struct report_detail d;
    q.kinds = 0;
    int rc = report_detail(ds, &q, event_article_id("/search", 7), &d);
    uint64_t views = d.row.views;
    int kind = d.row.a.kind;
    report_detail_free(&d);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(views, 12);
    CHECK_EQ_INT(kind, EVENT_PAGE_SEARCH);
}

TEST(parse_kinds_takes_names_joined_by_commas_or_all)
{
    unsigned k = 99;
    CHECK_EQ_INT(report_parse_kinds("article", &k), 0);
    CHECK_EQ_INT(k, 1u << EVENT_PAGE_ARTICLE);
    CHECK_EQ_INT(report_parse_kinds("search,list", &k), 0);
    CHECK_EQ_INT(k, (1u << EVENT_PAGE_SEARCH) | (1u << EVENT_PAGE_LIST));
    CHECK_EQ_INT(report_parse_kinds("all", &k), 0);
    CHECK_EQ_INT(k, 15);
    k = 99;
    CHECK_EQ_INT(report_parse_kinds("", &k), -1);
    CHECK_EQ_INT(report_parse_kinds("faq", &k), -1);
    CHECK_EQ_INT(report_parse_kinds("search,", &k), -1);
    CHECK_EQ_INT(report_parse_kinds(",search", &k), -1);
    CHECK_EQ_INT(report_parse_kinds("search,,list", &k), -1);
    CHECK_EQ_INT(report_parse_kinds("all,search", &k), -1);
    CHECK_EQ_INT(report_parse_kinds(NULL, &k), -1);
    CHECK_EQ_INT(k, 99);                   /* untouched on error */
    CHECK_EQ_INT(report_parse_kinds("Search,LIST", &k), 0);   /* any case */
    CHECK_EQ_INT(k, (1u << EVENT_PAGE_SEARCH) | (1u << EVENT_PAGE_LIST));
}

int main(void)
{
    if (fixture_begin("report") != 0)
        return 1;
    RUN(parse_date_rejects_impossible_and_malformed_dates);
    RUN(format_date_and_parse_date_round_trip_every_day_1970_to_2100);
    RUN(default_range_is_the_30_full_days_before_today);
    RUN(range_into_the_future_is_clamped_to_today);
    RUN(range_names_the_bad_parameter);
    RUN(derive_gives_nan_for_undefined_ratios);
    RUN(derive_counts_quick_exits_below_5_s_and_read_through_from_90_pct);
    RUN(sort_puts_undefined_values_last_in_both_orders);
    RUN(sort_moves_whole_rows_in_place);
    RUN(sort_keys_are_all_accepted);
    RUN(rank_attention_scores_and_orders_articles);
    RUN(ten_views_with_engaged_1_to_10_s_give_exact_metrics);
    RUN(previous_period_of_equal_length_gives_views_change);
    RUN(detail_matches_the_list_row_and_has_the_previous_period);
    RUN(other_articles_have_their_exact_numbers);
    RUN(range_without_the_day_has_no_views);
    RUN(prefix_and_category_filters_select_articles);
    RUN(sort_by_views_title_and_engaged_p50_both_ways);
    RUN(bot_events_count_only_with_include_bots);
    RUN(countries_are_summed_over_several_days);
    RUN(series_has_every_day_of_the_range_with_zeros);
    RUN(site_series_counts_the_reads_of_its_articles);
    RUN(summary_totals_previous_period_and_idle_articles);
    RUN(searches_merge_zero_result_counts);
    RUN(search_then_view_within_30_minutes_credits_the_query);
    RUN(search_exactly_30_minutes_before_a_view_is_credited);
    RUN(late_events_on_old_days_show_in_the_next_report);
    RUN(view_without_metadata_keeps_the_articles_title_category_and_words);
    RUN(pages_that_are_not_articles_count_in_totals_not_in_article_tables);
    RUN(kind_lists_search_pages_and_ranks_them_like_articles);
    RUN(parse_kinds_takes_names_joined_by_commas_or_all);
    store_close(ds);
    int rc = check_summary();
    fixture_end();
    return rc;
}
