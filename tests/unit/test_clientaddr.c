/* test_clientaddr.c — address parsing, CIDR lists, the X-Forwarded-For walk. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "dwell/clientaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Parses the NUL-terminated S; returns ipaddr_parse's result. */
static int parse(const char *s, struct ipaddr *out)
{
    return ipaddr_parse(s, strlen(s), out);
}

/* Formats A into a static buffer (tests only; not reentrant). */
static const char *fmt(const struct ipaddr *a)
{
    static char buf[64];
    if (ipaddr_format(a, buf, sizeof buf) != 0)
        return "(format failed)";
    return buf;
}

/* Parses S, which the test knows to be valid. */
static struct ipaddr ip(const char *s)
{
    struct ipaddr a;
    memset(&a, 0xab, sizeof a);
    if (parse(s, &a) != 0)
        printf("  test setup: %s did not parse\n", s);
    return a;
}

/* Resolves the client of PEER with header XFF behind the TRUSTED list. */
static const char *resolve(const char *peer, const char *xff,
                           const char *const *trusted, size_t n)
{
    struct cidr list[8];
    for (size_t i = 0; i < n && i < 8; i++)
        if (cidr_parse(trusted[i], &list[i]) != 0)
            printf("  test setup: %s did not parse\n", trusted[i]);
    struct ipaddr p = ip(peer), out;
    clientaddr_resolve(&p, xff, list, n, &out);
    return fmt(&out);
}

TEST(ipv4_parses_and_formats_as_dotted_quad)
{
    struct ipaddr a;
    CHECK_EQ_INT(parse("192.0.2.33", &a), 0);
    CHECK(ipaddr_is_v4(&a));
    CHECK_EQ_INT(a.b[10], 0xff);
    CHECK_EQ_INT(a.b[11], 0xff);
    CHECK_EQ_INT(a.b[12], 192);
    CHECK_EQ_INT(a.b[15], 33);
    CHECK_EQ_STR(fmt(&a), "192.0.2.33");
}

TEST(ipv6_parses_and_formats_compressed)
{
    struct ipaddr a;
    CHECK_EQ_INT(parse("2001:DB8:0:0::1", &a), 0);
    CHECK(!ipaddr_is_v4(&a));
    CHECK_EQ_STR(fmt(&a), "2001:db8::1");
    CHECK_EQ_INT(parse("::", &a), 0);
    CHECK_EQ_STR(fmt(&a), "::");
}

TEST(ipv4_mapped_v6_text_is_ipv4)
{
    struct ipaddr a;
    CHECK_EQ_INT(parse("::ffff:198.51.100.7", &a), 0);
    CHECK(ipaddr_is_v4(&a));
    CHECK_EQ_STR(fmt(&a), "198.51.100.7");
    struct ipaddr b = ip("198.51.100.7");
    CHECK(memcmp(a.b, b.b, 16) == 0);
}

TEST(blanks_around_address_are_allowed)
{
    struct ipaddr a;
    CHECK_EQ_INT(parse("  10.1.2.3\t", &a), 0);
    CHECK_EQ_STR(fmt(&a), "10.1.2.3");
    CHECK_EQ_INT(parse(" 2001:db8::2 ", &a), 0);
    CHECK_EQ_STR(fmt(&a), "2001:db8::2");
}

TEST(ipv4_port_is_ignored)
{
    struct ipaddr a;
    CHECK_EQ_INT(parse("203.0.113.9:8443", &a), 0);
    CHECK_EQ_STR(fmt(&a), "203.0.113.9");
    CHECK_EQ_INT(parse("203.0.113.9:0", &a), 0);
    CHECK_EQ_INT(parse("203.0.113.9:65535", &a), 0);
}

TEST(bracketed_ipv6_with_and_without_port)
{
    struct ipaddr a;
    CHECK_EQ_INT(parse("[2001:db8::5]", &a), 0);
    CHECK_EQ_STR(fmt(&a), "2001:db8::5");
    CHECK_EQ_INT(parse("[2001:db8::6]:443", &a), 0);
    CHECK_EQ_STR(fmt(&a), "2001:db8::6");
}

TEST(length_bounds_the_text_read)
{
    /* Only the first N bytes count: no NUL needed, trailing bytes ignored. */
    const char s[] = {'1', '0', '.', '0', '.', '0', '.', '1', '9', '9'};
    struct ipaddr a;
    CHECK_EQ_INT(ipaddr_parse(s, 8, &a), 0);
    CHECK_EQ_STR(fmt(&a), "10.0.0.1");
    CHECK_EQ_INT(ipaddr_parse(s, 7, &a), -1);
}

TEST(invalid_addresses_are_rejected_and_out_untouched)
{
    static const char *bad[] = {
        "", "   ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:", "1.2.3.4:x",
        "1.2.3.4:65536", "1.2.3.4:123456", "1.2.3.4:80:81", "01.2.3.4",
        "2001:db8::1::80", "2001:db8:::1", "[2001:db8::1", "[2001:db8::1]x",
        "[2001:db8::1]:", "[2001:db8::1]:http", "[1.2.3.4]", "[1.2.3.4]:80",
        "fe80::1%eth0", "unknown", "localhost", "1.2.3.4 5.6.7.8", "0x7f.1.1.1",
        "[]", "[", ":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ipaddr a;
        memset(&a, 0x5a, sizeof a);
        if (parse(bad[i], &a) != -1)
            printf("  accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(parse(bad[i], &a), -1);
        CHECK_EQ_INT(a.b[0], 0x5a);
        CHECK_EQ_INT(a.b[15], 0x5a);
    }
    struct ipaddr a;
    CHECK_EQ_INT(ipaddr_parse(NULL, 0, &a), -1);
    CHECK_EQ_INT(ipaddr_parse("1.2.3.4\0", 8, &a), -1);
}

TEST(sockaddr_v4_and_mapped_v6_give_same_value)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(1234);
    inet_pton(AF_INET, "192.0.2.200", &sin.sin_addr);

    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.0.2.200", &sin6.sin6_addr);

    struct ipaddr a, b;
    CHECK_EQ_INT(ipaddr_from_sockaddr((struct sockaddr *)&sin, &a), 0);
    CHECK_EQ_INT(ipaddr_from_sockaddr((struct sockaddr *)&sin6, &b), 0);
    CHECK(memcmp(a.b, b.b, 16) == 0);
    CHECK(ipaddr_is_v4(&b));
    CHECK_EQ_STR(fmt(&a), "192.0.2.200");
}

TEST(sockaddr_v6_is_copied)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::abcd", &sin6.sin6_addr);
    struct ipaddr a;
    CHECK_EQ_INT(ipaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
    CHECK(!ipaddr_is_v4(&a));
    CHECK_EQ_STR(fmt(&a), "2001:db8::abcd");
}

TEST(sockaddr_other_family_fails)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    struct ipaddr a;
    CHECK_EQ_INT(ipaddr_from_sockaddr((struct sockaddr *)&sun, &a), -1);
}

TEST(format_fails_when_buffer_too_small)
{
    struct ipaddr a = ip("255.255.255.255");
    char small[15], exact[16];
    CHECK_EQ_INT(ipaddr_format(&a, small, sizeof small), -1);
    CHECK_EQ_INT(ipaddr_format(&a, exact, sizeof exact), 0);
    CHECK_EQ_STR(exact, "255.255.255.255");
    struct ipaddr b = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    char big[46];
    CHECK_EQ_INT(ipaddr_format(&b, big, sizeof big), 0);
    CHECK_EQ_INT(ipaddr_format(&b, small, sizeof small), -1);
}

TEST(cidr_v4_prefix_counts_on_v6_form_and_clears_host_bits)
{
    struct cidr c;
    CHECK_EQ_INT(cidr_parse("10.1.2.3/8", &c), 0);
    CHECK_EQ_INT(c.bits, 104);
    CHECK_EQ_STR(fmt(&c.net), "10.0.0.0");
    struct ipaddr in = ip("10.255.0.1"), out = ip("11.0.0.1");
    CHECK(cidr_contains(&c, &in));
    CHECK(!cidr_contains(&c, &out));
    CHECK_EQ_INT(cidr_parse("192.168.77.130/25", &c), 0);
    CHECK_EQ_STR(fmt(&c.net), "192.168.77.128");
    in = ip("192.168.77.255");
    out = ip("192.168.77.127");
    CHECK(cidr_contains(&c, &in));
    CHECK(!cidr_contains(&c, &out));
}

TEST(cidr_without_bits_is_single_host)
{
    struct cidr c;
    CHECK_EQ_INT(cidr_parse("127.0.0.1", &c), 0);
    CHECK_EQ_INT(c.bits, 128);
    CHECK_EQ_INT(cidr_parse("::1", &c), 0);
    CHECK_EQ_INT(c.bits, 128);
}

TEST(cidr_v4_slash_32_matches_one_address)
{
    struct cidr c;
    CHECK_EQ_INT(cidr_parse("198.51.100.10/32", &c), 0);
    struct ipaddr same = ip("198.51.100.10"), next = ip("198.51.100.11");
    CHECK(cidr_contains(&c, &same));
    CHECK(!cidr_contains(&c, &next));
}

TEST(cidr_v4_slash_0_matches_all_v4_and_no_v6)
{
    struct cidr c;
    CHECK_EQ_INT(cidr_parse("0.0.0.0/0", &c), 0);
    CHECK_EQ_INT(c.bits, 96);
    struct ipaddr a = ip("1.2.3.4"), b = ip("255.255.255.255");
    struct ipaddr v6 = ip("2001:db8::1");
    CHECK(cidr_contains(&c, &a));
    CHECK(cidr_contains(&c, &b));
    CHECK(!cidr_contains(&c, &v6));
}

TEST(cidr_v6_slash_0_matches_everything)
{
    struct cidr c;
    CHECK_EQ_INT(cidr_parse("::/0", &c), 0);
    CHECK_EQ_INT(c.bits, 0);
    struct ipaddr a = ip("1.2.3.4"), v6 = ip("2001:db8::1");
    CHECK(cidr_contains(&c, &a));
    CHECK(cidr_contains(&c, &v6));
}

TEST(cidr_v6_slash_128_and_odd_prefix)
{
    struct cidr c;
    CHECK_EQ_INT(cidr_parse("2001:db8::1/128", &c), 0);
    struct ipaddr one = ip("2001:db8::1"), two = ip("2001:db8::2");
    CHECK(cidr_contains(&c, &one));
    CHECK(!cidr_contains(&c, &two));
    CHECK_EQ_INT(cidr_parse("2001:db8:ffff::/35", &c), 0);
    CHECK_EQ_STR(fmt(&c.net), "2001:db8:e000::");
    struct ipaddr in = ip("2001:db8:1fff::1"), out = ip("2001:db8:2000::");
    CHECK(!cidr_contains(&c, &in));
    in = ip("2001:db8:e123::9");
    CHECK(cidr_contains(&c, &in));
    CHECK(!cidr_contains(&c, &out));
}

TEST(cidr_v4_inside_v6_form_matches_plain_v4)
{
    struct cidr c;
    CHECK_EQ_INT(cidr_parse("::ffff:172.16.0.0/108", &c), 0);
    CHECK_EQ_INT(c.bits, 108);
    struct ipaddr in = ip("172.31.255.1"), out = ip("172.32.0.1");
    CHECK(cidr_contains(&c, &in));
    CHECK(!cidr_contains(&c, &out));
    CHECK_EQ_INT(cidr_parse("::ffff:0:0/96", &c), 0);
    in = ip("8.8.8.8");
    out = ip("2001:db8::8");
    CHECK(cidr_contains(&c, &in));
    CHECK(!cidr_contains(&c, &out));
}

TEST(cidr_invalid_is_rejected_and_out_untouched)
{
    static const char *bad[] = {
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x",
        "10.0.0.0/1000", "::/129", "10.0.0/8", "[::1]/128", "1.2.3.4:80/32",
        "10.0.0.0/8/8", "10.0.0.0 /8", "host/8",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cidr c;
        memset(&c, 0x5a, sizeof c);
        if (cidr_parse(bad[i], &c) != -1)
            printf("  accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(cidr_parse(bad[i], &c), -1);
        CHECK_EQ_INT(c.bits, 0x5a);
        CHECK_EQ_INT(c.net.b[0], 0x5a);
    }
}

static const char *const proxies[] = {"10.0.0.0/8", "2001:db8:aaaa::/48"};

TEST(xff_rightmost_untrusted_wins)
{
    CHECK_EQ_STR(resolve("10.0.0.1", "198.51.100.1, 203.0.113.5, 10.9.9.9",
                         proxies, 2), "203.0.113.5");
    CHECK_EQ_STR(resolve("2001:db8:aaaa::1", "203.0.113.5,2001:db8:bbbb::7",
                         proxies, 2), "2001:db8:bbbb::7");
}

TEST(xff_spoofed_left_entries_are_not_believed)
{
    /* The client wrote "1.1.1.1" itself; our proxy appended its real peer. */
    CHECK_EQ_STR(resolve("10.0.0.1", "1.1.1.1, 192.0.2.44", proxies, 2),
                 "192.0.2.44");
}

TEST(xff_ignored_when_peer_untrusted)
{
    CHECK_EQ_STR(resolve("192.0.2.1", "203.0.113.5", proxies, 2), "192.0.2.1");
    CHECK_EQ_STR(resolve("192.0.2.1", "203.0.113.5", proxies, 0), "192.0.2.1");
}

TEST(xff_all_trusted_gives_leftmost)
{
    CHECK_EQ_STR(resolve("10.0.0.1", "10.1.1.1, 10.2.2.2, 2001:db8:aaaa::9",
                         proxies, 2), "10.1.1.1");
}

TEST(xff_entries_may_carry_ports)
{
    CHECK_EQ_STR(resolve("10.0.0.1", "203.0.113.5:5555", proxies, 2),
                 "203.0.113.5");
    CHECK_EQ_STR(resolve("10.0.0.1", "[2001:db8:cccc::1]:443, 10.3.3.3",
                         proxies, 2), "2001:db8:cccc::1");
}

TEST(xff_junk_entry_stops_at_last_good_address)
{
    /* Junk right after the peer: the peer itself is the answer. */
    CHECK_EQ_STR(resolve("10.0.0.1", "203.0.113.5, unknown", proxies, 2),
                 "10.0.0.1");
    /* Junk behind a trusted hop: that hop is the last good address. */
    CHECK_EQ_STR(resolve("10.0.0.1", "203.0.113.5, garbage, 10.4.4.4",
                         proxies, 2), "10.4.4.4");
    /* Junk left of the untrusted client is never reached. */
    CHECK_EQ_STR(resolve("10.0.0.1", "garbage, 203.0.113.5", proxies, 2),
                 "203.0.113.5");
    CHECK_EQ_STR(resolve("10.0.0.1", "203.0.113.5,", proxies, 2), "10.0.0.1");
    CHECK_EQ_STR(resolve("10.0.0.1", "203.0.113.5,,10.5.5.5", proxies, 2),
                 "10.5.5.5");
}

TEST(xff_empty_or_missing_header_gives_peer)
{
    CHECK_EQ_STR(resolve("10.0.0.1", "", proxies, 2), "10.0.0.1");
    CHECK_EQ_STR(resolve("10.0.0.1", "   ", proxies, 2), "10.0.0.1");
    CHECK_EQ_STR(resolve("10.0.0.1", NULL, proxies, 2), "10.0.0.1");
    CHECK_EQ_STR(resolve("10.0.0.1", ",", proxies, 2), "10.0.0.1");
}

TEST(xff_single_address_behind_trusted_peer)
{
    CHECK_EQ_STR(resolve("10.0.0.1", "192.0.2.77", proxies, 2), "192.0.2.77");
    CHECK_EQ_STR(resolve("10.0.0.1", "::ffff:192.0.2.78", proxies, 2),
                 "192.0.2.78");
}

int main(void)
{
    RUN(ipv4_parses_and_formats_as_dotted_quad);
    RUN(ipv6_parses_and_formats_compressed);
    RUN(ipv4_mapped_v6_text_is_ipv4);
    RUN(blanks_around_address_are_allowed);
    RUN(ipv4_port_is_ignored);
    RUN(bracketed_ipv6_with_and_without_port);
    RUN(length_bounds_the_text_read);
    RUN(invalid_addresses_are_rejected_and_out_untouched);
    RUN(sockaddr_v4_and_mapped_v6_give_same_value);
    RUN(sockaddr_v6_is_copied);
    RUN(sockaddr_other_family_fails);
    RUN(format_fails_when_buffer_too_small);
    RUN(cidr_v4_prefix_counts_on_v6_form_and_clears_host_bits);
    RUN(cidr_without_bits_is_single_host);
    RUN(cidr_v4_slash_32_matches_one_address);
    RUN(cidr_v4_slash_0_matches_all_v4_and_no_v6);
    RUN(cidr_v6_slash_0_matches_everything);
    RUN(cidr_v6_slash_128_and_odd_prefix);
    RUN(cidr_v4_inside_v6_form_matches_plain_v4);
    RUN(cidr_invalid_is_rejected_and_out_untouched);
    RUN(xff_rightmost_untrusted_wins);
    RUN(xff_spoofed_left_entries_are_not_believed);
    RUN(xff_ignored_when_peer_untrusted);
    RUN(xff_all_trusted_gives_leftmost);
    RUN(xff_entries_may_carry_ports);
    RUN(xff_junk_entry_stops_at_last_good_address);
    RUN(xff_empty_or_missing_header_gives_peer);
    RUN(xff_single_address_behind_trusted_peer);
    return check_summary();
}
