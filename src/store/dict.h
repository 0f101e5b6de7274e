/* dict.h — the store's dictionary (dict.c): the strings that repeat from
 * event to event (a page's path, title, category and language, a
 * referrer's host) and follow-ups' articles, each kept once per site and
 * field in "dict" and "dict_ids" (codec.h), so that an event record names
 * them by a small id (event.h, enum event_ref). An id never changes its
 * meaning; a site's entries go with the site. The writer keeps the ids it
 * has seen in memory, so that a repeated string costs no lookup. */
#ifndef DWELL_STORE_DICT_H
#define DWELL_STORE_DICT_H

#include <stdbool.h>
#include <stddef.h>

#include "store/env.h"

/* Gives EV's fields that repeat their dictionary ids in EV->ref (adding
 * the ones new to the store in write transaction TXN), so that
 * event_encode writes them by id. Fields too long for the dictionary stay
 * in full. Returns 0 or an LMDB error code. */
int dict_intern_event(struct store *st, MDB_txn *txn, struct event *ev);

/* Fills the fields EV names by dictionary id (event_decode leaves them
 * empty) from the dictionary as TXN sees it; the strings point into the
 * map and live as long as TXN. Returns 0; MDB_NOTFOUND when an id is not
 * in the dictionary (a damaged store); or another LMDB error code. */
int dict_resolve_event(struct store *st, MDB_txn *txn, struct event *ev);

/* Deletes up to MAX of SITE's dictionary records in TXN, counted in
 * *DROPPED (fewer than MAX: none is left). Every process's cache of ids
 * forgets what it held at its next write transaction. Returns 0 or an
 * LMDB error code. */
int dict_drop_site(struct store *st, MDB_txn *txn, uint32_t site,
                   size_t max, size_t *dropped);

/* Frees the dictionary's memory (store_close). */
void dict_free(struct store *st);

#endif
