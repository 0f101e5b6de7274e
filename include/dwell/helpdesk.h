/* helpdesk.h — tickets as the helpdesks export and send them: Zendesk (JSON
 * ticket lists and incremental-export pages, CSV), Freshdesk, Help Scout,
 * Intercom and a generic CSV with a column mapping; and their webhooks.
 * Turns each into a neutral struct ticket. Pure parsing: no storage, no
 * HTTP. Nothing personal leaves here but the requester's e-mail and id,
 * which the caller hashes before storing. */
#ifndef DWELL_HELPDESK_H
#define DWELL_HELPDESK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum helpdesk_format {
    HELPDESK_ZENDESK_JSON,     /* {"tickets":[…]} or {"ticket":{…}}, or
                                  an incremental-export page */
    HELPDESK_ZENDESK_CSV,      /* Zendesk's CSV export (header row) */
    HELPDESK_FRESHDESK_JSON,   /* an array of tickets, or {"tickets":[…]} */
    HELPDESK_HELPSCOUT_JSON,   /* {"_embedded":{"conversations":[…]}} or an
                                  array of conversations */
    HELPDESK_INTERCOM_JSON,    /* {"conversations":[…]} or an array */
    HELPDESK_CSV               /* any CSV: columns named like the fields
                                  (id, created_at, …) or by --map */
};

#define TICKET_ID_MAX      64
#define TICKET_LINK_MAX    64
#define TICKET_EMAIL_MAX   254
#define TICKET_PERSON_MAX  64
#define TICKET_CHANNEL_MAX 32
#define TICKET_MAX_TAGS    16
#define TICKET_TAG_MAX     64

struct ticket {
    char id[TICKET_ID_MAX + 1];          /* the helpdesk's id, as text */
    uint64_t created_us;                 /* µs since the epoch, UTC */
    char link[TICKET_LINK_MAX + 1];      /* the dwell link id, or "" */
    char requester_id[TICKET_PERSON_MAX + 1];   /* or "" */
    char email[TICKET_EMAIL_MAX + 1];    /* lower-cased, or "" */
    char channel[TICKET_CHANNEL_MAX + 1];/* "email", "web", "chat", … or "" */
    size_t ntags;
    char tags[TICKET_MAX_TAGS][TICKET_TAG_MAX + 1];   /* lower-cased */
};

/* Where the link id is and how generic CSV columns map to fields. */
struct helpdesk_options {
    /* The custom field that carries the dwell link id: matched against a
     * custom field's id (Zendesk, Freshdesk: numeric ids or keys), name or
     * key (Help Scout customFields name, Intercom custom_attributes key,
     * Freshdesk custom_fields key); default "dwell_link". For CSV formats,
     * the column header. */
    const char *link_field;
    /* Pairs "column=field" where field is one of id, created_at, link,
     * requester, email, channel, tags: they override the columns found by
     * name (HELPDESK_CSV takes columns already named like the fields, in
     * any case, with no map; Zendesk CSV its own headers). */
    const char *const *map;
    size_t nmap;
};

/* Called for each ticket parsed; a non-zero return stops the parse. */
typedef int (*helpdesk_ticket_fn)(void *ctx, const struct ticket *t);

/* Called for each record that cannot be used, with where it is ("line 17",
 * "tickets[3]") and why ("created_at: not an ISO 8601 time"). */
typedef void (*helpdesk_error_fn)(void *ctx, const char *where,
                                  const char *reason);

/* Parses the LEN bytes at DATA as FORMAT. Calls TICKET for every usable
 * record and ERROR for every unusable one, in file order. Returns the
 * number of usable records; or -1 when the file as a whole cannot be
 * parsed (not JSON, no header row, …: ERROR is called once with why, and
 * TICKET never). */
int helpdesk_parse_export(enum helpdesk_format format, const char *data,
                          size_t len, const struct helpdesk_options *opt,
                          helpdesk_ticket_fn ticket, helpdesk_error_fn error,
                          void *ctx);

/* helpdesk_parse_export reading from IN: a CSV format is read in chunks,
 * record by record (memory about 1 MiB whatever the file's size; a record
 * may be at most 16 MiB), first checked whole when IN can be rewound (a
 * regular file: a quote never closed then stores nothing; a pipe is not
 * checked ahead). A JSON format is read whole into memory first (memory
 * about the file's size). Same calls and result as helpdesk_parse_export. */
int helpdesk_parse_file(enum helpdesk_format format, FILE *in,
                        const struct helpdesk_options *opt,
                        helpdesk_ticket_fn ticket, helpdesk_error_fn error,
                        void *ctx);

/* Parses one webhook body: Zendesk's ticket.created event (and the
 * {"ticket":{…}} shape of Zendesk triggers), Freshdesk's ticket webhook
 * ({"freshdesk_webhook":{…}} or a plain ticket), Help Scout's convo.created
 * (a conversation object), or the generic shape {"id","created_at",
 * "link","email","requester","channel","tags"}. Returns 0 and fills OUT,
 * or -1 with a reason in ERR. */
int helpdesk_parse_webhook(const char *body, size_t len,
                           const struct helpdesk_options *opt,
                           struct ticket *out, char *err, size_t errlen);

/* Verifies Help Scout's X-HelpScout-Signature: base64 of HMAC-SHA1 of the
 * raw BODY under SECRET. Returns 1 when it matches, 0 otherwise. */
int helpdesk_helpscout_signature_ok(const char *body, size_t len,
                                    const char *secret, const char *signature);

/* The site note (store_site_note_put) holding a site's own Help Scout
 * webhook secret: `dwell site add SITE --helpscout-secret S` writes it,
 * POST /api/v1/tickets?site=SITE checks signatures with it. */
#define HELPDESK_HELPSCOUT_NOTE "helpscout_secret"
#define HELPDESK_SECRET_MAX     255

/* Parses an ISO 8601 / RFC 3339 time ("2026-11-23T10:04:05Z", with
 * optional fraction and offset, or "2026-11-23 10:04:05" as UTC) or Unix
 * seconds as text into µs since the epoch. Returns 0, or -1. */
int helpdesk_parse_time(const char *s, uint64_t *us);

/* Parses a format name ("zendesk-json", …, "csv"). Returns 0, or -1. */
int helpdesk_format_of(const char *name, enum helpdesk_format *out);

#endif
