/* legend.h — what every metric of the reports means, declared once: the
 * report page shows these texts behind its ⓘ buttons (through the API's
 * legend report), and `dwell report --legend` prints them. The full
 * definitions and formulas are in docs/metrics.md, at each entry's anchor. */
#ifndef DWELL_LEGEND_H
#define DWELL_LEGEND_H

#include <stddef.h>

struct legend_entry {
    const char *key;          /* the page's and the API's name: "read_rate" */
    const char *label;        /* as the report shows it: "Read rate" */
    const char *text;         /* the definition, plain text, one paragraph */
    const char *doc;          /* where it is explained: "docs/metrics.md#…" */
};

/* Every entry, in the order the report shows them. */
extern const struct legend_entry legend_entries[];
extern const size_t legend_count;

/* The entry named KEY, or NULL. */
const struct legend_entry *legend_find(const char *key);

#endif
