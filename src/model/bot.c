/* bot.c — see bot.h. */
#include "dwell/bot.h"

#include <string.h>

/* Lower-case fragments that mark an automated client wherever they appear. */
static const char *const bot_patterns[] = {
    /* crawlers */
    "bot", "crawl", "spider", "slurp", "scrapy", "ahrefs", "semrush",
    "facebookexternalhit", "preview",
    /* headless and automated browsers */
    "headless", "phantomjs", "puppeteer", "playwright", "selenium",
    "lighthouse",
    /* monitoring probes */
    "pingdom", "uptimerobot", "statuscake", "monitor",
    /* HTTP libraries and command-line tools */
    "curl/", "wget/", "python-requests", "python-urllib", "go-http-client",
    "java/", "okhttp", "libwww", "httpclient", "axios/", "node-fetch",
};

/* C lower-cased if it is an ASCII capital; any other byte unchanged. */
static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* True when the lower-case NUL-terminated PAT occurs in the LEN bytes at S,
 * ignoring ASCII case. Reads nothing outside S[0..LEN). */
static bool contains_nocase(const char *s, size_t len, const char *pat)
{
    size_t plen = strlen(pat);
    if (plen == 0 || plen > len)
        return plen == 0;
    const unsigned char *u = (const unsigned char *)s;
    const unsigned char *p = (const unsigned char *)pat;
    for (size_t i = 0; i + plen <= len; i++) {
        if (ascii_lower(u[i]) != p[0])
            continue;
        size_t j = 1;
        while (j < plen && ascii_lower(u[i + j]) == p[j])
            j++;
        if (j == plen)
            return true;
    }
    return false;
}

/* NULL, empty or blank UAs and any listed pattern count as bots. */
bool bot_user_agent(const char *ua, size_t len)
{
    if (ua == NULL)
        return true;
    size_t i = 0;
    while (i < len && (ua[i] == ' ' || ua[i] == '\t'))
        i++;
    if (i == len)
        return true;    /* empty or only blanks */
    for (size_t k = 0; k < sizeof bot_patterns / sizeof bot_patterns[0]; k++)
        if (contains_nocase(ua, len, bot_patterns[k]))
            return true;
    return false;
}
