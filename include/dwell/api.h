/* api.h — the reports API under /api/v1/sites/SITE/: summary, articles,
 * articles/ID and searches, as JSON (or CSV with a .csv suffix or
 * Accept: text/csv), behind a bearer or share token. */
#ifndef DWELL_API_H
#define DWELL_API_H

#include "dwell/http.h"

#include "dwell/clientaddr.h"

struct store;
struct rate_limit;
struct chsource;

struct api {
    struct store *store;
    const char *helpscout_secret;  /* NULL: Help Scout signatures unchecked */
    struct rate_limit *auth_fails; /* failed authentications per address
                                      or token; NULL: not limited */
    const struct cidr *trusted;    /* proxies allowed to set XFF */
    size_t ntrusted;
    struct chsource *reports;      /* reports from ClickHouse (chsource.h);
                                      NULL: from the store's rollups */
};

#define API_WEBHOOK_MAX_BODY (512u * 1024)

/* POST /api/v1/tickets?site=SITE: one ticket from a helpdesk webhook
 * (Zendesk, Freshdesk, Help Scout, generic JSON). Needs a full token
 * (bearer or ?token=) or, for Help Scout, a valid X-HelpScout-Signature
 * when a secret is configured. Idempotent by ticket id: 200 with
 * {"ticket":ID,"stored":true|false}; 400 with the reason for a body it
 * cannot use; 401, 403, 404, 429 as for reports. */
void api_tickets(void *ctx, const struct http_req *q, struct http_reply *r);

/* The webhook route's http_route.refused: counts a 413 (or 405, 414) the
 * server answered itself. */
void api_tickets_refused(void *ctx, int status);

/* GET /api/v1/sites/SITE/VIEW[.csv]?from=&to=&include_bots=&sort=&order=
 * &limit=&offset=&prefix=&category= : 200 with the report; 400 naming the
 * bad parameter; 401 without a valid token; 403 for another site's token;
 * 404 for an unknown site, view or article; 429 (Retry-After) once the
 * client's address, or the token, has failed to authenticate too often;
 * 503 with the reason when the reports come from ClickHouse and it failed
 * or could not be reached (never a partial report). */
void api_reports(void *ctx, const struct http_req *q, struct http_reply *r);

#endif
