/* fuzz_helpdesk_zendesk_csv — Zendesk's CSV export through
 * helpdesk_parse_export, with the default options (helpdesk.h). */
#include "helpdesk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_helpdesk(HELPDESK_ZENDESK_CSV, NULL, data, size);
    return 0;
}
