/* apply.c — see apply.h: what an event does to the store: the raw record,
 * the per-view state, the article record, the daily rollups and
 * breakdowns, visitor marks and the attribution indexes; and purging what
 * has expired. Runs on the writer thread (store_purge: any thread),
 * through the one write path. */
#define _POSIX_C_SOURCE 200809L
#include "store/apply.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "dwell/log.h"
#include "dwell/rollup.h"
#include "store/codec.h"
#include "store/dict.h"
#include "store/events.h"
#include "store/retention.h"
#include "store/rollups.h"
#include "store/ship.h"

static int record_visit(struct store *st, MDB_txn *txn,
                        const struct event *ev);

/* --- applying events ----------------------------------------------------- */

/* A batch's rollup rows, decoded once and written once when the batch ends
 * (row_cache_flush) instead of read, decoded, encoded and put again for
 * every event: the site-wide row is touched by every view, an article's by
 * each of its views. Rows past ROW_CACHE_ROWS in one batch flush the cache
 * and start it again, which writes the same values. */
#define ROW_CACHE_ROWS  256
#define ROW_CACHE_SLOTS 512         /* hash slots: a power of two */

struct row_cache_row {
    uint8_t key[DAILY_KEY_LEN];
    MDB_dbi db;                     /* where the row lives: recent or daily */
    bool mark;                      /* a settled day: mark it dirty */
    uint32_t site, day;
    uint64_t article;
    int cls;
    struct rollup_day d;
};

struct row_cache {
    size_t n;
    uint16_t slot[ROW_CACHE_SLOTS]; /* a row's index + 1; 0: empty */
    struct row_cache_row row[ROW_CACHE_ROWS];
};

/* Empties C (nothing is written). */
static void row_cache_reset(struct row_cache *c)
{
    if (c->n == 0)
        return;
    memset(c->slot, 0, sizeof c->slot);
    c->n = 0;
}

/* Writes every row of ST's cache in TXN and empties it. Returns 0 or an
 * LMDB error. */
static int row_cache_flush(struct store *st, MDB_txn *txn)
{
    struct row_cache *c = st->rows;
    if (c == NULL)
        return 0;
    uint8_t buf[ROLLUP_RECORD_MAX];
    int rc = 0;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        struct row_cache_row *r = &c->row[i];
        int len = rollup_encode(&r->d, buf, sizeof buf);
        if (len < 0) {
            rc = MDB_BAD_VALSIZE;
            break;
        }
        MDB_val k = { DAILY_KEY_LEN, r->key }, v = { (size_t)len, buf };
        rc = mdb_put(txn, r->db, &k, &v, 0);
        if (rc == 0 && r->mark)
            rc = store_mark_dirty(st, txn, r->site, r->article, r->cls,
                                  r->day);
    }
    row_cache_reset(c);
    return rc;
}

/* The hash slot where KEY is, or the empty one where it goes. */
static size_t row_cache_slot(const struct row_cache *c, const uint8_t *key)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < DAILY_KEY_LEN; i++)
        h = (h ^ key[i]) * 16777619u;
    size_t at = h & (ROW_CACHE_SLOTS - 1);
    while (c->slot[at] != 0 &&
           memcmp(c->row[c->slot[at] - 1].key, key, DAILY_KEY_LEN) != 0)
        at = (at + 1) & (ROW_CACHE_SLOTS - 1);
    return at;
}

/* Reads the daily rollup of (SITE, ARTICLE, DAY, CLS) into a new row of
 * ST's cache, wherever it lives: in "recent" until a settling pass moves
 * it to "daily". Returns 0 and sets *OUT, or an LMDB error. */
static int row_cache_load(struct store *st, MDB_txn *txn, uint32_t site,
                          uint64_t article, uint32_t day, int cls,
                          struct row_cache_row **out)
{
    if (st->rows == NULL && (st->rows = calloc(1, sizeof *st->rows)) == NULL)
        return ENOMEM;
    struct row_cache *c = st->rows;
    uint8_t kb[DAILY_KEY_LEN];
    daily_key(kb, site, article, day, cls);
    size_t at = row_cache_slot(c, kb);
    if (c->slot[at] != 0) {
        *out = &c->row[c->slot[at] - 1];
        return 0;
    }
    if (c->n == ROW_CACHE_ROWS) {
        int rc = row_cache_flush(st, txn);
        if (rc != 0)
            return rc;
        at = row_cache_slot(c, kb);
    }
    struct row_cache_row *r = &c->row[c->n];
    bool settled = day <= st->final_mark;
    memcpy(r->key, kb, sizeof kb);
    r->db = st->dbi[DB_RECENT];
    MDB_val k = { DAILY_KEY_LEN, r->key }, v;
    int rc = mdb_get(txn, r->db, &k, &v);
    if (rc == MDB_NOTFOUND && settled) {     /* moved, or a new row */
        r->db = st->dbi[DB_DAILY];
        rc = mdb_get(txn, r->db, &k, &v);
    }
    if (rc == MDB_NOTFOUND)
        memset(&r->d, 0, sizeof r->d);
    else if (rc != 0)
        return rc;
    else if (rollup_decode(v.mv_data, v.mv_size, &r->d) != 0)
        return MDB_CORRUPTED;
    r->mark = article != 0 && settled;
    r->site = site;
    r->article = article;
    r->day = day;
    r->cls = cls;
    c->slot[at] = (uint16_t)(++c->n);
    *out = r;
    return 0;
}

/* Applies FN to the daily rollup of (SITE, ARTICLE, DAY, CLS), in the
 * batch's cache: written when the batch ends (row_cache_flush). */
static int daily_update(struct store *st, MDB_txn *txn, uint32_t site,
                        uint64_t article, uint32_t day, int cls,
                        void (*fn)(struct rollup_day *d, const void *arg),
                        const void *arg)
{
    struct row_cache_row *r;
    int rc = row_cache_load(st, txn, site, article, day, cls, &r);
    if (rc != 0)
        return rc;
    fn(&r->d, arg);
    return 0;
}

/* Adds one to dimension DIM = VALUE of (SITE, ARTICLE, DAY, CLS). */
static int dim_bump(struct store *st, MDB_txn *txn, uint32_t site,
                    uint64_t article, uint32_t day, int cls, int dim,
                    const char *value, size_t len)
{
    return store_dim_add(st, txn, site, article, day, cls, dim, value, len,
                         1);
}

/* Records VISITOR as seen for (DAY, SITE, ARTICLE); sets *FIRST when it is
 * the visitor's first time there that day. */
static int seen_mark(struct store *st, MDB_txn *txn, uint32_t day,
                     uint32_t site, uint64_t article, uint64_t visitor,
                     bool *first)
{
    uint8_t kb[SEEN_KEY_LEN];
    MDB_val k = { seen_key(kb, day, site, article, visitor), kb };
    MDB_val v = { 0, NULL };
    int rc = mdb_put(txn, st->dbi[DB_SEEN], &k, &v, MDB_NOOVERWRITE);
    *first = rc == 0;
    return rc == MDB_KEYEXIST ? 0 : rc;
}

/* Creates or refreshes the article record of view EV on DAY. */
static int article_touch(struct store *st, MDB_txn *txn,
                         const struct event *ev, uint32_t day)
{
    uint8_t kb[SITE_ID_KEY_LEN], buf[ARTICLE_REC_MAX];
    site_id_key(kb, ev->site_id, ev->article);
    MDB_val k = { sizeof kb, kb }, v;
    uint32_t first = day;
    int rc = mdb_get(txn, st->dbi[DB_ARTICLES], &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    struct event_str title = ev->title, category = ev->category;
    uint32_t words = ev->words;
    uint8_t kind = ev->kind;          /* the last view's, as for the title */
    /* a pixel without pk cannot tell an article from an unmarked page */
    bool keep_kind = (ev->flags & EVENT_FLAG_PIXEL) &&
                     kind == EVENT_PAGE_ARTICLE;
    struct store_article old;         /* TITLE, CATEGORY may point here */
    if (rc == 0 && article_first_day(&v, &first)) {
        /* a view that omits them (the noscript pixel) keeps what is known */
        MDB_val key = { sizeof kb, kb };
        if ((!words || !title.n || !category.n || keep_kind) &&
            store_article_unpack(&key, &v, &old) == 0) {
            if (keep_kind)
                kind = old.kind;
            if (!words)
                words = old.words;
            if (!title.n)
                title = (struct event_str){ old.title,
                                            (uint16_t)strlen(old.title) };
            if (!category.n)
                category = (struct event_str){
                    old.category, (uint16_t)strlen(old.category) };
        }
    }
    struct article_rec a = { first, day, words, ev->path, title, category,
                             kind };
    size_t n = article_pack(&a, buf);
    if (rc == 0 && v.mv_size == n && memcmp(v.mv_data, buf, n) == 0)
        return 0;
    v.mv_size = n;
    v.mv_data = buf;
    return mdb_put(txn, st->dbi[DB_ARTICLES], &k, &v, 0);
}

struct view_delta {
    bool counters_only;    /* the site-wide row: no buckets */
    int new_view;          /* a view was added */
    int new_visitor;       /* …by a visitor new to this article today */
    int hist_from, hist_to;
    int scroll_from, scroll_to;
    int read;              /* the view just became a read */
    uint64_t engaged_add;
    int vote_up, vote_down;
    int searches, links, events;
};

static void apply_delta(struct rollup_day *d, const void *arg)
{
    const struct view_delta *x = arg;
    d->views += (uint32_t)x->new_view;
    d->visitors += (uint32_t)x->new_visitor;
    if (x->counters_only) {
        /* the site-wide row keeps counters; buckets live per article */
    } else if (x->new_view) {
        d->hist[x->hist_to]++;
        d->scroll[x->scroll_to]++;
    } else {
        if (x->hist_from >= 0)
            rollup_move(d->hist, x->hist_from, x->hist_to);
        if (x->scroll_from >= 0)
            rollup_move(d->scroll, x->scroll_from, x->scroll_to);
    }
    d->reads += (uint32_t)x->read;
    d->engaged_ms += x->engaged_add;
    d->votes_up = (uint32_t)((int64_t)d->votes_up + x->vote_up);
    d->votes_down = (uint32_t)((int64_t)d->votes_down + x->vote_down);
    d->searches += (uint32_t)x->searches;
    d->links += (uint32_t)x->links;
    d->events += (uint32_t)x->events;
}

static bool view_is_read(const struct view_rec *r)
{
    if (r->engaged_ms < ROLLUP_READ_MS)
        return false;
    return r->scroll >= 100 ||
           (r->scroll0 != EVENT_SCROLL_NONE && r->scroll > r->scroll0);
}

/* Credits the visitor's search of the last 30 minutes, if any, as a search
 * that led to the article of view EV. */
static int credit_search(struct store *st, MDB_txn *txn,
                         const struct event *ev, uint32_t day, int cls)
{
    uint8_t kb[SITE_ID_KEY_LEN];
    site_id_key(kb, ev->site_id, ev->visitor);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_SEARCHED], &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    uint64_t t;
    const char *query;
    size_t qlen;
    if (rc != 0 || !searched_read(&v, &t, &query, &qlen))
        return rc;
    if (t > ev->time_us || ev->time_us - t > LED_HERE_WINDOW_US)
        return 0;
    return dim_bump(st, txn, ev->site_id, ev->article, day, cls, DIM_LED_HERE,
                    query, qlen);
}

/* Applies a view event: article, view state, rollups and dimensions. Sets
 * *REPEAT, changing nothing, when the view is already stored. */
static int apply_view(struct store *st, MDB_txn *txn, struct event *ev,
                      uint32_t day, bool *repeat)
{
    uint8_t kb[4 + EVENT_ID_MAX], vb[VIEW_REC_LEN];
    MDB_val k = { view_key(kb, ev->site_id, &ev->view_id), kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_VIEWS], &k, &v);
    *repeat = rc == 0;                   /* a repeated view: counted once */
    if (rc == 0)
        return 0;
    if (rc != MDB_NOTFOUND)
        return rc;
    int cls = (ev->flags & EVENT_FLAG_BOT) ? 1 : 0;
    struct view_rec r = {
        .article = ev->article, .day = day, .first_us = ev->time_us,
        .scroll = ev->scroll == EVENT_SCROLL_NONE ? 0 : ev->scroll,
        .scroll0 = ev->scroll, .flags = cls ? VIEW_BOT : 0
    };
    view_pack(&r, vb);
    v.mv_size = sizeof vb;
    v.mv_data = vb;
    if ((rc = mdb_put(txn, st->dbi[DB_VIEWS], &k, &v, 0)) != 0)
        return rc;
    if ((rc = article_touch(st, txn, ev, day)) != 0)
        return rc;

    bool first_a, first_s;
    if ((rc = seen_mark(st, txn, day, ev->site_id, ev->article, ev->visitor,
                        &first_a)) != 0 ||
        (rc = seen_mark(st, txn, day, ev->site_id, 0, ev->visitor,
                        &first_s)) != 0)
        return rc;
    struct view_delta x = {
        .new_view = 1, .new_visitor = first_a,
        .hist_from = -1, .hist_to = 0,
        .scroll_from = -1, .scroll_to = rollup_scroll_bucket(r.scroll)
    };
    if ((rc = daily_update(st, txn, ev->site_id, ev->article, day, cls,
                           apply_delta, &x)) != 0)
        return rc;
    x.new_visitor = first_s;
    x.counters_only = true;
    if ((rc = daily_update(st, txn, ev->site_id, 0, day, cls,
                           apply_delta, &x)) != 0)
        return rc;
    if ((rc = dim_bump(st, txn, ev->site_id, ev->article, day, cls,
                       DIM_COUNTRY, ev->country, 2)) != 0)
        return rc;
    if ((rc = credit_search(st, txn, ev, day, cls)) != 0)
        return rc;
    const char *ref = ev->referrer.n ? ev->referrer.p : "(direct)";
    size_t reflen = ev->referrer.n ? ev->referrer.n : 8;
    return dim_bump(st, txn, ev->site_id, ev->article, day, cls,
                    DIM_REFERRER, ref, reflen);
}

/* The most engaged time view R may hold when EV arrives: the time since
 * the server first saw the view plus the allowance (no bound for a record
 * that does not know when, made before it was kept), and never above
 * EVENT_MAX_VIEW_ENGAGED_MS. */
static uint64_t engaged_cap(const struct store *st, const struct view_rec *r,
                            const struct event *ev)
{
    uint64_t cap = EVENT_MAX_VIEW_ENGAGED_MS;
    if (r->first_us == 0)
        return cap;
    uint64_t age = ev->time_us > r->first_us ? ev->time_us - r->first_us : 0;
    uint64_t ms = (age + st->engage_allowance_us) / 1000u;
    return ms < cap ? ms : cap;
}

/* The view's engaged total after EV: the larger of the two for a wire-2
 * engage (a cumulative total: a repeat or a late arrival changes nothing),
 * the sum for a wire-1 delta; never above CAP (but never below HAVE).
 * EV's engaged time becomes what was counted of it, so that the stored
 * event agrees with the view. */
static uint32_t engaged_after(uint32_t have, struct event *ev, uint64_t cap)
{
    bool wire2 = ev->flags & EVENT_FLAG_WIRE2;
    uint64_t total = wire2 ? (ev->engaged_ms > have ? ev->engaged_ms : have)
                           : (uint64_t)have + ev->engaged_ms;
    if (total > cap)
        total = cap > have ? cap : have;
    if (wire2 && ev->engaged_ms > total)
        ev->engaged_ms = (uint32_t)total;
    else if (!wire2)
        ev->engaged_ms = (uint32_t)(total - have);
    return (uint32_t)total;
}

/* True when EV (a search or custom event numbered by its view) was already
 * counted for view R; otherwise marks it counted. Numbers beyond
 * VIEW_SEQ_BITS, and events without one, are always counted. */
static bool seq_seen(struct view_rec *r, const struct event *ev)
{
    if (ev->seq == 0 || ev->seq > VIEW_SEQ_BITS)
        return false;
    uint64_t bit = 1ull << (ev->seq - 1);
    if (r->seqs & bit)
        return true;
    r->seqs |= bit;
    return false;
}

/* Sets *REPEAT when EV, a search, custom or link event of view R, was
 * already counted (a retried or replayed beacon); otherwise marks a
 * numbered search or custom event as counted in R. */
static int counted_before(struct store *st, MDB_txn *txn, struct view_rec *r,
                          const struct event *ev, bool *repeat)
{
    *repeat = false;
    if (ev->type == EVENT_SEARCH || ev->type == EVENT_CUSTOM) {
        *repeat = seq_seen(r, ev);
        return 0;
    }
    if (ev->type != EVENT_LINK)
        return 0;
    uint8_t kb[LINK_KEY_MAX];
    MDB_val k = { site_bytes_key(kb, ev->site_id, ev->text.p, ev->text.n),
                  kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_LINKS], &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;
    /* a persistent link id comes again from later views: only the same
     * view's link is a repeat */
    struct link_rec old;
    *repeat = link_read(&v, &old) && old.view_id_len == ev->view_id.n &&
              memcmp(old.view_id, ev->view_id.p, ev->view_id.n) == 0;
    return 0;
}

/* Applies an event that belongs to an earlier view (engage, vote, search,
 * link, identify, custom): moves that view's buckets and counters. Sets
 * *REPEAT when EV is a search or custom event the view already counted. */
static int apply_follow_up(struct store *st, MDB_txn *txn, struct event *ev,
                           bool *repeat)
{
    uint8_t kb[4 + EVENT_ID_MAX], vb[VIEW_REC_LEN];
    MDB_val k = { view_key(kb, ev->site_id, &ev->view_id), kb }, v;
    struct view_rec r;
    int rc = mdb_get(txn, st->dbi[DB_VIEWS], &k, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && !view_read(&v, &r))) {
        pthread_mutex_lock(&st->mu);
        st->stats.orphans++;
        pthread_mutex_unlock(&st->mu);
        return 0;
    }
    if (rc != 0)
        return rc;
    ev->article = r.article;
    if ((rc = counted_before(st, txn, &r, ev, repeat)) != 0 || *repeat)
        return rc;
    int cls = (r.flags & VIEW_BOT) ? 1 : 0;
    struct view_delta x = { .hist_from = -1, .scroll_from = -1 };

    uint32_t total = engaged_after(r.engaged_ms, ev, engaged_cap(st, &r, ev));
    x.engaged_add = total - r.engaged_ms;
    x.hist_from = rollup_bucket_of_ms(r.engaged_ms);
    x.hist_to = rollup_bucket_of_ms(total);
    r.engaged_ms = total;
    if (ev->scroll != EVENT_SCROLL_NONE) {
        if (r.scroll0 == EVENT_SCROLL_NONE)
            r.scroll0 = ev->scroll;
        x.scroll_from = rollup_scroll_bucket(r.scroll);
        if (ev->scroll > r.scroll)
            r.scroll = ev->scroll;
        x.scroll_to = rollup_scroll_bucket(r.scroll);
    }
    if (!(r.flags & VIEW_READ) && view_is_read(&r)) {
        r.flags |= VIEW_READ;
        x.read = 1;
    }
    if (ev->type == EVENT_VOTE && ev->vote != r.vote) {
        x.vote_up = (ev->vote == EVENT_VOTE_UP) - (r.vote == EVENT_VOTE_UP);
        x.vote_down =
            (ev->vote == EVENT_VOTE_DOWN) - (r.vote == EVENT_VOTE_DOWN);
        r.vote = ev->vote;
    }
    x.searches = ev->type == EVENT_SEARCH;
    x.links = ev->type == EVENT_LINK;
    x.events = ev->type == EVENT_CUSTOM;

    view_pack(&r, vb);
    v.mv_size = sizeof vb;
    v.mv_data = vb;
    if ((rc = mdb_put(txn, st->dbi[DB_VIEWS], &k, &v, 0)) != 0)
        return rc;
    if ((rc = daily_update(st, txn, ev->site_id, r.article, r.day, cls,
                           apply_delta, &x)) != 0)
        return rc;
    if (x.vote_up || x.vote_down || x.searches || x.read) {
        struct view_delta site = { .counters_only = true,
                                   .hist_from = -1, .scroll_from = -1,
                                   .read = x.read,
                                   .vote_up = x.vote_up,
                                   .vote_down = x.vote_down,
                                   .searches = x.searches };
        if ((rc = daily_update(st, txn, ev->site_id, 0, r.day, cls,
                               apply_delta, &site)) != 0)
            return rc;
    }
    return 0;
}

/* Applies the type-specific extras: search terms, custom events, links. */
static int apply_extras(struct store *st, MDB_txn *txn, const struct event *ev,
                        uint32_t day)
{
    int cls = (ev->flags & EVENT_FLAG_BOT) ? 1 : 0;
    int rc = 0;
    if (ev->type == EVENT_SEARCH) {
        uint8_t kb[SITE_ID_KEY_LEN], vb[SEARCHED_REC_MAX];
        MDB_val k = { site_id_key(kb, ev->site_id, ev->visitor), kb };
        MDB_val v = { searched_pack(vb, ev->time_us, &ev->text), vb };
        if ((rc = mdb_put(txn, st->dbi[DB_SEARCHED], &k, &v, 0)) != 0)
            return rc;
        int dim = ev->results == 0 ? DIM_SEARCH_ZERO : DIM_SEARCH;
        rc = dim_bump(st, txn, ev->site_id, 0, day, cls, dim, ev->text.p,
                      ev->text.n);
        if (rc == 0 && ev->article)
            rc = dim_bump(st, txn, ev->site_id, ev->article, day, cls, dim,
                          ev->text.p, ev->text.n);
    } else if (ev->type == EVENT_CUSTOM && ev->article) {
        rc = dim_bump(st, txn, ev->site_id, ev->article, day, cls, DIM_EVENT,
                      ev->text.p, ev->text.n);
    } else if (ev->type == EVENT_LINK) {
        uint8_t kb[LINK_KEY_MAX], vb[LINK_REC_MAX];
        struct link_rec r = { ev->time_us, ev->article, ev->visitor,
                              ev->visitor_prev, ev->view_id.p,
                              ev->view_id.n };
        MDB_val k = { site_bytes_key(kb, ev->site_id, ev->text.p,
                                     ev->text.n), kb };
        MDB_val v = { link_pack(&r, vb), vb };
        rc = mdb_put(txn, st->dbi[DB_LINKS], &k, &v, 0);
    }
    if (rc == 0 && !(ev->flags & EVENT_FLAG_BOT))
        rc = record_visit(st, txn, ev);
    return rc;
}

/* Remembers what this visitor read or searched, for ticket attribution. */
static int record_visit(struct store *st, MDB_txn *txn, const struct event *ev)
{
    uint8_t kb[VISIT_KEY_LEN], vb[VISIT_REC_MAX];
    size_t vl;
    if (ev->type == EVENT_VIEW) {
        u64_pack(vb, ev->article);
        vl = U64_REC_LEN;
    } else if (ev->type == EVENT_SEARCH) {
        vl = visit_search_pack(vb, ev->results == 0, &ev->text);
    } else {
        return 0;
    }
    MDB_val k = { visit_key(kb, ev->site_id, ev->visitor, ev->time_us,
                            ev->type == EVENT_VIEW ? 'v' : 's'), kb };
    MDB_val v = { vl, vb };
    return mdb_put(txn, st->dbi[DB_VISITS], &k, &v, 0);
}

/* Replaces an identify event's hash by its keyed hash, and remembers which
 * visitor the identity had at that time. */
static int record_identity(struct store *st, MDB_txn *txn, struct event *ev,
                           char hex[65])
{
    uint8_t id[CRYPTO_SHA256_LEN], kb[IDENT_KEY_LEN], vb[U64_REC_LEN];
    store_identity_of(st, ev->text.p, ev->text.n, id);
    crypto_hex(id, sizeof id, hex);
    ev->text.p = hex;
    ev->text.n = 64;
    u64_pack(vb, ev->visitor);
    MDB_val k = { ident_key(kb, ev->site_id, id, ev->time_us), kb };
    MDB_val v = { sizeof vb, vb };
    return mdb_put(txn, st->dbi[DB_IDENTS], &k, &v, 0);
}

/* Notes the key (T, SEQ) as the writer's last when it is past it. */
static void note_last_key(struct store *st, uint64_t t, uint32_t seq)
{
    if (t > st->last_time_us || (t == st->last_time_us && seq > st->last_seq)) {
        st->last_time_us = t;
        st->last_seq = seq;
    }
}

/* Whether an event at T gets a key past the writer's last one in T's
 * microsecond or a later one, so that it can be appended. */
static bool appends_at(const struct store *st, uint64_t t)
{
    return t > st->last_time_us ||
           (t == st->last_time_us && st->last_seq < EVENT_KEY_SEQ_MAX);
}

/* The first free sequence number after the last events key of T's
 * microsecond into *SEQ (0 when it has none); false when it is full. */
static int next_seq_at(struct store *st, MDB_txn *txn, uint64_t t,
                       uint32_t *seq, bool *full)
{
    MDB_cursor *cur;
    uint8_t kb[EVENT_KEY_LEN];
    uint64_t kt;
    uint32_t ks;
    int rc = mdb_cursor_open(txn, st->dbi[DB_EVENTS], &cur);
    if (rc != 0)
        return rc;
    MDB_val k = { event_key(kb, t, EVENT_KEY_SEQ_MAX), kb }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && !(event_key_read(&k, &kt, &ks) && kt == t))
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    *seq = 0;
    *full = false;
    if (rc == 0 && event_key_read(&k, &kt, &ks) && kt == t) {
        *full = ks == EVENT_KEY_SEQ_MAX;
        *seq = ks + 1;
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Puts the record V of an event at T under the events key after the last
 * one of T's microsecond (the order of arrival kept among events of one
 * time, as a batch's are), into KB; a full microsecond moves it on to the
 * next (the one before at the day's last). Returns 0 or an LMDB error. */
static int insert_event(struct store *st, MDB_txn *txn, uint64_t t,
                        const MDB_val *rec, uint8_t kb[EVENT_KEY_LEN])
{
    uint32_t seq;
    bool full;
    bool back = day_of_us(t + 1) != day_of_us(t);
    int rc;
    while ((rc = next_seq_at(st, txn, t, &seq, &full)) == 0 && full)
        t = back ? t - 1 : t + 1;
    if (rc != 0)
        return rc;
    MDB_val k = { event_key(kb, t, seq), kb }, v = *rec;
    rc = mdb_put(txn, st->dbi[DB_EVENTS], &k, &v, MDB_NOOVERWRITE);
    if (rc == 0)
        note_last_key(st, t, seq);
    return rc;
}

/* Stores the record V of an event at T (<= EVENT_TIME_MAX: enqueueing
 * refuses later times) under its events key (written to KB): appended
 * after the writer's last key when T is not before it (live traffic, a
 * backfill in time order), else inserted near T. */
static int put_event(struct store *st, MDB_txn *txn, uint64_t t,
                     const MDB_val *v, uint8_t kb[EVENT_KEY_LEN])
{
    if (!appends_at(st, t))
        return insert_event(st, txn, t, v, kb);
    uint32_t seq = t > st->last_time_us ? 0 : st->last_seq + 1;
    MDB_val k = { EVENT_KEY_LEN, kb }, val = *v;
    event_key(kb, t, seq);
    int rc = mdb_put(txn, st->dbi[DB_EVENTS], &k, &val, MDB_APPEND);
    if (rc == 0)
        note_last_key(st, t, seq);
    return rc;
}

/* Reads the last events key so that MDB_APPEND stays valid. */
static int sync_last_key(struct store *st, MDB_txn *txn)
{
    uint64_t t;
    uint32_t seq;
    bool current;
    int rc = events_last_key(st, txn, &current, &t, &seq);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0 || !current)
        return rc ? rc : MDB_CORRUPTED;
    note_last_key(st, t, seq);
    return 0;
}

/* Stores one event of slot S: enrich, update state, append the record. */
static int apply_event(struct store *st, MDB_txn *txn, const struct slot *s,
                       const uint8_t *rec, size_t len)
{
    struct event ev;
    int bad = event_decode(rec, len, &ev);
    assert(bad == 0);                /* encoded by store_enqueue_at */
    if (bad != 0)
        return MDB_CORRUPTED;
    ev.time_us = s->time_us;
    uint32_t day = day_of_us(ev.time_us);
    const uint8_t *salt = st->salt_today;
    if (day + 1 == st->salt_day && st->have_yesterday)
        salt = st->salt_yesterday;
    ev.visitor = store_visitor_hash(st, txn, salt, ev.site_id, &s->addr,
                                    (const char *)s->data, s->ualen);
    ev.visitor_prev = 0;
    if (ev.type == EVENT_LINK && salt == st->salt_today && st->have_yesterday)
        ev.visitor_prev = store_visitor_hash(st, txn, st->salt_yesterday,
                                             ev.site_id, &s->addr,
                                             (const char *)s->data,
                                             s->ualen);
    char ident_hex[65];
    int rc = 0;
    if (ev.type == EVENT_IDENTIFY)
        rc = record_identity(st, txn, &ev, ident_hex);
    bool repeat = false;
    if (rc == 0)
        rc = ev.type == EVENT_VIEW ? apply_view(st, txn, &ev, day, &repeat)
                                   : apply_follow_up(st, txn, &ev, &repeat);
    if (rc == 0 && !repeat)
        rc = apply_extras(st, txn, &ev, day);
    if (rc != 0)
        return rc;
    if (repeat)
        ev.flags |= EVENT_FLAG_REPEAT;

    uint8_t kb[EVENT_KEY_LEN], out[EVENT_RECORD_MAX];
    if ((rc = dict_intern_event(st, txn, &ev)) != 0)
        return rc;
    int olen = event_encode(&ev, out, sizeof out);
    if (olen < 0)
        return MDB_BAD_VALSIZE;
    MDB_val v = { (size_t)olen, out };
    rc = put_event(st, txn, ev.time_us, &v, kb);
    if (rc == 0 && st->ship_log)        /* shipped in commit order */
        rc = ship_log_add(st, txn, 'e', kb, sizeof kb);
    return rc;
}

/* A batch for the one write path: its slots, and the writer's state to put
 * back when it is not committed. */
struct batch_write {
    struct slot *head;
    size_t stored;                 /* out: events applied */
    uint64_t saved_time;
    uint32_t saved_seq;
};

/* Applies every event of the batch's slots in TXN. */
static int batch_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct batch_write *b = ctx;
    b->saved_time = st->last_time_us;
    b->saved_seq = st->last_seq;
    b->stored = 0;
    int rc = sync_last_key(st, txn);
    if (rc == 0 && st->ship_log)
        rc = ship_log_begin(st, txn);
    if (rc == 0)
        rc = store_writer_salts(st, txn, day_of_us(store_now_us()));
    uint32_t final;
    if (rc == 0)
        rc = store_settled_days(st, txn, &final, &st->final_mark);
    if (st->rows)                    /* what a failed batch left behind */
        row_cache_reset(st->rows);
    for (struct slot *s = b->head; s != NULL && rc == 0; s = s->next) {
        size_t off = s->ualen;
        while (off + 2 <= s->len && rc == 0) {
            size_t len = (size_t)s->data[off] << 8 | s->data[off + 1];
            assert(off + 2 + len <= s->len);    /* store_enqueue_at's */
            rc = apply_event(st, txn, s, s->data + off + 2, len);
            off += 2 + len;
            b->stored++;
        }
    }
    if (rc == 0)
        rc = row_cache_flush(st, txn);
    return rc;
}

/* The batch was not committed: its keys were not used, and the salts are
 * read again next time. */
static void batch_undo(struct store *st, void *ctx)
{
    struct batch_write *b = ctx;
    st->last_time_us = b->saved_time;
    st->last_seq = b->saved_seq;
    st->salt_day = 0;
}

int store_apply_batch(struct store *st, struct slot *head, size_t *stored)
{
    struct batch_write b = { .head = head };
    int rc = store_write_undo(st, batch_txn, batch_undo, &b);
    if (rc == 0)
        *stored = b.stored;
    return rc;
}

/* --- purging what has expired -------------------------------------------- */

#define PURGE_CHUNK     20000                /* deletions per transaction */
#define PURGE_WALK      200000               /* records looked at, too */

struct purge_budget {
    size_t deletes, walks;
};

typedef bool (*purge_expired_fn)(const MDB_val *k, const MDB_val *v,
                                 const void *arg);
typedef bool (*purge_until_fn)(const MDB_val *k, const void *arg);

/* Deletes the records under CUR that EXPIRED says are, from where AT says
 * the last step stopped, while budget B allows; walks no further than the
 * first record UNTIL says is past what can expire (NULL: walks them all).
 * Returns 1 if it stopped for the budget (AT then says where), 0 when the
 * database is done, or an LMDB error. */
static int purge_db(MDB_cursor *cur, purge_expired_fn expired,
                    purge_until_fn until, const void *arg,
                    struct purge_mark *at, struct purge_budget *b,
                    size_t *removed)
{
    MDB_val k = { at->len, at->key }, v;
    int rc = mdb_cursor_get(cur, &k, &v, at->len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && (until == NULL || !until(&k, arg))) {
        if (b->walks == 0 || b->deletes == 0) {
            at->len = k.mv_size <= sizeof at->key ? k.mv_size : 0;
            memcpy(at->key, k.mv_data, at->len);
            return 1;
        }
        b->walks--;
        if (expired(&k, &v, arg)) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                return rc;
            b->deletes--;
            (*removed)++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    at->done = true;
    return 0;
}

struct purge_limits {
    uint32_t today;
    uint64_t searched_before_us;      /* "searched" records older: gone */
    uint64_t visits_before_us;        /* "visits", "idents" older: gone */
};

static bool view_expired(const MDB_val *k, const MDB_val *v, const void *arg)
{
    const struct purge_limits *l = arg;
    struct view_rec r;
    (void)k;
    if (!view_read(v, &r))
        return false;
    return r.day + VIEW_KEEP_DAYS < l->today;
}

/* Visitor marks are in day order: every one before the first that
 * seen_current stops at has expired. */
static bool seen_expired(const MDB_val *k, const MDB_val *v, const void *arg)
{
    (void)k;
    (void)v;
    (void)arg;
    return true;
}

static bool seen_current(const MDB_val *k, const void *arg)
{
    const struct purge_limits *l = arg;
    uint32_t day;
    return !seen_key_day(k, &day) || day + 1 >= l->today;
}

static bool searched_expired(const MDB_val *k, const MDB_val *v,
                             const void *arg)
{
    const struct purge_limits *l = arg;
    uint64_t t;
    const char *query;
    size_t qlen;
    (void)k;
    return searched_read(v, &t, &query, &qlen) && t < l->searched_before_us;
}

static bool visit_expired(const MDB_val *k, const MDB_val *v, const void *arg)
{
    const struct purge_limits *l = arg;
    uint64_t t;
    (void)v;
    return visit_key_time(k, &t) && t < l->visits_before_us;
}

static bool ident_expired(const MDB_val *k, const MDB_val *v, const void *arg)
{
    const struct purge_limits *l = arg;
    uint64_t t;
    (void)v;
    return ident_key_time(k, &t) && t < l->visits_before_us;
}

/* The databases a purge walks, in order, and what expires in each. */
static const struct {
    int db;
    purge_expired_fn expired;
    purge_until_fn until;
} purge_dbs[PURGE_DBS] = {
    { DB_VIEWS, view_expired, NULL },
    { DB_SEEN, seen_expired, seen_current },
    { DB_SEARCHED, searched_expired, NULL },
    { DB_VISITS, visit_expired, NULL },
    { DB_IDENTS, ident_expired, NULL },
};

/* One purge step for the one write path. */
struct purge_write {
    const struct purge_limits *l;
    bool visits;                   /* the visits and idents too */
    size_t gone;                   /* out: records deleted */
    int more;                      /* out: 1 if more remain */
};

/* Deletes what the step's budget allows, from where the last step
 * stopped. */
static int purge_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct purge_write *w = ctx;
    struct purge_budget b = { PURGE_CHUNK, PURGE_WALK };
    int rc = 0;
    w->gone = 0;
    w->more = 0;
    for (int d = 0; d < (w->visits ? PURGE_DBS : 3) && rc == 0; d++) {
        MDB_cursor *cur;
        if (st->purge_at[d].done)
            continue;
        if ((rc = mdb_cursor_open(txn, st->dbi[purge_dbs[d].db], &cur)) != 0)
            break;
        rc = purge_db(cur, purge_dbs[d].expired, purge_dbs[d].until, w->l,
                      &st->purge_at[d], &b, &w->gone);
        mdb_cursor_close(cur);
    }
    w->more = rc == 1;
    return rc == 1 ? 0 : rc;
}

/* The step was not committed: the next pass starts afresh. */
static void purge_undo(struct store *st, void *ctx)
{
    (void)ctx;
    memset(st->purge_at, 0, sizeof st->purge_at);
}

/* One step of the purge: deletes at most PURGE_CHUNK records (looking at
 * no more than PURGE_WALK) of view state and visitor marks older than
 * VIEW_KEEP_DAYS, searches older than the led-here window, and (once a UTC
 * day) visits and identities older than VISITS_KEEP_DAYS (or the
 * retention horizon, when sooner), in one write transaction, from where the
 * last step stopped; then, with a retention horizon, retention's steps
 * (retention.h); adds to *REMOVED. Returns 1 if more remain, 0 when done,
 * -1 on error. */
int store_purge_step(struct store *st, size_t *removed)
{
    uint64_t now = store_now_us();
    if (st->retaining) {
        int r = retention_step(st, day_of_us(now), removed);
        if (r != 1)
            st->retaining = false;
        return r;
    }
    uint64_t retain_us =
        (uint64_t)retention_first_day(st, day_of_us(now)) * US_PER_DAY;
    uint64_t keep_us = now - (uint64_t)VISITS_KEEP_DAYS * US_PER_DAY;
    struct purge_limits l = {
        day_of_us(now), now - 2 * LED_HERE_WINDOW_US,
        retain_us > keep_us ? retain_us : keep_us };
    bool visits = st->visits_purged_day != l.today;
    struct purge_write w = { &l, visits, 0, 0 };
    int rc = store_write_undo(st, purge_txn, purge_undo, &w);
    if (rc == 0) {
        *removed += w.gone;
        if (!w.more && visits)
            st->visits_purged_day = l.today;
        if (!w.more)                     /* the next pass starts afresh */
            memset(st->purge_at, 0, sizeof st->purge_at);
        if (!w.more && retain_us) {      /* retention's turn */
            retention_begin(st);
            st->retaining = true;
            return 1;
        }
        return w.more;
    }
    log_warn("store: purging expired records failed: %s", mdb_strerror(rc));
    return -1;
}

int store_purge(struct store *st, size_t *removed)
{
    int rc;
    *removed = 0;
    pthread_mutex_lock(&st->write_mu);
    memset(st->purge_at, 0, sizeof st->purge_at);   /* a pass of its own */
    st->retaining = false;
    pthread_mutex_unlock(&st->write_mu);
    do
        rc = store_purge_step(st, removed);
    while (rc == 1);
    return rc;
}
