/* clock.c - wall-clock and monotonic milliseconds, and deadlines. */
#include "clock.h"

static int64_t reading_ms(clockid_t which)
{
    struct timespec ts;

    clock_gettime(which, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
    return reading_ms(CLOCK_REALTIME);
}

int64_t clock_mono_ms(void)
{
    return reading_ms(CLOCK_MONOTONIC);
}

struct timespec clock_deadline(int64_t wall_ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(wall_ms / 1000);
    ts.tv_nsec = (long)(wall_ms % 1000) * 1000000L;
    return ts;
}
