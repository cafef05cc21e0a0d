/* isotime.c - strict ISO-8601 date-time parsing and formatting, without
 * strptime/mktime so the process time zone never matters. */
#include "isotime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "error.h"

/* Read between min and max digits at *p; -1 when fewer than min. */
static long read_digits(const char **p, int min, int max)
{
    long v = 0;
    int n = 0;

    while (n < max && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n < min ? -1 : v;
}

/* The input is quoted up to 64 bytes, so the reason always fits. */
static int bad(const char *s, char *msg, size_t msglen, const char *why)
{
    const char *more = strlen(s) > 64 ? "..." : "";

    return ecs_fail(ECS_EINVAL, msg, msglen,
                    "'%.64s%s' is not a valid date-time (%s; expected e.g. 2027-01-01T09:00:00Z)",
                    s, more, why);
}

int isotime_parse(const char *s, struct isotime *out, char *msg, size_t msglen)
{
    const char *p = s;
    struct civil_time t;
    long y;
    long mo;
    long d;
    long h;
    long mi;
    long sec = 0;
    long usec = 0;

    out->has_offset = 0;
    out->offset = 0;
    y = read_digits(&p, 4, 4);
    if (y < 0 || *p != '-')
        return bad(s, msg, msglen, "the date must be YYYY-MM-DD");
    p++;
    mo = read_digits(&p, 1, 2);
    if (mo < 0 || *p != '-')
        return bad(s, msg, msglen, "the date must be YYYY-MM-DD");
    p++;
    d = read_digits(&p, 1, 2);
    if (d < 0)
        return bad(s, msg, msglen, "the date must be YYYY-MM-DD");
    if (*p != 'T' && *p != ' ')
        return bad(s, msg, msglen, "a time must follow the date after 'T'");
    p++;
    h = read_digits(&p, 1, 2);
    if (h < 0 || *p != ':')
        return bad(s, msg, msglen, "the time must be HH:MM[:SS]");
    p++;
    mi = read_digits(&p, 1, 2);
    if (mi < 0)
        return bad(s, msg, msglen, "the time must be HH:MM[:SS]");
    if (*p == ':') {
        p++;
        sec = read_digits(&p, 1, 2);
        if (sec < 0)
            return bad(s, msg, msglen, "the seconds must be digits");
        if (*p == '.') {
            int n = 0;

            p++;
            if (!isdigit((unsigned char)*p))
                return bad(s, msg, msglen, "a fraction needs digits after '.'");
            while (isdigit((unsigned char)*p)) {
                if (n < 6) {
                    usec = usec * 10 + (*p - '0');
                    n++;
                }
                p++;
            }
            while (n < 6) {
                usec *= 10;
                n++;
            }
        }
    }
    if (*p == 'Z') {
        out->has_offset = 1;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        long oh;
        long om = 0;
        long os = 0;

        p++;
        oh = read_digits(&p, 2, 2);
        if (oh < 0)
            return bad(s, msg, msglen, "the offset must be +HH, +HHMM or +HH:MM");
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p)) {
            om = read_digits(&p, 2, 2);
            if (om < 0)
                return bad(s, msg, msglen, "the offset must be +HH, +HHMM or +HH:MM");
            /* +HH:MM:SS is what isotime_format writes for an offset with
             * seconds (local mean time before 1900), so it reads back. */
            if (p[0] == ':' && isdigit((unsigned char)p[1])) {
                p++;
                os = read_digits(&p, 2, 2);
                if (os < 0)
                    return bad(s, msg, msglen, "the offset's seconds must be two digits");
            }
        }
        if (oh > 23 || om > 59 || os > 59)
            return bad(s, msg, msglen, "the offset is out of range");
        out->has_offset = 1;
        out->offset = (int32_t)(sign * (oh * 3600 + om * 60 + os));
    }
    if (*p != '\0')
        return bad(s, msg, msglen, "unexpected text at the end");
    if (mo < 1 || mo > 12)
        return bad(s, msg, msglen, "the month is out of range 1-12");
    if (d < 1 || d > civil_days_in_month(y, (int)mo))
        return bad(s, msg, msglen, "no such day in that month");
    if (h > 23 || mi > 59 || sec > 59)
        return bad(s, msg, msglen, "the time is out of range");
    t.year = y;
    t.month = (int)mo;
    t.day = (int)d;
    t.hour = (int)h;
    t.minute = (int)mi;
    t.second = (int)sec;
    out->wall = civil_to_seconds(&t);
    out->usec = (int32_t)usec;
    /* Every instant isotime_format writes in UTC must read back, so an
     * offset may not carry the instant out of years 0000-9999. */
    if (out->has_offset &&
        (out->wall - out->offset < ISOTIME_MIN || out->wall - out->offset > ISOTIME_MAX))
        return bad(s, msg, msglen, "the instant falls outside years 0000-9999 in UTC");
    return 0;
}

int64_t isotime_instant(const struct isotime *t, const struct tz *zone)
{
    int64_t at;

    if (t->has_offset)
        return t->wall - t->offset;
    at = tz_wall_to_utc(zone != NULL ? zone : tz_utc(), t->wall);
    /* 0000-01-01T00:00 east of UTC (or 9999-12-31T23:59 west of it) would
     * name an instant outside the years isotime writes back. */
    if (at < ISOTIME_MIN)
        return ISOTIME_MIN;
    if (at > ISOTIME_MAX)
        return ISOTIME_MAX;
    return at;
}

/* 1 when instant t read at offset (|offset| under a day) is a date-time
 * isotime_parse reads back: years 0000-9999 at the offset and in UTC. */
static int readable(int64_t t, int32_t offset)
{
    if (offset <= -CIVIL_SECS_PER_DAY || offset >= CIVIL_SECS_PER_DAY)
        return 0;
    if (t < ISOTIME_MIN || t > ISOTIME_MAX)
        return 0;
    return t + offset >= ISOTIME_MIN && t + offset <= ISOTIME_MAX;
}

void isotime_format(int64_t t, int32_t offset, char *buf, size_t len)
{
    struct civil_time c;
    char sign;
    int32_t a;

    /* A reading that would leave years 0000-9999 (or an offset no zone
     * has) is shown in UTC: still the same instant, and parseable when the
     * instant itself is in range. */
    if (!readable(t, offset))
        offset = 0;
    sign = offset < 0 ? '-' : '+';
    a = offset < 0 ? -offset : offset;
    civil_from_seconds(t + offset, &c);
    if (a % 60 != 0)
        snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d:%02d", (long long)c.year,
                 c.month, c.day, c.hour, c.minute, c.second, sign, a / 3600, (a / 60) % 60, a % 60);
    else
        snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (long long)c.year, c.month,
                 c.day, c.hour, c.minute, c.second, sign, a / 3600, (a / 60) % 60);
}

void isotime_format_in(int64_t t, const struct tz *zone, char *buf, size_t len)
{
    isotime_format(t, tz_offset_at(zone != NULL ? zone : tz_utc(), t), buf, len);
}
