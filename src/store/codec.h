/* codec.h — the keys and records of every database of the store: the one
 * place that knows their bytes (big-endian numbers, so that keys sort as
 * numbers). Pure: no transaction, no state.
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
#ifndef DWELL_STORE_CODEC_H
#define DWELL_STORE_CODEC_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/event.h"
#include "dwell/store.h"

/* --- numbers ------------------------------------------------------------- */

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

/* --- daily, recent, cum, daily_dim: site(4) article(8) day(4) class(1) --- */

#define DAILY_KEY_LEN 17

/* Writes the daily key of (SITE, ARTICLE, DAY, CLS) to KEY; its length. */
static inline size_t daily_key(uint8_t *key, uint32_t site, uint64_t article,
                               uint32_t day, int cls)
{
    put_be32(key, site);
    put_be64(key + 4, article);
    put_be32(key + 12, day);
    key[16] = (uint8_t)cls;
    return DAILY_KEY_LEN;
}

/* True when K is a daily key of (SITE, A). */
static inline bool same_article(const MDB_val *k, uint32_t site, uint64_t a)
{
    return k->mv_size == DAILY_KEY_LEN && get_be32(k->mv_data) == site &&
           get_be64((const uint8_t *)k->mv_data + 4) == a;
}

/* The fields of a daily key P (DAILY_KEY_LEN bytes; also the start of a
 * daily_dim key). */
static inline uint32_t key_site(const void *p)
{
    return get_be32(p);
}

static inline uint64_t key_article(const void *p)
{
    return get_be64((const uint8_t *)p + 4);
}

static inline uint32_t key_day(const void *p)
{
    return get_be32((const uint8_t *)p + 12);
}

static inline int key_class(const void *p)
{
    return ((const uint8_t *)p)[16];
}

/* --- articles, searched: site(4) id(8) (an article, or a visitor) -------- */

#define SITE_ID_KEY_LEN 12

static inline size_t site_id_key(uint8_t *key, uint32_t site, uint64_t id)
{
    put_be32(key, site);
    put_be64(key + 4, id);
    return SITE_ID_KEY_LEN;
}

/* --- dirty, heads: site(4) article(8) class(1) --------------------------- */

#define CLASS_KEY_LEN 13

static inline size_t class_key(uint8_t *key, uint32_t site, uint64_t article,
                               int cls)
{
    site_id_key(key, site, article);
    key[12] = (uint8_t)cls;
    return CLASS_KEY_LEN;
}

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
};
#define VIEW_REC_LEN 28
#define VIEW_REC_LEN_V1 20   /* before wire 2: no seqs (read as none seen) */
#define VIEW_SEQ_BITS 64     /* sequence numbers deduplicated per view */

/* Writes R as VIEW_REC_LEN bytes at P. */
void view_pack(const struct view_rec *r, uint8_t *p);

/* Reads the view record V, of either layout, into R; false when V is
 * neither. */
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

/* --- meta: salts and notes ----------------------------------------------- */

/* The meta key of the salt of DAY: "salt" day(4). */
void salt_key(uint8_t key[8], uint32_t day);

/* The meta key of note NAME of SITE_ID: "note" site(4) name, in KB (8 +
 * STORE_NOTE_NAME_MAX bytes). Returns its length, or 0 when NAME is not
 * 1–STORE_NOTE_NAME_MAX of [a-z_]. */
size_t note_key(uint8_t *kb, uint32_t site_id, const char *name);

/* --- sites, tokens ------------------------------------------------------- */

/* Decodes the sites record V of site NAME (NLEN bytes) into OUT. Returns
 * 0, or -1 when V is malformed. */
int site_unpack(const char *name, size_t nlen, const MDB_val *v,
                struct site *out);

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

#endif
