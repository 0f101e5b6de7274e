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

#include "dwell/correlate.h"
#include "dwell/helpdesk.h"
#include "dwell/render.h"
#include "dwell/report.h"
#include "dwell/tickets.h"
#include "dwell/token.h"

#define API_PREFIX "/api/v1/sites/"
#define API_MAX_LIMIT 1000

enum api_view { VIEW_SUMMARY, VIEW_ARTICLES, VIEW_ARTICLE, VIEW_SEARCHES,
                VIEW_DEFLECTION, VIEW_TOPICS, VIEW_GAPS, VIEW_TICKET_READS,
                VIEW_LEGEND };

struct api_request {
    char site[EVENT_SITE_MAX + 1];
    enum api_view view;
    uint64_t article;
    bool csv;
    struct report_query q;
    struct report_range range;
    const char *sort;
    bool descending;
    size_t limit, offset;
    char ticket[STORE_TICKET_ID_MAX + 1];
    const char *window;
    uint64_t window_us;
    struct correlate_map map[32];
    size_t nmap;
};

/* Fills R with a 400 naming the parameter. */
static void bad_param(struct http_reply *r, const char *param,
                      const char *what)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", param, what);
    http_reply_error(r, 400, msg);
}

/* Splits "SITE/VIEW[.csv]" or "SITE/articles/ID[.csv]". Returns 0, or -1
 * (404) for a path that names no report. */
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
    if (strcmp(rest, "summary") == 0) {
        a->view = VIEW_SUMMARY;
    } else if (strcmp(rest, "articles") == 0) {
        a->view = VIEW_ARTICLES;
    } else if (strcmp(rest, "searches") == 0) {
        a->view = VIEW_SEARCHES;
    } else if (strcmp(rest, "contact-after-read") == 0 ||
               strcmp(rest, "deflection") == 0) {  /* its 0.1 name, kept */
        a->view = VIEW_DEFLECTION;
    } else if (strcmp(rest, "topics") == 0) {
        a->view = VIEW_TOPICS;
    } else if (strcmp(rest, "gaps") == 0) {
        a->view = VIEW_GAPS;
    } else if (strcmp(rest, "legend") == 0) {
        a->view = VIEW_LEGEND;
    } else if (strncmp(rest, "tickets/", 8) == 0 && n > 14 &&
               strcmp(rest + strlen(rest) - 6, "/reads") == 0) {
        size_t idl = strlen(rest) - 8 - 6;
        if (idl == 0 || idl > STORE_TICKET_ID_MAX)
            return -1;
        memcpy(a->ticket, rest + 8, idl);
        a->ticket[idl] = '\0';
        a->view = VIEW_TICKET_READS;
    } else if (strncmp(rest, "articles/", 9) == 0 && strlen(rest) == 25) {
        char *end;
        errno = 0;
        a->article = strtoull(rest + 9, &end, 16);
        if (errno != 0 || *end != '\0' || a->article == 0)
            return -1;
        a->view = VIEW_ARTICLE;
    } else {
        return -1;
    }
    return 0;
}

static int parse_count(const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Reads the query parameters. Returns 0, or -1 with R set to the 400. */
static int parse_params(const struct http_req *q, struct api_request *a,
                        struct http_reply *r)
{
    const char *v, *param, *why;
    /* 30 days; 90 for the ticket correlation, whose topics need weeks */
    uint32_t span = a->view == VIEW_DEFLECTION || a->view == VIEW_TOPICS ||
                    a->view == VIEW_GAPS ? 90 : 30;
    struct report_range_ask ask = { http_req_arg(q, "from"),
                                    http_req_arg(q, "to"),
                                    http_req_arg(q, "days") };
    if (report_range_resolve(&ask, span, report_today(), &a->range, &param,
                             &why) != 0)
        return bad_param(r, param, why), -1;
    a->q.from = a->range.from;
    a->q.to = a->range.to;
    if ((v = http_req_arg(q, "include_bots"))) {
        if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
            return bad_param(r, "include_bots", "must be 0 or 1"), -1;
        a->q.include_bots = v[0] == '1';
    }
    a->sort = "views";
    if ((v = http_req_arg(q, "sort"))) {
        bool known = false;
        for (int i = 0; report_sort_keys[i]; i++)
            known |= strcmp(v, report_sort_keys[i]) == 0;
        if (!known)
            return bad_param(r, "sort", "unknown metric"), -1;
        a->sort = v;
    }
    a->descending = strcmp(a->sort, "title") != 0 &&
                    strcmp(a->sort, "path") != 0 &&
                    strcmp(a->sort, "category") != 0;
    if ((v = http_req_arg(q, "order"))) {
        if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0)
            return bad_param(r, "order", "must be asc or desc"), -1;
        a->descending = v[0] == 'd';
    }
    a->limit = 50;
    if ((v = http_req_arg(q, "limit")) &&
        (parse_count(v, API_MAX_LIMIT, &a->limit) != 0 || a->limit == 0))
        return bad_param(r, "limit", "must be 1–1000"), -1;
    if ((v = http_req_arg(q, "offset")) &&
        parse_count(v, 100000000, &a->offset) != 0)
        return bad_param(r, "offset", "must be a number >= 0"), -1;
    if ((v = http_req_arg(q, "prefix")) && v[0] != '\0') {
        if (v[0] != '/')
            return bad_param(r, "prefix", "must start with /"), -1;
        a->q.prefix = v;
    }
    if ((v = http_req_arg(q, "category")) && v[0] != '\0')
        a->q.category = v;
    if ((v = http_req_arg(q, "kind")) &&
        report_parse_kinds(v, &a->q.kinds) != 0)
        return bad_param(r, "kind", "expected article, search, list, home "
                         "(joined by commas) or all"), -1;
    a->window = "24h";
    if ((v = http_req_arg(q, "window")))
        a->window = v;
    if (correlate_parse_window(a->window, &a->window_us) != 0)
        return bad_param(r, "window", "expected e.g. 30m, 24h or 7d "
                         "(1 minute to 30 days)"), -1;
    if ((v = http_req_arg(q, "topics")) && v[0] != '\0') {
        int n = correlate_parse_map(v, a->map, 32);
        if (n < 0)
            return bad_param(r, "topics", "expected category:tag,…"), -1;
        a->nmap = (size_t)n;
    }
    return 0;
}

/* The token of the request: the bearer header, else ?token=. */
static const char *request_token(const struct http_req *q)
{
    const char *h = http_req_header(q, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        return h + 7;
    return http_req_arg(q, "token");
}

/* Sets R from VERDICT; returns 0 when access is granted. */
static int check_access(struct api *api, const struct http_req *q,
                        const char *site, struct http_reply *r)
{
    switch (token_authorize(api->store, request_token(q), site, false)) {
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

/* The reads before one ticket; NULL with *RC = 1 and R set to a 404 when
 * the ticket is unknown. */
static char *ticket_reads(struct api *api, const struct api_request *a,
                          const struct render_scope *sc, enum render_format f,
                          struct http_reply *r, int *rc)
{
    struct correlate_read reads[200];
    struct store_article *arts = calloc(200, sizeof *arts);
    size_t n = 0;
    bool linked = false;
    char *out = NULL;
    if (arts == NULL) {
        *rc = -1;
        return NULL;
    }
    *rc = correlate_ticket_reads(api->store, a->q.site_id, a->ticket,
                                 a->window_us, reads, 200, &n, &linked);
    if (*rc == 1) {
        http_reply_error(r, 404, "no such ticket on this site");
    } else if (*rc == 0) {
        for (size_t i = 0; i < n; i++)
            if (store_article_get(api->store, a->q.site_id,
                                  reads[i].article, &arts[i]) != 0)
                snprintf(arts[i].path, sizeof arts[i].path, "?");
        out = render_ticket_reads(sc, a->ticket, a->window, linked, reads, n,
                                  arts, f);
    }
    free(arts);
    return out;
}

/* Runs the report A asks for; returns the rendered text or NULL (R set). */
static char *run_report(struct api *api, struct api_request *a,
                        struct http_reply *r)
{
    struct render_scope sc = { a->site, &a->q, &a->range };
    enum render_format f = a->csv ? RENDER_CSV : RENDER_JSON;
    char *out = NULL;
    int rc = 0;
    switch (a->view) {
    case VIEW_SUMMARY: {
        struct report_summary s;
        if ((rc = report_summary(api->store, &a->q, &s)) == 0)
            out = render_summary(&sc, &s, f);
        report_summary_free(&s);
        break;
    }
    case VIEW_ARTICLES: {
        struct report_list l;
        if ((rc = report_articles(api->store, &a->q, false, &l)) == 0) {
            if (strcmp(a->sort, "attention") == 0)
                report_rank_attention(&l);
            report_sort(&l, a->sort, a->descending);
            out = render_articles(&sc, &l, a->offset, a->limit, a->sort,
                                  a->descending, f);
        }
        report_list_free(&l);
        break;
    }
    case VIEW_ARTICLE: {
        struct report_detail d;
        rc = report_detail(api->store, &a->q, a->article, &d);
        if (rc == 0)
            out = render_article(&sc, &d, f);
        report_detail_free(&d);
        if (rc == 1) {
            http_reply_error(r, 404, "no such article on this site");
            return NULL;
        }
        break;
    }
    case VIEW_DEFLECTION:
    case VIEW_TOPICS:
    case VIEW_GAPS: {
        struct correlate_query cq = { a->q.site_id, a->q.from, a->q.to,
                                      a->window_us, a->map, a->nmap };
        struct correlate_result res;
        enum render_part part = a->view == VIEW_DEFLECTION ? RENDER_DEFLECTION
                              : a->view == VIEW_TOPICS ? RENDER_TOPICS
                              : RENDER_GAPS;
        if ((rc = correlate_run(api->store, &cq, &res)) == 0)
            out = render_correlation(&sc, a->window, &res, part, f);
        correlate_free(&res);
        break;
    }
    case VIEW_LEGEND:
        out = render_legend(f);
        break;
    case VIEW_TICKET_READS:
        out = ticket_reads(api, a, &sc, f, r, &rc);
        if (out == NULL && rc == 1)
            return NULL;
        break;
    case VIEW_SEARCHES: {
        struct report_counts s = { 0 }, z = { 0 };
        if ((rc = report_searches(api->store, &a->q, a->limit, &s)) == 0 &&
            (rc = report_dim(api->store, &a->q, 0, STORE_DIM_SEARCH_ZERO,
                             a->limit, &z)) == 0)
            out = render_searches(&sc, &s, &z, f);
        report_counts_free(&s);
        report_counts_free(&z);
        break;
    }
    }
    if (out == NULL)
        http_reply_error(r, 500, rc ? "storage error" : "out of memory");
    return out;
}

void api_reports(void *ctx, const struct http_req *q, struct http_reply *r)
{
    struct api *api = ctx;
    struct api_request a;
    memset(&a, 0, sizeof a);
    if (parse_path(q->path, &a) != 0) {
        http_reply_error(r, 404, "no such report (summary, articles, "
                         "articles/ID, searches, contact-after-read "
                         "(or deflection), topics, gaps, tickets/ID/reads, "
                         "legend)");
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
    a.q.site_id = site.id;
    const char *accept = http_req_header(q, "Accept");
    if (accept && strstr(accept, "text/csv"))
        a.csv = true;
    if (a.view != VIEW_LEGEND && parse_params(q, &a, r) != 0)
        return;
    char *out = run_report(api, &a, r);
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

void api_tickets(void *ctx, const struct http_req *q, struct http_reply *r)
{
    struct api *api = ctx;
    const char *site_name = http_req_arg(q, "site");
    if (site_name == NULL || site_name[0] == '\0') {
        http_reply_error(r, 400, "site: missing (?site=SITE)");
        return;
    }
    const char *sig = http_req_header(q, "X-HelpScout-Signature");
    bool signed_ok = sig && api->helpscout_secret &&
        helpdesk_helpscout_signature_ok(q->body ? q->body : "", q->body_len,
                                        api->helpscout_secret, sig);
    if (sig && api->helpscout_secret && !signed_ok) {
        http_reply_error(r, 401, "X-HelpScout-Signature does not match");
        return;
    }
    if (!signed_ok) {
        enum token_verdict v = token_authorize(api->store, request_token(q),
                                               site_name, true);
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
    char quoted[2 * STORE_TICKET_ID_MAX + 8];
    size_t n = 0;
    for (const char *c = stored.id; *c && n + 3 < sizeof quoted; c++) {
        if (*c == '"' || *c == '\\')
            quoted[n++] = '\\';
        quoted[n++] = (unsigned char)*c < 0x20 ? ' ' : *c;
    }
    quoted[n] = '\0';
    int len = snprintf(r->scratch, sizeof r->scratch,
                       "{\"ticket\":\"%s\",\"stored\":%s}\n", quoted,
                       unchanged ? "false" : "true");
    r->status = 200;
    r->content_type = "application/json";
    r->body = r->scratch;
    r->len = len > 0 && (size_t)len < sizeof r->scratch ? (size_t)len : 0;
}
