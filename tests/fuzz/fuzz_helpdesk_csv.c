/* fuzz_helpdesk_csv — a generic CSV through helpdesk_parse_export with a
 * column mapping of every field (helpdesk.h); the seeds' header row names
 * these columns. */
#include "helpdesk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const map[] = {
        "Ticket=id", "Opened=created_at", "Link=link", "Customer=email",
        "Labels=tags", "Who=requester", "Via=channel"
    };
    static const struct helpdesk_options opt = { "Link", map, 7 };
    fuzz_helpdesk(HELPDESK_CSV, &opt, data, size);
    return 0;
}
