/* time.c — see time.h. The date arithmetic is H. Hinnant's
 * days_from_civil / civil_from_days. */
#define _POSIX_C_SOURCE 200809L
#include "base/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void time_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

int time_days_in_month(int64_t y, unsigned m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };
    if (m < 1 || m > 12)
        return 0;
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* Reads exactly N digits at S into *V. */
static bool digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* Reads "YYYY-MM-DD" at S (N >= 10 bytes) into Y, M, D, checking the date
 * exists. */
static bool ymd(const char *s, size_t n, int *y, int *m, int *d)
{
    return n >= 10 && s[4] == '-' && s[7] == '-' && digits(s, 4, y) &&
           digits(s + 5, 2, m) && digits(s + 8, 2, d) && *m >= 1 &&
           *m <= 12 && *d >= 1 && *d <= time_days_in_month(*y, (unsigned)*m);
}

int time_parse_date(const char *s, uint32_t *day)
{
    int y, m, d;
    if (s == NULL || strlen(s) != 10 || !ymd(s, 10, &y, &m, &d) || y < 1970)
        return -1;
    *day = (uint32_t)time_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

void time_format_date(uint32_t day, char out[TIME_DATE_LEN])
{
    int y;
    unsigned m, d;
    time_civil_from_days(day, &y, &m, &d);
    snprintf(out, TIME_DATE_LEN, "%04u-%02u-%02u", (unsigned)y % 10000u,
             m % 100, d % 100);
}

/* Equal ignoring ASCII case: the 3 bytes at S and upper-case WORD. */
static bool word3(const char *s, const char *word)
{
    for (int i = 0; i < 3; i++) {
        char c = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
        if (c != word[i])
            return false;
    }
    return true;
}

/* Reads a fraction of a second at S[*P..N) (after the '.'), cut to
 * microseconds. */
static bool fraction(const char *s, size_t n, size_t *p, uint32_t *frac)
{
    size_t k = 0, start = *p;
    for (; *p < n && is_digit(s[*p]); (*p)++)
        if (k < 6) {
            *frac = *frac * 10 + (uint32_t)(s[*p] - '0');
            k++;
        }
    for (; k < 6; k++)
        *frac *= 10;
    return *p > start;
}

/* Reads a zone at S[*P..N): 'Z', "UTC", "GMT" or +HH[[:]MM], into *OFF
 * seconds east of UTC. */
static bool zone(const char *s, size_t n, size_t *p, int64_t *off)
{
    if (s[*p] == 'Z' || s[*p] == 'z') {
        (*p)++;
        return true;
    }
    if (n - *p == 3 && (word3(s + *p, "UTC") || word3(s + *p, "GMT"))) {
        *p += 3;
        return true;
    }
    if (s[*p] != '+' && s[*p] != '-')
        return false;
    int sign = s[*p] == '-' ? -1 : 1, oh, om = 0;
    (*p)++;
    if (n - *p < 2 || !digits(s + *p, 2, &oh))
        return false;
    *p += 2;
    if (*p < n && s[*p] == ':') {
        if (n - *p < 3 || !digits(s + *p + 1, 2, &om))
            return false;
        *p += 3;
    } else if (n - *p >= 2) {
        if (!digits(s + *p, 2, &om))
            return false;
        *p += 2;
    }
    if (oh > 23 || om > 59)
        return false;
    *off = sign * (int64_t)(oh * 3600 + om * 60);
    return true;
}

int time_parse_iso8601(const char *s, size_t n, uint64_t *us)
{
    while (n > 0 && is_blank(*s))
        s++, n--;
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    int y, mo, d, h = 0, mi = 0, se = 0;
    uint32_t frac = 0;
    int64_t off = 0;
    if (!ymd(s, n, &y, &mo, &d))
        return -1;
    size_t p = 10;
    if (p < n) {
        if (s[p] != 'T' && s[p] != 't' && s[p] != ' ')
            return -1;
        p++;
        if (n - p < 5 || !digits(s + p, 2, &h) || s[p + 2] != ':' ||
            !digits(s + p + 3, 2, &mi))
            return -1;
        p += 5;
        if (p < n && s[p] == ':') {
            if (n - p < 3 || !digits(s + p + 1, 2, &se))
                return -1;
            p += 3;
            if (p < n && (s[p] == '.' || s[p] == ',')) {
                p++;
                if (!fraction(s, n, &p, &frac))
                    return -1;
            }
        }
        if (p < n && s[p] == ' ')
            p++;
        if (p < n && !zone(s, n, &p, &off))
            return -1;
        if (p != n)
            return -1;
    }
    if (h > 23 || mi > 59 || se > 60)           /* 60: a leap second */
        return -1;
    int64_t secs = time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
                   h * 3600 + mi * 60 + se - off;
    if (secs < 0 || secs > TIME_MAX_UNIX_SECS)
        return -1;
    *us = (uint64_t)secs * TIME_US_PER_SEC + frac;
    return 0;
}

void time_format_iso8601(uint64_t us, char out[TIME_ISO_LEN])
{
    uint64_t secs = us / TIME_US_PER_SEC;
    unsigned sod = (unsigned)(secs % 86400);
    int y;
    unsigned m, d;
    time_civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
    snprintf(out, TIME_ISO_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
             (unsigned)y % 10000u, m % 100, d % 100, sod / 3600 % 24,
             sod / 60 % 60, sod % 60, (unsigned)(us % TIME_US_PER_SEC));
}

void time_format_iso8601_s(uint64_t us, char out[TIME_ISO_S_LEN])
{
    char full[TIME_ISO_LEN];
    time_format_iso8601(us, full);
    memcpy(out, full, 19);
    memcpy(out + 19, "Z", 2);
}

int time_parse_duration(const char *s, uint64_t *us)
{
    if (s == NULL || !is_digit(s[0]))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end[0] == '\0' || end[1] != '\0')
        return -1;
    uint64_t unit;
    switch (*end) {
    case 's': unit = TIME_US_PER_SEC; break;
    case 'm': unit = 60 * TIME_US_PER_SEC; break;
    case 'h': unit = 3600 * TIME_US_PER_SEC; break;
    case 'd': unit = TIME_US_PER_DAY; break;
    default: return -1;
    }
    if (v > UINT64_MAX / unit)
        return -1;
    *us = v * unit;
    return 0;
}

uint64_t time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * TIME_US_PER_SEC +
           (uint64_t)ts.tv_nsec / 1000u;
}

uint32_t time_today(void)
{
    return (uint32_t)(time_now_us() / TIME_US_PER_DAY);
}

int time_cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    int rc = pthread_condattr_init(&a);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return rc;
}

struct timespec time_deadline_ms(uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
