/* clientaddr.c — see clientaddr.h. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/clientaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Longest text accepted for one address: "[" IPv6 "]:" port, with room. */
#define ADDR_TEXT_MAX 64

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Sets OUT to the IPv4-mapped form of the 4 bytes at V4. */
static void ipaddr_set_v4(struct ipaddr *out, const uint8_t v4[4])
{
    memcpy(out->b, v4_prefix, sizeof v4_prefix);
    memcpy(out->b + 12, v4, 4);
}

/* AF_INET and AF_INET6 only; mapped IPv6 equals plain IPv4. */
int ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out)
{
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        ipaddr_set_v4(out, (const uint8_t *)&sin.sin_addr.s_addr);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        memcpy(out->b, sin6.sin6_addr.s6_addr, 16);
        return 0;
    }
    return -1;
}

/* True for the blanks allowed around an address. */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Narrows [*S, *S + *N) to drop leading and trailing blanks. */
static void trim_blanks(const char **s, size_t *n)
{
    while (*n > 0 && is_blank((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*s)[*n - 1]))
        (*n)--;
}

/* True when the N bytes at S are a decimal port 0..65535 (1 to 5 digits). */
static bool valid_port(const char *s, size_t n)
{
    if (n == 0 || n > 5)
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v <= 65535;
}

/* Parses the N bytes at S (no brackets, no port, no blanks) as a plain IPv4
 * or IPv6 address. Returns AF_INET or AF_INET6 and fills OUT, or -1. */
static int parse_plain(const char *s, size_t n, struct ipaddr *out)
{
    char buf[ADDR_TEXT_MAX];
    if (n == 0 || n >= sizeof buf || memchr(s, '\0', n) != NULL)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';

    uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        ipaddr_set_v4(out, v4);
        return AF_INET;
    }
    if (inet_pton(AF_INET6, buf, out->b) == 1)
        return AF_INET6;
    return -1;
}

/* Reads only S[0..N); OUT is written only on success. */
int ipaddr_parse(const char *s, size_t n, struct ipaddr *out)
{
    if (s == NULL || out == NULL)
        return -1;
    trim_blanks(&s, &n);
    if (n == 0)
        return -1;

    struct ipaddr a;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return -1;
        size_t inner = (size_t)(close - s) - 1;
        size_t rest = n - inner - 2;
        const char *after = close + 1;
        if (rest > 0 && (after[0] != ':' || !valid_port(after + 1, rest - 1)))
            return -1;
        if (parse_plain(s + 1, inner, &a) != AF_INET6)
            return -1;
        *out = a;
        return 0;
    }

    if (parse_plain(s, n, &a) >= 0) {
        *out = a;
        return 0;
    }

    /* "a.b.c.d:port": exactly one colon, an IPv4 address before it. */
    const char *colon = memchr(s, ':', n);
    if (colon == NULL)
        return -1;
    size_t host = (size_t)(colon - s);
    if (memchr(colon + 1, ':', n - host - 1) != NULL)
        return -1;
    if (!valid_port(colon + 1, n - host - 1))
        return -1;
    if (parse_plain(s, host, &a) != AF_INET)
        return -1;
    *out = a;
    return 0;
}

/* True for ::ffff:0:0/96. */
bool ipaddr_is_v4(const struct ipaddr *a)
{
    return memcmp(a->b, v4_prefix, sizeof v4_prefix) == 0;
}

/* Dotted quad for IPv4, RFC 5952 text for IPv6; -1 if LEN is short. */
int ipaddr_format(const struct ipaddr *a, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return -1;
    socklen_t sl = len > INET6_ADDRSTRLEN ? INET6_ADDRSTRLEN : (socklen_t)len;
    const char *r;
    if (ipaddr_is_v4(a))
        r = inet_ntop(AF_INET, a->b + 12, buf, sl);
    else
        r = inet_ntop(AF_INET6, a->b, buf, sl);
    if (r == NULL) {
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

/* Clears every bit of A past the first BITS (BITS <= 128). */
static void clear_host_bits(struct ipaddr *a, unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        if (bits >= 8 * (i + 1))
            continue;
        if (bits <= 8 * i)
            a->b[i] = 0;
        else
            a->b[i] &= (uint8_t)(0xff00u >> (bits - 8 * i));
    }
}

/* Plain address text, optional /BITS; OUT is written only on success. */
int cidr_parse(const char *s, struct cidr *out)
{
    if (s == NULL || out == NULL)
        return -1;
    size_t n = strlen(s);
    trim_blanks(&s, &n);

    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    struct cidr c;
    int family = parse_plain(s, alen, &c.net);
    if (family < 0)
        return -1;

    unsigned max = family == AF_INET ? 32 : 128;
    unsigned bits = max;
    if (slash != NULL) {
        const char *d = slash + 1;
        size_t dlen = n - alen - 1;
        if (dlen == 0 || dlen > 3)
            return -1;
        bits = 0;
        for (size_t i = 0; i < dlen; i++) {
            if (d[i] < '0' || d[i] > '9')
                return -1;
            bits = bits * 10 + (unsigned)(d[i] - '0');
        }
        if (bits > max)
            return -1;
    }
    if (family == AF_INET)
        bits += 96;
    clear_host_bits(&c.net, bits);
    c.bits = (uint8_t)bits;
    *out = c;
    return 0;
}

/* Compares the first C->bits bits of A with the network. */
bool cidr_contains(const struct cidr *c, const struct ipaddr *a)
{
    unsigned bits = c->bits;
    if (bits > 128)
        return false;
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(c->net.b, a->b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (c->net.b[whole] & mask) == (a->b[whole] & mask);
}

/* True when A lies inside one of the N networks at LIST. */
static bool trusted_addr(const struct ipaddr *a, const struct cidr *list,
                         size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cidr_contains(&list[i], a))
            return true;
    return false;
}

/* Never fails; OUT is PEER unless a trusted proxy named someone else. */
void clientaddr_resolve(const struct ipaddr *peer, const char *xff,
                        const struct cidr *trusted, size_t n,
                        struct ipaddr *out)
{
    struct ipaddr cur = *peer;
    if (xff == NULL || trusted == NULL || n == 0 ||
        !trusted_addr(&cur, trusted, n)) {
        *out = cur;
        return;
    }

    /* Walk from the right: each hop was appended by the proxy before it. */
    size_t end = strlen(xff);
    for (;;) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        struct ipaddr a;
        if (ipaddr_parse(xff + start, end - start, &a) != 0)
            break;
        cur = a;
        if (!trusted_addr(&cur, trusted, n))
            break;
        if (start == 0)
            break;
        end = start - 1;
    }
    *out = cur;
}
