/* clientaddr.h — the client's network address: parsing, CIDR trust lists and
 * the X-Forwarded-For walk. Pure functions; no I/O, no allocation. */
#ifndef DWELL_CLIENTADDR_H
#define DWELL_CLIENTADDR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct sockaddr;

/* An address in IPv6 form; IPv4 is held as IPv4-mapped (::ffff:a.b.c.d). */
struct ipaddr {
    uint8_t b[16];
};

/* A network: an address and a prefix length counted on the IPv6 form
 * (an IPv4 /24 is held as prefix 96 + 24 = 120). */
struct cidr {
    struct ipaddr net;
    uint8_t bits;
};

/* Fills OUT from an AF_INET or AF_INET6 socket address; an IPv4-mapped IPv6
 * socket address yields the same value as the plain IPv4 one.
 * Returns 0, or -1 for any other family. */
int ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out);

/* Parses the N bytes at S as a textual IPv4 or IPv6 address (surrounding
 * blanks allowed; an IPv6 address may be in brackets; a ":port" after an
 * IPv4 address or after "[v6]" is ignored). Returns 0, or -1 if invalid. */
int ipaddr_parse(const char *s, size_t n, struct ipaddr *out);

/* True when A is IPv4 (IPv4-mapped in its IPv6 form). */
bool ipaddr_is_v4(const struct ipaddr *a);

/* Writes A as text (dotted quad for IPv4) to BUF; returns 0, or -1 if LEN
 * is too small (46 bytes always suffice). */
int ipaddr_format(const struct ipaddr *a, char *buf, size_t len);

/* Parses "ADDR" or "ADDR/BITS" (IPv4 or IPv6). Host bits are cleared.
 * Returns 0, or -1 with nothing written if S is not a valid network. */
int cidr_parse(const char *s, struct cidr *out);

/* True when A lies inside network C. */
bool cidr_contains(const struct cidr *c, const struct ipaddr *a);

/* The client address of a request: PEER itself, unless PEER is inside one of
 * the N TRUSTED networks and XFF (the X-Forwarded-For header, may be NULL)
 * names addresses; then the rightmost address of XFF that is not trusted, or
 * the leftmost valid one if all are trusted. An unparsable entry ends the
 * walk at the last good address. Never fails; writes the result to OUT. */
void clientaddr_resolve(const struct ipaddr *peer, const char *xff,
                        const struct cidr *trusted, size_t n,
                        struct ipaddr *out);

#endif
