/* test_geo.c — country lookups in both .mmdb schemas.
 * The databases come from tests/tools/make-mmdb.pl, in the directory named by
 * DWELL_TEST_GEO_DIR; without it, this test writes them to a temporary
 * directory itself (run from the repository root). */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "dwell/clientaddr.h"
#include "dwell/geo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char geo_dir[4096];
static int own_dir;             /* geo_dir is ours to remove at the end */

/* Writes DIR/NAME to BUF. */
static const char *db_path(char *buf, size_t len, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", geo_dir, name);
    if (n < 0 || (size_t)n >= len)
        return "(path too long)";
    return buf;
}

/* Opens DIR/NAME, which the test expects to succeed; NULL otherwise. */
static struct geo *open_db(const char *name)
{
    char path[4200], err[256] = "";
    struct geo *g = NULL;
    if (geo_open(db_path(path, sizeof path, name), &g, err, sizeof err) != 0) {
        printf("  %s\n", err);
        return NULL;
    }
    return g;
}

/* The country of the textual address S in G. */
static const char *country(const struct geo *g, const char *s)
{
    static char cc[3];
    struct ipaddr a;
    if (ipaddr_parse(s, strlen(s), &a) != 0)
        return "(bad address)";
    memset(cc, 'x', sizeof cc);
    geo_country_of(g, &a, cc);
    return cc;
}

TEST(databases_are_available)
{
    char path[4200];
    CHECK(geo_dir[0] != '\0');
    CHECK(access(db_path(path, sizeof path, "geo-maxmind.mmdb"), R_OK) == 0);
    CHECK(access(db_path(path, sizeof path, "geo-iplocation.mmdb"), R_OK) == 0);
    CHECK(access(db_path(path, sizeof path, "geo-broken.mmdb"), R_OK) == 0);
}

TEST(maxmind_schema_ipv4_lookups)
{
    struct geo *g = open_db("geo-maxmind.mmdb");
    CHECK(g != NULL);
    char gb[3], us[3], se[3];
    memcpy(gb, country(g, "81.2.69.160"), 3);
    memcpy(us, country(g, "216.160.83.56"), 3);
    memcpy(se, country(g, "89.160.20.0"), 3);
    geo_close(g);
    CHECK_EQ_STR(gb, "GB");
    CHECK_EQ_STR(us, "US");
    CHECK_EQ_STR(se, "SE");
}

TEST(maxmind_schema_ipv6_lookups)
{
    struct geo *g = open_db("geo-maxmind.mmdb");
    CHECK(g != NULL);
    char no[3], jp[3];
    memcpy(no, country(g, "2a02:cf40::1"), 3);
    memcpy(jp, country(g, "2001:218:ffff::42"), 3);
    geo_close(g);
    CHECK_EQ_STR(no, "NO");
    CHECK_EQ_STR(jp, "JP");
}

TEST(iplocation_schema_ipv4_and_ipv6_lookups)
{
    struct geo *g = open_db("geo-iplocation.mmdb");
    CHECK(g != NULL);
    char r[5][3];
    memcpy(r[0], country(g, "81.2.69.1"), 3);
    memcpy(r[1], country(g, "216.160.83.255"), 3);
    memcpy(r[2], country(g, "89.160.20.128"), 3);
    memcpy(r[3], country(g, "2a02:cf40:1234::"), 3);
    memcpy(r[4], country(g, "2001:218::1"), 3);
    geo_close(g);
    CHECK_EQ_STR(r[0], "GB");
    CHECK_EQ_STR(r[1], "US");
    CHECK_EQ_STR(r[2], "SE");
    CHECK_EQ_STR(r[3], "NO");
    CHECK_EQ_STR(r[4], "JP");
}

TEST(ipv4_mapped_v6_peer_is_ipv4)
{
    /* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:81.2.69.77", &sin6.sin6_addr);
    struct ipaddr a;
    CHECK_EQ_INT(ipaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);

    const char *names[] = {"geo-maxmind.mmdb", "geo-iplocation.mmdb"};
    for (int i = 0; i < 2; i++) {
        struct geo *g = open_db(names[i]);
        CHECK(g != NULL);
        char cc[3] = "xx", cc2[3] = "xx";
        geo_country_of(g, &a, cc);
        memcpy(cc2, country(g, "::ffff:216.160.83.1"), 3);
        geo_close(g);
        CHECK_EQ_STR(cc, "GB");
        CHECK_EQ_STR(cc2, "US");
    }
}

TEST(address_not_in_database_is_dashes)
{
    const char *names[] = {"geo-maxmind.mmdb", "geo-iplocation.mmdb"};
    const char *absent[] = {
        "8.8.8.8", "81.2.70.1", "127.0.0.1", "0.0.0.0", "255.255.255.255",
        "2001:db8::1", "2a02:cf41::1", "::1", "::",
    };
    for (int i = 0; i < 2; i++) {
        struct geo *g = open_db(names[i]);
        CHECK(g != NULL);
        int misses = 0;
        for (size_t k = 0; k < sizeof absent / sizeof absent[0]; k++) {
            const char *cc = country(g, absent[k]);
            if (strcmp(cc, "--") != 0) {
                printf("  %s in %s: \"%s\"\n", absent[k], names[i], cc);
                misses++;
            }
        }
        geo_close(g);
        CHECK_EQ_INT(misses, 0);
    }
}

TEST(null_geo_is_dashes)
{
    CHECK_EQ_STR(country(NULL, "81.2.69.160"), "--");
    CHECK_EQ_STR(country(NULL, "2a02:cf40::1"), "--");
}

TEST(missing_file_fails_with_reason)
{
    char path[4200], err[256] = "";
    struct geo *g = NULL;
    db_path(path, sizeof path, "no-such-file.mmdb");
    CHECK_EQ_INT(geo_open(path, &g, err, sizeof err), -1);
    CHECK(g == NULL);
    CHECK(err[0] != '\0');
    CHECK(strstr(err, "no-such-file.mmdb") != NULL);
}

TEST(broken_file_fails_with_reason)
{
    char path[4200], err[256] = "";
    struct geo *g = NULL;
    CHECK_EQ_INT(geo_open(db_path(path, sizeof path, "geo-broken.mmdb"), &g,
                          err, sizeof err), -1);
    CHECK(g == NULL);
    CHECK(strstr(err, "geo-broken.mmdb") != NULL);
    CHECK(strlen(err) > strlen(path) + 2);
}

TEST(error_message_truncates_to_small_buffer)
{
    char err[8];
    memset(err, 'x', sizeof err);
    struct geo *g = NULL;
    CHECK_EQ_INT(geo_open("/nonexistent/dir/country.mmdb", &g, err, sizeof err),
                 -1);
    CHECK(memchr(err, '\0', sizeof err) != NULL);
    CHECK_EQ_INT(geo_open("/nonexistent/dir/country.mmdb", &g, NULL, 0), -1);
}

TEST(close_accepts_null)
{
    geo_close(NULL);
    CHECK(1);
}

/* Points geo_dir at DWELL_TEST_GEO_DIR, or writes the databases to a fresh
 * temporary directory. Returns 0, or -1 leaving geo_dir empty. */
static int setup_geo_dir(void)
{
    const char *env = getenv("DWELL_TEST_GEO_DIR");
    if (env != NULL && env[0] != '\0') {
        int n = snprintf(geo_dir, sizeof geo_dir, "%s", env);
        if (n < 0 || (size_t)n >= sizeof geo_dir) {
            geo_dir[0] = '\0';
            return -1;
        }
        return 0;
    }
    char tmpl[] = "/tmp/dwell-test-geo-XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        return -1;
    char cmd[256];
    int n = snprintf(cmd, sizeof cmd, "perl tests/tools/make-mmdb.pl %s", tmpl);
    if (n < 0 || (size_t)n >= sizeof cmd || system(cmd) != 0) {
        printf("could not run: %s (set DWELL_TEST_GEO_DIR, or run from the "
               "repository root)\n", cmd);
        rmdir(tmpl);
        return -1;
    }
    memcpy(geo_dir, tmpl, sizeof tmpl);
    own_dir = 1;
    return 0;
}

/* Removes the temporary directory setup_geo_dir made, if any. */
static void cleanup_geo_dir(void)
{
    if (!own_dir)
        return;
    const char *names[] = {"geo-maxmind.mmdb", "geo-iplocation.mmdb",
                           "geo-broken.mmdb"};
    char path[4200];
    for (int i = 0; i < 3; i++)
        unlink(db_path(path, sizeof path, names[i]));
    rmdir(geo_dir);
}

int main(void)
{
    setup_geo_dir();
    RUN(databases_are_available);
    RUN(maxmind_schema_ipv4_lookups);
    RUN(maxmind_schema_ipv6_lookups);
    RUN(iplocation_schema_ipv4_and_ipv6_lookups);
    RUN(ipv4_mapped_v6_peer_is_ipv4);
    RUN(address_not_in_database_is_dashes);
    RUN(null_geo_is_dashes);
    RUN(missing_file_fails_with_reason);
    RUN(broken_file_fails_with_reason);
    RUN(error_message_truncates_to_small_buffer);
    RUN(close_accepts_null);
    cleanup_geo_dir();
    return check_summary();
}
