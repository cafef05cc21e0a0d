/* test_tz.c - the TZif reader against offsets and transitions computed
 * with Python's zoneinfo over the same system files. */
#include <stdlib.h>

#include "core/error.h"
#include "core/tz.h"
#include "harness.h"

static int32_t offset_in(const char *name, int64_t t)
{
    struct tz *z = NULL;
    char msg[256];
    int32_t off;

    if (tz_load(name, &z, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "  cannot load %s: %s\n", name, msg);
        return INT32_MIN;
    }
    off = tz_offset_at(z, t);
    tz_free(&z);
    return off;
}

static void test_offsets(void)
{
    T_EQ_INT(offset_in("America/New_York", 1705320000), -18000);
    T_EQ_INT(offset_in("America/New_York", 1721044800), -14400);
    T_EQ_INT(offset_in("Australia/Lord_Howe", 1767268800), 39600);
    T_EQ_INT(offset_in("Australia/Lord_Howe", 1782907200), 37800);
    T_EQ_INT(offset_in("Asia/Kathmandu", 315576000), 19800);
    T_EQ_INT(offset_in("Asia/Kathmandu", 1767268800), 20700);
    T_EQ_INT(offset_in("Pacific/Chatham", 1767268800), 49500);
    T_EQ_INT(offset_in("Pacific/Chatham", 1782907200), 45900);
    T_EQ_INT(offset_in("Australia/Sydney", 1767268800), 39600);
    T_EQ_INT(offset_in("Australia/Sydney", 1782907200), 36000);
    T_EQ_INT(offset_in("Europe/London", 1782907200), 3600);
    T_EQ_INT(offset_in("Etc/GMT+5", 1782907200), -18000);
    T_EQ_INT(offset_in("UTC", 1782907200), 0);
    T_EQ_INT(offset_in("EST", 1782907200), -18000);
}

static void test_far_future_follows_the_rule(void)
{
    /* 2300 and 9999 are past every table: the POSIX footer decides */
    T_EQ_INT(offset_in("America/New_York", 10429473600LL), -14400);
    T_EQ_INT(offset_in("America/New_York", 253386446400LL), -14400);
    T_EQ_INT(offset_in("America/New_York", 253370808000LL), -18000);
}

static void test_spans(void)
{
    struct tz *z = NULL;
    struct tz_span sp;
    char msg[256];

    T_EQ_INT(tz_load("America/New_York", &z, msg, sizeof(msg)), 0);
    tz_span_at(z, 1720000000, &sp); /* summer 2024 */
    T_EQ_INT(sp.start, 1710054000);
    T_EQ_INT(sp.end, 1730613600);
    T_EQ_INT(sp.offset, -14400);
    T_EQ_INT(sp.prev_offset, -18000);
    tz_span_at(z, 1710054000 - 1, &sp);
    T_EQ_INT(sp.end, 1710054000);
    T_EQ_INT(sp.offset, -18000);
    /* 2500: the materialised rule, reduced by whole 400-year periods */
    tz_span_at(z, 16740000000LL, &sp);
    T_EQ_INT(sp.start, 16731471600LL);
    T_EQ_INT(sp.end, 16752031200LL);
    T_EQ_INT(sp.offset, -14400);
    T_EQ_INT(sp.prev_offset, -18000);
    tz_span_at(z, INT64_C(16731471600) + INT64_C(146097) * 86400 * 20, &sp);
    T_EQ_INT(sp.start, INT64_C(16731471600) + INT64_C(146097) * 86400 * 20);
    T_EQ_INT(sp.offset, -14400);
    tz_free(&z);
    T_TRUE(z == NULL);

    T_EQ_INT(tz_load("Australia/Lord_Howe", &z, msg, sizeof(msg)), 0);
    tz_span_at(z, 1728142200, &sp);
    T_EQ_INT(sp.start, 1728142200);
    T_EQ_INT(sp.offset, 39600);
    T_EQ_INT(sp.prev_offset, 37800);
    tz_free(&z);

    T_EQ_INT(tz_load("EST", &z, msg, sizeof(msg)), 0);
    T_EQ_INT(tz_is_fixed(z), 1);
    tz_span_at(z, 0, &sp);
    T_TRUE(sp.start == INT64_MIN && sp.end == INT64_MAX);
    tz_free(&z);
}

static void test_wall_to_utc(void)
{
    struct tz *z = NULL;
    char msg[256];

    T_EQ_INT(tz_load("America/New_York", &z, msg, sizeof(msg)), 0);
    /* 2024-11-03 01:30 happens twice: the first pass (EDT) */
    T_EQ_INT(tz_wall_to_utc(z, 1730597400), 1730611800);
    /* 2024-03-10 02:30 never happens: read with EST, 03:30 EDT */
    T_EQ_INT(tz_wall_to_utc(z, 1710037800), 1710055800);
    /* an ordinary time */
    T_EQ_INT(tz_wall_to_utc(z, 1721044800), 1721059200);
    tz_free(&z);
    T_EQ_INT(tz_load("Australia/Lord_Howe", &z, msg, sizeof(msg)), 0);
    /* 2024-10-06 02:15 in the 30-minute gap -> 02:45+11:00 */
    T_EQ_INT(tz_wall_to_utc(z, 1728180900), 1728143100);
    tz_free(&z);
}

static void test_names(void)
{
    struct tz *z = NULL;
    char msg[256];

    T_EQ_INT(tz_load("us/pacific", &z, msg, sizeof(msg)), 0);
    T_EQ_STR(z != NULL ? tz_name(z) : NULL, "US/Pacific");
    tz_free(&z);
    T_EQ_INT(tz_load("america/new_york", &z, msg, sizeof(msg)), 0);
    T_EQ_STR(z != NULL ? tz_name(z) : NULL, "America/New_York");
    tz_free(&z);
    T_EQ_INT(tz_load("utc", &z, msg, sizeof(msg)), 0);
    tz_free(&z);
    T_EQ_INT(tz_load("", &z, msg, sizeof(msg)), 0);
    T_EQ_STR(z != NULL ? tz_name(z) : NULL, "UTC");
    tz_free(&z);
    T_EQ_INT(tz_load("Mars/Base", &z, msg, sizeof(msg)), ECS_ENOTFOUND);
    T_EQ_STR(msg, "unknown time zone 'Mars/Base'");
    T_EQ_INT(tz_load("America", &z, msg, sizeof(msg)), ECS_ENOTFOUND);
    T_EQ_INT(tz_load("zone.tab", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_EQ_INT(tz_load("tzdata.zi", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_EQ_INT(tz_load("../etc/passwd", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_EQ_INT(tz_load("/etc/passwd", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "is not a time zone name");
    T_EQ_INT(tz_load("America//New_York", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_TRUE(z == NULL);
}

/* A damaged file must be refused cleanly, never crash or misread. */
static void test_damaged_files(void)
{
    FILE *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
    unsigned char buf[8192];
    size_t len;
    size_t cut;
    size_t i;
    char msg[256];
    int refused = 0;

    T_TRUE(f != NULL);
    if (f == NULL)
        return;
    len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    for (cut = 0; cut < len; cut++) {
        struct tz *z = NULL;
        int rc = tz_parse(buf, cut, "cut", &z, msg, sizeof(msg));

        if (rc != 0)
            refused++;
        T_TRUE(rc == 0 || rc == ECS_EINVAL);
        tz_free(&z);
    }
    T_TRUE(refused > 0);
    /* flip every byte of the header and the first data in turn */
    for (i = 0; i < 200 && i < len; i++) {
        unsigned char copy[8192];
        struct tz *z = NULL;
        int rc;

        memcpy(copy, buf, len);
        copy[i] ^= 0xff;
        rc = tz_parse(copy, len, "flipped", &z, msg, sizeof(msg));
        T_TRUE(rc == 0 || rc == ECS_EINVAL);
        if (rc == 0)
            (void)tz_offset_at(z, 1720000000);
        tz_free(&z);
    }
    {
        struct tz *z = NULL;

        T_EQ_INT(tz_parse((const unsigned char *)"TZif", 4, "short", &z, msg, sizeof(msg)),
                 ECS_EINVAL);
    }
    T_HAS_STR(msg, "time zone 'short'");
}

static const struct test_case cases[] = {
    {"offsets", test_offsets}, {"far_future_follows_the_rule", test_far_future_follows_the_rule},
    {"spans", test_spans},     {"wall_to_utc", test_wall_to_utc},
    {"names", test_names},     {"damaged_files", test_damaged_files},
};

TEST_MAIN("tz", cases)
