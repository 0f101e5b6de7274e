/* event.h — what one reader's browser tells dwell: parsing the wire format
 * (JSON beacons and pixel query strings), validating and normalising each
 * field, and the compact binary encoding the store keeps.
 *
 * A parsed event's strings point into the batch's own arena; an event decoded
 * from a record points into that record. Nothing here allocates beyond the
 * transient cJSON tree, and nothing here knows HTTP or LMDB. */
#ifndef DWELL_EVENT_H
#define DWELL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum event_type {
    EVENT_VIEW = 1,
    EVENT_ENGAGE,
    EVENT_VOTE,
    EVENT_SEARCH,
    EVENT_LINK,
    EVENT_IDENTIFY,
    EVENT_CUSTOM
};

enum {
    EVENT_FLAG_BOT = 1,        /* a bot by any sign; reports leave it out */
    EVENT_FLAG_AUTOMATED = 2,  /* the snippet saw navigator.webdriver */
    EVENT_FLAG_PIXEL = 4,      /* came through GET /p.gif */
    EVENT_FLAG_WIRE2 = 8,      /* sent in wire 2: an engage carries the total */
    EVENT_FLAG_REPEAT = 16,    /* stored only: the writer saw a repeat and
                                  counted nothing (older records: counted) */
    EVENT_FLAGS_ALL = EVENT_FLAG_BOT | EVENT_FLAG_AUTOMATED |
                      EVENT_FLAG_PIXEL | EVENT_FLAG_WIRE2 |
                      EVENT_FLAG_REPEAT  /* a new flag joins here; the
                                            record keeps 5 bits (event.c) */
};

/* Wire versions. 1 (no "wv" field): engage carries a delta. 2: engage
 * carries the view's cumulative engaged ms, searches and custom events a
 * per-view sequence number "i". 3: as 2, but a vote, search, identify or
 * custom event carries its argument in "a" (in place of "x", "q", "h" or
 * "n"; a search's "n" stays its result count). Events of wire 3 are stored
 * as of wire 2 (EVENT_FLAG_WIRE2): they mean the same. */
#define EVENT_WIRE_CURRENT     3
#define EVENT_MAX_SEQ          65535u

enum { EVENT_VOTE_UP = 1, EVENT_VOTE_DOWN = 2 };

/* What a viewed page is. Only articles appear in article tables; every
 * kind counts in site totals. */
enum event_page_kind {
    EVENT_PAGE_ARTICLE = 0,  /* the default */
    EVENT_PAGE_SEARCH,
    EVENT_PAGE_LIST,
    EVENT_PAGE_HOME
};
#define EVENT_PAGE_KINDS 4

/* The wire name of page kind KIND ("article", "search", "list", "home"),
 * or "?" for an unknown one. */
const char *event_page_kind_name(int kind);

/* The page kind named S (as event_page_kind_name spells it, in any
 * case), or -1. */
int event_page_kind_of(const char *s);

/* Documented limits of the wire format. Strings longer than a cap are cut
 * at a UTF-8 character boundary; numbers out of range are rejected. */
#define EVENT_MAX_BATCH        32
#define EVENT_MAX_BODY         8192
#define EVENT_ID_MIN           8      /* page-view id, [A-Za-z0-9_-] */
#define EVENT_ID_MAX           32
#define EVENT_LINK_MIN         8      /* link id, [A-Za-z0-9_-] */
#define EVENT_LINK_MAX         64
#define EVENT_SITE_MAX         100
#define EVENT_PATH_MAX         512
#define EVENT_TITLE_MAX        200
#define EVENT_REFERRER_MAX     128    /* the referrer's host only */
#define EVENT_CATEGORY_MAX     64
#define EVENT_LANG_MAX         16
#define EVENT_QUERY_MAX        100
#define EVENT_NAME_MAX         64
#define EVENT_HASH_LEN         64     /* identify: sha256 hex */
#define EVENT_MAX_ENGAGED_MS   3600000u   /* wire 1: one engage's delta */
#define EVENT_MAX_VIEW_ENGAGED_MS 86400000u /* wire 2: a view's total */
#define EVENT_MAX_WORDS        1000000u
#define EVENT_MAX_RESULTS      1000000u
#define EVENT_MAX_SCREEN       100000u
#define EVENT_SCROLL_NONE      255    /* no scroll depth reported */
#define EVENT_RESULTS_NONE     UINT32_MAX /* search without a result count */

/* A string that is not NUL-terminated. */
struct event_str {
    const char *p;
    uint16_t n;
};

/* The fields a stored record may give by an id in the store's dictionary
 * (store/dict.c) rather than in full: strings that repeat from event to
 * event, and a follow-up's article. Ids are never 0. */
enum event_ref {
    EVENT_REF_PATH, EVENT_REF_TITLE, EVENT_REF_REFERRER, EVENT_REF_CATEGORY,
    EVENT_REF_LANG, EVENT_REF_ARTICLE, EVENT_REFS
};
#define EVENT_REF_STRINGS EVENT_REF_ARTICLE  /* the string fields come first */
#define EVENT_REF_OF_PATH UINT32_MAX   /* ref[EVENT_REF_ARTICLE]: the article
                                          is the path's, once resolved */
#define EVENT_REF_MAX     0x7fffffffu  /* the largest dictionary id */

struct event {
    uint8_t type;            /* enum event_type */
    uint8_t flags;           /* EVENT_FLAG_* */
    uint8_t scroll;          /* 0–100, or EVENT_SCROLL_NONE */
    uint8_t vote;            /* EVENT_VOTE_*, vote events */
    uint8_t wire;            /* wire version the sender spoke (1 or 2) */
    uint8_t kind;            /* view: enum event_page_kind */
    uint16_t seq;            /* search, custom: per-view sequence, 0 none */
    char country[3];         /* ISO alpha-2 or "--" */
    uint32_t site_id;
    uint32_t engaged_ms;     /* engage: the view's total so far (wire 2,
                                EVENT_FLAG_WIRE2) or a delta (wire 1) */
    uint32_t words;          /* view: words in the article */
    uint32_t results;        /* search: results shown */
    uint32_t screen_w;       /* view: screen width in CSS px */
    uint64_t time_us;        /* set by the store (from the record's key) */
    uint64_t visitor;        /* set by the store's writer */
    uint64_t visitor_prev;   /* link events: the visitor hash under the
                                previous day's salt (writer only) */
    uint64_t article;        /* article id (hash of the path); 0 unknown */
    struct event_str site;   /* site name as sent (parsing only) */
    struct event_str view_id;
    struct event_str path;   /* view: URL path, no query or fragment */
    struct event_str title;
    struct event_str referrer; /* host only */
    struct event_str category;
    struct event_str lang;
    struct event_str text;   /* search query, link id, identify hash,
                                custom event name */
    uint32_t ref[EVENT_REFS];  /* stored records: the dictionary id of a
                                  field given by reference (0: in full). A
                                  decoded field by reference is empty until
                                  the store resolves it */
    char id_buf[EVENT_ID_MAX]; /* decoding only: a record's packed view id,
                                  which view_id then points to (a copy of
                                  the struct still points at the original) */
};

/* A parsed request: up to EVENT_MAX_BATCH events whose strings live in
 * ARENA. Large: allocate it, or keep it off small stacks. */
struct event_batch {
    size_t n;
    struct event ev[EVENT_MAX_BATCH];
    size_t used;
    char arena[EVENT_MAX_BODY + 1024];
};

/* Parses the LEN bytes at BODY (a JSON object or an array of 1–32) into B.
 * Returns 0; or -1 with a message a client can act on in ERR (the request
 * is then rejected whole). Site ids, country and visitor are left 0/empty
 * for the caller to fill. */
int event_parse_json(const char *body, size_t len, struct event_batch *b,
                     char *err, size_t errlen);

/* Looks up a query parameter; returns NULL when absent. */
typedef const char *(*event_param_fn)(void *ctx, const char *key);

/* Parses a pixel request (s, u; optional r, t, c, l, pk) into a batch of
 * one view, with VIEW_ID (made by the caller) as its page-view id. Returns
 * 0, or -1 with a message in ERR. */
int event_parse_pixel(event_param_fn get, void *ctx, const char *view_id,
                      struct event_batch *b, char *err, size_t errlen);

/* True when every string of EV is within its documented cap (as the
 * parsers guarantee); the store refuses events that are not. */
bool event_within_limits(const struct event *ev);

/* The article id of a path: a stable 64-bit hash, never 0. */
uint64_t event_article_id(const char *path, size_t len);

/* The name of an event type ("view", …), or "?" for an unknown one. */
const char *event_type_name(int type);

/* Encodes EV (without time_us, which the store keeps in the key) into BUF,
 * each field with a nonzero EV->ref by that id, the others in full.
 * Returns the length written, or -1 if CAP is too small.
 * EVENT_RECORD_MAX bytes always suffice. */
#define EVENT_RECORD_MAX 2048
int event_encode(const struct event *ev, uint8_t *buf, size_t cap);

/* Decodes a record made by event_encode (any record version). EV's
 * strings point into BUF, which must outlive them, except the view id,
 * which may point into EV->id_buf. A field given by reference leaves its
 * id in EV->ref and the field empty: see event_ref_str. Returns 0, or -1
 * if the record is damaged. */
int event_decode(const uint8_t *buf, size_t len, struct event *ev);

/* The string field of EV that dictionary field R (below
 * EVENT_REF_STRINGS) names. */
struct event_str *event_ref_str(struct event *ev, int r);

/* True when the record at BUF is of the version event_encode writes (an
 * older one still decodes; the store's migration rewrites it). */
bool event_record_current(const uint8_t *buf, size_t len);

#endif
