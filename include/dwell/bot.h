/* bot.h — telling automated clients from readers by their user agent. */
#ifndef DWELL_BOT_H
#define DWELL_BOT_H

#include <stddef.h>
#include <stdbool.h>

/* True when the LEN bytes of UA name a crawler, a headless or automated
 * browser, a monitoring probe or an HTTP library, or when UA is empty or
 * NULL. Case-insensitive; never reads past UA + LEN. */
bool bot_user_agent(const char *ua, size_t len);

#endif
