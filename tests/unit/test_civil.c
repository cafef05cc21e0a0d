/* test_civil.c - calendar arithmetic against known dates. */
#include "core/civil.h"
#include "harness.h"

static void test_days_round_trip(void)
{
    int64_t d;
    int64_t y;
    int m;
    int day;

    T_EQ_INT(civil_days_from_ymd(1970, 1, 1), 0);
    T_EQ_INT(civil_days_from_ymd(2000, 3, 1), 11017);
    T_EQ_INT(civil_days_from_ymd(1969, 12, 31), -1);
    /* every day over 1,000 years survives the round trip */
    for (d = civil_days_from_ymd(1600, 1, 1); d < civil_days_from_ymd(2600, 1, 1); d += 1) {
        civil_ymd_from_days(d, &y, &m, &day);
        if (civil_days_from_ymd(y, m, day) != d) {
            T_EQ_INT(civil_days_from_ymd(y, m, day), d);
            break;
        }
    }
    civil_ymd_from_days(civil_days_from_ymd(9999, 12, 31), &y, &m, &day);
    T_EQ_INT(y, 9999);
    T_EQ_INT(m, 12);
    T_EQ_INT(day, 31);
}

static void test_leap_and_month_lengths(void)
{
    T_EQ_INT(civil_is_leap(2024), 1);
    T_EQ_INT(civil_is_leap(2100), 0);
    T_EQ_INT(civil_is_leap(2000), 1);
    T_EQ_INT(civil_days_in_month(2024, 2), 29);
    T_EQ_INT(civil_days_in_month(2100, 2), 28);
    T_EQ_INT(civil_days_in_month(2023, 4), 30);
    T_EQ_INT(civil_days_in_month(2023, 12), 31);
}

static void test_weekday_and_iso_week(void)
{
    int64_t iy = 0;

    T_EQ_INT(civil_weekday(0), 3);                                 /* 1970-01-01 Thursday */
    T_EQ_INT(civil_weekday(civil_days_from_ymd(2024, 11, 24)), 6); /* Sunday */
    T_EQ_INT(civil_iso_week(2021, 1, 3, &iy), 53);
    T_EQ_INT(iy, 2020);
    T_EQ_INT(civil_iso_week(2024, 12, 30, &iy), 1);
    T_EQ_INT(iy, 2025);
    T_EQ_INT(civil_iso_week(2026, 11, 24, NULL), 48);
    T_EQ_INT(civil_iso_week(2015, 12, 31, NULL), 53);
}

static void test_seconds(void)
{
    struct civil_time t;

    civil_from_seconds(-1, &t);
    T_EQ_INT(t.year, 1969);
    T_EQ_INT(t.hour, 23);
    T_EQ_INT(t.second, 59);
    civil_from_seconds(1700000000, &t);
    T_EQ_INT(t.year, 2023);
    T_EQ_INT(t.month, 11);
    T_EQ_INT(t.day, 14);
    T_EQ_INT(t.hour, 22);
    T_EQ_INT(t.minute, 13);
    T_EQ_INT(t.second, 20);
    T_EQ_INT(civil_to_seconds(&t), 1700000000);
    /* the ends of int64_t (the fuzzed TZif target overflowed here) */
    civil_from_seconds(INT64_MIN, &t);
    T_EQ_INT(t.hour, 8);
    T_EQ_INT(t.minute, 29);
    T_EQ_INT(t.second, 52);
    civil_from_seconds(INT64_MAX, &t);
    T_EQ_INT(t.hour, 15);
    T_EQ_INT(t.minute, 30);
    T_EQ_INT(t.second, 7);
}

static const struct test_case cases[] = {
    {"days_round_trip", test_days_round_trip},
    {"leap_and_month_lengths", test_leap_and_month_lengths},
    {"weekday_and_iso_week", test_weekday_and_iso_week},
    {"seconds", test_seconds},
};

TEST_MAIN("civil", cases)
