/* schedule.c - the schedule engine: one parser per dialect, all compiled to
 * the same bitset form, and one search that finds the next matching
 * wall-clock second and maps it to an instant with ecsched's DST rule.
 *
 * The search works on constant-offset spans of the zone (tz_span_at): inside
 * a span local time is just instant + offset, so the pure calendar search
 * (cron_wall_next) does the work; the span's edges decide which wall times
 * are skipped (the repeated hour after a fall-back was already fired in the
 * span before) and which are shifted (wall times inside a spring-forward
 * gap fire at the gap's start plus their distance into it). */
#include "schedule.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "civil.h"
#include "error.h"

#define YEAR_ITEMS_MAX 32
#define NUM_SATURATE 1000000000L
/* 10000-01-01T00:00:00Z: nothing fires at or after it. */
#define SCHEDULE_LAST_INSTANT INT64_C(253402300800)
/* 0000-01-01T00:00:00Z: nothing fires before it, so every fire time is
 * one isotime writes and reads back. */
#define SCHEDULE_FIRST_INSTANT INT64_C(-62167219200)
#define TWO_DAYS (2 * (int64_t)CIVIL_SECS_PER_DAY)
/* rate() values above this (about 19 years in minutes) are rejected. */
#define RATE_VALUE_MAX 10000000L

struct year_item {
    int32_t first;
    int32_t last;
    int32_t step;
};

/* Positions of "nth weekday" rules: 1st..5th, then last. */
#define NTH_POSITIONS 6
#define NTH_LAST 5

struct cron_spec {
    uint64_t sec;                   /* bits 0..59 */
    uint64_t min;                   /* bits 0..59 */
    uint32_t hour;                  /* bits 0..23 */
    uint32_t dom;                   /* bits 1..31, plain day numbers */
    uint16_t mon;                   /* bits 1..12 */
    uint8_t dow;                    /* bits 0..6, 0 = Monday */
    uint64_t week;                  /* bits 1..53, ISO week (seed dialect) */
    uint8_t dom_nth[NTH_POSITIONS]; /* seed "2nd_mon" in the day field */
    uint8_t dow_nth[NTH_POSITIONS]; /* AWS "2#1" and "6L" in day-of-week */
    uint32_t dom_near_wd;           /* AWS "15W": bits 1..31 */
    bool dom_last;                  /* seed "last", AWS "L" */
    bool dom_last_wd;               /* AWS "LW" */
    bool dom_all;
    bool dow_all;
    bool week_all;
    bool day_or;      /* Vixie: both day fields restricted, either may match */
    bool simple_days; /* no day restriction at all: every day matches */
    bool has_dom_nth; /* any dom_nth bit: saves scanning them per month */
    bool has_dow_nth;
    bool year_all;
    int nyears;
    /* nyears items (at most YEAR_ITEMS_MAX), grown one at a time: most
     * schedules have one (the year field's '*'), and a daemon keeps a
     * schedule per job, so a fixed array of 32 was most of its memory */
    struct year_item *years;
    int32_t year_max; /* the dialect's last year */
};

/* Room for one more year item. 0 or ECS_ENOMEM. */
static int years_room(struct cron_spec *c)
{
    struct year_item *more = realloc(c->years, (size_t)(c->nyears + 1) * sizeof(*more));

    if (more == NULL)
        return ECS_ENOMEM;
    c->years = more;
    return 0;
}

struct schedule {
    enum schedule_dialect dialect;
    const struct tz *zone;
    struct cron_spec cron; /* SEED, AWS_CRON, CRONTAB */
    int64_t interval;      /* RATE, seconds */
    int64_t anchor;        /* RATE */
    int64_t at_wall;       /* AT, local wall seconds */
};

/* ------------------------------------------------------------------ */
/* Small text helpers                                                  */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool all_digits(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static bool all_alpha(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        if (!isalpha((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* Digits to a number, saturating so absurd inputs still give a message. */
static long digits_value(const char *s, size_t n)
{
    long v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        v = v * 10 + (s[i] - '0');
        if (v > NUM_SATURATE)
            return NUM_SATURATE;
    }
    return v;
}

/* Index of name (n chars, any case) in a NULL-terminated table, or -1. */
static int name_index(const char *const *table, const char *s, size_t n)
{
    int i;

    for (i = 0; table[i] != NULL; i++) {
        if (strlen(table[i]) == n && strncasecmp(table[i], s, n) == 0)
            return i;
    }
    return -1;
}

static uint64_t bits_range(int first, int last, int step)
{
    uint64_t bits = 0;
    int v;

    for (v = first; v <= last; v += step)
        bits |= (uint64_t)1 << v;
    return bits;
}

/* Lowest set bit at or above `from`, or -1. */
static int next_bit(uint64_t bits, int from)
{
    uint64_t rest;

    if (from >= 64)
        return -1;
    if (from < 0)
        from = 0;
    rest = bits >> from;
    if (rest == 0)
        return -1;
    return from + __builtin_ctzll(rest);
}

static const char *const weekday_names_mon[] = {"mon", "tue", "wed", "thu",
                                                "fri", "sat", "sun", NULL};
static const char *const weekday_names_sun[] = {"sun", "mon", "tue", "wed",
                                                "thu", "fri", "sat", NULL};
static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const position_names[] = {"1st", "2nd", "3rd", "4th", "5th", "last", NULL};

/* ------------------------------------------------------------------ */
/* Seed dialect: APScheduler 3 CronTrigger fields, second first.       */

enum seed_field {
    SEED_SECOND,
    SEED_MINUTE,
    SEED_HOUR,
    SEED_DOW,
    SEED_WEEK,
    SEED_DAY,
    SEED_MONTH,
    SEED_YEAR,
    SEED_FIELDS
};

static const char *const seed_names[SEED_FIELDS] = {"second", "minute", "hour",  "day_of_week",
                                                    "week",   "day",    "month", "year"};
static const int seed_min[SEED_FIELDS] = {0, 0, 0, 0, 1, 1, 1, 1970};
static const int seed_max[SEED_FIELDS] = {59, 59, 23, 6, 53, 31, 12, 9999};

/* Where one seed field's values accumulate. */
struct seed_acc {
    uint64_t bits;
    bool all;
};

static int seed_add_range(struct cron_spec *c, struct seed_acc *acc, int field, int first, int last,
                          int step, char *msg, size_t msglen)
{
    if (field == SEED_YEAR) {
        if (c->nyears >= YEAR_ITEMS_MAX)
            return ecs_fail(ECS_EINVAL, msg, msglen,
                            "too many items in field \"year\" (at most %d)", YEAR_ITEMS_MAX);
        if (years_room(c) != 0)
            return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory parsing a schedule");
        c->years[c->nyears].first = first;
        c->years[c->nyears].last = last;
        c->years[c->nyears].step = step;
        c->nyears++;
        return 0;
    }
    acc->bits |= bits_range(first, last, step);
    return 0;
}

/* APScheduler's step checks, in its order (AllExpression then
 * RangeExpression.validate_range). `last_given` is the range's end as
 * written, 0 when absent: APScheduler computes `(last or MAX) - first`. */
static int seed_check_step(int field, const char *shown, long step, long first, long last_given,
                           char *msg, size_t msglen)
{
    long field_range = seed_max[field] - seed_min[field];
    long range;

    if (step > field_range)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "Error validating expression '%s': the step value (%ld) is higher "
                        "than the total range of the expression (%ld) (field \"%s\")",
                        shown, step, field_range, seed_names[field]);
    if (first < 0)
        return 0;
    range = (last_given != 0 ? last_given : seed_max[field]) - first;
    if (step > range)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "Error validating expression '%s': the step value (%ld) is higher "
                        "than the total range of the expression (%ld) (field \"%s\")",
                        shown, step, range, seed_names[field]);
    return 0;
}

static int seed_increment_error(int field, const char *shown, char *msg, size_t msglen)
{
    return ecs_fail(ECS_EINVAL, msg, msglen,
                    "Increment must be higher than 0 (field \"%s\", expression '%s')",
                    seed_names[field], shown);
}

static int seed_unrecognized(int field, const char *shown, char *msg, size_t msglen)
{
    return ecs_fail(ECS_EINVAL, msg, msglen, "Unrecognized expression \"%s\" for field \"%s\"",
                    shown, seed_names[field]);
}

/* `*` or `*\/n` */
static int seed_all_expr(struct cron_spec *c, struct seed_acc *acc, int field, const char *e,
                         size_t n, const char *shown, char *msg, size_t msglen)
{
    long step = 1;
    int rc;

    if (n > 1) {
        step = digits_value(e + 2, n - 2);
        if (step == 0)
            return seed_increment_error(field, shown, msg, msglen);
        rc = seed_check_step(field, shown, step, -1, 0, msg, msglen);
        if (rc != 0)
            return rc;
    } else {
        acc->all = true;
        if (field == SEED_YEAR)
            c->year_all = true;
    }
    return seed_add_range(c, acc, field, seed_min[field], seed_max[field], (int)step, msg, msglen);
}

/* `a`, `a-b`, `a-b/n`, `a/n` with numbers; first/last already parsed. */
static int seed_numeric_range(struct cron_spec *c, struct seed_acc *acc, int field, long first,
                              long last, bool has_last, long step, bool has_step, const char *shown,
                              char *msg, size_t msglen)
{
    long end;
    int rc;

    if (has_step && step == 0)
        return seed_increment_error(field, shown, msg, msglen);
    if (!has_last && !has_step)
        last = first;
    if ((has_last || !has_step) && first > last)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "The minimum value in a range must not be higher than the maximum "
                        "(field \"%s\", expression '%s')",
                        seed_names[field], shown);
    if (has_step) {
        if (step > seed_max[field] - seed_min[field])
            return seed_check_step(field, shown, step, -1, 0, msg, msglen);
    }
    if (first < seed_min[field])
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "Error validating expression '%s': the first value (%ld) is lower than "
                        "the minimum value (%d) (field \"%s\")",
                        shown, first, seed_min[field], seed_names[field]);
    if ((has_last || !has_step) && last > seed_max[field])
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "Error validating expression '%s': the last value (%ld) is higher than "
                        "the maximum value (%d) (field \"%s\")",
                        shown, last, seed_max[field], seed_names[field]);
    if (has_step) {
        rc = seed_check_step(field, shown, step, first, has_last ? last : 0, msg, msglen);
        if (rc != 0)
            return rc;
    }
    end = (has_last || !has_step) ? last : seed_max[field];
    return seed_add_range(c, acc, field, (int)first, (int)end, has_step ? (int)step : 1, msg,
                          msglen);
}

/* Try `digits[-digits][/digits]`; returns 1 when e is not of that form. */
static int seed_try_numeric(struct cron_spec *c, struct seed_acc *acc, int field, const char *e,
                            size_t n, const char *shown, char *msg, size_t msglen)
{
    const char *dash = memchr(e, '-', n);
    const char *slash = memchr(e, '/', n);
    const char *end = e + n;
    const char *first_end = dash != NULL ? dash : (slash != NULL ? slash : end);
    long first;
    long last = 0;
    long step = 0;

    if (slash != NULL && dash != NULL && dash > slash)
        return 1;
    if (!all_digits(e, (size_t)(first_end - e)))
        return 1;
    first = digits_value(e, (size_t)(first_end - e));
    if (dash != NULL) {
        const char *last_end = slash != NULL ? slash : end;

        if (!all_digits(dash + 1, (size_t)(last_end - dash - 1)))
            return 1;
        last = digits_value(dash + 1, (size_t)(last_end - dash - 1));
    }
    if (slash != NULL) {
        if (!all_digits(slash + 1, (size_t)(end - slash - 1)))
            return 1;
        step = digits_value(slash + 1, (size_t)(end - slash - 1));
    }
    return seed_numeric_range(c, acc, field, first, last, dash != NULL, step, slash != NULL, shown,
                              msg, msglen);
}

/* `name` or `name-name` for day_of_week and month; 1 when not that form. */
static int seed_try_names(struct cron_spec *c, struct seed_acc *acc, int field, const char *e,
                          size_t n, const char *shown, char *msg, size_t msglen)
{
    const char *const *table = field == SEED_DOW ? weekday_names_mon : month_names;
    const char *kind = field == SEED_DOW ? "weekday" : "month";
    int base = field == SEED_DOW ? 0 : 1;
    const char *dash = memchr(e, '-', n);
    size_t first_len = dash != NULL ? (size_t)(dash - e) : n;
    int first;
    int last;

    if (!all_alpha(e, first_len))
        return 1;
    if (dash != NULL && !all_alpha(dash + 1, n - first_len - 1))
        return 1;
    first = name_index(table, e, first_len);
    if (first < 0)
        return ecs_fail(ECS_EINVAL, msg, msglen, "Invalid %s name \"%.*s\" (field \"%s\")", kind,
                        (int)first_len, e, seed_names[field]);
    last = first;
    if (dash != NULL) {
        last = name_index(table, dash + 1, n - first_len - 1);
        if (last < 0)
            return ecs_fail(ECS_EINVAL, msg, msglen, "Invalid %s name \"%.*s\" (field \"%s\")",
                            kind, (int)(n - first_len - 1), dash + 1, seed_names[field]);
    }
    if (first > last)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "The minimum value in a range must not be higher than the maximum "
                        "(field \"%s\", expression '%s')",
                        seed_names[field], shown);
    return seed_add_range(c, acc, field, first + base, last + base, 1, msg, msglen);
}

/* Day field extras: `last`, and `1st mon`..`5th sun`, `last fri` (written
 * with '_' for the space); 1 when not that form. */
static int seed_try_day_extra(struct cron_spec *c, const char *e, size_t n, char *msg,
                              size_t msglen)
{
    size_t i = 0;
    size_t word_end;
    int pos;
    int wd;

    if (n == 4 && strncasecmp(e, "last", 4) == 0) {
        c->dom_last = true;
        return 0;
    }
    while (i < n && e[i] != '_' && e[i] != ' ')
        i++;
    word_end = i;
    pos = name_index(position_names, e, word_end);
    if (pos < 0 || i == n)
        return 1;
    while (i < n && (e[i] == '_' || e[i] == ' '))
        i++;
    if (i == n)
        return 1;
    if (!all_alpha(e + i, n - i) && !all_digits(e + i, n - i))
        return 1;
    wd = name_index(weekday_names_mon, e + i, n - i);
    if (wd < 0)
        return ecs_fail(ECS_EINVAL, msg, msglen, "Invalid weekday name \"%.*s\" (field \"day\")",
                        (int)(n - i), e + i);
    c->dom_nth[pos] |= (uint8_t)(1u << wd);
    return 0;
}

static int seed_expr(struct cron_spec *c, struct seed_acc *acc, int field, const char *e, size_t n,
                     char *msg, size_t msglen)
{
    char shown[128];
    int rc;

    snprintf(shown, sizeof(shown), "%.*s", (int)n, e);
    if (n >= 1 && e[0] == '*') {
        if (n == 1 || (e[1] == '/' && all_digits(e + 2, n - 2)))
            return seed_all_expr(c, acc, field, e, n, shown, msg, msglen);
        return seed_unrecognized(field, shown, msg, msglen);
    }
    rc = seed_try_numeric(c, acc, field, e, n, shown, msg, msglen);
    if (rc <= 0)
        return rc;
    if (field == SEED_DOW || field == SEED_MONTH) {
        rc = seed_try_names(c, acc, field, e, n, shown, msg, msglen);
        if (rc <= 0)
            return rc;
    }
    if (field == SEED_DAY) {
        rc = seed_try_day_extra(c, e, n, msg, msglen);
        if (rc <= 0)
            return rc;
    }
    if (field <= SEED_HOUR && n == 1 && e[0] == '?')
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "'?' in field \"%s\" stands for a random value and must be resolved "
                        "before use",
                        seed_names[field]);
    return seed_unrecognized(field, shown, msg, msglen);
}

static int seed_field(struct cron_spec *c, int field, const char *tok, size_t n, char *msg,
                      size_t msglen)
{
    struct seed_acc acc = {0, false};
    size_t start = 0;
    size_t i;
    int rc;

    for (i = 0; i <= n; i++) {
        if (i == n || tok[i] == ',') {
            rc = seed_expr(c, &acc, field, tok + start, i - start, msg, msglen);
            if (rc != 0)
                return rc;
            start = i + 1;
        }
    }
    switch (field) {
    case SEED_SECOND:
        c->sec = acc.bits;
        break;
    case SEED_MINUTE:
        c->min = acc.bits;
        break;
    case SEED_HOUR:
        c->hour = (uint32_t)acc.bits;
        break;
    case SEED_DOW:
        c->dow = (uint8_t)acc.bits;
        c->dow_all = acc.all || acc.bits == 0x7f;
        break;
    case SEED_WEEK:
        c->week = acc.bits;
        c->week_all = acc.all || acc.bits == bits_range(1, 53, 1);
        break;
    case SEED_DAY:
        c->dom = (uint32_t)acc.bits;
        c->dom_all = acc.all || acc.bits == bits_range(1, 31, 1);
        break;
    case SEED_MONTH:
        c->mon = (uint16_t)acc.bits;
        break;
    default:
        break;
    }
    return 0;
}

static int parse_seed(struct cron_spec *c, const char *expr, char *msg, size_t msglen)
{
    const char *p = expr;
    const char *tok[SEED_FIELDS];
    size_t len[SEED_FIELDS];
    int count = 0;
    int i;
    int rc;

    for (;;) {
        const char *start;

        while (*p != '\0' && is_space(*p))
            p++;
        if (*p == '\0')
            break;
        start = p;
        while (*p != '\0' && !is_space(*p))
            p++;
        if (count == SEED_FIELDS)
            return ecs_fail(ECS_EINVAL, msg, msglen,
                            "too many fields: at most 8 (second minute hour day_of_week week "
                            "day month year), extra '%.*s'",
                            (int)(p - start), start);
        tok[count] = start;
        len[count] = (size_t)(p - start);
        count++;
    }
    if (count == 0)
        return ecs_fail(ECS_EINVAL, msg, msglen, "schedule is empty");
    for (i = 0; i < SEED_FIELDS; i++) {
        if (i < count)
            rc = seed_field(c, i, tok[i], len[i], msg, msglen);
        else
            rc = seed_field(c, i, "*", 1, msg, msglen);
        if (rc != 0)
            return rc;
    }
    c->year_max = seed_max[SEED_YEAR];
    return 0;
}

/* ------------------------------------------------------------------ */
/* Cron-like dialects: AWS cron() and classic crontab.                 */

enum cron_kind { KIND_AWS, KIND_CRONTAB };

enum cron_slot { SLOT_MIN, SLOT_HOUR, SLOT_DOM, SLOT_MON, SLOT_DOW, SLOT_YEAR };

struct cron_field_def {
    enum cron_slot slot;
    const char *name;
    int min;
    int max;
    const char *const *names;
    int name_base; /* value of names[0] */
    const char *range_text;
};

static const struct cron_field_def aws_fields[] = {
    {SLOT_MIN, "minutes", 0, 59, NULL, 0, "0-59"},
    {SLOT_HOUR, "hours", 0, 23, NULL, 0, "0-23"},
    {SLOT_DOM, "day-of-month", 1, 31, NULL, 0, "1-31"},
    {SLOT_MON, "month", 1, 12, month_names, 1, "1-12 (JAN-DEC)"},
    {SLOT_DOW, "day-of-week", 1, 7, weekday_names_sun, 1, "1-7 (SUN-SAT)"},
    {SLOT_YEAR, "year", 1970, 2199, NULL, 0, "1970-2199"},
};

static const struct cron_field_def crontab_fields[] = {
    {SLOT_MIN, "minute", 0, 59, NULL, 0, "0-59"},
    {SLOT_HOUR, "hour", 0, 23, NULL, 0, "0-23"},
    {SLOT_DOM, "day-of-month", 1, 31, NULL, 0, "1-31"},
    {SLOT_MON, "month", 1, 12, month_names, 1, "1-12 (jan-dec)"},
    {SLOT_DOW, "day-of-week", 0, 7, weekday_names_sun, 0, "0-7 (sun-sat, 0 and 7 are Sunday)"},
};

/* A day-of-week value as written to our bit (0 = Monday). */
static int dow_bit(enum cron_kind kind, int v)
{
    if (kind == KIND_AWS)
        return (v + 5) % 7;
    return (v + 6) % 7;
}

/* A number or a name of the field; -1 with a message on failure. */
static int cron_value(const struct cron_field_def *f, const char *s, size_t n, const char *item,
                      long *out, char *msg, size_t msglen)
{
    int idx;

    if (all_digits(s, n)) {
        *out = digits_value(s, n);
        if (*out < f->min || *out > f->max)
            return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%.*s' is out of range %s", f->name,
                            (int)n, s, f->range_text);
        return 0;
    }
    if (f->names != NULL && all_alpha(s, n)) {
        idx = name_index(f->names, s, n);
        if (idx >= 0) {
            *out = idx + f->name_base;
            return 0;
        }
        return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%.*s' is not a %s name (%s)", f->name,
                        (int)n, s, f->slot == SLOT_MON ? "month" : "day", f->range_text);
    }
    return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%s' is not a value of %s", f->name, item,
                    f->range_text);
}

static void cron_set(struct cron_spec *c, enum cron_kind kind, const struct cron_field_def *f,
                     long first, long last, long step)
{
    long v;

    if (f->slot == SLOT_YEAR) {
        c->years[c->nyears].first = (int32_t)first;
        c->years[c->nyears].last = (int32_t)last;
        c->years[c->nyears].step = (int32_t)step;
        c->nyears++;
        return;
    }
    for (v = first; v <= last; v += step) {
        switch (f->slot) {
        case SLOT_MIN:
            c->min |= (uint64_t)1 << v;
            break;
        case SLOT_HOUR:
            c->hour |= (uint32_t)1 << v;
            break;
        case SLOT_DOM:
            c->dom |= (uint32_t)1 << v;
            break;
        case SLOT_MON:
            c->mon |= (uint16_t)(1u << v);
            break;
        case SLOT_DOW:
            c->dow |= (uint8_t)(1u << dow_bit(kind, (int)v));
            break;
        default:
            break;
        }
    }
}

/* AWS day-of-month extras: L, LW, nW. 1 when not that form. */
static int aws_dom_extra(struct cron_spec *c, const struct cron_field_def *f, const char *s,
                         size_t n, char *msg, size_t msglen)
{
    long day;

    if (n == 1 && (s[0] == 'L' || s[0] == 'l')) {
        c->dom_last = true;
        return 0;
    }
    if (n == 2 && strncasecmp(s, "LW", 2) == 0) {
        c->dom_last_wd = true;
        return 0;
    }
    if (n >= 2 && (s[n - 1] == 'W' || s[n - 1] == 'w') && all_digits(s, n - 1)) {
        day = digits_value(s, n - 1);
        if (day < 1 || day > 31)
            return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%.*s' is out of range 1W-31W", f->name,
                            (int)n, s);
        c->dom_near_wd |= (uint32_t)1 << day;
        return 0;
    }
    return 1;
}

/* AWS day-of-week extras: L (Saturday), nL (last n of the month), n#k. */
static int aws_dow_extra(struct cron_spec *c, const struct cron_field_def *f, const char *s,
                         size_t n, bool only_item, char *msg, size_t msglen)
{
    const char *hash = memchr(s, '#', n);
    long wd;
    long k;
    int rc;

    if (n == 1 && (s[0] == 'L' || s[0] == 'l')) {
        c->dow |= (uint8_t)(1u << dow_bit(KIND_AWS, 7));
        return 0;
    }
    if (n >= 2 && (s[n - 1] == 'L' || s[n - 1] == 'l')) {
        rc = cron_value(f, s, n - 1, s, &wd, msg, msglen);
        if (rc != 0)
            return rc;
        c->dow_nth[NTH_LAST] |= (uint8_t)(1u << dow_bit(KIND_AWS, (int)wd));
        return 0;
    }
    if (hash != NULL) {
        size_t wlen = (size_t)(hash - s);

        if (!only_item)
            return ecs_fail(ECS_EINVAL, msg, msglen,
                            "%s: '%.*s' uses '#', which must be the field's only item", f->name,
                            (int)n, s);
        rc = cron_value(f, s, wlen, s, &wd, msg, msglen);
        if (rc != 0)
            return rc;
        if (!all_digits(hash + 1, n - wlen - 1))
            return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%.*s' needs a week number 1-5 after '#'",
                            f->name, (int)n, s);
        k = digits_value(hash + 1, n - wlen - 1);
        if (k < 1 || k > 5)
            return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%.*s' needs a week number 1-5 after '#'",
                            f->name, (int)n, s);
        c->dow_nth[k - 1] |= (uint8_t)(1u << dow_bit(KIND_AWS, (int)wd));
        return 0;
    }
    return 1;
}

static int cron_item(struct cron_spec *c, enum cron_kind kind, const struct cron_field_def *f,
                     const char *s, size_t n, bool only_item, char *msg, size_t msglen)
{
    char item[96];
    const char *slash;
    const char *dash;
    const char *range_end;
    long first;
    long last;
    long step = 1;
    int rc;

    snprintf(item, sizeof(item), "%.*s", (int)n, s);
    if (n == 0)
        return ecs_fail(ECS_EINVAL, msg, msglen, "%s: empty item in a list", f->name);
    if (n == 1 && s[0] == '?')
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        kind == KIND_AWS ? "%s: '?' must stand alone, not in a list"
                                         : "%s: '?' is not crontab syntax",
                        f->name);
    if (kind == KIND_AWS && f->slot == SLOT_DOM) {
        rc = aws_dom_extra(c, f, s, n, msg, msglen);
        if (rc <= 0)
            return rc;
    }
    if (kind == KIND_AWS && f->slot == SLOT_DOW) {
        rc = aws_dow_extra(c, f, s, n, only_item, msg, msglen);
        if (rc <= 0)
            return rc;
    }
    slash = memchr(s, '/', n);
    range_end = slash != NULL ? slash : s + n;
    if (slash != NULL) {
        if (kind == KIND_AWS && f->slot == SLOT_DOW)
            return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%s': steps ('/') are not allowed here",
                            f->name, item);
        if (!all_digits(slash + 1, (size_t)(s + n - slash - 1)))
            return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%s' needs a whole number after '/'",
                            f->name, item);
        step = digits_value(slash + 1, (size_t)(s + n - slash - 1));
        if (step < 1)
            return ecs_fail(ECS_EINVAL, msg, msglen, "%s: '%s' has a step of 0; use 1 or more",
                            f->name, item);
    }
    if (range_end - s == 1 && s[0] == '*') {
        first = f->min;
        last = f->max;
    } else {
        dash = memchr(s, '-', (size_t)(range_end - s));
        rc = cron_value(f, s, dash != NULL ? (size_t)(dash - s) : (size_t)(range_end - s), item,
                        &first, msg, msglen);
        if (rc != 0)
            return rc;
        if (dash != NULL) {
            rc = cron_value(f, dash + 1, (size_t)(range_end - dash - 1), item, &last, msg, msglen);
            if (rc != 0)
                return rc;
            if (first > last)
                return ecs_fail(ECS_EINVAL, msg, msglen,
                                "%s: '%s' is a backwards range (%ld > %ld); ranges do not wrap "
                                "around, use a list such as 'a-max,min-b'",
                                f->name, item, first, last);
        } else {
            last = slash != NULL ? f->max : first;
        }
    }
    if (f->slot == SLOT_YEAR && c->nyears >= YEAR_ITEMS_MAX)
        return ecs_fail(ECS_EINVAL, msg, msglen, "%s: too many items (at most %d)", f->name,
                        YEAR_ITEMS_MAX);
    if (f->slot == SLOT_YEAR && years_room(c) != 0)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory parsing a schedule");
    cron_set(c, kind, f, first, last, step);
    return 0;
}

static int cron_field(struct cron_spec *c, enum cron_kind kind, const struct cron_field_def *f,
                      const char *tok, size_t n, char *msg, size_t msglen)
{
    size_t start = 0;
    size_t i;
    bool single = memchr(tok, ',', n) == NULL;
    int rc;

    for (i = 0; i <= n; i++) {
        if (i == n || tok[i] == ',') {
            rc = cron_item(c, kind, f, tok + start, i - start, single, msg, msglen);
            if (rc != 0)
                return rc;
            start = i + 1;
        }
    }
    return 0;
}

/* Split the inside of cron(...)/crontab(...) into exactly nfields tokens. */
static int split_fields(const char *s, size_t n, const char **tok, size_t *len, int nfields,
                        int *count)
{
    size_t i = 0;

    *count = 0;
    while (i < n) {
        size_t start;

        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        start = i;
        while (i < n && !is_space(s[i]))
            i++;
        if (*count < nfields) {
            tok[*count] = s + start;
            len[*count] = i - start;
        }
        (*count)++;
    }
    return *count == nfields ? 0 : -1;
}

static bool tok_is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && strncmp(t, word, n) == 0;
}

static int parse_aws_cron(struct cron_spec *c, const char *s, size_t n, char *msg, size_t msglen)
{
    const char *tok[6];
    size_t len[6];
    int count;
    int i;
    int rc;
    bool dom_q;
    bool dow_q;

    if (split_fields(s, n, tok, len, 6, &count) != 0)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "cron() needs 6 fields (minutes hours day-of-month month day-of-week "
                        "year), got %d",
                        count);
    dom_q = tok_is(tok[2], len[2], "?");
    dow_q = tok_is(tok[4], len[4], "?");
    if (dom_q == dow_q)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "day-of-month and day-of-week: exactly one of them must be '?' (got "
                        "'%.*s' and '%.*s')",
                        (int)len[2], tok[2], (int)len[4], tok[4]);
    for (i = 0; i < 6; i++) {
        if ((i == 2 && dom_q) || (i == 4 && dow_q))
            continue;
        rc = cron_field(c, KIND_AWS, &aws_fields[i], tok[i], len[i], msg, msglen);
        if (rc != 0)
            return rc;
    }
    c->sec = 1;
    c->dom_all = dom_q;
    c->dow_all = dow_q;
    c->week_all = true;
    c->year_all = tok_is(tok[5], len[5], "*");
    c->year_max = aws_fields[5].max;
    return 0;
}

static int parse_crontab(struct cron_spec *c, const char *s, size_t n, char *msg, size_t msglen)
{
    const char *tok[5];
    size_t len[5];
    int count;
    int i;
    int rc;

    if (split_fields(s, n, tok, len, 5, &count) != 0)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "crontab() needs 5 fields (minute hour day-of-month month "
                        "day-of-week), got %d",
                        count);
    for (i = 0; i < 5; i++) {
        rc = cron_field(c, KIND_CRONTAB, &crontab_fields[i], tok[i], len[i], msg, msglen);
        if (rc != 0)
            return rc;
    }
    c->sec = 1;
    /* Vixie cron: a day field whose text starts with '*' does not count as
     * restricted, so the other one alone decides; when both are restricted
     * a day matching either one fires. */
    c->day_or = tok[2][0] != '*' && tok[4][0] != '*';
    c->week_all = true;
    c->year_all = true;
    c->year_max = 9999;
    return 0;
}

struct macro {
    const char *name;
    const char *fields;
};

static const struct macro macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static int parse_macro(struct cron_spec *c, const char *s, size_t n, char *msg, size_t msglen)
{
    size_t i;

    for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
        if (tok_is(s, n, macros[i].name))
            return parse_crontab(c, macros[i].fields, strlen(macros[i].fields), msg, msglen);
    }
    return ecs_fail(ECS_EINVAL, msg, msglen,
                    "unknown macro '%.*s': use @yearly, @annually, @monthly, @weekly, @daily, "
                    "@midnight or @hourly",
                    (int)n, s);
}

/* ------------------------------------------------------------------ */
/* rate() and at()                                                     */

static int parse_rate(struct schedule *s, const char *p, size_t n, char *msg, size_t msglen)
{
    static const struct {
        const char *singular;
        int64_t seconds;
    } units[] = {{"minute", 60}, {"hour", 3600}, {"day", 86400}};
    size_t i = 0;
    size_t vstart;
    size_t vlen;
    size_t ustart;
    size_t ulen;
    size_t k;
    long value;

    while (i < n && is_space(p[i]))
        i++;
    vstart = i;
    while (i < n && !is_space(p[i]))
        i++;
    vlen = i - vstart;
    while (i < n && is_space(p[i]))
        i++;
    ustart = i;
    while (i < n && !is_space(p[i]))
        i++;
    ulen = i - ustart;
    while (i < n && is_space(p[i]))
        i++;
    if (vlen == 0 || ulen == 0 || i != n)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "rate() takes a value and a unit, as in rate(5 minutes), got "
                        "'rate(%.*s)'",
                        (int)n, p);
    if (!all_digits(p + vstart, vlen))
        return ecs_fail(ECS_EINVAL, msg, msglen, "rate(): value '%.*s' is not a whole number",
                        (int)vlen, p + vstart);
    value = digits_value(p + vstart, vlen);
    if (value < 1 || value > RATE_VALUE_MAX)
        return ecs_fail(ECS_EINVAL, msg, msglen, "rate(): value '%.*s' is out of range 1-%ld",
                        (int)vlen, p + vstart, RATE_VALUE_MAX);
    for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        size_t sl = strlen(units[k].singular);
        bool singular = ulen == sl && strncmp(p + ustart, units[k].singular, sl) == 0;
        bool plural = ulen == sl + 1 && strncmp(p + ustart, units[k].singular, sl) == 0 &&
                      p[ustart + sl] == 's';

        if (!singular && !plural)
            continue;
        if (value == 1 && plural)
            return ecs_fail(ECS_EINVAL, msg, msglen,
                            "rate(): with a value of 1 the unit is singular: rate(1 %s)",
                            units[k].singular);
        if (value != 1 && singular)
            return ecs_fail(ECS_EINVAL, msg, msglen,
                            "rate(): with a value above 1 the unit is plural: rate(%ld %ss)", value,
                            units[k].singular);
        s->interval = value * units[k].seconds;
        return 0;
    }
    return ecs_fail(ECS_EINVAL, msg, msglen,
                    "rate(): unit '%.*s' is not one of minute(s), hour(s), day(s)", (int)ulen,
                    p + ustart);
}

/* Fixed-width digits at p[0..n); -1 when not all digits. */
static long fixed_digits(const char *p, size_t n)
{
    if (!all_digits(p, n))
        return -1;
    return digits_value(p, n);
}

static int parse_at(struct schedule *s, const char *p, size_t n, char *msg, size_t msglen)
{
    struct civil_time t;
    long y;
    long mo;
    long d;
    long h;
    long mi;
    long sec;

    /* yyyy-mm-ddThh:mm:ss: 19 characters with fixed separators. */
    if (n != 19 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return ecs_fail(ECS_EINVAL, msg, msglen, "at() takes yyyy-mm-ddThh:mm:ss, got 'at(%.*s)'",
                        (int)n, p);
    y = fixed_digits(p, 4);
    mo = fixed_digits(p + 5, 2);
    d = fixed_digits(p + 8, 2);
    h = fixed_digits(p + 11, 2);
    mi = fixed_digits(p + 14, 2);
    sec = fixed_digits(p + 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0)
        return ecs_fail(ECS_EINVAL, msg, msglen, "at() takes yyyy-mm-ddThh:mm:ss, got 'at(%.*s)'",
                        (int)n, p);
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > civil_days_in_month(y, (int)mo) ||
        h > 23 || mi > 59 || sec > 59)
        return ecs_fail(ECS_EINVAL, msg, msglen, "at(): '%.*s' is not a real date and time", (int)n,
                        p);
    t.year = y;
    t.month = (int)mo;
    t.day = (int)d;
    t.hour = (int)h;
    t.minute = (int)mi;
    t.second = (int)sec;
    s->at_wall = civil_to_seconds(&t);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing front door                                                   */

/* Normalise the day fields once parsing is done: a field that lets every
 * day through becomes "all", which makes the search's fast path apply and
 * settles Vixie's OR rule (either field covering every day means every
 * day). */
static void cron_finish(struct cron_spec *c)
{
    int i;
    const uint32_t every_dom = (uint32_t)bits_range(1, 31, 1);
    bool dom_full = c->dom_all || (c->dom & every_dom) == every_dom;
    bool dow_full = c->dow_all || c->dow == 0x7f;

    if (c->day_or) {
        if (dom_full || dow_full) {
            dom_full = true;
            dow_full = true;
            c->day_or = false;
        }
    }
    c->dom_all = dom_full;
    c->dow_all = dow_full;
    c->simple_days = c->dom_all && c->dow_all && c->week_all;
    c->has_dom_nth = false;
    c->has_dow_nth = false;
    for (i = 0; i < NTH_POSITIONS; i++) {
        c->has_dom_nth = c->has_dom_nth || c->dom_nth[i] != 0;
        c->has_dow_nth = c->has_dow_nth || c->dow_nth[i] != 0;
    }
}

/* "name(" prefix: returns the inside of the parentheses or NULL. */
static const char *call_form(const char *s, size_t n, const char *name, size_t *inner_len)
{
    size_t k = strlen(name);

    if (n < k + 2 || strncmp(s, name, k) != 0 || s[k] != '(')
        return NULL;
    if (s[n - 1] != ')')
        return NULL;
    *inner_len = n - k - 2;
    return s + k + 1;
}

int schedule_parse(const char *expr, const struct tz *zone, struct schedule **out, char *msg,
                   size_t msglen)
{
    struct schedule *s;
    const char *p;
    const char *inner;
    size_t n;
    size_t inner_len = 0;
    int rc;

    *out = NULL;
    if (expr == NULL)
        return ecs_fail(ECS_EINVAL, msg, msglen, "schedule is empty");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory parsing a schedule");
    s->zone = zone != NULL ? zone : tz_utc();
    p = expr;
    while (*p != '\0' && is_space(*p))
        p++;
    n = strlen(p);
    while (n > 0 && is_space(p[n - 1]))
        n--;

    if (n > 0 && p[n - 1] == ')' && memchr(p, '(', n) != NULL) {
        inner = call_form(p, n, "cron", &inner_len);
        if (inner != NULL) {
            s->dialect = SCHEDULE_AWS_CRON;
            rc = parse_aws_cron(&s->cron, inner, inner_len, msg, msglen);
            goto done;
        }
        inner = call_form(p, n, "crontab", &inner_len);
        if (inner != NULL) {
            s->dialect = SCHEDULE_CRONTAB;
            while (inner_len > 0 && is_space(*inner)) {
                inner++;
                inner_len--;
            }
            if (inner_len > 0 && inner[0] == '@')
                rc = parse_macro(&s->cron, inner, inner_len, msg, msglen);
            else
                rc = parse_crontab(&s->cron, inner, inner_len, msg, msglen);
            goto done;
        }
        inner = call_form(p, n, "rate", &inner_len);
        if (inner != NULL) {
            s->dialect = SCHEDULE_RATE;
            rc = parse_rate(s, inner, inner_len, msg, msglen);
            goto done;
        }
        inner = call_form(p, n, "at", &inner_len);
        if (inner != NULL) {
            s->dialect = SCHEDULE_AT;
            rc = parse_at(s, inner, inner_len, msg, msglen);
            goto done;
        }
    }
    if (memchr(p, '(', n) != NULL) {
        rc = ecs_fail(ECS_EINVAL, msg, msglen,
                      "unknown schedule form '%.*s': use cron(...), rate(...), at(...), "
                      "crontab(...), an @macro, or seconds-first fields such as '0 */5'",
                      (int)(n > 60 ? 60 : n), p);
        goto done;
    }
    if (n > 0 && p[0] == '@') {
        s->dialect = SCHEDULE_CRONTAB;
        rc = parse_macro(&s->cron, p, n, msg, msglen);
        goto done;
    }
    s->dialect = SCHEDULE_SEED;
    rc = parse_seed(&s->cron, expr, msg, msglen);
done:
    if (rc != 0) {
        schedule_free(&s);
        return rc;
    }
    if (s->dialect != SCHEDULE_RATE && s->dialect != SCHEDULE_AT)
        cron_finish(&s->cron);
    *out = s;
    return 0;
}

void schedule_free(struct schedule **s)
{
    if (s == NULL || *s == NULL)
        return;
    free((*s)->cron.years);
    free(*s);
    *s = NULL;
}

void schedule_set_anchor(struct schedule *s, time_t anchor)
{
    /* Only the grid matters (anchor + k * interval for every k), so the
     * anchor is kept as its place in the interval: any time_t, 1013 or
     * INT64_MIN, then leaves the arithmetic of rate_next in range. */
    int64_t r = (int64_t)anchor;

    if (s->dialect == SCHEDULE_RATE) {
        r = r % s->interval;
        if (r < 0)
            r += s->interval;
    }
    s->anchor = r;
}

enum schedule_dialect schedule_dialect(const struct schedule *s)
{
    return s->dialect;
}

const struct tz *schedule_zone(const struct schedule *s)
{
    return s->zone;
}

/* ------------------------------------------------------------------ */
/* The calendar search                                                 */

/* Days of month (y, m) matching the day fields, as bits 1..31. */
static uint32_t day_mask(const struct cron_spec *c, int64_t y, int m)
{
    int md = civil_days_in_month(y, m);
    uint32_t valid = (uint32_t)((((uint64_t)1 << md) - 1) << 1);
    int wd1;
    uint32_t dmask;
    uint32_t kmask;
    uint32_t wmask;
    int w;
    int pos;

    if (c->simple_days)
        return valid;
    wd1 = civil_weekday(civil_days_from_ymd(y, m, 1));

    dmask = valid;
    if (!c->dom_all) {
        dmask = c->dom;
        if (c->dom_last)
            dmask |= (uint32_t)1 << md;
        if (c->dom_last_wd) {
            int wl = (wd1 + md - 1) % 7;
            int d = md - (wl == 5 ? 1 : (wl == 6 ? 2 : 0));

            dmask |= (uint32_t)1 << d;
        }
        if (c->dom_near_wd != 0) {
            int n;

            for (n = 1; n <= md; n++) {
                int wn;
                int d = n;

                if (((c->dom_near_wd >> n) & 1u) == 0)
                    continue;
                wn = (wd1 + n - 1) % 7;
                /* The nearest weekday, never leaving the month. */
                if (wn == 5)
                    d = n == 1 ? 3 : n - 1;
                else if (wn == 6)
                    d = n == md ? n - 2 : n + 1;
                dmask |= (uint32_t)1 << d;
            }
        }
        for (pos = 0; c->has_dom_nth && pos < NTH_POSITIONS; pos++) {
            for (w = 0; w < 7; w++) {
                int d0;
                int d;

                if (((c->dom_nth[pos] >> w) & 1u) == 0)
                    continue;
                d0 = (w - wd1 + 7) % 7 + 1;
                d = pos == NTH_LAST ? d0 + 7 * ((md - d0) / 7) : d0 + 7 * pos;
                if (d <= md)
                    dmask |= (uint32_t)1 << d;
            }
        }
    }

    kmask = valid;
    if (!c->dow_all) {
        uint64_t k = 0;

        for (w = 0; w < 7; w++) {
            if (((c->dow >> w) & 1u) != 0)
                k |= (uint64_t)0x10204081u << ((w - wd1 + 7) % 7 + 1);
        }
        for (pos = 0; c->has_dow_nth && pos < NTH_POSITIONS; pos++) {
            for (w = 0; w < 7; w++) {
                int d0;
                int d;

                if (((c->dow_nth[pos] >> w) & 1u) == 0)
                    continue;
                d0 = (w - wd1 + 7) % 7 + 1;
                d = pos == NTH_LAST ? d0 + 7 * ((md - d0) / 7) : d0 + 7 * pos;
                if (d <= md)
                    k |= (uint64_t)1 << d;
            }
        }
        kmask = (uint32_t)k;
    }

    wmask = valid;
    if (!c->week_all) {
        int d;
        int week = civil_iso_week(y, m, 1, NULL);

        wmask = 0;
        for (d = 1; d <= md; d++) {
            if (d > 1 && (wd1 + d - 1) % 7 == 0)
                week = civil_iso_week(y, m, d, NULL);
            if (((c->week >> week) & 1u) != 0)
                wmask |= (uint32_t)1 << d;
        }
    }

    if (c->day_or)
        return (dmask | kmask) & valid;
    return dmask & kmask & wmask & valid;
}

static int64_t year_item_next(const struct year_item *it, int64_t y)
{
    int64_t k;
    int64_t v;

    if (y <= it->first)
        return it->first;
    k = (y - it->first + it->step - 1) / it->step;
    v = it->first + k * it->step;
    return v <= it->last ? v : -1;
}

/* The next allowed year >= y whose 400-year residue has not been scanned
 * in full without a match (the calendar repeats every 400 years, so such a
 * year cannot match either), or -1. */
static int64_t year_next(const struct cron_spec *c, int64_t y, const uint64_t *done)
{
    for (;;) {
        int64_t cand = -1;
        int64_t r;

        if (c->year_all) {
            cand = y;
        } else {
            int i;

            for (i = 0; i < c->nyears; i++) {
                int64_t v = year_item_next(&c->years[i], y);

                if (v >= 0 && (cand < 0 || v < cand))
                    cand = v;
            }
        }
        if (cand < 0 || cand > c->year_max)
            return -1;
        r = cand - civil_floor_div(cand, 400) * 400;
        if (((done[r / 64] >> (r % 64)) & 1u) == 0)
            return cand;
        y = cand + 1;
    }
}

/* The search walks a date-time held as fields, most significant first. */
enum wall_field { W_YEAR, W_MONTH, W_DAY, W_HOUR, W_MINUTE, W_SECOND, W_FIELDS };

static const int wall_field_min[W_FIELDS] = {0, 1, 1, 0, 0, 0};

static void wall_reset_below(int64_t *v, int field)
{
    int i;

    for (i = field + 1; i < W_FIELDS; i++)
        v[i] = wall_field_min[i];
}

/* Move field to the next value (overflow is seen by the next lookup) and
 * restart every less significant field at its minimum. */
static void wall_bump(int64_t *v, int field)
{
    v[field]++;
    wall_reset_below(v, field);
}

static void wall_set(int64_t *v, int field, int64_t value)
{
    if (v[field] == value)
        return;
    v[field] = value;
    wall_reset_below(v, field);
}

static void mark_year_done(uint64_t *done, int64_t y)
{
    int64_t r = y - civil_floor_div(y, 400) * 400;

    done[r / 64] |= (uint64_t)1 << (r % 64);
}

/* First wall-clock second >= x matching c: 0 and *out, or ECS_ENEVER. */
static int cron_wall_next(const struct cron_spec *c, int64_t x, int64_t *out)
{
    uint64_t done[7] = {0, 0, 0, 0, 0, 0, 0};
    struct civil_time t;
    int64_t v[W_FIELDS];
    bool full_year;

    civil_from_seconds(x, &t);
    v[W_YEAR] = t.year;
    v[W_MONTH] = t.month;
    v[W_DAY] = t.day;
    v[W_HOUR] = t.hour;
    v[W_MINUTE] = t.minute;
    v[W_SECOND] = t.second;
    full_year = t.month == 1 && t.day == 1 && t.hour == 0 && t.minute == 0 && t.second == 0;
    for (;;) {
        int64_t ny = year_next(c, v[W_YEAR], done);
        int n;

        if (ny < 0)
            return ECS_ENEVER;
        if (ny != v[W_YEAR]) {
            wall_set(v, W_YEAR, ny);
            full_year = true;
        }
        n = next_bit(c->mon, (int)v[W_MONTH]);
        if (n < 0) {
            if (full_year)
                mark_year_done(done, v[W_YEAR]);
            wall_bump(v, W_YEAR);
            full_year = true;
            continue;
        }
        wall_set(v, W_MONTH, n);
        n = next_bit(day_mask(c, v[W_YEAR], (int)v[W_MONTH]), (int)v[W_DAY]);
        if (n < 0) {
            wall_bump(v, W_MONTH);
            continue;
        }
        wall_set(v, W_DAY, n);
        n = next_bit(c->hour, (int)v[W_HOUR]);
        if (n < 0) {
            wall_bump(v, W_DAY);
            continue;
        }
        wall_set(v, W_HOUR, n);
        n = next_bit(c->min, (int)v[W_MINUTE]);
        if (n < 0) {
            wall_bump(v, W_HOUR);
            continue;
        }
        wall_set(v, W_MINUTE, n);
        n = next_bit(c->sec, (int)v[W_SECOND]);
        if (n < 0) {
            wall_bump(v, W_MINUTE);
            continue;
        }
        t.year = v[W_YEAR];
        t.month = (int)v[W_MONTH];
        t.day = (int)v[W_DAY];
        t.hour = (int)v[W_HOUR];
        t.minute = (int)v[W_MINUTE];
        t.second = n;
        *out = civil_to_seconds(&t);
        return 0;
    }
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* The next instant after `after` for a wall-clock dialect, span by span. */
static int wall_clock_next(const struct schedule *s, int64_t after, int64_t *next)
{
    const struct cron_spec *c = &s->cron;
    int64_t from = after + 1;
    int iter;

    if (tz_is_fixed(s->zone)) {
        int32_t off = tz_offset_at(s->zone, from);
        int64_t w;

        if (cron_wall_next(c, from + off, &w) != 0)
            return ECS_ENEVER;
        *next = w - off;
        return 0;
    }
    /* Each pass either answers or moves to a later span; the jump below
     * lands within two days of the next calendar match, so a handful of
     * passes always suffice. */
    for (iter = 0; iter < 64; iter++) {
        struct tz_span sp;
        int64_t best = INT64_MAX;
        int64_t lower;
        int64_t w = 0;
        int rc;

        tz_span_at(s->zone, from, &sp);
        /* After a fall-back the repeated wall times were fired in the span
         * before: start this span's wall clock where that one ended. */
        lower = sp.start == INT64_MIN
                    ? INT64_MIN
                    : sp.start + (sp.prev_offset > sp.offset ? sp.prev_offset : sp.offset);
        rc = cron_wall_next(c, max64(from + sp.offset, lower), &w);
        if (rc == 0 && (sp.end == INT64_MAX || w < sp.end + sp.offset))
            best = w - sp.offset;
        /* Wall times inside a spring-forward gap fire at the offset before
         * the gap, i.e. inside the first minutes of this span. */
        if (sp.start != INT64_MIN && sp.offset > sp.prev_offset) {
            int64_t gfrom = max64(sp.start, from) + sp.prev_offset;
            int64_t gend = sp.start + sp.offset;
            int64_t g;

            if (gfrom < gend && cron_wall_next(c, gfrom, &g) == 0 && g < gend &&
                g - sp.prev_offset < best)
                best = g - sp.prev_offset;
        }
        if (best != INT64_MAX) {
            *next = best;
            return 0;
        }
        if (rc != 0)
            return ECS_ENEVER;
        from = max64(sp.end, w - TWO_DAYS);
    }
    return ECS_ENEVER;
}

/* The first grid point anchor + k * interval after `after`; the anchor
 * is in [0, interval) and `after` within years 0000-9999, so nothing here
 * leaves the range of int64_t. */
static int64_t rate_next(const struct schedule *s, int64_t after)
{
    int64_t k = civil_floor_div(after - s->anchor, s->interval) + 1;

    return s->anchor + k * s->interval;
}

int schedule_next(const struct schedule *s, time_t after, time_t *next)
{
    int64_t from = (int64_t)after;
    int64_t t;
    int rc;

    /* Fire times lie in years 0000-9999 UTC: nothing fires after
     * 9999-12-31, and an instant before year 0000 asks for the first fire
     * time from then on. Both bounds keep the arithmetic below in range. */
    if (from >= SCHEDULE_LAST_INSTANT)
        return ECS_ENEVER;
    if (from < SCHEDULE_FIRST_INSTANT)
        from = SCHEDULE_FIRST_INSTANT - 1;

    switch (s->dialect) {
    case SCHEDULE_RATE:
        t = rate_next(s, from);
        break;
    case SCHEDULE_AT:
        t = tz_wall_to_utc(s->zone, s->at_wall);
        if (t <= from)
            return ECS_ENEVER;
        break;
    default:
        rc = wall_clock_next(s, from, &t);
        if (rc != 0)
            return rc;
        break;
    }
    if (t >= SCHEDULE_LAST_INSTANT)
        return ECS_ENEVER;
    *next = (time_t)t;
    return 0;
}

/* ------------------------------------------------------------------ */
/* '?' resolution                                                      */

static uint32_t system_rand_below(void *ctx, uint32_t n)
{
    uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    uint32_t v = 0;

    (void)ctx;
    /* Rejection sampling keeps the draw uniform. */
    do {
        if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
            v = (uint32_t)rand();
    } while (v >= limit);
    return v % n;
}

int schedule_resolve_random(const char *expr, schedule_rand_fn rnd, void *ctx, char **out,
                            char *msg, size_t msglen)
{
    static const uint32_t ranges[3] = {60, 60, 24};
    size_t n = strlen(expr);
    /* Each '?' becomes at most two digits. */
    char *res = malloc(2 * n + 1);
    const char *p = expr;
    size_t o = 0;
    int field = 0;

    *out = NULL;
    if (res == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory resolving a schedule");
    if (rnd == NULL)
        rnd = system_rand_below;
    while (*p != '\0' && is_space(*p))
        p++;
    if (memchr(expr, '(', n) != NULL || *p == '@')
        field = 3; /* not the seed dialect: copy unchanged */
    p = expr;
    while (*p != '\0') {
        if (is_space(*p)) {
            res[o++] = *p++;
            continue;
        }
        if (field < 3 && p[0] == '?' && (p[1] == '\0' || is_space(p[1]))) {
            o += (size_t)snprintf(res + o, 3, "%u", (unsigned)rnd(ctx, ranges[field]));
            p++;
        } else {
            while (*p != '\0' && !is_space(*p))
                res[o++] = *p++;
        }
        field++;
    }
    res[o] = '\0';
    *out = res;
    return 0;
}
