/* export.h — stored events and tickets rendered for people and other
 * tools: `dwell events` (NDJSON of recent events) and `dwell export` (every
 * record of a site in the versioned schema of docs/export.md, NDJSON or
 * CSV, streamed: memory stays the same whatever the site's size). */
#ifndef DWELL_EXPORT_H
#define DWELL_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dwell/event.h"
#include "dwell/store.h"

/* Writes EV as one line of NDJSON to OUT: time (ISO 8601 UTC), type, view,
 * path, engaged_ms, scroll, country, visitor (16 hex digits), bot, and the
 * fields of its type.
 * Returns 0, or -1 if it could not be written. */
int export_event_ndjson(const struct event *ev, FILE *out);

/* The version of the export schema every record carries ("v"). Bumped when
 * a field is removed or renamed, or its type or meaning changes; adding a
 * field, or a type of record, does not bump it (docs/export.md). */
#define EXPORT_SCHEMA_VERSION 1

enum export_format { EXPORT_NDJSON, EXPORT_CSV };

/* Record types, as bits of export_options.types: 1 << enum event_type for
 * the events, EXPORT_TICKETS for tickets. */
#define EXPORT_TICKETS (1u << 8)
#define EXPORT_EVENTS  (0xFEu)                  /* every event type */
#define EXPORT_ALL     (EXPORT_EVENTS | EXPORT_TICKETS)

struct export_options {
    enum export_format format;
    uint32_t site_id;
    const char *site;          /* its name, written in every record */
    uint64_t from_us, to_us;   /* records in [FROM_US, TO_US) */
    unsigned types;            /* EXPORT_* bits */
};

struct export_result {
    size_t events, tickets;    /* records written */
};

/* Called now and then with the records written so far. */
typedef void (*export_progress_fn)(void *ctx, size_t written);

/* Parses a --type value: "all", or type names (view, engage, vote, search,
 * link, identify, event, ticket) separated by commas. Returns 0 and sets
 * *OUT, or -1. */
int export_types_of(const char *s, unsigned *out);

/* The CSV header row (every field of the schema, CRLF-terminated). */
const char *export_csv_header(void);

/* Writes the records of O's site and types in O's range to OUT: the events
 * oldest first (read in transactions of at most 10,000 records each), then
 * the tickets by creation time; CSV after its header row. One record is in
 * memory at a time, with a cache of 256 articles. PROGRESS (may be NULL)
 * gets CTX. Returns 0 and fills RES, or -1 when writing or reading failed
 * (RES counts what was written). */
int export_site(struct store *st, const struct export_options *o, FILE *out,
                export_progress_fn progress, void *ctx,
                struct export_result *res);

#endif
