/* export.c — see export.h. Written through the streaming JSON writer
 * (base/json.h), member by member in a fixed order. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/export.h"
#include "base/json.h"
#include "base/time.h"

#include <stdlib.h>
#include <string.h>

/* One line is far below this; a writer past it fails rather than cut. */
#define EXPORT_LINE_MAX 16384

/* Writes member KEY with the string S, up to its first NUL and at most
 * 1023 bytes (as the export always wrote it). */
static void put_str(struct json *j, const char *key, const struct event_str *s)
{
    size_t n = s->n < 1023 ? s->n : 1023;
    const char *nul = n ? memchr(s->p, '\0', n) : NULL;
    if (nul != NULL)
        n = (size_t)(nul - s->p);
    json_key(j, key);
    json_string_n(j, n ? s->p : "", n);
}

/* Writes the members only events of EV's type have. */
static void put_typed(struct json *j, const struct event *ev)
{
    switch (ev->type) {
    case EVENT_VIEW:
        put_str(j, "title", &ev->title);
        put_str(j, "referrer", &ev->referrer);
        put_str(j, "category", &ev->category);
        put_str(j, "lang", &ev->lang);
        json_key_uint(j, "words", ev->words);
        json_key_uint(j, "screen_width", ev->screen_w);
        if (ev->kind != EVENT_PAGE_ARTICLE)
            json_key_string(j, "page", event_page_kind_name(ev->kind));
        break;
    case EVENT_VOTE:
        json_key_string(j, "vote", ev->vote == EVENT_VOTE_UP ? "up" : "down");
        break;
    case EVENT_SEARCH:
        put_str(j, "query", &ev->text);
        json_key(j, "results");
        if (ev->results == EVENT_RESULTS_NONE)
            json_null(j);
        else
            json_uint(j, ev->results);
        break;
    case EVENT_LINK:
        put_str(j, "link", &ev->text);
        break;
    case EVENT_IDENTIFY:
        put_str(j, "identity", &ev->text);
        break;
    case EVENT_CUSTOM:
        put_str(j, "name", &ev->text);
        break;
    default:
        break;
    }
}

int export_event_ndjson(const struct event *ev, FILE *out)
{
    char when[TIME_ISO_LEN];
    struct json j;
    json_init(&j, EXPORT_LINE_MAX);
    time_format_iso8601(ev->time_us, when);
    json_object_begin(&j);
    json_key_string(&j, "time", when);
    json_key_string(&j, "type", event_type_name(ev->type));
    put_str(&j, "view", &ev->view_id);
    put_str(&j, "path", &ev->path);
    json_key_uint(&j, "engaged_ms", ev->engaged_ms);
    json_key(&j, "scroll");
    if (ev->scroll == EVENT_SCROLL_NONE)
        json_null(&j);
    else
        json_uint(&j, ev->scroll);
    json_key_string(&j, "country", ev->country);
    json_key_bool(&j, "bot", (ev->flags & EVENT_FLAG_BOT) != 0);
    if (ev->flags & EVENT_FLAG_AUTOMATED)
        json_key_bool(&j, "automated", true);
    if (ev->flags & EVENT_FLAG_PIXEL)
        json_key_bool(&j, "pixel", true);
    if (ev->wire >= 2)
        json_key_uint(&j, "wire", ev->wire);
    if (ev->seq)
        json_key_uint(&j, "seq", ev->seq);
    put_typed(&j, ev);
    json_object_end(&j);
    json_newline(&j);
    size_t len;
    char *line = json_finish(&j, &len);
    if (line == NULL)
        return -1;
    int rc = fwrite(line, 1, len, out) == len ? 0 : -1;
    free(line);
    return rc;
}
