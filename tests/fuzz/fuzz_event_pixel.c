/* fuzz_event_pixel — the pixel's query string (GET /p.gif?s=…&u=…) through
 * event_parse_pixel, split and decoded as libmicrohttpd does: never a
 * crash, and an accepted view storable (batch.h). */
#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct event_batch b;
    struct fuzz_args a;
    char err[256];
    fuzz_args_parse(&a, data, size);
    int rc = event_parse_pixel(fuzz_arg, &a, "fuzzview_0123456", &b, err,
                               sizeof err);
    fuzz_check_batch(rc, &b, err, sizeof err);
    if (rc == 0)
        FUZZ_CHECK(b.n == 1 && b.ev[0].type == EVENT_VIEW &&
                   (b.ev[0].flags & EVENT_FLAG_PIXEL));
    fuzz_args_free(&a);
    return 0;
}
