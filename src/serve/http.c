/* http.c — see http.h.
 *
 * libmicrohttpd calls the access handler several times per request. dwell
 * answers on the second call or later, never on the first: queuing a reply
 * on the first call makes MHD close the connection instead of keeping it
 * alive (DESIGN §8). The URI log callback records the length of the raw URL
 * (with its query string) as a tagged integer in *con_cls, so nothing is
 * allocated for a request that never reaches the handler. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/resource.h>
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dwell/log.h"
#include "base/json.h"
#include "base/utf8.h"

static const unsigned char gif_bytes[43] = {
    'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0,
    0xff, 0xff, 0xff, 0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0,
    1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b
};

enum phase { PHASE_NEW, PHASE_BODY, PHASE_WAITING };

#define ACCESS_PATH_MAX 200      /* of a path in the access log, bytes */
enum ack_state { ACK_RUNNING, ACK_SUSPENDED, ACK_DONE };

/* One open TCP connection (MHD's socket context). RECEIVING_SINCE is when
 * the request being received began (the connection's start, or the end of
 * the previous request); 0 while a whole request is being handled. */
struct conn_slot {
    struct conn_slot *prev, *next;
    int fd;
    struct ipaddr peer;
    bool counted;                /* in the peer's connection count */
    bool cut;                    /* shut down by the sweeper */
    uint64_t receiving_since;    /* ms, monotonic; 0: not receiving */
    const char *raw_uri;         /* the request line's target, as read */
    size_t raw_uri_len;
    struct conn_state *spare;    /* the last request's state, for the next
                                    one on this connection (zeroed then) */
};

/* How many connections (direct peers) or requests in progress (clients
 * named by a trusted proxy) one client address holds. */
struct client_count {
    struct client_count *next;
    struct ipaddr addr;
    unsigned n;
};

#define CLIENT_BUCKETS 1024
/* Each connection's memory pool (request line, headers, buffers): MHD
 * zeroes it between keep-alive requests, which was the largest single cost
 * of a pixel under callgrind with its 32 KiB default (docs/performance.md).
 * 16 KiB holds a 2048-byte URL and 8 KiB of headers. */
#define HTTP_CONN_MEMORY (16 * 1024)

struct http_server {
    struct MHD_Daemon *d;
    const struct http_route *routes;
    size_t nroutes;
    atomic_uint inflight;
    atomic_bool closing;
    struct MHD_Response *canned_204, *canned_gif;
    /* connection hygiene, under LOCK */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t sweeper;
    bool sweeping, stop_sweeping;
    struct conn_slot *conns;
    unsigned nconns;
    uint64_t cut_total, refused_total;
    struct client_count *clients[CLIENT_BUCKETS];
    unsigned request_timeout_ms;
    unsigned max_per_client;     /* 0: no limit */
    const struct cidr *trusted;
    size_t ntrusted;
    atomic_uint_fast64_t responses[6];  /* by status class (http_stats) */
    bool access_log, log_ip;
    char bound[64];              /* the listening address, "[V6]:PORT" */
};

/* One request in progress; owned by MHD's con_cls, freed on completion. */
struct conn_state {
    struct http_server *srv;
    struct MHD_Connection *c;
    size_t url_len;
    enum phase phase;
    bool too_large;
    size_t max_body;             /* of the route, or HTTP_MAX_BODY */
    size_t body_hint;            /* the Content-Length declared, or 0 */
    bool nul_in_url;             /* the raw target held %00 */
    bool client_counted;         /* CLIENT's count holds this request */
    struct ipaddr client;        /* named by a trusted proxy */
    size_t body_len;
    char *body;                  /* BODY_CAP bytes, POST only */
    size_t body_cap;
    atomic_int ack_state;
    atomic_int ack_status;
    struct http_req req;
    struct http_reply reply;
    /* for the access log */
    uint64_t start_us;
    int sent_status;             /* 0: nothing sent */
    size_t sent_bytes;
    char method[8];
    char path[ACCESS_PATH_MAX + 1];
    struct ipaddr client_addr;   /* through trusted proxies */
};

/* --- replies --------------------------------------------------------------- */

/* Writes {"error": the N bytes at MSG} and a newline into R's scratch.
 * Returns false (R untouched) when that does not fit or memory ran out. */
static bool error_body(struct http_reply *r, const char *msg, size_t n)
{
    struct json j;
    size_t len;
    json_init(&j, sizeof r->scratch - 1);
    json_object_begin(&j);
    json_key(&j, "error");
    json_string_n(&j, msg, n);
    json_object_end(&j);
    json_newline(&j);
    char *text = json_finish(&j, &len);
    if (text == NULL)
        return false;
    memcpy(r->scratch, text, len + 1);
    free(text);
    r->body = r->scratch;
    r->len = len;
    return true;
}

void http_reply_error(struct http_reply *r, int status, const char *msg)
{
    size_t n = strlen(msg);
    bool whole;
    r->status = status;
    r->canned = HTTP_CANNED_NONE;
    r->content_type = "application/json";
    r->body = r->scratch;
    r->len = 0;
    r->body_static = false;
    r->pending = false;
    /* too long: cut to what fits even if every byte is escaped (6×) */
    if (!error_body(r, msg, n))
        error_body(r, msg, utf8_cut(msg, n, (sizeof r->scratch - 16) / 6,
                                    &whole));
}

void http_reply_header(struct http_reply *r, const char *name,
                       const char *value)
{
    if (r->nheaders >= HTTP_MAX_HEADERS)
        return;
    r->headers[r->nheaders][0] = name;
    r->headers[r->nheaders][1] = value;
    r->nheaders++;
}

/* Counts a response of STATUS with LEN body bytes (the metrics' classes,
 * the access log's line). */
static void note_sent(struct conn_state *cs, int status, size_t len)
{
    unsigned cls = status >= 100 && status < 600 ? (unsigned)status / 100 : 0;
    atomic_fetch_add_explicit(&cs->srv->responses[cls], 1,
                              memory_order_relaxed);
    cs->sent_status = status;
    cs->sent_bytes = len;
}

static enum MHD_Result send_reply(struct conn_state *cs,
                                  struct http_reply *r)
{
    struct MHD_Response *resp;
    int status = r->status;
    bool canned = true;
    if (r->canned == HTTP_CANNED_204) {
        resp = cs->srv->canned_204;
        status = MHD_HTTP_NO_CONTENT;
        note_sent(cs, status, 0);
    } else if (r->canned == HTTP_CANNED_GIF) {
        resp = cs->srv->canned_gif;
        status = MHD_HTTP_OK;
        note_sent(cs, status, sizeof gif_bytes);
    } else {
        note_sent(cs, status, r->len);
        canned = false;
        resp = MHD_create_response_from_buffer(
            r->len, (void *)r->body,
            r->body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
        free(r->owned);
        r->owned = NULL;
        if (resp == NULL)
            return MHD_NO;
        if (r->content_type)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    r->content_type);
    }
    if (canned)                       /* shared: no extra headers */
        return MHD_queue_response(cs->c, (unsigned)status, resp);
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i][0], r->headers[i][1]);
    enum MHD_Result ret = MHD_queue_response(cs->c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(struct conn_state *cs, int status,
                                  const char *msg)
{
    struct http_reply *r = &cs->reply;
    r->nheaders = 0;
    http_reply_error(r, status, msg);
    return send_reply(cs, r);
}

/* --- request accessors ------------------------------------------------------ */

const char *http_req_header(const struct http_req *q, const char *name)
{
    struct conn_state *cs = q->conn;
    return MHD_lookup_connection_value(cs->c, MHD_HEADER_KIND, name);
}

const char *http_req_arg(const struct http_req *q, const char *name)
{
    struct conn_state *cs = q->conn;
    return MHD_lookup_connection_value(cs->c, MHD_GET_ARGUMENT_KIND, name);
}

void *http_req_ack_ctx(const struct http_req *q)
{
    return q->conn;
}

void http_req_ack(void *ctx, int status)
{
    struct conn_state *cs = ctx;
    atomic_store(&cs->ack_status, status);
    if (atomic_exchange(&cs->ack_state, ACK_DONE) == ACK_SUSPENDED)
        MHD_resume_connection(cs->c);
}

/* --- routing ---------------------------------------------------------------- */

static unsigned method_bit(const char *m)
{
    static const struct { const char *name; unsigned bit; } tab[] = {
        { "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
        { "PUT", HTTP_PUT }, { "DELETE", HTTP_DELETE },
        { "OPTIONS", HTTP_OPTIONS }
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(m, tab[i].name) == 0)
            return tab[i].bit;
    return 0;
}

/* The Allow header value for a METHODS mask (static strings). */
static const char *allow_value(unsigned methods)
{
    if (methods & HTTP_POST)
        return (methods & HTTP_GET) ? "GET, HEAD, POST" : "POST";
    return "GET, HEAD";
}

static const struct http_route *find_route(const struct http_server *s,
                                           const char *path)
{
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct http_route *r = &s->routes[i];
        if (r->prefix ? strncmp(path, r->path, strlen(r->path)) == 0
                      : strcmp(path, r->path) == 0)
            return r;
    }
    return NULL;
}

/* Tells RT (if any) of a request the server refused itself. */
static void route_refused(const struct http_route *rt, int status)
{
    if (rt && rt->refused)
        rt->refused(rt->ctx, status);
}

/* The address C's client connected from, or all zeros when MHD cannot
 * say (the socket's own peer: never a forwarded one). */
static void peer_of(struct MHD_Connection *c, struct ipaddr *out)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL ||
        ipaddr_from_sockaddr(ci->client_addr, out) != 0)
        memset(out, 0, sizeof *out);
}

/* Runs the handler of a complete request and answers or suspends it. */
static enum MHD_Result dispatch(struct conn_state *cs, const char *url,
                                const char *method)
{
    struct http_server *s = cs->srv;
    if (atomic_load(&s->closing)) {
        http_reply_error(&cs->reply, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "server is shutting down");
        http_reply_header(&cs->reply, "Retry-After", "5");
        http_reply_header(&cs->reply, "Connection", "close");
        return send_reply(cs, &cs->reply);
    }
    const struct http_route *rt = find_route(s, url);
    if (cs->url_len > HTTP_MAX_URL) {
        route_refused(rt, 414);
        return send_error(cs, 414,
                          "URL longer than 2048 bytes");
    }
    if (rt == NULL)
        return send_error(cs, MHD_HTTP_NOT_FOUND, "no such resource");
    unsigned m = method_bit(method);
    if (!(rt->methods & m)) {
        route_refused(rt, MHD_HTTP_METHOD_NOT_ALLOWED);
        http_reply_error(&cs->reply, MHD_HTTP_METHOD_NOT_ALLOWED,
                         "method not allowed");
        http_reply_header(&cs->reply, MHD_HTTP_HEADER_ALLOW,
                          allow_value(rt->methods));
        return send_reply(cs, &cs->reply);
    }
    if (cs->too_large) {
        route_refused(rt, 413);
        return send_error(cs, 413, cs->max_body == HTTP_MAX_BODY
                          ? "body larger than 8192 bytes"
                          : "body too large for this endpoint");
    }

    cs->req.method = m;
    cs->req.path = url;
    cs->req.body = cs->body;
    cs->req.body_len = cs->body_len;
    cs->req.conn = cs;
    peer_of(cs->c, &cs->req.peer);

    rt->fn(rt->ctx, &cs->req, &cs->reply);
    if (!cs->reply.pending)
        return send_reply(cs, &cs->reply);

    /* Wait for the store's ack; it may already have come. */
    cs->phase = PHASE_WAITING;
    MHD_suspend_connection(cs->c);
    int expected = ACK_RUNNING;
    if (!atomic_compare_exchange_strong(&cs->ack_state, &expected,
                                        ACK_SUSPENDED))
        MHD_resume_connection(cs->c);
    return MHD_YES;
}

/* Sends the reply of a request whose ack has arrived. */
static enum MHD_Result answer_acked(struct conn_state *cs)
{
    if (atomic_load(&cs->ack_status) == 0)
        return send_reply(cs, &cs->reply);
    cs->reply.nheaders = 0;
    http_reply_error(&cs->reply, MHD_HTTP_SERVICE_UNAVAILABLE,
                     "event not stored; try again");
    http_reply_header(&cs->reply, "Retry-After", "1");
    return send_reply(cs, &cs->reply);
}

static struct conn_slot *slot_of(struct MHD_Connection *c);

/* A zeroed request state: the one C's previous request left in its slot
 * (a calloc and a free of 1.3 KiB per request otherwise), or a new one. */
static struct conn_state *conn_state_new(struct http_server *s,
                                         struct MHD_Connection *c,
                                         size_t url_len)
{
    struct conn_slot *sl = slot_of(c);
    struct conn_state *cs = sl ? sl->spare : NULL;
    if (cs != NULL) {
        sl->spare = NULL;
        memset(cs, 0, sizeof *cs);
    } else if ((cs = calloc(1, sizeof *cs)) == NULL) {
        return NULL;
    }
    cs->srv = s;
    cs->c = c;
    cs->url_len = url_len;
    atomic_init(&cs->ack_state, ACK_RUNNING);
    atomic_init(&cs->ack_status, 0);
    atomic_fetch_add(&s->inflight, 1);
    return cs;
}

/* Appends a chunk of the request body, remembering when it gets too big.
 * The buffer holds the Content-Length declared (checked against the
 * route's limit before), and grows by doubling, up to the limit, for a
 * body that is longer or chunked: a beacon's 200 bytes need no 8 KiB. */
static void take_body(struct conn_state *cs, const char *data, size_t n)
{
    if (cs->too_large)
        return;
    if (cs->body_len + n > cs->max_body) {
        cs->too_large = true;
        return;
    }
    if (cs->body_len + n > cs->body_cap) {
        size_t cap = cs->body_cap ? cs->body_cap * 2 : cs->body_hint;
        if (cap < cs->body_len + n)
            cap = cs->body_len + n;
        if (cap < 256)
            cap = 256;
        if (cap > cs->max_body)
            cap = cs->max_body;
        char *body = realloc(cs->body, cap);
        if (body == NULL) {
            cs->too_large = true;
            return;
        }
        cs->body = body;
        cs->body_cap = cap;
    }
    memcpy(cs->body + cs->body_len, data, n);
    cs->body_len += n;
}

/* --- connection hygiene ------------------------------------------------------
 *
 * Every open connection has a slot in S->conns. A sweeper thread shuts down
 * (shutdown(2), so MHD sees the end of the stream and closes it at once)
 * every connection that has been receiving one request for longer than the
 * request deadline, however slowly its bytes trickle in; MHD's own timeout
 * is an idle timeout, reset by every byte. Clients are counted: a direct
 * peer by its connections (refused at accept past the limit), a client
 * named by a trusted proxy's X-Forwarded-For by its requests in progress
 * (answered 429 past the limit). A slot is unlinked in MHD's "closed"
 * notification, which comes before MHD closes the socket, so the sweeper
 * never shuts down a descriptor that was reused. */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool is_trusted(const struct http_server *s, const struct ipaddr *a)
{
    for (size_t i = 0; i < s->ntrusted; i++)
        if (cidr_contains(&s->trusted[i], a))
            return true;
    return false;
}

static size_t client_bucket(const struct ipaddr *a)
{
    uint32_t h = 2166136261u;                 /* FNV-1a */
    for (size_t i = 0; i < sizeof a->b; i++)
        h = (h ^ a->b[i]) * 16777619u;
    return h % CLIENT_BUCKETS;
}

/* Adds DELTA (+1 or -1) to A's count and returns the new count; a count
 * that drops to 0 is freed. Caller holds S->lock. Returns UINT_MAX when
 * memory ran out (the caller refuses). */
static unsigned client_add(struct http_server *s, const struct ipaddr *a,
                           int delta)
{
    struct client_count **pp = &s->clients[client_bucket(a)];
    for (; *pp; pp = &(*pp)->next)
        if (memcmp((*pp)->addr.b, a->b, sizeof a->b) == 0)
            break;
    struct client_count *cc = *pp;
    if (cc == NULL) {
        if (delta < 0 || (cc = calloc(1, sizeof *cc)) == NULL)
            return delta < 0 ? 0 : UINT_MAX;
        cc->addr = *a;
        *pp = cc;
    }
    cc->n = delta < 0 ? cc->n - 1 : cc->n + 1;
    unsigned n = cc->n;
    if (n == 0) {
        *pp = cc->next;
        free(cc);
    }
    return n;
}

static unsigned client_get(struct http_server *s, const struct ipaddr *a)
{
    for (struct client_count *cc = s->clients[client_bucket(a)]; cc;
         cc = cc->next)
        if (memcmp(cc->addr.b, a->b, sizeof a->b) == 0)
            return cc->n;
    return 0;
}

/* MHD's accept policy: refuses a direct peer that already holds its
 * limit of connections; trusted proxies are counted per client later. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa,
                                 socklen_t len)
{
    struct http_server *s = cls;
    struct ipaddr a;
    (void)len;
    if (s->max_per_client == 0 || ipaddr_from_sockaddr(sa, &a) != 0 ||
        is_trusted(s, &a))
        return MHD_YES;
    pthread_mutex_lock(&s->lock);
    bool full = client_get(s, &a) >= s->max_per_client;
    if (full)
        s->refused_total++;
    pthread_mutex_unlock(&s->lock);
    return full ? MHD_NO : MHD_YES;
}

/* The slot of connection C (NULL if MHD has none for it). */
static struct conn_slot *slot_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Marks C's slot as receiving a new request (RECEIVING) or not; returns
 * the slot (NULL if C has none). */
static struct conn_slot *slot_receiving(struct http_server *s,
                                        struct MHD_Connection *c,
                                        bool receiving)
{
    struct conn_slot *sl = slot_of(c);
    if (sl == NULL)
        return NULL;
    pthread_mutex_lock(&s->lock);
    sl->receiving_since = receiving ? now_ms() : 0;
    pthread_mutex_unlock(&s->lock);
    return sl;
}

static void conn_opened(struct http_server *s, struct MHD_Connection *c,
                        void **ctx)
{
    struct conn_slot *sl = calloc(1, sizeof *sl);
    if (sl == NULL)
        return;                       /* not swept; MHD's idle timeout only */
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    sl->fd = fd ? fd->connect_fd : -1;
    peer_of(c, &sl->peer);
    pthread_mutex_lock(&s->lock);
    sl->receiving_since = now_ms();
    sl->counted = s->max_per_client && !is_trusted(s, &sl->peer) &&
                  client_add(s, &sl->peer, +1) != UINT_MAX;
    sl->next = s->conns;
    if (s->conns)
        s->conns->prev = sl;
    s->conns = sl;
    s->nconns++;
    pthread_mutex_unlock(&s->lock);
    *ctx = sl;
}

static void conn_closed(struct http_server *s, void **ctx)
{
    struct conn_slot *sl = *ctx;
    *ctx = NULL;
    if (sl == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    if (sl->counted)
        client_add(s, &sl->peer, -1);
    if (sl->prev)
        sl->prev->next = sl->next;
    else
        s->conns = sl->next;
    if (sl->next)
        sl->next->prev = sl->prev;
    s->nconns--;
    pthread_mutex_unlock(&s->lock);
    free(sl->spare);
    free(sl);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        conn_opened(cls, c, ctx);
    else
        conn_closed(cls, ctx);
}

/* Shuts down every connection past the request deadline; returns how many. */
static unsigned sweep(struct http_server *s)
{
    unsigned n = 0;
    uint64_t now = now_ms();
    pthread_mutex_lock(&s->lock);
    for (struct conn_slot *sl = s->conns; sl; sl = sl->next) {
        if (sl->cut || sl->receiving_since == 0 || sl->fd < 0 ||
            now - sl->receiving_since < s->request_timeout_ms)
            continue;
        shutdown(sl->fd, SHUT_RDWR);
        sl->cut = true;
        n++;
    }
    s->cut_total += n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void *sweeper_main(void *arg)
{
    struct http_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop_sweeping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
        if (s->stop_sweeping)
            break;
        pthread_mutex_unlock(&s->lock);
        sweep(s);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Counts the request of CS against the client a trusted proxy names.
 * Returns false when that client is over its limit. */
static bool count_proxied(struct conn_state *cs, const struct ipaddr *peer)
{
    struct http_server *s = cs->srv;
    if (s->max_per_client == 0 || !is_trusted(s, peer))
        return true;
    const char *xff = MHD_lookup_connection_value(cs->c, MHD_HEADER_KIND,
                                                  "X-Forwarded-For");
    clientaddr_resolve(peer, xff, s->trusted, s->ntrusted, &cs->client);
    pthread_mutex_lock(&s->lock);
    unsigned n = client_add(s, &cs->client, +1);
    cs->client_counted = n != UINT_MAX;
    if (n > s->max_per_client)
        s->refused_total++;
    pthread_mutex_unlock(&s->lock);
    return n <= s->max_per_client;
}

void http_get_stats(struct http_server *s, struct http_stats *out)
{
    pthread_mutex_lock(&s->lock);
    out->connections = s->nconns;
    out->cut = s->cut_total;
    out->refused = s->refused_total;
    for (size_t i = 0; i < 6; i++)
        out->responses[i] = atomic_load_explicit(&s->responses[i],
                                                 memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
}

/* --- strict framing ----------------------------------------------------------- */

struct framing {
    unsigned ncl, nte;           /* Content-Length, Transfer-Encoding seen */
    const char *te;
    bool nul;                    /* a name or value holds a NUL byte */
};

static enum MHD_Result framing_field(void *cls, enum MHD_ValueKind kind,
                                     const char *key, size_t key_size,
                                     const char *value, size_t value_size)
{
    struct framing *f = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size))
        f->nul = true;
    if (kind != MHD_HEADER_KIND)
        return MHD_YES;
    /* the lengths first: most headers are neither */
    if (key_size == sizeof MHD_HTTP_HEADER_CONTENT_LENGTH - 1 &&
        strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->ncl++;
    if (key_size == sizeof MHD_HTTP_HEADER_TRANSFER_ENCODING - 1 &&
        strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->nte++;
        f->te = value;
    }
    return MHD_YES;
}

/* True when the request line held a raw NUL: MHD cut the target at it, so
 * the target it logged ends before the protocol version that follows it
 * in the same line. */
static bool nul_in_line(struct MHD_Connection *c, const char *version)
{
    struct conn_slot *sl = slot_of(c);
    if (sl == NULL || sl->raw_uri == NULL || version <= sl->raw_uri ||
        version - sl->raw_uri > 65536)
        return false;
    return (size_t)(version - sl->raw_uri) != sl->raw_uri_len + 1;
}

/* Why a request whose headers have arrived is refused (400, and the
 * connection closed), or NULL: framing a proxy could read otherwise than
 * dwell (request smuggling), or a NUL byte in a field. */
static const char *framing_error(struct conn_state *cs, const char *version)
{
    struct framing f = { 0, 0, NULL, false };
    MHD_get_connection_values_n(cs->c,
                                MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND,
                                framing_field, &f);
    if (f.nul || cs->nul_in_url || nul_in_line(cs->c, version))
        return "NUL byte in the request";
    if (f.nte && f.ncl)
        return "Content-Length and Transfer-Encoding together";
    if (f.ncl > 1)
        return "Content-Length repeated";
    if (f.nte > 1 || (f.te && strcasecmp(f.te, "chunked") != 0))
        return "Transfer-Encoding other than chunked";
    return NULL;
}

/* Answers STATUS {"error": MSG} and closes the connection. */
static enum MHD_Result refuse(struct conn_state *cs, int status,
                              const char *msg, const char *retry_after)
{
    struct http_reply *r = &cs->reply;
    r->nheaders = 0;
    http_reply_error(r, status, msg);
    http_reply_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (retry_after)
        http_reply_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    return send_reply(cs, r);
}

/* The checks of a request whose headers have just arrived: framing, the
 * client's count, the declared body size. */
static enum MHD_Result on_headers(struct conn_state *cs, const char *url,
                                  const char *version)
{
    struct http_server *s = cs->srv;
    const char *why = framing_error(cs, version);
    if (why)
        return refuse(cs, MHD_HTTP_BAD_REQUEST, why, NULL);
    struct ipaddr peer;
    peer_of(cs->c, &peer);
    if (!count_proxied(cs, &peer))
        return refuse(cs, 429, "too many requests in progress from this "
                      "client", "1");
    const char *cl = MHD_lookup_connection_value(
        cs->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const struct http_route *rt = find_route(s, url);
    cs->max_body = rt && rt->max_body ? rt->max_body : HTTP_MAX_BODY;
    unsigned long long declared = cl != NULL ? strtoull(cl, NULL, 10) : 0;
    if (declared > cs->max_body) {
        route_refused(rt, 413);
        return send_error(cs, 413, cs->max_body == HTTP_MAX_BODY
                          ? "body larger than 8192 bytes"
                          : "body too large for this endpoint");
    }
    cs->body_hint = (size_t)declared;
    return MHD_YES;
}

static void access_begin(struct conn_state *cs, const char *url,
                         const char *method);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct conn_state *cs = *con_cls;
    if (cs == NULL || ((uintptr_t)cs & 1)) {
        uintptr_t tag = (uintptr_t)cs;
        if ((cs = conn_state_new(s, c, tag >> 2)) == NULL)
            return MHD_NO;
        cs->nul_in_url = (tag & 2) != 0;
        *con_cls = cs;
    }
    if (cs->phase == PHASE_WAITING)
        return answer_acked(cs);
    if (cs->phase == PHASE_NEW) {
        cs->phase = PHASE_BODY;
        if (s->access_log)
            access_begin(cs, url, method);
        return on_headers(cs, url, version);
    }
    if (*upload_size > 0) {
        take_body(cs, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    slot_receiving(s, c, false);           /* all of it has arrived */
    return dispatch(cs, url, method);
}

/* Records the raw URL's length and whether it holds %00 before the
 * request is parsed (a tagged integer: length << 2 | %00 << 1 | 1), and
 * where the target lies in the request line (see nul_in_line). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    size_t n = strlen(uri);
    struct conn_slot *sl = slot_of(c);
    if (sl) {
        sl->raw_uri = uri;
        sl->raw_uri_len = n;
    }
    uintptr_t nul = strstr(uri, "%00") != NULL;
    if (n > SIZE_MAX / 8)
        n = SIZE_MAX / 8;
    return (void *)(uintptr_t)((n << 2) | (nul << 1) | 1);
}

/* --- the access log ------------------------------------------------------------ */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Keeps what the access log line of CS's request needs from its start:
 * the time, METHOD, the path URL (no query string; cut to
 * ACCESS_PATH_MAX bytes) and, with --log-ip, the client's address. */
static void access_begin(struct conn_state *cs, const char *url,
                         const char *method)
{
    cs->start_us = now_us();
    snprintf(cs->method, sizeof cs->method, "%s", method);
    size_t n = strlen(url);
    bool whole;
    if (n > ACCESS_PATH_MAX)
        n = utf8_cut(url, n, ACCESS_PATH_MAX, &whole);
    memcpy(cs->path, url, n);
    cs->path[n] = '\0';
    if (!cs->srv->log_ip)
        return;
    struct ipaddr peer;
    peer_of(cs->c, &peer);
    clientaddr_resolve(&peer, MHD_lookup_connection_value(
                           cs->c, MHD_HEADER_KIND, "X-Forwarded-For"),
                       cs->srv->trusted, cs->srv->ntrusted, &cs->client_addr);
}

/* The access log line of CS's request, if it was answered. */
static void access_end(struct conn_state *cs)
{
    char client[64];
    if (cs->sent_status == 0 || cs->start_us == 0)
        return;
    bool ip = cs->srv->log_ip &&
              ipaddr_format(&cs->client_addr, client, sizeof client) == 0;
    struct log_field f[] = {
        LOG_STR("method", cs->method),
        LOG_STR("path", cs->path),
        LOG_INT("status", cs->sent_status),
        LOG_INT("bytes", cs->sent_bytes),
        LOG_REAL("ms", (double)(now_us() - cs->start_us) / 1000.0),
        LOG_STR("site", cs->reply.site[0] ? cs->reply.site : NULL),
        LOG_STR("client", ip ? client : NULL),
    };
    log_fields(LOG_INFO, 1, "request", f, sizeof f / sizeof f[0]);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct conn_state *cs = *con_cls;
    (void)toe;
    *con_cls = NULL;
    struct conn_slot *sl = slot_receiving(s, c, true); /* the next deadline */
    if (cs == NULL || ((uintptr_t)cs & 1))
        return;
    if (s->access_log)
        access_end(cs);
    if (cs->client_counted) {
        pthread_mutex_lock(&s->lock);
        client_add(s, &cs->client, -1);
        pthread_mutex_unlock(&s->lock);
    }
    free(cs->reply.owned);
    free(cs->body);
    atomic_fetch_sub(&s->inflight, 1);
    if (sl != NULL && sl->spare == NULL)
        sl->spare = cs;
    else
        free(cs);
}

static void on_panic(void *cls, const char *file, unsigned line,
                     const char *reason)
{
    (void)cls;
    log_error("libmicrohttpd: %s:%u: %s", file, line,
              reason ? reason : "panic");
    abort();
}

/* --- life cycle --------------------------------------------------------------- */

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" into HOST (empty for every
 * address; without brackets) and PORT (digits, at most 65535); *NUMERIC
 * is set for a bracketed address. Returns 0, or -1 when S has no such
 * form. */
static int listen_split(const char *s, char *host, size_t hostlen,
                        char *port, size_t portlen, bool *numeric)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    size_t hl = (size_t)(colon - s), pl = strlen(colon + 1);
    *numeric = hl >= 2 && s[0] == '[' && s[hl - 1] == ']';
    if (*numeric) {
        s++;
        hl -= 2;
    }
    if (hl >= hostlen || pl == 0 || pl >= portlen ||
        strspn(colon + 1, "0123456789") != pl ||
        strtoul(colon + 1, NULL, 10) > 65535 ||
        memchr(s, '[', hl) || memchr(s, ']', hl) ||
        (!*numeric && memchr(s, ':', hl)))
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

bool http_listen_valid(const char *spec)
{
    char host[256], port[8];
    bool numeric;
    return listen_split(spec, host, sizeof host, port, sizeof port,
                        &numeric) == 0;
}

/* A listening TCP socket bound to SA (LEN bytes), dual-stack when it is
 * IPv6's any-address. Returns the descriptor, or -1 with errno set. */
static int listen_on(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, sa, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Binds SPEC ("HOST:PORT", "[V6]:PORT", ":PORT" for every address, IPv6
 * and IPv4, or IPv4 only without IPv6) and listens. A host name binds its
 * first IPv4 address, else its first address. Returns the descriptor, or
 * -1 with the system's reason in ERR. */
static int listen_socket(const char *spec, char *err, size_t errlen)
{
    char host[256], port[8];
    bool numeric;
    if (listen_split(spec, host, sizeof host, port, sizeof port,
                     &numeric) != 0) {
        snprintf(err, errlen, "listen address %s: expected HOST:PORT, "
                 "[IPV6]:PORT or :PORT", spec);
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE | (numeric ? AI_NUMERICHOST
                                                            : 0);
    int rc = getaddrinfo(host[0] ? host : "::", port, &hints, &res);
    if (rc != 0 && host[0] == '\0')
        rc = getaddrinfo("0.0.0.0", port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s: %s", spec,
                 host[0] ? host : "any address", gai_strerror(rc));
        return -1;
    }
    int fd = -1, first = 0;
    for (int pass = 0; pass < 2 && fd < 0; pass++)
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            if ((ai->ai_family == AF_INET) != (pass == 0))
                continue;
            fd = listen_on(ai->ai_addr, ai->ai_addrlen);
            if (fd < 0 && first == 0)
                first = errno;
        }
    freeaddrinfo(res);
    if (fd < 0 && host[0] == '\0' && first == EAFNOSUPPORT) {
        struct sockaddr_in a4 = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)strtoul(port, NULL,
                                                                10)) };
        fd = listen_on((struct sockaddr *)&a4, sizeof a4);
        first = fd < 0 ? errno : 0;
    }
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s: %s", spec,
                 strerror(first));
    return fd;
}

/* Writes FD's bound address as "ADDR:PORT" or "[V6]:PORT" to BUF. */
static void bound_address(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a6->sin6_addr, a, sizeof a);
            port = ntohs(a6->sin6_port);
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a4->sin_addr, a, sizeof a);
            port = ntohs(a4->sin_port);
        }
    }
    snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
             port);
}

/* The connection limit: WANTED (0: 10000), at most the open-file limit
 * (raised to its hard maximum) less a reserve for the store, the logs and
 * the listening socket. */
static unsigned connection_limit(unsigned wanted)
{
    struct rlimit rl;
    unsigned limit = wanted ? wanted : 10000u;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return limit;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)limit + 64)
        limit = rl.rlim_cur > 128 ? (unsigned)rl.rlim_cur - 64 : 64;
    return limit;
}

int http_start(const struct http_options *opt, const struct http_route *routes,
               size_t n, struct http_server **out, char *err, size_t errlen)
{
    int fd = listen_socket(opt->listen, err, errlen);
    if (fd < 0)
        return -1;
    struct http_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bound_address(fd, s->bound, sizeof s->bound);
    s->routes = routes;
    s->nroutes = n;
    s->request_timeout_ms = (opt->request_timeout_s ? opt->request_timeout_s
                                                    : 10u) * 1000u;
    s->max_per_client = opt->max_per_ip;
    s->trusted = opt->trusted;
    s->ntrusted = opt->ntrusted;
    s->access_log = opt->access_log;
    s->log_ip = opt->log_ip;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    s->canned_204 = MHD_create_response_from_buffer(0, NULL,
                                                    MHD_RESPMEM_PERSISTENT);
    s->canned_gif = MHD_create_response_from_buffer(
        sizeof gif_bytes, (void *)gif_bytes, MHD_RESPMEM_PERSISTENT);
    if (s->canned_204 == NULL || s->canned_gif == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    MHD_add_response_header(s->canned_204, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(s->canned_gif, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "image/gif");
    MHD_add_response_header(s->canned_gif, MHD_HTTP_HEADER_CACHE_CONTROL,
                            "no-store");

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = opt->threads ? opt->threads
                                    : (unsigned)(cores > 0 ? cores : 2);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
    if (s->bound[0] == '[')
        flags |= MHD_USE_IPv6;
    MHD_set_panic_func(on_panic, NULL);
    s->d = MHD_start_daemon(
        flags, 0, on_accept, s, on_request, s,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit(opt->max_connections),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT,
        opt->idle_timeout_s ? opt->idle_timeout_s : 5u,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_END);
    if (s->d == NULL) {
        close(fd);
        snprintf(err, errlen, "cannot serve on %s: libmicrohttpd did not "
                 "start", s->bound);
        goto fail;
    }
    if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
        MHD_stop_daemon(s->d);
        snprintf(err, errlen, "cannot start a thread");
        goto fail;
    }
    s->sweeping = true;
    *out = s;
    return 0;
fail:
    if (s->canned_204)
        MHD_destroy_response(s->canned_204);
    if (s->canned_gif)
        MHD_destroy_response(s->canned_gif);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
    return -1;
}

/* Not MHD_quiesce_daemon: with a thread pool on epoll, it races the
 * workers that take the listening socket out of their own epoll sets and
 * panics when they win (libmicrohttpd 0.9.75). The socket stays open
 * until http_stop; what arrives meanwhile gets a 503. */
void http_refuse_new(struct http_server *s)
{
    atomic_store(&s->closing, true);
}

unsigned http_inflight(struct http_server *s)
{
    return atomic_load(&s->inflight);
}

int http_wait_idle(struct http_server *s, unsigned timeout_ms)
{
    struct timespec step = { 0, 10 * 1000000L };
    for (unsigned waited = 0; atomic_load(&s->inflight) > 0; waited += 10) {
        if (waited >= timeout_ms)
            return -1;
        nanosleep(&step, NULL);
    }
    return 0;
}

void http_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop_sweeping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->sweeping)
        pthread_join(s->sweeper, NULL);
    MHD_stop_daemon(s->d);
    MHD_destroy_response(s->canned_204);
    MHD_destroy_response(s->canned_gif);
    for (size_t i = 0; i < CLIENT_BUCKETS; i++)
        while (s->clients[i]) {
            struct client_count *next = s->clients[i]->next;
            free(s->clients[i]);
            s->clients[i] = next;
        }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

const char *http_bound_address(const struct http_server *s)
{
    return s->bound;
}
