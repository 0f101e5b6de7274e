/* visitor.h — cookieless visitor identity: a keyed hash of the site, the
 * client address and the user agent under a salt that lives one UTC day.
 * Neither the address nor the user agent leaves this computation. */
#ifndef DWELL_VISITOR_H
#define DWELL_VISITOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ipaddr;

#define VISITOR_SALT_LEN 16

/* The visitor hash: SipHash-2-4 under SALT of (site id, address, user agent).
 * The same inputs under the same salt give the same value; another salt gives
 * an unrelated one. UA may be NULL (treated as empty). */
uint64_t visitor_hash(const uint8_t salt[VISITOR_SALT_LEN], uint32_t site_id,
                      const struct ipaddr *addr, const char *ua, size_t ualen);

/* Fills SALT with bytes from the kernel's random source.
 * Returns 0, or -1 if the kernel could not give them. */
int visitor_new_salt(uint8_t salt[VISITOR_SALT_LEN]);

/* True when the salt of SALT_DAY is still live on TODAY (days since the
 * epoch, UTC): it is today's or yesterday's. Older salts must be destroyed. */
bool visitor_salt_live(uint32_t salt_day, uint32_t today);

#endif
