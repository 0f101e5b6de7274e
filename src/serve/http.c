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
enum ack_state { ACK_RUNNING, ACK_SUSPENDED, ACK_DONE };

struct http_server {
    struct MHD_Daemon *d;
    const struct http_route *routes;
    size_t nroutes;
    atomic_uint inflight;
    atomic_bool closing;
    struct MHD_Response *canned_204, *canned_gif;
};

/* One request in progress; owned by MHD's con_cls, freed on completion. */
struct conn_state {
    struct http_server *srv;
    struct MHD_Connection *c;
    size_t url_len;
    enum phase phase;
    bool too_large;
    size_t max_body;             /* of the route, or HTTP_MAX_BODY */
    size_t body_len;
    char *body;                  /* MAX_BODY bytes, POST only */
    atomic_int ack_state;
    atomic_int ack_status;
    struct http_req req;
    struct http_reply reply;
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

static enum MHD_Result send_reply(struct conn_state *cs,
                                  struct http_reply *r)
{
    struct MHD_Response *resp;
    int status = r->status;
    bool canned = true;
    if (r->canned == HTTP_CANNED_204) {
        resp = cs->srv->canned_204;
        status = MHD_HTTP_NO_CONTENT;
    } else if (r->canned == HTTP_CANNED_GIF) {
        resp = cs->srv->canned_gif;
        status = MHD_HTTP_OK;
    } else {
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
    if (cs->url_len > HTTP_MAX_URL)
        return send_error(cs, 414,
                          "URL longer than 2048 bytes");
    const struct http_route *rt = find_route(s, url);
    if (rt == NULL)
        return send_error(cs, MHD_HTTP_NOT_FOUND, "no such resource");
    unsigned m = method_bit(method);
    if (!(rt->methods & m)) {
        http_reply_error(&cs->reply, MHD_HTTP_METHOD_NOT_ALLOWED,
                         "method not allowed");
        http_reply_header(&cs->reply, MHD_HTTP_HEADER_ALLOW,
                          allow_value(rt->methods));
        return send_reply(cs, &cs->reply);
    }
    if (cs->too_large)
        return send_error(cs, 413, cs->max_body == HTTP_MAX_BODY
                          ? "body larger than 8192 bytes"
                          : "body too large for this endpoint");

    cs->req.method = m;
    cs->req.path = url;
    cs->req.body = cs->body;
    cs->req.body_len = cs->body_len;
    cs->req.conn = cs;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(cs->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL ||
        ipaddr_from_sockaddr(ci->client_addr, &cs->req.peer) != 0)
        memset(&cs->req.peer, 0, sizeof cs->req.peer);

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

static struct conn_state *conn_state_new(struct http_server *s,
                                         struct MHD_Connection *c,
                                         size_t url_len)
{
    struct conn_state *cs = calloc(1, sizeof *cs);
    if (cs == NULL)
        return NULL;
    cs->srv = s;
    cs->c = c;
    cs->url_len = url_len;
    atomic_init(&cs->ack_state, ACK_RUNNING);
    atomic_init(&cs->ack_status, 0);
    atomic_fetch_add(&s->inflight, 1);
    return cs;
}

/* Appends a chunk of the request body, remembering when it gets too big. */
static void take_body(struct conn_state *cs, const char *data, size_t n)
{
    if (cs->too_large)
        return;
    if (cs->body_len + n > cs->max_body) {
        cs->too_large = true;
        return;
    }
    if (cs->body == NULL && (cs->body = malloc(cs->max_body)) == NULL) {
        cs->too_large = true;
        return;
    }
    memcpy(cs->body + cs->body_len, data, n);
    cs->body_len += n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct conn_state *cs = *con_cls;
    (void)version;
    if (cs == NULL || ((uintptr_t)cs & 1)) {
        size_t url_len = (uintptr_t)cs >> 1;
        if ((cs = conn_state_new(s, c, url_len)) == NULL)
            return MHD_NO;
        *con_cls = cs;
    }
    if (cs->phase == PHASE_WAITING)
        return answer_acked(cs);
    if (cs->phase == PHASE_NEW) {
        cs->phase = PHASE_BODY;
        const char *cl = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const struct http_route *rt = find_route(s, url);
        cs->max_body = rt && rt->max_body ? rt->max_body : HTTP_MAX_BODY;
        if (cl != NULL && strtoull(cl, NULL, 10) > cs->max_body)
            return send_error(cs, 413, cs->max_body == HTTP_MAX_BODY
                              ? "body larger than 8192 bytes"
                              : "body too large for this endpoint");
        return MHD_YES;
    }
    if (*upload_size > 0) {
        take_body(cs, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(cs, url, method);
}

/* Records the raw URL's length before the request is parsed. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    size_t n = strlen(uri);
    if (n > SIZE_MAX / 4)
        n = SIZE_MAX / 4;
    return (void *)(uintptr_t)((n << 1) | 1);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct conn_state *cs = *con_cls;
    (void)c;
    (void)toe;
    *con_cls = NULL;
    if (cs == NULL || ((uintptr_t)cs & 1))
        return;
    free(cs->reply.owned);
    free(cs->body);
    free(cs);
    atomic_fetch_sub(&s->inflight, 1);
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

/* Parses "ADDR:PORT", "[V6]:PORT" or ":PORT" into SS. */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
                        socklen_t *len)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host)
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return -1;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (hl == 0)
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return -1;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return 0;
}

int http_start(const struct http_options *opt, const struct http_route *routes,
               size_t n, struct http_server **out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_listen(opt->listen, &ss, &sslen) != 0) {
        snprintf(err, errlen, "--listen %s: expected ADDR:PORT", opt->listen);
        return -1;
    }
    struct http_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->routes = routes;
    s->nroutes = n;
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
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    MHD_set_panic_func(on_panic, NULL);
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT,
        opt->max_connections ? opt->max_connections : 10000u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, opt->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, opt->timeout_s ? opt->timeout_s : 30u,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (s->d == NULL) {
        snprintf(err, errlen, "cannot listen on %s (address in use?)",
                 opt->listen);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (s->canned_204)
        MHD_destroy_response(s->canned_204);
    if (s->canned_gif)
        MHD_destroy_response(s->canned_gif);
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
    MHD_stop_daemon(s->d);
    MHD_destroy_response(s->canned_204);
    MHD_destroy_response(s->canned_gif);
    free(s);
}
