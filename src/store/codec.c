/* codec.c — see codec.h: the keys and records of the store's databases,
 * struct <-> bytes. */
#define _POSIX_C_SOURCE 200809L
#include "store/codec.h"

#include <assert.h>
#include <string.h>

#include "base/varint.h"

/* --- numbers: big-endian, so that keys sort as numbers ------------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

void u32_pack(uint8_t *p, uint32_t v)
{
    put_be32(p, v);
}

bool u32_read(const MDB_val *v, uint32_t *out)
{
    if (v->mv_size != U32_REC_LEN)
        return false;
    *out = get_be32(v->mv_data);
    return true;
}

void u64_pack(uint8_t *p, uint64_t v)
{
    put_be64(p, v);
}

bool u64_read(const MDB_val *v, uint64_t *out)
{
    if (v->mv_size != U64_REC_LEN)
        return false;
    *out = get_be64(v->mv_data);
    return true;
}

/* --- keys ---------------------------------------------------------------- */

size_t site_bytes_key(uint8_t *key, uint32_t site, const void *bytes,
                      size_t n)
{
    put_be32(key, site);
    if (n > 0)
        memcpy(key + 4, bytes, n);
    return 4 + n;
}

uint32_t key_site(const void *p)
{
    return get_be32(p);
}

size_t daily_key(uint8_t *key, uint32_t site, uint64_t article, uint32_t day,
                 int cls)
{
    put_be32(key, site);
    put_be64(key + 4, article);
    put_be32(key + 12, day);
    key[16] = (uint8_t)cls;
    return DAILY_KEY_LEN;
}

bool same_article(const MDB_val *k, uint32_t site, uint64_t a)
{
    return k->mv_size == DAILY_KEY_LEN && key_site(k->mv_data) == site &&
           key_article(k->mv_data) == a;
}

bool article_next(uint32_t *site, uint64_t *a)
{
    if (*a == UINT64_MAX && *site == UINT32_MAX)
        return false;
    if (*a == UINT64_MAX)
        (*site)++;
    (*a)++;                            /* 0 after UINT64_MAX */
    return true;
}

uint64_t key_article(const void *p)
{
    return get_be64((const uint8_t *)p + 4);
}

uint32_t key_day(const void *p)
{
    return get_be32((const uint8_t *)p + 12);
}

int key_class(const void *p)
{
    return ((const uint8_t *)p)[16];
}

size_t dim_key(uint8_t *key, uint32_t site, uint64_t article, uint32_t day,
               int cls, int dim, const char *value, size_t len)
{
    if (len > DIM_VALUE_MAX)
        len = DIM_VALUE_MAX;
    daily_key(key, site, article, day, cls);
    key[DAILY_KEY_LEN] = (uint8_t)dim;
    memcpy(key + DIM_KEY_LEN, value, len);
    return DIM_KEY_LEN + len;
}

int key_dim(const void *p)
{
    return ((const uint8_t *)p)[DAILY_KEY_LEN];
}

/* Reads a varint of at most 5 bytes at P[*OFF..N) into *V: a count or a
 * length, at most UINT32_MAX. */
static bool varint_read(const uint8_t *p, size_t n, size_t *off, uint32_t *v)
{
    uint64_t x;
    if (varint_get(p, n, off, 5, &x) != 0 || x > UINT32_MAX)
        return false;
    *v = (uint32_t)x;
    return true;
}

int dim_row_next(const uint8_t *p, size_t n, size_t *off, struct dim_entry *e)
{
    uint32_t len;
    if (*off >= n)
        return 0;
    e->dim = p[(*off)++];
    if (!varint_read(p, n, off, &len) || len > DIM_VALUE_MAX ||
        len > n - *off)
        return -1;
    e->value = (const char *)p + *off;
    e->len = len;
    *off += len;
    return varint_read(p, n, off, &e->count) ? 1 : -1;
}

/* Orders entry A before (< 0) or after (> 0) DIM = VALUE (LEN bytes) as
 * their rows' keys sort. */
static int dim_entry_cmp(const struct dim_entry *a, int dim,
                         const char *value, size_t len)
{
    if (a->dim != dim)
        return a->dim < dim ? -1 : 1;
    size_t m = a->len < len ? a->len : len;
    int c = memcmp(a->value, value, m);
    return c ? c : (a->len > len) - (a->len < len);
}

bool dim_row_ok(const MDB_val *v)
{
    struct dim_entry e, prev = { 0 };
    size_t off = 0;
    int rc, n = 0;
    while ((rc = dim_row_next(v->mv_data, v->mv_size, &off, &e)) == 1) {
        if (n++ > 0 && dim_entry_cmp(&prev, e.dim, e.value, e.len) >= 0)
            return false;
        prev = e;
    }
    return rc == 0 && v->mv_size <= DIM_ROW_CAP;
}

int dim_row_add(const uint8_t *row, size_t n, int dim, const char *value,
                size_t len, uint32_t add, uint8_t *out, size_t *outlen)
{
    struct dim_entry e;
    size_t off = 0, at = 0;
    int rc, c = 1;
    if (len > DIM_VALUE_MAX)
        len = DIM_VALUE_MAX;
    while ((rc = dim_row_next(row, n, &off, &e)) == 1 &&
           (c = dim_entry_cmp(&e, dim, value, len)) < 0)
        at = off;
    if (rc < 0)
        return -1;
    bool found = rc == 1 && c == 0;
    if (!found && n + DIM_ENTRY_MAX(len) > DIM_ROW_MAX)
        return 0;
    uint32_t count = found ? e.count + add : add;
    if (found && count < add)
        count = UINT32_MAX;
    size_t rest = found ? off : at;          /* what follows the entry */
    if (at + DIM_ENTRY_MAX(len) + (n - rest) > DIM_ROW_CAP)
        return found ? -1 : 0;
    if (at > 0)
        memcpy(out, row, at);
    size_t o = at;
    out[o++] = (uint8_t)dim;
    o += varint_put(out + o, (uint32_t)len);
    memcpy(out + o, value, len);
    o += len;
    o += varint_put(out + o, count);
    if (n > rest)
        memcpy(out + o, row + rest, n - rest);
    *outlen = o + (n - rest);
    return 1;
}

size_t dict_key(uint8_t *key, uint32_t site, int field, uint32_t id)
{
    put_be32(key, site);
    key[4] = (uint8_t)field;
    put_be32(key + DICT_PREFIX_LEN, id);
    return DICT_KEY_LEN;
}

size_t dict_ids_key(uint8_t *key, uint32_t site, int field, const void *bytes,
                    size_t n)
{
    assert(n <= DICT_VALUE_MAX);
    put_be32(key, site);
    key[4] = (uint8_t)field;
    memcpy(key + DICT_PREFIX_LEN, bytes, n);
    return DICT_PREFIX_LEN + n;
}

bool dict_key_read(const MDB_val *k, uint32_t *site, int *field,
                   uint32_t *id)
{
    if (k->mv_size != DICT_KEY_LEN)
        return false;
    const uint8_t *p = k->mv_data;
    *site = get_be32(p);
    *field = p[4];
    *id = get_be32(p + DICT_PREFIX_LEN);
    return true;
}

size_t site_id_key(uint8_t *key, uint32_t site, uint64_t id)
{
    put_be32(key, site);
    put_be64(key + 4, id);
    return SITE_ID_KEY_LEN;
}

size_t class_key(uint8_t *key, uint32_t site, uint64_t article, int cls)
{
    site_id_key(key, site, article);
    key[12] = (uint8_t)cls;
    return CLASS_KEY_LEN;
}

bool class_key_read(const MDB_val *k, uint32_t *site, uint64_t *article,
                    int *cls)
{
    if (k->mv_size != CLASS_KEY_LEN)
        return false;
    *site = key_site(k->mv_data);
    *article = key_article(k->mv_data);
    *cls = ((const uint8_t *)k->mv_data)[12];
    return true;
}

size_t event_key(uint8_t *key, uint64_t time_us, uint32_t seq)
{
    assert(time_us <= EVENT_TIME_MAX && seq <= EVENT_KEY_SEQ_MAX);
    put_be64(key, time_us << 8 | (seq & EVENT_KEY_SEQ_MAX));
    return EVENT_KEY_LEN;
}

bool event_key_read(const MDB_val *k, uint64_t *time_us, uint32_t *seq)
{
    if (k->mv_size != EVENT_KEY_LEN)
        return false;
    uint64_t u = get_be64(k->mv_data);
    *time_us = u >> 8;
    *seq = (uint32_t)(u & EVENT_KEY_SEQ_MAX);
    return true;
}

bool event_key_v6_read(const MDB_val *k, uint64_t *time_us, uint32_t *seq)
{
    if (k->mv_size != EVENT_KEY_V6_LEN)
        return false;
    *time_us = get_be64(k->mv_data);
    *seq = get_be32((const uint8_t *)k->mv_data + 8);
    return true;
}

size_t seen_key(uint8_t *key, uint32_t day, uint32_t site, uint64_t article,
                uint64_t visitor)
{
    put_be32(key, day);
    put_be32(key + 4, site);
    put_be64(key + 8, article);
    put_be64(key + 16, visitor);
    return SEEN_KEY_LEN;
}

bool seen_key_day(const MDB_val *k, uint32_t *day)
{
    if (k->mv_size != SEEN_KEY_LEN)
        return false;
    *day = get_be32(k->mv_data);
    return true;
}

size_t visit_key(uint8_t *key, uint32_t site, uint64_t visitor,
                 uint64_t time_us, char kind)
{
    put_be32(key, site);
    put_be64(key + 4, visitor);
    put_be64(key + 12, time_us);
    key[20] = (uint8_t)kind;
    return VISIT_KEY_LEN;
}

bool visit_key_time(const MDB_val *k, uint64_t *time_us)
{
    if (k->mv_size != VISIT_KEY_LEN)
        return false;
    *time_us = get_be64((const uint8_t *)k->mv_data + 12);
    return true;
}

size_t ident_key(uint8_t *key, uint32_t site, const uint8_t id[32],
                 uint64_t time_us)
{
    put_be32(key, site);
    memcpy(key + 4, id, 32);
    put_be64(key + IDENT_PREFIX_LEN, time_us);
    return IDENT_KEY_LEN;
}

bool ident_key_time(const MDB_val *k, uint64_t *time_us)
{
    if (k->mv_size != IDENT_KEY_LEN)
        return false;
    *time_us = get_be64((const uint8_t *)k->mv_data + IDENT_PREFIX_LEN);
    return true;
}

/* --- records ------------------------------------------------------------- */

int head_pack(uint8_t *buf, uint32_t first, uint32_t last,
              const struct rollup_day *sum)
{
    int len = rollup_encode(sum, buf + 8, HEAD_REC_MAX - 8);
    if (len < 0)
        return -1;
    put_be32(buf, first);
    put_be32(buf + 4, last);
    return 8 + len;
}

bool head_read(const MDB_val *v, struct head *h)
{
    if (v->mv_size < 8)
        return false;
    const uint8_t *p = v->mv_data;
    *h = (struct head){ get_be32(p), get_be32(p + 4), p + 8, v->mv_size - 8 };
    return true;
}

size_t searched_pack(uint8_t *buf, uint64_t time_us,
                     const struct event_str *query)
{
    size_t n = query->n < EVENT_QUERY_MAX ? query->n : EVENT_QUERY_MAX;
    put_be64(buf, time_us);
    if (n > 0)
        memcpy(buf + 8, query->p, n);
    return 8 + n;
}

bool searched_read(const MDB_val *v, uint64_t *time_us, const char **query,
                   size_t *qlen)
{
    if (v->mv_size < 8)
        return false;
    *time_us = get_be64(v->mv_data);
    *query = (const char *)v->mv_data + 8;
    *qlen = v->mv_size - 8;
    return true;
}

size_t link_pack(const struct link_rec *r, uint8_t *buf)
{
    size_t n = r->view_id_len < EVENT_ID_MAX ? r->view_id_len : EVENT_ID_MAX;
    put_be64(buf, r->time_us);
    put_be64(buf + 8, r->article);
    put_be64(buf + 16, r->visitor);
    put_be64(buf + 24, r->visitor_prev);
    if (n > 0)
        memcpy(buf + 32, r->view_id, n);
    return 32 + n;
}

bool link_read(const MDB_val *v, struct link_rec *r)
{
    if (v->mv_size < 32)
        return false;
    const uint8_t *p = v->mv_data;
    r->time_us = get_be64(p);
    r->article = get_be64(p + 8);
    r->visitor = get_be64(p + 16);
    r->visitor_prev = get_be64(p + 24);
    r->view_id = (const char *)p + 32;
    r->view_id_len = v->mv_size - 32;
    return true;
}

size_t visit_search_pack(uint8_t *buf, bool zero, const struct event_str *q)
{
    size_t n = q->n < EVENT_QUERY_MAX ? q->n : EVENT_QUERY_MAX;
    buf[0] = zero;
    if (n > 0)
        memcpy(buf + 1, q->p, n);
    return 1 + n;
}

bool visit_read(const MDB_val *k, const MDB_val *v, struct visit *out)
{
    const uint8_t *q = v->mv_data;
    memset(out, 0, sizeof *out);
    if (!visit_key_time(k, &out->time_us))
        return false;
    out->kind = (char)((const uint8_t *)k->mv_data)[20];
    if (out->kind == 'v')
        return u64_read(v, &out->article);
    if (out->kind != 's' || v->mv_size < 1)
        return false;
    out->zero = q[0];
    out->query = (const char *)q + 1;
    out->qlen = v->mv_size - 1;
    return true;
}

void view_pack(const struct view_rec *r, uint8_t *p)
{
    put_be64(p, r->article);
    put_be32(p + 8, r->day);
    put_be32(p + 12, r->engaged_ms);
    p[16] = r->scroll;
    p[17] = r->scroll0;
    p[18] = r->flags;
    p[19] = r->vote;
    put_be64(p + 20, r->seqs);
    put_be64(p + 28, r->first_us);
}

/* Reads the view record V, of any of the three layouts, into R; false
 * when V is none of them. */
bool view_read(const MDB_val *v, struct view_rec *r)
{
    if (v->mv_size != VIEW_REC_LEN && v->mv_size != VIEW_REC_LEN_V2 &&
        v->mv_size != VIEW_REC_LEN_V1)
        return false;
    const uint8_t *p = v->mv_data;
    r->article = get_be64(p);
    r->day = get_be32(p + 8);
    r->engaged_ms = get_be32(p + 12);
    r->scroll = p[16];
    r->scroll0 = p[17];
    r->flags = p[18];
    r->vote = p[19];
    r->seqs = v->mv_size >= VIEW_REC_LEN_V2 ? get_be64(p + 20) : 0;
    r->first_us = v->mv_size == VIEW_REC_LEN ? get_be64(p + 28) : 0;
    return true;
}

size_t view_key(uint8_t *key, uint32_t site, const struct event_str *id)
{
    return site_bytes_key(key, site, id->p, id->n);
}

/* Decodes an article record (key = site, id) into OUT. */
int store_article_unpack(const MDB_val *k, const MDB_val *v,
                         struct store_article *out)
{
    const uint8_t *p = v->mv_data;
    memset(out, 0, sizeof *out);
    if (k->mv_size != 12 || v->mv_size < 18)
        return -1;
    out->id = get_be64((const uint8_t *)k->mv_data + 4);
    out->first_day = get_be32(p);
    out->last_day = get_be32(p + 4);
    out->words = get_be32(p + 8);
    size_t off = 12;
    char *dst[3] = { out->path, out->title, out->category };
    size_t cap[3] = { EVENT_PATH_MAX, EVENT_TITLE_MAX, EVENT_CATEGORY_MAX };
    for (int i = 0; i < 3; i++) {
        if (off + 2 > v->mv_size)
            return -1;
        size_t n = (size_t)p[off] << 8 | p[off + 1];
        off += 2;
        if (n > cap[i] || off + n > v->mv_size)
            return -1;
        memcpy(dst[i], p + off, n);
        dst[i][n] = '\0';
        off += n;
    }
    out->kind = store_article_default_kind(out->path, strlen(out->path));
    if (off < v->mv_size) {
        out->kind = p[off];
        if (out->kind >= EVENT_PAGE_KINDS)
            return -1;
    }
    return 0;
}

uint8_t store_article_default_kind(const char *path, size_t len)
{
    bool root = len >= 1 && path[0] == '/' && (len == 1 || path[1] == '?');
    return root ? EVENT_PAGE_HOME : EVENT_PAGE_ARTICLE;
}

static void put_str16(uint8_t *p, size_t *off, const struct event_str *s)
{
    p[*off] = (uint8_t)(s->n >> 8);
    p[*off + 1] = (uint8_t)s->n;
    if (s->n > 0)
        memcpy(p + *off + 2, s->p, s->n);
    *off += 2 + s->n;
}

/* first_day(4) last_day(4) words(4) {len(2) path} {len(2) title}
 * {len(2) category} [kind(1)] */
size_t article_pack(const struct article_rec *a, uint8_t *buf)
{
    size_t n = 12;
    assert(a->path.n <= EVENT_PATH_MAX && a->title.n <= EVENT_TITLE_MAX &&
           a->category.n <= EVENT_CATEGORY_MAX);
    put_be32(buf, a->first_day);
    put_be32(buf + 4, a->last_day);
    put_be32(buf + 8, a->words);
    put_str16(buf, &n, &a->path);
    put_str16(buf, &n, &a->title);
    put_str16(buf, &n, &a->category);
    if (a->kind != store_article_default_kind(a->path.p, a->path.n))
        buf[n++] = a->kind;
    return n;
}

bool article_first_day(const MDB_val *v, uint32_t *first)
{
    if (v->mv_size < 12)
        return false;
    *first = get_be32(v->mv_data);
    return true;
}

bool article_path(const MDB_val *v, const char **p, size_t *n)
{
    const uint8_t *b = v->mv_data;
    if (v->mv_size < 14)
        return false;
    *n = (size_t)b[12] << 8 | b[13];
    *p = (const char *)b + 14;
    return 14 + *n <= v->mv_size;
}

void salt_key(uint8_t key[8], uint32_t day)
{
    memcpy(key, "salt", 4);
    put_be32(key + 4, day);
}

bool salt_key_day(const MDB_val *k, uint32_t *day)
{
    if (k->mv_size != 8 || memcmp(k->mv_data, "salt", 4) != 0)
        return false;
    *day = get_be32((const uint8_t *)k->mv_data + 4);
    return true;
}

/* The meta key of note NAME of SITE_ID: "note" site(4) name. Returns its
 * length, or 0 when NAME is not 1–STORE_NOTE_NAME_MAX of [a-z_]. */
size_t note_key(uint8_t *kb, uint32_t site_id, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STORE_NOTE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_'))
            return 0;
    memcpy(kb, "note", 4);
    put_be32(kb + 4, site_id);
    memcpy(kb + 8, name, n);
    return 8 + n;
}

/* id(4) norigins(1) {len(1) origin}... */
size_t site_pack(uint8_t *buf, uint32_t id, const char *const *origins,
                 size_t n)
{
    size_t off = 5;
    assert(n <= STORE_MAX_ORIGINS);
    put_be32(buf, id);
    buf[4] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(origins[i]);
        assert(len > 0 && len <= STORE_ORIGIN_MAX);
        buf[off++] = (uint8_t)len;
        memcpy(buf + off, origins[i], len);
        off += len;
    }
    return off;
}

bool site_id_read(const MDB_val *v, uint32_t *id)
{
    if (v->mv_size < 4)
        return false;
    *id = get_be32(v->mv_data);
    return true;
}

int site_unpack(const char *name, size_t nlen, const MDB_val *v,
                       struct site *out)
{
    const uint8_t *p = v->mv_data;
    memset(out, 0, sizeof *out);
    if (v->mv_size < 5 || nlen > EVENT_SITE_MAX)
        return -1;
    memcpy(out->name, name, nlen);
    out->id = get_be32(p);
    size_t n = p[4], off = 5;
    for (size_t i = 0; i < n && i < STORE_MAX_ORIGINS; i++) {
        if (off >= v->mv_size)
            return -1;
        size_t len = p[off++];
        if (len > STORE_ORIGIN_MAX || off + len > v->mv_size)
            return -1;
        memcpy(out->origins[i], p + off, len);
        off += len;
        out->norigins++;
    }
    return 0;
}

/* scope(1) created_us(8) {len(1) site} {len(1) name} */
size_t token_pack(const struct store_token *t, uint8_t *buf)
{
    size_t sl = strlen(t->site), nl = strlen(t->name);
    assert(sl <= EVENT_SITE_MAX && nl <= STORE_TOKEN_NAME_MAX);
    buf[0] = t->scope == STORE_SCOPE_READ;
    put_be64(buf + 1, t->created_us);
    buf[9] = (uint8_t)sl;
    memcpy(buf + 10, t->site, sl);
    buf[10 + sl] = (uint8_t)nl;
    memcpy(buf + 11 + sl, t->name, nl);
    return 11 + sl + nl;
}

int token_unpack(const MDB_val *k, const MDB_val *v,
                        struct store_token *out)
{
    const uint8_t *p = v->mv_data;
    memset(out, 0, sizeof *out);
    if (k->mv_size != 32 || v->mv_size < 11)
        return -1;
    memcpy(out->hash, k->mv_data, 32);
    out->scope = p[0] ? STORE_SCOPE_READ : STORE_SCOPE_FULL;
    out->created_us = get_be64(p + 1);
    size_t off = 9, n = p[off++];
    if (n > EVENT_SITE_MAX || off + n + 1 > v->mv_size)
        return -1;
    memcpy(out->site, p + off, n);
    off += n;
    n = p[off++];
    if (n > STORE_TOKEN_NAME_MAX || off + n > v->mv_size)
        return -1;
    memcpy(out->name, p + off, n);
    return 0;
}

static void put_str8(uint8_t *p, size_t *off, const char *s)
{
    size_t n = strlen(s);
    if (n > 255)
        n = 255;
    p[(*off)++] = (uint8_t)n;
    memcpy(p + *off, s, n);
    *off += n;
}

static int get_str8(const uint8_t *p, size_t len, size_t *off, char *out,
                    size_t cap)
{
    if (*off >= len)
        return -1;
    size_t n = p[(*off)++];
    if (n >= cap || *off + n > len)
        return -1;
    memcpy(out, p + *off, n);
    out[n] = '\0';
    *off += n;
    return 0;
}

/* created(8) flags(1: 1 email, 2 requester) [email_key(32)]
 * [requester_key(32)] {len(1) link} {len(1) channel} ntags(1) {len tag}… */
size_t ticket_pack(const struct store_ticket *t, uint8_t *buf)
{
    size_t off = 9;
    put_be64(buf, t->created_us);
    buf[8] = (uint8_t)((t->has_email ? 1 : 0) | (t->has_requester ? 2 : 0));
    if (t->has_email) {
        memcpy(buf + off, t->email_key, 32);
        off += 32;
    }
    if (t->has_requester) {
        memcpy(buf + off, t->requester_key, 32);
        off += 32;
    }
    put_str8(buf, &off, t->link);
    put_str8(buf, &off, t->channel);
    size_t nt = t->ntags < STORE_TICKET_TAGS ? t->ntags : STORE_TICKET_TAGS;
    buf[off++] = (uint8_t)nt;
    for (size_t i = 0; i < nt; i++)
        put_str8(buf, &off, t->tags[i]);
    return off;
}

int ticket_unpack(const MDB_val *k, const MDB_val *v,
                         struct store_ticket *t)
{
    const uint8_t *p = v->mv_data;
    size_t len = v->mv_size, off = 9;
    memset(t, 0, sizeof *t);
    if (k->mv_size < 5 || k->mv_size - 4 > STORE_TICKET_ID_MAX || len < 12)
        return -1;
    memcpy(t->id, (const uint8_t *)k->mv_data + 4, k->mv_size - 4);
    t->created_us = get_be64(p);
    t->has_email = p[8] & 1;
    t->has_requester = (p[8] & 2) != 0;
    if (t->has_email) {
        if (off + 32 > len)
            return -1;
        memcpy(t->email_key, p + off, 32);
        off += 32;
    }
    if (t->has_requester) {
        if (off + 32 > len)
            return -1;
        memcpy(t->requester_key, p + off, 32);
        off += 32;
    }
    if (get_str8(p, len, &off, t->link, sizeof t->link) != 0 ||
        get_str8(p, len, &off, t->channel, sizeof t->channel) != 0 ||
        off >= len)
        return -1;
    size_t nt = p[off++];
    for (size_t i = 0; i < nt && i < STORE_TICKET_TAGS; i++)
        if (get_str8(p, len, &off, t->tags[i], sizeof t->tags[i]) != 0)
            return -1;
    t->ntags = nt < STORE_TICKET_TAGS ? nt : STORE_TICKET_TAGS;
    return 0;
}

size_t ticket_time_key(uint8_t *kb, uint32_t site, uint64_t t,
                              const char *id)
{
    size_t n = strlen(id);
    put_be32(kb, site);
    put_be64(kb + 4, t);
    memcpy(kb + 12, id, n);
    return 12 + n;
}

bool ticket_created(const MDB_val *v, uint64_t *created_us)
{
    if (v->mv_size < 8)
        return false;
    *created_us = get_be64(v->mv_data);
    return true;
}

bool ticket_time_read(const MDB_val *k, uint64_t *t, const char **id,
                      size_t *idlen)
{
    if (k->mv_size <= 12 || k->mv_size - 12 > STORE_TICKET_ID_MAX)
        return false;
    *t = key_article(k->mv_data);
    *id = (const char *)k->mv_data + 12;
    *idlen = k->mv_size - 12;
    return true;
}

size_t ship_pack(uint8_t *buf, char kind, uint64_t logged_us,
                 const void *key, size_t n)
{
    buf[0] = (uint8_t)kind;
    put_be64(buf + 1, logged_us);
    memcpy(buf + 9, key, n);
    return 9 + n;
}

bool ship_read(const MDB_val *k, const MDB_val *v, struct ship_entry *e)
{
    if (k->mv_size != SHIP_KEY_LEN || v->mv_size < 9 ||
        v->mv_size > SHIP_REC_MAX)
        return false;
    const uint8_t *p = v->mv_data;
    e->seq = get_be64(k->mv_data);
    e->kind = (char)p[0];
    e->logged_us = get_be64(p + 1);
    e->key = p + 9;
    e->keylen = v->mv_size - 9;
    return (e->kind == 'e' && e->keylen == EVENT_KEY_LEN) ||
           (e->kind == 't' && e->keylen > 4);
}
