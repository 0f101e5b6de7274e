/* fuzz_bot_ua — the user-agent classifier: bot_user_agent reads only the
 * LEN bytes it is given (no NUL needed) and answers the same for the same
 * bytes. */
#include "fuzz.h"
#include "dwell/bot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool bot = bot_user_agent((const char *)data, size);
    FUZZ_CHECK(bot == bot_user_agent((const char *)data, size));
    if (size == 0)
        FUZZ_CHECK(bot);
    return 0;
}
