/* buf.h — a growable byte/text buffer with a hard cap, and the one
 * overflow-checked grow helper every growing array uses.
 *
 * A buffer's cap is given at creation: an append that would pass it, or
 * whose allocation fails, sets a sticky error instead; later appends do
 * nothing. The caller checks buf_failed() (or buf_take()'s NULL) once at
 * the end. The bytes are always NUL-terminated after the content. */
#ifndef DWELL_BUF_H
#define DWELL_BUF_H

#include "dwell/log.h"          /* DWELL_PRINTF */

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *p;            /* NULL until the first append */
    size_t n;           /* bytes held, not counting the NUL */
    size_t cap;         /* bytes allocated */
    size_t max;         /* the hard cap on N */
    bool failed;        /* sticky: an append passed MAX or out of memory */
};

/* Makes B an empty buffer that will never hold more than MAX bytes.
 * Allocates nothing; the caller frees with buf_free() or buf_take(). */
void buf_init(struct buf *b, size_t max);

/* Appends the N bytes at S (which may be NULL when N is 0). */
void buf_put(struct buf *b, const void *s, size_t n);

/* Appends the NUL-terminated S. */
void buf_str(struct buf *b, const char *s);

/* Appends the formatted text; a result longer than the cap fails B. */
void buf_printf(struct buf *b, const char *fmt, ...) DWELL_PRINTF(2, 3);

/* True once an append failed; the content is then incomplete. */
bool buf_failed(const struct buf *b);

/* Empties B (keeping its memory and clearing a failure). */
void buf_reset(struct buf *b);

/* Hands the NUL-terminated content to the caller (who frees it with
 * free()) and sets *LEN (LEN may be NULL). Returns NULL, freeing
 * everything, when an append failed; an untouched buffer gives "". B is
 * empty afterwards either way. */
char *buf_take(struct buf *b, size_t *len);

/* Frees B's memory; B is empty afterwards. */
void buf_free(struct buf *b);

/* Makes the array *PP (of *CAP elements of SIZE bytes) hold at least NEED
 * elements, at most MAX: doubles (from 16) and reallocates, checking every
 * multiplication. Returns 0, or -1 (nothing changed) when NEED > MAX, the
 * size overflows or the allocation fails. PP is the address of the
 * caller's pointer (a T **). */
int buf_grow_array(void *pp, size_t *cap, size_t need, size_t size,
                   size_t max);

#endif
