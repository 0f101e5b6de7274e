/* test_store.c — the event store against a real LMDB environment in a fresh
 * temporary directory: opening and reopening, sites, visitor salts, the
 * bounded queue and the writer thread, map growth, and reading events back. */
#define _XOPEN_SOURCE 700
#include "check.h"
#include "fixture.h"
#include "dwell/clientaddr.h"
#include "dwell/event.h"
#include "dwell/log.h"
#include "dwell/store.h"

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "rawlmdb.h"

#define DRAIN_MS 120000u      /* generous: sanitizers and fsync are slow */

static char err[256];

/* A view event filled by hand; the strings are copied by store_enqueue. */
static struct event make_view(uint32_t site_id, const char *view_id,
                              const char *path, const char *title)
{
    struct event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = EVENT_VIEW;
    ev.scroll = EVENT_SCROLL_NONE;
    memcpy(ev.country, "--", 3);
    ev.site_id = site_id;
    ev.view_id = (struct event_str){ view_id, (uint16_t)strlen(view_id) };
    ev.path = (struct event_str){ path, (uint16_t)strlen(path) };
    ev.title = (struct event_str){ title, (uint16_t)strlen(title) };
    /* a category too: see view_without_title_or_category_is_stored */
    ev.category = (struct event_str){ "kb", 2 };
    ev.article = event_article_id(path, strlen(path));
    return ev;
}

/* --- reading events back -------------------------------------------------- */

/* A stored event with its strings copied out of the read transaction. */
struct got_event {
    struct event ev;          /* its event_str fields are cleared */
    char view_id[EVENT_ID_MAX + 1];
    char path[EVENT_PATH_MAX + 1];
    char title[EVENT_TITLE_MAX + 1];
    char referrer[EVENT_REFERRER_MAX + 1];
};

struct got {
    size_t n;                 /* events seen */
    struct got_event ev[16];  /* the first 16 of them */
};

static void copy_str(char *dst, size_t cap, struct event_str s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static int collect(void *ctx, const struct event *ev)
{
    struct got *g = ctx;
    if (g->n < sizeof g->ev / sizeof g->ev[0]) {
        struct got_event *o = &g->ev[g->n];
        o->ev = *ev;
        copy_str(o->view_id, sizeof o->view_id, ev->view_id);
        copy_str(o->path, sizeof o->path, ev->path);
        copy_str(o->title, sizeof o->title, ev->title);
        copy_str(o->referrer, sizeof o->referrer, ev->referrer);
        memset(&o->ev.view_id, 0, sizeof o->ev.view_id);
        memset(&o->ev.path, 0, sizeof o->ev.path);
        memset(&o->ev.title, 0, sizeof o->ev.title);
        memset(&o->ev.referrer, 0, sizeof o->ev.referrer);
        memset(&o->ev.category, 0, sizeof o->ev.category);
        memset(&o->ev.lang, 0, sizeof o->ev.lang);
        memset(&o->ev.text, 0, sizeof o->ev.text);
        memset(&o->ev.site, 0, sizeof o->ev.site);
    }
    g->n++;
    return 0;
}

/* Reads every event of SITE_ID (at most LIMIT most recent) into G. */
static int read_events(struct store *st, uint32_t site_id, size_t limit,
                       struct got *g)
{
    memset(g, 0, sizeof *g);
    return store_events_each(st, site_id, 0, limit, collect, g);
}

/* Parses JSON BODY (one event) into *OUT for SITE_ID. The event's strings
 * point into a static batch: enqueue it before the next parse. */
static bool parse_one(const char *body, uint32_t site_id, struct event *out)
{
    static struct event_batch b;
    if (event_parse_json(body, strlen(body), &b, err, sizeof err) != 0 ||
        b.n != 1) {
        printf("  parse: %s\n", err);
        return false;
    }
    *out = b.ev[0];
    out->site_id = site_id;
    return true;
}

/* --- opening -------------------------------------------------------------- */

TEST(open_close_reopen_keeps_sites_and_events)
{
    struct store *st = open_store("reopen", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "help.example.com");
    CHECK(id != 0);
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct event ev = make_view(id, "reopen01", "/kb/kept", "Kept");
    struct ipaddr a = addr_of("203.0.113.7");
    struct ack_rec ack;
    ack_init(&ack);
    CHECK_EQ_INT(store_enqueue(st, &ev, 1, &a, chrome_ua, strlen(chrome_ua),
                               on_ack, &ack), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    store_close(st);
    CHECK(acked_once_ok(&ack));

    st = open_store("reopen", NULL);
    CHECK(st != NULL);
    struct site s;
    int rc = store_site_get(st, "help.example.com", 16, &s);
    struct got g;
    int rc2 = read_events(st, id, 0, &g);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(s.id, id);
    CHECK_EQ_STR(s.name, "help.example.com");
    CHECK_EQ_INT(s.norigins, 1);
    CHECK_EQ_STR(s.origins[0], "https://help.example.com");
    CHECK_EQ_INT(rc2, 0);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_STR(g.ev[0].view_id, "reopen01");
    CHECK_EQ_STR(g.ev[0].path, "/kb/kept");
}

TEST(close_commits_and_acknowledges_everything_queued)
{
    struct store *st = open_store("close-drains", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("203.0.113.7");
    struct ack_rec acks[5];
    char ids[5][24];
    for (int i = 0; i < 5; i++) {
        ack_init(&acks[i]);
        snprintf(ids[i], sizeof ids[i], "closing%d", i);
        struct event ev = make_view(id, ids[i], "/kb/x", "X");
        CHECK_EQ_INT(store_enqueue(st, &ev, 1, &a, "ua", 2, on_ack,
                                   &acks[i]), 0);
    }
    store_close(st);                   /* no drain first */
    for (int i = 0; i < 5; i++)
        CHECK(acked_once_ok(&acks[i]));
    st = open_store("close-drains", NULL);
    CHECK(st != NULL);
    struct got g;
    int rc = read_events(st, id, 0, &g);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(g.n, 5);
}

TEST(readonly_open_of_a_missing_dir_fails_with_a_message)
{
    char dir[128];
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.readonly = true;
    struct store *st = NULL;
    err[0] = '\0';
    CHECK_EQ_INT(store_open(data_dir(dir, sizeof dir, "does-not-exist"), &opt,
                            &st, err, sizeof err), -1);
    CHECK(st == NULL);
    CHECK(err[0] != '\0');
    CHECK(strstr(err, "does-not-exist") != NULL);
    struct stat sb;
    CHECK(stat(dir, &sb) != 0);        /* and it was not created */
}

TEST(readonly_open_of_an_empty_dir_fails_with_a_message)
{
    char dir[128];
    data_dir(dir, sizeof dir, "empty");
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.readonly = true;
    struct store *st = NULL;
    err[0] = '\0';
    CHECK_EQ_INT(store_open(dir, &opt, &st, err, sizeof err), -1);
    CHECK(strstr(err, "no dwell data") != NULL);
}

TEST(readonly_open_reads_and_cannot_start_a_writer)
{
    struct store *st = open_store("readonly", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "ro.example");
    store_close(st);
    char dir[128];
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.readonly = true;
    st = NULL;
    CHECK_EQ_INT(store_open(data_dir(dir, sizeof dir, "readonly"), &opt, &st,
                            err, sizeof err), 0);
    struct site s;
    int rc = store_site_get(st, "ro.example", 10, &s);
    int wr = store_start_writer(st, err, sizeof err);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(s.id, id);
    CHECK_EQ_INT(wr, -1);
}

/* --- sites ---------------------------------------------------------------- */

TEST(site_put_creates_then_updates_with_the_same_id)
{
    struct store *st = open_store("sites", NULL);
    CHECK(st != NULL);
    const char *o1[] = { "https://help.example.com" };
    const char *o2[] = { "https://help.example.com", "https://kb.example.com" };
    uint32_t id1 = 0, id2 = 0, id3 = 0;
    bool created = false;
    int rc1 = store_site_put(st, "help.example.com", o1, 1, &id1, &created,
                             err, sizeof err);
    bool created1 = created;
    int rc2 = store_site_put(st, "help.example.com", o2, 2, &id2, &created,
                             err, sizeof err);
    bool created2 = created;
    int rc3 = store_site_put(st, "other.example.com", o1, 1, &id3, &created,
                             err, sizeof err);
    bool created3 = created;
    struct site s;
    int got = store_site_get(st, "help.example.com", 16, &s);
    store_close(st);
    CHECK_EQ_INT(rc1, 0);
    CHECK(created1);
    CHECK(id1 != 0);
    CHECK_EQ_INT(rc2, 0);
    CHECK(!created2);
    CHECK_EQ_INT(id2, id1);
    CHECK_EQ_INT(rc3, 0);
    CHECK(created3);
    CHECK(id3 != id1);
    CHECK_EQ_INT(got, 0);
    CHECK_EQ_INT(s.norigins, 2);
    CHECK_EQ_STR(s.origins[1], "https://kb.example.com");
}

TEST(site_put_rejects_bad_names)
{
    struct store *st = open_store("bad-sites", NULL);
    CHECK(st != NULL);
    char long_name[EVENT_SITE_MAX + 2];
    memset(long_name, 'a', EVENT_SITE_MAX + 1);
    long_name[EVENT_SITE_MAX + 1] = '\0';
    const char *bad[] = { "Bad Name", "", "UPPER.example", "a/b", long_name };
    uint32_t id;
    bool created;
    int rcs[5];
    char first_err[256] = "";
    for (int i = 0; i < 5; i++) {
        err[0] = '\0';
        rcs[i] = store_site_put(st, bad[i], NULL, 0, &id, &created, err,
                                sizeof err);
        if (i == 0)
            snprintf(first_err, sizeof first_err, "%s", err);
    }
    long_name[EVENT_SITE_MAX] = '\0';          /* exactly 100: accepted */
    int ok = store_site_put(st, long_name, NULL, 0, &id, &created, err,
                            sizeof err);
    struct site s;
    int missing = store_site_get(st, "Bad Name", 8, &s);
    store_close(st);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(rcs[i], -1);
    CHECK(strstr(first_err, "[a-z0-9.-]") != NULL);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(missing, 1);
}

TEST(site_get_of_a_missing_site_returns_1)
{
    struct store *st = open_store("sites-missing", NULL);
    CHECK(st != NULL);
    add_site(st, "present.example");
    struct site s;
    int rc = store_site_get(st, "absent.example", 14, &s);
    int rc_prefix = store_site_get(st, "present", 7, &s);
    int rc_empty = store_site_get(st, "", 0, &s);
    int rc_len = store_site_get(st, "present.example.org", 15, &s);
    store_close(st);
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(rc_prefix, 1);
    CHECK_EQ_INT(rc_empty, 1);
    CHECK_EQ_INT(rc_len, 0);            /* LEN bytes of the name count */
    CHECK_EQ_STR(s.name, "present.example");
}

struct site_names {
    int n, stop_after;
    char names[8][EVENT_SITE_MAX + 1];
};

static int list_site(void *ctx, const struct site *s)
{
    struct site_names *l = ctx;
    if (l->n < 8)
        snprintf(l->names[l->n], sizeof l->names[0], "%s", s->name);
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

TEST(site_each_lists_sites_in_name_order)
{
    struct store *st = open_store("sites-order", NULL);
    CHECK(st != NULL);
    add_site(st, "zeta.example");
    add_site(st, "alpha.example");
    add_site(st, "mid.example");
    add_site(st, "alpha.example");      /* an update adds nothing */
    struct site_names all, first;
    memset(&all, 0, sizeof all);
    memset(&first, 0, sizeof first);
    first.stop_after = 2;
    int rc = store_site_each(st, list_site, &all);
    int rc2 = store_site_each(st, list_site, &first);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(all.n, 3);
    CHECK_EQ_STR(all.names[0], "alpha.example");
    CHECK_EQ_STR(all.names[1], "mid.example");
    CHECK_EQ_STR(all.names[2], "zeta.example");
    CHECK_EQ_INT(rc2, 0);
    CHECK_EQ_INT(first.n, 2);           /* stops when FN says so */
}

/* --- visitor salts -------------------------------------------------------- */

TEST(salt_rotation_keeps_today_and_yesterday_and_destroys_older)
{
    struct store *st = open_store("salts", NULL);
    CHECK(st != NULL);
    uint8_t s100[16], s100b[16], s101[16], s101b[16], s102[16], x[16];
    int r[12];
    r[0] = store_salt_get(st, 100, x);            /* none yet */
    r[1] = store_salt_rotate(st, 100);
    r[2] = store_salt_get(st, 100, s100);
    r[3] = store_salt_get(st, 99, x);
    r[4] = store_salt_rotate(st, 101);
    r[5] = store_salt_get(st, 100, s100b);
    r[6] = store_salt_get(st, 101, s101);
    r[7] = store_salt_rotate(st, 102);
    r[8] = store_salt_get(st, 100, x);
    r[9] = store_salt_get(st, 101, s101b);
    r[10] = store_salt_get(st, 102, s102);
    r[11] = store_salt_rotate(st, 102);           /* again: a no-op */
    uint8_t s102b[16];
    int r12 = store_salt_get(st, 102, s102b);
    store_close(st);
    CHECK_EQ_INT(r[0], 1);
    CHECK_EQ_INT(r[1], 0);
    CHECK_EQ_INT(r[2], 0);
    CHECK_EQ_INT(r[3], 1);
    CHECK_EQ_INT(r[4], 0);
    CHECK_EQ_INT(r[5], 0);
    CHECK(memcmp(s100, s100b, 16) == 0);          /* kept as it was */
    CHECK_EQ_INT(r[6], 0);
    CHECK(memcmp(s100, s101, 16) != 0);
    CHECK_EQ_INT(r[7], 0);
    CHECK_EQ_INT(r[8], 1);                        /* destroyed */
    CHECK_EQ_INT(r[9], 0);
    CHECK(memcmp(s101, s101b, 16) == 0);
    CHECK_EQ_INT(r[10], 0);
    CHECK(memcmp(s101, s102, 16) != 0);
    CHECK(memcmp(s100, s102, 16) != 0);
    CHECK_EQ_INT(r[11], 0);
    CHECK_EQ_INT(r12, 0);
    CHECK(memcmp(s102, s102b, 16) == 0);
}

TEST(salt_rotation_after_a_gap_destroys_every_old_salt)
{
    struct store *st = open_store("salts-gap", NULL);
    CHECK(st != NULL);
    uint8_t x[16];
    store_salt_rotate(st, 200);
    store_salt_rotate(st, 201);
    int rc = store_salt_rotate(st, 210);
    int g200 = store_salt_get(st, 200, x), g201 = store_salt_get(st, 201, x);
    int g209 = store_salt_get(st, 209, x), g210 = store_salt_get(st, 210, x);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(g200, 1);
    CHECK_EQ_INT(g201, 1);
    CHECK_EQ_INT(g209, 1);
    CHECK_EQ_INT(g210, 0);
}

/* --- the writer ----------------------------------------------------------- */

TEST(view_then_engage_are_stored_with_visitor_time_path_and_engaged_ms)
{
    struct store *st = open_store("writer", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "help.example.com");
    CHECK(id != 0);
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("203.0.113.77");
    struct ack_rec ack1, ack2;
    ack_init(&ack1);
    ack_init(&ack2);

    struct event ev;
    CHECK(parse_one("{\"s\":\"help.example.com\",\"t\":\"view\","
                    "\"v\":\"k3J9xQ2m\","
                    "\"u\":\"https://help.example.com/kb/reset-password?a=1\","
                    "\"r\":\"https://www.google.com/\","
                    "\"ti\":\"Reset your password\",\"w\":812,"
                    "\"c\":\"accounts\",\"l\":\"en-US\",\"sw\":1280}", id,
                    &ev));
    memcpy(ev.country, "DE", 3);
    uint64_t before = store_now_us();
    CHECK_EQ_INT(store_enqueue(st, &ev, 1, &a, chrome_ua, strlen(chrome_ua),
                               on_ack, &ack1), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    uint64_t after = store_now_us();
    CHECK(acked_once_ok(&ack1));
    struct got g;
    CHECK_EQ_INT(read_events(st, id, 0, &g), 0);
    CHECK_EQ_INT(g.n, 1);
    const struct got_event *v = &g.ev[0];
    CHECK_EQ_INT(v->ev.type, EVENT_VIEW);
    CHECK_EQ_INT(v->ev.site_id, id);
    CHECK(v->ev.visitor != 0);
    CHECK(v->ev.time_us >= before && v->ev.time_us <= after);
    CHECK_EQ_STR(v->view_id, "k3J9xQ2m");
    CHECK_EQ_STR(v->path, "/kb/reset-password");
    CHECK_EQ_STR(v->title, "Reset your password");
    CHECK_EQ_STR(v->referrer, "www.google.com");
    CHECK_EQ_STR(v->ev.country, "DE");
    CHECK_EQ_INT(v->ev.words, 812);
    CHECK(v->ev.article == event_article_id("/kb/reset-password", 18));

    CHECK(parse_one("{\"s\":\"help.example.com\",\"t\":\"engage\","
                    "\"v\":\"k3J9xQ2m\",\"e\":15000,\"sd\":64}", id, &ev));
    CHECK(ev.article == 0 && ev.path.n == 0);     /* the store fills them */
    CHECK_EQ_INT(store_enqueue(st, &ev, 1, &a, chrome_ua, strlen(chrome_ua),
                               on_ack, &ack2), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    CHECK(acked_once_ok(&ack2));
    CHECK(acked_once_ok(&ack1));                  /* still once */
    CHECK_EQ_INT(read_events(st, id, 0, &g), 0);
    struct store_stats stats;
    store_get_stats(st, &stats);
    store_close(st);
    CHECK_EQ_INT(g.n, 2);
    const struct got_event *e = &g.ev[1];
    CHECK_EQ_INT(g.ev[0].ev.type, EVENT_VIEW);
    CHECK_EQ_INT(e->ev.type, EVENT_ENGAGE);
    CHECK_EQ_STR(e->path, "/kb/reset-password");
    CHECK_EQ_INT(e->ev.engaged_ms, 15000);
    CHECK_EQ_INT(e->ev.scroll, 64);
    CHECK(e->ev.article == event_article_id("/kb/reset-password", 18));
    CHECK(e->ev.visitor == g.ev[0].ev.visitor);
    CHECK(e->ev.time_us >= g.ev[0].ev.time_us);
    CHECK_EQ_INT(stats.events_stored, 2);
    CHECK_EQ_INT(stats.orphans, 0);
    CHECK_EQ_INT(stats.write_errors, 0);
    CHECK_EQ_INT(stats.queue_depth, 0);
}

TEST(engage_for_an_unknown_view_is_an_orphan_without_a_path)
{
    struct store *st = open_store("orphan", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("203.0.113.77");
    struct event ev;
    CHECK(parse_one("{\"s\":\"a.example\",\"t\":\"engage\","
                    "\"v\":\"nobody00\",\"e\":5000}", id, &ev));
    struct ack_rec ack;
    ack_init(&ack);
    CHECK_EQ_INT(store_enqueue(st, &ev, 1, &a, "ua", 2, on_ack, &ack), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    struct got g;
    int rc = read_events(st, id, 0, &g);
    struct store_stats stats;
    store_get_stats(st, &stats);
    store_close(st);
    CHECK(acked_once_ok(&ack));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_STR(g.ev[0].path, "");
    CHECK(g.ev[0].ev.article == 0);
    CHECK_EQ_INT(stats.orphans, 1);
}

/* Stores N views five days old and one of today ("today001") through the
 * running writer of ST. Returns 0 on success. */
static int add_old_views(struct store *st, uint32_t id, int n)
{
    struct ipaddr a = addr_of("203.0.113.78");
    uint64_t old = store_now_us() - 5 * 86400000000ull;
    static char ids[32][16];
    struct event evs[32];
    for (int done = 0; done < n; done += 32) {
        for (int i = 0; i < 32; i++) {
            snprintf(ids[i], sizeof ids[i], "old%06d", done + i);
            evs[i] = make_view(id, ids[i], "/kb/old", "Old");
        }
        if (store_enqueue_at(st, old, evs, 32, &a, "ua", 2, NULL, NULL) != 0)
            return -1;
        if (done % 8192 == 0 && store_drain(st, DRAIN_MS) != 0)
            return -1;
    }
    evs[0] = make_view(id, "today001", "/kb/new", "New");
    if (store_enqueue(st, evs, 1, &a, "ua", 2, NULL, NULL) != 0)
        return -1;
    return store_drain(st, DRAIN_MS);
}

TEST(purge_deletes_expired_view_state_past_one_transaction_and_keeps_today)
{
    struct store *st = open_store("purge", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "p.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("203.0.113.78");
    CHECK_EQ_INT(add_old_views(st, id, 25000), 0);
    size_t removed = 0;
    CHECK_EQ_INT(store_purge(st, &removed), 0);
    CHECK(removed >= 25024);                   /* the views, their marks */
    CHECK_EQ_INT(store_purge(st, &removed), 0);
    CHECK_EQ_INT(removed, 0);
    /* an engage for a purged view is an orphan; today's view still takes
     * its engage */
    struct event eng[2];
    CHECK(parse_one("{\"s\":\"p.example\",\"t\":\"engage\","
                    "\"v\":\"old000007\",\"e\":5000}", id, &eng[0]));
    CHECK(parse_one("{\"s\":\"p.example\",\"t\":\"engage\","
                    "\"v\":\"today001\",\"e\":5000}", id, &eng[1]));
    CHECK_EQ_INT(store_enqueue(st, eng, 2, &a, "ua", 2, NULL, NULL), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    struct store_stats stats;
    store_get_stats(st, &stats);
    store_close(st);
    CHECK_EQ_INT(stats.orphans, 1);
}

/* Queues N engages of "today001" in ST. Returns 0, or -1. */
static int queue_engages(struct store *st, uint32_t id, size_t n)
{
    struct ipaddr a = addr_of("203.0.113.79");
    struct event eng[EVENT_MAX_BATCH];
    if (!parse_one("{\"s\":\"p.example\",\"t\":\"engage\","
                   "\"v\":\"today001\",\"e\":10}", id, &eng[0]))
        return -1;
    for (int i = 1; i < EVENT_MAX_BATCH; i++)
        eng[i] = eng[0];
    for (size_t done = 0; done < n; done += EVENT_MAX_BATCH)
        if (store_enqueue(st, eng, EVENT_MAX_BATCH, &a, "ua", 2, NULL,
                          NULL) != 0)
            return -1;
    return 0;
}

/* Waits until ST's writer has purged WANT records, or the queue has
 * emptied, or DRAIN_MS have passed; S holds the last stats read. */
static void wait_purged(struct store *st, uint64_t want,
                        struct store_stats *s)
{
    uint64_t until = store_now_us() + DRAIN_MS * 1000ull;
    struct timespec ms = { 0, 1000000L };
    for (;;) {
        store_get_stats(st, s);
        if (s->purged >= want || s->queue_depth == 0 ||
            store_now_us() > until)
            return;
        nanosleep(&ms, NULL);
    }
}

/* Engages queued before the writer starts in the test below: far more
 * than the writer stores while the purge takes its forced steps, 20 ms
 * apart (about 700,000 a second here: some 15,000 between two steps, and
 * none during a step), whatever the load: a writer slowed by other
 * processes stores fewer of them meanwhile, not more. */
#define LOAD_EVENTS (1u << 19)

TEST(purge_goes_on_under_a_queue_that_never_empties)
{
    struct store *st = open_store("purge-load", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "p.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    CHECK_EQ_INT(add_old_views(st, id, 25000), 0);
    store_close(st);

    /* reopened: the first purge is due at once, and a queue that has not
     * emptied for 1 ms no longer holds it off (a step every 20 ms); the
     * queue is filled before the writer starts and never again, so it only
     * shrinks: if it still holds events when the purge has ended, it never
     * emptied meanwhile (no sampling of its depth, so no load can fool
     * the test) */
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.durability = STORE_NONE;
    opt.purge_first_ms = 1;
    opt.starved_ms = 1;
    opt.chores_every_ms = 20;
    opt.queue_cap = LOAD_EVENTS + EVENT_MAX_BATCH;
    st = open_store("purge-load", &opt);
    CHECK(st != NULL);
    CHECK_EQ_INT(queue_engages(st, id, LOAD_EVENTS), 0);
    struct store_stats s;
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    wait_purged(st, 25024, &s);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    /* the old views are gone: an engage for one is an orphan */
    struct store_stats before;
    store_get_stats(st, &before);
    struct event eng;
    struct ipaddr a = addr_of("203.0.113.78");
    CHECK(parse_one("{\"s\":\"p.example\",\"t\":\"engage\","
                    "\"v\":\"old000007\",\"e\":5000}", id, &eng));
    CHECK_EQ_INT(store_enqueue(st, &eng, 1, &a, "ua", 2, NULL, NULL), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    struct store_stats after;
    store_get_stats(st, &after);
    store_close(st);
    CHECK(s.purged >= 25024);         /* the old views, their marks */
    CHECK(s.queue_depth > 0);         /* …purged before the queue emptied */
    CHECK_EQ_INT(after.orphans - before.orphans, 1);
}

TEST(same_address_and_ua_on_one_day_give_one_visitor_hash)
{
    struct store *st = open_store("visitors", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    uint32_t id2 = add_site(st, "b.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("203.0.113.77");
    struct ipaddr a_mapped = addr_of("::ffff:203.0.113.77");
    struct ipaddr b = addr_of("203.0.113.78");
    struct ipaddr c = addr_of("2001:db8::77");
    struct ack_rec acks[6];
    struct {
        const char *view_id;
        const struct ipaddr *addr;
        const char *ua;
        uint32_t site;
    } sends[6] = {
        { "visitor0", &a, chrome_ua, id },
        { "visitor1", &a_mapped, chrome_ua, id },     /* same address */
        { "visitor2", &b, chrome_ua, id },
        { "visitor3", &c, chrome_ua, id },
        { "visitor4", &a, firefox_ua, id },
        { "visitor5", &a, chrome_ua, id2 },           /* another site */
    };
    for (int i = 0; i < 6; i++) {
        ack_init(&acks[i]);
        struct event ev = make_view(sends[i].site, sends[i].view_id,
                                    "/kb/same", "Same");
        CHECK_EQ_INT(store_enqueue(st, &ev, 1, sends[i].addr, sends[i].ua,
                                   strlen(sends[i].ua), on_ack, &acks[i]), 0);
    }
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    struct got g, g2;
    int rc = read_events(st, id, 0, &g);
    int rc2 = read_events(st, id2, 0, &g2);
    store_close(st);
    for (int i = 0; i < 6; i++)
        CHECK(acked_once_ok(&acks[i]));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(rc2, 0);
    CHECK_EQ_INT(g.n, 5);
    CHECK_EQ_INT(g2.n, 1);
    for (int i = 0; i < 5; i++)
        CHECK(g.ev[i].ev.visitor != 0);
    CHECK_EQ_STR(g.ev[0].view_id, "visitor0");
    CHECK(g.ev[0].ev.visitor == g.ev[1].ev.visitor);
    CHECK(g.ev[0].ev.visitor != g.ev[2].ev.visitor);
    CHECK(g.ev[0].ev.visitor != g.ev[3].ev.visitor);
    CHECK(g.ev[2].ev.visitor != g.ev[3].ev.visitor);
    CHECK(g.ev[0].ev.visitor != g.ev[4].ev.visitor);  /* other browser */
    CHECK(g.ev[0].ev.visitor != g2.ev[0].ev.visitor); /* other site */
}

/* True when the NEEDLE bytes occur in the file at PATH. */
static bool file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    static uint8_t buf[1 << 16];
    size_t have = 0, got;
    bool found = false;
    while (!found && (got = fread(buf + have, 1, sizeof buf - have, f)) > 0) {
        have += got;
        for (size_t i = 0; i + n <= have && !found; i++)
            found = memcmp(buf + i, needle, n) == 0;
        if (have >= n) {               /* keep a tail that may start one */
            memmove(buf, buf + have - (n - 1), n - 1);
            have = n - 1;
        }
    }
    fclose(f);
    return found;
}

TEST(no_client_address_or_user_agent_reaches_the_data_files)
{
    struct store *st = open_store("privacy", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("198.51.100.213");
    struct event ev = make_view(id, "private0", "/kb/p", "P");
    CHECK_EQ_INT(store_enqueue(st, &ev, 1, &a, firefox_ua, strlen(firefox_ua),
                               NULL, NULL), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    store_close(st);
    char dir[128], file[160];
    data_dir(dir, sizeof dir, "privacy");
    snprintf(file, sizeof file, "%s/data.mdb", dir);
    CHECK(file_contains(file, "private0", 8));         /* the probe works */
    CHECK(!file_contains(file, "Firefox/121.0", 13));
    CHECK(!file_contains(file, a.b, sizeof a.b));
    CHECK(!file_contains(file, "198.51.100.213", 14));
}

/* --- the bounded queue ----------------------------------------------------- */

TEST(queue_of_cap_2_refuses_a_third_event_until_the_writer_runs)
{
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.queue_cap = 2;
    struct store *st = open_store("queue-cap", &opt);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    struct ipaddr a = addr_of("203.0.113.7");
    struct event two[2] = {
        make_view(id, "queued00", "/kb/q", "Q"),
        make_view(id, "queued01", "/kb/q", "Q"),
    };
    struct event third = make_view(id, "queued02", "/kb/q", "Q");
    struct ack_rec ack_two, ack_third, ack_later;
    ack_init(&ack_two);
    ack_init(&ack_third);
    ack_init(&ack_later);
    int rc_two = store_enqueue(st, two, 2, &a, "ua", 2, on_ack, &ack_two);
    int rc_third = store_enqueue(st, &third, 1, &a, "ua", 2, on_ack,
                                 &ack_third);
    struct store_stats stats;
    store_get_stats(st, &stats);
    /* the writer empties the queue; then there is room again */
    int rc_start = store_start_writer(st, err, sizeof err);
    int rc_drain = store_drain(st, DRAIN_MS);
    int rc_later = store_enqueue(st, &third, 1, &a, "ua", 2, on_ack,
                                 &ack_later);
    int rc_drain2 = store_drain(st, DRAIN_MS);
    struct got g;
    int rc_read = read_events(st, id, 0, &g);
    store_close(st);
    CHECK_EQ_INT(rc_two, 0);
    CHECK_EQ_INT(rc_third, STORE_EFULL);
    CHECK_EQ_INT(stats.queue_depth, 2);
    CHECK_EQ_INT(rc_start, 0);
    CHECK_EQ_INT(rc_drain, 0);
    CHECK_EQ_INT(rc_later, 0);
    CHECK_EQ_INT(rc_drain2, 0);
    CHECK(acked_once_ok(&ack_two));
    CHECK_EQ_INT(atomic_load(&ack_third.calls), 0);   /* refused: no ack */
    CHECK(acked_once_ok(&ack_later));
    CHECK_EQ_INT(rc_read, 0);
    CHECK_EQ_INT(g.n, 3);
}

TEST(queue_of_cap_2_takes_two_single_events_and_refuses_a_third)
{
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.queue_cap = 2;
    struct store *st = open_store("queue-cap-singles", &opt);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    struct ipaddr a = addr_of("203.0.113.7");
    struct event ev = make_view(id, "single00", "/kb/q", "Q");
    struct ack_rec acks[3];
    int rc[3];
    for (int i = 0; i < 3; i++) {
        ack_init(&acks[i]);
        rc[i] = store_enqueue(st, &ev, 1, &a, "ua", 2, on_ack, &acks[i]);
    }
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    store_close(st);
    CHECK_EQ_INT(rc[0], 0);
    CHECK_EQ_INT(rc[1], 0);
    CHECK_EQ_INT(rc[2], STORE_EFULL);
    CHECK(acked_once_ok(&acks[0]));
    CHECK(acked_once_ok(&acks[1]));
    CHECK_EQ_INT(atomic_load(&acks[2].calls), 0);
}

TEST(enqueue_of_0_or_33_events_is_refused)
{
    struct store *st = open_store("queue-n", NULL);
    CHECK(st != NULL);
    static struct event evs[EVENT_MAX_BATCH + 1];
    for (int i = 0; i <= EVENT_MAX_BATCH; i++)
        evs[i] = make_view(1, "manyview", "/kb/m", "M");
    struct ipaddr a = addr_of("203.0.113.7");
    int rc0 = store_enqueue(st, evs, 0, &a, "ua", 2, NULL, NULL);
    int rc33 = store_enqueue(st, evs, EVENT_MAX_BATCH + 1, &a, "ua", 2, NULL,
                             NULL);
    store_close(st);
    CHECK_EQ_INT(rc0, -1);
    CHECK_EQ_INT(rc33, -1);
}

/* Prints the lines of the child's stderr in PATH that say what went wrong
 * (a sanitizer's error, summary and the frames in src/), not its whole
 * report. */
static void print_child_report(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    int frames = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        bool key = strstr(line, "ERROR:") || strstr(line, "SUMMARY:") ||
                   strstr(line, "runtime error") || strstr(line, "WRITE of") ||
                   strstr(line, "READ of");
        if (!key && strstr(line, " src/") && frames < 4) {
            frames++;
            key = true;
        }
        if (key)
            printf("  child: %s\n", line + strspn(line, " "));
    }
    fclose(f);
}

/* Runs FN in a child process and says whether it exited with status 0.
 * For the tests that show a bug in src/: a sanitizer abort or a leak report
 * there must not take this process's report with it. */
static bool in_child(int (*fn)(void))
{
    char log[128];
    snprintf(log, sizeof log, "%s/child-stderr.txt", fixture_root);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (pid == 0) {
        FILE *e = freopen(log, "w", stderr);
        (void)e;
        int rc = fn();
        fflush(stdout);
        _exit(rc);                     /* no atexit handlers, no LSan */
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return false;
    }
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
        print_child_report(log);
        if (WIFSIGNALED(status))
            printf("  child killed by signal %d\n", WTERMSIG(status));
        else
            printf("  child exited with status %d\n", WEXITSTATUS(status));
    }
    remove(log);
    return ok;
}

/* store_enqueue promises that ACK "is called once, later", and store_close
 * that it returns after "everything queued" is acknowledged. A store closed
 * before its writer ever ran never calls the ack, and leaks the queued
 * slot (LeakSanitizer reports it from store_enqueue). */
static int close_without_writer(void)
{
    struct store *st = open_store("close-no-writer", NULL);
    if (st == NULL)
        return 2;
    uint32_t id = add_site(st, "a.example");
    struct ipaddr a = addr_of("203.0.113.7");
    struct event ev = make_view(id, "unwritten", "/kb/u", "U");
    struct ack_rec ack;
    ack_init(&ack);
    if (store_enqueue(st, &ev, 1, &a, "ua", 2, on_ack, &ack) != 0)
        return 3;
    store_close(st);
    int calls = atomic_load(&ack.calls);
    if (calls != 1)
        printf("  ack called %d time(s) by store_close\n", calls);
    return calls == 1 ? 0 : 1;
}

TEST(close_without_a_writer_acknowledges_queued_events)
{
    CHECK(in_child(close_without_writer));
}

/* Views without a title or a category are common (the snippet sends "c"
 * only when the page has a dwell:category meta tag). Their event_str is
 * {NULL, 0}; the article record must be written without passing NULL to
 * memcpy (undefined behaviour, fatal under UBSan). */
static int view_without_title_or_category(void)
{
    struct store *st = open_store("no-category", NULL);
    if (st == NULL)
        return 2;
    uint32_t id = add_site(st, "a.example");
    if (store_start_writer(st, err, sizeof err) != 0)
        return 3;
    struct event ev;
    if (!parse_one("{\"s\":\"a.example\",\"t\":\"view\","
                   "\"v\":\"bareview\",\"u\":\"/kb/bare\"}", id, &ev))
        return 4;
    struct ipaddr a = addr_of("203.0.113.7");
    struct ack_rec ack;
    ack_init(&ack);
    if (store_enqueue(st, &ev, 1, &a, "ua", 2, on_ack, &ack) != 0 ||
        store_drain(st, DRAIN_MS) != 0)
        return 5;
    struct got g;
    int rc = read_events(st, id, 0, &g);
    store_close(st);
    if (!acked_once_ok(&ack) || rc != 0 || g.n != 1 ||
        strcmp(g.ev[0].path, "/kb/bare") != 0 || g.ev[0].title[0] != '\0')
        return 1;
    return 0;
}

TEST(view_without_title_or_category_is_stored)
{
    CHECK(in_child(view_without_title_or_category));
}

/* store_enqueue takes any struct event; the writer keeps view ids, link
 * ids and article fields in fixed buffers sized by the limits of event.h
 * (4 + EVENT_ID_MAX key bytes, 12 + 6 + 512 + 200 + 64 article bytes).
 * An event beyond those limits (a caller's bug) must be refused at enqueue
 * or stored safely, never written past a buffer on the writer thread.
 * Run in a child: ASan ends the process on an overflow. */
static int oversized_case;

static int enqueue_oversized(void)
{
    static char long_id[41], long_path[601], long_title[251], long_link[101];
    memset(long_id, 'i', 40);
    long_path[0] = '/';
    memset(long_path + 1, 'p', 599);
    memset(long_title, 't', 250);
    memset(long_link, 'k', 100);
    char name[32];
    snprintf(name, sizeof name, "oversized-%d", oversized_case);
    struct store *st = open_store(name, NULL);
    if (st == NULL)
        return 2;
    uint32_t id = add_site(st, "a.example");
    if (store_start_writer(st, err, sizeof err) != 0)
        return 3;
    struct event evs[2];
    size_t n = 1;
    switch (oversized_case) {
    case 0:                                 /* view id of 40 characters */
        evs[0] = make_view(id, long_id, "/kb/o", "O");
        break;
    case 1:                                 /* path 600 bytes, title 250 */
        evs[0] = make_view(id, "oversize", long_path, long_title);
        break;
    default:                                /* link id of 100 characters */
        evs[0] = make_view(id, "oversize", "/kb/o", "O");
        memset(&evs[1], 0, sizeof evs[1]);
        evs[1].type = EVENT_LINK;
        evs[1].scroll = EVENT_SCROLL_NONE;
        memcpy(evs[1].country, "--", 3);
        evs[1].site_id = id;
        evs[1].view_id = evs[0].view_id;
        evs[1].text = (struct event_str){ long_link, 100 };
        n = 2;
        break;
    }
    struct ipaddr a = addr_of("203.0.113.7");
    int rc = store_enqueue(st, evs, n, &a, "ua", 2, NULL, NULL);
    if (rc == 0 && store_drain(st, DRAIN_MS) != 0)
        rc = 4;
    store_close(st);
    return rc == 0 || rc == -1 ? 0 : 1;
}

TEST(view_id_beyond_32_characters_never_overflows_the_writer)
{
    oversized_case = 0;
    CHECK(in_child(enqueue_oversized));
}

TEST(path_and_title_beyond_their_caps_never_overflow_the_writer)
{
    oversized_case = 1;
    CHECK(in_child(enqueue_oversized));
}

TEST(link_id_beyond_64_characters_never_overflows_the_writer)
{
    oversized_case = 2;
    CHECK(in_child(enqueue_oversized));
}

/* --- map growth ------------------------------------------------------------ */

/* Ignores a problem store_check found. */
static void ignore_line(void *ctx, const char *line)
{
    (void)ctx, (void)line;
}

/* Prints a problem store_check found. */
static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("  check: %s\n", line);
}

#define BULK_EVENTS 20000
#define BULK_BATCH  32

struct bulk_seen {
    size_t n, bad, dup, unordered;
    uint64_t last_time;
    uint8_t seen[BULK_EVENTS];
};

static int bulk_visit(void *ctx, const struct event *ev)
{
    struct bulk_seen *b = ctx;
    unsigned long i = 0;
    char id[EVENT_ID_MAX + 1];
    copy_str(id, sizeof id, ev->view_id);
    char *end = NULL;
    char path[32], want[32];
    copy_str(path, sizeof path, ev->path);
    if (strncmp(id, "bulk", 4) == 0)
        i = strtoul(id + 4, &end, 10);
    snprintf(want, sizeof want, "/kb/article-%04lu", i % 2000);
    if (end == NULL || *end != '\0' || i >= BULK_EVENTS ||
        ev->title.n != EVENT_TITLE_MAX || strcmp(path, want) != 0 ||
        ev->article != event_article_id(want, strlen(want))) {
        b->bad++;
    } else if (b->seen[i]++) {
        b->dup++;
    }
    if (ev->time_us < b->last_time)
        b->unordered++;
    b->last_time = ev->time_us;
    b->n++;
    return 0;
}

/* Calls write WHICH (numbered I) until the map has grown once more than
 * GROWS0; returns the calls made, or -1 when one failed (ERR says why) or
 * the map never filled. */
static int write_until_the_map_grows(struct store *st, int which,
                                     uint64_t grows0)
{
    char origin[STORE_ORIGIN_MAX + 1];
    memset(origin, 'o', STORE_ORIGIN_MAX);
    origin[STORE_ORIGIN_MAX] = '\0';
    const char *origins[STORE_MAX_ORIGINS];
    for (int i = 0; i < STORE_MAX_ORIGINS; i++)
        origins[i] = origin;
    for (int i = 1; i <= 200000; i++) {
        char name[32];
        snprintf(name, sizeof name, "w%d-%06d.example", which % 10, i);
        int rc = -1;
        if (which == 0) {                       /* dwell site add */
            uint32_t id;
            bool created;
            rc = store_site_put(st, name, origins, STORE_MAX_ORIGINS, &id,
                                &created, err, sizeof err);
        } else if (which == 1) {                /* dwell token create */
            struct store_token t = { .scope = STORE_SCOPE_FULL,
                                     .created_us = (uint64_t)i };
            memcpy(t.hash, name, sizeof t.hash < strlen(name) + 1
                                 ? sizeof t.hash : strlen(name) + 1);
            snprintf(t.site, sizeof t.site, "w.example");
            memset(t.name, 'n', STORE_TOKEN_NAME_MAX);
            rc = store_token_put(st, &t, err, sizeof err);
        } else if (which == 2) {                /* dwell demo's note */
            char note[STORE_NOTE_MAX];
            memset(note, 'x', sizeof note);
            rc = store_site_note_put(st, (uint32_t)i, "demo", note,
                                     sizeof note, err, sizeof err);
        } else {                                /* tickets import, webhook */
            struct store_ticket t = { .created_us = (uint64_t)i * 1000 };
            size_t unchanged;
            snprintf(t.id, sizeof t.id, "%s", name);
            memset(t.channel, 'c', sizeof t.channel - 1);
            rc = store_tickets_put(st, 1, &t, 1, &unchanged, err,
                                   sizeof err);
        }
        if (rc != 0) {
            printf("  writer %d, call %d: %s\n", which, i, err);
            return -1;
        }
        struct store_stats stats;
        store_get_stats(st, &stats);
        if (stats.map_grows > grows0)
            return i;
    }
    printf("  writer %d never filled the map\n", which);
    return -1;
}

TEST(site_add_token_create_notes_and_tickets_grow_a_full_map)
{
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.map_size = (size_t)128 << 10;
    opt.durability = STORE_NONE;
    struct store *st = open_store("full-writers", &opt);
    CHECK(st != NULL);
    struct store_stats stats;
    int calls[4];
    for (int w = 0; w < 4; w++) {
        store_get_stats(st, &stats);
        calls[w] = write_until_the_map_grows(st, w, stats.map_grows);
    }
    store_get_stats(st, &stats);
    struct site s;
    int got = store_site_get(st, "w0-000001.example", 17, &s);
    store_close(st);
    printf("# map: %llu grow(s), now %zu KiB; calls until each grew the "
           "map: site %d, token %d, note %d, tickets %d\n",
           (unsigned long long)stats.map_grows, stats.map_size >> 10,
           calls[0], calls[1], calls[2], calls[3]);
    for (int w = 0; w < 4; w++)
        CHECK(calls[w] > 0);
    CHECK_EQ_INT(stats.map_grows, 4);
    CHECK_EQ_INT(got, 0);
    CHECK_EQ_INT(s.norigins, STORE_MAX_ORIGINS);
}

TEST(map_full_grows_the_map_and_keeps_all_20000_events)
{
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.map_size = (size_t)256 << 10;
    struct store *st = open_store("grow", &opt);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "big.example");
    CHECK(id != 0);
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("203.0.113.7");

    enum { NBATCH = BULK_EVENTS / BULK_BATCH };
    static struct ack_rec acks[NBATCH];
    static char ids[BULK_EVENTS][16];
    static char paths[BULK_EVENTS][32];
    char title[EVENT_TITLE_MAX + 1];
    for (int i = 0; i < EVENT_TITLE_MAX; i++)
        title[i] = (char)('a' + i % 26);
    title[EVENT_TITLE_MAX] = '\0';
    int refused = 0;
    for (int b = 0; b < NBATCH; b++) {
        struct event evs[BULK_BATCH];
        for (int j = 0; j < BULK_BATCH; j++) {
            int i = b * BULK_BATCH + j;
            snprintf(ids[i], sizeof ids[i], "bulk%05d", i);
            snprintf(paths[i], sizeof paths[i], "/kb/article-%04d", i % 2000);
            evs[j] = make_view(id, ids[i], paths[i], title);
        }
        ack_init(&acks[b]);
        if (store_enqueue(st, evs, BULK_BATCH, &a, chrome_ua,
                          strlen(chrome_ua), on_ack, &acks[b]) != 0)
            refused++;
    }
    int rc_drain = store_drain(st, DRAIN_MS);
    struct store_stats stats;
    store_get_stats(st, &stats);
    static struct bulk_seen seen;
    memset(&seen, 0, sizeof seen);
    int rc_read = store_events_each(st, id, 0, 0, bulk_visit, &seen);
    /* the batches the full map undid had made dictionary ids: those were
     * forgotten with them, so no record names an id the store lacks */
    struct store_check_result sound;
    int rc_check = store_check(st, 0, print_line, NULL, &sound);
    store_close(st);
    CHECK_EQ_INT(rc_check, 0);
    CHECK_EQ_INT(sound.problems, 0);

    CHECK_EQ_INT(refused, 0);
    CHECK_EQ_INT(rc_drain, 0);
    int not_acked = 0;
    for (int b = 0; b < NBATCH; b++)
        if (atomic_load(&acks[b].calls) != 1 ||
            atomic_load(&acks[b].status) != 0)
            not_acked++;
    CHECK_EQ_INT(not_acked, 0);
    printf("# map: %llu grow(s), now %zu KiB, %llu batch(es)\n",
           (unsigned long long)stats.map_grows, stats.map_size >> 10,
           (unsigned long long)stats.batches);
    CHECK(stats.map_grows > 0);
    CHECK(stats.map_size > opt.map_size);
    CHECK_EQ_INT(stats.events_stored, BULK_EVENTS);
    CHECK_EQ_INT(stats.write_errors, 0);
    CHECK_EQ_INT(rc_read, 0);
    CHECK_EQ_INT(seen.n, BULK_EVENTS);
    CHECK_EQ_INT(seen.bad, 0);
    CHECK_EQ_INT(seen.dup, 0);
    CHECK_EQ_INT(seen.unordered, 0);
    for (int i = 0; i < BULK_EVENTS; i++)
        CHECK_EQ_INT(seen.seen[i], 1);
}

/* --- durability modes and concurrency -------------------------------------- */

TEST(every_durability_mode_acks_once_and_stores)
{
    const enum store_durability modes[] = { STORE_FSYNC, STORE_COMMIT,
                                            STORE_NONE };
    const char *names[] = { "mode-fsync", "mode-commit", "mode-none" };
    for (int m = 0; m < 3; m++) {
        struct store_options opt;
        memset(&opt, 0, sizeof opt);
        opt.durability = modes[m];
        struct store *st = open_store(names[m], &opt);
        CHECK(st != NULL);
        uint32_t id = add_site(st, "a.example");
        CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
        struct ipaddr a = addr_of("203.0.113.7");
        struct event evs[3] = {
            make_view(id, "durable0", "/kb/d", "D"),
            make_view(id, "durable1", "/kb/d", "D"),
            make_view(id, "durable2", "/kb/d", "D"),
        };
        struct ack_rec ack;
        ack_init(&ack);
        CHECK_EQ_INT(store_enqueue(st, evs, 3, &a, "ua", 2, on_ack, &ack), 0);
        CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
        store_close(st);
        CHECK(acked_once_ok(&ack));
        st = open_store(names[m], &opt);
        CHECK(st != NULL);
        struct got g;
        int rc = read_events(st, id, 0, &g);
        store_close(st);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(g.n, 3);
        CHECK_EQ_STR(g.ev[2].view_id, "durable2");
    }
}

#define PRODUCERS      4
#define PER_PRODUCER   1000
#define PRODUCER_BATCH 10

struct producer {
    struct store *st;
    uint32_t site;
    int index;
    int refused;
    struct ack_rec acks[PER_PRODUCER / PRODUCER_BATCH];
    char ids[PER_PRODUCER][24];
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct ipaddr a = addr_of("203.0.113.7");
    char title[EVENT_TITLE_MAX + 1];
    memset(title, 'w', EVENT_TITLE_MAX);
    title[EVENT_TITLE_MAX] = '\0';
    for (int b = 0; b < PER_PRODUCER / PRODUCER_BATCH; b++) {
        struct event evs[PRODUCER_BATCH];
        for (int j = 0; j < PRODUCER_BATCH; j++) {
            int i = b * PRODUCER_BATCH + j;
            snprintf(p->ids[i], sizeof p->ids[i], "p%d-%05d", p->index, i);
            evs[j] = make_view(p->site, p->ids[i], "/kb/concurrent", title);
        }
        ack_init(&p->acks[b]);
        if (store_enqueue(p->st, evs, PRODUCER_BATCH, &a, "ua", 2, on_ack,
                          &p->acks[b]) != 0)
            p->refused++;
    }
    return NULL;
}

struct reader {
    struct store *st;
    uint32_t site;
    atomic_int stop;
    int reads, errors, went_back;
};

static int count_event(void *ctx, const struct event *ev)
{
    (void)ev;
    (*(size_t *)ctx)++;
    return 0;
}

static void *read_while_writing(void *arg)
{
    struct reader *r = arg;
    size_t last = 0;
    while (!atomic_load(&r->stop)) {
        size_t n = 0;
        if (store_events_each(r->st, r->site, 0, 0, count_event, &n) != 0)
            r->errors++;
        if (n < last)
            r->went_back++;
        last = n;
        r->reads++;
    }
    return NULL;
}

TEST(enqueue_from_four_threads_while_reading_during_map_growth_loses_nothing)
{
    struct store_options opt;
    memset(&opt, 0, sizeof opt);
    opt.map_size = (size_t)256 << 10;
    opt.durability = STORE_COMMIT;
    struct store *st = open_store("concurrent", &opt);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    static struct producer prod[PRODUCERS];
    static struct reader rd;
    memset(&rd, 0, sizeof rd);
    rd.st = st;
    rd.site = id;
    atomic_init(&rd.stop, 0);
    pthread_t reader_thread, producer_threads[PRODUCERS];
    CHECK_EQ_INT(pthread_create(&reader_thread, NULL, read_while_writing,
                                &rd), 0);
    for (int i = 0; i < PRODUCERS; i++) {
        memset(&prod[i], 0, sizeof prod[i]);
        prod[i].st = st;
        prod[i].site = id;
        prod[i].index = i;
        CHECK_EQ_INT(pthread_create(&producer_threads[i], NULL, produce,
                                    &prod[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(producer_threads[i], NULL);
    int rc_drain = store_drain(st, DRAIN_MS);
    atomic_store(&rd.stop, 1);
    pthread_join(reader_thread, NULL);
    size_t total = 0;
    int rc_read = store_events_each(st, id, 0, 0, count_event, &total);
    struct store_stats stats;
    store_get_stats(st, &stats);
    store_close(st);

    CHECK_EQ_INT(rc_drain, 0);
    int refused = 0, not_acked = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        refused += prod[i].refused;
        for (int b = 0; b < PER_PRODUCER / PRODUCER_BATCH; b++)
            if (!acked_once_ok(&prod[i].acks[b]))
                not_acked++;
    }
    CHECK_EQ_INT(refused, 0);
    CHECK_EQ_INT(not_acked, 0);
    CHECK_EQ_INT(rc_read, 0);
    CHECK_EQ_INT(total, PRODUCERS * PER_PRODUCER);
    CHECK_EQ_INT(stats.events_stored, PRODUCERS * PER_PRODUCER);
    CHECK(stats.map_grows > 0);
    CHECK(rd.reads > 0);
    CHECK_EQ_INT(rd.errors, 0);
    CHECK_EQ_INT(rd.went_back, 0);
}

/* --- reading a window ------------------------------------------------------ */

TEST(events_each_with_limit_n_gives_the_n_most_recent_oldest_first)
{
    struct store *st = open_store("limit", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "a.example");
    uint32_t other = add_site(st, "b.example");
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    struct ipaddr a = addr_of("203.0.113.7");
    char ids[10][24];
    struct ack_rec acks[20];
    /* ten views of site A, each followed by one of site B */
    for (int i = 0; i < 10; i++) {
        snprintf(ids[i], sizeof ids[i], "limit%03d", i);
        struct event ev = make_view(id, ids[i], "/kb/l", "L");
        struct event ob = make_view(other, ids[i], "/kb/o", "O");
        ack_init(&acks[2 * i]);
        ack_init(&acks[2 * i + 1]);
        CHECK_EQ_INT(store_enqueue(st, &ev, 1, &a, "ua", 2, on_ack,
                                   &acks[2 * i]), 0);
        CHECK_EQ_INT(store_enqueue(st, &ob, 1, &a, "ua", 2, on_ack,
                                   &acks[2 * i + 1]), 0);
        /* distinct enqueue times, so that SINCE can split them */
        struct timespec pause = { 0, 2000000 };
        nanosleep(&pause, NULL);
    }
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    struct got g3, g1, g10, g50, gall, gsince;
    int r3 = read_events(st, id, 3, &g3);
    int r1 = read_events(st, id, 1, &g1);
    int r10 = read_events(st, id, 10, &g10);
    int r50 = read_events(st, id, 50, &g50);
    int rall = read_events(st, id, 0, &gall);
    int rsince = 0;
    memset(&gsince, 0, sizeof gsince);
    if (rall == 0 && gall.n == 10)
        rsince = store_events_each(st, id, gall.ev[6].ev.time_us, 0, collect,
                                   &gsince);
    store_close(st);
    for (int i = 0; i < 20; i++)
        CHECK(acked_once_ok(&acks[i]));
    CHECK_EQ_INT(r3, 0);
    CHECK_EQ_INT(g3.n, 3);
    CHECK_EQ_STR(g3.ev[0].view_id, "limit007");
    CHECK_EQ_STR(g3.ev[1].view_id, "limit008");
    CHECK_EQ_STR(g3.ev[2].view_id, "limit009");
    CHECK(g3.ev[0].ev.time_us <= g3.ev[2].ev.time_us);
    CHECK_EQ_INT(r1, 0);
    CHECK_EQ_INT(g1.n, 1);
    CHECK_EQ_STR(g1.ev[0].view_id, "limit009");
    CHECK_EQ_INT(r10, 0);
    CHECK_EQ_INT(g10.n, 10);
    CHECK_EQ_STR(g10.ev[0].view_id, "limit000");
    CHECK_EQ_INT(r50, 0);
    CHECK_EQ_INT(g50.n, 10);
    CHECK_EQ_INT(rall, 0);
    CHECK_EQ_INT(gall.n, 10);
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_STR(gall.ev[i].view_id, ids[i]);
        CHECK_EQ_STR(gall.ev[i].path, "/kb/l");
    }
    CHECK_EQ_INT(rsince, 0);
    CHECK_EQ_INT(gsince.n, 4);
    CHECK_EQ_STR(gsince.ev[0].view_id, "limit006");
}

TEST(events_each_of_an_empty_store_calls_nothing)
{
    struct store *st = open_store("empty-read", NULL);
    CHECK(st != NULL);
    struct got g;
    int r0 = read_events(st, 1, 0, &g);
    size_t n0 = g.n;
    int r5 = read_events(st, 1, 5, &g);
    store_close(st);
    CHECK_EQ_INT(r0, 0);
    CHECK_EQ_INT(n0, 0);
    CHECK_EQ_INT(r5, 0);
    CHECK_EQ_INT(g.n, 0);
}

/* --- page kinds in the article record ------------------------------------ */

/* An event_param_fn over CTX, a list of keys and values ended by NULL. */
static const char *pixel_param(void *ctx, const char *key)
{
    for (const char *const *p = ctx; p[0] != NULL; p += 2)
        if (strcmp(p[0], key) == 0)
            return p[1];
    return NULL;
}

/* Queues the event of JSON BODY, or of pixel parameters PIXEL (a table of
 * key, value pairs ended by NULL) when BODY is NULL, for SITE_ID, and waits
 * until it is written. */
static bool send_and_drain(struct store *st, uint32_t site_id,
                           const char *body, const char *const *pixel)
{
    static struct event_batch b;
    static int pixels;
    char vid[32];
    struct event ev;
    if (body != NULL) {
        if (!parse_one(body, site_id, &ev))
            return false;
    } else {
        snprintf(vid, sizeof vid, "pixelview%04d", ++pixels);
        if (event_parse_pixel(pixel_param, (void *)pixel, vid, &b, err,
                              sizeof err) != 0) {
            printf("  pixel: %s\n", err);
            return false;
        }
        ev = b.ev[0];
        ev.site_id = site_id;
    }
    struct ipaddr a = addr_of("203.0.113.9");
    return store_enqueue(st, &ev, 1, &a, chrome_ua, strlen(chrome_ua), NULL,
                         NULL) == 0 &&
           store_drain(st, DRAIN_MS) == 0;
}

/* The kind of the article record of PATH, or -1. */
static int kind_of(struct store *st, uint32_t site_id, const char *path)
{
    struct store_article a;
    int rc = store_article_get(st, site_id,
                               event_article_id(path, strlen(path)), &a);
    if (rc != 0)
        printf("  %s: store_article_get: %d\n", path, rc);
    return rc == 0 ? a.kind : -1;
}

TEST(article_record_keeps_the_page_kind_of_the_last_view)
{
    struct store *st = open_store("page-kinds", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "k.example");
    CHECK(id != 0);
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    CHECK(send_and_drain(st, id, "{\"s\":\"k.example\",\"t\":\"view\","
                         "\"v\":\"kindview01\",\"u\":\"/search?q=sso\","
                         "\"ti\":\"Search\",\"pk\":\"search\"}", NULL));
    CHECK_EQ_INT(kind_of(st, id, "/search"), EVENT_PAGE_SEARCH);
    /* the noscript pixel cannot say: it keeps what is known, as the title */
    static const char *const bare[] = { "s", "k.example", "u", "/search",
                                        NULL };
    CHECK(send_and_drain(st, id, NULL, bare));
    CHECK_EQ_INT(kind_of(st, id, "/search"), EVENT_PAGE_SEARCH);
    static const char *const listed[] = { "s", "k.example", "u", "/search",
                                          "pk", "list", NULL };
    CHECK(send_and_drain(st, id, NULL, listed));
    CHECK_EQ_INT(kind_of(st, id, "/search"), EVENT_PAGE_LIST);
    /* the last beacon view wins, as for the title */
    CHECK(send_and_drain(st, id, "{\"s\":\"k.example\",\"t\":\"view\","
                         "\"v\":\"kindview02\",\"u\":\"/search\"}", NULL));
    CHECK_EQ_INT(kind_of(st, id, "/search"), EVENT_PAGE_ARTICLE);
    struct store_article a;
    CHECK_EQ_INT(store_article_get(st, id, event_article_id("/search", 7),
                                   &a), 0);
    CHECK_EQ_STR(a.title, "Search");
    /* the site root without a kind is home; marked, it is what it says */
    CHECK(send_and_drain(st, id, "{\"s\":\"k.example\",\"t\":\"view\","
                         "\"v\":\"kindview03\",\"u\":\"https://k.example/\"}",
                         NULL));
    CHECK_EQ_INT(kind_of(st, id, "/"), EVENT_PAGE_HOME);
    CHECK(send_and_drain(st, id, "{\"s\":\"k.example\",\"t\":\"view\","
                         "\"v\":\"kindview04\",\"u\":\"/\","
                         "\"pk\":\"article\"}", NULL));
    CHECK_EQ_INT(kind_of(st, id, "/"), EVENT_PAGE_ARTICLE);
    /* and the raw event keeps the kind it came with */
    struct got g;
    CHECK_EQ_INT(read_events(st, id, 0, &g), 0);
    store_close(st);
    CHECK_EQ_INT(g.n, 6);
    CHECK_EQ_INT(g.ev[0].ev.kind, EVENT_PAGE_SEARCH);
    CHECK_EQ_INT(g.ev[1].ev.kind, EVENT_PAGE_ARTICLE);
    CHECK_EQ_INT(g.ev[2].ev.kind, EVENT_PAGE_LIST);
    CHECK_EQ_INT(g.ev[4].ev.kind, EVENT_PAGE_HOME);
}

/* Opens the articles database of the store in PATH with LMDB's own API
 * and, for each record that ends with a kind byte, cuts that byte off (the
 * record as dwell wrote it before kinds existed). Sets *CUT to how many
 * were cut and *PLAIN to how many had no such byte. Returns 0 or -1. */
static int strip_kind_bytes(const char *path, int *cut, int *plain)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    static uint8_t keys[16][12], vals[16][2048];
    static size_t lens[16];
    int n = 0;
    *cut = *plain = 0;
    if (raw_begin(path, 0, &env, &txn) != 0)
        return -1;
    int rc = mdb_dbi_open(txn, "articles", 0, &dbi);
    if (rc == 0) rc = mdb_cursor_open(txn, dbi, &cur);
    int c = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : rc;
    for (; rc == 0 && c == 0; c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *p = v.mv_data;
        size_t end = 12;
        for (int i = 0; i < 3 && end + 2 <= v.mv_size; i++)
            end += 2 + ((size_t)p[end] << 8 | p[end + 1]);
        if (v.mv_size != end + 1) {
            *plain += v.mv_size == end;
        } else if (n < 16 && k.mv_size == 12 && end <= sizeof vals[0]) {
            memcpy(keys[n], k.mv_data, 12);
            memcpy(vals[n], p, end);
            lens[n++] = end;
        }
    }
    if (rc == 0)
        mdb_cursor_close(cur);
    for (int i = 0; rc == 0 && i < n; i++) {    /* rewritten, cursor closed */
        MDB_val nk = { 12, keys[i] }, nv = { lens[i], vals[i] };
        rc = mdb_put(txn, dbi, &nk, &nv, 0);
        *cut += rc == 0;
    }
    rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
    mdb_env_close(env);
    return rc == 0 ? 0 : -1;
}

TEST(article_record_made_before_page_kinds_reads_as_an_article_or_home)
{
    struct store *st = open_store("old-kinds", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "k.example");
    CHECK(id != 0);
    CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
    CHECK(send_and_drain(st, id, "{\"s\":\"k.example\",\"t\":\"view\","
                         "\"v\":\"oldkind01\",\"u\":\"/search\","
                         "\"pk\":\"search\"}", NULL));
    CHECK(send_and_drain(st, id, "{\"s\":\"k.example\",\"t\":\"view\","
                         "\"v\":\"oldkind02\",\"u\":\"/\","
                         "\"pk\":\"search\"}", NULL));
    CHECK(send_and_drain(st, id, "{\"s\":\"k.example\",\"t\":\"view\","
                         "\"v\":\"oldkind03\",\"u\":\"/kb/a\","
                         "\"ti\":\"A\",\"c\":\"kb\",\"w\":100}", NULL));
    store_close(st);
    char dir[128];
    int cut, plain;
    CHECK_EQ_INT(strip_kind_bytes(data_dir(dir, sizeof dir, "old-kinds"),
                                  &cut, &plain), 0);
    CHECK_EQ_INT(cut, 2);           /* /search and "/": not their default */
    CHECK_EQ_INT(plain, 1);         /* /kb/a: written exactly as before */
    st = open_store("old-kinds", NULL);
    CHECK(st != NULL);
    int search = kind_of(st, id, "/search"), home = kind_of(st, id, "/"),
        art = kind_of(st, id, "/kb/a");
    struct store_article a;
    int rc = store_article_get(st, id, event_article_id("/kb/a", 5), &a);
    store_close(st);
    CHECK_EQ_INT(search, EVENT_PAGE_ARTICLE);
    CHECK_EQ_INT(home, EVENT_PAGE_HOME);
    CHECK_EQ_INT(art, EVENT_PAGE_ARTICLE);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(a.title, "A");
    CHECK_EQ_STR(a.category, "kb");
    CHECK_EQ_INT(a.words, 100);
}

/* Replaces, with LMDB's own API, the events with the event records RECS
 * (LENS[i] bytes each, in an older version, as dwell wrote them at schema
 * SCHEMA) under the (12-byte) events keys of TIMES, sets meta "schema" to
 * SCHEMA or, when RESUME is
 * not 0, to SCHEMA + 1 with "recode" the events key of RESUME (a rewrite
 * interrupted there). Returns 0 or -1. */
static int put_old_records(const char *path, int schema,
                           const uint8_t *const *recs, const size_t *lens,
                           const uint64_t *times, int n, uint64_t resume)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi events, meta;
    if (raw_begin(path, 0, &env, &txn) != 0)
        return -1;
    int rc = mdb_dbi_open(txn, "events", 0, &events);
    if (rc == 0) rc = mdb_drop(txn, events, 0);
    if (rc == 0) rc = mdb_dbi_open(txn, "meta", 0, &meta);
    uint8_t kb[12], ver[4] = { 0, 0, 0, (uint8_t)(resume ? schema + 1
                                                         : schema) };
    for (int i = 0; rc == 0 && i <= n; i++) {
        uint64_t t = i < n ? times[i] : resume;
        for (int b = 0; b < 8; b++)
            kb[b] = (uint8_t)(t >> (56 - 8 * b));
        memset(kb + 8, 0, 4);
        MDB_val k = { 12, kb }, v = { i < n ? lens[i] : 0,
                                      i < n ? (void *)recs[i] : NULL };
        if (i < n)
            rc = mdb_put(txn, events, &k, &v, 0);
        else if (resume)
            rc = mdb_put(txn, meta, &(MDB_val){ 6, "recode" }, &k, 0);
    }
    if (rc == 0)
        rc = mdb_put(txn, meta, &(MDB_val){ 6, "schema" },
                     &(MDB_val){ 4, ver }, 0);
    rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
    mdb_env_close(env);
    return rc == 0 ? 0 : -1;
}

/* True when B opens an event record of version 4 (001fffff: event.c). */
#define RECORD_V4(b) (((b) & 0xe0) == 0x20)

/* The first byte (record version) and the size of each events record in
 * PATH, in key order, into OUT and SIZES (up to CAP); how many. -1 on
 * error. */
static int record_versions_sizes(const char *path, uint8_t *out,
                                 size_t *sizes, int cap)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int n = 0;
    if (raw_begin(path, MDB_RDONLY, &env, &txn) != 0)
        return -1;
    int rc = mdb_dbi_open(txn, "events", 0, &dbi);
    if (rc == 0) rc = mdb_cursor_open(txn, dbi, &cur);
    int c = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : rc;
    for (; rc == 0 && c == 0; c = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (n < cap && v.mv_size > 0) {
            sizes[n] = v.mv_size;
            out[n++] = ((const uint8_t *)v.mv_data)[0];
        }
    if (rc == 0)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 ? n : -1;
}

/* Schema 2 -> 3: a writable opening rewrites every version-1 event record
 * in the current version (smaller) and they read back the same; an
 * interrupted rewrite resumes after the key it had reached. */
TEST(event_records_of_schema_2_are_rewritten_in_place_and_read_the_same)
{
    struct store *st = open_store("schema2", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "m.example");
    store_close(st);
    CHECK(id > 0 && id < 128);
    /* a view exactly as record version 1 wrote it (see test_event.c) */
    uint8_t old[] = {
        1, EVENT_VIEW, 0, 40, 0, 'D', 'E', (uint8_t)id,
        1, 2, 3, 4, 5, 6, 7, 8,
        0x03, 16,
        8, 'k', '3', 'J', '9', 'x', 'Q', '2', 'm',
        7, '/', 's', 'e', 'a', 'r', 'c', 'h',
        8, 7, 6, 5, 4, 3, 2, 1
    };
    uint64_t times[3] = { 1000000, 2000000, 3000000 };
    const uint8_t *recs[3] = { old, old, old };
    size_t lens[3] = { sizeof old, sizeof old, sizeof old };
    char dir[128];
    data_dir(dir, sizeof dir, "schema2");
    CHECK_EQ_INT(put_old_records(dir, 2, recs, lens, times, 3, 0), 0);
    st = open_store("schema2", NULL);
    CHECK(st != NULL);
    struct got g = { 0 };
    int rc = store_events_each(st, id, 0, 0, collect, &g);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT((int)g.n, 3);
    CHECK_EQ_STR(g.ev[2].view_id, "k3J9xQ2m");
    CHECK_EQ_STR(g.ev[2].path, "/search");
    CHECK_EQ_INT(g.ev[2].ev.scroll, 40);
    CHECK(g.ev[2].ev.visitor == 0x0807060504030201ull);
    CHECK(g.ev[2].ev.time_us == 3000000);
    uint8_t vers[8];
    size_t sizes[8];
    CHECK_EQ_INT(record_versions_sizes(dir, vers, sizes, 8), 3);
    CHECK(RECORD_V4(vers[0]) && RECORD_V4(vers[1]) && RECORD_V4(vers[2]));
    /* interrupted after the first at schema 3: schema 4 -> 5 rewrites them
     * all again (the dictionary is new), from the first */
    CHECK_EQ_INT(put_old_records(dir, 2, recs, lens, times, 3, times[0]),
                 0);
    st = open_store("schema2", NULL);
    CHECK(st != NULL);
    store_close(st);
    CHECK_EQ_INT(record_versions_sizes(dir, vers, sizes, 8), 3);
    CHECK(RECORD_V4(vers[0]) && RECORD_V4(vers[1]) && RECORD_V4(vers[2]));
}

/* --- schema 6 -> 7: events keys of 8 bytes ------------------------------- */

/* The big-endian u64 at P. */
static uint64_t be64_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The 12-byte events key schema 6 gave the event that schema 7 keys as
 * KEY8 (time_us << 8 | seq): a past time's insert had seq 0x80000000 | n
 * (BACKFILL_BEFORE: events before it are such). */
static void old_key_of(const uint8_t *key8, uint64_t backfill_before,
                       uint8_t out[12])
{
    uint64_t u = be64_at(key8), t = u >> 8;
    uint32_t seq = (uint32_t)(u & 0xff);
    if (t < backfill_before)
        seq |= 0x80000000u;
    for (int b = 0; b < 8; b++)
        out[b] = (uint8_t)(t >> (56 - 8 * b));
    for (int b = 0; b < 4; b++)
        out[8 + b] = (uint8_t)(seq >> (24 - 8 * b));
}

/* Gives the events at or after FROM_US (all: 0) of the store in PATH the
 * keys schema 6 wrote, and the shipping log entries naming them too; logs
 * one more entry naming the old key of GONE_US, an event gone, and points
 * meta "ship_fill" at the old key of the event at FILL_US seq FILL_SEQ.
 * Sets the schema to SCHEMA (6; 7 with "rekey": a move cut short).
 * Returns 0 or -1. */
static int make_old_keys(const char *path, uint64_t from_us,
                         uint64_t backfill_before, uint64_t gone_us,
                         uint64_t fill_us, unsigned fill_seq, int schema)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi events, meta, ship;
    MDB_cursor *cur;
    MDB_val k, v;
    if (raw_begin(path, 0, &env, &txn) != 0)
        return -1;
    int rc = mdb_dbi_open(txn, "events", 0, &events);
    if (rc == 0) rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == 0) rc = mdb_dbi_open(txn, "ship", 0, &ship);
    /* the events: read all first, then move each */
    static uint8_t keys[64][8], vals[64][512];
    static size_t lens[64];
    int n = 0;
    if (rc == 0) rc = mdb_cursor_open(txn, events, &cur);
    for (int c = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0 && c == 0 && n < 64; c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || v.mv_size > 512 || (be64_at(k.mv_data) >> 8) < from_us)
            continue;
        memcpy(keys[n], k.mv_data, 8);
        memcpy(vals[n], v.mv_data, v.mv_size);
        lens[n++] = v.mv_size;
    }
    if (rc == 0)
        mdb_cursor_close(cur);
    for (int i = 0; rc == 0 && i < n; i++) {
        uint8_t ok[12];
        old_key_of(keys[i], backfill_before, ok);
        uint64_t t = be64_at(keys[i]) >> 8;
        rc = mdb_del(txn, events, &(MDB_val){ 8, keys[i] }, NULL);
        if (rc == 0)
            rc = mdb_put(txn, events, &(MDB_val){ 12, ok },
                         &(MDB_val){ lens[i], vals[i] }, 0);
        if (rc == 0 && t == fill_us && (be64_at(keys[i]) & 0xff) == fill_seq)
            rc = mdb_put(txn, meta, &(MDB_val){ 9, "ship_fill" },
                         &(MDB_val){ 12, ok }, 0);
    }
    /* the shipping log's entries that name them */
    if (rc == 0) rc = mdb_cursor_open(txn, ship, &cur);
    for (int c = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0 && c == 0; c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *p = v.mv_data;
        if (v.mv_size != 17 || p[0] != 'e' || (be64_at(p + 9) >> 8) < from_us)
            continue;
        uint8_t nv[21];
        memcpy(nv, p, 9);
        old_key_of(p + 9, backfill_before, nv + 9);
        rc = mdb_cursor_put(cur, &k, &(MDB_val){ 21, nv }, MDB_CURRENT);
    }
    uint8_t sk[8], gone[21] = { 'e' }, gone8[8];
    if (rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST)) == 0) {
        uint64_t next = be64_at(k.mv_data) + 1;
        for (int b = 0; b < 8; b++) {
            sk[b] = (uint8_t)(next >> (56 - 8 * b));
            gone8[b] = (uint8_t)((gone_us << 8) >> (56 - 8 * b));
        }
        old_key_of(gone8, 0, gone + 9);
        rc = mdb_put(txn, ship, &(MDB_val){ 8, sk }, &(MDB_val){ 21, gone },
                     MDB_APPEND);
    }
    if (rc == 0)
        mdb_cursor_close(cur);
    uint8_t ver[4] = { 0, 0, 0, (uint8_t)schema };
    if (rc == 0)
        rc = mdb_put(txn, meta, &(MDB_val){ 6, "schema" },
                     &(MDB_val){ 4, ver }, 0);
    if (rc == 0 && schema == 7)
        rc = mdb_put(txn, meta, &(MDB_val){ 5, "rekey" },
                     &(MDB_val){ 0, "" }, 0);
    rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
    mdb_env_close(env);
    return rc == 0 ? 0 : -1;
}

/* What the store in PATH holds under events keys: how many keys of 8 and
 * of 12 bytes; the shipping log's 'e' entries, and how many name a stored
 * event by an 8-byte key; meta "ship_fill" (FILL, *FILLN bytes). */
struct key_census {
    int keys8, keys12, ship_e, ship_ok;
    uint8_t fill[12];
    size_t filln;
};

static int key_census(const char *path, struct key_census *c)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi events, meta, ship;
    MDB_cursor *cur;
    MDB_val k, v;
    memset(c, 0, sizeof *c);
    if (raw_begin(path, MDB_RDONLY, &env, &txn) != 0)
        return -1;
    int rc = mdb_dbi_open(txn, "events", 0, &events);
    if (rc == 0) rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == 0) rc = mdb_dbi_open(txn, "ship", 0, &ship);
    if (rc == 0) rc = mdb_cursor_open(txn, events, &cur);
    for (int g = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && g == 0;
         g = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        c->keys8 += k.mv_size == 8;
        c->keys12 += k.mv_size == 12;
    }
    if (rc == 0) mdb_cursor_close(cur);
    if (rc == 0) rc = mdb_cursor_open(txn, ship, &cur);
    for (int g = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && g == 0;
         g = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *p = v.mv_data;
        if (p[0] != 'e')
            continue;
        c->ship_e++;
        MDB_val ek = { v.mv_size - 9, (void *)(p + 9) }, ev;
        c->ship_ok += ek.mv_size == 8 && mdb_get(txn, events, &ek, &ev) == 0;
    }
    if (rc == 0) mdb_cursor_close(cur);
    if (rc == 0 && mdb_get(txn, meta, &(MDB_val){ 9, "ship_fill" }, &v) == 0 &&
        v.mv_size <= 12) {
        c->filln = v.mv_size;
        memcpy(c->fill, v.mv_data, v.mv_size);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 ? 0 : -1;
}

/* Queues N views (ids PREFIX0..) of ID at AT_US as one request. */
static int views_at(struct store *st, uint32_t id, uint64_t at_us,
                    const char *prefix, int n)
{
    struct event evs[4];
    static char ids[16][16];
    static int used;
    struct ipaddr a = addr_of("198.51.100.20");
    for (int i = 0; i < n && i < 4; i++) {
        char *vid = ids[used++ % 16];
        snprintf(vid, 16, "%s%d", prefix, i);
        evs[i] = make_view(id, vid, "/kb/rekey", "Rekey");
    }
    return store_enqueue_at(st, at_us, evs, (size_t)n, &a, chrome_ua,
                            strlen(chrome_ua), NULL, NULL);
}

/* Schema 6 -> 7: every events key moves to 8 bytes in time order (a
 * microsecond's several events and a past time's inserts kept in their
 * order), the shipping log's entries follow their events (one whose event
 * is gone is dropped), the first fill's position follows its event, and a
 * move cut short resumes. */
TEST(events_keys_of_schema_6_move_to_8_bytes_in_order_with_the_ship_log)
{
    for (int cut = 0; cut <= 1; cut++) {
        const char *name = cut ? "rekey-cut" : "rekey";
        struct store *st = open_store(name, NULL);
        CHECK(st != NULL);
        uint32_t id = add_site(st, "rekey.example");
        CHECK_EQ_INT(store_ship_start(st, "clickhouse=http://127.0.0.1:9",
                                      "n1", err, sizeof err), 0);
        CHECK_EQ_INT(store_start_writer(st, err, sizeof err), 0);
        uint64_t t1 = ((uint64_t)store_today() - 2) * 86400000000ull +
                      43200000000ull + 123456;
        uint64_t t0 = t1 - 3600000000ull, t2 = t1 + 3600000000ull;
        CHECK_EQ_INT(views_at(st, id, t1, "a", 3), 0);  /* t1: seq 0-2 */
        CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
        CHECK_EQ_INT(views_at(st, id, t2, "b", 1), 0);
        CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
        CHECK_EQ_INT(views_at(st, id, t0, "c", 2), 0);  /* inserts */
        CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
        CHECK_EQ_INT(views_at(st, id, t1, "d", 1), 0);  /* after t1's */
        CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
        struct got before = { 0 };
        CHECK_EQ_INT(store_events_each(st, id, 0, 0, collect, &before), 0);
        store_ship_stop(st);
        store_close(st);
        CHECK_EQ_INT((int)before.n, 7);
        static const char *const order[] = { "c0", "c1", "a0", "a1", "a2",
                                             "d0", "b0" };
        for (int i = 0; i < 7; i++)
            CHECK_EQ_STR(before.ev[i].view_id, order[i]);

        char dir[128];
        data_dir(dir, sizeof dir, name);
        /* cut: the events at t0 were moved before the opening stopped */
        CHECK_EQ_INT(make_old_keys(dir, cut ? t1 : 0, t1, t2 + 1, t1, 1,
                                   cut ? 7 : 6), 0);
        struct key_census c;
        CHECK_EQ_INT(key_census(dir, &c), 0);
        CHECK_EQ_INT(c.keys12, cut ? 5 : 7);
        CHECK_EQ_INT(c.ship_e, 8);
        CHECK_EQ_INT(c.ship_ok, cut ? 2 : 0);
        CHECK_EQ_INT((int)c.filln, 12);

        st = open_store(name, NULL);
        CHECK(st != NULL);
        struct got after = { 0 };
        CHECK_EQ_INT(store_events_each(st, id, 0, 0, collect, &after), 0);
        struct store_check_result res;
        CHECK_EQ_INT(store_check(st, 0, print_line, NULL, &res), 0);
        store_close(st);
        CHECK_EQ_INT((int)res.problems, 0);
        CHECK_EQ_INT((int)after.n, 7);
        for (int i = 0; i < 7; i++) {
            CHECK_EQ_STR(after.ev[i].view_id, before.ev[i].view_id);
            CHECK(after.ev[i].ev.time_us == before.ev[i].ev.time_us);
        }
        CHECK_EQ_INT(key_census(dir, &c), 0);
        CHECK_EQ_INT(c.keys12, 0);
        CHECK_EQ_INT(c.keys8, 7);
        CHECK_EQ_INT(c.ship_e, 7);              /* the gone one's dropped */
        CHECK_EQ_INT(c.ship_ok, 7);
        CHECK_EQ_INT((int)c.filln, 8);          /* a1's new key */
        CHECK(be64_at(c.fill) == (t1 << 8 | 1));
    }
}

/* Queues 10 requests of 30 views of ID at AT_US (ids PREFIX000..299). */
static int crowd_at(struct store *st, uint32_t id, uint64_t at_us,
                    char ids[300][8], char prefix)
{
    struct ipaddr a = addr_of("198.51.100.21");
    for (int r = 0; r < 10; r++) {
        struct event evs[30];
        for (int i = 0; i < 30; i++) {
            snprintf(ids[r * 30 + i], 8, "%c%03d", prefix, r * 30 + i);
            evs[i] = make_view(id, ids[r * 30 + i], "/kb/crowd", "Crowd");
        }
        if (store_enqueue_at(st, at_us, evs, 30, &a, chrome_ua,
                             strlen(chrome_ua), NULL, NULL) != 0)
            return -1;
    }
    return store_drain(st, DRAIN_MS);
}

/* Collects every event's view id and time (up to 600). */
struct crowd_got {
    size_t n;
    char ids[600][8];
    uint64_t time_us[600];
};

static int crowd_collect(void *ctx, const struct event *ev)
{
    struct crowd_got *g = ctx;
    if (g->n < 600) {
        copy_str(g->ids[g->n], sizeof g->ids[0], ev->view_id);
        g->time_us[g->n] = ev->time_us;
    }
    g->n++;
    return 0;
}

/* A microsecond holds 256 events under its key; the 257th onwards go to
 * the next one, in their order of arrival; at a day's last microsecond to
 * the one before, so that they stay on the day their rollups counted. */
TEST(a_crowded_microsecond_moves_its_257th_event_on_and_keeps_the_day)
{
    struct store *st = start_writer(open_store("crowd", NULL));
    CHECK(st != NULL);
    uint32_t id = add_site(st, "crowd.example");
    uint64_t day = (uint64_t)store_today() - 2;
    uint64_t t = day * 86400000000ull + 43200000000ull;
    uint64_t last_us = (day + 1) * 86400000000ull - 1;  /* 23:59:59.999999 */
    static char ids[2][300][8];
    CHECK_EQ_INT(crowd_at(st, id, t, ids[0], 'a'), 0);
    CHECK_EQ_INT(crowd_at(st, id, last_us, ids[1], 'z'), 0);
    static struct crowd_got g;
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(store_events_each(st, id, 0, 0, crowd_collect, &g), 0);
    struct store_check_result res;
    CHECK_EQ_INT(store_check(st, 0, print_line, NULL, &res), 0);
    store_close(st);
    CHECK_EQ_INT((int)g.n, 600);
    CHECK_EQ_INT((int)res.problems, 0);
    for (int i = 0; i < 300; i++) {              /* noon: in order */
        CHECK_EQ_STR(g.ids[i], ids[0][i]);
        CHECK(g.time_us[i] == (i < 256 ? t : t + 1));
    }
    for (int i = 300; i < 344; i++)              /* the day's last us: */
        CHECK(g.time_us[i] == last_us - 1);      /* its 44 moved back */
    for (int i = 344; i < 600; i++)
        CHECK(g.time_us[i] == last_us);
    CHECK_EQ_STR(g.ids[300], ids[1][256]);
    CHECK_EQ_STR(g.ids[344], ids[1][0]);
}

/* Record version 2 bytes of a view of ID on /kb/sso-saml ("SAML single
 * sign-on", from www.google.com, category "accounts", language "en-US",
 * 640 words, scroll 40) into BUF; its length. */
static size_t v2_view(uint8_t *buf, uint32_t id, const char *view_id)
{
    static const char *const strs[] = { "/kb/sso-saml", "SAML single sign-on",
                                        "www.google.com", "accounts",
                                        "en-US" };
    size_t n = 0, idn = strlen(view_id);
    uint8_t head[] = { 2, EVENT_VIEW | 0x40, EVENT_FLAG_WIRE2, 'D', 'E',
                       (uint8_t)id, 1, 2, 3, 4, 5, 6, 7, 8, 0x3f,
                       0x02 | 0x80 };
    memcpy(buf, head, sizeof head);
    n = sizeof head;
    buf[n++] = (uint8_t)idn;
    memcpy(buf + n, view_id, idn);
    n += idn;
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        buf[n++] = (uint8_t)strlen(strs[i]);
        memcpy(buf + n, strs[i], strlen(strs[i]));
        n += strlen(strs[i]);
    }
    buf[n++] = 0x80 | (640 & 0x7f);           /* words: varint 640 */
    buf[n++] = 640 >> 7;
    buf[n++] = 40;                            /* scroll */
    return n;
}

/* Ends the engage record in BUF (N bytes so far) as versions 2 and 3 do:
 * MS engaged (a varint), then the article of /kb/sso-saml in full (u64
 * LE); its length. */
static size_t engage_tail(uint8_t *buf, size_t n, uint32_t ms)
{
    for (; ms >= 0x80; ms >>= 7)
        buf[n++] = (uint8_t)(ms | 0x80);
    buf[n++] = (uint8_t)ms;
    uint64_t a = event_article_id("/kb/sso-saml", 12);
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(a >> (8 * i));
    return n;
}

/* Record version 2 bytes of an engage of view VIEW_ID of ID (article of
 * /kb/sso-saml given in full, 30 s engaged) into BUF; its length. */
static size_t v2_engage(uint8_t *buf, uint32_t id, const char *view_id)
{
    uint8_t head[] = { 2, EVENT_ENGAGE, EVENT_FLAG_WIRE2, 'D', 'E',
                       (uint8_t)id, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0x11 };
    size_t n = sizeof head, idn = strlen(view_id);
    memcpy(buf, head, n);
    buf[n++] = (uint8_t)idn;
    memcpy(buf + n, view_id, idn);
    n += idn;
    return engage_tail(buf, n, 30000);
}

/* Schema 4 -> 5: a writable opening rewrites every event record of
 * version 2 with its repeated strings and a follow-up's article by
 * dictionary id: the records shrink, read back the same, and the store
 * checks sound; an interrupted rewrite resumes after the key it had
 * reached. */
TEST(event_records_of_schema_4_take_the_dictionary_and_read_the_same)
{
    struct store *st = open_store("schema4", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "d.example");
    store_close(st);
    CHECK(id > 0 && id < 128);
    uint8_t view1[128], view2[128], engage[64];
    size_t lens[3] = { v2_view(view1, id, "viewone1"),
                       v2_view(view2, id, "viewtwo2"),
                       v2_engage(engage, id, "viewone1") };
    const uint8_t *recs[3] = { view1, view2, engage };
    uint64_t times[3] = { 1000000, 2000000, 3000000 };
    char dir[128];
    data_dir(dir, sizeof dir, "schema4");
    CHECK_EQ_INT(put_old_records(dir, 4, recs, lens, times, 3, 0), 0);
    st = open_store("schema4", NULL);
    CHECK(st != NULL);
    struct got g = { 0 };
    int rc = store_events_each(st, id, 0, 0, collect, &g);
    /* every record decodes (the rollups were not made from these events:
     * their differences are not counted) */
    struct store_check_result sound;
    int rc_check = store_check(st, 0, ignore_line, NULL, &sound);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(rc_check, 0);
    CHECK(sound.records > 3);
    CHECK_EQ_INT(sound.problems - sound.differences, 0);
    CHECK_EQ_INT((int)g.n, 3);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_STR(g.ev[i].view_id, i ? "viewtwo2" : "viewone1");
        CHECK_EQ_STR(g.ev[i].path, "/kb/sso-saml");
        CHECK_EQ_STR(g.ev[i].title, "SAML single sign-on");
        CHECK_EQ_STR(g.ev[i].referrer, "www.google.com");
        CHECK_EQ_INT(g.ev[i].ev.words, 640);
        CHECK_EQ_INT(g.ev[i].ev.scroll, 40);
        CHECK(g.ev[i].ev.article == event_article_id("/kb/sso-saml", 12));
    }
    CHECK_EQ_INT(g.ev[2].ev.type, EVENT_ENGAGE);
    CHECK_EQ_STR(g.ev[2].view_id, "viewone1");
    CHECK_EQ_INT(g.ev[2].ev.engaged_ms, 30000);
    CHECK(g.ev[2].ev.article == event_article_id("/kb/sso-saml", 12));
    CHECK(g.ev[2].ev.time_us == 3000000);
    uint8_t vers[8];
    size_t sizes[8];
    CHECK_EQ_INT(record_versions_sizes(dir, vers, sizes, 8), 3);
    CHECK(RECORD_V4(vers[0]) && RECORD_V4(vers[1]) && RECORD_V4(vers[2]));
    printf("# bytes: view %zu -> %zu, engage %zu -> %zu\n", lens[0],
           sizes[0], lens[2], sizes[2]);
    CHECK(sizes[0] + 40 < lens[0]);           /* five strings by id */
    CHECK(sizes[2] + 6 < lens[2]);            /* the article by id */
    /* interrupted after the first at schema 5: the rest are rewritten */
    CHECK_EQ_INT(put_old_records(dir, 4, recs, lens, times, 3, times[0]),
                 0);
    st = open_store("schema4", NULL);
    CHECK(st != NULL);
    store_close(st);
    CHECK_EQ_INT(record_versions_sizes(dir, vers, sizes, 8), 3);
    CHECK(vers[0] == 2 && RECORD_V4(vers[1]) && RECORD_V4(vers[2]));
}

/* Record version 3 bytes of an engage of view VIEW_ID (8 characters) of
 * ID, the article of /kb/sso-saml in full, SECONDS engaged, into BUF;
 * its length. */
static size_t v3_engage(uint8_t *buf, uint32_t id, const char *view_id,
                        uint32_t seconds)
{
    uint8_t head[] = { 3, EVENT_ENGAGE, EVENT_FLAG_WIRE2, 'D', 'E',
                       (uint8_t)id, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0x11,
                       8 << 1 };
    size_t n = sizeof head;
    memcpy(buf, head, n);
    memcpy(buf + n, view_id, 8);
    n += 8;
    return engage_tail(buf, n, seconds * 1000);
}

/* Record version 4 (event.c) stores the flags in the version byte: a
 * store of the current schema leaves its version 3 records as they are
 * (no rewrite because a shorter version exists) and reads them the same;
 * only a rewrite running anyway (meta "recode", from schema 4 -> 5) writes
 * the records it reaches in version 4. */
TEST(event_records_of_version_3_stay_unless_a_rewrite_runs_anyway)
{
    struct store *st = open_store("v3recs", NULL);
    CHECK(st != NULL);
    uint32_t id = add_site(st, "v3.example");
    store_close(st);
    CHECK(id > 0 && id < 128);
    uint8_t e1[64], e2[64], e3[64];
    size_t lens[3] = { v3_engage(e1, id, "viewone1", 10),
                       v3_engage(e2, id, "viewtwo2", 20),
                       v3_engage(e3, id, "viewone1", 30) };
    const uint8_t *recs[3] = { e1, e2, e3 };
    uint64_t times[3] = { 1000000, 2000000, 3000000 };
    char dir[128];
    data_dir(dir, sizeof dir, "v3recs");
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: schema 6 (6 -> 7 moves keys, rewrites no record);
         * pass 1: meta "recode" left
         * after the first record, as an interrupted rewrite of schema
         * 4 -> 5 leaves it */
        CHECK_EQ_INT(put_old_records(dir, pass ? 5 : 6, recs, lens, times,
                                     3, pass ? times[0] : 0), 0);
        st = open_store("v3recs", NULL);
        CHECK(st != NULL);
        struct got g = { 0 };
        int rc = store_events_each(st, id, 0, 0, collect, &g);
        store_close(st);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT((int)g.n, 3);
        for (int i = 0; i < 3; i++) {
            CHECK_EQ_STR(g.ev[i].view_id, i == 1 ? "viewtwo2" : "viewone1");
            CHECK_EQ_INT(g.ev[i].ev.type, EVENT_ENGAGE);
            CHECK_EQ_INT(g.ev[i].ev.flags, EVENT_FLAG_WIRE2);
            CHECK_EQ_INT(g.ev[i].ev.engaged_ms, 10000 * (i + 1));
            CHECK(g.ev[i].ev.article == event_article_id("/kb/sso-saml", 12));
            CHECK(g.ev[i].ev.time_us == times[i]);
        }
        uint8_t vers[8];
        size_t sizes[8];
        CHECK_EQ_INT(record_versions_sizes(dir, vers, sizes, 8), 3);
        CHECK_EQ_INT(vers[0], 3);
        CHECK(sizes[0] == lens[0]);
        for (int i = 1; i < 3; i++) {
            if (pass == 0) {
                CHECK_EQ_INT(vers[i], 3);
                CHECK(sizes[i] == lens[i]);
            } else {
                CHECK_EQ_INT(vers[i], 0x20 | EVENT_FLAG_WIRE2);
                CHECK(sizes[i] < lens[i]);
            }
        }
    }
}

/* The dictionary records of each of sites A and B in PATH into *NA and
 * *NB (dict and dict_ids together). Returns 0 or -1. */
static int dict_records(const char *path, uint32_t a, uint32_t b,
                        size_t *na, size_t *nb)
{
    MDB_env *env;
    MDB_txn *txn;
    *na = *nb = 0;
    if (raw_begin(path, MDB_RDONLY, &env, &txn) != 0)
        return -1;
    int rc = 0;
    for (int d = 0; d < 2 && rc == 0; d++) {
        MDB_dbi dbi;
        MDB_cursor *cur;
        MDB_val k, v;
        rc = mdb_dbi_open(txn, d ? "dict_ids" : "dict", 0, &dbi);
        if (rc == 0) rc = mdb_cursor_open(txn, dbi, &cur);
        if (rc != 0)
            break;
        for (int c = mdb_cursor_get(cur, &k, &v, MDB_FIRST); c == 0;
             c = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            const uint8_t *p = k.mv_data;
            uint32_t site = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                            (uint32_t)p[2] << 8 | p[3];
            *na += site == a;
            *nb += site == b;
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 ? 0 : -1;
}

/* A site's removal takes its dictionary with it and leaves the others';
 * an event the writer takes for the removed site afterwards (a beacon
 * queued just before) names ids made afresh, not ones the writer
 * remembered from before the removal: every record still decodes. */
TEST(site_removal_takes_its_dictionary_and_later_events_get_fresh_ids)
{
    struct store *st = open_writing("dictrm", STORE_COMMIT, false);
    CHECK(st != NULL);
    uint32_t a = add_site(st, "a.example"), b = add_site(st, "b.example");
    struct ipaddr addr = addr_of("203.0.113.7");
    struct event evs[2] = {
        make_view(a, "dictrm01", "/kb/same", "Same title"),
        make_view(b, "dictrm02", "/kb/same", "Same title")
    };
    CHECK_EQ_INT(store_enqueue(st, evs, 1, &addr, chrome_ua,
                               strlen(chrome_ua), NULL, NULL), 0);
    CHECK_EQ_INT(store_enqueue(st, evs + 1, 1, &addr, chrome_ua,
                               strlen(chrome_ua), NULL, NULL), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    size_t removed = 0;
    CHECK_EQ_INT(store_site_remove(st, "a.example", &removed, err,
                                   sizeof err), 0);
    evs[0].view_id = (struct event_str){ "dictrm03", 8 };
    CHECK_EQ_INT(store_enqueue(st, evs, 1, &addr, chrome_ua,
                               strlen(chrome_ua), NULL, NULL), 0);
    CHECK_EQ_INT(store_drain(st, DRAIN_MS), 0);
    struct got g;
    int rc = read_events(st, a, 0, &g);
    struct store_check_result sound;
    int rc_check = store_check(st, 0, print_line, NULL, &sound);
    store_close(st);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT((int)g.n, 1);
    CHECK_EQ_STR(g.ev[0].view_id, "dictrm03");
    CHECK_EQ_STR(g.ev[0].path, "/kb/same");
    CHECK_EQ_STR(g.ev[0].title, "Same title");
    CHECK_EQ_INT(rc_check, 0);
    CHECK_EQ_INT(sound.problems - sound.differences, 0);
    char dir[128];
    size_t na, nb;
    data_dir(dir, sizeof dir, "dictrm");
    CHECK_EQ_INT(dict_records(dir, a, b, &na, &nb), 0);
    CHECK_EQ_INT(nb, 6);              /* path, title, category: both ways */
    CHECK_EQ_INT(na, 6);              /* made again by the late event */
    CHECK(removed >= 6);
}

int main(void)
{
    if (fixture_begin("store") != 0)
        return 1;
    RUN(open_close_reopen_keeps_sites_and_events);
    RUN(close_commits_and_acknowledges_everything_queued);
    RUN(readonly_open_of_a_missing_dir_fails_with_a_message);
    RUN(readonly_open_of_an_empty_dir_fails_with_a_message);
    RUN(readonly_open_reads_and_cannot_start_a_writer);
    RUN(site_put_creates_then_updates_with_the_same_id);
    RUN(site_put_rejects_bad_names);
    RUN(site_get_of_a_missing_site_returns_1);
    RUN(site_each_lists_sites_in_name_order);
    RUN(salt_rotation_keeps_today_and_yesterday_and_destroys_older);
    RUN(salt_rotation_after_a_gap_destroys_every_old_salt);
    RUN(view_then_engage_are_stored_with_visitor_time_path_and_engaged_ms);
    RUN(engage_for_an_unknown_view_is_an_orphan_without_a_path);
    RUN(same_address_and_ua_on_one_day_give_one_visitor_hash);
    RUN(no_client_address_or_user_agent_reaches_the_data_files);
    RUN(queue_of_cap_2_refuses_a_third_event_until_the_writer_runs);
    RUN(queue_of_cap_2_takes_two_single_events_and_refuses_a_third);
    RUN(enqueue_of_0_or_33_events_is_refused);
    RUN(close_without_a_writer_acknowledges_queued_events);
    RUN(view_without_title_or_category_is_stored);
    RUN(view_id_beyond_32_characters_never_overflows_the_writer);
    RUN(path_and_title_beyond_their_caps_never_overflow_the_writer);
    RUN(link_id_beyond_64_characters_never_overflows_the_writer);
    RUN(map_full_grows_the_map_and_keeps_all_20000_events);
    RUN(site_add_token_create_notes_and_tickets_grow_a_full_map);
    RUN(every_durability_mode_acks_once_and_stores);
    RUN(enqueue_from_four_threads_while_reading_during_map_growth_loses_nothing);
    RUN(events_each_with_limit_n_gives_the_n_most_recent_oldest_first);
    RUN(events_each_of_an_empty_store_calls_nothing);
    RUN(purge_deletes_expired_view_state_past_one_transaction_and_keeps_today);
    RUN(purge_goes_on_under_a_queue_that_never_empties);
    RUN(article_record_keeps_the_page_kind_of_the_last_view);
    RUN(article_record_made_before_page_kinds_reads_as_an_article_or_home);
    RUN(event_records_of_schema_2_are_rewritten_in_place_and_read_the_same);
    RUN(event_records_of_schema_4_take_the_dictionary_and_read_the_same);
    RUN(event_records_of_version_3_stay_unless_a_rewrite_runs_anyway);
    RUN(events_keys_of_schema_6_move_to_8_bytes_in_order_with_the_ship_log);
    RUN(a_crowded_microsecond_moves_its_257th_event_on_and_keeps_the_day);
    RUN(site_removal_takes_its_dictionary_and_later_events_get_fresh_ids);
    int rc = check_summary();
    fixture_end();
    return rc;
}
