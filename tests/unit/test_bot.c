/* test_bot.c — user-agent patterns for crawlers, automation and probes. */
#include "check.h"
#include "dwell/bot.h"

#include <stdlib.h>

/* bot_user_agent on a NUL-terminated S. */
static bool is_bot(const char *s)
{
    return bot_user_agent(s, strlen(s));
}

/* bot_user_agent on an exact-size heap copy of S with no terminator, so that
 * ASan catches any read past the end. */
static bool is_bot_unterminated(const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    if (copy == NULL)
        return false;
    memcpy(copy, s, n);
    bool r = bot_user_agent(copy, n);
    free(copy);
    return r;
}

static const char *const browsers[] = {
    /* Chrome, Windows */
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/120.0.0.0 Safari/537.36",
    /* Chrome, macOS */
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
    /* Chrome, Android */
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
    /* Firefox, Linux and Windows */
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 "
    "Firefox/115.0",
    /* Firefox, Android */
    "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
    /* Safari, macOS and iPhone */
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 "
    "Safari/604.1",
    /* Edge */
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
};

TEST(desktop_and_mobile_browsers_are_not_bots)
{
    for (size_t i = 0; i < sizeof browsers / sizeof browsers[0]; i++) {
        if (is_bot(browsers[i]))
            printf("  flagged: %s\n", browsers[i]);
        CHECK(!is_bot(browsers[i]));
        CHECK(!is_bot_unterminated(browsers[i]));
    }
}

TEST(empty_or_null_user_agent_is_bot)
{
    CHECK(bot_user_agent(NULL, 0));
    CHECK(bot_user_agent(NULL, 10));
    CHECK(bot_user_agent("", 0));
    CHECK(bot_user_agent("Mozilla/5.0", 0));
    CHECK(is_bot("   "));
}

TEST(crawlers_are_bots)
{
    CHECK(is_bot("Mozilla/5.0 (compatible; Googlebot/2.1; "
                 "+http://www.google.com/bot.html)"));
    CHECK(is_bot("Mozilla/5.0 (compatible; bingbot/2.0; "
                 "+http://www.bing.com/bingbot.htm)"));
    CHECK(is_bot("Mozilla/5.0 (compatible; Yahoo! Slurp; "
                 "http://help.yahoo.com/help/us/ysearch/slurp)"));
    CHECK(is_bot("Baiduspider+(+http://www.baidu.com/search/spider.htm)"));
    CHECK(is_bot("CCBot/2.0 (https://commoncrawl.org/faq/)"));
    CHECK(is_bot("Mozilla/5.0 (compatible; AhrefsBot/7.0; "
                 "+http://ahrefs.com/robot/)"));
    CHECK(is_bot("Mozilla/5.0 (compatible; SemrushBot/7~bl; "
                 "+http://www.semrush.com/bot.html)"));
    CHECK(is_bot("facebookexternalhit/1.1 "
                 "(+http://www.facebook.com/externalhit_uatext.php)"));
    CHECK(is_bot("Scrapy/2.11.0 (+https://scrapy.org)"));
    CHECK(is_bot("Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview "
                 "Preview/0.5"));
}

TEST(headless_and_automated_browsers_are_bots)
{
    CHECK(is_bot("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, "
                 "like Gecko) HeadlessChrome/120.0.6099.71 Safari/537.36"));
    CHECK(is_bot("Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 "
                 "(KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1"));
    CHECK(is_bot("Mozilla/5.0 Puppeteer"));
    CHECK(is_bot("Mozilla/5.0 Playwright/1.40"));
    CHECK(is_bot("Mozilla/5.0 Selenium"));
    CHECK(is_bot("Mozilla/5.0 (Linux; Android 11; moto g power (2022)) "
                 "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 "
                 "Mobile Safari/537.36 Chrome-Lighthouse"));
}

TEST(monitoring_probes_are_bots)
{
    CHECK(is_bot("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)"));
    CHECK(is_bot("Mozilla/5.0+(compatible; UptimeRobot/2.0; "
                 "http://www.uptimerobot.com/)"));
    CHECK(is_bot("Mozilla/5.0 (compatible; StatusCake)"));
    CHECK(is_bot("Site24x7 Monitor"));
}

TEST(http_libraries_and_tools_are_bots)
{
    static const char *const tools[] = {
        "curl/8.5.0", "Wget/1.21.4", "python-requests/2.31.0",
        "Python-urllib/3.11", "Go-http-client/1.1", "Java/17.0.9",
        "okhttp/4.12.0", "libwww-perl/6.72",
        "Apache-HttpClient/4.5.14 (Java/17)",
        "axios/1.6.2", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    };
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        if (!is_bot(tools[i]))
            printf("  missed: %s\n", tools[i]);
        CHECK(is_bot(tools[i]));
    }
}

TEST(patterns_match_ignoring_case)
{
    CHECK(is_bot("MY-CRAWLER"));
    CHECK(is_bot("SpIdEr"));
    CHECK(is_bot("CURL/7.0"));
}

TEST(pattern_straddling_the_end_is_not_read)
{
    /* "bot" cut short by LEN is not a match, and nothing past LEN is read. */
    const char ua[] = {'M', 'o', 'z', 'i', 'l', 'l', 'a', ' ', 'b', 'o'};
    CHECK(!bot_user_agent(ua, sizeof ua));
    CHECK(!is_bot_unterminated("Mozilla/5.0 bo"));
    CHECK(is_bot_unterminated("Mozilla/5.0 bot"));
    CHECK(is_bot_unterminated("bot"));
    CHECK(!is_bot_unterminated("x"));
}

TEST(bytes_after_len_are_ignored)
{
    const char *ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0 curl/8";
    CHECK(!bot_user_agent(ua, strlen(ua) - strlen(" curl/8")));
    CHECK(bot_user_agent(ua, strlen(ua)));
}

TEST(non_ascii_bytes_do_not_confuse_matching)
{
    CHECK(!is_bot("Mozilla/5.0 \xc3\xa9\xff\x80 Firefox/121.0"));
    CHECK(is_bot("\xff\xfe" "BOT"));
}

int main(void)
{
    RUN(desktop_and_mobile_browsers_are_not_bots);
    RUN(empty_or_null_user_agent_is_bot);
    RUN(crawlers_are_bots);
    RUN(headless_and_automated_browsers_are_bots);
    RUN(monitoring_probes_are_bots);
    RUN(http_libraries_and_tools_are_bots);
    RUN(patterns_match_ignoring_case);
    RUN(pattern_straddling_the_end_is_not_read);
    RUN(bytes_after_len_are_ignored);
    RUN(non_ascii_bytes_do_not_confuse_matching);
    return check_summary();
}
