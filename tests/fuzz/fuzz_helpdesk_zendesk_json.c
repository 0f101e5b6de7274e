/* fuzz_helpdesk_zendesk_json — Zendesk's JSON (ticket lists, single tickets, incremental-export pages) through
 * helpdesk_parse_export, with the default options (helpdesk.h). */
#include "helpdesk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_helpdesk(HELPDESK_ZENDESK_JSON, NULL, data, size);
    return 0;
}
