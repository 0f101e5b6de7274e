/* ship.c — see ship.h: the shipping log and the thread that sends it to
 * ClickHouse over its HTTP interface (JSONEachRow), at least once: a batch
 * is deleted from the log, and meta "ship_done" advanced, only after
 * ClickHouse acknowledged it; a crash in between sends it again, which
 * changes no result because the tables are ReplacingMergeTrees keyed by
 * (node, seq) for events and (site, ticket id) for tickets. */
#define _POSIX_C_SOURCE 200809L
#include "store/ship.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/fetch.h"
#include "base/json.h"
#include "base/time.h"
#include "dwell/log.h"
#include "store/codec.h"
#include "store/events.h"

#define SHIP_BATCH        10000      /* log entries per batch at most */
#define SHIP_EVERY_MS     1000       /* a smaller batch waits this long */
#define SHIP_BACKOFF_MIN_MS 500
#define SHIP_BACKOFF_MAX_MS 30000
#define SHIP_TIMEOUT_MS   30000      /* one HTTP request */
#define SHIP_BODY_MAX     ((size_t)256 << 20)
#define SHIP_FILL_CHUNK   100000     /* events logged per transaction */
#define SHIP_SITES_MAX    4096

struct ship_site {
    uint32_t id;
    char name[EVENT_SITE_MAX + 1];
};

struct shipper {
    struct store *st;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;          /* guards what follows, to the stats */
    pthread_cond_t wake;
    bool stop;
    uint64_t events, batches_ok, batches_failed, last_success_us;

    /* the thread's own */
    char url[1024];              /* scheme://[user:pass@]host:port/ */
    char db[STORE_SHIP_DB_MAX + 1];
    char node[STORE_SHIP_NODE_MAX + 1];
    struct fetch *fetch;
    bool schema_ok;              /* the tables were made or found */
    struct ship_site *sites;
    size_t nsites, sites_cap;
    char last_err[512];          /* logged once until it changes */
};

/* --- the log --------------------------------------------------------------- */

int ship_log_open(struct store *st, MDB_txn *txn)
{
    int rc = mdb_dbi_open(txn, "ship", 0, &st->ship_dbi);
    st->ship_log = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int ship_log_begin(struct store *st, MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t last = 0;
    int rc = mdb_cursor_open(txn, st->ship_dbi, &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == 0 && !u64_read(&k, &last))
        return MDB_CORRUPTED;
    if (rc == MDB_NOTFOUND) {
        MDB_val mk = { sizeof SHIP_DONE_KEY - 1, SHIP_DONE_KEY };
        rc = mdb_get(txn, st->dbi[DB_META], &mk, &v);
        if (rc == 0 && !u64_read(&v, &last))
            return MDB_CORRUPTED;
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    st->ship_next = last + 1;
    return 0;
}

int ship_log_add(struct store *st, MDB_txn *txn, char kind, const void *key,
                 size_t n)
{
    uint8_t kb[SHIP_KEY_LEN], vb[SHIP_REC_MAX];
    if (n > SHIP_REC_MAX - 9)
        return MDB_BAD_VALSIZE;
    u64_pack(kb, st->ship_next++);
    MDB_val k = { sizeof kb, kb };
    MDB_val v = { ship_pack(vb, kind, store_now_us(), key, n), vb };
    return mdb_put(txn, st->ship_dbi, &k, &v, MDB_APPEND);
}

/* --- logging what was stored before shipping was enabled ------------------ */

struct fill {
    bool done;
    size_t logged;
};

/* One step of the first fill: creates the log (and meta "ship_fill", where
 * it resumes) the first time; logs up to SHIP_FILL_CHUNK events after the
 * resume key; once they are all logged, every ticket, and ends the fill. */
static int fill_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    struct fill *f = ctx;
    MDB_val fk = { sizeof SHIP_FILL_KEY - 1, SHIP_FILL_KEY }, v;
    int rc = mdb_dbi_open(txn, "ship", 0, &st->ship_dbi);
    if (rc == MDB_NOTFOUND) {
        if ((rc = mdb_dbi_open(txn, "ship", MDB_CREATE, &st->ship_dbi)) != 0)
            return rc;
        MDB_val empty = { 0, "" };
        if ((rc = mdb_put(txn, st->dbi[DB_META], &fk, &empty, 0)) != 0)
            return rc;
    } else if (rc != 0) {
        return rc;
    }
    uint8_t from[EVENT_KEY_LEN];
    size_t fromlen = 0;
    rc = mdb_get(txn, st->dbi[DB_META], &fk, &v);
    if (rc == MDB_NOTFOUND) {
        f->done = true;                     /* enabled before */
        return 0;
    }
    if (rc != 0 || v.mv_size > sizeof from)
        return rc ? rc : MDB_CORRUPTED;
    fromlen = v.mv_size;
    memcpy(from, v.mv_data, fromlen);
    if ((rc = ship_log_begin(st, txn)) != 0)
        return rc;

    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_EVENTS], &cur)) != 0)
        return rc;
    MDB_val k = { fromlen, from };
    rc = fromlen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
                 : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && fromlen && k.mv_size == fromlen &&
        memcmp(k.mv_data, from, fromlen) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    size_t n = 0;
    while (rc == 0 && n < SHIP_FILL_CHUNK) {
        if (k.mv_size == EVENT_KEY_LEN) {
            memcpy(from, k.mv_data, EVENT_KEY_LEN);
            fromlen = EVENT_KEY_LEN;
            if ((rc = ship_log_add(st, txn, 'e', from, fromlen)) != 0)
                break;
            n++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    f->logged += n;
    if (rc == 0) {                          /* more to come */
        MDB_val at = { fromlen, from };
        return mdb_put(txn, st->dbi[DB_META], &fk, &at, 0);
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    /* every event is logged: the tickets, and the fill is over */
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_TICKETS], &cur)) != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if ((rc = ship_log_add(st, txn, 't', k.mv_data, k.mv_size)) != 0)
            break;
        f->logged++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    f->done = true;
    return mdb_del(txn, st->dbi[DB_META], &fk, NULL);
}

/* Makes sure the store has a log, logging everything already stored the
 * first time (resuming a fill a crash cut short). */
static int ship_fill(struct store *st, char *err, size_t errlen)
{
    struct fill f = { 0 };
    while (!f.done) {
        int rc = store_write(st, fill_txn, &f);
        if (rc != 0)
            return set_err(err, errlen, "shipping log", rc);
    }
    if (f.logged > 0)
        log_info("ship: logged %zu stored events and tickets to ship first",
                 f.logged);
    st->ship_log = true;
    return 0;
}

/* --- the schema ------------------------------------------------------------ */

static const char schema_text[] =
    "CREATE DATABASE IF NOT EXISTS {db};\n"
    "CREATE TABLE IF NOT EXISTS {db}.events (\n"
    "    site String, day Date, node String, seq UInt64,\n"
    "    time_us UInt64, type String, counted UInt8,\n"
    "    bot UInt8, wire UInt8, view_id String, article UInt64,\n"
    "    path String, title String, category String, lang String,\n"
    "    page_kind String, words UInt32,\n"
    "    engaged_ms UInt32, scroll UInt8, vote Int8,\n"
    "    query String, results Int32, ev_seq UInt16, name String,\n"
    "    country FixedString(2), referrer String, visitor UInt64,\n"
    "    visitor_prev UInt64, screen_w UInt32\n"
    ") ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(day)"
    " ORDER BY (site, day, node, seq);\n"
    "CREATE TABLE IF NOT EXISTS {db}.tickets (\n"
    "    site String, ticket_id String, created_us UInt64, day Date,\n"
    "    link String, email_key String, requester_key String,\n"
    "    channel String, tags Array(String), node String, version UInt64\n"
    ") ENGINE = ReplacingMergeTree(version) ORDER BY (site, ticket_id);\n"
    "CREATE TABLE IF NOT EXISTS {db}.dwell_schema (version UInt32)"
    " ENGINE = TinyLog;\n"
    "INSERT INTO {db}.dwell_schema SELECT 1"
    " WHERE (SELECT count() FROM {db}.dwell_schema) = 0;\n";

bool store_ship_db_valid(const char *db)
{
    size_t n = strlen(db);
    if (n == 0 || n > STORE_SHIP_DB_MAX || isdigit((unsigned char)db[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)db[i]) && db[i] != '_')
            return false;
    return true;
}

char *store_ship_schema(const char *db)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    for (const char *p = schema_text; *p; ) {
        const char *at = strstr(p, "{db}");
        size_t n = at ? (size_t)(at - p) : strlen(p);
        buf_put(&b, p, n);
        p += n;
        if (at) {
            buf_str(&b, db);
            p += 4;
        }
    }
    return buf_take(&b, NULL);
}

/* --- talking to ClickHouse ------------------------------------------------- */

/* POSTs BODY (LEN bytes) to the server; with QUERY (an INSERT) in the URL
 * when given. Returns 0 on a 200, else -1 with the reason in ERR. */
static int ch_post(struct shipper *sh, const char *query, const char *body,
                   size_t len, struct buf *reply, char *err, size_t errlen)
{
    struct buf url;
    buf_init(&url, 1 << 16);
    buf_str(&url, sh->url);
    if (query) {
        buf_str(&url, "?query=");
        for (const char *p = query; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (isalnum(c) || c == '.' || c == '_' || c == '-')
                buf_put(&url, p, 1);
            else
                buf_printf(&url, "%%%02X", c);
        }
    }
    struct buf own;
    buf_init(&own, 1 << 16);
    if (reply == NULL)
        reply = &own;
    long status = 0;
    int rc = buf_failed(&url) ? -1
           : fetch_post(sh->fetch, url.p, body, len, reply, &status, err,
                        errlen);
    if (rc == 0 && status != 200) {
        snprintf(err, errlen, "ClickHouse answered %ld: %.300s", status,
                 reply->p ? reply->p : "");
        rc = -1;
    }
    buf_free(&url);
    buf_free(&own);
    return rc;
}

/* Creates the database and tables when missing and checks the schema
 * version. Returns 0, or -1 with the reason in ERR. */
static int ch_schema(struct shipper *sh, char *err, size_t errlen)
{
    char *ddl = store_ship_schema(sh->db);
    if (ddl == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (char *p = ddl, *end; rc == 0 && (end = strstr(p, ";\n")); p = end + 2)
        rc = ch_post(sh, NULL, p, (size_t)(end - p), NULL, err, errlen);
    free(ddl);
    if (rc != 0)
        return -1;
    char q[200];
    snprintf(q, sizeof q, "SELECT max(version) FROM %s.dwell_schema", sh->db);
    struct buf reply;
    buf_init(&reply, 4096);
    rc = ch_post(sh, NULL, q, strlen(q), &reply, err, errlen);
    long ver = rc == 0 && reply.p ? strtol(reply.p, NULL, 10) : 0;
    buf_free(&reply);
    if (rc == 0 && ver != STORE_SHIP_SCHEMA_VERSION) {
        snprintf(err, errlen, "ClickHouse database %s has dwell schema "
                 "version %ld; this dwell ships version %d (dwell clickhouse "
                 "schema --db %s prints it)", sh->db, ver,
                 STORE_SHIP_SCHEMA_VERSION, sh->db);
        rc = -1;
    }
    return rc;
}

/* --- rows ------------------------------------------------------------------ */

static int site_collect(void *ctx, const struct site *s)
{
    struct shipper *sh = ctx;
    if (buf_grow_array(&sh->sites, &sh->sites_cap, sh->nsites + 1,
                       sizeof *sh->sites, SHIP_SITES_MAX) != 0)
        return 1;
    struct ship_site *o = &sh->sites[sh->nsites++];
    o->id = s->id;
    snprintf(o->name, sizeof o->name, "%s", s->name);
    return 0;
}

/* The name of site ID (reading the sites again when unknown), or NULL. */
static const char *site_name(struct shipper *sh, uint32_t id)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sh->nsites; i++)
            if (sh->sites[i].id == id)
                return sh->sites[i].name;
        if (pass == 0) {
            sh->nsites = 0;
            store_site_each(sh->st, site_collect, sh);
        }
    }
    return NULL;
}

static void key_str(struct json *j, const char *key,
                    const struct event_str *s)
{
    json_key(j, key);
    json_string_n(j, s->p ? s->p : "", s->p ? s->n : 0);
}

static void key_date(struct json *j, const char *key, uint64_t us)
{
    char d[TIME_DATE_LEN];
    time_format_date((uint32_t)(us / TIME_US_PER_DAY), d);
    json_key_string(j, key, d);
}

/* One events row of entry SEQ: the event (K, V) as JSONEachRow. */
static void event_row(struct shipper *sh, struct json *j, uint64_t seq,
                      const char *site, const struct event *ev)
{
    static const struct event_str none = { "", 0 };
    bool text = ev->type == EVENT_LINK || ev->type == EVENT_IDENTIFY ||
                ev->type == EVENT_CUSTOM;
    json_object_begin(j);
    json_key_string(j, "site", site);
    key_date(j, "day", ev->time_us);
    json_key_string(j, "node", sh->node);
    json_key_uint(j, "seq", seq);
    json_key_uint(j, "time_us", ev->time_us);
    json_key_string(j, "type", event_type_name(ev->type));
    json_key_uint(j, "counted", !(ev->flags & EVENT_FLAG_REPEAT));
    json_key_uint(j, "bot", (ev->flags & EVENT_FLAG_BOT) != 0);
    json_key_uint(j, "wire", ev->wire);
    key_str(j, "view_id", &ev->view_id);
    json_key_uint(j, "article", ev->article);
    key_str(j, "path", &ev->path);
    key_str(j, "title", &ev->title);
    key_str(j, "category", &ev->category);
    key_str(j, "lang", &ev->lang);
    json_key_string(j, "page_kind", ev->type == EVENT_VIEW
                    ? event_page_kind_name(ev->kind) : "");
    json_key_uint(j, "words", ev->words);
    json_key_uint(j, "engaged_ms", ev->engaged_ms);
    json_key_uint(j, "scroll", ev->scroll);
    json_key_int(j, "vote", ev->type != EVENT_VOTE ? 0
                 : ev->vote == EVENT_VOTE_UP ? 1 : -1);
    key_str(j, "query", ev->type == EVENT_SEARCH ? &ev->text : &none);
    json_key_int(j, "results", ev->type != EVENT_SEARCH ? 0
                 : ev->results == EVENT_RESULTS_NONE ? -1
                 : (int64_t)ev->results);
    json_key_uint(j, "ev_seq", ev->seq);
    key_str(j, "name", text ? &ev->text : &none);
    json_key(j, "country");
    json_string_n(j, ev->country, strnlen(ev->country, 2));
    key_str(j, "referrer", &ev->referrer);
    json_key_uint(j, "visitor", ev->visitor);
    json_key_uint(j, "visitor_prev", ev->visitor_prev);
    json_key_uint(j, "screen_w", ev->screen_w);
    json_object_end(j);
    json_newline(j);
}

static void key_hex(struct json *j, const char *key, bool has,
                    const uint8_t b[32])
{
    char hex[65] = "";
    if (has)
        crypto_hex(b, 32, hex);
    json_key_string(j, key, hex);
}

/* One tickets row: ticket T of SITE, changed at VERSION_US. */
static void ticket_row(struct shipper *sh, struct json *j, const char *site,
                       const struct store_ticket *t, uint64_t version_us)
{
    json_object_begin(j);
    json_key_string(j, "site", site);
    json_key_string(j, "ticket_id", t->id);
    json_key_uint(j, "created_us", t->created_us);
    key_date(j, "day", t->created_us);
    json_key_string(j, "link", t->link);
    key_hex(j, "email_key", t->has_email, t->email_key);
    key_hex(j, "requester_key", t->has_requester, t->requester_key);
    json_key_string(j, "channel", t->channel);
    json_key(j, "tags");
    json_array_begin(j);
    for (size_t i = 0; i < t->ntags; i++)
        json_string(j, t->tags[i]);
    json_array_end(j);
    json_key_string(j, "node", sh->node);
    json_key_uint(j, "version", version_us);
    json_object_end(j);
    json_newline(j);
}

/* A batch read from the log: its rows and the last sequence it covers. */
struct batch {
    struct json ev, tk;
    size_t nev, ntk, entries;
    uint64_t last_seq;
};

/* Writes the row of entry E (read in TXN) into B; an entry whose event or
 * ticket is gone (erased, past retention) or whose site is gone gives
 * none. Returns 0 or an LMDB error. */
static int entry_row(struct shipper *sh, MDB_txn *txn,
                     const struct ship_entry *e, struct batch *b)
{
    struct store *st = sh->st;
    MDB_val k = { e->keylen, (void *)e->key }, v;
    int rc = mdb_get(txn, st->dbi[e->kind == 'e' ? DB_EVENTS : DB_TICKETS],
                     &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;
    uint32_t site_id;
    struct event ev;
    struct store_ticket t;
    uint32_t seq;
    if (e->kind == 'e') {
        if (events_read(st, txn, &v, &ev) != 0 ||
            !event_key_read(&k, &ev.time_us, &seq))
            return 0;                      /* dwell check reports it */
        site_id = ev.site_id;
    } else {
        if (ticket_unpack(&k, &v, &t) != 0)
            return 0;
        site_id = key_site(k.mv_data);
    }
    const char *site = site_name(sh, site_id);
    if (site == NULL)
        return 0;
    if (e->kind == 'e') {
        event_row(sh, &b->ev, e->seq, site, &ev);
        b->nev++;
    } else {
        ticket_row(sh, &b->tk, site, &t, e->logged_us);
        b->ntk++;
    }
    return 0;
}

/* Reads up to SHIP_BATCH log entries, oldest first, into B. Returns 0, or
 * -1 with the reason in ERR. */
static int batch_read(struct shipper *sh, struct batch *b, char *err,
                      size_t errlen)
{
    struct store *st = sh->st;
    MDB_txn *txn;
    MDB_cursor *cur;
    if (store_read_begin(st, &txn) != 0) {
        snprintf(err, errlen, "cannot read the shipping log");
        return -1;
    }
    int rc = mdb_cursor_open(txn, st->ship_dbi, &cur);
    bool open = rc == 0;
    MDB_val k, v;
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && b->entries < SHIP_BATCH) {
        struct ship_entry e;
        if (!ship_read(&k, &v, &e)) {
            rc = MDB_CORRUPTED;
            break;
        }
        if ((rc = entry_row(sh, txn, &e, b)) != 0)
            break;
        b->entries++;
        b->last_seq = e.seq;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (open)
        mdb_cursor_close(cur);
    store_read_end(st, txn);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return set_err(err, errlen, "shipping log", rc);
    return 0;
}

/* Deletes the log entries up to *LAST and records it as shipped. */
static int ack_txn(struct store *st, MDB_txn *txn, void *ctx)
{
    uint64_t last = *(const uint64_t *)ctx, seq;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, st->ship_dbi, &cur);
    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
           u64_read(&k, &seq) && seq <= last)
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    uint8_t b[U64_REC_LEN];
    u64_pack(b, last);
    MDB_val mk = { sizeof SHIP_DONE_KEY - 1, SHIP_DONE_KEY }, mv = { sizeof b, b };
    return mdb_put(txn, st->dbi[DB_META], &mk, &mv, 0);
}

/* Sends the rows of B: events, then tickets. Returns 0 when ClickHouse
 * acknowledged both, else -1 with the reason in ERR. */
static int batch_send(struct shipper *sh, struct batch *b, char *err,
                      size_t errlen)
{
    char q[160];
    struct { struct json *j; size_t n; const char *table; } part[2] = {
        { &b->ev, b->nev, "events" }, { &b->tk, b->ntk, "tickets" }
    };
    for (int i = 0; i < 2; i++) {
        if (part[i].n == 0)
            continue;
        size_t len;
        char *body = json_finish(part[i].j, &len);
        if (body == NULL) {
            snprintf(err, errlen, "a batch of %zu rows passed %zu bytes",
                     part[i].n, SHIP_BODY_MAX);
            return -1;
        }
        snprintf(q, sizeof q, "INSERT INTO %s.%s FORMAT JSONEachRow", sh->db,
                 part[i].table);
        int rc = ch_post(sh, q, body, len, NULL, err, errlen);
        free(body);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Ships one batch. Returns the entries shipped (0: the log is empty), or
 * -1 with the reason in ERR. */
static long ship_once(struct shipper *sh, char *err, size_t errlen)
{
    if (!sh->schema_ok) {
        if (ch_schema(sh, err, errlen) != 0)
            return -1;
        sh->schema_ok = true;
    }
    struct batch b = { .nev = 0 };
    json_init(&b.ev, SHIP_BODY_MAX);
    json_init(&b.tk, SHIP_BODY_MAX);
    int rc = batch_read(sh, &b, err, errlen);
    if (rc == 0 && b.entries > 0)
        rc = batch_send(sh, &b, err, errlen);
    json_free(&b.ev);
    json_free(&b.tk);
    if (rc != 0)
        return -1;
    if (b.entries == 0)
        return 0;
    rc = store_write(sh->st, ack_txn, &b.last_seq);
    if (rc != 0) {
        set_err(err, errlen, "recording what was shipped", rc);
        return -1;
    }
    pthread_mutex_lock(&sh->mu);
    sh->events += b.nev + b.ntk;
    sh->batches_ok++;
    sh->last_success_us = store_now_us();
    pthread_mutex_unlock(&sh->mu);
    return (long)b.entries;
}

/* Sleeps MS milliseconds or until stopped; true when stopped. */
static bool ship_sleep(struct shipper *sh, unsigned ms)
{
    struct timespec until = time_deadline_ms(ms);
    pthread_mutex_lock(&sh->mu);
    while (!sh->stop)
        if (pthread_cond_timedwait(&sh->wake, &sh->mu, &until) == ETIMEDOUT)
            break;
    bool stop = sh->stop;
    pthread_mutex_unlock(&sh->mu);
    return stop;
}

/* The thread: a batch whenever SHIP_BATCH entries wait, else once a
 * second; after a failure, again after a doubling wait (0.5 s to 30 s). */
static void *ship_main(void *arg)
{
    struct shipper *sh = arg;
    unsigned backoff = 0;
    char err[512];
    for (;;) {
        long n = ship_once(sh, err, sizeof err);
        if (n < 0) {
            pthread_mutex_lock(&sh->mu);
            sh->batches_failed++;
            pthread_mutex_unlock(&sh->mu);
            backoff = backoff ? backoff * 2 : SHIP_BACKOFF_MIN_MS;
            if (backoff > SHIP_BACKOFF_MAX_MS)
                backoff = SHIP_BACKOFF_MAX_MS;
            if (strcmp(err, sh->last_err) != 0)
                log_warn("ship: %s; retrying (the backlog stays in the "
                         "store)", err);
            snprintf(sh->last_err, sizeof sh->last_err, "%s", err);
            sh->schema_ok = false;
            if (ship_sleep(sh, backoff))
                break;
            continue;
        }
        if (sh->last_err[0]) {
            log_info("ship: shipping again to %s", sh->db);
            sh->last_err[0] = '\0';
        }
        backoff = 0;
        if (n < SHIP_BATCH && ship_sleep(sh, SHIP_EVERY_MS))
            break;
        pthread_mutex_lock(&sh->mu);
        bool stop = sh->stop;
        pthread_mutex_unlock(&sh->mu);
        if (stop)
            break;
    }
    return NULL;
}

/* --- starting and stopping ------------------------------------------------- */

static bool node_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > STORE_SHIP_NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return false;
    return true;
}

/* Reads TARGET ("clickhouse=URL") into SH's url and db. Returns 0, or -1
 * with the reason in ERR. */
static int parse_target(struct shipper *sh, const char *target, char *err,
                        size_t errlen)
{
    static const char pre[] = "clickhouse=";
    if (strncmp(target, pre, sizeof pre - 1) != 0) {
        snprintf(err, errlen, "--ship: expected clickhouse=http://HOST:PORT/DB"
                 ", not \"%s\"", target);
        return -1;
    }
    const char *url = target + sizeof pre - 1;
    const char *host = strstr(url, "://");
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        || host == NULL || host[3] == '\0' || host[3] == '/') {
        snprintf(err, errlen, "--ship: \"%s\" is not an http:// or https:// "
                 "URL", url);
        return -1;
    }
    const char *slash = strchr(host + 3, '/');
    size_t baselen = slash ? (size_t)(slash - url) : strlen(url);
    const char *db = slash ? slash + 1 : "";
    size_t dblen = strcspn(db, "/?#");
    if (dblen == 0) {
        db = "dwell";
        dblen = 5;
    }
    if (baselen + 2 > sizeof sh->url || dblen >= sizeof sh->db ||
        (db[dblen] != '\0' && strcmp(db + dblen, "/") != 0)) {
        snprintf(err, errlen, "--ship: \"%s\": expected http://HOST:PORT/DB "
                 "(no query, no deeper path)", url);
        return -1;
    }
    snprintf(sh->url, sizeof sh->url, "%.*s/", (int)baselen, url);
    snprintf(sh->db, sizeof sh->db, "%.*s", (int)dblen, db);
    if (!store_ship_db_valid(sh->db)) {
        snprintf(err, errlen, "--ship: \"%s\" is not a database name "
                 "(letters, digits, _)", sh->db);
        return -1;
    }
    return 0;
}

static void shipper_free(struct shipper *sh)
{
    if (sh == NULL)
        return;
    fetch_free(sh->fetch);
    pthread_mutex_destroy(&sh->mu);
    pthread_cond_destroy(&sh->wake);
    free(sh->sites);
    free(sh);
}

int store_ship_start(struct store *st, const char *target, const char *node,
                     char *err, size_t errlen)
{
    if (st->readonly || st->shipper != NULL) {
        snprintf(err, errlen, "shipping needs a writable store, once");
        return -1;
    }
    if (!node_valid(node)) {
        snprintf(err, errlen, "--node: \"%s\": 1-%d of letters, digits, "
                 "'.', '_', '-'", node, STORE_SHIP_NODE_MAX);
        return -1;
    }
    struct shipper *sh = calloc(1, sizeof *sh);
    if (sh == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sh->st = st;
    pthread_mutex_init(&sh->mu, NULL);
    snprintf(sh->node, sizeof sh->node, "%s", node);
    if (time_cond_init_monotonic(&sh->wake) != 0) {
        snprintf(err, errlen, "shipping thread: no monotonic clock");
        pthread_mutex_destroy(&sh->mu);
        free(sh);
        return -1;
    }
    if (parse_target(sh, target, err, errlen) != 0 ||
        ship_fill(st, err, errlen) != 0) {
        shipper_free(sh);
        return -1;
    }
    sh->fetch = fetch_new(SHIP_TIMEOUT_MS);
    int rc = sh->fetch ? pthread_create(&sh->thread, NULL, ship_main, sh)
                       : ENOMEM;
    if (rc != 0) {
        snprintf(err, errlen, "shipping thread: %s", strerror(rc));
        shipper_free(sh);
        return -1;
    }
    sh->running = true;
    st->shipper = sh;
    log_info("ship: shipping to ClickHouse database %s at %s as node %s",
             sh->db, sh->url, sh->node);
    return 0;
}

void store_ship_stop(struct store *st)
{
    struct shipper *sh = st ? st->shipper : NULL;
    if (sh == NULL)
        return;
    pthread_mutex_lock(&sh->mu);
    sh->stop = true;
    pthread_cond_signal(&sh->wake);
    pthread_mutex_unlock(&sh->mu);
    if (sh->running)
        pthread_join(sh->thread, NULL);
    st->shipper = NULL;
    shipper_free(sh);
}

void store_ship_get_stats(struct store *st, struct store_ship_stats *out)
{
    *out = (struct store_ship_stats){ 0 };
    struct shipper *sh = st->shipper;
    if (sh == NULL)
        return;
    out->on = true;
    pthread_mutex_lock(&sh->mu);
    out->events = sh->events;
    out->batches_ok = sh->batches_ok;
    out->batches_failed = sh->batches_failed;
    out->last_success_us = sh->last_success_us;
    pthread_mutex_unlock(&sh->mu);
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_stat ms;
    if (store_read_begin(st, &txn) != 0)
        return;
    if (mdb_stat(txn, st->ship_dbi, &ms) == 0)
        out->backlog = ms.ms_entries;
    MDB_val k, v;
    struct ship_entry e;
    if (mdb_cursor_open(txn, st->ship_dbi, &cur) == 0) {
        uint64_t now = store_now_us();
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 &&
            ship_read(&k, &v, &e) && now > e.logged_us)
            out->lag_s = (double)(now - e.logged_us) / 1e6;
        mdb_cursor_close(cur);
    }
    store_read_end(st, txn);
}
