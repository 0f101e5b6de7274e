/* fuzz_helpdesk_freshdesk — Freshdesk's JSON through
 * helpdesk_parse_export, with the default options (helpdesk.h). */
#include "helpdesk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_helpdesk(HELPDESK_FRESHDESK_JSON, NULL, data, size);
    return 0;
}
