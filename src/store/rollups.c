/* rollups.c — see rollups.h: the rollups as reports read them: article
 * records, breakdowns, daily rows (recent and settled), cumulative rows
 * and heads; settling passes. */
#define _POSIX_C_SOURCE 200809L
#include "store/rollups.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dwell/log.h"
#include "dwell/rollup.h"
#include "store/codec.h"

struct rollup_reader;
static void reader_close(struct store *st, struct rollup_reader *r);
static int rollups_summed(struct store *st, uint32_t site_id, uint64_t article,
                          uint32_t from, uint32_t to, bool bots,
                          store_rollup_fn fn, void *ctx);

/* --- reading rollups ----------------------------------------------------- */

int store_articles_each(struct store *st, uint32_t site_id,
                        int (*fn)(void *ctx, const struct store_article *a),
                        void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_read_cursor(st, DB_ARTICLES, &txn, &cur) != 0)
        return -1;
    uint8_t kb[SITE_ID_KEY_LEN];
    site_id_key(kb, site_id, 0);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 12 && key_site(k.mv_data) == site_id) {
        struct store_article a;
        if (store_article_unpack(&k, &v, &a) == 0 && fn(ctx, &a) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int store_article_get(struct store *st, uint32_t site_id, uint64_t id,
                      struct store_article *out)
{
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    uint8_t kb[SITE_ID_KEY_LEN];
    site_id_key(kb, site_id, id);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_ARTICLES], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : store_article_unpack(&k, &v, out);
    store_read_end(st, txn);
    return out_rc;
}

/* Calls FN with the entries of dimension DIM of the breakdown row V.
 * Returns FN's non-zero answer, 0, or -1 when the row is malformed. */
static int dim_row_each(const MDB_val *v, int dim,
                        int (*fn)(void *ctx, const char *value, size_t len,
                                  uint64_t count),
                        void *ctx)
{
    struct dim_entry e;
    size_t off = 0;
    int rc, stop = 0;
    while (!stop && (rc = dim_row_next(v->mv_data, v->mv_size, &off, &e)) == 1)
        if (e.dim == dim)
            stop = fn(ctx, e.value, e.len, e.count);
    return stop ? stop : rc;
}

/* Walks the breakdowns of ARTICLE of one site from its FROM day to its TO
 * day: breakdown rows and the values with rows of their own. */
int store_dims_each(struct store *st, uint32_t site_id, uint64_t article,
                    enum store_dim dim, uint32_t from, uint32_t to,
                    bool include_bots,
                    int (*fn)(void *ctx, const char *value, size_t len,
                              uint64_t count),
                    void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (from > to)
        return 0;
    if (store_read_cursor(st, DB_DIM, &txn, &cur) != 0)
        return -1;
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, site_id, article, from, 0), kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    uint32_t count;
    while (rc == 0 && k.mv_size >= DAILY_KEY_LEN) {
        const char *p = k.mv_data;
        if (key_site(p) != site_id || key_article(p) != article ||
            key_day(p) > to)
            break;
        if (key_class(p) != 0 && !include_bots) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        if (k.mv_size == DAILY_KEY_LEN) {
            int stop = dim_row_each(&v, (int)dim, fn, ctx);
            if (stop < 0)
                log_warn("store: damaged breakdown row skipped");
            else if (stop > 0)
                break;
        } else if (key_dim(p) == (int)dim && u32_read(&v, &count) &&
                   fn(ctx, p + DIM_KEY_LEN, k.mv_size - DIM_KEY_LEN,
                      count) != 0) {
            break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* Adds ADD to breakdown DIM = VALUE (LEN bytes) of (SITE, ARTICLE, DAY,
 * CLS): in its breakdown row, or in its own row (see codec.h). */
int store_dim_add(struct store *st, MDB_txn *txn, uint32_t site,
                  uint64_t article, uint32_t day, int cls, int dim,
                  const char *value, size_t len, uint32_t add)
{
    uint8_t kb[DIM_KEY_LEN + DIM_VALUE_MAX], out[DIM_ROW_CAP];
    MDB_val k = { daily_key(kb, site, article, day, cls), kb }, v;
    size_t n;
    int rc = mdb_get(txn, st->dbi[DB_DIM], &k, &v);
    if (rc == MDB_NOTFOUND)
        v = (MDB_val){ 0, NULL };
    else if (rc != 0)
        return rc;
    int in_row = dim_row_add(v.mv_data, v.mv_size, dim, value, len, add,
                             out, &n);
    if (in_row < 0) {                  /* not a row: start again */
        log_warn("store: damaged breakdown row replaced");
        in_row = dim_row_add(NULL, 0, dim, value, len, add, out, &n);
    }
    if (in_row == 1) {
        v = (MDB_val){ n, out };
        return mdb_put(txn, st->dbi[DB_DIM], &k, &v, 0);
    }
    k.mv_size = dim_key(kb, site, article, day, cls, dim, value, len);
    uint32_t count = 0;
    rc = mdb_get(txn, st->dbi[DB_DIM], &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (rc == 0 && !u32_read(&v, &count))
        count = 0;                     /* not a count: start again */
    u32_pack(out, count + add < count ? UINT32_MAX : count + add);
    v = (MDB_val){ U32_REC_LEN, out };
    return mdb_put(txn, st->dbi[DB_DIM], &k, &v, 0);
}

/* --- settled and recent rows, cumulative rollups ----------------------------
 * A day is final FINAL_AFTER_DAYS after it (no engage can move its buckets
 * any more) and settled once a settling pass has run over it; meta "final"
 * is the last settled day. The daily rows of days not yet settled live in
 * "recent", a small database the writer updates with every event. A
 * settling pass first moves them to "daily" (phase 0), then extends, per
 * article and class, the running sum of the daily rows (cum rows, in
 * "daily" beside them: CUM_CLASS) over the newly settled days (phase 1).
 * A cum row is kept on the last day with a daily row of each stride of
 * CUM_STRIDE days (rollups.h; schema 3 kept one on every day). The sum
 * through a settled day is then the nearer of the cum rows around it, with the (at most CUM_STRIDE - 1) daily rows
 * between added or taken away; the sum over a range is that of its end
 * minus that of the day before its start. "heads" keeps each article's
 * last cum row with the days of its first daily row and that row, read
 * in article order: a list with its previous period over a year of 10,000
 * articles looks up at most three cum rows per article (two when the
 * range reaches the last settled day) and the daily rows next to them,
 * none when it starts before the article's first day.
 * While a pass runs (meta "settling"), a row of a day it settles is in
 * either database, never in both. A write to a settled day (an import,
 * generated data, a late event) marks the article dirty; the writer
 * rebuilds its cum rows when it has nothing else to do, and readers fall
 * back to the daily rows for dirty articles meanwhile. */

/* Reads the day in meta value NAME into *DAY (0 when there is none).
 * Returns 0 or an LMDB error. */
static int meta_day(struct store *st, MDB_txn *txn, const char *name,
                    uint32_t *day)
{
    MDB_val k = { strlen(name), (void *)name }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    *day = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0 && !u32_read(&v, day))
        return MDB_CORRUPTED;
    return rc;
}

/* The last settled day (meta "final") and the day a running settling pass
 * settles to (meta "settling"; FINAL itself when none runs), as TXN sees
 * them. Rows of days after *SETTLING are only ever in "recent". Returns 0
 * or an LMDB error. */
int store_settled_days(struct store *st, MDB_txn *txn, uint32_t *final,
                       uint32_t *settling)
{
    int rc = meta_day(st, txn, "final", final);
    if (rc == 0)
        rc = meta_day(st, txn, "settling", settling);
    if (rc == 0 && *settling < *final)
        *settling = *final;
    return rc;
}

/* Notes that the cumulative rows of (SITE, ARTICLE, CLS) from DAY on no
 * longer hold: a final day changed (imports, generated data, late events). */
int store_mark_dirty(struct store *st, MDB_txn *txn, uint32_t site,
                     uint64_t article, int cls, uint32_t day)
{
    uint8_t kb[CLASS_KEY_LEN], vb[U32_REC_LEN];
    class_key(kb, site, article, cls);
    MDB_val k = { sizeof kb, kb }, v;
    uint32_t from;
    int rc = mdb_get(txn, st->dbi[DB_DIRTY], &k, &v);
    if (rc == 0 && u32_read(&v, &from) && from <= day)
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    u32_pack(vb, day);
    v.mv_size = sizeof vb;
    v.mv_data = vb;
    return mdb_put(txn, st->dbi[DB_DIRTY], &k, &v, 0);
}

/* Adds (SIGN 1) or subtracts (SIGN -1) to OUT the cum row of (SITE, A, CLS)
 * with the greatest day <= DAY, if any, and sets *AT (if not NULL) to its
 * day, or to UINT32_MAX when there is none. */
int cum_merge_at(MDB_cursor *cur, uint32_t site, uint64_t a, int kcls,
                        uint32_t day, struct rollup_day *out, int sign,
                        uint32_t *at)
{
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, site, a, day + 1, 0), kb }, v;
    if (at)
        *at = UINT32_MAX;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    while (rc == 0 && same_article(&k, site, a)) {
        const uint8_t *p = k.mv_data;
        if (key_class(p) == kcls && key_day(p) <= day) {
            if (at)
                *at = key_day(p);
            return rollup_decode_merge(v.mv_data, v.mv_size, out, sign) == 0
                   ? 0 : MDB_CORRUPTED;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* True when daily key P is a daily row a reading takes: class 0, or 1
 * when it takes bots too (not a cum row: see CUM_CLASS). */
static bool daily_class_read(const uint8_t *p, bool bots)
{
    int cls = key_class(p);
    return cls == 0 || (bots && cls == 1);
}

/* How far seek_ahead steps before it seeks from the root instead. */
#define SEEK_AHEAD_STEPS 8

/* Moves CUR to the first row whose key is >= *K, as MDB_SET_RANGE does, and
 * sets *K and *V to it. A report walks articles in key order, so the row
 * is often a few rows past where CUR stands: it is then reached by
 * stepping, which costs a fraction of a descent from the root. */
static int seek_ahead(MDB_cursor *cur, MDB_val *k, MDB_val *v)
{
    MDB_txn *txn = mdb_cursor_txn(cur);
    MDB_dbi dbi = mdb_cursor_dbi(cur);
    MDB_val ck, cv;
    int rc = mdb_cursor_get(cur, &ck, &cv, MDB_GET_CURRENT);
    if (rc == 0 && mdb_cmp(txn, dbi, &ck, k) <= 0) {
        for (int i = 0; rc == 0 && i < SEEK_AHEAD_STEPS; i++) {
            if (mdb_cmp(txn, dbi, &ck, k) >= 0) {
                *k = ck;
                *v = cv;
                return 0;
            }
            rc = mdb_cursor_get(cur, &ck, &cv, MDB_NEXT);
        }
        if (rc == MDB_NOTFOUND)
            return rc;               /* every row is below K */
    }
    return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
}

/* Adds to OUT the rows under CUR of (SITE, A) with FROM <= day <= TO, of
 * class 0 (and 1 when BOTS). */
static int cursor_merge(MDB_cursor *cur, uint32_t site, uint64_t a,
                        uint32_t from, uint32_t to, bool bots,
                        struct rollup_day *out)
{
    if (from > to)
        return 0;
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, site, a, from, 0), kb }, v;
    int rc = seek_ahead(cur, &k, &v);
    while (rc == 0 && same_article(&k, site, a)) {
        const uint8_t *p = k.mv_data;
        if (key_day(p) > to)
            break;
        if (daily_class_read(p, bots) &&
            rollup_decode_add(v.mv_data, v.mv_size, out) != 0)
            return MDB_CORRUPTED;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

#define MAX_SUM_RANGES STORE_MAX_RANGES

/* Reads the head of (SITE, A, CLS). Returns 0, MDB_NOTFOUND, or an error. */
static int head_get(MDB_cursor *cur, uint32_t site, uint64_t a, int cls,
                    struct head *h)
{
    uint8_t kb[CLASS_KEY_LEN];
    class_key(kb, site, a, cls);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = seek_ahead(cur, &k, &v);
    if (rc != 0)
        return rc;
    if (k.mv_size != sizeof kb || memcmp(k.mv_data, kb, sizeof kb) != 0)
        return MDB_NOTFOUND;
    return head_read(&v, h) ? 0 : MDB_CORRUPTED;
}

/* Writes the head of (SITE, A, CLS), or deletes it when the article has no
 * cum rows of that class (SUM NULL). */
int head_put(struct store *st, MDB_txn *txn, uint32_t site,
                    uint64_t a, int cls, uint32_t first, uint32_t last,
                    const struct rollup_day *sum)
{
    uint8_t kb[CLASS_KEY_LEN], buf[HEAD_REC_MAX];
    class_key(kb, site, a, cls);
    MDB_val k = { sizeof kb, kb };
    if (sum == NULL) {
        int rc = mdb_del(txn, st->dbi[DB_HEADS], &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    int len = head_pack(buf, first, last, sum);
    if (len < 0)
        return MDB_BAD_VALSIZE;
    MDB_val v = { (size_t)len, buf };
    return mdb_put(txn, st->dbi[DB_HEADS], &k, &v, 0);
}

/* The cursors and settled days of one reading of rollups: CUM is a second
 * cursor on "daily", for its cum rows. */
struct rollup_reader {
    MDB_txn *txn;
    MDB_cursor *daily, *recent, *cum, *heads;
    MDB_dbi dirty;
    bool any_dirty;
    uint32_t final, settling;
};

/* Opens a reading of rollups: a read transaction, the settled days,
 * whether any article is dirty, and cursors on the rows, cum rows and
 * heads. */
static int reader_open(struct store *st, struct rollup_reader *r)
{
    memset(r, 0, sizeof *r);
    r->dirty = st->dbi[DB_DIRTY];
    if (store_read_begin(st, &r->txn) != 0)
        return -1;
    MDB_stat ds;
    if (store_settled_days(st, r->txn, &r->final, &r->settling) != 0 ||
        mdb_stat(r->txn, r->dirty, &ds) != 0) {
        store_read_end(st, r->txn);
        return -1;
    }
    r->any_dirty = ds.ms_entries > 0;
    if (mdb_cursor_open(r->txn, st->dbi[DB_DAILY], &r->daily) == 0 &&
        mdb_cursor_open(r->txn, st->dbi[DB_RECENT], &r->recent) == 0 &&
        mdb_cursor_open(r->txn, st->dbi[DB_DAILY], &r->cum) == 0 &&
        mdb_cursor_open(r->txn, st->dbi[DB_HEADS], &r->heads) == 0)
        return 0;
    reader_close(st, r);
    return -1;
}

static void reader_close(struct store *st, struct rollup_reader *r)
{
    MDB_cursor *curs[4] = { r->heads, r->cum, r->recent, r->daily };
    for (int i = 0; i < 4; i++)
        if (curs[i])
            mdb_cursor_close(curs[i]);
    store_read_end(st, r->txn);
}

/* Adds to OUT the daily rows of (SITE, A) with FROM <= day <= TO, of class
 * 0 (and 1 when BOTS), from whichever database holds them. */
static int rows_merge(const struct rollup_reader *r, uint32_t site,
                      uint64_t a, uint32_t from, uint32_t to, bool bots,
                      struct rollup_day *out)
{
    uint32_t settled_to = to < r->settling ? to : r->settling;
    int rc = 0;
    if (from <= settled_to)
        rc = cursor_merge(r->daily, site, a, from, settled_to, bots, out);
    uint32_t recent_from = from > r->final ? from : r->final + 1;
    if (rc == 0 && recent_from <= to)
        rc = cursor_merge(r->recent, site, a, recent_from, to, bots, out);
    return rc;
}

/* The cum rows around one day of one article and class: the last at or
 * before it (PREV, on day AT_PREV) and the first after it, if settled
 * (NEXT, on day AT_NEXT); mv_data NULL where there is none. */
struct cum_seen {
    uint32_t day, at_prev, at_next;
    int cls;
    MDB_val prev, next;
};

/* The cum rows one article's sums have looked up, so that a boundary
 * shared by two ranges is looked up once. */
struct cum_memo {
    size_t n;
    struct cum_seen at[4 * MAX_SUM_RANGES];
};

/* Moves CUR (on K, or ended with RC) by OP to the first row of (SITE, A,
 * CLS) for which the day is <= DAY (OP MDB_PREV) or > DAY (MDB_NEXT), and
 * sets *REC and *AT to it (REC's mv_data NULL when there is none). Adds
 * the steps taken to *MOVES, or sets it to UINT_MAX when CUR ran off the
 * rows. */
static int cum_scan(MDB_cursor *cur, int rc, MDB_val *k, MDB_cursor_op op,
                    uint32_t site, uint64_t a, int cls, uint32_t day,
                    MDB_val *rec, uint32_t *at, unsigned *moves)
{
    MDB_val v;
    for (; rc == 0 && same_article(k, site, a); (*moves)++) {
        uint32_t d = key_day(k->mv_data);
        if (key_class(k->mv_data) == cls && (op == MDB_PREV ? d <= day
                                                            : d > day)) {
            if ((rc = mdb_cursor_get(cur, k, &v, MDB_GET_CURRENT)) != 0)
                break;
            *rec = v;
            *at = d;
            return 0;
        }
        rc = mdb_cursor_get(cur, k, &v, op);
    }
    if (rc != 0)
        *moves = UINT_MAX;                       /* off the rows */
    *rec = (MDB_val){ 0, NULL };
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Finds the cum rows of (SITE, A, CLS) around DAY into *OUT (see
 * cum_seen; the next one only when DAY has none), remembering them in M. */
static int cum_find(const struct rollup_reader *r, uint32_t site, uint64_t a,
                    int cls, uint32_t day, struct cum_memo *m,
                    struct cum_seen *out)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->at[i].day == day && m->at[i].cls == cls) {
            *out = m->at[i];
            return 0;
        }
    uint8_t kb[DAILY_KEY_LEN];
    int kcls = CUM_CLASS(cls);
    MDB_val k = { daily_key(kb, site, a, day, kcls), kb }, v;
    *out = (struct cum_seen){ .day = day, .cls = cls };
    int rc = mdb_cursor_get(r->cum, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == 17 && memcmp(k.mv_data, kb, 17) == 0) {
        out->prev = v;                            /* a row on DAY itself */
        out->at_prev = day;
    } else {
        unsigned moves = 0;
        bool placed = rc == 0;
        rc = cum_scan(r->cum, rc, &k, MDB_NEXT, site, a, kcls, day,
                      &out->next, &out->at_next, &moves);
        if (rc == 0 && out->next.mv_data && out->at_next > r->final)
            out->next = (MDB_val){ 0, NULL };     /* a pass under way */
        /* Back to the row before the one found first: by stepping when
         * the scan ended on a row, else by seeking again. */
        if (placed && rc == 0 && moves != UINT_MAX) {
            for (unsigned i = 0; rc == 0 && i <= moves; i++)
                rc = mdb_cursor_get(r->cum, &k, &v, MDB_PREV);
        } else {
            k = (MDB_val){ daily_key(kb, site, a, day, kcls), kb };
            if (rc == 0)
                rc = mdb_cursor_get(r->cum, &k, &v, MDB_SET_RANGE);
            rc = mdb_cursor_get(r->cum, &k, &v,
                                rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
        }
        moves = 0;
        rc = cum_scan(r->cum, rc, &k, MDB_PREV, site, a, kcls, day,
                      &out->prev, &out->at_prev, &moves);
    }
    if (rc != 0)
        return rc;
    if (m->n < sizeof m->at / sizeof m->at[0])
        m->at[m->n++] = *out;
    return 0;
}

/* Adds (SIGN 1) or subtracts (SIGN -1) to OUT the settled daily rows of
 * (SITE, A, CLS) with FROM <= day <= TO. */
static int daily_replay(const struct rollup_reader *r, uint32_t site,
                        uint64_t a, int cls, uint32_t from, uint32_t to,
                        struct rollup_day *out, int sign)
{
    if (from > to)
        return 0;
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, site, a, from, cls), kb }, v;
    int rc = mdb_cursor_get(r->daily, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && same_article(&k, site, a) && key_day(k.mv_data) <= to) {
        if (key_class(k.mv_data) == cls &&
            rollup_decode_merge(v.mv_data, v.mv_size, out, sign) != 0)
            return MDB_CORRUPTED;
        rc = mdb_cursor_get(r->daily, &k, &v, MDB_NEXT);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Merges into OUT with SIGN the rollup record REC when SIGN is PASS. */
static int merge_if(const MDB_val *rec, struct rollup_day *out, int sign,
                    int pass)
{
    if (sign != pass || rec->mv_data == NULL)
        return 0;
    return rollup_decode_merge(rec->mv_data, rec->mv_size, out, sign) == 0
           ? 0 : MDB_CORRUPTED;
}

/* Adds (SIGN 1) or subtracts (SIGN -1) to OUT the running sum of (SITE, A,
 * CLS) through settled DAY: from head H when DAY is at or after its last cum
 * row, nothing before its first, else one lookup (also without a head):
 * the nearer cum row, before DAY plus the daily rows between, or after DAY
 * minus the daily rows between. Only the parts whose sign is PASS: a
 * subtraction stops at 0, so a caller makes every addition (PASS 1) before
 * any subtraction (PASS -1). */
static int cum_at(const struct rollup_reader *r, uint32_t site, uint64_t a,
                  int cls, const struct head *h, uint32_t day,
                  struct cum_memo *m, struct rollup_day *out, int sign,
                  int pass)
{
    struct cum_seen s;
    int rc;
    if (h != NULL && day < h->first)
        return 0;
    if (h != NULL && day >= h->last) {
        MDB_val rec = { h->len, (void *)h->rec };
        return merge_if(&rec, out, sign, pass);
    }
    if ((rc = cum_find(r, site, a, cls, day, m, &s)) != 0)
        return rc;
    uint32_t from = s.prev.mv_data ? s.at_prev + 1 : h ? h->first : 0;
    bool ahead = s.next.mv_data != NULL &&
                 s.at_next - day < day + 1 - from;
    if ((rc = merge_if(ahead ? &s.next : &s.prev, out, sign, pass)) != 0)
        return rc;
    if (ahead && -sign == pass)
        return daily_replay(r, site, a, cls, day + 1, s.at_next, out, pass);
    if (!ahead && sign == pass)
        return daily_replay(r, site, a, cls, from, day, out, pass);
    return 0;
}

static bool rollup_empty(const struct rollup_day *d)
{
    return !d->views && !d->engaged_ms && !d->votes_up && !d->votes_down &&
           !d->searches && !d->links && !d->events && !d->visitors;
}

static int article_sums(const struct rollup_reader *r, uint32_t site,
                        uint64_t a, const struct store_range *ranges,
                        size_t nr, bool bots, struct rollup_day *out);

/* store_rollups_each without PER_DAY: one sum per article, from cum rows
 * where the range is settled. */
static int rollups_summed(struct store *st, uint32_t site_id, uint64_t article,
                          uint32_t from, uint32_t to, bool bots,
                          store_rollup_fn fn, void *ctx)
{
    struct rollup_reader r;
    struct store_range range = { from, to };
    MDB_cursor *arts = NULL;
    struct rollup_day *sum = malloc(sizeof *sum);
    if (sum == NULL || reader_open(st, &r) != 0) {
        free(sum);
        return -1;
    }
    int rc = 0;
    if (article != STORE_ALL_ARTICLES) {
        rc = article_sums(&r, site_id, article, &range, 1, bots, sum);
        if (rc == 0 && !rollup_empty(sum))
            fn(ctx, article, to, sum);
    } else if ((rc = mdb_cursor_open(r.txn, st->dbi[DB_ARTICLES],
                                     &arts)) == 0) {
        uint8_t kb[SITE_ID_KEY_LEN];
        site_id_key(kb, site_id, 0);
        MDB_val k = { sizeof kb, kb }, v;
        int c = mdb_cursor_get(arts, &k, &v, MDB_SET_RANGE);
        while (c == 0 && k.mv_size == 12 && key_site(k.mv_data) == site_id) {
            uint64_t a = key_article(k.mv_data);
            if ((rc = article_sums(&r, site_id, a, &range, 1, bots, sum)) != 0)
                break;
            if (!rollup_empty(sum) && fn(ctx, a, to, sum) != 0)
                break;
            c = mdb_cursor_get(arts, &k, &v, MDB_NEXT);
        }
        if (rc == 0 && c != 0 && c != MDB_NOTFOUND)
            rc = c;
        mdb_cursor_close(arts);
    }
    reader_close(st, &r);
    free(sum);
    return rc == 0 ? 0 : -1;
}

/* Whether article A's cum rows are stale within the settled days. */
static bool is_dirty(const struct rollup_reader *r, uint32_t site, uint64_t a,
                     bool bots)
{
    if (!r->any_dirty)
        return false;
    uint8_t kb[CLASS_KEY_LEN];
    uint32_t from;
    for (int cls = 0; cls <= (bots ? 1 : 0); cls++) {
        MDB_val k = { class_key(kb, site, a, cls), kb }, v;
        if (mdb_get(r->txn, r->dirty, &k, &v) == 0 && u32_read(&v, &from) &&
            from <= r->final)
            return true;
    }
    return false;
}

/* The sums of one article over several ranges (see store_rollup_sums). */
static int article_sums(const struct rollup_reader *r, uint32_t site,
                        uint64_t a, const struct store_range *ranges,
                        size_t nr, bool bots, struct rollup_day *out)
{
    int ncls = bots ? 2 : 1;
    bool cum = a != 0 && !is_dirty(r, site, a, bots);   /* the site row
                                                           has no cum rows */
    struct head heads[2];
    const struct head *h[2] = { NULL, NULL };
    struct cum_memo memo = { .n = 0 };
    for (int cls = 0; cum && cls < ncls; cls++) {
        int rc = head_get(r->heads, site, a, cls, &heads[cls]);
        if (rc == 0)
            h[cls] = &heads[cls];
        else if (rc != MDB_NOTFOUND)
            return rc;
    }
    for (size_t i = 0; i < nr; i++) {
        const struct store_range *g = &ranges[i];
        uint32_t open_from = g->from;
        int rc = 0;
        memset(&out[i], 0, sizeof out[i]);
        if (cum && g->from <= r->final) {
            uint32_t hi = g->to < r->final ? g->to : r->final;
            for (int pass = 1; pass >= -1 && rc == 0; pass -= 2)
                for (int cls = 0; cls < ncls && rc == 0; cls++) {
                    rc = cum_at(r, site, a, cls, h[cls], hi, &memo, &out[i],
                                1, pass);
                    if (rc == 0 && g->from > 0)
                        rc = cum_at(r, site, a, cls, h[cls], g->from - 1,
                                    &memo, &out[i], -1, pass);
                }
            open_from = hi + 1;
        }
        if (rc == 0)
            rc = rows_merge(r, site, a, open_from, g->to, bots, &out[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int store_rollup_sums_each(struct store *st, uint32_t site_id,
                           const uint64_t *ids, size_t n,
                           const struct store_range *ranges, size_t nr,
                           bool include_bots, store_sums_fn fn, void *ctx)
{
    struct rollup_day *sums = malloc(MAX_SUM_RANGES * sizeof *sums);
    struct rollup_reader r;
    if (nr == 0 || nr > MAX_SUM_RANGES || sums == NULL ||
        reader_open(st, &r) != 0) {
        free(sums);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = article_sums(&r, site_id, ids[i], ranges, nr, include_bots, sums);
        if (rc == 0 && fn(ctx, i, sums) != 0)
            break;
    }
    reader_close(st, &r);
    free(sums);
    return rc == 0 ? 0 : -1;
}

struct sums_copy {
    struct rollup_day *out;
    size_t nr;
};

/* Copies the sums of article I into the context's OUT. */
static int copy_sums(void *ctx, size_t i, const struct rollup_day *sums)
{
    struct sums_copy *c = ctx;
    memcpy(c->out + i * c->nr, sums, c->nr * sizeof *sums);
    return 0;
}

int store_rollup_sums(struct store *st, uint32_t site_id, const uint64_t *ids,
                      size_t n, const struct store_range *ranges, size_t nr,
                      bool include_bots, struct rollup_day *out)
{
    struct sums_copy c = { out, nr };
    return store_rollup_sums_each(st, site_id, ids, n, ranges, nr,
                                  include_bots, copy_sums, &c);
}

/* A walk over the daily rows of "daily" and "recent" together, in key
 * order (a key is in one of them only). */
struct rows_walk {
    MDB_cursor *cur[2];
    MDB_val k[2], v[2];
    int rc[2];
};

static void walk_seek(struct rows_walk *w, uint8_t *key, size_t len)
{
    for (int i = 0; i < 2; i++) {
        w->k[i] = (MDB_val){ len, key };
        w->rc[i] = mdb_cursor_get(w->cur[i], &w->k[i], &w->v[i],
                                  MDB_SET_RANGE);
    }
}

/* The side whose row comes first, or -1 when both are done. */
static int walk_side(const struct rows_walk *w)
{
    if (w->rc[0] != 0 || w->rc[1] != 0)
        return w->rc[0] == 0 ? 0 : w->rc[1] == 0 ? 1 : -1;
    size_t n = w->k[0].mv_size < w->k[1].mv_size ? w->k[0].mv_size
                                                 : w->k[1].mv_size;
    int c = memcmp(w->k[0].mv_data, w->k[1].mv_data, n);
    if (c == 0)
        c = w->k[0].mv_size < w->k[1].mv_size ? -1 : 1;
    return c < 0 ? 0 : 1;
}

static void walk_next(struct rows_walk *w, int side)
{
    w->rc[side] = mdb_cursor_get(w->cur[side], &w->k[side], &w->v[side],
                                 MDB_NEXT);
}

/* MDB_NOTFOUND when the walk simply ended, else its first error (or 0). */
static int walk_error(const struct rows_walk *w)
{
    for (int i = 0; i < 2; i++)
        if (w->rc[i] != 0 && w->rc[i] != MDB_NOTFOUND)
            return w->rc[i];
    return 0;
}

/* Calls FN with the rows of article A from FROM to TO summed per day.
 * Returns FN's non-zero answer, or 0. */
static int walk_days(struct rows_walk *w, uint32_t site, uint64_t a,
                     uint32_t to, bool bots, struct rollup_day *sum,
                     store_rollup_fn fn, void *ctx)
{
    uint32_t day = 0;
    bool have = false;
    int s;
    while ((s = walk_side(w)) >= 0 && same_article(&w->k[s], site, a)) {
        const uint8_t *p = w->k[s].mv_data;
        uint32_t d = key_day(p);
        if (d > to)
            break;
        if (have && d != day) {
            int stop = fn(ctx, a, day, sum);
            if (stop != 0)
                return stop;
            have = false;
        }
        if (daily_class_read(p, bots)) {
            if (!have)
                memset(sum, 0, sizeof *sum);
            if (rollup_decode_add(w->v[s].mv_data, w->v[s].mv_size, sum) != 0)
                log_warn("store: damaged rollup skipped");
            have = true;
            day = d;
        }
        walk_next(w, s);
    }
    return have ? fn(ctx, a, day, sum) : 0;
}

int store_rollups_each(struct store *st, uint32_t site_id, uint64_t article,
                       uint32_t from, uint32_t to, bool include_bots,
                       bool per_day, store_rollup_fn fn, void *ctx)
{
    if (from > to)
        return 0;
    if (!per_day)
        return rollups_summed(st, site_id, article, from, to, include_bots,
                              fn, ctx);
    struct rollup_reader r;
    struct rollup_day *sum = malloc(sizeof *sum);
    if (sum == NULL || reader_open(st, &r) != 0) {
        free(sum);
        return -1;
    }
    struct rows_walk w = { .cur = { r.daily, r.recent } };
    bool all = article == STORE_ALL_ARTICLES;
    uint64_t next = all ? 1 : article;
    uint8_t kb[DAILY_KEY_LEN];
    int s, stop = 0;
    while (!stop) {
        walk_seek(&w, kb, daily_key(kb, site_id, next, from, 0));
        if ((s = walk_side(&w)) < 0 || w.k[s].mv_size != DAILY_KEY_LEN ||
            key_site(w.k[s].mv_data) != site_id)
            break;
        uint64_t a = key_article(w.k[s].mv_data);
        if (a != next) {                 /* FROM of the next article */
            if (!all)
                break;
            next = a;
            continue;
        }
        stop = walk_days(&w, site_id, a, to, include_bots, sum, fn, ctx);
        if (!all || a == UINT64_MAX)
            break;
        next = a + 1;
    }
    int rc = walk_error(&w);
    reader_close(st, &r);
    free(sum);
    return rc == 0 ? 0 : -1;
}

/* The day of the first row of (SITE, A, CLS) under CUR into *DAY. */
int cum_first_day(MDB_cursor *cur, uint32_t site, uint64_t a, int cls,
                         uint32_t *day)
{
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, site, a, 0, 0), kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && same_article(&k, site, a)) {
        if (key_class(k.mv_data) == cls) {
            *day = key_day(k.mv_data);
            return 0;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    return rc == 0 ? MDB_NOTFOUND : rc;
}

/* Writes the cum row of (SITE, A, CLS) on DAY: SUM. */
static int cum_put(struct store *st, MDB_txn *txn, uint32_t site,
                   uint64_t a, int cls, uint32_t day,
                   const struct rollup_day *sum)
{
    uint8_t kb[DAILY_KEY_LEN], buf[ROLLUP_RECORD_MAX];
    int len = rollup_encode(sum, buf, sizeof buf);
    if (len < 0)
        return MDB_BAD_VALSIZE;
    MDB_val k = { daily_key(kb, site, a, day, CUM_CLASS(cls)), kb };
    MDB_val v = { (size_t)len, buf };
    return mdb_put(txn, st->dbi[DB_DAILY], &k, &v, 0);
}

/* Deletes the cum rows of (SITE, A, CLS) from day FROM on. */
static int cum_drop_from(MDB_cursor *cum, uint32_t site, uint64_t a, int cls,
                         uint32_t from)
{
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, site, a, from, 0), kb }, v;
    int rc = mdb_cursor_get(cum, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && same_article(&k, site, a)) {
        if (key_class(k.mv_data) == CUM_CLASS(cls) &&
            (rc = mdb_cursor_del(cum, 0)) != 0)
            return rc;
        rc = mdb_cursor_get(cum, &k, &v, MDB_NEXT);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Rewrites the cum rows of (SITE, A, CLS) for days FROM..THROUGH from the
 * daily rows (from the start of FROM's stride, see CUM_STRIDE), drops any
 * later ones, and rewrites the head. */
static int cum_rebuild(struct store *st, MDB_txn *txn, uint32_t site,
                       uint64_t a, int cls, uint32_t from, uint32_t through)
{
    MDB_cursor *cum, *daily;
    from -= from % CUM_STRIDE;
    int rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &cum);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &daily)) != 0) {
        mdb_cursor_close(cum);
        return rc;
    }
    struct rollup_day *base = calloc(1, sizeof *base);
    uint32_t first = 0, last = UINT32_MAX;
    rc = base == NULL ? ENOMEM : cum_drop_from(cum, site, a, cls, from);
    if (rc == 0 && from > 0)         /* the sum through the stride before */
        rc = cum_merge_at(cum, site, a, CUM_CLASS(cls), from - 1, base, 1,
                          &last);
    if (rc == 0 && last != UINT32_MAX)
        rc = cum_first_day(daily, site, a, cls, &first);
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, site, a, from, 0), kb }, v;
    if (rc == 0)
        rc = mdb_cursor_get(daily, &k, &v, MDB_SET_RANGE);
    bool pending = false;            /* a row of LAST's stride not yet put */
    while (rc == 0 && same_article(&k, site, a)) {
        const uint8_t *p = k.mv_data;
        uint32_t day = key_day(p);
        if (day > through)
            break;
        if (key_class(p) == cls) {
            /* The cum row goes into "daily" before this row: read the row
             * again, as the put may have moved it. */
            if (pending && day / CUM_STRIDE != last / CUM_STRIDE &&
                ((rc = cum_put(st, txn, site, a, cls, last, base)) != 0 ||
                 (rc = mdb_cursor_get(daily, &k, &v, MDB_GET_CURRENT)) != 0))
                break;
            if (rollup_decode_add(v.mv_data, v.mv_size, base) != 0) {
                rc = MDB_CORRUPTED;
                break;
            }
            if (last == UINT32_MAX)
                first = day;
            last = day;
            pending = true;
        }
        rc = mdb_cursor_get(daily, &k, &v, MDB_NEXT);
    }
    if ((rc == 0 || rc == MDB_NOTFOUND) && pending)
        rc = cum_put(st, txn, site, a, cls, last, base);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = head_put(st, txn, site, a, cls, first, last,
                      last == UINT32_MAX ? NULL : base);
    free(base);
    mdb_cursor_close(daily);
    mdb_cursor_close(cum);
    return rc;
}

/* Rebuilds dirty articles, at most *BUDGET of them. */
static int settle_dirty(struct store *st, MDB_txn *txn, uint32_t through,
                        unsigned *budget)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_DIRTY], &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    while (*budget > 0 &&
           (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        uint32_t site, from;
        uint64_t a;
        int cls;
        if (!class_key_read(&k, &site, &a, &cls) || !u32_read(&v, &from)) {
            rc = mdb_cursor_del(cur, 0);
        } else {
            uint8_t copy[CLASS_KEY_LEN];  /* K may move once cum grows */
            MDB_val dk = { class_key(copy, site, a, cls), copy };
            rc = cum_rebuild(st, txn, site, a, cls, from, through);
            if (rc == 0)
                rc = mdb_del(txn, st->dbi[DB_DIRTY], &dk, NULL);
        }
        if (rc != 0)
            break;
        (*budget)--;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Moves one recent row (key K, value V) to "daily", adding it to a daily
 * row of the same key should there be one. */
static int row_settle(struct store *st, MDB_txn *txn, const MDB_val *k,
                      const MDB_val *v)
{
    uint8_t kb[DAILY_KEY_LEN], buf[ROLLUP_RECORD_MAX];
    struct rollup_day d;
    if (k->mv_size != 17 || v->mv_size > sizeof buf)
        return MDB_CORRUPTED;
    memcpy(kb, k->mv_data, 17);   /* K and V may move once daily grows */
    memcpy(buf, v->mv_data, v->mv_size);
    MDB_val dk = { 17, kb }, dv = { v->mv_size, buf }, old;
    int rc = mdb_get(txn, st->dbi[DB_DAILY], &dk, &old);
    if (rc == 0) {
        if (rollup_decode(old.mv_data, old.mv_size, &d) != 0 ||
            rollup_decode_add(buf, dv.mv_size, &d) != 0)
            return MDB_CORRUPTED;
        int len = rollup_encode(&d, buf, sizeof buf);
        if (len < 0)
            return MDB_BAD_VALSIZE;
        dv.mv_size = (size_t)len;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    return mdb_put(txn, st->dbi[DB_DAILY], &dk, &dv, 0);
}

#define SETTLE_MOVES_PER_ARTICLE 16   /* recent rows moved per budget unit */

/* Phase 0 of a pass: moves the recent rows of days up to the pass's target
 * to "daily", resuming where the last call stopped, at most *BUDGET ×
 * SETTLE_MOVES_PER_ARTICLE of them. Sets *DONE when none are left. */
static int settle_move(struct store *st, MDB_txn *txn, unsigned *budget,
                       bool *done)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_RECENT], &cur);
    if (rc != 0)
        return rc;
    size_t moves = (size_t)*budget * SETTLE_MOVES_PER_ARTICLE;
    uint8_t kb[DAILY_KEY_LEN];
    MDB_val k = { daily_key(kb, st->settle_site, st->settle_article, 0, 0),
                  kb }, v;
    *done = false;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && moves > 0) {
        const uint8_t *p = k.mv_data;
        if (k.mv_size == 17 && key_day(p) <= st->settle_to) {
            uint32_t site = key_site(p), day = key_day(p);
            uint64_t a = key_article(p);
            int cls = key_class(p);
            rc = row_settle(st, txn, &k, &v);
            if (rc == 0 && a != 0 && day <= st->settle_from)
                rc = store_mark_dirty(st, txn, site, a, cls, day);
            if (rc == 0)
                rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            moves--;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == 0 && k.mv_size == 17) {         /* resume at this article */
        st->settle_site = key_site(k.mv_data);
        st->settle_article = key_article(k.mv_data);
    } else if (rc == MDB_NOTFOUND) {
        *done = true;
        rc = 0;
    }
    *budget = (unsigned)(moves / SETTLE_MOVES_PER_ARTICLE);
    mdb_cursor_close(cur);
    return rc;
}

/* Phase 1 of a pass: extends the cum rows of every article to the pass's
 * target, resuming where the last call stopped, at most *BUDGET articles.
 * Sets *DONE when all are. */
static int settle_days(struct store *st, MDB_txn *txn, unsigned *budget,
                       bool *done)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &cur);
    if (rc != 0)
        return rc;
    *done = false;
    while (*budget > 0) {
        uint8_t kb[DAILY_KEY_LEN];
        MDB_val k = { daily_key(kb, st->settle_site, st->settle_article, 0, 0),
                      kb }, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND) {
            *done = true;
            rc = 0;
            break;
        }
        if (rc == 0 && k.mv_size != 17)
            rc = MDB_CORRUPTED;
        if (rc != 0)
            break;
        uint32_t site = key_site(k.mv_data);
        uint64_t a = key_article(k.mv_data);
        if (a != 0) {
            for (int cls = 0; cls <= 1 && rc == 0; cls++)
                rc = cum_rebuild(st, txn, site, a, cls, st->settle_from + 1,
                                 st->settle_to);
            if (rc != 0)
                break;
            (*budget)--;
        }
        if (!article_next(&site, &a)) {  /* the last key there can be */
            *done = true;
            break;
        }
        st->settle_site = site;
        st->settle_article = a;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Starts, resumes or finishes the settling pass to TARGET in TXN (FINAL
 * and SETTLING as TXN sees them), within *BUDGET. Sets *FINISHED when the
 * pass is complete (TARGET is then the settled day). */
static int settle_pass(struct store *st, MDB_txn *txn, uint32_t final,
                       uint32_t settling, uint32_t target, unsigned *budget,
                       bool *finished)
{
    uint8_t vb[U32_REC_LEN];
    MDB_val sk = { 8, "settling" }, fk = { 5, "final" };
    MDB_val v = { sizeof vb, vb };
    int rc = 0;
    if (st->settle_from != final || st->settle_to != target) {
        st->settle_from = final;       /* a new pass, or another process
                                          moved this one on */
        st->settle_to = target;
        st->settle_phase = 0;
        st->settle_site = 0;
        st->settle_article = 0;
    }
    if (settling != target) {
        u32_pack(vb, target);
        if ((rc = mdb_put(txn, st->dbi[DB_META], &sk, &v, 0)) != 0)
            return rc;
    }
    bool done = false;
    *finished = false;
    if (st->settle_phase == 0) {
        rc = settle_move(st, txn, budget, &done);
        if (rc == 0 && done) {
            st->settle_phase = 1;
            st->settle_site = 0;
            st->settle_article = 0;
            done = false;
        }
    }
    if (rc == 0 && st->settle_phase == 1 && *budget > 0)
        rc = settle_days(st, txn, budget, &done);
    if (rc != 0 || !done)
        return rc;
    u32_pack(vb, target);
    if ((rc = mdb_put(txn, st->dbi[DB_META], &fk, &v, 0)) == 0)
        rc = mdb_del(txn, st->dbi[DB_META], &sk, NULL);
    *finished = rc == 0;
    return rc;
}

/* The day settling passes settle to today. */
static uint32_t settle_target(void)
{
    uint32_t today = day_of_us(store_now_us());
    return today > FINAL_AFTER_DAYS ? today - FINAL_AFTER_DAYS : 0;
}

/* A settling step for the one write path, and the pass's state to put
 * back when it is not committed (the same work is then done again). */
struct settle_write {
    unsigned budget;
    bool finished;                 /* out: nothing is left to settle */
    struct { uint32_t from, to, site; int phase; uint64_t article; } saved;
};

/* Dirty rebuilds and pass work worth the step's budget, in TXN. */
static int settle_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct settle_write *w = ctx;
    unsigned budget = w->budget;
    uint32_t final, settling, target = settle_target();
    w->saved.from = st->settle_from;
    w->saved.to = st->settle_to;
    w->saved.site = st->settle_site;
    w->saved.phase = st->settle_phase;
    w->saved.article = st->settle_article;
    w->finished = true;
    int rc = store_settled_days(st, txn, &final, &settling);
    if (rc != 0)
        return rc;
    if (target < settling)
        target = settling;               /* a pass someone else started */
    rc = settle_dirty(st, txn, target, &budget);
    if (rc == 0 && budget > 0 && final < target)
        rc = settle_pass(st, txn, final, settling, target, &budget,
                         &w->finished);
    else if (rc == 0 && budget == 0)
        w->finished = false;
    return rc;
}

static void settle_undo(struct store *st, void *ctx)
{
    struct settle_write *w = ctx;
    st->settle_from = w->saved.from;
    st->settle_to = w->saved.to;
    st->settle_site = w->saved.site;
    st->settle_phase = w->saved.phase;
    st->settle_article = w->saved.article;
}

/* One step of settling: dirty rebuilds and pass work worth BUDGET articles
 * in one write transaction. Returns 1 if more work remains, 0 if settled,
 * -1 on error. */
int store_settle_step(struct store *st, unsigned budget)
{
    struct settle_write w = { .budget = budget ? budget : 1 };
    int rc = store_write_undo(st, settle_txn, settle_undo, &w);
    if (rc != 0) {
        log_error("store: settling rollups: %s", mdb_strerror(rc));
        return -1;
    }
    return w.finished ? 0 : 1;
}

int store_settle(struct store *st)
{
    int rc;
    while ((rc = store_settle_step(st, SETTLE_CHUNK)) == 1)
        ;
    return rc;
}
