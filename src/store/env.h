/* env.h — the store itself (struct store: the environment, the queue's
 * state, the writer's), its databases and tuning, and what env.c offers
 * every file above it: transactions, read locks, map growth, THE one write
 * path (store_write), the server secret and the writer's salts. The store's
 * files and their floors: store.c. */
#ifndef DWELL_STORE_ENV_H
#define DWELL_STORE_ENV_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dwell/clientaddr.h"
#include "dwell/store.h"
#include "dwell/visitor.h"

#define MAX_MAP_SIZE       ((size_t)1 << 40)
#define VIEW_KEEP_DAYS     2
#define US_PER_DAY         86400000000ull

enum { DB_META, DB_SITES, DB_EVENTS, DB_VIEWS, DB_ARTICLES, DB_DAILY,
       DB_DIM, DB_SEEN, DB_LINKS, DB_SEARCHED, DB_TOKENS, DB_CUM, DB_DIRTY,
       DB_VISITS, DB_IDENTS, DB_TICKETS, DB_TICKET_TIMES, DB_RECENT,
       DB_HEADS, DB_DICT, DB_DICT_IDS, DB_COUNT };

#define VISITS_KEEP_DAYS 90
#define SITE_NAMES_CACHED 32

/* A day's rollups are final this many days after it: by then its views
 * have expired, so no engage can move their buckets any more. */
#define FINAL_AFTER_DAYS (VIEW_KEEP_DAYS + 1)
#define SETTLE_CHUNK 400      /* article rebuilds per write transaction */

#define LED_HERE_WINDOW_US (30ull * 60 * 1000000)

#define PURGE_EVERY_US  (3600ull * 1000000u)
#define PURGE_FIRST_US  (60ull * 1000000u)   /* after the writer starts */
#define PURGE_DBS       5                    /* databases a purge walks */

/* When the writer has not seen its queue empty for this long (default),
 * its chores (settling, purging) take one step a second between batches
 * anyway. */
#define CHORES_STARVED_US (300ull * 1000000u)
#define CHORES_FORCED_EVERY_US (1000000u)

/* Where a purge in progress resumes in one database. */
struct purge_mark {
    uint8_t key[511];               /* LMDB's largest key */
    size_t len;                     /* 0: from the first record */
    bool done;
};

enum { DIM_COUNTRY = STORE_DIM_COUNTRY, DIM_REFERRER = STORE_DIM_REFERRER,
       DIM_SEARCH = STORE_DIM_SEARCH, DIM_SEARCH_ZERO = STORE_DIM_SEARCH_ZERO,
       DIM_LED_HERE = STORE_DIM_LED_HERE, DIM_EVENT = STORE_DIM_EVENT };

struct slot;
struct shipper;

struct store {
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    enum store_durability durability;
    bool readonly;
    bool manual_settle;
    size_t map_size;
    pthread_rwlock_t resize_lock;   /* read txns shared, resizes exclusive */

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
    uint32_t salt_day;
    uint8_t salt_today[VISITOR_SALT_LEN], salt_yesterday[VISITOR_SALT_LEN];
    bool have_yesterday;
    uint64_t last_purge_us;
    uint8_t secret[32];             /* server secret (meta "secret") */
    bool have_secret;
    bool clustered;                 /* options' cluster secret given: */
    struct visitor_cluster cluster; /* salts and secret derive from it */
    struct env_site_name {          /* the writer's cache of site names
                                       by id (direct-mapped), for visitor
                                       hashes keyed by name; id 0: empty */
        uint32_t id;
        uint8_t len;
        char name[EVENT_SITE_MAX];
    } site_names[SITE_NAMES_CACHED];
    uint32_t visits_purged_day;
    bool purging;                   /* a purge is under way, in steps */
    size_t purged;                  /* records it has deleted so far */
    struct purge_mark purge_at[PURGE_DBS];
    uint32_t retention_days;        /* options' retention_days; 0: forever */
    bool retaining;                 /* the purge pass is at its retention */
    int retain_phase;               /* retention.c's phase, and where it */
    struct purge_mark retain_at;    /* resumes */
    uint64_t idle_us;               /* the writer last saw no queue */
    uint64_t purge_first_us, starved_us;    /* from the options */
    uint64_t forced_every_us;               /* options' chores_every_ms */
    uint64_t engage_allowance_us;   /* options' engage_allowance_ms */
    uint64_t forced_us;             /* its last chore step under load */
    uint32_t final_mark;            /* days up to this one are settled for
                                       the batch being written (meta
                                       "settling", or "final") */
    pthread_mutex_t write_mu;       /* one of batch or settle step at a time
                                       in this process (LMDB serialises the
                                       transactions; this, our own state) */
    uint32_t settle_from, settle_to;/* the pass in progress: final, target */
    int settle_phase;               /* 0: moving rows, 1: extending cum */
    uint32_t settle_site;           /* where the phase resumes */
    uint64_t settle_article;

    /* shipping (ship.c): the log every write appends to once enabled */
    bool ship_log;                  /* the "ship" database is open */
    MDB_dbi ship_dbi;
    uint64_t ship_next;             /* the next log sequence (a write
                                       transaction's, ship_log_begin) */
    struct shipper *shipper;        /* the thread, while shipping */

    struct row_cache *rows;         /* apply.c: a batch's rollup rows, in
                                       memory until the batch is written */
    struct dict_cache *dict;        /* dict.c: dictionary ids the write
                                       transactions have seen */
    uint64_t write_txns;            /* write transactions begun, and those */
    uint64_t write_undone;          /* not committed (for dict.c's cache) */
};

static inline uint32_t day_of_us(uint64_t us)
{
    return (uint32_t)(us / US_PER_DAY);
}

/* Formats "WHAT: <LMDB's text for RC>" into ERR; returns -1. */
static inline int set_err(char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
    return -1;
}

/* Begins a transaction, adopting a map size grown by another process. */
int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn);

/* Read transactions hold the resize lock shared for their whole life. */
int store_read_begin(struct store *st, MDB_txn **txn);
void store_read_end(struct store *st, MDB_txn *txn);

/* LMDB's mdb_env_info and, unless MS is NULL, mdb_env_stat of ST, read with
 * the resize lock held shared: both read the meta pages in the map, which
 * a thread growing the map unmaps meanwhile. Returns 0 or an LMDB error. */
int store_map_info(struct store *st, MDB_envinfo *info, MDB_stat *ms);

/* A read transaction with a cursor on database DB. */
int store_read_cursor(struct store *st, int db, MDB_txn **txn,
                      MDB_cursor **cur);
void store_read_cursor_end(struct store *st, MDB_txn *txn, MDB_cursor *cur);

/* Doubles the map (no transaction of this process may be open). */
int store_grow_map(struct store *st);

/* The body of a write: does its work in TXN and returns 0 or an LMDB error
 * code. It may run more than once (see store_write): it must start from
 * what it finds in TXN, and UNDO (if any) must put back what it changed
 * outside TXN when TXN is not committed. */
typedef int (*store_write_fn)(struct store *st, MDB_txn *txn, void *ctx);
typedef void (*store_undo_fn)(struct store *st, void *ctx);

/* The one write path of the store: takes the writer's lock, runs FN in a
 * write transaction and commits; when the map is full (MDB_MAP_FULL from FN
 * or the commit) aborts, calls UNDO, grows the map and runs FN again, up to
 * the map size limit. Returns 0, or the LMDB error code of the last try
 * (UNDO has been called). Must not be called with the writer's lock held. */
int store_write_undo(struct store *st, store_write_fn fn, store_undo_fn undo,
                     void *ctx);

/* store_write_undo without an UNDO. */
int store_write(struct store *st, store_write_fn fn, void *ctx);

/* Reads the server secret, creating it when the store is writable.
 * Clustered: derives it from the cluster secret instead and stores it
 * (replacing another) when the store is writable. Returns 0 or -1. */
int env_load_secret(struct store *st);

/* Makes ST clustered under the N bytes at SECRET (before env_load_secret
 * and the writer's first salts). */
void env_set_cluster(struct store *st, const void *secret, size_t n);

/* The visitor hash of the event of SITE_ID from ADDR with user agent UA
 * (UALEN bytes) under SALT: keyed by the site's name when clustered (looked
 * up in TXN, then cached), by its id otherwise. */
uint64_t store_visitor_hash(struct store *st, MDB_txn *txn,
                            const uint8_t *salt, uint32_t site_id,
                            const struct ipaddr *addr, const char *ua,
                            size_t ualen);

/* Makes the writer's salts those of TODAY (inside the batch's TXN). */
int store_writer_salts(struct store *st, MDB_txn *txn, uint32_t today);

/* The keyed identity of an identify event's lower-cased sha256 hex. */
void store_identity_of(struct store *st, const char *hex, size_t n,
                       uint8_t out[32]);

#endif
