/* retention.c — see retention.h: raw events, tickets and links older than
 * the retention horizon go, a bounded step at a time; rollups, articles and
 * breakdowns stay, so that reports over old days still answer. */
#define _POSIX_C_SOURCE 200809L
#include "store/retention.h"

#include <string.h>

#include "dwell/log.h"
#include "store/codec.h"

#define RETAIN_CHUNK 20000         /* deletions per transaction */
#define RETAIN_WALK  200000        /* records looked at, too */

enum { PHASE_EVENTS, PHASE_TICKETS, PHASE_LINKS, PHASE_DONE };

/* One step's bounds and tally. */
struct retain_write {
    uint32_t first_day;            /* what is older goes */
    uint64_t before_us;            /* the same, in microseconds */
    size_t deletes, walks;         /* budget left */
    size_t gone;                   /* out: records deleted */
};

uint32_t retention_first_day(const struct store *st, uint32_t today)
{
    if (st->retention_days == 0 || today <= st->retention_days)
        return 0;
    return today - st->retention_days;
}

void retention_begin(struct store *st)
{
    st->retain_phase = PHASE_EVENTS;
    st->retain_at.len = 0;
}

/* True while the step may look at and delete one more record. */
static bool budget_left(const struct retain_write *w)
{
    return w->deletes > 0 && w->walks > 0;
}

/* Remembers key K as where the phase resumes. */
static void mark(struct store *st, const MDB_val *k)
{
    st->retain_at.len = k->mv_size <= sizeof st->retain_at.key
                        ? k->mv_size : 0;
    memcpy(st->retain_at.key, k->mv_data, st->retain_at.len);
}

/* Raises meta "retained" to W's first day. */
static int raise_retained(struct store *st, MDB_txn *txn,
                          const struct retain_write *w)
{
    MDB_val k = { strlen(RETAINED_KEY), RETAINED_KEY }, v;
    uint32_t have = 0;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == 0 && u32_read(&v, &have) && have >= w->first_day)
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    uint8_t b[U32_REC_LEN];
    u32_pack(b, w->first_day);
    v.mv_size = sizeof b;
    v.mv_data = b;
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

/* Raw events are in time order: deletes from the first while older.
 * Returns 1 when the budget ran out, 0 when done, or an LMDB error. */
static int retain_events(struct store *st, MDB_txn *txn,
                         struct retain_write *w)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t t;
    uint32_t seq;
    int rc = mdb_cursor_open(txn, st->dbi[DB_EVENTS], &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) {
        if (!event_key_read(&k, &t, &seq) || t >= w->before_us)
            break;
        if (!budget_left(w)) {
            rc = 1;
            break;
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        w->deletes--;
        w->walks--;
        w->gone++;
    }
    mdb_cursor_close(cur);
    if (rc == 1)
        return 1;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Deletes the ticket of the ticket_times key K (site, time, id). */
static int drop_ticket(struct store *st, MDB_txn *txn, const MDB_val *k)
{
    uint64_t t;
    const char *id;
    size_t idlen;
    uint8_t kb[4 + STORE_TICKET_ID_MAX];
    if (!ticket_time_read(k, &t, &id, &idlen) || idlen > STORE_TICKET_ID_MAX)
        return 0;
    MDB_val tk = { site_bytes_key(kb, key_site(k->mv_data), id, idlen), kb };
    int rc = mdb_del(txn, st->dbi[DB_TICKETS], &tk, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ticket_times is in (site, time) order: per site, deletes the oldest
 * while older, then jumps to the next site. Returns 1 when the budget ran
 * out (the mark says where), 0 when done, or an LMDB error. */
static int retain_tickets(struct store *st, MDB_txn *txn,
                          struct retain_write *w)
{
    MDB_cursor *cur;
    MDB_val k = { st->retain_at.len, st->retain_at.key }, v;
    int rc = mdb_cursor_open(txn, st->dbi[DB_TICKET_TIMES], &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        uint64_t t;
        const char *id;
        size_t idlen;
        if (!budget_left(w)) {
            mark(st, &k);
            rc = 1;
            break;
        }
        w->walks--;
        bool ok = ticket_time_read(&k, &t, &id, &idlen);
        if (ok && t < w->before_us) {
            if ((rc = drop_ticket(st, txn, &k)) != 0 ||
                (rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            w->deletes -= w->deletes > 1 ? 2 : 1;
            w->gone += 2;
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        uint32_t next = ok ? key_site(k.mv_data) + 1 : 0;
        if (!ok || next == 0) {        /* not one of ours, or the last site */
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        uint8_t nb[4];                 /* the next site's first ticket */
        k.mv_size = site_bytes_key(nb, next, "", 0);
        k.mv_data = nb;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    if (rc == 1)
        return 1;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Links carry their time in the value: a walk over all of them, from the
 * mark. Returns 1 when the budget ran out, 0 when done, or an LMDB
 * error. */
static int retain_links(struct store *st, MDB_txn *txn,
                        struct retain_write *w)
{
    MDB_cursor *cur;
    MDB_val k = { st->retain_at.len, st->retain_at.key }, v;
    struct link_rec r;
    int rc = mdb_cursor_open(txn, st->dbi[DB_LINKS], &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, k.mv_size ? MDB_SET_RANGE
                                                     : MDB_FIRST);
         rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (!budget_left(w)) {
            mark(st, &k);
            rc = 1;
            break;
        }
        w->walks--;
        if (!link_read(&v, &r) || r.time_us >= w->before_us)
            continue;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        w->deletes--;
        w->gone++;
    }
    mdb_cursor_close(cur);
    if (rc == 1)
        return 1;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* The step's transaction: the phases in order from where the last step
 * stopped, while the budget lasts. */
static int retain_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct retain_write *w = ctx;
    int rc = raise_retained(st, txn, w);
    while (rc == 0 && st->retain_phase != PHASE_DONE) {
        if (st->retain_phase == PHASE_EVENTS)
            rc = retain_events(st, txn, w);
        else if (st->retain_phase == PHASE_TICKETS)
            rc = retain_tickets(st, txn, w);
        else
            rc = retain_links(st, txn, w);
        if (rc == 0) {
            st->retain_phase++;
            st->retain_at.len = 0;
        }
    }
    return rc == 1 ? 0 : rc;
}

/* The step was not committed: the pass starts over next time. */
static void retain_undo(struct store *st, void *ctx)
{
    (void)ctx;
    retention_begin(st);
}

int retention_step(struct store *st, uint32_t today, size_t *removed)
{
    uint32_t first = retention_first_day(st, today);
    if (first == 0 || st->retain_phase == PHASE_DONE)
        return 0;
    struct retain_write w = { first, (uint64_t)first * US_PER_DAY,
                              RETAIN_CHUNK, RETAIN_WALK, 0 };
    int rc = store_write_undo(st, retain_txn, retain_undo, &w);
    if (rc != 0) {
        log_warn("store: retention: deleting old records failed: %s",
                 mdb_strerror(rc));
        return -1;
    }
    *removed += w.gone;
    return st->retain_phase == PHASE_DONE ? 0 : 1;
}
