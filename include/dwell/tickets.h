/* tickets.h — tickets into the store: from a helpdesk export file (all good
 * records in one transaction, bad ones reported with where and why) or
 * from one webhook call. E-mails and requester ids are replaced by keyed
 * hashes here; nothing else personal is kept. */
#ifndef DWELL_TICKETS_H
#define DWELL_TICKETS_H

#include <stddef.h>
#include <stdint.h>

#include "dwell/helpdesk.h"
#include "dwell/store.h"

struct tickets_result {
    size_t good;          /* usable records in the file */
    size_t bad;           /* records reported to the error callback */
    size_t unchanged;     /* good records already stored as they are */
};

/* Turns a parsed ticket into its stored form (keyed hashes of the e-mail
 * and the requester id). Returns 0, or -1 if ST has no secret. */
int tickets_to_store(struct store *st, const struct ticket *in,
                     struct store_ticket *out);

/* Imports the LEN bytes at DATA as FORMAT for SITE_ID. Bad records go to
 * ERROR (with CTX) and are skipped; the good ones are stored together in
 * one transaction. Returns 0 and fills RES; or -1 with a reason in WHY when
 * the file cannot be parsed at all or nothing could be stored (then
 * nothing was). */
int tickets_import(struct store *st, uint32_t site_id,
                   enum helpdesk_format format, const char *data, size_t len,
                   const struct helpdesk_options *opt,
                   helpdesk_error_fn error, void *ctx,
                   struct tickets_result *res, char *why, size_t whylen);

#endif
