/* migrate.h — bringing an environment of an older schema up to date
 * (migrate.c), inside store_open's write transaction. */
#ifndef DWELL_STORE_MIGRATE_H
#define DWELL_STORE_MIGRATE_H

#include "store/env.h"

/* Brings a schema 1 environment to the current layout inside TXN. Returns
 * 0 or an LMDB error. */
int store_migrate_v1(struct store *st, MDB_txn *txn);

/* meta "recode": while event records of an older record version are being
 * rewritten (schema 2 -> 3, 4 -> 5), the events key the rewrite resumes
 * after (0 bytes: from the first). */
#define RECODE_META "recode"

/* Brings a schema 2 environment to schema 3 inside TXN: marks every event
 * record for rewriting (store_recode_events does it, in bounded
 * transactions). Returns 0 or an LMDB error. */
int store_migrate_v2(struct store *st, MDB_txn *txn);

/* Brings a schema 4 environment to schema 5 inside TXN: marks every event
 * record for rewriting with its repeated strings in the dictionary
 * (store/dict.h), as store_migrate_v2 does. Returns 0 or an LMDB error. */
int store_migrate_v4(struct store *st, MDB_txn *txn);

/* Brings a schema 5 environment to schema 6 inside TXN: the cum rows move
 * from "cum" to "daily" (CUM_CLASS), rebuilt there by the settling passes
 * from every article's marks in "dirty". Returns 0 or an LMDB error. */
int store_migrate_v5(struct store *st, MDB_txn *txn);

/* Rewrites the event records still in an older record version in the
 * current one, RECODE_BATCH a write transaction, from where an earlier
 * (interrupted) run stopped, while meta "recode" is present; counts them
 * in *REWRITTEN. Returns 0 or an LMDB error. Readers meanwhile decode
 * either version. */
int store_recode_events(struct store *st, size_t *rewritten);

/* meta "thin": while the cum rows of schema 3 (one per day) are being
 * thinned to one per stride (schema 3 -> 4, see CUM_STRIDE), where the
 * thinning resumes: site(4) article(8), or 0 bytes: from the first. */
#define THIN_META "thin"
#define THIN_AT_LEN 12

/* meta "dimrows": while schema 3's breakdowns (a row per value) are being
 * gathered into breakdown rows (a row per day and class, see codec.h),
 * where the gathering resumes: a daily key, or 0 bytes: from the first. */
#define DIMROWS_META "dimrows"

/* Brings a schema 3 environment to schema 4 inside TXN: marks the cum rows
 * for thinning and the breakdowns for gathering (store_thin_cum and
 * store_gather_dims do it, in bounded transactions). Returns 0 or an LMDB
 * error. */
int store_migrate_v3(struct store *st, MDB_txn *txn);

/* Gathers, while meta "dimrows" is present, the breakdowns with rows of
 * their own into the breakdown row of their day and class as far as they
 * fit, DIMROWS_BATCH rows looked at a write transaction, from where an
 * earlier (interrupted) run stopped; counts the rows gathered in
 * *GATHERED. Returns 0 or an LMDB error. Readers read both forms. */
int store_gather_dims(struct store *st, size_t *gathered);

/* Deletes, while meta "thin" is present, every cum row but the last of its
 * stride of each article and class, THIN_BATCH rows looked at a write
 * transaction, from where an earlier (interrupted) run stopped; counts the
 * rows deleted in *DROPPED. Returns 0 or an LMDB error. Readers meanwhile
 * read either layout: a sum is a cum row plus the daily rows after it. */
int store_thin_cum(struct store *st, size_t *dropped);

#endif
