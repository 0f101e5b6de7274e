/* correlate.h — does reading help articles keep people from opening
 * tickets? Ties tickets to the readers behind them (link ids, identified
 * readers), and computes per article the contact rate after reading with a
 * Wilson interval, the site's self-service numbers, per topic the lagged
 * correlation of daily reads and tickets (prewhitened, Fisher-z interval,
 * Bonferroni-adjusted over topics and lags), and the searches most often followed
 * by a ticket. Definitions: docs/tickets.md. Knows neither HTTP nor JSON. */
#ifndef DWELL_CORRELATE_H
#define DWELL_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/stats.h"
#include "dwell/store.h"

#define CORRELATE_MAX_LAG 14
#define CORRELATE_MIN_DAYS 28      /* topics need this many days of data */

/* An article category mapped to a ticket tag (in addition to the default:
 * a tag equal to the category). */
struct correlate_map {
    char category[EVENT_CATEGORY_MAX + 1];
    char tag[STORE_TICKET_TAG_MAX + 1];
};

struct correlate_query {
    uint32_t site_id;
    uint32_t from, to;             /* days, inclusive: tickets and reads */
    uint64_t window_us;            /* attribution window W */
    const struct correlate_map *map;
    size_t nmap;
};

struct correlate_article {
    struct store_article a;
    uint64_t views;                /* views by readers in the range */
    uint64_t followed;             /* of which a ticket of the same reader
                                      followed within W */
    double rate;                   /* contact_after_read, a lower bound
                                      (unlinked tickets are missing from
                                      followed); NAN if no views */
    struct stats_interval ci;      /* Wilson 95 % */
    double median_to_ticket_s;     /* NAN if none followed */
};

struct correlate_site {
    uint64_t tickets;
    uint64_t linked;               /* tickets whose reader dwell knows */
    uint64_t with_read;            /* tickets preceded by a view within W */
    uint64_t requesters;           /* distinct requesters of the tickets */
    uint64_t visitors;             /* help-center visitors (daily-distinct,
                                      summed) */
    uint64_t views;
    double self_service_score;     /* visitors / requesters */
    double tickets_per_1000_views;
    double share_with_read;        /* with_read / tickets */
    double linked_share;           /* linked / tickets: how much of the
                                      helpdesk the article rates can see;
                                      NAN without tickets */
};

struct correlate_topic {
    char category[EVENT_CATEGORY_MAX + 1];
    size_t days;                   /* days in the series */
    uint64_t reads, tickets;       /* totals over the range */
    int best_lag;                  /* -1 when undefined */
    double r;                      /* at the best lag, NAN if undefined */
    size_t n;
    struct stats_interval ci;      /* Fisher z, 95 % simultaneous over all
                                      topics and lags of the run */
    bool evidence;                 /* the interval excludes 0 */
    struct stats_lag lags[CORRELATE_MAX_LAG + 1];
};

struct correlate_gap {
    char query[EVENT_QUERY_MAX + 1];
    uint64_t tickets;              /* tickets that followed it within W */
    bool zero_results;             /* it found nothing at least once */
};

struct correlate_result {
    struct correlate_site site;
    struct correlate_article *articles;   /* highest rate first */
    size_t narticles;
    struct correlate_topic *topics;
    size_t ntopics;
    struct correlate_gap *gaps;           /* most tickets first */
    size_t ngaps;
};

/* Computes everything for Q. Returns 0, or -1; free OUT with
 * correlate_free (also after an error). */
int correlate_run(struct store *st, const struct correlate_query *q,
                  struct correlate_result *out);

void correlate_free(struct correlate_result *r);

/* Parses "category:tag,category:tag" (also "=" for ":") into at most CAP
 * mappings. Returns how many, or -1 if malformed or too many. */
int correlate_parse_map(const char *s, struct correlate_map *out, size_t cap);

/* Parses an attribution window ("30m", "24h", "7d"; 1 minute to 30 days)
 * into microseconds. Returns 0, or -1. */
int correlate_parse_window(const char *s, uint64_t *us);

/* One article a ticket's requester read before it. */
struct correlate_read {
    uint64_t article;
    uint64_t time_us;
    double before_s;               /* how long before the ticket */
};

/* The articles ticket TICKET_ID's requester read in the WINDOW_US before
 * it, oldest first, at most CAP (*N set). Returns 0; 1 if the ticket is
 * unknown; -1 on error. *LINKED tells whether dwell knows the reader. */
int correlate_ticket_reads(struct store *st, uint32_t site_id,
                           const char *ticket_id, uint64_t window_us,
                           struct correlate_read *out, size_t cap,
                           size_t *n, bool *linked);

struct report_source;          /* source.h */

/* correlate_run and correlate_ticket_reads reading from SRC (source.h:
 * the store, or ClickHouse), with the same promises. */
int correlate_run_from(const struct report_source *src,
                       const struct correlate_query *q,
                       struct correlate_result *out);
int correlate_ticket_reads_from(const struct report_source *src,
                                uint32_t site_id, const char *ticket_id,
                                uint64_t window_us,
                                struct correlate_read *out, size_t cap,
                                size_t *n, bool *linked);

#endif
