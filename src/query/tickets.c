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

struct import {
    struct store *st;
    struct store_ticket *rows;
    size_t n, cap;
    helpdesk_error_fn error;
    void *ctx;
    size_t bad;
    int failed;
};

static int take_ticket(void *ctx, const struct ticket *t)
{
    struct import *im = ctx;
    if (buf_grow_array(&im->rows, &im->cap, im->n + 1, sizeof *im->rows,
                       SIZE_MAX) != 0) {
        im->failed = 1;
        return 1;
    }
    if (tickets_to_store(im->st, t, &im->rows[im->n]) != 0) {
        im->failed = 1;
        return 1;
    }
    im->n++;
    return 0;
}

static void take_error(void *ctx, const char *where, const char *reason)
{
    struct import *im = ctx;
    im->bad++;
    if (im->error)
        im->error(im->ctx, where, reason);
}

int tickets_import(struct store *st, uint32_t site_id,
                   enum helpdesk_format format, const char *data, size_t len,
                   const struct helpdesk_options *opt,
                   helpdesk_error_fn error, void *ctx,
                   struct tickets_result *res, char *why, size_t whylen)
{
    struct import im = { .st = st, .error = error, .ctx = ctx };
    memset(res, 0, sizeof *res);
    int good = helpdesk_parse_export(format, data, len, opt, take_ticket,
                                     take_error, &im);
    if (good < 0 || im.failed) {
        snprintf(why, whylen, "%s", im.failed ? "out of memory, or no server "
                 "secret" : "the file cannot be parsed (see above)");
        free(im.rows);
        return -1;
    }
    if (im.n == 0 && im.bad > 0) {
        snprintf(why, whylen, "no usable record (%zu bad)", im.bad);
        free(im.rows);
        return -1;
    }
    int rc = store_tickets_put(st, site_id, im.rows, im.n, &res->unchanged,
                               why, whylen);
    free(im.rows);
    if (rc != 0)
        return -1;
    res->good = im.n;
    res->bad = im.bad;
    return 0;
}
