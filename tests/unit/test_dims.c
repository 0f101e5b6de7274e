/* test_dims.c — breakdowns (daily_dim): a day's values in one breakdown
 * row while it fits and in rows of their own past that, every count right
 * either way; a schema 3 store (a row per value) gathered at its opening,
 * also after a cut, reporting the same; `dwell check` sound. Real LMDB. */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "rawlmdb.h"

#include "check.h"
#include "fixture.h"
#include "dwell/demo.h"
#include "dwell/store.h"
#include "store/codec.h"

static struct store *st;
static uint32_t site_id;
static char dir[128];

/* --- what the reports read --------------------------------------------- */

/* Every value and count store_dims_each gives, one "value=count" line each,
 * sorted: the breakdown as a report sees it. */
struct listing {
    char *text;
    size_t n, cap;
};

static int list_fn(void *ctx, const char *value, size_t len, uint64_t count)
{
    struct listing *l = ctx;
    char line[300];
    int n = snprintf(line, sizeof line, "%.*s=%llu\n", (int)len, value,
                     (unsigned long long)count);
    if (l->n + (size_t)n + 1 > l->cap) {
        l->cap = (l->n + (size_t)n + 1) * 2;
        l->text = realloc(l->text, l->cap);
        if (l->text == NULL)
            return -1;
    }
    memcpy(l->text + l->n, line, (size_t)n + 1);
    l->n += (size_t)n;
    return 0;
}

static int by_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The breakdown DIM of ARTICLE over FROM..TO as sorted lines, appended to
 * OUT (a malloc'd string, NULL at first). */
static void breakdown(struct store *s, uint64_t article, enum store_dim dim,
                      uint32_t from, uint32_t to, bool bots, char **out)
{
    struct listing l = { 0 };
    if (store_dims_each(s, site_id, article, dim, from, to, bots, list_fn,
                        &l) != 0 || l.text == NULL) {
        free(l.text);
        l.text = strdup("(none)\n");
        l.n = strlen(l.text);
    }
    char *lines[4096];
    size_t n = 0;
    for (char *p = strtok(l.text, "\n"); p && n < 4096; p = strtok(NULL, "\n"))
        lines[n++] = p;
    qsort(lines, n, sizeof *lines, by_line);
    size_t have = *out ? strlen(*out) : 0;
    *out = realloc(*out, have + l.n + n + 64);
    (*out)[have] = '\0';
    sprintf(*out + have, "[%c %llx %u..%u]\n", dim, (unsigned long long)article,
            from, to);
    for (size_t i = 0; i < n; i++) {
        strcat(*out, lines[i]);
        strcat(*out, "\n");
    }
    free(l.text);
}

/* Collects article ids into CTX (65 slots, the first kept for the site
 * row). */
static int ids_fn(void *ctx, const struct store_article *art)
{
    uint64_t *ids = ctx;
    for (int i = 1; i < 64; i++)
        if (ids[i] == 0) {
            ids[i] = art->id;
            return 0;
        }
    return 1;
}

/* Every breakdown reports show, over a few ranges, for the site row and
 * each article: one string. */
static char *every_breakdown(struct store *s)
{
    static const enum store_dim dims[] = {
        STORE_DIM_COUNTRY, STORE_DIM_REFERRER, STORE_DIM_SEARCH,
        STORE_DIM_SEARCH_ZERO, STORE_DIM_LED_HERE, STORE_DIM_EVENT };
    static const int ranges[][2] = { { 40, 0 }, { 20, 10 }, { 3, 3 } };
    uint64_t ids[65] = { 0 };
    size_t n = 1;
    char *out = NULL;
    uint32_t t = store_today();
    if (store_articles_each(s, site_id, ids_fn, ids) != 0)
        return NULL;
    while (n < 65 && ids[n])
        n++;
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
            for (size_t r = 0; r < 3; r++)
                breakdown(s, ids[i], dims[d], t - (uint32_t)ranges[r][0],
                          t - (uint32_t)ranges[r][1], r == 1, &out);
    return out;
}

/* store_check's verdict: 1 when sound. */
static void ignore_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("  check: %s\n", line);
}

static int sound(struct store *s)
{
    struct store_check_result r;
    if (store_check(s, 0, ignore_line, NULL, &r) != 0)
        return 0;
    return r.problems == 0 && r.differences == 0 && r.rows > 0;
}

/* --- the raw rows ---------------------------------------------------------- */

/* Opens the store in PATH for writing, with its daily_dim and meta
 * databases. Returns 0 or -1. */
static int raw_begin_dims(const char *path, MDB_env **env, MDB_txn **txn,
                          MDB_dbi *dim, MDB_dbi *meta)
{
    if (raw_begin(path, 0, env, txn) != 0)
        return -1;
    int rc = mdb_dbi_open(*txn, "daily_dim", 0, dim);
    if (rc == 0) rc = mdb_dbi_open(*txn, "meta", 0, meta);
    if (rc != 0) {
        mdb_txn_abort(*txn);
        mdb_env_close(*env);
    }
    return rc == 0 ? 0 : -1;
}

/* Counts the breakdown rows (*ROWS), the values with rows of their own
 * (*SINGLES), the largest breakdown row (*BIGGEST bytes) and the values
 * found in both places or in a row of their own although their breakdown
 * row has room for them (*TWICE) in the store in PATH. */
static int raw_count(const char *path, long *rows, long *singles,
                     long *biggest, long *twice)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dim, meta;
    MDB_cursor *cur;
    MDB_val k, v, row = { 0, NULL };
    uint8_t rowkey[DAILY_KEY_LEN];
    *rows = *singles = *biggest = *twice = 0;
    if (raw_begin_dims(path, &env, &txn, &dim, &meta) != 0 ||
        mdb_cursor_open(txn, dim, &cur) != 0)
        return -1;
    int c;
    for (c = mdb_cursor_get(cur, &k, &v, MDB_FIRST); c == 0;
         c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size == DAILY_KEY_LEN) {
            (*rows)++;
            if ((long)v.mv_size > *biggest)
                *biggest = (long)v.mv_size;
            row = v;
            memcpy(rowkey, k.mv_data, sizeof rowkey);
            continue;
        }
        (*singles)++;
        if (row.mv_data == NULL || memcmp(rowkey, k.mv_data, 17) != 0)
            continue;
        if (row.mv_size + DIM_ENTRY_MAX(k.mv_size - 18) <= DIM_ROW_MAX)
            (*twice)++;
        struct dim_entry e;
        size_t off = 0;
        const uint8_t *p = k.mv_data;
        while (dim_row_next(row.mv_data, row.mv_size, &off, &e) == 1)
            if (e.dim == p[17] && e.len == k.mv_size - 18 &&
                memcmp(e.value, p + 18, e.len) == 0)
                (*twice)++;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return c == MDB_NOTFOUND ? 0 : -1;
}

/* Turns daily_dim of the store in PATH back into schema 3's (a row per
 * value, its count in 4 bytes) with LMDB's own API; sets schema SCHEMA and,
 * with AT, meta "dimrows" = AT (17 bytes). Returns the rows spelled out, or
 * -1. */
static long explode(const char *path, uint32_t schema, const uint8_t *at)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dim, meta;
    MDB_cursor *cur;
    MDB_val k, v;
    long n = 0;
    if (raw_begin_dims(path, &env, &txn, &dim, &meta) != 0 ||
        mdb_cursor_open(txn, dim, &cur) != 0)
        return -1;
    int rc = 0, c = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && c == 0) {
        if (k.mv_size != DAILY_KEY_LEN) {
            c = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        uint8_t key[DAILY_KEY_LEN], row[DIM_ROW_CAP];
        size_t len = v.mv_size, off = 0;
        memcpy(key, k.mv_data, sizeof key);
        memcpy(row, v.mv_data, len);
        struct dim_entry e;
        rc = mdb_cursor_del(cur, 0);
        while (rc == 0 && dim_row_next(row, len, &off, &e) == 1) {
            uint8_t kb[DIM_KEY_LEN + DIM_VALUE_MAX], cb[4];
            memcpy(kb, key, sizeof key);
            kb[17] = (uint8_t)e.dim;
            memcpy(kb + 18, e.value, e.len);
            u32_pack(cb, e.count);
            MDB_val ek = { 18 + e.len, kb }, ev = { 4, cb };
            if ((rc = mdb_put(txn, dim, &ek, &ev, 0)) == 0)
                n++;
        }
        k = (MDB_val){ sizeof key, key };
        c = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    uint8_t ver[4] = { 0, 0, 0, (uint8_t)schema };
    MDB_val sk = { 6, "schema" }, sv = { 4, ver };
    MDB_val dk = { 7, "dimrows" }, dv = { DAILY_KEY_LEN, (void *)at };
    if (rc == 0) rc = mdb_put(txn, meta, &sk, &sv, 0);
    if (rc == 0 && at) rc = mdb_put(txn, meta, &dk, &dv, 0);
    mdb_cursor_close(cur);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 ? n : -1;
}

/* --- tests ------------------------------------------------------------------ */

/* Sends a view and a search for QUERY (RESULTS found) at noon DAYS_AGO. */
static int search(int days_ago, int i, const char *query, int results)
{
    char body[512];
    snprintf(body, sizeof body,
             "[{\"s\":\"dims.test\",\"t\":\"view\",\"v\":\"dimsview%04d\","
             "\"u\":\"/kb/many-searches\"},"
             "{\"s\":\"dims.test\",\"t\":\"search\",\"v\":\"dimsview%04d\","
             "\"q\":\"%s\",\"n\":%d,\"i\":1}]", i, i, query, results);
    return send_at(st, site_id, store_today() - (uint32_t)days_ago,
                   43200 + i, "203.0.113.5", "UA", NULL, body);
}

TEST(a_day_of_many_values_keeps_every_count_in_its_row_and_its_own_rows)
{
    char q[64], want[8192] = "", *got = NULL;
    char *lines[100];
    size_t n = 0;
    for (int i = 0; i < 80; i++) {
        snprintf(q, sizeof q, "how do i change setting number %02d", i);
        CHECK_EQ_INT(search(1, i, q, 3), 0);
    }
    for (int i = 0; i < 80; i += 8) {     /* again: early and late ones */
        snprintf(q, sizeof q, "how do i change setting number %02d", i);
        CHECK_EQ_INT(search(1, 100 + i, q, 3), 0);
    }
    CHECK_EQ_INT(store_drain(st, 10000), 0);
    static char buf[100][64];
    for (int i = 0; i < 80; i++) {
        snprintf(buf[i], sizeof buf[i], "how do i change setting number "
                 "%02d=%d", i, i % 8 == 0 ? 2 : 1);
        lines[n++] = buf[i];
    }
    qsort(lines, n, sizeof *lines, by_line);
    uint32_t t = store_today();
    sprintf(want, "[%c 0 %u..%u]\n", STORE_DIM_SEARCH, t - 1, t - 1);
    for (size_t i = 0; i < n; i++) {
        strcat(want, lines[i]);
        strcat(want, "\n");
    }
    breakdown(st, 0, STORE_DIM_SEARCH, t - 1, t - 1, false, &got);
    if (got && strcmp(got, want) != 0)
        printf("  got:\n%.400s  want:\n%.400s", got, want);
    CHECK(got != NULL && strcmp(got, want) == 0);
    free(got);
    CHECK(sound(st));
    store_close(st);
    st = NULL;
    long rows, singles, biggest, twice;
    CHECK_EQ_INT(raw_count(dir, &rows, &singles, &biggest, &twice), 0);
    CHECK(singles > 0);                 /* the row filled up */
    CHECK(rows > 0);
    CHECK(biggest <= DIM_ROW_MAX);
    CHECK(biggest > DIM_ROW_MAX - DIM_ENTRY_MAX(40));
    CHECK_EQ_INT(twice, 0);
    st = open_writing("dims", STORE_NONE, false);
    CHECK(st != NULL);
}

TEST(a_schema_3_store_gathers_its_breakdowns_even_when_cut_and_reads_the_same)
{
    size_t events;
    char err[256];
    long rows, singles, biggest, twice, rows4, singles4;
    CHECK_EQ_INT(demo_generate(st, site_id, "dims.test", 40, 5, &events), 0);
    CHECK(events > 1000);
    CHECK_EQ_INT(store_settle(st), 0);
    char *before = every_breakdown(st);
    CHECK(before != NULL && strlen(before) > 10000);
    store_close(st);
    st = NULL;
    CHECK_EQ_INT(raw_count(dir, &rows4, &singles4, &biggest, &twice), 0);
    CHECK_EQ_INT(twice, 0);
    /* cut: the days before the site's first article gathered again */
    uint8_t at[DAILY_KEY_LEN];
    daily_key(at, site_id, (uint64_t)1 << 63, 0, 0);
    long spelled = explode(dir, 4, at);
    CHECK(spelled > 2 * rows4);
    struct store_options rw = { .durability = STORE_NONE };
    CHECK_EQ_INT(store_open(dir, &rw, &st, err, sizeof err), 0);
    char *mixed = every_breakdown(st);
    CHECK(mixed != NULL && before != NULL && strcmp(mixed, before) == 0);
    CHECK(sound(st));
    store_close(st);
    st = NULL;
    CHECK_EQ_INT(raw_count(dir, &rows, &singles, &biggest, &twice), 0);
    CHECK(rows > 0 && rows < rows4);    /* only past the cut */
    CHECK(singles > singles4);
    /* whole: from schema 3 */
    CHECK(explode(dir, 3, NULL) > 0);   /* the rows past the cut */
    CHECK_EQ_INT(store_open(dir, &rw, &st, err, sizeof err), 0);
    char *after = every_breakdown(st);
    CHECK(after != NULL && before != NULL && strcmp(after, before) == 0);
    CHECK(sound(st));
    store_close(st);
    st = NULL;
    CHECK_EQ_INT(raw_count(dir, &rows, &singles, &biggest, &twice), 0);
    CHECK_EQ_INT(rows, rows4);          /* a row for each day and class */
    CHECK(singles > 0);                 /* (its own order: other singles) */
    CHECK_EQ_INT(twice, 0);
    free(before);
    free(mixed);
    free(after);
    st = open_writing("dims", STORE_NONE, false);
    CHECK(st != NULL);
}

int main(void)
{
    if (fixture_begin("dims") != 0)
        return 1;
    data_dir(dir, sizeof dir, "dims");
    st = open_writing("dims", STORE_NONE, false);
    if (st == NULL || (site_id = add_site(st, "dims.test")) == 0)
        return 1;
    RUN(a_day_of_many_values_keeps_every_count_in_its_row_and_its_own_rows);
    RUN(a_schema_3_store_gathers_its_breakdowns_even_when_cut_and_reads_the_same);
    if (st)
        store_close(st);
    int rc = check_summary();
    fixture_end();
    return rc;
}
