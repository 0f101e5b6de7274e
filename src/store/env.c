/* env.c — see env.h: the LMDB environment (transactions, read locks, map
 * growth), the one write path, the server secret, visitor salts, sites,
 * notes, tokens and reading raw events. Calls nothing above it. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE            /* madvise's MADV_DONTNEED */
#include "store/env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/crypto.h"
#include "base/time.h"
#include "dwell/log.h"
#include "store/codec.h"

uint64_t store_now_us(void)
{
    return time_now_us();
}

/* Begins a transaction, adopting a map size grown by another process. */
int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(st->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_wrlock(&st->resize_lock);
        mdb_env_set_mapsize(st->env, 0);
        pthread_rwlock_unlock(&st->resize_lock);
        rc = mdb_txn_begin(st->env, NULL, flags, txn);
    }
    return rc;
}

/* Read transactions hold the resize lock shared for their whole life. */
int store_read_begin(struct store *st, MDB_txn **txn)
{
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_unlock(&st->resize_lock);
        pthread_rwlock_wrlock(&st->resize_lock);
        mdb_env_set_mapsize(st->env, 0);
        pthread_rwlock_unlock(&st->resize_lock);
        pthread_rwlock_rdlock(&st->resize_lock);
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
    }
    if (rc != 0)
        pthread_rwlock_unlock(&st->resize_lock);
    return rc;
}

void store_read_end(struct store *st, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->resize_lock);
}

int store_map_info(struct store *st, MDB_envinfo *info, MDB_stat *ms)
{
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = mdb_env_info(st->env, info);
    if (rc == 0 && ms != NULL)
        rc = mdb_env_stat(st->env, ms);
    pthread_rwlock_unlock(&st->resize_lock);
    return rc;
}

/* A read transaction with a cursor on database DB. */
int store_read_cursor(struct store *st, int db, MDB_txn **txn,
                      MDB_cursor **cur)
{
    if (store_read_begin(st, txn) != 0)
        return -1;
    if (mdb_cursor_open(*txn, st->dbi[db], cur) != 0) {
        store_read_end(st, *txn);
        return -1;
    }
    return 0;
}

void store_read_cursor_end(struct store *st, MDB_txn *txn, MDB_cursor *cur)
{
    mdb_cursor_close(cur);
    store_read_end(st, txn);
}

/* Doubles the map (no transaction of this process may be open). */
int store_grow_map(struct store *st)
{
    size_t next = st->map_size * 2;
    if (next > MAX_MAP_SIZE)
        return -1;
    pthread_rwlock_wrlock(&st->resize_lock);
    int rc = mdb_env_set_mapsize(st->env, next);
    pthread_rwlock_unlock(&st->resize_lock);
    if (rc != 0) {
        log_error("store: growing the map to %zu bytes: %s", next,
                  mdb_strerror(rc));
        return -1;
    }
    log_info("store: map grown to %zu MiB", next >> 20);
    st->map_size = next;
    pthread_mutex_lock(&st->mu);
    st->stats.map_grows++;
    pthread_mutex_unlock(&st->mu);
    return 0;
}

#define WRITE_TRIES 16      /* map doublings one write may ask for */

/* Runs FN in one write transaction and commits (the writer's lock held).
 * Returns 0 or an LMDB error code; on an error nothing was committed. */
static int write_once(struct store *st, store_write_fn fn, void *ctx)
{
    MDB_txn *txn;
    int rc = store_txn_begin(st, 0, &txn);
    if (rc != 0)
        return rc;
    st->write_txns++;
    rc = fn(st, txn, ctx);
    if (rc != 0) {
        mdb_txn_abort(txn);
        st->write_undone++;
        return rc;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        st->write_undone++;
    return rc;
}

int store_write_undo(struct store *st, store_write_fn fn, store_undo_fn undo,
                     void *ctx)
{
    pthread_mutex_lock(&st->write_mu);
    int rc = write_once(st, fn, ctx);
    for (int tries = 1; rc != 0; tries++) {
        if (undo)
            undo(st, ctx);
        if (rc != MDB_MAP_FULL || tries >= WRITE_TRIES ||
            store_grow_map(st) != 0)
            break;
        rc = write_once(st, fn, ctx);
    }
    pthread_mutex_unlock(&st->write_mu);
    return rc;
}

int store_write(struct store *st, store_write_fn fn, void *ctx)
{
    return store_write_undo(st, fn, NULL, ctx);
}

/* Writes the server secret FRESH (CTX) unless another process has written
 * one, and adopts whichever is stored. */
static int secret_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    const uint8_t *fresh = ctx;
    MDB_val k = { 6, "secret" }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == 0 && v.mv_size == sizeof st->secret) {
        memcpy(st->secret, v.mv_data, sizeof st->secret);
        return 0;
    }
    memcpy(st->secret, fresh, sizeof st->secret);
    v = (MDB_val){ sizeof st->secret, (void *)fresh };
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

void env_set_cluster(struct store *st, const void *secret, size_t n)
{
    visitor_cluster_init(&st->cluster, secret, n);
    st->clustered = true;
}

/* Stores the keyed-hash secret at CTX unless it is the one stored; warns
 * when it replaces another (keys made under that one no longer match). */
static int secret_replace_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    const uint8_t *key = ctx;
    MDB_val k = { 6, "secret" }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == 0 && v.mv_size == sizeof st->secret &&
        memcmp(v.mv_data, key, sizeof st->secret) == 0)
        return 0;
    if (rc == 0)
        log_warn("store: the keyed-hash secret is now the cluster secret's: "
                 "e-mail keys of tickets imported before no longer match "
                 "new identities (import those tickets again)");
    v = (MDB_val){ sizeof st->secret, (void *)key };
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

/* env_load_secret of a clustered store. */
static int cluster_load_secret(struct store *st)
{
    visitor_cluster_key(&st->cluster, st->secret);
    st->have_secret = true;
    if (st->readonly)
        return 0;
    return store_write(st, secret_replace_txn, st->secret) ? -1 : 0;
}

/* Reads the server secret, creating it when the store is writable. */
int env_load_secret(struct store *st)
{
    if (st->clustered)
        return cluster_load_secret(st);
    MDB_txn *txn;
    MDB_val k = { 6, "secret" }, v;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == 0 && v.mv_size == sizeof st->secret) {
        memcpy(st->secret, v.mv_data, sizeof st->secret);
        st->have_secret = true;
    }
    store_read_end(st, txn);
    if (st->have_secret || st->readonly)
        return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
    uint8_t fresh[32];
    if (crypto_random(fresh, sizeof fresh) != 0 ||
        store_write(st, secret_txn, fresh) != 0)
        return -1;
    st->have_secret = true;
    return 0;
}

/* Makes the stored salts of TODAY and yesterday the cluster's (in TXN),
 * replacing random ones or another secret's. */
static int cluster_salts_txn(struct store *st, MDB_txn *txn, uint32_t today)
{
    for (uint32_t day = today ? today - 1 : 0; day <= today; day++) {
        uint8_t kb[8], salt[VISITOR_SALT_LEN];
        salt_key(kb, day);
        visitor_cluster_salt(&st->cluster, day, salt);
        MDB_val k = { 8, kb }, v;
        if (mdb_get(txn, st->dbi[DB_META], &k, &v) == 0 &&
            v.mv_size == sizeof salt && memcmp(v.mv_data, salt,
                                               sizeof salt) == 0)
            continue;
        v = (MDB_val){ sizeof salt, salt };
        int rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Creates TODAY's salt in TXN if missing (clustered: derives today's and
 * yesterday's); deletes salts no longer live. */
static int salts_rotate_txn(struct store *st, MDB_txn *txn, uint32_t today)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_META], &cur);
    if (rc != 0)
        return rc;
    uint8_t kb[8];
    salt_key(kb, 0);
    MDB_val k = { 8, kb }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    uint32_t day;
    while (rc == 0 && salt_key_day(&k, &day)) {
        if (!visitor_salt_live(day, today) && day != today) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* after a delete:
                                                            the next one */
            continue;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (st->clustered)
        return cluster_salts_txn(st, txn, today);
    salt_key(kb, today);
    k.mv_size = 8;
    k.mv_data = kb;
    if (mdb_get(txn, st->dbi[DB_META], &k, &v) == 0)
        return 0;
    uint8_t salt[VISITOR_SALT_LEN];
    if (crypto_random(salt, sizeof salt) != 0)
        return EIO;
    v.mv_size = sizeof salt;
    v.mv_data = salt;
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

static int salt_read_txn(struct store *st, MDB_txn *txn, uint32_t day,
                         uint8_t salt[VISITOR_SALT_LEN])
{
    uint8_t kb[8];
    salt_key(kb, day);
    MDB_val k = { 8, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != VISITOR_SALT_LEN)
        return MDB_CORRUPTED;
    memcpy(salt, v.mv_data, VISITOR_SALT_LEN);
    return 0;
}

/* salts_rotate_txn for the day at CTX, as a store_write body. */
static int salt_rotate_body(struct store *st, MDB_txn *txn, void *ctx)
{
    return salts_rotate_txn(st, txn, *(const uint32_t *)ctx);
}

int store_salt_rotate(struct store *st, uint32_t today)
{
    return store_write(st, salt_rotate_body, &today) ? -1 : 0;
}

int store_salt_get(struct store *st, uint32_t day, uint8_t salt[16])
{
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    int rc = salt_read_txn(st, txn, day, salt);
    store_read_end(st, txn);
    return rc == 0 ? 0 : rc == MDB_NOTFOUND ? 1 : -1;
}

/* Makes the writer's salts those of TODAY (inside the batch's TXN). */
int store_writer_salts(struct store *st, MDB_txn *txn, uint32_t today)
{
    if (st->salt_day == today)
        return 0;
    int rc = salts_rotate_txn(st, txn, today);
    if (rc == 0)
        rc = salt_read_txn(st, txn, today, st->salt_today);
    if (rc != 0)
        return rc;
    st->have_yesterday =
        salt_read_txn(st, txn, today - 1, st->salt_yesterday) == 0;
    st->salt_day = today;
    return 0;
}

int store_keyed_hash(struct store *st, const char *prefix, const char *data,
                     size_t n, uint8_t out[32])
{
    uint8_t msg[8 + 512];
    size_t pl = strlen(prefix);
    if (!st->have_secret || pl > 8)
        return -1;
    if (n > 512)
        n = 512;
    memcpy(msg, prefix, pl);
    memcpy(msg + pl, data, n);
    crypto_hmac(CRYPTO_SHA256, st->secret, sizeof st->secret, msg, pl + n,
                out);
    return 0;
}

/* Finds the name of site ID in TXN into E; 0, or an LMDB error. */
static int site_name_find(struct store *st, MDB_txn *txn, uint32_t id,
                          struct env_site_name *e)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_SITES], &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct site s;
        if (k.mv_size > sizeof e->name ||
            site_unpack(k.mv_data, k.mv_size, &v, &s) != 0 || s.id != id)
            continue;
        e->id = id;
        e->len = (uint8_t)k.mv_size;
        memcpy(e->name, k.mv_data, k.mv_size);
        break;
    }
    mdb_cursor_close(cur);
    return rc;
}

uint64_t store_visitor_hash(struct store *st, MDB_txn *txn,
                            const uint8_t *salt, uint32_t site_id,
                            const struct ipaddr *addr, const char *ua,
                            size_t ualen)
{
    if (!st->clustered || site_id == 0)
        return visitor_hash(salt, site_id, addr, ua, ualen);
    /* ids are never reused (site_seq only grows): a cached name stays
     * true; a site gone from the list hashes by its id */
    struct env_site_name *e =
        &st->site_names[site_id % SITE_NAMES_CACHED];
    if (e->id != site_id && site_name_find(st, txn, site_id, e) != 0)
        return visitor_hash(salt, site_id, addr, ua, ualen);
    return visitor_hash_named(salt, e->name, e->len, addr, ua, ualen);
}

/* The keyed identity of an identify event's lower-cased sha256 hex. */
void store_identity_of(struct store *st, const char *hex, size_t n,
                       uint8_t out[32])
{
    if (store_keyed_hash(st, "e:", hex, n, out) != 0)
        memset(out, 0, 32);
}

static bool site_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > EVENT_SITE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-'))
            return false;
    }
    return true;
}

/* A site record to write: its name and origins (checked). */
struct site_write {
    const char *name;
    const char *const *origins;
    size_t norigins;
    bool clear;            /* no origins: remove an existing site's */
    uint32_t id;           /* out: the site's id */
    bool created;          /* out: it was new */
};

/* Writes the site record of W (CTX), taking a new id for a new site; an
 * existing site keeps its id, and its origins when W has none and does
 * not clear them. */
static int site_put_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct site_write *w = ctx;
    MDB_val k = { strlen(w->name), (void *)w->name }, v;
    int rc = mdb_get(txn, st->dbi[DB_SITES], &k, &v);
    w->created = rc == MDB_NOTFOUND;
    if (rc == 0 && site_id_read(&v, &w->id)) {
        /* an existing site keeps its id */
    } else if (rc == MDB_NOTFOUND) {
        MDB_val sk = { 8, "site_seq" }, sv;
        uint32_t last = 0;
        if (mdb_get(txn, st->dbi[DB_META], &sk, &sv) != 0 ||
            !u32_read(&sv, &last))
            last = 0;
        uint8_t nb[U32_REC_LEN];
        u32_pack(nb, last + 1);
        sv = (MDB_val){ sizeof nb, nb };
        rc = mdb_put(txn, st->dbi[DB_META], &sk, &sv, 0);
        w->id = last + 1;
    }
    if (rc != 0 || (!w->created && w->norigins == 0 && !w->clear))
        return rc;
    uint8_t buf[SITE_REC_MAX];
    v = (MDB_val){ site_pack(buf, w->id, w->origins, w->norigins), buf };
    return mdb_put(txn, st->dbi[DB_SITES], &k, &v, 0);
}

int store_site_put(struct store *st, const char *name,
                   const char *const *origins, size_t norigins,
                   uint32_t *id, bool *created, char *err, size_t errlen)
{
    if (!site_name_ok(name)) {
        snprintf(err, errlen, "site name must be 1–%d of [a-z0-9.-]",
                 EVENT_SITE_MAX);
        return -1;
    }
    if (norigins > STORE_MAX_ORIGINS) {
        snprintf(err, errlen, "at most %d origins", STORE_MAX_ORIGINS);
        return -1;
    }
    for (size_t i = 0; i < norigins; i++) {
        size_t len = strlen(origins[i]);
        if (len == 0 || len > STORE_ORIGIN_MAX) {
            snprintf(err, errlen, "origin too long: %s", origins[i]);
            return -1;
        }
    }
    struct site_write w = { name, origins, norigins, false, 0, false };
    int rc = store_write(st, site_put_txn, &w);
    if (rc != 0)
        return set_err(err, errlen, "site", rc);
    *id = w.id;
    *created = w.created;
    return 0;
}

int store_site_put_any(struct store *st, const char *name, uint32_t *id,
                       bool *created, char *err, size_t errlen)
{
    if (!site_name_ok(name)) {
        snprintf(err, errlen, "site name must be 1–%d of [a-z0-9.-]",
                 EVENT_SITE_MAX);
        return -1;
    }
    struct site_write w = { name, NULL, 0, true, 0, false };
    int rc = store_write(st, site_put_txn, &w);
    if (rc != 0)
        return set_err(err, errlen, "site", rc);
    *id = w.id;
    *created = w.created;
    return 0;
}

int store_site_get(struct store *st, const char *name, size_t len,
                   struct site *out)
{
    if (len == 0 || len > EVENT_SITE_MAX)
        return 1;
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    MDB_val k = { len, (void *)name }, v;
    int rc = mdb_get(txn, st->dbi[DB_SITES], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : site_unpack(name, len, &v, out);
    store_read_end(st, txn);
    return out_rc;
}

int store_site_get_memo(struct store *st, const char *name, size_t len,
                        struct site_memo *m, const struct site **out)
{
    MDB_envinfo info;
    *out = NULL;
    if (len == 0 || len > EVENT_SITE_MAX)
        return 1;
    if (store_map_info(st, &info, NULL) != 0)
        return -1;
    bool same = m->st == st && m->txnid == info.me_last_txnid &&
                m->len == len && memcmp(m->site.name, name, len) == 0;
    if (!same) {
        /* The transaction id is read before the lookup: a commit between
         * the two leaves M older than its data, and only costs a lookup. */
        m->st = NULL;
        int rc = store_site_get(st, name, len, &m->site);
        if (rc < 0)
            return -1;
        memcpy(m->site.name, name, len);
        m->site.name[len] = '\0';
        m->st = st;
        m->txnid = info.me_last_txnid;
        m->rc = rc;
        m->len = len;
    }
    if (m->rc == 0)
        *out = &m->site;
    return m->rc;
}

int store_site_each(struct store *st,
                    int (*fn)(void *ctx, const struct site *s), void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_read_cursor(st, DB_SITES, &txn, &cur) != 0)
        return -1;
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        struct site s;
        if (site_unpack(k.mv_data, k.mv_size, &v, &s) == 0 && fn(ctx, &s))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* One key and value to put in meta. */
struct meta_put {
    MDB_val k, v;
};

static int meta_put_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct meta_put *p = ctx;
    return mdb_put(txn, st->dbi[DB_META], &p->k, &p->v, 0);
}

int store_site_note_put(struct store *st, uint32_t site_id, const char *name,
                        const void *data, size_t len, char *err,
                        size_t errlen)
{
    uint8_t kb[8 + STORE_NOTE_NAME_MAX];
    size_t klen = note_key(kb, site_id, name);
    if (klen == 0 || len > STORE_NOTE_MAX) {
        snprintf(err, errlen, "note %s: bad name or longer than %d bytes",
                 name, STORE_NOTE_MAX);
        return -1;
    }
    struct meta_put p = { { klen, kb }, { len, (void *)data } };
    int rc = store_write(st, meta_put_txn, &p);
    return rc ? set_err(err, errlen, "note", rc) : 0;
}

int store_site_note_get(struct store *st, uint32_t site_id, const char *name,
                        void *buf, size_t cap, size_t *len)
{
    uint8_t kb[8 + STORE_NOTE_NAME_MAX];
    size_t klen = note_key(kb, site_id, name);
    if (klen == 0)
        return -1;
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    MDB_val k = { klen, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    int out = rc == MDB_NOTFOUND ? 1 : rc != 0 || v.mv_size > cap ? -1 : 0;
    if (out == 0) {
        memcpy(buf, v.mv_data, v.mv_size);
        *len = v.mv_size;
    }
    store_read_end(st, txn);
    return out;
}

static int token_put_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct meta_put *p = ctx;
    return mdb_put(txn, st->dbi[DB_TOKENS], &p->k, &p->v, 0);
}

int store_token_put(struct store *st, const struct store_token *t,
                    char *err, size_t errlen)
{
    uint8_t buf[TOKEN_REC_MAX];
    size_t sl = strlen(t->site), nl = strlen(t->name);
    if (sl == 0 || sl > EVENT_SITE_MAX || nl > STORE_TOKEN_NAME_MAX) {
        snprintf(err, errlen, "bad site or token name");
        return -1;
    }
    struct meta_put p = { { 32, (void *)t->hash },
                          { token_pack(t, buf), buf } };
    int rc = store_write(st, token_put_txn, &p);
    return rc ? set_err(err, errlen, "token", rc) : 0;
}

int store_token_get(struct store *st, const uint8_t hash[32],
                    struct store_token *out)
{
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    MDB_val k = { 32, (void *)hash }, v;
    int rc = mdb_get(txn, st->dbi[DB_TOKENS], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : token_unpack(&k, &v, out);
    store_read_end(st, txn);
    return out_rc;
}

int store_token_each(struct store *st,
                     int (*fn)(void *ctx, const struct store_token *t),
                     void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_read_cursor(st, DB_TOKENS, &txn, &cur) != 0)
        return -1;
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        struct store_token t;
        if (token_unpack(&k, &v, &t) == 0 && fn(ctx, &t))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* The token whose hash starts with the N bytes at PREFIX, to delete. */
struct token_del {
    const uint8_t *prefix;
    size_t n;
    int found;             /* out: how many tokens match */
};

/* Deletes the token of D (CTX) if exactly one matches. */
static int token_delete_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct token_del *d = ctx;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_TOKENS], &cur);
    if (rc != 0)
        return rc;
    uint8_t kb[32] = { 0 }, match[32];
    memcpy(kb, d->prefix, d->n);
    MDB_val k = { 32, kb }, v;
    d->found = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && memcmp(k.mv_data, d->prefix, d->n) == 0) {
        memcpy(match, k.mv_data, 32);
        d->found++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (d->found != 1)
        return 0;
    k = (MDB_val){ 32, match };
    return mdb_del(txn, st->dbi[DB_TOKENS], &k, NULL);
}

int store_token_delete(struct store *st, const uint8_t *prefix, size_t n)
{
    struct token_del d = { prefix, n, 0 };
    if (n == 0 || n > 32 || store_write(st, token_delete_txn, &d) != 0)
        return -1;
    return d.found == 1 ? 0 : d.found == 0 ? 1 : 2;
}

/* The bounds of this process's mapping holding address P, read from
 * /proc/self/maps; only a map of a file named data.mdb. Returns 0, or
 * -1. */
static int mapping_of(const void *p, uintptr_t *start, uintptr_t *end)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t at = (uintptr_t)p;
    int rc = -1;
    if (f == NULL)
        return -1;
    while (rc != 0 && fgets(line, sizeof line, f) != NULL) {
        char *dash, *sp;
        unsigned long long s = strtoull(line, &dash, 16), e;
        if (*dash != '-')
            continue;
        e = strtoull(dash + 1, &sp, 16);
        size_t n = strlen(line);
        if (s <= at && at < e && n > 10 &&
            strcmp(line + n - 10, "/data.mdb\n") == 0) {
            *start = (uintptr_t)s;
            *end = (uintptr_t)e;
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

int store_release_pages(struct store *st)
{
    /* any record read points into the map: find the mapping around it */
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uintptr_t start = 0, end = 0;
    /* held throughout: the map cannot move between finding and dropping */
    pthread_rwlock_rdlock(&st->resize_lock);
    int rc = store_read_cursor(st, DB_META, &txn, &cur);
    if (rc == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc == 0)
            rc = mapping_of(v.mv_size ? v.mv_data : k.mv_data, &start,
                            &end);
        store_read_cursor_end(st, txn, cur);
    }
    /* a shared file map: the pages stay in the page cache, and a later
     * read faults them in again */
    if (rc == 0)
        rc = madvise((void *)start, end - start, MADV_DONTNEED);
    pthread_rwlock_unlock(&st->resize_lock);
    return rc == 0 ? 0 : -1;
}
