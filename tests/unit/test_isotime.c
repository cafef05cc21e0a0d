/* test_isotime.c - the datetime input form of the job API and the output
 * form of every interface. */
#include "core/error.h"
#include "core/isotime.h"
#include "core/tz.h"
#include "harness.h"

static int64_t parse_instant(const char *s)
{
    struct isotime t;
    char msg[256];

    if (isotime_parse(s, &t, msg, sizeof(msg)) != 0)
        return INT64_MIN;
    return isotime_instant(&t, NULL);
}

static void test_accepted_forms(void)
{
    struct isotime t;
    char msg[256];

    T_EQ_INT(parse_instant("2017-01-01T00:00"), 1483228800);
    T_EQ_INT(parse_instant("2017-1-2 3:04:05"), 1483326245);
    T_EQ_INT(parse_instant("2017-01-01T05:30:00+0530"), 1483228800);
    T_EQ_INT(parse_instant("2017-01-01T05:30:00+05:30"), 1483228800);
    T_EQ_INT(parse_instant("2016-12-31T16:00:00-08"), 1483228800);
    T_EQ_INT(isotime_parse("2017-01-01T00:00:00.1234567Z", &t, msg, sizeof(msg)), 0);
    T_EQ_INT(t.usec, 123456);
    T_EQ_INT(t.has_offset, 1);
    T_EQ_INT(isotime_parse("2017-01-01T00:00:00.5", &t, msg, sizeof(msg)), 0);
    T_EQ_INT(t.usec, 500000);
    T_EQ_INT(t.has_offset, 0);
}

static void test_rejected_forms(void)
{
    static const char *const bad[] = {
        "2017-01-01",
        "20170101T000000",
        "2017-01-01T00:00:00 Z",
        "2017-01-01T24:00:00",
        "2017-13-01T00:00",
        "",
        "2017-02-29T00:00",
        "2017-01-01T00:60",
        "17-01-01T00:00",
        "2017-01-01T00:00:00+5",
        "2017-01-01T00:00:00.",
        "2017-01-01T00:00Zjunk",
    };
    struct isotime t;
    char msg[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg[0] = '\0';
        T_EQ_INT(isotime_parse(bad[i], &t, msg, sizeof(msg)), ECS_EINVAL);
        T_HAS_STR(msg, "is not a valid date-time");
    }
    /* found by fuzz_isotime: a long input pushed the reason out of msg */
    {
        char longer[400];

        memset(longer, ':', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        memcpy(longer, "2417-01-01", 10);
        T_EQ_INT(isotime_parse(longer, &t, msg, sizeof(msg)), ECS_EINVAL);
        T_HAS_STR(msg, "...' is not a valid date-time (a time must follow the date");
    }
}

static void test_format(void)
{
    char buf[48];

    isotime_format(1483228800, 0, buf, sizeof(buf));
    T_EQ_STR(buf, "2017-01-01T00:00:00+00:00");
    isotime_format(1483228800, -18000, buf, sizeof(buf));
    T_EQ_STR(buf, "2016-12-31T19:00:00-05:00");
    isotime_format(1483228800, 20700, buf, sizeof(buf));
    T_EQ_STR(buf, "2017-01-01T05:45:00+05:45");
    isotime_format(0, -17762, buf, sizeof(buf));
    T_EQ_STR(buf, "1969-12-31T19:03:58-04:56:02");
}

/* issue 13, finding 8: an offset that carried the instant before year
 * 0000 was accepted, and its UTC form (-001-12-31T19:00:00+00:00) did not
 * read back. */
static void test_instant_outside_years_refused(void)
{
    struct isotime t;
    char msg[256];

    msg[0] = '\0';
    T_EQ_INT(isotime_parse("0000-1-1T0:0+05", &t, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "outside years 0000-9999");
    T_EQ_INT(isotime_parse("9999-12-31T23:00-01", &t, msg, sizeof(msg)), ECS_EINVAL);
    T_EQ_INT(parse_instant("0000-01-01T05:00+05"), INT64_C(-62167219200));
    T_EQ_INT(parse_instant("9999-12-31T23:59:59Z"), INT64_C(253402300799));
}

/* Found by fuzz_isotime: '0000-1-1T0:0' read in Asia/Kathmandu (local
 * mean time +05:41:16) named an instant of year -1, shown in UTC as
 * '-001-12-31T18:18:44+00:00'. */
static void test_zone_reading_kept_in_years(void)
{
    struct isotime t;
    struct tz *zone = NULL;
    char msg[256];
    char buf[48];
    int64_t at;

    T_EQ_INT(tz_load("Asia/Kathmandu", &zone, msg, sizeof(msg)), 0);
    T_EQ_INT(isotime_parse("0000-1-1T0:0", &t, msg, sizeof(msg)), 0);
    at = isotime_instant(&t, zone);
    T_EQ_INT(at, INT64_C(-62167219200));
    isotime_format(at, 0, buf, sizeof(buf));
    T_EQ_STR(buf, "0000-01-01T00:00:00+00:00");
    tz_free(&zone);
    T_EQ_INT(tz_load("America/New_York", &zone, msg, sizeof(msg)), 0);
    T_EQ_INT(isotime_parse("9999-12-31T23:00", &t, msg, sizeof(msg)), 0);
    T_EQ_INT(isotime_instant(&t, zone), INT64_C(253402300799));
    tz_free(&zone);
}

/* What isotime_format writes, isotime_parse reads: offsets with seconds,
 * and readings that would leave years 0000-9999 (shown in UTC). */
static void test_format_reads_back(void)
{
    char buf[48];

    T_EQ_INT(parse_instant("1969-12-31T19:03:58-04:56:02"), 0);
    isotime_format(INT64_C(-62167219200), -18000, buf, sizeof(buf));
    T_EQ_STR(buf, "0000-01-01T00:00:00+00:00");
    isotime_format(INT64_C(253402300799), 3600, buf, sizeof(buf));
    T_EQ_STR(buf, "9999-12-31T23:59:59+00:00");
    /* an offset no zone has (-2^31 reached here from a crafted TZif) */
    isotime_format(0, INT32_MIN, buf, sizeof(buf));
    T_EQ_STR(buf, "1970-01-01T00:00:00+00:00");
}

static const struct test_case cases[] = {
    {"instant_outside_years_refused", test_instant_outside_years_refused},
    {"format_reads_back", test_format_reads_back},
    {"zone_reading_kept_in_years", test_zone_reading_kept_in_years},
    {"accepted_forms", test_accepted_forms},
    {"rejected_forms", test_rejected_forms},
    {"format", test_format},
};

TEST_MAIN("isotime", cases)
