/* ship.h — shipping to ClickHouse (ship.c): the committed-order log that
 * the writer and ticket writes append to, and the shipper thread that
 * sends it (store_ship_start of dwell/store.h).
 *
 * The log is the database "ship": seq(8) -> kind(1) logged_us(8) key,
 * kind 'e' with an events key (12 bytes), kind 't' with a tickets key
 * (site(4) ticket id). Sequence numbers only grow (meta "ship_done" keeps
 * the last one shipped once its entries are deleted); an entry is written
 * in the same transaction as its event or ticket, so the log holds every
 * committed change in commit order, whatever the events key's time. The
 * database exists only once shipping has been enabled on the store. */
#ifndef DWELL_STORE_SHIP_H
#define DWELL_STORE_SHIP_H

#include "store/env.h"

/* Opens the log in TXN (a write transaction of store_open) when the store
 * has one; else leaves st->ship_log false. Returns 0 or an LMDB error. */
int ship_log_open(struct store *st, MDB_txn *txn);

/* Reads the next sequence number in TXN; call at the start of a write
 * transaction that may append (when st->ship_log). Returns 0 or an LMDB
 * error. */
int ship_log_begin(struct store *st, MDB_txn *txn);

/* Appends an entry of KIND ('e', 't') for the N-byte KEY. Returns 0 or an
 * LMDB error. */
int ship_log_add(struct store *st, MDB_txn *txn, char kind, const void *key,
                 size_t n);

#endif
