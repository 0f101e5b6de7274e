/* chsource.h — reports answered from ClickHouse: a report source
 * (source.h) that computes, in SQL over the shipped raw events
 * (`events`, schema version 1: dwell clickhouse schema; aggregated so that
 * a row stored twice counts once, FINAL only for small lookups), exactly the
 * records the local store's writer keeps — articles, daily rollups with
 * the engaged-time histogram, breakdowns, tickets, links, identities and
 * visits — over every node's data. Definitions: docs/scale-out.md,
 * "Reports". Talks HTTP through base/fetch.h. */
#ifndef DWELL_CHSOURCE_H
#define DWELL_CHSOURCE_H

#include <stddef.h>

#include "dwell/source.h"

struct chsource;               /* a server and database; any thread */

/* Parses SPEC, "clickhouse=http://HOST:PORT/DB" or just the URL (https,
 * user:password@ allowed; DB: letters, digits, _), into *OUT, freed with
 * chsource_close. Connects to nothing yet. Returns 0, or -1 with a reason
 * in ERR. */
int chsource_open(const char *spec, struct chsource **out, char *err,
                  size_t errlen);

void chsource_close(struct chsource *cs);

/* A source over CS for site SITE (copied), for one thread, into *OUT;
 * release it with chsource_end. Returns 0, or -1 when out of memory. */
int chsource_begin(struct chsource *cs, const char *site,
                   struct report_source *out);

void chsource_end(struct report_source *src);

/* Asks the server one trivial question. Returns 0, or -1 with the reason
 * in ERR. */
int chsource_ping(struct chsource *cs, char *err, size_t errlen);

#endif
