/* fuzz_event_json — the beacon body (POST /e) through event_parse_json:
 * never a crash or an over-read, and every accepted event storable
 * (batch.h). */
#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct event_batch b;
    char err[256];
    int rc = event_parse_json((const char *)data, size, &b, err, sizeof err);
    fuzz_check_batch(rc, &b, err, sizeof err);
    return 0;
}
