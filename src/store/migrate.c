/* migrate.c — see migrate.h. */
#define _POSIX_C_SOURCE 200809L
#include "store/migrate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dwell/rollup.h"
#include "store/codec.h"
#include "store/rollups.h"

/* Schema 1 kept the rows of unsettled days in "daily" and had no heads:
 * moves those rows to "recent" and writes every head from the cum rows. */
int store_migrate_v1(struct store *st, MDB_txn *txn)
{
    uint32_t final, settling;
    MDB_cursor *cur;
    int rc = store_settled_days(st, txn, &final, &settling);
    if (rc == 0)
        rc = mdb_cursor_open(txn, st->dbi[DB_DAILY], &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size == 17 &&
            key_day(k.mv_data) > final) {
            uint8_t kb[DAILY_KEY_LEN], buf[ROLLUP_RECORD_MAX];
            if (v.mv_size > sizeof buf) {
                rc = MDB_CORRUPTED;
                break;
            }
            memcpy(kb, k.mv_data, 17);
            memcpy(buf, v.mv_data, v.mv_size);
            MDB_val rk = { 17, kb }, rv = { v.mv_size, buf };
            if ((rc = mdb_cursor_del(cur, 0)) != 0 ||
                (rc = mdb_put(txn, st->dbi[DB_RECENT], &rk, &rv, 0)) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    /* heads: the last cum row of each (article, class), and the first day */
    MDB_cursor *probe = NULL;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_CUM], &cur)) != 0)
        return rc;
    struct rollup_day *sum = malloc(sizeof *sum);
    rc = sum ? mdb_cursor_open(txn, st->dbi[DB_CUM], &probe) : ENOMEM;
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size == 17) {
        uint32_t site = key_site(k.mv_data);
        uint64_t a = key_article(k.mv_data);
        for (int cls = 0; cls <= 1 && rc == 0; cls++) {
            uint32_t first = 0, last;
            memset(sum, 0, sizeof *sum);
            rc = cum_merge_at(probe, site, a, cls, UINT32_MAX - 1, sum, 1,
                              &last);
            if (rc == 0 && last != UINT32_MAX &&
                (rc = cum_first_day(probe, site, a, cls, &first)) == 0)
                rc = head_put(st, txn, site, a, cls, first, last, sum);
        }
        uint8_t kb[DAILY_KEY_LEN];
        if (a == UINT64_MAX && site == UINT32_MAX)
            break;
        k.mv_size = a == UINT64_MAX ? daily_key(kb, site + 1, 0, 0, 0)
                                    : daily_key(kb, site, a + 1, 0, 0);
        k.mv_data = kb;
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    if (probe)
        mdb_cursor_close(probe);
    free(sum);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
