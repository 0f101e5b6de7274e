/* export.c — see export.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/export.h"
#include "base/time.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Adds string field KEY with the N bytes at P (copied, NUL-terminated). */
static void add_str(cJSON *o, const char *key, const struct event_str *s)
{
    char buf[1024];
    size_t n = s->n < sizeof buf - 1 ? s->n : sizeof buf - 1;
    if (n)
        memcpy(buf, s->p, n);
    buf[n] = '\0';
    cJSON_AddStringToObject(o, key, buf);
}

int export_event_ndjson(const struct event *ev, FILE *out)
{
    char when[TIME_ISO_LEN];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return -1;
    time_format_iso8601(ev->time_us, when);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "type", event_type_name(ev->type));
    add_str(o, "view", &ev->view_id);
    add_str(o, "path", &ev->path);
    cJSON_AddNumberToObject(o, "engaged_ms", ev->engaged_ms);
    if (ev->scroll == EVENT_SCROLL_NONE)
        cJSON_AddNullToObject(o, "scroll");
    else
        cJSON_AddNumberToObject(o, "scroll", ev->scroll);
    cJSON_AddStringToObject(o, "country", ev->country);
    cJSON_AddBoolToObject(o, "bot", (ev->flags & EVENT_FLAG_BOT) != 0);
    if (ev->flags & EVENT_FLAG_AUTOMATED)
        cJSON_AddTrueToObject(o, "automated");
    if (ev->flags & EVENT_FLAG_PIXEL)
        cJSON_AddTrueToObject(o, "pixel");
    if (ev->wire >= 2)
        cJSON_AddNumberToObject(o, "wire", ev->wire);
    if (ev->seq)
        cJSON_AddNumberToObject(o, "seq", ev->seq);
    switch (ev->type) {
    case EVENT_VIEW:
        add_str(o, "title", &ev->title);
        add_str(o, "referrer", &ev->referrer);
        add_str(o, "category", &ev->category);
        add_str(o, "lang", &ev->lang);
        cJSON_AddNumberToObject(o, "words", ev->words);
        cJSON_AddNumberToObject(o, "screen_width", ev->screen_w);
        if (ev->kind != EVENT_PAGE_ARTICLE)
            cJSON_AddStringToObject(o, "page",
                                    event_page_kind_name(ev->kind));
        break;
    case EVENT_VOTE:
        cJSON_AddStringToObject(o, "vote",
                                ev->vote == EVENT_VOTE_UP ? "up" : "down");
        break;
    case EVENT_SEARCH:
        add_str(o, "query", &ev->text);
        if (ev->results == EVENT_RESULTS_NONE)
            cJSON_AddNullToObject(o, "results");
        else
            cJSON_AddNumberToObject(o, "results", ev->results);
        break;
    case EVENT_LINK:
        add_str(o, "link", &ev->text);
        break;
    case EVENT_IDENTIFY:
        add_str(o, "identity", &ev->text);
        break;
    case EVENT_CUSTOM:
        add_str(o, "name", &ev->text);
        break;
    default:
        break;
    }
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (line == NULL)
        return -1;
    int rc = fprintf(out, "%s\n", line) < 0 ? -1 : 0;
    cJSON_free(line);
    return rc;
}
