/* render.h — reports as text: JSON for the API and the report page, CSV
 * for spreadsheets, and plain tables that fit an 80-column terminal.
 * Each function returns a new NUL-terminated string the caller frees, or
 * NULL when memory ran out or the text would be longer than
 * render_max_text: never a truncated text (the API answers 500). Text from
 * the data is escaped for its format (JSON strings; CSV quoting, with
 * formula-like cells made inert). JSON and CSV of a row kind come from one
 * table of columns: the CSV headers are the JSON keys. */
#ifndef DWELL_RENDER_H
#define DWELL_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "dwell/report.h"

enum render_format { RENDER_JSON, RENDER_CSV, RENDER_TABLE };

/* The longest text a render function answers, in bytes: 64 MiB. Tests
 * lower it; nothing else writes it. */
extern size_t render_max_text;

/* What every report is about. */
struct render_scope {
    const char *site;
    const struct report_query *q;
    const struct report_range *range;   /* how the dates were decided, or
                                           NULL: JSON gets no "range" */
};

char *render_summary(const struct render_scope *sc,
                     const struct report_summary *s, enum render_format f);

/* Rows OFFSET .. OFFSET+LIMIT of L (already sorted by SORT). */
char *render_articles(const struct render_scope *sc,
                      const struct report_list *l, size_t offset,
                      size_t limit, const char *sort, bool descending,
                      enum render_format f);

char *render_article(const struct render_scope *sc,
                     const struct report_detail *d, enum render_format f);

char *render_searches(const struct render_scope *sc,
                      const struct report_counts *searches,
                      const struct report_counts *zero, enum render_format f);

/* What every metric means (legend.h): JSON {"metrics":[{key, label,
 * definition, doc}]}, CSV key,label,definition,doc, or a table of the
 * labels with their definitions wrapped to 80 columns. */
char *render_legend(enum render_format f);

#include "dwell/correlate.h"

enum render_part {
    RENDER_ALL,                /* CLI: everything */
    RENDER_DEFLECTION,         /* site numbers and per-article rates */
    RENDER_TOPICS,
    RENDER_GAPS
};

/* Tickets after reading: WINDOW is the attribution window as given
 * ("24h"). */
char *render_correlation(const struct render_scope *sc, const char *window,
                         const struct correlate_result *r,
                         enum render_part part, enum render_format f);

/* The articles one ticket's requester read before it. */
char *render_ticket_reads(const struct render_scope *sc, const char *ticket,
                          const char *window, bool linked,
                          const struct correlate_read *reads, size_t n,
                          const struct store_article *arts,
                          enum render_format f);

#endif
