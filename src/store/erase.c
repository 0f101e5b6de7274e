/* erase.c — see erase.h and store.h (store_site_remove, store_forget):
 * deleting every record of a site, or every record keyed to one person,
 * in transactions of at most ERASE_CHUNK changes each. */
#define _POSIX_C_SOURCE 200809L
#include "store/erase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/crypto.h"
#include "dwell/log.h"
#include "store/codec.h"
#include "store/dict.h"

#define ERASE_CHUNK 20000          /* changes per transaction */
#define ERASE_WALK  200000         /* records looked at, too */
#define REMOVE_GRACE_MS 2000       /* between a site's removal and its
                                      records' */

enum erase_verdict { ERASE_KEEP, ERASE_DROP, ERASE_REWRITE };

/* Decides what happens to record (K, V); on ERASE_REWRITE writes the new
 * value to BUF (EVENT_RECORD_MAX bytes) and its length to *LEN. */
typedef enum erase_verdict (*erase_fn)(void *ctx, const MDB_val *k,
                                       const MDB_val *v, uint8_t *buf,
                                       size_t *len);

/* One walk over database DB (over the keys starting with PREFIX, when
 * PLEN > 0), resumable. */
struct erase_walk {
    int db;
    const uint8_t *prefix;
    size_t plen;
    erase_fn fn;
    void *ctx;
    struct purge_mark at, start;  /* where the next step begins; where the
                                     current one began */
    size_t dropped, rewritten;    /* so far */
    size_t start_dropped, start_rewritten;
};

/* True when K starts with W's prefix. */
static bool in_prefix(const struct erase_walk *w, const MDB_val *k)
{
    return k->mv_size >= w->plen &&
           (w->plen == 0 || memcmp(k->mv_data, w->prefix, w->plen) == 0);
}

/* One step of walk W in TXN: from its mark, while the budget lasts. */
static int walk_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct erase_walk *w = ctx;
    size_t changes = ERASE_CHUNK, walks = ERASE_WALK;
    uint8_t buf[EVENT_RECORD_MAX];
    MDB_cursor *cur;
    w->start = w->at;
    w->start_dropped = w->dropped;
    w->start_rewritten = w->rewritten;
    int rc = mdb_cursor_open(txn, st->dbi[w->db], &cur);
    if (rc != 0)
        return rc;
    MDB_val k = { w->at.len, w->at.key }, v;
    if (k.mv_size == 0 && w->plen > 0) {
        k.mv_size = w->plen;
        k.mv_data = (void *)w->prefix;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, k.mv_size ? MDB_SET_RANGE
                                                     : MDB_FIRST);
         rc == 0 && in_prefix(w, &k);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (changes == 0 || walks-- == 0) {
            w->at.len = k.mv_size <= sizeof w->at.key ? k.mv_size : 0;
            memcpy(w->at.key, k.mv_data, w->at.len);
            mdb_cursor_close(cur);
            return 0;                      /* w->at.done stays false */
        }
        size_t len = 0;
        enum erase_verdict d = w->fn(w->ctx, &k, &v, buf, &len);
        if (d == ERASE_DROP) {
            rc = mdb_cursor_del(cur, 0);
            w->dropped++;
        } else if (d == ERASE_REWRITE) {
            MDB_val nv = { len, buf };
            rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
            w->rewritten++;
        }
        if (rc != 0)
            break;
        if (d != ERASE_KEEP)
            changes--;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    w->at.done = true;
    return 0;
}

/* The step was not committed: it is taken again from where it began. */
static void walk_undo(struct store *st, void *ctx)
{
    struct erase_walk *w = ctx;
    (void)st;
    w->at = w->start;
    w->dropped = w->start_dropped;
    w->rewritten = w->start_rewritten;
}

/* Runs walk W to its end, a bounded transaction at a time. Returns 0 or
 * an LMDB error code. */
static int walk_run(struct store *st, struct erase_walk *w)
{
    memset(&w->at, 0, sizeof w->at);
    while (!w->at.done) {
        int rc = store_write_undo(st, walk_txn, walk_undo, w);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Runs a walk of DB over the keys starting with PREFIX (PLEN bytes; 0:
 * all) with FN; adds what it dropped to *DROPPED and rewrote to
 * *REWRITTEN (either may be NULL). Returns 0 or an LMDB error code. */
static int erase_db(struct store *st, int db, const void *prefix,
                    size_t plen, erase_fn fn, void *ctx, size_t *dropped,
                    size_t *rewritten)
{
    struct erase_walk *w = calloc(1, sizeof *w);
    if (w == NULL)
        return ENOMEM;
    *w = (struct erase_walk){ .db = db, .prefix = prefix, .plen = plen,
                              .fn = fn, .ctx = ctx };
    int rc = walk_run(st, w);
    if (dropped)
        *dropped += w->dropped;
    if (rewritten)
        *rewritten += w->rewritten;
    free(w);
    return rc;
}

static enum erase_verdict drop_all(void *ctx, const MDB_val *k,
                                   const MDB_val *v, uint8_t *buf,
                                   size_t *len)
{
    (void)ctx, (void)k, (void)v, (void)buf, (void)len;
    return ERASE_DROP;
}

/* --- a site --------------------------------------------------------------- */

/* The site being removed. */
struct removal {
    uint32_t id;
    char name[EVENT_SITE_MAX + 1];
    bool found;
    bool fresh;                  /* taken out of "sites" just now */
    size_t dict_dropped;         /* by the last dictionary step */
};

/* The meta key "removing" site(4) into KB (12 bytes). */
static size_t removing_key(uint8_t *kb, uint32_t id)
{
    memcpy(kb, REMOVING_PREFIX, REMOVING_PREFIX_LEN);
    site_bytes_key(kb + REMOVING_PREFIX_LEN, id, "", 0);
    return REMOVING_PREFIX_LEN + 4;
}

/* Takes the site out of "sites" and notes its removal in meta; or finds
 * a removal of that name cut short. */
static int removal_begin_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct removal *r = ctx;
    size_t n = strlen(r->name);
    MDB_val k = { n, r->name }, v;
    uint8_t kb[REMOVING_PREFIX_LEN + 4];
    int rc = mdb_get(txn, st->dbi[DB_SITES], &k, &v);
    if (rc == 0) {
        if (!site_id_read(&v, &r->id))
            return MDB_CORRUPTED;
        if ((rc = mdb_del(txn, st->dbi[DB_SITES], &k, NULL)) != 0)
            return rc;
        MDB_val mk = { removing_key(kb, r->id), kb }, mv = { n, r->name };
        r->found = r->fresh = true;
        return mdb_put(txn, st->dbi[DB_META], &mk, &mv, 0);
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_META], &cur)) != 0)
        return rc;
    MDB_val mk = { REMOVING_PREFIX_LEN, REMOVING_PREFIX };
    for (rc = mdb_cursor_get(cur, &mk, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &mk, &v, MDB_NEXT)) {
        if (mk.mv_size != REMOVING_PREFIX_LEN + 4 ||
            memcmp(mk.mv_data, REMOVING_PREFIX, REMOVING_PREFIX_LEN) != 0)
            break;
        if (v.mv_size == n && memcmp(v.mv_data, r->name, n) == 0) {
            r->id = key_site((const uint8_t *)mk.mv_data +
                             REMOVING_PREFIX_LEN);
            r->found = true;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int removal_end_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct removal *r = ctx;
    uint8_t kb[REMOVING_PREFIX_LEN + 4];
    MDB_val k = { removing_key(kb, r->id), kb };
    int rc = mdb_del(txn, st->dbi[DB_META], &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static enum erase_verdict token_of_site(void *ctx, const MDB_val *k,
                                        const MDB_val *v, uint8_t *buf,
                                        size_t *len)
{
    const struct removal *r = ctx;
    struct store_token t;
    (void)buf, (void)len;
    return token_unpack(k, v, &t) == 0 && strcmp(t.site, r->name) == 0
           ? ERASE_DROP : ERASE_KEEP;
}

static enum erase_verdict event_of_site(void *ctx, const MDB_val *k,
                                        const MDB_val *v, uint8_t *buf,
                                        size_t *len)
{
    const struct removal *r = ctx;
    struct event ev;
    (void)k, (void)buf, (void)len;
    return event_decode(v->mv_data, v->mv_size, &ev) == 0 &&
           ev.site_id == r->id ? ERASE_DROP : ERASE_KEEP;
}

/* seen: day(4) site(4) …: the site is the second field. */
static enum erase_verdict seen_of_site(void *ctx, const MDB_val *k,
                                       const MDB_val *v, uint8_t *buf,
                                       size_t *len)
{
    const struct removal *r = ctx;
    (void)v, (void)buf, (void)len;
    return k->mv_size >= 8 && key_site((const uint8_t *)k->mv_data + 4) ==
           r->id ? ERASE_DROP : ERASE_KEEP;
}

/* The databases whose keys start with the site. */
static const int site_dbs[] = {
    DB_VIEWS, DB_ARTICLES, DB_DAILY, DB_DIM, DB_LINKS, DB_SEARCHED, DB_CUM,
    DB_DIRTY, DB_VISITS, DB_IDENTS, DB_TICKETS, DB_TICKET_TIMES, DB_RECENT,
    DB_HEADS
};

/* One bounded step of dropping removal CTX's dictionary. */
static int dict_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct removal *r = ctx;
    return dict_drop_site(st, txn, r->id, ERASE_CHUNK, &r->dict_dropped);
}

/* Deletes every record of removal R, database by database; the
 * dictionary last, since the events name its entries. */
static int removal_records(struct store *st, struct removal *r,
                           size_t *removed)
{
    uint8_t sk[4], nk[8 + 4];
    site_bytes_key(sk, r->id, "", 0);
    memcpy(nk, "note", 4);
    site_bytes_key(nk + 4, r->id, "", 0);
    int rc = erase_db(st, DB_TOKENS, NULL, 0, token_of_site, r, removed,
                      NULL);
    if (rc == 0)
        rc = erase_db(st, DB_META, nk, sizeof nk, drop_all, r, removed,
                      NULL);
    for (size_t i = 0; rc == 0 && i < sizeof site_dbs / sizeof *site_dbs;
         i++)
        rc = erase_db(st, site_dbs[i], sk, sizeof sk, drop_all, r, removed,
                      NULL);
    if (rc == 0)
        rc = erase_db(st, DB_SEEN, NULL, 0, seen_of_site, r, removed, NULL);
    if (rc == 0)
        rc = erase_db(st, DB_EVENTS, NULL, 0, event_of_site, r, removed,
                      NULL);
    for (bool more = rc == 0; more;) {
        rc = store_write(st, dict_txn, r);
        if (rc == 0)
            *removed += r->dict_dropped;
        more = rc == 0 && r->dict_dropped == ERASE_CHUNK;
    }
    return rc;
}

int store_site_remove(struct store *st, const char *name, size_t *removed,
                      char *err, size_t errlen)
{
    struct removal r = { 0 };
    size_t n = strlen(name);
    *removed = 0;
    if (n == 0 || n > EVENT_SITE_MAX) {
        snprintf(err, errlen, "%s: not a site name", name);
        return -1;
    }
    memcpy(r.name, name, n + 1);
    int rc = store_write(st, removal_begin_txn, &r);
    if (rc != 0)
        return set_err(err, errlen, "site remove", rc);
    if (!r.found)
        return 1;
    /* a beacon a running server accepted just before the site went may
     * still be in its queue (milliseconds): the records go after that */
    if (r.fresh)
        nanosleep(&(struct timespec){ REMOVE_GRACE_MS / 1000,
                                      REMOVE_GRACE_MS % 1000 * 1000000L },
                  NULL);
    rc = removal_records(st, &r, removed);
    if (rc == 0)
        rc = store_write(st, removal_end_txn, &r);
    if (rc != 0)
        return set_err(err, errlen, "site remove", rc);
    log_info("store: site %s (id %u) removed: %zu records deleted", name,
             r.id, *removed);
    return 0;
}

/* --- one person ------------------------------------------------------------ */

#define FORGET_MAX 4096            /* visitor hashes and links per person */

/* What is known of the person: their identity, the links of their
 * tickets and the visitor hashes those and their identities name (each
 * with the random hash that replaces it in the raw events). */
struct person {
    uint32_t site;
    uint8_t identity[32];
    char hex[2 * 32 + 1];          /* the identity in hex: what a raw
                                      identify event keeps */
    size_t nvis, nlinks;
    uint64_t vis[FORGET_MAX], vis_new[FORGET_MAX];
    char links[FORGET_MAX][EVENT_LINK_MAX + 1];
    bool full;                     /* more than FORGET_MAX of either */
    struct store_forgotten *out;
};

/* Adds visitor hash V (0: none) to P. */
static void person_visitor(struct person *p, uint64_t v)
{
    if (v == 0)
        return;
    for (size_t i = 0; i < p->nvis; i++)
        if (p->vis[i] == v)
            return;
    if (p->nvis == FORGET_MAX) {
        p->full = true;
        return;
    }
    uint64_t fresh = 0;
    while (fresh == 0 && crypto_random(&fresh, sizeof fresh) == 0)
        ;
    p->vis_new[p->nvis] = fresh ? fresh : v ^ 0x9e3779b97f4a7c15ull;
    p->vis[p->nvis++] = v;
}

/* The index of link id S (N bytes) among P's, or -1. */
static int person_link(const struct person *p, const char *s, size_t n)
{
    for (size_t i = 0; i < p->nlinks; i++)
        if (strlen(p->links[i]) == n && memcmp(p->links[i], s, n) == 0)
            return (int)i;
    return -1;
}

/* Tickets of the person: their links noted, then dropped (ticket_times
 * rows and links records with them, in the same transaction). */
static enum erase_verdict ticket_of_person(void *ctx, const MDB_val *k,
                                           const MDB_val *v, uint8_t *buf,
                                           size_t *len)
{
    struct person *p = ctx;
    struct store_ticket t;
    (void)buf, (void)len;
    if (ticket_unpack(k, v, &t) != 0 || !t.has_email ||
        !crypto_equal(t.email_key, p->identity, 32))
        return ERASE_KEEP;
    size_t n = strlen(t.link);
    if (n > 0 && person_link(p, t.link, n) < 0) {
        if (p->nlinks < FORGET_MAX)
            memcpy(p->links[p->nlinks++], t.link, n + 1);
        else
            p->full = true;
    }
    p->out->tickets++;
    return ERASE_DROP;
}

/* Idents of the person (the walk's prefix is theirs): visitors noted. */
static enum erase_verdict ident_of_person(void *ctx, const MDB_val *k,
                                          const MDB_val *v, uint8_t *buf,
                                          size_t *len)
{
    struct person *p = ctx;
    uint64_t visitor;
    (void)k, (void)buf, (void)len;
    if (u64_read(v, &visitor))
        person_visitor(p, visitor);
    p->out->identities++;
    return ERASE_DROP;
}

/* Raw events: the person's identify events go, so do the link events of
 * their links; their other events keep their counts under a random
 * visitor hash. */
static enum erase_verdict event_of_person(void *ctx, const MDB_val *k,
                                          const MDB_val *v, uint8_t *buf,
                                          size_t *len)
{
    struct person *p = ctx;
    struct event ev;
    (void)k;
    if (event_decode(v->mv_data, v->mv_size, &ev) != 0 ||
        ev.site_id != p->site)
        return ERASE_KEEP;
    if ((ev.type == EVENT_IDENTIFY && ev.text.n == EVENT_HASH_LEN &&
         memcmp(ev.text.p, p->hex, EVENT_HASH_LEN) == 0) ||
        (ev.type == EVENT_LINK && person_link(p, ev.text.p, ev.text.n) >= 0)) {
        p->out->events_deleted++;
        return ERASE_DROP;
    }
    for (size_t i = 0; i < p->nvis; i++) {
        if (ev.visitor != p->vis[i])
            continue;
        ev.visitor = p->vis_new[i];
        int n = event_encode(&ev, buf, EVENT_RECORD_MAX);
        if (n < 0)
            return ERASE_KEEP;
        *len = (size_t)n;
        p->out->events_unlinked++;
        return ERASE_REWRITE;
    }
    return ERASE_KEEP;
}

/* Drops the links records of P's links, noting their visitors. */
static int forget_links_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct person *p = ctx;
    p->out->links = 0;
    for (size_t i = 0; i < p->nlinks; i++) {
        uint8_t kb[LINK_KEY_MAX];
        MDB_val k = { site_bytes_key(kb, p->site, p->links[i],
                                     strlen(p->links[i])), kb }, v;
        struct link_rec r;
        int rc = mdb_get(txn, st->dbi[DB_LINKS], &k, &v);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            return rc;
        if (link_read(&v, &r)) {
            person_visitor(p, r.visitor);
            person_visitor(p, r.visitor_prev);
        }
        if ((rc = mdb_del(txn, st->dbi[DB_LINKS], &k, NULL)) != 0)
            return rc;
        p->out->links++;
    }
    return 0;
}

/* ticket_times rows whose ticket is gone. */
static enum erase_verdict orphan_time(void *ctx, const MDB_val *k,
                                      const MDB_val *v, uint8_t *buf,
                                      size_t *len)
{
    struct store *st = ((void **)ctx)[0];
    MDB_txn *txn = ((void **)ctx)[1];
    (void)v, (void)buf, (void)len;
    uint64_t t;
    const char *id;
    size_t idlen;
    uint8_t kb[4 + STORE_TICKET_ID_MAX];
    MDB_val tv;
    if (!ticket_time_read(k, &t, &id, &idlen))
        return ERASE_KEEP;
    MDB_val tk = { site_bytes_key(kb, key_site(k->mv_data), id, idlen), kb };
    return mdb_get(txn, st->dbi[DB_TICKETS], &tk, &tv) == MDB_NOTFOUND
           ? ERASE_DROP : ERASE_KEEP;
}

/* The ticket_times rows of the tickets just dropped, in one transaction
 * (a person's tickets are few; a site's rows are walked). */
static int forget_times_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct erase_walk *w = ctx;
    void *pair[2] = { st, txn };
    w->ctx = pair;
    int rc = walk_txn(st, txn, w);
    w->ctx = NULL;
    return rc;
}

int store_forget(struct store *st, uint32_t site_id, const char *hex,
                 size_t hexlen, struct store_forgotten *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (hexlen != EVENT_HASH_LEN) {
        snprintf(err, errlen, "an identity is %d hex digits", EVENT_HASH_LEN);
        return -1;
    }
    struct person *p = calloc(1, sizeof *p);
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->site = site_id;
    p->out = out;
    int rc = 0;
    if (store_keyed_hash(st, "e:", hex, hexlen, p->identity) != 0) {
        free(p);
        snprintf(err, errlen, "the store has no secret (nothing was ever "
                 "written)");
        return -1;
    }
    crypto_hex(p->identity, sizeof p->identity, p->hex);
    uint8_t sk[4], ik[IDENT_PREFIX_LEN];
    site_bytes_key(sk, site_id, "", 0);
    site_bytes_key(ik, site_id, p->identity, 32);
    rc = erase_db(st, DB_TICKETS, sk, sizeof sk, ticket_of_person, p, NULL,
                  NULL);
    if (rc == 0) {
        struct erase_walk *w = calloc(1, sizeof *w);
        if (w == NULL)
            rc = ENOMEM;
        else {
            *w = (struct erase_walk){ .db = DB_TICKET_TIMES, .prefix = sk,
                                      .plen = sizeof sk, .fn = orphan_time };
            while (rc == 0 && !w->at.done)
                rc = store_write_undo(st, forget_times_txn, walk_undo, w);
            free(w);
        }
    }
    if (rc == 0)
        rc = store_write(st, forget_links_txn, p);
    if (rc == 0)
        rc = erase_db(st, DB_IDENTS, ik, sizeof ik, ident_of_person, p, NULL,
                      NULL);
    for (size_t i = 0; rc == 0 && i < p->nvis; i++) {
        uint8_t vk[VISIT_PREFIX_LEN];
        site_id_key(vk, site_id, p->vis[i]);
        rc = erase_db(st, DB_VISITS, vk, sizeof vk, drop_all, p,
                      &out->visits, NULL);
    }
    if (rc == 0)
        rc = erase_db(st, DB_EVENTS, NULL, 0, event_of_person, p, NULL,
                      NULL);
    bool full = p->full;
    free(p);
    if (rc != 0)
        return set_err(err, errlen, "forget", rc);
    if (full) {
        snprintf(err, errlen, "more than %d links or visitor hashes: run "
                 "forget again", FORGET_MAX);
        return -1;
    }
    return 0;
}
