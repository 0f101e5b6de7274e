/* assets.h — files the server hands out as they are: the tracker snippet,
 * the report page and the documentation embedded at build time (plain and
 * gzip), and the demo help center read from a directory. */
#ifndef DWELL_ASSETS_H
#define DWELL_ASSETS_H

#include <limits.h>

#include "dwell/http.h"

struct assets {
    const char *demo_dir;     /* NULL: no demo */
    char demo_real[PATH_MAX]; /* its real path ("": none, nothing served) */
    char etag[24];            /* set by assets_init */
};

/* Prepares A (computes the snippet's ETag); DEMO_DIR may be NULL. */
void assets_init(struct assets *a, const char *demo_dir);

/* GET /dwell.js: the snippet, gzip when accepted, 304 on a matching
 * If-None-Match, cacheable for an hour. */
void assets_snippet(void *ctx, const struct http_req *q, struct http_reply *r);

/* GET /demo/NAME: a regular file of the demo directory (flat names of
 * [A-Za-z0-9._-] only); /demo/ is its index.html. Never a file outside
 * the directory: a symbolic link leading out of it is a 404. */
void assets_demo(void *ctx, const struct http_req *q, struct http_reply *r);

/* GET /report/SITE: the report page (it reads its data from the API with
 * the token of its URL's fragment, #token=...), locked down: its CSP allows
 * no inline script or style and no frame around it. */
void assets_report(void *ctx, const struct http_req *q, struct http_reply *r);

/* GET /report.js and /report.css: the report page's script and styles. */
void assets_report_file(void *ctx, const struct http_req *q,
                        struct http_reply *r);

/* Adds the headers of a locked-down reply to R: Content-Security-Policy
 * CSP, Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff and
 * X-Frame-Options: DENY (for browsers without frame-ancestors). */
void assets_locked_down(struct http_reply *r, const char *csp);

/* GET /docs/NAME.md: the page NAME of docs/ as HTML (rendered and
 * embedded at build time), for the report page's links to definitions;
 * 404 for any other name. */
void assets_docs(void *ctx, const struct http_req *q, struct http_reply *r);

/* The embedded snippet's gzip -9 size in bytes. */
size_t assets_snippet_gz_size(void);

#endif
