/* batch.h — the checks every batch the event parsers accept must pass: what
 * the store relies on when it stores a parsed event (fuzz_event_json,
 * fuzz_event_pixel). */
#ifndef DWELL_FUZZ_BATCH_H
#define DWELL_FUZZ_BATCH_H

#include "fuzz.h"
#include "dwell/event.h"

static inline int fuzz_same_str(const struct event_str *a,
                                const struct event_str *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* Every event of B is within the documented caps, encodes into
 * EVENT_RECORD_MAX bytes and decodes back to the same fields; an error
 * message, when the parse failed (RC != 0), is a non-empty string. */
static inline void fuzz_check_batch(int rc, const struct event_batch *b,
                                    const char *err, size_t errlen)
{
    if (rc != 0) {
        FUZZ_CHECK(fuzz_terminated(err, errlen) && err[0] != '\0');
        return;
    }
    FUZZ_CHECK(b->n >= 1 && b->n <= EVENT_MAX_BATCH);
    FUZZ_CHECK(b->used <= sizeof b->arena);
    for (size_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->ev[i];
        FUZZ_CHECK(event_within_limits(ev));
        FUZZ_CHECK(ev->type >= EVENT_VIEW && ev->type <= EVENT_CUSTOM);
        FUZZ_CHECK(ev->scroll <= 100 || ev->scroll == EVENT_SCROLL_NONE);
        uint8_t rec[EVENT_RECORD_MAX];
        int n = event_encode(ev, rec, sizeof rec);
        FUZZ_CHECK(n > 0);
        struct event back;
        FUZZ_CHECK(event_decode(rec, (size_t)n, &back) == 0);
        FUZZ_CHECK(back.type == ev->type && back.flags == ev->flags);
        FUZZ_CHECK(back.engaged_ms == ev->engaged_ms);
        FUZZ_CHECK(fuzz_same_str(&back.view_id, &ev->view_id));
        FUZZ_CHECK(fuzz_same_str(&back.path, &ev->path));
        FUZZ_CHECK(fuzz_same_str(&back.title, &ev->title));
        FUZZ_CHECK(fuzz_same_str(&back.text, &ev->text));
    }
}

#endif
