/* bot.c — see bot.h. */
#include "dwell/bot.h"

#include <pthread.h>
#include <stdint.h>
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

#define NPATTERNS (sizeof bot_patterns / sizeof bot_patterns[0])
_Static_assert(NPATTERNS <= 32, "the patterns' first bytes are 32-bit masks");

/* For each byte, the patterns that start with it lower-cased (bit k for
 * bot_patterns[k]), and each pattern's length: made once. */
static uint32_t starts_with[256];
static size_t pattern_len[NPATTERNS];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
    for (size_t k = 0; k < NPATTERNS; k++) {
        unsigned char c = (unsigned char)bot_patterns[k][0];
        starts_with[c] |= 1u << k;
        if (c >= 'a' && c <= 'z')
            starts_with[c - ('a' - 'A')] |= 1u << k;
        pattern_len[k] = strlen(bot_patterns[k]);
    }
}

/* C lower-cased if it is an ASCII capital; any other byte unchanged. */
static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* True when pattern K, whose first byte matched, occurs at the N bytes at
 * U, ignoring ASCII case. Reads nothing outside U[0..N). */
static bool pattern_at(const unsigned char *u, size_t n, size_t k)
{
    const unsigned char *p = (const unsigned char *)bot_patterns[k];
    size_t plen = pattern_len[k];
    if (plen > n)
        return false;
    for (size_t j = 1; j < plen; j++)
        if (ascii_lower(u[j]) != p[j])
            return false;
    return true;
}

/* NULL, empty or blank UAs and any listed pattern count as bots. One pass
 * over the UA: at each byte, only the patterns starting with that byte
 * are compared (it tried every pattern at every byte, 30 passes). */
bool bot_user_agent(const char *ua, size_t len)
{
    if (ua == NULL)
        return true;
    size_t i = 0;
    while (i < len && (ua[i] == ' ' || ua[i] == '\t'))
        i++;
    if (i == len)
        return true;    /* empty or only blanks */
    pthread_once(&tables_once, tables_init);
    const unsigned char *u = (const unsigned char *)ua;
    for (; i < len; i++) {
        uint32_t m = starts_with[u[i]];
        while (m != 0) {
            size_t k = (size_t)__builtin_ctz(m);
            m &= m - 1;
            if (pattern_at(u + i, len - i, k))
                return true;
        }
    }
    return false;
}
