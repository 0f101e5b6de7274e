/* migrate.h — bringing an environment of an older schema up to date
 * (migrate.c), inside store_open's write transaction. */
#ifndef DWELL_STORE_MIGRATE_H
#define DWELL_STORE_MIGRATE_H

#include "store/env.h"

/* Brings a schema 1 environment to the current layout inside TXN. Returns
 * 0 or an LMDB error. */
int store_migrate_v1(struct store *st, MDB_txn *txn);

#endif
