/* test_export.c — dwell events' NDJSON lines (src/query/export.c): the
 * members of each event type in their order, tricky strings (quotes,
 * backslash, controls, U+2028, emoji) escaped as cJSON escaped them, a
 * string cut at a NUL or after 1023 bytes, null scroll and results, and a
 * write error reported. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "dwell/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The export of EV as text; the caller frees it. */
static char *line_of(const struct event *ev)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (f == NULL)
        return NULL;
    int rc = export_event_ndjson(ev, f);
    fclose(f);
    if (rc != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static struct event_str str(const char *s)
{
    return (struct event_str){ s, (uint16_t)strlen(s) };
}

/* A view on 2025-03-12 at 10:00:00.000001 UTC. */
static struct event view(void)
{
    struct event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = EVENT_VIEW;
    ev.scroll = EVENT_SCROLL_NONE;
    memcpy(ev.country, "DE", 3);
    ev.time_us = 20159ull * 86400000000ull + 36000000001ull;
    ev.view_id = str("v1");
    ev.path = str("/a");
    ev.title = str("T");
    ev.referrer = str("");
    ev.category = str("c");
    ev.lang = str("en");
    ev.words = 120;
    ev.screen_w = 0;
    return ev;
}

TEST(view_members_in_order_with_tricky_strings)
{
    struct event ev = view();
    ev.title = str("say \"hi\" \\ \x01\t\n \xe2\x80\xa8 \xf0\x9f\x98\x80 \xc3\xa9");
    ev.kind = EVENT_PAGE_SEARCH;
    ev.flags = EVENT_FLAG_BOT | EVENT_FLAG_AUTOMATED | EVENT_FLAG_PIXEL;
    ev.wire = 2;
    ev.scroll = 75;
    ev.engaged_ms = 4200;
    ev.visitor = 0x00a1b2c3d4e5f607ull;
    char *got = line_of(&ev);
    CHECK(got != NULL);
    CHECK_EQ_STR(got,
        "{\"time\":\"2025-03-12T10:00:00.000001Z\",\"type\":\"view\","
        "\"view\":\"v1\",\"path\":\"/a\",\"engaged_ms\":4200,\"scroll\":75,"
        "\"country\":\"DE\",\"visitor\":\"00a1b2c3d4e5f607\","
        "\"bot\":true,\"automated\":true,\"pixel\":true,"
        "\"wire\":2,\"title\":\"say \\\"hi\\\" \\\\ \\u0001\\t\\n "
        "\xe2\x80\xa8 \xf0\x9f\x98\x80 \xc3\xa9\",\"referrer\":\"\","
        "\"category\":\"c\",\"lang\":\"en\",\"words\":120,\"screen_width\":0,"
        "\"page\":\"search\"}\n");
    free(got);
}

TEST(search_vote_and_custom_carry_their_own_members)
{
    struct event ev = view();
    ev.type = EVENT_SEARCH;
    ev.text = str("refund");
    ev.results = EVENT_RESULTS_NONE;
    ev.seq = 3;
    char *got = line_of(&ev);
    CHECK(got != NULL);
    CHECK_EQ_STR(got,
        "{\"time\":\"2025-03-12T10:00:00.000001Z\",\"type\":\"search\","
        "\"view\":\"v1\",\"path\":\"/a\",\"engaged_ms\":0,\"scroll\":null,"
        "\"country\":\"DE\",\"visitor\":\"0000000000000000\","
        "\"bot\":false,\"seq\":3,\"query\":\"refund\","
        "\"results\":null}\n");
    free(got);
    ev.results = 0;
    got = line_of(&ev);
    CHECK(got != NULL && strstr(got, ",\"results\":0}\n") != NULL);
    free(got);
    ev.type = EVENT_VOTE;
    ev.vote = EVENT_VOTE_DOWN;
    got = line_of(&ev);
    CHECK(got != NULL && strstr(got, ",\"vote\":\"down\"}\n") != NULL);
    free(got);
    ev.type = EVENT_CUSTOM;
    ev.text = str("clicked");
    got = line_of(&ev);
    CHECK(got != NULL && strstr(got, ",\"name\":\"clicked\"}\n") != NULL);
    free(got);
}

TEST(strings_end_at_a_nul_or_after_1023_bytes)
{
    struct event ev = view();
    ev.title = (struct event_str){ "ab\0cd", 5 };
    char *got = line_of(&ev);
    CHECK(got != NULL && strstr(got, "\"title\":\"ab\",") != NULL);
    free(got);
    static char long_path[2000];
    memset(long_path, 'p', sizeof long_path);
    ev.path = (struct event_str){ long_path, sizeof long_path };
    got = line_of(&ev);
    CHECK(got != NULL);
    const char *p = strstr(got, "\"path\":\"");
    CHECK(p != NULL);
    CHECK_EQ_INT(strspn(p + 8, "p"), 1023);
    CHECK(p[8 + 1023] == '"');
    free(got);
}

TEST(a_failed_write_is_an_error)
{
    struct event ev = view();
    FILE *f = fopen("/dev/full", "w");
    CHECK(f != NULL);
    setvbuf(f, NULL, _IONBF, 0);
    CHECK_EQ_INT(export_event_ndjson(&ev, f), -1);
    fclose(f);
}

int main(void)
{
    RUN(view_members_in_order_with_tricky_strings);
    RUN(search_vote_and_custom_carry_their_own_members);
    RUN(strings_end_at_a_nul_or_after_1023_bytes);
    RUN(a_failed_write_is_an_error);
    return check_summary();
}
