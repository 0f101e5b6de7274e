/* fixture.h — the unit tests' shared fixtures for tests that use a real
 * store: one temporary directory per run with a data directory per test,
 * stores opened in it with or without their writer, sites, client addresses,
 * events parsed from JSON and queued at a chosen time, and acknowledgement
 * records. Include after check.h, with _XOPEN_SOURCE 700 defined before any
 * system header (nftw). main() calls fixture_begin() first and fixture_end()
 * last. Everything is static or static inline: a test file pays only for
 * what it uses, and the fixtures print why they failed. */
#ifndef DWELL_TEST_FIXTURE_H
#define DWELL_TEST_FIXTURE_H

#include "dwell/clientaddr.h"
#include "dwell/event.h"
#include "dwell/log.h"
#include "dwell/store.h"

#include <ftw.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define US_PER_DAY 86400000000ull

static char fixture_root[64];          /* this run's temporary directory */
static char fixture_err[256];          /* the last fixture error */
static struct event_batch *fixture_batch;  /* parsed events; see send_at_us */

static const char chrome_ua[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
static const char firefox_ua[] =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

/* --- the run's directory ---------------------------------------------------- */

/* Makes /tmp/dwell-test-NAME-XXXXXX this run's root, makes stdout line-
 * buffered (a sanitizer report ends the process without a flush) and
 * quiets the log. Returns 0, or -1 after saying why. */
static inline int fixture_begin(const char *name)
{
    snprintf(fixture_root, sizeof fixture_root, "/tmp/dwell-test-%s-XXXXXX",
             name);
    if (mkdtemp(fixture_root) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    log_set_quiet(1);
    return 0;
}

static inline int fixture_remove_entry(const char *path, const struct stat *sb,
                                       int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

/* Removes the tree at PATH (rm -r); says so when it could not. */
static inline void fixture_remove_tree(const char *path)
{
    if (nftw(path, fixture_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        perror(path);
}

/* Frees the shared batch and removes the run's root with all in it. */
static inline void fixture_end(void)
{
    free(fixture_batch);
    fixture_batch = NULL;
    fixture_remove_tree(fixture_root);
}

/* Writes ROOT/NAME to BUF: each test has a data directory of its own. */
static inline const char *data_dir(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", fixture_root, name);
    return buf;
}

/* --- stores and sites -------------------------------------------------------- */

/* The fixtures send a view and minutes of its reading at the same instant:
 * a day of allowance keeps the cap on engaged time (the view's age since
 * first seen plus the allowance) out of tests that are not about it. */
#define FIXTURE_ENGAGE_ALLOWANCE_MS (86400ull * 1000)

/* Opens a writable store in ROOT/NAME with OPT (NULL: defaults), its writer
 * not started. Returns it, or NULL after saying why. */
static inline struct store *open_store(const char *name,
                                       const struct store_options *opt)
{
    char dir[128];
    struct store_options def;
    memset(&def, 0, sizeof def);
    def.engage_allowance_ms = FIXTURE_ENGAGE_ALLOWANCE_MS;
    struct store *st = NULL;
    fixture_err[0] = '\0';
    if (store_open(data_dir(dir, sizeof dir, name), opt ? opt : &def, &st,
                   fixture_err, sizeof fixture_err) != 0) {
        printf("  store_open %s: %s\n", dir, fixture_err);
        return NULL;
    }
    return st;
}

/* Starts ST's writer. Returns ST; or NULL when ST is NULL or the writer did
 * not start (then ST is closed). */
static inline struct store *start_writer(struct store *st)
{
    if (st == NULL)
        return NULL;
    if (store_start_writer(st, fixture_err, sizeof fixture_err) != 0) {
        printf("  store_start_writer: %s\n", fixture_err);
        store_close(st);
        return NULL;
    }
    return st;
}

/* Opens ROOT/NAME with DURABILITY (and manual settling when MANUAL_SETTLE)
 * and starts its writer. Returns the store, or NULL after saying why. */
static inline struct store *open_writing(const char *name,
                                         enum store_durability durability,
                                         bool manual_settle)
{
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.durability = durability;
    opt.manual_settle = manual_settle;
    opt.engage_allowance_ms = FIXTURE_ENGAGE_ALLOWANCE_MS;
    return start_writer(open_store(name, &opt));
}

/* Registers SITE in ST (origin https://help.example.com) and returns its id,
 * or 0 after saying why. */
static inline uint32_t add_site(struct store *st, const char *site)
{
    const char *origins[] = { "https://help.example.com" };
    uint32_t id = 0;
    bool created = false;
    if (store_site_put(st, site, origins, 1, &id, &created, fixture_err,
                       sizeof fixture_err) != 0) {
        printf("  store_site_put %s: %s\n", site, fixture_err);
        return 0;
    }
    return id;
}

/* The UTC day of the store's clock (days since 1970-01-01). */
static inline uint32_t store_today(void)
{
    return (uint32_t)(store_now_us() / US_PER_DAY);
}

/* --- addresses and events -------------------------------------------------- */

/* Parses S, which the test knows to be a valid address (says so if not). */
static inline struct ipaddr addr_of(const char *s)
{
    struct ipaddr a;
    memset(&a, 0, sizeof a);
    if (ipaddr_parse(s, strlen(s), &a) != 0)
        printf("  test setup: %s did not parse\n", s);
    return a;
}

/* Parses JSON (one event or an array) and queues its events for SITE_ID as
 * one request from ADDR with UA at AT_US (microseconds since the epoch),
 * with country CC (NULL: as parsed). Returns 0, or -1 after saying why. */
static inline int send_at_us(struct store *st, uint32_t site_id,
                             uint64_t at_us, const char *addr, const char *ua,
                             const char *cc, const char *json)
{
    if (fixture_batch == NULL &&
        (fixture_batch = malloc(sizeof *fixture_batch)) == NULL) {
        printf("  test setup: out of memory\n");
        return -1;
    }
    struct event_batch *b = fixture_batch;
    if (event_parse_json(json, strlen(json), b, fixture_err,
                         sizeof fixture_err) != 0) {
        printf("  test setup: %s: %s\n", json, fixture_err);
        return -1;
    }
    struct ipaddr a;
    memset(&a, 0, sizeof a);
    if (ipaddr_parse(addr, strlen(addr), &a) != 0) {
        printf("  test setup: %s did not parse\n", addr);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        b->ev[i].site_id = site_id;
        if (cc)
            memcpy(b->ev[i].country, cc, 3);
    }
    int rc = store_enqueue_at(st, at_us, b->ev, b->n, &a, ua, strlen(ua),
                              NULL, NULL);
    if (rc != 0)
        printf("  store_enqueue_at: %d\n", rc);
    return rc;
}

/* send_at_us at second SECS of DAY (days since the epoch). */
static inline int send_at(struct store *st, uint32_t site_id, uint32_t day,
                          uint64_t secs, const char *addr, const char *ua,
                          const char *cc, const char *json)
{
    return send_at_us(st, site_id, (uint64_t)day * US_PER_DAY +
                      secs * 1000000ull, addr, ua, cc, json);
}

/* --- acknowledgements ---------------------------------------------------- */

struct ack_rec {
    atomic_int calls;
    atomic_int status;
};

/* The store's acknowledgement callback: counts calls, keeps the status. */
static inline void on_ack(void *ctx, int status)
{
    struct ack_rec *a = ctx;
    atomic_store(&a->status, status);
    atomic_fetch_add(&a->calls, 1);
}

/* No calls yet, and a status no acknowledgement gives. */
static inline void ack_init(struct ack_rec *a)
{
    atomic_init(&a->calls, 0);
    atomic_init(&a->status, 12345);
}

/* True when A was called exactly once, with status 0. */
static inline bool acked_once_ok(struct ack_rec *a)
{
    int calls = atomic_load(&a->calls), status = atomic_load(&a->status);
    if (calls != 1 || status != 0) {
        printf("  ack called %d time(s), last status %d\n", calls, status);
        return false;
    }
    return true;
}

#endif
