/* buf.c — see buf.h. */
#include "base/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_grow_array(void *pp, size_t *cap, size_t need, size_t size,
                   size_t max)
{
    if (need <= *cap)
        return 0;
    if (need > max || size == 0)
        return -1;
    size_t ncap = *cap >= 16 ? *cap : 16;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > max)
        ncap = max;
    if (ncap > SIZE_MAX / size)
        return -1;
    void *old;
    memcpy(&old, pp, sizeof old);
    void *p = realloc(old, ncap * size);
    if (p == NULL)
        return -1;
    memcpy(pp, &p, sizeof p);
    *cap = ncap;
    return 0;
}

void buf_init(struct buf *b, size_t max)
{
    b->p = NULL;
    b->n = 0;
    b->cap = 0;
    b->max = max < SIZE_MAX ? max : SIZE_MAX - 1;
    b->failed = false;
}

void buf_put(struct buf *b, const void *s, size_t n)
{
    if (b->failed)
        return;
    if (n > b->max - b->n) {
        b->failed = true;
        return;
    }
    /* +1 for the NUL: the cap counts content, so it may need one more. */
    if (buf_grow_array(&b->p, &b->cap, b->n + n + 1, 1, b->max + 1) != 0) {
        b->failed = true;
        return;
    }
    if (n > 0)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_put(b, small, (size_t)n);
        return;
    }
    /* Longer: reserve room in place, then format into it. */
    size_t len = (size_t)n;
    if (b->failed)
        return;
    if (len > b->max - b->n ||
        buf_grow_array(&b->p, &b->cap, b->n + len + 1, 1, b->max + 1) != 0) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, len + 1, fmt, ap);
    va_end(ap);
    b->n += len;
}

bool buf_failed(const struct buf *b)
{
    return b->failed;
}

void buf_reset(struct buf *b)
{
    b->n = 0;
    b->failed = false;
    if (b->p != NULL)
        b->p[0] = '\0';
}

char *buf_take(struct buf *b, size_t *len)
{
    char *p = b->p;
    size_t n = b->n;
    bool failed = b->failed;
    buf_init(b, b->max);
    if (failed) {
        free(p);
        return NULL;
    }
    if (p == NULL)
        p = calloc(1, 1);
    if (p != NULL && len != NULL)
        *len = n;
    return p;
}

void buf_free(struct buf *b)
{
    free(b->p);
    buf_init(b, b->max);
}
