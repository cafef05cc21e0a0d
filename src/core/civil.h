/* civil.h - proleptic Gregorian calendar arithmetic on plain integers.
 * Day numbers count days since 1970-01-01; "seconds" are POSIX seconds (no
 * leap seconds). Nothing here reads the process time zone. */
#ifndef ECS_CIVIL_H
#define ECS_CIVIL_H

#include <stdint.h>

#define CIVIL_SECS_PER_DAY 86400
/* The Gregorian calendar repeats exactly every 400 years (146097 days is a
 * whole number of weeks), so weekdays, leap years and ISO weeks do too. */
#define CIVIL_DAYS_PER_400Y 146097

struct civil_time {
    int64_t year;
    int month;  /* 1..12 */
    int day;    /* 1..31 */
    int hour;   /* 0..23 */
    int minute; /* 0..59 */
    int second; /* 0..59 */
};

int64_t civil_floor_div(int64_t a, int64_t b);
int civil_is_leap(int64_t year);
int civil_days_in_month(int64_t year, int month);
int64_t civil_days_from_ymd(int64_t year, int month, int day);
void civil_ymd_from_days(int64_t days, int64_t *year, int *month, int *day);
/* 0 = Monday .. 6 = Sunday. */
int civil_weekday(int64_t days);
/* ISO 8601 week number (1..53) of a date; *iso_year may be NULL. */
int civil_iso_week(int64_t year, int month, int day, int64_t *iso_year);
void civil_from_seconds(int64_t secs, struct civil_time *out);
int64_t civil_to_seconds(const struct civil_time *t);

#endif
