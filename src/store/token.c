/* token.c — see token.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/token.h"
#include "base/crypto.h"

#include <stdio.h>
#include <string.h>

int token_create(struct store *st, const char *site, enum store_scope scope,
                 const char *name, char *text, char *id, char *err,
                 size_t errlen)
{
    uint8_t rnd[24];                    /* 192 bits: 32 base64url digits */
    memcpy(text, "dw_", 3);
    if (crypto_random(rnd, sizeof rnd) != 0 ||
        crypto_base64url(rnd, sizeof rnd, text + 3, TOKEN_TEXT_LEN - 2) != 32) {
        snprintf(err, errlen, "no randomness available");
        return -1;
    }
    struct store_token t = { .scope = scope, .created_us = store_now_us() };
    crypto_sha256(text, TOKEN_TEXT_LEN, t.hash);
    snprintf(t.site, sizeof t.site, "%s", site);
    snprintf(t.name, sizeof t.name, "%s", name ? name : "");
    if (store_token_put(st, &t, err, errlen) != 0)
        return -1;
    token_id(&t, id);
    return 0;
}

void token_id(const struct store_token *t, char id[TOKEN_ID_LEN + 1])
{
    crypto_hex(t->hash, TOKEN_ID_LEN / 2, id);
}

enum token_verdict token_authorize(struct store *st, const char *text,
                                   const char *site, bool write)
{
    if (text == NULL || text[0] == '\0')
        return TOKEN_MISSING;
    uint8_t hash[CRYPTO_SHA256_LEN];
    crypto_sha256(text, strlen(text), hash);
    struct store_token t;
    int rc = store_token_get(st, hash, &t);
    if (rc < 0)
        return TOKEN_ERROR;
    if (rc > 0 || !crypto_equal(hash, t.hash, CRYPTO_SHA256_LEN))
        return TOKEN_INVALID;
    if (strcmp(t.site, site) != 0)
        return TOKEN_WRONG_SITE;
    if (write && t.scope == STORE_SCOPE_READ)
        return TOKEN_READ_ONLY;
    return TOKEN_OK;
}

int token_revoke(struct store *st, const char *id_prefix)
{
    uint8_t prefix[TOKEN_ID_LEN / 2];
    size_t len = strlen(id_prefix);
    if (len < 6 || len > TOKEN_ID_LEN || len % 2)
        return -1;
    if (crypto_unhex(id_prefix, len / 2, prefix) != 0)
        return -1;
    return store_token_delete(st, prefix, len / 2);
}
