/* test_schedule.c - every dialect, field form, DST rule and error message
 * of the schedule engine, against hand-checked fire times. */
#include <stdlib.h>
#include <time.h>

#include "core/error.h"
#include "core/isotime.h"
#include "core/schedule.h"
#include "core/tz.h"
#include "harness.h"

/* The next fire times of expr in zone after `from`, space-separated, as
 * many as `want` lists; "NEVER" if none, "ERROR: msg" on a parse error. */
static const char *series(const char *expr, const char *zone_name, const char *from,
                          const char *want)
{
    static char out[4096];
    struct tz *zone = NULL;
    struct schedule *s = NULL;
    struct isotime it;
    char msg[512];
    int count = 1;
    const char *p;
    time_t t;
    size_t o = 0;
    int i;

    for (p = want; *p != '\0'; p++) {
        if (*p == ' ')
            count++;
    }
    if (tz_load(zone_name, &zone, msg, sizeof(msg)) != 0) {
        snprintf(out, sizeof(out), "ZONE: %s", msg);
        return out;
    }
    if (isotime_parse(from, &it, msg, sizeof(msg)) != 0) {
        tz_free(&zone);
        snprintf(out, sizeof(out), "FROM: %s", msg);
        return out;
    }
    t = (time_t)isotime_instant(&it, zone);
    if (schedule_parse(expr, zone, &s, msg, sizeof(msg)) != 0) {
        tz_free(&zone);
        snprintf(out, sizeof(out), "ERROR: %s", msg);
        return out;
    }
    out[0] = '\0';
    for (i = 0; i < count; i++) {
        time_t next;
        char buf[48];

        if (schedule_next(s, t, &next) != 0) {
            if (i == 0)
                snprintf(out, sizeof(out), "NEVER");
            break;
        }
        isotime_format_in((int64_t)next, zone, buf, sizeof(buf));
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i > 0 ? " " : "", buf);
        t = next;
    }
    schedule_free(&s);
    tz_free(&zone);
    return out;
}

#define SERIES(expr, zone, from, want) T_EQ_STR(series(expr, zone, from, want), want)

/* The parse error message for expr (in UTC), or "" when it parses. */
static const char *parse_error(const char *expr)
{
    static char msg[512];
    struct schedule *s = NULL;

    msg[0] = '\0';
    if (schedule_parse(expr, NULL, &s, msg, sizeof(msg)) == 0) {
        schedule_free(&s);
        return "";
    }
    return msg;
}

#define PARSE_ERROR(expr, want) T_HAS_STR(parse_error(expr), want)

/* ---------------- seed dialect ---------------- */

static void test_seed_basic(void)
{
    SERIES("25 */5", "UTC", "2026-01-01T00:02:00Z",
           "2026-01-01T00:05:25+00:00 2026-01-01T00:10:25+00:00");
    SERIES("0 */15", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-01T00:15:00+00:00 2026-01-01T00:30:00+00:00");
    SERIES("*", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-01T00:00:01+00:00 2026-01-01T00:00:02+00:00");
    SERIES("0 0 9", "UTC", "2026-01-01T09:00:00Z",
           "2026-01-02T09:00:00+00:00 2026-01-03T09:00:00+00:00");
    /* strictly after: a fire time equal to `from` is not returned */
    SERIES("0 0 0", "UTC", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00+00:00");
    /* spacing and tabs are only separators */
    SERIES(" 0 \t 30   12 ", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T12:30:00+00:00");
}

static void test_seed_day_of_week_is_monday_zero(void)
{
    /* 2026-01-01 is a Thursday; day_of_week 0 is Monday */
    SERIES("0 0 9 0", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-05T09:00:00+00:00 2026-01-12T09:00:00+00:00");
    SERIES("0 0 9 6", "UTC", "2026-01-01T00:00:00Z", "2026-01-04T09:00:00+00:00");
    SERIES("0 0 9 sat-sun", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-03T09:00:00+00:00 2026-01-04T09:00:00+00:00 2026-01-10T09:00:00+00:00");
    SERIES("0 0 9 MON,Wed", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-05T09:00:00+00:00 2026-01-07T09:00:00+00:00");
    SERIES("0 0 0 */2", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-02T00:00:00+00:00 2026-01-04T00:00:00+00:00 2026-01-05T00:00:00+00:00");
}

static void test_seed_day_and_weekday_are_anded(void)
{
    /* the 1st of a month that is a Monday: 2026-06-01 */
    SERIES("0 0 0 mon * 1", "UTC", "2026-01-01T00:00:00Z",
           "2026-06-01T00:00:00+00:00 2027-02-01T00:00:00+00:00");
    /* impossible combination: never fires */
    SERIES("0 0 0 * * 31 2", "UTC", "2026-01-01T00:00:00Z", "NEVER");
}

static void test_seed_day_field_extras(void)
{
    SERIES("0 0 0 * * last", "UTC", "2026-01-31T00:00:00Z",
           "2026-02-28T00:00:00+00:00 2026-03-31T00:00:00+00:00");
    SERIES("0 0 0 * * last", "UTC", "2028-02-01T00:00:00Z", "2028-02-29T00:00:00+00:00");
    SERIES("0 0 0 * * 1st_mon", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-05T00:00:00+00:00 2026-02-02T00:00:00+00:00");
    SERIES("0 0 0 * * last_fri", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-30T00:00:00+00:00 2026-02-27T00:00:00+00:00");
    /* a 5th Friday exists only in some months */
    SERIES("0 0 0 * * 5th_fri", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-30T00:00:00+00:00 2026-05-29T00:00:00+00:00");
    SERIES("0 0 0 * * 1st_mon,last", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-05T00:00:00+00:00 2026-01-31T00:00:00+00:00 2026-02-02T00:00:00+00:00");
    SERIES("0 0 0 * * */10", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-11T00:00:00+00:00 2026-01-21T00:00:00+00:00 2026-01-31T00:00:00+00:00");
}

static void test_seed_week_month_year(void)
{
    /* ISO week 1 of 2027 starts Monday 2027-01-04 */
    SERIES("0 0 0 0 1", "UTC", "2026-06-01T00:00:00Z", "2027-01-04T00:00:00+00:00");
    /* ISO week 53 exists in 2026 (Dec 28 - Jan 3) */
    SERIES("0 0 0 * 53", "UTC", "2026-06-01T00:00:00Z",
           "2026-12-28T00:00:00+00:00 2026-12-29T00:00:00+00:00");
    SERIES("0 0 0 * * 1 jan-mar", "UTC", "2026-02-15T00:00:00Z",
           "2026-03-01T00:00:00+00:00 2027-01-01T00:00:00+00:00");
    SERIES("0 0 0 * * 1 1 2030/5", "UTC", "2026-02-15T00:00:00Z",
           "2030-01-01T00:00:00+00:00 2035-01-01T00:00:00+00:00");
    SERIES("0 0 0 * * 1 1 2020-2025", "UTC", "2026-01-01T00:00:00Z", "NEVER");
    SERIES("0 0 0 * * 29 2", "UTC", "2026-01-01T00:00:00Z",
           "2028-02-29T00:00:00+00:00 2032-02-29T00:00:00+00:00");
    /* 2100 is not a leap year */
    SERIES("0 0 0 * * 29 2 2100-2104", "UTC", "2026-01-01T00:00:00Z", "2104-02-29T00:00:00+00:00");
    SERIES("5-20/5 10/20", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-01T00:10:05+00:00 2026-01-01T00:10:10+00:00 2026-01-01T00:10:15+00:00 "
           "2026-01-01T00:10:20+00:00 2026-01-01T00:30:05+00:00");
}

static void test_seed_errors(void)
{
    PARSE_ERROR("bad-schedule", "Unrecognized expression \"bad-schedule\" for field \"second\"");
    PARSE_ERROR("0 61", "Error validating expression '61': the last value (61) is higher than "
                        "the maximum value (59)");
    PARSE_ERROR("0 61", "field \"minute\"");
    PARSE_ERROR("0 0 0 * * * * 1960", "Error validating expression '1960': the first value "
                                      "(1960) is lower than the minimum value (1970)");
    PARSE_ERROR("0 0 0 * * 0", "Error validating expression '0': the first value (0) is lower "
                               "than the minimum value (1)");
    PARSE_ERROR("*/60", "Error validating expression '*/60': the step value (60) is higher than "
                        "the total range of the expression (59)");
    PARSE_ERROR("1-59/59", "Error validating expression '1-59/59': the step value (59) is "
                           "higher than the total range of the expression (58)");
    PARSE_ERROR("*/0", "Increment must be higher than 0");
    PARSE_ERROR("5-2", "The minimum value in a range must not be higher than the maximum");
    PARSE_ERROR("0 0 0 foo", "Invalid weekday name \"foo\"");
    PARSE_ERROR("0 0 0 * * 2nd_1", "Invalid weekday name \"1\"");
    PARSE_ERROR("0 0 0 * * * foo", "Invalid month name \"foo\"");
    PARSE_ERROR("0 0 0 * * xth", "Unrecognized expression \"xth\" for field \"day\"");
    /* '?' is resolved before parsing (as the API does); a left-over one is
     * reported, and one in the fourth field is not a '?' field at all */
    PARSE_ERROR("? 0", "'?' in field \"second\" stands for a random value");
    PARSE_ERROR("1 2 3 ?", "Unrecognized expression \"?\" for field \"day_of_week\"");
    PARSE_ERROR("?/5", "Unrecognized expression \"?/5\" for field \"second\"");
    /* deliberate fixes over the reference: junk after names, empty, too many */
    PARSE_ERROR("0 0 0 mon/2", "Unrecognized expression \"mon/2\" for field \"day_of_week\"");
    PARSE_ERROR("", "schedule is empty");
    PARSE_ERROR("   ", "schedule is empty");
    PARSE_ERROR("1 2 3 mon 4 5 6 2030 extra", "too many fields");
    PARSE_ERROR("1,,2", "Unrecognized expression \"\" for field \"second\"");
    PARSE_ERROR("99999999999999999999", "the last value");
    T_EQ_STR(parse_error("0 0 0 * * 1st_mon,last_sun 1-12 2030"), "");
}

static void test_seed_resolve_random(void)
{
    char msg[128];
    char *out = NULL;

    T_EQ_INT(schedule_resolve_random(" ?  \t*/5 ?", NULL, NULL, &out, msg, sizeof(msg)), 0);
    T_TRUE(out != NULL && out[0] == ' ' && strstr(out, "  \t*/5 ") != NULL);
    T_TRUE(out != NULL && strchr(out, '?') == NULL);
    T_EQ_STR(parse_error(out), "");
    free(out);
    T_EQ_INT(schedule_resolve_random("? ? ? ?", NULL, NULL, &out, msg, sizeof(msg)), 0);
    T_TRUE(out != NULL && strchr(out, '?') == out + strlen(out) - 1);
    T_HAS_STR(parse_error(out), "Unrecognized expression \"?\" for field \"day_of_week\"");
    free(out);
    T_EQ_INT(schedule_resolve_random("?/5 ?", NULL, NULL, &out, msg, sizeof(msg)), 0);
    T_TRUE(out != NULL && strncmp(out, "?/5 ", 4) == 0);
    free(out);
    T_EQ_INT(schedule_resolve_random("cron(0 12 ? * MON *)", NULL, NULL, &out, msg, sizeof(msg)),
             0);
    T_EQ_STR(out, "cron(0 12 ? * MON *)");
    free(out);
}

static uint32_t fixed_rand(void *ctx, uint32_t n)
{
    uint32_t *v = ctx;

    *v = *v * 1103515245u + 12345u;
    return (*v >> 8) % n;
}

static void test_seed_resolve_seeded(void)
{
    char msg[128];
    char *a = NULL;
    char *b = NULL;
    uint32_t s1 = 42;
    uint32_t s2 = 42;
    int seen_hours[24] = {0};
    int distinct = 0;
    int i;

    T_EQ_INT(schedule_resolve_random("? ? ?", fixed_rand, &s1, &a, msg, sizeof(msg)), 0);
    T_EQ_INT(schedule_resolve_random("? ? ?", fixed_rand, &s2, &b, msg, sizeof(msg)), 0);
    T_EQ_STR(a, b);
    free(a);
    free(b);
    /* the hour draw covers its whole range and nothing beyond it */
    for (i = 0; i < 2000; i++) {
        int h = -1;

        T_EQ_INT(schedule_resolve_random("0 0 ?", fixed_rand, &s1, &a, msg, sizeof(msg)), 0);
        h = atoi(a + 4);
        if (h >= 0 && h < 24 && !seen_hours[h]) {
            seen_hours[h] = 1;
            distinct++;
        }
        free(a);
    }
    T_EQ_INT(distinct, 24);
}

/* ---------------- AWS cron ---------------- */

static void test_aws_documented_examples(void)
{
    SERIES("cron(0 10 * * ? *)", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-01T10:00:00+00:00 2026-01-02T10:00:00+00:00");
    SERIES("cron(15 12 * * ? *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T12:15:00+00:00");
    /* 2026-01-02 is a Friday */
    SERIES("cron(0 18 ? * MON-FRI *)", "UTC", "2026-01-02T19:00:00Z", "2026-01-05T18:00:00+00:00");
    SERIES("cron(0 8 1 * ? *)", "UTC", "2026-01-01T09:00:00Z", "2026-02-01T08:00:00+00:00");
    SERIES("cron(0/15 * * * ? *)", "UTC", "2026-01-01T00:07:00Z",
           "2026-01-01T00:15:00+00:00 2026-01-01T00:30:00+00:00");
    SERIES("cron(1/10 * * * ? *)", "UTC", "2026-01-01T00:07:00Z",
           "2026-01-01T00:11:00+00:00 2026-01-01T00:21:00+00:00");
    SERIES("cron(0/5 8-17 ? * MON-FRI *)", "UTC", "2026-01-02T17:55:00Z",
           "2026-01-05T08:00:00+00:00");
    SERIES("cron(0 9 ? * 2#1 *)", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-05T09:00:00+00:00 2026-02-02T09:00:00+00:00");
    SERIES("cron(0 9 ? * 3#2 *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-13T09:00:00+00:00");
    /* 1 = SUN, 7 = SAT */
    SERIES("cron(0 0 ? * 1 *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00+00:00");
    SERIES("cron(0 0 ? * 7 *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00+00:00");
    SERIES("cron(0 0 1 JAN,jul ? 2027-2028)", "UTC", "2026-01-01T00:00:00Z",
           "2027-01-01T00:00:00+00:00 2027-07-01T00:00:00+00:00 2028-01-01T00:00:00+00:00 "
           "2028-07-01T00:00:00+00:00");
    SERIES("cron(0 0 1 1 ? 2027-2028)", "UTC", "2028-06-01T00:00:00Z", "NEVER");
}

static void test_aws_l_w_hash(void)
{
    SERIES("cron(0 0 L * ? *)", "UTC", "2026-01-31T00:00:00Z",
           "2026-02-28T00:00:00+00:00 2026-03-31T00:00:00+00:00");
    /* last Friday: 6L */
    SERIES("cron(0 10 ? * 6L *)", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-30T10:00:00+00:00 2026-02-27T10:00:00+00:00");
    /* L alone in day-of-week is Saturday */
    SERIES("cron(0 10 ? * L *)", "UTC", "2026-01-01T00:00:00Z", "2026-01-03T10:00:00+00:00");
    /* 2026-01-31 is a Saturday, so LW is Friday the 30th; 2026-05-31 a Sunday: 29th */
    SERIES("cron(0 0 LW * ? *)", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-30T00:00:00+00:00 2026-02-27T00:00:00+00:00 2026-03-31T00:00:00+00:00");
    SERIES("cron(0 0 LW 5 ? 2026)", "UTC", "2026-01-01T00:00:00Z", "2026-05-29T00:00:00+00:00");
    /* 15W: 2026-02-15 is a Sunday -> Monday 16th; 2026-08-15 Saturday -> Friday 14th */
    SERIES("cron(0 0 15W 2,8 ? 2026)", "UTC", "2026-01-01T00:00:00Z",
           "2026-02-16T00:00:00+00:00 2026-08-14T00:00:00+00:00");
    /* 1W never leaves the month: 2026-08-01 is a Saturday -> Monday 3rd */
    SERIES("cron(0 0 1W 8 ? 2026)", "UTC", "2026-01-01T00:00:00Z", "2026-08-03T00:00:00+00:00");
    /* 31W: 2026-05-31 is a Sunday -> Friday 29th, not June 1st */
    SERIES("cron(0 0 31W 5 ? 2026)", "UTC", "2026-01-01T00:00:00Z", "2026-05-29T00:00:00+00:00");
    /* 5th Monday only in months that have one */
    SERIES("cron(0 0 ? * MON#5 *)", "UTC", "2026-01-01T00:00:00Z",
           "2026-03-30T00:00:00+00:00 2026-06-29T00:00:00+00:00");
    SERIES("cron(0 0 30 2 ? *)", "UTC", "2026-01-01T00:00:00Z", "NEVER");
}

static void test_aws_errors(void)
{
    PARSE_ERROR("cron(0 0 ? * 8 *)", "day-of-week: '8' is out of range 1-7 (SUN-SAT)");
    PARSE_ERROR("cron(0 0 * * * *)", "exactly one of them must be '?'");
    PARSE_ERROR("cron(0 0 ? * ? *)", "exactly one of them must be '?'");
    PARSE_ERROR("cron(0 0 * * ?)", "cron() needs 6 fields");
    PARSE_ERROR("cron(60 0 * * ? *)", "minutes: '60' is out of range 0-59");
    PARSE_ERROR("cron(0 24 * * ? *)", "hours: '24' is out of range 0-23");
    PARSE_ERROR("cron(0 0 32 * ? *)", "day-of-month: '32' is out of range 1-31");
    PARSE_ERROR("cron(0 0 * 13 ? *)", "month: '13' is out of range 1-12 (JAN-DEC)");
    PARSE_ERROR("cron(0 0 * * ? 2200)", "year: '2200' is out of range 1970-2199");
    PARSE_ERROR("cron(0 0 * FOO ? *)", "month: 'FOO' is not a month name");
    PARSE_ERROR("cron(0 0 ? * 2#1,3#1 *)", "must be the field's only item");
    PARSE_ERROR("cron(0 0 ? * 2#6 *)", "week number 1-5");
    PARSE_ERROR("cron(0 0 ? * */2 *)", "steps ('/') are not allowed here");
    PARSE_ERROR("cron(0/0 0 * * ? *)", "step of 0");
    PARSE_ERROR("cron(0 10-2 * * ? *)", "backwards range");
    PARSE_ERROR("cron(0 0 ?,1 * ? *)", "day-of-month: '?' must stand alone, not in a list");
    PARSE_ERROR("cron(0 0 1,? * ? *)", "'?' must stand alone");
    PARSE_ERROR("cron(a 0 * * ? *)", "minutes: 'a' is not a value of 0-59");
    PARSE_ERROR("cron(0 0 0W * ? *)", "out of range 1W-31W");
    PARSE_ERROR("cronjob(0 0 * * ? *)", "unknown schedule form");
}

/* ---------------- rate() and at() ---------------- */

static void test_rate(void)
{
    SERIES("rate(5 minutes)", "UTC", "2026-01-01T00:02:00Z",
           "2026-01-01T00:05:00+00:00 2026-01-01T00:10:00+00:00");
    SERIES("rate(1 minute)", "UTC", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00+00:00");
    SERIES("rate(2 hours)", "UTC", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00+00:00");
    /* elapsed time: across New York's spring-forward a day is still 86,400 s */
    SERIES("rate(1 day)", "America/New_York", "2026-03-07T12:00:00-05:00",
           "2026-03-07T19:00:00-05:00 2026-03-08T20:00:00-04:00 2026-03-09T20:00:00-04:00");
    PARSE_ERROR("rate(1 minutes)", "rate(1 minute)");
    PARSE_ERROR("rate(5 minute)", "rate(5 minutes)");
    PARSE_ERROR("rate(0 minutes)", "out of range");
    PARSE_ERROR("rate(5 weeks)", "unit 'weeks' is not one of");
    PARSE_ERROR("rate(five minutes)", "not a whole number");
    PARSE_ERROR("rate(5)", "takes a value and a unit");
}

static void test_rate_anchor(void)
{
    struct schedule *s = NULL;
    char msg[256];
    time_t next = 0;

    T_EQ_INT(schedule_parse("rate(7 minutes)", NULL, &s, msg, sizeof(msg)), 0);
    schedule_set_anchor(s, 1000);
    T_EQ_INT(schedule_next(s, 1000, &next), 0);
    T_EQ_INT(next, 1420);
    T_EQ_INT(schedule_next(s, 999, &next), 0);
    T_EQ_INT(next, 1000);
    T_EQ_INT(schedule_next(s, 0, &next), 0);
    T_EQ_INT(next, 160);
    schedule_free(&s);
    T_TRUE(s == NULL);
}

/* issue 13, finding 1: a scheduleStart before 1970 as the anchor
 * overflowed (INT64_MAX - anchor): the sanitizer build aborted, the plain
 * one answered "never". */
static void test_rate_anchor_before_1970(void)
{
    struct schedule *s = NULL;
    char msg[256];
    time_t next = 0;
    /* 1013-02-01T00:00:00Z */
    const time_t anchor = INT64_C(-30197318400);

    T_EQ_INT(schedule_parse("rate(1 hour)", NULL, &s, msg, sizeof(msg)), 0);
    schedule_set_anchor(s, anchor);
    T_EQ_INT(schedule_next(s, 1767225600, &next), 0);
    T_EQ_INT(next, 1767229200);
    T_EQ_INT(schedule_next(s, anchor, &next), 0);
    T_EQ_INT(next, anchor + 3600);
    /* any anchor at all: the grid is what it defines */
    schedule_set_anchor(s, INT64_MIN);
    T_EQ_INT(schedule_next(s, 0, &next), 0);
    T_TRUE(next > 0 && next <= 3600);
    schedule_set_anchor(s, INT64_MAX);
    T_EQ_INT(schedule_next(s, 0, &next), 0);
    T_TRUE(next > 0 && next <= 3600);
    /* nothing at or after year 10000; an instant before year 0 gets the
     * first fire time of year 0 */
    schedule_set_anchor(s, 0);
    T_EQ_INT(schedule_next(s, INT64_C(253402300799), &next), ECS_ENEVER);
    T_EQ_INT(schedule_next(s, INT64_MIN, &next), 0);
    T_EQ_INT(next, INT64_C(-62167219200));
    schedule_free(&s);
}

static void test_at(void)
{
    SERIES("at(2027-01-01T09:00:00)", "UTC", "2026-01-01T00:00:00Z", "2027-01-01T09:00:00+00:00");
    SERIES("at(2027-01-01T09:00:00)", "America/New_York", "2026-01-01T00:00:00Z",
           "2027-01-01T09:00:00-05:00");
    SERIES("at(2020-01-01T09:00:00)", "UTC", "2026-01-01T00:00:00Z", "NEVER");
    /* inside New York's 2027 spring-forward gap: shifted by the gap */
    SERIES("at(2027-03-14T02:30:00)", "America/New_York", "2027-01-01T00:00:00Z",
           "2027-03-14T03:30:00-04:00");
    PARSE_ERROR("at(2027-02-30T09:00:00)", "not a real date and time");
    PARSE_ERROR("at(2027-01-01 09:00:00)", "at() takes yyyy-mm-ddThh:mm:ss");
}

/* ---------------- crontab ---------------- */

static void test_crontab(void)
{
    SERIES("crontab(30 2 * * 1-5)", "UTC", "2026-01-02T03:00:00Z", "2026-01-05T02:30:00+00:00");
    /* 7 and 0 are both Sunday */
    SERIES("crontab(0 0 * * 7)", "UTC", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00+00:00");
    SERIES("crontab(0 0 * * sun)", "UTC", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00+00:00");
    /* both day fields restricted: either matches (the 13th, or a Friday) */
    SERIES("crontab(0 0 13 * 5)", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-02T00:00:00+00:00 2026-01-09T00:00:00+00:00 2026-01-13T00:00:00+00:00");
    /* a field starting with '*' is unrestricted for that rule: AND */
    SERIES("crontab(0 0 */2 * 5)", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-09T00:00:00+00:00 2026-01-23T00:00:00+00:00");
    /* restricted but covering every day: OR gives every day */
    SERIES("crontab(0 0 1-31 * 5)", "UTC", "2026-01-01T00:00:00Z",
           "2026-01-02T00:00:00+00:00 2026-01-03T00:00:00+00:00");
    SERIES("crontab(*/20 9-10 * jan *)", "UTC", "2026-01-01T10:30:00Z",
           "2026-01-01T10:40:00+00:00 2026-01-02T09:00:00+00:00");
    SERIES("crontab(0 0 31 2 *)", "UTC", "2026-01-01T00:00:00Z", "NEVER");
    PARSE_ERROR("crontab(0 0 * * 8)", "day-of-week: '8' is out of range 0-7");
    PARSE_ERROR("crontab(0 0 * *)", "crontab() needs 5 fields");
    PARSE_ERROR("crontab(0 0 ? * *)", "'?' is not crontab syntax");
    PARSE_ERROR("crontab(60 0 * * *)", "minute: '60' is out of range 0-59");
    PARSE_ERROR("crontab(0 24 * * *)", "hour: '24' is out of range 0-23");
    PARSE_ERROR("crontab(0 0 0 * *)", "day-of-month: '0' is out of range 1-31");
    PARSE_ERROR("crontab(0 0 * 0 *)", "month: '0' is out of range 1-12 (jan-dec)");
    PARSE_ERROR("crontab(0 0 * foo *)", "month: 'foo' is not a month name");
    PARSE_ERROR("crontab(0 0 * * funday)", "day-of-week: 'funday' is not a day name");
    PARSE_ERROR("crontab(*/0 0 * * *)", "minute: '*/0' has a step of 0");
    PARSE_ERROR("crontab(0 0 * * fri-mon)", "day-of-week: 'fri-mon' is a backwards range");
    PARSE_ERROR("crontab(0 0 1,,2 * *)", "day-of-month: empty item in a list");
    PARSE_ERROR("crontab(0 0 * * 1/x)", "day-of-week: '1/x' needs a whole number after '/'");
    PARSE_ERROR("crontab(0 0 * * * *)",
                "crontab() needs 5 fields (minute hour day-of-month month day-of-week), got 6");
    PARSE_ERROR("crontab(0 0 5-x * *)", "day-of-month: '5-x' is not a value of 1-31");
}

static void test_macros(void)
{
    SERIES("@daily", "UTC", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00+00:00");
    SERIES("@midnight", "UTC", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00+00:00");
    SERIES("@hourly", "UTC", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+00:00");
    SERIES("@weekly", "UTC", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00+00:00");
    SERIES("@monthly", "UTC", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00+00:00");
    SERIES("@yearly", "UTC", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00+00:00");
    SERIES("@annually", "UTC", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00+00:00");
    SERIES("crontab(@daily)", "UTC", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00+00:00");
    PARSE_ERROR("@reboot", "unknown macro '@reboot'");
}

/* ---------------- time zones and the DST rule ---------------- */

static void test_dst_fall_back_fires_first_pass(void)
{
    SERIES("crontab(30 1 * * *)", "America/New_York", "2024-11-02T12:00:00-04:00",
           "2024-11-03T01:30:00-04:00 2024-11-04T01:30:00-05:00");
    SERIES("crontab(*/15 * * * *)", "America/New_York", "2024-11-03T00:50:00-04:00",
           "2024-11-03T01:00:00-04:00 2024-11-03T01:15:00-04:00 2024-11-03T01:30:00-04:00 "
           "2024-11-03T01:45:00-04:00 2024-11-03T02:00:00-05:00");
    SERIES("0 30 1", "America/New_York", "2024-11-02T12:00:00-04:00",
           "2024-11-03T01:30:00-04:00 2024-11-04T01:30:00-05:00");
    SERIES("cron(30 1 * * ? *)", "America/New_York", "2024-11-02T12:00:00-04:00",
           "2024-11-03T01:30:00-04:00 2024-11-04T01:30:00-05:00");
}

static void test_dst_spring_forward_shifts_by_gap(void)
{
    SERIES("crontab(30 2 * * *)", "America/New_York", "2024-03-09T12:00:00-05:00",
           "2024-03-10T03:30:00-04:00 2024-03-11T02:30:00-04:00");
    /* 02:00 lands on 03:00's instant and fires once */
    SERIES("crontab(*/15 * * * *)", "America/New_York", "2024-03-10T01:40:00-05:00",
           "2024-03-10T01:45:00-05:00 2024-03-10T03:00:00-04:00 2024-03-10T03:15:00-04:00 "
           "2024-03-10T03:30:00-04:00 2024-03-10T03:45:00-04:00 2024-03-10T04:00:00-04:00");
    /* Lord Howe moves by 30 minutes */
    SERIES("0 15 2", "Australia/Lord_Howe", "2024-10-05T12:00:00+10:30",
           "2024-10-06T02:45:00+11:00 2024-10-07T02:15:00+11:00");
    SERIES("crontab(0 2 * * *)", "Europe/London", "2026-03-28T12:00:00Z",
           "2026-03-29T02:00:00+01:00 2026-03-30T02:00:00+01:00");
}

static void test_unusual_offsets(void)
{
    SERIES("crontab(0 9 * * *)", "Asia/Kathmandu", "2026-01-01T00:00:00Z",
           "2026-01-01T09:00:00+05:45 2026-01-02T09:00:00+05:45");
    /* 00:00Z is already 13:45 (summer) or 12:45 (winter) on Chatham */
    SERIES("crontab(0 9 * * *)", "Pacific/Chatham", "2026-01-01T00:00:00Z",
           "2026-01-02T09:00:00+13:45");
    SERIES("crontab(0 9 * * *)", "Pacific/Chatham", "2026-07-01T00:00:00+12:45",
           "2026-07-01T09:00:00+12:45");
    SERIES("crontab(0 9 * * *)", "us/pacific", "2026-07-01T00:00:00Z", "2026-07-01T09:00:00-07:00");
    SERIES("crontab(0 9 * * *)", "EST", "2026-07-01T00:00:00Z", "2026-07-01T09:00:00-05:00");
    /* far future, beyond the zone file's table: the POSIX rule still applies */
    SERIES("crontab(0 12 1 7 *)", "America/New_York", "2300-01-01T00:00:00Z",
           "2300-07-01T12:00:00-04:00");
    SERIES("crontab(0 12 1 1 *)", "America/New_York", "9998-06-01T00:00:00Z",
           "9999-01-01T12:00:00-05:00");
}

/* ---------------- bounded work ---------------- */

static void test_never_is_bounded(void)
{
    static const char *const never[] = {
        "cron(0 0 30 2 ? *)",        "crontab(0 0 31 2 *)",   "0 0 0 * * 31 2",
        "cron(0 0 1 1 ? 1999-2005)", "0 0 0 mon * 29 2 2100",
    };
    struct schedule *s = NULL;
    char msg[256];
    time_t next;
    size_t i;

    /* each answer is "never", reached by the bounded search (an unbounded
     * one would not return at all) */
    for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        T_EQ_INT(schedule_parse(never[i], tz_utc(), &s, msg, sizeof(msg)), 0);
        T_EQ_INT(schedule_next(s, 1767225600, &next), ECS_ENEVER);
        schedule_free(&s);
    }
    T_EQ_INT(schedule_parse("0 0 0", tz_utc(), &s, msg, sizeof(msg)), 0);
    T_EQ_INT(schedule_next(s, (time_t)253402300800LL, &next), ECS_ENEVER);
    schedule_free(&s);
}

static const struct test_case cases[] = {
    {"seed_basic", test_seed_basic},
    {"seed_day_of_week_is_monday_zero", test_seed_day_of_week_is_monday_zero},
    {"seed_day_and_weekday_are_anded", test_seed_day_and_weekday_are_anded},
    {"seed_day_field_extras", test_seed_day_field_extras},
    {"seed_week_month_year", test_seed_week_month_year},
    {"seed_errors", test_seed_errors},
    {"seed_resolve_random", test_seed_resolve_random},
    {"seed_resolve_seeded", test_seed_resolve_seeded},
    {"aws_documented_examples", test_aws_documented_examples},
    {"aws_l_w_hash", test_aws_l_w_hash},
    {"aws_errors", test_aws_errors},
    {"rate", test_rate},
    {"rate_anchor", test_rate_anchor},
    {"rate_anchor_before_1970", test_rate_anchor_before_1970},
    {"at", test_at},
    {"crontab", test_crontab},
    {"macros", test_macros},
    {"dst_fall_back_fires_first_pass", test_dst_fall_back_fires_first_pass},
    {"dst_spring_forward_shifts_by_gap", test_dst_spring_forward_shifts_by_gap},
    {"unusual_offsets", test_unusual_offsets},
    {"never_is_bounded", test_never_is_bounded},
};

TEST_MAIN("schedule", cases)
