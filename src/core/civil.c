/* civil.c - Gregorian date arithmetic (days-from-civil after H. Hinnant's
 * public-domain algorithms), used instead of timegm()/gmtime() so results
 * never depend on libc time-zone state and work for any 64-bit year. */
#include "civil.h"

#include <stddef.h>

int64_t civil_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int civil_is_leap(int64_t year)
{
    if (year % 4 != 0)
        return 0;
    if (year % 100 != 0)
        return 1;
    return year % 400 == 0;
}

int civil_days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month == 2 && civil_is_leap(year))
        return 29;
    return days[month - 1];
}

int64_t civil_days_from_ymd(int64_t year, int month, int day)
{
    int64_t y = year;
    int64_t era;
    int64_t yoe;
    int64_t doy;
    int64_t doe;
    int64_t mp;

    if (month <= 2)
        y -= 1;
    era = civil_floor_div(y, 400);
    yoe = y - era * 400;
    mp = (month + 9) % 12;
    doy = (153 * mp + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * CIVIL_DAYS_PER_400Y + doe - 719468;
}

void civil_ymd_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = civil_floor_div(z, CIVIL_DAYS_PER_400Y);
    int64_t doe = z - era * CIVIL_DAYS_PER_400Y;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);

    *year = yoe + era * 400 + (m <= 2 ? 1 : 0);
    *month = m;
    *day = d;
}

int civil_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int64_t w = (days + 3) % 7;

    if (w < 0)
        w += 7;
    return (int)w;
}

int civil_iso_week(int64_t year, int month, int day, int64_t *iso_year)
{
    int64_t days = civil_days_from_ymd(year, month, day);
    /* The ISO week belongs to the year of its Thursday. */
    int64_t thursday = days - civil_weekday(days) + 3;
    int64_t ty;
    int tm;
    int td;
    int64_t jan1;

    civil_ymd_from_days(thursday, &ty, &tm, &td);
    jan1 = civil_days_from_ymd(ty, 1, 1);
    if (iso_year != NULL)
        *iso_year = ty;
    return (int)((thursday - jan1) / 7 + 1);
}

void civil_from_seconds(int64_t secs, struct civil_time *out)
{
    int64_t days = civil_floor_div(secs, CIVIL_SECS_PER_DAY);
    /* The remainder, not secs - days * 86400: that product leaves int64_t
     * for the first day before INT64_MIN's. */
    int64_t rem = secs % CIVIL_SECS_PER_DAY;

    if (rem < 0)
        rem += CIVIL_SECS_PER_DAY;

    civil_ymd_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(rem / 3600);
    out->minute = (int)((rem % 3600) / 60);
    out->second = (int)(rem % 60);
}

int64_t civil_to_seconds(const struct civil_time *t)
{
    int64_t days = civil_days_from_ymd(t->year, t->month, t->day);

    return days * CIVIL_SECS_PER_DAY + t->hour * 3600 + t->minute * 60 + t->second;
}
