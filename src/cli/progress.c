/* progress.c — see progress.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "base/time.h"

#define PROGRESS_EVERY_US 200000u

static bool progress_quiet;

void progress_set_quiet(bool quiet)
{
    progress_quiet = quiet;
}

void progress_start(struct progress *p, const char *what, uint64_t total)
{
    p->what = what;
    p->total = total;
    p->done = 0;
    p->last_us = 0;                    /* the first step draws */
    p->on = !progress_quiet && isatty(STDERR_FILENO) == 1;
    p->drawn = false;
}

/* Writes N with thousands separators to BUF (at least 32 bytes). */
static void format_count(uint64_t n, char *buf)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

/* Draws P's line over the previous one. */
static void progress_draw(struct progress *p)
{
    char done[32], total[32];
    format_count(p->done, done);
    if (p->total) {
        format_count(p->total, total);
        unsigned pct = p->done >= p->total ? 100
                     : (unsigned)(p->done * 100 / p->total);
        fprintf(stderr, "\r\033[K%s: %s / %s (%u%%)", p->what, done, total,
                pct);
    } else {
        fprintf(stderr, "\r\033[K%s: %s", p->what, done);
    }
    fflush(stderr);
    p->drawn = true;
}

void progress_step(struct progress *p, uint64_t done)
{
    p->done = done;
    if (!p->on)
        return;
    uint64_t now = time_now_us();
    if (now - p->last_us < PROGRESS_EVERY_US)
        return;
    p->last_us = now;
    progress_draw(p);
}

void progress_end(struct progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = false;
    p->on = false;
}
