/* demo.h — synthetic help-center traffic for trying dwell out and for
 * tests: generated as JSON beacons and stored through the same parse and
 * queue path as live events, at past times. */
#ifndef DWELL_DEMO_H
#define DWELL_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/store.h"

/* Generates DAYS days of traffic ending today for site SITE (id SITE_ID),
 * with tickets and the planted effects, the same for the same SEED, queues
 * it on ST (whose writer must run) and waits until it is stored. Sets
 * *EVENTS to the number of events. Returns 0, or -1. */
int demo_generate(struct store *st, uint32_t site_id, const char *site,
                  unsigned days, uint64_t seed, size_t *events);

struct demo_options {
    unsigned days;
    uint64_t seed;
    bool tickets;              /* also generate helpdesk tickets */
    bool effects;              /* plant the effects of docs/tickets.md
                                  ("Validation"); false: no effect at all */
};

/* Like demo_generate, with OPT; sets *TICKETS to the tickets stored. */
int demo_generate_ex(struct store *st, uint32_t site_id, const char *site,
                     const struct demo_options *opt, size_t *events,
                     size_t *tickets);

#endif
