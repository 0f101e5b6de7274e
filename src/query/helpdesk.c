/* helpdesk.c — see helpdesk.h.
 *
 * A JSON export is first checked whole by a small validating scanner (so a
 * truncated file imports nothing), then each record is handed to cJSON on
 * its own: memory stays at one record's tree however big the export is.
 * CSV is read by an RFC 4180 scanner over a window of about a megabyte
 * read from the file in chunks (a buffer in memory is read through
 * fmemopen), also in two passes (the first only where the file can be
 * rewound); only the cells dwell uses are ever unquoted, into bounded
 * buffers.
 *
 * What is read from a record is only what struct ticket holds: subjects,
 * bodies, names and the rest are never looked at. Values are never quoted
 * in error messages (a misplaced column could hold e-mail addresses). */
#define _POSIX_C_SOURCE 200809L
#include "dwell/helpdesk.h"
#include "base/crypto.h"
#include "base/csv.h"
#include "base/jscan.h"
#include "base/time.h"
#include "base/utf8.h"
#include "dwell/log.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LINK_FIELD "dwell_link"
#define LINK_MIN        8
#define CSV_MAX_COLUMNS 4096
#define MAX_LINK_IDS    8
#define MAX_USERS       1000000                 /* Zendesk side-loads */
#define WHY_MAX         200
#define SHOWN_MAX       48

/* Writes the formatted reason to WHY (which may be NULL); returns -1. */
static int fail(char *why, size_t whylen, const char *fmt, ...) DWELL_PRINTF(3, 4);

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why == NULL || whylen == 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* --- text ----------------------------------------------------------------- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_ws(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_ws((*s)[*n - 1]))
        (*n)--;
}

/* Field and column names: equal ignoring ASCII case and surrounding blanks,
 * with ' ' and '_' alike ("Dwell link" is "dwell_link"). */
static bool name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    trim(&a, &an);
    trim(&b, &bn);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        char x = lower(a[i]), y = lower(b[i]);
        if (x == '_')
            x = ' ';
        if (y == '_')
            y = ' ';
        if (x != y)
            return false;
    }
    return true;
}

/* Drops Zendesk's trailing " [type]" from a CSV column ("Dwell link [txt]"). */
static void strip_type(const char **s, size_t *n)
{
    trim(s, n);
    if (*n < 3 || (*s)[*n - 1] != ']')
        return;
    for (size_t i = *n - 1; i-- > 0;) {
        if ((*s)[i] == '[') {
            *n = i;
            trim(s, n);
            return;
        }
    }
}

/* Drops Freshdesk's "cf_" prefix of custom field keys. */
static void strip_cf(const char **s, size_t *n)
{
    if (*n > 3 && lower((*s)[0]) == 'c' && lower((*s)[1]) == 'f' &&
        (*s)[2] == '_') {
        *s += 3;
        *n -= 3;
    }
}

/* Copies S into BUF for a message: at most SHOWN_MAX bytes, cut on a UTF-8
 * boundary, control characters as '?'. Returns BUF. */
static const char *shown(const char *s, size_t n, char buf[SHOWN_MAX + 4])
{
    size_t k = 0;
    for (; k < n && k < SHOWN_MAX; k++) {
        unsigned char c = (unsigned char)s[k];
        buf[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (k < n) {
        while (k > 0 && ((unsigned char)buf[k] & 0xc0) == 0x80)
            k--;
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* --- time ----------------------------------------------------------------- */

/* An ISO 8601 time (base/time.h) or Unix seconds (up to 9999). */
static int parse_time_n(const char *s, size_t n, uint64_t *us)
{
    trim(&s, &n);
    size_t p = 0;
    while (p < n && is_digit(s[p]))
        p++;
    if (n == 0 || p < n)
        return time_parse_iso8601(s, n, us);
    if (n > 12)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    if (v > TIME_MAX_UNIX_SECS)
        return -1;
    *us = (uint64_t)v * TIME_US_PER_SEC;
    return 0;
}

int helpdesk_parse_time(const char *s, uint64_t *us)
{
    if (s == NULL || us == NULL)
        return -1;
    return parse_time_n(s, strlen(s), us);
}

/* --- ticket fields ---------------------------------------------------------
 * The optional fields keep the first usable value they are given; callers
 * offer candidates in order of preference. */

static const char TIME_REASON[] = "not an ISO 8601 time or Unix seconds";

static int set_id_text(struct ticket *t, const char *s, size_t n,
                       const char *name, char *why, size_t whylen)
{
    trim(&s, &n);
    if (n == 0)
        return fail(why, whylen, "%s: missing", name);
    if (n > TICKET_ID_MAX)
        return fail(why, whylen, "%s: longer than %d bytes", name,
                    TICKET_ID_MAX);
    if (!utf8_text_ok(s, n))
        return fail(why, whylen, "%s: not UTF-8 text", name);
    memcpy(t->id, s, n);
    t->id[n] = '\0';
    return 0;
}

static bool set_link(struct ticket *t, const char *s, size_t n)
{
    if (t->link[0] != '\0')
        return true;
    trim(&s, &n);
    if (n < LINK_MIN || n > TICKET_LINK_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              is_digit(c) || c == '_' || c == '-'))
            return false;
    }
    memcpy(t->link, s, n);
    t->link[n] = '\0';
    return true;
}

static void set_requester(struct ticket *t, const char *s, size_t n)
{
    trim(&s, &n);
    if (t->requester_id[0] != '\0' || n == 0 || n > TICKET_PERSON_MAX ||
        !utf8_text_ok(s, n))
        return;
    memcpy(t->requester_id, s, n);
    t->requester_id[n] = '\0';
}

/* Normalises an e-mail address into OUT (lower-cased, trimmed). Returns
 * false when S does not look like one address. */
static bool email_norm(const char *s, size_t n, char out[TICKET_EMAIL_MAX + 1])
{
    trim(&s, &n);
    if (n < 3 || n > TICKET_EMAIL_MAX || !utf8_text_ok(s, n))
        return false;
    size_t at = 0, ats = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '<' || c == '>' || c == ',' || c == ';' ||
            c == '"')
            return false;
        if (c == '@') {
            ats++;
            at = i;
        }
        out[i] = lower(c);
    }
    if (ats != 1 || at == 0 || at == n - 1)
        return false;
    out[n] = '\0';
    return true;
}

static void set_email(struct ticket *t, const char *s, size_t n)
{
    char e[TICKET_EMAIL_MAX + 1];
    if (t->email[0] == '\0' && email_norm(s, n, e))
        memcpy(t->email, e, strlen(e) + 1);
}

static void set_channel(struct ticket *t, const char *s, size_t n)
{
    static const struct { const char *from, *to; } aliases[] = {
        { "mail", "email" },              { "e-mail", "email" },
        { "web form", "web" },            { "web service", "api" },
        { "feedback widget", "widget" },  { "outbound email", "outbound-email" },
    };
    trim(&s, &n);
    if (t->channel[0] != '\0' || n == 0 || n > 64)
        return;
    char buf[65];
    for (size_t i = 0; i < n; i++) {
        char c = lower(s[i]);
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == ' ' ||
              c == '_' || c == '-' || c == '.' || c == '(' || c == ')'))
            return;
        buf[i] = c == ' ' ? '_' : c;
    }
    buf[n] = '\0';
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (name_eq(buf, n, aliases[i].from, strlen(aliases[i].from))) {
            memcpy(t->channel, aliases[i].to, strlen(aliases[i].to) + 1);
            return;
        }
    if (n > TICKET_CHANNEL_MAX)
        return;
    memcpy(t->channel, buf, n + 1);
}

static void add_tag(struct ticket *t, const char *s, size_t n)
{
    trim(&s, &n);
    if (n == 0 || n > TICKET_TAG_MAX || t->ntags >= TICKET_MAX_TAGS ||
        !utf8_text_ok(s, n))
        return;
    char buf[TICKET_TAG_MAX + 1];
    for (size_t i = 0; i < n; i++)
        buf[i] = lower(s[i]);
    buf[n] = '\0';
    for (size_t i = 0; i < t->ntags; i++)
        if (strcmp(t->tags[i], buf) == 0)
            return;
    memcpy(t->tags[t->ntags++], buf, n + 1);
}

/* Tags in one string: split on commas or semicolons when there are any
 * ("billing, login issue"), else on blanks (Zendesk's "billing login"). */
static void add_tags_text(struct ticket *t, const char *s, size_t n)
{
    bool listy = memchr(s, ',', n) != NULL || memchr(s, ';', n) != NULL;
    size_t i = 0;
    while (i < n && t->ntags < TICKET_MAX_TAGS) {
        size_t j = i;
        while (j < n && !(listy ? s[j] == ',' || s[j] == ';' : is_ws(s[j])))
            j++;
        add_tag(t, s + i, j - i);
        i = j + 1;
    }
}

/* --- cJSON helpers -------------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key)
                             : NULL;
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *it = get(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Points *S at the text of a string item or of a whole, non-negative number
 * (written into NB). Returns 0, or -1 for anything else. */
static int item_text(const cJSON *it, char nb[24], const char **s, size_t *n)
{
    if (cJSON_IsString(it)) {
        *s = it->valuestring;
        *n = strlen(it->valuestring);
        return 0;
    }
    if (!cJSON_IsNumber(it))
        return -1;
    double d = it->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0))        /* 2^53 */
        return -1;
    uint64_t u = (uint64_t)d;
    if ((double)u != d)
        return -1;
    int len = snprintf(nb, 24, "%" PRIu64, u);
    *s = nb;
    *n = (size_t)len;
    return 0;
}

static int set_id_item(struct ticket *t, const cJSON *it, const char *name,
                       char *why, size_t whylen)
{
    char nb[24];
    const char *s;
    size_t n;
    if (it == NULL || cJSON_IsNull(it))
        return fail(why, whylen, "%s: missing", name);
    if (item_text(it, nb, &s, &n) != 0)
        return fail(why, whylen, "%s: not a string or a whole number", name);
    return set_id_text(t, s, n, name, why, whylen);
}

static int set_created_item(struct ticket *t, const cJSON *it,
                            const char *name, char *why, size_t whylen)
{
    if (it == NULL || cJSON_IsNull(it) ||
        (cJSON_IsString(it) && it->valuestring[0] == '\0'))
        return fail(why, whylen, "%s: missing", name);
    if (cJSON_IsString(it) &&
        parse_time_n(it->valuestring, strlen(it->valuestring),
                     &t->created_us) == 0)
        return 0;
    if (cJSON_IsNumber(it)) {                           /* Unix seconds */
        double d = it->valuedouble;
        if (d >= 0.0 && d <= (double)TIME_MAX_UNIX_SECS) {
            uint64_t u = (uint64_t)d;
            t->created_us = u * 1000000u + (uint64_t)((d - (double)u) * 1e6);
            return 0;
        }
    }
    return fail(why, whylen, "%s: %s", name, TIME_REASON);
}

static void requester_item(struct ticket *t, const cJSON *it)
{
    char nb[24];
    const char *s;
    size_t n;
    if (item_text(it, nb, &s, &n) == 0)
        set_requester(t, s, n);
}

static void email_item(struct ticket *t, const cJSON *it)
{
    if (cJSON_IsString(it))
        set_email(t, it->valuestring, strlen(it->valuestring));
}

static void channel_item(struct ticket *t, const cJSON *it)
{
    if (cJSON_IsString(it))
        set_channel(t, it->valuestring, strlen(it->valuestring));
}

/* Tags as an array of strings, of {"tag"} (Help Scout) or {"name"}
 * (Intercom) objects, as Intercom's {"tags":[…]} list, or as one string. */
static void tags_item(struct ticket *t, const cJSON *it)
{
    if (cJSON_IsString(it)) {
        add_tags_text(t, it->valuestring, strlen(it->valuestring));
        return;
    }
    if (cJSON_IsObject(it)) {
        tags_item(t, get(it, "tags"));
        return;
    }
    if (!cJSON_IsArray(it))
        return;
    const cJSON *e;
    cJSON_ArrayForEach(e, it) {
        if (t->ntags >= TICKET_MAX_TAGS)
            return;
        const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
        if (s == NULL)
            s = get_str(e, "tag");
        if (s == NULL)
            s = get_str(e, "name");
        if (s != NULL)
            add_tag(t, s, strlen(s));
    }
}

/* Freshdesk's numeric ticket source. */
static void freshdesk_source(struct ticket *t, const cJSON *it)
{
    static const struct { int code; const char *name; } sources[] = {
        { 1, "email" }, { 2, "portal" }, { 3, "phone" }, { 7, "chat" },
        { 9, "widget" }, { 10, "outbound-email" },
    };
    if (cJSON_IsString(it)) {
        channel_item(t, it);
        return;
    }
    if (!cJSON_IsNumber(it))
        return;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (it->valuedouble == sources[i].code) {
            set_channel(t, sources[i].name, strlen(sources[i].name));
            return;
        }
}

/* --- the link field ------------------------------------------------------- */

struct user_email {
    char id[24];
    char *email;
};

/* What a record's fields are matched against: the link field, and what a
 * Zendesk export side-loads beside its tickets. */
struct lookup {
    const char *field;          /* --link-field as given */
    size_t nfield;
    const char *bare;           /* the same without a "cf_" prefix */
    size_t nbare;
    char ids[MAX_LINK_IDS][24]; /* ids of ticket_fields titled like field */
    size_t nids;
    struct user_email *users;   /* users side-load, sorted by id */
    size_t nusers;
};

static void lookup_init(struct lookup *lk, const struct helpdesk_options *opt)
{
    memset(lk, 0, sizeof *lk);
    const char *f = opt != NULL && opt->link_field != NULL &&
                    opt->link_field[0] != '\0' ? opt->link_field
                                               : DEFAULT_LINK_FIELD;
    lk->field = lk->bare = f;
    lk->nfield = lk->nbare = strlen(f);
    trim(&lk->field, &lk->nfield);
    trim(&lk->bare, &lk->nbare);
    strip_cf(&lk->bare, &lk->nbare);
}

static void lookup_free_sideloads(struct lookup *lk)
{
    for (size_t i = 0; i < lk->nusers; i++)
        free(lk->users[i].email);
    free(lk->users);
    lk->users = NULL;
    lk->nusers = 0;
    lk->nids = 0;
}

/* A custom field's id or name (Zendesk ids, Help Scout names). */
static bool is_link_id(const struct lookup *lk, const char *s, size_t n)
{
    if (name_eq(s, n, lk->field, lk->nfield))
        return true;
    for (size_t i = 0; i < lk->nids; i++)
        if (strlen(lk->ids[i]) == n && memcmp(lk->ids[i], s, n) == 0)
            return true;
    return false;
}

/* A key of a custom-field object, "cf_" optional on either side. */
static bool is_link_key(const struct lookup *lk, const char *s, size_t n)
{
    strip_cf(&s, &n);
    return name_eq(s, n, lk->bare, lk->nbare);
}

static void link_item(struct ticket *t, const cJSON *it)
{
    char nb[24];
    const char *s;
    size_t n;
    if (t->link[0] == '\0' && item_text(it, nb, &s, &n) == 0)
        set_link(t, s, n);
}

/* [{"id":360001234,"value":"…"}] (Zendesk custom_fields and fields) or
 * [{"id","name","value","text"}] (Help Scout customFields). */
static void link_from_field_list(struct ticket *t, const cJSON *arr,
                                 const struct lookup *lk)
{
    if (!cJSON_IsArray(arr))
        return;
    const cJSON *f;
    cJSON_ArrayForEach(f, arr) {
        if (t->link[0] != '\0')
            return;
        if (!cJSON_IsObject(f))
            continue;
        char nb[24];
        const char *s;
        size_t n;
        const cJSON *id = get(f, "id");
        if (id == NULL)
            id = get(f, "fieldId");
        bool match = item_text(id, nb, &s, &n) == 0 && is_link_id(lk, s, n);
        const char *names[2] = { get_str(f, "name"), get_str(f, "title") };
        for (int i = 0; i < 2 && !match; i++)
            match = names[i] != NULL &&
                    is_link_key(lk, names[i], strlen(names[i]));
        if (!match)
            continue;
        link_item(t, get(f, "value"));
        link_item(t, get(f, "text"));
    }
}

/* {"cf_dwell_link":"…"} (Freshdesk custom_fields, Intercom
 * custom_attributes, and keys of a webhook's own ticket object). */
static void link_from_field_object(struct ticket *t, const cJSON *obj,
                                   const struct lookup *lk)
{
    if (!cJSON_IsObject(obj))
        return;
    const cJSON *f;
    cJSON_ArrayForEach(f, obj) {
        if (t->link[0] != '\0')
            return;
        if (f->string != NULL && is_link_key(lk, f->string, strlen(f->string)))
            link_item(t, f);
    }
}

/* The link field as a query parameter of a URL (Intercom's source.url: the
 * page the conversation started on). */
static void link_from_url(struct ticket *t, const char *url,
                          const struct lookup *lk)
{
    const char *q = url != NULL ? strchr(url, '?') : NULL;
    if (q == NULL)
        return;
    for (q++; *q != '\0' && *q != '#' && t->link[0] == '\0';) {
        size_t len = strcspn(q, "&#");
        const char *eq = memchr(q, '=', len);
        if (eq != NULL && is_link_key(lk, q, (size_t)(eq - q)))
            set_link(t, eq + 1, len - (size_t)(eq - q) - 1);
        q += len;
        if (*q == '&')
            q++;
    }
}

static int user_cmp(const void *a, const void *b)
{
    return strcmp(((const struct user_email *)a)->id,
                  ((const struct user_email *)b)->id);
}

static const char *user_email_of(const struct lookup *lk, const char *id)
{
    if (lk->nusers == 0 || strlen(id) >= 24)
        return NULL;
    struct user_email key;
    memcpy(key.id, id, strlen(id) + 1);
    const struct user_email *u =
        bsearch(&key, lk->users, lk->nusers, sizeof *lk->users, user_cmp);
    return u != NULL ? u->email : NULL;
}

/* --- records -------------------------------------------------------------- */

/* A ticket object: Zendesk (exports, the detail of a ticket.created event,
 * a trigger's {"ticket":{…}}), Freshdesk (exports, a plain ticket webhook)
 * and the generic webhook shape. TIME is the event's time, used when the
 * ticket has no created_at (may be NULL). */
static int parse_ticket_object(const cJSON *o, const struct lookup *lk,
                               const cJSON *time, struct ticket *t,
                               char *why, size_t whylen)
{
    if (set_id_item(t, get(o, "id"), "id", why, whylen) != 0)
        return -1;
    const cJSON *created = get(o, "created_at");
    if (created == NULL && time != NULL)
        created = time;
    if (set_created_item(t, created, "created_at", why, whylen) != 0)
        return -1;

    const cJSON *req = get(o, "requester"), *via = get(o, "via");
    requester_item(t, get(o, "requester_id"));
    if (cJSON_IsObject(req)) {
        requester_item(t, get(req, "id"));
        email_item(t, get(req, "email"));
    } else {
        requester_item(t, req);
    }
    email_item(t, get(o, "email"));
    email_item(t, get(o, "requester_email"));
    if (t->email[0] == '\0' && t->requester_id[0] != '\0') {
        const char *e = user_email_of(lk, t->requester_id);
        if (e != NULL)
            set_email(t, e, strlen(e));
    }
    if (t->email[0] == '\0')
        email_item(t, get(get(get(via, "source"), "from"), "address"));

    channel_item(t, get(o, "channel"));
    channel_item(t, cJSON_IsObject(via) ? get(via, "channel") : via);
    freshdesk_source(t, get(o, "source"));

    tags_item(t, get(o, "tags"));

    const cJSON *cf = get(o, "custom_fields");
    link_from_field_list(t, cf, lk);
    link_from_field_object(t, cf, lk);
    link_from_field_list(t, get(o, "fields"), lk);
    link_from_field_object(t, o, lk);
    link_item(t, get(o, "link"));
    return 0;
}

/* Freshdesk's {"freshdesk_webhook":{"ticket_id":…,…}}: the placeholders an
 * automation rule sends, each key "ticket_" + the placeholder's name. */
static int parse_freshdesk_webhook(const cJSON *w, const struct lookup *lk,
                                   struct ticket *t, char *why, size_t whylen)
{
    const cJSON *id = get(w, "ticket_id");
    const char *ids = cJSON_IsString(id) ? id->valuestring : NULL;
    if (ids != NULL && ids[0] == '#') {         /* "#123" is ticket 123 */
        if (set_id_text(t, ids + 1, strlen(ids + 1), "ticket_id", why,
                        whylen) != 0)
            return -1;
    } else if (set_id_item(t, id, "ticket_id", why, whylen) != 0) {
        return -1;
    }
    const cJSON *created = get(w, "ticket_created_at");
    if (created == NULL)
        created = get(w, "ticket_created_on");
    if (set_created_item(t, created, "ticket_created_at", why, whylen) != 0)
        return -1;
    requester_item(t, get(w, "ticket_requester_id"));
    requester_item(t, get(w, "ticket_contact_id"));
    email_item(t, get(w, "ticket_contact_email"));
    email_item(t, get(w, "ticket_requester_email"));
    email_item(t, get(w, "requester_email"));
    freshdesk_source(t, get(w, "ticket_source"));
    tags_item(t, get(w, "ticket_tags"));
    const cJSON *f;
    cJSON_ArrayForEach(f, w) {
        if (t->link[0] != '\0' || f->string == NULL ||
            strncmp(f->string, "ticket_", 7) != 0)
            continue;
        if (is_link_key(lk, f->string + 7, strlen(f->string + 7)))
            link_item(t, f);
    }
    return 0;
}

/* A Help Scout conversation (Mailbox API 2.0 and its webhooks). */
static int parse_helpscout(const cJSON *o, const struct lookup *lk,
                           struct ticket *t, char *why, size_t whylen)
{
    if (set_id_item(t, get(o, "id"), "id", why, whylen) != 0 ||
        set_created_item(t, get(o, "createdAt"), "createdAt", why,
                         whylen) != 0)
        return -1;
    const char *who[2] = { "customer", "primaryCustomer" };
    for (int i = 0; i < 2; i++) {
        const cJSON *c = get(o, who[i]);
        requester_item(t, get(c, "id"));
        email_item(t, get(c, "email"));
    }
    channel_item(t, get(get(o, "source"), "type"));
    channel_item(t, get(o, "type"));
    tags_item(t, get(o, "tags"));
    link_from_field_list(t, get(o, "customFields"), lk);
    return 0;
}

/* An Intercom conversation (REST API 2.x, and a notification's data.item). */
static int parse_intercom(const cJSON *o, const struct lookup *lk,
                          struct ticket *t, char *why, size_t whylen)
{
    if (set_id_item(t, get(o, "id"), "id", why, whylen) != 0 ||
        set_created_item(t, get(o, "created_at"), "created_at", why,
                         whylen) != 0)
        return -1;
    const cJSON *src = get(o, "source"), *author = get(src, "author");
    const char *type = get_str(src, "type");
    if (type != NULL && strcmp(type, "conversation") == 0)
        set_channel(t, "chat", 4);                      /* the Messenger */
    else if (type != NULL)
        set_channel(t, type, strlen(type));
    else
        channel_item(t, get(src, "delivered_as"));
    const char *atype = get_str(author, "type");
    if (atype == NULL || (strcmp(atype, "admin") != 0 &&
                          strcmp(atype, "bot") != 0 &&
                          strcmp(atype, "team") != 0)) {
        requester_item(t, get(author, "id"));
        email_item(t, get(author, "email"));
    }
    const cJSON *contacts = get(o, "contacts");
    if (cJSON_IsObject(contacts))
        contacts = get(contacts, "contacts");
    if (cJSON_IsArray(contacts))
        requester_item(t, get(cJSON_GetArrayItem(contacts, 0), "id"));
    requester_item(t, get(get(o, "user"), "id"));
    email_item(t, get(get(o, "user"), "email"));
    tags_item(t, get(o, "tags"));
    link_from_field_object(t, get(o, "custom_attributes"), lk);
    if (t->link[0] == '\0')
        link_from_url(t, get_str(src, "url"), lk);
    return 0;
}

static int parse_record(enum helpdesk_format format, const cJSON *o,
                        const struct lookup *lk, struct ticket *t, char *why,
                        size_t whylen)
{
    switch (format) {
    case HELPDESK_HELPSCOUT_JSON:
        return parse_helpscout(o, lk, t, why, whylen);
    case HELPDESK_INTERCOM_JSON:
        return parse_intercom(o, lk, t, why, whylen);
    default:
        return parse_ticket_object(o, lk, NULL, t, why, whylen);
    }
}

/* --- exports -------------------------------------------------------------- */

struct exporter {
    enum helpdesk_format format;
    struct lookup lk;
    helpdesk_ticket_fn on_ticket;
    helpdesk_error_fn on_error;
    void *ctx;
    int count;
    bool stop;
};

static void ex_error(struct exporter *ex, const char *where, const char *why)
{
    if (ex->on_error != NULL)
        ex->on_error(ex->ctx, where, why);
}

static void ex_ticket(struct exporter *ex, const struct ticket *t)
{
    if (ex->count < INT_MAX)
        ex->count++;
    if (ex->on_ticket != NULL && ex->on_ticket(ex->ctx, t) != 0)
        ex->stop = true;
}

static void ex_record(struct exporter *ex, const char *where, struct jspan v)
{
    if (ex->stop)
        return;
    if (v.p[0] != '{') {
        ex_error(ex, where, "not an object");
        return;
    }
    cJSON *o = cJSON_ParseWithLength(v.p, v.n);
    if (o == NULL) {
        ex_error(ex, where, "cannot be read (out of memory)");
        return;
    }
    struct ticket t;
    char why[WHY_MAX];
    memset(&t, 0, sizeof t);
    int rc = parse_record(ex->format, o, &ex->lk, &t, why, sizeof why);
    cJSON_Delete(o);
    if (rc != 0)
        ex_error(ex, where, why);
    else
        ex_ticket(ex, &t);
}

static void ex_array(struct exporter *ex, struct jspan arr, const char *prefix,
                     const char *name)
{
    struct jscan_iter it;
    struct jspan v;
    char where[128];
    size_t i = 0;
    jscan_iter_init(&it, arr);
    while (!ex->stop && jscan_next(&it, NULL, &v)) {
        snprintf(where, sizeof where, "%s%s%s[%zu]", prefix,
                 prefix[0] != '\0' ? ": " : "", name, i++);
        ex_record(ex, where, v);
    }
}

/* Reads Zendesk's side-loads beside the tickets: "users" (for requester
 * e-mails) and "ticket_fields" (so --link-field may name a field by its
 * title). Best effort: what cannot be read is left out. */
static void ex_sideloads(struct exporter *ex, struct jspan users,
                         struct jspan fields)
{
    struct lookup *lk = &ex->lk;
    struct jspan v;
    struct jscan_iter it;
    size_t cap = 0;
    if (jscan_is(users, '[')) {
        jscan_iter_init(&it, users);
        while (jscan_next(&it, NULL, &v) && lk->nusers < MAX_USERS) {
            cJSON *u = v.p[0] == '{' ? cJSON_ParseWithLength(v.p, v.n) : NULL;
            char nb[24], e[TICKET_EMAIL_MAX + 1];
            const char *s, *mail = get_str(u, "email");
            size_t n;
            if (u != NULL && item_text(get(u, "id"), nb, &s, &n) == 0 &&
                n < 24 && mail != NULL && email_norm(mail, strlen(mail), e)) {
                if (lk->nusers == cap) {
                    size_t ncap = cap ? cap * 2 : 64;
                    void *m = realloc(lk->users, ncap * sizeof *lk->users);
                    if (m == NULL) {
                        cJSON_Delete(u);
                        break;
                    }
                    lk->users = m;
                    cap = ncap;
                }
                struct user_email *ue = &lk->users[lk->nusers];
                if ((ue->email = strdup(e)) != NULL) {
                    memcpy(ue->id, s, n);
                    ue->id[n] = '\0';
                    lk->nusers++;
                }
            }
            cJSON_Delete(u);
        }
        if (lk->nusers > 1)
            qsort(lk->users, lk->nusers, sizeof *lk->users, user_cmp);
    }
    if (jscan_is(fields, '[')) {
        jscan_iter_init(&it, fields);
        while (jscan_next(&it, NULL, &v) && lk->nids < MAX_LINK_IDS) {
            cJSON *f = v.p[0] == '{' ? cJSON_ParseWithLength(v.p, v.n) : NULL;
            const char *names[2] = { get_str(f, "title"),
                                     get_str(f, "raw_title") };
            char nb[24];
            const char *s;
            size_t n;
            for (int i = 0; i < 2; i++)
                if (names[i] != NULL &&
                    is_link_key(lk, names[i], strlen(names[i])) &&
                    item_text(get(f, "id"), nb, &s, &n) == 0 && n < 24) {
                    memcpy(lk->ids[lk->nids], s, n);
                    lk->ids[lk->nids++][n] = '\0';
                    break;
                }
            cJSON_Delete(f);
        }
    }
}

/* Calls ex_record for each record ROOT holds. PREFIX says where ROOT is
 * ("" for a whole file, "line 7" in NDJSON). Returns 0, or -1 with WHY when
 * ROOT holds nothing this format knows. */
static int ex_root(struct exporter *ex, struct jspan root, const char *prefix,
                   char *why, size_t whylen)
{
    enum { K_TICKETS, K_RESULTS, K_TICKET, K_EMBEDDED, K_CONVERSATIONS, K_ID,
           K_USERS, K_FIELDS, K_COUNT };
    static const char *const keys[K_COUNT] = {
        "tickets", "results", "ticket", "_embedded", "conversations", "id",
        "users", "ticket_fields"
    };
    static const char *const conv_keys[1] = { "conversations" };
    struct jspan m[K_COUNT], v;
    enum helpdesk_format f = ex->format;
    bool zd = f == HELPDESK_ZENDESK_JSON;
    bool conv = f == HELPDESK_HELPSCOUT_JSON || f == HELPDESK_INTERCOM_JSON;
    if (root.p[0] == '[') {
        ex_array(ex, root, prefix, "");
        return 0;
    }
    if (root.p[0] != '{')
        return fail(why, whylen, "expected a JSON object or array");
    jscan_members(root, keys, K_COUNT, m);
    if (zd)
        ex_sideloads(ex, m[K_USERS], m[K_FIELDS]);
    int rc = 0;
    if (!conv && jscan_is(m[K_TICKETS], '['))
        ex_array(ex, m[K_TICKETS], prefix, "tickets");
    else if (zd && jscan_is(m[K_RESULTS], '['))
        ex_array(ex, m[K_RESULTS], prefix, "results");
    else if (!conv && jscan_is(m[K_TICKET], '{'))
        ex_record(ex, prefix[0] != '\0' ? prefix : "ticket", m[K_TICKET]);
    else if (f == HELPDESK_HELPSCOUT_JSON && jscan_is(m[K_EMBEDDED], '{') &&
             (jscan_members(m[K_EMBEDDED], conv_keys, 1, &v), jscan_is(v, '[')))
        ex_array(ex, v, prefix, "_embedded.conversations");
    else if (conv && jscan_is(m[K_CONVERSATIONS], '['))
        ex_array(ex, m[K_CONVERSATIONS], prefix, "conversations");
    else if (m[K_ID].n > 0)                             /* one record */
        ex_record(ex, prefix[0] != '\0' ? prefix : conv ? "conversation"
                                                        : "ticket", root);
    else if (zd)
        rc = fail(why, whylen, "no \"tickets\" array or \"ticket\" object");
    else if (f == HELPDESK_HELPSCOUT_JSON)
        rc = fail(why, whylen, "no \"_embedded.conversations\" array");
    else if (f == HELPDESK_INTERCOM_JSON)
        rc = fail(why, whylen, "no \"conversations\" array");
    else
        rc = fail(why, whylen, "no \"tickets\" array");
    lookup_free_sideloads(&ex->lk);
    return rc;
}

static int whole_fail(struct exporter *ex, const char *where, const char *why)
{
    ex_error(ex, where, why);
    return -1;
}

static int json_fail(struct exporter *ex, const char *data, const char *end,
                     const struct jscan_err *err)
{
    char where[64], why[WHY_MAX];
    jscan_where(data, err->at, where, sizeof where);
    snprintf(why, sizeof why, "%s JSON: %s",
             err->at >= end ? "truncated" : "not", err->what);
    return whole_fail(ex, where, why);
}

/* Newline-delimited JSON (Zendesk's full JSON export): one value a line;
 * a line that is not JSON is one bad record. */
static int parse_ndjson(struct exporter *ex, const char *p, const char *e)
{
    size_t line = 1;
    while (p < e && !ex->stop) {
        const char *eol = memchr(p, '\n', (size_t)(e - p));
        if (eol == NULL)
            eol = e;
        const char *s = jscan_ws(p, eol);
        if (s < eol) {
            char where[32], why[WHY_MAX];
            struct jscan_err err;
            snprintf(where, sizeof where, "line %zu", line);
            const char *q = jscan_value(s, eol, &err);
            if (q != NULL && jscan_ws(q, eol) != eol)
                q = jscan_fail(&err, jscan_ws(q, eol), "text after the value");
            if (q == NULL) {
                snprintf(why, sizeof why, "%s JSON: %s (column %zu)",
                         err.at >= eol ? "truncated" : "not", err.what,
                         (size_t)(err.at - p) + 1);
                ex_error(ex, where, why);
            } else if (ex_root(ex, (struct jspan){ s, (size_t)(q - s) }, where,
                               why, sizeof why) != 0) {
                ex_error(ex, where, why);
            }
        }
        p = eol + 1;
        line++;
    }
    return ex->count;
}

static const char *skip_bom(const char *p, const char *e)
{
    if (e - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        return p + 3;
    return p;
}

static int parse_json_export(struct exporter *ex, const char *data,
                             size_t len)
{
    const char *e = data + len, *p = jscan_ws(skip_bom(data, e), e);
    if (p == e)
        return whole_fail(ex, "whole file", "empty file");
    struct jscan_err err;
    const char *q = jscan_value(p, e, &err);
    if (q == NULL)
        return json_fail(ex, data, e, &err);
    const char *r = jscan_ws(q, e);
    if (r < e) {
        /* More after the first value: NDJSON when that value is one line. */
        if (memchr(p, '\n', (size_t)(q - p)) != NULL ||
            memchr(q, '\n', (size_t)(r - q)) == NULL) {
            err.at = r;
            err.what = "text after the end of the JSON value";
            return json_fail(ex, data, e, &err);
        }
        return parse_ndjson(ex, skip_bom(data, e), e);
    }
    char why[WHY_MAX];
    if (ex_root(ex, (struct jspan){ p, (size_t)(q - p) }, "", why,
                sizeof why) != 0)
        return whole_fail(ex, "whole file", why);
    return ex->count;
}

/* --- CSV ------------------------------------------------------------------ */

enum { F_ID, F_CREATED, F_LINK, F_REQUESTER, F_EMAIL, F_CHANNEL, F_TAGS,
       F_COUNT };

static const char *const field_names[F_COUNT] = {
    "id", "created_at", "link", "requester", "email", "channel", "tags"
};

struct csv_header {
    size_t n;
    char **names;               /* unquoted, into one allocation */
    char *arena;
    int col[F_COUNT];           /* column of each field, or -1 */
};

static void header_free(struct csv_header *h)
{
    free(h->names);
    free(h->arena);
}

static int header_read(struct csv_header *h, const struct csv_field *f,
                       size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += f[i].n + 1;
    h->n = n;
    h->names = calloc(n, sizeof *h->names);
    h->arena = malloc(total + 1);
    if (h->names == NULL || h->arena == NULL)
        return -1;
    char *a = h->arena;
    for (size_t i = 0; i < n; i++) {
        bool cut;
        h->names[i] = a;
        a += csv_value(f[i], a, f[i].n + 1, &cut) + 1;
    }
    for (int i = 0; i < F_COUNT; i++)
        h->col[i] = -1;
    return 0;
}

/* The column named NAME (case and ' '/'_' aside, and a trailing " [type]"
 * of the header ignored), or -1. */
static int header_find(const struct csv_header *h, const char *name,
                       size_t n)
{
    for (size_t i = 0; i < h->n; i++) {
        const char *s = h->names[i];
        size_t sn = strlen(s);
        if (name_eq(s, sn, name, n))
            return (int)i;
        strip_type(&s, &sn);
        if (name_eq(s, sn, name, n))
            return (int)i;
    }
    return -1;
}

/* A column name that means FIELD. */
struct col_name {
    int field;
    const char *name;
};

/* Gives each field of H still without a column the first of COLS (N of
 * them) that names one of H's columns. */
static void header_fill(struct csv_header *h, const struct col_name *cols,
                        size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (h->col[cols[i].field] < 0)
            h->col[cols[i].field] =
                header_find(h, cols[i].name, strlen(cols[i].name));
}

/* Zendesk's CSV export columns (and those of its views and Explore). */
static void header_zendesk(struct csv_header *h)
{
    static const struct col_name cols[] = {
        { F_ID, "Id" },               { F_ID, "Ticket ID" },
        { F_CREATED, "Created at" },  { F_CREATED, "Requested" },
        { F_CREATED, "Created" },
        { F_REQUESTER, "Requester id" },
        { F_EMAIL, "Requester email" },
        { F_CHANNEL, "Via" },         { F_CHANNEL, "Channel" },
        { F_TAGS, "Tags" },
    };
    header_fill(h, cols, sizeof cols / sizeof cols[0]);
}

/* Applies --map COLUMN=FIELD entries. Returns 0, or -1 with WHY. */
static int header_map(struct csv_header *h, const struct helpdesk_options *opt,
                      char *why, size_t whylen)
{
    char sb[SHOWN_MAX + 4];
    for (size_t i = 0; opt != NULL && i < opt->nmap; i++) {
        const char *m = opt->map[i];
        if (m == NULL)
            continue;
        const char *eq = strrchr(m, '=');
        if (eq == NULL || eq == m)
            return fail(why, whylen, "--map \"%s\": expected COLUMN=FIELD",
                        shown(m, strlen(m), sb));
        const char *fs = eq + 1;
        size_t fn = strlen(fs);
        int field = -1;
        for (int k = 0; k < F_COUNT && field < 0; k++)
            if (name_eq(fs, fn, field_names[k], strlen(field_names[k])))
                field = k;
        if (field < 0 && name_eq(fs, fn, "requester_id", 12))
            field = F_REQUESTER;
        if (field < 0)
            return fail(why, whylen, "--map \"%s\": the field is one of id, "
                        "created_at, link, requester, email, channel, tags",
                        shown(m, strlen(m), sb));
        int col = header_find(h, m, (size_t)(eq - m));
        if (col < 0)
            return fail(why, whylen, "--map \"%s\": no such column in the "
                        "header row", shown(m, strlen(m), sb));
        h->col[field] = col;
    }
    return 0;
}

/* The cell of field FIELD in a row, unquoted into BUF. */
static size_t csv_cell(const struct csv_header *h, int field,
                       const struct csv_field *f, size_t nf, char *buf,
                       size_t cap, bool *cut)
{
    int c = h->col[field];
    *cut = false;
    buf[0] = '\0';
    if (c < 0 || (size_t)c >= nf || (size_t)c >= h->n)
        return 0;
    return csv_value(f[c], buf, cap, cut);
}

static int csv_row(const struct csv_header *h, const struct csv_field *f,
                   size_t nf, struct ticket *t, char *why, size_t whylen)
{
    char buf[4096], sb[SHOWN_MAX + 4];
    bool cut;
    size_t n;
    const char *hid = h->names[h->col[F_ID]];
    const char *hcr = h->names[h->col[F_CREATED]];

    n = csv_cell(h, F_ID, f, nf, buf, TICKET_ID_MAX * 4, &cut);
    if (cut)
        return fail(why, whylen, "%s: longer than %d bytes",
                    shown(hid, strlen(hid), sb), TICKET_ID_MAX);
    if (set_id_text(t, buf, n, shown(hid, strlen(hid), sb), why, whylen) != 0)
        return -1;

    n = csv_cell(h, F_CREATED, f, nf, buf, 128, &cut);
    const char *s = buf;
    trim(&s, &n);
    if (n == 0 && !cut)
        return fail(why, whylen, "%s: missing", shown(hcr, strlen(hcr), sb));
    if (cut || parse_time_n(s, n, &t->created_us) != 0)
        return fail(why, whylen, "%s: %s", shown(hcr, strlen(hcr), sb),
                    TIME_REASON);

    if ((n = csv_cell(h, F_LINK, f, nf, buf, 256, &cut)) > 0 && !cut)
        set_link(t, buf, n);
    if ((n = csv_cell(h, F_REQUESTER, f, nf, buf, 256, &cut)) > 0 && !cut)
        set_requester(t, buf, n);
    if ((n = csv_cell(h, F_EMAIL, f, nf, buf, 512, &cut)) > 0 && !cut)
        set_email(t, buf, n);
    if ((n = csv_cell(h, F_CHANNEL, f, nf, buf, 128, &cut)) > 0 && !cut)
        set_channel(t, buf, n);
    if ((n = csv_cell(h, F_TAGS, f, nf, buf, sizeof buf, &cut)) > 0) {
        if (cut)                        /* drop the tag cut in the middle */
            while (n > 0 && !is_ws(buf[n - 1]) && buf[n - 1] != ',' &&
                   buf[n - 1] != ';')
                n--;
        add_tags_text(t, buf, n);
    }
    return 0;
}

/* The names a generic CSV's columns may already have, per field (matched
 * as name_eq does, so "Created at" is "created_at"): no --map needed. */
static void header_generic(struct csv_header *h)
{
    static const struct col_name cols[] = {
        { F_ID, "id" },                 { F_ID, "ticket_id" },
        { F_CREATED, "created_at" },    { F_CREATED, "created" },
        { F_LINK, "link" },             { F_LINK, "dwell_link" },
        { F_REQUESTER, "requester" },   { F_REQUESTER, "requester_id" },
        { F_EMAIL, "email" },           { F_EMAIL, "requester_email" },
        { F_CHANNEL, "channel" },       { F_CHANNEL, "via" },
        { F_TAGS, "tags" },
    };
    header_fill(h, cols, sizeof cols / sizeof cols[0]);
}

/* True when cell S looks like data rather than a column name: it holds
 * '@' or a digit (an id, a date, an address). */
static bool looks_like_data(const char *s)
{
    for (; *s; s++)
        if (*s == '@' || is_digit(*s))
            return true;
    return false;
}

/* Writes to WHY that the required columns are missing: which, and the
 * first row found, its names cut to fit — unless a cell of it looks like
 * data (never quoted: a data row may hold e-mail addresses or names).
 * Returns -1. */
static int header_missing(const struct csv_header *h, bool zendesk,
                          char *why, size_t whylen)
{
    char found[160];
    size_t at = 0;
    bool data = false;
    for (size_t i = 0; i < h->n; i++)
        data = data || looks_like_data(h->names[i]);
    snprintf(found, sizeof found, "%s", data ? "the first row looks like "
             "data, not names" : "the header row has ");
    at = strlen(found);
    for (size_t i = 0; !data && i < h->n && at + 4 < sizeof found; i++) {
        char sb[SHOWN_MAX + 4];
        const char *name = h->names[i];
        int n = snprintf(found + at, sizeof found - at, "%s\"%s\"",
                         i ? ", " : "", shown(name, strlen(name), sb));
        if (n < 0 || (size_t)n >= sizeof found - at) {
            snprintf(found + at, sizeof found - at, ", …");
            break;
        }
        at += (size_t)n;
    }
    bool no_id = h->col[F_ID] < 0, no_created = h->col[F_CREATED] < 0;
    const char *id = zendesk ? "\"Id\"" : "\"id\"";
    const char *cr = zendesk ? "\"Created at\"" : "\"created_at\"";
    return fail(why, whylen, "no header row with %s%s%s%s column (%s); name "
                "%s with --map COLUMN=%s%s",
                no_id ? "an " : "a ", no_id ? id : "",
                no_id && no_created ? " and a " : "",
                no_created ? cr : "", found,
                no_id && no_created ? "them" : "it",
                no_id ? "id" : "created_at",
                no_id && no_created ? " --map COLUMN=created_at" : "");
}

/* Finds the columns of the fields in the header row F[0..N): the
 * format's own names, the link column, then --map. Returns 0, or -1 with
 * WHY. */
static int header_setup(struct exporter *ex, const struct helpdesk_options *opt,
                        struct csv_header *h, const struct csv_field *f,
                        size_t n, char *why, size_t whylen)
{
    if (header_read(h, f, n) != 0)
        return fail(why, whylen, "out of memory");
    if (ex->format == HELPDESK_ZENDESK_CSV)
        header_zendesk(h);
    h->col[F_LINK] = header_find(h, ex->lk.field, ex->lk.nfield);
    if (ex->format == HELPDESK_CSV)
        header_generic(h);
    if (header_map(h, opt, why, whylen) != 0)
        return -1;
    if (h->col[F_ID] < 0 || h->col[F_CREATED] < 0)
        return header_missing(h, ex->format == HELPDESK_ZENDESK_CSV, why,
                              whylen);
    return 0;
}

/* A window over a CSV file read in chunks: every record handed out is
 * whole in BUF; the window grows only for a record longer than a chunk,
 * up to CSV_RECORD_MAX. Memory: about one chunk, whatever the file. */
#define CSV_CHUNK      (1u << 20)
#define CSV_RECORD_MAX (16u << 20)

struct csv_window {
    FILE *in;
    char *buf;
    size_t len, cap;            /* bytes held, allocated */
    size_t pos;                 /* where the next record starts */
    size_t line;                /* the line at POS */
    bool eof, started;
};

enum { WIN_UNCLOSED = -1, WIN_READ = -2, WIN_LONG = -3, WIN_MEMORY = -4 };

/* Moves the unread bytes to the front and reads more. Returns 0, or a
 * WIN_* failure. */
static int window_fill(struct csv_window *w)
{
    if (w->pos > 0) {
        memmove(w->buf, w->buf + w->pos, w->len - w->pos);
        w->len -= w->pos;
        w->pos = 0;
    }
    if (w->cap - w->len < CSV_CHUNK / 2) {
        size_t ncap = w->cap ? w->cap * 2 : CSV_CHUNK;
        if (ncap > CSV_RECORD_MAX + CSV_CHUNK)
            return WIN_LONG;
        char *m = realloc(w->buf, ncap);
        if (m == NULL)
            return WIN_MEMORY;
        w->buf = m;
        w->cap = ncap;
    }
    size_t got = fread(w->buf + w->len, 1, w->cap - w->len, w->in);
    w->len += got;
    if (got == 0 && ferror(w->in))
        return WIN_READ;
    if (got == 0)
        w->eof = true;
    if (!w->started && (w->len >= 3 || w->eof)) {
        w->started = true;
        if (w->len >= 3 && memcmp(w->buf, "\xEF\xBB\xBF", 3) == 0)
            w->pos = 3;
    }
    return 0;
}

/* csv_next over the window: 1 with a whole record in F (valid until the
 * next call), 0 at the end of the file, or a WIN_* failure (*START then
 * says the line where the record began). */
static int window_next(struct csv_window *w, struct csv_field *f, size_t max,
                       size_t *nf, size_t *start)
{
    for (;;) {
        if (w->started) {
            struct csv c = { w->buf + w->pos, w->buf + w->len, w->line };
            int rc = csv_next(&c, f, max, nf, start);
            if (rc == 1 && (c.p < c.e || w->eof)) {
                w->pos = (size_t)(c.p - w->buf);
                w->line = c.line;
                return 1;
            }
            if (w->eof)
                return rc == 0 ? 0 : WIN_UNCLOSED;
        }
        *start = w->line;
        int rc = window_fill(w);
        if (rc != 0)
            return rc;
    }
}

/* Reports the window failure RC at line LINE as the whole file's. */
static int window_fail(struct exporter *ex, int rc, size_t line)
{
    char where[64], why[WHY_MAX];
    snprintf(where, sizeof where, "line %zu", line);
    switch (rc) {
    case WIN_UNCLOSED:
        return whole_fail(ex, where, "a quoted field is never closed");
    case WIN_LONG:
        snprintf(why, sizeof why, "a record longer than %u MiB (or a quote "
                 "never closed)", CSV_RECORD_MAX >> 20);
        return whole_fail(ex, where, why);
    case WIN_MEMORY:
        return whole_fail(ex, where, "out of memory");
    default:
        return whole_fail(ex, "whole file", "read error");
    }
}

/* Pass 1: every quote of the file IN closes (so that a broken file stores
 * nothing), then IN is rewound. A file that cannot be rewound (a pipe) is
 * not checked ahead. Returns 0, or -1 (reported). */
static int csv_check_whole(struct exporter *ex, FILE *in)
{
    long at = ftell(in);
    if (at < 0)
        return 0;
    struct csv_window w = { .in = in, .line = 1 };
    size_t nf, line = 1;
    int rc;
    while ((rc = window_next(&w, NULL, 0, &nf, &line)) == 1)
        ;
    free(w.buf);
    if (rc != 0)
        return window_fail(ex, rc, line);
    if (fseek(in, at, SEEK_SET) != 0)
        return whole_fail(ex, "whole file", "cannot read it twice");
    return 0;
}

/* Reads the CSV file IN record by record: the header row, then each row
 * to a ticket or an error. Returns the usable records, or -1 (reported). */
static int parse_csv_file(struct exporter *ex,
                          const struct helpdesk_options *opt, FILE *in)
{
    if (csv_check_whole(ex, in) != 0)
        return -1;
    struct csv_window w = { .in = in, .line = 1 };
    struct csv_field *f = malloc(CSV_MAX_COLUMNS * sizeof *f);
    struct csv_header h;
    size_t nf, line = 1;
    char where[64], why[WHY_MAX];
    int rc;
    memset(&h, 0, sizeof h);
    if (f == NULL)
        return whole_fail(ex, "whole file", "out of memory");

    /* The header: the first record that is not blank. */
    while ((rc = window_next(&w, f, CSV_MAX_COLUMNS, &nf, &line)) == 1 &&
           csv_blank_record(f, nf))
        ;
    snprintf(where, sizeof where, "line %zu", line);
    if (rc == 0) {
        rc = whole_fail(ex, "whole file", "empty file");
    } else if (rc < 0) {
        rc = window_fail(ex, rc, line);
    } else if (nf > CSV_MAX_COLUMNS) {
        snprintf(why, sizeof why, "more than %d columns", CSV_MAX_COLUMNS);
        rc = whole_fail(ex, where, why);
    } else if (header_setup(ex, opt, &h, f, nf, why, sizeof why) != 0) {
        rc = whole_fail(ex, where, why);
    } else {
        rc = 0;
    }
    while (rc == 0 && !ex->stop) {
        int got = window_next(&w, f, CSV_MAX_COLUMNS, &nf, &line);
        if (got <= 0) {
            rc = got == 0 ? 0 : window_fail(ex, got, line);
            break;
        }
        if (csv_blank_record(f, nf))
            continue;
        struct ticket t;
        memset(&t, 0, sizeof t);
        if (csv_row(&h, f, nf, &t, why, sizeof why) != 0) {
            snprintf(where, sizeof where, "line %zu", line);
            ex_error(ex, where, why);
        } else {
            ex_ticket(ex, &t);
        }
    }
    header_free(&h);
    free(f);
    free(w.buf);
    return rc < 0 ? -1 : ex->count;
}

/* A CSV export in memory: read through the same window as a file. */
static int parse_csv_buffer(struct exporter *ex,
                            const struct helpdesk_options *opt,
                            const char *data, size_t len)
{
    if (len == 0)
        return whole_fail(ex, "whole file", "empty file");
    FILE *in = fmemopen((void *)(uintptr_t)data, len, "r");
    if (in == NULL)
        return whole_fail(ex, "whole file", "out of memory");
    int rc = parse_csv_file(ex, opt, in);
    fclose(in);
    return rc;
}

int helpdesk_parse_export(enum helpdesk_format format, const char *data,
                          size_t len, const struct helpdesk_options *opt,
                          helpdesk_ticket_fn ticket, helpdesk_error_fn error,
                          void *ctx)
{
    struct exporter ex;
    memset(&ex, 0, sizeof ex);
    ex.format = format;
    ex.on_ticket = ticket;
    ex.on_error = error;
    ex.ctx = ctx;
    lookup_init(&ex.lk, opt);
    if (data == NULL)
        data = "", len = 0;
    switch (format) {
    case HELPDESK_ZENDESK_JSON:
    case HELPDESK_FRESHDESK_JSON:
    case HELPDESK_HELPSCOUT_JSON:
    case HELPDESK_INTERCOM_JSON:
        return parse_json_export(&ex, data, len);
    case HELPDESK_ZENDESK_CSV:
    case HELPDESK_CSV:
        return parse_csv_buffer(&ex, opt, data, len);
    }
    return whole_fail(&ex, "whole file", "unknown format");
}

/* Reads all of IN into a new buffer (NUL-terminated), *LEN bytes. Returns
 * NULL when it cannot be read or memory runs out. */
static char *read_all(FILE *in, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b != NULL) {
        n += fread(b + n, 1, cap - n - 1, in);
        if (ferror(in))
            break;
        if (feof(in)) {
            b[n] = '\0';
            *len = n;
            return b;
        }
        char *m = cap < SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
        if (m == NULL)
            break;
        b = m;
        cap *= 2;
    }
    free(b);
    return NULL;
}

int helpdesk_parse_file(enum helpdesk_format format, FILE *in,
                        const struct helpdesk_options *opt,
                        helpdesk_ticket_fn ticket, helpdesk_error_fn error,
                        void *ctx)
{
    if (format == HELPDESK_ZENDESK_CSV || format == HELPDESK_CSV) {
        struct exporter ex;
        memset(&ex, 0, sizeof ex);
        ex.format = format;
        ex.on_ticket = ticket;
        ex.on_error = error;
        ex.ctx = ctx;
        lookup_init(&ex.lk, opt);
        return parse_csv_file(&ex, opt, in);
    }
    size_t len;
    char *data = read_all(in, &len);
    if (data == NULL) {
        if (error != NULL)
            error(ctx, "whole file", "cannot be read (read error or out of "
                  "memory)");
        return -1;
    }
    int rc = helpdesk_parse_export(format, data, len, opt, ticket, error,
                                   ctx);
    free(data);
    return rc;
}

/* --- webhooks ------------------------------------------------------------- */

int helpdesk_parse_webhook(const char *body, size_t len,
                           const struct helpdesk_options *opt,
                           struct ticket *out, char *err, size_t errlen)
{
    struct lookup lk;
    lookup_init(&lk, opt);
    memset(out, 0, sizeof *out);
    if (body == NULL || len == 0)
        return fail(err, errlen, "empty body");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root == NULL)
        return fail(err, errlen, "not JSON (near byte %td)",
                    end != NULL ? end - body : (ptrdiff_t)0);
    while (end < body + len && is_ws(*end))
        end++;
    int rc;
    const char *type = get_str(root, "type");
    const cJSON *x;
    char sb[SHOWN_MAX + 4];
    if (end != body + len) {
        rc = fail(err, errlen, "text after the JSON value at byte %td",
                  end - body);
    } else if (!cJSON_IsObject(root)) {
        rc = fail(err, errlen, "expected a JSON object");
    } else if (type != NULL && strncmp(type, "zen:event-type:", 15) == 0) {
        if (strcmp(type, "zen:event-type:ticket.created") != 0)
            rc = fail(err, errlen, "%s: not a ticket.created event",
                      shown(type, strlen(type), sb));
        else if (!cJSON_IsObject(x = get(root, "detail")))
            rc = fail(err, errlen, "detail: missing");
        else
            rc = parse_ticket_object(x, &lk, get(root, "time"), out, err,
                                     errlen);
    } else if (cJSON_IsObject(x = get(root, "freshdesk_webhook"))) {
        rc = parse_freshdesk_webhook(x, &lk, out, err, errlen);
    } else if (cJSON_IsObject(x = get(root, "ticket"))) {
        rc = parse_ticket_object(x, &lk, NULL, out, err, errlen);
    } else if (type != NULL && strcmp(type, "notification_event") == 0) {
        x = get(get(root, "data"), "item");
        rc = cJSON_IsObject(x) ? parse_intercom(x, &lk, out, err, errlen)
                               : fail(err, errlen, "data.item: missing");
    } else if (get(root, "createdAt") != NULL ||
               cJSON_IsObject(get(root, "customer")) ||
               cJSON_IsObject(get(root, "primaryCustomer"))) {
        rc = parse_helpscout(root, &lk, out, err, errlen);
    } else if (type != NULL && strcmp(type, "conversation") == 0) {
        rc = parse_intercom(root, &lk, out, err, errlen);
    } else {
        rc = parse_ticket_object(root, &lk, NULL, out, err, errlen);
    }
    cJSON_Delete(root);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int helpdesk_helpscout_signature_ok(const char *body, size_t len,
                                    const char *secret, const char *signature)
{
    if (secret == NULL || secret[0] == '\0' || signature == NULL)
        return 0;
    if (body == NULL)
        body = "", len = 0;
    uint8_t mac[CRYPTO_SHA1_LEN];
    char want[CRYPTO_BASE64_LEN(CRYPTO_SHA1_LEN) + 1];
    crypto_hmac(CRYPTO_SHA1, secret, strlen(secret), body, len, mac);
    if (crypto_base64(mac, sizeof mac, want, sizeof want) != 28)
        return 0;
    const char *s = signature;
    size_t n = strlen(s);
    trim(&s, &n);
    return n == 28 && crypto_equal(s, want, 28);
}

int helpdesk_format_of(const char *name, enum helpdesk_format *out)
{
    static const struct { const char *name; enum helpdesk_format f; } fs[] = {
        { "zendesk-json", HELPDESK_ZENDESK_JSON },
        { "zendesk-csv", HELPDESK_ZENDESK_CSV },
        { "freshdesk-json", HELPDESK_FRESHDESK_JSON },
        { "helpscout-json", HELPDESK_HELPSCOUT_JSON },
        { "intercom-json", HELPDESK_INTERCOM_JSON },
        { "csv", HELPDESK_CSV },
    };
    for (size_t i = 0; name != NULL && i < sizeof fs / sizeof fs[0]; i++)
        if (strcmp(name, fs[i].name) == 0) {
            *out = fs[i].f;
            return 0;
        }
    return -1;
}
