/* store.c — see store.h.
 *
 * Named databases (keys are big-endian so that they sort as numbers):
 *   meta       "schema" -> u32; "site_seq" -> u32; "salt"+day(4) -> 16 bytes
 *   sites      name -> id(4) norigins(1) {len(1) origin}...
 *   events     time_us(8) seq(4) -> event record (event_encode)
 *   views      site(4) view id -> struct view_rec
 *   articles   site(4) article(8) -> first_day(4) last_day(4) words(4)
 *                                    {len(2) path} {len(2) title} {len(2) cat}
 *   daily      site(4) article(8) day(4) class(1) -> rollup record, for
 *              settled days (see "recent rows")
 *   recent     the same, for days not yet settled: a small database that
 *              the writer updates with every event
 *   daily_dim  site(4) article(8) day(4) class(1) dim(1) value -> count(4)
 *   seen       day(4) site(4) article(8) visitor(8) -> ""
 *   links      site(4) link id -> time_us(8) article(8) visitor(8)
 *              visitor under the previous day's salt(8, 0 if none) view id
 *   visits     site(4) visitor(8) time_us(8) kind(1) -> kind 'v': article(8);
 *              kind 's': results flag(1) query  (who read and searched
 *              what, for ticket attribution; kept VISITS_KEEP_DAYS)
 *   idents     site(4) identity(32) time_us(8) -> visitor(8): identify
 *              events; identity = HMAC(secret, "e:" + sha256 hex of the
 *              e-mail); kept VISITS_KEEP_DAYS
 *   cum        site(4) article(8) day(4) class(1) -> rollup record: the sum
 *              of that article's daily rows of that class up to the day,
 *              kept for final days only (see "cumulative rollups")
 *   heads      site(4) article(8) class(1) -> first(4) last(4) rollup
 *              record: the days of that article's first and last cum rows
 *              and the last one's sum, read in article order by reports
 *   dirty      site(4) article(8) class(1) -> day(4): cum rows from that day
 *              on are stale (a final day changed) and must be rebuilt
 *   tickets    site(4) ticket id -> created_us(8) flags(1) [email key(32)]
 *              [requester key(32)] {len(1) link} {len(1) channel} tags
 *   ticket_times  site(4) created_us(8) ticket id -> ""
 *   tokens     sha256(token)(32) -> scope(1) created_us(8) {len(1) site}
 *                                    {len(1) name}
 *   searched   site(4) visitor(8) -> time_us(8) query   (the visitor's last
 *              search, for "searches that led here"; kept an hour)
 * meta also holds "secret" (32 random bytes: the key of keyed hashes),
 * "final" (the last settled day) and, while a settling pass runs,
 * "settling" (the day it settles to).
 * Article id 0 holds the site-wide rollup; class 0 is readers, 1 is bots. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dwell/clientaddr.h"
#include "dwell/log.h"
#include "dwell/rollup.h"
#include "dwell/sha256.h"
#include "dwell/visitor.h"

#define SCHEMA_VERSION     2    /* 1: no recent and heads databases */
#define DEFAULT_MAP_SIZE   ((size_t)256 << 20)
#define MAX_MAP_SIZE       ((size_t)1 << 40)
#define DEFAULT_QUEUE_CAP  65536
#define BATCH_MAX_EVENTS   4096
#define UA_MAX             512
#define VIEW_KEEP_DAYS     2
#define US_PER_DAY         86400000000ull

enum { DB_META, DB_SITES, DB_EVENTS, DB_VIEWS, DB_ARTICLES, DB_DAILY,
       DB_DIM, DB_SEEN, DB_LINKS, DB_SEARCHED, DB_TOKENS, DB_CUM, DB_DIRTY,
       DB_VISITS, DB_IDENTS, DB_TICKETS, DB_TICKET_TIMES, DB_RECENT,
       DB_HEADS, DB_COUNT };
static const char *const db_names[DB_COUNT] = {
    "meta", "sites", "events", "views", "articles", "daily", "daily_dim",
    "seen", "links", "searched", "tokens", "cum", "dirty", "visits",
    "idents", "tickets", "ticket_times", "recent", "heads"
};

#define VISITS_KEEP_DAYS 90

/* A day's rollups are final this many days after it: by then its views
 * have expired, so no engage can move their buckets any more. */
#define FINAL_AFTER_DAYS (VIEW_KEEP_DAYS + 1)
#define SETTLE_CHUNK 400      /* article rebuilds per write transaction */

#define LED_HERE_WINDOW_US (30ull * 60 * 1000000)

enum { DIM_COUNTRY = STORE_DIM_COUNTRY, DIM_REFERRER = STORE_DIM_REFERRER,
       DIM_SEARCH = STORE_DIM_SEARCH, DIM_SEARCH_ZERO = STORE_DIM_SEARCH_ZERO,
       DIM_LED_HERE = STORE_DIM_LED_HERE, DIM_EVENT = STORE_DIM_EVENT };

enum { VIEW_BOT = 1, VIEW_READ = 2 };

/* Per-view state, kept VIEW_KEEP_DAYS days. Stored as packed bytes. */
struct view_rec {
    uint64_t article;
    uint32_t day;
    uint32_t engaged_ms;
    uint8_t scroll;      /* max seen, 0–100 */
    uint8_t scroll0;     /* first reported, or EVENT_SCROLL_NONE */
    uint8_t flags;       /* VIEW_* */
    uint8_t vote;
};
#define VIEW_REC_LEN 20

/* One store_enqueue() call waiting for the writer. */
struct slot {
    struct slot *next;
    store_ack_fn ack;
    void *ctx;
    struct ipaddr addr;
    uint64_t time_us;
    bool backfill;       /* a past time: not appended at the end */
    uint16_t ualen;
    uint16_t nev;
    size_t len;          /* bytes of DATA: the UA, then {u16 len, record}… */
    uint8_t data[];
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    enum store_durability durability;
    bool readonly;
    bool manual_settle;
    size_t map_size;
    pthread_rwlock_t resize_lock;   /* read txns shared, map resize exclusive */

    pthread_mutex_t mu;             /* guards the queue and stats */
    pthread_cond_t wake;            /* writer: work or stop */
    pthread_cond_t idle;            /* drainers: queue empty */
    struct slot *head, *tail;
    size_t queued, queue_cap;
    bool busy;                      /* writer holds a batch */
    bool stop;
    bool writer_running, syncer_running;
    pthread_t writer, syncer;
    pthread_cond_t sync_wake;       /* syncer: stop */
    struct store_stats stats;

    /* writer-only state */
    uint64_t last_time_us;
    uint32_t last_seq;
    uint32_t backfill_seq;
    uint32_t salt_day;
    uint8_t salt_today[VISITOR_SALT_LEN], salt_yesterday[VISITOR_SALT_LEN];
    bool have_yesterday;
    uint64_t last_purge_us;
    uint8_t secret[32];             /* server secret (meta "secret") */
    bool have_secret;
    uint32_t visits_purged_day;
    bool purging;                   /* a purge is under way, in steps */
    size_t purged;                  /* records it has deleted so far */
    uint32_t final_through;         /* meta "final" as the last write
                                       transaction saw it */
    uint32_t final_mark;            /* days up to this one are settled for
                                       writes (>= final_through) */
    pthread_mutex_t write_mu;       /* one of batch or settle step at a time
                                       in this process (LMDB serialises the
                                       transactions; this, our own state) */
    uint32_t settle_from, settle_to;/* the pass in progress: final, target */
    int settle_phase;               /* 0: moving rows, 1: extending cum */
    uint32_t settle_site;           /* where the phase resumes */
    uint64_t settle_article;
};

struct rollup_reader;
static void reader_close(struct store *st, struct rollup_reader *r);
static int tickets_put_locked(struct store *st, uint32_t site_id,
                              const struct store_ticket *t, size_t n,
                              size_t *unchanged, char *err, size_t errlen);
static void store_identity_of(struct store *st, const char *hex, size_t n,
                              uint8_t out[32]);
static int load_secret(struct store *st);
static int record_visit(struct store *st, MDB_txn *txn,
                        const struct event *ev);
static int article_unpack(const MDB_val *k, const MDB_val *v,
                          struct store_article *out);
static int rollups_summed(struct store *st, uint32_t site_id, uint64_t article,
                          uint32_t from, uint32_t to, bool bots,
                          store_rollup_fn fn, void *ctx);

/* --- small helpers ------------------------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

uint64_t store_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t day_of_us(uint64_t us)
{
    return (uint32_t)(us / US_PER_DAY);
}

static int set_err(char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
    return -1;
}

/* --- environment ---------------------------------------------------------- */

/* Begins a transaction, adopting a map size grown by another process. */
static int txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
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
static int read_begin(struct store *st, MDB_txn **txn)
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

static void read_end(struct store *st, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->resize_lock);
}

/* A read transaction with a cursor on database DB. */
static int read_cursor(struct store *st, int db, MDB_txn **txn,
                       MDB_cursor **cur)
{
    if (read_begin(st, txn) != 0)
        return -1;
    if (mdb_cursor_open(*txn, st->dbi[db], cur) != 0) {
        read_end(st, *txn);
        return -1;
    }
    return 0;
}

static void read_cursor_end(struct store *st, MDB_txn *txn, MDB_cursor *cur)
{
    mdb_cursor_close(cur);
    read_end(st, txn);
}

/* Doubles the map (no transaction of this process may be open). */
static int grow_map(struct store *st)
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

/* Opens every named database and checks the schema version. */
static int migrate_v1(struct store *st, MDB_txn *txn);

static int open_dbs(struct store *st, char *err, size_t errlen)
{
    MDB_txn *txn;
    unsigned dbflags = st->readonly ? 0 : MDB_CREATE;
    int rc = txn_begin(st, st->readonly ? MDB_RDONLY : 0, &txn);
    if (rc != 0)
        return set_err(err, errlen, "begin", rc);
    for (int i = 0; i < DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], dbflags, &st->dbi[i]);
        if (rc == MDB_NOTFOUND && st->readonly) {
            mdb_txn_abort(txn);
            return 1;          /* written by an older dwell: create it */
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
            return set_err(err, errlen, db_names[i], rc);
        }
    }
    MDB_val k = { 6, "schema" }, v;
    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == 0 && v.mv_size == 4 && get_be32(v.mv_data) == 1) {
        if (st->readonly) {
            mdb_txn_abort(txn);
            return 1;          /* let a writable opening migrate it */
        }
        if ((rc = migrate_v1(st, txn)) != 0) {
            mdb_txn_abort(txn);
            if (rc == MDB_MAP_FULL && grow_map(st) == 0)
                return open_dbs(st, err, errlen);
            return set_err(err, errlen, "migrating from schema 1", rc);
        }
        rc = MDB_NOTFOUND;     /* write the current version below */
    } else if (rc == 0 && (v.mv_size != 4 ||
                           get_be32(v.mv_data) != SCHEMA_VERSION)) {
        mdb_txn_abort(txn);
        snprintf(err, errlen, "data was written by another dwell version "
                 "(schema %u, expected %u)",
                 v.mv_size == 4 ? get_be32(v.mv_data) : 0, SCHEMA_VERSION);
        return -1;
    }
    if (rc == MDB_NOTFOUND && !st->readonly) {
        uint8_t ver[4];
        put_be32(ver, SCHEMA_VERSION);
        v.mv_size = 4;
        v.mv_data = ver;
        rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
    } else if (rc == MDB_NOTFOUND) {
        rc = 0;
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return set_err(err, errlen, "schema", rc);
    }
    rc = mdb_txn_commit(txn);     /* keeps the handles, even read-only */
    return rc ? set_err(err, errlen, "commit", rc) : 0;
}

/* Reads the server secret, creating it when the store is writable. */
static int load_secret(struct store *st)
{
    MDB_txn *txn;
    MDB_val k = { 6, "secret" }, v;
    if (read_begin(st, &txn) != 0)
        return -1;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == 0 && v.mv_size == sizeof st->secret) {
        memcpy(st->secret, v.mv_data, sizeof st->secret);
        st->have_secret = true;
    }
    read_end(st, txn);
    if (st->have_secret || st->readonly)
        return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
    uint8_t fresh[32];
    if (visitor_new_salt(fresh) != 0 || visitor_new_salt(fresh + 16) != 0)
        return -1;
    if (txn_begin(st, 0, &txn) != 0)
        return -1;
    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);   /* another process? */
    if (rc == 0 && v.mv_size == sizeof st->secret) {
        memcpy(st->secret, v.mv_data, sizeof st->secret);
        mdb_txn_abort(txn);
    } else {
        memcpy(st->secret, fresh, sizeof fresh);
        v.mv_size = sizeof fresh;
        v.mv_data = fresh;
        if (mdb_put(txn, st->dbi[DB_META], &k, &v, 0) != 0 ||
            mdb_txn_commit(txn) != 0)
            return -1;
    }
    st->have_secret = true;
    return 0;
}

/* Reads the last settled day (0 if none) from the meta database. */
static void settled_days(struct store *st, MDB_txn *txn, uint32_t *final,
                         uint32_t *settling);

/* Loads the settled days into ST. */
static int load_final(struct store *st)
{
    MDB_txn *txn;
    if (read_begin(st, &txn) != 0)
        return -1;
    settled_days(st, txn, &st->final_through, &st->final_mark);
    read_end(st, txn);
    return 0;
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
    st->map_size = opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
    st->queue_cap = opt->queue_cap ? opt->queue_cap : DEFAULT_QUEUE_CAP;
    pthread_rwlock_init(&st->resize_lock, NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->wake, NULL);
    pthread_cond_init(&st->idle, NULL);
    pthread_cond_init(&st->sync_wake, NULL);
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
    if (load_final(st) != 0) {
        snprintf(err, errlen, "cannot read the settled day");
        goto fail;
    }
    *out = st;
    return 0;
fail:
    if (st->env)
        mdb_env_close(st->env);
    pthread_rwlock_destroy(&st->resize_lock);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->idle);
    pthread_cond_destroy(&st->sync_wake);
    pthread_mutex_destroy(&st->write_mu);
    free(st);
    return -1;
}

/* --- the queue ------------------------------------------------------------ */

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
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
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

/* --- salts ---------------------------------------------------------------- */

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

int store_salt_rotate(struct store *st, uint32_t today)
{
    MDB_txn *txn;
    int rc = txn_begin(st, 0, &txn);
    if (rc != 0)
        return -1;
    rc = salts_rotate_txn(st, txn, today);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return -1;
    }
    return mdb_txn_commit(txn) ? -1 : 0;
}

int store_salt_get(struct store *st, uint32_t day, uint8_t salt[16])
{
    MDB_txn *txn;
    if (read_begin(st, &txn) != 0)
        return -1;
    int rc = salt_read_txn(st, txn, day, salt);
    read_end(st, txn);
    return rc == 0 ? 0 : rc == MDB_NOTFOUND ? 1 : -1;
}

/* Makes the writer's salts those of TODAY (inside the batch's TXN). */
static int writer_salts(struct store *st, MDB_txn *txn, uint32_t today)
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

/* --- applying events ------------------------------------------------------ */

static void view_pack(const struct view_rec *r, uint8_t *p)
{
    put_be64(p, r->article);
    put_be32(p + 8, r->day);
    put_be32(p + 12, r->engaged_ms);
    p[16] = r->scroll;
    p[17] = r->scroll0;
    p[18] = r->flags;
    p[19] = r->vote;
}

static void view_unpack(const uint8_t *p, struct view_rec *r)
{
    r->article = get_be64(p);
    r->day = get_be32(p + 8);
    r->engaged_ms = get_be32(p + 12);
    r->scroll = p[16];
    r->scroll0 = p[17];
    r->flags = p[18];
    r->vote = p[19];
}

static size_t view_key(uint8_t *key, uint32_t site, const struct event_str *id)
{
    put_be32(key, site);
    memcpy(key + 4, id->p, id->n);
    return 4 + id->n;
}

static size_t daily_key(uint8_t *key, uint32_t site, uint64_t article,
                        uint32_t day, int cls)
{
    put_be32(key, site);
    put_be64(key + 4, article);
    put_be32(key + 12, day);
    key[16] = (uint8_t)cls;
    return 17;
}

/* The last settled day (meta "final") and the day a running settling pass
 * settles to (meta "settling"; FINAL itself when none runs), as TXN sees
 * them. Rows of days after *SETTLING are only ever in "recent". */
static void settled_days(struct store *st, MDB_txn *txn, uint32_t *final,
                         uint32_t *settling)
{
    MDB_val k = { 5, "final" }, v;
    *final = mdb_get(txn, st->dbi[DB_META], &k, &v) == 0 && v.mv_size == 4
             ? get_be32(v.mv_data) : 0;
    k.mv_size = 8;
    k.mv_data = "settling";
    *settling = mdb_get(txn, st->dbi[DB_META], &k, &v) == 0 &&
                v.mv_size == 4 ? get_be32(v.mv_data) : 0;
    if (*settling < *final)
        *settling = *final;
}

/* Notes that the cumulative rows of (SITE, ARTICLE, CLS) from DAY on no
 * longer hold: a final day changed (imports, generated data, late events). */
static int mark_dirty(struct store *st, MDB_txn *txn, uint32_t site,
                      uint64_t article, int cls, uint32_t day)
{
    uint8_t kb[13], vb[4];
    put_be32(kb, site);
    put_be64(kb + 4, article);
    kb[12] = (uint8_t)cls;
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_DIRTY], &k, &v);
    if (rc == 0 && v.mv_size == 4 && get_be32(v.mv_data) <= day)
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    put_be32(vb, day);
    v.mv_size = 4;
    v.mv_data = vb;
    return mdb_put(txn, st->dbi[DB_DIRTY], &k, &v, 0);
}

/* Applies FN to the daily rollup of (SITE, ARTICLE, DAY, CLS), wherever
 * it lives: in "recent" until a settling pass moves it to "daily". */
static int daily_update(struct store *st, MDB_txn *txn, uint32_t site,
                        uint64_t article, uint32_t day, int cls,
                        void (*fn)(struct rollup_day *d, const void *arg),
                        const void *arg)
{
    uint8_t kb[17], buf[ROLLUP_RECORD_MAX];
    struct rollup_day d;
    bool settled = day <= st->final_mark;
    MDB_dbi db = st->dbi[DB_RECENT];
    MDB_val k = { daily_key(kb, site, article, day, cls), kb }, v;
    int rc = mdb_get(txn, db, &k, &v);
    if (rc == MDB_NOTFOUND && settled) {     /* moved, or a new row */
        db = st->dbi[DB_DAILY];
        rc = mdb_get(txn, db, &k, &v);
    }
    if (rc == MDB_NOTFOUND)
        memset(&d, 0, sizeof d);
    else if (rc != 0)
        return rc;
    else if (rollup_decode(v.mv_data, v.mv_size, &d) != 0)
        return MDB_CORRUPTED;
    fn(&d, arg);
    int len = rollup_encode(&d, buf, sizeof buf);
    if (len < 0)
        return MDB_BAD_VALSIZE;
    v.mv_size = (size_t)len;
    v.mv_data = buf;
    rc = mdb_put(txn, db, &k, &v, 0);
    if (rc == 0 && article != 0 && settled)
        rc = mark_dirty(st, txn, site, article, cls, day);
    return rc;
}

/* Adds one to dimension DIM = VALUE of (SITE, ARTICLE, DAY, CLS). */
static int dim_bump(struct store *st, MDB_txn *txn, uint32_t site,
                    uint64_t article, uint32_t day, int cls, int dim,
                    const char *value, size_t len)
{
    uint8_t kb[18 + 256];
    if (len > 256)
        len = 256;
    size_t kl = daily_key(kb, site, article, day, cls);
    kb[kl++] = (uint8_t)dim;
    memcpy(kb + kl, value, len);
    MDB_val k = { kl + len, kb }, v;
    uint32_t count = 0;
    int rc = mdb_get(txn, st->dbi[DB_DIM], &k, &v);
    if (rc == 0 && v.mv_size == 4)
        count = get_be32(v.mv_data);
    else if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    uint8_t cb[4];
    put_be32(cb, count + 1);
    v.mv_size = 4;
    v.mv_data = cb;
    return mdb_put(txn, st->dbi[DB_DIM], &k, &v, 0);
}

/* Records VISITOR as seen for (DAY, SITE, ARTICLE); sets *FIRST when it is
 * the visitor's first time there that day. */
static int seen_mark(struct store *st, MDB_txn *txn, uint32_t day,
                     uint32_t site, uint64_t article, uint64_t visitor,
                     bool *first)
{
    uint8_t kb[24];
    put_be32(kb, day);
    put_be32(kb + 4, site);
    put_be64(kb + 8, article);
    put_be64(kb + 16, visitor);
    MDB_val k = { sizeof kb, kb }, v = { 0, NULL };
    int rc = mdb_put(txn, st->dbi[DB_SEEN], &k, &v, MDB_NOOVERWRITE);
    *first = rc == 0;
    return rc == MDB_KEYEXIST ? 0 : rc;
}

static void put_str16(uint8_t *p, size_t *off, const struct event_str *s)
{
    p[*off] = (uint8_t)(s->n >> 8);
    p[*off + 1] = (uint8_t)s->n;
    if (s->n > 0)
        memcpy(p + *off + 2, s->p, s->n);
    *off += 2 + s->n;
}

/* Creates or refreshes the article record of view EV on DAY. */
static int article_touch(struct store *st, MDB_txn *txn,
                         const struct event *ev, uint32_t day)
{
    uint8_t kb[12];
    uint8_t buf[12 + 6 + EVENT_PATH_MAX + EVENT_TITLE_MAX + EVENT_CATEGORY_MAX];
    put_be32(kb, ev->site_id);
    put_be64(kb + 4, ev->article);
    MDB_val k = { sizeof kb, kb }, v;
    uint32_t first = day;
    int rc = mdb_get(txn, st->dbi[DB_ARTICLES], &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    struct event_str title = ev->title, category = ev->category;
    uint32_t words = ev->words;
    struct store_article old;         /* TITLE, CATEGORY may point here */
    if (rc == 0 && v.mv_size >= 12) {
        first = get_be32(v.mv_data);
        /* a view that omits them (the noscript pixel) keeps what is known */
        MDB_val key = { sizeof kb, kb };
        if ((!words || !title.n || !category.n) &&
            article_unpack(&key, &v, &old) == 0) {
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
    size_t n = 12;
    put_be32(buf, first);
    put_be32(buf + 4, day);
    put_be32(buf + 8, words);
    put_str16(buf, &n, &ev->path);
    put_str16(buf, &n, &title);
    put_str16(buf, &n, &category);
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
    uint8_t kb[12];
    put_be32(kb, ev->site_id);
    put_be64(kb + 4, ev->visitor);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_SEARCHED], &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0 || v.mv_size < 8)
        return rc;
    uint64_t t = get_be64(v.mv_data);
    if (t > ev->time_us || ev->time_us - t > LED_HERE_WINDOW_US)
        return 0;
    return dim_bump(st, txn, ev->site_id, ev->article, day, cls, DIM_LED_HERE,
                    (const char *)v.mv_data + 8, v.mv_size - 8);
}

/* Applies a view event: article, view state, rollups and dimensions. */
static int apply_view(struct store *st, MDB_txn *txn, struct event *ev,
                      uint32_t day)
{
    uint8_t kb[4 + EVENT_ID_MAX], vb[VIEW_REC_LEN];
    MDB_val k = { view_key(kb, ev->site_id, &ev->view_id), kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_VIEWS], &k, &v);
    if (rc == 0)
        return 0;                        /* a repeated view: counted once */
    if (rc != MDB_NOTFOUND)
        return rc;
    int cls = (ev->flags & EVENT_FLAG_BOT) ? 1 : 0;
    struct view_rec r = {
        .article = ev->article, .day = day,
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

/* Applies an event that belongs to an earlier view (engage, vote, search,
 * link, identify, custom): moves that view's buckets and counters. */
static int apply_follow_up(struct store *st, MDB_txn *txn, struct event *ev,
                           uint32_t day)
{
    uint8_t kb[4 + EVENT_ID_MAX], vb[VIEW_REC_LEN];
    MDB_val k = { view_key(kb, ev->site_id, &ev->view_id), kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_VIEWS], &k, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != VIEW_REC_LEN)) {
        pthread_mutex_lock(&st->mu);
        st->stats.orphans++;
        pthread_mutex_unlock(&st->mu);
        return 0;
    }
    if (rc != 0)
        return rc;
    struct view_rec r;
    view_unpack(v.mv_data, &r);
    ev->article = r.article;
    int cls = (r.flags & VIEW_BOT) ? 1 : 0;
    struct view_delta x = { .hist_from = -1, .scroll_from = -1 };

    uint64_t total = (uint64_t)r.engaged_ms + ev->engaged_ms;
    if (total > 24u * EVENT_MAX_ENGAGED_MS)
        total = 24u * EVENT_MAX_ENGAGED_MS;
    x.engaged_add = total - r.engaged_ms;
    x.hist_from = rollup_bucket_of_ms(r.engaged_ms);
    x.hist_to = rollup_bucket_of_ms(total);
    r.engaged_ms = (uint32_t)total;
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
    (void)day;
    return 0;
}

/* Applies the type-specific extras: search terms, custom events, links. */
static int apply_extras(struct store *st, MDB_txn *txn, const struct event *ev,
                        uint32_t day)
{
    int cls = (ev->flags & EVENT_FLAG_BOT) ? 1 : 0;
    int rc = 0;
    if (ev->type == EVENT_SEARCH) {
        uint8_t kb[12], vb[8 + EVENT_QUERY_MAX];
        put_be32(kb, ev->site_id);
        put_be64(kb + 4, ev->visitor);
        put_be64(vb, ev->time_us);
        memcpy(vb + 8, ev->text.p, ev->text.n);
        MDB_val k = { sizeof kb, kb }, v = { 8 + (size_t)ev->text.n, vb };
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
        uint8_t kb[4 + EVENT_LINK_MAX], vb[32 + EVENT_ID_MAX];
        put_be32(kb, ev->site_id);
        memcpy(kb + 4, ev->text.p, ev->text.n);
        put_be64(vb, ev->time_us);
        put_be64(vb + 8, ev->article);
        put_be64(vb + 16, ev->visitor);
        put_be64(vb + 24, ev->visitor_prev);
        memcpy(vb + 32, ev->view_id.p, ev->view_id.n);
        MDB_val k = { 4 + (size_t)ev->text.n, kb };
        MDB_val v = { 32 + (size_t)ev->view_id.n, vb };
        rc = mdb_put(txn, st->dbi[DB_LINKS], &k, &v, 0);
    }
    if (rc == 0 && !(ev->flags & EVENT_FLAG_BOT))
        rc = record_visit(st, txn, ev);
    return rc;
}

/* Remembers what this visitor read or searched, for ticket attribution. */
static int record_visit(struct store *st, MDB_txn *txn, const struct event *ev)
{
    uint8_t kb[21], vb[1 + EVENT_QUERY_MAX];
    size_t vl;
    if (ev->type == EVENT_VIEW) {
        put_be64(vb, ev->article);
        vl = 8;
    } else if (ev->type == EVENT_SEARCH) {
        vb[0] = ev->results == 0;
        memcpy(vb + 1, ev->text.p, ev->text.n);
        vl = 1 + ev->text.n;
    } else {
        return 0;
    }
    put_be32(kb, ev->site_id);
    put_be64(kb + 4, ev->visitor);
    put_be64(kb + 12, ev->time_us);
    kb[20] = ev->type == EVENT_VIEW ? 'v' : 's';
    MDB_val k = { sizeof kb, kb }, v = { vl, vb };
    return mdb_put(txn, st->dbi[DB_VISITS], &k, &v, 0);
}

/* Replaces an identify event's hash by its keyed hash, and remembers which
 * visitor the identity had at that time. */
static int record_identity(struct store *st, MDB_txn *txn, struct event *ev,
                           char hex[65])
{
    uint8_t id[SHA256_LEN], kb[44], vb[8];
    store_identity_of(st, ev->text.p, ev->text.n, id);
    for (int i = 0; i < SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    ev->text.p = hex;
    ev->text.n = 64;
    put_be32(kb, ev->site_id);
    memcpy(kb + 4, id, SHA256_LEN);
    put_be64(kb + 36, ev->time_us);
    put_be64(vb, ev->visitor);
    MDB_val k = { sizeof kb, kb }, v = { sizeof vb, vb };
    return mdb_put(txn, st->dbi[DB_IDENTS], &k, &v, 0);
}

/* The next events key: time, then a sequence number that keeps keys
 * strictly increasing even if the clock steps back or another process
 * appended later keys. */
static void next_event_key(struct store *st, uint64_t t, uint8_t key[12])
{
    if (t > st->last_time_us) {
        st->last_time_us = t;
        st->last_seq = 0;
    } else {
        st->last_seq++;
    }
    put_be64(key, st->last_time_us);
    put_be32(key + 8, st->last_seq);
}

/* Reads the last events key so that MDB_APPEND stays valid. */
static int sync_last_key(struct store *st, MDB_txn *txn)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_EVENTS], &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0 || k.mv_size != 12)
        return rc ? rc : MDB_CORRUPTED;
    uint64_t t = get_be64(k.mv_data);
    uint32_t seq = get_be32((const uint8_t *)k.mv_data + 8);
    if (t > st->last_time_us ||
        (t == st->last_time_us && seq > st->last_seq)) {
        st->last_time_us = t;
        st->last_seq = seq;
    }
    return 0;
}

/* Stores one event of slot S: enrich, update state, append the record. */
static int apply_event(struct store *st, MDB_txn *txn, const struct slot *s,
                       const uint8_t *rec, size_t len)
{
    struct event ev;
    if (event_decode(rec, len, &ev) != 0)
        return MDB_CORRUPTED;
    ev.time_us = s->time_us;
    uint32_t day = day_of_us(ev.time_us);
    const uint8_t *salt = st->salt_today;
    if (day + 1 == st->salt_day && st->have_yesterday)
        salt = st->salt_yesterday;
    ev.visitor = visitor_hash(salt, ev.site_id, &s->addr,
                              (const char *)s->data, s->ualen);
    ev.visitor_prev = 0;
    if (ev.type == EVENT_LINK && salt == st->salt_today && st->have_yesterday)
        ev.visitor_prev = visitor_hash(st->salt_yesterday, ev.site_id,
                                       &s->addr, (const char *)s->data,
                                       s->ualen);
    char ident_hex[65];
    int rc = 0;
    if (ev.type == EVENT_IDENTIFY)
        rc = record_identity(st, txn, &ev, ident_hex);
    if (rc == 0)
        rc = ev.type == EVENT_VIEW ? apply_view(st, txn, &ev, day)
                                   : apply_follow_up(st, txn, &ev, day);
    if (rc == 0)
        rc = apply_extras(st, txn, &ev, day);
    if (rc != 0)
        return rc;

    uint8_t kb[12], out[EVENT_RECORD_MAX];
    int olen = event_encode(&ev, out, sizeof out);
    if (olen < 0)
        return MDB_BAD_VALSIZE;
    MDB_val k = { sizeof kb, kb }, v = { (size_t)olen, out };
    if (!s->backfill) {
        next_event_key(st, ev.time_us, kb);
        return mdb_put(txn, st->dbi[DB_EVENTS], &k, &v, MDB_APPEND);
    }
    put_be64(kb, ev.time_us);          /* a past time: an ordinary insert */
    do {
        put_be32(kb + 8, 0x80000000u | st->backfill_seq++);
        rc = mdb_put(txn, st->dbi[DB_EVENTS], &k, &v, MDB_NOOVERWRITE);
    } while (rc == MDB_KEYEXIST);
    return rc;
}

/* Stores every event of the slots from HEAD up to (not including) END in one
 * transaction and commits. Returns 0 or an LMDB error code. */
static int apply_batch_locked(struct store *st, struct slot *head,
                              size_t *stored);

static int apply_batch(struct store *st, struct slot *head, size_t *stored)
{
    pthread_mutex_lock(&st->write_mu);
    int rc = apply_batch_locked(st, head, stored);
    pthread_mutex_unlock(&st->write_mu);
    return rc;
}

static int apply_batch_locked(struct store *st, struct slot *head,
                              size_t *stored)
{
    MDB_txn *txn;
    uint64_t saved_time = st->last_time_us;
    uint32_t saved_seq = st->last_seq;
    int rc = txn_begin(st, 0, &txn);
    if (rc != 0)
        return rc;
    rc = sync_last_key(st, txn);
    if (rc == 0)
        rc = writer_salts(st, txn, day_of_us(store_now_us()));
    settled_days(st, txn, &st->final_through, &st->final_mark);
    size_t n = 0;
    for (struct slot *s = head; s != NULL && rc == 0; s = s->next) {
        size_t off = s->ualen;
        while (off + 2 <= s->len && rc == 0) {
            size_t len = (size_t)s->data[off] << 8 | s->data[off + 1];
            rc = apply_event(st, txn, s, s->data + off + 2, len);
            off += 2 + len;
            n++;
        }
    }
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
    } else {
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        st->last_time_us = saved_time;   /* the keys were not used */
        st->last_seq = saved_seq;
        st->salt_day = 0;                /* re-read salts next time */
        return rc;
    }
    *stored = n;
    return 0;
}

#define PURGE_EVERY_US  (3600ull * 1000000u)
#define PURGE_FIRST_US  (60ull * 1000000u)   /* after the writer starts */
#define PURGE_CHUNK     20000                /* deletions per transaction */

/* Deletes the records under CUR that EXPIRED says are, from the first on,
 * while *LEFT allows; walks no further than the first record UNTIL says is
 * past what can expire (NULL: walks them all). Returns 1 if it stopped for
 * the budget, 0 when done, or an LMDB error. */
static int purge_db(MDB_cursor *cur, bool (*expired)(const MDB_val *k,
                                                     const MDB_val *v,
                                                     const void *arg),
                    bool (*until)(const MDB_val *k, const void *arg),
                    const void *arg, size_t *left, size_t *removed)
{
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && (until == NULL || !until(&k, arg))) {
        if (expired(&k, &v, arg)) {
            if (*left == 0)
                return 1;
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                return rc;
            (*left)--;
            (*removed)++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
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
    if (v->mv_size != VIEW_REC_LEN)
        return false;
    view_unpack(v->mv_data, &r);
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
    return k->mv_size != 24 || get_be32(k->mv_data) + 1 >= l->today;
}

static bool searched_expired(const MDB_val *k, const MDB_val *v,
                             const void *arg)
{
    const struct purge_limits *l = arg;
    (void)k;
    return v->mv_size >= 8 && get_be64(v->mv_data) < l->searched_before_us;
}

static bool visit_expired(const MDB_val *k, const MDB_val *v, const void *arg)
{
    const struct purge_limits *l = arg;
    (void)v;
    return k->mv_size >= 20 &&
           get_be64((const uint8_t *)k->mv_data + 12) < l->visits_before_us;
}

static bool ident_expired(const MDB_val *k, const MDB_val *v, const void *arg)
{
    const struct purge_limits *l = arg;
    (void)v;
    return k->mv_size >= 44 &&
           get_be64((const uint8_t *)k->mv_data + 36) < l->visits_before_us;
}

/* One step of the purge: deletes at most PURGE_CHUNK records of view state
 * and visitor marks older than VIEW_KEEP_DAYS, searches older than the
 * led-here window, and (once a UTC day) visits and identities older than
 * VISITS_KEEP_DAYS, in one write transaction; adds to *REMOVED. Returns 1
 * if more remain, 0 when done, -1 on error. */
static int purge_step(struct store *st, size_t *removed)
{
    uint64_t now = store_now_us();
    struct purge_limits l = {
        day_of_us(now), now - 2 * LED_HERE_WINDOW_US,
        now - (uint64_t)VISITS_KEEP_DAYS * US_PER_DAY };
    bool visits = st->visits_purged_day != l.today;
    const struct {
        int db;
        bool (*expired)(const MDB_val *, const MDB_val *, const void *);
        bool (*until)(const MDB_val *, const void *);
    } dbs[5] = {
        { DB_VIEWS, view_expired, NULL },
        { DB_SEEN, seen_expired, seen_current },
        { DB_SEARCHED, searched_expired, NULL },
        { DB_VISITS, visit_expired, NULL },
        { DB_IDENTS, ident_expired, NULL },
    };
    MDB_txn *txn;
    if (txn_begin(st, 0, &txn) != 0)
        return -1;
    size_t left = PURGE_CHUNK;
    int rc = 0;
    for (int d = 0; d < (visits ? 5 : 3) && rc == 0; d++) {
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(txn, st->dbi[dbs[d].db], &cur)) != 0)
            break;
        rc = purge_db(cur, dbs[d].expired, dbs[d].until, &l, &left, removed);
        mdb_cursor_close(cur);
    }
    if (rc == 1 || rc == 0) {
        int more = rc;
        if ((rc = mdb_txn_commit(txn)) == 0) {
            if (!more && visits)
                st->visits_purged_day = l.today;
            return more;
        }
    } else {
        mdb_txn_abort(txn);
    }
    log_warn("store: purging expired records failed: %s", mdb_strerror(rc));
    return -1;
}

int store_purge(struct store *st, size_t *removed)
{
    int rc;
    *removed = 0;
    do {
        pthread_mutex_lock(&st->write_mu);
        rc = purge_step(st, removed);
        pthread_mutex_unlock(&st->write_mu);
    } while (rc == 1);
    return rc;
}

static bool queue_empty(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    bool empty = st->head == NULL;
    pthread_mutex_unlock(&st->mu);
    return empty;
}

/* The writer's chores while there is nothing to store: settling rollups,
 * and hourly the salt rotation and a purge, in steps between batches. */
static void writer_chores(struct store *st)
{
    while (!st->manual_settle && queue_empty(st) &&
           store_settle_step(st, SETTLE_CHUNK) == 1)
        ;
    uint64_t now = store_now_us();
    if (!st->purging && now - st->last_purge_us > PURGE_EVERY_US) {
        if (store_salt_rotate(st, day_of_us(now)) == 0)
            st->salt_day = 0;            /* reload at the next batch */
        st->purging = true;
        st->purged = 0;
        st->last_purge_us = now;
    }
    while (st->purging && queue_empty(st)) {
        pthread_mutex_lock(&st->write_mu);
        int rc = purge_step(st, &st->purged);
        pthread_mutex_unlock(&st->write_mu);
        if (rc == 1)
            continue;
        st->purging = false;
        if (rc == 0 && st->purged > 0)
            log_info("store: purged %zu expired view/visitor records",
                     st->purged);
    }
}

/* Takes up to BATCH_MAX_EVENTS queued events (whole slots) off the queue;
 * waits up to one second for work. Returns NULL when there is none. */
static struct slot *take_batch(struct store *st, bool *stop)
{
    pthread_mutex_lock(&st->mu);
    if (st->head == NULL && !st->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
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

/* Stores SLOTS in one transaction, growing the map while it is full.
 * Returns 0 or an LMDB error code. */
static int store_slots(struct store *st, struct slot *slots, size_t *stored)
{
    int rc, tries = 0;
    while ((rc = apply_batch(st, slots, stored)) == MDB_MAP_FULL &&
           tries++ < 16) {
        pthread_mutex_lock(&st->write_mu);
        int grown = grow_map(st);
        pthread_mutex_unlock(&st->write_mu);
        if (grown != 0)
            break;
    }
    return rc;
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
        int rc = store_slots(st, batch, &stored);
        if (rc == 0 || batch->next == NULL) {
            if (rc != 0)
                log_error("store: events not stored: %s", mdb_strerror(rc));
            finish_slots(st, batch, rc == 0 ? 0 : -1, stored, true);
        } else {
            /* one bad request must not fail the others: each on its own */
            while (batch) {
                struct slot *next = batch->next;
                batch->next = NULL;
                rc = store_slots(st, batch, &stored);
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

/* Without per-commit syncs (commit and none modes), flushes committed data
 * to disk once a second, off the writer's path, so that a machine crash
 * loses at most about a second. */
static void *syncer_main(void *arg)
{
    struct store *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&st->sync_wake, &st->mu, &until);
        pthread_mutex_unlock(&st->mu);
        mdb_env_sync(st->env, 1);
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
    st->last_purge_us = store_now_us() - PURGE_EVERY_US + PURGE_FIRST_US;
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

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->writer_running) {
        pthread_mutex_lock(&st->mu);
        st->stop = true;
        pthread_cond_signal(&st->wake);
        pthread_cond_signal(&st->sync_wake);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->writer, NULL);
    }
    if (st->syncer_running)
        pthread_join(st->syncer, NULL);
    if (st->head != NULL) {            /* no writer ever took these */
        struct slot *left = st->head;
        st->head = st->tail = NULL;
        finish_slots(st, left, -1, 0, true);
    }
    if (st->writer_running && st->durability != STORE_FSYNC)
        mdb_env_sync(st->env, 1);
    mdb_env_close(st->env);
    pthread_rwlock_destroy(&st->resize_lock);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->idle);
    pthread_cond_destroy(&st->sync_wake);
    pthread_mutex_destroy(&st->write_mu);
    free(st);
}

/* --- sites ---------------------------------------------------------------- */

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

    MDB_txn *txn;
    int rc = txn_begin(st, 0, &txn);
    if (rc != 0)
        return set_err(err, errlen, "begin", rc);
    MDB_val k = { strlen(name), (void *)name }, v;
    rc = mdb_get(txn, st->dbi[DB_SITES], &k, &v);
    *created = rc == MDB_NOTFOUND;
    if (rc == 0 && v.mv_size >= 4) {
        *id = get_be32(v.mv_data);
    } else if (rc == MDB_NOTFOUND) {
        MDB_val sk = { 8, "site_seq" }, sv;
        uint32_t next = 1;
        if (mdb_get(txn, st->dbi[DB_META], &sk, &sv) == 0 && sv.mv_size == 4)
            next = get_be32(sv.mv_data) + 1;
        uint8_t nb[4];
        put_be32(nb, next);
        sv.mv_size = 4;
        sv.mv_data = nb;
        rc = mdb_put(txn, st->dbi[DB_META], &sk, &sv, 0);
        *id = next;
    }
    if (rc == 0 && (*created || norigins > 0)) {
        put_be32(buf, *id);
        v.mv_size = off;
        v.mv_data = buf;
        rc = mdb_put(txn, st->dbi[DB_SITES], &k, &v, 0);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return set_err(err, errlen, "site", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc ? set_err(err, errlen, "commit", rc) : 0;
}

int store_site_get(struct store *st, const char *name, size_t len,
                   struct site *out)
{
    if (len == 0 || len > EVENT_SITE_MAX)
        return 1;
    MDB_txn *txn;
    if (read_begin(st, &txn) != 0)
        return -1;
    MDB_val k = { len, (void *)name }, v;
    int rc = mdb_get(txn, st->dbi[DB_SITES], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : site_unpack(name, len, &v, out);
    read_end(st, txn);
    return out_rc;
}

int store_site_each(struct store *st,
                    int (*fn)(void *ctx, const struct site *s), void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(st, DB_SITES, &txn, &cur) != 0)
        return -1;
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        struct site s;
        if (site_unpack(k.mv_data, k.mv_size, &v, &s) == 0 && fn(ctx, &s))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* --- reading events ------------------------------------------------------- */

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
    if (read_cursor(st, DB_EVENTS, &txn, &cur) != 0)
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
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* --- reading rollups -------------------------------------------------------- */

/* Decodes an article record (key = site, id) into OUT. */
static int article_unpack(const MDB_val *k, const MDB_val *v,
                          struct store_article *out)
{
    const uint8_t *p = v->mv_data;
    memset(out, 0, sizeof *out);
    if (k->mv_size != 12 || v->mv_size < 18)
        return -1;
    out->id = get_be64((const uint8_t *)k->mv_data + 4);
    out->first_day = get_be32(p);
    out->last_day = get_be32(p + 4);
    out->words = get_be32(p + 8);
    size_t off = 12;
    char *dst[3] = { out->path, out->title, out->category };
    size_t cap[3] = { EVENT_PATH_MAX, EVENT_TITLE_MAX, EVENT_CATEGORY_MAX };
    for (int i = 0; i < 3; i++) {
        if (off + 2 > v->mv_size)
            return -1;
        size_t n = (size_t)p[off] << 8 | p[off + 1];
        off += 2;
        if (n > cap[i] || off + n > v->mv_size)
            return -1;
        memcpy(dst[i], p + off, n);
        dst[i][n] = '\0';
        off += n;
    }
    return 0;
}

int store_articles_each(struct store *st, uint32_t site_id,
                        int (*fn)(void *ctx, const struct store_article *a),
                        void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(st, DB_ARTICLES, &txn, &cur) != 0)
        return -1;
    uint8_t kb[12];
    put_be32(kb, site_id);
    put_be64(kb + 4, 0);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 12 && get_be32(k.mv_data) == site_id) {
        struct store_article a;
        if (article_unpack(&k, &v, &a) == 0 && fn(ctx, &a) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int store_article_get(struct store *st, uint32_t site_id, uint64_t id,
                      struct store_article *out)
{
    MDB_txn *txn;
    if (read_begin(st, &txn) != 0)
        return -1;
    uint8_t kb[12];
    put_be32(kb, site_id);
    put_be64(kb + 4, id);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_ARTICLES], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : article_unpack(&k, &v, out);
    read_end(st, txn);
    return out_rc;
}

/* Walks the daily rows of one site: for each article (or only ARTICLE),
 * seeks straight to its FROM day and stops at its TO day. */
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
    if (read_cursor(st, DB_DIM, &txn, &cur) != 0)
        return -1;
    uint8_t kb[17];
    MDB_val k = { daily_key(kb, site_id, article, from, 0), kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= 18) {
        const uint8_t *p = k.mv_data;
        if (get_be32(p) != site_id || get_be64(p + 4) != article ||
            get_be32(p + 12) > to)
            break;
        if (p[17] == (uint8_t)dim && (p[16] == 0 || include_bots) &&
            v.mv_size == 4 &&
            fn(ctx, (const char *)p + 18, k.mv_size - 18,
               get_be32(v.mv_data)) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}


/* --- settled and recent rows, cumulative rollups -------------------------------
 * A day is final FINAL_AFTER_DAYS after it (no engage can move its buckets
 * any more) and settled once a settling pass has run over it; meta "final"
 * is the last settled day. The daily rows of days not yet settled live in
 * "recent", a small database the writer updates with every event. A
 * settling pass first moves them to "daily" (phase 0), then extends, per
 * article and class, the running sum of the daily rows ("cum") over the
 * newly settled days (phase 1). The sum over any range of settled days is
 * then one cum row minus another, and "heads" keeps each article's last
 * cum row with the days of its first and last, read in article order:
 * a report over a year of 10,000 articles needs at most two lookups per
 * article, none when the range starts before the article's first day.
 * While a pass runs (meta "settling"), a row of a day it settles is in
 * either database, never in both. A write to a settled day (an import,
 * generated data, a late event) marks the article dirty; the writer
 * rebuilds its cum rows when it has nothing else to do, and readers fall
 * back to the daily rows for dirty articles meanwhile. */

static bool same_article(const MDB_val *k, uint32_t site, uint64_t a)
{
    return k->mv_size == 17 && get_be32(k->mv_data) == site &&
           get_be64((const uint8_t *)k->mv_data + 4) == a;
}

/* Adds (SIGN 1) or subtracts (SIGN -1) to OUT the cum row of (SITE, A, CLS)
 * with the greatest day <= DAY, if any, and sets *AT (if not NULL) to its
 * day, or to UINT32_MAX when there is none. */
static int cum_merge_at(MDB_cursor *cur, uint32_t site, uint64_t a, int cls,
                        uint32_t day, struct rollup_day *out, int sign,
                        uint32_t *at)
{
    uint8_t kb[17];
    MDB_val k = { daily_key(kb, site, a, day + 1, 0), kb }, v;
    if (at)
        *at = UINT32_MAX;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    while (rc == 0 && same_article(&k, site, a)) {
        const uint8_t *p = k.mv_data;
        if (p[16] == cls && get_be32(p + 12) <= day) {
            if (at)
                *at = get_be32(p + 12);
            return rollup_decode_merge(v.mv_data, v.mv_size, out, sign) == 0
                   ? 0 : MDB_CORRUPTED;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

/* Adds to OUT the rows under CUR of (SITE, A) with FROM <= day <= TO, of
 * class 0 (and 1 when BOTS). */
static int cursor_merge(MDB_cursor *cur, uint32_t site, uint64_t a,
                        uint32_t from, uint32_t to, bool bots,
                        struct rollup_day *out)
{
    if (from > to)
        return 0;
    uint8_t kb[17];
    MDB_val k = { daily_key(kb, site, a, from, 0), kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && same_article(&k, site, a)) {
        const uint8_t *p = k.mv_data;
        if (get_be32(p + 12) > to)
            break;
        if ((p[16] == 0 || bots) &&
            rollup_decode_add(v.mv_data, v.mv_size, out) != 0)
            return MDB_CORRUPTED;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

#define MAX_SUM_RANGES STORE_MAX_RANGES

/* One article's head: its first and last cum days and the last cum row. */
struct head {
    uint32_t first, last;
    const uint8_t *rec;
    size_t len;
};

/* Reads the head of (SITE, A, CLS). Returns 0, MDB_NOTFOUND, or an error. */
static int head_get(MDB_cursor *cur, uint32_t site, uint64_t a, int cls,
                    struct head *h)
{
    uint8_t kb[13];
    put_be32(kb, site);
    put_be64(kb + 4, a);
    kb[12] = (uint8_t)cls;
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    if (rc != 0)
        return rc;
    if (v.mv_size < 8)
        return MDB_CORRUPTED;
    const uint8_t *p = v.mv_data;
    *h = (struct head){ get_be32(p), get_be32(p + 4), p + 8, v.mv_size - 8 };
    return 0;
}

/* Writes the head of (SITE, A, CLS), or deletes it when the article has no
 * cum rows of that class (SUM NULL). */
static int head_put(struct store *st, MDB_txn *txn, uint32_t site,
                    uint64_t a, int cls, uint32_t first, uint32_t last,
                    const struct rollup_day *sum)
{
    uint8_t kb[13], buf[8 + ROLLUP_RECORD_MAX];
    put_be32(kb, site);
    put_be64(kb + 4, a);
    kb[12] = (uint8_t)cls;
    MDB_val k = { sizeof kb, kb };
    if (sum == NULL) {
        int rc = mdb_del(txn, st->dbi[DB_HEADS], &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    int len = rollup_encode(sum, buf + 8, sizeof buf - 8);
    if (len < 0)
        return MDB_BAD_VALSIZE;
    put_be32(buf, first);
    put_be32(buf + 4, last);
    MDB_val v = { 8 + (size_t)len, buf };
    return mdb_put(txn, st->dbi[DB_HEADS], &k, &v, 0);
}

/* The cursors and settled days of one reading of rollups. */
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
    if (read_begin(st, &r->txn) != 0)
        return -1;
    settled_days(st, r->txn, &r->final, &r->settling);
    MDB_stat ds;
    r->any_dirty = mdb_stat(r->txn, r->dirty, &ds) == 0 && ds.ms_entries > 0;
    if (mdb_cursor_open(r->txn, st->dbi[DB_DAILY], &r->daily) == 0 &&
        mdb_cursor_open(r->txn, st->dbi[DB_RECENT], &r->recent) == 0 &&
        mdb_cursor_open(r->txn, st->dbi[DB_CUM], &r->cum) == 0 &&
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
    read_end(st, r->txn);
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

/* The cum rows one article's sums have looked up, so that a boundary
 * shared by two ranges is looked up once. */
struct cum_memo {
    size_t n;
    struct cum_seen { uint32_t day; int cls; MDB_val rec; }
        at[4 * MAX_SUM_RANGES];
};

/* Finds in *REC the cum row of (SITE, A, CLS) with the greatest day <= DAY
 * (mv_data NULL if none), remembering it in M. */
static int cum_find(const struct rollup_reader *r, uint32_t site, uint64_t a,
                    int cls, uint32_t day, struct cum_memo *m, MDB_val *rec)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->at[i].day == day && m->at[i].cls == cls) {
            *rec = m->at[i].rec;
            return 0;
        }
    uint8_t kb[17];
    MDB_val k = { daily_key(kb, site, a, day, cls), kb };
    *rec = (MDB_val){ 0, NULL };
    int rc = mdb_cursor_get(r->cum, &k, rec, MDB_SET_RANGE);
    if (rc != 0 || k.mv_size != 17 || memcmp(k.mv_data, kb, 17) != 0)
        rc = mdb_cursor_get(r->cum, &k, rec,     /* no row on DAY itself */
                            rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    while (rc == 0 && same_article(&k, site, a) &&
           (((const uint8_t *)k.mv_data)[16] != cls ||
            get_be32((const uint8_t *)k.mv_data + 12) > day))
        rc = mdb_cursor_get(r->cum, &k, rec, MDB_PREV);
    if (rc == 0 && !same_article(&k, site, a))
        rc = MDB_NOTFOUND;
    if (rc != 0)
        *rec = (MDB_val){ 0, NULL };
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (m->n < sizeof m->at / sizeof m->at[0])
        m->at[m->n++] = (struct cum_seen){ day, cls, *rec };
    return 0;
}

/* Adds (SIGN 1) or subtracts (SIGN -1) to OUT the running sum of (SITE, A,
 * CLS) through settled DAY: from head H when DAY is at or after its last cum
 * row, nothing before its first, else one lookup (also without a head). */
static int cum_at(const struct rollup_reader *r, uint32_t site, uint64_t a,
                  int cls, const struct head *h, uint32_t day,
                  struct cum_memo *m, struct rollup_day *out, int sign)
{
    MDB_val rec = { 0, NULL };
    if (h != NULL && day < h->first)
        return 0;
    if (h != NULL && day >= h->last)
        rec = (MDB_val){ h->len, (void *)h->rec };
    else if (cum_find(r, site, a, cls, day, m, &rec) != 0)
        return MDB_CORRUPTED;
    if (rec.mv_data == NULL)
        return 0;
    return rollup_decode_merge(rec.mv_data, rec.mv_size, out, sign) == 0
           ? 0 : MDB_CORRUPTED;
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
        uint8_t kb[12];
        put_be32(kb, site_id);
        put_be64(kb + 4, 0);
        MDB_val k = { sizeof kb, kb }, v;
        int c = mdb_cursor_get(arts, &k, &v, MDB_SET_RANGE);
        while (c == 0 && k.mv_size == 12 && get_be32(k.mv_data) == site_id) {
            uint64_t a = get_be64((const uint8_t *)k.mv_data + 4);
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
    uint8_t kb[13];
    put_be32(kb, site);
    put_be64(kb + 4, a);
    for (int cls = 0; cls <= (bots ? 1 : 0); cls++) {
        kb[12] = (uint8_t)cls;
        MDB_val k = { sizeof kb, kb }, v;
        if (mdb_get(r->txn, r->dirty, &k, &v) == 0 && v.mv_size == 4 &&
            get_be32(v.mv_data) <= r->final)
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
            for (int cls = 0; cls < ncls && rc == 0; cls++) {
                rc = cum_at(r, site, a, cls, h[cls], hi, &memo, &out[i], 1);
                if (rc == 0 && g->from > 0)
                    rc = cum_at(r, site, a, cls, h[cls], g->from - 1, &memo,
                                &out[i], -1);
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
        uint32_t d = get_be32(p + 12);
        if (d > to)
            break;
        if (have && d != day) {
            int stop = fn(ctx, a, day, sum);
            if (stop != 0)
                return stop;
            have = false;
        }
        if (p[16] == 0 || bots) {
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
    uint8_t kb[17];
    int s, stop = 0;
    while (!stop) {
        walk_seek(&w, kb, daily_key(kb, site_id, next, from, 0));
        if ((s = walk_side(&w)) < 0 || w.k[s].mv_size != 17 ||
            get_be32(w.k[s].mv_data) != site_id)
            break;
        uint64_t a = get_be64((const uint8_t *)w.k[s].mv_data + 4);
        if (a != next) {                 /* FROM of the next article */
            if (!all)
                break;
            next = a;
            continue;
        }
        stop = walk_days(&w, site_id, a, to, include_bots, sum, fn, ctx);
        if (!all || a == UINT64_MAX - 1)
            break;
        next = a + 1;
    }
    int rc = walk_error(&w);
    reader_close(st, &r);
    free(sum);
    return rc == 0 ? 0 : -1;
}

/* The day of the first cum row of (SITE, A, CLS) into *DAY. */
static int cum_first_day(MDB_cursor *cur, uint32_t site, uint64_t a, int cls,
                         uint32_t *day)
{
    uint8_t kb[17];
    MDB_val k = { daily_key(kb, site, a, 0, 0), kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && same_article(&k, site, a)) {
        if (((const uint8_t *)k.mv_data)[16] == cls) {
            *day = get_be32((const uint8_t *)k.mv_data + 12);
            return 0;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    return rc == 0 ? MDB_NOTFOUND : rc;
}

/* Rewrites the cum rows of (SITE, A, CLS) for days FROM..THROUGH from the
 * daily rows, drops any later ones, and rewrites the head. */
static int cum_rebuild(struct store *st, MDB_txn *txn, uint32_t site,
                       uint64_t a, int cls, uint32_t from, uint32_t through)
{
    MDB_cursor *cum, *daily;
    int rc = mdb_cursor_open(txn, st->dbi[DB_CUM], &cum);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &daily)) != 0) {
        mdb_cursor_close(cum);
        return rc;
    }
    uint8_t kb[17], buf[ROLLUP_RECORD_MAX];
    MDB_val k = { daily_key(kb, site, a, from, 0), kb }, v;
    rc = mdb_cursor_get(cum, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && same_article(&k, site, a)) {
        if (((const uint8_t *)k.mv_data)[16] == cls &&
            (rc = mdb_cursor_del(cum, 0)) != 0)
            break;
        rc = mdb_cursor_get(cum, &k, &v, MDB_NEXT);
    }
    struct rollup_day *base = calloc(1, sizeof *base);
    uint32_t first = 0, last = UINT32_MAX;
    if (base == NULL)
        rc = ENOMEM;
    if ((rc == 0 || rc == MDB_NOTFOUND) && from > 0)
        rc = cum_merge_at(cum, site, a, cls, from - 1, base, 1, &last);
    else if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc == 0 && last != UINT32_MAX)
        rc = cum_first_day(cum, site, a, cls, &first);
    k.mv_size = daily_key(kb, site, a, from, 0);
    k.mv_data = kb;
    if (rc == 0)
        rc = mdb_cursor_get(daily, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && same_article(&k, site, a)) {
        const uint8_t *p = k.mv_data;
        uint32_t day = get_be32(p + 12);
        if (day > through)
            break;
        if (p[16] == cls) {
            if (rollup_decode_add(v.mv_data, v.mv_size, base) != 0) {
                rc = MDB_CORRUPTED;
                break;
            }
            int len = rollup_encode(base, buf, sizeof buf);
            uint8_t ck[17];
            MDB_val ckey = { 17, ck }, cval = { (size_t)len, buf };
            memcpy(ck, p, 17);
            if (len < 0 ||
                (rc = mdb_put(txn, st->dbi[DB_CUM], &ckey, &cval, 0)) != 0) {
                rc = len < 0 ? MDB_BAD_VALSIZE : rc;
                break;
            }
            if (last == UINT32_MAX)
                first = day;
            last = day;
        }
        rc = mdb_cursor_get(daily, &k, &v, MDB_NEXT);
    }
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
        const uint8_t *p = k.mv_data;
        if (k.mv_size != 13 || v.mv_size != 4) {
            rc = mdb_cursor_del(cur, 0);
        } else {
            uint32_t site = get_be32(p), from = get_be32(v.mv_data);
            uint64_t a = get_be64(p + 4);
            int cls = p[12];
            rc = cum_rebuild(st, txn, site, a, cls, from, through);
            if (rc == 0) {
                uint8_t copy[13];
                memcpy(copy, p, 13);
                MDB_val dk = { 13, copy };
                rc = mdb_del(txn, st->dbi[DB_DIRTY], &dk, NULL);
            }
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
    uint8_t kb[17], buf[ROLLUP_RECORD_MAX];
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
    uint8_t kb[17];
    MDB_val k = { daily_key(kb, st->settle_site, st->settle_article, 0, 0),
                  kb }, v;
    *done = false;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && moves > 0) {
        const uint8_t *p = k.mv_data;
        if (k.mv_size == 17 && get_be32(p + 12) <= st->settle_to) {
            uint32_t site = get_be32(p), day = get_be32(p + 12);
            uint64_t a = get_be64(p + 4);
            int cls = p[16];
            rc = row_settle(st, txn, &k, &v);
            if (rc == 0 && a != 0 && day <= st->settle_from)
                rc = mark_dirty(st, txn, site, a, cls, day);
            if (rc == 0)
                rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            moves--;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == 0 && k.mv_size == 17) {         /* resume at this article */
        st->settle_site = get_be32(k.mv_data);
        st->settle_article = get_be64((const uint8_t *)k.mv_data + 4);
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
        uint8_t kb[17];
        MDB_val k = { daily_key(kb, st->settle_site, st->settle_article, 0, 0),
                      kb }, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND) {
            *done = true;
            rc = 0;
            break;
        }
        if (rc != 0 || k.mv_size != 17)
            break;
        uint32_t site = get_be32(k.mv_data);
        uint64_t a = get_be64((const uint8_t *)k.mv_data + 4);
        if (a != 0) {
            for (int cls = 0; cls <= 1 && rc == 0; cls++)
                rc = cum_rebuild(st, txn, site, a, cls, st->settle_from + 1,
                                 st->settle_to);
            if (rc != 0)
                break;
            (*budget)--;
        }
        st->settle_site = site;
        st->settle_article = a + 1;
        if (a == UINT64_MAX) {
            st->settle_site = site + 1;
            st->settle_article = 0;
        }
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
    uint8_t vb[4];
    MDB_val sk = { 8, "settling" }, fk = { 5, "final" }, v = { 4, vb };
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
        put_be32(vb, target);
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
    put_be32(vb, target);
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

/* One step of settling: dirty rebuilds and pass work worth BUDGET articles
 * in one write transaction. Returns 1 if more work remains, 0 if settled,
 * -1 on error. */
static int settle_step_locked(struct store *st, unsigned budget)
{
    MDB_txn *txn;
    if (txn_begin(st, 0, &txn) != 0)
        return -1;
    uint32_t final, settling, target = settle_target();
    settled_days(st, txn, &final, &settling);
    if (target < settling)
        target = settling;               /* a pass someone else started */
    st->final_through = final;
    st->final_mark = target;             /* writes to these days: dirty */
    struct { uint32_t from, to, site; int phase; uint64_t article; } saved = {
        st->settle_from, st->settle_to, st->settle_site, st->settle_phase,
        st->settle_article };
    bool finished = true;
    int rc = settle_dirty(st, txn, target, &budget);
    if (rc == 0 && budget > 0 && final < target)
        rc = settle_pass(st, txn, final, settling, target, &budget,
                         &finished);
    else if (rc == 0 && budget == 0)
        finished = false;
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0) {
        st->settle_from = saved.from;    /* redo the same work */
        st->settle_to = saved.to;
        st->settle_site = saved.site;
        st->settle_phase = saved.phase;
        st->settle_article = saved.article;
        if (rc == MDB_MAP_FULL && grow_map(st) == 0)
            return 1;
        log_error("store: settling rollups: %s", mdb_strerror(rc));
        return -1;
    }
    if (finished && final < target)
        st->final_through = target;
    return finished ? 0 : 1;
}

int store_settle_step(struct store *st, unsigned budget)
{
    pthread_mutex_lock(&st->write_mu);
    int rc = settle_step_locked(st, budget ? budget : 1);
    pthread_mutex_unlock(&st->write_mu);
    return rc;
}

int store_settle(struct store *st)
{
    int rc;
    while ((rc = store_settle_step(st, SETTLE_CHUNK)) == 1)
        ;
    return rc;
}

/* Schema 1 kept the rows of unsettled days in "daily" and had no heads:
 * moves those rows to "recent" and writes every head from the cum rows. */
static int migrate_v1(struct store *st, MDB_txn *txn)
{
    uint32_t final, settling;
    settled_days(st, txn, &final, &settling);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size == 17 &&
            get_be32((const uint8_t *)k.mv_data + 12) > final) {
            uint8_t kb[17], buf[ROLLUP_RECORD_MAX];
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
    /* heads: the last cum row of each (article, class), and the first day */
    MDB_cursor *probe = NULL;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_CUM], &cur)) != 0)
        return rc;
    struct rollup_day *sum = malloc(sizeof *sum);
    rc = sum ? mdb_cursor_open(txn, st->dbi[DB_CUM], &probe) : ENOMEM;
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size == 17) {
        uint32_t site = get_be32(k.mv_data);
        uint64_t a = get_be64((const uint8_t *)k.mv_data + 4);
        for (int cls = 0; cls <= 1 && rc == 0; cls++) {
            uint32_t first = 0, last;
            memset(sum, 0, sizeof *sum);
            rc = cum_merge_at(probe, site, a, cls, UINT32_MAX - 1, sum, 1,
                              &last);
            if (rc == 0 && last != UINT32_MAX &&
                (rc = cum_first_day(probe, site, a, cls, &first)) == 0)
                rc = head_put(st, txn, site, a, cls, first, last, sum);
        }
        uint8_t kb[17];
        k.mv_size = a == UINT64_MAX ? daily_key(kb, site + 1, 0, 0, 0)
                                    : daily_key(kb, site, a + 1, 0, 0);
        k.mv_data = kb;
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    if (probe)
        mdb_cursor_close(probe);
    free(sum);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* --- tokens ------------------------------------------------------------------------ */

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
    MDB_txn *txn;
    int rc = txn_begin(st, 0, &txn);
    if (rc != 0)
        return set_err(err, errlen, "begin", rc);
    MDB_val k = { 32, (void *)t->hash }, v = { 11 + sl + nl, buf };
    rc = mdb_put(txn, st->dbi[DB_TOKENS], &k, &v, 0);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return set_err(err, errlen, "token", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc ? set_err(err, errlen, "commit", rc) : 0;
}

int store_token_get(struct store *st, const uint8_t hash[32],
                    struct store_token *out)
{
    MDB_txn *txn;
    if (read_begin(st, &txn) != 0)
        return -1;
    MDB_val k = { 32, (void *)hash }, v;
    int rc = mdb_get(txn, st->dbi[DB_TOKENS], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : token_unpack(&k, &v, out);
    read_end(st, txn);
    return out_rc;
}

int store_token_each(struct store *st,
                     int (*fn)(void *ctx, const struct store_token *t),
                     void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(st, DB_TOKENS, &txn, &cur) != 0)
        return -1;
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        struct store_token t;
        if (token_unpack(&k, &v, &t) == 0 && fn(ctx, &t))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int store_token_delete(struct store *st, const uint8_t *prefix, size_t n)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (n == 0 || n > 32 || txn_begin(st, 0, &txn) != 0)
        return -1;
    if (mdb_cursor_open(txn, st->dbi[DB_TOKENS], &cur) != 0) {
        mdb_txn_abort(txn);
        return -1;
    }
    uint8_t kb[32] = { 0 };
    memcpy(kb, prefix, n);
    MDB_val k = { 32, kb }, v;
    int found = 0, rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    uint8_t match[32];
    while (rc == 0 && memcmp(k.mv_data, prefix, n) == 0) {
        memcpy(match, k.mv_data, 32);
        found++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (found != 1) {
        mdb_txn_abort(txn);
        return found == 0 ? 1 : 2;
    }
    k.mv_size = 32;
    k.mv_data = match;
    rc = mdb_del(txn, st->dbi[DB_TOKENS], &k, NULL);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return -1;
    }
    return mdb_txn_commit(txn) ? -1 : 0;
}

/* --- tickets and attribution ---------------------------------------------------- */

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
    hmac_sha256(st->secret, sizeof st->secret, msg, pl + n, out);
    return 0;
}

/* The keyed identity of an identify event's lower-cased sha256 hex. */
static void store_identity_of(struct store *st, const char *hex, size_t n,
                              uint8_t out[32])
{
    if (store_keyed_hash(st, "e:", hex, n, out) != 0)
        memset(out, 0, 32);
}

static void put_str8(uint8_t *p, size_t *off, const char *s)
{
    size_t n = strlen(s);
    if (n > 255)
        n = 255;
    p[(*off)++] = (uint8_t)n;
    memcpy(p + *off, s, n);
    *off += n;
}

static int get_str8(const uint8_t *p, size_t len, size_t *off, char *out,
                    size_t cap)
{
    if (*off >= len)
        return -1;
    size_t n = p[(*off)++];
    if (n >= cap || *off + n > len)
        return -1;
    memcpy(out, p + *off, n);
    out[n] = '\0';
    *off += n;
    return 0;
}

#define TICKET_REC_MAX (8 + 1 + 64 + 3 * 256 + 1 + \
                        STORE_TICKET_TAGS * (1 + STORE_TICKET_TAG_MAX))

/* created(8) flags(1: 1 email, 2 requester) [email_key(32)]
 * [requester_key(32)] {len(1) link} {len(1) channel} ntags(1) {len tag}… */
static size_t ticket_pack(const struct store_ticket *t, uint8_t *buf)
{
    size_t off = 9;
    put_be64(buf, t->created_us);
    buf[8] = (uint8_t)((t->has_email ? 1 : 0) | (t->has_requester ? 2 : 0));
    if (t->has_email) {
        memcpy(buf + off, t->email_key, 32);
        off += 32;
    }
    if (t->has_requester) {
        memcpy(buf + off, t->requester_key, 32);
        off += 32;
    }
    put_str8(buf, &off, t->link);
    put_str8(buf, &off, t->channel);
    size_t nt = t->ntags < STORE_TICKET_TAGS ? t->ntags : STORE_TICKET_TAGS;
    buf[off++] = (uint8_t)nt;
    for (size_t i = 0; i < nt; i++)
        put_str8(buf, &off, t->tags[i]);
    return off;
}

static int ticket_unpack(const MDB_val *k, const MDB_val *v,
                         struct store_ticket *t)
{
    const uint8_t *p = v->mv_data;
    size_t len = v->mv_size, off = 9;
    memset(t, 0, sizeof *t);
    if (k->mv_size < 5 || k->mv_size - 4 > STORE_TICKET_ID_MAX || len < 12)
        return -1;
    memcpy(t->id, (const uint8_t *)k->mv_data + 4, k->mv_size - 4);
    t->created_us = get_be64(p);
    t->has_email = p[8] & 1;
    t->has_requester = (p[8] & 2) != 0;
    if (t->has_email) {
        if (off + 32 > len)
            return -1;
        memcpy(t->email_key, p + off, 32);
        off += 32;
    }
    if (t->has_requester) {
        if (off + 32 > len)
            return -1;
        memcpy(t->requester_key, p + off, 32);
        off += 32;
    }
    if (get_str8(p, len, &off, t->link, sizeof t->link) != 0 ||
        get_str8(p, len, &off, t->channel, sizeof t->channel) != 0 ||
        off >= len)
        return -1;
    size_t nt = p[off++];
    for (size_t i = 0; i < nt && i < STORE_TICKET_TAGS; i++)
        if (get_str8(p, len, &off, t->tags[i], sizeof t->tags[i]) != 0)
            return -1;
    t->ntags = nt < STORE_TICKET_TAGS ? nt : STORE_TICKET_TAGS;
    return 0;
}

static size_t ticket_time_key(uint8_t *kb, uint32_t site, uint64_t t,
                              const char *id)
{
    size_t n = strlen(id);
    put_be32(kb, site);
    put_be64(kb + 4, t);
    memcpy(kb + 12, id, n);
    return 12 + n;
}

/* Puts one ticket in TXN; counts it in *UNCHANGED when identical. */
static int ticket_put_txn(struct store *st, MDB_txn *txn, uint32_t site,
                          const struct store_ticket *t, size_t *unchanged)
{
    uint8_t kb[4 + STORE_TICKET_ID_MAX], buf[TICKET_REC_MAX];
    uint8_t tk[12 + STORE_TICKET_ID_MAX];
    size_t idl = strlen(t->id);
    if (idl == 0 || idl > STORE_TICKET_ID_MAX)
        return MDB_BAD_VALSIZE;
    put_be32(kb, site);
    memcpy(kb + 4, t->id, idl);
    MDB_val k = { 4 + idl, kb }, v;
    size_t n = ticket_pack(t, buf);
    int rc = mdb_get(txn, st->dbi[DB_TICKETS], &k, &v);
    if (rc == 0 && v.mv_size == n && memcmp(v.mv_data, buf, n) == 0) {
        (*unchanged)++;
        return 0;
    }
    if (rc == 0 && v.mv_size >= 8) {       /* replaced: drop its old time */
        MDB_val ok = { ticket_time_key(tk, site, get_be64(v.mv_data), t->id),
                       tk };
        rc = mdb_del(txn, st->dbi[DB_TICKET_TIMES], &ok, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    v.mv_size = n;
    v.mv_data = buf;
    if ((rc = mdb_put(txn, st->dbi[DB_TICKETS], &k, &v, 0)) != 0)
        return rc;
    MDB_val tkey = { ticket_time_key(tk, site, t->created_us, t->id), tk };
    MDB_val empty = { 0, NULL };
    return mdb_put(txn, st->dbi[DB_TICKET_TIMES], &tkey, &empty, 0);
}

int store_tickets_put(struct store *st, uint32_t site_id,
                      const struct store_ticket *t, size_t n,
                      size_t *unchanged, char *err, size_t errlen)
{
    *unchanged = 0;
    /* webhooks call this from HTTP threads: one writer at a time, and the
     * map grows only while no write transaction of ours is open */
    pthread_mutex_lock(&st->write_mu);
    int out = tickets_put_locked(st, site_id, t, n, unchanged, err, errlen);
    pthread_mutex_unlock(&st->write_mu);
    return out;
}

static int tickets_put_locked(struct store *st, uint32_t site_id,
                              const struct store_ticket *t, size_t n,
                              size_t *unchanged, char *err, size_t errlen)
{
    for (int tries = 0; tries < 16; tries++) {
        MDB_txn *txn;
        int rc = txn_begin(st, 0, &txn);
        if (rc != 0)
            return set_err(err, errlen, "begin", rc);
        size_t same = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = ticket_put_txn(st, txn, site_id, &t[i], &same);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc == 0) {
            *unchanged = same;
            return 0;
        }
        if (rc != MDB_MAP_FULL || grow_map(st) != 0)
            return set_err(err, errlen, "tickets", rc);
    }
    snprintf(err, errlen, "tickets: the map cannot grow enough");
    return -1;
}

int store_tickets_each(struct store *st, uint32_t site_id, uint64_t from_us,
                       uint64_t to_us,
                       int (*fn)(void *ctx, const struct store_ticket *t),
                       void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(st, DB_TICKET_TIMES, &txn, &cur) != 0)
        return -1;
    uint8_t kb[12];
    put_be32(kb, site_id);
    put_be64(kb + 4, from_us);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size > 12 && get_be32(k.mv_data) == site_id &&
           get_be64((const uint8_t *)k.mv_data + 4) < to_us) {
        uint8_t tk[4 + STORE_TICKET_ID_MAX];
        size_t idl = k.mv_size - 12;
        if (idl <= STORE_TICKET_ID_MAX) {
            put_be32(tk, site_id);
            memcpy(tk + 4, (const uint8_t *)k.mv_data + 12, idl);
            MDB_val tkey = { 4 + idl, tk }, tv;
            struct store_ticket t;
            if (mdb_get(txn, st->dbi[DB_TICKETS], &tkey, &tv) == 0 &&
                ticket_unpack(&tkey, &tv, &t) == 0 && fn(ctx, &t) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int store_ticket_get(struct store *st, uint32_t site_id, const char *id,
                     struct store_ticket *out)
{
    uint8_t kb[4 + STORE_TICKET_ID_MAX];
    size_t n = strlen(id);
    if (n == 0 || n > STORE_TICKET_ID_MAX)
        return 1;
    put_be32(kb, site_id);
    memcpy(kb + 4, id, n);
    MDB_txn *txn;
    if (read_begin(st, &txn) != 0)
        return -1;
    MDB_val k = { 4 + n, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_TICKETS], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : ticket_unpack(&k, &v, out);
    read_end(st, txn);
    return out_rc;
}

int store_link_get(struct store *st, uint32_t site_id, const char *link,
                   uint64_t *time_us, uint64_t visitors[2])
{
    uint8_t kb[4 + EVENT_LINK_MAX];
    size_t n = strlen(link);
    if (n == 0 || n > EVENT_LINK_MAX)
        return 1;
    put_be32(kb, site_id);
    memcpy(kb + 4, link, n);
    MDB_txn *txn;
    if (read_begin(st, &txn) != 0)
        return -1;
    MDB_val k = { 4 + n, kb }, v;
    int rc = mdb_get(txn, st->dbi[DB_LINKS], &k, &v);
    if (rc == 0 && v.mv_size >= 32) {
        *time_us = get_be64(v.mv_data);
        visitors[0] = get_be64((const uint8_t *)v.mv_data + 16);
        visitors[1] = get_be64((const uint8_t *)v.mv_data + 24);
    }
    read_end(st, txn);
    return rc == 0 ? (v.mv_size >= 32 ? 0 : 1) : rc == MDB_NOTFOUND ? 1 : -1;
}

int store_identity_each(struct store *st, uint32_t site_id,
                        const uint8_t identity[32], uint64_t from_us,
                        uint64_t to_us,
                        int (*fn)(void *ctx, uint64_t time_us,
                                  uint64_t visitor),
                        void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(st, DB_IDENTS, &txn, &cur) != 0)
        return -1;
    uint8_t kb[44];
    put_be32(kb, site_id);
    memcpy(kb + 4, identity, 32);
    put_be64(kb + 36, from_us);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 44 &&
           memcmp(k.mv_data, kb, 36) == 0 &&
           get_be64((const uint8_t *)k.mv_data + 36) < to_us) {
        if (v.mv_size == 8 &&
            fn(ctx, get_be64((const uint8_t *)k.mv_data + 36),
               get_be64(v.mv_data)) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int store_visits_each(struct store *st, uint32_t site_id, uint64_t visitor,
                      uint64_t from_us, uint64_t to_us, store_visit_fn fn,
                      void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(st, DB_VISITS, &txn, &cur) != 0)
        return -1;
    uint8_t kb[21] = { 0 };
    put_be32(kb, site_id);
    put_be64(kb + 4, visitor);
    put_be64(kb + 12, from_us);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == 21 && memcmp(k.mv_data, kb, 12) == 0) {
        const uint8_t *p = k.mv_data, *q = v.mv_data;
        uint64_t t = get_be64(p + 12);
        if (t > to_us)
            break;
        int stop = 0;
        if (p[20] == 'v' && v.mv_size == 8)
            stop = fn(ctx, t, get_be64(q), NULL, 0, false);
        else if (p[20] == 's' && v.mv_size >= 1)
            stop = fn(ctx, t, 0, (const char *)q + 1, v.mv_size - 1, q[0]);
        if (stop)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}
