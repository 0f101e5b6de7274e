/* csv.h — an RFC 4180 CSV reader over the caller's bytes (it allocates
 * nothing: fields are raw spans, unquoted on demand into bounded buffers)
 * and a CSV field writer. */
#ifndef DWELL_CSV_H
#define DWELL_CSV_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* A reader: set P and E to the input and LINE to 1. */
struct csv {
    const char *p, *e;
    size_t line;                /* the line P is on */
};

struct csv_field {
    const char *p;              /* raw, quotes and all */
    size_t n;
};

/* Reads the next record. Returns 1, 0 at the end of the input, or -1 when
 * a quoted field is never closed. Fills F[0..MAX), sets *NF to the record's
 * field count (which may exceed MAX) and *START to its first line. Line
 * breaks are CRLF, LF or a lone CR, inside quotes too. */
int csv_next(struct csv *c, struct csv_field *f, size_t max, size_t *nf,
             size_t *start);

/* Unquotes F into BUF (CAP > 0 bytes, NUL-terminated). Returns the length;
 * sets *CUT when it did not fit (BUF then holds the start). */
size_t csv_value(struct csv_field f, char *buf, size_t cap, bool *cut);

/* True when the record F[0..NF) is a blank line (one field of blanks). */
bool csv_blank_record(const struct csv_field *f, size_t nf);

/* Appends S to B as one CSV field: quoted when it holds ',', '"', CR or
 * LF, and with a leading apostrophe (inside quotes) when a spreadsheet
 * would take it for a formula ('=', '+', '-', '@' first). */
void csv_put_field(struct buf *b, const char *s);

#endif
