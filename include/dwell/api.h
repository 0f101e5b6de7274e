/* api.h — the reports API under /api/v1/sites/SITE/: summary, articles,
 * articles/ID and searches, as JSON (or CSV with a .csv suffix or
 * Accept: text/csv), behind a bearer or share token. */
#ifndef DWELL_API_H
#define DWELL_API_H

#include "dwell/http.h"

struct store;

struct api {
    struct store *store;
};

/* GET /api/v1/sites/SITE/VIEW[.csv]?from=&to=&include_bots=&sort=&order=
 * &limit=&offset=&prefix=&category= : 200 with the report; 400 naming the
 * bad parameter; 401 without a valid token; 403 for another site's token;
 * 404 for an unknown site, view or article. */
void api_reports(void *ctx, const struct http_req *q, struct http_reply *r);

#endif
