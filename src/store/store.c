/* store.c — see store.h; the environment, the queue and its writer
 * thread, salts, sites, tokens and reading raw events. The layout of the
 * environment and how the store's files divide it: store_int.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/store.h"
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dwell/log.h"

#define SCHEMA_VERSION     2    /* 1: no recent and heads databases */
#define DEFAULT_MAP_SIZE   ((size_t)256 << 20)
#define MAX_MAP_SIZE       ((size_t)1 << 40)
#define DEFAULT_QUEUE_CAP  65536
#define BATCH_MAX_EVENTS   4096
#define UA_MAX             512

static const char *const db_names[DB_COUNT] = {
    "meta", "sites", "events", "views", "articles", "daily", "daily_dim",
    "seen", "links", "searched", "tokens", "cum", "dirty", "visits",
    "idents", "tickets", "ticket_times", "recent", "heads"
};

uint64_t store_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}


static int load_secret(struct store *st);

/* --- environment --------------------------------------------------------- */

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
    rc = fn(st, txn, ctx);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
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

/* What opening the databases found. */
struct open_found {
    bool older;            /* read-only: a database or the migration is
                              missing (written by an older dwell) */
    bool migrated;         /* schema 1 was brought to SCHEMA_VERSION */
    uint32_t schema;       /* the version found, when not one we read */
};

/* Opens every named database in TXN and checks (writable: migrates and
 * records) the schema version. Returns 0 or an LMDB error code; sets
 * F->older with MDB_NOTFOUND, F->schema with MDB_INCOMPATIBLE. */
static int open_dbs_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct open_found *f = ctx;
    unsigned dbflags = st->readonly ? 0 : MDB_CREATE;
    *f = (struct open_found){ 0 };
    for (int i = 0; i < DB_COUNT; i++) {
        int rc = mdb_dbi_open(txn, db_names[i], dbflags, &st->dbi[i]);
        f->older = rc == MDB_NOTFOUND && st->readonly;
        if (rc != 0)
            return rc;
    }
    MDB_val k = { 6, "schema" }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    uint32_t found = rc == 0 && v.mv_size == 4 ? get_be32(v.mv_data) : 0;
    if (rc == 0 && found == 1) {
        f->older = st->readonly;       /* let a writable opening migrate */
        if (st->readonly)
            return MDB_NOTFOUND;
        if ((rc = store_migrate_v1(st, txn)) != 0)
            return rc;
        f->migrated = true;
        rc = MDB_NOTFOUND;             /* write the current version below */
    } else if (rc == 0 && found != SCHEMA_VERSION) {
        f->schema = found;
        return MDB_INCOMPATIBLE;
    }
    if (rc != MDB_NOTFOUND || st->readonly)
        return rc == MDB_NOTFOUND ? 0 : rc;
    uint8_t ver[4];
    put_be32(ver, SCHEMA_VERSION);
    v = (MDB_val){ 4, ver };
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

/* Opens every named database and checks the schema version: through the
 * one write path when writable, in a read transaction (committed, which
 * keeps the handles) when not. Returns 0; 1 when read-only and the data
 * was written by an older dwell (a writable opening must bring it up to
 * date first); or -1 with a reason in ERR. */
static int open_dbs(struct store *st, char *err, size_t errlen)
{
    struct open_found f;
    int rc;
    if (st->readonly) {
        MDB_txn *txn;
        if ((rc = store_txn_begin(st, MDB_RDONLY, &txn)) != 0)
            return set_err(err, errlen, "begin", rc);
        rc = open_dbs_txn(st, txn, &f);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    } else {
        rc = store_write(st, open_dbs_txn, &f);
    }
    if (rc != 0 && f.older)
        return 1;
    if (rc == MDB_INCOMPATIBLE && f.schema != SCHEMA_VERSION) {
        snprintf(err, errlen, "data was written by another dwell version "
                 "(schema %u, expected %u)", f.schema, SCHEMA_VERSION);
        return -1;
    }
    if (rc != 0)
        return set_err(err, errlen, "opening the databases", rc);
    if (f.migrated)
        log_info("store: data migrated from schema 1 to %d", SCHEMA_VERSION);
    return 0;
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

/* Reads the server secret, creating it when the store is writable. */
static int load_secret(struct store *st)
{
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
    if (visitor_new_salt(fresh) != 0 || visitor_new_salt(fresh + 16) != 0 ||
        store_write(st, secret_txn, fresh) != 0)
        return -1;
    st->have_secret = true;
    return 0;
}

/* Frees ST and its locks (the environment is closed). */
static void store_free(struct store *st)
{
    pthread_rwlock_destroy(&st->resize_lock);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->idle);
    pthread_cond_destroy(&st->sync_wake);
    pthread_mutex_destroy(&st->write_mu);
    free(st);
}

int store_open(const char *dir, const struct store_options *opt,
               struct store **out, char *err, size_t errlen)
{
    struct stat sb;
    if (opt->readonly && stat(dir, &sb) != 0) {
        snprintf(err, errlen, "no dwell data in %s", dir);
        return -1;
    }
    if (!opt->readonly && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    struct store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->durability = opt->durability;
    st->readonly = opt->readonly;
    st->manual_settle = opt->manual_settle;
    st->purge_first_us = opt->purge_first_ms
                         ? (uint64_t)opt->purge_first_ms * 1000u
                         : PURGE_FIRST_US;
    if (st->purge_first_us > PURGE_EVERY_US)
        st->purge_first_us = PURGE_EVERY_US;
    st->starved_us = opt->starved_ms ? (uint64_t)opt->starved_ms * 1000u
                                     : CHORES_STARVED_US;
    st->map_size = opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
    st->queue_cap = opt->queue_cap ? opt->queue_cap : DEFAULT_QUEUE_CAP;
    pthread_rwlock_init(&st->resize_lock, NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_condattr_t ca;                 /* timed waits: a clock that
                                              never steps */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->wake, &ca);
    pthread_cond_init(&st->idle, &ca);
    pthread_cond_init(&st->sync_wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&st->write_mu, NULL);

    unsigned flags = MDB_NOTLS;
    if (opt->readonly)
        flags |= MDB_RDONLY;
    else if (opt->durability != STORE_FSYNC)
        flags |= MDB_NOSYNC;
    int rc = mdb_env_create(&st->env);
    if (rc == 0) rc = mdb_env_set_maxdbs(st->env, DB_COUNT + 2);
    if (rc == 0) rc = mdb_env_set_maxreaders(st->env, 256);
    if (rc == 0) rc = mdb_env_set_mapsize(st->env, st->map_size);
    if (rc == 0) rc = mdb_env_open(st->env, dir, flags, 0600);
    if (rc != 0) {
        if (opt->readonly && rc == ENOENT)
            snprintf(err, errlen, "no dwell data in %s", dir);
        else
            set_err(err, errlen, dir, rc);
        goto fail;
    }
    MDB_envinfo info;
    if (mdb_env_info(st->env, &info) == 0 && info.me_mapsize > st->map_size)
        st->map_size = info.me_mapsize;
    int dead = 0;
    mdb_reader_check(st->env, &dead);
    if (dead > 0)
        log_warn("store: cleared %d stale reader slot(s)", dead);
    rc = open_dbs(st, err, errlen);
    if (rc == 1) {
        /* an environment from an older dwell lacks a database: let a
         * writable opening create it, then read as asked */
        mdb_env_close(st->env);
        st->env = NULL;
        struct store_options rw = *opt;
        struct store *tmp;
        rw.readonly = false;
        if (store_open(dir, &rw, &tmp, err, errlen) != 0)
            goto fail;
        store_close(tmp);
        rc = mdb_env_create(&st->env);
        if (rc == 0) rc = mdb_env_set_maxdbs(st->env, DB_COUNT + 2);
        if (rc == 0) rc = mdb_env_set_maxreaders(st->env, 256);
        if (rc == 0) rc = mdb_env_open(st->env, dir, flags, 0600);
        if (rc != 0) {
            set_err(err, errlen, dir, rc);
            goto fail;
        }
        rc = open_dbs(st, err, errlen);
    }
    if (rc != 0)
        goto fail;
    if (load_secret(st) != 0) {
        snprintf(err, errlen, "cannot read or create the server secret");
        goto fail;
    }
    *out = st;
    return 0;
fail:
    if (st->env)
        mdb_env_close(st->env);
    store_free(st);
    return -1;
}

/* --- the queue ----------------------------------------------------------- */

/* The time MS milliseconds from now on CLOCK_MONOTONIC, the clock of the
 * store's condition variables. */
static struct timespec deadline_in(unsigned ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

int store_enqueue(struct store *st, const struct event *evs, size_t n,
                  const struct ipaddr *addr, const char *ua, size_t ualen,
                  store_ack_fn ack, void *ctx)
{
    return store_enqueue_at(st, 0, evs, n, addr, ua, ualen, ack, ctx);
}

int store_enqueue_at(struct store *st, uint64_t time_us,
                     const struct event *evs, size_t n,
                     const struct ipaddr *addr, const char *ua, size_t ualen,
                     store_ack_fn ack, void *ctx)
{
    uint8_t recs[EVENT_MAX_BATCH * (2 + EVENT_RECORD_MAX)];
    if (n == 0 || n > EVENT_MAX_BATCH)
        return -1;
    if (ualen > UA_MAX)
        ualen = UA_MAX;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int len = event_within_limits(&evs[i])
                ? event_encode(&evs[i], recs + used + 2, EVENT_RECORD_MAX)
                : -1;
        if (len < 0)
            return -1;
        recs[used] = (uint8_t)(len >> 8);
        recs[used + 1] = (uint8_t)len;
        used += 2 + (size_t)len;
    }
    struct slot *s = malloc(sizeof *s + ualen + used);
    if (s == NULL)
        return -1;
    s->next = NULL;
    s->ack = ack;
    s->ctx = ctx;
    s->addr = *addr;
    s->time_us = time_us ? time_us : store_now_us();
    s->backfill = time_us != 0;
    s->ualen = (uint16_t)ualen;
    s->nev = (uint16_t)n;
    if (ualen)
        memcpy(s->data, ua, ualen);
    memcpy(s->data + ualen, recs, used);
    s->len = ualen + used;

    pthread_mutex_lock(&st->mu);
    if (st->stop || (st->queued > 0 && st->queued + n > st->queue_cap)) {
        pthread_mutex_unlock(&st->mu);
        free(s);
        return STORE_EFULL;
    }
    assert((st->head == NULL) == (st->tail == NULL));
    assert(st->head != NULL || st->busy || st->queued == 0);
    if (st->tail)
        st->tail->next = s;
    else
        st->head = s;
    st->tail = s;
    st->queued += n;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

int store_drain(struct store *st, unsigned timeout_ms)
{
    struct timespec until = deadline_in(timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    while ((st->head != NULL || st->busy) && rc == 0)
        if (pthread_cond_timedwait(&st->idle, &st->mu, &until) == ETIMEDOUT)
            rc = -1;
    pthread_mutex_unlock(&st->mu);
    return rc;
}

void store_get_stats(struct store *st, struct store_stats *out)
{
    pthread_mutex_lock(&st->mu);
    *out = st->stats;
    out->queue_depth = st->queued;
    out->map_size = st->map_size;
    pthread_mutex_unlock(&st->mu);
}

/* --- salts --------------------------------------------------------------- */

static void salt_key(uint8_t key[8], uint32_t day)
{
    memcpy(key, "salt", 4);
    put_be32(key + 4, day);
}

/* Creates TODAY's salt in TXN if missing; deletes salts no longer live. */
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
    while (rc == 0 && k.mv_size == 8 && memcmp(k.mv_data, "salt", 4) == 0) {
        uint32_t day = get_be32((const uint8_t *)k.mv_data + 4);
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
    salt_key(kb, today);
    k.mv_size = 8;
    k.mv_data = kb;
    if (mdb_get(txn, st->dbi[DB_META], &k, &v) == 0)
        return 0;
    uint8_t salt[VISITOR_SALT_LEN];
    if (visitor_new_salt(salt) != 0)
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

/* --- the writer thread --------------------------------------------------- */

static bool queue_empty(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    bool empty = st->head == NULL;
    pthread_mutex_unlock(&st->mu);
    return empty;
}

/* One purge step; logs the pass when it ends.
 * Returns 1 while the pass goes on. */
static int purge_step(struct store *st)
{
    int rc = store_purge_step(st, &st->purged);
    if (rc == 1)
        return 1;
    st->purging = false;
    pthread_mutex_lock(&st->mu);
    st->stats.purged += st->purged;
    pthread_mutex_unlock(&st->mu);
    if (rc == 0 && st->purged > 0)
        log_info("store: purged %zu expired view/visitor records",
                 st->purged);
    return 0;
}

/* The writer's chores: settling rollups, and hourly the salt rotation and
 * a purge, in steps while the queue is empty. Under load that never lets
 * the queue empty, one step of each a second anyway, so that neither is
 * put off for good. */
static void writer_chores(struct store *st)
{
    uint64_t now = store_now_us();
    if (!st->purging && now - st->last_purge_us > PURGE_EVERY_US) {
        if (store_salt_rotate(st, day_of_us(now)) == 0)
            st->salt_day = 0;            /* reload at the next batch */
        st->purging = true;
        st->purged = 0;
        st->last_purge_us = now;
    }
    bool forced = false;
    if (queue_empty(st))
        st->idle_us = now;
    else if (now > st->idle_us && now - st->idle_us > st->starved_us &&
             (now < st->forced_us ||
              now - st->forced_us >= CHORES_FORCED_EVERY_US))
        forced = true;
    else
        return;
    while (!st->manual_settle && store_settle_step(st, SETTLE_CHUNK) == 1 &&
           !forced && queue_empty(st))
        ;
    while (st->purging && purge_step(st) == 1 && !forced && queue_empty(st))
        ;
    if (forced)
        st->forced_us = store_now_us();  /* a second between, not from */
}

/* Takes up to BATCH_MAX_EVENTS queued events (whole slots) off the queue;
 * waits up to one second for work. Returns NULL when there is none. */
static struct slot *take_batch(struct store *st, bool *stop)
{
    pthread_mutex_lock(&st->mu);
    if (st->head == NULL && !st->stop) {
        struct timespec until = deadline_in(1000);
        pthread_cond_timedwait(&st->wake, &st->mu, &until);
    }
    struct slot *head = st->head, *last = NULL;
    size_t n = 0;
    for (struct slot *s = head; s && n < BATCH_MAX_EVENTS; s = s->next) {
        n += s->nev;
        last = s;
    }
    if (last) {
        st->head = last->next;
        if (st->head == NULL)
            st->tail = NULL;
        last->next = NULL;
        st->busy = true;
    }
    *stop = st->stop && st->head == NULL && head == NULL;
    pthread_mutex_unlock(&st->mu);
    return last ? head : NULL;
}

/* Acknowledges every slot from HEAD with STATUS and frees them; updates
 * the counters. LAST: the writer is done with its batch. */
static void finish_slots(struct store *st, struct slot *head, int status,
                         size_t stored, bool last)
{
    size_t nev = 0;
    while (head) {
        struct slot *next = head->next;
        nev += head->nev;
        if (head->ack)
            head->ack(head->ctx, status);
        free(head);
        head = next;
    }
    pthread_mutex_lock(&st->mu);
    assert(st->queued >= nev);
    st->queued -= nev;
    if (status == 0) {
        st->stats.events_stored += stored;
        st->stats.batches++;
    } else {
        st->stats.write_errors++;
    }
    if (last) {
        st->busy = false;
        if (st->head == NULL)
            pthread_cond_broadcast(&st->idle);
    }
    pthread_mutex_unlock(&st->mu);
}

static void *writer_main(void *arg)
{
    struct store *st = arg;
    for (;;) {
        bool stop;
        struct slot *batch = take_batch(st, &stop);
        if (batch == NULL) {
            if (stop)
                break;
            writer_chores(st);
            continue;
        }
        size_t stored = 0;
        int rc = store_apply_batch(st, batch, &stored);
        if (rc == 0 || batch->next == NULL) {
            if (rc != 0)
                log_error("store: events not stored: %s", mdb_strerror(rc));
            finish_slots(st, batch, rc == 0 ? 0 : -1, stored, true);
        } else {
            /* one bad request must not fail the others: each on its own */
            while (batch) {
                struct slot *next = batch->next;
                batch->next = NULL;
                rc = store_apply_batch(st, batch, &stored);
                if (rc != 0)
                    log_error("store: events not stored: %s",
                              mdb_strerror(rc));
                finish_slots(st, batch, rc == 0 ? 0 : -1, stored,
                              next == NULL);
                batch = next;
            }
        }
        writer_chores(st);
    }
    return NULL;
}

/* Flushes committed data to disk; a failure is counted (stats.sync_errors,
 * shown by /healthz) and logged. */
static void env_sync(struct store *st)
{
    int rc = mdb_env_sync(st->env, 1);
    if (rc == 0)
        return;
    pthread_mutex_lock(&st->mu);
    st->stats.sync_errors++;
    pthread_mutex_unlock(&st->mu);
    log_error("store: flushing to disk: %s", mdb_strerror(rc));
}

/* Without per-commit syncs (commit and none modes), flushes committed data
 * to disk once a second, off the writer's path, so that a machine crash
 * loses at most about a second. */
static void *syncer_main(void *arg)
{
    struct store *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        struct timespec until = deadline_in(1000);
        pthread_cond_timedwait(&st->sync_wake, &st->mu, &until);
        pthread_mutex_unlock(&st->mu);
        env_sync(st);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

int store_start_writer(struct store *st, char *err, size_t errlen)
{
    if (st->readonly) {
        snprintf(err, errlen, "store opened read-only");
        return -1;
    }
    if (store_salt_rotate(st, day_of_us(store_now_us())) != 0) {
        snprintf(err, errlen, "cannot create today's visitor salt");
        return -1;
    }
    st->last_purge_us = store_now_us() - PURGE_EVERY_US + st->purge_first_us;
    st->idle_us = store_now_us();
    int rc = pthread_create(&st->writer, NULL, writer_main, st);
    if (rc != 0) {
        snprintf(err, errlen, "writer thread: %s", strerror(rc));
        return -1;
    }
    st->writer_running = true;
    if (st->durability == STORE_FSYNC)
        return 0;
    rc = pthread_create(&st->syncer, NULL, syncer_main, st);
    if (rc != 0) {
        snprintf(err, errlen, "sync thread: %s", strerror(rc));
        return -1;
    }
    st->syncer_running = true;
    return 0;
}

void store_stop_writer(struct store *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_signal(&st->wake);
    pthread_cond_signal(&st->sync_wake);
    pthread_mutex_unlock(&st->mu);
    if (st->writer_running)
        pthread_join(st->writer, NULL);
    if (st->syncer_running)
        pthread_join(st->syncer, NULL);
    pthread_mutex_lock(&st->mu);
    struct slot *left = st->head;      /* no writer ever took these */
    st->head = st->tail = NULL;
    pthread_mutex_unlock(&st->mu);
    if (left != NULL)
        finish_slots(st, left, -1, 0, true);
    if (st->writer_running && st->durability != STORE_FSYNC)
        env_sync(st);
    st->writer_running = false;
    st->syncer_running = false;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    store_stop_writer(st);
    mdb_env_close(st->env);
    store_free(st);
}

/* --- sites --------------------------------------------------------------- */

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

static int site_unpack(const char *name, size_t nlen, const MDB_val *v,
                       struct site *out)
{
    const uint8_t *p = v->mv_data;
    memset(out, 0, sizeof *out);
    if (v->mv_size < 5 || nlen > EVENT_SITE_MAX)
        return -1;
    memcpy(out->name, name, nlen);
    out->id = get_be32(p);
    size_t n = p[4], off = 5;
    for (size_t i = 0; i < n && i < STORE_MAX_ORIGINS; i++) {
        if (off >= v->mv_size)
            return -1;
        size_t len = p[off++];
        if (len > STORE_ORIGIN_MAX || off + len > v->mv_size)
            return -1;
        memcpy(out->origins[i], p + off, len);
        off += len;
        out->norigins++;
    }
    return 0;
}

/* A site record to write: BUF holds its origins from byte 5 on. */
struct site_write {
    const char *name;
    uint8_t *buf;
    size_t len, norigins;
    uint32_t id;           /* out: the site's id */
    bool created;          /* out: it was new */
};

/* Writes the site record of W (CTX), taking a new id for a new site; an
 * existing site keeps its id, and its origins when W has none. */
static int site_put_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct site_write *w = ctx;
    MDB_val k = { strlen(w->name), (void *)w->name }, v;
    int rc = mdb_get(txn, st->dbi[DB_SITES], &k, &v);
    w->created = rc == MDB_NOTFOUND;
    if (rc == 0 && v.mv_size >= 4) {
        w->id = get_be32(v.mv_data);
    } else if (rc == MDB_NOTFOUND) {
        MDB_val sk = { 8, "site_seq" }, sv;
        uint32_t next = 1;
        if (mdb_get(txn, st->dbi[DB_META], &sk, &sv) == 0 && sv.mv_size == 4)
            next = get_be32(sv.mv_data) + 1;
        uint8_t nb[4];
        put_be32(nb, next);
        sv = (MDB_val){ 4, nb };
        rc = mdb_put(txn, st->dbi[DB_META], &sk, &sv, 0);
        w->id = next;
    }
    if (rc != 0 || (!w->created && w->norigins == 0))
        return rc;
    put_be32(w->buf, w->id);
    v = (MDB_val){ w->len, w->buf };
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
    uint8_t buf[5 + STORE_MAX_ORIGINS * (1 + STORE_ORIGIN_MAX)];
    size_t off = 5;
    for (size_t i = 0; i < norigins; i++) {
        size_t len = strlen(origins[i]);
        if (len == 0 || len > STORE_ORIGIN_MAX) {
            snprintf(err, errlen, "origin too long: %s", origins[i]);
            return -1;
        }
        buf[off++] = (uint8_t)len;
        memcpy(buf + off, origins[i], len);
        off += len;
    }
    buf[4] = (uint8_t)norigins;
    struct site_write w = { name, buf, off, norigins, 0, false };
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

/* --- notes kept per site ---------------------------------------------------- */

/* The meta key of note NAME of SITE_ID: "note" site(4) name. Returns its
 * length, or 0 when NAME is not 1–STORE_NOTE_NAME_MAX of [a-z_]. */
static size_t note_key(uint8_t *kb, uint32_t site_id, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STORE_NOTE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_'))
            return 0;
    memcpy(kb, "note", 4);
    put_be32(kb + 4, site_id);
    memcpy(kb + 8, name, n);
    return 8 + n;
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

/* --- reading events ------------------------------------------------------ */

/* Sets EV->path from the article record when the event has none. */
static void fill_path(struct store *st, MDB_txn *txn, struct event *ev)
{
    if (ev->path.n > 0 || ev->article == 0)
        return;
    uint8_t kb[12];
    put_be32(kb, ev->site_id);
    put_be64(kb + 4, ev->article);
    MDB_val k = { sizeof kb, kb }, v;
    if (mdb_get(txn, st->dbi[DB_ARTICLES], &k, &v) != 0 || v.mv_size < 14)
        return;
    const uint8_t *p = v.mv_data;
    size_t n = (size_t)p[12] << 8 | p[13];
    if (14 + n > v.mv_size)
        return;
    ev->path.p = (const char *)p + 14;
    ev->path.n = (uint16_t)n;
}

int store_events_each(struct store *st, uint32_t site_id, uint64_t since_us,
                      size_t limit,
                      int (*fn)(void *ctx, const struct event *ev), void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_read_cursor(st, DB_EVENTS, &txn, &cur) != 0)
        return -1;
    uint8_t start[12];
    put_be64(start, since_us);
    put_be32(start + 8, 0);
    MDB_val k, v;
    struct event ev;
    int rc;
    if (limit > 0) {                  /* walk back to the LIMIT-th newest */
        size_t seen = 0;
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        while (rc == 0 && k.mv_size == 12 && get_be64(k.mv_data) >= since_us) {
            if (event_decode(v.mv_data, v.mv_size, &ev) == 0 &&
                ev.site_id == site_id && ++seen == limit) {
                memcpy(start, k.mv_data, 12);
                break;
            }
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        }
    }
    k.mv_size = sizeof start;
    k.mv_data = start;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        if (k.mv_size == 12 &&
            event_decode(v.mv_data, v.mv_size, &ev) == 0 &&
            ev.site_id == site_id) {
            ev.time_us = get_be64(k.mv_data);
            fill_path(st, txn, &ev);
            if (fn(ctx, &ev) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* --- tokens -------------------------------------------------------------- */

static int token_unpack(const MDB_val *k, const MDB_val *v,
                        struct store_token *out)
{
    const uint8_t *p = v->mv_data;
    memset(out, 0, sizeof *out);
    if (k->mv_size != 32 || v->mv_size < 11)
        return -1;
    memcpy(out->hash, k->mv_data, 32);
    out->scope = p[0] ? STORE_SCOPE_READ : STORE_SCOPE_FULL;
    out->created_us = get_be64(p + 1);
    size_t off = 9, n = p[off++];
    if (n > EVENT_SITE_MAX || off + n + 1 > v->mv_size)
        return -1;
    memcpy(out->site, p + off, n);
    off += n;
    n = p[off++];
    if (n > STORE_TOKEN_NAME_MAX || off + n > v->mv_size)
        return -1;
    memcpy(out->name, p + off, n);
    return 0;
}

static int token_put_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct meta_put *p = ctx;
    return mdb_put(txn, st->dbi[DB_TOKENS], &p->k, &p->v, 0);
}

int store_token_put(struct store *st, const struct store_token *t,
                    char *err, size_t errlen)
{
    uint8_t buf[11 + EVENT_SITE_MAX + STORE_TOKEN_NAME_MAX];
    size_t sl = strlen(t->site), nl = strlen(t->name);
    if (sl == 0 || sl > EVENT_SITE_MAX || nl > STORE_TOKEN_NAME_MAX) {
        snprintf(err, errlen, "bad site or token name");
        return -1;
    }
    buf[0] = t->scope == STORE_SCOPE_READ;
    put_be64(buf + 1, t->created_us);
    buf[9] = (uint8_t)sl;
    memcpy(buf + 10, t->site, sl);
    buf[10 + sl] = (uint8_t)nl;
    memcpy(buf + 11 + sl, t->name, nl);
    struct meta_put p = { { 32, (void *)t->hash }, { 11 + sl + nl, buf } };
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
