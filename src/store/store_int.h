/* store_int.h — what the store's files share, and nothing else includes:
 * the layout of the LMDB environment, the store itself, the queue's slots,
 * small helpers, and the functions one store file offers the others.
 *   store.c          the environment, the queue and its writer thread,
 *                    salts, sites, tokens, reading raw events
 *   store_apply.c    what an event does to views, articles, rollups and
 *                    attribution indexes; purging what has expired
 *   store_rollups.c  reading rollups: recent and daily rows, cumulative
 *                    rows and heads, settling, the schema 1 migration
 *   store_tickets.c  tickets, and the indexes that tie them to readers
 *
 * Named databases (keys are big-endian so that they sort as numbers):
 *   meta       "schema" -> u32; "site_seq" -> u32; "salt"+day(4) -> 16 bytes
 *   sites      name -> id(4) norigins(1) {len(1) origin}...
 *   events     time_us(8) seq(4) -> event record (event_encode)
 *   views      site(4) view id -> struct view_rec
 *   articles   site(4) article(8) -> first_day(4) last_day(4) words(4)
 *                                    {len(2) path} {len(2) title} {len(2) cat}
 *                                    [page kind(1), when not the default:
 *                                    home for "/", article otherwise]
 *   daily      site(4) article(8) day(4) class(1) -> rollup record, for
 *              settled days (see store_rollups.c)
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
 *              kept for final days only (see store_rollups.c)
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
 * "settling" (the day it settles to), and "note" site(4) name -> bytes:
 * notes commands keep per site (store_site_note_put; dwell demo's "demo").
 * Article id 0 holds the site-wide rollup; class 0 is readers, 1 is bots. */
#ifndef DWELL_STORE_INT_H
#define DWELL_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dwell/clientaddr.h"
#include "dwell/store.h"
#include "dwell/visitor.h"

#define VIEW_KEEP_DAYS     2
#define US_PER_DAY         86400000000ull

enum { DB_META, DB_SITES, DB_EVENTS, DB_VIEWS, DB_ARTICLES, DB_DAILY,
       DB_DIM, DB_SEEN, DB_LINKS, DB_SEARCHED, DB_TOKENS, DB_CUM, DB_DIRTY,
       DB_VISITS, DB_IDENTS, DB_TICKETS, DB_TICKET_TIMES, DB_RECENT,
       DB_HEADS, DB_COUNT };

#define VISITS_KEEP_DAYS 90

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
    uint64_t seqs;       /* bit N-1: search/custom event N already counted */
};
#define VIEW_REC_LEN 28
#define VIEW_REC_LEN_V1 20   /* before wire 2: no seqs (read as none seen) */
#define VIEW_SEQ_BITS 64     /* sequence numbers deduplicated per view */

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
    struct purge_mark purge_at[PURGE_DBS];
    uint64_t idle_us;               /* the writer last saw no queue */
    uint64_t purge_first_us, starved_us;    /* from the options */
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
};

/* --- small helpers ------------------------------------------------------- */

static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline uint32_t day_of_us(uint64_t us)
{
    return (uint32_t)(us / US_PER_DAY);
}

static inline int set_err(char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
    return -1;
}

static inline size_t daily_key(uint8_t *key, uint32_t site, uint64_t article,
                        uint32_t day, int cls)
{
    put_be32(key, site);
    put_be64(key + 4, article);
    put_be32(key + 12, day);
    key[16] = (uint8_t)cls;
    return 17;
}

static inline bool same_article(const MDB_val *k, uint32_t site, uint64_t a)
{
    return k->mv_size == 17 && get_be32(k->mv_data) == site &&
           get_be64((const uint8_t *)k->mv_data + 4) == a;
}

/* --- store.c ------------------------------------------------------------- */

/* Begins a transaction, adopting a map size grown by another process. */
int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn);

/* Read transactions hold the resize lock shared for their whole life. */
int store_read_begin(struct store *st, MDB_txn **txn);
void store_read_end(struct store *st, MDB_txn *txn);

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

/* Makes the writer's salts those of TODAY (inside the batch's TXN). */
int store_writer_salts(struct store *st, MDB_txn *txn, uint32_t today);

/* --- store_apply.c ------------------------------------------------------- */

/* Applies the events of the slots from HEAD in one write transaction and
 * commits; sets *STORED. Returns 0 or an LMDB error code. */
int store_apply_batch(struct store *st, struct slot *head, size_t *stored);

/* One step of store_purge (see there), in one write transaction; adds to
 * *REMOVED. Returns 1 if more remain, 0 when done, -1 on error. */
int store_purge_step(struct store *st, size_t *removed);

/* --- store_rollups.c ----------------------------------------------------- */

/* The last settled day (meta "final") and the day a running settling pass
 * settles to (meta "settling"; FINAL itself when none runs), as TXN sees
 * them. Rows of days after *SETTLING are only ever in "recent". Returns 0
 * or an LMDB error. */
int store_settled_days(struct store *st, MDB_txn *txn, uint32_t *final,
                       uint32_t *settling);

/* Notes that the cumulative rows of (SITE, ARTICLE, CLS) from DAY on no
 * longer hold: a settled day changed (imports, generated data, late
 * events). */
int store_mark_dirty(struct store *st, MDB_txn *txn, uint32_t site,
                     uint64_t article, int cls, uint32_t day);

/* Decodes an article record (key = site, id) into OUT. Returns 0, or -1. */
int store_article_unpack(const MDB_val *k, const MDB_val *v,
                         struct store_article *out);

/* The page kind of an article record that has no kind byte (every record
 * made before kinds existed): home for the site root, article otherwise. */
uint8_t store_article_default_kind(const char *path, size_t len);

/* Brings a schema 1 environment to the current layout inside TXN. */
int store_migrate_v1(struct store *st, MDB_txn *txn);

/* --- store_tickets.c ----------------------------------------------------- */

/* The keyed identity of an identify event's lower-cased sha256 hex. */
void store_identity_of(struct store *st, const char *hex, size_t n,
                       uint8_t out[32]);

#endif
