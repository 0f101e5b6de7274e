/* source.h — where reports read from. The report and correlation code
 * (report.c, correlate.c) read articles, rollups, breakdowns, tickets,
 * links, identities and visits only through a struct report_source: the
 * local store's own records (report_source_store), or ClickHouse computing
 * the very same records from the shipped raw events (chsource.h). The
 * quantiles, rates, sorting, paging and rendering above are shared, so the
 * numbers cannot drift between the two. Every operation has the meaning
 * and the return values of the store.h function of the same name. */
#ifndef DWELL_SOURCE_H
#define DWELL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dwell/store.h"

struct report_source_ops {
    int (*articles_each)(void *ctx, uint32_t site_id,
                         int (*fn)(void *fctx, const struct store_article *a),
                         void *fctx);
    int (*article_get)(void *ctx, uint32_t site_id, uint64_t id,
                       struct store_article *out);
    int (*rollups_each)(void *ctx, uint32_t site_id, uint64_t article,
                        uint32_t from, uint32_t to, bool include_bots,
                        bool per_day, store_rollup_fn fn, void *fctx);
    int (*rollup_sums_each)(void *ctx, uint32_t site_id, const uint64_t *ids,
                            size_t n, const struct store_range *ranges,
                            size_t nr, bool include_bots, store_sums_fn fn,
                            void *fctx);
    int (*dims_each)(void *ctx, uint32_t site_id, uint64_t article,
                     enum store_dim dim, uint32_t from, uint32_t to,
                     bool include_bots,
                     int (*fn)(void *fctx, const char *value, size_t len,
                               uint64_t count),
                     void *fctx);
    int (*tickets_each)(void *ctx, uint32_t site_id, uint64_t from_us,
                        uint64_t to_us,
                        int (*fn)(void *fctx, const struct store_ticket *t),
                        void *fctx);
    int (*ticket_get)(void *ctx, uint32_t site_id, const char *id,
                      struct store_ticket *out);
    int (*link_get)(void *ctx, uint32_t site_id, const char *link,
                    uint64_t *time_us, uint64_t visitors[2]);
    int (*identity_each)(void *ctx, uint32_t site_id,
                         const uint8_t identity[32], uint64_t from_us,
                         uint64_t to_us,
                         int (*fn)(void *fctx, uint64_t time_us,
                                   uint64_t visitor),
                         void *fctx);
    int (*visits_each)(void *ctx, uint32_t site_id, uint64_t visitor,
                       uint64_t from_us, uint64_t to_us, store_visit_fn fn,
                       void *fctx);
    /* The reason of the last failure, or NULL (then: a storage error). */
    const char *(*error)(void *ctx);
    bool threads;      /* rollup_sums_each may run on two threads at once */
};

struct report_source {
    const struct report_source_ops *ops;
    void *ctx;
};

/* The source that reads ST's own rollups (the default everywhere). */
struct report_source report_source_store(struct store *st);

/* store_rollup_sums over SRC: the N articles' sums over each of the NR
 * ranges into OUT[i * NR + r]. Returns 0, or -1. */
int report_source_sums(const struct report_source *src, uint32_t site_id,
                       const uint64_t *ids, size_t n,
                       const struct store_range *ranges, size_t nr,
                       bool include_bots, struct rollup_day *out);

/* Why SRC's last operation failed (a static or SRC-owned string), or NULL
 * when it said nothing (a storage error). */
const char *report_source_error(const struct report_source *src);

#endif
