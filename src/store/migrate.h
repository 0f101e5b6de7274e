/* migrate.h — bringing an environment of an older schema up to date
 * (migrate.c), inside store_open's write transaction. */
#ifndef DWELL_STORE_MIGRATE_H
#define DWELL_STORE_MIGRATE_H

#include "store/env.h"

/* Brings a schema 1 environment to the current layout inside TXN. Returns
 * 0 or an LMDB error. */
int store_migrate_v1(struct store *st, MDB_txn *txn);

/* meta "recode": while event records of an older record version are being
 * rewritten (schema 2 -> 3), the events key the rewrite resumes after (0
 * bytes: from the first). */
#define RECODE_META "recode"

/* Brings a schema 2 environment to schema 3 inside TXN: marks every event
 * record for rewriting (store_recode_events does it, in bounded
 * transactions). Returns 0 or an LMDB error. */
int store_migrate_v2(struct store *st, MDB_txn *txn);

/* Rewrites the event records still in an older record version in the
 * current one, RECODE_BATCH a write transaction, from where an earlier
 * (interrupted) run stopped, while meta "recode" is present; counts them
 * in *REWRITTEN. Returns 0 or an LMDB error. Readers meanwhile decode
 * either version. */
int store_recode_events(struct store *st, size_t *rewritten);

#endif
