/* tickets.c — see tickets.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/tickets.h"
#include "base/buf.h"
#include "base/crypto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tickets_to_store(struct store *st, const struct ticket *in,
                     struct store_ticket *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", in->id);
    out->created_us = in->created_us;
    snprintf(out->link, sizeof out->link, "%s", in->link);
    snprintf(out->channel, sizeof out->channel, "%s", in->channel);
    out->ntags = in->ntags < STORE_TICKET_TAGS ? in->ntags
                                               : STORE_TICKET_TAGS;
    for (size_t i = 0; i < out->ntags; i++)
        snprintf(out->tags[i], sizeof out->tags[i], "%s", in->tags[i]);
    if (in->email[0]) {
        /* the same value the snippet's identify sends, keyed */
        uint8_t h[CRYPTO_SHA256_LEN];
        char hex[2 * CRYPTO_SHA256_LEN + 1];
        crypto_sha256(in->email, strlen(in->email), h);
        crypto_hex(h, sizeof h, hex);
        if (store_keyed_hash(st, "e:", hex, 64, out->email_key) != 0)
            return -1;
        out->has_email = true;
    }
    if (in->requester_id[0]) {
        if (store_keyed_hash(st, "r:", in->requester_id,
                             strlen(in->requester_id),
                             out->requester_key) != 0)
            return -1;
        out->has_requester = true;
    }
    return 0;
}

/* Tickets stored per write transaction by an import: an interrupted import
 * leaves whole batches, and memory holds one batch (about 6 MiB). */
#define IMPORT_BATCH 5000

struct import {
    struct store *st;
    uint32_t site_id;
    struct store_ticket *rows;      /* IMPORT_BATCH of them */
    size_t n;
    helpdesk_error_fn error;
    void *ctx;
    tickets_progress_fn progress;
    struct tickets_result *res;
    char *why;
    size_t whylen;
    int failed;                     /* 1: out of memory or no secret,
                                       2: a batch could not be stored */
};

/* Stores the batch held; counts it in RES. Returns 0, or -1 (FAILED set,
 * WHY written). */
static int flush_batch(struct import *im)
{
    size_t unchanged = 0;
    if (im->n == 0)
        return 0;
    if (store_tickets_put(im->st, im->site_id, im->rows, im->n, &unchanged,
                          im->why, im->whylen) != 0) {
        im->failed = 2;
        return -1;
    }
    im->res->good += im->n;
    im->res->unchanged += unchanged;
    im->res->batches++;
    im->n = 0;
    store_release_pages(im->st);       /* the map's pages: not ours to keep */
    if (im->progress != NULL)
        im->progress(im->ctx, im->res->good);
    return 0;
}

static int take_ticket(void *ctx, const struct ticket *t)
{
    struct import *im = ctx;
    if (tickets_to_store(im->st, t, &im->rows[im->n]) != 0) {
        im->failed = 1;
        snprintf(im->why, im->whylen, "no server secret");
        return 1;
    }
    if (++im->n == IMPORT_BATCH && flush_batch(im) != 0)
        return 1;
    return 0;
}

static void take_error(void *ctx, const char *where, const char *reason)
{
    struct import *im = ctx;
    im->res->bad++;
    if (im->error)
        im->error(im->ctx, where, reason);
}

/* Runs PARSE (over DATA/LEN or IN) into batches. */
static int import_run(struct store *st, uint32_t site_id,
                      enum helpdesk_format format, const char *data,
                      size_t len, FILE *in, const struct helpdesk_options *opt,
                      helpdesk_error_fn error, tickets_progress_fn progress,
                      void *ctx, struct tickets_result *res, char *why,
                      size_t whylen)
{
    struct import im = { .st = st, .site_id = site_id, .error = error,
                         .ctx = ctx, .progress = progress, .res = res,
                         .why = why, .whylen = whylen };
    memset(res, 0, sizeof *res);
    im.rows = malloc(IMPORT_BATCH * sizeof *im.rows);
    if (im.rows == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    int good = in != NULL
        ? helpdesk_parse_file(format, in, opt, take_ticket, take_error, &im)
        : helpdesk_parse_export(format, data, len, opt, take_ticket,
                                take_error, &im);
    if (good >= 0 && !im.failed)
        flush_batch(&im);
    free(im.rows);
    if (im.failed)
        return -1;
    if (good < 0) {
        snprintf(why, whylen, "the file cannot be parsed (see above)");
        return -1;
    }
    if (res->good == 0 && res->bad > 0) {
        snprintf(why, whylen, "no usable record (%zu bad)", res->bad);
        return -1;
    }
    return 0;
}

int tickets_import(struct store *st, uint32_t site_id,
                   enum helpdesk_format format, const char *data, size_t len,
                   const struct helpdesk_options *opt,
                   helpdesk_error_fn error, void *ctx,
                   struct tickets_result *res, char *why, size_t whylen)
{
    return import_run(st, site_id, format, data, len, NULL, opt, error, NULL,
                      ctx, res, why, whylen);
}

int tickets_import_file(struct store *st, uint32_t site_id,
                        enum helpdesk_format format, FILE *in,
                        const struct helpdesk_options *opt,
                        helpdesk_error_fn error, tickets_progress_fn progress,
                        void *ctx, struct tickets_result *res, char *why,
                        size_t whylen)
{
    return import_run(st, site_id, format, NULL, 0, in, opt, error, progress,
                      ctx, res, why, whylen);
}
