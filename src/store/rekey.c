/* rekey.c — schema 6 -> 7: every events key from time_us(8) seq(4) to one
 * u64 time_us << 8 | seq (codec.h), and what names events by their key
 * (the shipping log, its fill position) with them. See rekey.h. */
#define _POSIX_C_SOURCE 200809L
#include "store/rekey.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "store/codec.h"
#include "store/events.h"

#define REKEY_BATCH 50000    /* events moved per write transaction */

/* An events key of schema 6 that a shipping log entry (SEQ) names. */
struct ship_ref {
    uint8_t key[EVENT_KEY_V6_LEN];
    uint64_t seq;
};

/* One event of the batch being moved: its old key, its record (in ARENA at
 * OFF, LEN bytes) and the new key given it. */
struct moved {
    uint8_t old[EVENT_KEY_V6_LEN];
    size_t off, len;
    uint64_t new_key;
};

/* The state of a run over bounded transactions; DONE once no old key is
 * left. The shipping log's old references are read once a run, in key
 * order; REF_AT is the first not yet settled. */
struct rekey {
    bool done, refs_loaded;
    size_t moved, moved_begin;
    struct ship_ref *refs;
    size_t nrefs, ref_at, ref_at_begin;    /* BEGIN: when the step began */
    struct moved *batch;
    uint8_t *arena;
    size_t arena_cap;
};

int store_migrate_v6(struct store *st, MDB_txn *txn)
{
    MDB_val k = { sizeof REKEY_META - 1, REKEY_META }, v = { 0, "" };
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

static int ref_cmp(const void *a, const void *b)
{
    return memcmp(((const struct ship_ref *)a)->key,
                  ((const struct ship_ref *)b)->key, EVENT_KEY_V6_LEN);
}

/* Reads every shipping log entry that names an event by an old key into
 * R->refs, sorted by that key. Returns 0 or an LMDB error. */
static int load_refs(struct store *st, MDB_txn *txn, struct rekey *r)
{
    r->refs_loaded = true;
    if (!st->ship_log)
        return 0;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t cap = 0;
    int rc = mdb_cursor_open(txn, st->ship_dbi, &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *p = v.mv_data;
        if (k.mv_size != SHIP_KEY_LEN || v.mv_size != 9 + EVENT_KEY_V6_LEN ||
            p[0] != 'e')
            continue;
        if (r->nrefs == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            struct ship_ref *n = realloc(r->refs, ncap * sizeof *n);
            if (n == NULL) {
                rc = ENOMEM;
                break;
            }
            r->refs = n;
            cap = ncap;
        }
        struct ship_ref *ref = &r->refs[r->nrefs++];
        memcpy(ref->key, p + 9, EVENT_KEY_V6_LEN);
        (void)u64_read(&k, &ref->seq);          /* SHIP_KEY_LEN bytes */
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    qsort(r->refs, r->nrefs, sizeof *r->refs, ref_cmp);
    return 0;
}

/* Points the shipping log entry REF at NEW_KEY (an events key), or drops
 * it when NEW_KEY is NULL (its event is gone: nothing to ship). Leaves an
 * entry another process already moved alone. Returns 0 or an LMDB error. */
static int ref_settle(struct store *st, MDB_txn *txn,
                      const struct ship_ref *ref, const uint8_t *new_key)
{
    uint8_t kb[SHIP_KEY_LEN], vb[9 + EVENT_KEY_LEN];
    u64_pack(kb, ref->seq);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_get(txn, st->ship_dbi, &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;
    const uint8_t *p = v.mv_data;
    if (v.mv_size != 9 + EVENT_KEY_V6_LEN ||
        memcmp(p + 9, ref->key, EVENT_KEY_V6_LEN) != 0)
        return 0;
    if (new_key == NULL)
        return mdb_del(txn, st->ship_dbi, &k, NULL);
    memcpy(vb, p, 9);                       /* kind, logged_us */
    memcpy(vb + 9, new_key, EVENT_KEY_LEN);
    v = (MDB_val){ sizeof vb, vb };
    return mdb_put(txn, st->ship_dbi, &k, &v, 0);
}

/* The last events key of the new layout: 0 when there is none yet. */
static int last_new_key(struct store *st, MDB_txn *txn, uint64_t *last)
{
    uint64_t t;
    uint32_t seq;
    bool current;
    int rc = events_last_key(st, txn, &current, &t, &seq);
    *last = rc == 0 && current ? t << 8 | seq : 0;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Reads up to REKEY_BATCH events under old keys, the first first, into
 * R->batch (records copied: the moves below change the pages). Returns the
 * count, or -1 with an LMDB error in *RC. */
static long read_batch(struct store *st, MDB_txn *txn, struct rekey *r,
                       int *rc)
{
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0, used = 0;
    if ((*rc = mdb_cursor_open(txn, st->dbi[DB_EVENTS], &cur)) != 0)
        return -1;
    for (*rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         *rc == 0 && n < REKEY_BATCH;
         *rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != EVENT_KEY_V6_LEN) {
            /* a new key: before 1978 still among the old, else past them */
            if (((const uint8_t *)k.mv_data)[0] != 0)
                break;
            continue;
        }
        if (used + v.mv_size > r->arena_cap) {
            size_t cap = 2 * (used + v.mv_size) + 65536;
            uint8_t *a = realloc(r->arena, cap);
            if (a == NULL) {
                *rc = ENOMEM;
                break;
            }
            r->arena = a;
            r->arena_cap = cap;
        }
        struct moved *m = &r->batch[n++];
        memcpy(m->old, k.mv_data, EVENT_KEY_V6_LEN);
        memcpy(r->arena + used, v.mv_data, v.mv_size);
        m->off = used;
        m->len = v.mv_size;
        used += v.mv_size;
    }
    mdb_cursor_close(cur);
    if (*rc == MDB_NOTFOUND)
        *rc = 0;
    return *rc == 0 ? (long)n : -1;
}

/* Puts the record of M under its new key: the first past LAST in its
 * microsecond or after (appended), or, when that would leave its day, the
 * first free one of its day before it. Sets M->new_key. */
static int put_moved(struct store *st, MDB_txn *txn, struct rekey *r,
                     struct moved *m, uint64_t *last)
{
    uint64_t t;
    uint32_t seq;
    MDB_val ok = { EVENT_KEY_V6_LEN, m->old };
    if (!event_key_v6_read(&ok, &t, &seq) || t > EVENT_TIME_MAX)
        return MDB_CORRUPTED;
    uint64_t want = t << 8;
    unsigned flags = MDB_APPEND;
    if (want <= *last) {
        want = *last + 1;
        if (day_of_us(want >> 8) != day_of_us(t)) {
            want = t << 8 | EVENT_KEY_SEQ_MAX;     /* a day's last us is full */
            flags = MDB_NOOVERWRITE;
        }
    }
    uint8_t kb[EVENT_KEY_LEN];
    for (;;) {
        MDB_val k = { EVENT_KEY_LEN, kb }, v = { m->len, r->arena + m->off };
        event_key(kb, want >> 8, (uint32_t)(want & EVENT_KEY_SEQ_MAX));
        int rc = mdb_put(txn, st->dbi[DB_EVENTS], &k, &v, flags);
        if (rc == MDB_KEYEXIST && flags == MDB_APPEND)
            flags = MDB_NOOVERWRITE;        /* a new key before 1978 */
        else if (rc == MDB_KEYEXIST)
            want--;
        else if (rc != 0)
            return rc;
        else
            break;
    }
    m->new_key = want;
    if (want > *last)
        *last = want;
    return 0;
}

/* Settles the shipping log entries naming old keys up to M's (or all that
 * are left when M is NULL): M's own get its new key, the others, whose
 * events are gone, are dropped. */
static int settle_refs_to(struct store *st, MDB_txn *txn, struct rekey *r,
                          const struct moved *m)
{
    uint8_t nk[EVENT_KEY_LEN];
    if (m != NULL)
        event_key(nk, m->new_key >> 8,
                  (uint32_t)(m->new_key & EVENT_KEY_SEQ_MAX));
    while (r->ref_at < r->nrefs) {
        const struct ship_ref *ref = &r->refs[r->ref_at];
        int c = m ? memcmp(ref->key, m->old, EVENT_KEY_V6_LEN) : -1;
        if (c > 0)
            return 0;
        int rc = ref_settle(st, txn, ref, c == 0 ? nk : NULL);
        if (rc != 0)
            return rc;
        r->ref_at++;
    }
    return 0;
}

/* The fill position P (meta SHIP_FILL_KEY, "resume after P") as an old
 * key into BUF, or NULL when there is none to move. */
static const uint8_t *fill_position(struct store *st, MDB_txn *txn,
                                    uint8_t buf[EVENT_KEY_V6_LEN])
{
    MDB_val fk = { sizeof SHIP_FILL_KEY - 1, SHIP_FILL_KEY }, v;
    if (mdb_get(txn, st->dbi[DB_META], &fk, &v) != 0 ||
        v.mv_size != EVENT_KEY_V6_LEN)
        return NULL;
    memcpy(buf, v.mv_data, EVENT_KEY_V6_LEN);
    return buf;
}

/* Moves the fill position to the new key AT (time_us << 8 | seq) of the
 * last event at or before it, once no old key at or before it is left
 * (0: none was: the fill starts from the first). */
static int settle_fill(struct store *st, MDB_txn *txn, uint64_t at)
{
    MDB_val fk = { sizeof SHIP_FILL_KEY - 1, SHIP_FILL_KEY };
    uint8_t kb[EVENT_KEY_LEN];
    MDB_val nv = { 0, "" };
    if (at != 0)
        nv = (MDB_val){ event_key(kb, at >> 8,
                                  (uint32_t)(at & EVENT_KEY_SEQ_MAX)), kb };
    return mdb_put(txn, st->dbi[DB_META], &fk, &nv, 0);
}

/* One bounded step: moves the next REKEY_BATCH events to new keys, with
 * the shipping log entries and fill position that name them; ends the
 * migration (meta REKEY_META) when none is left. */
static int rekey_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct rekey *r = ctx;
    MDB_val mk = { sizeof REKEY_META - 1, REKEY_META }, mv;
    int rc = mdb_get(txn, st->dbi[DB_META], &mk, &mv);
    r->done = rc == MDB_NOTFOUND;
    if (rc != 0)
        return r->done ? 0 : rc;
    if (r->batch == NULL &&
        (r->batch = malloc(REKEY_BATCH * sizeof *r->batch)) == NULL)
        return ENOMEM;
    if (!r->refs_loaded && (rc = load_refs(st, txn, r)) != 0)
        return rc;
    r->ref_at_begin = r->ref_at;
    r->moved_begin = r->moved;
    uint64_t last, fill_last;
    if ((rc = last_new_key(st, txn, &last)) != 0)
        return rc;
    fill_last = last;              /* every key moved so far is <= P */
    long n = read_batch(st, txn, r, &rc);
    if (n < 0)
        return rc;
    uint8_t pbuf[EVENT_KEY_V6_LEN];
    const uint8_t *fill = fill_position(st, txn, pbuf);
    for (long i = 0; i < n; i++) {
        struct moved *m = &r->batch[i];
        MDB_val ok = { EVENT_KEY_V6_LEN, m->old };
        if ((rc = mdb_del(txn, st->dbi[DB_EVENTS], &ok, NULL)) != 0 ||
            (rc = put_moved(st, txn, r, m, &last)) != 0 ||
            (rc = settle_refs_to(st, txn, r, m)) != 0)
            return rc;
        if (fill && memcmp(m->old, fill, EVENT_KEY_V6_LEN) <= 0) {
            fill_last = m->new_key;
        } else if (fill) {
            if ((rc = settle_fill(st, txn, fill_last)) != 0)
                return rc;
            fill = NULL;
        }
    }
    r->moved += (size_t)n;
    if (n == REKEY_BATCH)
        return 0;
    /* every old key moved: what still names one names an event gone */
    if ((rc = settle_refs_to(st, txn, r, NULL)) != 0 ||
        (fill && (rc = settle_fill(st, txn, fill_last)) != 0))
        return rc;
    r->done = true;
    return mdb_del(txn, st->dbi[DB_META], &mk, NULL);
}

/* A step not committed (the map grew): it is run again from the same
 * shipping log entry, and its events are not counted. */
static void rekey_undo(struct store *st, void *ctx)
{
    struct rekey *r = ctx;
    (void)st;
    r->ref_at = r->ref_at_begin;
    r->moved = r->moved_begin;
}

int store_rekey_events(struct store *st, size_t *moved)
{
    struct rekey r = { 0 };
    int rc = 0;
    while (rc == 0 && !r.done)
        rc = store_write_undo(st, rekey_txn, rekey_undo, &r);
    *moved = r.moved;
    free(r.batch);
    free(r.arena);
    free(r.refs);
    return rc;
}
