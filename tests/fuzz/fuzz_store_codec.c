/* fuzz_store_codec — the store codec's readers (src/store/codec.h) on
 * damaged keys and values, as a damaged data file hands them over; no
 * LMDB environment is opened. The first byte picks the reader, the second
 * how many of the remaining bytes are the key (the rest is the value).
 * Never a crash or an over-read: every pointer a reader returns lies
 * inside the key or value it read, and every string it copies out is
 * terminated within its array. */
#include "fuzz.h"
#include "store/codec.h"

/* Checks that the N bytes at P lie within V. */
static void inside(const MDB_val *v, const void *p, size_t n)
{
    const uint8_t *b = v->mv_data, *q = p;
    FUZZ_CHECK(n == 0 || (q >= b && q + n <= b + v->mv_size));
}

static void read_value(int which, const MDB_val *k, const MDB_val *v)
{
    uint32_t u32, site, day;
    uint64_t u64, t, article;
    int cls;
    const char *s;
    size_t n;
    switch (which) {
    case 0: (void)u32_read(v, &u32); (void)u64_read(v, &u64); break;
    case 1: (void)class_key_read(k, &site, &article, &cls); break;
    case 2: {
        struct head h;
        if (head_read(v, &h)) {
            inside(v, h.rec, h.len);
            struct rollup_day d;
            (void)rollup_decode(h.rec, h.len, &d);
        }
        break;
    }
    case 3: (void)event_key_read(k, &t, &u32); (void)seen_key_day(k, &day);
            (void)visit_key_time(k, &t); (void)ident_key_time(k, &t);
            (void)salt_key_day(k, &day); break;
    case 4:
        if (searched_read(v, &t, &s, &n))
            inside(v, s, n);
        break;
    case 5: {
        struct link_rec r;
        if (link_read(v, &r))
            inside(v, r.view_id, r.view_id_len);
        break;
    }
    case 6: {
        struct visit vi;
        if (visit_read(k, v, &vi) && vi.kind == 's')
            inside(v, vi.query, vi.qlen);
        break;
    }
    case 7: {
        struct view_rec r;
        (void)view_read(v, &r);
        break;
    }
    case 8: {
        struct store_article a;
        if (store_article_unpack(k, v, &a) == 0) {
            FUZZ_CHECK(fuzz_terminated(a.path, sizeof a.path));
            FUZZ_CHECK(fuzz_terminated(a.title, sizeof a.title));
            FUZZ_CHECK(fuzz_terminated(a.category, sizeof a.category));
        }
        (void)article_first_day(v, &day);
        if (article_path(v, &s, &n))
            inside(v, s, n);
        break;
    }
    case 9: {
        struct site st;
        (void)site_id_read(v, &u32);
        if (site_unpack(k->mv_data, k->mv_size, v, &st) == 0) {
            FUZZ_CHECK(fuzz_terminated(st.name, sizeof st.name));
            FUZZ_CHECK(st.norigins <= STORE_MAX_ORIGINS);
            for (size_t i = 0; i < st.norigins; i++)
                FUZZ_CHECK(fuzz_terminated(st.origins[i],
                                           sizeof st.origins[i]));
        }
        break;
    }
    case 10: {
        struct store_token tok;
        if (token_unpack(k, v, &tok) == 0) {
            FUZZ_CHECK(fuzz_terminated(tok.site, sizeof tok.site));
            FUZZ_CHECK(fuzz_terminated(tok.name, sizeof tok.name));
        }
        break;
    }
    case 11: {
        struct store_ticket tk;
        if (ticket_unpack(k, v, &tk) == 0) {
            FUZZ_CHECK(fuzz_terminated(tk.id, sizeof tk.id));
            FUZZ_CHECK(fuzz_terminated(tk.link, sizeof tk.link));
            FUZZ_CHECK(fuzz_terminated(tk.channel, sizeof tk.channel));
            FUZZ_CHECK(tk.ntags <= STORE_TICKET_TAGS);
            for (size_t i = 0; i < tk.ntags; i++)
                FUZZ_CHECK(fuzz_terminated(tk.tags[i], sizeof tk.tags[i]));
        }
        (void)ticket_created(v, &t);
        break;
    }
    default:
        if (ticket_time_read(k, &t, &s, &n))
            inside(k, s, n);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int which = data[0] % 13;
    size_t klen = data[1];
    data += 2;
    size -= 2;
    if (klen > size)
        klen = size;
    /* copies of exactly their sizes, so that any over-read is seen */
    uint8_t *kb = malloc(klen ? klen : 1);
    uint8_t *vb = malloc(size > klen ? size - klen : 1);
    if (kb == NULL || vb == NULL)
        abort();
    memcpy(kb, data, klen);
    memcpy(vb, data + klen, size - klen);
    MDB_val k = { klen, kb }, v = { size - klen, vb };
    read_value(which, &k, &v);
    free(kb);
    free(vb);
    return 0;
}
