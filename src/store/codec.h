/* codec.h — the keys and records of every database of the store: the one
 * place that knows their bytes (big-endian numbers, so that keys sort as
 * numbers). Pure: no transaction, no state.
 *
 * Named databases (keys are big-endian so that they sort as numbers):
 *   meta       "schema" -> u32; "site_seq" -> u32; "salt"+day(4) -> 16 bytes;
 *              "recode" -> events key: while the schema 2 -> 3 migration
 *              rewrites event records, where it resumes (store/migrate.h);
 *              "thin" -> site(4) article(8): the same for the 3 -> 4 one,
 *              which thins the cum rows; "rekey" -> "": while the 6 -> 7
 *              one moves events keys (store/rekey.h)
 *   sites      name -> id(4) norigins(1) {len(1) origin}...
 *   events     time_us << 8 | seq (u64) -> event record (event_encode:
 *              version 4, its repeated strings by dictionary id, the flags
 *              in the version byte; versions 1 to 3 still decode)
 *   views      site(4) view id -> struct view_rec
 *   articles   site(4) article(8) -> first_day(4) last_day(4) words(4)
 *                                    {len(2) path} {len(2) title} {len(2) cat}
 *                                    [page kind(1), when not the default:
 *                                    home for "/", article otherwise]
 *   daily      site(4) article(8) day(4) class(1) -> rollup record, for
 *              settled days (see store_rollups.c)
 *   recent     the same, for days not yet settled: a small database that
 *              the writer updates with every event
 *   daily_dim  site(4) article(8) day(4) class(1) -> a breakdown row: every
 *              dim(1) value and count of that day and class (dim_row_*),
 *              up to DIM_ROW_MAX bytes; a value that no longer fits has a
 *              row of its own: site(4) article(8) day(4) class(1) dim(1)
 *              value -> count(4) (schema 3 had only these)
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
 *              kept for final days only, on the last day with a row of
 *              each stride of CUM_STRIDE days (see rollups.c, rollups.h)
 *   heads      site(4) article(8) class(1) -> first(4) last(4) rollup
 *              record: the days of that article's first settled daily row
 *              and last cum row, and the last one's sum, read in article
 *              order by reports
 *   dirty      site(4) article(8) class(1) -> day(4): cum rows from that day
 *              on are stale (a final day changed) and must be rebuilt
 *   tickets    site(4) ticket id -> created_us(8) flags(1) [email key(32)]
 *              [requester key(32)] {len(1) link} {len(1) channel} tags
 *   ticket_times  site(4) created_us(8) ticket id -> ""
 *   tokens     sha256(token)(32) -> scope(1) created_us(8) {len(1) site}
 *                                    {len(1) name}
 *   searched   site(4) visitor(8) -> time_us(8) query   (the visitor's last
 *              search, for "searches that led here"; kept an hour)
 *   dict       site(4) field(1) id(4) -> bytes: the dictionary of strings
 *              that repeat (path, title, referrer host, category,
 *              language) and of follow-ups' articles (8 bytes, u64 LE),
 *              which event records (version 3 on) give by id; field is an
 *              enum event_ref, ids count from 1 per site and field
 *   dict_ids   site(4) field(1) bytes -> id(4): the same, the other way
 *   ship       seq(8) -> kind(1) logged_us(8) key: the shipping log (see
 *              store/ship.h), only once shipping was enabled; kind 'e' with
 *              an events key, 't' with a tickets key
 * meta also holds "secret" (32 random bytes: the key of keyed hashes),
 * "final" (the last settled day) and, while a settling pass runs,
 * "settling" (the day it settles to), and "note" site(4) name -> bytes:
 * notes commands keep per site (store_site_note_put; dwell demo's "demo").
 * Article id 0 holds the site-wide rollup; class 0 is readers, 1 is bots. */
#ifndef DWELL_STORE_CODEC_H
#define DWELL_STORE_CODEC_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/event.h"
#include "dwell/rollup.h"
#include "dwell/store.h"

/* --- numbers kept alone ------------------------------------------------ */

/* u32 records: meta "schema", "site_seq", "final", "settling"; dirty's day;
 * daily_dim's counts. */
#define U32_REC_LEN 4

/* Writes V as a u32 record (U32_REC_LEN bytes) at P. */
void u32_pack(uint8_t *p, uint32_t v);

/* Reads the u32 record V into *OUT; false when V is not U32_REC_LEN bytes. */
bool u32_read(const MDB_val *v, uint32_t *out);

/* u64 records: an idents value (the visitor) and a visits 'v' value (the
 * article). */
#define U64_REC_LEN 8

/* Writes V as a u64 record (U64_REC_LEN bytes) at P. */
void u64_pack(uint8_t *p, uint64_t v);

/* Reads the u64 record V into *OUT; false when V is not U64_REC_LEN bytes. */
bool u64_read(const MDB_val *v, uint64_t *out);

/* --- keys that start with a site: site(4) bytes -------------------------- */

/* Writes the key site(4) BYTES(N) to KEY (4 + N bytes); its length. Views
 * (view id), links (link id), tickets (ticket id). */
size_t site_bytes_key(uint8_t *key, uint32_t site, const void *bytes,
                      size_t n);

/* The site of a key that starts with one (at least 4 bytes at P). */
uint32_t key_site(const void *p);

/* --- daily, recent, cum, daily_dim: site(4) article(8) day(4) class(1) --- */

#define DAILY_KEY_LEN 17

/* Writes the daily key of (SITE, ARTICLE, DAY, CLS) to KEY; its length. */
size_t daily_key(uint8_t *key, uint32_t site, uint64_t article, uint32_t day,
                 int cls);

/* True when K is a daily key of (SITE, A). */
bool same_article(const MDB_val *k, uint32_t site, uint64_t a);

/* Moves (*SITE, *A) on to the next (site, article) pair in key order.
 * Returns false, leaving them, when they are the last pair there can be. */
bool article_next(uint32_t *site, uint64_t *a);

/* The fields of a daily key P (DAILY_KEY_LEN bytes; also the start of a
 * daily_dim key, and key_article of an articles, searched, dirty, heads or
 * ticket_times key: site(4) then 8 bytes). */
uint64_t key_article(const void *p);
uint32_t key_day(const void *p);
int key_class(const void *p);

/* Since schema 6 a cum row lives in "daily" beside the daily rows it sums,
 * under the daily key of its day with class byte CUM_CLASS(CLS): after
 * that day's daily rows of both classes. A report then finds a cum row and
 * the daily rows around it on the same page. Schemas 1 to 5 kept them in
 * "cum" under class byte CLS. */
#define CUM_CLASS(cls) ((cls) | 2)

/* daily_dim: a daily key, dim(1), then the value. */
#define DIM_KEY_LEN (DAILY_KEY_LEN + 1)
#define DIM_VALUE_MAX 256

/* Writes the daily_dim key of dimension DIM = VALUE (LEN bytes, cut to
 * DIM_VALUE_MAX) of (SITE, ARTICLE, DAY, CLS) to KEY (DIM_KEY_LEN +
 * DIM_VALUE_MAX bytes); its length. */
size_t dim_key(uint8_t *key, uint32_t site, uint64_t article, uint32_t day,
               int cls, int dim, const char *value, size_t len);

/* The dimension of a daily_dim key P (at least DIM_KEY_LEN bytes); its
 * value is the rest of the key. */
int key_dim(const void *p);

/* daily_dim's breakdown rows (key: a daily key): entries dim(1) len(varint)
 * value count(varint), in the order of their own rows' keys (dim, then the
 * value's bytes, the shorter first). An entry goes into the row while the
 * row, with it at its largest (DIM_ENTRY_MAX), stays within DIM_ROW_MAX
 * bytes, and into a row of its own otherwise; rows only grow, so a value
 * is in one place only: the row when DIM_ENTRY_MAX more bytes still fit,
 * else wherever it was first put. */
#define DIM_ROW_MAX 512
#define DIM_ENTRY_MAX(len) (1 + 2 + (len) + 5)
#define DIM_ROW_CAP 2048      /* a row's buffer: counts only grow it a little */

/* One entry of a breakdown row (VALUE points into the row). */
struct dim_entry {
    int dim;
    const char *value;
    size_t len;
    uint32_t count;
};

/* Reads the entry of the breakdown row P (N bytes) at *OFF into E and moves
 * *OFF past it. Returns 1, 0 at the row's end, or -1 when malformed. */
int dim_row_next(const uint8_t *p, size_t n, size_t *off, struct dim_entry *e);

/* True when the breakdown row V decodes, its entries in order. */
bool dim_row_ok(const MDB_val *v);

/* Writes to OUT (DIM_ROW_CAP bytes) the breakdown row ROW (N bytes) with
 * ADD more of DIM = VALUE (LEN bytes, cut to DIM_VALUE_MAX), and its length
 * to *OUTLEN. Returns 1; 0 when VALUE is not in the row and does not fit
 * (it has a row of its own); -1 when ROW is malformed. */
int dim_row_add(const uint8_t *row, size_t n, int dim, const char *value,
                size_t len, uint32_t add, uint8_t *out, size_t *outlen);

/* --- dict: site(4) field(1) id(4); dict_ids: site(4) field(1) bytes ----- */

#define DICT_KEY_LEN 9
#define DICT_PREFIX_LEN 5
#define DICT_VALUE_MAX 500    /* longer strings stay in full in the record */

/* Writes the dict key of (SITE, FIELD, ID) to KEY; its length. */
size_t dict_key(uint8_t *key, uint32_t site, int field, uint32_t id);

/* Writes the dict_ids key of (SITE, FIELD) = BYTES (N <= DICT_VALUE_MAX)
 * to KEY (DICT_PREFIX_LEN + DICT_VALUE_MAX bytes); its length. */
size_t dict_ids_key(uint8_t *key, uint32_t site, int field, const void *bytes,
                    size_t n);

/* Reads a dict key into its fields; false when K is not one. */
bool dict_key_read(const MDB_val *k, uint32_t *site, int *field,
                   uint32_t *id);

/* --- articles, searched: site(4) id(8) (an article, or a visitor) -------- */

#define SITE_ID_KEY_LEN 12

/* Writes the key (SITE, ID) to KEY; its length. */
size_t site_id_key(uint8_t *key, uint32_t site, uint64_t id);

/* --- dirty, heads: site(4) article(8) class(1) --------------------------- */

#define CLASS_KEY_LEN 13

/* Writes the key (SITE, ARTICLE, CLS) to KEY; its length. */
size_t class_key(uint8_t *key, uint32_t site, uint64_t article, int cls);

/* Reads the class key K into its fields; false when K is not one. */
bool class_key_read(const MDB_val *k, uint32_t *site, uint64_t *article,
                    int *cls);

/* --- heads: first(4) last(4) rollup record ------------------------------- */

#define HEAD_REC_MAX (8 + ROLLUP_RECORD_MAX)

/* One article's head: its first and last cum days and the last cum row
 * (REC, LEN: a rollup record, pointing into the value read). */
struct head {
    uint32_t first, last;
    const uint8_t *rec;
    size_t len;
};

/* Writes the heads record of (FIRST, LAST, SUM) to BUF (HEAD_REC_MAX
 * bytes). Returns its length, or -1 when SUM does not encode. */
int head_pack(uint8_t *buf, uint32_t first, uint32_t last,
              const struct rollup_day *sum);

/* Reads the heads record V into H; false when V is too short. */
bool head_read(const MDB_val *v, struct head *h);

/* --- events: time_us(7) seq(1) -> event record ---------------------------
 * One big-endian u64, time_us << 8 | seq: time order, and up to 256 events
 * in one microsecond (the writer moves a 257th on to the next). Schemas up
 * to 6 wrote time_us(8) seq(4); the opening of such a store rewrites them
 * (store_rekey_events). */

#define EVENT_KEY_LEN 8
#define EVENT_KEY_SEQ_MAX 255u
#define EVENT_TIME_MAX ((UINT64_C(1) << 56) - 1)     /* year 4253 */
#define EVENT_KEY_V6_LEN 12

/* Writes the events key of (TIME_US <= EVENT_TIME_MAX, SEQ <=
 * EVENT_KEY_SEQ_MAX) to KEY; its length. */
size_t event_key(uint8_t *key, uint64_t time_us, uint32_t seq);

/* Reads the events key K; false when K is not EVENT_KEY_LEN bytes. */
bool event_key_read(const MDB_val *k, uint64_t *time_us, uint32_t *seq);

/* Reads an events key as schemas up to 6 wrote it; false when K is not
 * EVENT_KEY_V6_LEN bytes. */
bool event_key_v6_read(const MDB_val *k, uint64_t *time_us, uint32_t *seq);

/* --- seen: day(4) site(4) article(8) visitor(8) -> "" -------------------- */

#define SEEN_KEY_LEN 24

/* Writes the seen key of (DAY, SITE, ARTICLE, VISITOR) to KEY; its
 * length. */
size_t seen_key(uint8_t *key, uint32_t day, uint32_t site, uint64_t article,
                uint64_t visitor);

/* Reads the day of the seen key K; false when K is not SEEN_KEY_LEN bytes. */
bool seen_key_day(const MDB_val *k, uint32_t *day);

/* --- searched: site(4) visitor(8) -> time_us(8) query -------------------- */

#define SEARCHED_REC_MAX (8 + EVENT_QUERY_MAX)

/* Writes the searched record of (TIME_US, QUERY) to BUF (SEARCHED_REC_MAX
 * bytes); its length. */
size_t searched_pack(uint8_t *buf, uint64_t time_us,
                     const struct event_str *query);

/* Reads the searched record V (QUERY, QLEN point into it); false when V is
 * too short. */
bool searched_read(const MDB_val *v, uint64_t *time_us, const char **query,
                   size_t *qlen);

/* --- links: site(4) link id -> time_us(8) article(8) visitor(8) ----------
 *     visitor_prev(8) view id */

#define LINK_KEY_MAX (4 + EVENT_LINK_MAX)
#define LINK_REC_MAX (32 + EVENT_ID_MAX)

struct link_rec {
    uint64_t time_us, article, visitor, visitor_prev;
    const char *view_id;        /* not NUL-terminated */
    size_t view_id_len;
};

/* Writes the links record R to BUF (LINK_REC_MAX bytes; R->view_id_len at
 * most EVENT_ID_MAX); its length. */
size_t link_pack(const struct link_rec *r, uint8_t *buf);

/* Reads the links record V into R (its view id points into V); false when
 * V is too short. */
bool link_read(const MDB_val *v, struct link_rec *r);

/* --- visits: site(4) visitor(8) time_us(8) kind(1) -----------------------
 *     kind 'v' -> article(8); kind 's' -> results flag(1) query */

#define VISIT_KEY_LEN 21
#define VISIT_PREFIX_LEN 12            /* site and visitor */
#define VISIT_REC_MAX (1 + EVENT_QUERY_MAX)

/* Writes the visits key to KEY; its length. */
size_t visit_key(uint8_t *key, uint32_t site, uint64_t visitor,
                 uint64_t time_us, char kind);

/* The time of the visits key K; false when K is not VISIT_KEY_LEN bytes. */
bool visit_key_time(const MDB_val *k, uint64_t *time_us);

/* Writes the value of a search visit (ZERO: it found nothing) to BUF
 * (VISIT_REC_MAX bytes); its length. */
size_t visit_search_pack(uint8_t *buf, bool zero, const struct event_str *q);

/* One visit read back: a view of ARTICLE, or a search for QUERY. */
struct visit {
    uint64_t time_us;
    char kind;                 /* 'v' or 's' */
    uint64_t article;          /* 'v' */
    const char *query;         /* 's': QLEN bytes, pointing into the value */
    size_t qlen;
    bool zero;                 /* 's': the search found nothing */
};

/* Reads the visit (K, V) into OUT; false when it is not a whole one. */
bool visit_read(const MDB_val *k, const MDB_val *v, struct visit *out);

/* --- idents: site(4) identity(32) time_us(8) -> visitor(8) --------------- */

#define IDENT_KEY_LEN 44
#define IDENT_PREFIX_LEN 36            /* site and identity */

/* Writes the idents key of (SITE, ID, TIME_US) to KEY; its length. */
size_t ident_key(uint8_t *key, uint32_t site, const uint8_t id[32],
                 uint64_t time_us);

/* The time of the idents key K; false when K is not IDENT_KEY_LEN bytes. */
bool ident_key_time(const MDB_val *k, uint64_t *time_us);

/* --- views: site(4) view id -> struct view_rec --------------------------- */

enum { VIEW_BOT = 1, VIEW_READ = 2 };

/* Per-view state, kept VIEW_KEEP_DAYS days. */
struct view_rec {
    uint64_t article;
    uint32_t day;
    uint32_t engaged_ms;
    uint8_t scroll;      /* max seen, 0–100 */
    uint8_t scroll0;     /* first reported, or EVENT_SCROLL_NONE */
    uint8_t flags;       /* VIEW_* */
    uint8_t vote;
    uint64_t seqs;       /* bit N-1: search/custom event N already counted */
    uint64_t first_us;   /* when the server first saw the view; 0: unknown
                            (a record made before it was kept) */
};
#define VIEW_REC_LEN 36
#define VIEW_REC_LEN_V2 28   /* before issue 11: no first_us (read as 0) */
#define VIEW_REC_LEN_V1 20   /* before wire 2: no seqs (read as none seen) */
#define VIEW_SEQ_BITS 64     /* sequence numbers deduplicated per view */

/* Writes R as VIEW_REC_LEN bytes at P. */
void view_pack(const struct view_rec *r, uint8_t *p);

/* Reads the view record V, of any of the three layouts, into R; false
 * when V is none of them. */
bool view_read(const MDB_val *v, struct view_rec *r);

/* Writes the views key of (SITE, ID) to KEY (4 + EVENT_ID_MAX bytes); its
 * length. */
size_t view_key(uint8_t *key, uint32_t site, const struct event_str *id);

/* --- articles ------------------------------------------------------------ */

/* Decodes an article record (key = site, id) into OUT. Returns 0, or -1. */
int store_article_unpack(const MDB_val *k, const MDB_val *v,
                         struct store_article *out);

/* The page kind of an article record that has no kind byte (every record
 * made before kinds existed): home for the site root, article otherwise. */
uint8_t store_article_default_kind(const char *path, size_t len);

#define ARTICLE_REC_MAX (12 + 6 + EVENT_PATH_MAX + EVENT_TITLE_MAX + \
                         EVENT_CATEGORY_MAX + 1)

/* An article record to write: its days, words, strings and page kind. */
struct article_rec {
    uint32_t first_day, last_day, words;
    struct event_str path, title, category;
    uint8_t kind;
};

/* Writes the articles record of A to BUF (ARTICLE_REC_MAX bytes; the kind
 * byte only when not the default of its path); its length. */
size_t article_pack(const struct article_rec *a, uint8_t *buf);

/* The first day of the articles record V; false when V is too short. */
bool article_first_day(const MDB_val *v, uint32_t *first);

/* The path of the articles record V (P points into V); false when V is
 * malformed. */
bool article_path(const MDB_val *v, const char **p, size_t *n);

/* --- meta: salts and notes ----------------------------------------------- */

/* The meta key of the salt of DAY: "salt" day(4). */
void salt_key(uint8_t key[8], uint32_t day);

/* The day of the meta key K when it is a salt key; false when not. */
bool salt_key_day(const MDB_val *k, uint32_t *day);

/* The meta key of note NAME of SITE_ID: "note" site(4) name, in KB (8 +
 * STORE_NOTE_NAME_MAX bytes). Returns its length, or 0 when NAME is not
 * 1–STORE_NOTE_NAME_MAX of [a-z_]. */
size_t note_key(uint8_t *kb, uint32_t site_id, const char *name);

/* --- sites, tokens ------------------------------------------------------- */

#define SITE_REC_MAX (5 + STORE_MAX_ORIGINS * (1 + STORE_ORIGIN_MAX))

/* Writes the sites record of (ID, ORIGINS: N of at most STORE_MAX_ORIGINS,
 * each 1–STORE_ORIGIN_MAX bytes) to BUF (SITE_REC_MAX bytes); its
 * length. */
size_t site_pack(uint8_t *buf, uint32_t id, const char *const *origins,
                 size_t n);

/* The id of the sites record V; false when V is too short. */
bool site_id_read(const MDB_val *v, uint32_t *id);

/* Decodes the sites record V of site NAME (NLEN bytes) into OUT. Returns
 * 0, or -1 when V is malformed. */
int site_unpack(const char *name, size_t nlen, const MDB_val *v,
                struct site *out);

#define TOKEN_REC_MAX (11 + EVENT_SITE_MAX + STORE_TOKEN_NAME_MAX)

/* Writes the tokens record of T (site 1–EVENT_SITE_MAX bytes, name at most
 * STORE_TOKEN_NAME_MAX) to BUF (TOKEN_REC_MAX bytes); its length. */
size_t token_pack(const struct store_token *t, uint8_t *buf);

/* Decodes the tokens record (K, V) into OUT. Returns 0, or -1. */
int token_unpack(const MDB_val *k, const MDB_val *v, struct store_token *out);

/* --- tickets, ticket_times ----------------------------------------------- */

#define TICKET_REC_MAX (8 + 1 + 64 + 3 * 256 + 1 + \
                        STORE_TICKET_TAGS * (1 + STORE_TICKET_TAG_MAX))

/* Writes the tickets record of T to BUF (TICKET_REC_MAX bytes); its
 * length. */
size_t ticket_pack(const struct store_ticket *t, uint8_t *buf);

/* Decodes the tickets record (K, V) into T. Returns 0, or -1. */
int ticket_unpack(const MDB_val *k, const MDB_val *v, struct store_ticket *t);

/* Writes the ticket_times key of (SITE, created T, ID) to KB (12 +
 * STORE_TICKET_ID_MAX bytes); its length. */
size_t ticket_time_key(uint8_t *kb, uint32_t site, uint64_t t,
                       const char *id);

/* The creation time of the tickets record V; false when V is too short. */
bool ticket_created(const MDB_val *v, uint64_t *created_us);

/* Reads the ticket_times key K: its time and ticket id (ID, IDLEN point
 * into K); false when K is not one. */
bool ticket_time_read(const MDB_val *k, uint64_t *t, const char **id,
                      size_t *idlen);

/* --- ship: seq(8) -> kind(1) logged_us(8) key ---------------------------- */

#define SHIP_KEY_LEN 8                       /* u64_pack'ed */
#define SHIP_DONE_KEY "ship_done"   /* meta: the last seq shipped, u64 */
#define SHIP_FILL_KEY "ship_fill"   /* meta: while the first fill runs, the
                                       events key it resumes after (0 or
                                       EVENT_KEY_LEN bytes; EVENT_KEY_V6_LEN
                                       until the rekeying moves it) */
#define SHIP_REC_MAX (9 + 4 + STORE_TICKET_ID_MAX)

/* One shipping log entry read back (KEY points into the value). */
struct ship_entry {
    uint64_t seq;
    char kind;                 /* 'e' event, 't' ticket */
    uint64_t logged_us;        /* when it was committed */
    const uint8_t *key;        /* the events or tickets key */
    size_t keylen;
};

/* Writes the ship record of (KIND, LOGGED_US, the N bytes of KEY: at most
 * SHIP_REC_MAX - 9) to BUF; its length. */
size_t ship_pack(uint8_t *buf, char kind, uint64_t logged_us,
                 const void *key, size_t n);

/* Reads the ship entry (K, V) into E; false when it is not a whole one. */
bool ship_read(const MDB_val *k, const MDB_val *v, struct ship_entry *e);

#endif
