/* source.c — see source.h: the store's own records as a report source. */
#include "dwell/source.h"

#include <string.h>

static int st_articles_each(void *ctx, uint32_t site_id,
                            int (*fn)(void *, const struct store_article *),
                            void *fctx)
{
    return store_articles_each(ctx, site_id, fn, fctx);
}

static int st_article_get(void *ctx, uint32_t site_id, uint64_t id,
                          struct store_article *out)
{
    return store_article_get(ctx, site_id, id, out);
}

static int st_rollups_each(void *ctx, uint32_t site_id, uint64_t article,
                           uint32_t from, uint32_t to, bool include_bots,
                           bool per_day, store_rollup_fn fn, void *fctx)
{
    return store_rollups_each(ctx, site_id, article, from, to, include_bots,
                              per_day, fn, fctx);
}

static int st_sums_each(void *ctx, uint32_t site_id, const uint64_t *ids,
                        size_t n, const struct store_range *ranges,
                        size_t nr, bool include_bots, store_sums_fn fn,
                        void *fctx)
{
    return store_rollup_sums_each(ctx, site_id, ids, n, ranges, nr,
                                  include_bots, fn, fctx);
}

static int st_dims_each(void *ctx, uint32_t site_id, uint64_t article,
                        enum store_dim dim, uint32_t from, uint32_t to,
                        bool include_bots,
                        int (*fn)(void *, const char *, size_t, uint64_t),
                        void *fctx)
{
    return store_dims_each(ctx, site_id, article, dim, from, to,
                           include_bots, fn, fctx);
}

static int st_tickets_each(void *ctx, uint32_t site_id, uint64_t from_us,
                           uint64_t to_us,
                           int (*fn)(void *, const struct store_ticket *),
                           void *fctx)
{
    return store_tickets_each(ctx, site_id, from_us, to_us, fn, fctx);
}

static int st_ticket_get(void *ctx, uint32_t site_id, const char *id,
                         struct store_ticket *out)
{
    return store_ticket_get(ctx, site_id, id, out);
}

static int st_link_get(void *ctx, uint32_t site_id, const char *link,
                       uint64_t *time_us, uint64_t visitors[2])
{
    return store_link_get(ctx, site_id, link, time_us, visitors);
}

static int st_identity_each(void *ctx, uint32_t site_id,
                            const uint8_t identity[32], uint64_t from_us,
                            uint64_t to_us,
                            int (*fn)(void *, uint64_t, uint64_t),
                            void *fctx)
{
    return store_identity_each(ctx, site_id, identity, from_us, to_us, fn,
                               fctx);
}

static int st_visits_each(void *ctx, uint32_t site_id, uint64_t visitor,
                          uint64_t from_us, uint64_t to_us,
                          store_visit_fn fn, void *fctx)
{
    return store_visits_each(ctx, site_id, visitor, from_us, to_us, fn,
                             fctx);
}

static const char *st_error(void *ctx)
{
    (void)ctx;
    return NULL;
}

static const struct report_source_ops store_ops = {
    st_articles_each, st_article_get, st_rollups_each, st_sums_each,
    st_dims_each, st_tickets_each, st_ticket_get, st_link_get,
    st_identity_each, st_visits_each, st_error, true
};

struct report_source report_source_store(struct store *st)
{
    return (struct report_source){ &store_ops, st };
}

/* Where report_source_sums copies each article's sums. */
struct sums_out {
    struct rollup_day *out;
    size_t nr;
};

static int copy_sums(void *ctx, size_t i, const struct rollup_day *sums)
{
    struct sums_out *o = ctx;
    memcpy(&o->out[i * o->nr], sums, o->nr * sizeof *sums);
    return 0;
}

int report_source_sums(const struct report_source *src, uint32_t site_id,
                       const uint64_t *ids, size_t n,
                       const struct store_range *ranges, size_t nr,
                       bool include_bots, struct rollup_day *out)
{
    struct sums_out o = { out, nr };
    memset(out, 0, n * nr * sizeof *out);
    return src->ops->rollup_sums_each(src->ctx, site_id, ids, n, ranges, nr,
                                      include_bots, copy_sums, &o);
}

const char *report_source_error(const struct report_source *src)
{
    return src->ops->error ? src->ops->error(src->ctx) : NULL;
}
