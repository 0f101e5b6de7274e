/* fuzz_helpdesk_helpscout — Help Scout's JSON conversations through
 * helpdesk_parse_export, with the default options (helpdesk.h). */
#include "helpdesk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_helpdesk(HELPDESK_HELPSCOUT_JSON, NULL, data, size);
    return 0;
}
