/* export.h — stored events rendered for people and other tools. */
#ifndef DWELL_EXPORT_H
#define DWELL_EXPORT_H

#include <stdio.h>

#include "dwell/event.h"

/* Writes EV as one line of NDJSON to OUT: time (ISO 8601 UTC), type, view,
 * path, engaged_ms, scroll, country, bot, and the fields of its type.
 * Returns 0, or -1 if it could not be written. */
int export_event_ndjson(const struct event *ev, FILE *out);

#endif
