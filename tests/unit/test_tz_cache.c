/* test_tz_cache.c - zones are loaded once, shared, and errors are not
 * cached. */
#include "core/error.h"
#include "core/tz_cache.h"
#include "harness.h"

static void test_same_zone_once(void)
{
    struct tz_cache *c = NULL;
    const struct tz *a = NULL;
    const struct tz *b = NULL;
    const struct tz *u = NULL;
    char msg[256];

    T_EQ_INT(tz_cache_init(&c), 0);
    T_EQ_INT(tz_cache_get(c, "America/New_York", &a, msg, sizeof(msg)), 0);
    T_EQ_INT(tz_cache_get(c, "America/New_York", &b, msg, sizeof(msg)), 0);
    T_TRUE(a != NULL && a == b);
    T_EQ_STR(tz_name(a), "America/New_York");
    T_EQ_INT(tz_cache_get(c, "", &u, msg, sizeof(msg)), 0);
    T_TRUE(u == tz_utc());
    T_EQ_INT(tz_cache_get(c, NULL, &u, msg, sizeof(msg)), 0);
    T_TRUE(u == tz_utc());
    /* names are keys as written: another spelling is another entry */
    T_EQ_INT(tz_cache_get(c, "america/new_york", &b, msg, sizeof(msg)), 0);
    T_EQ_STR(tz_name(b), "America/New_York");
    T_EQ_INT(tz_cache_get(c, "Mars/Base", &u, msg, sizeof(msg)), ECS_ENOTFOUND);
    T_EQ_STR(msg, "unknown time zone 'Mars/Base'");
    T_EQ_INT(tz_cache_get(c, "Mars/Base", &u, msg, sizeof(msg)), ECS_ENOTFOUND);
    tz_cache_free(&c);
    T_TRUE(c == NULL);
}

static const struct test_case cases[] = {
    {"same_zone_once", test_same_zone_once},
};

TEST_MAIN("tz_cache", cases)
