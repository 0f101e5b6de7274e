/* utf8.h — UTF-8 validation (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). Pure. */
#ifndef DWELL_UTF8_H
#define DWELL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the character starting at S (N > 0 bytes available) into *CP.
 * Returns its length (1..4), or 0 when the bytes there are not a
 * well-formed character (*CP then undefined). */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* True when S[0..N) is well-formed UTF-8. */
bool utf8_valid(const char *s, size_t n);

/* True when S[0..N) is well-formed UTF-8 without control characters
 * (C0, DEL or C1): text fit to show or store as a name. */
bool utf8_text_ok(const char *s, size_t n);

/* The length of the prefix of S[0..N) that is at most CAP bytes and ends
 * on a character boundary. *OK is cleared when that prefix is not
 * well-formed (the length is then up to the first bad byte); bytes past
 * the cap are read only to finish the character that straddles it. */
size_t utf8_cut(const char *s, size_t n, size_t cap, bool *ok);

#endif
