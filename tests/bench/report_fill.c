/* report_fill.c — fills a data dir with ARTICLES × DAYS of rollups for the
 * report benchmark, through the store's real write path: for every article
 * and day, one view and one engage event (engaged 20–200 s), at that day.
 * usage: report_fill DIR SITE ARTICLES DAYS */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dwell/clientaddr.h"
#include "dwell/event.h"
#include "dwell/store.h"

#define PER_CALL 16                      /* articles per enqueue (32 events) */

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: report_fill DIR SITE ARTICLES DAYS\n");
        return 2;
    }
    unsigned articles = (unsigned)strtoul(argv[3], NULL, 10);
    unsigned days = (unsigned)strtoul(argv[4], NULL, 10);
    struct store *st;
    char err[256];
    struct store_options o = { .durability = STORE_NONE,
                               .map_size = (size_t)1 << 30 };
    if (store_open(argv[1], &o, &st, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    uint32_t site_id;
    bool created;
    if (store_site_put(st, argv[2], NULL, 0, &site_id, &created, err,
                       sizeof err) != 0 ||
        store_start_writer(st, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    static char paths[PER_CALL][64], ids[PER_CALL][24];
    struct event ev[2 * PER_CALL];
    struct ipaddr addr = { .b = { [10] = 0xff, [11] = 0xff, [12] = 10 } };
    uint64_t today = (uint64_t)time(NULL) / 86400;
    uint64_t seq = 0;
    for (unsigned d = 0; d < days; d++) {
        uint64_t t = (today - days + 1 + d) * 86400000000ull + 3600000000ull;
        for (unsigned a0 = 0; a0 < articles; a0 += PER_CALL) {
            size_t n = 0;
            for (unsigned a = a0; a < a0 + PER_CALL && a < articles; a++) {
                size_t k = a - a0;
                int pl = snprintf(paths[k], sizeof paths[k], "/kb/article-%05u",
                                  a);
                int il = snprintf(ids[k], sizeof ids[k], "v%015llx",
                                  (unsigned long long)seq++);
                struct event *v = &ev[n++], *e = &ev[n++];
                memset(v, 0, sizeof *v);
                v->type = EVENT_VIEW;
                v->site_id = site_id;
                v->scroll = 20;
                memcpy(v->country, a % 3 ? "US" : "DE", 3);
                v->view_id = (struct event_str){ ids[k], (uint16_t)il };
                v->path = (struct event_str){ paths[k], (uint16_t)pl };
                v->title = v->path;
                v->words = 300 + a % 1500;
                v->article = event_article_id(paths[k], (size_t)pl);
                *e = *v;
                e->type = EVENT_ENGAGE;
                e->path = e->title = (struct event_str){ NULL, 0 };
                e->words = 0;
                e->engaged_ms = 20000 + (unsigned)((a * 7919u + d * 104729u)
                                                   % 180000u);
                e->scroll = (uint8_t)(40 + (a + d) % 61);
                addr.b[13] = (uint8_t)(a >> 8);
                addr.b[14] = (uint8_t)a;
                addr.b[15] = (uint8_t)d;
            }
            while (store_enqueue_at(st, t, ev, n, &addr, "bench", 5, NULL,
                                    NULL) == STORE_EFULL)
                store_drain(st, 1000);
        }
        if (d % 30 == 29)
            fprintf(stderr, "  %u/%u days\n", d + 1, days);
    }
    size_t purged = 0;
    int rc = store_drain(st, 600000);
    if (rc == 0)                     /* the views of past days have expired */
        rc = store_purge(st, &purged);
    store_close(st);
    return rc == 0 ? 0 : 1;
}
