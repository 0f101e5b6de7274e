/* events.h — reading raw event records back (events.c): decoded, with the
 * fields they give by dictionary id filled in; and store_events_each
 * (store.h). */
#ifndef DWELL_STORE_EVENTS_H
#define DWELL_STORE_EVENTS_H

#include "store/env.h"

/* Decodes the events record V, read in TXN, into EV, its fields given by
 * dictionary id filled from the dictionary (pointing into the map: valid
 * while TXN is). Returns 0, or -1 when the record is damaged or names an
 * id the dictionary lacks. */
int events_read(struct store *st, MDB_txn *txn, const MDB_val *v,
                struct event *ev);

/* Reads the last events key in TXN into *TIME_US and *SEQ; *CURRENT is
 * false when it is not of the current layout (a key of schema 6, left for
 * the rekeying). Returns 0, MDB_NOTFOUND when there is no event, or an
 * LMDB error. */
int events_last_key(struct store *st, MDB_txn *txn, bool *current,
                    uint64_t *time_us, uint32_t *seq);

#endif
