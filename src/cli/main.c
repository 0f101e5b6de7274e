/* main.c — the dwell command line. Every command and every flag is
 * declared once in the tables below; one parser reads argv against them,
 * and the usage text, `dwell COMMAND --help`, `dwell help --markdown`
 * and `dwell help --man` are printed from them. The flags of `dwell
 * report` and `dwell correlate` are the reports' own parameters
 * (query.h), shared with the HTTP API.
 * The only file that exits. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/time.h"
#include "dwell/chsource.h"
#include "dwell/clientaddr.h"
#include "dwell/demo.h"
#include "dwell/event.h"
#include "dwell/export.h"
#include "dwell/helpdesk.h"
#include "dwell/http.h"
#include "dwell/log.h"
#include "dwell/query.h"
#include "dwell/ratelimit.h"
#include "dwell/serve.h"
#include "dwell/store.h"
#include "dwell/tickets.h"
#include "dwell/token.h"
#include "dwell/visitor.h"
#include "cli/progress.h"

/* --- the flags ------------------------------------------------------------------ */

enum flag_id {
    F_DATA, F_LISTEN, F_GEO, F_TRUST_PROXY, F_DURABILITY, F_DEMO,
    F_HELPSCOUT, F_QUEUE, F_MAP_SIZE, F_THREADS, F_MAX_CONN, F_ORIGIN,
    F_SINCE, F_EVENTS_LIMIT, F_READ_ONLY, F_NAME, F_SITE, F_IMPORT_FORMAT,
    F_MAP, F_LINK_FIELD, F_FORMAT, F_SUMMARY, F_SEARCHES, F_ARTICLE,
    F_LEGEND, F_PART, F_TICKET, F_DEMO_DAYS, F_SEED, F_FORCE,
    F_RATE_LIMIT, F_AUTH_FAILS, F_ENGAGE_ALLOWANCE, F_SITE_HELPSCOUT,
    F_REQUEST_TIMEOUT, F_IDLE_TIMEOUT,
    F_QUIET, F_PUBLIC_URL,
    F_RETENTION, F_PURGE, F_EMAIL, F_IDENTITY,
    F_EXPORT_FORMAT, F_FROM, F_TO, F_TYPE,
    F_METRICS_TOKEN, F_LOG_FORMAT, F_ACCESS_LOG, F_LOG_IP,
    F_CLUSTER_SECRET,
    F_SHIP, F_NODE, F_CH_DB,
    F_REPORTS, F_SOURCE,
    F_COUNT,
    F_QUERY = 100              /* + the index of a query_params entry */
};

/* One flag: --NAME [METAVAR]; a NULL metavar makes it a switch; REPEAT:
 * it may be given more than once (from the environment: a list). */
struct flag {
    const char *name, *metavar, *def, *help;
    bool repeat;
};

static const struct flag flags[F_COUNT] = {
    [F_DATA] = { "data", "DIR", "./data", "the data directory" },
    [F_QUIET] = { "quiet", NULL, "off",
                  "no informational messages on stderr (errors still)" },
    [F_PUBLIC_URL] = { "public-url", "URL", "http:// and --listen",
                       "the server's address as browsers reach it, "
                       "scheme://host[:port][/path]: the report link "
                       "starts with it" },
    [F_LISTEN] = { "listen", "HOST:PORT", "127.0.0.1:8080",
                   "where to listen: HOST:PORT (a name or an IPv4 "
                   "address), [IPV6]:PORT, or :PORT for every address; "
                   "port 0 picks a free one" },
    [F_GEO] = { "geo", "FILE", "none", "country database (.mmdb)" },
    [F_TRUST_PROXY] = { "trust-proxy", "CIDR", "none",
                        "proxy allowed to set X-Forwarded-For (repeatable, "
                        "at most 32)", true },
    [F_DURABILITY] = { "durability", "MODE", "fsync",
                       "fsync, commit or none: when a beacon is answered" },
    [F_DEMO] = { "demo", "DIR", "none",
                 "serve the demo help center from DIR at /demo/" },
    [F_HELPSCOUT] = { "helpscout-secret", "S", "none",
                      "fallback Help Scout webhook secret for sites "
                      "without their own (deprecated: one secret for every "
                      "site lets a signed webhook be replayed to any of "
                      "them; use dwell site add SITE --helpscout-secret)" },
    [F_QUEUE] = { "queue", "N", "65536", "events queued at most" },
    [F_MAP_SIZE] = { "map-size", "BYTES", "256M",
                     "initial LMDB map size, at least 64K (grows on demand)" },
    [F_THREADS] = { "threads", "N", "online cores", "HTTP threads, 1–256" },
    [F_MAX_CONN] = { "max-conn-per-ip", "N", "256",
                     "connections per client address; behind --trust-proxy,"
                     " requests in progress per forwarded client (0: no "
                     "limit)" },
    [F_REQUEST_TIMEOUT] = { "request-timeout", "SECONDS", "10",
                            "a whole request (headers and body) must "
                            "arrive within this, 1–3600" },
    [F_IDLE_TIMEOUT] = { "idle-timeout", "SECONDS", "5",
                         "a connection silent this long is closed, 1–3600" },
    [F_METRICS_TOKEN] = { "metrics-token", "T", "none: loopback only",
                          "GET /metrics answers only to Authorization: "
                          "Bearer T (without one: to loopback clients "
                          "not relayed by a proxy)" },
    [F_LOG_FORMAT] = { "log-format", "FORMAT", "text",
                       "text or json (one object per line: ts, level, msg "
                       "and fields)" },
    [F_ACCESS_LOG] = { "access-log", NULL, "off",
                       "a log line per request: method, path, status, "
                       "bytes, ms, site" },
    [F_LOG_IP] = { "log-ip", NULL, "off",
                   "name client addresses in log lines (access log, "
                   "refusals); without it none is logged" },
    [F_RETENTION] = { "retention-days", "N", "0 (keep forever)",
                      "delete raw events, tickets and links of days before "
                      "the last N (rollups stay: reports still answer), "
                      "0–36500" },
    [F_PURGE] = { "purge", NULL, "off",
                  "required: delete the site and every record of it" },
    [F_EMAIL] = { "email", "ADDRESS", "none",
                  "the person's e-mail address" },
    [F_IDENTITY] = { "identity", "HEX", "none",
                     "the person's identity: the sha256 hex of the "
                     "lower-cased e-mail address (what identify sends)" },
    [F_ORIGIN] = { "origin", "URL", "the site's origins kept",
                   "an origin allowed to send events, scheme://host[:port] "
                   "(repeatable, at most 8), or '*' for any origin (the "
                   "site's origins are removed)", true },
    [F_SINCE] = { "since", "DURATION", "24h",
                  "events of the last 30m, 24h, 7d … or all" },
    [F_EVENTS_LIMIT] = { "limit", "N", "1000",
                         "events printed at most (0: all)" },
    [F_READ_ONLY] = { "read-only", NULL, "off",
                      "the token reads reports only" },
    [F_NAME] = { "name", "NAME", "empty",
                 "a note of what the token is for (at most 64 bytes)" },
    [F_SITE] = { "site", "SITE", "required", "the site the tickets are of" },
    [F_IMPORT_FORMAT] = { "format", "FORMAT", "required",
                          "zendesk-json, zendesk-csv, freshdesk-json, "
                          "helpscout-json, intercom-json or csv" },
    [F_MAP] = { "map", "COLUMN=FIELD", "none",
                "for CSV: the column of FIELD (repeatable, at most 32)",
                true },
    [F_LINK_FIELD] = { "link-field", "NAME", "dwell_link",
                       "the field or column holding the dwell link id" },
    [F_FORMAT] = { "format", "FORMAT", "table",
                   "table, csv or json (CSV and JSON: the API's bodies)" },
    [F_SUMMARY] = { "summary", NULL, "off",
                    "the site summary (the API's summary)" },
    [F_SEARCHES] = { "searches", NULL, "off",
                     "search queries (the API's searches)" },
    [F_ARTICLE] = { "article", "PATH", "none",
                    "one article (the API's articles/ID)" },
    [F_LEGEND] = { "legend", NULL, "off",
                   "what every metric means (no SITE needed)" },
    [F_PART] = { "part", "PART", "all (csv: contact-after-read)",
                 "contact-after-read (or deflection), topics or gaps" },
    [F_TICKET] = { "ticket", "ID", "none",
                   "what ticket ID's requester read before it (the API's "
                   "tickets/ID/reads)" },
    [F_DEMO_DAYS] = { "days", "N", "90", "days of traffic, 1–3650" },
    [F_SEED] = { "seed", "N", "1", "the random seed" },
    [F_FORCE] = { "force", NULL, "off",
                  "write even on a site holding other data" },
    [F_EXPORT_FORMAT] = { "format", "FORMAT", "ndjson",
                          "ndjson or csv (the schema: docs/export.md)" },
    [F_FROM] = { "from", "DATE", "the first record",
                 "records from this UTC day (YYYY-MM-DD) on" },
    [F_TO] = { "to", "DATE", "the last record",
               "records up to the end of this UTC day" },
    [F_TYPE] = { "type", "TYPE", "all",
                 "view, engage, vote, search, link, identify, event or "
                 "ticket (comma-separated list), or all" },
    [F_SITE_HELPSCOUT] = { "helpscout-secret", "S", "kept",
                           "this site's Help Scout webhook secret key: "
                           "POST /api/v1/tickets?site=SITE signed with it "
                           "needs no token (empty: remove it)" },
    [F_RATE_LIMIT] = { "rate-limit", "N/s[,BURST]", "20/s,400",
                       "events requests per client address (0: no limit)" },
    [F_AUTH_FAILS] = { "auth-fail-limit", "N", "10",
                       "failed report/API authentications a minute per "
                       "address or token, then 429 (0: no limit)" },
    [F_ENGAGE_ALLOWANCE] = { "engage-allowance", "SECONDS", "30",
                             "a view's engaged time is at most the time "
                             "since it was first seen plus this" },
    [F_CLUSTER_SECRET] = { "cluster-secret", "FILE", "none: a random salt "
                           "a day", "a file (mode 0600) holding the cluster "
                           "secret, at least 64 hex digits (openssl rand "
                           "-hex 32): collectors with the same one give a "
                           "reader the same visitor hash "
                           "(docs/scale-out.md); DWELL_CLUSTER_SECRET holds "
                           "the secret itself, not a file" },
    [F_SHIP] = { "ship", "clickhouse=URL", "none",
                 "ship every stored event and ticket to ClickHouse, "
                 "URL = http://[USER:PASSWORD@]HOST:PORT/DB (DB: dwell), "
                 "at least once, in batches; the backlog waits in the data "
                 "directory while ClickHouse is away (docs/scale-out.md)" },
    [F_NODE] = { "node", "NAME", "the host name",
                 "this collector's name in ClickHouse, unique per data "
                 "directory: 1-64 of letters, digits, '.', '_', '-'" },
    [F_CH_DB] = { "db", "DB", "dwell", "the ClickHouse database" },
    [F_REPORTS] = { "reports", "clickhouse=URL", "the local rollups",
                    "answer the reports API from ClickHouse, URL = "
                    "http://[USER:PASSWORD@]HOST:PORT/DB (what --ship "
                    "fills): every collector's data (docs/scale-out.md)" },
    [F_SOURCE] = { "source", "clickhouse=URL", "the local rollups",
                   "read the report from ClickHouse, URL = "
                   "http://[USER:PASSWORD@]HOST:PORT/DB, over every "
                   "collector's data" },
};

/* --- the commands ----------------------------------------------------------- */

struct call;

/* One command: its words ("site add"), its positional arguments, the flags
 * it takes (F_* ending with -1) and the query parameters (QUERY_CLI_*). */
struct command {
    const char *name, *args, *help;
    int min_args, max_args;
    const int *flags;
    unsigned query;
    int (*run)(struct call *c);
};

#define MAX_OPTS 128

/* A parsed command line: the command, its arguments and flags in order. */
struct call {
    const struct command *cmd;
    const char *args[2];
    int nargs;
    struct { int id; const char *val; bool env; } opt[MAX_OPTS];
    size_t nopt;
    const char *data;
    char joined[4096];         /* a repeated query flag's values */
    char envlist[4096];        /* a repeatable flag's list from the
                                  environment, split */
    bool quiet;                /* --quiet: no informational stderr */
};

static int cmd_serve(struct call *c);
static int cmd_site_add(struct call *c);
static int cmd_site_list(struct call *c);
static int cmd_events(struct call *c);
static int cmd_report(struct call *c);
static int cmd_token_create(struct call *c);
static int cmd_token_list(struct call *c);
static int cmd_token_revoke(struct call *c);
static int cmd_tickets_import(struct call *c);
static int cmd_correlate(struct call *c);
static int cmd_demo(struct call *c);
static int cmd_check(struct call *c);
static int cmd_export(struct call *c);
static int cmd_site_remove(struct call *c);
static int cmd_forget(struct call *c);
static int cmd_backup(struct call *c);
static int cmd_clickhouse_schema(struct call *c);

static const int serve_flags[] = { F_LISTEN, F_DATA, F_GEO, F_TRUST_PROXY,
    F_DURABILITY, F_DEMO, F_HELPSCOUT, F_QUEUE, F_MAP_SIZE, F_THREADS,
    F_MAX_CONN, F_RATE_LIMIT, F_AUTH_FAILS, F_ENGAGE_ALLOWANCE,
    F_REQUEST_TIMEOUT, F_IDLE_TIMEOUT, F_RETENTION, F_METRICS_TOKEN,
    F_LOG_FORMAT, F_ACCESS_LOG, F_LOG_IP, F_CLUSTER_SECRET,
    F_SHIP, F_NODE, F_REPORTS, -1 };
static const int site_add_flags[] = { F_ORIGIN, F_SITE_HELPSCOUT, F_DATA,
    -1 };
static const int data_flags[] = { F_DATA, -1 };
static const int site_remove_flags[] = { F_PURGE, F_DATA, -1 };
static const int forget_flags[] = { F_EMAIL, F_IDENTITY, F_DATA, -1 };
static const int events_flags[] = { F_SINCE, F_EVENTS_LIMIT, F_DATA, -1 };
static const int report_flags[] = { F_SUMMARY, F_SEARCHES, F_ARTICLE,
    F_LEGEND, F_FORMAT, F_SOURCE, F_DATA, -1 };
static const int token_flags[] = { F_READ_ONLY, F_NAME, F_PUBLIC_URL,
    F_DATA, -1 };
static const int import_flags[] = { F_SITE, F_IMPORT_FORMAT, F_MAP,
    F_LINK_FIELD, F_DATA, -1 };
static const int correlate_flags[] = { F_PART, F_TICKET, F_FORMAT,
    F_SOURCE, F_DATA, -1 };
static const int demo_flags[] = { F_DEMO_DAYS, F_SEED, F_FORCE, F_DATA, -1 };
static const int ch_schema_flags[] = { F_CH_DB, -1 };
static const int export_flags[] = { F_EXPORT_FORMAT, F_FROM, F_TO, F_TYPE,
    F_DATA, -1 };

static const struct command commands[] = {
    { "serve", "", "run the collector (pixel, beacon, snippet, reports API)",
      0, 0, serve_flags, 0, cmd_serve },
    { "site add", "NAME", "register a site (or replace its origins, or "
      "set its webhook secret)",
      1, 1, site_add_flags, 0, cmd_site_add },
    { "site list", "", "list the sites", 0, 0, data_flags, 0,
      cmd_site_list },
    { "events", "SITE", "print stored events as NDJSON", 1, 1,
      events_flags, 0, cmd_events },
    { "report", "SITE", "read-time report: the article list, --summary, "
      "--searches, --article PATH or --legend (the 30 full days before "
      "today, UTC)", 0, 1, report_flags, QUERY_CLI_REPORT, cmd_report },
    { "token create", "SITE", "create an access token for the reports API",
      1, 1, token_flags, 0, cmd_token_create },
    { "token list", "", "list the access tokens", 0, 0, data_flags, 0,
      cmd_token_list },
    { "token revoke", "ID", "revoke a token (an id from dwell token list)",
      1, 1, data_flags, 0, cmd_token_revoke },
    { "tickets import", "FILE", "import a helpdesk export", 1, 1,
      import_flags, 0, cmd_tickets_import },
    { "correlate", "SITE", "tickets after reading (the 90 full days before "
      "today, UTC)", 1, 1, correlate_flags, QUERY_CLI_CORRELATE,
      cmd_correlate },
    { "demo", "SITE", "generate realistic demo traffic; again with the same "
      "seed: changes nothing", 1, 1, demo_flags, 0, cmd_demo },
    { "check", "SITE", "check the data: every record decodes, the rollups' "
      "views match the raw events (all sites without SITE); exit 1 on "
      "damage", 0, 1, data_flags, 0, cmd_check },
    { "export", "SITE", "write every stored event and ticket of SITE to "
      "standard output, NDJSON or CSV, in the versioned schema of "
      "docs/export.md", 1, 1, export_flags, 0, cmd_export },
    { "site remove", "NAME", "delete a site and every record of it "
      "(--purge required); safe while a server runs", 1, 1,
      site_remove_flags, 0, cmd_site_remove },
    { "forget", "SITE", "remove what is kept of one person (--email or "
      "--identity): tickets, links, identified reads; rollups stay", 1, 1,
      forget_flags, 0, cmd_forget },
    { "backup", "DEST", "a hot, compacted copy of the data into the new or "
      "empty directory DEST; safe while a server runs", 1, 1, data_flags, 0,
      cmd_backup },
    { "clickhouse schema", "", "print the ClickHouse tables dwell serve "
      "--ship fills (it makes them itself when missing)", 0, 0,
      ch_schema_flags, 0, cmd_clickhouse_schema },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* --- the environment -------------------------------------------------------- */

/* Whether flag ID (F_*) may also be given in the environment: every flag of
 * `dwell serve`, --quiet and --public-url. */
static bool flag_has_env(int id)
{
    if (id == F_QUIET || id == F_PUBLIC_URL)
        return true;
    for (const int *f = serve_flags; *f >= 0; f++)
        if (*f == id)
            return true;
    return false;
}

/* Writes the environment variable of flag ID to BUF (LEN bytes): DWELL_
 * and the flag's name upper-cased, '-' as '_' (--rate-limit:
 * DWELL_RATE_LIMIT). Returns 0, or -1 (BUF untouched) when the flag has
 * none or BUF is too small. */
static int flag_env_name(int id, char *buf, size_t len)
{
    if (id < 0 || id >= F_COUNT || !flag_has_env(id))
        return -1;
    const char *name = flags[id].name;
    size_t n = strlen(name);
    if (n + 7 > len)
        return -1;
    memcpy(buf, "DWELL_", 6);
    for (size_t i = 0; i <= n; i++)
        buf[6 + i] = name[i] == '-' ? '_'
                   : (char)(name[i] >= 'a' && name[i] <= 'z'
                            ? name[i] - 'a' + 'A' : name[i]);
    return 0;
}

/* --- help ------------------------------------------------------------------- */

/* The name, metavar, default and help of flag ID (F_* or F_QUERY + i). */
static struct flag flag_of(int id)
{
    if (id >= F_QUERY) {
        const struct query_param *p = &query_params[id - F_QUERY];
        struct flag f = { p->flag, p->metavar, p->def, p->help,
                          p->repeat != 0 };
        return f;
    }
    return flags[id];
}

/* Calls FN for every flag id of CMD in help order: its query parameters
 * first, then its own flags. */
static void each_flag(const struct command *cmd, void (*fn)(void *, int),
                      void *ctx)
{
    for (int i = 0; cmd->query && query_params[i].name; i++)
        if (query_params[i].cli & cmd->query)
            fn(ctx, F_QUERY + i);
    for (const int *f = cmd->flags; *f >= 0; f++)
        fn(ctx, *f);
    fn(ctx, F_QUIET);          /* every command's */
}

/* Prints "usage: dwell CMD ARGS [FLAGS]" to OUT. */
static void print_usage_line(const struct command *cmd, FILE *out)
{
    const char *args = cmd->args[0] ? cmd->args : "";
    bool optional = cmd->min_args == 0 && args[0];
    fprintf(out, "usage: dwell %s%s%s%s%s [FLAGS]\n", cmd->name,
            args[0] ? " " : "", optional ? "[" : "", args,
            optional ? "]" : "");
}

/* Prints TEXT to OUT wrapped at 79 columns, lines after the first
 * indented by INDENT (the first one starts at column INDENT). */
static void print_wrapped(FILE *out, const char *text, int indent)
{
    int col = indent;
    while (*text) {
        size_t n = strcspn(text, " ");
        if (col > indent && col + 1 + (int)n > 79) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, n, out);
        col += (int)n;
        text += n;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

/* The default of flag ID as help shows it: "DEF", or "DEF; env DWELL_X"
 * when the environment may give it; written to BUF. */
static const char *flag_default(int id, char *buf, size_t len)
{
    char env[64];
    struct flag f = flag_of(id);
    if (flag_env_name(id, env, sizeof env) != 0)
        return f.def;
    snprintf(buf, len, "%s; env %s", f.def, env);
    return buf;
}

static void print_flag_line(void *ctx, int id)
{
    struct flag f = flag_of(id);
    char left[64], text[640], def[192];
    snprintf(left, sizeof left, "--%s%s%s", f.name, f.metavar ? " " : "",
             f.metavar ? f.metavar : "");
    snprintf(text, sizeof text, "%s (default: %s)", f.help,
             flag_default(id, def, sizeof def));
    fprintf(ctx, "  %-26s ", left);
    print_wrapped(ctx, text, 29);
}

/* Prints CMD's usage line, what it does and its flags to OUT. */
static void print_command_help(const struct command *cmd, FILE *out)
{
    print_usage_line(cmd, out);
    print_wrapped(out, cmd->help, 0);
    fprintf(out, "\nflags:\n");
    each_flag(cmd, print_flag_line, out);
    fprintf(out, "  %-26s %s\n", "--help", "this help");
}

/* Prints the commands, one line each, to OUT. */
static void print_usage(FILE *out)
{
    fprintf(out, "usage: dwell COMMAND [FLAGS]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s %s", commands[i].name,
                 commands[i].args);
        fprintf(out, "  %-22s ", left);
        print_wrapped(out, commands[i].help, 25);
    }
    fprintf(out, "\nevery command takes --data DIR (default $DWELL_DATA, "
            "else ./data) and --quiet;\nevery flag of serve may be set as "
            "DWELL_FLAG_NAME in the environment (flags win);\n"
            "dwell COMMAND --help (or dwell help COMMAND) lists its flags; "
            "dwell --version\n");
}

/* Escapes | for a markdown table cell. */
static void print_cell(const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            putchar('\\');
        putchar(*s);
    }
}

static void print_flag_row(void *ctx, int id)
{
    struct flag f = flag_of(id);
    char def[192];
    (void)ctx;
    printf("| `--%s%s", f.name, f.metavar ? " " : "");
    print_cell(f.metavar ? f.metavar : "");
    printf("` | ");
    print_cell(flag_default(id, def, sizeof def));
    printf(" | ");
    print_cell(f.help);
    printf(" |\n");
}

/* Prints the flags table of every command as markdown (docs/cli.md). */
static void print_markdown(void)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        printf("%s### dwell %s\n\n| flag | default | meaning |\n"
               "|---|---|---|\n", i ? "\n" : "", commands[i].name);
        each_flag(&commands[i], print_flag_row, NULL);
    }
}

/* Writes the code point of the UTF-8 sequence at *P (advanced past it) as
 * roff's \[uXXXX], or '?' for a malformed sequence. */
static void print_roff_utf8(const unsigned char **p)
{
    unsigned c = **p, cp;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
    (*p)++;
    if (extra < 0) {
        putchar('?');
        return;
    }
    cp = c & (0x3fu >> extra);
    for (int k = 0; k < extra; k++, (*p)++) {
        if ((**p & 0xc0) != 0x80) {
            putchar('?');
            return;
        }
        cp = cp << 6 | (**p & 0x3fu);
    }
    printf("\\[u%04X]", cp);
}

/* Writes S to stdout as roff text within a line: backslashes and minus
 * signs escaped, non-ASCII characters as \[uXXXX]. */
static void print_roff(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p >= 0x80) {
            print_roff_utf8(&p);
            continue;
        }
        if (*p == '\\')
            fputs("\\e", stdout);
        else if (*p == '-')
            fputs("\\-", stdout);
        else
            putchar(*p);
        p++;
    }
}

/* Writes S to stdout as roff text starting a line: as print_roff, and a
 * leading '.' or '\'' made literal. */
static void print_roff_line(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    print_roff(s);
}

/* Prints flag ID as a man(7) tagged paragraph: the flag and its metavar,
 * then its help and default. */
static void print_flag_man(void *ctx, int id)
{
    struct flag f = flag_of(id);
    char def[192];
    (void)ctx;
    printf(".TP\n\\fB\\-\\-");
    print_roff(f.name);
    printf("\\fR");
    if (f.metavar) {
        printf(" \\fI");
        print_roff(f.metavar);
        printf("\\fR");
    }
    printf("\n");
    print_roff_line(f.help);
    printf(" (default: ");
    print_roff(flag_default(id, def, sizeof def));
    printf(")\n");
}

/* Prints every command with its arguments, what it does and its flags as
 * man(7) source, one .SS each (docs/dwell.1's COMMANDS). */
static void print_man(void)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const struct command *cmd = &commands[i];
        bool optional = cmd->min_args == 0 && cmd->args[0];
        printf(".SS dwell ");
        print_roff(cmd->name);
        if (cmd->args[0]) {
            printf(" %s", optional ? "[" : "");
            print_roff(cmd->args);
            printf("%s", optional ? "]" : "");
        }
        printf("\n");
        print_roff_line(cmd->help);
        printf("\n");
        each_flag(cmd, print_flag_man, NULL);
    }
}

/* --- parsing ---------------------------------------------------------------- */

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

/* The id of CMD's flag NAME (N bytes), or -1. */
static int find_flag(const struct command *cmd, const char *name, size_t n)
{
    for (int i = 0; cmd->query && query_params[i].name; i++)
        if ((query_params[i].cli & cmd->query) &&
            strlen(query_params[i].flag) == n &&
            strncmp(query_params[i].flag, name, n) == 0)
            return F_QUERY + i;
    for (const int *f = cmd->flags; *f >= 0; f++)
        if (strlen(flags[*f].name) == n &&
            strncmp(flags[*f].name, name, n) == 0)
            return *f;
    if (strlen(flags[F_QUIET].name) == n &&
        strncmp(flags[F_QUIET].name, name, n) == 0)
        return F_QUIET;
    return -1;
}

/* Whether CMD takes flag ID (F_*). */
static bool takes_flag(const struct command *cmd, int id)
{
    for (const int *f = cmd->flags; *f >= 0; f++)
        if (*f == id)
            return true;
    return id == F_QUIET;
}

/* Prints a usage error about value V of flag ID as it was given (--NAME V,
 * or DWELL_NAME=V when the environment gave it), then ": " and the reason;
 * returns the usage status. */
static int die_value(const struct call *c, int id, const char *v,
                     const char *fmt, ...) DWELL_PRINTF(4, 5);

static int die_value(const struct call *c, int id, const char *v,
                     const char *fmt, ...)
{
    char env[64];
    bool from_env = false;
    for (size_t i = 0; i < c->nopt; i++)
        if (c->opt[i].id == id && c->opt[i].val == v)
            from_env = c->opt[i].env;
    if (from_env && flag_env_name(id, env, sizeof env) == 0)
        fprintf(stderr, "dwell: %s=%s (environment): ", env, v);
    else
        fprintf(stderr, "dwell: --%s %s: ", flag_of(id).name, v ? v : "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see dwell %s --help)\n", c->cmd->name);
    return 2;
}

/* Appends flag ID with value VAL to C (ENV: from the environment).
 * Returns -1, or the usage status when C is full. */
static int add_opt(struct call *c, int id, const char *val, bool env)
{
    if (c->nopt == MAX_OPTS)
        return die_usage("too many flags");
    c->opt[c->nopt].id = id;
    c->opt[c->nopt].val = val;
    c->opt[c->nopt++].env = env;
    if (id == F_DATA)
        c->data = val;
    if (id == F_QUIET)
        c->quiet = true;
    return -1;
}

/* Adds the values of flag ID from environment variable NAME's value V:
 * a switch takes 1, 0, true or false; a repeatable flag a list separated
 * by commas or spaces. Returns -1, or the usage status (message printed
 * naming the variable). */
static int add_env_opt(struct call *c, int id, const char *name,
                       const char *v)
{
    if (flags[id].metavar == NULL) {
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
            return add_opt(c, id, "1", true);
        if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
            return -1;
        return die_usage("%s=%s (environment): expected 1, 0, true or "
                         "false", name, v);
    }
    if (!flags[id].repeat)
        return add_opt(c, id, v, true);
    size_t n = strlen(v);
    if (n >= sizeof c->envlist)
        return die_usage("%s: longer than %zu bytes", name,
                         sizeof c->envlist - 1);
    memcpy(c->envlist, v, n + 1);
    for (char *p = c->envlist; *p;) {
        size_t len = strcspn(p, ", \t");
        char *next = p + len + (p[len] != '\0');
        p[len] = '\0';
        int rc = len ? add_opt(c, id, p, true) : -1;
        if (rc >= 0)
            return rc;
        p = next;
    }
    return -1;
}

/* Adds, from the environment, every flag of C->cmd that may come from there
 * and was not on the command line (flags win). Returns -1, or the usage
 * status. */
static int add_env_opts(struct call *c)
{
    size_t given = c->nopt;
    for (int id = 0; id < F_COUNT; id++) {
        char name[64];
        const char *v;
        bool seen = false;
        if (!takes_flag(c->cmd, id) ||
            flag_env_name(id, name, sizeof name) != 0 ||
            (v = getenv(name)) == NULL || v[0] == '\0')
            continue;
        for (size_t i = 0; i < given; i++)
            seen |= c->opt[i].id == id;
        int rc = seen ? -1 : add_env_opt(c, id, name, v);
        if (rc >= 0)
            return rc;
    }
    return -1;
}

/* Reads ARGV[I..] as flags and arguments of C->cmd into C. Returns -1 when
 * they are good, else the exit status (0 after --help, 2 on a usage
 * error, with the message printed). */
static int parse_call(struct call *c, int argc, char **argv, int i)
{
    const struct command *cmd = c->cmd;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return print_command_help(cmd, stdout), 0;
        if (arg[0] != '-' || arg[1] == '\0') {
            if (c->nargs >= cmd->max_args)
                return die_usage("%s: unexpected argument %s", cmd->name,
                                 arg);
            c->args[c->nargs++] = arg;
            continue;
        }
        size_t n = strcspn(arg + 2, "=");
        int id = arg[1] == '-' ? find_flag(cmd, arg + 2, n) : -1;
        if (id < 0) {
            fprintf(stderr, "dwell: %s: unknown flag %s\n", cmd->name, arg);
            print_usage_line(cmd, stderr);
            fprintf(stderr, "(see dwell %s --help)\n", cmd->name);
            return 2;
        }
        const char *val = arg[2 + n] == '=' ? arg + 3 + n : NULL;
        if (flag_of(id).metavar == NULL) {
            if (val)
                return die_usage("--%s takes no value", flag_of(id).name);
            val = "1";
        } else if (val == NULL) {
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                return die_usage("--%s: missing value", flag_of(id).name);
            val = argv[++i];
        }
        int rc = add_opt(c, id, val, false);
        if (rc >= 0)
            return rc;
    }
    if (c->nargs < cmd->min_args)
        return die_usage("%s: missing %s", cmd->name, cmd->args);
    return add_env_opts(c);
}

/* The last value of flag ID, or NULL. */
static const char *opt(const struct call *c, int id)
{
    for (size_t i = c->nopt; i-- > 0;)
        if (c->opt[i].id == id)
            return c->opt[i].val;
    return NULL;
}

/* query_arg_fn over a call: the value of query parameter NAME, the values
 * of a repeated one joined by commas. */
static const char *call_arg(void *ctx, const char *name)
{
    struct call *c = ctx;
    int p = 0;
    while (query_params[p].name && strcmp(query_params[p].name, name) != 0)
        p++;
    if (query_params[p].name == NULL || !query_params[p].repeat)
        return query_params[p].name ? opt(c, F_QUERY + p) : NULL;
    size_t len = 0;
    bool any = false;
    for (size_t i = 0; i < c->nopt; i++) {
        if (c->opt[i].id != F_QUERY + p)
            continue;
        int n = snprintf(c->joined + len, sizeof c->joined - len, "%s%s",
                         any ? "," : "", c->opt[i].val);
        if (n < 0 || (size_t)n >= sizeof c->joined - len)
            return ",";        /* too long: a value the parser refuses */
        len += (size_t)n;
        any = true;
    }
    return any ? c->joined : NULL;
}

/* --- helpers ----------------------------------------------------------------- */

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

static int print_site(void *ctx, const struct site *s)
{
    (void)ctx;
    printf("%s\t", s->name);
    for (size_t i = 0; i < s->norigins; i++)
        printf("%s%s", i ? "," : "", s->origins[i]);
    printf("\n");
    return 0;
}

static int print_token(void *ctx, const struct store_token *t)
{
    char id[TOKEN_ID_LEN + 1], when[TIME_ISO_S_LEN];
    (void)ctx;
    token_id(t, id);
    time_format_iso8601_s(t->created_us, when);
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

/* --- serve -------------------------------------------------------------------- */

/* Sets the log format and O's logging and /metrics settings from C's
 * flags. Returns 0, or the usage status (message printed). */
static int serve_logging(const struct call *c, struct serve_options *o)
{
    const char *v = opt(c, F_LOG_FORMAT);
    enum log_format lf = LOG_FORMAT_TEXT;
    if (v && log_format_parse(v, &lf) != 0)
        return die_value(c, F_LOG_FORMAT, v, "expected text or json");
    log_set_format(lf);
    o->metrics_token = opt(c, F_METRICS_TOKEN);
    if (o->metrics_token && strlen(o->metrics_token) < 16)
        return die_value(c, F_METRICS_TOKEN, "…", "at least 16 characters");
    o->access_log = opt(c, F_ACCESS_LOG) != NULL;
    o->log_ip = opt(c, F_LOG_IP) != NULL;
    return 0;
}

/* Reads the cluster secret from PATH into BUF (CAP bytes; a trailing
 * newline of a text file left out), warning when others may read the
 * file. Returns its length, or -1 (message printed). */
static long read_cluster_secret(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (f == NULL || fstat(fileno(f), &sb) != 0) {
        fprintf(stderr, "dwell: --cluster-secret %s: %s\n", path,
                strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    if ((sb.st_mode & 077) != 0)
        fprintf(stderr, "dwell: warning: --cluster-secret %s: readable by "
                "others (mode %03o): chmod 600 it\n", path,
                (unsigned)(sb.st_mode & 0777));
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    return (long)n;
}

/* Sets O's cluster secret from C's --cluster-secret FILE, or from
 * DWELL_CLUSTER_SECRET, which holds the secret itself (the flag wins).
 * Returns 0, or the usage status (message printed, never the secret). */
static int serve_cluster(const struct call *c, struct serve_options *o)
{
    static uint8_t secret[VISITOR_SECRET_MAX + 2];
    const char *v = NULL;
    bool env = false;
    for (size_t i = 0; i < c->nopt; i++)
        if (c->opt[i].id == F_CLUSTER_SECRET)
            v = c->opt[i].val, env = c->opt[i].env;
    if (v == NULL)
        return 0;
    long n = (long)strlen(v);
    if (env && (size_t)n <= VISITOR_SECRET_MAX)
        memcpy(secret, v, (size_t)n);
    else if (!env && (n = read_cluster_secret(v, secret, sizeof secret)) < 0)
        return 2;
    char err[256];
    if (visitor_secret_check(secret, (size_t)n, err, sizeof err) == 0) {
        o->store.cluster_secret = secret;
        o->store.cluster_secret_len = (size_t)n;
        return 0;
    }
    if (!env)
        return die_value(c, F_CLUSTER_SECRET, v, "%s", err);
    fprintf(stderr, "dwell: DWELL_CLUSTER_SECRET (environment): %s\n", err);
    return 2;
}

/* Sets O's rate limits and engage allowance from C's flags (defaults
 * otherwise). Returns 0, or the usage status (message printed). */
static int serve_limits(const struct call *c, struct serve_options *o)
{
    const char *v = opt(c, F_RATE_LIMIT);
    if (rate_parse(v ? v : "20/s,400", &o->rate_per_s, &o->rate_burst) != 0)
        return die_value(c, F_RATE_LIMIT, v, "expected N/s, N/s,BURST or 0");
    o->auth_fails_per_min = 10;
    if ((v = opt(c, F_AUTH_FAILS)) &&
        parse_uint(v, 1000000, &o->auth_fails_per_min))
        return die_value(c, F_AUTH_FAILS, v, "not a number");
    unsigned secs = 30;
    if ((v = opt(c, F_ENGAGE_ALLOWANCE)) && parse_uint(v, 4000000, &secs))
        return die_value(c, F_ENGAGE_ALLOWANCE, v, "expected seconds, at "
                         "most 4000000");
    o->store.engage_allowance_ms = secs ? secs * 1000ull : 1;
    unsigned days = 0;
    if ((v = opt(c, F_RETENTION)) && parse_uint(v, 36500, &days))
        return die_value(c, F_RETENTION, v, "expected days, 0–36500");
    o->store.retention_days = days;
    int rc = serve_cluster(c, o);
    return rc != 0 ? rc : serve_logging(c, o);
}

/* Sets O from C's flags. Returns 0, or the usage status (message printed). */
static int serve_options(const struct call *c, struct serve_options *o)
{
    const char *v;
    o->listen = (v = opt(c, F_LISTEN)) ? v : flags[F_LISTEN].def;
    if (!http_listen_valid(o->listen))
        return die_value(c, F_LISTEN, o->listen, "expected HOST:PORT, "
                         "[IPV6]:PORT or :PORT (port 0–65535)");
    o->geo_path = opt(c, F_GEO);
    o->demo_dir = opt(c, F_DEMO);
    o->helpscout_secret = opt(c, F_HELPSCOUT);
    for (size_t i = 0; i < c->nopt; i++) {
        if (c->opt[i].id != F_TRUST_PROXY)
            continue;
        v = c->opt[i].val;
        if (o->ntrusted >= SERVE_MAX_TRUSTED)
            return die_usage("too many --trust-proxy (at most 32)");
        if (cidr_parse(v, &o->trusted[o->ntrusted++]) != 0)
            return die_value(c, F_TRUST_PROXY, v, "not an address or CIDR");
    }
    if ((v = opt(c, F_DURABILITY))) {
        if (strcmp(v, "fsync") == 0) o->store.durability = STORE_FSYNC;
        else if (strcmp(v, "commit") == 0) o->store.durability = STORE_COMMIT;
        else if (strcmp(v, "none") == 0) o->store.durability = STORE_NONE;
        else return die_value(c, F_DURABILITY, v, "expected fsync, commit "
                              "or none");
    }
    if ((v = opt(c, F_QUEUE)) &&
        (parse_size(v, &o->store.queue_cap) || o->store.queue_cap == 0))
        return die_value(c, F_QUEUE, v, "expected a positive number");
    if ((v = opt(c, F_MAP_SIZE)) &&
        (parse_size(v, &o->store.map_size) || o->store.map_size < (64u << 10)))
        return die_value(c, F_MAP_SIZE, v, "expected bytes >= 64K");
    if ((v = opt(c, F_THREADS)) && parse_uint(v, 256, &o->threads))
        return die_value(c, F_THREADS, v, "expected 1–256");
    o->max_per_ip = 256;
    if ((v = opt(c, F_MAX_CONN)) && parse_uint(v, 1000000, &o->max_per_ip))
        return die_value(c, F_MAX_CONN, v, "not a number");
    if ((v = opt(c, F_REQUEST_TIMEOUT)) &&
        (parse_uint(v, 3600, &o->request_timeout_s) ||
         o->request_timeout_s == 0))
        return die_value(c, F_REQUEST_TIMEOUT, v, "expected 1–3600 seconds");
    if ((v = opt(c, F_IDLE_TIMEOUT)) &&
        (parse_uint(v, 3600, &o->idle_timeout_s) || o->idle_timeout_s == 0))
        return die_value(c, F_IDLE_TIMEOUT, v, "expected 1–3600 seconds");
    return serve_limits(c, o);
}

static int cmd_serve(struct call *c)
{
    static struct serve_options o;
    int rc = serve_options(c, &o);
    if (rc != 0)
        return rc;
    o.data_dir = c->data;
    o.ship = opt(c, F_SHIP);
    o.node = opt(c, F_NODE);
    const char *v = opt(c, F_REPORTS);
    char err[300];
    if (v && chsource_open(v, &o.reports, err, sizeof err) != 0)
        return die_value(c, F_REPORTS, v, "%s", err);
    rc = serve_run(&o);
    chsource_close(o.reports);
    return rc;
}

/* --- clickhouse --------------------------------------------------------------- */

static int cmd_clickhouse_schema(struct call *c)
{
    const char *db = opt(c, F_CH_DB);
    if (db == NULL)
        db = "dwell";
    if (!store_ship_db_valid(db))
        return die_value(c, F_CH_DB, db, "expected 1-64 of letters, digits "
                         "and _, not starting with a digit");
    char *ddl = store_ship_schema(db);
    if (ddl == NULL) {
        fprintf(stderr, "dwell: out of memory\n");
        return 1;
    }
    printf("-- dwell's ClickHouse schema, version %d (dwell serve --ship "
           "creates it when missing)\n%s", STORE_SHIP_SCHEMA_VERSION, ddl);
    free(ddl);
    return 0;
}

/* --- site --------------------------------------------------------------------- */

static int cmd_site_add(struct call *c)
{
    static char origins[STORE_MAX_ORIGINS][STORE_ORIGIN_MAX + 1];
    const char *list[STORE_MAX_ORIGINS];
    const char *name = c->args[0];
    const char *secret = opt(c, F_SITE_HELPSCOUT);
    size_t n = 0;
    bool any = false;
    if (secret && strlen(secret) > HELPDESK_SECRET_MAX)
        return die_usage("--helpscout-secret: at most %d bytes",
                         HELPDESK_SECRET_MAX);
    for (size_t i = 0; i < c->nopt; i++) {
        const char *v = c->opt[i].val;
        if (c->opt[i].id != F_ORIGIN)
            continue;
        if (strcmp(v, "*") == 0) {
            any = true;
            continue;
        }
        if (n >= STORE_MAX_ORIGINS)
            return die_usage("at most 8 --origin");
        if (normalise_origin(v, origins[n], sizeof origins[n]) != 0)
            return die_usage("--origin %s: expected scheme://host[:port]", v);
        list[n] = origins[n];
        n++;
    }
    if (any && n > 0)
        return die_usage("--origin '*' (any origin) with other origins");
    struct store *st;
    if (open_store(c->data, false, &st) != 0)
        return 1;
    char err[256];
    uint32_t id;
    bool created;
    struct site old;
    size_t kept = store_site_get(st, name, strlen(name), &old) == 0
                  ? old.norigins : 0;
    int rc = any ? store_site_put_any(st, name, &id, &created, err,
                                      sizeof err)
                 : store_site_put(st, name, list, n, &id, &created, err,
                                  sizeof err);
    if (rc == 0 && secret != NULL)
        rc = store_site_note_put(st, id, HELPDESK_HELPSCOUT_NOTE, secret,
                                 strlen(secret), err, sizeof err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "dwell: site add %s: %s\n", name, err);
        return 1;
    }
    printf("site %s %s (id %u)%s%s%s\n", name, created ? "added" : "updated",
           id, secret == NULL ? "" : secret[0] ? "; Help Scout secret set"
                                               : "; Help Scout secret removed",
           any ? "; events from any origin accepted" : "",
           any && kept ? " (its origins removed)" : "");
    if (n == 0 && kept == 0 && !any)
        fprintf(stderr, "dwell: warning: %s accepts events from any origin "
                "(any web page can send them); give --origin "
                "https://YOUR-HELP-CENTER, or --origin '*' to mean it\n",
                name);
    return 0;
}

static int cmd_site_list(struct call *c)
{
    struct store *st;
    if (open_store(c->data, true, &st) != 0)
        return 1;
    int rc = store_site_each(st, print_site, NULL);
    store_close(st);
    return rc == 0 ? 0 : 1;
}

/* Opens the store of C and looks SITE up; prints why not on failure. */
static int open_site(const struct call *c, const char *name, bool readonly,
                     struct store **st, struct site *site)
{
    if (open_store(c->data, readonly, st) != 0)
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

/* --- events ------------------------------------------------------------------- */

static int cmd_events(struct call *c)
{
    uint64_t since = 24 * 3600000000ull;
    bool all = false;
    unsigned limit = 1000;
    const char *v;
    if ((v = opt(c, F_SINCE))) {
        all = strcmp(v, "all") == 0;
        if (!all && time_parse_duration(v, &since) != 0)
            return die_usage("--since %s: expected e.g. 30m, 24h, 7d or all",
                             v);
    }
    if ((v = opt(c, F_EVENTS_LIMIT)) && parse_uint(v, 100000000, &limit) != 0)
        return die_usage("--limit %s: not a number", v);
    struct store *st;
    struct site site;
    if (open_site(c, c->args[0], true, &st, &site) != 0)
        return 1;
    uint64_t now = store_now_us();
    uint64_t from = all || since > now ? 0 : now - since;
    int rc = store_events_each(st, site.id, from, limit, print_event, NULL);
    store_close(st);
    if (fflush(stdout) != 0 || rc != 0) {
        fprintf(stderr, "dwell: events: read error\n");
        return 1;
    }
    return 0;
}

/* --- report and correlate: through the query table ---------------------------- */

/* Reads --format. Returns 0, or the usage status. */
static int format_of(const struct call *c, enum render_format *f)
{
    const char *v = opt(c, F_FORMAT);
    if (v == NULL || strcmp(v, "table") == 0) *f = RENDER_TABLE;
    else if (strcmp(v, "csv") == 0) *f = RENDER_CSV;
    else if (strcmp(v, "json") == 0) *f = RENDER_JSON;
    else return die_usage("--format %s: expected table, csv or json", v);
    return 0;
}

/* The CLI flag of query parameter NAME. */
static const char *flag_of_param(const char *name)
{
    for (int i = 0; query_params[i].name; i++)
        if (strcmp(query_params[i].name, name) == 0)
            return query_params[i].flag;
    return name;
}

/* Parses C's query parameters for KIND on SITE into Q, noting on stderr a
 * --to moved back to today. Returns 0, or the usage status. */
static int parse_query(struct call *c, enum query_kind kind, const char *site,
                       struct query *q)
{
    const char *param;
    char why[160];
    if (query_parse(kind, site, call_arg, c, q, &param, why, sizeof why)) {
        const char *v = call_arg(c, param);
        return die_usage("--%s %s: %s", flag_of_param(param),
                         v ? v : "(default)", why);
    }
    if (q->range.clamped) {
        char asked[TIME_DATE_LEN], today[TIME_DATE_LEN];
        time_format_date(q->range.asked_to, asked);
        time_format_date(q->range.today, today);
        fprintf(stderr, "dwell: --to %s is in the future; the report ends "
                "today, %s (UTC, so far)\n", asked, today);
    }
    return 0;
}

/* Prints OUT to stdout and frees it; returns the exit status. */
static int print_text(char *out)
{
    fputs(out, stdout);
    free(out);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Runs Q from C's --source (ClickHouse), else from ST, into *OUT; WHY
 * (CAP bytes) says why ClickHouse could not answer. */
static enum query_status run_from(const struct call *c, struct store *st,
                                  const struct query *q,
                                  enum render_format f, char **out,
                                  char *why, size_t cap)
{
    const char *v = opt(c, F_SOURCE);
    struct chsource *cs;
    struct report_source src;
    if (v == NULL || q->kind == QUERY_LEGEND)
        return query_run(st, q, f, out);
    *out = NULL;
    if (chsource_open(v, &cs, why, cap) != 0)
        return QUERY_UNAVAILABLE;
    if (chsource_begin(cs, q->site, &src) != 0) {
        chsource_close(cs);
        return QUERY_NO_MEMORY;
    }
    enum query_status rc = query_run_from(&src, q, f, out);
    const char *e = report_source_error(&src);
    if (rc != QUERY_OK)
        snprintf(why, cap, "%s", e ? e : "ClickHouse failed");
    chsource_end(&src);
    chsource_close(cs);
    return rc;
}

/* Runs query Q of C (ARTICLE: the --article path) and prints it as F. */
static int run_query(struct call *c, struct query *q, const char *article,
                     enum render_format f)
{
    struct store *st = NULL;
    struct site site;
    char *out;
    if (q->kind != QUERY_LEGEND) {
        if (open_site(c, q->site, true, &st, &site) != 0)
            return 1;
        q->q.site_id = site.id;
    }
    if (article)
        q->article = event_article_id(article, strlen(article));
    char why[300] = "";
    enum query_status rc = run_from(c, st, q, f, &out, why, sizeof why);
    if (st)
        store_close(st);
    if (rc == QUERY_OK)
        return print_text(out);
    if (rc == QUERY_UNAVAILABLE) {
        fprintf(stderr, "dwell: %s: %s\n", c->cmd->name, why);
        return 1;
    }
    if (rc == QUERY_NOT_FOUND)
        fprintf(stderr, "dwell: no %s %s on %s\n",
                article ? "article" : "ticket", article ? article : q->ticket,
                q->site);
    else
        fprintf(stderr, "dwell: %s: %s\n", c->cmd->name,
                rc == QUERY_STORAGE ? "storage error" : "out of memory");
    return 1;
}

static int cmd_report(struct call *c)
{
    enum render_format f;
    int rc = format_of(c, &f);
    if (rc != 0)
        return rc;
    const char *article = opt(c, F_ARTICLE);
    enum query_kind kind = QUERY_ARTICLES;
    int chosen = 0;
    if (opt(c, F_SUMMARY)) kind = QUERY_SUMMARY, chosen++;
    if (opt(c, F_SEARCHES)) kind = QUERY_SEARCHES, chosen++;
    if (article) kind = QUERY_ARTICLE, chosen++;
    if (opt(c, F_LEGEND)) kind = QUERY_LEGEND, chosen++;
    if (chosen > 1)
        return die_usage("report: give one of --summary, --searches, "
                         "--article and --legend");
    if (c->nargs == 0 && kind != QUERY_LEGEND)
        return die_usage("report: missing SITE");
    struct query q;
    if ((rc = parse_query(c, kind, c->args[0], &q)) != 0)
        return rc;
    return run_query(c, &q, article, f);
}

static int cmd_correlate(struct call *c)
{
    enum render_format f;
    int rc = format_of(c, &f);
    if (rc != 0)
        return rc;
    const char *part = opt(c, F_PART), *ticket = opt(c, F_TICKET);
    int kind = part ? query_kind_of(part) : QUERY_CORRELATION;
    if (kind != QUERY_CORRELATION && kind != QUERY_CONTACT_AFTER_READ &&
        kind != QUERY_TOPICS && kind != QUERY_GAPS)
        return die_usage("--part %s: expected contact-after-read, topics or "
                         "gaps", part);
    if (ticket && part)
        return die_usage("correlate: give --part or --ticket, not both");
    if (ticket) {
        if (strlen(ticket) > STORE_TICKET_ID_MAX)
            return die_usage("--ticket: at most %d bytes",
                             STORE_TICKET_ID_MAX);
        kind = QUERY_TICKET_READS;
    }
    struct query q;
    if ((rc = parse_query(c, (enum query_kind)kind, c->args[0], &q)) != 0)
        return rc;
    q.ticket = ticket;
    return run_query(c, &q, NULL, f);
}

/* --- token -------------------------------------------------------------------- */

/* Prints FMT to stderr unless C is --quiet: what a command tells besides
 * its result and its errors. */
static void note(const struct call *c, const char *fmt, ...)
    DWELL_PRINTF(2, 3);

static void note(const struct call *c, const char *fmt, ...)
{
    if (c->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* Writes to BUF the server's local address for a browser on this
 * machine, from DWELL_LISTEN (else the default): "http://HOST:PORT", an
 * any-address as 127.0.0.1. Returns 0, or -1 when it cannot be told. */
static int local_url(char *buf, size_t len)
{
    char env[64];
    const char *l = NULL;
    if (flag_env_name(F_LISTEN, env, sizeof env) == 0)
        l = getenv(env);
    if (l == NULL || l[0] == '\0')
        l = flags[F_LISTEN].def;
    const char *colon = strrchr(l, ':');
    if (!http_listen_valid(l) || strcmp(colon, ":0") == 0)
        return -1;
    size_t hl = (size_t)(colon - l);
    bool any = hl == 0 || strncmp(l, "0.0.0.0:", 8) == 0 ||
               strncmp(l, "[::]:", 5) == 0;
    int n = any ? snprintf(buf, len, "http://127.0.0.1%s", colon)
                : snprintf(buf, len, "http://%s", l);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Whether PUB is an http(s)://host[:port][/path] for --public-url. */
static bool public_url_ok(const char *pub)
{
    size_t n = strlen(pub), scheme = strncmp(pub, "https://", 8) == 0 ? 8
                                   : strncmp(pub, "http://", 7) == 0 ? 7 : 0;
    return scheme && n > scheme && pub[scheme] != '/' && n < 400 &&
           strpbrk(pub, " ?#") == NULL;
}

/* Prints the report link of SITE opened with TOKEN to stderr: from
 * --public-url (checked by public_url_ok), else from the local listen
 * address with a note. */
static void print_report_link(const struct call *c, const char *site,
                             const char *token)
{
    char base[512];
    const char *pub = opt(c, F_PUBLIC_URL);
    if (pub) {
        size_t n = strlen(pub);
        while (n > 0 && pub[n - 1] == '/')
            n--;
        memcpy(base, pub, n);
        base[n] = '\0';
    } else if (local_url(base, sizeof base) != 0) {
        note(c, "no report link: the listen address has no fixed port; "
             "give --public-url\n");
        return;
    }
    fprintf(stderr, "report: %s/report/%s#token=%s\n", base, site, token);
    if (!pub)
        note(c, "(a local address, from DWELL_LISTEN or the default; give "
             "--public-url or DWELL_PUBLIC_URL for the address browsers "
             "reach)\n");
}

static int cmd_token_create(struct call *c)
{
    const char *site_name = c->args[0], *name = opt(c, F_NAME);
    bool read_only = opt(c, F_READ_ONLY) != NULL;
    if (name == NULL)
        name = "";
    const char *pub = opt(c, F_PUBLIC_URL);
    if (pub && !public_url_ok(pub))
        return die_value(c, F_PUBLIC_URL, pub, "expected "
                         "http(s)://host[:port][/path]");
    if (strlen(name) > STORE_TOKEN_NAME_MAX)
        return die_usage("--name: at most 64 bytes");
    struct store *st;
    struct site site;
    if (open_site(c, site_name, false, &st, &site) != 0)
        return 1;
    char text[TOKEN_TEXT_LEN + 1], id[TOKEN_ID_LEN + 1], err[256];
    int rc = token_create(st, site_name, read_only ? STORE_SCOPE_READ
                                                   : STORE_SCOPE_FULL,
                          name, text, id, err, sizeof err);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "dwell: token create: %s\n", err);
        return 1;
    }
    note(c, "token %s for %s (%s); shown once: keep it\n", id, site_name,
         read_only ? "read-only" : "full");
    print_report_link(c, site_name, text);
    printf("%s\n", text);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_token_list(struct call *c)
{
    struct store *st;
    if (open_store(c->data, true, &st) != 0)
        return 1;
    int rc = store_token_each(st, print_token, NULL);
    store_close(st);
    return rc == 0 ? 0 : 1;
}

static int cmd_token_revoke(struct call *c)
{
    const char *id = c->args[0];
    struct store *st;
    if (open_store(c->data, false, &st) != 0)
        return 1;
    int rc = token_revoke(st, id);
    store_close(st);
    if (rc == 0) {
        printf("token %s revoked\n", id);
        return 0;
    }
    fprintf(stderr, "dwell: token revoke %s: %s\n", id,
            rc == 1 ? "no such token" : rc == 2 ? "ambiguous id"
            : "expected 6–12 hex digits of an id from dwell token list");
    return 1;
}

/* --- demo --------------------------------------------------------------------- */

/* demo_progress_fn: draws CTX, a progress in days. */
static void demo_progress(void *ctx, unsigned done, unsigned total)
{
    (void)total;
    progress_step(ctx, done);
}

static int cmd_demo(struct call *c)
{
    const char *name = c->args[0], *v;
    unsigned days = 90, seed = 1;
    bool force = opt(c, F_FORCE) != NULL;
    if ((v = opt(c, F_DEMO_DAYS)) &&
        (parse_uint(v, 3650, &days) != 0 || days == 0))
        return die_usage("--days %s: expected 1–3650", v);
    if ((v = opt(c, F_SEED)) && parse_uint(v, 4000000000u, &seed) != 0)
        return die_usage("--seed %s: not a number", v);
    struct store *st;
    struct site site;
    char err[256];
    if (open_site(c, name, false, &st, &site) != 0)
        return 1;
    if (store_start_writer(st, err, sizeof err) != 0) {
        fprintf(stderr, "dwell: demo: %s\n", err);
        store_close(st);
        return 1;
    }
    struct demo_result r;
    struct progress p;
    progress_start(&p, "generating demo days", days);
    int rc = demo_run(st, site.id, name, days, seed, force, demo_progress,
                      &p, &r);
    progress_end(&p);
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

/* --- tickets import ----------------------------------------------------------- */

struct import_report {
    const char *file;
    size_t shown;
    struct progress progress;
};

static void print_bad_record(void *ctx, const char *where, const char *why)
{
    struct import_report *ir = ctx;
    if (ir->shown++ < 100)
        fprintf(stderr, "%s: %s: %s\n", ir->file, where, why);
    else if (ir->shown == 101)
        fprintf(stderr, "%s: (more bad records not shown)\n", ir->file);
}

static void import_progress(void *ctx, size_t stored)
{
    struct import_report *ir = ctx;
    progress_step(&ir->progress, stored);
}

static int cmd_tickets_import(struct call *c)
{
    const char *file = c->args[0], *name = opt(c, F_SITE);
    const char *format = opt(c, F_IMPORT_FORMAT);
    const char *maps[32];
    size_t nmap = 0;
    for (size_t i = 0; i < c->nopt; i++) {
        const char *v = c->opt[i].val;
        if (c->opt[i].id != F_MAP)
            continue;
        if (nmap == 32 || strchr(v, '=') == NULL)
            return die_usage("--map %s: expected COLUMN=FIELD (at most 32)",
                             v);
        maps[nmap++] = v;
    }
    enum helpdesk_format fmt;
    if (name == NULL || format == NULL)
        return die_usage("tickets import: needs FILE, --site and --format");
    if (helpdesk_format_of(format, &fmt) != 0)
        return die_usage("--format %s: expected zendesk-json, zendesk-csv, "
                         "freshdesk-json, helpscout-json, intercom-json or "
                         "csv", format);
    FILE *in = fopen(file, "rb");
    if (in == NULL) {
        fprintf(stderr, "dwell: %s: %s\n", file, strerror(errno));
        return 1;
    }
    struct store *st;
    struct site site;
    if (open_site(c, name, false, &st, &site) != 0) {
        fclose(in);
        return 1;
    }
    struct helpdesk_options o = { opt(c, F_LINK_FIELD), maps, nmap };
    struct import_report ir = { file, 0, { 0 } };
    struct tickets_result res;
    char why[256];
    progress_start(&ir.progress, "importing tickets", 0);
    int rc = tickets_import_file(st, site.id, fmt, in, &o, print_bad_record,
                                 import_progress, &ir, &res, why, sizeof why);
    progress_end(&ir.progress);
    store_close(st);
    fclose(in);
    if (rc != 0 && res.batches > 0) {
        fprintf(stderr, "dwell: %s: stopped after %zu tickets in %zu "
                "batches: %s\n", file, res.good, res.batches, why);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "dwell: %s: nothing imported: %s\n", file, why);
        return 1;
    }
    printf("%s: %zu tickets imported (%zu already stored as they are), "
           "%zu bad records skipped\n", file, res.good - res.unchanged,
           res.unchanged, res.bad);
    return res.bad ? 3 : 0;
}

/* --- export ------------------------------------------------------------------- */

static void export_progress(void *ctx, size_t written)
{
    progress_step(ctx, written);
}

/* Reads --from and --to into O's range. Returns 0, or the usage status. */
static int export_range(const struct call *c, struct export_options *o)
{
    const char *from = opt(c, F_FROM), *to = opt(c, F_TO);
    uint32_t day;
    o->from_us = 0;
    o->to_us = UINT64_MAX;
    if (from != NULL) {
        if (time_parse_date(from, &day) != 0)
            return die_usage("--from %s: expected a date, YYYY-MM-DD", from);
        o->from_us = (uint64_t)day * TIME_US_PER_DAY;
    }
    if (to != NULL) {
        if (time_parse_date(to, &day) != 0)
            return die_usage("--to %s: expected a date, YYYY-MM-DD", to);
        o->to_us = ((uint64_t)day + 1) * TIME_US_PER_DAY;
    }
    if (o->to_us <= o->from_us)
        return die_usage("--to %s is before --from %s", to, from);
    return 0;
}

static int cmd_export(struct call *c)
{
    struct export_options o = { .format = EXPORT_NDJSON, .types = EXPORT_ALL };
    const char *v = opt(c, F_EXPORT_FORMAT);
    if (v != NULL && strcmp(v, "csv") == 0)
        o.format = EXPORT_CSV;
    else if (v != NULL && strcmp(v, "ndjson") != 0)
        return die_usage("--format %s: expected ndjson or csv", v);
    if ((v = opt(c, F_TYPE)) != NULL && export_types_of(v, &o.types) != 0)
        return die_usage("--type %s: expected all, or view, engage, vote, "
                         "search, link, identify, event, ticket (several "
                         "separated by commas)", v);
    int rc = export_range(c, &o);
    if (rc != 0)
        return rc;
    struct store *st;
    struct site site;
    if (open_site(c, c->args[0], true, &st, &site) != 0)
        return 1;
    o.site_id = site.id;
    o.site = site.name;
    struct progress p;
    struct export_result res;
    progress_start(&p, "exporting", 0);
    rc = export_site(st, &o, stdout, export_progress, &p, &res);
    progress_end(&p);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "dwell: export: %s after %zu records\n",
                ferror(stdout) ? "write error" : "read error",
                res.events + res.tickets);
        return 1;
    }
    return 0;
}

/* --- main --------------------------------------------------------------------- */

/* The command named by ARGV[I..] (one or two words), *WORDS set to how
 * many; NULL if none. */
static const struct command *command_of(int argc, char **argv, int i,
                                        int *words)
{
    for (size_t k = 0; k < NCOMMANDS; k++) {
        const char *name = commands[k].name, *sp = strchr(name, ' ');
        size_t n = sp ? (size_t)(sp - name) : strlen(name);
        if (strncmp(argv[i], name, n) != 0 || argv[i][n] != '\0')
            continue;
        if (sp == NULL) {
            *words = 1;
            return &commands[k];
        }
        if (i + 1 < argc && strcmp(argv[i + 1], sp + 1) == 0) {
            *words = 2;
            return &commands[k];
        }
    }
    return NULL;
}

/* Prints the help of every command whose first word is WORD to OUT;
 * returns how many. */
static int print_group_help(const char *word, FILE *out)
{
    int n = 0;
    size_t len = strlen(word);
    for (size_t k = 0; k < NCOMMANDS; k++) {
        const char *name = commands[k].name;
        if (strncmp(name, word, len) == 0 &&
            (name[len] == '\0' || name[len] == ' ')) {
            if (n++)
                fputc('\n', out);
            print_command_help(&commands[k], out);
        }
    }
    return n;
}

/* dwell help [COMMAND [SUBCOMMAND]], dwell help --markdown and --man. */
static int cmd_help(int argc, char **argv)
{
    int words;
    if (argc < 3) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[2], "--markdown") == 0) {
        print_markdown();
        return 0;
    }
    if (strcmp(argv[2], "--man") == 0) {
        print_man();
        return 0;
    }
    const struct command *cmd = command_of(argc, argv, 2, &words);
    if (cmd) {
        print_command_help(cmd, stdout);
        return 0;
    }
    if (print_group_help(argv[2], stdout) > 0)
        return 0;
    return die_usage("help: unknown command %s", argv[2]);
}

/* --- check ------------------------------------------------------------------ */

/* LMDB found the data damaged (store_on_damage): says so and exits with 1
 * rather than abort()'s signal. */
static void damaged_exit(const char *what)
{
    fprintf(stderr, "dwell: the data file is damaged (LMDB: %s); dwell "
            "check tells more; restore a backup\n", what);
    _exit(1);
}

static void print_problem(void *ctx, const char *line)
{
    (void)ctx;
    printf("damaged: %s\n", line);
}

/* The check itself (in the child): 0 when sound, 1 on damage. */
static int check_child(struct call *c)
{
    struct store *st;
    struct site site = { 0 };
    if (c->nargs ? open_site(c, c->args[0], true, &st, &site)
                 : open_store(c->data, true, &st))
        return 1;
    struct store_check_result r;
    int rc = store_check(st, site.id, print_problem, NULL, &r);
    store_close(st);
    if (rc != 0 || r.problems > 0) {
        printf("%s: damaged: %zu problem(s) among %zu records; %zu of them "
               "rollup values that differ from the raw events (%zu rows "
               "and breakdown values compared)\n", c->data, r.problems,
               r.records, r.differences, r.rows);
        return 1;
    }
    printf("%s: sound: %zu records decoded, %zu rollup rows and breakdown "
           "values match the raw events\n", c->data, r.records, r.rows);
    if (r.skipped > 0) {
        char day[TIME_DATE_LEN];
        time_format_date(r.retained, day);
        printf("%s: %zu rollup rows of days before %s not recounted (their "
               "raw events are past the retention horizon)\n", c->data,
               r.skipped, day);
    }
    return 0;
}

/* dwell check runs in a child process: a damaged B-tree that crashes
 * LMDB there is reported as damage, not as a crash of dwell. */
static int cmd_check(struct call *c)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "dwell: check: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        int rc = check_child(c);
        fflush(stdout);
        _exit(rc);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "dwell: check: %s\n", strerror(errno));
            return 1;
        }
    }
    if (WIFSIGNALED(status)) {
        printf("damaged: reading the data crashed (signal %d, %s)\n",
               WTERMSIG(status), strsignal(WTERMSIG(status)));
        fprintf(stderr, "dwell: check: %s is damaged: reading it crashed "
                "(signal %d); restore a backup\n", c->data,
                WTERMSIG(status));
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* --- data lifecycle: site remove, forget, backup ---------------------------- */

static int cmd_site_remove(struct call *c)
{
    const char *name = c->args[0];
    if (!opt(c, F_PURGE))
        return die_usage("site remove %s: deletes the site and every record "
                         "of it (events, rollups, tickets, tokens): add "
                         "--purge to confirm", name);
    struct store *st;
    if (open_store(c->data, false, &st) != 0)
        return 1;
    char err[512];
    size_t removed;
    int rc = store_site_remove(st, name, &removed, err, sizeof err);
    store_close(st);
    if (rc < 0) {
        fprintf(stderr, "dwell: %s\n", err);
        return 1;
    }
    if (rc > 0) {
        fprintf(stderr, "dwell: %s: no such site\n", name);
        return 1;
    }
    printf("site %s removed: %zu records deleted\n", name, removed);
    return 0;
}

/* The identity of C's --email (sha256 hex of it lower-cased) or
 * --identity (64 hex digits, lower-cased) into HEX. Returns 0, or the
 * usage status (message printed). */
static int forget_identity(const struct call *c, char hex[EVENT_HASH_LEN])
{
    const char *email = opt(c, F_EMAIL), *id = opt(c, F_IDENTITY);
    if ((email == NULL) == (id == NULL))
        return die_usage("forget: give one of --email or --identity");
    if (email) {
        char low[512];
        size_t n = strlen(email);
        if (n == 0 || n >= sizeof low || strchr(email, '@') == NULL)
            return die_value(c, F_EMAIL, email, "not an e-mail address");
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)(email[i] >= 'A' && email[i] <= 'Z'
                            ? email[i] - 'A' + 'a' : email[i]);
        uint8_t sum[32];
        crypto_sha256(low, n, sum);
        crypto_hex(sum, sizeof sum, hex);
        return 0;
    }
    if (strlen(id) != EVENT_HASH_LEN)
        return die_value(c, F_IDENTITY, id, "expected 64 hex digits");
    for (size_t i = 0; i < EVENT_HASH_LEN; i++) {
        char x = id[i] >= 'A' && id[i] <= 'F' ? (char)(id[i] - 'A' + 'a')
                                              : id[i];
        if (!((x >= '0' && x <= '9') || (x >= 'a' && x <= 'f')))
            return die_value(c, F_IDENTITY, id, "expected 64 hex digits");
        hex[i] = x;
    }
    return 0;
}

static int cmd_forget(struct call *c)
{
    char hex[EVENT_HASH_LEN + 1];
    int urc = forget_identity(c, hex);
    if (urc != 0)
        return urc;
    struct store *st;
    struct site site;
    if (open_site(c, c->args[0], false, &st, &site) != 0)
        return 1;
    struct store_forgotten f;
    char err[512];
    int rc = store_forget(st, site.id, hex, EVENT_HASH_LEN, &f, err,
                          sizeof err);
    store_close(st);
    printf("forgot in %s: %zu tickets, %zu links, %zu identities, %zu "
           "visits; raw events: %zu deleted, %zu unlinked\n", site.name,
           f.tickets, f.links, f.identities, f.visits, f.events_deleted,
           f.events_unlinked);
    if (rc != 0) {
        fprintf(stderr, "dwell: forget: %s\n", err);
        return 1;
    }
    return 0;
}

/* store_backup_progress_fn: draws CTX, a progress in KiB. */
static void backup_progress(void *ctx, uint64_t copied, uint64_t total)
{
    struct progress *p = ctx;
    p->total = total >> 10;
    progress_step(p, copied >> 10);
}

static int cmd_backup(struct call *c)
{
    struct store *st;
    if (open_store(c->data, true, &st) != 0)
        return 1;
    char err[512];
    struct progress p;
    progress_start(&p, "backing up (KiB)", 0);
    int rc = store_backup(st, c->args[0], backup_progress, &p, err,
                          sizeof err);
    progress_end(&p);
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "dwell: backup: %s\n", err);
        return 1;
    }
    printf("backup: %s/data.mdb (check it: dwell check --data %s)\n",
           c->args[0], c->args[0]);
    return 0;
}

int main(int argc, char **argv)
{
    struct call c;
    memset(&c, 0, sizeof c);
    store_on_damage(damaged_exit);
    c.data = flags[F_DATA].def;          /* DWELL_DATA: add_env_opts */
    if (argc < 2)
        return die_usage("missing command");
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "help") == 0)
        return cmd_help(argc, argv);
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("dwell %s\n", DWELL_VERSION);
        return 0;
    }
    int words;
    c.cmd = command_of(argc, argv, 1, &words);
    if (c.cmd == NULL) {
        bool group = argc > 2 && (strcmp(argv[2], "--help") == 0 ||
                                  strcmp(argv[2], "-h") == 0);
        if (group && print_group_help(name, stdout) > 0)
            return 0;
        if (print_group_help(name, stderr) > 0)
            return die_usage("%s: expected one of the commands above", name);
        return die_usage("unknown command: %s", name);
    }
    int rc = parse_call(&c, argc, argv, 1 + words);
    if (rc >= 0)
        return rc;
    log_set_quiet(c.quiet);
    progress_set_quiet(c.quiet);
    return c.cmd->run(&c);
}
