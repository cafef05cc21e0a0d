/* test_tz.c - the TZif reader against offsets and transitions computed
 * with Python's zoneinfo over the same system files. */
#include <stdlib.h>
#include <string.h>

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

/* A TZif version 2 file: an empty version 1 block, then n transitions
 * (at[i] switching to type idx[i]) over ntypes offsets, one abbreviation
 * "X" and the POSIX footer. Returns its length. */
static size_t tzif_build(unsigned char *buf, const int64_t *at, const unsigned char *idx, size_t n,
                         const int32_t *offs, size_t ntypes, const char *footer)
{
    size_t o = 0;
    size_t i;
    int k;

    memset(buf, 0, 44);
    memcpy(buf, "TZif2", 5);
    o = 44;
    memcpy(buf + o, "TZif2", 5);
    memset(buf + o + 5, 0, 39);
    buf[o + 35] = (unsigned char)n;      /* timecnt, low byte */
    buf[o + 39] = (unsigned char)ntypes; /* typecnt */
    buf[o + 43] = 2;                     /* charcnt: "X\0" */
    o += 44;
    for (i = 0; i < n; i++) {
        for (k = 0; k < 8; k++)
            buf[o++] = (unsigned char)((uint64_t)at[i] >> (56 - 8 * k));
    }
    for (i = 0; i < n; i++)
        buf[o++] = idx[i];
    for (i = 0; i < ntypes; i++) {
        for (k = 0; k < 4; k++)
            buf[o++] = (unsigned char)((uint32_t)offs[i] >> (24 - 8 * k));
        buf[o++] = 0;
        buf[o++] = 0;
    }
    buf[o++] = 'X';
    buf[o++] = 0;
    o += (size_t)sprintf((char *)buf + o, "\n%s\n", footer);
    return o;
}

/* issue 13, finding 7: the reader trusted its input. An offset of -2^31
 * was loaded (and later negated); a transition near 2^63 overflowed the
 * footer's arithmetic. Both are refused, naming why. */
static void test_crafted_files_refused(void)
{
    unsigned char buf[512];
    char msg[256];
    struct tz *z = NULL;
    const int64_t at[2] = {0, INT64_C(1) << 62};
    const int64_t unsorted[2] = {1000, 10};
    const unsigned char idx[2] = {1, 0};
    const int32_t huge[2] = {INT32_MIN, 0};
    const int32_t sane[2] = {-18000, -14400};
    size_t len;

    len = tzif_build(buf, at, idx, 1, huge, 2, "");
    msg[0] = '\0';
    T_EQ_INT(tz_parse(buf, len, "huge", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "a UTC offset of a day or more");
    tz_free(&z);
    len = tzif_build(buf, at, idx, 2, sane, 2, "EST5EDT,M3.2.0,M11.1.0");
    msg[0] = '\0';
    T_EQ_INT(tz_parse(buf, len, "far", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "a transition beyond 2^60 seconds");
    tz_free(&z);
    len = tzif_build(buf, unsorted, idx, 2, sane, 2, "");
    T_EQ_INT(tz_parse(buf, len, "unsorted", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "transitions out of order");
    tz_free(&z);
    len = tzif_build(buf, at, idx, 1, sane, 2, "<-2430>24:30");
    T_EQ_INT(tz_parse(buf, len, "footer", &z, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "a footer UTC offset of a day or more");
    tz_free(&z);
}

/* Spans far past the table: the 400-year reduction overflowed near 2^63
 * (New York's span at INT64_MAX - 1 ended before it began). */
static void test_span_holds_any_instant(void)
{
    static const int64_t ts[] = {INT64_MIN,        -(INT64_C(1) << 61), 0,
                                 INT64_C(1) << 61, INT64_MAX - 1,       INT64_MAX};
    struct tz *z = NULL;
    struct tz_span sp;
    char msg[256];
    size_t i;

    T_EQ_INT(tz_load("America/New_York", &z, msg, sizeof(msg)), 0);
    for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        tz_span_at(z, ts[i], &sp);
        T_TRUE(sp.start <= ts[i]);
        T_TRUE(ts[i] < sp.end || sp.end == INT64_MAX);
        T_TRUE(sp.offset == -18000 || sp.offset == -14400 || sp.offset == -17762);
    }
    (void)tz_wall_to_utc(z, INT64_MIN);
    (void)tz_wall_to_utc(z, INT64_MAX);
    tz_free(&z);
}

static const struct test_case cases[] = {
    {"crafted_files_refused", test_crafted_files_refused},
    {"span_holds_any_instant", test_span_holds_any_instant},
    {"offsets", test_offsets},
    {"far_future_follows_the_rule", test_far_future_follows_the_rule},
    {"spans", test_spans},
    {"wall_to_utc", test_wall_to_utc},
    {"names", test_names},
    {"damaged_files", test_damaged_files},
};

TEST_MAIN("tz", cases)
