/* store.c — see store.h: opening the environment (its databases, the
 * schema version and the migration from older schemas), and closing it.
 * The store's files, top to bottom (none calls one above it):
 *   store.c                open, migrate, close
 *   writer.c               the queue, the writer and syncer threads
 *   apply.c, migrate.c     what an event writes; schema 1 -> 2 -> 3
 *   rollups.c, ticketdb.c  reading and settling rollups; tickets
 *   check.c                dwell check: every record decoded, rollups
 *                          against the raw events
 *   env.c                  the environment, the one write path, salts,
 *                          sites, notes, tokens, raw events
 *   codec.c                the keys and records of every database */
#define _POSIX_C_SOURCE 200809L
#include "dwell/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/time.h"
#include "dwell/log.h"
#include "store/codec.h"
#include "store/dict.h"
#include "store/env.h"
#include "store/fault.h"
#include "store/migrate.h"
#include "store/rekey.h"
#include "store/rollups.h"
#include "store/ship.h"
#include "store/writer.h"

#define SCHEMA_VERSION     7    /* 1: no recent and heads databases;
                                   2: event records of version 1;
                                   3: a cum row on every day;
                                   4: no dictionary, event records of
                                   version 2;
                                   5: cum rows in "cum";
                                   6: events keys of 12 bytes */
#define DEFAULT_MAP_SIZE   ((size_t)256 << 20)

static const char *const db_names[DB_COUNT] = {
    "meta", "sites", "events", "views", "articles", "daily", "daily_dim",
    "seen", "links", "searched", "tokens", "cum", "dirty", "visits",
    "idents", "tickets", "ticket_times", "recent", "heads", "dict",
    "dict_ids"
};

/* What opening the databases found. */
struct open_found {
    bool older;            /* read-only: a database or the migration is
                              missing (written by an older dwell) */
    uint32_t migrated;     /* the schema brought to SCHEMA_VERSION, or 0 */
    uint32_t schema;       /* the version found, when not one we read */
};

/* Whether events keys of schema 6 are still to be moved (an opening that
 * moved them was cut short). */
static bool rekey_pending(struct store *st, MDB_txn *txn)
{
    MDB_val k = { sizeof REKEY_META - 1, REKEY_META }, v;
    return mdb_get(txn, st->dbi[DB_META], &k, &v) == 0;
}

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
    int rc = st->readonly ? 0 : ship_log_open(st, txn);
    if (rc != 0)
        return rc;
    MDB_val k = { 6, "schema" }, v;
    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    uint32_t found = 0;
    if (rc == 0 && !u32_read(&v, &found))
        found = 0;
    if (rc == 0 && found >= 1 && found < SCHEMA_VERSION) {
        f->older = st->readonly;       /* let a writable opening migrate */
        if (st->readonly)
            return MDB_NOTFOUND;
        if (found == 1 && (rc = store_migrate_v1(st, txn)) != 0)
            return rc;
        if (found <= 2 && (rc = store_migrate_v2(st, txn)) != 0)
            return rc;
        if (found <= 3 && (rc = store_migrate_v3(st, txn)) != 0)
            return rc;
        if (found <= 4 && (rc = store_migrate_v4(st, txn)) != 0)
            return rc;
        if (found <= 5 && (rc = store_migrate_v5(st, txn)) != 0)
            return rc;
        if ((rc = store_migrate_v6(st, txn)) != 0)
            return rc;
        f->migrated = found;
        rc = MDB_NOTFOUND;             /* write the current version below */
    } else if (rc == 0 && found != SCHEMA_VERSION) {
        f->schema = found;
        return MDB_INCOMPATIBLE;
    } else if (rc == 0 && st->readonly && rekey_pending(st, txn)) {
        f->older = true;               /* events under both key layouts */
        return MDB_NOTFOUND;
    }
    if (rc != MDB_NOTFOUND || st->readonly)
        return rc == MDB_NOTFOUND ? 0 : rc;
    uint8_t ver[U32_REC_LEN];
    u32_pack(ver, SCHEMA_VERSION);
    v = (MDB_val){ sizeof ver, ver };
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
        log_info("store: data migrated from schema %u to %d", f.migrated,
                 SCHEMA_VERSION);
    size_t n = 0;
    if (!st->readonly && (rc = store_recode_events(st, &n)) != 0)
        return set_err(err, errlen, "rewriting event records", rc);
    if (n > 0)
        log_info("store: %zu event records rewritten in the current "
                 "version", n);
    n = 0;
    if (!st->readonly && (rc = store_rekey_events(st, &n)) != 0)
        return set_err(err, errlen, "moving events keys", rc);
    if (n > 0)
        log_info("store: %zu events keys moved to schema %d's layout", n,
                 SCHEMA_VERSION);
    n = 0;
    if (!st->readonly && (rc = store_thin_cum(st, &n)) != 0)
        return set_err(err, errlen, "thinning cumulative rows", rc);
    if (n > 0)
        log_info("store: %zu cumulative rows dropped (one every %d days "
                 "kept)", n, CUM_STRIDE);
    n = 0;
    if (!st->readonly && (rc = store_gather_dims(st, &n)) != 0)
        return set_err(err, errlen, "gathering breakdowns", rc);
    if (n > 0)
        log_info("store: %zu breakdowns gathered into a row per day", n);
    return 0;
}

/* Checks DIR's data file before LMDB maps it: an empty data.mdb is never
 * a store (a fresh one gets its two meta pages as it is created), so it is
 * refused rather than silently created anew over what the directory held.
 * Returns 0 (also when there is no data.mdb yet), or -1 with a reason. */
static int data_file_precheck(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &sb) != 0)
        return 0;
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        return -1;
    }
    if (sb.st_size > 0)
        return 0;
    snprintf(err, errlen, "%s is empty: the store's data is gone (the file "
             "was truncated or replaced); refusing to create a new store "
             "over it (sites, tokens and the server secret would be lost "
             "silently). Restore a backup, or remove data.mdb and lock.mdb "
             "to start an empty store", path);
    return -1;
}

/* Checks the opened environment against LMDB's own metadata before any
 * transaction touches its pages: the data file must hold every page up to
 * the last one the meta page names (a shorter file would kill the process
 * with SIGBUS on the first read past its end), and the main database's
 * pages must fit below it. Returns 0, or -1 with a reason in ERR. */
static int data_file_postcheck(MDB_env *env, const char *dir, char *err,
                               size_t errlen)
{
    char path[4096];
    struct stat sb;
    MDB_envinfo info;
    MDB_stat ms;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &ms) != 0 ||
        ms.ms_psize == 0) {
        snprintf(err, errlen, "%s is damaged: its meta page cannot be read",
                 path);
        return -1;
    }
    unsigned long long need = ((unsigned long long)info.me_last_pgno + 1) *
                              ms.ms_psize;
    if ((unsigned long long)sb.st_size < need) {
        snprintf(err, errlen, "%s is damaged: it is %llu bytes but its meta "
                 "page names %llu pages of %u bytes (%llu bytes); the file "
                 "was cut short. Restore a backup (dwell check --data DIR "
                 "tells what is readable)", path,
                 (unsigned long long)sb.st_size,
                 (unsigned long long)info.me_last_pgno + 1, ms.ms_psize, need);
        return -1;
    }
    unsigned long long pages = (unsigned long long)ms.ms_branch_pages +
                               ms.ms_leaf_pages + ms.ms_overflow_pages;
    if (ms.ms_depth > 32 || pages > info.me_last_pgno + 1 ||
        (unsigned long long)info.me_mapsize < need) {
        snprintf(err, errlen, "%s is damaged: its meta page does not "
                 "validate (depth %u, %llu pages of %llu)", path,
                 ms.ms_depth, pages,
                 (unsigned long long)info.me_last_pgno + 1);
        return -1;
    }
    return 0;
}

/* Creates ST's environment and opens it in DIR with FLAGS, after checking
 * the data file before and after (see above). Returns 0, or -1 with a
 * reason in ERR (st->env may then be set: the caller closes it). */
static int env_open_checked(struct store *st, const char *dir,
                            unsigned flags, bool set_size, char *err,
                            size_t errlen)
{
    if (data_file_precheck(dir, err, errlen) != 0)
        return -1;
    int rc = mdb_env_create(&st->env);
    if (rc == 0) rc = mdb_env_set_maxdbs(st->env, DB_COUNT + 2);
    if (rc == 0) rc = mdb_env_set_maxreaders(st->env, 256);
    if (rc == 0) mdb_env_set_assert(st->env, fault_lmdb_assert);
    if (rc == 0 && set_size) rc = mdb_env_set_mapsize(st->env, st->map_size);
    if (rc == 0) rc = mdb_env_open(st->env, dir, flags, 0600);
    if (rc == 0 && data_file_postcheck(st->env, dir, err, errlen) != 0)
        return -1;
    MDB_envinfo info;
    if (rc == 0 && mdb_env_info(st->env, &info) == 0)
        fault_watch_map(info.me_mapaddr, info.me_mapsize);
    if (rc == 0)
        return 0;
    if ((flags & MDB_RDONLY) && rc == ENOENT)
        snprintf(err, errlen, "no dwell data in %s", dir);
    else if (rc == MDB_INVALID)
        snprintf(err, errlen, "%s/data.mdb is damaged: its meta pages do "
                 "not validate (not an LMDB data file, or cut to less than "
                 "two pages). Restore a backup", dir);
    else
        set_err(err, errlen, dir, rc);
    return -1;
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
    free(st->rows);
    dict_free(st);
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
    st->forced_every_us = opt->chores_every_ms
                          ? (uint64_t)opt->chores_every_ms * 1000u
                          : CHORES_FORCED_EVERY_US;
    st->starved_us = opt->starved_ms ? (uint64_t)opt->starved_ms * 1000u
                                     : CHORES_STARVED_US;
    st->engage_allowance_us = (opt->engage_allowance_ms
                               ? opt->engage_allowance_ms : 30000) * 1000u;
    st->map_size = opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
    st->retention_days = opt->retention_days;
    st->queue_cap = opt->queue_cap ? opt->queue_cap : DEFAULT_QUEUE_CAP;
    pthread_rwlock_init(&st->resize_lock, NULL);
    pthread_mutex_init(&st->mu, NULL);
    /* timed waits: on a clock that never steps */
    int crc = time_cond_init_monotonic(&st->wake);
    if (crc == 0)
        crc = time_cond_init_monotonic(&st->idle);
    if (crc == 0)
        crc = time_cond_init_monotonic(&st->sync_wake);
    if (crc != 0) {
        snprintf(err, errlen, "store: %s", strerror(crc));
        goto fail;
    }
    pthread_mutex_init(&st->write_mu, NULL);

    unsigned flags = MDB_NOTLS;
    if (opt->readonly)
        flags |= MDB_RDONLY;
    else if (opt->durability != STORE_FSYNC)
        flags |= MDB_NOSYNC;
    if (env_open_checked(st, dir, flags, true, err, errlen) != 0)
        goto fail;
    MDB_envinfo info;
    if (mdb_env_info(st->env, &info) == 0 && info.me_mapsize > st->map_size)
        st->map_size = info.me_mapsize;
    int dead = 0;
    mdb_reader_check(st->env, &dead);
    if (dead > 0)
        log_warn("store: cleared %d stale reader slot(s)", dead);
    int rc = open_dbs(st, err, errlen);
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
        if (env_open_checked(st, dir, flags, false, err, errlen) != 0)
            goto fail;
        rc = open_dbs(st, err, errlen);
    }
    if (rc != 0)
        goto fail;
    if (opt->cluster_secret_len > 0)
        env_set_cluster(st, opt->cluster_secret, opt->cluster_secret_len);
    if (env_load_secret(st) != 0) {
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

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    store_stop_writer(st);
    store_ship_stop(st);
    mdb_env_close(st->env);
    store_free(st);
}
