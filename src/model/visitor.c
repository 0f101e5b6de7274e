/* visitor.c — see visitor.h. SipHash-2-4 is base/crypto's, streamed so
 * that a long user agent needs no copy. */
#include "dwell/visitor.h"
#include "base/crypto.h"
#include "dwell/clientaddr.h"

#include <stdio.h>
#include <string.h>

/* SipHash-2-4 under SALT of site id (LE32) || 16 address bytes || UA. */
uint64_t visitor_hash(const uint8_t salt[VISITOR_SALT_LEN], uint32_t site_id,
                      const struct ipaddr *addr, const char *ua, size_t ualen)
{
    /* Fixed-width fields first, the user agent last: no two inputs share an
     * encoding. The site id is little-endian whatever the host. */
    uint8_t head[4 + sizeof addr->b];
    for (int i = 0; i < 4; i++)
        head[i] = (uint8_t)(site_id >> (8 * i));
    memcpy(head + 4, addr->b, sizeof addr->b);

    struct crypto_sip s;
    crypto_sip_init(&s, salt);
    crypto_sip_update(&s, head, sizeof head);
    if (ua != NULL && ualen > 0)
        crypto_sip_update(&s, ua, ualen);
    return crypto_sip_final(&s);
}

/* SipHash-2-4 under SALT of 0xff || name length (1) || name || 16 address
 * bytes || UA. A site id's first byte is never 0xff below 2^24 sites, but
 * the salts differ anyway: a cluster's are derived, a node's random. */
uint64_t visitor_hash_named(const uint8_t salt[VISITOR_SALT_LEN],
                            const char *site, size_t sitelen,
                            const struct ipaddr *addr, const char *ua,
                            size_t ualen)
{
    uint8_t head[2];
    if (sitelen > 255)
        sitelen = 255;
    head[0] = 0xff;
    head[1] = (uint8_t)sitelen;
    struct crypto_sip s;
    crypto_sip_init(&s, salt);
    crypto_sip_update(&s, head, sizeof head);
    crypto_sip_update(&s, site, sitelen);
    crypto_sip_update(&s, addr->b, sizeof addr->b);
    if (ua != NULL && ualen > 0)
        crypto_sip_update(&s, ua, ualen);
    return crypto_sip_final(&s);
}

/* Bits a character of SECRET's alphabet carries: 4 for hex digits only, 6
 * for printable ASCII (base64, a passphrase), 8 for anything else. */
static unsigned secret_bits_per_byte(const uint8_t *p, size_t n)
{
    bool hex = true, text = true;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            hex = false;
        if (c < 0x20 || c > 0x7e)
            text = false;
    }
    return hex ? 4 : text ? 6 : 8;
}

int visitor_secret_check(const void *secret, size_t n, char *err,
                         size_t errlen)
{
    if (n > VISITOR_SECRET_MAX) {
        snprintf(err, errlen, "the cluster secret is %zu bytes, at most %d",
                 n, VISITOR_SECRET_MAX);
        return -1;
    }
    unsigned bits = secret_bits_per_byte(secret, n);
    if (n * bits >= VISITOR_SECRET_BITS)
        return 0;
    snprintf(err, errlen, "the cluster secret is too short: %zu %s carry at "
             "most %zu bits, and at least %d are needed so that no one can "
             "guess it and recompute the visitor salts (make one with: "
             "openssl rand -hex 32)", n,
             bits == 4 ? "hex digits" : bits == 6 ? "characters" : "bytes",
             n * bits, VISITOR_SECRET_BITS);
    return -1;
}

void visitor_cluster_init(struct visitor_cluster *c, const void *secret,
                          size_t n)
{
    crypto_hkdf_extract(NULL, 0, secret, n, c->prk);
}

void visitor_cluster_salt(const struct visitor_cluster *c, uint32_t day,
                          uint8_t salt[VISITOR_SALT_LEN])
{
    static const char label[] = "dwell visitor salt v1";
    uint8_t info[sizeof label - 1 + 4];
    memcpy(info, label, sizeof label - 1);
    for (int i = 0; i < 4; i++)
        info[sizeof label - 1 + i] = (uint8_t)(day >> (24 - 8 * i));
    crypto_hkdf_expand(c->prk, info, sizeof info, salt,
                       VISITOR_SALT_LEN);
}

void visitor_cluster_key(const struct visitor_cluster *c,
                         uint8_t key[VISITOR_KEY_LEN])
{
    static const char label[] = "dwell keyed hash v1";
    crypto_hkdf_expand(c->prk, label, sizeof label - 1, key,
                       VISITOR_KEY_LEN);
}

/* The kernel's random bytes (base/crypto). */
int visitor_new_salt(uint8_t salt[VISITOR_SALT_LEN])
{
    return crypto_random(salt, VISITOR_SALT_LEN);
}

/* Today's or yesterday's salt; never a future one. */
bool visitor_salt_live(uint32_t salt_day, uint32_t today)
{
    return salt_day == today || (today > 0 && salt_day == today - 1);
}
