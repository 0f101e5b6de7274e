/* crypto.h — the hashes, MACs and encodings dwell uses, in one place.
 * SHA-1, SHA-256 and HMAC are nettle's (crypto.c is the only file that
 * includes <nettle/...>); SipHash-2-4 is our own (nettle 3.8 has none).
 * Every function is pure except crypto_random(); none allocates. */
#ifndef DWELL_CRYPTO_H
#define DWELL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA1_LEN   20
#define CRYPTO_SHA256_LEN 32
#define CRYPTO_MAC_MAX    CRYPTO_SHA256_LEN     /* the longest digest */

/* Bytes base64 needs for N input bytes with padding, without the NUL. */
#define CRYPTO_BASE64_LEN(n) (((n) + 2) / 3 * 4)

enum crypto_hash { CRYPTO_SHA1, CRYPTO_SHA256 };

/* The digest length of H in bytes (20 or 32). */
size_t crypto_hash_len(enum crypto_hash h);

/* Writes the SHA-1 (FIPS 180-4) digest of the LEN bytes at DATA to OUT.
 * Only for checking what a third party signs with it (Help Scout). */
void crypto_sha1(const void *data, size_t len, uint8_t out[CRYPTO_SHA1_LEN]);

/* Writes the SHA-256 (FIPS 180-4) digest of the LEN bytes at DATA to OUT. */
void crypto_sha256(const void *data, size_t len,
                   uint8_t out[CRYPTO_SHA256_LEN]);

/* Writes HMAC-H (RFC 2104) of MSG under KEY to OUT, crypto_hash_len(H)
 * bytes. KEY may be NULL when KEYLEN is 0, MSG when MSGLEN is 0. */
void crypto_hmac(enum crypto_hash h, const void *key, size_t keylen,
                 const void *msg, size_t msglen, uint8_t *out);

/* HKDF-SHA256 (RFC 5869): extracts a pseudorandom key from the IKMLEN
 * bytes at IKM under SALT (NULL when SALTLEN is 0: HashLen zero bytes),
 * then expands it with INFO (NULL when INFOLEN is 0) into OUTLEN bytes at
 * OUT. Returns 0, or -1 (OUT untouched) when OUTLEN is 0 or above
 * 255 * 32. */
int crypto_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm,
                       size_t ikmlen, const void *info, size_t infolen,
                       uint8_t *out, size_t outlen);

/* HKDF-SHA256's two steps, for a caller that expands one key many times:
 * extract writes PRK from SALT (as above) and IKM; expand writes OUTLEN
 * bytes of PRK expanded with INFO to OUT (0, or -1 as above). */
void crypto_hkdf_extract(const void *salt, size_t saltlen, const void *ikm,
                         size_t ikmlen, uint8_t prk[CRYPTO_SHA256_LEN]);
int crypto_hkdf_expand(const uint8_t prk[CRYPTO_SHA256_LEN],
                       const void *info, size_t infolen, uint8_t *out,
                       size_t outlen);

/* SipHash-2-4, streamed: the value depends only on the concatenation of
 * the bytes absorbed, not on how they were split among updates. */
struct crypto_sip {
    uint64_t v0, v1, v2, v3;
    uint8_t tail[8];    /* bytes not yet folded in */
    size_t ntail;
    uint64_t total;     /* bytes absorbed so far */
};

void crypto_sip_init(struct crypto_sip *s, const uint8_t key[16]);
void crypto_sip_update(struct crypto_sip *s, const void *data, size_t len);
uint64_t crypto_sip_final(struct crypto_sip *s);

/* The reference SipHash-2-4 value of DATA (NULL when LEN is 0) under KEY. */
uint64_t crypto_siphash24(const uint8_t key[16], const void *data,
                          size_t len);

/* Fills BUF with N bytes from getrandom(2) (retried on EINTR). Returns 0,
 * or -1 when the kernel refuses (BUF is then undefined). */
int crypto_random(void *buf, size_t n);

/* True when the N bytes at A and B are equal; the time taken does not
 * depend on where they differ. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Writes base64 (RFC 4648 §4, padded) of the N bytes at IN to OUT and a
 * NUL. Returns the length written, or -1 (OUT untouched) when CAP is less
 * than CRYPTO_BASE64_LEN(N) + 1. */
int crypto_base64(const void *in, size_t n, char *out, size_t cap);

/* The same in base64url (RFC 4648 §5) without padding. */
int crypto_base64url(const void *in, size_t n, char *out, size_t cap);

/* Decodes base64 (padded; URL=false) or base64url (padding optional;
 * URL=true) S[0..N) into OUT. Returns the byte count, or -1 on a character
 * outside the alphabet, a bad length or padding, or when CAP is too small. */
int crypto_unbase64(const char *s, size_t n, bool url, uint8_t *out,
                    size_t cap);

/* Writes 2*N lower-case hex digits of IN and a NUL to OUT. */
void crypto_hex(const void *in, size_t n, char *out);

/* Decodes the 2*N hex digits (either case) at S into OUT[0..N). Returns 0,
 * or -1 on a non-hex character. */
int crypto_unhex(const char *s, size_t n, uint8_t *out);

#endif
