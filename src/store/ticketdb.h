/* ticketdb.h — tickets and the attribution indexes (ticketdb.c):
 * store_tickets_put/each, store_ticket_get, store_link_get,
 * store_identity_each and store_visits_each of dwell/store.h. Nothing
 * else: no store file calls up into it. */
#ifndef DWELL_STORE_TICKETDB_H
#define DWELL_STORE_TICKETDB_H

#include "store/env.h"

#endif
