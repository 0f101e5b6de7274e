/* check.c — see store.h: store_check walks every database, decodes every
 * record with the codec and compares the daily rollups' view counts with a
 * recount from the raw events. A floor of its own above env.c and codec.c;
 * nothing calls it but the command line. */
#define _POSIX_C_SOURCE 200809L
#include "store/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fnv.h"
#include "base/time.h"
#include "dwell/log.h"
#include "dwell/rollup.h"
#include "dwell/visitor.h"
#include "store/codec.h"
#include "store/env.h"
#include "store/erase.h"
#include "store/events.h"
#include "store/migrate.h"
#include "store/rekey.h"
#include "store/retention.h"

#define CHECK_SHOWN_PER_DB 10     /* problems printed per database at most */
#define CHECK_SHOWN_DIFFS 1000    /* rollup differences printed at most */

static const char *const check_names[DB_COUNT] = {
    "meta", "sites", "events", "views", "articles", "daily", "daily_dim",
    "seen", "links", "searched", "tokens", "cum", "dirty", "visits",
    "idents", "tickets", "ticket_times", "recent", "heads", "dict",
    "dict_ids"
};

struct recount;

/* The walk's state: where problems go, and the recount (recount.c part
 * below) fed by the events database as the walk reads it. */
struct check {
    store_check_fn fn;
    void *ctx;
    struct store *st;             /* the store and transaction walked */
    MDB_txn *txn;
    uint32_t only_site;           /* 0: every site */
    size_t problems, shown;
    size_t differences, diff_shown;
    struct recount *rc;
    bool oom;
    bool unreadable;              /* a database could not be read whole */
    uint32_t retained;            /* days before it lost raw events */
    size_t skipped;               /* rows of such days, not compared */
    size_t rows;                  /* rows and breakdown values compared */
};

/* Reports one problem (printed while fewer than CHECK_SHOWN_PER_DB of
 * this database were). */
static void problem(struct check *c, const char *fmt, ...)
    DWELL_PRINTF(2, 3);

static void problem(struct check *c, const char *fmt, ...)
{
    c->problems++;
    if (c->shown++ >= CHECK_SHOWN_PER_DB)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->fn(c->ctx, line);
}

/* Reports one rollup value that differs from its recount (printed while
 * fewer than CHECK_SHOWN_DIFFS were). */
static void difference(struct check *c, const char *fmt, ...)
    DWELL_PRINTF(2, 3);

static void difference(struct check *c, const char *fmt, ...)
{
    c->problems++;
    c->differences++;
    if (c->diff_shown++ >= CHECK_SHOWN_DIFFS)
        return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->fn(c->ctx, line);
}

/* FNV-1a of SITE and the view id: the identity of a view. */
static uint64_t view_hash(uint32_t site, const struct event_str *id)
{
    return fnv1a(fnv1a_u32(FNV1A_INIT, site), id->p, id->n);
}

/* True when meta record (K, V) is one dwell writes, well formed. */
static bool meta_ok(const MDB_val *k, const MDB_val *v)
{
    uint32_t day, u;
    uint64_t s;
    if (salt_key_day(k, &day))
        return v->mv_size == VISITOR_SALT_LEN;
    if (k->mv_size > 8 && memcmp(k->mv_data, "note", 4) == 0)
        return true;
    if (k->mv_size == REMOVING_PREFIX_LEN + 4 &&
        memcmp(k->mv_data, REMOVING_PREFIX, REMOVING_PREFIX_LEN) == 0)
        return v->mv_size > 0 && v->mv_size <= EVENT_SITE_MAX;
    if (k->mv_size == sizeof SHIP_DONE_KEY - 1 &&
        memcmp(k->mv_data, SHIP_DONE_KEY, k->mv_size) == 0)
        return u64_read(v, &s);
    if (k->mv_size == sizeof SHIP_FILL_KEY - 1 &&
        memcmp(k->mv_data, SHIP_FILL_KEY, k->mv_size) == 0)
        return v->mv_size == 0 || v->mv_size == EVENT_KEY_LEN ||
               v->mv_size == EVENT_KEY_V6_LEN;
    if (k->mv_size == sizeof THIN_META - 1 &&      /* an unfinished 3 -> 4 */
        memcmp(k->mv_data, THIN_META, k->mv_size) == 0)
        return v->mv_size == 0 || v->mv_size == THIN_AT_LEN;
    if (k->mv_size == sizeof DIMROWS_META - 1 &&
        memcmp(k->mv_data, DIMROWS_META, k->mv_size) == 0)
        return v->mv_size == 0 || v->mv_size == DAILY_KEY_LEN;
    if (k->mv_size == sizeof RECODE_META - 1 &&    /* an unfinished recode */
        memcmp(k->mv_data, RECODE_META, k->mv_size) == 0)
        return v->mv_size == 0 || v->mv_size == EVENT_KEY_LEN ||
               v->mv_size == EVENT_KEY_V6_LEN;
    if (k->mv_size == sizeof REKEY_META - 1 &&     /* unfinished 6 -> 7 */
        memcmp(k->mv_data, REKEY_META, k->mv_size) == 0)
        return v->mv_size == 0;
    static const char *const u32s[] = { "schema", "site_seq", "final",
                                        "settling", RETAINED_KEY,
                                        "dict_epoch" };
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
        if (k->mv_size == strlen(u32s[i]) &&
            memcmp(k->mv_data, u32s[i], k->mv_size) == 0)
            return u32_read(v, &u);
    return k->mv_size == 6 && memcmp(k->mv_data, "secret", 6) == 0 &&
           v->mv_size == 32;
}

/* True when a rollup record of LEN bytes at P decodes. */
static bool rollup_ok(const void *p, size_t len)
{
    struct rollup_day d;
    return rollup_decode(p, len, &d) == 0;
}

static void recount_event(struct check *c, uint64_t t,
                          const struct event *ev);
static void recount_site(struct check *c, const char *name, size_t len,
                         uint32_t id);

/* An event (K, V) of the events database: decoded, and recounted. */
static bool event_ok(struct check *c, const MDB_val *k, const MDB_val *v)
{
    uint64_t t;
    uint32_t seq;
    struct event ev;
    if (!event_key_read(k, &t, &seq) || events_read(c->st, c->txn, v, &ev) != 0)
        return false;
    recount_event(c, t, &ev);
    return true;
}

/* A dict record (K, V): a field's id and bytes, which dict_ids maps back
 * to that id. */
static bool dict_ok(struct check *c, const MDB_val *k, const MDB_val *v)
{
    uint32_t site, id, back;
    int field;
    uint8_t ik[DICT_PREFIX_LEN + DICT_VALUE_MAX];
    MDB_val bv;
    if (!dict_key_read(k, &site, &field, &id) || field >= EVENT_REFS ||
        id == 0 || id > EVENT_REF_MAX || v->mv_size > DICT_VALUE_MAX ||
        (field == EVENT_REF_ARTICLE && v->mv_size != 8))
        return false;
    MDB_val ck = { dict_ids_key(ik, site, field, v->mv_data, v->mv_size),
                   ik };
    return mdb_get(c->txn, c->st->dbi[DB_DICT_IDS], &ck, &bv) == 0 &&
           u32_read(&bv, &back) && back == id;
}

/* A dict_ids record (K, V): an id that dict holds with the key's bytes. */
static bool dict_ids_ok(struct check *c, const MDB_val *k, const MDB_val *v)
{
    uint32_t id;
    uint8_t kb[DICT_KEY_LEN];
    MDB_val dv;
    if (k->mv_size < DICT_PREFIX_LEN ||
        k->mv_size > DICT_PREFIX_LEN + DICT_VALUE_MAX || !u32_read(v, &id))
        return false;
    const uint8_t *p = k->mv_data;
    MDB_val dk = { dict_key(kb, key_site(p), p[4], id), kb };
    return mdb_get(c->txn, c->st->dbi[DB_DICT], &dk, &dv) == 0 &&
           dv.mv_size == k->mv_size - DICT_PREFIX_LEN &&
           memcmp(dv.mv_data, p + DICT_PREFIX_LEN, dv.mv_size) == 0;
}

/* A daily or recent row (K, V): decoded. */
static bool daily_ok(const MDB_val *k, const MDB_val *v, bool cum)
{
    return k->mv_size == DAILY_KEY_LEN &&
           key_class(k->mv_data) <= (cum ? CUM_CLASS(1) : 1) &&
           rollup_ok(v->mv_data, v->mv_size);
}

/* True when record (K, V) of database DB decodes as the codec writes it. */
static bool record_ok(struct check *c, int db, const MDB_val *k,
                      const MDB_val *v)
{
    union {
        struct site site;
        struct store_article article;
        struct store_token token;
        struct store_ticket ticket;
        struct view_rec view;
        struct link_rec link;
        struct visit visit;
        struct head head;
    } u;
    uint32_t s, x32;
    uint64_t a, x64;
    int cls;
    const char *p;
    size_t n;
    switch (db) {
    case DB_META:
        if (k->mv_size == strlen(RETAINED_KEY) &&
            memcmp(k->mv_data, RETAINED_KEY, k->mv_size) == 0)
            u32_read(v, &c->retained);
        return meta_ok(k, v);
    case DB_SITES:
        if (site_unpack(k->mv_data, k->mv_size, v, &u.site) != 0)
            return false;
        recount_site(c, k->mv_data, k->mv_size, u.site.id);
        return true;
    case DB_EVENTS:
        return event_ok(c, k, v);
    case DB_VIEWS:
        return k->mv_size > 4 && view_read(v, &u.view);
    case DB_ARTICLES:
        return k->mv_size == SITE_ID_KEY_LEN &&
               store_article_unpack(k, v, &u.article) == 0;
    case DB_DAILY:
    case DB_RECENT:
        return daily_ok(k, v, db == DB_DAILY);    /* cum rows: daily only */
    case DB_CUM:
        return k->mv_size == DAILY_KEY_LEN &&
               rollup_ok(v->mv_data, v->mv_size);
    case DB_DIM:
        return (k->mv_size >= DIM_KEY_LEN && u32_read(v, &x32)) ||
               (k->mv_size == DAILY_KEY_LEN && dim_row_ok(v));
    case DB_SEEN:
        return seen_key_day(k, &x32) && v->mv_size == 0;
    case DB_LINKS:
        return k->mv_size > 4 && link_read(v, &u.link);
    case DB_SEARCHED:
        return k->mv_size == SITE_ID_KEY_LEN &&
               searched_read(v, &x64, &p, &n);
    case DB_TOKENS:
        return token_unpack(k, v, &u.token) == 0;
    case DB_DIRTY:
        return class_key_read(k, &s, &a, &cls) && u32_read(v, &x32);
    case DB_VISITS:
        return visit_read(k, v, &u.visit);
    case DB_IDENTS:
        return ident_key_time(k, &x64) && u64_read(v, &x64);
    case DB_TICKETS:
        return ticket_unpack(k, v, &u.ticket) == 0;
    case DB_TICKET_TIMES:
        return ticket_time_read(k, &x64, &p, &n) && v->mv_size == 0;
    case DB_HEADS:
        return class_key_read(k, &s, &a, &cls) && head_read(v, &u.head) &&
               rollup_ok(u.head.rec, u.head.len);
    case DB_DICT:
        return dict_ok(c, k, v);
    case DB_DICT_IDS:
        return dict_ids_ok(c, k, v);
    }
    return false;
}

/* Walks database DB in TXN, checking every record. Returns its records. */
static size_t check_db(struct check *c, struct store *st, MDB_txn *txn,
                       int db)
{
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;
    c->shown = 0;
    c->st = st;
    c->txn = txn;
    int rc = mdb_cursor_open(txn, st->dbi[db], &cur);
    if (rc != 0) {
        problem(c, "%s: cannot be read: %s", check_names[db],
                mdb_strerror(rc));
        c->unreadable = true;
        return 0;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        n++;
        if (!record_ok(c, db, &k, &v))
            problem(c, "%s: record %zu (key of %zu bytes, value of %zu) "
                    "does not decode", check_names[db], n, k.mv_size,
                    v.mv_size);
    }
    if (rc != MDB_NOTFOUND) {
        problem(c, "%s: damaged after record %zu: %s", check_names[db], n,
                mdb_strerror(rc));
        c->unreadable = true;
    }
    mdb_cursor_close(cur);
    return n;
}

/* --- the recount -------------------------------------------------------------
 * The events database is read once, in key order (the order the writer
 * applied them in), and replays what apply.c does with each event: a view
 * makes a per-view state (kept for the whole walk: memory proportional to
 * the views, about 100 bytes each, not to the events), a follow-up moves
 * it (engaged time, scroll, read, vote, searches, links, custom events,
 * with apply.c's repeat rules), and the breakdowns are counted per row
 * and value (memory proportional to the daily_dim rows recounted). Then
 * the view states, sorted, fold into rollup rows in key order, compared
 * with daily and recent (merged), and the counted breakdowns with
 * daily_dim. */

/* A map from a 64-bit hash (never 0) to an index: open addressing. */
struct hmap {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;
};

/* Per-view state, as apply.c keeps it in "views", plus what the rows of
 * the view need: its counters and whether it was the first of its visitor
 * that day on the article (FIRST_A) and on the site (FIRST_S). */
struct vstate {
    uint64_t id, article, visitor, seqs;
    uint32_t site, day, ord, engaged_ms;
    uint32_t searches, links, events;
    uint8_t scroll, scroll0, vote, cls, read, first_a, first_s;
};

/* The visitor's last search (the "searched" database). */
struct searched {
    uint64_t time_us;
    uint8_t len;
    char q[EVENT_QUERY_MAX];
};

/* One daily_dim row recounted: its key at OFF (LEN bytes) in the arena. */
struct dimrow {
    uint32_t off, count;
    uint16_t len;
};

struct site_name {
    uint32_t id;
    char name[EVENT_SITE_MAX + 1];
};

struct recount {
    struct hmap views, dims, searched, links;
    struct vstate *v;
    size_t nv, cv;
    struct dimrow *d;
    size_t nd, cd;
    uint8_t *arena;
    size_t used, carena;
    struct searched *s;
    size_t ns, cs;
    uint64_t *l;                  /* links: the view of each link id's last */
    size_t nl, cl;
    struct site_name *sites;
    size_t nsites, csites;
    const uint8_t *sort_arena;    /* for by_dim_key */
};

/* FNV-1a of N bytes at P, never 0. */
static uint64_t hash_bytes(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ull;
    return h ? h : 1;
}

/* Grows array *A of *CAP elements of SIZE bytes to hold one more than N;
 * false when memory runs out (sets C->oom). */
static bool grow(struct check *c, void **a, size_t n, size_t *cap,
                 size_t size)
{
    if (n < *cap)
        return true;
    size_t next = *cap ? *cap * 2 : 1024;
    void *p = realloc(*a, next * size);
    if (p == NULL) {
        c->oom = true;
        return false;
    }
    *a = p;
    *cap = next;
    return true;
}

/* Doubles M's table; false when memory runs out. */
static bool hmap_grow(struct check *c, struct hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 4096;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        c->oom = true;
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0)
            continue;
        size_t j = m->keys[i] & (cap - 1);
        while (keys[j] != 0)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return true;
}

/* The value of KEY in M, or NULL. With ADD (the value to give a new key),
 * adds KEY when absent and sets *ADDED; NULL then means out of memory. */
static uint32_t *hmap_at(struct check *c, struct hmap *m, uint64_t key,
                         const uint32_t *add, bool *added)
{
    key = key ? key : 1;
    if (add && (m->n + 1) * 4 > m->cap * 3 && !hmap_grow(c, m))
        return NULL;
    if (m->cap == 0)
        return NULL;
    size_t j = key & (m->cap - 1);
    while (m->keys[j] != 0 && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (added)
        *added = false;
    if (m->keys[j] == key)
        return &m->vals[j];
    if (!add)
        return NULL;
    m->keys[j] = key;
    m->vals[j] = *add;
    m->n++;
    *added = true;
    return &m->vals[j];
}

static void hmap_free(struct hmap *m)
{
    free(m->keys);
    free(m->vals);
}

static void recount_free(struct recount *r)
{
    if (r == NULL)
        return;
    hmap_free(&r->views);
    hmap_free(&r->dims);
    hmap_free(&r->searched);
    hmap_free(&r->links);
    free(r->v);
    free(r->d);
    free(r->arena);
    free(r->s);
    free(r->l);
    free(r->sites);
    free(r);
}

/* Notes site NAME (LEN bytes) with id ID, read from "sites". */
static void recount_site(struct check *c, const char *name, size_t len,
                         uint32_t id)
{
    struct recount *r = c->rc;
    if (c->oom || len > EVENT_SITE_MAX ||
        !grow(c, (void **)&r->sites, r->nsites, &r->csites,
              sizeof *r->sites))
        return;
    struct site_name *s = &r->sites[r->nsites++];
    s->id = id;
    memcpy(s->name, name, len);
    s->name[len] = '\0';
}

/* The name of site ID, or NULL when "sites" has none (a removed site). */
static const char *site_name_of(const struct recount *r, uint32_t id)
{
    for (size_t i = 0; i < r->nsites; i++)
        if (r->sites[i].id == id)
            return r->sites[i].name;
    return NULL;
}

/* True when the rows and events of SITE are recounted: a site of the list
 * (not one being removed), the one asked for if any. */
static bool site_wanted(const struct check *c, uint32_t site)
{
    return (!c->only_site || site == c->only_site) &&
           site_name_of(c->rc, site) != NULL;
}

/* Adds one to breakdown DIM = VALUE (LEN bytes) of (SITE, ARTICLE, DAY,
 * CLS), as apply.c's dim_bump does. */
static void dim_add(struct check *c, uint32_t site, uint64_t article,
                    uint32_t day, int cls, int dim, const char *value,
                    size_t len)
{
    struct recount *r = c->rc;
    uint8_t kb[DIM_KEY_LEN + DIM_VALUE_MAX];
    size_t n = dim_key(kb, site, article, day, cls, dim, value, len);
    uint32_t next = (uint32_t)r->nd;
    bool added;
    uint32_t *at = hmap_at(c, &r->dims, hash_bytes(kb, n), &next, &added);
    if (at == NULL)
        return;
    if (!added) {
        r->d[*at].count++;
        return;
    }
    if (!grow(c, (void **)&r->d, r->nd, &r->cd, sizeof *r->d))
        return;
    while (r->used + n > r->carena) {
        size_t cap = r->carena ? r->carena * 2 : 65536;
        uint8_t *p = realloc(r->arena, cap);
        if (p == NULL) {
            c->oom = true;
            return;
        }
        r->arena = p;
        r->carena = cap;
    }
    memcpy(r->arena + r->used, kb, n);
    r->d[r->nd++] = (struct dimrow){ (uint32_t)r->used, 1, (uint16_t)n };
    r->used += n;
}

/* Credits the visitor's search of the last 30 minutes, if any, to the view
 * EV made at T (apply.c's credit_search). */
static void led_here(struct check *c, uint64_t t, const struct event *ev,
                     uint32_t day, int cls)
{
    struct recount *r = c->rc;
    uint8_t kb[SITE_ID_KEY_LEN];
    site_id_key(kb, ev->site_id, ev->visitor);
    uint32_t *at = hmap_at(c, &r->searched, hash_bytes(kb, sizeof kb), NULL,
                           NULL);
    if (at == NULL)
        return;
    const struct searched *s = &r->s[*at];
    if (s->time_us > t || t - s->time_us > LED_HERE_WINDOW_US)
        return;
    dim_add(c, ev->site_id, ev->article, day, cls, DIM_LED_HERE, s->q,
            s->len);
}

/* A view event EV at T: a new view state and its breakdowns; a repeated
 * view changes nothing. */
static void recount_view(struct check *c, uint64_t t, const struct event *ev)
{
    struct recount *r = c->rc;
    uint32_t next = (uint32_t)r->nv;
    bool added;
    uint64_t id = view_hash(ev->site_id, &ev->view_id);
    if (hmap_at(c, &r->views, id, &next, &added) == NULL || !added ||
        !grow(c, (void **)&r->v, r->nv, &r->cv, sizeof *r->v))
        return;
    int cls = (ev->flags & EVENT_FLAG_BOT) ? 1 : 0;
    uint32_t day = day_of_us(t);
    r->v[r->nv++] = (struct vstate){
        .id = id, .article = ev->article, .visitor = ev->visitor,
        .site = ev->site_id, .day = day, .ord = next,
        .scroll = ev->scroll == EVENT_SCROLL_NONE ? 0 : ev->scroll,
        .scroll0 = ev->scroll, .cls = (uint8_t)cls
    };
    dim_add(c, ev->site_id, ev->article, day, cls, DIM_COUNTRY, ev->country,
            2);
    led_here(c, t, ev, day, cls);
    if (ev->referrer.n)
        dim_add(c, ev->site_id, ev->article, day, cls, DIM_REFERRER,
                ev->referrer.p, ev->referrer.n);
    else
        dim_add(c, ev->site_id, ev->article, day, cls, DIM_REFERRER,
                "(direct)", 8);
}

/* True when follow-up EV of view V was counted before (apply.c's
 * counted_before: a search or custom event's number seen, or the link id's
 * last event of the same view); otherwise marks the number seen. */
static bool recount_repeat(struct check *c, struct vstate *v,
                           const struct event *ev)
{
    if (ev->type == EVENT_SEARCH || ev->type == EVENT_CUSTOM) {
        if (ev->seq == 0 || ev->seq > VIEW_SEQ_BITS)
            return false;
        uint64_t bit = 1ull << (ev->seq - 1);
        bool seen = v->seqs & bit;
        v->seqs |= bit;
        return seen;
    }
    if (ev->type != EVENT_LINK)
        return false;
    uint8_t kb[LINK_KEY_MAX];
    size_t n = site_bytes_key(kb, ev->site_id, ev->text.p, ev->text.n);
    uint32_t *at = hmap_at(c, &c->rc->links, hash_bytes(kb, n), NULL, NULL);
    return at != NULL && c->rc->l[*at] == v->id;
}

/* Moves view V by follow-up EV, as apply_follow_up does (EV's engaged time
 * is what the writer counted of it: the total for wire 2, the delta for
 * wire 1). */
static void recount_move(struct vstate *v, const struct event *ev)
{
    if (ev->flags & EVENT_FLAG_WIRE2) {
        if (ev->engaged_ms > v->engaged_ms)
            v->engaged_ms = ev->engaged_ms;
    } else {
        v->engaged_ms += ev->engaged_ms;
    }
    if (ev->scroll != EVENT_SCROLL_NONE) {
        if (v->scroll0 == EVENT_SCROLL_NONE)
            v->scroll0 = ev->scroll;
        if (ev->scroll > v->scroll)
            v->scroll = ev->scroll;
    }
    if (!v->read && v->engaged_ms >= ROLLUP_READ_MS &&
        (v->scroll >= 100 ||
         (v->scroll0 != EVENT_SCROLL_NONE && v->scroll > v->scroll0)))
        v->read = 1;
    if (ev->type == EVENT_VOTE)
        v->vote = ev->vote;
    v->searches += ev->type == EVENT_SEARCH;
    v->links += ev->type == EVENT_LINK;
    v->events += ev->type == EVENT_CUSTOM;
}

/* The extras of a follow-up EV at T that was not a repeat (apply.c's
 * apply_extras): the visitor's last search, search and custom event
 * breakdowns of the event's own day and class, the link id's view. */
static void recount_extras(struct check *c, uint64_t t,
                           const struct event *ev)
{
    struct recount *r = c->rc;
    int cls = (ev->flags & EVENT_FLAG_BOT) ? 1 : 0;
    uint32_t day = day_of_us(t);
    bool added;
    if (ev->type == EVENT_SEARCH) {
        uint8_t kb[SITE_ID_KEY_LEN];
        site_id_key(kb, ev->site_id, ev->visitor);
        uint32_t next = (uint32_t)r->ns;
        uint32_t *at = hmap_at(c, &r->searched, hash_bytes(kb, sizeof kb),
                               &next, &added);
        if (at == NULL || (added && !grow(c, (void **)&r->s, r->ns++, &r->cs,
                                          sizeof *r->s)))
            return;
        struct searched *s = &r->s[*at];
        s->time_us = t;
        s->len = (uint8_t)(ev->text.n < EVENT_QUERY_MAX ? ev->text.n
                                                        : EVENT_QUERY_MAX);
        memcpy(s->q, ev->text.p, s->len);
        int dim = ev->results == 0 ? DIM_SEARCH_ZERO : DIM_SEARCH;
        dim_add(c, ev->site_id, 0, day, cls, dim, ev->text.p, ev->text.n);
        if (ev->article)
            dim_add(c, ev->site_id, ev->article, day, cls, dim, ev->text.p,
                    ev->text.n);
    } else if (ev->type == EVENT_CUSTOM && ev->article) {
        dim_add(c, ev->site_id, ev->article, day, cls, DIM_EVENT, ev->text.p,
                ev->text.n);
    } else if (ev->type == EVENT_LINK) {
        uint8_t kb[LINK_KEY_MAX];
        size_t n = site_bytes_key(kb, ev->site_id, ev->text.p, ev->text.n);
        uint32_t next = (uint32_t)r->nl;
        uint32_t *at = hmap_at(c, &r->links, hash_bytes(kb, n), &next,
                               &added);
        if (at == NULL || (added && !grow(c, (void **)&r->l, r->nl++, &r->cl,
                                          sizeof *r->l)))
            return;
        r->l[*at] = view_hash(ev->site_id, &ev->view_id);
    }
}

/* Replays event EV, stored at T, on the recount. */
static void recount_event(struct check *c, uint64_t t,
                          const struct event *ev)
{
    if (c->oom || !site_wanted(c, ev->site_id))
        return;
    if (ev->type == EVENT_VIEW) {
        recount_view(c, t, ev);
        return;
    }
    uint32_t *at = hmap_at(c, &c->rc->views,
                           view_hash(ev->site_id, &ev->view_id), NULL, NULL);
    if (at != NULL) {               /* not an orphan */
        struct vstate *v = &c->rc->v[*at];
        if (recount_repeat(c, v, ev))
            return;
        recount_move(v, ev);
    }
    recount_extras(c, t, ev);
}

/* --- comparing ---------------------------------------------------------- */

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

/* Views by article, day and visitor, first seen first. */
static int by_article_visitor(const void *pa, const void *pb)
{
    const struct vstate *a = pa, *b = pb;
    int r;
    if ((r = cmp_u64(a->site, b->site)) || (r = cmp_u64(a->article,
                                                        b->article)) ||
        (r = cmp_u64(a->day, b->day)) || (r = cmp_u64(a->visitor,
                                                      b->visitor)))
        return r;
    return cmp_u64(a->ord, b->ord);
}

/* Views by site, day and visitor, first seen first. */
static int by_site_visitor(const void *pa, const void *pb)
{
    const struct vstate *a = pa, *b = pb;
    int r;
    if ((r = cmp_u64(a->site, b->site)) || (r = cmp_u64(a->day, b->day)) ||
        (r = cmp_u64(a->visitor, b->visitor)))
        return r;
    return cmp_u64(a->ord, b->ord);
}

/* Views in the order of their article rows' keys. */
static int by_article_row(const void *pa, const void *pb)
{
    const struct vstate *a = pa, *b = pb;
    int r;
    if ((r = cmp_u64(a->site, b->site)) || (r = cmp_u64(a->article,
                                                        b->article)) ||
        (r = cmp_u64(a->day, b->day)))
        return r;
    return cmp_u64(a->cls, b->cls);
}

/* Views in the order of their site rows' keys. */
static int by_site_row(const void *pa, const void *pb)
{
    const struct vstate *a = pa, *b = pb;
    int r;
    if ((r = cmp_u64(a->site, b->site)) || (r = cmp_u64(a->day, b->day)))
        return r;
    return cmp_u64(a->cls, b->cls);
}

/* Marks, for each (site, article, day, visitor) and each (site, day,
 * visitor), the view that came first: the one apply.c's "seen" marks
 * counted as a visitor (whatever its class). */
static void mark_first_visits(struct recount *r)
{
    if (r->nv == 0)                /* qsort takes no NULL, even for none */
        return;
    qsort(r->v, r->nv, sizeof *r->v, by_article_visitor);
    for (size_t i = 0; i < r->nv; i++)
        r->v[i].first_a = i == 0 ||
            !(r->v[i - 1].site == r->v[i].site &&
              r->v[i - 1].article == r->v[i].article &&
              r->v[i - 1].day == r->v[i].day &&
              r->v[i - 1].visitor == r->v[i].visitor);
    qsort(r->v, r->nv, sizeof *r->v, by_site_visitor);
    for (size_t i = 0; i < r->nv; i++)
        r->v[i].first_s = i == 0 ||
            !(r->v[i - 1].site == r->v[i].site &&
              r->v[i - 1].day == r->v[i].day &&
              r->v[i - 1].visitor == r->v[i].visitor);
}

/* Folds the views from *I on that share one row (SITE_ROWS: the site
 * rows, article 0, which keep counters only) into D and its KEY, as
 * apply.c builds it; advances *I past them. */
static void fold_row(const struct recount *r, size_t *i, bool site_rows,
                     uint8_t key[DAILY_KEY_LEN], struct rollup_day *d)
{
    int (*same)(const void *, const void *) =
        site_rows ? by_site_row : by_article_row;
    const struct vstate *first = &r->v[*i];
    memset(d, 0, sizeof *d);
    daily_key(key, first->site, site_rows ? 0 : first->article, first->day,
              first->cls);
    for (; *i < r->nv && same(first, &r->v[*i]) == 0; (*i)++) {
        const struct vstate *v = &r->v[*i];
        d->views++;
        d->visitors += site_rows ? v->first_s : v->first_a;
        d->reads += v->read;
        d->votes_up += v->vote == EVENT_VOTE_UP;
        d->votes_down += v->vote == EVENT_VOTE_DOWN;
        d->searches += v->searches;
        if (site_rows)
            continue;
        d->links += v->links;
        d->events += v->events;
        d->engaged_ms += v->engaged_ms;
        d->hist[rollup_bucket_of_ms(v->engaged_ms)]++;
        d->scroll[rollup_scroll_bucket(v->scroll)]++;
    }
}

/* The stored rows of "daily" and "recent" merged in key order. */
struct stored_rows {
    MDB_cursor *cur[2];
    MDB_val k[2], v[2];
    int rc[2];
};

/* Moves cursor I of S to its next whole row (FIRST: its first). */
static void stored_step(struct stored_rows *s, int i, bool first)
{
    s->rc[i] = mdb_cursor_get(s->cur[i], &s->k[i], &s->v[i],
                              first ? MDB_FIRST : MDB_NEXT);
    while (s->rc[i] == 0 && (s->k[i].mv_size != DAILY_KEY_LEN ||
                             key_class(s->k[i].mv_data) >= CUM_CLASS(0)))
        s->rc[i] = mdb_cursor_get(s->cur[i], &s->k[i], &s->v[i], MDB_NEXT);
}

/* Opens S on TXN. Returns 0 or an LMDB error. */
static int stored_open(struct stored_rows *s, struct store *st, MDB_txn *txn)
{
    int rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &s->cur[0]);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_RECENT], &s->cur[1])) != 0) {
        mdb_cursor_close(s->cur[0]);
        return rc;
    }
    stored_step(s, 0, true);
    stored_step(s, 1, true);
    return 0;
}

static void stored_close(struct stored_rows *s)
{
    mdb_cursor_close(s->cur[0]);
    mdb_cursor_close(s->cur[1]);
}

/* The next stored row (a key in both databases: their sum) into KEY and
 * D. Returns 1, 0 when none is left. */
static int stored_next(struct stored_rows *s, uint8_t key[DAILY_KEY_LEN],
                       struct rollup_day *d)
{
    int which = -1;
    for (int i = 0; i < 2; i++)
        if (s->rc[i] == 0 && (which < 0 ||
                              memcmp(s->k[i].mv_data, s->k[which].mv_data,
                                     DAILY_KEY_LEN) < 0))
            which = i;
    if (which < 0)
        return 0;
    memcpy(key, s->k[which].mv_data, DAILY_KEY_LEN);
    memset(d, 0, sizeof *d);
    for (int i = 0; i < 2; i++) {
        if (s->rc[i] != 0 ||
            memcmp(s->k[i].mv_data, key, DAILY_KEY_LEN) != 0)
            continue;
        rollup_decode_add(s->v[i].mv_data, s->v[i].mv_size, d);
        stored_step(s, i, false);
    }
    return 1;
}

/* Writes "site S, article PATH (ID), day D, readers" for daily key KEY
 * to OUT (LEN bytes), the path read from "articles" in TXN. */
static void row_name(struct check *c, struct store *st, MDB_txn *txn,
                     const uint8_t *key, char *out, size_t len)
{
    uint32_t site = key_site(key);
    uint64_t article = key_article(key);
    const char *name = site_name_of(c->rc, site), *path = "?";
    size_t plen = 1;
    uint8_t kb[SITE_ID_KEY_LEN];
    MDB_val k = { site_id_key(kb, site, article), kb }, v;
    if (article == 0) {
        path = "(all pages)";
        plen = strlen(path);
    } else if (mdb_get(txn, st->dbi[DB_ARTICLES], &k, &v) != 0 ||
               !article_path(&v, &path, &plen)) {
        path = "(unknown path)";
        plen = strlen(path);
    }
    char day[TIME_DATE_LEN];
    time_format_date(key_day(key), day);
    snprintf(out, len, "site %s, article %.*s (%016llx), day %s, %s",
             name ? name : "?", (int)(plen > 200 ? 200 : plen), path,
             (unsigned long long)article, day,
             key_class(key) ? "bots" : "readers");
}

/* Reports field NAME of row WHERE when HAVE (stored) is not WANT. */
static void compare_field(struct check *c, const char *where,
                          const char *name, uint64_t have, uint64_t want)
{
    if (have != want)
        difference(c, "rollups: %s: field %s: stored %llu, recomputed from "
                   "the raw events %llu", where, name,
                   (unsigned long long)have, (unsigned long long)want);
}

/* Compares the stored row HAVE of KEY with its recount WANT, field by
 * field. Links are compared one way: dwell forget deletes a person's link
 * events and leaves the counts, so only a stored count below the recount
 * is a difference. */
static void compare_row(struct check *c, struct store *st, MDB_txn *txn,
                        const uint8_t *key, const struct rollup_day *have,
                        const struct rollup_day *want)
{
    if (memcmp(have, want, sizeof *have) == 0)
        return;
    char where[400], name[80];
    row_name(c, st, txn, key, where, sizeof where);
    compare_field(c, where, "views", have->views, want->views);
    compare_field(c, where, "visitors", have->visitors, want->visitors);
    compare_field(c, where, "reads", have->reads, want->reads);
    compare_field(c, where, "votes_up", have->votes_up, want->votes_up);
    compare_field(c, where, "votes_down", have->votes_down,
                  want->votes_down);
    compare_field(c, where, "searches", have->searches, want->searches);
    if (have->links < want->links)
        compare_field(c, where, "links", have->links, want->links);
    compare_field(c, where, "events", have->events, want->events);
    compare_field(c, where, "engaged_ms", have->engaged_ms,
                  want->engaged_ms);
    for (int b = 0; b < ROLLUP_HIST_BUCKETS; b++) {
        snprintf(name, sizeof name, "engaged histogram bucket %d "
                 "(%u-%u ms)", b, rollup_bucket_lower_ms(b),
                 rollup_bucket_upper_ms(b));
        compare_field(c, where, name, have->hist[b], want->hist[b]);
    }
    for (int b = 0; b < ROLLUP_SCROLL_BUCKETS; b++) {
        snprintf(name, sizeof name, "scroll bucket %d (%d%%%s)", b, b * 10,
                 b == 10 ? "" : "-");
        compare_field(c, where, name, have->scroll[b], want->scroll[b]);
    }
}

/* True when the row of KEY is compared: of a site recounted, of a day
 * whose raw events are whole (else counted as skipped). */
static bool row_wanted(struct check *c, const uint8_t *key)
{
    if (!site_wanted(c, key_site(key)))
        return false;
    if (key_day(key) < c->retained) {
        c->skipped++;
        return false;
    }
    c->rows++;
    return true;
}

/* Compares the stored rows of one kind (SITE_ROWS: article 0; otherwise
 * every article's) with the views' recount, in key order. */
static int compare_rows(struct check *c, struct store *st, MDB_txn *txn,
                        bool site_rows)
{
    struct recount *r = c->rc;
    struct stored_rows s;
    int rc = stored_open(&s, st, txn);
    if (rc != 0)
        return rc;
    if (r->nv > 0)
        qsort(r->v, r->nv, sizeof *r->v, site_rows ? by_site_row
                                                   : by_article_row);
    struct rollup_day have, want;
    uint8_t hk[DAILY_KEY_LEN], wk[DAILY_KEY_LEN];
    size_t i = 0;
    bool h = false, w = false;
    for (;;) {
        while (!h && stored_next(&s, hk, &have) == 1)
            h = (key_article(hk) == 0) == site_rows;
        if (!w && i < r->nv) {
            fold_row(r, &i, site_rows, wk, &want);
            w = true;
        }
        if (!h && !w)
            break;
        int cmp = !h ? 1 : !w ? -1 : memcmp(hk, wk, DAILY_KEY_LEN);
        static const struct rollup_day none;
        if (row_wanted(c, cmp <= 0 ? hk : wk))
            compare_row(c, st, txn, cmp <= 0 ? hk : wk,
                        cmp <= 0 ? &have : &none, cmp >= 0 ? &want : &none);
        h = h && cmp > 0;
        w = w && cmp < 0;
    }
    stored_close(&s);
    return 0;
}

/* Breakdown rows' keys in LMDB's order (bytes, then the shorter first). */
static int by_dim_key_r(const struct recount *r, const struct dimrow *a,
                        const struct dimrow *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int x = memcmp(r->arena + a->off, r->arena + b->off, n);
    return x ? x : (a->len > b->len) - (a->len < b->len);
}

static const struct recount *sorting;     /* by_dim_key's recount */

static int by_dim_key(const void *a, const void *b)
{
    return by_dim_key_r(sorting, a, b);
}

/* The name of breakdown DIM in a report line. */
static const char *dim_name(int dim)
{
    switch (dim) {
    case DIM_COUNTRY: return "country";
    case DIM_REFERRER: return "referrer";
    case DIM_SEARCH: return "search";
    case DIM_SEARCH_ZERO: return "search without results";
    case DIM_LED_HERE: return "search that led here";
    case DIM_EVENT: return "custom event";
    }
    return "?";
}

/* Reports the breakdown of key K (N bytes) when HAVE is not WANT. */
static void compare_dim(struct check *c, struct store *st, MDB_txn *txn,
                        const uint8_t *k, size_t n, uint32_t have,
                        uint32_t want)
{
    if (!row_wanted(c, k) || have == want)
        return;
    char where[400];
    row_name(c, st, txn, k, where, sizeof where);
    int vlen = (int)(n - DIM_KEY_LEN);
    difference(c, "breakdowns: %s: field %s \"%.*s\": stored %u, recomputed "
               "from the raw events %u", where, dim_name(key_dim(k)), vlen,
               (const char *)k + DIM_KEY_LEN, have, want);
}

/* The stored breakdowns, each as the key of a row of its own (a breakdown
 * row's entries spelled out), in the recount's form. */
struct stored_dims {
    struct dimrow *d;
    size_t nd, cd;
    uint8_t *arena;
    size_t used, carena;
};

/* Appends breakdown KEY (N bytes) = COUNT to S. */
static void stored_dim_push(struct check *c, struct stored_dims *s,
                            const uint8_t *key, size_t n, uint32_t count)
{
    if (!grow(c, (void **)&s->d, s->nd, &s->cd, sizeof *s->d))
        return;
    while (s->used + n > s->carena) {
        size_t cap = s->carena ? s->carena * 2 : 65536;
        uint8_t *p = realloc(s->arena, cap);
        if (p == NULL) {
            c->oom = true;
            return;
        }
        s->arena = p;
        s->carena = cap;
    }
    memcpy(s->arena + s->used, key, n);
    s->d[s->nd++] = (struct dimrow){ (uint32_t)s->used, count, (uint16_t)n };
    s->used += n;
}

/* Reads daily_dim's breakdowns of the sites checked into S. */
static int stored_dims_read(struct check *c, struct store *st, MDB_txn *txn,
                            struct stored_dims *s)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, st->dbi[DB_DIM], &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !c->oom;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *p = k.mv_data;
        uint32_t count;
        if (k.mv_size < DAILY_KEY_LEN || !site_wanted(c, key_site(p)))
            continue;
        if (k.mv_size > DAILY_KEY_LEN) {
            if (k.mv_size >= DIM_KEY_LEN && u32_read(&v, &count))
                stored_dim_push(c, s, p, k.mv_size, count);
            continue;
        }
        struct dim_entry e;
        size_t off = 0;
        uint8_t kb[DIM_KEY_LEN + DIM_VALUE_MAX];
        while (dim_row_next(v.mv_data, v.mv_size, &off, &e) == 1) {
            size_t n = dim_key(kb, key_site(p), key_article(p), key_day(p),
                               key_class(p), e.dim, e.value, e.len);
            stored_dim_push(c, s, kb, n, e.count);
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Compares daily_dim with the recounted breakdowns, in key order. */
static int compare_dims(struct check *c, struct store *st, MDB_txn *txn)
{
    struct recount *r = c->rc;
    struct stored_dims s = { 0 };
    int rc = stored_dims_read(c, st, txn, &s);
    struct recount view = { .arena = s.arena };   /* by_dim_key's arena */
    sorting = &view;
    if (s.nd > 0)                  /* qsort takes no NULL, even for none */
        qsort(s.d, s.nd, sizeof *s.d, by_dim_key);
    sorting = r;
    if (r->nd > 0)
        qsort(r->d, r->nd, sizeof *r->d, by_dim_key);
    sorting = NULL;
    size_t i = 0, j = 0;
    while (rc == 0 && !c->oom && (i < r->nd || j < s.nd)) {
        const struct dimrow *want = i < r->nd ? &r->d[i] : NULL;
        const struct dimrow *have = j < s.nd ? &s.d[j] : NULL;
        int cmp = want == NULL ? -1 : have == NULL ? 1 : 0;
        if (want && have) {
            size_t n = have->len < want->len ? have->len : want->len;
            cmp = memcmp(s.arena + have->off, r->arena + want->off, n);
            if (cmp == 0)
                cmp = (have->len > want->len) - (have->len < want->len);
        }
        if (cmp <= 0)
            compare_dim(c, st, txn, s.arena + have->off, have->len,
                        have->count, cmp == 0 ? want->count : 0);
        else
            compare_dim(c, st, txn, r->arena + want->off, want->len, 0,
                        want->count);
        if (cmp <= 0)
            j++;
        if (cmp >= 0)
            i++;
    }
    free(s.d);
    free(s.arena);
    return rc;
}

/* Compares every rollup row and breakdown with the recount, in TXN (the
 * walk's: the same state). Returns 0 or an LMDB error. */
static int recount_compare(struct check *c, struct store *st, MDB_txn *txn)
{
    struct recount *r = c->rc;
    hmap_free(&r->views);               /* the walk is done: give back */
    hmap_free(&r->searched);
    hmap_free(&r->links);
    memset(&r->views, 0, sizeof r->views);
    memset(&r->searched, 0, sizeof r->searched);
    memset(&r->links, 0, sizeof r->links);
    mark_first_visits(r);
    int rc = compare_rows(c, st, txn, true);
    if (rc == 0)
        rc = compare_rows(c, st, txn, false);
    if (rc == 0)
        rc = compare_dims(c, st, txn);
    return rc;
}

int store_check(struct store *st, uint32_t only_site, store_check_fn fn,
                void *ctx, struct store_check_result *out)
{
    struct check c = { .fn = fn, .ctx = ctx, .only_site = only_site };
    MDB_txn *txn;
    memset(out, 0, sizeof *out);
    c.rc = calloc(1, sizeof *c.rc);
    c.oom = c.rc == NULL;
    int rc = store_read_begin(st, &txn);
    if (rc != 0) {
        problem(&c, "cannot begin a read: %s", mdb_strerror(rc));
        recount_free(c.rc);
        out->problems = c.problems;
        return -1;
    }
    for (int db = 0; db < DB_COUNT && txn; db++) {
        out->records += check_db(&c, st, txn, db);
        if (!c.unreadable || db + 1 == DB_COUNT)
            continue;
        /* LMDB fails the whole transaction on a damaged page: the next
         * databases are read in a fresh one */
        store_read_end(st, txn);
        if (store_read_begin(st, &txn) != 0)
            txn = NULL;
    }
    c.shown = 0;
    if (c.unreadable) {
        problem(&c, "rollups: not recounted (a database could not be read "
                "whole)");
    } else if (!c.oom && txn && (rc = recount_compare(&c, st, txn)) != 0) {
        problem(&c, "rollups: not recounted: %s", mdb_strerror(rc));
    }
    if (c.oom)
        problem(&c, "rollups: out of memory, not recounted");
    if (c.diff_shown > CHECK_SHOWN_DIFFS)
        c.fn(c.ctx, "rollups: more differences than shown (see the count "
             "below)");
    if (txn)
        store_read_end(st, txn);
    out->rows = c.rows;
    out->skipped = c.skipped;
    out->retained = c.retained;
    out->differences = c.differences;
    recount_free(c.rc);
    out->problems = c.problems;
    return 0;
}
