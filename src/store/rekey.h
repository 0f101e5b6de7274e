/* rekey.h — schema 6 -> 7: the events keys moved from 12 to 8 bytes
 * (rekey.c), while the store opens. */
#ifndef DWELL_STORE_REKEY_H
#define DWELL_STORE_REKEY_H

#include "store/env.h"

/* meta "rekey": present while events keys of schema 6 (time_us(8)
 * seq(4)) remain, to be moved to the current layout (codec.h). */
#define REKEY_META "rekey"

/* Brings a schema 6 environment to schema 7 inside TXN: marks every events
 * key for moving to the current layout (store_rekey_events does it, in
 * bounded transactions). Returns 0 or an LMDB error. */
int store_migrate_v6(struct store *st, MDB_txn *txn);

/* Moves, while meta "rekey" is present, every events key of schema 6 to
 * the current layout (time order kept; an event keeps its time, or moves
 * by the microseconds that a crowded microsecond needs, within its day),
 * with the shipping log entries and fill position that name them,
 * REKEY_BATCH events a write transaction; counts them in *MOVED. Runs
 * while the store opens, before anything reads the events. Returns 0 or
 * an LMDB error. */
int store_rekey_events(struct store *st, size_t *moved);

#endif
