/* events.c — see events.h. */
#define _POSIX_C_SOURCE 200809L
#include "store/events.h"

#include "store/codec.h"
#include "store/dict.h"

int events_read(struct store *st, MDB_txn *txn, const MDB_val *v,
                struct event *ev)
{
    if (event_decode(v->mv_data, v->mv_size, ev) != 0 ||
        dict_resolve_event(st, txn, ev) != 0)
        return -1;
    return 0;
}

/* Sets EV->path from the article record when the event has none. */
static void fill_path(struct store *st, MDB_txn *txn, struct event *ev)
{
    if (ev->path.n > 0 || ev->article == 0)
        return;
    uint8_t kb[SITE_ID_KEY_LEN];
    MDB_val k = { site_id_key(kb, ev->site_id, ev->article), kb }, v;
    const char *path;
    size_t n;
    if (mdb_get(txn, st->dbi[DB_ARTICLES], &k, &v) != 0 ||
        !article_path(&v, &path, &n))
        return;
    ev->path.p = path;
    ev->path.n = (uint16_t)n;
}

int events_last_key(struct store *st, MDB_txn *txn, bool *current,
                    uint64_t *time_us, uint32_t *seq)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, st->dbi[DB_EVENTS], &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    *current = rc == 0 && event_key_read(&k, time_us, seq);
    return rc;
}

int store_events_each(struct store *st, uint32_t site_id, uint64_t since_us,
                      size_t limit,
                      int (*fn)(void *ctx, const struct event *ev), void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (since_us > EVENT_TIME_MAX)          /* no key is that late */
        return 0;
    if (store_read_cursor(st, DB_EVENTS, &txn, &cur) != 0)
        return -1;
    uint8_t start[EVENT_KEY_LEN];
    event_key(start, since_us, 0);
    MDB_val k, v;
    struct event ev;
    uint64_t t;
    uint32_t seq;
    int rc;
    if (limit > 0) {                  /* walk back to the LIMIT-th newest */
        size_t seen = 0;
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        while (rc == 0 && event_key_read(&k, &t, &seq) && t >= since_us) {
            if (event_decode(v.mv_data, v.mv_size, &ev) == 0 &&
                ev.site_id == site_id && ++seen == limit) {
                event_key(start, t, seq);
                break;
            }
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        }
    }
    k.mv_size = sizeof start;
    k.mv_data = start;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        if (event_key_read(&k, &t, &seq) &&
            event_decode(v.mv_data, v.mv_size, &ev) == 0 &&
            ev.site_id == site_id && dict_resolve_event(st, txn, &ev) == 0) {
            ev.time_us = t;
            fill_path(st, txn, &ev);
            if (fn(ctx, &ev) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}
