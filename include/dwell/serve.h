/* serve.h — `dwell serve`: wires the store, the country database, the
 * ingest endpoints and the HTTP server together, and shuts them down in
 * order on SIGINT/SIGTERM. */
#ifndef DWELL_SERVE_H
#define DWELL_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "dwell/clientaddr.h"
#include "dwell/store.h"

#define SERVE_MAX_TRUSTED 32

struct chsource;

struct serve_options {
    const char *listen;
    const char *data_dir;
    const char *geo_path;           /* NULL: no countries */
    const char *demo_dir;           /* NULL: no demo pages */
    const char *helpscout_secret;   /* verifies Help Scout webhooks */
    struct cidr trusted[SERVE_MAX_TRUSTED];
    size_t ntrusted;
    struct store_options store;
    unsigned threads;
    unsigned max_per_ip;            /* per client (http.h); 0: none */
    unsigned request_timeout_s;     /* 0: 10 */
    unsigned idle_timeout_s;        /* 0: 5 */
    double rate_per_s, rate_burst;  /* ingest per client; 0: no limit */
    unsigned auth_fails_per_min;    /* failed authentications; 0: any */
    const char *metrics_token;      /* GET /metrics wants it as bearer;
                                       NULL: loopback clients only */
    bool access_log;                /* a log line per request */
    bool log_ip;                    /* client addresses in log lines */
    const char *ship;               /* "clickhouse=URL"; NULL: no shipping */
    const char *node;               /* the node name; NULL: the host name */
    struct chsource *reports;       /* the reports API answers from this
                                       ClickHouse (--reports); NULL: from
                                       the store's rollups */
};

/* Serves until SIGINT or SIGTERM, then refuses new requests, drains the
 * queue, commits and returns 0; returns 1 if the server could not start. */
int serve_run(const struct serve_options *opt);

#endif
