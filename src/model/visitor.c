/* visitor.c — see visitor.h. SipHash-2-4 is base/crypto's, streamed so
 * that a long user agent needs no copy. */
#include "dwell/visitor.h"
#include "base/crypto.h"
#include "dwell/clientaddr.h"

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
