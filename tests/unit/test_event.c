/* test_event.c — the wire format (JSON beacons and pixel query strings), its
 * validation and normalisation, and the binary record the store keeps. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "dwell/event.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One parsed request at a time: the batch is too big for a small stack. */
static struct event_batch batch;
static char err[256];

/* Parses the NUL-terminated JSON BODY into the shared batch. */
static int parse(const char *body)
{
    err[0] = '\0';
    return event_parse_json(body, strlen(body), &batch, err, sizeof err);
}

/* Parses BODY, which must fail, and says whether ERR names FIELD (a prefix
 * such as "v:"). Prints the message when it does not. */
static bool rejected_naming(const char *body, const char *field)
{
    if (parse(body) != -1) {
        printf("  accepted: %s\n", body);
        return false;
    }
    if (batch.n != 0) {
        printf("  rejected but batch.n == %zu\n", batch.n);
        return false;
    }
    if (strstr(err, field) == NULL) {
        printf("  error \"%s\" does not name \"%s\"\n", err, field);
        return false;
    }
    return true;
}

/* True when S holds exactly the bytes of the NUL-terminated WANT. */
static bool str_is(struct event_str s, const char *want)
{
    size_t n = strlen(want);
    if (s.n == n && (n == 0 || memcmp(s.p, want, n) == 0))
        return true;
    printf("  got \"%.*s\" (%u bytes), expected \"%s\" (%zu bytes)\n",
           (int)s.n, s.p ? s.p : "", (unsigned)s.n, want, n);
    return false;
}

static bool str_eq(struct event_str a, struct event_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* --- the pixel's query parameters ---------------------------------------- */

struct param {
    const char *key, *value;
};

/* An event_param_fn over a table of PARAMs ended by a NULL key. */
static const char *param_get(void *ctx, const char *key)
{
    for (const struct param *p = ctx; p->key != NULL; p++)
        if (strcmp(p->key, key) == 0)
            return p->value;
    return NULL;
}

static int parse_pixel(struct param *table, const char *view_id)
{
    err[0] = '\0';
    return event_parse_pixel(param_get, table, view_id, &batch, err,
                             sizeof err);
}

/* --- every event type ----------------------------------------------------- */

TEST(view_parses_with_every_field)
{
    CHECK_EQ_INT(parse("{\"s\":\"help.example.com\",\"t\":\"view\","
                       "\"v\":\"k3J9xQ2m\","
                       "\"u\":\"https://help.example.com/kb/reset-password\","
                       "\"r\":\"https://www.google.com/\","
                       "\"ti\":\"Reset your password\",\"w\":812,"
                       "\"c\":\"accounts\",\"l\":\"en-US\",\"sw\":1280}"), 0);
    CHECK_EQ_INT(batch.n, 1);
    const struct event *ev = &batch.ev[0];
    CHECK_EQ_INT(ev->type, EVENT_VIEW);
    CHECK_EQ_INT(ev->flags, 0);
    CHECK(str_is(ev->site, "help.example.com"));
    CHECK(str_is(ev->view_id, "k3J9xQ2m"));
    CHECK(str_is(ev->path, "/kb/reset-password"));
    CHECK(str_is(ev->referrer, "www.google.com"));
    CHECK(str_is(ev->title, "Reset your password"));
    CHECK(str_is(ev->category, "accounts"));
    CHECK(str_is(ev->lang, "en-US"));
    CHECK_EQ_INT(ev->words, 812);
    CHECK_EQ_INT(ev->screen_w, 1280);
    CHECK_EQ_INT(ev->scroll, EVENT_SCROLL_NONE);
    CHECK(ev->article == event_article_id("/kb/reset-password", 18));
    CHECK_EQ_STR(ev->country, "--");
    CHECK_EQ_INT(ev->site_id, 0);
    CHECK(ev->visitor == 0);
}

TEST(engage_parses_with_e_and_sd)
{
    CHECK_EQ_INT(parse("{\"s\":\"help.example.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"e\":15000,\"sd\":64}"), 0);
    CHECK_EQ_INT(batch.n, 1);
    CHECK_EQ_INT(batch.ev[0].type, EVENT_ENGAGE);
    CHECK_EQ_INT(batch.ev[0].engaged_ms, 15000);
    CHECK_EQ_INT(batch.ev[0].scroll, 64);
    CHECK(str_is(batch.ev[0].view_id, "k3J9xQ2m"));
    CHECK_EQ_INT(batch.ev[0].path.n, 0);
}

/* What the parser made of event 0 of BODY (which must parse) that a
 * dwell(…) command sets, as text: "type wire flags vote results seq text". */
static void command_as_text(const char *body, char *out, size_t len)
{
    if (parse(body) != 0 || batch.n != 1) {
        snprintf(out, len, "refused: %s", err);
        return;
    }
    const struct event *ev = &batch.ev[0];
    snprintf(out, len, "%d %d %d %d %u %d %.*s", ev->type, ev->wire,
             ev->flags, ev->vote, ev->results, ev->seq, (int)ev->text.n,
             ev->text.p);
}

/* The same command sent in wire 2 (OLD) and wire 3 (NEW) parses alike. */
static bool same_command(const char *old, const char *new_form)
{
    char a[512], b[512];
    command_as_text(old, a, sizeof a);
    command_as_text(new_form, b, sizeof b);
    if (strcmp(a, b) == 0 && strncmp(a, "refused", 7) != 0)
        return true;
    printf("  wire 2 \"%s\" vs wire 3 \"%s\"\n", a, b);
    return false;
}

#define CMD(rest) "{\"s\":\"a.com\",\"v\":\"k3J9xQ2m\"," rest "}"
#define HEX64 "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"

TEST(wire_3_commands_carry_their_argument_in_a_and_parse_as_wire_2)
{
    CHECK(same_command(CMD("\"t\":\"vote\",\"x\":\"up\",\"wv\":2"),
                       CMD("\"t\":\"vote\",\"a\":\"up\",\"wv\":3")));
    CHECK(same_command(CMD("\"t\":\"vote\",\"x\":\"down\",\"i\":4,\"wv\":2"),
                       CMD("\"t\":\"vote\",\"a\":\"down\",\"n\":9,\"i\":4,"
                           "\"wv\":3")));
    CHECK(same_command(CMD("\"t\":\"search\",\"q\":\" Reset  PASSWORD \","
                           "\"n\":3,\"i\":2,\"wv\":2"),
                       CMD("\"t\":\"search\",\"a\":\" Reset  PASSWORD \","
                           "\"n\":3,\"i\":2,\"wv\":3")));
    CHECK(same_command(CMD("\"t\":\"search\",\"q\":\"refund\",\"n\":0,"
                           "\"i\":1,\"wv\":2"),
                       CMD("\"t\":\"search\",\"a\":\"refund\",\"n\":0,"
                           "\"i\":1,\"wv\":3")));
    /* the wire-2 snippet sent a result count only when it was a number */
    static const char *const not_counts[] = {
        "\"5\"", "true", "{}", "[3]", "null"
    };
    for (size_t k = 0; k < sizeof not_counts / sizeof not_counts[0]; k++) {
        char body[256];
        snprintf(body, sizeof body, CMD("\"t\":\"search\",\"a\":\"refund\","
                 "\"n\":%s,\"i\":1,\"wv\":3"), not_counts[k]);
        CHECK(same_command(CMD("\"t\":\"search\",\"q\":\"refund\",\"i\":1,"
                               "\"wv\":2"), body));
    }
    CHECK(same_command(CMD("\"t\":\"identify\",\"h\":\"" HEX64 "\",\"wv\":2"),
                       CMD("\"t\":\"identify\",\"a\":\"" HEX64 "\",\"wv\":3")));
    /* a custom event's "n" is its name in wire 2, nothing in wire 3 */
    CHECK(same_command(CMD("\"t\":\"event\",\"n\":\"copied-code\",\"i\":1,"
                           "\"wv\":2"),
                       CMD("\"t\":\"event\",\"a\":\"copied-code\",\"n\":7,"
                           "\"i\":1,\"wv\":3")));
    CHECK(same_command(CMD("\"t\":\"event\",\"n\":\"contact\",\"i\":3,"
                           "\"wv\":2"),
                       CMD("\"t\":\"event\",\"a\":\"contact\",\"n\":\"x\","
                           "\"i\":3,\"wv\":3")));
    /* and wire 2's own fields mean nothing in wire 3, "a" nothing before */
    CHECK(rejected_naming(CMD("\"t\":\"vote\",\"x\":\"up\",\"wv\":3"), "a:"));
    CHECK(rejected_naming(CMD("\"t\":\"search\",\"q\":\"refund\",\"wv\":3"),
                          "a:"));
    CHECK(rejected_naming(CMD("\"t\":\"event\",\"n\":\"contact\",\"wv\":3"),
                          "a:"));
    CHECK(rejected_naming(CMD("\"t\":\"identify\",\"h\":\"" HEX64 "\","
                              "\"wv\":3"), "a:"));
    CHECK(rejected_naming(CMD("\"t\":\"vote\",\"a\":\"up\",\"wv\":2"), "x:"));
    CHECK(rejected_naming(CMD("\"t\":\"event\",\"a\":\"contact\",\"wv\":2"),
                          "n:"));
}

TEST(wire_3_refuses_a_on_view_engage_and_link_and_checks_a_as_before)
{
    CHECK(rejected_naming(CMD("\"t\":\"view\",\"u\":\"/kb/a\",\"a\":\"/kb/b\","
                              "\"wv\":3"), "a: not a field of view events"));
    CHECK(rejected_naming(CMD("\"t\":\"engage\",\"e\":100,\"a\":100,"
                              "\"wv\":3"), "a: not a field of engage events"));
    CHECK(rejected_naming(CMD("\"t\":\"link\",\"k\":\"Lr5tY8wQ\","
                              "\"a\":\"Lr5tY8wQ\",\"wv\":3"),
                          "a: not a field of link events"));
    /* without "a" they parse as in wire 2 */
    CHECK(same_command(CMD("\"t\":\"link\",\"k\":\"Lr5tY8wQ\",\"wv\":2"),
                       CMD("\"t\":\"link\",\"k\":\"Lr5tY8wQ\",\"wv\":3")));
    CHECK(same_command(CMD("\"t\":\"engage\",\"e\":7200000,\"wv\":2"),
                       CMD("\"t\":\"engage\",\"e\":7200000,\"wv\":3")));
    CHECK(rejected_naming(CMD("\"t\":\"vote\",\"a\":\"UP\",\"wv\":3"), "a:"));
    CHECK(rejected_naming(CMD("\"t\":\"search\",\"a\":\"  \",\"wv\":3"),
                          "a: empty search query"));
    CHECK(rejected_naming(CMD("\"t\":\"search\",\"a\":5,\"wv\":3"), "a:"));
    CHECK(rejected_naming(CMD("\"t\":\"search\",\"a\":\"x\",\"n\":-1,"
                              "\"wv\":3"), "n: not a result count"));
    CHECK(rejected_naming(CMD("\"t\":\"search\",\"a\":\"x\",\"n\":1000001,"
                              "\"wv\":3"), "n: not a result count"));
    CHECK(rejected_naming(CMD("\"t\":\"identify\",\"a\":\"abc\",\"wv\":3"),
                          "a: must be 64 hex digits"));
    CHECK(rejected_naming(CMD("\"t\":\"event\",\"a\":\"\",\"wv\":3"),
                          "a: missing event name"));
    CHECK(rejected_naming(CMD("\"t\":\"event\",\"i\":0,\"a\":\"x\",\"wv\":3"),
                          "i:"));
    CHECK(rejected_naming(CMD("\"t\":\"click\",\"a\":\"x\",\"wv\":3"),
                          "t: unknown event type"));
}

TEST(wire_2_engage_is_a_cumulative_total_up_to_a_day)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\","
                       "\"e\":7200000,\"wv\":2}"), 0);
    CHECK_EQ_INT(batch.ev[0].wire, 2);
    CHECK(batch.ev[0].flags & EVENT_FLAG_WIRE2);
    CHECK_EQ_INT(batch.ev[0].engaged_ms, 7200000);
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\","
                          "\"e\":86400001,\"wv\":2}", "e:"));
    /* wire 1 (no wv) is a delta of at most an hour */
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\","
                       "\"e\":1000}"), 0);
    CHECK_EQ_INT(batch.ev[0].wire, 1);
    CHECK(!(batch.ev[0].flags & EVENT_FLAG_WIRE2));
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\","
                          "\"e\":7200000}", "e:"));
}

TEST(wire_2_view_keeps_the_query_it_sends_wire_1_only_with_kq)
{
    /* the snippet of wire 2 drops the query itself unless data-keep-query */
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"https://a.com/kb?id=42#top\",\"wv\":2}"), 0);
    CHECK(str_is(batch.ev[0].path, "/kb?id=42"));
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"https://a.com/kb?id=42\"}"), 0);
    CHECK(str_is(batch.ev[0].path, "/kb"));
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"https://a.com/kb?id=42\",\"kq\":1}"), 0);
    CHECK(str_is(batch.ev[0].path, "/kb?id=42"));
}

TEST(nul_character_anywhere_in_a_beacon_is_rejected)
{
    /* cJSON would end the site at the NUL: counted for s.test */
    CHECK(rejected_naming("{\"s\":\"s.test\\u0000evil\",\"t\":\"view\","
                          "\"v\":\"k3J9xQ2m\",\"u\":\"/a\"}", "NUL"));
    CHECK(rejected_naming("{\"s\":\"s.test\",\"t\":\"view\",\"v\":\"k3J9\\u0000Q2m\","
                          "\"u\":\"/a\"}", "NUL"));
    static const char raw[] = "{\"s\":\"s.test\",\"t\":\"vote\","
                              "\"v\":\"k3J9xQ2m\",\"x\":\"up\0\"}";
    CHECK_EQ_INT(event_parse_json(raw, sizeof raw - 1, &batch, err,
                                  sizeof err), -1);
    CHECK(strstr(err, "NUL") != NULL);
    /* an escaped backslash before u0000 is the text \u0000, not a NUL */
    CHECK_EQ_INT(parse("{\"s\":\"s.test\",\"t\":\"event\",\"v\":\"k3J9xQ2m\","
                       "\"n\":\"a\\\\u0000b\"}"), 0);
    CHECK(str_is(batch.ev[0].text, "a\\u0000b"));
}

TEST(search_and_custom_event_keep_their_sequence_number)
{
    uint8_t rec[EVENT_RECORD_MAX];
    struct event back;
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\","
                       "\"q\":\"refund\",\"i\":7,\"wv\":2}"), 0);
    CHECK_EQ_INT(batch.ev[0].seq, 7);
    int len = event_encode(&batch.ev[0], rec, sizeof rec);
    CHECK(len > 0);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    CHECK_EQ_INT(back.seq, 7);
    CHECK_EQ_INT(back.wire, 2);
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"event\",\"v\":\"k3J9xQ2m\","
                       "\"n\":\"pdf\",\"i\":65535}"), 0);
    CHECK_EQ_INT(batch.ev[0].seq, 65535);
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"event\",\"v\":\"k3J9xQ2m\","
                          "\"n\":\"pdf\",\"i\":65536}", "i:"));
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\","
                          "\"q\":\"x\",\"i\":0}", "i:"));
}

TEST(vote_up_and_down_parse)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"vote\",\"v\":\"k3J9xQ2m\","
                       "\"x\":\"up\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].type, EVENT_VOTE);
    CHECK_EQ_INT(batch.ev[0].vote, EVENT_VOTE_UP);
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"vote\",\"v\":\"k3J9xQ2m\","
                       "\"x\":\"down\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].vote, EVENT_VOTE_DOWN);
}

TEST(search_parses_query_and_result_count)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\","
                       "\"q\":\"reset password\",\"n\":7}"), 0);
    CHECK_EQ_INT(batch.ev[0].type, EVENT_SEARCH);
    CHECK(str_is(batch.ev[0].text, "reset password"));
    CHECK_EQ_INT(batch.ev[0].results, 7);
}

TEST(link_parses_its_id)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"link\",\"v\":\"k3J9xQ2m\","
                       "\"k\":\"Lr5tY8wq1Zp0\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].type, EVENT_LINK);
    CHECK(str_is(batch.ev[0].text, "Lr5tY8wq1Zp0"));
}

TEST(identify_parses_its_hash_lower_cased)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"s\":\"a.com\",\"t\":\"identify\",\"v\":\"k3J9xQ2m\","
             "\"h\":\"%s\"}",
             "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789ABCDEF");
    CHECK_EQ_INT(parse(body), 0);
    CHECK_EQ_INT(batch.ev[0].type, EVENT_IDENTIFY);
    CHECK(str_is(batch.ev[0].text,
                 "0123456789abcdef0123456789abcdef"
                 "0123456789abcdef0123456789abcdef"));
}

TEST(custom_event_parses_its_name)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"event\",\"v\":\"k3J9xQ2m\","
                       "\"n\":\"contact\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].type, EVENT_CUSTOM);
    CHECK(str_is(batch.ev[0].text, "contact"));
}

TEST(pixel_parses_a_view_with_its_fields)
{
    struct param p[] = {
        { "s", "help.example.com" },
        { "u", "https://help.example.com/kb/sso?utm=x#top" },
        { "r", "https://Duck.Example.ORG/?q=sso" },
        { "t", "Single sign-on" },
        { "c", "security" },
        { "l", "fr" },
        { NULL, NULL }
    };
    CHECK_EQ_INT(parse_pixel(p, "pixel0123abc"), 0);
    CHECK_EQ_INT(batch.n, 1);
    const struct event *ev = &batch.ev[0];
    CHECK_EQ_INT(ev->type, EVENT_VIEW);
    CHECK_EQ_INT(ev->flags, EVENT_FLAG_PIXEL);
    CHECK(str_is(ev->site, "help.example.com"));
    CHECK(str_is(ev->view_id, "pixel0123abc"));
    CHECK(str_is(ev->path, "/kb/sso"));
    CHECK(str_is(ev->referrer, "duck.example.org"));
    CHECK(str_is(ev->title, "Single sign-on"));
    CHECK(str_is(ev->category, "security"));
    CHECK(str_is(ev->lang, "fr"));
    CHECK(ev->article == event_article_id("/kb/sso", 7));
    CHECK_EQ_INT(ev->scroll, EVENT_SCROLL_NONE);
}

TEST(pixel_without_site_is_rejected)
{
    struct param p[] = { { "u", "/kb/a" }, { NULL, NULL } };
    CHECK_EQ_INT(parse_pixel(p, "pixel0123abc"), -1);
    CHECK_EQ_INT(batch.n, 0);
    CHECK(strstr(err, "s:") != NULL);
}

TEST(pixel_without_url_is_rejected)
{
    struct param p[] = { { "s", "a.com" }, { NULL, NULL } };
    CHECK_EQ_INT(parse_pixel(p, "pixel0123abc"), -1);
    CHECK_EQ_INT(batch.n, 0);
    CHECK(strstr(err, "u:") != NULL);
}

TEST(pixel_with_a_non_url_is_rejected)
{
    struct param p[] = { { "s", "a.com" }, { "u", "javascript:alert(1)" },
                         { NULL, NULL } };
    CHECK_EQ_INT(parse_pixel(p, "pixel0123abc"), -1);
    CHECK(strstr(err, "u:") != NULL);
}

/* --- batches -------------------------------------------------------------- */

/* Writes a JSON array of N engage events (view ids differ) into BUF. */
static void make_batch(char *buf, size_t cap, int n)
{
    size_t off = 0;
    buf[off++] = '[';
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(buf + off, cap - off,
                                "%s{\"s\":\"a.com\",\"t\":\"engage\","
                                "\"v\":\"view%04d\",\"e\":%d}",
                                i ? "," : "", i, i * 10);
    snprintf(buf + off, cap - off, "]");
}

TEST(batch_of_1_is_accepted)
{
    CHECK_EQ_INT(parse("[{\"s\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"e\":1}]"), 0);
    CHECK_EQ_INT(batch.n, 1);
}

TEST(batch_of_32_is_accepted_in_order)
{
    char body[EVENT_MAX_BODY];
    make_batch(body, sizeof body, 32);
    CHECK(strlen(body) <= EVENT_MAX_BODY);
    CHECK_EQ_INT(parse(body), 0);
    CHECK_EQ_INT(batch.n, 32);
    CHECK(str_is(batch.ev[0].view_id, "view0000"));
    CHECK(str_is(batch.ev[31].view_id, "view0031"));
    CHECK_EQ_INT(batch.ev[31].engaged_ms, 310);
}

TEST(batch_of_33_is_rejected)
{
    char body[EVENT_MAX_BODY];
    make_batch(body, sizeof body, 33);
    CHECK(strlen(body) <= EVENT_MAX_BODY);
    CHECK(rejected_naming(body, "33"));
}

TEST(bad_event_in_batch_rejects_the_whole_batch)
{
    CHECK(rejected_naming("[{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":1},"
                          "{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":2},"
                          "{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9\",\"e\":3}]", "v:"));
    CHECK(strstr(err, "event 2") != NULL);
}

TEST(non_object_in_array_is_rejected)
{
    CHECK(rejected_naming("[{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":1}, 42]",
                          "not a JSON object"));
    CHECK(strstr(err, "event 1") != NULL);
    CHECK(rejected_naming("[\"view\"]", "not a JSON object"));
}

TEST(json_followed_by_trailing_garbage_is_rejected)
{
    /* RFC 8259: a JSON text is one value with optional blanks around it.
     * A valid event followed by other bytes is not JSON. */
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":1} trailing",
                          "malformed JSON"));
    CHECK(rejected_naming("[{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":1}]]",
                          "malformed JSON"));
}

TEST(json_with_surrounding_blanks_is_accepted)
{
    CHECK_EQ_INT(parse(" \n{\"s\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"e\":1}\r\n "), 0);
    CHECK_EQ_INT(batch.n, 1);
}

/* The beacon parser read JSON with cJSON until jscan replaced it; these
 * bodies pin the verdicts cJSON 1.7.15 gave, which pages already deployed
 * may rely on (checked against it by a differential fuzz run). */
#define VIEW_HEAD "{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","

TEST(escapes_in_strings_and_member_names_are_decoded)
{
    CHECK_EQ_INT(parse(VIEW_HEAD "\"u\":\"\\/kb\\/a\","
                       "\"ti\":\"caf\\u00e9 \\\"x\\\" \\ud83d\\ude00\"}"), 0);
    CHECK(str_is(batch.ev[0].path, "/kb/a"));
    CHECK(str_is(batch.ev[0].title, "caf\xc3\xa9 \"x\" \xf0\x9f\x98\x80"));
    /* "\u0073" is the member name s */
    CHECK_EQ_INT(parse("{\"\\u0073\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"\\u0065\":5}"), 0);
    CHECK(str_is(batch.ev[0].site, "a.com"));
    CHECK_EQ_INT(batch.ev[0].engaged_ms, 5);
    /* an escaped newline is a control character: stored as a space */
    CHECK_EQ_INT(parse(VIEW_HEAD "\"u\":\"/a\",\"ti\":\"a\\nb\"}"), 0);
    CHECK(str_is(batch.ev[0].title, "a b"));
}

TEST(bad_escapes_are_malformed_json)
{
    CHECK(rejected_naming(VIEW_HEAD "\"u\":\"/a\",\"ti\":\"\\x41\"}",
                          "malformed JSON"));
    CHECK(rejected_naming(VIEW_HEAD "\"u\":\"/a\",\"ti\":\"\\ud800\"}",
                          "malformed JSON"));
    CHECK(rejected_naming(VIEW_HEAD "\"u\":\"/a\",\"zz\":\"\\udc00\"}",
                          "malformed JSON"));
    /* cJSON read bad hex digits as U+0000 and cut the string there
     * ("s.test\u00zzevil" counted for s.test); now malformed */
    CHECK(rejected_naming("{\"s\":\"s.test\\u00zzevil\",\"t\":\"view\","
                          "\"v\":\"k3J9xQ2m\",\"u\":\"/a\"}",
                          "malformed JSON"));
}

TEST(raw_control_characters_and_blanks_are_read_as_cjson_did)
{
    /* a raw tab in a string, and bytes below 0x20 between tokens */
    CHECK_EQ_INT(parse("\x0b" VIEW_HEAD "\x0c\"u\":\"/a\",\"ti\":\"a\tb\"}"),
                 0);
    CHECK(str_is(batch.ev[0].title, "a b"));
    /* a UTF-8 byte order mark before the value */
    CHECK_EQ_INT(parse("\xef\xbb\xbf" VIEW_HEAD "\"u\":\"/a\"}"), 0);
    /* after the value only blanks: a vertical tab is text after it */
    CHECK(rejected_naming(VIEW_HEAD "\"u\":\"/a\"}\x0b", "malformed JSON"));
}

TEST(the_first_of_duplicate_members_counts)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"s\":\"b.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"e\":1,\"e\":\"x\"}"), 0);
    CHECK(str_is(batch.ev[0].site, "a.com"));
    CHECK_EQ_INT(batch.ev[0].engaged_ms, 1);
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":\"x\",\"e\":1}", "e:"));
}

TEST(unknown_members_nest_to_1000_levels)
{
    static char body[2200];
    for (int levels = 999; levels <= 1000; levels++) {
        int n = snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"engage\","
                         "\"v\":\"k3J9xQ2m\",\"e\":1,\"x\":");
        memset(body + n, '[', (size_t)levels);
        memset(body + n + levels, ']', (size_t)levels);
        memcpy(body + n + 2 * levels, "}", 2);
        if (levels == 999)
            CHECK_EQ_INT(parse(body), 0);         /* 1000 with the event */
        else
            CHECK(rejected_naming(body, "malformed JSON"));
    }
}

TEST(numbers_are_read_as_cjson_read_them)
{
    static const struct {
        const char *e;
        long want;                  /* -1: refused, naming e: */
    } rows[] = {
        { "1e3", 1000 }, { "1.9", 1 }, { "01", 1 }, { "1.", 1 },
        { "-0", 0 }, { "-.5", -1 }, { "1e999", -1 }, { "3600001", -1 },
        { "\"100\"", -1 }, { "true", -1 }, { "null", -1 },
        { "000000000000000000000000000000000000000000000000000000000000"
          "000000000000000000007", 7 },
    };
    char body[256];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"engage\","
                 "\"v\":\"k3J9xQ2m\",\"e\":%s}", rows[i].e);
        if (rows[i].want < 0) {
            CHECK(rejected_naming(body, "e:"));
            continue;
        }
        CHECK_EQ_INT(parse(body), 0);
        CHECK_EQ_INT(batch.ev[0].engaged_ms, rows[i].want);
    }
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":.5}", "malformed JSON"));
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"engage\","
                          "\"v\":\"k3J9xQ2m\",\"e\":1e}", "malformed JSON"));
    /* a flag is true or the number 1, however written */
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"e\":1,\"b\":1.0e0}"), 0);
    CHECK(batch.ev[0].flags & EVENT_FLAG_BOT);
}

TEST(escaped_invalid_utf8_is_refused_like_raw)
{
    /* \u escapes always decode to valid UTF-8; raw bytes are checked */
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"search\","
                          "\"v\":\"k3J9xQ2m\",\"q\":\"\xed\xa0\x80\"}",
                          "q:"));
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"search\","
                       "\"v\":\"k3J9xQ2m\",\"q\":\"\\u00C9T\\u00C9\"}"), 0);
    CHECK(str_is(batch.ev[0].text, "\xc3\x89t\xc3\x89"));
}

TEST(body_larger_than_8192_bytes_is_rejected)
{
    static char body[EVENT_MAX_BODY + 2];
    const char *ev = "{\"s\":\"a.com\",\"t\":\"engage\","
                     "\"v\":\"k3J9xQ2m\",\"e\":1}";
    size_t n = strlen(ev);
    memset(body, ' ', sizeof body);
    memcpy(body, ev, n);
    /* exactly 8192 bytes, not NUL-terminated: ASan sees any over-read */
    char *exact = malloc(EVENT_MAX_BODY);
    CHECK(exact != NULL);
    memcpy(exact, body, EVENT_MAX_BODY);
    int rc = event_parse_json(exact, EVENT_MAX_BODY, &batch, err, sizeof err);
    free(exact);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(event_parse_json(body, EVENT_MAX_BODY + 1, &batch, err,
                                  sizeof err), -1);
    CHECK(strstr(err, "8192") != NULL);
}

TEST(empty_body_is_rejected)
{
    CHECK_EQ_INT(event_parse_json("", 0, &batch, err, sizeof err), -1);
    CHECK(strstr(err, "empty") != NULL);
}

/* --- required fields and ranges ------------------------------------------- */

TEST(view_ids_of_8_and_32_characters_are_accepted)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"Ab_-0123\",\"e\":1}"), 0);
    CHECK(str_is(batch.ev[0].view_id, "Ab_-0123"));
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"abcdefghijklmnopqrstuvwxyz012345\","
                       "\"e\":1}"), 0);
    CHECK_EQ_INT(batch.ev[0].view_id.n, 32);
}

TEST(engage_at_its_limits_is_accepted)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"e\":3600000,\"sd\":100}"), 0);
    CHECK_EQ_INT(batch.ev[0].engaged_ms, 3600000);
    CHECK_EQ_INT(batch.ev[0].scroll, 100);
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2m\",\"e\":0,\"sd\":0}"), 0);
    CHECK_EQ_INT(batch.ev[0].engaged_ms, 0);
    CHECK_EQ_INT(batch.ev[0].scroll, 0);
}

TEST(link_id_too_long_or_with_bad_characters_is_rejected)
{
    char body[256];
    char id[66];
    memset(id, 'L', 65);
    id[65] = '\0';
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"link\","
             "\"v\":\"k3J9xQ2m\",\"k\":\"%s\"}", id);
    CHECK(rejected_naming(body, "k:"));
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"link\","
                          "\"v\":\"k3J9xQ2m\",\"k\":\"Lr5t/Y8wq\"}", "k:"));
}

TEST(link_ids_of_8_and_64_characters_are_accepted)
{
    char body[256];
    char id[65];
    memset(id, 'L', 64);
    id[64] = '\0';
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"link\","
             "\"v\":\"k3J9xQ2m\",\"k\":\"%s\"}", id);
    CHECK_EQ_INT(parse(body), 0);
    CHECK(str_is(batch.ev[0].text, id));
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"link\","
                       "\"v\":\"k3J9xQ2m\",\"k\":\"Lr5tY8wq\"}"), 0);
    CHECK(str_is(batch.ev[0].text, "Lr5tY8wq"));
}

TEST(identify_hash_not_64_hex_is_rejected)
{
    const char *hex64 =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char body[256], h[80];
    /* 63 hex digits */
    snprintf(h, sizeof h, "%.*s", 63, hex64);
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"identify\","
             "\"v\":\"k3J9xQ2m\",\"h\":\"%s\"}", h);
    CHECK(rejected_naming(body, "h:"));
    /* 65 hex digits */
    snprintf(h, sizeof h, "%sa", hex64);
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"identify\","
             "\"v\":\"k3J9xQ2m\",\"h\":\"%s\"}", h);
    CHECK(rejected_naming(body, "h:"));
    /* 64 characters, one not hex */
    snprintf(h, sizeof h, "%.*sg", 63, hex64);
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"identify\","
             "\"v\":\"k3J9xQ2m\",\"h\":\"%s\"}", h);
    CHECK(rejected_naming(body, "h:"));
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"identify\","
                          "\"v\":\"k3J9xQ2m\"}", "h:"));
}

/* --- normalisation -------------------------------------------------------- */

/* Parses a view of URL U (JSON-escaped by the caller) into the batch. */
static int parse_view_url(const char *u)
{
    char body[4096];
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"view\","
             "\"v\":\"k3J9xQ2m\",\"u\":\"%s\"}", u);
    return parse(body);
}

TEST(path_of_a_full_url_drops_query_and_fragment)
{
    CHECK_EQ_INT(parse_view_url("https://help.example.com/kb/a/b?x=1&y=2#sec"),
                 0);
    CHECK(str_is(batch.ev[0].path, "/kb/a/b"));
    CHECK_EQ_INT(parse_view_url("http://help.example.com:8080/kb/c#frag"), 0);
    CHECK(str_is(batch.ev[0].path, "/kb/c"));
}

TEST(path_only_url_is_kept_without_query)
{
    CHECK_EQ_INT(parse_view_url("/kb/reset-password"), 0);
    CHECK(str_is(batch.ev[0].path, "/kb/reset-password"));
    CHECK_EQ_INT(parse_view_url("/kb/x?utm_source=mail"), 0);
    CHECK(str_is(batch.ev[0].path, "/kb/x"));
}

TEST(url_without_a_path_gives_slash)
{
    CHECK_EQ_INT(parse_view_url("https://host"), 0);
    CHECK(str_is(batch.ev[0].path, "/"));
    CHECK_EQ_INT(parse_view_url("https://host?q=1"), 0);
    CHECK(str_is(batch.ev[0].path, "/"));
}

TEST(non_url_is_rejected)
{
    CHECK_EQ_INT(parse_view_url("kb/relative"), -1);
    CHECK(strstr(err, "u:") != NULL);
    CHECK_EQ_INT(parse_view_url("ftp://host/kb/a"), -1);
    CHECK(strstr(err, "u:") != NULL);
    CHECK_EQ_INT(parse_view_url(""), -1);
    CHECK(strstr(err, "u:") != NULL);
}

TEST(path_cut_to_512_bytes)
{
    char u[700];
    u[0] = '/';
    memset(u + 1, 'p', 599);
    u[600] = '\0';
    CHECK_EQ_INT(parse_view_url(u), 0);
    CHECK_EQ_INT(batch.ev[0].path.n, EVENT_PATH_MAX);
    CHECK(memcmp(batch.ev[0].path.p, u, EVENT_PATH_MAX) == 0);
}

TEST(referrer_is_stored_as_lower_cased_host_only)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\","
                       "\"r\":\"https://WWW.Google.COM:443/search?q=x#y\"}"),
                 0);
    CHECK(str_is(batch.ev[0].referrer, "www.google.com"));
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\",\"r\":\"http://Bing.com\"}"), 0);
    CHECK(str_is(batch.ev[0].referrer, "bing.com"));
}

TEST(unusable_referrer_is_stored_empty_not_rejected)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\",\"r\":\"android-app://x\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].referrer.n, 0);
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\",\"r\":\"https:///path\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].referrer.n, 0);
}

/* True when the parsed referrer is empty or exactly the host "evil.com":
 * never a user name or password from the URL. */
static bool referrer_without_credentials(void)
{
    struct event_str r = batch.ev[0].referrer;
    if (r.n == 0 || (r.n == 8 && memcmp(r.p, "evil.com", 8) == 0))
        return true;
    printf("  referrer stored as \"%.*s\"\n", (int)r.n, r.p);
    return false;
}

TEST(referrer_with_a_user_name_does_not_store_it)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\",\"r\":\"https://alice@evil.com/\"}"),
                 0);
    CHECK(referrer_without_credentials());
}

TEST(referrer_with_user_and_password_does_not_store_the_user_name)
{
    /* The first put_referrer skipped URLs with credentials, but stopped the
     * host at ':' first, so "alice:secret@evil.com" was stored as "alice". */
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\","
                       "\"r\":\"https://alice:secret@evil.com/\"}"), 0);
    CHECK(referrer_without_credentials());
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\","
                       "\"r\":\"http://alice:secret@evil.com:8080/x?y\"}"), 0);
    CHECK(referrer_without_credentials());
}

TEST(title_cut_at_200_bytes_without_splitting_a_utf8_character)
{
    /* 199 ASCII bytes, then "é" (C3 A9): the 2-byte character would end
     * at byte 201, so only the 199 ASCII bytes are kept. */
    char body[512];
    char title[256];
    memset(title, 'T', 199);
    memcpy(title + 199, "\xc3\xa9", 2);
    memcpy(title + 201, "tail", 5);
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"view\","
             "\"v\":\"k3J9xQ2m\",\"u\":\"/kb/a\",\"ti\":\"%s\"}", title);
    CHECK_EQ_INT(parse(body), 0);
    CHECK_EQ_INT(batch.ev[0].title.n, 199);
    CHECK(memcmp(batch.ev[0].title.p, title, 199) == 0);

    /* 198 ASCII + "é" ends exactly at 200: kept whole. */
    memset(title, 'T', 198);
    memcpy(title + 198, "\xc3\xa9", 2);
    memcpy(title + 200, "tail", 5);
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"view\","
             "\"v\":\"k3J9xQ2m\",\"u\":\"/kb/a\",\"ti\":\"%s\"}", title);
    CHECK_EQ_INT(parse(body), 0);
    CHECK_EQ_INT(batch.ev[0].title.n, 200);
    CHECK(memcmp(batch.ev[0].title.p, title, 200) == 0);
}

TEST(title_with_invalid_utf8_is_rejected)
{
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                          "\"u\":\"/kb/a\",\"ti\":\"bad \xff byte\"}", "ti:"));
    /* an overlong encoding of '/' */
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                          "\"u\":\"/kb/a\",\"ti\":\"x\xc0\xafy\"}", "ti:"));
    /* a lead byte whose continuation is missing */
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                          "\"u\":\"/kb/a\",\"ti\":\"x\xe2\x82\"}", "ti:"));
}

TEST(control_characters_in_title_become_spaces)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/kb/a\",\"ti\":\"a\\tb\\nc\"}"), 0);
    CHECK(str_is(batch.ev[0].title, "a b c"));
}

TEST(search_query_is_trimmed_folded_and_lower_cased)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\","
                       "\"q\":\"  Reset \\t  My\\n PASSWORD   \"}"), 0);
    CHECK(str_is(batch.ev[0].text, "reset my password"));
}

TEST(search_query_cut_to_100_bytes)
{
    char body[512], q[200];
    for (int i = 0; i < 150; i++)
        q[i] = (char)('A' + i % 26);
    q[150] = '\0';
    snprintf(body, sizeof body, "{\"s\":\"a.com\",\"t\":\"search\","
             "\"v\":\"k3J9xQ2m\",\"q\":\"%s\"}", q);
    CHECK_EQ_INT(parse(body), 0);
    CHECK_EQ_INT(batch.ev[0].text.n, EVENT_QUERY_MAX);
    for (int i = 0; i < EVENT_QUERY_MAX; i++)
        CHECK(batch.ev[0].text.p[i] == (char)('a' + i % 26));
}

TEST(webdriver_flag_b1_marks_the_event_automated_and_bot)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\","
                       "\"e\":1,\"b\":1}"), 0);
    CHECK_EQ_INT(batch.ev[0].flags, EVENT_FLAG_AUTOMATED | EVENT_FLAG_BOT);
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\","
                       "\"e\":1,\"b\":0}"), 0);
    CHECK_EQ_INT(batch.ev[0].flags, 0);
}

TEST(search_without_n_has_no_result_count)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\","
                       "\"q\":\"sso\"}"), 0);
    CHECK(batch.ev[0].results == EVENT_RESULTS_NONE);
}

TEST(search_with_n_0_has_zero_results)
{
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\","
                       "\"q\":\"sso\",\"n\":0}"), 0);
    CHECK_EQ_INT(batch.ev[0].results, 0);
}

/* --- binary records ------------------------------------------------------- */

/* One example of every event type, as the store would encode them: parsed,
 * then given a site id, a visitor hash, a country and (for follow-ups) an
 * article. */
static const char *const examples[] = {
    "{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
    "\"u\":\"https://a.com/kb/reset-password?x=1\","
    "\"r\":\"https://www.google.com/\",\"ti\":\"R\xc3\xa9set your password\","
    "\"w\":812,\"c\":\"accounts\",\"l\":\"en-US\",\"sw\":1280,\"sd\":12,"
    "\"b\":1}",
    "{\"s\":\"a.com\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\",\"e\":15000,"
    "\"sd\":64}",
    "{\"s\":\"a.com\",\"t\":\"vote\",\"v\":\"k3J9xQ2m\",\"x\":\"down\"}",
    "{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\",\"q\":\"sso\","
    "\"n\":0}",
    "{\"s\":\"a.com\",\"t\":\"search\",\"v\":\"k3J9xQ2m\",\"q\":\"sso\"}",
    "{\"s\":\"a.com\",\"t\":\"link\",\"v\":\"k3J9xQ2m\","
    "\"k\":\"Lr5tY8wq1Zp0\"}",
    "{\"s\":\"a.com\",\"t\":\"identify\",\"v\":\"k3J9xQ2m\",\"h\":"
    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
    "{\"s\":\"a.com\",\"t\":\"event\",\"v\":\"k3J9xQ2m\",\"n\":\"contact\"}",
};
#define N_EXAMPLES (sizeof examples / sizeof examples[0])

/* Parses example I and enriches it as the store does. */
static bool example(size_t i, struct event *out)
{
    if (parse(examples[i]) != 0) {
        printf("  example %zu: %s\n", i, err);
        return false;
    }
    *out = batch.ev[0];
    out->site_id = 70000 + (uint32_t)i;      /* a multi-byte varint */
    out->visitor = UINT64_C(0x8123456789abcdef) + i;
    memcpy(out->country, "DE", 3);
    if (out->type != EVENT_VIEW)
        out->article = event_article_id("/kb/reset-password", 18);
    return true;
}

/* True when every stored field of A equals B's; names the first that
 * differs. */
static bool same_event(const struct event *a, const struct event *b)
{
#define SAME_NUM(f) \
    if (a->f != b->f) { \
        printf("  %s: %llu != %llu\n", #f, (unsigned long long)a->f, \
               (unsigned long long)b->f); \
        return false; \
    }
#define SAME_STR(f) \
    if (!str_eq(a->f, b->f)) { \
        printf("  %s: \"%.*s\" != \"%.*s\"\n", #f, (int)a->f.n, \
               a->f.p ? a->f.p : "", (int)b->f.n, b->f.p ? b->f.p : ""); \
        return false; \
    }
    SAME_NUM(type) SAME_NUM(flags) SAME_NUM(scroll) SAME_NUM(vote)
    SAME_NUM(site_id) SAME_NUM(engaged_ms) SAME_NUM(words)
    SAME_NUM(screen_w) SAME_NUM(visitor) SAME_NUM(article)
    if (a->type == EVENT_SEARCH) {
        SAME_NUM(results)
    }
    if (memcmp(a->country, b->country, 2) != 0) {
        printf("  country: %.2s != %.2s\n", a->country, b->country);
        return false;
    }
    SAME_STR(view_id) SAME_STR(path) SAME_STR(title) SAME_STR(referrer)
    SAME_STR(category) SAME_STR(lang) SAME_STR(text)
#undef SAME_NUM
#undef SAME_STR
    return true;
}

TEST(encode_decode_round_trip_preserves_every_field_of_each_type)
{
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        struct event ev, back;
        uint8_t rec[EVENT_RECORD_MAX];
        CHECK(example(i, &ev));
        int len = event_encode(&ev, rec, sizeof rec);
        CHECK(len > 0);
        CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
        if (!same_event(&ev, &back))
            printf("  example %zu (%s) differs\n", i,
                   event_type_name(ev.type));
        CHECK(same_event(&ev, &back));
        CHECK_EQ_STR(back.country, "DE");
        CHECK(back.time_us == 0);
    }
}

/* Fields given by dictionary id: the record carries the ids instead of
 * the strings (a view's five repeated strings; a follow-up's article),
 * decodes them as ids with the fields left empty for the store to fill,
 * and writes the same record again from what it decoded. */
TEST(fields_by_dictionary_id_round_trip_as_ids)
{
    struct event ev, back;
    uint8_t full[EVENT_RECORD_MAX], rec[EVENT_RECORD_MAX], again[EVENT_RECORD_MAX];
    CHECK(example(0, &ev));                          /* a view */
    int flen = event_encode(&ev, full, sizeof full);
    for (int r = 0; r < EVENT_REF_STRINGS; r++)
        ev.ref[r] = (uint32_t)(r == EVENT_REF_TITLE ? 70000 : r + 1);
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0 && len + 40 < flen);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    for (int r = 0; r < EVENT_REF_STRINGS; r++) {
        CHECK(back.ref[r] == ev.ref[r]);
        CHECK_EQ_INT(event_ref_str(&back, r)->n, 0);
    }
    CHECK(str_is(back.view_id, "k3J9xQ2m"));
    CHECK(back.article == 0);                  /* the path's, once known */
    CHECK(back.ref[EVENT_REF_ARTICLE] == EVENT_REF_OF_PATH);
    CHECK_EQ_INT(back.words, 812);
    CHECK_EQ_INT(event_encode(&back, again, sizeof again), len);
    CHECK(memcmp(again, rec, (size_t)len) == 0);
    /* the store fills the path: the article follows from it */
    *event_ref_str(&back, EVENT_REF_PATH) = ev.path;
    CHECK(event_article_id(back.path.p, back.path.n) == ev.article);

    CHECK(example(1, &ev));                          /* an engage */
    flen = event_encode(&ev, full, sizeof full);
    ev.ref[EVENT_REF_ARTICLE] = 5;
    len = event_encode(&ev, rec, sizeof rec);
    CHECK_EQ_INT(len, flen - 7);               /* u64 -> one-byte varint */
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    CHECK(back.ref[EVENT_REF_ARTICLE] == 5 && back.article == 0);
    CHECK_EQ_INT(back.engaged_ms, 15000);
}

/* A view id packs 6 bits a character exactly when every character is of
 * 0-9A-Za-z-_ (the 64 a page may send): for every byte value as the last
 * of 8, the record is 2 bytes shorter packed (6 bytes, not 8) and reads
 * back the same id either way. */
TEST(view_id_packs_exactly_its_64_characters)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(1, &ev));                          /* an engage */
    char id[8] = { 'k', '3', 'J', '9', 'x', 'Q', '2', 'm' };
    ev.view_id = (struct event_str){ id, 8 };
    int base = event_encode(&ev, rec, sizeof rec);
    int packed = 0;
    for (int c = 1; c < 256; c++) {
        id[7] = (char)c;
        bool in = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                  (c >= 'a' && c <= 'z') || c == '-' || c == '_';
        int len = event_encode(&ev, rec, sizeof rec);
        CHECK_EQ_INT(len, in ? base : base + 2);
        CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
        CHECK(back.view_id.n == 8 && memcmp(back.view_id.p, id, 8) == 0);
        packed += in;
    }
    CHECK_EQ_INT(packed, 64);
}

/* References that cannot be written or read are refused: an article of
 * the path without a path, an id past EVENT_REF_MAX, id 0, and an id in
 * the place of a string that is always in full (the view id). */
TEST(impossible_dictionary_ids_are_refused)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(1, &ev));                          /* no path */
    ev.ref[EVENT_REF_ARTICLE] = EVENT_REF_OF_PATH;
    CHECK_EQ_INT(event_encode(&ev, rec, sizeof rec), -1);
    ev.ref[EVENT_REF_ARTICLE] = EVENT_REF_MAX + 1;
    CHECK_EQ_INT(event_encode(&ev, rec, sizeof rec), -1);
    CHECK(example(0, &ev));
    ev.ref[EVENT_REF_LANG] = EVENT_REF_MAX + 1;
    CHECK_EQ_INT(event_encode(&ev, rec, sizeof rec), -1);
    /* the view id's header (the first string, right after the masks at
     * 4 + varint(70000) + 8 + 2) made odd: "id 4" where none may be */
    ev.ref[EVENT_REF_LANG] = 0;
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    size_t at = 4 + 3 + 8 + 2;
    CHECK_EQ_INT(rec[at], 8 << 1);                   /* 8 characters */
    rec[at] = 4 << 1 | 1;
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), -1);
    /* the path's header made "id 0" */
    rec[at] = 8 << 1;
    size_t path_at = at + 1 + 6;               /* 8 characters in 6 bytes */
    CHECK_EQ_INT(rec[path_at], 18 << 1);            /* /kb/reset-password */
    rec[path_at] = 1;
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), -1);
}

TEST(round_trip_of_search_keeps_no_count_and_zero_apart)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(3, &ev));                /* n:0 */
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    CHECK_EQ_INT(back.results, 0);
    CHECK(example(4, &ev));                /* no n */
    len = event_encode(&ev, rec, sizeof rec);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    CHECK(back.results == EVENT_RESULTS_NONE);
}

TEST(round_trip_of_longest_fields_fits_the_record_max)
{
    /* Every string at its cap: the record must still fit EVENT_RECORD_MAX. */
    char path[EVENT_PATH_MAX], title[EVENT_TITLE_MAX], cat[EVENT_CATEGORY_MAX];
    char lang[EVENT_LANG_MAX], text[EVENT_LINK_MAX], vid[EVENT_ID_MAX];
    char ref[EVENT_REFERRER_MAX];
    memset(path, '/', sizeof path);
    memset(title, 't', sizeof title);
    memset(cat, 'c', sizeof cat);
    memset(lang, 'l', sizeof lang);
    memset(text, 'x', sizeof text);
    memset(vid, 'v', sizeof vid);
    memset(ref, 'r', sizeof ref);
    struct event ev, back;
    memset(&ev, 0, sizeof ev);
    ev.type = EVENT_VIEW;
    ev.flags = EVENT_FLAG_BOT | EVENT_FLAG_PIXEL;
    ev.scroll = 100;
    memcpy(ev.country, "US", 3);
    ev.site_id = UINT32_MAX;
    ev.engaged_ms = EVENT_MAX_ENGAGED_MS;
    ev.words = EVENT_MAX_WORDS;
    ev.screen_w = EVENT_MAX_SCREEN;
    ev.visitor = UINT64_MAX;
    ev.article = UINT64_MAX;
    ev.view_id = (struct event_str){ vid, sizeof vid };
    ev.path = (struct event_str){ path, sizeof path };
    ev.title = (struct event_str){ title, sizeof title };
    ev.referrer = (struct event_str){ ref, sizeof ref };
    ev.category = (struct event_str){ cat, sizeof cat };
    ev.lang = (struct event_str){ lang, sizeof lang };
    ev.text = (struct event_str){ text, sizeof text };
    uint8_t rec[EVENT_RECORD_MAX];
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    CHECK(same_event(&ev, &back));
}

TEST(truncated_record_fails_to_decode)
{
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        struct event ev, back;
        uint8_t rec[EVENT_RECORD_MAX];
        CHECK(example(i, &ev));
        int len = event_encode(&ev, rec, sizeof rec);
        CHECK(len > 0);
        for (int cut = 0; cut < len; cut++) {
            /* a copy of exactly CUT bytes, so ASan sees any over-read */
            uint8_t *part = malloc(cut ? (size_t)cut : 1);
            CHECK(part != NULL);
            memcpy(part, rec, (size_t)cut);
            int rc = event_decode(part, (size_t)cut, &back);
            free(part);
            if (rc != -1)
                printf("  example %zu cut to %d of %d bytes decoded\n", i,
                       cut, len);
            CHECK_EQ_INT(rc, -1);
        }
    }
}

TEST(record_with_trailing_bytes_fails_to_decode)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(1, &ev));
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    rec[len] = 0;
    CHECK_EQ_INT(event_decode(rec, (size_t)len + 1, &back), -1);
}

TEST(record_with_a_bad_version_fails_to_decode)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(0, &ev));
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    rec[0] = 4;
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), -1);
    rec[0] = 0;
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), -1);
}

TEST(record_with_an_unknown_type_fails_to_decode)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(1, &ev));
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    rec[1] = 0;
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), -1);
    rec[1] = EVENT_CUSTOM + 1;
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), -1);
}

TEST(encode_into_a_too_small_buffer_fails)
{
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        struct event ev;
        uint8_t rec[EVENT_RECORD_MAX];
        CHECK(example(i, &ev));
        int len = event_encode(&ev, rec, sizeof rec);
        CHECK(len > 0);
        for (int cap = 0; cap < len; cap++) {
            /* exactly CAP bytes, so ASan sees any overflow */
            uint8_t *small = malloc(cap ? (size_t)cap : 1);
            CHECK(small != NULL);
            int rc = event_encode(&ev, small, (size_t)cap);
            free(small);
            CHECK_EQ_INT(rc, -1);
        }
        uint8_t *exact = malloc((size_t)len);
        CHECK(exact != NULL);
        int rc = event_encode(&ev, exact, (size_t)len);
        bool same = rc == len && memcmp(exact, rec, (size_t)len) == 0;
        free(exact);
        CHECK(same);
    }
}

TEST(article_id_is_stable_and_differs_by_path)
{
    uint64_t a = event_article_id("/kb/reset-password", 18);
    CHECK(a != 0);
    CHECK(a == event_article_id("/kb/reset-password", 18));
    char copy[] = "/kb/reset-password";
    CHECK(a == event_article_id(copy, strlen(copy)));
    CHECK(a != event_article_id("/kb/reset-passwore", 18));
    CHECK(a != event_article_id("/kb/reset-password/", 19));
    CHECK(a != event_article_id("/kb/reset-passwor", 17));
    CHECK(event_article_id("/", 1) != event_article_id("", 0));
    CHECK(event_article_id("", 0) != 0);
}

TEST(event_type_names)
{
    CHECK_EQ_STR(event_type_name(EVENT_VIEW), "view");
    CHECK_EQ_STR(event_type_name(EVENT_ENGAGE), "engage");
    CHECK_EQ_STR(event_type_name(EVENT_CUSTOM), "event");
    CHECK_EQ_STR(event_type_name(0), "?");
    CHECK_EQ_STR(event_type_name(99), "?");
}

TEST(typical_records_are_small)
{
    /* A view: 12-char view id, 30-char path, 25-char title, referrer host,
     * category, language, word count and screen width; an engage: 12-char
     * view id, e and sd, and the article id the store adds. Both with a
     * site id, a visitor hash and a country, as stored. */
    struct event ev;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK_EQ_INT(parse("{\"s\":\"help.example.com\",\"t\":\"view\","
                       "\"v\":\"k3J9xQ2mAb0_\","
                       "\"u\":\"https://help.example.com"
                       "/kb/accounts/reset-password-12\","
                       "\"r\":\"https://www.google.com/\","
                       "\"ti\":\"Reset your password, fast\","
                       "\"c\":\"accounts\",\"l\":\"en-US\","
                       "\"w\":812,\"sw\":1280}"), 0);
    ev = batch.ev[0];
    CHECK_EQ_INT(ev.path.n, 30);
    CHECK_EQ_INT(ev.title.n, 25);
    CHECK_EQ_INT(ev.referrer.n, 14);
    ev.site_id = 1;
    ev.visitor = UINT64_C(0x1234567890abcdef);
    memcpy(ev.country, "DE", 3);
    int view = event_encode(&ev, rec, sizeof rec);
    CHECK(view > 0);

    CHECK_EQ_INT(parse("{\"s\":\"help.example.com\",\"t\":\"engage\","
                       "\"v\":\"k3J9xQ2mAb0_\",\"e\":15000,\"sd\":64}"), 0);
    ev = batch.ev[0];
    ev.site_id = 1;
    ev.visitor = UINT64_C(0x1234567890abcdef);
    ev.article = event_article_id("/kb/accounts/reset-password-12", 30);
    memcpy(ev.country, "DE", 3);
    int engage = event_encode(&ev, rec, sizeof rec);
    CHECK(engage > 0);
    printf("# bytes: view=%d engage=%d\n", view, engage);
    CHECK(view < 160);
    CHECK(engage < 64);
}

/* --- page kinds ("pk") --------------------------------------------------- */

/* Parses a view of URL U carrying PK_JSON (a JSON value, or NULL: no pk). */
static int parse_view_kind(const char *u, const char *pk_json)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                     "\"u\":\"%s\"%s%s}", u, pk_json ? ",\"pk\":" : "",
                     pk_json ? pk_json : "");
    if (n < 0 || (size_t)n >= sizeof body)
        return -2;
    return parse(body);
}

TEST(view_page_kind_parses_search_list_home_and_article)
{
    CHECK_EQ_INT(parse_view_kind("https://a.com/search", "\"search\""), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_SEARCH);
    CHECK_EQ_INT(parse_view_kind("https://a.com/kb", "\"list\""), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_LIST);
    CHECK_EQ_INT(parse_view_kind("https://a.com/start", "\"home\""), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_HOME);
    CHECK_EQ_INT(parse_view_kind("https://a.com/kb/a", "\"article\""), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_ARTICLE);
    /* the kind changes nothing else: same path, same article id */
    CHECK_EQ_INT(parse_view_kind("https://a.com/search?q=sso", "\"search\""),
                 0);
    CHECK(str_is(batch.ev[0].path, "/search"));
    CHECK(batch.ev[0].article == event_article_id("/search", 7));
}

TEST(view_without_pk_is_an_article_and_the_site_root_is_home)
{
    CHECK_EQ_INT(parse_view_kind("https://a.com/kb/reset", NULL), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_ARTICLE);
    CHECK_EQ_INT(parse_view_kind("https://a.com/", NULL), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_HOME);
    CHECK_EQ_INT(parse_view_kind("https://a.com", NULL), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_HOME);
    CHECK_EQ_INT(parse_view_kind("/?utm_source=x", NULL), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_HOME);
    /* the root with its query kept ("kq") is still the root */
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"https://a.com/?lang=de\",\"kq\":1}"), 0);
    CHECK(str_is(batch.ev[0].path, "/?lang=de"));
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_HOME);
    /* an explicit kind wins over the root rule */
    CHECK_EQ_INT(parse_view_kind("https://a.com/", "\"search\""), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_SEARCH);
    CHECK_EQ_INT(parse_view_kind("https://a.com/", "\"article\""), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_ARTICLE);
    /* "//x" and "/x" are not the root */
    CHECK_EQ_INT(parse_view_kind("/x", NULL), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_ARTICLE);
}

TEST(view_with_an_unknown_page_kind_is_kept_as_an_article)
{
    /* a typo in a page's meta tag must not cost the page its views */
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/faq\",\"pk\":\"faq\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_ARTICLE);
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/\",\"pk\":\"\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_HOME);
    CHECK_EQ_INT(parse("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                       "\"u\":\"/find\",\"pk\":\"Search\"}"), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_SEARCH);
    CHECK(rejected_naming("{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
                          "\"u\":\"/faq\",\"pk\":1}", "pk"));
}

TEST(pixel_carries_the_page_kind)
{
    struct param search[] = { { "s", "a.com" }, { "u", "/search" },
                              { "pk", "search" }, { NULL, NULL } };
    CHECK_EQ_INT(parse_pixel(search, "pixelview01"), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_SEARCH);
    struct param root[] = { { "s", "a.com" }, { "u", "https://a.com/" },
                            { NULL, NULL } };
    CHECK_EQ_INT(parse_pixel(root, "pixelview01"), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_HOME);
    struct param plain[] = { { "s", "a.com" }, { "u", "/kb/a" },
                             { NULL, NULL } };
    CHECK_EQ_INT(parse_pixel(plain, "pixelview01"), 0);
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_ARTICLE);
    struct param bad[] = { { "s", "a.com" }, { "u", "/kb/a" },
                           { "pk", "faq" }, { NULL, NULL } };
    CHECK_EQ_INT(parse_pixel(bad, "pixelview01"), 0);   /* kept */
    CHECK_EQ_INT(batch.ev[0].kind, EVENT_PAGE_ARTICLE);
}

TEST(page_kind_names_round_trip)
{
    for (int k = 0; k < EVENT_PAGE_KINDS; k++)
        CHECK_EQ_INT(event_page_kind_of(event_page_kind_name(k)), k);
    CHECK_EQ_STR(event_page_kind_name(EVENT_PAGE_SEARCH), "search");
    CHECK_EQ_STR(event_page_kind_name(EVENT_PAGE_ARTICLE), "article");
    CHECK_EQ_STR(event_page_kind_name(EVENT_PAGE_KINDS), "?");
    CHECK_EQ_STR(event_page_kind_name(-1), "?");
    CHECK_EQ_INT(event_page_kind_of("faq"), -1);
    CHECK_EQ_INT(event_page_kind_of(NULL), -1);
}

TEST(page_kind_survives_the_record)
{
    for (int k = 0; k < EVENT_PAGE_KINDS; k++) {
        struct event ev, back;
        uint8_t rec[EVENT_RECORD_MAX];
        CHECK(example(0, &ev));
        ev.kind = (uint8_t)k;
        int len = event_encode(&ev, rec, sizeof rec);
        CHECK(len > 0);
        CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
        CHECK_EQ_INT(back.kind, k);
        CHECK(same_event(&ev, &back));
    }
}

TEST(record_made_before_page_kinds_decodes_as_an_article)
{
    /* a view exactly as the first record version wrote it: version 1, view,
     * no flags, no scroll, no vote, "DE", site 1, a visitor, view id and
     * path, the article id */
    static const uint8_t old[] = {
        1, EVENT_VIEW, 0, EVENT_SCROLL_NONE, 0, 'D', 'E', 1,
        1, 2, 3, 4, 5, 6, 7, 8,
        0x03, 16,
        8, 'k', '3', 'J', '9', 'x', 'Q', '2', 'm',
        7, '/', 's', 'e', 'a', 'r', 'c', 'h',
        8, 7, 6, 5, 4, 3, 2, 1
    };
    struct event back;
    CHECK_EQ_INT(event_decode(old, sizeof old, &back), 0);
    CHECK_EQ_INT(back.type, EVENT_VIEW);
    CHECK(str_is(back.path, "/search"));
    CHECK_EQ_INT(back.kind, EVENT_PAGE_ARTICLE);
    /* rewritten in the current version: no kind byte, the view id packed
     * (8 characters in 6 bytes), no scroll or vote byte, the flags in the
     * version byte: 5 bytes fewer, and it decodes to the same event */
    struct event ev = back, again;
    uint8_t rec[EVENT_RECORD_MAX];
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK_EQ_INT(len, (int)sizeof old - 5);
    CHECK_EQ_INT(rec[0], 0x20);                  /* version 4, no flags */
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &again), 0);
    CHECK(str_is(again.view_id, "k3J9xQ2m"));
    CHECK(str_is(again.path, "/search"));
    CHECK_EQ_INT(again.kind, EVENT_PAGE_ARTICLE);
    CHECK_EQ_INT(again.scroll, EVENT_SCROLL_NONE);
    CHECK(again.article == back.article && again.article != 0);
    CHECK(again.visitor == back.visitor);
}

/* A version-1 record with a vote byte no writer ever wrote (255) is damaged:
 * it does not decode (it decoded, and then could not be written again:
 * found by fuzz_records). */
TEST(record_v1_with_an_impossible_vote_fails_to_decode)
{
    static const uint8_t bad[] = {
        1, EVENT_VOTE, 0, EVENT_SCROLL_NONE, 255, 'D', 'E', 1,
        1, 2, 3, 4, 5, 6, 7, 8,
        0x01, 0,
        8, 'k', '3', 'J', '9', 'x', 'Q', '2', 'm'
    };
    struct event back;
    CHECK_EQ_INT(event_decode(bad, sizeof bad, &back), -1);
    uint8_t good[sizeof bad];
    memcpy(good, bad, sizeof bad);
    good[4] = EVENT_VOTE_UP;
    CHECK_EQ_INT(event_decode(good, sizeof good, &back), 0);
    CHECK_EQ_INT(back.vote, EVENT_VOTE_UP);
}

/* A version-1 record may hold a view id longer than the parser takes now
 * (40 characters): it is written again unpacked and reads back the same
 * (packed, it came back as a damaged record: found by fuzz_records). */
TEST(record_v1_with_a_long_view_id_is_written_again_and_reads_back)
{
    uint8_t old[8 + 8 + 2 + 1 + 40];
    static const uint8_t head[] = { 1, EVENT_VIEW, 0, EVENT_SCROLL_NONE, 0,
                                    'D', 'E', 1 };
    memcpy(old, head, sizeof head);
    memset(old + 8, 7, 8);                       /* the visitor */
    old[16] = 0x01;                              /* strings: the view id */
    old[17] = 0;                                 /* no numbers */
    old[18] = 40;
    memset(old + 19, 'k', 40);
    struct event ev, back;
    CHECK_EQ_INT(event_decode(old, sizeof old, &ev), 0);
    CHECK_EQ_INT((int)ev.view_id.n, 40);
    uint8_t rec[EVENT_RECORD_MAX];
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    CHECK_EQ_INT((int)back.view_id.n, 40);
    CHECK(memcmp(back.view_id.p, old + 19, 40) == 0);
}

/* A view whose article is its path's id stores no article bytes, and every
 * field comes back: the vote and type share a byte, the scroll is last but
 * the kind. */
TEST(current_record_is_smaller_and_round_trips)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX], old_len_rec[EVENT_RECORD_MAX];
    CHECK(example(0, &ev));
    ev.article = event_article_id(ev.path.p, ev.path.n);
    ev.vote = EVENT_VOTE_DOWN;
    ev.scroll = 42;
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
    CHECK(back.article == ev.article);
    CHECK_EQ_INT(back.vote, EVENT_VOTE_DOWN);
    CHECK_EQ_INT(back.scroll, 42);
    CHECK(back.view_id.n == ev.view_id.n &&
          memcmp(back.view_id.p, ev.view_id.p, ev.view_id.n) == 0);
    ev.article = 12345;               /* not the path's: stored whole */
    int len2 = event_encode(&ev, old_len_rec, sizeof old_len_rec);
    CHECK_EQ_INT(len2, len + 8);
    CHECK_EQ_INT(event_decode(old_len_rec, (size_t)len2, &back), 0);
    CHECK(back.article == 12345);
}

TEST(record_with_an_unknown_page_kind_fails_to_decode)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(0, &ev));
    ev.kind = EVENT_PAGE_HOME;
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 0);
    CHECK_EQ_INT(rec[len - 1], EVENT_PAGE_HOME);   /* the kind is last */
    rec[len - 1] = EVENT_PAGE_KINDS;
    CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), -1);
}

/* --- record version 4: the flags in the version byte ---------------------- */

/* Every example with every combination of the declared flags, and a
 * sequence number, a scroll and a page kind besides: version 4 writes
 * 0x20 | flags first, then the type byte, and every field comes back. */
TEST(record_v4_round_trips_every_field_and_every_flag_combination)
{
    CHECK_EQ_INT(EVENT_FLAGS_ALL, 31);          /* five flags: 32 sets */
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        for (int f = 0; f <= EVENT_FLAGS_ALL; f++) {
            struct event ev, back;
            uint8_t rec[EVENT_RECORD_MAX];
            CHECK(example(i, &ev));
            ev.flags = (uint8_t)f;
            ev.seq = 300;
            ev.scroll = 42;
            ev.kind = EVENT_PAGE_LIST;
            int len = event_encode(&ev, rec, sizeof rec);
            CHECK(len > 2);
            CHECK_EQ_INT(rec[0], 0x20 | f);
            CHECK_EQ_INT(rec[1] & 15, ev.type);
            CHECK_EQ_INT(event_decode(rec, (size_t)len, &back), 0);
            if (!same_event(&ev, &back))
                printf("  example %zu, flags %d differs\n", i, f);
            CHECK(same_event(&ev, &back));
            CHECK_EQ_INT(back.wire, (f & EVENT_FLAG_WIRE2) ? 2 : 1);
            CHECK_EQ_INT(back.seq, 300);
            CHECK_EQ_INT(back.kind, EVENT_PAGE_LIST);
        }
    }
}

/* An engage exactly as record version 3 wrote it (bot and wire 2 flags, an
 * unpackable view id, the article by dictionary id 5, a scroll byte). */
static const uint8_t v3_engage[] = {
    3, EVENT_ENGAGE | 0x80, EVENT_FLAG_BOT | EVENT_FLAG_WIRE2, 'D', 'E', 5,
    1, 2, 3, 4, 5, 6, 7, 8,                      /* the visitor */
    0x01, 0x80 | 16 | 1,           /* view id; engaged, article, scroll */
    8 << 1, 'k', '3', 'J', '9', 'x', 'Q', '2', '.',
    0x98, 0x75,                                  /* 15000 ms */
    5,                                           /* article id 5 */
    64                                           /* scroll */
};

/* Records already stored in version 3 read as they did: the hand-written
 * engage field by field, and every example with every flag set in the
 * version 3 layout (version byte 3, type, flags byte) decodes to the same
 * event as its version 4 record. */
TEST(record_v3_still_decodes_to_the_same_event)
{
    struct event back;
    CHECK_EQ_INT(event_decode(v3_engage, sizeof v3_engage, &back), 0);
    CHECK_EQ_INT(back.type, EVENT_ENGAGE);
    CHECK_EQ_INT(back.flags, EVENT_FLAG_BOT | EVENT_FLAG_WIRE2);
    CHECK_EQ_INT(back.wire, 2);
    CHECK_EQ_STR(back.country, "DE");
    CHECK_EQ_INT(back.site_id, 5);
    CHECK(back.visitor == UINT64_C(0x0807060504030201));
    CHECK(str_is(back.view_id, "k3J9xQ2."));
    CHECK_EQ_INT(back.engaged_ms, 15000);
    CHECK(back.ref[EVENT_REF_ARTICLE] == 5 && back.article == 0);
    CHECK_EQ_INT(back.scroll, 64);
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        for (int f = 0; f <= EVENT_FLAGS_ALL; f++) {
            struct event ev, old;
            uint8_t rec[EVENT_RECORD_MAX], v3[EVENT_RECORD_MAX + 1];
            CHECK(example(i, &ev));
            ev.flags = (uint8_t)f;
            int len = event_encode(&ev, rec, sizeof rec);
            CHECK(len > 2);
            v3[0] = 3;
            v3[1] = rec[1];
            v3[2] = (uint8_t)f;
            memcpy(v3 + 3, rec + 2, (size_t)len - 2);
            CHECK_EQ_INT(event_decode(v3, (size_t)len + 1, &old), 0);
            CHECK(same_event(&ev, &old));
            CHECK_EQ_INT(old.wire, (f & EVENT_FLAG_WIRE2) ? 2 : 1);
        }
    }
}

/* The same event written again: version 4 is the version 3 record with
 * the flags byte folded into the first, one byte shorter. */
TEST(record_v4_is_one_byte_shorter_than_v3)
{
    struct event back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK_EQ_INT(event_decode(v3_engage, sizeof v3_engage, &back), 0);
    int len = event_encode(&back, rec, sizeof rec);
    CHECK_EQ_INT(len, (int)sizeof v3_engage - 1);
    CHECK_EQ_INT(rec[0], 0x20 | EVENT_FLAG_BOT | EVENT_FLAG_WIRE2);
    CHECK_EQ_INT(rec[1], v3_engage[1]);
    CHECK(len > 2 && memcmp(rec + 2, v3_engage + 3, (size_t)len - 2) == 0);
}

/* Only 001fffff opens a version 4 record: a first byte of 0x20 with a bit
 * above the five flags (0x40, 0x80), every other unknown first byte, and a
 * flag no writer sets in an older record's flags byte are all refused;
 * nor is an event with such a flag written. */
TEST(record_first_byte_beyond_the_declared_flags_or_versions_is_refused)
{
    struct event ev, back;
    uint8_t rec[EVENT_RECORD_MAX];
    CHECK(example(1, &ev));
    int len = event_encode(&ev, rec, sizeof rec);
    CHECK(len > 2);
    int opened = 0;
    for (int b = 0; b < 256; b++) {
        rec[0] = (uint8_t)b;
        int rc = event_decode(rec, (size_t)len, &back);
        if (rc != ((b & 0xe0) == 0x20 ? 0 : -1))
            printf("  first byte 0x%02x: %d\n", b, rc);
        CHECK_EQ_INT(rc, (b & 0xe0) == 0x20 ? 0 : -1);
        if (rc == 0) {
            CHECK_EQ_INT(back.flags, b & 0x1f);
            opened++;
        }
    }
    CHECK_EQ_INT(opened, 32);
    uint8_t v3[sizeof v3_engage];
    memcpy(v3, v3_engage, sizeof v3);
    for (int f = 0x20; f < 0x100; f <<= 1) {
        v3[2] = (uint8_t)(EVENT_FLAG_BOT | f);
        CHECK_EQ_INT(event_decode(v3, sizeof v3, &back), -1);
        ev.flags = (uint8_t)f;
        CHECK_EQ_INT(event_encode(&ev, rec, sizeof rec), -1);
    }
}

/* Bodies the parser must refuse, each with the word its error must name
 * (a field prefix such as "v:"); NAME is the behaviour the row shows. */
static const struct rejection {
    const char *name, *body, *field;
} rejections[] = {
    { "engage_without_e_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"k3J9xQ2m\",\"sd\":10}",
      "e:" },
    { "wire_version_outside_1_to_3_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"vote\",\"v\":\"k3J9xQ2m\","
      "\"a\":\"up\",\"wv\":4}",
      "wv:" },
    { "wire_version_outside_1_to_3_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"vote\",\"v\":\"k3J9xQ2m\","
      "\"x\":\"up\",\"wv\":0}",
      "wv:" },
    { "wire_version_outside_1_to_3_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"vote\",\"v\":\"k3J9xQ2m\","
      "\"x\":\"up\",\"wv\":\"2\"}",
      "wv:" },
    { "custom_event_without_name_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"event\","
      "\"v\":\"k3J9xQ2m\"}",
      "n:" },
    { "empty_batch_is_rejected",
      "[]",
      "batch" },
    { "body_not_an_object_is_rejected",
      "\"view\"",
      "not a JSON object" },
    { "malformed_json_is_rejected",
      "{\"s\":\"a.com\",\"t\":",
      "malformed JSON" },
    { "malformed_json_is_rejected",
      "{\"s\":\"a.com\"",
      "malformed JSON" },
    { "malformed_json_is_rejected",
      "not json",
      "malformed JSON" },
    { "missing_site_is_rejected",
      "{\"t\":\"engage\",\"v\":\"k3J9xQ2m\",\"e\":1}",
      "s:" },
    { "missing_site_is_rejected",
      "{\"s\":\"\",\"t\":\"engage\",\"v\":\"k3J9xQ2m\","
      "\"e\":1}",
      "s:" },
    { "missing_type_is_rejected",
      "{\"s\":\"a.com\",\"v\":\"k3J9xQ2m\",\"e\":1}",
      "t:" },
    { "unknown_type_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"click\","
      "\"v\":\"k3J9xQ2m\"}",
      "t:" },
    { "missing_view_id_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\",\"e\":1}",
      "v:" },
    { "view_id_not_a_string_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":12345678,\"e\":1}",
      "v:" },
    { "view_id_of_7_characters_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"abcdefg\",\"e\":1}",
      "v:" },
    { "view_id_of_33_characters_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"abcdefghijklmnopqrstuvwxyz0123456\","
      "\"e\":1}",
      "v:" },
    { "view_id_with_a_bad_character_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"abcd.efgh\",\"e\":1}",
      "v:" },
    { "view_id_with_a_bad_character_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"abcd efgh\",\"e\":1}",
      "v:" },
    { "engage_delta_above_one_hour_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"k3J9xQ2m\",\"e\":3600001}",
      "e:" },
    { "engage_delta_negative_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"k3J9xQ2m\",\"e\":-1}",
      "e:" },
    { "engage_delta_not_a_number_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"k3J9xQ2m\",\"e\":\"100\"}",
      "e:" },
    { "scroll_depth_above_100_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"k3J9xQ2m\",\"e\":1,\"sd\":101}",
      "sd:" },
    { "scroll_depth_above_100_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"engage\","
      "\"v\":\"k3J9xQ2m\",\"e\":1,\"sd\":-1}",
      "sd:" },
    { "word_count_and_screen_width_out_of_range_are_rejected",
      "{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
      "\"u\":\"/kb/a\",\"w\":1000001}",
      "w:" },
    { "word_count_and_screen_width_out_of_range_are_rejected",
      "{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
      "\"u\":\"/kb/a\",\"w\":-5}",
      "w:" },
    { "word_count_and_screen_width_out_of_range_are_rejected",
      "{\"s\":\"a.com\",\"t\":\"view\",\"v\":\"k3J9xQ2m\","
      "\"u\":\"/kb/a\",\"sw\":100001}",
      "sw:" },
    { "vote_neither_up_nor_down_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"vote\","
      "\"v\":\"k3J9xQ2m\",\"x\":\"maybe\"}",
      "x:" },
    { "vote_neither_up_nor_down_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"vote\","
      "\"v\":\"k3J9xQ2m\",\"x\":\"UP\"}",
      "x:" },
    { "vote_neither_up_nor_down_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"vote\","
      "\"v\":\"k3J9xQ2m\"}",
      "x:" },
    { "link_id_too_short_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"link\","
      "\"v\":\"k3J9xQ2m\",\"k\":\"Lr5tY8w\"}",
      "k:" },
    { "view_without_url_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"view\","
      "\"v\":\"k3J9xQ2m\"}",
      "u:" },
    { "search_query_of_only_blanks_is_rejected",
      "{\"s\":\"a.com\",\"t\":\"search\","
      "\"v\":\"k3J9xQ2m\",\"q\":\"   \"}",
      "q:" },
};

TEST(every_rejection_in_the_table_names_its_field)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof rejections / sizeof rejections[0]; i++)
        if (!rejected_naming(rejections[i].body, rejections[i].field)) {
            printf("  row %zu: %s\n", i, rejections[i].name);
            failed++;
        }
    CHECK_EQ_INT(failed, 0);
}

int main(void)
{
    RUN(view_parses_with_every_field);
    RUN(engage_parses_with_e_and_sd);
    RUN(wire_2_engage_is_a_cumulative_total_up_to_a_day);
    RUN(wire_3_commands_carry_their_argument_in_a_and_parse_as_wire_2);
    RUN(wire_3_refuses_a_on_view_engage_and_link_and_checks_a_as_before);
    RUN(wire_2_view_keeps_the_query_it_sends_wire_1_only_with_kq);
    RUN(search_and_custom_event_keep_their_sequence_number);
    RUN(nul_character_anywhere_in_a_beacon_is_rejected);
    RUN(vote_up_and_down_parse);
    RUN(search_parses_query_and_result_count);
    RUN(link_parses_its_id);
    RUN(identify_parses_its_hash_lower_cased);
    RUN(custom_event_parses_its_name);
    RUN(pixel_parses_a_view_with_its_fields);
    RUN(pixel_without_site_is_rejected);
    RUN(pixel_without_url_is_rejected);
    RUN(pixel_with_a_non_url_is_rejected);

    RUN(batch_of_1_is_accepted);
    RUN(batch_of_32_is_accepted_in_order);
    RUN(batch_of_33_is_rejected);
    RUN(bad_event_in_batch_rejects_the_whole_batch);
    RUN(non_object_in_array_is_rejected);
    RUN(json_followed_by_trailing_garbage_is_rejected);
    RUN(json_with_surrounding_blanks_is_accepted);
    RUN(escapes_in_strings_and_member_names_are_decoded);
    RUN(bad_escapes_are_malformed_json);
    RUN(raw_control_characters_and_blanks_are_read_as_cjson_did);
    RUN(the_first_of_duplicate_members_counts);
    RUN(unknown_members_nest_to_1000_levels);
    RUN(numbers_are_read_as_cjson_read_them);
    RUN(escaped_invalid_utf8_is_refused_like_raw);
    RUN(body_larger_than_8192_bytes_is_rejected);
    RUN(empty_body_is_rejected);

    RUN(view_ids_of_8_and_32_characters_are_accepted);
    RUN(engage_at_its_limits_is_accepted);
    RUN(link_id_too_long_or_with_bad_characters_is_rejected);
    RUN(link_ids_of_8_and_64_characters_are_accepted);
    RUN(identify_hash_not_64_hex_is_rejected);

    RUN(path_of_a_full_url_drops_query_and_fragment);
    RUN(path_only_url_is_kept_without_query);
    RUN(url_without_a_path_gives_slash);
    RUN(non_url_is_rejected);
    RUN(path_cut_to_512_bytes);
    RUN(referrer_is_stored_as_lower_cased_host_only);
    RUN(unusable_referrer_is_stored_empty_not_rejected);
    RUN(referrer_with_a_user_name_does_not_store_it);
    RUN(referrer_with_user_and_password_does_not_store_the_user_name);
    RUN(title_cut_at_200_bytes_without_splitting_a_utf8_character);
    RUN(title_with_invalid_utf8_is_rejected);
    RUN(control_characters_in_title_become_spaces);
    RUN(search_query_is_trimmed_folded_and_lower_cased);
    RUN(search_query_cut_to_100_bytes);
    RUN(webdriver_flag_b1_marks_the_event_automated_and_bot);
    RUN(search_without_n_has_no_result_count);
    RUN(search_with_n_0_has_zero_results);

    RUN(encode_decode_round_trip_preserves_every_field_of_each_type);
    RUN(round_trip_of_search_keeps_no_count_and_zero_apart);
    RUN(round_trip_of_longest_fields_fits_the_record_max);
    RUN(truncated_record_fails_to_decode);
    RUN(record_with_trailing_bytes_fails_to_decode);
    RUN(record_with_a_bad_version_fails_to_decode);
    RUN(record_with_an_unknown_type_fails_to_decode);
    RUN(encode_into_a_too_small_buffer_fails);
    RUN(article_id_is_stable_and_differs_by_path);
    RUN(event_type_names);
    RUN(typical_records_are_small);

    RUN(view_page_kind_parses_search_list_home_and_article);
    RUN(view_without_pk_is_an_article_and_the_site_root_is_home);
    RUN(view_with_an_unknown_page_kind_is_kept_as_an_article);
    RUN(pixel_carries_the_page_kind);
    RUN(page_kind_names_round_trip);
    RUN(page_kind_survives_the_record);
    RUN(record_made_before_page_kinds_decodes_as_an_article);
    RUN(record_with_an_unknown_page_kind_fails_to_decode);
    RUN(current_record_is_smaller_and_round_trips);
    RUN(record_v1_with_an_impossible_vote_fails_to_decode);
    RUN(record_v1_with_a_long_view_id_is_written_again_and_reads_back);
    RUN(record_v4_round_trips_every_field_and_every_flag_combination);
    RUN(record_v3_still_decodes_to_the_same_event);
    RUN(record_v4_is_one_byte_shorter_than_v3);
    RUN(record_first_byte_beyond_the_declared_flags_or_versions_is_refused);
    RUN(fields_by_dictionary_id_round_trip_as_ids);
    RUN(view_id_packs_exactly_its_64_characters);
    RUN(impossible_dictionary_ids_are_refused);
    RUN(every_rejection_in_the_table_names_its_field);
    return check_summary();
}
