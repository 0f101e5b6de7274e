/* progress.h — a progress line on standard error for long commands
 * (tickets import, demo, backup, export): "what: 12,345 / 50,000 (24%)"
 * drawn at the first step, then redrawn in place at most every 200 ms
 * (work that ends sooner shows one line, erased), and only when standard
 * error is a terminal and --quiet was not given; otherwise nothing at all
 * is written. Standard output is never touched. One progress at a time. */
#ifndef DWELL_CLI_PROGRESS_H
#define DWELL_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
    const char *what;          /* e.g. "importing tickets" */
    uint64_t total;            /* 0: unknown (no percentage) */
    uint64_t done;
    uint64_t last_us;          /* when the line was last drawn (0: never) */
    bool on;                   /* drawing: a terminal, not quiet */
    bool drawn;                /* a line is on the screen */
};

/* With QUIET, progress_start never turns drawing on (main sets it from
 * --quiet before running a command). */
void progress_set_quiet(bool quiet);

/* Starts P for WHAT (a static string or one outliving P) out of TOTAL
 * units (0: unknown). Draws nothing yet. */
void progress_start(struct progress *p, const char *what, uint64_t total);

/* DONE units are done so far; draws the line the first time, then
 * redraws it if 200 ms have passed since it was last drawn. Cheap enough
 * to call for every unit. */
void progress_step(struct progress *p, uint64_t done);

/* Erases the line, if one was drawn, so that what follows starts on a
 * clean line. P may be started again afterwards. */
void progress_end(struct progress *p);

#endif
