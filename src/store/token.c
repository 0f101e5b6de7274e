/* token.c — see token.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/token.h"

#include <stdio.h>
#include <string.h>

#include "base/sha256.h"
#include "dwell/visitor.h"

int token_create(struct store *st, const char *site, enum store_scope scope,
                 const char *name, char *text, char *id, char *err,
                 size_t errlen)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t rnd[32];
    if (visitor_new_salt(rnd) != 0 || visitor_new_salt(rnd + 16) != 0) {
        snprintf(err, errlen, "no randomness available");
        return -1;
    }
    memcpy(text, "dw_", 3);
    for (int i = 0; i < 32; i++)
        text[3 + i] = abc[rnd[i] & 63];
    text[TOKEN_TEXT_LEN] = '\0';
    struct store_token t = { .scope = scope, .created_us = store_now_us() };
    sha256(text, TOKEN_TEXT_LEN, t.hash);
    snprintf(t.site, sizeof t.site, "%s", site);
    snprintf(t.name, sizeof t.name, "%s", name ? name : "");
    if (store_token_put(st, &t, err, errlen) != 0)
        return -1;
    token_id(&t, id);
    return 0;
}

void token_id(const struct store_token *t, char id[TOKEN_ID_LEN + 1])
{
    for (int i = 0; i < TOKEN_ID_LEN / 2; i++)
        snprintf(id + 2 * i, 3, "%02x", t->hash[i]);
}

enum token_verdict token_authorize(struct store *st, const char *text,
                                   const char *site, bool write)
{
    if (text == NULL || text[0] == '\0')
        return TOKEN_MISSING;
    uint8_t hash[SHA256_LEN];
    sha256(text, strlen(text), hash);
    struct store_token t;
    int rc = store_token_get(st, hash, &t);
    if (rc < 0)
        return TOKEN_ERROR;
    if (rc > 0 || !sha256_equal(hash, t.hash, SHA256_LEN))
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
    for (size_t i = 0; i < len; i++) {
        char c = id_prefix[i];
        int v = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            prefix[i / 2] = (uint8_t)(v << 4);
        else
            prefix[i / 2] |= (uint8_t)v;
    }
    return store_token_delete(st, prefix, len / 2);
}
