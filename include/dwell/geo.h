/* geo.h — country of an address, from a MaxMind DB file (.mmdb).
 * Reads either schema: GeoIP2/GeoLite2/DB-IP (country.iso_code) or
 * ip-location-db (country_code). Nothing outside geo.c includes <maxminddb.h>. */
#ifndef DWELL_GEO_H
#define DWELL_GEO_H

#include <stddef.h>

struct geo;
struct ipaddr;

/* Opens the database at PATH (memory-mapped). On success returns 0 and sets
 * *OUT, which the caller frees with geo_close(). On error returns -1 and
 * writes a reason to ERR. */
int geo_open(const char *path, struct geo **out, char *err, size_t errlen);

/* Closes G; G may be NULL. */
void geo_close(struct geo *g);

/* Writes the upper-case ISO 3166-1 alpha-2 country of ADDR to CC (always
 * NUL-terminated), or "--" when G is NULL, the address is not in the
 * database, or the record has no usable country. Safe from many threads. */
void geo_country_of(const struct geo *g, const struct ipaddr *addr, char cc[3]);

#endif
