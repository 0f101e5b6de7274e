/* http.h — the HTTP server: libmicrohttpd's daemon, request limits, routing,
 * replies, and the suspension of a request until the store acknowledges it.
 * Handlers see a neutral request and fill a neutral reply; nothing outside
 * http.c includes <microhttpd.h>. */
#ifndef DWELL_HTTP_H
#define DWELL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/clientaddr.h"

#define HTTP_MAX_URL   2048      /* path + query string; longer: 414 */
#define HTTP_MAX_BODY  8192      /* request body, unless the route says
                                    otherwise; larger: 413 */

enum {
    HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 4, HTTP_PUT = 8,
    HTTP_DELETE = 16, HTTP_OPTIONS = 32
};

/* Answers a handler can pick that the server keeps ready-made. */
enum http_canned { HTTP_CANNED_NONE, HTTP_CANNED_204, HTTP_CANNED_GIF };

#define HTTP_MAX_HEADERS 10
#define HTTP_SITE_MAX    100     /* a site name (EVENT_SITE_MAX) */

struct http_req {
    unsigned method;          /* one HTTP_* bit */
    const char *path;         /* without the query string */
    const char *body;         /* POST body (not NUL-terminated), or NULL */
    size_t body_len;
    struct ipaddr peer;       /* the socket's peer address */
    void *conn;               /* http.c's own */
};

struct http_reply {
    int status;
    enum http_canned canned;  /* if set, status and body come from it */
    const char *content_type;
    const void *body;
    size_t len;
    bool body_static;         /* BODY outlives the server: not copied */
    void *owned;              /* malloc'd memory the server frees once the
                                 reply is built (e.g. BODY) */
    size_t nheaders;
    const char *headers[HTTP_MAX_HEADERS][2];   /* static strings */
    bool pending;             /* answer when the store acks (see below) */
    char scratch[512];        /* room for a short generated body */
    char site[HTTP_SITE_MAX + 1];   /* the known site the request was for,
                                       for the access log ("": none) */
};

/* Fills R with {"error": MSG} and STATUS. */
void http_reply_error(struct http_reply *r, int status, const char *msg);

/* Adds a header (NAME and VALUE must outlive the reply). */
void http_reply_header(struct http_reply *r, const char *name,
                       const char *value);

/* Request header NAME (case-insensitive) or query argument NAME
 * (percent-decoded); NULL when absent. */
const char *http_req_header(const struct http_req *q, const char *name);
const char *http_req_arg(const struct http_req *q, const char *name);

/* A handler that sets REPLY->pending hands the request to the store with
 * http_req_ack as the acknowledgment and http_req_ack_ctx(q) as its
 * context; the reply it filled is sent when the ack arrives with status 0,
 * a 503 JSON error otherwise. */
void *http_req_ack_ctx(const struct http_req *q);
void http_req_ack(void *ctx, int status);

typedef void (*http_handler)(void *ctx, const struct http_req *q,
                             struct http_reply *reply);

struct http_route {
    const char *path;
    bool prefix;              /* PATH is a prefix ("/demo/") */
    unsigned methods;         /* allowed HTTP_* bits; others get 405 */
    http_handler fn;
    void *ctx;
    size_t max_body;          /* 0: HTTP_MAX_BODY */
    /* Told (with CTX and the status) of each request for this route that
     * the server answered itself, before FN: 405, 413, 414. NULL: none. */
    void (*refused)(void *ctx, int status);
};

struct http_options {
    const char *listen;       /* "HOST:PORT", "[V6]:PORT" or ":PORT" (every
                                 address); port 0: any free port */
    unsigned threads;         /* 0: one per core */
    unsigned max_connections; /* 0: 10000 (less if the open-file limit is
                                 lower) */
    unsigned max_per_ip;      /* connections of a direct peer, or requests
                                 in progress of a client a trusted proxy
                                 names; 0: no limit */
    unsigned request_timeout_s;   /* a whole request (headers and body)
                                     must arrive within; 0: 10 */
    unsigned idle_timeout_s;  /* a connection silent this long is closed,
                                 between requests too; 0: 5 */
    const struct cidr *trusted;   /* proxies whose X-Forwarded-For names
                                     the client */
    size_t ntrusted;
    bool access_log;          /* a log line per request (log.h) */
    bool log_ip;              /* the client's address in it */
};

/* What the server's connection hygiene has seen. */
struct http_stats {
    unsigned connections;     /* open now */
    uint64_t cut;             /* shut down past the request deadline */
    uint64_t refused;         /* over the per-client limit */
    uint64_t responses[6];    /* sent, by status class: [2] 2xx … [5] 5xx,
                                 [0] any other */
};

struct http_server;

/* Whether SPEC has a form http_options.listen takes: "HOST:PORT",
 * "[V6]:PORT" or ":PORT" with PORT 0–65535. Whether the host resolves or
 * the address binds is known only when http_start tries. */
bool http_listen_valid(const char *spec);

/* Starts serving ROUTES (N of them, which must outlive the server). Returns
 * 0 and sets *OUT, or -1 with a reason in ERR. */
int http_start(const struct http_options *opt, const struct http_route *routes,
               size_t n, struct http_server **out, char *err, size_t errlen);

/* From now on every request is answered 503 "server is shutting down";
 * requests already handed over are unaffected. */
void http_refuse_new(struct http_server *s);

/* Waits up to TIMEOUT_MS for every request in progress to finish.
 * Returns 0, or -1 on timeout. */
int http_wait_idle(struct http_server *s, unsigned timeout_ms);

/* Stops the server and frees it. S may be NULL. */
void http_stop(struct http_server *s);

/* The number of requests being served now. */
unsigned http_inflight(struct http_server *s);

/* The address the server listens on, as bound: "127.0.0.1:41234" or
 * "[::1]:8093" (the port chosen when --listen gave 0). */
const char *http_bound_address(const struct http_server *s);

/* Fills OUT with the connection counters. */
void http_get_stats(struct http_server *s, struct http_stats *out);

#endif
