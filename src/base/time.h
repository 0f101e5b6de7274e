/* time.h — dates, ISO 8601, durations and the clocks. Pure except the two
 * clock readers. Days are counted from 1970-01-01 (UTC) in the proleptic
 * Gregorian calendar; instants are microseconds since the Unix epoch. */
#ifndef DWELL_TIME_H
#define DWELL_TIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIME_US_PER_SEC  1000000ull
#define TIME_US_PER_DAY  86400000000ull
#define TIME_MAX_UNIX_SECS INT64_C(253402300799)   /* 9999-12-31T23:59:59Z */
#define TIME_DATE_LEN    11     /* "YYYY-MM-DD" and a NUL */
#define TIME_ISO_LEN     28     /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" and a NUL */
#define TIME_ISO_S_LEN   21     /* "YYYY-MM-DDTHH:MM:SSZ" and a NUL */

/* Days from 1970-01-01 to Y-M-D (M 1..12, D 1..31; any Y, negative
 * results before 1970). Does not check that D exists in M. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of day Z (the inverse of time_days_from_civil). */
void time_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* The number of days of month M (1..12) of year Y. */
int time_days_in_month(int64_t y, unsigned m);

/* Parses exactly "YYYY-MM-DD" (a real date, 1970 or later) into *DAY.
 * Returns 0, or -1 (*DAY untouched). */
int time_parse_date(const char *s, uint32_t *day);

/* Writes DAY as "YYYY-MM-DD" (and a NUL) to OUT. */
void time_format_date(uint32_t day, char out[TIME_DATE_LEN]);

/* Parses the ISO 8601 time S[0..N) — "YYYY-MM-DD", or that followed by
 * 'T' (or 't' or ' '), "HH:MM", optional ":SS" and a fraction (cut to
 * microseconds), then optional 'Z', "UTC", "GMT" or an offset "+HH:MM",
 * "+HHMM", "+HH" — into microseconds since the epoch. Surrounding blanks
 * are ignored; no zone means UTC. Returns 0, or -1 for anything else or an
 * instant before 1970 or after 9999. */
int time_parse_iso8601(const char *s, size_t n, uint64_t *us);

/* Writes US as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (and a NUL) to OUT. */
void time_format_iso8601(uint64_t us, char out[TIME_ISO_LEN]);

/* Writes US cut to whole seconds as "YYYY-MM-DDTHH:MM:SSZ" (and a NUL). */
void time_format_iso8601_s(uint64_t us, char out[TIME_ISO_S_LEN]);

/* Parses a duration "90s", "30m", "24h" or "7d" (digits then one unit)
 * into microseconds. Returns 0, or -1 (bad form, or it overflows). */
int time_parse_duration(const char *s, uint64_t *us);

/* The wall clock (CLOCK_REALTIME) in microseconds since the epoch. */
uint64_t time_now_us(void);

/* Today's day number by the wall clock. */
uint32_t time_today(void);

/* Initialises C so that pthread_cond_timedwait() on it takes deadlines on
 * CLOCK_MONOTONIC (unaffected by the wall clock being set). Returns 0 or
 * an errno value. */
int time_cond_init_monotonic(pthread_cond_t *c);

/* The CLOCK_MONOTONIC instant MS milliseconds from now: the deadline to
 * give pthread_cond_timedwait() on a condition made by
 * time_cond_init_monotonic(). */
struct timespec time_deadline_ms(uint64_t ms);

#endif
