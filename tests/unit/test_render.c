/* test_render.c — the reports as text (src/query/render.c): a report that
 * would pass the size cap gives NULL in every format, never a truncated
 * text; the CSV headers are the JSON keys of the same rows; text from the
 * data comes out escaped (JSON parses back to it, CSV quotes it). */
#include "check.h"
#include "dwell/render.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NROWS 40

static struct report_row rows[NROWS];
static char texts[NROWS][3][80];       /* each row's path, title, category */

/* NROWS articles with views, votes and words; row 0 has a title that needs
 * escaping in every format and row 1 no views (undefined metrics). */
static struct report_list fixture(void)
{
    memset(rows, 0, sizeof rows);
    for (size_t i = 0; i < NROWS; i++) {
        struct report_row *r = &rows[i];
        struct rollup_day s;
        memset(&s, 0, sizeof s);
        r->a.id = 0x1000 + i;
        r->a.words = 300 + 10 * (uint32_t)i;
        snprintf(texts[i][0], sizeof texts[i][0], "/kb/article-%zu", i);
        snprintf(texts[i][1], sizeof texts[i][1], "Article %zu", i);
        snprintf(texts[i][2], sizeof texts[i][2], "billing");
        r->a.path = texts[i][0];
        r->a.title = texts[i][1];
        r->a.category = texts[i][2];
        if (i == 1) {
            report_derive(r, &s);
            continue;
        }
        s.views = 100 + (uint32_t)i;
        s.visitors = 90;
        s.reads = 60;
        s.votes_up = 7;
        s.votes_down = 2;
        s.engaged_ms = 4500000;
        s.hist[3] = 50;
        s.hist[8] = 50 + (uint32_t)i;
        report_derive(r, &s);
    }
    snprintf(texts[0][1], sizeof texts[0][1],
             "=Say \"hi\", \\ tab\there\x01 line\xe2\x80\xa8sep");
    return (struct report_list){ rows, NROWS, NULL };
}

static const struct report_query query = { .site_id = 1, .from = 20400,
                                           .to = 20429 };
static const struct render_scope scope = { "help.test", &query, NULL };

static char *articles(const struct report_list *l, enum render_format f)
{
    return render_articles(&scope, l, 0, NROWS, "views", true, f);
}

TEST(a_report_over_the_cap_is_null_in_every_format_never_cut)
{
    struct report_list l = fixture();
    const enum render_format fmts[] = { RENDER_JSON, RENDER_CSV,
                                        RENDER_TABLE };
    size_t saved = render_max_text;
    for (size_t k = 0; k < 3; k++) {
        char *full = articles(&l, fmts[k]);
        CHECK(full != NULL);
        size_t n = strlen(full);
        CHECK(n > 2000);
        render_max_text = n;                 /* exactly fits */
        char *same = articles(&l, fmts[k]);
        render_max_text = n - 1;             /* one byte short */
        char *none = articles(&l, fmts[k]);
        render_max_text = saved;
        CHECK(same != NULL && strcmp(same, full) == 0);
        CHECK(none == NULL);
        free(full);
        free(same);
    }
    render_max_text = 100;                   /* the other reports too */
    CHECK(render_legend(RENDER_JSON) == NULL);
    CHECK(render_legend(RENDER_CSV) == NULL);
    render_max_text = saved;
}

TEST(csv_headers_are_the_json_keys)
{
    struct report_list l = fixture();
    char *csv = articles(&l, RENDER_CSV);
    char *json = articles(&l, RENDER_JSON);
    CHECK(csv != NULL && json != NULL);
    cJSON *doc = cJSON_Parse(json);
    CHECK(doc != NULL);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "articles"), 0);
    CHECK(first != NULL);
    char header[1024];
    size_t n = strcspn(csv, "\r");
    CHECK(n < sizeof header);
    memcpy(header, csv, n);
    header[n] = '\0';
    int count = 0;
    for (char *name = header, *end; name; name = end ? end + 1 : NULL) {
        end = strchr(name, ',');
        if (end)
            *end = '\0';
        if (!cJSON_HasObjectItem(first, name))
            printf("  CSV column %s is not a JSON key\n", name);
        CHECK(cJSON_HasObjectItem(first, name));
        count++;
    }
    CHECK_EQ_INT(count, 22);
    cJSON_Delete(doc);
    free(csv);
    free(json);
}

TEST(titles_come_out_escaped_and_undefined_metrics_empty)
{
    struct report_list l = fixture();
    char *json = articles(&l, RENDER_JSON);
    char *csv = articles(&l, RENDER_CSV);
    CHECK(json != NULL && csv != NULL);
    CHECK(json[strlen(json) - 1] == '\n');
    CHECK(strstr(json, "\\\"hi\\\", \\\\ tab\\there\\u0001 line\xe2\x80\xa8"
                       "sep") != NULL);
    cJSON *doc = cJSON_Parse(json);
    CHECK(doc != NULL);
    cJSON *arts = cJSON_GetObjectItem(doc, "articles");
    CHECK_EQ_INT(cJSON_GetArraySize(arts), NROWS);
    cJSON *a0 = NULL, *a1 = NULL, *it;
    cJSON_ArrayForEach(it, arts) {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(it,
                                                                    "path"));
        if (strcmp(path, "/kb/article-0") == 0)
            a0 = it;
        if (strcmp(path, "/kb/article-1") == 0)
            a1 = it;
    }
    CHECK(a0 != NULL && a1 != NULL);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(a0, "title")),
                 rows[0].a.title);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(a1, "engaged_p50_ms")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(a1, "read_rate")));
    CHECK_EQ_INT(cJSON_GetObjectItem(a1, "views")->valuedouble, 0);
    CHECK(strstr(csv, ",\"'=Say \"\"hi\"\", \\ tab\there\x01 line") != NULL);
    CHECK(strstr(csv, "\r\n0000000000001001,/kb/article-1,Article 1,billing,"
                      "310,0,0,0,,,,,,,,,0,0,,0,,article\r\n") != NULL);
    cJSON_Delete(doc);
    free(json);
    free(csv);
}

int main(void)
{
    RUN(a_report_over_the_cap_is_null_in_every_format_never_cut);
    RUN(csv_headers_are_the_json_keys);
    RUN(titles_come_out_escaped_and_undefined_metrics_empty);
    return check_summary();
}
