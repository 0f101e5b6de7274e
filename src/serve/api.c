/* api.c — see api.h. Parses and checks the request, asks report.c for the
 * numbers and render.c for the text; knows nothing of LMDB or JSON. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dwell/assets.h"
#include "dwell/chsource.h"
#include "dwell/helpdesk.h"
#include "dwell/query.h"
#include "dwell/tickets.h"
#include "dwell/token.h"
#include "dwell/ratelimit.h"
#include "base/crypto.h"
#include "base/json.h"
#include "serve/metrics.h"

#define API_PREFIX "/api/v1/sites/"

/* Every API answer is data, never a page: nothing in it may run, be
 * sniffed into HTML, framed, or name the API in a Referer. */
#define API_CSP "default-src 'none'; frame-ancestors 'none'"

struct api_request {
    char site[EVENT_SITE_MAX + 1];
    enum query_kind kind;
    uint64_t article;
    bool csv;
    char ticket[STORE_TICKET_ID_MAX + 1];
};

/* Fills R with a 400 naming the parameter. */
static void bad_param(struct http_reply *r, const char *param,
                      const char *what)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", param, what);
    http_reply_error(r, 400, msg);
}

/* Reads "tickets/ID/reads" or "articles/ID" (16 hex digits) of REST into
 * A. Returns 0, or -1 when REST is neither. */
static int parse_id_path(const char *rest, struct api_request *a)
{
    size_t n = strlen(rest);
    if (strncmp(rest, "tickets/", 8) == 0 && n > 14 &&
        strcmp(rest + n - 6, "/reads") == 0) {
        size_t idl = n - 8 - 6;
        if (idl == 0 || idl > STORE_TICKET_ID_MAX)
            return -1;
        memcpy(a->ticket, rest + 8, idl);
        a->ticket[idl] = '\0';
        a->kind = QUERY_TICKET_READS;
        return 0;
    }
    if (strncmp(rest, "articles/", 9) == 0 && n == 25) {
        char *end;
        errno = 0;
        a->article = strtoull(rest + 9, &end, 16);
        if (errno != 0 || *end != '\0' || a->article == 0)
            return -1;
        a->kind = QUERY_ARTICLE;
        return 0;
    }
    return -1;
}

/* Splits "SITE/KIND[.csv]", "SITE/articles/ID[.csv]" or
 * "SITE/tickets/ID/reads[.csv]". Returns 0, or -1 (404) for a path that
 * names no report. */
static int parse_path(const char *path, struct api_request *a)
{
    const char *p = path + strlen(API_PREFIX);
    size_t sl = strcspn(p, "/");
    if (sl == 0 || sl > EVENT_SITE_MAX || p[sl] != '/')
        return -1;
    memcpy(a->site, p, sl);
    a->site[sl] = '\0';
    char rest[128];
    if (strlen(p + sl + 1) >= sizeof rest)
        return -1;
    snprintf(rest, sizeof rest, "%s", p + sl + 1);
    size_t n = strlen(rest);
    if (n > 4 && strcmp(rest + n - 4, ".csv") == 0) {
        a->csv = true;
        rest[n - 4] = '\0';
    }
    int k = query_kind_of(rest);
    if (k < 0 || k == QUERY_ARTICLE || k == QUERY_TICKET_READS)
        return parse_id_path(rest, a);
    a->kind = (enum query_kind)k;
    return 0;
}

/* query_arg_fn over the request's query string. */
static const char *request_arg(void *ctx, const char *name)
{
    return http_req_arg(ctx, name);
}

/* The token of the request: the bearer header, else ?token=. */
static const char *request_token(const struct http_req *q)
{
    const char *h = http_req_header(q, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        return h + 7;
    return http_req_arg(q, "token");
}

/* The keys of Q's failed-authentication buckets: its client's address
 * (through trusted proxies) in ADDR, a hash of its token (if any) in TOK;
 * returns whether there is a token. */
static bool auth_keys(const struct api *api, const struct http_req *q,
                      uint8_t addr[16], uint8_t tok[16])
{
    struct ipaddr a;
    clientaddr_resolve(&q->peer, http_req_header(q, "X-Forwarded-For"),
                       api->trusted, api->ntrusted, &a);
    memcpy(addr, a.b, 16);
    if (!ipaddr_is_v4(&a))              /* an IPv6 client owns a /64 */
        memset(addr + 8, 0, 8);
    const char *t = request_token(q);
    if (t == NULL)
        return false;
    uint8_t h[CRYPTO_SHA256_LEN];
    crypto_sha256(t, strlen(t), h);
    memcpy(tok, h, 16);
    return true;
}

/* Before a token is looked at: fills R with a 429 and returns -1 when Q's
 * address, or its token, has failed to authenticate too often lately. */
static int auth_allowed(struct api *api, const struct http_req *q,
                        struct http_reply *r)
{
    if (api->auth_fails == NULL)
        return 0;
    uint8_t addr[16], tok[16];
    bool has_tok = auth_keys(api, q, addr, tok);
    uint64_t now = rate_now_us();
    unsigned wait = rate_peek(api->auth_fails, addr, now);
    if (wait == 0 && has_tok)
        wait = rate_peek(api->auth_fails, tok, now);
    if (wait == 0)
        return 0;
    rate_reply(r, wait, "too many failed authentications; try again later "
               "(see Retry-After)");
    return -1;
}

/* Counts a failed authentication of Q (verdict V): against its token when
 * the token exists but may not do this, else against its address. */
static void auth_failed(struct api *api, const struct http_req *q,
                        enum token_verdict v)
{
    if (api->auth_fails == NULL || v == TOKEN_OK || v == TOKEN_ERROR)
        return;
    uint8_t addr[16], tok[16];
    bool has_tok = auth_keys(api, q, addr, tok);
    bool by_token = has_tok && (v == TOKEN_WRONG_SITE ||
                                v == TOKEN_READ_ONLY);
    rate_take(api->auth_fails, by_token ? tok : addr, rate_now_us());
}

/* Sets R from VERDICT; returns 0 when access is granted. */
static int check_access(struct api *api, const struct http_req *q,
                        const char *site, struct http_reply *r)
{
    if (auth_allowed(api, q, r) != 0)
        return -1;
    enum token_verdict v = token_authorize(api->store, request_token(q),
                                           site, false);
    auth_failed(api, q, v);
    switch (v) {
    case TOKEN_OK:
        return 0;
    case TOKEN_MISSING:
        http_reply_error(r, 401, "a token is required (Authorization: "
                         "Bearer TOKEN, or ?token=TOKEN)");
        break;
    case TOKEN_INVALID:
        http_reply_error(r, 401, "unknown or revoked token");
        break;
    case TOKEN_WRONG_SITE:
    case TOKEN_READ_ONLY:
        http_reply_error(r, 403, "this token is not valid for this site");
        break;
    default:
        http_reply_error(r, 500, "storage error");
        break;
    }
    http_reply_header(r, "WWW-Authenticate", "Bearer");
    return -1;
}

/* Fills R with the 404 for a path that names no report, listing the
 * kinds of the query table. */
static void no_such_report(struct http_reply *r)
{
    char msg[400];
    size_t n = (size_t)snprintf(msg, sizeof msg, "no such report (");
    const char *sep = "";
    for (int k = 0; k < QUERY_KINDS && n < sizeof msg; k++) {
        const struct query_kind_def *d = &query_kinds[k];
        if (d->name == NULL)
            continue;
        n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s%s%s%s", sep,
                              d->name,
                              d->alias ? " (or " : "",
                              d->alias ? d->alias : "", d->alias ? ")" : "");
        sep = ", ";
    }
    if (n < sizeof msg)
        snprintf(msg + n, sizeof msg - n, ")");
    http_reply_error(r, 404, msg);
}

/* Runs Q on SITE from API's source (ClickHouse with --reports, else the
 * store) into *OUT; on QUERY_UNAVAILABLE, REASON (CAP bytes) says why. */
static enum query_status run_query(struct api *api, const char *site,
                                   const struct query *q,
                                   enum render_format f, char **out,
                                   char *reason, size_t cap)
{
    if (api->reports == NULL)
        return query_run(api->store, q, f, out);
    struct report_source src;
    *out = NULL;
    if (chsource_begin(api->reports, site, &src) != 0)
        return QUERY_NO_MEMORY;
    enum query_status rc = query_run_from(&src, q, f, out);
    const char *why = report_source_error(&src);
    snprintf(reason, cap, "%s", why ? why : "ClickHouse failed");
    chsource_end(&src);
    return rc;
}

/* Parses the parameters of A's report and runs it; returns the rendered
 * text, or NULL with R set to the error. */
static char *run_report(struct api *api, const struct http_req *hq,
                        const struct api_request *a, uint32_t site_id,
                        struct http_reply *r)
{
    struct query q;
    const char *param;
    char why[160];
    if (query_parse(a->kind, a->site, request_arg, (void *)hq, &q, &param,
                    why, sizeof why) != 0) {
        bad_param(r, param, why);
        return NULL;
    }
    q.q.site_id = site_id;
    q.article = a->article;
    q.ticket = a->ticket;
    char *out;
    char reason[300];
    switch (run_query(api, a->site, &q, a->csv ? RENDER_CSV : RENDER_JSON,
                      &out, reason, sizeof reason)) {
    case QUERY_OK:
        return out;
    case QUERY_UNAVAILABLE:
        http_reply_error(r, 503, reason);
        return NULL;
    case QUERY_NOT_FOUND:
        http_reply_error(r, 404, a->kind == QUERY_TICKET_READS
                         ? "no such ticket on this site"
                         : "no such article on this site");
        return NULL;
    case QUERY_STORAGE:
        http_reply_error(r, 500, "storage error");
        return NULL;
    case QUERY_NO_MEMORY:
        break;
    }
    http_reply_error(r, 500, "out of memory");
    return NULL;
}

void api_reports(void *ctx, const struct http_req *q, struct http_reply *r)
{
    struct api *api = ctx;
    struct api_request a;
    memset(&a, 0, sizeof a);
    assets_locked_down(r, API_CSP);
    if (parse_path(q->path, &a) != 0) {
        no_such_report(r);
        return;
    }
    if (check_access(api, q, a.site, r) != 0)
        return;
    struct site site;
    int rc = store_site_get(api->store, a.site, strlen(a.site), &site);
    if (rc != 0) {
        http_reply_error(r, rc > 0 ? 404 : 500,
                         rc > 0 ? "unknown site" : "storage error");
        return;
    }
    snprintf(r->site, sizeof r->site, "%s", site.name);
    const char *accept = http_req_header(q, "Accept");
    if (accept && strstr(accept, "text/csv"))
        a.csv = true;
    char *out = run_report(api, q, &a, site.id, r);
    if (out == NULL)
        return;
    r->status = 200;
    r->content_type = a.csv ? "text/csv; charset=utf-8" : "application/json";
    r->body = out;
    r->len = strlen(out);
    r->owned = out;
    http_reply_header(r, "Cache-Control", "no-store");
}

/* --- the ticket webhook ------------------------------------------------------------ */

/* The secret that checks Help Scout signatures for SITE_NAME, copied to
 * BUF: the site's own (dwell site add SITE --helpscout-secret S), else the
 * server's --helpscout-secret, a fallback for sites without one (and for
 * an unknown site, which gets its 404 later). NULL when there is neither,
 * or on a storage error. */
static const char *helpscout_secret(struct api *api, const char *site_name,
                                    char buf[HELPDESK_SECRET_MAX + 1])
{
    struct site site;
    size_t len = 0;
    int rc = store_site_get(api->store, site_name, strlen(site_name), &site);
    if (rc != 0)
        return rc > 0 ? api->helpscout_secret : NULL;
    rc = store_site_note_get(api->store, site.id, HELPDESK_HELPSCOUT_NOTE,
                             buf, HELPDESK_SECRET_MAX, &len);
    if (rc < 0)
        return NULL;
    if (rc > 0 || len == 0)
        return api->helpscout_secret;
    buf[len] = '\0';
    return buf;
}

/* POST /api/v1/tickets (see api_tickets); sets *UNCHANGED when the ticket
 * was stored before, as it is. */
static void tickets_post(struct api *api, const struct http_req *q,
                         struct http_reply *r, bool *unchanged_out)
{
    const char *site_name = http_req_arg(q, "site");
    assets_locked_down(r, API_CSP);
    if (site_name == NULL || site_name[0] == '\0') {
        http_reply_error(r, 400, "site: missing (?site=SITE)");
        return;
    }
    if (auth_allowed(api, q, r) != 0)
        return;
    const char *sig = http_req_header(q, "X-HelpScout-Signature");
    char own[HELPDESK_SECRET_MAX + 1];
    const char *secret = sig ? helpscout_secret(api, site_name, own) : NULL;
    bool signed_ok = secret &&
        helpdesk_helpscout_signature_ok(q->body ? q->body : "", q->body_len,
                                        secret, sig);
    if (secret && !signed_ok) {
        auth_failed(api, q, TOKEN_INVALID);
        http_reply_error(r, 401, "X-HelpScout-Signature does not match");
        return;
    }
    if (!signed_ok) {
        enum token_verdict v = token_authorize(api->store, request_token(q),
                                               site_name, true);
        auth_failed(api, q, v);
        if (v != TOKEN_OK) {
            http_reply_error(r, v == TOKEN_MISSING || v == TOKEN_INVALID
                             ? 401 : v == TOKEN_ERROR ? 500 : 403,
                             v == TOKEN_MISSING ? "a token is required"
                             : v == TOKEN_INVALID ? "unknown or revoked token"
                             : v == TOKEN_READ_ONLY
                             ? "a read-only token cannot write tickets"
                             : v == TOKEN_ERROR ? "storage error"
                             : "this token is not valid for this site");
            http_reply_header(r, "WWW-Authenticate", "Bearer");
            return;
        }
    }
    struct site site;
    int rc = store_site_get(api->store, site_name, strlen(site_name), &site);
    if (rc != 0) {
        http_reply_error(r, rc > 0 ? 404 : 500,
                         rc > 0 ? "unknown site" : "storage error");
        return;
    }
    struct helpdesk_options opt = { http_req_arg(q, "link_field"), NULL, 0 };
    struct ticket t;
    struct store_ticket stored;
    char err[256];
    if (q->body_len == 0 ||
        helpdesk_parse_webhook(q->body, q->body_len, &opt, &t, err,
                               sizeof err) != 0) {
        http_reply_error(r, 400, q->body_len ? err : "empty body");
        return;
    }
    size_t unchanged = 0;
    if (tickets_to_store(api->store, &t, &stored) != 0 ||
        store_tickets_put(api->store, site.id, &stored, 1, &unchanged, err,
                          sizeof err) != 0) {
        http_reply_error(r, 503, "ticket not stored; try again");
        http_reply_header(r, "Retry-After", "1");
        return;
    }
    *unchanged_out = unchanged != 0;
    snprintf(r->site, sizeof r->site, "%s", site.name);
    struct json j;
    size_t len;
    json_init(&j, 6 * STORE_TICKET_ID_MAX + 64);   /* every byte escaped */
    json_object_begin(&j);
    json_key_string(&j, "ticket", stored.id);
    json_key_bool(&j, "stored", unchanged == 0);
    json_object_end(&j);
    json_newline(&j);
    char *body = json_finish(&j, &len);
    if (body == NULL) {
        http_reply_error(r, 500, "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    r->body = body;
    r->len = len;
    r->owned = body;
}

void api_tickets(void *ctx, const struct http_req *q, struct http_reply *r)
{
    bool unchanged = false;
    tickets_post(ctx, q, r, &unchanged);
    switch (r->status) {
    case 200:
        metrics_webhook(unchanged ? METRICS_WH_UNCHANGED : METRICS_WH_STORED);
        break;
    case 400: metrics_webhook(METRICS_WH_BAD_REQUEST); break;
    case 401: metrics_webhook(METRICS_WH_UNAUTHORIZED); break;
    case 403: metrics_webhook(METRICS_WH_FORBIDDEN); break;
    case 404: metrics_webhook(METRICS_WH_UNKNOWN_SITE); break;
    case 429: metrics_webhook(METRICS_WH_RATE_LIMITED); break;
    default: metrics_webhook(METRICS_WH_ERROR); break;
    }
}

void api_tickets_refused(void *ctx, int status)
{
    (void)ctx;
    metrics_webhook(status == 413 ? METRICS_WH_TOO_LARGE
                                  : METRICS_WH_BAD_REQUEST);
}
