/* test_clock.c - the clock readings agree with the system's, the
 * monotonic one never goes back, and deadlines split milliseconds
 * exactly. */
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "harness.h"

static void test_readings(void)
{
    int64_t wall = clock_wall_ms();
    int64_t mono = clock_mono_ms();
    int64_t later;

    /* within a second of time(), in milliseconds */
    T_TRUE(wall / 1000 - (int64_t)time(NULL) <= 1 && (int64_t)time(NULL) - wall / 1000 <= 1);
    usleep(20000);
    later = clock_mono_ms();
    T_TRUE(later - mono >= 19 && later - mono < 1000);
}

static void test_deadline(void)
{
    struct timespec ts = clock_deadline(1764127260123);

    T_EQ_INT((long long)ts.tv_sec, 1764127260LL);
    T_EQ_INT(ts.tv_nsec, 123000000L);
    ts = clock_deadline(5000);
    T_EQ_INT((long long)ts.tv_sec, 5LL);
    T_EQ_INT(ts.tv_nsec, 0L);
}

static const struct test_case cases[] = {
    {"readings", test_readings},
    {"deadline", test_deadline},
};

TEST_MAIN("clock", cases)
