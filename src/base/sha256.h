/* sha256.h — SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104). Pure. */
#ifndef DWELL_SHA256_H
#define DWELL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* Writes the SHA-256 digest of the LEN bytes at DATA to OUT. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* Writes HMAC-SHA-256 of MSG under KEY to OUT. */
void hmac_sha256(const void *key, size_t keylen, const void *msg,
                 size_t msglen, uint8_t out[SHA256_LEN]);

/* Compares N bytes in time that does not depend on where they differ.
 * Returns 1 when equal. */
int sha256_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
