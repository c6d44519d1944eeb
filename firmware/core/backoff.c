/* backoff: exponential backoff with full jitter (see backoff.h). */
#include "core/backoff.h"

#include <errno.h>
#include <time.h>

#include "core/random.h"

long backoff_delay_ms(int attempt, long base_ms, long cap_ms, uint64_t rnd)
{
    if (base_ms <= 0 || cap_ms <= 0 || attempt < 0)
        return 0;
    long ceiling = base_ms;
    for (int i = 0; i < attempt && ceiling < cap_ms; i++)
        ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    return (long)(rnd % ((uint64_t)ceiling + 1));
}

uint64_t backoff_random(void)
{
    uint64_t v;
    if (random_bytes(&v, sizeof v) == 0)
        return v;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec * 6364136223846793005ULL + (uint64_t)ts.tv_sec;
}

void backoff_sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L}, rem;
    while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
        ts = rem;
}

long backoff_next_ms(int attempt, long base_ms, long cap_ms)
{
    return backoff_delay_ms(attempt, base_ms, cap_ms, backoff_random());
}
