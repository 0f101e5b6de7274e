/* fuzz_query_params — the report API's parameters (GET
 * /api/v1/sites/SITE/KIND?…, the same table as dwell report's flags)
 * through query_parse: the first byte picks the kind, the rest is the
 * query string. Never a crash; a refusal names the parameter and why; an
 * accepted query is within the documented bounds. */
#include "fuzz.h"
#include "dwell/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum query_kind kind = (enum query_kind)(data[0] % QUERY_KINDS);
    struct fuzz_args a;
    fuzz_args_parse(&a, data + 1, size - 1);
    struct query q;
    const char *param = NULL;
    char why[160];
    why[0] = '\0';
    if (query_parse(kind, "help.test", fuzz_arg, &a, &q, &param, why,
                    sizeof why) != 0) {
        FUZZ_CHECK(param != NULL && param[0] != '\0');
        FUZZ_CHECK(fuzz_terminated(why, sizeof why) && why[0] != '\0');
    } else {
        FUZZ_CHECK(q.kind == kind);
        FUZZ_CHECK(q.limit <= QUERY_MAX_LIMIT);
        FUZZ_CHECK(q.offset <= QUERY_MAX_OFFSET);
        FUZZ_CHECK(q.nmap <= QUERY_MAX_TOPICS);
        FUZZ_CHECK(q.range.from <= q.range.to);
    }
    fuzz_args_free(&a);
    return 0;
}
