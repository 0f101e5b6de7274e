/* ingest.h — the pixel and beacon endpoints: turn a request into validated,
 * enriched events (site, origin, client address, country, bot flag) and
 * hand them to the store. Knows neither libmicrohttpd nor LMDB. */
#ifndef DWELL_INGEST_H
#define DWELL_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "dwell/http.h"

struct store;
struct geo;
struct rate_limit;

struct ingest {
    struct store *store;
    const struct geo *geo;            /* may be NULL: country "--" */
    const struct cidr *trusted;       /* proxies allowed to set XFF */
    size_t ntrusted;
    bool ack_on_enqueue;              /* durability "none" */
    struct rate_limit *limit;         /* per client address; NULL: none */
};

/* POST /e: a JSON event or a batch of up to 32. Answers 204 once stored
 * (or queued, with ack_on_enqueue); 400, 403 (an origin not allowed, or
 * no Origin for a site that has origins), 404, 413, 429 (the client's
 * bucket is empty: Retry-After), 503 otherwise. */
void ingest_beacon(void *ctx, const struct http_req *q, struct http_reply *r);

/* GET /p.gif?s=SITE&u=URL&r=REF&t=TITLE: records a view and answers a
 * 43-byte transparent GIF; errors as JSON. */
void ingest_pixel(void *ctx, const struct http_req *q, struct http_reply *r);

/* The event routes' http_route.refused: counts a request the server
 * answered itself (405: reason method; 413, 414: size). */
void ingest_refused(void *ctx, int status);

#endif
