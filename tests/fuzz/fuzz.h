/* fuzz.h — what the libFuzzer targets of tests/fuzz/ share: the entry
 * point's prototype, a check that aborts (so libFuzzer keeps the input),
 * a query string split the way libmicrohttpd hands it to dwell, and the
 * checks every parsed string must pass. Each target is one .c file linked
 * alone with the objects of src/{base,model,store,query}/ (make fuzz). */
#ifndef DWELL_FUZZ_H
#define DWELL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the condition and its line when COND is false: libFuzzer
 * then saves the input as a crash. */
#define FUZZ_CHECK(cond)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* True when the CAP bytes at S hold a NUL (a string that fits its array). */
static inline int fuzz_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

#define FUZZ_MAX_ARGS 64

/* A query string split at '&' and '=' and percent-decoded: what
 * libmicrohttpd's MHD_lookup_connection_value returns for GET arguments
 * (the first of repeated keys; a key without '=' has no value; "%00" ends
 * the value as a C string does). */
struct fuzz_args {
    size_t n;
    const char *key[FUZZ_MAX_ARGS];
    const char *val[FUZZ_MAX_ARGS];
    char *buf;                 /* malloc'd, freed by fuzz_args_free */
};

/* Decodes %XX in place in the NUL-terminated S. */
static inline void fuzz_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        uint8_t byte;
        if (r[0] == '%' && r[1] && r[2] && crypto_unhex(r + 1, 1, &byte) == 0) {
            *w++ = (char)byte;
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Splits the SIZE bytes at DATA (a query string, without '?') into A. */
static inline void fuzz_args_parse(struct fuzz_args *a, const uint8_t *data,
                                   size_t size)
{
    a->n = 0;
    a->buf = malloc(size + 1);
    if (a->buf == NULL)
        abort();
    memcpy(a->buf, data, size);
    a->buf[size] = '\0';
    char *p = a->buf;
    while (p != NULL && *p != '\0' && a->n < FUZZ_MAX_ARGS) {
        char *amp = strchr(p, '&');
        if (amp != NULL)
            *amp++ = '\0';
        char *eq = strchr(p, '=');
        if (eq != NULL) {
            *eq++ = '\0';
            fuzz_unescape(eq);
        }
        fuzz_unescape(p);
        a->key[a->n] = p;
        a->val[a->n] = eq;
        a->n++;
        p = amp;
    }
}

static inline void fuzz_args_free(struct fuzz_args *a)
{
    free(a->buf);
    a->buf = NULL;
}

/* The value of KEY in the fuzz_args CTX, or NULL: the lookup dwell's
 * front ends hand to the parsers. */
static inline const char *fuzz_arg(void *ctx, const char *key)
{
    const struct fuzz_args *a = ctx;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->key[i], key) == 0)
            return a->val[i];
    return NULL;
}

#endif
