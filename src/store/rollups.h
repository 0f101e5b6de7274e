/* rollups.h — reading and settling rollups (rollups.c); what apply.c and
 * migrate.c need of the daily, cum, heads and dirty databases. */
#ifndef DWELL_STORE_ROLLUPS_H
#define DWELL_STORE_ROLLUPS_H

#include "dwell/rollup.h"
#include "store/env.h"

/* The last settled day (meta "final") and the day a running settling pass
 * settles to (meta "settling"; FINAL itself when none runs), as TXN sees
 * them. Rows of days after *SETTLING are only ever in "recent". Returns 0
 * or an LMDB error. */
int store_settled_days(struct store *st, MDB_txn *txn, uint32_t *final,
                       uint32_t *settling);

/* Cum rows are kept every CUM_STRIDE days: for each stride of days
 * (day / CUM_STRIDE) that has daily rows of an article and class, one cum
 * row on the last of them. The sum through any settled day is the cum row
 * at or before it plus the daily rows after that row (at most
 * CUM_STRIDE - 1 of them). Schema 3 kept one on every such day. */
#define CUM_STRIDE 7

/* Where they are kept: see CUM_CLASS (codec.h). */

/* Notes that the cumulative rows of (SITE, ARTICLE, CLS) from DAY on no
 * longer hold: a settled day changed (imports, generated data, late
 * events). */
int store_mark_dirty(struct store *st, MDB_txn *txn, uint32_t site,
                     uint64_t article, int cls, uint32_t day);

/* Adds (SIGN 1) or subtracts (SIGN -1) to OUT the cum row of (SITE, A)
 * with class byte KCLS (CUM_CLASS of a class in "daily", the class itself
 * in schema 5's "cum") and the greatest day <= DAY, if any, and sets *AT
 * (if not NULL) to its day, or to UINT32_MAX when there is none. */
int cum_merge_at(MDB_cursor *cur, uint32_t site, uint64_t a, int kcls,
                 uint32_t day, struct rollup_day *out, int sign,
                 uint32_t *at);

/* Sets *FIRST to the day of the first row of (SITE, A) with class byte
 * CLS under CUR (on "daily": its first daily row of class CLS). Returns 0, MDB_NOTFOUND when there is none, or an LMDB
 * error. */
int cum_first_day(MDB_cursor *cur, uint32_t site, uint64_t a, int cls,
                  uint32_t *first);

/* Adds ADD to breakdown DIM = VALUE (LEN bytes, cut to DIM_VALUE_MAX) of
 * (SITE, ARTICLE, DAY, CLS) in daily_dim: in the breakdown row of that day
 * and class while it fits, else in a row of its own (see codec.h). Returns
 * 0 or an LMDB error. */
int store_dim_add(struct store *st, MDB_txn *txn, uint32_t site,
                  uint64_t article, uint32_t day, int cls, int dim,
                  const char *value, size_t len, uint32_t add);

/* Writes the head of (SITE, A, CLS), or deletes it when the article has no
 * cum rows of that class (SUM NULL). */
int head_put(struct store *st, MDB_txn *txn, uint32_t site, uint64_t a,
             int cls, uint32_t first, uint32_t last,
             const struct rollup_day *sum);

#endif
