/* main.c — the dwell command line: parses each command's flags and hands
 * over to the module that does the work. The only file that exits. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwell/clientaddr.h"
#include "dwell/export.h"
#include "dwell/log.h"
#include "dwell/serve.h"
#include "dwell/store.h"

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
"      --queue N                events queued at most (default 65536)\n"
"      --map-size BYTES         initial LMDB map size (grows on demand)\n"
"      --threads N              HTTP threads (default: one per core)\n"
"      --max-conn-per-ip N      connections per client address (default: no limit)\n"
"  site add NAME --origin URL [--origin URL ...]\n"
"                        register a site (or replace its origins)\n"
"  site list             list the sites\n"
"  events SITE [--since DURATION|all] [--limit N]\n"
"                        print stored events as NDJSON (default: 24h, 1000)\n"
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
    if (strcmp(cmd, "site") == 0 && argc >= 3) {
        a.i = 3;
        if (strcmp(argv[2], "add") == 0)
            return cmd_site_add(&a);
        if (strcmp(argv[2], "list") == 0)
            return cmd_site_list(&a);
    }
    return die_usage("unknown command: %s", cmd);
}
