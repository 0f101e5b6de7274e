/* fetch.h — the HTTP client: POST a body to a URL and read the reply.
 * libcurl's door: fetch.c is the only file that includes <curl/curl.h>.
 *
 * A struct fetch is one connection (kept alive between calls) used by ONE
 * thread; each thread that talks HTTP makes its own. fetch_global_init()
 * runs once, before any thread starts (dwell serve and the CLI call it);
 * fetch_new() calls it too, safely only while one thread runs. */
#ifndef DWELL_FETCH_H
#define DWELL_FETCH_H

#include "base/buf.h"

#include <stddef.h>

struct fetch;

/* Initialises libcurl once per process. Returns 0, or -1. */
int fetch_global_init(void);

/* A new client whose requests give up after TIMEOUT_MS in all (connecting
 * after min(TIMEOUT_MS, 5 s)). Returns NULL when out of memory. */
struct fetch *fetch_new(long timeout_ms);

/* Closes F's connection and frees it (NULL is fine). */
void fetch_free(struct fetch *f);

/* POSTs the LEN bytes of BODY to URL (http:// or https://; user:password@
 * in the URL is sent as Basic authentication) as text/plain, and appends
 * the reply's body to REPLY (which may be NULL: the body is dropped) and
 * sets *STATUS to the HTTP status. Returns 0 when an answer came, whatever
 * its status; -1 when none did (connection refused, time-out, a reply
 * over REPLY's cap, bad URL) with the reason in ERR. */
int fetch_post(struct fetch *f, const char *url, const char *body,
               size_t len, struct buf *reply, long *status,
               char *err, size_t errlen);

/* GETs URL like fetch_post(). */
int fetch_get(struct fetch *f, const char *url, struct buf *reply,
              long *status, char *err, size_t errlen);

#endif
