/* fuzz_records — the record decoders of the model: event_decode and
 * rollup_decode (and rollup_decode_merge's subtraction) on damaged
 * records, as a damaged data file hands them over. The first byte picks
 * the decoder. Never a crash or an over-read; what decodes re-encodes and
 * decodes to the same again. */
#include "fuzz.h"
#include "dwell/event.h"
#include "dwell/rollup.h"

/* An event record: decoded strings lie inside the record; re-encoding
 * gives a record that decodes to the same strings, article and
 * dictionary ids. */
static void event_record(const uint8_t *rec, size_t len)
{
    struct event ev;
    if (event_decode(rec, len, &ev) != 0)
        return;
    const struct event_str *s[] = { &ev.view_id, &ev.path, &ev.title,
                                    &ev.referrer, &ev.category, &ev.lang,
                                    &ev.text };
    /* every string points into the record, but a packed view id, which is
     * unpacked into the event's own id_buf */
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        const uint8_t *p = (const uint8_t *)s[i]->p;
        const uint8_t *own = (const uint8_t *)ev.id_buf;
        if (s[i]->n == 0)
            continue;
        if (s[i] == &ev.view_id && p >= own && p < own + sizeof ev.id_buf)
            FUZZ_CHECK(p + s[i]->n <= own + sizeof ev.id_buf);
        else
            FUZZ_CHECK(p >= rec && p + s[i]->n <= rec + len);
    }
    size_t cap = len + 64;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        abort();
    int n = event_encode(&ev, buf, cap);
    FUZZ_CHECK(n > 0);
    struct event back;
    FUZZ_CHECK(event_decode(buf, (size_t)n, &back) == 0);
    FUZZ_CHECK(back.type == ev.type && back.view_id.n == ev.view_id.n &&
               back.text.n == ev.text.n && back.path.n == ev.path.n &&
               back.article == ev.article);
    FUZZ_CHECK(memcmp(back.ref, ev.ref, sizeof ev.ref) == 0);
    free(buf);
}

/* A rollup record: what decodes re-encodes into ROLLUP_RECORD_MAX bytes
 * and decodes to the same counters; subtracting it from itself leaves
 * zero. */
static void rollup_record(const uint8_t *rec, size_t len)
{
    struct rollup_day d, back;
    if (rollup_decode(rec, len, &d) != 0)
        return;
    uint8_t buf[ROLLUP_RECORD_MAX];
    int n = rollup_encode(&d, buf, sizeof buf);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(rollup_decode(buf, (size_t)n, &back) == 0);
    FUZZ_CHECK(memcmp(&back, &d, sizeof d) == 0);
    FUZZ_CHECK(rollup_decode_merge(rec, len, &back, -1) == 0);
    FUZZ_CHECK(back.views == 0 && back.engaged_ms == 0);
    FUZZ_CHECK(rollup_decode_add(rec, len, &back) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* a copy of exactly the record's size, so that any over-read is seen */
    uint8_t *rec = malloc(size - 1 ? size - 1 : 1);
    if (rec == NULL)
        abort();
    memcpy(rec, data + 1, size - 1);
    if (data[0] & 1)
        rollup_record(rec, size - 1);
    else
        event_record(rec, size - 1);
    free(rec);
    return 0;
}
