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

/* The same hash keyed by the site's NAME (SITELEN bytes) instead of its
 * numeric id, which two data directories may assign differently: what a
 * cluster of collectors uses, so that one reader has one hash on all of
 * them. Never equal by construction to visitor_hash's encoding. */
uint64_t visitor_hash_named(const uint8_t salt[VISITOR_SALT_LEN],
                            const char *site, size_t sitelen,
                            const struct ipaddr *addr, const char *ua,
                            size_t ualen);

/* --- the cluster secret ------------------------------------------------ */

#define VISITOR_SECRET_MAX  4096    /* bytes of a cluster secret at most */
#define VISITOR_SECRET_BITS 256     /* its entropy at least, as estimated */
#define VISITOR_KEY_LEN     32      /* the keyed-hash secret it derives */

/* What every node derives from the cluster secret: HKDF-SHA256's
 * pseudorandom key (RFC 5869, the extract step, no salt). */
struct visitor_cluster {
    uint8_t prk[32];
};

/* Checks that the N bytes at SECRET can be a cluster secret: at most
 * VISITOR_SECRET_MAX bytes and at least VISITOR_SECRET_BITS of entropy as
 * its alphabet can carry (hex digits 4 bits each, base64 or other
 * printable text 6, anything else 8: 64 hex digits, 43 base64 characters
 * or 32 random bytes). Returns 0, or -1 with a reason a person can act on
 * in ERR. */
int visitor_secret_check(const void *secret, size_t n, char *err,
                         size_t errlen);

/* Derives C from the N bytes at SECRET (HKDF-Extract). */
void visitor_cluster_init(struct visitor_cluster *c, const void *secret,
                          size_t n);

/* The salt of DAY (days since the epoch, UTC) under C: HKDF-Expand of
 * "dwell visitor salt v1" || DAY (4 bytes, big-endian). The same secret
 * gives every node the same salt; any other gives an unrelated one. */
void visitor_cluster_salt(const struct visitor_cluster *c, uint32_t day,
                          uint8_t salt[VISITOR_SALT_LEN]);

/* The store's keyed-hash secret under C (HKDF-Expand of "dwell keyed hash
 * v1"): e-mail and identity keys then agree between nodes. */
void visitor_cluster_key(const struct visitor_cluster *c,
                         uint8_t key[VISITOR_KEY_LEN]);

/* Fills SALT with bytes from the kernel's random source.
 * Returns 0, or -1 if the kernel could not give them. */
int visitor_new_salt(uint8_t salt[VISITOR_SALT_LEN]);

/* True when the salt of SALT_DAY is still live on TODAY (days since the
 * epoch, UTC): it is today's or yesterday's. Older salts must be destroyed. */
bool visitor_salt_live(uint32_t salt_day, uint32_t today);

#endif
