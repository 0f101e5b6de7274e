/* sha1.h — SHA-1 (RFC 3174) and HMAC-SHA1 (RFC 2104). Pure.
 * Only for checking signatures a third party makes with it (Help Scout's
 * webhooks); dwell's own hashing is SHA-256. */
#ifndef DWELL_SHA1_H
#define DWELL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

/* Writes the SHA-1 digest of the LEN bytes at DATA to OUT. */
void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

/* Writes HMAC-SHA1 of MSG under KEY to OUT. */
void hmac_sha1(const void *key, size_t keylen, const void *msg, size_t msglen,
               uint8_t out[SHA1_LEN]);

#endif
