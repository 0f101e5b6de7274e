/* geo.c — see geo.h. The only file that includes <maxminddb.h>. */
#define _POSIX_C_SOURCE 200809L
#include "dwell/geo.h"
#include "dwell/clientaddr.h"

#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct geo {
    MMDB_s mmdb;
};

/* Writes "PATH: WHAT" to ERR when there is room; never overflows it. */
static void geo_error(char *err, size_t errlen, const char *path,
                      const char *what)
{
    if (err == NULL || errlen == 0)
        return;
    snprintf(err, errlen, "%s: %s", path, what);
}

/* Memory-maps PATH; on error ERR says which file and why. */
int geo_open(const char *path, struct geo **out, char *err, size_t errlen)
{
    if (path == NULL || out == NULL) {
        geo_error(err, errlen, "(null)", "no database path");
        return -1;
    }
    struct geo *g = calloc(1, sizeof *g);
    if (g == NULL) {
        geo_error(err, errlen, path, "out of memory");
        return -1;
    }
    errno = 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
    if (rc != MMDB_SUCCESS) {
        int saved = errno;
        char what[256];
        if ((rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) && saved != 0)
            snprintf(what, sizeof what, "%s: %s", MMDB_strerror(rc),
                     strerror(saved));
        else
            snprintf(what, sizeof what, "%s", MMDB_strerror(rc));
        geo_error(err, errlen, path, what);
        free(g);
        return -1;
    }
    *out = g;
    return 0;
}

/* Unmaps and frees G; NULL is fine. */
void geo_close(struct geo *g)
{
    if (g == NULL)
        return;
    MMDB_close(&g->mmdb);
    free(g);
}

/* Copies D to CC upper-cased when it is a two-letter ASCII string.
 * Returns true on success; leaves CC alone otherwise. */
static bool take_country(const MMDB_entry_data_s *d, char cc[3])
{
    if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING ||
        d->data_size != 2)
        return false;
    char c[2];
    for (int i = 0; i < 2; i++) {
        char ch = d->utf8_string[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z')
            return false;
        c[i] = ch;
    }
    cc[0] = c[0];
    cc[1] = c[1];
    cc[2] = '\0';
    return true;
}

/* CC is always set: a valid upper-case code or "--". */
void geo_country_of(const struct geo *g, const struct ipaddr *addr, char cc[3])
{
    cc[0] = '-';
    cc[1] = '-';
    cc[2] = '\0';
    if (g == NULL || addr == NULL)
        return;

    /* Plain IPv4 for mapped addresses: libmaxminddb finds IPv4 networks of
     * an IPv6 database through its IPv4 subtree (::/96), not ::ffff:0:0/96. */
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    if (ipaddr_is_v4(addr)) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr.s_addr, addr->b + 12, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(sin6.sin6_addr.s6_addr, addr->b, 16);
        sa = (const struct sockaddr *)&sin6;
    }

    int mmdb_err = MMDB_SUCCESS;
    MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&g->mmdb, sa, &mmdb_err);
    if (mmdb_err != MMDB_SUCCESS || !res.found_entry)
        return;

    MMDB_entry_data_s d;
    if (MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) ==
            MMDB_SUCCESS && take_country(&d, cc))
        return;
    if (MMDB_get_value(&res.entry, &d, "country_code", NULL) == MMDB_SUCCESS)
        take_country(&d, cc);
}
