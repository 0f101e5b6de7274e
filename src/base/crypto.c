/* crypto.c — see crypto.h. The only door to nettle. SipHash-2-4 after
 * Aumasson and Bernstein's reference implementation
 * (https://github.com/veorq/SipHash). */
#define _DEFAULT_SOURCE
#include "base/crypto.h"

#include <errno.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <string.h>
#include <sys/random.h>

/* --- SHA and HMAC (nettle) ------------------------------------------------ */

size_t crypto_hash_len(enum crypto_hash h)
{
    return h == CRYPTO_SHA1 ? CRYPTO_SHA1_LEN : CRYPTO_SHA256_LEN;
}

void crypto_sha1(const void *data, size_t len, uint8_t out[CRYPTO_SHA1_LEN])
{
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, len, data);
    sha1_digest(&c, CRYPTO_SHA1_LEN, out);
}

void crypto_sha256(const void *data, size_t len,
                   uint8_t out[CRYPTO_SHA256_LEN])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, len, data);
    sha256_digest(&c, CRYPTO_SHA256_LEN, out);
}

void crypto_hmac(enum crypto_hash h, const void *key, size_t keylen,
                 const void *msg, size_t msglen, uint8_t *out)
{
    static const uint8_t none[1];
    if (key == NULL)
        key = none, keylen = 0;
    if (msg == NULL)
        msg = none, msglen = 0;
    if (h == CRYPTO_SHA1) {
        struct hmac_sha1_ctx c;
        hmac_sha1_set_key(&c, keylen, key);
        hmac_sha1_update(&c, msglen, msg);
        hmac_sha1_digest(&c, CRYPTO_SHA1_LEN, out);
        return;
    }
    struct hmac_sha256_ctx c;
    hmac_sha256_set_key(&c, keylen, key);
    hmac_sha256_update(&c, msglen, msg);
    hmac_sha256_digest(&c, CRYPTO_SHA256_LEN, out);
}

/* RFC 5869 §2.2: PRK = HMAC(salt, IKM). */
void crypto_hkdf_extract(const void *salt, size_t saltlen, const void *ikm,
                         size_t ikmlen, uint8_t prk[CRYPTO_SHA256_LEN])
{
    static const uint8_t zeros[CRYPTO_SHA256_LEN];
    if (salt == NULL || saltlen == 0)
        salt = zeros, saltlen = sizeof zeros;
    crypto_hmac(CRYPTO_SHA256, salt, saltlen, ikm, ikmlen, prk);
}

/* RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) || INFO || i), OUT their
 * concatenation, streamed through nettle's HMAC so that INFO needs no
 * copy. */
int crypto_hkdf_expand(const uint8_t prk[CRYPTO_SHA256_LEN],
                       const void *info, size_t infolen, uint8_t *out,
                       size_t outlen)
{
    if (outlen == 0 || outlen > 255 * CRYPTO_SHA256_LEN)
        return -1;
    uint8_t t[CRYPTO_SHA256_LEN];
    size_t tlen = 0, done = 0;
    for (unsigned i = 1; done < outlen; i++) {
        struct hmac_sha256_ctx c;
        uint8_t n = (uint8_t)i;
        hmac_sha256_set_key(&c, CRYPTO_SHA256_LEN, prk);
        hmac_sha256_update(&c, tlen, t);
        if (infolen > 0)
            hmac_sha256_update(&c, infolen, info);
        hmac_sha256_update(&c, 1, &n);
        hmac_sha256_digest(&c, sizeof t, t);
        tlen = sizeof t;
        size_t take = outlen - done < tlen ? outlen - done : tlen;
        memcpy(out + done, t, take);
        done += take;
    }
    return 0;
}

int crypto_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm,
                       size_t ikmlen, const void *info, size_t infolen,
                       uint8_t *out, size_t outlen)
{
    uint8_t prk[CRYPTO_SHA256_LEN];
    if (outlen == 0 || outlen > 255 * CRYPTO_SHA256_LEN)
        return -1;
    crypto_hkdf_extract(salt, saltlen, ikm, ikmlen, prk);
    return crypto_hkdf_expand(prk, info, infolen, out, outlen);
}

/* --- SipHash-2-4 ---------------------------------------------------------- */

/* Rotates X left by B bits (0 < B < 64). */
static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

/* Reads 8 bytes at P as a little-endian integer. */
static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* One SipRound on S. */
static void sip_round(struct crypto_sip *s)
{
    s->v0 += s->v1; s->v1 = rotl(s->v1, 13); s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3; s->v3 = rotl(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = rotl(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = rotl(s->v1, 17); s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

/* Folds the 64-bit message word M into S (two compression rounds). */
static void sip_block(struct crypto_sip *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

void crypto_sip_init(struct crypto_sip *s, const uint8_t key[16])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v0 = UINT64_C(0x736f6d6570736575) ^ k0;
    s->v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
    s->v2 = UINT64_C(0x6c7967656e657261) ^ k0;
    s->v3 = UINT64_C(0x7465646279746573) ^ k1;
    s->ntail = 0;
    s->total = 0;
}

void crypto_sip_update(struct crypto_sip *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->total += len;
    if (s->ntail > 0) {
        size_t take = 8 - s->ntail;
        if (take > len)
            take = len;
        memcpy(s->tail + s->ntail, p, take);
        s->ntail += take;
        p += take;
        len -= take;
        if (s->ntail < 8)
            return;
        sip_block(s, load_le64(s->tail));
        s->ntail = 0;
    }
    for (; len >= 8; p += 8, len -= 8)
        sip_block(s, load_le64(p));
    if (len > 0)
        memcpy(s->tail, p, len);
    s->ntail = len;
}

uint64_t crypto_sip_final(struct crypto_sip *s)
{
    uint64_t b = (s->total & 0xff) << 56;
    for (size_t i = 0; i < s->ntail; i++)
        b |= (uint64_t)s->tail[i] << (8 * i);
    sip_block(s, b);
    s->v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t crypto_siphash24(const uint8_t key[16], const void *data,
                          size_t len)
{
    struct crypto_sip s;
    crypto_sip_init(&s, key);
    if (len > 0)
        crypto_sip_update(&s, data, len);
    return crypto_sip_final(&s);
}

/* --- random bytes, comparison --------------------------------------------- */

int crypto_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return memeql_sec(a, b, n) != 0;
}

/* --- base64, base64url, hex ----------------------------------------------- */

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encodes IN with alphabet TAB, '=' padding when PAD. */
static int encode64(const uint8_t *in, size_t n, const char *tab, bool pad,
                    char *out, size_t cap)
{
    if (n > (size_t)INT32_MAX / 4 * 3 || cap < CRYPTO_BASE64_LEN(n) + 1)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        if (i + 1 < n || pad)
            out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        if (i + 2 < n || pad)
            out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

int crypto_base64(const void *in, size_t n, char *out, size_t cap)
{
    return encode64(in, n, B64, true, out, cap);
}

int crypto_base64url(const void *in, size_t n, char *out, size_t cap)
{
    return encode64(in, n, B64URL, false, out, cap);
}

/* The 6-bit value of C in TAB, or -1. */
static int sextet(const char *tab, char c)
{
    const char *hit = c != '\0' ? memchr(tab, c, 64) : NULL;
    return hit != NULL ? (int)(hit - tab) : -1;
}

int crypto_unbase64(const char *s, size_t n, bool url, uint8_t *out,
                    size_t cap)
{
    const char *tab = url ? B64URL : B64;
    size_t pad = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
        pad++;
    if (!url && (n % 4 != 0))
        return -1;
    if (url && pad > 0 && n % 4 != 0)
        return -1;
    size_t m = n - pad;                         /* data characters */
    if (m % 4 == 1)
        return -1;
    size_t bytes = m / 4 * 3 + (m % 4 == 0 ? 0 : m % 4 - 1);
    if (bytes > cap || bytes > INT32_MAX)
        return -1;
    uint32_t acc = 0;
    size_t o = 0;
    for (size_t i = 0; i < m; i++) {
        int v = sextet(tab, s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (m % 4 == 2) {
        if (acc & 0xf)
            return -1;                          /* non-canonical bits */
        out[o++] = (uint8_t)(acc >> 4);
    } else if (m % 4 == 3) {
        if (acc & 0x3)
            return -1;
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    return (int)o;
}

void crypto_hex(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The value of hex digit C, or -1. */
static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int crypto_unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
