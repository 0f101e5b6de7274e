/* query.h — the one table of report kinds and their parameters. The HTTP
 * API (GET /api/v1/sites/SITE/KIND?…) and the command line (dwell report,
 * dwell correlate) both read their parameters through query_parse, so they
 * accept the same names, defaults and bounds and give the same reasons for
 * refusing a value; both run a parsed query with query_run, so they answer
 * the same text. The CLI's help and docs tables are printed from
 * query_params. Knows neither HTTP nor argv. */
#ifndef DWELL_QUERY_H
#define DWELL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/correlate.h"
#include "dwell/render.h"
#include "dwell/report.h"
#include "dwell/store.h"

#define QUERY_MAX_LIMIT 1000
#define QUERY_MAX_OFFSET 100000000
#define QUERY_MAX_TOPICS 32

enum query_kind {
    QUERY_SUMMARY, QUERY_ARTICLES, QUERY_ARTICLE, QUERY_SEARCHES,
    QUERY_CONTACT_AFTER_READ, QUERY_TOPICS, QUERY_GAPS, QUERY_TICKET_READS,
    QUERY_LEGEND,
    QUERY_CORRELATION,         /* CLI only: the three ticket parts at once */
    QUERY_KINDS
};

/* Which command line command a parameter belongs to (a mask). */
enum { QUERY_CLI_REPORT = 1, QUERY_CLI_CORRELATE = 2 };

struct query;

/* One parameter, declared once for the API and the CLI. */
struct query_param {
    const char *name;          /* the API's query parameter */
    const char *flag;          /* the CLI's --FLAG (without dashes) */
    const char *metavar;       /* the CLI's value name; NULL: a switch,
                                  which stands for NAME=1 */
    const char *def;           /* the default, as shown in help */
    const char *help;          /* one line for help and docs */
    unsigned cli;              /* QUERY_CLI_* commands that take it */
    bool repeat;               /* the CLI flag may repeat; the values are
                                  joined by commas */
    /* Sets Q from the value V; returns 0, or -1 with WHY (CAP bytes) set.
     * NULL for from, to and days, which are decided together. */
    int (*parse)(struct query *q, const char *v, char *why, size_t cap);
};

/* Every parameter, ending with a NULL name. */
extern const struct query_param query_params[];

/* One kind of report. */
struct query_kind_def {
    const char *name;          /* the API path's last part; NULL: CLI only */
    const char *alias;         /* an older name, or NULL */
    uint32_t default_days;     /* the range without from, to and days */
    const char *help;
};

extern const struct query_kind_def query_kinds[QUERY_KINDS];

/* A parsed query: everything a kind needs to run. */
struct query {
    enum query_kind kind;
    const char *site;          /* the site's name (not copied) */
    struct report_query q;     /* site_id is the caller's to set */
    struct report_range range;
    const char *sort;          /* one of report_sort_keys */
    bool descending;
    size_t limit, offset;
    uint64_t article;          /* QUERY_ARTICLE: the article's id */
    const char *ticket;        /* QUERY_TICKET_READS: the ticket's id */
    const char *window;        /* the attribution window as given */
    uint64_t window_us;
    struct correlate_map map[QUERY_MAX_TOPICS];
    size_t nmap;
};

/* How a front end hands over a parameter: the value of NAME (a
 * query_params name), or NULL when not given. */
typedef const char *(*query_arg_fn)(void *ctx, const char *name);

/* The kind whose name or alias is NAME, or -1. */
int query_kind_of(const char *name);

/* Reads every parameter of query_params through ARG (absent ones take
 * their defaults) into OUT for KIND on SITE (OUT->q.site_id is left 0).
 * Returns 0, or -1 with *PARAM the API name of the refused parameter and
 * WHY (CAP bytes) the reason, e.g. "must be 1–1000". */
int query_parse(enum query_kind kind, const char *site, query_arg_fn arg,
                void *ctx, struct query *out, const char **param, char *why,
                size_t cap);

/* What query_run found. */
enum query_status {
    QUERY_OK = 0,
    QUERY_NOT_FOUND = 1,       /* no such article or ticket on the site */
    QUERY_STORAGE = -1,        /* the store failed */
    QUERY_NO_MEMORY = -2,
    QUERY_UNAVAILABLE = -3     /* the source (ClickHouse) failed or could
                                  not be reached: report_source_error says
                                  why */
};

/* Runs Q on ST and renders it as F into *TEXT (a new string the caller
 * frees; NULL unless QUERY_OK). */
enum query_status query_run(struct store *st, const struct query *q,
                            enum render_format f, char **text);

struct report_source;          /* source.h */

/* query_run reading from SRC (source.h: the store, or ClickHouse). Never
 * renders a partial report: any failed read fails the run. */
enum query_status query_run_from(const struct report_source *src,
                                 const struct query *q, enum render_format f,
                                 char **text);

#endif
