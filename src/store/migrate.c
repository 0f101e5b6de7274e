/* migrate.c — see migrate.h. */
#define _POSIX_C_SOURCE 200809L
#include "store/migrate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dwell/rollup.h"
#include "store/codec.h"
#include "store/dict.h"
#include "store/rollups.h"

/* Schema 1 kept the rows of unsettled days in "daily" and had no heads:
 * moves those rows to "recent" and writes every head from the cum rows. */
int store_migrate_v1(struct store *st, MDB_txn *txn)
{
    uint32_t final, settling;
    MDB_cursor *cur;
    int rc = store_settled_days(st, txn, &final, &settling);
    if (rc == 0)
        rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size == 17 &&
            key_day(k.mv_data) > final) {
            uint8_t kb[DAILY_KEY_LEN], buf[ROLLUP_RECORD_MAX];
            if (v.mv_size > sizeof buf) {
                rc = MDB_CORRUPTED;
                break;
            }
            memcpy(kb, k.mv_data, 17);
            memcpy(buf, v.mv_data, v.mv_size);
            MDB_val rk = { 17, kb }, rv = { v.mv_size, buf };
            if ((rc = mdb_cursor_del(cur, 0)) != 0 ||
                (rc = mdb_put(txn, st->dbi[DB_RECENT], &rk, &rv, 0)) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    /* heads: the last cum row of each (article, class), and the first
     * settled daily row's day */
    MDB_cursor *probe = NULL, *days = NULL;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_CUM], &cur)) != 0)
        return rc;
    struct rollup_day *sum = malloc(sizeof *sum);
    rc = sum ? mdb_cursor_open(txn, st->dbi[DB_CUM], &probe) : ENOMEM;
    if (rc == 0)
        rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &days);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size == 17) {
        uint32_t site = key_site(k.mv_data);
        uint64_t a = key_article(k.mv_data);
        for (int cls = 0; cls <= 1 && rc == 0; cls++) {
            uint32_t first = 0, last;
            memset(sum, 0, sizeof *sum);
            rc = cum_merge_at(probe, site, a, cls, UINT32_MAX - 1, sum, 1,
                              &last);
            if (rc == 0 && last != UINT32_MAX &&
                (rc = cum_first_day(days, site, a, cls, &first)) == 0)
                rc = head_put(st, txn, site, a, cls, first, last, sum);
        }
        uint8_t kb[DAILY_KEY_LEN];
        if (!article_next(&site, &a))
            break;
        k = (MDB_val){ daily_key(kb, site, a, 0, 0), kb };
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    if (probe)
        mdb_cursor_close(probe);
    if (days)
        mdb_cursor_close(days);
    free(sum);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Schema 5 kept the cum rows in "cum"; schema 6 keeps them in "daily"
 * (see CUM_CLASS). Rather than move them, drops them and the heads made
 * from them, and marks every article and class with settled daily rows
 * dirty from its first day: the settling passes rebuild them in the new
 * place (bounded write transactions, when the writer is idle), and
 * reports meanwhile sum the daily rows of a dirty article. */
int store_migrate_v5(struct store *st, MDB_txn *txn)
{
    MDB_cursor *cur;
    int rc = mdb_drop(txn, st->dbi[DB_CUM], 0);
    if (rc == 0)
        rc = mdb_drop(txn, st->dbi[DB_HEADS], 0);
    if (rc == 0)
        rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &cur);
    if (rc != 0)
        return rc;
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, 0, 0, 0, 0), kb }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == DAILY_KEY_LEN) {
        uint32_t site = key_site(k.mv_data);
        uint64_t a = key_article(k.mv_data);
        for (int cls = 0; cls <= 1 && rc == 0 && a != 0; cls++)
            rc = store_mark_dirty(st, txn, site, a, cls, 0);
        if (rc != 0 || !article_next(&site, &a))
            break;
        k = (MDB_val){ daily_key(kb, site, a, 0, 0), kb };
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || (rc == 0 && k.mv_size != DAILY_KEY_LEN)
           ? 0 : rc;
}

#define RECODE_BATCH 20000   /* records rewritten per write transaction */

int store_migrate_v2(struct store *st, MDB_txn *txn)
{
    MDB_val k = { sizeof RECODE_META - 1, RECODE_META }, v = { 0, "" };
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

int store_migrate_v4(struct store *st, MDB_txn *txn)
{
    return store_migrate_v2(st, txn);
}

/* One bounded pass of the rewrite; DONE is set when none is left. */
struct recode {
    bool done;
    size_t rewritten;
};

/* Positions CUR at the first events record after the key AFTER (N bytes;
 * 0: from the first). */
static int recode_seek(MDB_cursor *cur, const void *after, size_t n,
                       MDB_val *k, MDB_val *v)
{
    if (n == 0 || n > EVENT_KEY_V6_LEN)
        return mdb_cursor_get(cur, k, v, MDB_FIRST);
    uint8_t kb[EVENT_KEY_V6_LEN];
    memcpy(kb, after, n);
    *k = (MDB_val){ n, kb };
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == 0 && k->mv_size == n && memcmp(k->mv_data, kb, n) == 0)
        rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
    return rc;
}

/* Rewrites up to RECODE_BATCH older event records in TXN from where the
 * meta "recode" key says, and moves that key on (deletes it at the end). */
static int recode_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct recode *r = ctx;
    MDB_val mk = { sizeof RECODE_META - 1, RECODE_META }, mv, k, v;
    MDB_cursor *cur;
    int rc = mdb_get(txn, st->dbi[DB_META], &mk, &mv);
    r->done = rc == MDB_NOTFOUND;
    if (rc != 0)
        return r->done ? 0 : rc;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_EVENTS], &cur)) != 0)
        return rc;
    rc = recode_seek(cur, mv.mv_data, mv.mv_size, &k, &v);
    uint8_t last[EVENT_KEY_V6_LEN], out[EVENT_RECORD_MAX];
    size_t n = 0, lastlen = 0;
    for (; rc == 0 && n < RECODE_BATCH; n++) {
        if (k.mv_size == EVENT_KEY_LEN || k.mv_size == EVENT_KEY_V6_LEN) {
            memcpy(last, k.mv_data, k.mv_size);     /* either layout */
            lastlen = k.mv_size;
        }
        struct event ev;
        if (!event_record_current(v.mv_data, v.mv_size) &&
            event_decode(v.mv_data, v.mv_size, &ev) == 0) {
            if ((rc = dict_intern_event(st, txn, &ev)) != 0)
                break;
            /* the key is copied: LMDB moves the page's nodes as it puts */
            int len = event_encode(&ev, out, sizeof out);
            MDB_val nk = { lastlen, last }, nv = { (size_t)len, out };
            if (len < 0 || lastlen == 0 ||
                (rc = mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT)) != 0)
                break;
            r->rewritten++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return mdb_del(txn, st->dbi[DB_META], &mk, NULL);
    if (rc != 0)
        return rc;
    mv = (MDB_val){ lastlen, last };
    return mdb_put(txn, st->dbi[DB_META], &mk, &mv, 0);
}

int store_recode_events(struct store *st, size_t *rewritten)
{
    struct recode r = { false, 0 };
    int rc = 0;
    while (rc == 0 && !r.done)
        rc = store_write(st, recode_txn, &r);
    *rewritten = r.rewritten;
    return rc;
}

#define THIN_BATCH 50000     /* cum rows looked at per write transaction */

int store_migrate_v3(struct store *st, MDB_txn *txn)
{
    MDB_val k = { sizeof THIN_META - 1, THIN_META }, v = { 0, "" };
    MDB_val dk = { sizeof DIMROWS_META - 1, DIMROWS_META };
    int rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
    return rc ? rc : mdb_put(txn, st->dbi[DB_META], &dk, &v, 0);
}

/* One bounded pass of the thinning; DONE is set when none is left. */
struct thin {
    bool done;
    size_t dropped, before;    /* BEFORE: DROPPED when the pass began */
    uint32_t *days;            /* the days of one article to delete */
    uint8_t *cls;
    size_t n, cap;
};

/* Notes the cum row of (DAY, CLS) for deletion. */
static bool thin_note(struct thin *t, uint32_t day, int cls)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        uint32_t *d = realloc(t->days, cap * sizeof *d);
        if (d != NULL)
            t->days = d;
        uint8_t *c = d ? realloc(t->cls, cap) : NULL;
        if (c == NULL)
            return false;
        t->cls = c;
        t->cap = cap;
    }
    t->days[t->n] = day;
    t->cls[t->n++] = (uint8_t)cls;
    return true;
}

/* Thins the cum rows of (SITE, A), CUR on its first; leaves CUR on the
 * next article's first row. Counts the rows looked at in *SEEN. */
static int thin_article(struct store *st, MDB_txn *txn, MDB_cursor *cur,
                        uint32_t site, uint64_t a, struct thin *t,
                        size_t *seen)
{
    MDB_val k, v;
    uint32_t prev[2] = { UINT32_MAX, UINT32_MAX };
    int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
    t->n = 0;
    while (rc == 0 && same_article(&k, site, a)) {
        int cls = key_class(k.mv_data);
        uint32_t day = key_day(k.mv_data);
        (*seen)++;
        if (cls <= 1 && prev[cls] != UINT32_MAX &&
            prev[cls] / CUM_STRIDE == day / CUM_STRIDE &&
            !thin_note(t, prev[cls], cls))
            return ENOMEM;
        if (cls <= 1)
            prev[cls] = day;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    for (size_t i = 0; i < t->n; i++) {
        uint8_t kb[DAILY_KEY_LEN];
        MDB_val dk = { daily_key(kb, site, a, t->days[i], t->cls[i]), kb };
        int d = mdb_del(txn, st->dbi[DB_CUM], &dk, NULL);
        if (d != 0)
            return d;
    }
    t->dropped += t->n;
    return rc;
}

/* Thins the articles from where meta "thin" says until THIN_BATCH rows
 * were looked at, and moves that key on (deletes it at the end). */
static int thin_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct thin *t = ctx;
    MDB_val mk = { sizeof THIN_META - 1, THIN_META }, mv, k, v;
    MDB_cursor *cur;
    int rc = mdb_get(txn, st->dbi[DB_META], &mk, &mv);
    t->done = rc == MDB_NOTFOUND;
    t->before = t->dropped;
    if (rc != 0)
        return t->done ? 0 : rc;
    uint32_t site = 0;
    uint64_t a = 0;
    if (mv.mv_size == THIN_AT_LEN) {
        site = key_site(mv.mv_data);
        a = key_article(mv.mv_data);
    }
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_CUM], &cur)) != 0)
        return rc;
    size_t seen = 0;
    bool end = false;
    while (rc == 0 && seen < THIN_BATCH && !end) {
        uint8_t kb[DAILY_KEY_LEN];
        k = (MDB_val){ daily_key(kb, site, a, 0, 0), kb };
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size != DAILY_KEY_LEN)
            rc = MDB_CORRUPTED;
        if (rc != 0)
            break;
        site = key_site(k.mv_data);
        a = key_article(k.mv_data);
        rc = thin_article(st, txn, cur, site, a, t, &seen);
        end = !article_next(&site, &a);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND || (rc == 0 && end))
        return mdb_del(txn, st->dbi[DB_META], &mk, NULL);
    if (rc != 0)
        return rc;
    uint8_t at[THIN_AT_LEN];
    site_id_key(at, site, a);
    mv = (MDB_val){ sizeof at, at };
    return mdb_put(txn, st->dbi[DB_META], &mk, &mv, 0);
}

/* Puts back the count of a pass that was not committed. */
static void thin_undo(struct store *st, void *ctx)
{
    struct thin *t = ctx;
    (void)st;
    t->dropped = t->before;
}

int store_thin_cum(struct store *st, size_t *dropped)
{
    struct thin t = { 0 };
    int rc = 0;
    while (rc == 0 && !t.done)
        rc = store_write_undo(st, thin_txn, thin_undo, &t);
    free(t.days);
    free(t.cls);
    *dropped = t.dropped;
    return rc;
}

#define DIMROWS_BATCH 50000  /* daily_dim rows looked at per transaction */

/* One bounded pass of the gathering; DONE is set when none is left. */
struct gather {
    bool done;
    size_t gathered, before;   /* BEFORE: GATHERED when the pass began */
};

/* Moves the daily key P to the next one; false after the last. */
static bool daily_key_next(uint8_t p[DAILY_KEY_LEN])
{
    for (int i = DAILY_KEY_LEN - 1; i >= 0; i--)
        if (++p[i] != 0)
            return true;
    return false;
}

/* Gathers the breakdowns of day and class P (a daily key), CUR on the
 * first row at or after P; counts the rows looked at in *SEEN. */
static int gather_group(struct store *st, MDB_txn *txn, MDB_cursor *cur,
                        const uint8_t p[DAILY_KEY_LEN], struct gather *g,
                        size_t *seen)
{
    uint8_t row[DIM_ROW_CAP], out[DIM_ROW_CAP];
    size_t n = 0, m;
    bool changed = false;
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
    while (rc == 0 && k.mv_size >= DAILY_KEY_LEN &&
           memcmp(k.mv_data, p, DAILY_KEY_LEN) == 0) {
        const uint8_t *kp = k.mv_data;
        uint32_t count;
        (*seen)++;
        if (k.mv_size == DAILY_KEY_LEN) {
            if (v.mv_size > sizeof row || !dim_row_ok(&v))
                return MDB_CORRUPTED;
            memcpy(row, v.mv_data, v.mv_size);
            n = v.mv_size;
        } else if (k.mv_size >= DIM_KEY_LEN && u32_read(&v, &count) &&
                   dim_row_add(row, n, key_dim(kp),
                               (const char *)kp + DIM_KEY_LEN,
                               k.mv_size - DIM_KEY_LEN, count, out,
                               &m) == 1) {
            memcpy(row, out, m);
            n = m;
            changed = true;
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                return rc;
            g->gathered++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (!changed)
        return 0;
    uint8_t kb[DAILY_KEY_LEN];
    memcpy(kb, p, sizeof kb);
    MDB_val rk = { sizeof kb, kb }, rv = { n, row };
    return mdb_put(txn, st->dbi[DB_DIM], &rk, &rv, 0);
}

/* Gathers the breakdowns from where meta "dimrows" says until
 * DIMROWS_BATCH rows were looked at, and moves that key on (deletes it at
 * the end). */
static int gather_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct gather *g = ctx;
    MDB_val mk = { sizeof DIMROWS_META - 1, DIMROWS_META }, mv, k, v;
    MDB_cursor *cur;
    int rc = mdb_get(txn, st->dbi[DB_META], &mk, &mv);
    g->done = rc == MDB_NOTFOUND;
    g->before = g->gathered;
    if (rc != 0)
        return g->done ? 0 : rc;
    uint8_t at[DAILY_KEY_LEN] = { 0 };
    if (mv.mv_size == DAILY_KEY_LEN)
        memcpy(at, mv.mv_data, sizeof at);
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_DIM], &cur)) != 0)
        return rc;
    size_t seen = 0;
    bool end = false;
    while (rc == 0 && seen < DIMROWS_BATCH && !end) {
        k = (MDB_val){ sizeof at, at };
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size < DAILY_KEY_LEN)
            rc = MDB_CORRUPTED;
        if (rc != 0)
            break;
        memcpy(at, k.mv_data, sizeof at);
        rc = gather_group(st, txn, cur, at, g, &seen);
        end = !daily_key_next(at);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND || (rc == 0 && end))
        return mdb_del(txn, st->dbi[DB_META], &mk, NULL);
    if (rc != 0)
        return rc;
    mv = (MDB_val){ sizeof at, at };
    return mdb_put(txn, st->dbi[DB_META], &mk, &mv, 0);
}

/* Puts back the count of a pass that was not committed. */
static void gather_undo(struct store *st, void *ctx)
{
    struct gather *g = ctx;
    (void)st;
    g->gathered = g->before;
}

int store_gather_dims(struct store *st, size_t *gathered)
{
    struct gather g = { 0 };
    int rc = 0;
    while (rc == 0 && !g.done)
        rc = store_write_undo(st, gather_txn, gather_undo, &g);
    *gathered = g.gathered;
    return rc;
}
