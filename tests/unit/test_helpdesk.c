/* test_helpdesk.c — helpdesk exports and webhooks (Zendesk, Freshdesk,
 * Help Scout, Intercom, generic CSV), times and Help Scout's signatures
 * (SHA-1 and HMAC themselves are in test_crypto.c). The samples are in tests/unit/data/helpdesk/, read
 * relative to the repository root; expected times were computed with
 * Python's datetime, the signature with Python's hmac. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "dwell/helpdesk.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DATA "tests/unit/data/helpdesk/"
#define MAX_GOT 64

/* What one parse reported. Static: tickets are big. */
struct got {
    struct ticket t[MAX_GOT];
    size_t n;                   /* tickets seen (may exceed MAX_GOT) */
    char where[MAX_GOT][128];
    char why[MAX_GOT][256];
    size_t nerr;
    size_t stop_after;          /* stop the parse after this many; 0: never */
};

static struct got g;

static int on_ticket(void *ctx, const struct ticket *t)
{
    struct got *r = ctx;
    if (r->n < MAX_GOT)
        r->t[r->n] = *t;
    r->n++;
    return r->stop_after != 0 && r->n >= r->stop_after;
}

static void on_error(void *ctx, const char *where, const char *why)
{
    struct got *r = ctx;
    if (r->nerr < MAX_GOT) {
        snprintf(r->where[r->nerr], sizeof r->where[0], "%s", where);
        snprintf(r->why[r->nerr], sizeof r->why[0], "%s", why);
    }
    r->nerr++;
}

/* Reads the file at PATH; NULL when it cannot. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        printf("  cannot open %s (run from the repository root)\n", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *m = realloc(buf, cap *= 2);
            if (m == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = m;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Parses the sample NAME as FORMAT into g. Returns the parse's result, or
 * -2 when the file cannot be read. */
static int parse_file(enum helpdesk_format format, const char *name,
                      const struct helpdesk_options *opt)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, DATA "%s", name);
    memset(&g, 0, sizeof g);
    char *data = slurp(path, &len);
    if (data == NULL)
        return -2;
    int rc = helpdesk_parse_export(format, data, len, opt, on_ticket,
                                   on_error, &g);
    free(data);
    return rc;
}

static int parse_text(enum helpdesk_format format, const char *text,
                      const struct helpdesk_options *opt)
{
    memset(&g, 0, sizeof g);
    return helpdesk_parse_export(format, text, strlen(text), opt, on_ticket,
                                 on_error, &g);
}

static void print_errors(void)
{
    for (size_t i = 0; i < g.nerr && i < MAX_GOT; i++)
        printf("  reported: %s: %s\n", g.where[i], g.why[i]);
}

/* True when T holds exactly these values; TAGS is the tags joined by
 * single spaces. Prints what differs. */
static bool same(const struct ticket *t, const char *id, uint64_t us,
                 const char *link, const char *requester, const char *email,
                 const char *channel, const char *tags)
{
    char joined[TICKET_MAX_TAGS * (TICKET_TAG_MAX + 1) + 1] = "";
    size_t o = 0;
    for (size_t i = 0; i < t->ntags; i++)
        o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s",
                              i ? " " : "", t->tags[i]);
    bool ok = true;
#define FIELD(got, want)                                                    \
    if (strcmp(got, want) != 0) {                                           \
        printf("  ticket %s: " #got " \"%s\", expected \"%s\"\n", t->id,   \
               got, want);                                                  \
        ok = false;                                                         \
    }
    FIELD(t->id, id);
    FIELD(t->link, link);
    FIELD(t->requester_id, requester);
    FIELD(t->email, email);
    FIELD(t->channel, channel);
    FIELD(joined, tags);
#undef FIELD
    if (t->created_us != us) {
        printf("  ticket %s: created_us %llu, expected %llu\n", t->id,
               (unsigned long long)t->created_us, (unsigned long long)us);
        ok = false;
    }
    return ok;
}

static const struct helpdesk_options zendesk_by_id = { "360001234", NULL, 0 };

/* --- times ------------------------------------------------------------------ */

static bool time_is(const char *s, uint64_t want)
{
    uint64_t us = 0;
    if (helpdesk_parse_time(s, &us) != 0) {
        printf("  \"%s\" did not parse\n", s);
        return false;
    }
    if (us != want)
        printf("  \"%s\" = %llu, expected %llu\n", s, (unsigned long long)us,
               (unsigned long long)want);
    return us == want;
}

static bool time_rejected(const char *s)
{
    uint64_t us = 0;
    if (helpdesk_parse_time(s, &us) == 0) {
        printf("  \"%s\" parsed as %llu\n", s, (unsigned long long)us);
        return false;
    }
    return true;
}

TEST(time_rfc3339_with_z_offsets_and_fractions)
{
    CHECK(time_is("2026-11-23T10:04:05Z", UINT64_C(1795428245000000)));
    CHECK(time_is("2026-11-23t10:04:05z", UINT64_C(1795428245000000)));
    CHECK(time_is("2026-11-23T11:04:05+01:00", UINT64_C(1795428245000000)));
    CHECK(time_is("2026-11-23T05:34:05-04:30", UINT64_C(1795428245000000)));
    CHECK(time_is("2026-11-25T07:45:00.500+02:00",
                  UINT64_C(1795585500500000)));
    CHECK(time_is("2026-11-23T11:15:30.25Z", UINT64_C(1795432530250000)));
    CHECK(time_is("2026-11-23T11:15:30.123456789Z",
                  UINT64_C(1795432530123456)));
    CHECK(time_is("1970-01-01T00:00:00Z", 0));
    CHECK(time_is("2024-02-29T00:00:00Z", UINT64_C(1709164800000000)));
    CHECK(time_is("2000-03-01T00:00:00Z", UINT64_C(951868800000000)));
}

TEST(time_space_separated_utc_and_numeric_offset)
{
    CHECK(time_is("2026-11-23 10:04:05", UINT64_C(1795428245000000)));
    CHECK(time_is(" 2026-11-23 10:04:05 ", UINT64_C(1795428245000000)));
    CHECK(time_is("2026-11-23 11:04:05 +0100", UINT64_C(1795428245000000)));
    CHECK(time_is("2026-11-23 10:04:05 UTC", UINT64_C(1795428245000000)));
    CHECK(time_is("2026-11-23 10:04", UINT64_C(1795428240000000)));
    CHECK(time_is("2026-11-23", UINT64_C(1795392000000000)));
}

TEST(time_unix_seconds)
{
    CHECK(time_is("1795428245", UINT64_C(1795428245000000)));
    CHECK(time_is("0", 0));
    CHECK(time_rejected("1795428245.5"));
    CHECK(time_rejected("-5"));
    CHECK(time_rejected("9999999999999"));
}

TEST(time_invalid_dates_and_clocks_are_rejected)
{
    CHECK(time_rejected("2026-02-30T10:00:00Z"));
    CHECK(time_rejected("2023-02-29T10:00:00Z"));
    CHECK(time_rejected("1900-02-29T10:00:00Z"));
    CHECK(time_rejected("2026-13-01T10:00:00Z"));
    CHECK(time_rejected("2026-00-10T10:00:00Z"));
    CHECK(time_rejected("2026-11-26 25:00:00"));
    CHECK(time_rejected("2026-11-26T24:00:00Z"));
    CHECK(time_rejected("2026-11-26T10:60:00Z"));
    CHECK(time_rejected("2026-11-26T10:00:61Z"));
    CHECK(time_rejected("2026-11-26T10:00:00+24:00"));
    CHECK(time_rejected("2026-11-26T10:00:00+01:60"));
    CHECK(time_rejected("2026-11-26T10:00:00.Z"));
    CHECK(time_rejected("2026-11-26T10:00:00Zjunk"));
    CHECK(time_rejected("2026-11-26X10:00:00Z"));
    CHECK(time_rejected("1969-12-31T23:59:59Z"));
    CHECK(time_rejected("26-11-26"));
    CHECK(time_rejected("yesterday"));
    CHECK(time_rejected(""));
    CHECK(time_rejected("   "));
}

TEST(format_names)
{
    enum helpdesk_format f;
    CHECK(helpdesk_format_of("zendesk-json", &f) == 0 &&
          f == HELPDESK_ZENDESK_JSON);
    CHECK(helpdesk_format_of("zendesk-csv", &f) == 0 &&
          f == HELPDESK_ZENDESK_CSV);
    CHECK(helpdesk_format_of("freshdesk-json", &f) == 0 &&
          f == HELPDESK_FRESHDESK_JSON);
    CHECK(helpdesk_format_of("helpscout-json", &f) == 0 &&
          f == HELPDESK_HELPSCOUT_JSON);
    CHECK(helpdesk_format_of("intercom-json", &f) == 0 &&
          f == HELPDESK_INTERCOM_JSON);
    CHECK(helpdesk_format_of("csv", &f) == 0 && f == HELPDESK_CSV);
    CHECK(helpdesk_format_of("zendesk", &f) == -1);
    CHECK(helpdesk_format_of("", &f) == -1);
}

/* --- Zendesk JSON ------------------------------------------------------------ */

TEST(zendesk_list_with_side_loaded_users_gives_exact_tickets)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-tickets.json",
                            &zendesk_by_id), 3);
    CHECK_EQ_INT(g.nerr, 0);
    CHECK(same(&g.t[0], "35436", UINT64_C(1795428245000000), "k3Jx9_q-2LmN",
               "20978392", "ana.souza@example.com", "web", "billing refund"));
    /* e-mail from via.source.from.address; custom field value null */
    CHECK(same(&g.t[1], "35437", UINT64_C(1795433400000000), "", "20978393",
               "li.wei@example.org", "email", ""));
    /* a link value too short to be a link id is no link; 20 tags keep 16 */
    CHECK(same(&g.t[2], "35438", UINT64_C(1795508142000000), "", "20978394",
               "sam@okafor.example", "api",
               "t00 t01 t02 t03 t04 t05 t06 t07 t08 t09 t10 t11 t12 t13 t14 "
               "t15"));
}

TEST(zendesk_default_link_field_matches_no_numeric_field_id)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-tickets.json",
                            NULL), 3);
    CHECK_EQ_STR(g.t[0].link, "");
}

TEST(zendesk_link_field_by_title_through_side_loaded_ticket_fields)
{
    struct helpdesk_options by_name = { "Dwell link", NULL, 0 };
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON,
                            "zendesk-ticket-fields.json", &by_name), 1);
    CHECK(same(&g.t[0], "35449", UINT64_C(1795698000000000), "by_title_link",
               "1004", "", "web", ""));
}

TEST(zendesk_incremental_export_page_gives_exact_tickets)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-incremental.json",
                            &zendesk_by_id), 2);
    CHECK_EQ_INT(g.nerr, 0);
    CHECK(same(&g.t[0], "35439", UINT64_C(1795510800000000), "inc_Link_0001",
               "20978395", "", "chat", "chat_handoff"));
    CHECK(same(&g.t[1], "35440", UINT64_C(1795512612000000), "inc_Link_0002",
               "20978396", "", "mobile_sdk", "android crash"));
}

TEST(zendesk_single_ticket_with_requester_email)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-single.json",
                            &zendesk_by_id), 1);
    CHECK(same(&g.t[0], "35441", UINT64_C(1795585500500000),
               "single_link_01", "20978397", "jo.park@example.kr", "web",
               "login"));
}

TEST(zendesk_ndjson_export_reports_bad_lines_and_keeps_good_ones)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-export.json",
                            &zendesk_by_id), 2);
    CHECK_EQ_INT(g.n, 2);
    CHECK(same(&g.t[0], "35442", UINT64_C(1795593600000000), "nd_link_0001",
               "20978398", "mia@example.de", "email", "billing"));
    CHECK(same(&g.t[1], "35444", UINT64_C(1795594800000000), "", "20978400",
               "", "voice", "phone"));
    CHECK_EQ_INT(g.nerr, 2);
    CHECK_EQ_STR(g.where[0], "line 2");
    CHECK_EQ_STR(g.why[0],
                 "created_at: not an ISO 8601 time or Unix seconds");
    CHECK_EQ_STR(g.where[1], "line 4");
    CHECK(strncmp(g.why[1], "truncated JSON: ", 16) == 0);
}

TEST(zendesk_one_bad_ticket_is_reported_and_the_others_imported)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-bad-row.json",
                            &zendesk_by_id), 2);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "tickets[1]");
    CHECK_EQ_STR(g.why[0], "created_at: not an ISO 8601 time or Unix seconds");
    CHECK_EQ_INT(g.n, 2);
    CHECK_EQ_STR(g.t[0].id, "35446");
    CHECK_EQ_STR(g.t[0].link, "bad_row_link_1");
    CHECK_EQ_STR(g.t[1].id, "35448");
}

TEST(zendesk_ticket_without_id_is_an_error_naming_where_and_why)
{
    const char *j = "{\"tickets\":[{\"created_at\":\"2026-11-23T10:04:05Z\"},"
                    "{\"id\":7,\"created_at\":\"2026-11-23T10:04:05Z\"},"
                    "{\"id\":1.5,\"created_at\":\"2026-11-23T10:04:05Z\"},"
                    "{\"id\":8},\"x\"]}";
    CHECK_EQ_INT(parse_text(HELPDESK_ZENDESK_JSON, j, NULL), 1);
    CHECK_EQ_INT(g.nerr, 4);
    CHECK_EQ_STR(g.where[0], "tickets[0]");
    CHECK_EQ_STR(g.why[0], "id: missing");
    CHECK_EQ_STR(g.where[1], "tickets[2]");
    CHECK_EQ_STR(g.why[1], "id: not a string or a whole number");
    CHECK_EQ_STR(g.where[2], "tickets[3]");
    CHECK_EQ_STR(g.why[2], "created_at: missing");
    CHECK_EQ_STR(g.where[3], "tickets[4]");
    CHECK_EQ_STR(g.why[3], "not an object");
}

TEST(zendesk_truncated_json_imports_nothing_and_says_why)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-truncated.json",
                            &zendesk_by_id), -1);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK(strncmp(g.why[0], "truncated JSON: ends inside", 27) == 0);
    CHECK(strncmp(g.where[0], "line ", 5) == 0);
}

TEST(zendesk_html_page_instead_of_json_imports_nothing)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-html.json", NULL),
                 -1);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "line 1, column 1");
    CHECK_EQ_STR(g.why[0], "not JSON: unexpected character");
}

TEST(zendesk_api_error_object_imports_nothing)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "zendesk-error.json", NULL),
                 -1);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.why[0], "no \"tickets\" array or \"ticket\" object");
}

TEST(json_with_trailing_garbage_after_a_multiline_value_is_refused)
{
    CHECK_EQ_INT(parse_text(HELPDESK_ZENDESK_JSON,
                            "{\"tickets\":[\n]}\n}\n", NULL), -1);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "line 3, column 1");
}

TEST(empty_files_import_nothing)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_JSON, "empty.json", NULL), -1);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.why[0], "empty file");
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "empty.csv", NULL), -1);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.why[0], "empty file");
    CHECK_EQ_INT(parse_text(HELPDESK_FRESHDESK_JSON, " \n\xEF\xBB\xBF", NULL),
                 -1);
    CHECK_EQ_INT(parse_text(HELPDESK_CSV, "\xEF\xBB\xBF\r\n", NULL), -1);
    CHECK_EQ_INT(g.n, 0);
}

TEST(an_empty_ticket_list_is_zero_tickets_not_an_error)
{
    CHECK_EQ_INT(parse_text(HELPDESK_ZENDESK_JSON,
                            "{\"tickets\":[],\"next_page\":null,\"count\":0}",
                            NULL), 0);
    CHECK_EQ_INT(g.nerr, 0);
}

TEST(ticket_callback_can_stop_the_parse)
{
    memset(&g, 0, sizeof g);
    g.stop_after = 1;
    size_t len;
    char *data = slurp(DATA "zendesk-tickets.json", &len);
    CHECK(data != NULL);
    int rc = helpdesk_parse_export(HELPDESK_ZENDESK_JSON, data, len, NULL,
                                   on_ticket, on_error, &g);
    free(data);
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(g.n, 1);
}

TEST(tags_are_trimmed_lower_cased_deduplicated_and_capped)
{
    char big[2048];
    char tag65[66];
    memset(tag65, 'x', 65);
    tag65[65] = '\0';
    int n = snprintf(big, sizeof big,
                     "[{\"id\":1,\"created_at\":\"2026-11-23T10:04:05Z\","
                     "\"tags\":[\" Billing \",\"billing\",\"\",\"%s\",7,"
                     "\"\\u00c9t\\u00e9\",\"a\\u0001b\"]}]", tag65);
    CHECK(n > 0 && (size_t)n < sizeof big);
    CHECK_EQ_INT(parse_text(HELPDESK_FRESHDESK_JSON, big, NULL), 1);
    /* ASCII lower-casing only; control characters and 65-byte tags go */
    CHECK_EQ_INT(g.t[0].ntags, 2);
    CHECK_EQ_STR(g.t[0].tags[0], "billing");
    CHECK_EQ_STR(g.t[0].tags[1], "\xc3\x89t\xc3\xa9");
}

TEST(link_ids_must_be_8_to_64_of_the_url_safe_alphabet)
{
    char l64[65], l65[66], j[1024];
    memset(l64, 'A', 64);
    memcpy(l64, "A-Z_a-z_0-9_", 12);
    l64[64] = '\0';
    memcpy(l65, l64, 64);
    memcpy(l65 + 64, "B", 2);
    const char *links[5] = { "abcdefgh", "abcdefg", "abc def gh", l64, l65 };
    size_t o = 0;
    for (int i = 0; i < 5; i++)
        o += (size_t)snprintf(j + o, sizeof j - o,
                              "%s{\"id\":%d,\"created_at\":0,"
                              "\"custom_fields\":{\"cf_dwell_link\":\"%s\"}}",
                              i ? "," : "[", i + 1, links[i]);
    snprintf(j + o, sizeof j - o, "]");
    CHECK_EQ_INT(parse_text(HELPDESK_FRESHDESK_JSON, j, NULL), 5);
    CHECK_EQ_STR(g.t[0].link, "abcdefgh");
    CHECK_EQ_STR(g.t[1].link, "");
    CHECK_EQ_STR(g.t[2].link, "");
    CHECK_EQ_STR(g.t[3].link, l64);
    CHECK_EQ_STR(g.t[4].link, "");
}

/* --- Zendesk CSV ---------------------------------------------------------------- */

TEST(zendesk_csv_with_bom_crlf_and_quoted_fields_gives_exact_tickets)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk.csv", NULL), 3);
    print_errors();
    CHECK_EQ_INT(g.nerr, 0);
    /* "Dwell link [txt]" matched by the default link field dwell_link */
    CHECK(same(&g.t[0], "35450", UINT64_C(1795428245000000), "csv_link_0001",
               "20978392", "ana.souza@example.com", "web", "billing refund"));
    CHECK(same(&g.t[1], "35451", UINT64_C(1795433400000000), "", "20978393",
               "li.wei@example.org", "email", "export bug"));
    CHECK(same(&g.t[2], "35452", UINT64_C(1795508142000000), "csv_link_0003",
               "", "", "api", ""));
}

TEST(zendesk_csv_link_column_named_by_title_or_full_header)
{
    struct helpdesk_options o1 = { "Dwell link", NULL, 0 };
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk.csv", &o1), 3);
    CHECK_EQ_STR(g.t[0].link, "csv_link_0001");
    struct helpdesk_options o2 = { "dwell link [TXT]", NULL, 0 };
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk.csv", &o2), 3);
    CHECK_EQ_STR(g.t[0].link, "csv_link_0001");
    struct helpdesk_options o3 = { "Product", NULL, 0 };   /* "Billing" */
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk.csv", &o3), 3);
    CHECK_EQ_STR(g.t[0].link, "");
}

TEST(zendesk_csv_bad_rows_report_the_line_each_record_starts_on)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk-bad-row.csv", NULL),
                 2);
    CHECK_EQ_INT(g.n, 2);
    CHECK(same(&g.t[0], "35453", UINT64_C(1795683600000000), "", "1",
               "a@example.com", "email", "x"));
    CHECK(same(&g.t[1], "35455", UINT64_C(1795684800000000), "", "3",
               "c@example.com", "email", "z"));
    CHECK_EQ_INT(g.nerr, 2);
    /* the first record spans lines 2-4 */
    CHECK_EQ_STR(g.where[0], "line 5");
    CHECK_EQ_STR(g.why[0], "Id: missing");
    CHECK_EQ_STR(g.where[1], "line 7");
    CHECK_EQ_STR(g.why[1], "Created at: not an ISO 8601 time or Unix seconds");
}

TEST(zendesk_csv_without_header_row_imports_nothing)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk-no-header.csv",
                            NULL), -1);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "line 1");
    CHECK(strncmp(g.why[0], "no header row", 13) == 0);
    CHECK(strchr(g.why[0], '@') == NULL);
}

TEST(csv_with_a_quote_never_closed_imports_nothing)
{
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk-unterminated.csv",
                            NULL), -1);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "line 3");
    CHECK_EQ_STR(g.why[0], "a quoted field is never closed");
}

TEST(zendesk_csv_map_overrides_a_header)
{
    const char *map[] = { "Requester=requester", "Product [list]=channel" };
    struct helpdesk_options o = { NULL, map, 2 };
    CHECK_EQ_INT(parse_file(HELPDESK_ZENDESK_CSV, "zendesk.csv", &o), 3);
    CHECK_EQ_STR(g.t[0].requester_id, "Ana Souza");
    CHECK_EQ_STR(g.t[0].channel, "billing");
}

/* --- generic CSV ---------------------------------------------------------------- */

static const char *const generic_map[] = {
    "Ticket=id", "Opened=created_at", "Link=link", "Customer=email",
    "Labels=tags"
};

TEST(generic_csv_with_a_mapping_gives_exact_tickets)
{
    struct helpdesk_options o = { NULL, generic_map, 5 };
    CHECK_EQ_INT(parse_file(HELPDESK_CSV, "generic.csv", &o), 3);
    CHECK(same(&g.t[0], "HD-1001", UINT64_C(1795420800000000),
               "gen_link_0001", "", "max@example.net", "", "shipping orders"));
    CHECK(same(&g.t[1], "HD-1002", UINT64_C(1795510000000000), "", "", "", "",
               "returns"));
    /* "not a link!" is no link id: ignored, the ticket stays */
    CHECK(same(&g.t[2], "HD-1004", UINT64_C(1795514400000000), "", "",
               "eva@example.net", "", "login 2fa"));
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "line 4");
    CHECK_EQ_STR(g.why[0], "Opened: not an ISO 8601 time or Unix seconds");
}

TEST(generic_csv_without_id_and_created_at_mapping_is_refused)
{
    CHECK_EQ_INT(parse_file(HELPDESK_CSV, "generic.csv", NULL), -1);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK(strstr(g.why[0], "--map COLUMN=id") != NULL);
    const char *only_id[] = { "Ticket=id" };
    struct helpdesk_options o = { NULL, only_id, 1 };
    CHECK_EQ_INT(parse_file(HELPDESK_CSV, "generic.csv", &o), -1);
    CHECK_EQ_INT(g.n, 0);
}

TEST(generic_csv_bad_mappings_are_refused_with_the_entry)
{
    const char *m1[] = { "Ticket=id", "Opened=created_at", "Nope=email" };
    struct helpdesk_options o = { NULL, m1, 3 };
    CHECK_EQ_INT(parse_file(HELPDESK_CSV, "generic.csv", &o), -1);
    CHECK_EQ_STR(g.why[0], "--map \"Nope=email\": no such column in the "
                           "header row");
    const char *m2[] = { "Ticket=id", "Opened=created_at", "Notes=subject" };
    o.map = m2;
    CHECK_EQ_INT(parse_file(HELPDESK_CSV, "generic.csv", &o), -1);
    CHECK(strstr(g.why[0], "the field is one of") != NULL);
    const char *m3[] = { "Ticket" };
    o.map = m3;
    o.nmap = 1;
    CHECK_EQ_INT(parse_file(HELPDESK_CSV, "generic.csv", &o), -1);
    CHECK(strstr(g.why[0], "expected COLUMN=FIELD") != NULL);
    CHECK_EQ_INT(g.n, 0);
}

TEST(csv_rfc4180_quotes_newlines_lf_and_missing_final_newline)
{
    const char *csv = "id,created_at,tags\n"
                      "\"a,1\",\"2026-11-23\nT10:04:05Z\",x\n"  /* bad time */
                      "\"b\"\"2\",2026-11-23T10:04:05Z,\"p, q\"\n"
                      "\n"
                      "c3,2026-11-23T10:04:05Z";
    const char *map[] = { "id=id", "created_at=created_at", "tags=tags" };
    struct helpdesk_options o = { NULL, map, 3 };
    CHECK_EQ_INT(parse_text(HELPDESK_CSV, csv, &o), 2);
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "line 2");
    CHECK_EQ_STR(g.t[0].id, "b\"2");
    CHECK_EQ_INT(g.t[0].ntags, 2);
    CHECK_EQ_STR(g.t[0].tags[1], "q");
    CHECK_EQ_STR(g.t[1].id, "c3");
}

TEST(emails_never_appear_in_error_messages)
{
    /* the e-mail column mapped as the time and as the id, by mistake */
    const char *m[] = { "Customer=id", "Customer=created_at" };
    struct helpdesk_options o = { NULL, m, 2 };
    CHECK_EQ_INT(parse_file(HELPDESK_CSV, "generic.csv", &o), 0);
    CHECK_EQ_INT(g.nerr, 4);
    for (size_t i = 0; i < g.nerr; i++)
        CHECK(strchr(g.why[i], '@') == NULL && strchr(g.where[i], '@') == NULL);
}

/* --- Freshdesk, Help Scout, Intercom ------------------------------------------ */

TEST(freshdesk_tickets_give_exact_tickets_with_mapped_sources)
{
    CHECK_EQ_INT(parse_file(HELPDESK_FRESHDESK_JSON, "freshdesk-tickets.json",
                            NULL), 6);
    CHECK_EQ_INT(g.nerr, 0);
    CHECK(same(&g.t[0], "101", UINT64_C(1795428000000000), "fd_link_0001",
               "5001001", "ana@example.com", "portal", "billing refund"));
    CHECK(same(&g.t[1], "102", UINT64_C(1795431600000000), "", "5001002",
               "li@example.org", "email", ""));
    CHECK(same(&g.t[2], "103", UINT64_C(1795435200000000), "fd_link_0003",
               "5001003", "", "chat", "chat"));
    CHECK(same(&g.t[3], "104", UINT64_C(1795438800000000), "", "5001004",
               "jo@example.kr", "widget", ""));
    CHECK(same(&g.t[4], "105", UINT64_C(1795442400000000), "", "5001005",
               "mo@example.com", "outbound-email", ""));
    CHECK(same(&g.t[5], "106", UINT64_C(1795446000000000), "", "5001006",
               "pat@example.com", "phone", ""));
}

TEST(freshdesk_link_field_with_or_without_cf_prefix)
{
    struct helpdesk_options o = { "cf_dwell_link", NULL, 0 };
    CHECK_EQ_INT(parse_file(HELPDESK_FRESHDESK_JSON, "freshdesk-tickets.json",
                            &o), 6);
    CHECK_EQ_STR(g.t[0].link, "fd_link_0001");
    o.link_field = "Dwell link";
    CHECK_EQ_INT(parse_file(HELPDESK_FRESHDESK_JSON, "freshdesk-tickets.json",
                            &o), 6);
    CHECK_EQ_STR(g.t[0].link, "fd_link_0001");
    o.link_field = "product_area";
    CHECK_EQ_INT(parse_file(HELPDESK_FRESHDESK_JSON, "freshdesk-tickets.json",
                            &o), 6);
    CHECK_EQ_STR(g.t[0].link, "");          /* "Billing": 7 characters */
}

TEST(helpscout_conversations_give_exact_tickets)
{
    CHECK_EQ_INT(parse_file(HELPDESK_HELPSCOUT_JSON,
                            "helpscout-conversations.json", NULL), 2);
    /* the custom field named "Dwell link" matched by the default */
    CHECK(same(&g.t[0], "2391938111", UINT64_C(1795428000000000),
               "hs_link_0001", "5678", "ana.souza@example.com", "beacon-v2",
               "billing refund"));
    CHECK(same(&g.t[1], "2391938112", UINT64_C(1795432530250000), "", "5679",
               "", "email", ""));
    CHECK_EQ_INT(g.nerr, 1);
    CHECK_EQ_STR(g.where[0], "_embedded.conversations[2]");
    CHECK_EQ_STR(g.why[0], "createdAt: missing");
}

TEST(helpscout_link_field_matched_by_custom_field_id)
{
    struct helpdesk_options o = { "9", NULL, 0 };
    CHECK_EQ_INT(parse_file(HELPDESK_HELPSCOUT_JSON,
                            "helpscout-conversations.json", &o), 2);
    CHECK_EQ_STR(g.t[0].link, "hs_link_0001");
}

TEST(intercom_conversations_give_exact_tickets)
{
    CHECK_EQ_INT(parse_file(HELPDESK_INTERCOM_JSON,
                            "intercom-conversations.json", NULL), 3);
    CHECK_EQ_INT(g.nerr, 0);
    CHECK(same(&g.t[0], "1911149811", UINT64_C(1795428245000000),
               "ic_link_0001", "6762f0dd1bb69f9f2193bb7f",
               "ana.souza@example.com", "chat", "billing refund"));
    /* no custom attribute: the link id from the page URL's query */
    CHECK(same(&g.t[1], "1911149812", UINT64_C(1795430000000000),
               "ic-url-Link-2", "6762f0dd1bb69f9f2193bb80", "lead@example.org",
               "email", ""));
    /* started by an admin: the requester is the contact, no e-mail */
    CHECK(same(&g.t[2], "1911149813", UINT64_C(1795431000000000), "",
               "6762f0dd1bb69f9f2193bb81", "", "email", "outreach"));
}

TEST(json_array_roots_and_containers_of_each_format)
{
    const char *one = "{\"id\":9,\"created_at\":\"2026-11-23T10:04:05Z\"}";
    char buf[256];
    snprintf(buf, sizeof buf, "[%s]", one);
    CHECK_EQ_INT(parse_text(HELPDESK_FRESHDESK_JSON, buf, NULL), 1);
    snprintf(buf, sizeof buf, "{\"tickets\":[%s]}", one);
    CHECK_EQ_INT(parse_text(HELPDESK_FRESHDESK_JSON, buf, NULL), 1);
    snprintf(buf, sizeof buf, "{\"results\":[%s],\"count\":1}", one);
    CHECK_EQ_INT(parse_text(HELPDESK_ZENDESK_JSON, buf, NULL), 1);
    snprintf(buf, sizeof buf,
             "[{\"id\":9,\"createdAt\":\"2026-11-23T10:04:05Z\"}]");
    CHECK_EQ_INT(parse_text(HELPDESK_HELPSCOUT_JSON, buf, NULL), 1);
    snprintf(buf, sizeof buf, "[{\"id\":\"9\",\"created_at\":1795428245}]");
    CHECK_EQ_INT(parse_text(HELPDESK_INTERCOM_JSON, buf, NULL), 1);
    CHECK_EQ_INT(g.t[0].created_us, UINT64_C(1795428245000000));
    CHECK_EQ_INT(parse_text(HELPDESK_INTERCOM_JSON,
                            "{\"type\":\"conversation.list\"}", NULL), -1);
    CHECK_EQ_STR(g.why[0], "no \"conversations\" array");
    CHECK_EQ_INT(parse_text(HELPDESK_HELPSCOUT_JSON, "\"x\"", NULL), -1);
    CHECK_EQ_STR(g.why[0], "expected a JSON object or array");
}

/* --- webhooks ------------------------------------------------------------------- */

static struct ticket hook;
static char hook_err[256];

/* Parses the sample NAME as a webhook into hook; prints the reason when it
 * is refused but EXPECT_OK. */
static int webhook_file(const char *name, bool expect_ok)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, DATA "%s", name);
    char *data = slurp(path, &len);
    if (data == NULL)
        return -2;
    hook_err[0] = '\0';
    int rc = helpdesk_parse_webhook(data, len, NULL, &hook, hook_err,
                                    sizeof hook_err);
    free(data);
    if (rc != 0 && expect_ok)
        printf("  %s: %s\n", name, hook_err);
    return rc;
}

static int webhook_text(const char *body)
{
    hook_err[0] = '\0';
    return helpdesk_parse_webhook(body, strlen(body), NULL, &hook, hook_err,
                                  sizeof hook_err);
}

TEST(webhook_zendesk_ticket_created_event)
{
    CHECK_EQ_INT(webhook_file("webhook-zendesk-event.json", true), 0);
    CHECK(same(&hook, "5158", UINT64_C(1795773845000000), "",
               "8447388090494", "", "api", "login web_widget"));
}

TEST(webhook_zendesk_other_events_are_refused)
{
    CHECK_EQ_INT(webhook_file("webhook-zendesk-status-changed.json", false),
                 -1);
    CHECK_EQ_STR(hook_err, "zen:event-type:ticket.status_changed: not a "
                           "ticket.created event");
    CHECK_EQ_STR(hook.id, "");
}

TEST(webhook_zendesk_trigger_shape)
{
    CHECK_EQ_INT(webhook_file("webhook-zendesk-trigger.json", true), 0);
    CHECK(same(&hook, "35460", UINT64_C(1795777200000000), "Qw3rTy-12_ab",
               "20978399", "zoe@example.com", "web", "billing vip"));
}

TEST(webhook_freshdesk_automation_payload)
{
    CHECK_EQ_INT(webhook_file("webhook-freshdesk.json", true), 0);
    CHECK(same(&hook, "4321", UINT64_C(1795755030000000), "dL-9fK2mP0qZ", "",
               "priya.nair@example.in", "widget", "login password reset"));
}

TEST(webhook_freshdesk_plain_ticket)
{
    CHECK_EQ_INT(webhook_text("{\"id\":77,\"created_at\":"
                              "\"2026-11-23T10:04:05Z\",\"source\":2,"
                              "\"custom_fields\":{\"cf_dwell_link\":"
                              "\"plain_fd_link\"},\"tags\":[\"A\"]}"), 0);
    CHECK(same(&hook, "77", UINT64_C(1795428245000000), "plain_fd_link", "",
               "", "portal", "a"));
}

TEST(webhook_helpscout_convo_created)
{
    CHECK_EQ_INT(webhook_file("webhook-helpscout.json", true), 0);
    CHECK(same(&hook, "2391938120", UINT64_C(1795780800000000),
               "hs_hook_0001", "5690", "lea.roux@example.fr", "beacon-v2",
               "billing invoice"));
}

TEST(webhook_intercom_notification)
{
    CHECK_EQ_INT(webhook_file("webhook-intercom.json", true), 0);
    CHECK(same(&hook, "1911149811", UINT64_C(1795428245000000),
               "ic_link_0001", "6762f0dd1bb69f9f2193bb7f",
               "ana.souza@example.com", "chat", "billing refund"));
}

TEST(webhook_generic_shape)
{
    CHECK_EQ_INT(webhook_file("webhook-generic.json", true), 0);
    CHECK(same(&hook, "T-1001", UINT64_C(1795784400250000), "gen_link_0001",
               "cust-77", "max@example.net", "web", "billing upgrade"));
}

TEST(webhook_unusable_bodies_are_refused_with_a_reason)
{
    CHECK_EQ_INT(webhook_text(""), -1);
    CHECK_EQ_STR(hook_err, "empty body");
    CHECK_EQ_INT(webhook_text("{\"id\":"), -1);
    CHECK(strncmp(hook_err, "not JSON", 8) == 0);
    CHECK_EQ_INT(webhook_text("[1,2]"), -1);
    CHECK_EQ_STR(hook_err, "expected a JSON object");
    CHECK_EQ_INT(webhook_text("{\"id\":1} x"), -1);
    CHECK_EQ_INT(webhook_text("{\"created_at\":\"2026-11-23T10:04:05Z\"}"),
                 -1);
    CHECK_EQ_STR(hook_err, "id: missing");
    CHECK_EQ_INT(webhook_text("{\"id\":\"1\",\"created_at\":\"2026-02-30\","
                              "\"email\":\"secret@example.com\"}"), -1);
    CHECK_EQ_STR(hook_err, "created_at: not an ISO 8601 time or Unix seconds");
    CHECK(strchr(hook_err, '@') == NULL);
    CHECK_EQ_INT(webhook_text("{\"freshdesk_webhook\":{\"ticket_id\":5}}"), -1);
    CHECK_EQ_STR(hook_err, "ticket_created_at: missing");
    CHECK_EQ_INT(webhook_text("{\"type\":\"zen:event-type:ticket.created\"}"),
                 -1);
    CHECK_EQ_STR(hook_err, "detail: missing");
    CHECK_EQ_STR(hook.id, "");
}

/* Computed with python3: base64.b64encode(hmac.new(b"hs-secret-8c1f2a",
 * open("webhook-helpscout.json","rb").read(), hashlib.sha1).digest()) */
static const char hs_signature[] = "Vavw+5IMNSxWcszED4mv3H7++kw=";

TEST(helpscout_signature_matches_python_hmac)
{
    size_t len;
    char *body = slurp(DATA "webhook-helpscout.json", &len);
    CHECK(body != NULL);
    int ok = helpdesk_helpscout_signature_ok(body, len, "hs-secret-8c1f2a",
                                             hs_signature);
    int wrong_secret = helpdesk_helpscout_signature_ok(body, len, "hs-secret",
                                                       hs_signature);
    int no_secret = helpdesk_helpscout_signature_ok(body, len, "",
                                                    hs_signature);
    int bad_sig = helpdesk_helpscout_signature_ok(
        body, len, "hs-secret-8c1f2a", "Vavw+5IMNSxWcszED4mv3H7++kW=");
    int short_sig = helpdesk_helpscout_signature_ok(
        body, len, "hs-secret-8c1f2a", "Vavw+5IMNSxWcszED4mv3H7++kw");
    body[10] ^= 1;
    int tampered = helpdesk_helpscout_signature_ok(
        body, len, "hs-secret-8c1f2a", hs_signature);
    free(body);
    CHECK_EQ_INT(ok, 1);
    CHECK_EQ_INT(wrong_secret, 0);
    CHECK_EQ_INT(no_secret, 0);
    CHECK_EQ_INT(bad_sig, 0);
    CHECK_EQ_INT(short_sig, 0);
    CHECK_EQ_INT(tampered, 0);
    CHECK_EQ_INT(helpdesk_helpscout_signature_ok(NULL, 0, "k", NULL), 0);
}

/* --- speed ------------------------------------------------------------------------ */

static int count_only(void *ctx, const struct ticket *t)
{
    size_t *n = ctx;
    *n += t->link[0] != '\0';
    return 0;
}

/* Builds an incremental-export-shaped file of N tickets, each with the
 * fields and size of a real one (~1.5 KB). */
static char *make_zendesk(size_t n, size_t *len)
{
    size_t cap = n * 2048 + 256, o = 0;
    char *b = malloc(cap);
    if (b == NULL)
        return NULL;
    o += (size_t)snprintf(b, cap, "{\"tickets\":[");
    for (size_t i = 0; i < n; i++) {
        unsigned s = (unsigned)(i % 86400);
        o += (size_t)snprintf(b + o, cap - o,
            "%s{\"url\":\"https://acme.zendesk.com/api/v2/tickets/%zu.json\","
            "\"id\":%zu,\"external_id\":null,\"via\":{\"channel\":\"web\","
            "\"source\":{\"from\":{},\"to\":{},\"rel\":null}},"
            "\"created_at\":\"2026-11-%02uT%02u:%02u:%02uZ\","
            "\"updated_at\":\"2026-11-23T10:04:05Z\",\"type\":\"question\","
            "\"subject\":\"Cannot find the export button on the invoices "
            "page\",\"raw_subject\":\"Cannot find the export button on the "
            "invoices page\",\"description\":\"Hello, I read the article "
            "about exporting invoices but the button it mentions is not "
            "there on my account. I am on the Pro plan and use Firefox. "
            "Could you tell me where to find it? Thanks, and have a good "
            "day.\",\"priority\":\"normal\",\"status\":\"open\","
            "\"recipient\":\"support@acme.example\",\"requester_id\":%zu,"
            "\"submitter_id\":%zu,\"assignee_id\":381234567812,"
            "\"organization_id\":null,\"group_id\":360009876543,"
            "\"collaborator_ids\":[],\"follower_ids\":[],\"email_cc_ids\":[],"
            "\"forum_topic_id\":null,\"problem_id\":null,"
            "\"has_incidents\":false,\"is_public\":true,\"due_at\":null,"
            "\"tags\":[\"billing\",\"export\",\"pro_plan\"],"
            "\"custom_fields\":[{\"id\":27642,\"value\":\"745\"},"
            "{\"id\":360001234,\"value\":\"lnk_%08zu\"},"
            "{\"id\":360005678,\"value\":\"plan_pro\"}],"
            "\"satisfaction_rating\":{\"score\":\"unoffered\"},"
            "\"sharing_agreement_ids\":[],\"fields\":[{\"id\":27642,"
            "\"value\":\"745\"},{\"id\":360001234,\"value\":\"lnk_%08zu\"},"
            "{\"id\":360005678,\"value\":\"plan_pro\"}],\"followup_ids\":[],"
            "\"ticket_form_id\":360000111222,\"brand_id\":360000333444,"
            "\"allow_channelback\":false,\"allow_attachments\":true}",
            i ? "," : "", i, i, 1 + s / 3600 % 28, s / 3600 % 24,
            s / 60 % 60, s % 60, 20000000 + i, 20000000 + i, i, i);
    }
    o += (size_t)snprintf(b + o, cap - o,
                          "],\"next_page\":null,\"count\":%zu,"
                          "\"end_of_stream\":true}", n);
    *len = o;
    return b;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(zendesk_100000_tickets_parse_quickly)
{
    size_t n = 100000, len, links = 0;
    const char *env = getenv("HELPDESK_BENCH_N");
    if (env != NULL && atol(env) > 0)
        n = (size_t)atol(env);
    char *data = make_zendesk(n, &len);
    CHECK(data != NULL);
    double t0 = now_s();
    int rc = helpdesk_parse_export(HELPDESK_ZENDESK_JSON, data, len,
                                   &zendesk_by_id, count_only, NULL, &links);
    double dt = now_s() - t0;
    free(data);
    printf("  %zu tickets (%.1f MB) in %.3f s: %.0f tickets/s, %.0f MB/s\n",
           n, (double)len / 1e6, dt, (double)n / dt, (double)len / 1e6 / dt);
    CHECK_EQ_INT(rc, (long long)n);
    CHECK_EQ_INT(links, (long long)n);
}

int main(void)
{

    RUN(time_rfc3339_with_z_offsets_and_fractions);
    RUN(time_space_separated_utc_and_numeric_offset);
    RUN(time_unix_seconds);
    RUN(time_invalid_dates_and_clocks_are_rejected);
    RUN(format_names);

    RUN(zendesk_list_with_side_loaded_users_gives_exact_tickets);
    RUN(zendesk_default_link_field_matches_no_numeric_field_id);
    RUN(zendesk_link_field_by_title_through_side_loaded_ticket_fields);
    RUN(zendesk_incremental_export_page_gives_exact_tickets);
    RUN(zendesk_single_ticket_with_requester_email);
    RUN(zendesk_ndjson_export_reports_bad_lines_and_keeps_good_ones);
    RUN(zendesk_one_bad_ticket_is_reported_and_the_others_imported);
    RUN(zendesk_ticket_without_id_is_an_error_naming_where_and_why);
    RUN(zendesk_truncated_json_imports_nothing_and_says_why);
    RUN(zendesk_html_page_instead_of_json_imports_nothing);
    RUN(zendesk_api_error_object_imports_nothing);
    RUN(json_with_trailing_garbage_after_a_multiline_value_is_refused);
    RUN(empty_files_import_nothing);
    RUN(an_empty_ticket_list_is_zero_tickets_not_an_error);
    RUN(ticket_callback_can_stop_the_parse);
    RUN(tags_are_trimmed_lower_cased_deduplicated_and_capped);
    RUN(link_ids_must_be_8_to_64_of_the_url_safe_alphabet);

    RUN(zendesk_csv_with_bom_crlf_and_quoted_fields_gives_exact_tickets);
    RUN(zendesk_csv_link_column_named_by_title_or_full_header);
    RUN(zendesk_csv_bad_rows_report_the_line_each_record_starts_on);
    RUN(zendesk_csv_without_header_row_imports_nothing);
    RUN(csv_with_a_quote_never_closed_imports_nothing);
    RUN(zendesk_csv_map_overrides_a_header);
    RUN(generic_csv_with_a_mapping_gives_exact_tickets);
    RUN(generic_csv_without_id_and_created_at_mapping_is_refused);
    RUN(generic_csv_bad_mappings_are_refused_with_the_entry);
    RUN(csv_rfc4180_quotes_newlines_lf_and_missing_final_newline);
    RUN(emails_never_appear_in_error_messages);

    RUN(freshdesk_tickets_give_exact_tickets_with_mapped_sources);
    RUN(freshdesk_link_field_with_or_without_cf_prefix);
    RUN(helpscout_conversations_give_exact_tickets);
    RUN(helpscout_link_field_matched_by_custom_field_id);
    RUN(intercom_conversations_give_exact_tickets);
    RUN(json_array_roots_and_containers_of_each_format);

    RUN(webhook_zendesk_ticket_created_event);
    RUN(webhook_zendesk_other_events_are_refused);
    RUN(webhook_zendesk_trigger_shape);
    RUN(webhook_freshdesk_automation_payload);
    RUN(webhook_freshdesk_plain_ticket);
    RUN(webhook_helpscout_convo_created);
    RUN(webhook_intercom_notification);
    RUN(webhook_generic_shape);
    RUN(webhook_unusable_bodies_are_refused_with_a_reason);
    RUN(helpscout_signature_matches_python_hmac);

    RUN(zendesk_100000_tickets_parse_quickly);
    return check_summary();
}
