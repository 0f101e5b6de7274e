/* fuzz_helpdesk_webhook — a webhook body (Zendesk, Freshdesk, Help Scout,
 * Intercom, the generic shape) through helpdesk_parse_webhook: never a
 * crash; a ticket when it answers 0, a reason when it answers -1. Also
 * Help Scout's signature check over the same body (the signature: the
 * body's first line) and the time parser on it as text. */
#include "helpdesk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ticket t;
    char err[256];
    memset(&t, 0xa5, sizeof t);
    err[0] = '\0';
    int rc = helpdesk_parse_webhook((const char *)data, size, NULL, &t, err,
                                    sizeof err);
    if (rc == 0)
        fuzz_check_ticket(&t);
    else
        FUZZ_CHECK(rc == -1 && fuzz_terminated(err, sizeof err) &&
                   err[0] != '\0');

    char *text = malloc(size + 1);
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    const char *sig = text;
    if (nl != NULL)
        *nl = '\0';
    int ok = helpdesk_helpscout_signature_ok((const char *)data, size,
                                             "fuzz-secret", sig);
    FUZZ_CHECK(ok == 0 || ok == 1);
    uint64_t us;
    (void)helpdesk_parse_time(text, &us);
    free(text);
    return 0;
}
