/* token.h — access tokens for reports and webhooks: making them, and
 * deciding whether a request's token may read a site. Tokens are shown once
 * at creation; the store keeps only their SHA-256, compared in constant
 * time. */
#ifndef DWELL_TOKEN_H
#define DWELL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "dwell/store.h"

#define TOKEN_TEXT_LEN 35      /* "dw_" + 32 characters of [A-Za-z0-9_-] */
#define TOKEN_ID_LEN 12        /* hex digits of the hash shown as its id */

/* Makes a new token for SITE with SCOPE and NAME, stores its hash and
 * writes the token's text to TEXT (TOKEN_TEXT_LEN + 1 bytes) and its id to
 * ID (TOKEN_ID_LEN + 1 bytes). Returns 0, or -1 with a reason in ERR. */
int token_create(struct store *st, const char *site, enum store_scope scope,
                 const char *name, char *text, char *id, char *err,
                 size_t errlen);

/* Writes the id (first hex digits of the hash) of token T to ID. */
void token_id(const struct store_token *t, char id[TOKEN_ID_LEN + 1]);

enum token_verdict {
    TOKEN_OK,
    TOKEN_MISSING,             /* 401 */
    TOKEN_INVALID,             /* 401 */
    TOKEN_WRONG_SITE,          /* 403 */
    TOKEN_READ_ONLY,           /* 403: a write needs a full token */
    TOKEN_ERROR                /* 500 */
};

/* Decides whether TEXT (may be NULL) grants access to SITE, for writing
 * too when WRITE. */
enum token_verdict token_authorize(struct store *st, const char *text,
                                   const char *site, bool write);

/* Revokes the token whose id starts with ID_PREFIX (at least 6 hex
 * digits). Returns 0; 1 if none matches; 2 if ambiguous; -1 otherwise. */
int token_revoke(struct store *st, const char *id_prefix);

#endif
