/* codec.c — see codec.h: the keys and records of the store's databases,
 * struct <-> bytes. */
#define _POSIX_C_SOURCE 200809L
#include "store/codec.h"

#include <assert.h>
#include <string.h>

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
}

/* Reads the view record V, of either layout, into R; false when V is
 * neither. */
bool view_read(const MDB_val *v, struct view_rec *r)
{
    if (v->mv_size != VIEW_REC_LEN && v->mv_size != VIEW_REC_LEN_V1)
        return false;
    const uint8_t *p = v->mv_data;
    r->article = get_be64(p);
    r->day = get_be32(p + 8);
    r->engaged_ms = get_be32(p + 12);
    r->scroll = p[16];
    r->scroll0 = p[17];
    r->flags = p[18];
    r->vote = p[19];
    r->seqs = v->mv_size == VIEW_REC_LEN ? get_be64(p + 20) : 0;
    return true;
}

size_t view_key(uint8_t *key, uint32_t site, const struct event_str *id)
{
    put_be32(key, site);
    memcpy(key + 4, id->p, id->n);
    return 4 + id->n;
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

void salt_key(uint8_t key[8], uint32_t day)
{
    memcpy(key, "salt", 4);
    put_be32(key + 4, day);
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
