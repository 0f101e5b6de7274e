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

/* What demo_run did. */
struct demo_result {
    size_t events, tickets;    /* written by this run */
    bool wrote;                /* false: refused, or nothing to write */
    bool refused;              /* the site holds data the demo would mix
                                  with; REASON says which */
    uint64_t seed;             /* the demo traffic the site holds now: its */
    uint32_t first_day, last_day;   /* seed and days (UTC, since epoch);
                                       first_day 0: none */
    char reason[320];          /* why refused, or why nothing written */
};

/* Told how far demo_run has got: DONE of TOTAL days generated. */
typedef void (*demo_progress_fn)(void *ctx, unsigned done, unsigned total);

/* dwell demo: generates DAYS days with SEED on site SITE (id SITE_ID) like
 * demo_generate, but only when that cannot mix demo traffic with other
 * data, and keeps a note on the site (seed, days, and a fingerprint of
 * what the site held afterwards: the site-wide rollup counters summed over
 * all days, bots included, and the number of tickets). Refuses (nothing
 * written) a site whose data does not match its note (or that has data
 * and no note), and a site holding the demo traffic of another seed;
 * FORCE writes anyway. With the seed of its note it writes nothing at all,
 * FORCE or not: a run repeated with the same seed changes nothing. ST's
 * writer must run. PROGRESS (NULL: none) is called with CTX after each day
 * generated.
 * Returns 0 (R says what happened), or -1 on a storage error. */
int demo_run(struct store *st, uint32_t site_id, const char *site,
             unsigned days, uint64_t seed, bool force,
             demo_progress_fn progress, void *ctx, struct demo_result *r);

#endif
