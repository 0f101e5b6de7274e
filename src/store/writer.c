/* writer.c — see writer.h: the ingest queue, the writer thread and its
 * chores (settling, salts, purging), the syncer thread. */
#define _POSIX_C_SOURCE 200809L
#include "store/writer.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/time.h"
#include "dwell/log.h"
#include "store/apply.h"
#include "store/codec.h"
#include "store/env.h"
#include "store/rollups.h"

#define BATCH_MAX_EVENTS   4096
#define UA_MAX             512
#define GATHER_EVENTS      256          /* see gather_more */
#define GATHER_NS          1000000L

int store_enqueue(struct store *st, const struct event *evs, size_t n,
                  const struct ipaddr *addr, const char *ua, size_t ualen,
                  store_ack_fn ack, void *ctx)
{
    return store_enqueue_at(st, 0, evs, n, addr, ua, ualen, ack, ctx);
}

int store_enqueue_at(struct store *st, uint64_t time_us,
                     const struct event *evs, size_t n,
                     const struct ipaddr *addr, const char *ua, size_t ualen,
                     store_ack_fn ack, void *ctx)
{
    uint8_t recs[EVENT_MAX_BATCH * (2 + EVENT_RECORD_MAX)];
    if (n == 0 || n > EVENT_MAX_BATCH || time_us > EVENT_TIME_MAX)
        return -1;
    if (ualen > UA_MAX)
        ualen = UA_MAX;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int len = event_within_limits(&evs[i])
                ? event_encode(&evs[i], recs + used + 2, EVENT_RECORD_MAX)
                : -1;
        if (len < 0)
            return -1;
        recs[used] = (uint8_t)(len >> 8);
        recs[used + 1] = (uint8_t)len;
        used += 2 + (size_t)len;
    }
    struct slot *s = malloc(sizeof *s + ualen + used);
    if (s == NULL)
        return -1;
    s->next = NULL;
    s->ack = ack;
    s->ctx = ctx;
    s->addr = *addr;
    s->time_us = time_us ? time_us : store_now_us();
    s->ualen = (uint16_t)ualen;
    s->nev = (uint16_t)n;
    if (ualen)
        memcpy(s->data, ua, ualen);
    memcpy(s->data + ualen, recs, used);
    s->len = ualen + used;

    pthread_mutex_lock(&st->mu);
    if (st->stop || (st->queued > 0 && st->queued + n > st->queue_cap)) {
        pthread_mutex_unlock(&st->mu);
        free(s);
        return STORE_EFULL;
    }
    assert((st->head == NULL) == (st->tail == NULL));
    assert(st->head != NULL || st->busy || st->queued == 0);
    if (st->tail)
        st->tail->next = s;
    else
        st->head = s;
    st->tail = s;
    st->queued += n;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

int store_drain(struct store *st, unsigned timeout_ms)
{
    struct timespec until = time_deadline_ms(timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    while ((st->head != NULL || st->busy) && rc == 0)
        if (pthread_cond_timedwait(&st->idle, &st->mu, &until) == ETIMEDOUT)
            rc = -1;
    pthread_mutex_unlock(&st->mu);
    return rc;
}

const double store_batch_le[STORE_HIST_BUCKETS] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096
};
const double store_commit_le[STORE_HIST_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
};

/* Counts V in H, whose bucket bounds are LE. */
static void hist_add(struct store_hist *h, const double *le, double v)
{
    h->count++;
    h->sum += v;
    for (size_t i = 0; i < STORE_HIST_BUCKETS; i++)
        if (v <= le[i]) {
            h->bucket[i]++;
            return;
        }
}

void store_get_stats(struct store *st, struct store_stats *out)
{
    MDB_envinfo info;
    MDB_stat ms;
    pthread_mutex_lock(&st->mu);
    *out = st->stats;
    out->queue_depth = st->queued;
    out->queue_cap = st->queue_cap;
    out->map_size = st->map_size;
    pthread_mutex_unlock(&st->mu);
    out->map_used = 0;
    if (store_map_info(st, &info, &ms) == 0)
        out->map_used = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
}

static bool queue_empty(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    bool empty = st->head == NULL;
    pthread_mutex_unlock(&st->mu);
    return empty;
}

/* Whether a chore may take another step: nothing is queued and the
 * server is not stopping (a long purge or settling pass must not hold
 * up a shutdown; it resumes at the next start). */
static bool chores_may_go_on(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    bool go = st->head == NULL && !st->stop;
    pthread_mutex_unlock(&st->mu);
    return go;
}

/* One purge step; logs the pass when it ends.
 * Returns 1 while the pass goes on. */
static int purge_step(struct store *st)
{
    int rc = store_purge_step(st, &st->purged);
    if (rc == 1)
        return 1;
    st->purging = false;
    pthread_mutex_lock(&st->mu);
    st->stats.purged += st->purged;
    pthread_mutex_unlock(&st->mu);
    if (rc == 0 && st->purged > 0)
        log_info("store: purged %zu expired view/visitor records",
                 st->purged);
    return 0;
}

/* The writer's chores: settling rollups, and hourly the salt rotation and
 * a purge, in steps while the queue is empty. Under load that never lets
 * the queue empty, one step of each a second (chores_every_ms) anyway, so
 * that neither is put off for good. */
static void writer_chores(struct store *st)
{
    uint64_t now = store_now_us();
    if (!st->purging && now - st->last_purge_us > PURGE_EVERY_US) {
        if (store_salt_rotate(st, day_of_us(now)) == 0)
            st->salt_day = 0;            /* reload at the next batch */
        st->purging = true;
        st->purged = 0;
        st->last_purge_us = now;
    }
    bool forced = false;
    if (queue_empty(st))
        st->idle_us = now;
    else if (now > st->idle_us && now - st->idle_us > st->starved_us &&
             (now < st->forced_us ||
              now - st->forced_us >= st->forced_every_us))
        forced = true;
    else
        return;
    while (!st->manual_settle && store_settle_step(st, SETTLE_CHUNK) == 1 &&
           !forced && chores_may_go_on(st))
        ;
    while (st->purging && purge_step(st) == 1 && !forced &&
           chores_may_go_on(st))
        ;
    if (forced)
        st->forced_us = store_now_us();  /* a second between, not from */
}

/* Whether the writer should let its next batch grow before taking it
 * (called with st->mu held): with --durability none no request waits for
 * the commit, so a short pause turns many small commits, each writing
 * its own copies of the same pages, into one. The other modes answer
 * after the commit and take what is there. */
static bool gather_more(const struct store *st)
{
    return st->durability == STORE_NONE && st->head != NULL && !st->stop &&
           st->queued < GATHER_EVENTS;
}

/* Takes up to BATCH_MAX_EVENTS queued events (whole slots) off the queue;
 * waits up to one second for work. Returns NULL when there is none. */
static struct slot *take_batch(struct store *st, bool *stop)
{
    pthread_mutex_lock(&st->mu);
    if (st->head == NULL && !st->stop) {
        struct timespec until = time_deadline_ms(1000);
        pthread_cond_timedwait(&st->wake, &st->mu, &until);
    }
    if (gather_more(st)) {
        pthread_mutex_unlock(&st->mu);
        struct timespec pause = { 0, GATHER_NS };
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&st->mu);
    }
    struct slot *head = st->head, *last = NULL;
    size_t n = 0;
    for (struct slot *s = head; s && n < BATCH_MAX_EVENTS; s = s->next) {
        n += s->nev;
        last = s;
    }
    if (last) {
        st->head = last->next;
        if (st->head == NULL)
            st->tail = NULL;
        last->next = NULL;
        st->busy = true;
    }
    *stop = st->stop && st->head == NULL && head == NULL;
    pthread_mutex_unlock(&st->mu);
    return last ? head : NULL;
}

/* Acknowledges every slot from HEAD with STATUS and frees them; updates
 * the counters (a commit of STORED events that took TOOK_US, when STATUS
 * is 0). LAST: the writer is done with its batch. */
static void finish_slots(struct store *st, struct slot *head, int status,
                         size_t stored, uint64_t took_us, bool last)
{
    size_t nev = 0;
    while (head) {
        struct slot *next = head->next;
        nev += head->nev;
        if (head->ack)
            head->ack(head->ctx, status);
        free(head);
        head = next;
    }
    pthread_mutex_lock(&st->mu);
    assert(st->queued >= nev);
    st->queued -= nev;
    if (status == 0) {
        st->stats.events_stored += stored;
        st->stats.batches++;
        hist_add(&st->stats.batch_events, store_batch_le, (double)stored);
        hist_add(&st->stats.commit_seconds, store_commit_le,
                 (double)took_us / 1e6);
    } else {
        st->stats.write_errors++;
    }
    if (last) {
        st->busy = false;
        if (st->head == NULL)
            pthread_cond_broadcast(&st->idle);
    }
    pthread_mutex_unlock(&st->mu);
}

/* Microseconds on the monotonic clock (commit latencies). */
static uint64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *writer_main(void *arg)
{
    struct store *st = arg;
    for (;;) {
        bool stop;
        struct slot *batch = take_batch(st, &stop);
        if (batch == NULL) {
            if (stop)
                break;
            writer_chores(st);
            continue;
        }
        size_t stored = 0;
        uint64_t t0 = monotonic_us();
        int rc = store_apply_batch(st, batch, &stored);
        if (rc == 0 || batch->next == NULL) {
            if (rc != 0)
                log_error("store: events not stored: %s", mdb_strerror(rc));
            finish_slots(st, batch, rc == 0 ? 0 : -1, stored,
                         monotonic_us() - t0, true);
        } else {
            /* one bad request must not fail the others: each on its own */
            while (batch) {
                struct slot *next = batch->next;
                batch->next = NULL;
                t0 = monotonic_us();
                rc = store_apply_batch(st, batch, &stored);
                if (rc != 0)
                    log_error("store: events not stored: %s",
                              mdb_strerror(rc));
                finish_slots(st, batch, rc == 0 ? 0 : -1, stored,
                             monotonic_us() - t0, next == NULL);
                batch = next;
            }
        }
        writer_chores(st);
    }
    return NULL;
}

/* Flushes committed data to disk; a failure is counted (stats.sync_errors,
 * shown by /healthz) and logged. */
static void env_sync(struct store *st)
{
    int rc = mdb_env_sync(st->env, 1);
    if (rc == 0)
        return;
    pthread_mutex_lock(&st->mu);
    st->stats.sync_errors++;
    pthread_mutex_unlock(&st->mu);
    log_error("store: flushing to disk: %s", mdb_strerror(rc));
}

/* Without per-commit syncs (commit and none modes), flushes committed data
 * to disk once a second, off the writer's path, so that a machine crash
 * loses at most about a second. */
static void *syncer_main(void *arg)
{
    struct store *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        struct timespec until = time_deadline_ms(1000);
        pthread_cond_timedwait(&st->sync_wake, &st->mu, &until);
        pthread_mutex_unlock(&st->mu);
        env_sync(st);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

int store_start_writer(struct store *st, char *err, size_t errlen)
{
    if (st->readonly) {
        snprintf(err, errlen, "store opened read-only");
        return -1;
    }
    if (store_salt_rotate(st, day_of_us(store_now_us())) != 0) {
        snprintf(err, errlen, "cannot create today's visitor salt");
        return -1;
    }
    st->last_purge_us = store_now_us() - PURGE_EVERY_US + st->purge_first_us;
    st->idle_us = store_now_us();
    int rc = pthread_create(&st->writer, NULL, writer_main, st);
    if (rc != 0) {
        snprintf(err, errlen, "writer thread: %s", strerror(rc));
        return -1;
    }
    st->writer_running = true;
    if (st->durability == STORE_FSYNC)
        return 0;
    rc = pthread_create(&st->syncer, NULL, syncer_main, st);
    if (rc != 0) {
        snprintf(err, errlen, "sync thread: %s", strerror(rc));
        return -1;
    }
    st->syncer_running = true;
    return 0;
}

void store_stop_writer(struct store *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_signal(&st->wake);
    pthread_cond_signal(&st->sync_wake);
    pthread_mutex_unlock(&st->mu);
    if (st->writer_running)
        pthread_join(st->writer, NULL);
    if (st->syncer_running)
        pthread_join(st->syncer, NULL);
    pthread_mutex_lock(&st->mu);
    struct slot *left = st->head;      /* no writer ever took these */
    st->head = st->tail = NULL;
    pthread_mutex_unlock(&st->mu);
    if (left != NULL)
        finish_slots(st, left, -1, 0, 0, true);
    if (st->writer_running && st->durability != STORE_FSYNC)
        env_sync(st);
    st->writer_running = false;
    st->syncer_running = false;
}
