/* demo.h — synthetic help-center traffic for trying dwell out and for
 * tests: generated as JSON beacons and stored through the same parse and
 * queue path as live events, at past times. */
#ifndef DWELL_DEMO_H
#define DWELL_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "dwell/store.h"

/* Generates DAYS days of traffic ending today for site SITE (id SITE_ID),
 * the same for the same SEED, queues it on ST (whose writer must run) and
 * waits until it is stored. Sets *EVENTS to the number of events.
 * Returns 0, or -1. */
int demo_generate(struct store *st, uint32_t site_id, const char *site,
                  unsigned days, uint64_t seed, size_t *events);

#endif
