/* dict.c — see dict.h. */
#define _POSIX_C_SOURCE 200809L
#include "store/dict.h"

#include <stdlib.h>
#include <string.h>

#include "base/fnv.h"
#include "store/codec.h"

#define DICT_CACHE_SLOTS 4096           /* a power of two */

/* One id the writer has seen: (site, field, bytes) -> id. */
struct dict_entry {
    uint64_t hash;
    uint32_t site, id;
    uint16_t n;
    uint8_t field;
    char *s;                            /* owned; NULL: an empty slot */
};

/* Direct-mapped by hash; touched only inside write transactions, which
 * the store's write lock keeps to one at a time. Valid while meta
 * "dict_epoch" holds EPOCH: a site's removal, perhaps by another process,
 * moves it on. */
struct dict_cache {
    struct dict_entry e[DICT_CACHE_SLOTS];
    uint32_t epoch;
    uint64_t txn;                       /* the write transaction that read
                                           EPOCH (env.c's count) */
    uint64_t undone;                    /* env.c's count of those undone */
};

#define EPOCH_META "dict_epoch"

/* FNV-1a of SITE, FIELD and S[0..N). */
static uint64_t entry_hash(uint32_t site, int field, const char *s, size_t n)
{
    uint8_t f = (uint8_t)field;
    return fnv1a(fnv1a(fnv1a_u32(FNV1A_INIT, site), &f, 1), s, n);
}

/* The slot of H in C. */
static struct dict_entry *slot_of(struct dict_cache *c, uint64_t h)
{
    return &c->e[h & (DICT_CACHE_SLOTS - 1)];
}

/* The id the cache holds for (SITE, FIELD, S[0..N)) of hash H, or 0. */
static uint32_t cache_get(struct store *st, uint64_t h, uint32_t site,
                          int field, const char *s, size_t n)
{
    if (st->dict == NULL)
        return 0;
    const struct dict_entry *e = slot_of(st->dict, h);
    if (e->s == NULL || e->hash != h || e->site != site ||
        e->field != field || e->n != n || memcmp(e->s, s, n) != 0)
        return 0;
    return e->id;
}

/* Remembers ID for (SITE, FIELD, S[0..N)) of hash H; without memory, it
 * is just not remembered. */
static void cache_put(struct store *st, uint64_t h, uint32_t site,
                      int field, const char *s, size_t n, uint32_t id)
{
    if (st->dict == NULL)
        return;
    char *copy = malloc(n ? n : 1);
    if (copy == NULL)
        return;
    memcpy(copy, s, n);
    struct dict_entry *e = slot_of(st->dict, h);
    free(e->s);
    *e = (struct dict_entry){ h, site, id, (uint16_t)n, (uint8_t)field,
                              copy };
}

/* Forgets every id the cache holds. */
static void cache_clear(struct store *st)
{
    if (st->dict == NULL)
        return;
    for (size_t i = 0; i < DICT_CACHE_SLOTS; i++) {
        free(st->dict->e[i].s);
        st->dict->e[i].s = NULL;
    }
}

/* The dictionary's epoch in TXN (0 before any removal) in *EPOCH. Returns
 * 0 or an LMDB error code. */
static int epoch_read(struct store *st, MDB_txn *txn, uint32_t *epoch)
{
    MDB_val k = { sizeof EPOCH_META - 1, EPOCH_META }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    *epoch = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc != 0 ? rc : u32_read(&v, epoch) ? 0 : MDB_CORRUPTED;
}

/* Makes the cache fit for TXN, the write transaction under way: emptied
 * when a transaction since the last that used it was not committed (the
 * ids it made are gone), or when a removal moved the epoch on. Without
 * memory for it there is no cache, and every id is looked up. Returns 0
 * or an LMDB error code. */
static int cache_begin(struct store *st, MDB_txn *txn)
{
    if (st->dict == NULL && (st->dict = calloc(1, sizeof *st->dict)) == NULL)
        return 0;
    struct dict_cache *c = st->dict;
    if (c->undone != st->write_undone)
        cache_clear(st);
    c->undone = st->write_undone;
    if (c->txn == st->write_txns)
        return 0;
    uint32_t epoch;
    int rc = epoch_read(st, txn, &epoch);
    if (rc != 0)
        return rc;
    if (epoch != c->epoch)
        cache_clear(st);
    c->epoch = epoch;
    c->txn = st->write_txns;
    return 0;
}

int dict_drop_site(struct store *st, MDB_txn *txn, uint32_t site,
                   size_t max, size_t *dropped)
{
    uint32_t epoch;
    uint8_t vb[4];
    int rc = epoch_read(st, txn, &epoch);
    MDB_val k = { sizeof EPOCH_META - 1, EPOCH_META }, v = { 4, vb };
    u32_pack(vb, epoch + 1);
    if (rc != 0 || (rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0)) != 0)
        return rc;
    *dropped = 0;
    for (int db = DB_DICT; db <= DB_DICT_IDS && rc == 0; db++) {
        MDB_cursor *cur;
        uint8_t kb[4];
        if ((rc = mdb_cursor_open(txn, st->dbi[db], &cur)) != 0)
            return rc;
        MDB_val ck = { site_bytes_key(kb, site, "", 0), kb }, cv;
        for (rc = mdb_cursor_get(cur, &ck, &cv, MDB_SET_RANGE);
             rc == 0 && key_site(ck.mv_data) == site;
             rc = mdb_cursor_get(cur, &ck, &cv, MDB_NEXT)) {
            if (*dropped == max || (rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            ++*dropped;
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc;
}

void dict_free(struct store *st)
{
    cache_clear(st);
    free(st->dict);
    st->dict = NULL;
}

/* The id after the last one of (SITE, FIELD) in TXN, in *NEXT (0 when
 * every id is taken). Returns 0 or an LMDB error code. */
static int next_id(struct store *st, MDB_txn *txn, uint32_t site, int field,
                   uint32_t *next)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_DICT], &cur);
    if (rc != 0)
        return rc;
    uint8_t kb[DICT_KEY_LEN];
    MDB_val k = { dict_key(kb, site, field, UINT32_MAX), kb }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
    mdb_cursor_close(cur);
    uint32_t s, id;
    int f;
    *next = 1;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (dict_key_read(&k, &s, &f, &id) && s == site && f == field)
        *next = id < EVENT_REF_MAX ? id + 1 : 0;
    return 0;
}

/* The id of (SITE, FIELD) = S[0..N) in *ID, made if new; *ID = 0 when the
 * dictionary is full. Returns 0 or an LMDB error code. */
static int intern(struct store *st, MDB_txn *txn, uint32_t site, int field,
                  const char *s, size_t n, uint32_t *id)
{
    int rc = cache_begin(st, txn);
    if (rc != 0)
        return rc;
    uint64_t h = entry_hash(site, field, s, n);
    if ((*id = cache_get(st, h, site, field, s, n)) != 0)
        return 0;
    uint8_t ik[DICT_PREFIX_LEN + DICT_VALUE_MAX], kb[DICT_KEY_LEN], vb[4];
    MDB_val k = { dict_ids_key(ik, site, field, s, n), ik }, v;
    rc = mdb_get(txn, st->dbi[DB_DICT_IDS], &k, &v);
    if (rc == 0) {
        if (!u32_read(&v, id) || *id == 0 || *id > EVENT_REF_MAX)
            return MDB_CORRUPTED;
        cache_put(st, h, site, field, s, n, *id);
        return 0;
    }
    if (rc != MDB_NOTFOUND || (rc = next_id(st, txn, site, field, id)) != 0)
        return rc;
    if (*id == 0)
        return 0;
    u32_pack(vb, *id);
    v = (MDB_val){ sizeof vb, vb };
    if ((rc = mdb_put(txn, st->dbi[DB_DICT_IDS], &k, &v, MDB_NOOVERWRITE)))
        return rc;
    MDB_val dk = { dict_key(kb, site, field, *id), kb };
    MDB_val dv = { n, (void *)s };
    if ((rc = mdb_put(txn, st->dbi[DB_DICT], &dk, &dv, MDB_NOOVERWRITE)))
        return rc;
    cache_put(st, h, site, field, s, n, *id);
    return 0;
}

/* True when EV's article is its path's (the record says so by a flag). */
static bool article_of_path(const struct event *ev)
{
    return ev->path.n > 0 &&
           ev->article == event_article_id(ev->path.p, ev->path.n);
}

int dict_intern_event(struct store *st, MDB_txn *txn, struct event *ev)
{
    for (int r = 0; r < EVENT_REF_STRINGS; r++) {
        const struct event_str *s = event_ref_str(ev, r);
        if (ev->ref[r] != 0 || s->n == 0 || s->n > DICT_VALUE_MAX)
            continue;
        int rc = intern(st, txn, ev->site_id, r, s->p, s->n, &ev->ref[r]);
        if (rc != 0)
            return rc;
    }
    if (ev->ref[EVENT_REF_ARTICLE] != 0 || ev->article == 0 ||
        article_of_path(ev))
        return 0;
    uint8_t a[8];
    for (int i = 0; i < 8; i++)
        a[i] = (uint8_t)(ev->article >> (8 * i));
    return intern(st, txn, ev->site_id, EVENT_REF_ARTICLE, (const char *)a,
                  sizeof a, &ev->ref[EVENT_REF_ARTICLE]);
}

/* The bytes of (SITE, FIELD, ID) in *V. Returns 0 or an LMDB error code. */
static int lookup(struct store *st, MDB_txn *txn, uint32_t site, int field,
                  uint32_t id, MDB_val *v)
{
    uint8_t kb[DICT_KEY_LEN];
    MDB_val k = { dict_key(kb, site, field, id), kb };
    return mdb_get(txn, st->dbi[DB_DICT], &k, v);
}

int dict_resolve_event(struct store *st, MDB_txn *txn, struct event *ev)
{
    MDB_val v;
    for (int r = 0; r < EVENT_REF_STRINGS; r++) {
        if (ev->ref[r] == 0)
            continue;
        int rc = lookup(st, txn, ev->site_id, r, ev->ref[r], &v);
        if (rc != 0)
            return rc;
        if (v.mv_size > DICT_VALUE_MAX)
            return MDB_CORRUPTED;
        *event_ref_str(ev, r) = (struct event_str){ v.mv_data,
                                                    (uint16_t)v.mv_size };
    }
    uint32_t a = ev->ref[EVENT_REF_ARTICLE];
    if (a == EVENT_REF_OF_PATH) {
        ev->article = event_article_id(ev->path.p, ev->path.n);
    } else if (a != 0) {
        int rc = lookup(st, txn, ev->site_id, EVENT_REF_ARTICLE, a, &v);
        if (rc != 0)
            return rc;
        if (v.mv_size != 8)
            return MDB_CORRUPTED;
        const uint8_t *p = v.mv_data;
        ev->article = 0;
        for (int i = 0; i < 8; i++)
            ev->article |= (uint64_t)p[i] << (8 * i);
    }
    return 0;
}
