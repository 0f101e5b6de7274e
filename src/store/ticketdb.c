/* ticketdb.c — see ticketdb.h: tickets, and the indexes that tie them to
 * readers: link records, identities and visits. */
#define _POSIX_C_SOURCE 200809L
#include "store/ticketdb.h"

#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/ship.h"

/* --- tickets and attribution --------------------------------------------- */

/* Puts one ticket in TXN; counts it in *UNCHANGED when identical. */
static int ticket_put_txn(struct store *st, MDB_txn *txn, uint32_t site,
                          const struct store_ticket *t, size_t *unchanged)
{
    uint8_t kb[4 + STORE_TICKET_ID_MAX], buf[TICKET_REC_MAX];
    uint8_t tk[12 + STORE_TICKET_ID_MAX];
    size_t idl = strlen(t->id);
    if (idl == 0 || idl > STORE_TICKET_ID_MAX)
        return MDB_BAD_VALSIZE;
    MDB_val k = { site_bytes_key(kb, site, t->id, idl), kb }, v;
    size_t n = ticket_pack(t, buf);
    uint64_t old_us;
    int rc = mdb_get(txn, st->dbi[DB_TICKETS], &k, &v);
    if (rc == 0 && v.mv_size == n && memcmp(v.mv_data, buf, n) == 0) {
        (*unchanged)++;
        return 0;
    }
    if (rc == 0 && ticket_created(&v, &old_us)) {
        /* replaced: drop its old time */
        MDB_val ok = { ticket_time_key(tk, site, old_us, t->id), tk };
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
    if (st->ship_log && (rc = ship_log_add(st, txn, 't', kb, k.mv_size)) != 0)
        return rc;
    MDB_val tkey = { ticket_time_key(tk, site, t->created_us, t->id), tk };
    MDB_val empty = { 0, NULL };
    return mdb_put(txn, st->dbi[DB_TICKET_TIMES], &tkey, &empty, 0);
}

/* Tickets to put for the one write path. */
struct tickets_write {
    uint32_t site_id;
    const struct store_ticket *t;
    size_t n;
    size_t unchanged;              /* out: tickets already stored as they are */
};

static int tickets_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct tickets_write *w = ctx;
    int rc = st->ship_log ? ship_log_begin(st, txn) : 0;
    w->unchanged = 0;
    for (size_t i = 0; i < w->n && rc == 0; i++)
        rc = ticket_put_txn(st, txn, w->site_id, &w->t[i], &w->unchanged);
    return rc;
}

int store_tickets_put(struct store *st, uint32_t site_id,
                      const struct store_ticket *t, size_t n,
                      size_t *unchanged, char *err, size_t errlen)
{
    /* webhooks call this from HTTP threads: the one write path takes the
     * writer's lock, so the map grows only while no write transaction of
     * ours is open */
    struct tickets_write w = { site_id, t, n, 0 };
    *unchanged = 0;
    int rc = store_write(st, tickets_txn, &w);
    if (rc != 0)
        return set_err(err, errlen, "tickets", rc);
    *unchanged = w.unchanged;
    return 0;
}

int store_tickets_each(struct store *st, uint32_t site_id, uint64_t from_us,
                       uint64_t to_us,
                       int (*fn)(void *ctx, const struct store_ticket *t),
                       void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_read_cursor(st, DB_TICKET_TIMES, &txn, &cur) != 0)
        return -1;
    uint8_t kb[SITE_ID_KEY_LEN];
    site_id_key(kb, site_id, from_us);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size > SITE_ID_KEY_LEN &&
           key_site(k.mv_data) == site_id && key_article(k.mv_data) < to_us) {
        uint8_t tk[4 + STORE_TICKET_ID_MAX];
        uint64_t t_us;
        const char *id;
        size_t idl;
        if (ticket_time_read(&k, &t_us, &id, &idl)) {
            MDB_val tkey = { site_bytes_key(tk, site_id, id, idl), tk }, tv;
            struct store_ticket t;
            if (mdb_get(txn, st->dbi[DB_TICKETS], &tkey, &tv) == 0 &&
                ticket_unpack(&tkey, &tv, &t) == 0 && fn(ctx, &t) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int store_ticket_get(struct store *st, uint32_t site_id, const char *id,
                     struct store_ticket *out)
{
    uint8_t kb[4 + STORE_TICKET_ID_MAX];
    size_t n = strlen(id);
    if (n == 0 || n > STORE_TICKET_ID_MAX)
        return 1;
    MDB_val k = { site_bytes_key(kb, site_id, id, n), kb }, v;
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    int rc = mdb_get(txn, st->dbi[DB_TICKETS], &k, &v);
    int out_rc = rc == MDB_NOTFOUND ? 1 : rc != 0 ? -1
               : ticket_unpack(&k, &v, out);
    store_read_end(st, txn);
    return out_rc;
}

int store_link_get(struct store *st, uint32_t site_id, const char *link,
                   uint64_t *time_us, uint64_t visitors[2])
{
    uint8_t kb[LINK_KEY_MAX];
    size_t n = strlen(link);
    if (n == 0 || n > EVENT_LINK_MAX)
        return 1;
    MDB_val k = { site_bytes_key(kb, site_id, link, n), kb }, v;
    MDB_txn *txn;
    if (store_read_begin(st, &txn) != 0)
        return -1;
    struct link_rec r;
    int rc = mdb_get(txn, st->dbi[DB_LINKS], &k, &v);
    bool found = rc == 0 && link_read(&v, &r);
    if (found) {
        *time_us = r.time_us;
        visitors[0] = r.visitor;
        visitors[1] = r.visitor_prev;
    }
    store_read_end(st, txn);
    return rc == 0 ? (found ? 0 : 1) : rc == MDB_NOTFOUND ? 1 : -1;
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
    if (store_read_cursor(st, DB_IDENTS, &txn, &cur) != 0)
        return -1;
    uint8_t kb[IDENT_KEY_LEN];
    MDB_val k = { ident_key(kb, site_id, identity, from_us), kb }, v;
    uint64_t t, visitor;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && ident_key_time(&k, &t) &&
           memcmp(k.mv_data, kb, IDENT_PREFIX_LEN) == 0 && t < to_us) {
        if (u64_read(&v, &visitor) && fn(ctx, t, visitor) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int store_visits_each(struct store *st, uint32_t site_id, uint64_t visitor,
                      uint64_t from_us, uint64_t to_us, store_visit_fn fn,
                      void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_read_cursor(st, DB_VISITS, &txn, &cur) != 0)
        return -1;
    uint8_t kb[VISIT_KEY_LEN];
    MDB_val k = { visit_key(kb, site_id, visitor, from_us, 0), kb }, v;
    uint64_t t;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && visit_key_time(&k, &t) &&
           memcmp(k.mv_data, kb, VISIT_PREFIX_LEN) == 0) {
        struct visit x;
        if (t > to_us)
            break;
        if (visit_read(&k, &v, &x) &&
            fn(ctx, x.time_us, x.article, x.query, x.qlen, x.zero) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    store_read_cursor_end(st, txn, cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}
