/* main.c — the dwell command line: parses each command's flags and hands
 * over to the module that does the work. The only file that exits. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dwell/clientaddr.h"
#include "dwell/helpdesk.h"
#include "dwell/tickets.h"
#include "dwell/correlate.h"
#include "dwell/demo.h"
#include "dwell/event.h"
#include "dwell/export.h"
#include "dwell/log.h"
#include "dwell/render.h"
#include "dwell/report.h"
#include "dwell/serve.h"
#include "dwell/store.h"
#include "dwell/token.h"

static const char usage[] =
"usage: dwell COMMAND [FLAGS]\n"
"\n"
"commands:\n"
"  serve                 run the collector (pixel, beacon, snippet)\n"
"      --listen ADDR:PORT       default 127.0.0.1:8080\n"
"      --geo FILE               country database (.mmdb)\n"
"      --trust-proxy CIDR       proxy allowed to set X-Forwarded-For (repeatable)\n"
"      --durability MODE        fsync (default) | commit | none\n"
"      --demo DIR               serve the demo help center from DIR at /demo/\n"
"      --helpscout-secret S     verify Help Scout webhooks with secret S\n"
"      --queue N                events queued at most (default 65536)\n"
"      --map-size BYTES         initial LMDB map size (grows on demand)\n"
"      --threads N              HTTP threads (default: one per core)\n"
"      --max-conn-per-ip N      connections per client address (default: no limit)\n"
"  site add NAME --origin URL [--origin URL ...]\n"
"                        register a site (or replace its origins)\n"
"  site list             list the sites\n"
"  events SITE [--since DURATION|all] [--limit N]\n"
"                        print stored events as NDJSON (default: 24h, 1000)\n"
"  report SITE [--from DATE] [--to DATE] [--days N] [--article PATH]\n"
"              [--sort METRIC] [--order asc|desc] [--limit N]\n"
"              [--format table|csv|json] [--include-bots] [--summary]\n"
"              [--searches] [--kind article|search|list|home,...|all]\n"
"                        read-time report (default: the 30 full days\n"
"                        before today, UTC; table)\n"
"  report --legend [--format table|csv|json]\n"
"                        what every metric of the reports means\n"
"  token create SITE [--read-only] [--name NAME]\n"
"  token list | token revoke ID\n"
"                        access tokens for the reports API and share links\n"
"  correlate SITE [--window 30m|24h|7d|…] [--from DATE] [--to DATE]\n"
"              [--part contact-after-read|topics|gaps]\n"
"              [--format table|csv|json]\n"
"              [--topic CATEGORY=TAG]...   (tickets tagged TAG count for\n"
"              the articles of CATEGORY, besides a tag equal to it)\n"
"                        tickets after reading (default: 90 days, 24h)\n"
"  tickets import FILE --site SITE --format FORMAT [--map COLUMN=FIELD]...\n"
"              [--link-field NAME]   FORMAT: zendesk-json, zendesk-csv,\n"
"              freshdesk-json, helpscout-json, intercom-json, csv\n"
"  demo SITE [--days N] [--seed N] [--force]\n"
"                        generate realistic demo traffic (default 90 days);\n"
"                        refuses a site holding other data unless --force;\n"
"                        again with the same seed: changes nothing\n"
"\n"
"every command takes --data DIR (default $DWELL_DATA, else ./data)\n"
"  --help, --version\n";

/* Flags shared by the parser: argv cursor and the value of --data. */
struct args {
    int argc, i;
    char **argv;
    const char *data;
};

/* Prints a usage error and returns the exit status for one. */
static int die_usage(const char *fmt, ...) DWELL_PRINTF(1, 2);

static int die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dwell: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see dwell --help)\n");
    va_end(ap);
    return 2;
}

/* If argv[i] is flag NAME (as "--NAME VALUE" or "--NAME=VALUE"), sets *VAL,
 * advances and returns 1; returns -1 if the value is missing; else 0. */
static int take_flag(struct args *a, const char *name, const char **val)
{
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
        return 0;
    if (arg[2 + n] == '=') {
        *val = arg + 3 + n;
        a->i++;
        return 1;
    }
    if (arg[2 + n] != '\0')
        return 0;
    if (a->i + 1 >= a->argc)
        return -1;
    *val = a->argv[a->i + 1];
    a->i += 2;
    return 1;
}

/* Parses an unsigned number with an optional K/M/G suffix (×1024). */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-')
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10;
    else if (*end == 'M' || *end == 'm') shift = 20;
    else if (*end == 'G' || *end == 'g') shift = 30;
    if (shift)
        end++;
    if (*end != '\0' || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    size_t v;
    if (parse_size(s, &v) != 0 || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Parses "90s", "30m", "24h", "7d" into microseconds. */
static int parse_duration(const char *s, uint64_t *us)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-' || end[0] == '\0' ||
        end[1] != '\0')
        return -1;
    uint64_t unit;
    switch (*end) {
    case 's': unit = 1000000ull; break;
    case 'm': unit = 60000000ull; break;
    case 'h': unit = 3600000000ull; break;
    case 'd': unit = 86400000000ull; break;
    default: return -1;
    }
    if (v > UINT64_MAX / unit)
        return -1;
    *us = v * unit;
    return 0;
}

static int open_store(const char *dir, bool readonly, struct store **st)
{
    char err[512];
    struct store_options o = { .durability = STORE_FSYNC,
                               .readonly = readonly };
    if (store_open(dir, &o, st, err, sizeof err) != 0) {
        fprintf(stderr, "dwell: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_serve(struct args *a)
{
    static struct serve_options o;
    o.listen = "127.0.0.1:8080";
    while (a->i < a->argc) {
        const char *v = NULL;
        int r;
        if ((r = take_flag(a, "listen", &v)) > 0) {
            o.listen = v;
        } else if (r == 0 && (r = take_flag(a, "data", &v)) > 0) {
            a->data = v;
        } else if (r == 0 && (r = take_flag(a, "geo", &v)) > 0) {
            o.geo_path = v;
        } else if (r == 0 && (r = take_flag(a, "demo", &v)) > 0) {
            o.demo_dir = v;
        } else if (r == 0 && (r = take_flag(a, "helpscout-secret", &v)) > 0) {
            o.helpscout_secret = v;
        } else if (r == 0 && (r = take_flag(a, "trust-proxy", &v)) > 0) {
            if (o.ntrusted >= SERVE_MAX_TRUSTED)
                return die_usage("too many --trust-proxy (at most 32)");
            if (cidr_parse(v, &o.trusted[o.ntrusted++]) != 0)
                return die_usage("--trust-proxy %s: not an address or CIDR",
                                 v);
        } else if (r == 0 && (r = take_flag(a, "durability", &v)) > 0) {
            if (strcmp(v, "fsync") == 0) o.store.durability = STORE_FSYNC;
            else if (strcmp(v, "commit") == 0) o.store.durability = STORE_COMMIT;
            else if (strcmp(v, "none") == 0) o.store.durability = STORE_NONE;
            else return die_usage("--durability %s: expected fsync, commit "
                                  "or none", v);
        } else if (r == 0 && (r = take_flag(a, "queue", &v)) > 0) {
            if (parse_size(v, &o.store.queue_cap) || o.store.queue_cap == 0)
                return die_usage("--queue %s: expected a positive number", v);
        } else if (r == 0 && (r = take_flag(a, "map-size", &v)) > 0) {
            if (parse_size(v, &o.store.map_size) ||
                o.store.map_size < (64u << 10))
                return die_usage("--map-size %s: expected bytes >= 64K", v);
        } else if (r == 0 && (r = take_flag(a, "threads", &v)) > 0) {
            if (parse_uint(v, 256, &o.threads))
                return die_usage("--threads %s: expected 1–256", v);
        } else if (r == 0 && (r = take_flag(a, "max-conn-per-ip", &v)) > 0) {
            if (parse_uint(v, 1000000, &o.max_per_ip))
                return die_usage("--max-conn-per-ip %s: not a number", v);
        }
        if (r < 0)
            return die_usage("%s needs a value", a->argv[a->i]);
        if (r == 0)
            return die_usage("serve: unknown flag %s", a->argv[a->i]);
    }
    o.data_dir = a->data;
    return serve_run(&o);
}

/* Checks and normalises an origin: scheme://host[:port], no path. */
static int normalise_origin(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == '/')
        n--;
    if (n == 0 || n >= cap)
        return -1;
    if (strncmp(in, "http://", 7) != 0 && strncmp(in, "https://", 8) != 0)
        return -1;
    const char *host = strstr(in, "://") + 3;
    if ((size_t)(host - in) >= n || memchr(host, '/', n - (size_t)(host - in)))
        return -1;
    memcpy(out, in, n);
    out[n] = '\0';
    return 0;
}

static int cmd_site_add(struct args *a)
{
    static char origins[STORE_MAX_ORIGINS][STORE_ORIGIN_MAX + 1];
    const char *list[STORE_MAX_ORIGINS];
    size_t n = 0;
    const char *name = NULL;
    while (a->i < a->argc) {
        const char *v;
        int r = take_flag(a, "origin", &v);
        if (r > 0) {
            if (n >= STORE_MAX_ORIGINS)
                return die_usage("at most 8 --origin");
            if (normalise_origin(v, origins[n], sizeof origins[n]) != 0)
                return die_usage("--origin %s: expected scheme://host[:port]",
                                 v);
            list[n] = origins[n];
            n++;
        } else if (r == 0 && (r = take_flag(a, "data", &v)) > 0) {
            a->data = v;
        } else if (r == 0 && a->argv[a->i][0] != '-' && name == NULL) {
            name = a->argv[a->i++];
        } else if (r < 0) {
            return die_usage("%s needs a value", a->argv[a->i]);
        } else {
            return die_usage("site add: unexpected argument %s",
                             a->argv[a->i]);
        }
    }
    if (name == NULL)
        return die_usage("site add: missing site NAME");
    struct store *st;
    if (open_store(a->data, false, &st) != 0)
        return 1;
    char err[256];
    uint32_t id;
    bool created;
    int rc = store_site_put(st, name, list, n, &id, &created, err, sizeof err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "dwell: site add %s: %s\n", name, err);
        return 1;
    }
    printf("site %s %s (id %u)\n", name, created ? "added" : "updated", id);
    return 0;
}

static int print_site(void *ctx, const struct site *s)
{
    (void)ctx;
    printf("%s\t", s->name);
    for (size_t i = 0; i < s->norigins; i++)
        printf("%s%s", i ? "," : "", s->origins[i]);
    printf("\n");
    return 0;
}

static int cmd_site_list(struct args *a)
{
    while (a->i < a->argc) {
        const char *v;
        int r = take_flag(a, "data", &v);
        if (r <= 0)
            return die_usage("site list: unexpected argument %s",
                             a->argv[a->i]);
        a->data = v;
    }
    struct store *st;
    if (open_store(a->data, true, &st) != 0)
        return 1;
    int rc = store_site_each(st, print_site, NULL);
    store_close(st);
    return rc == 0 ? 0 : 1;
}

static int print_token(void *ctx, const struct store_token *t)
{
    char id[TOKEN_ID_LEN + 1], when[32];
    time_t secs = (time_t)(t->created_us / 1000000u);
    struct tm tm;
    (void)ctx;
    token_id(t, id);
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s\t%s\t%s\t%s\t%s\n", id, t->site,
           t->scope == STORE_SCOPE_READ ? "read-only" : "full", when,
           t->name);
    return 0;
}

static int print_event(void *ctx, const struct event *ev)
{
    (void)ctx;
    return export_event_ndjson(ev, stdout);
}

static int cmd_events(struct args *a)
{
    const char *site_name = NULL;
    uint64_t since = 24 * 3600000000ull;
    bool all = false;
    unsigned limit = 1000;
    while (a->i < a->argc) {
        const char *v;
        int r = take_flag(a, "data", &v);
        if (r > 0) {
            a->data = v;
        } else if (r == 0 && (r = take_flag(a, "since", &v)) > 0) {
            all = strcmp(v, "all") == 0;
            if (!all && parse_duration(v, &since) != 0)
                return die_usage("--since %s: expected e.g. 30m, 24h, 7d or "
                                 "all", v);
        } else if (r == 0 && (r = take_flag(a, "limit", &v)) > 0) {
            if (parse_uint(v, 100000000, &limit) != 0)
                return die_usage("--limit %s: not a number", v);
        } else if (r == 0 && a->argv[a->i][0] != '-' && !site_name) {
            site_name = a->argv[a->i++];
        } else if (r < 0) {
            return die_usage("%s needs a value", a->argv[a->i]);
        } else {
            return die_usage("events: unexpected argument %s", a->argv[a->i]);
        }
    }
    if (site_name == NULL)
        return die_usage("events: missing SITE");
    struct store *st;
    if (open_store(a->data, true, &st) != 0)
        return 1;
    struct site site;
    int rc = store_site_get(st, site_name, strlen(site_name), &site);
    if (rc != 0) {
        fprintf(stderr, "dwell: %s: %s\n", site_name,
                rc > 0 ? "no such site" : "storage error");
        store_close(st);
        return 1;
    }
    uint64_t now = store_now_us();
    uint64_t from = all || since > now ? 0 : now - since;
    rc = store_events_each(st, site.id, from, limit, print_event, NULL);
    store_close(st);
    if (fflush(stdout) != 0 || rc != 0) {
        fprintf(stderr, "dwell: events: read error\n");
        return 1;
    }
    return 0;
}

/* Opens the store of A and looks SITE up; prints why not on failure. */
static int open_site(struct args *a, const char *name, bool readonly,
                     struct store **st, struct site *site)
{
    if (open_store(a->data, readonly, st) != 0)
        return 1;
    int rc = store_site_get(*st, name, strlen(name), site);
    if (rc != 0) {
        fprintf(stderr, "dwell: %s: %s\n", name,
                rc > 0 ? "no such site (dwell site add NAME)"
                       : "storage error");
        store_close(*st);
        return 1;
    }
    return 0;
}

struct report_args {
    const char *site, *from, *to, *days, *article, *sort, *order, *format;
    bool bots, summary, searches, legend;
    unsigned limit;
    const char *kind;          /* page kinds to list (--kind), or NULL */
};

static int parse_report_args(struct args *a, struct report_args *r)
{
    while (a->i < a->argc) {
        const char *v = NULL, *arg = a->argv[a->i];
        int k;
        if ((k = take_flag(a, "data", &v)) > 0) a->data = v;
        else if (k == 0 && (k = take_flag(a, "from", &v)) > 0) r->from = v;
        else if (k == 0 && (k = take_flag(a, "to", &v)) > 0) r->to = v;
        else if (k == 0 && (k = take_flag(a, "days", &v)) > 0) r->days = v;
        else if (k == 0 && (k = take_flag(a, "article", &v)) > 0)
            r->article = v;
        else if (k == 0 && (k = take_flag(a, "kind", &v)) > 0) r->kind = v;
        else if (k == 0 && (k = take_flag(a, "sort", &v)) > 0) r->sort = v;
        else if (k == 0 && (k = take_flag(a, "order", &v)) > 0) r->order = v;
        else if (k == 0 && (k = take_flag(a, "format", &v)) > 0)
            r->format = v;
        else if (k == 0 && (k = take_flag(a, "limit", &v)) > 0) {
            if (parse_uint(v, 100000, &r->limit) != 0 || r->limit == 0)
                return die_usage("--limit %s: expected 1–100000", v);
        } else if (k == 0 && strcmp(arg, "--include-bots") == 0) {
            r->bots = true;
            a->i++;
        } else if (k == 0 && strcmp(arg, "--summary") == 0) {
            r->summary = true;
            a->i++;
        } else if (k == 0 && strcmp(arg, "--searches") == 0) {
            r->searches = true;
            a->i++;
        } else if (k == 0 && strcmp(arg, "--legend") == 0) {
            r->legend = true;
            a->i++;
        } else if (k == 0 && arg[0] != '-' && r->site == NULL) {
            r->site = arg;
            a->i++;
        } else if (k < 0) {
            return die_usage("%s needs a value", arg);
        } else {
            return die_usage("report: unexpected argument %s", arg);
        }
    }
    if (r->site == NULL && !r->legend)
        return die_usage("report: missing SITE");
    return 0;
}

/* Decides the dates of a report from --from, --to and --days the way the
 * API does (report_range_resolve). Returns 0 with OUT set, noting on stderr
 * a --to moved back to today; else prints why and returns the usage status. */
static int cli_range(const char *from, const char *to, const char *days,
                     uint32_t default_days, struct report_range *out)
{
    struct report_range_ask ask = { from, to, days };
    const char *param, *why;
    if (report_range_resolve(&ask, default_days, report_today(), out,
                             &param, &why) != 0) {
        const char *v = param[0] == 'd' ? days : param[0] == 't' ? to : from;
        return die_usage("--%s %s: %s", param, v ? v : "(default)", why);
    }
    if (out->clamped) {
        char asked[11], today[11];
        report_format_date(out->asked_to, asked);
        report_format_date(out->today, today);
        fprintf(stderr, "dwell: --to %s is in the future; the report ends "
                "today, %s (UTC, so far)\n", asked, today);
    }
    return 0;
}

/* Builds the report query from R's dates; prints why not on failure. */
static int report_query_of(const struct report_args *r, uint32_t site_id,
                           struct report_query *q, struct report_range *rg)
{
    memset(q, 0, sizeof *q);
    q->site_id = site_id;
    q->include_bots = r->bots;
    if (r->kind && report_parse_kinds(r->kind, &q->kinds) != 0)
        return die_usage("--kind %s: expected article, search, list, home "
                         "(joined by commas) or all", r->kind);
    int rc = cli_range(r->from, r->to, r->days, 30, rg);
    q->from = rg->from;
    q->to = rg->to;
    return rc;
}

/* Runs the report R asks for on ST and returns its text (or NULL). */
static char *run_cli_report(struct store *st, const struct report_args *r,
                            const struct report_query *q,
                            const struct report_range *rg,
                            enum render_format f)
{
    struct render_scope sc = { r->site, q, rg };
    char *out = NULL;
    if (r->article) {
        struct report_detail d;
        int rc = report_detail(st, q, event_article_id(r->article,
                                                       strlen(r->article)),
                               &d);
        if (rc == 0)
            out = render_article(&sc, &d, f);
        else if (rc > 0)
            fprintf(stderr, "dwell: no article %s on %s\n", r->article,
                    r->site);
        report_detail_free(&d);
    } else if (r->summary) {
        struct report_summary s;
        if (report_summary(st, q, &s) == 0)
            out = render_summary(&sc, &s, f);
        report_summary_free(&s);
    } else if (r->searches) {
        struct report_counts s = { 0 }, z = { 0 };
        if (report_searches(st, q, r->limit, &s) == 0 &&
            report_dim(st, q, 0, STORE_DIM_SEARCH_ZERO, r->limit, &z) == 0)
            out = render_searches(&sc, &s, &z, f);
        report_counts_free(&s);
        report_counts_free(&z);
    } else {
        struct report_list l;
        bool text = strcmp(r->sort, "title") == 0 ||
                    strcmp(r->sort, "path") == 0 ||
                    strcmp(r->sort, "category") == 0;
        bool desc = r->order ? strcmp(r->order, "desc") == 0 : !text;
        if (report_articles(st, q, false, &l) == 0) {
            if (strcmp(r->sort, "attention") == 0)
                report_rank_attention(&l);
            report_sort(&l, r->sort, desc);
            out = render_articles(&sc, &l, 0, r->limit, r->sort, desc, f);
        }
        report_list_free(&l);
    }
    return out;
}

/* Prints OUT (NULL: out of memory) to stdout and frees it; returns the exit
 * status. */
static int print_text(char *out)
{
    if (out == NULL)
        return 1;
    fputs(out, stdout);
    free(out);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_report(struct args *a)
{
    struct report_args r = { .sort = "views", .format = "table",
                             .limit = 50 };
    int rc = parse_report_args(a, &r);
    if (rc != 0)
        return rc;
    enum render_format f;
    if (strcmp(r.format, "table") == 0) f = RENDER_TABLE;
    else if (strcmp(r.format, "csv") == 0) f = RENDER_CSV;
    else if (strcmp(r.format, "json") == 0) f = RENDER_JSON;
    else return die_usage("--format %s: expected table, csv or json",
                          r.format);
    bool known = false;
    for (int i = 0; report_sort_keys[i]; i++)
        known |= strcmp(r.sort, report_sort_keys[i]) == 0;
    if (!known)
        return die_usage("--sort %s: unknown metric", r.sort);
    if (r.order && strcmp(r.order, "asc") && strcmp(r.order, "desc"))
        return die_usage("--order %s: expected asc or desc", r.order);
    if (r.legend)
        return print_text(render_legend(f));
    struct store *st;
    struct site site;
    if (open_site(a, r.site, true, &st, &site) != 0)
        return 1;
    struct report_query q;
    struct report_range rg;
    if ((rc = report_query_of(&r, site.id, &q, &rg)) != 0) {
        store_close(st);
        return rc;
    }
    char *out = run_cli_report(st, &r, &q, &rg, f);
    store_close(st);
    if (out == NULL)
        return 1;
    fputs(out, stdout);
    free(out);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_token(struct args *a)
{
    const char *verb = a->i < a->argc ? a->argv[a->i++] : "";
    const char *arg = NULL, *name = "";
    bool read_only = false;
    while (a->i < a->argc) {
        const char *v = NULL;
        int k = take_flag(a, "data", &v);
        if (k > 0) a->data = v;
        else if (k == 0 && (k = take_flag(a, "name", &v)) > 0) name = v;
        else if (k == 0 && strcmp(a->argv[a->i], "--read-only") == 0) {
            read_only = true;
            a->i++;
        } else if (k == 0 && a->argv[a->i][0] != '-' && arg == NULL) {
            arg = a->argv[a->i++];
        } else if (k < 0) {
            return die_usage("%s needs a value", a->argv[a->i]);
        } else {
            return die_usage("token: unexpected argument %s", a->argv[a->i]);
        }
    }
    if (strcmp(verb, "create") == 0) {
        if (arg == NULL)
            return die_usage("token create: missing SITE");
        if (strlen(name) > STORE_TOKEN_NAME_MAX)
            return die_usage("--name: at most 64 bytes");
        struct store *st;
        struct site site;
        if (open_site(a, arg, false, &st, &site) != 0)
            return 1;
        char text[TOKEN_TEXT_LEN + 1], id[TOKEN_ID_LEN + 1], err[256];
        int rc = token_create(st, arg, read_only ? STORE_SCOPE_READ
                                                 : STORE_SCOPE_FULL,
                              name, text, id, err, sizeof err);
        store_close(st);
        if (rc != 0) {
            fprintf(stderr, "dwell: token create: %s\n", err);
            return 1;
        }
        printf("%s\n", text);
        fprintf(stderr, "token %s for %s (%s); shown once: keep it\n", id,
                arg, read_only ? "read-only" : "full");
        return 0;
    }
    struct store *st;
    if (strcmp(verb, "list") == 0) {
        if (open_store(a->data, true, &st) != 0)
            return 1;
        int rc = store_token_each(st, print_token, NULL);
        store_close(st);
        return rc == 0 ? 0 : 1;
    }
    if (strcmp(verb, "revoke") == 0) {
        if (arg == NULL)
            return die_usage("token revoke: missing ID (see dwell token "
                             "list)");
        if (open_store(a->data, false, &st) != 0)
            return 1;
        int rc = token_revoke(st, arg);
        store_close(st);
        if (rc == 0) {
            printf("token %s revoked\n", arg);
            return 0;
        }
        fprintf(stderr, "dwell: token revoke %s: %s\n", arg,
                rc == 1 ? "no such token" : rc == 2 ? "ambiguous id"
                : "expected 6–12 hex digits of an id from dwell token list");
        return 1;
    }
    return die_usage("token: expected create, list or revoke");
}

static int cmd_demo(struct args *a)
{
    const char *name = NULL;
    unsigned days = 90, seed = 1;
    bool force = false;
    while (a->i < a->argc) {
        const char *v = NULL;
        int k = take_flag(a, "data", &v);
        if (k > 0) a->data = v;
        else if (k == 0 && strcmp(a->argv[a->i], "--force") == 0) {
            force = true;
            a->i++;
        } else if (k == 0 && (k = take_flag(a, "days", &v)) > 0) {
            if (parse_uint(v, 3650, &days) != 0 || days == 0)
                return die_usage("--days %s: expected 1–3650", v);
        } else if (k == 0 && (k = take_flag(a, "seed", &v)) > 0) {
            if (parse_uint(v, 4000000000u, &seed) != 0)
                return die_usage("--seed %s: not a number", v);
        } else if (k == 0 && a->argv[a->i][0] != '-' && name == NULL) {
            name = a->argv[a->i++];
        } else if (k < 0) {
            return die_usage("%s needs a value", a->argv[a->i]);
        } else {
            return die_usage("demo: unexpected argument %s", a->argv[a->i]);
        }
    }
    if (name == NULL)
        return die_usage("demo: missing SITE");
    struct store *st;
    struct site site;
    char err[256];
    if (open_site(a, name, false, &st, &site) != 0)
        return 1;
    if (store_start_writer(st, err, sizeof err) != 0) {
        fprintf(stderr, "dwell: demo: %s\n", err);
        store_close(st);
        return 1;
    }
    struct demo_result r;
    int rc = demo_run(st, site.id, name, days, seed, force, &r);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "dwell: demo: generation failed\n");
        return 1;
    }
    if (r.refused) {
        fprintf(stderr, "dwell: demo: %s; nothing written\n", r.reason);
        return 1;
    }
    if (!r.wrote) {
        printf("%s\n", r.reason);
        return 0;
    }
    printf("%zu demo events and %zu tickets over %u days stored for %s\n",
           r.events, r.tickets, days, name);
    return 0;
}

/* Reads the whole file PATH into a new buffer (*LEN bytes). */
static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *more = cap < ((size_t)1 << 32) ? realloc(buf, cap * 2) : NULL;
        if (more == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = more;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

struct import_report {
    const char *file;
    size_t shown;
};

static void print_bad_record(void *ctx, const char *where, const char *why)
{
    struct import_report *ir = ctx;
    if (ir->shown++ < 100)
        fprintf(stderr, "%s: %s: %s\n", ir->file, where, why);
    else if (ir->shown == 101)
        fprintf(stderr, "%s: (more bad records not shown)\n", ir->file);
}

static int cmd_tickets(struct args *a)
{
    const char *verb = a->i < a->argc ? a->argv[a->i++] : "";
    const char *file = NULL, *name = NULL, *format = NULL, *link = NULL;
    const char *maps[32];
    size_t nmap = 0;
    if (strcmp(verb, "import") != 0)
        return die_usage("tickets: expected import");
    while (a->i < a->argc) {
        const char *v = NULL, *arg = a->argv[a->i];
        int k;
        if ((k = take_flag(a, "data", &v)) > 0) a->data = v;
        else if (k == 0 && (k = take_flag(a, "site", &v)) > 0) name = v;
        else if (k == 0 && (k = take_flag(a, "format", &v)) > 0) format = v;
        else if (k == 0 && (k = take_flag(a, "link-field", &v)) > 0) link = v;
        else if (k == 0 && (k = take_flag(a, "map", &v)) > 0) {
            if (nmap == 32 || strchr(v, '=') == NULL)
                return die_usage("--map %s: expected COLUMN=FIELD (at most "
                                 "32)", v);
            maps[nmap++] = v;
        } else if (k == 0 && arg[0] != '-' && file == NULL) {
            file = arg;
            a->i++;
        } else if (k < 0) {
            return die_usage("%s needs a value", arg);
        } else {
            return die_usage("tickets import: unexpected argument %s", arg);
        }
    }
    enum helpdesk_format fmt;
    if (file == NULL || name == NULL || format == NULL)
        return die_usage("tickets import: needs FILE, --site and --format");
    if (helpdesk_format_of(format, &fmt) != 0)
        return die_usage("--format %s: expected zendesk-json, zendesk-csv, "
                         "freshdesk-json, helpscout-json, intercom-json or "
                         "csv", format);
    size_t len = 0;
    char *data = read_whole(file, &len);
    if (data == NULL) {
        fprintf(stderr, "dwell: %s: %s\n", file, strerror(errno));
        return 1;
    }
    struct store *st;
    struct site site;
    if (open_site(a, name, false, &st, &site) != 0) {
        free(data);
        return 1;
    }
    struct helpdesk_options opt = { link, maps, nmap };
    struct import_report ir = { file, 0 };
    struct tickets_result res;
    char why[256];
    int rc = tickets_import(st, site.id, fmt, data, len, &opt,
                            print_bad_record, &ir, &res, why, sizeof why);
    store_close(st);
    free(data);
    if (rc != 0) {
        fprintf(stderr, "dwell: %s: nothing imported: %s\n", file, why);
        return 1;
    }
    printf("%s: %zu tickets imported (%zu already stored as they are), "
           "%zu bad records skipped\n", file, res.good - res.unchanged,
           res.unchanged, res.bad);
    return res.bad ? 3 : 0;
}

static int cmd_correlate(struct args *a)
{
    const char *name = NULL, *from = NULL, *to = NULL, *window = "24h";
    const char *format = "table", *part = NULL;
    struct correlate_map map[32];
    size_t nmap = 0;
    while (a->i < a->argc) {
        const char *v = NULL, *arg = a->argv[a->i];
        int k;
        if ((k = take_flag(a, "data", &v)) > 0) a->data = v;
        else if (k == 0 && (k = take_flag(a, "from", &v)) > 0) from = v;
        else if (k == 0 && (k = take_flag(a, "to", &v)) > 0) to = v;
        else if (k == 0 && (k = take_flag(a, "window", &v)) > 0) window = v;
        else if (k == 0 && (k = take_flag(a, "format", &v)) > 0) format = v;
        else if (k == 0 && (k = take_flag(a, "part", &v)) > 0) part = v;
        else if (k == 0 && (k = take_flag(a, "topic", &v)) > 0) {
            int got = correlate_parse_map(v, map + nmap, 32 - nmap);
            if (got < 0)
                return die_usage("--topic %s: expected CATEGORY=TAG", v);
            nmap += (size_t)got;
        } else if (k == 0 && arg[0] != '-' && name == NULL) {
            name = arg;
            a->i++;
        } else if (k < 0) {
            return die_usage("%s needs a value", arg);
        } else {
            return die_usage("correlate: unexpected argument %s", arg);
        }
    }
    if (name == NULL)
        return die_usage("correlate: missing SITE");
    struct correlate_query cq = { 0 };
    if (correlate_parse_window(window, &cq.window_us) != 0)
        return die_usage("--window %s: expected e.g. 30m, 24h or 7d", window);
    enum render_format f;
    if (strcmp(format, "table") == 0) f = RENDER_TABLE;
    else if (strcmp(format, "csv") == 0) f = RENDER_CSV;
    else if (strcmp(format, "json") == 0) f = RENDER_JSON;
    else return die_usage("--format %s: expected table, csv or json", format);
    enum render_part rp = RENDER_ALL;
    if (part && (strcmp(part, "contact-after-read") == 0 ||
                 strcmp(part, "deflection") == 0))   /* its 0.1 name */
        rp = RENDER_DEFLECTION;
    else if (part && strcmp(part, "topics") == 0) rp = RENDER_TOPICS;
    else if (part && strcmp(part, "gaps") == 0) rp = RENDER_GAPS;
    else if (part) return die_usage("--part %s: expected "
                                    "contact-after-read, topics or gaps",
                                    part);
    if (f == RENDER_CSV && rp == RENDER_ALL)
        rp = RENDER_DEFLECTION;
    struct report_range range;
    int rc = cli_range(from, to, NULL, 90, &range);
    if (rc != 0)
        return rc;
    cq.from = range.from;
    cq.to = range.to;
    struct store *st;
    struct site site;
    if (open_site(a, name, true, &st, &site) != 0)
        return 1;
    cq.site_id = site.id;
    cq.map = map;
    cq.nmap = nmap;
    struct correlate_result res;
    struct report_query rq = { .site_id = site.id, .from = cq.from,
                               .to = cq.to };
    struct render_scope sc = { name, &rq, &range };
    char *out = NULL;
    if (correlate_run(st, &cq, &res) == 0)
        out = render_correlation(&sc, window, &res, rp, f);
    correlate_free(&res);
    store_close(st);
    if (out == NULL) {
        fprintf(stderr, "dwell: correlate: failed\n");
        return 1;
    }
    fputs(out, stdout);
    free(out);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct args a = { argc, 2, argv, getenv("DWELL_DATA") };
    if (a.data == NULL || a.data[0] == '\0')
        a.data = "./data";
    if (argc < 2)
        return die_usage("missing command");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("dwell %s\n", DWELL_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(&a);
    if (strcmp(cmd, "events") == 0)
        return cmd_events(&a);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(&a);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(&a);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(&a);
    if (strcmp(cmd, "correlate") == 0)
        return cmd_correlate(&a);
    if (strcmp(cmd, "tickets") == 0)
        return cmd_tickets(&a);
    if (strcmp(cmd, "site") == 0 && argc >= 3) {
        a.i = 3;
        if (strcmp(argv[2], "add") == 0)
            return cmd_site_add(&a);
        if (strcmp(argv[2], "list") == 0)
            return cmd_site_list(&a);
    }
    return die_usage("unknown command: %s", cmd);
}
