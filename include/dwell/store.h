/* store.h — the event store: one LMDB environment per process, its schema,
 * the bounded ingest queue and the one writer thread that turns queued
 * events into raw records, per-view state and daily rollups in a single
 * transaction per batch. Nothing outside src/store/ includes <lmdb.h>.
 *
 * Thread model: any thread may call store_enqueue() and the read functions;
 * only the writer thread (and CLI commands, through the store_*_put calls)
 * open write transactions. */
#ifndef DWELL_STORE_H
#define DWELL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/event.h"

struct store;
struct ipaddr;

enum store_durability {
    STORE_FSYNC,    /* ack after the batch is committed and synced */
    STORE_COMMIT,   /* ack after commit, without waiting for the sync */
    STORE_NONE      /* the caller acks on enqueue; commit without sync */
};

struct store_options {
    enum store_durability durability;
    size_t map_size;       /* initial map size in bytes; 0: 256 MiB */
    size_t queue_cap;      /* queued events at most; 0: 65,536 */
    bool readonly;         /* open for reading only (CLI reports) */
    bool manual_settle;    /* the writer never settles rollups on its own:
                              the caller runs store_settle(_step) */
    unsigned purge_first_ms;  /* the writer's first purge, this long after
                                 it starts; 0: 60 s (then hourly) */
    unsigned starved_ms;   /* a queue that has not emptied for this long
                              no longer holds off settling and purging
                              (one step each chores_every_ms); 0: 300 s */
    unsigned chores_every_ms;  /* under a starved queue, a step of each
                                  chore this often; 0: 1 s */
    uint64_t engage_allowance_ms;  /* a view's engaged time is at most the
                                      time since it was first seen plus
                                      this; 0: 30 s */
    uint32_t retention_days;       /* the purge deletes raw events, tickets
                                      and links of days before the last
                                      this many (rollups stay); 0: never */
    const void *cluster_secret;    /* when given (cluster_secret_len bytes,
                                      visitor_secret_check'ed): the salts
                                      and the keyed-hash secret are derived
                                      from it, visitors hashed by site name
                                      (docs/scale-out.md) */
    size_t cluster_secret_len;
};

#define STORE_MAX_ORIGINS 8
#define STORE_ORIGIN_MAX  200

struct site {
    uint32_t id;
    char name[EVENT_SITE_MAX + 1];
    size_t norigins;
    char origins[STORE_MAX_ORIGINS][STORE_ORIGIN_MAX + 1];
};

/* A histogram of COUNT observations summing to SUM: BUCKET[i] of them
 * were above the bound before i and at most bound i (store_batch_le or
 * store_commit_le, ascending); those above the last bound are only in
 * COUNT. */
#define STORE_HIST_BUCKETS 12
struct store_hist {
    uint64_t count;
    double sum;
    uint64_t bucket[STORE_HIST_BUCKETS];
};
extern const double store_batch_le[STORE_HIST_BUCKETS];
extern const double store_commit_le[STORE_HIST_BUCKETS];

struct store_stats {
    uint64_t events_stored;   /* by this process since start */
    uint64_t batches;
    uint64_t orphans;         /* engage/vote/… events without a known view */
    uint64_t map_grows;
    uint64_t write_errors;
    uint64_t purged;          /* expired records deleted since start */
    uint64_t sync_errors;     /* failed flushes to disk (commit, none) */
    size_t queue_depth;       /* events waiting */
    size_t queue_cap;         /* events queued at most (--queue) */
    size_t map_size;
    size_t map_used;          /* bytes of the map in use: the last page
                                 written and those before it */
    struct store_hist batch_events;   /* events per ingest commit */
    struct store_hist commit_seconds; /* seconds per ingest commit (its
                                         fsync included in mode fsync) */
};

#define STORE_EFULL (-2)      /* store_enqueue: the queue is full */

/* Opens (creating it if needed, unless OPT->readonly) the environment in
 * directory DIR. On success returns 0 and sets *OUT; the caller owns it and
 * frees it with store_close(). On error returns -1 with a reason in ERR. */
int store_open(const char *dir, const struct store_options *opt,
               struct store **out, char *err, size_t errlen);

/* Stops the writer after it has committed and acknowledged everything
 * queued (what no writer took is acknowledged as failed) and syncs; from
 * then on store_enqueue fails. ST may be NULL; a second call does nothing. */
void store_stop_writer(struct store *st);

/* store_stop_writer, then closes the environment. ST may be NULL. */
void store_close(struct store *st);

/* Starts the writer thread. Returns 0, or -1 with a reason in ERR. */
int store_start_writer(struct store *st, char *err, size_t errlen);

/* Called by the writer once the events of one store_enqueue() call are
 * durable as the durability mode promises (STATUS 0), or could not be
 * stored (STATUS -1). Runs on the writer thread: it must not block. */
typedef void (*store_ack_fn)(void *ctx, int status);

/* Queues the N events of one request, from client address ADDR with user
 * agent UA (used for the visitor hash and then forgotten), as one unit: the
 * writer stores all of them in one transaction. Never blocks. Returns 0;
 * STORE_EFULL when the queue is full (nothing queued); -1 on another error.
 * The events are copied. ACK (may be NULL) is called once, later, with CTX. */
int store_enqueue(struct store *st, const struct event *evs, size_t n,
                  const struct ipaddr *addr, const char *ua, size_t ualen,
                  store_ack_fn ack, void *ctx);

/* Like store_enqueue, for events that happened at TIME_US (microseconds
 * since the epoch) rather than now: imports and generated demo traffic.
 * Their rollups land on the day of TIME_US. A time past the year 4253 is
 * refused (-1). */
int store_enqueue_at(struct store *st, uint64_t time_us,
                     const struct event *evs, size_t n,
                     const struct ipaddr *addr, const char *ua, size_t ualen,
                     store_ack_fn ack, void *ctx);

/* Blocks until every event queued so far is committed and acknowledged,
 * or TIMEOUT_MS has passed. Returns 0, or -1 on timeout. */
int store_drain(struct store *st, unsigned timeout_ms);

/* Copies the counters of ST to OUT. */
void store_get_stats(struct store *st, struct store_stats *out);

/* Registers site NAME (1–100 of [a-z0-9.-]) with its allowed ORIGINS, or
 * replaces the origins of an existing one (when NORIGINS > 0; an existing
 * site's origins are kept when none are given). Sets *ID and *CREATED. Returns 0,
 * or -1 with a reason in ERR. */
int store_site_put(struct store *st, const char *name,
                   const char *const *origins, size_t norigins,
                   uint32_t *id, bool *created, char *err, size_t errlen);

/* Registers site NAME like store_site_put with no origins, and removes an
 * existing site's origins: it then accepts events from any origin. Sets
 * *ID and *CREATED. Returns 0, or -1 with a reason in ERR. */
int store_site_put_any(struct store *st, const char *name, uint32_t *id,
                       bool *created, char *err, size_t errlen);

/* Looks up site NAME (LEN bytes). Returns 0 and fills OUT; 1 if there is no
 * such site; -1 on a storage error. Sees sites added by other processes. */
int store_site_get(struct store *st, const char *name, size_t len,
                   struct site *out);

/* One caller's memory of the last site it looked up (found or not), with
 * the store's state it was read in. Zero it before first use. */
struct site_memo {
    const struct store *st;      /* NULL: empty */
    uint64_t txnid;              /* the last transaction committed then */
    int rc;                      /* store_site_get's answer: 0 or 1 */
    size_t len;
    struct site site;            /* its record when rc is 0; its name */
};

/* store_site_get for a caller that asks for the same site again and again
 * (an HTTP thread): answers from M when no write transaction, of this or
 * any other process, has been committed since M was filled, so that the
 * answer is the one a lookup would give; else looks up and refills M.
 * Returns 0 with *OUT pointing into M, 1 if there is no such site, -1 on a
 * storage error. */
int store_site_get_memo(struct store *st, const char *name, size_t len,
                        struct site_memo *m, const struct site **out);

/* Calls FN for every site in name order until FN returns non-zero.
 * Returns 0, or -1 on a storage error. */
int store_site_each(struct store *st,
                    int (*fn)(void *ctx, const struct site *s), void *ctx);

/* A note: a small record a command keeps per site for its own bookkeeping
 * (dwell demo notes there what it generated). NAME is 1–16 of [a-z_]. */
#define STORE_NOTE_NAME_MAX 16
#define STORE_NOTE_MAX      256

/* Stores the LEN (<= STORE_NOTE_MAX) bytes at DATA as note NAME of site
 * SITE_ID, replacing any earlier one, in a transaction of its own. Returns
 * 0, or -1 with a reason in ERR (then nothing changed). */
int store_site_note_put(struct store *st, uint32_t site_id, const char *name,
                        const void *data, size_t len, char *err,
                        size_t errlen);

/* Copies note NAME of SITE_ID to BUF (CAP bytes) and sets *LEN. Returns 0;
 * 1 if there is none; -1 on a storage error, a bad NAME, or a note longer
 * than CAP. Sees notes written by other processes. */
int store_site_note_get(struct store *st, uint32_t site_id, const char *name,
                        void *buf, size_t cap, size_t *len);

/* Calls FN for the stored events of SITE_ID at or after SINCE_US, oldest
 * first, at most the LIMIT most recent of them (0: no limit). An engage,
 * vote, … event's path is the path of the article it belongs to, when known.
 * The event's strings live until FN returns. Returns 0, or -1. */
int store_events_each(struct store *st, uint32_t site_id, uint64_t since_us,
                      size_t limit,
                      int (*fn)(void *ctx, const struct event *ev), void *ctx);

/* Drops this process's resident pages of the data file (they stay in the
 * kernel's page cache; reading them again maps them back): a long walk
 * over the data, such as an export, calling it now and then keeps its
 * resident memory the same whatever the data's size. Safe at any time
 * (MADV_DONTNEED on the shared, read-only map). Returns 0, or -1. */
int store_release_pages(struct store *st);

/* Makes TODAY (UTC days since the epoch) the current day for visitor
 * salts: creates today's salt if missing and destroys every salt that is
 * not live (see visitor_salt_live). Returns 0, or -1. */
int store_salt_rotate(struct store *st, uint32_t today);

/* Reads the salt of day DAY. Returns 0; 1 if there is none (never made, or
 * destroyed); -1 on a storage error. */
int store_salt_get(struct store *st, uint32_t day, uint8_t salt[16]);

/* --- access tokens ---------------------------------------------------------- */

enum store_scope {
    STORE_SCOPE_FULL = 0,      /* reports and ticket webhooks */
    STORE_SCOPE_READ = 1       /* reports only (share links) */
};

#define STORE_TOKEN_NAME_MAX 64

/* A token as stored: only its SHA-256, never the token itself. */
struct store_token {
    uint8_t hash[32];
    char site[EVENT_SITE_MAX + 1];
    enum store_scope scope;
    uint64_t created_us;
    char name[STORE_TOKEN_NAME_MAX + 1];
};

/* Stores T (keyed by T->hash). Returns 0, or -1 with a reason in ERR. */
int store_token_put(struct store *st, const struct store_token *t,
                    char *err, size_t errlen);

/* Looks up the token whose SHA-256 is HASH. Returns 0; 1 if none; -1. */
int store_token_get(struct store *st, const uint8_t hash[32],
                    struct store_token *out);

/* Calls FN for every token until FN returns non-zero. Returns 0, or -1. */
int store_token_each(struct store *st,
                     int (*fn)(void *ctx, const struct store_token *t),
                     void *ctx);

/* Deletes the token whose hash starts with the bytes PREFIX (N of them).
 * Returns 0; 1 if none matches; 2 if several do; -1 on error. */
int store_token_delete(struct store *st, const uint8_t *prefix, size_t n);

/* --- reading rollups (reports) ------------------------------------------ */

#include "dwell/rollup.h"

/* Breakdown dimensions kept per article and day. */
enum store_dim {
    STORE_DIM_COUNTRY = 'c',       /* ISO code or "--" */
    STORE_DIM_REFERRER = 'r',      /* referrer host or "(direct)" */
    STORE_DIM_SEARCH = 's',        /* searches made here, with results */
    STORE_DIM_SEARCH_ZERO = 'z',   /* searches made here, no results */
    STORE_DIM_LED_HERE = 'l',      /* searches followed by a view of this
                                      article within 30 minutes */
    STORE_DIM_EVENT = 'e'          /* custom event names */
};

struct store_article {
    uint64_t id;
    uint32_t first_day, last_day;  /* days since the epoch, UTC */
    uint32_t words;
    uint8_t kind;                  /* enum event_page_kind, of the last view
                                      (home for "/" in records made before
                                      kinds existed; article otherwise) */
    char path[EVENT_PATH_MAX + 1];
    char title[EVENT_TITLE_MAX + 1];
    char category[EVENT_CATEGORY_MAX + 1];
};

/* Calls FN for every article of SITE_ID, in id order, until FN returns
 * non-zero. Returns 0, or -1 on a storage error. */
int store_articles_each(struct store *st, uint32_t site_id,
                        int (*fn)(void *ctx, const struct store_article *a),
                        void *ctx);

/* Reads article ID of SITE_ID. Returns 0; 1 if unknown; -1 on error. */
int store_article_get(struct store *st, uint32_t site_id, uint64_t id,
                      struct store_article *out);

/* One article's rollup for one day (or for the whole range), for
 * store_rollups_each. */
typedef int (*store_rollup_fn)(void *ctx, uint64_t article, uint32_t day,
                               const struct rollup_day *d);

/* Calls FN with the daily rollups of SITE_ID with FROM <= day <= TO,
 * readers only or readers + bots summed when INCLUDE_BOTS, article by
 * article (ascending id): once per day with data when PER_DAY, else once
 * per article with data, summed over the range (DAY is then TO).
 * ARTICLE selects one article (0 is the site-wide row, which has counters
 * but no buckets); STORE_ALL_ARTICLES every article but the site row.
 * Stops early when FN returns non-zero. Returns 0, or -1. */
#define STORE_ALL_ARTICLES UINT64_MAX
int store_rollups_each(struct store *st, uint32_t site_id, uint64_t article,
                       uint32_t from, uint32_t to, bool include_bots,
                       bool per_day, store_rollup_fn fn, void *ctx);

struct store_range {
    uint32_t from, to;         /* days, inclusive */
};

#define STORE_MAX_RANGES 4

/* For each of the N articles IDS of SITE_ID, writes its rollups summed over
 * each of the NR (<= STORE_MAX_RANGES) RANGES to OUT[i * NR + r] (readers,
 * plus bots when INCLUDE_BOTS). Settled days come from the cumulative rows
 * (at most one lookup per distinct range boundary, none where the article's
 * head answers), the others from the daily rows. Safe to call from several
 * threads at once. Returns 0, or -1. */
int store_rollup_sums(struct store *st, uint32_t site_id, const uint64_t *ids,
                      size_t n, const struct store_range *ranges, size_t nr,
                      bool include_bots, struct rollup_day *out);

/* Called by store_rollup_sums_each with the index I of an article in IDS
 * and its NR sums (valid during the call only). Non-zero stops the walk. */
typedef int (*store_sums_fn)(void *ctx, size_t i,
                             const struct rollup_day *sums);

/* store_rollup_sums handing each article's sums to FN instead of storing
 * them all. Returns 0 (also when FN stopped it), or -1. */
int store_rollup_sums_each(struct store *st, uint32_t site_id,
                           const uint64_t *ids, size_t n,
                           const struct store_range *ranges, size_t nr,
                           bool include_bots, store_sums_fn fn, void *ctx);

/* Calls FN for each stored count of dimension DIM of ARTICLE (0: site-wide,
 * for searches) on a day in FROM..TO (one call per day and value; the caller
 * sums). Stops early when FN returns non-zero. Returns 0, or -1. */
int store_dims_each(struct store *st, uint32_t site_id, uint64_t article,
                    enum store_dim dim, uint32_t from, uint32_t to,
                    bool include_bots,
                    int (*fn)(void *ctx, const char *value, size_t len,
                              uint64_t count),
                    void *ctx);

/* --- tickets and attribution ------------------------------------------------ */

#define STORE_TICKET_ID_MAX   64
#define STORE_TICKET_TAGS     16
#define STORE_TICKET_TAG_MAX  64

/* A ticket as stored: no subject, no body, no e-mail; the requester only
 * as keyed hashes (see store_keyed_hash). */
struct store_ticket {
    char id[STORE_TICKET_ID_MAX + 1];
    uint64_t created_us;
    char link[EVENT_LINK_MAX + 1];        /* dwell link id, or "" */
    bool has_email;                       /* EMAIL_KEY is set */
    uint8_t email_key[32];                /* keyed hash of the e-mail */
    bool has_requester;
    uint8_t requester_key[32];            /* keyed hash of the requester */
    char channel[33];
    size_t ntags;
    char tags[STORE_TICKET_TAGS][STORE_TICKET_TAG_MAX + 1];
};

/* HMAC-SHA-256 under the server secret of PREFIX followed by the N bytes at
 * DATA: how e-mails ("e:" + sha256 hex of the lower-cased address, the same
 * value the snippet's identify sends) and requester ids ("r:" + id) are
 * kept. Returns 0, or -1 if there is no secret (a read-only store that was
 * never written). */
int store_keyed_hash(struct store *st, const char *prefix, const char *data,
                     size_t n, uint8_t out[32]);

/* Stores the N tickets of SITE_ID in one transaction, keyed by id: a ticket
 * stored before with the same content is left alone (*UNCHANGED counts
 * them), one with other content is replaced. Returns 0, or -1 with a reason
 * in ERR (then nothing was stored). */
int store_tickets_put(struct store *st, uint32_t site_id,
                      const struct store_ticket *t, size_t n,
                      size_t *unchanged, char *err, size_t errlen);

/* Calls FN for each ticket of SITE_ID created in [FROM_US, TO_US), oldest
 * first, until FN returns non-zero. Returns 0, or -1. */
int store_tickets_each(struct store *st, uint32_t site_id, uint64_t from_us,
                       uint64_t to_us,
                       int (*fn)(void *ctx, const struct store_ticket *t),
                       void *ctx);

/* Reads ticket ID of SITE_ID. Returns 0; 1 if unknown; -1. */
int store_ticket_get(struct store *st, uint32_t site_id, const char *id,
                     struct store_ticket *out);

/* The reader behind link id LINK: its time and the visitor hashes under
 * that day's and the previous day's salt (0 when unknown). Returns 0; 1 if
 * unknown; -1. */
int store_link_get(struct store *st, uint32_t site_id, const char *link,
                   uint64_t *time_us, uint64_t visitors[2]);

/* Calls FN with the visitor hash of each identify event of IDENTITY (see
 * store_keyed_hash) in [FROM_US, TO_US). Returns 0, or -1. */
int store_identity_each(struct store *st, uint32_t site_id,
                        const uint8_t identity[32], uint64_t from_us,
                        uint64_t to_us,
                        int (*fn)(void *ctx, uint64_t time_us,
                                  uint64_t visitor),
                        void *ctx);

/* What one visitor did: a view of ARTICLE (QUERY NULL), or a search for
 * QUERY (QLEN bytes; ZERO when it found nothing). */
typedef int (*store_visit_fn)(void *ctx, uint64_t time_us, uint64_t article,
                              const char *query, size_t qlen, bool zero);

/* Calls FN for each view and search of VISITOR on SITE_ID in
 * [FROM_US, TO_US], oldest first. Returns 0, or -1. */
int store_visits_each(struct store *st, uint32_t site_id, uint64_t visitor,
                      uint64_t from_us, uint64_t to_us, store_visit_fn fn,
                      void *ctx);

/* Brings the cumulative rollups up to date now (the writer otherwise does
 * it when idle): reports over long ranges then read two rows per article.
 * Call only where no writer thread runs, or from it. Returns 0, or -1. */
int store_settle(struct store *st);

/* Deletes now what has expired: view state and visitor marks older than
 * two days, searches older than the led-here window, visits and identities
 * older than 90 days (the writer does it an hour apart, the first time a
 * minute after it starts), in transactions of at most 20,000 deletions.
 * Sets *REMOVED to how many records went. Returns 0, or -1. */
int store_purge(struct store *st, size_t *removed);

/* One bounded step of store_settle: work worth at most BUDGET article
 * rebuilds in one write transaction. Returns 1 if more work remains, 0 if
 * everything is settled, -1 on error. */
int store_settle_step(struct store *st, unsigned budget);

/* Microseconds since the epoch (wall clock). */
uint64_t store_now_us(void);

/* --- data lifecycle: removal, forgetting, backup -------------------------- */

/* Removes site NAME and every record of it. First it leaves "sites" (from
 * then on its beacons are refused as an unknown site, it is not listed, its
 * tokens find no site), then, two seconds later (what a running server had
 * already accepted is written by then), its tokens, notes, raw events,
 * rollups, breakdowns, articles, view state, visitor marks, tickets, links,
 * visits and identities go, in transactions of at most 20,000 deletions, so
 * that a server on the same data keeps ingesting between them. A removal
 * cut short (a crash) is finished by calling it again with NAME. Sets
 * *REMOVED to the records deleted. Returns 0; 1 if there is no such site
 * (nor one being removed); -1 with a reason in ERR. */
int store_site_remove(struct store *st, const char *name, size_t *removed,
                      char *err, size_t errlen);

/* What store_forget removed or changed. */
struct store_forgotten {
    size_t tickets;            /* tickets with their ticket_times rows */
    size_t links;              /* link records of those tickets */
    size_t identities;         /* identify records (idents) */
    size_t visits;             /* visits of the visitor hashes those name */
    size_t events_deleted;     /* raw identify and link events */
    size_t events_unlinked;    /* raw events given a random visitor hash */
};

/* Removes what SITE_ID keeps of one person, whose identity is HEX (HEXLEN
 * = 64: the sha256 hex of the lower-cased e-mail address, what the
 * snippet's identify sends): tickets whose requester e-mail is theirs (with
 * their ticket_times rows and the link records of their link ids),
 * identify records, the visits of every visitor hash those name, their raw
 * identify events and the raw link events of their link ids; their other
 * raw events stay but get one random visitor hash per old one, so that the
 * counts of distinct visitors stay and nothing ties them to the person.
 * Rollups stay. Bounded transactions, as store_site_remove. Fills OUT.
 * Returns 0, or -1 with a reason in ERR (what was done by then stays). */
int store_forget(struct store *st, uint32_t site_id, const char *hex,
                 size_t hexlen, struct store_forgotten *out, char *err,
                 size_t errlen);

/* Told how far a backup has got: COPIED bytes written of about TOTAL (the
 * bytes of the map in use; a compacted copy comes to less, so COPIED may
 * end below it; 0: unknown). */
typedef void (*store_backup_progress_fn)(void *ctx, uint64_t copied,
                                         uint64_t total);

/* Copies the environment to DIR, which must not exist or be empty
 * (created 0700), compacted (free pages left out), as of one read
 * transaction: a consistent snapshot while a server goes on writing. The
 * copy is DIR/data.mdb (the lock file is not copied; the server secret is
 * in the data). PROGRESS (NULL: none) is called with CTX as it goes.
 * Returns 0, or -1 with a reason in ERR (a partial copy is removed). */
int store_backup(struct store *st, const char *dir,
                 store_backup_progress_fn progress, void *ctx, char *err,
                 size_t errlen);

/* --- shipping to ClickHouse (docs/scale-out.md) ------------------------- */

#define STORE_SHIP_SCHEMA_VERSION 1     /* the dwell_schema row */
#define STORE_SHIP_NODE_MAX 64
#define STORE_SHIP_DB_MAX 64

/* True when DB is a ClickHouse database name dwell accepts: 1-64 of
 * [A-Za-z0-9_], not starting with a digit. */
bool store_ship_db_valid(const char *db);

/* The ClickHouse DDL of schema STORE_SHIP_SCHEMA_VERSION for database DB
 * (store_ship_db_valid), statements ending in ";\n", the last one
 * recording the version in DB.dwell_schema when it holds none: a text the
 * caller frees, or NULL when out of memory. */
char *store_ship_schema(const char *db);

/* Starts shipping the store's committed events and tickets to TARGET,
 * "clickhouse=http://[USER:PASSWORD@]HOST:PORT[/DB]" (DB: "dwell"), as
 * node NODE (1-64 of [A-Za-z0-9._-]; unique per collector): a thread that
 * sends the shipping log in order, in batches, and deletes what ClickHouse
 * acknowledged. The first time on a store, every event and ticket already
 * stored is logged first. Call before store_start_writer(). Returns 0, or
 * -1 with a reason in ERR. */
int store_ship_start(struct store *st, const char *target, const char *node,
                     char *err, size_t errlen);

/* Stops the shipping thread (a batch in flight finishes or times out);
 * what it had not shipped stays in the log. */
void store_ship_stop(struct store *st);

struct store_ship_stats {
    bool on;                   /* this process ships */
    uint64_t backlog;          /* log entries not yet acknowledged */
    double lag_s;              /* age of the oldest of them; 0: none */
    uint64_t events;           /* rows ClickHouse acknowledged (events and
                                  tickets) since start */
    uint64_t batches_ok, batches_failed;
    uint64_t last_success_us;  /* 0: none yet */
};

/* Fills OUT (OUT->on false when this process does not ship). */
void store_ship_get_stats(struct store *st, struct store_ship_stats *out);

/* --- damage ------------------------------------------------------------- */

/* What store_check found: records read, rollup rows and breakdown values
 * compared, problems (DIFFERENCES of them: rollup values that differ from
 * the recount). */
struct store_check_result {
    size_t records, rows, problems, differences;
    size_t skipped;          /* rollup rows of days retention has cut */
    uint32_t retained;       /* the first day whose raw events are whole
                                (--retention-days); 0: every day */
};

/* Receives one line describing a problem store_check found. */
typedef void (*store_check_fn)(void *ctx, const char *line);

/* Walks every database in one read transaction (a fresh one after a
 * database LMDB cannot read whole), decodes every record as the codec
 * writes it, and, when every database was read whole, recomputes every
 * daily rollup row (daily and recent: each counter, the engaged-time
 * histogram, the scroll buckets) and every breakdown (daily_dim) from the
 * raw events, replaying them as the writer applied them, and compares
 * them field by field, for every day whose raw events are whole
 * (retention may have cut older ones: their rows are counted in
 * OUT->skipped, not compared); ONLY_SITE (0: all) limits the comparison
 * to one site, and sites being removed are left out. Memory grows with
 * the views and breakdown rows recounted, not with the events. Calls FN
 * with each problem (at most 10 per database, 1,000 differences; OUT
 * counts them all). Returns 0, or -1 when no read
 * could begin. A damaged B-tree may still crash LMDB: run it in a child
 * process to survive that (dwell check does). */
int store_check(struct store *st, uint32_t only_site, store_check_fn fn,
                void *ctx, struct store_check_result *out);

/* FN is called, instead of a signal, when LMDB meets the data damaged
 * past what an error code can say: a failed internal assertion (WHAT is
 * LMDB's text) or a fault (SIGSEGV, SIGBUS) in LMDB's code or in the data
 * file's map (any other fault goes on to the handler found before). FN
 * must not return (the command line prints and exits). Installs the fault
 * handlers: call once, before store_open. */
void store_on_damage(void (*fn)(const char *what));

#endif
