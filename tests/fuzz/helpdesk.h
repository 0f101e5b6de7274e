/* helpdesk.h — the fuzz targets of helpdesk_parse_export, one per format:
 * never a crash or an over-read; every ticket handed over has its strings
 * terminated within their arrays and at most TICKET_MAX_TAGS tags; every
 * error names where and why; the count returned is the tickets handed
 * over, or -1 with exactly one error and no ticket. */
#ifndef DWELL_FUZZ_HELPDESK_H
#define DWELL_FUZZ_HELPDESK_H

#include "fuzz.h"
#include "dwell/helpdesk.h"

struct fuzz_seen {
    int tickets, errors;
};

static inline void fuzz_check_ticket(const struct ticket *t)
{
    FUZZ_CHECK(fuzz_terminated(t->id, sizeof t->id) && t->id[0] != '\0');
    FUZZ_CHECK(fuzz_terminated(t->link, sizeof t->link));
    FUZZ_CHECK(fuzz_terminated(t->requester_id, sizeof t->requester_id));
    FUZZ_CHECK(fuzz_terminated(t->email, sizeof t->email));
    FUZZ_CHECK(fuzz_terminated(t->channel, sizeof t->channel));
    FUZZ_CHECK(t->ntags <= TICKET_MAX_TAGS);
    for (size_t i = 0; i < t->ntags; i++)
        FUZZ_CHECK(fuzz_terminated(t->tags[i], sizeof t->tags[i]));
}

static inline int fuzz_on_ticket(void *ctx, const struct ticket *t)
{
    struct fuzz_seen *s = ctx;
    fuzz_check_ticket(t);
    s->tickets++;
    return 0;
}

static inline void fuzz_on_error(void *ctx, const char *where,
                                 const char *reason)
{
    struct fuzz_seen *s = ctx;
    FUZZ_CHECK(where != NULL && reason != NULL && reason[0] != '\0');
    (void)strlen(where);
    s->errors++;
}

/* Parses the input as FORMAT with OPT and checks what came out. */
static inline void fuzz_helpdesk(enum helpdesk_format format,
                                 const struct helpdesk_options *opt,
                                 const uint8_t *data, size_t size)
{
    struct fuzz_seen s = { 0, 0 };
    int rc = helpdesk_parse_export(format, (const char *)data, size, opt,
                                   fuzz_on_ticket, fuzz_on_error, &s);
    if (rc < 0)
        FUZZ_CHECK(rc == -1 && s.tickets == 0 && s.errors == 1);
    else
        FUZZ_CHECK(rc == s.tickets);
}

#endif
