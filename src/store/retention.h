/* retention.h — what retention.c offers apply.c's purge: deleting raw,
 * personal-ish records older than the retention horizon (store_options'
 * retention_days), in bounded steps, while the rollups stay. */
#ifndef DWELL_STORE_RETENTION_H
#define DWELL_STORE_RETENTION_H

#include "store/env.h"

/* The meta key of the first day whose raw events are all kept: days before
 * it may have lost some (dwell check does not recount them). A u32. */
#define RETAINED_KEY "retained"

/* The first day (UTC days since the epoch) retention keeps when TODAY is
 * today and ST keeps DAYS whole days before it; 0 when ST keeps
 * everything. */
uint32_t retention_first_day(const struct store *st, uint32_t today);

/* Starts a retention pass: its next step begins with the raw events. */
void retention_begin(struct store *st);

/* One step of the retention pass begun by retention_begin: in one write
 * transaction deletes at most RETAIN_CHUNK records (looking at no more
 * than RETAIN_WALK) of raw events, then tickets (with their ticket_times
 * rows), then links, older than retention_first_day, and raises meta
 * "retained" to that day; adds to *REMOVED. Does nothing when ST keeps
 * everything. Returns 1 if more remain, 0 when the pass is done, -1 on a
 * storage error (logged). */
int retention_step(struct store *st, uint32_t today, size_t *removed);

#endif
