/* metrics.h — the server's counters and GET /metrics, in Prometheus's
 * text exposition format 0.0.4 (docs/http-api.md, "GET /metrics").
 *
 * Counting is cheap on the hot path: relaxed atomic additions into fixed
 * tables indexed by site id (METRICS_SITES of them; higher ids share one
 * "_other" row), never a lock, never an allocation. Labels name known
 * sites only: an unknown site's name is never a label (site=""), so a
 * flood of invented names cannot grow the output. The first refusal of
 * each (site, reason) is logged, then at most one line a minute per pair
 * with the number suppressed meanwhile, from the same fixed table. */
#ifndef DWELL_SERVE_METRICS_H
#define DWELL_SERVE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/clientaddr.h"
#include "dwell/http.h"

#define METRICS_SITES 1024

/* Why an event request (POST /e, GET /p.gif) was refused; the reason
 * label values are their names in lower case (docs/http-api.md). */
enum metrics_reason {
    METRICS_UNKNOWN_SITE, METRICS_ORIGIN, METRICS_SIZE, METRICS_MALFORMED,
    METRICS_RATE_LIMITED, METRICS_METHOD, METRICS_QUEUE_FULL,
    METRICS_STORE_ERROR, METRICS_REASONS
};

/* What became of a ticket webhook (POST /api/v1/tickets). */
enum metrics_webhook {
    METRICS_WH_STORED, METRICS_WH_UNCHANGED, METRICS_WH_BAD_REQUEST,
    METRICS_WH_UNAUTHORIZED, METRICS_WH_FORBIDDEN, METRICS_WH_UNKNOWN_SITE,
    METRICS_WH_RATE_LIMITED, METRICS_WH_TOO_LARGE, METRICS_WH_ERROR,
    METRICS_WEBHOOK_RESULTS
};

/* Notes the process's start time and whether refusal log lines may name
 * the client's address (--log-ip). Call once, before serving. */
void metrics_start(bool log_ip);

/* N events of site SITE_ID were queued for storage; BOT: flagged as a
 * robot's (stored, left out of reports by default). */
void metrics_accepted(uint32_t site_id, size_t n, bool bot);

/* One refused event request. */
struct metrics_refusal {
    enum metrics_reason reason;
    int status;                 /* the answer's HTTP status */
    const char *why;            /* the answer's error message */
    uint32_t site_id;           /* 0: no known site */
    const char *site;           /* its name; for an unknown site, the name
                                   asked for (logged, never a label);
                                   may be NULL */
    size_t site_len;
    const char *origin;         /* the request's Origin, or NULL */
    const struct ipaddr *client;    /* NULL: not resolved */
};

/* Counts R and logs it when it is the first of its (site, reason) or
 * the first in a minute. */
void metrics_refused(const struct metrics_refusal *r);

/* Counts one ticket webhook with result W. */
void metrics_webhook(enum metrics_webhook w);

/* What GET /metrics reads. */
struct metrics_source {
    struct store *store;
    struct http_server *http;   /* set once the server runs */
    const char *token;          /* --metrics-token; NULL: loopback only */
};

/* GET /metrics (handler ctx: a struct metrics_source). With a token
 * configured, answers 200 to "Authorization: Bearer TOKEN" from anywhere
 * and 401 otherwise; without one, answers 200 only to a loopback peer
 * whose request names no forwarded client (X-Forwarded-For, Forwarded:
 * not relayed by a proxy on the same host) and 403 otherwise. */
void metrics_serve(void *ctx, const struct http_req *q, struct http_reply *r);

/* Renders every family into a new NUL-terminated string (*LEN bytes) the
 * caller frees; NULL when memory ran out. */
char *metrics_render(const struct metrics_source *src, size_t *len);

#endif
