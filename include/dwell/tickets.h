/* tickets.h — tickets into the store: from a helpdesk export file (the
 * good records in batches of 5,000 per transaction, bad ones reported with
 * where and why) or from one webhook call. E-mails and requester ids are replaced by keyed
 * hashes here; nothing else personal is kept. */
#ifndef DWELL_TICKETS_H
#define DWELL_TICKETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dwell/helpdesk.h"
#include "dwell/store.h"

struct tickets_result {
    size_t good;          /* usable records in the file */
    size_t bad;           /* records reported to the error callback */
    size_t unchanged;     /* good records already stored as they are */
    size_t batches;       /* transactions committed */
};

/* Called after each batch is committed with the good records so far. */
typedef void (*tickets_progress_fn)(void *ctx, size_t stored);

/* Turns a parsed ticket into its stored form (keyed hashes of the e-mail
 * and the requester id). Returns 0, or -1 if ST has no secret. */
int tickets_to_store(struct store *st, const struct ticket *in,
                     struct store_ticket *out);

/* Imports the LEN bytes at DATA as FORMAT for SITE_ID. Bad records go to
 * ERROR (with CTX) and are skipped; the good ones are stored in batches of
 * 5,000, one transaction each (a ticket stored before as it is counts as
 * unchanged: importing again changes nothing). Returns 0 and fills RES; or
 * -1 with a reason in WHY when the file cannot be parsed at all (then
 * nothing was stored), nothing usable is in it, or a batch could not be
 * stored (the batches before it were: RES says how many). */
int tickets_import(struct store *st, uint32_t site_id,
                   enum helpdesk_format format, const char *data, size_t len,
                   const struct helpdesk_options *opt,
                   helpdesk_error_fn error, void *ctx,
                   struct tickets_result *res, char *why, size_t whylen);

/* tickets_import reading the file IN as helpdesk_parse_file does (CSV in
 * chunks: memory about one batch and one chunk, whatever the file's size),
 * calling PROGRESS (may be NULL, with CTX) after each batch. */
int tickets_import_file(struct store *st, uint32_t site_id,
                        enum helpdesk_format format, FILE *in,
                        const struct helpdesk_options *opt,
                        helpdesk_error_fn error, tickets_progress_fn progress,
                        void *ctx, struct tickets_result *res, char *why,
                        size_t whylen);

#endif
