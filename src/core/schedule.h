/* schedule.h - parse schedule expressions and compute exact fire times.
 *
 * Dialects, recognised by their form so that nothing is ambiguous:
 *   "0 0/5"                       seed dialect (ECS Scheduler / APScheduler):
 *                                 second minute hour day_of_week week day month year
 *   "cron(0 12 * * ? *)"          AWS EventBridge cron, with ? L W #
 *   "rate(5 minutes)"             AWS rate: elapsed time from the anchor
 *   "at(2027-01-01T09:00:00)"     one time, wall clock in the zone
 *   "crontab(30 2 * * 1-5)"       classic 5-field crontab, Vixie semantics
 *   "@daily" (and friends)        crontab macros
 * Every wall-clock dialect is evaluated in the schedule's zone with one DST
 * rule (see tz_wall_to_utc): never twice, never dropped. */
#ifndef ECS_SCHEDULE_H
#define ECS_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tz.h"

enum schedule_dialect {
    SCHEDULE_SEED,
    SCHEDULE_AWS_CRON,
    SCHEDULE_RATE,
    SCHEDULE_AT,
    SCHEDULE_CRONTAB
};

struct schedule;

/* Parse expr evaluated in zone (borrowed: it must outlive the schedule;
 * NULL means UTC). On success *out is a new schedule the caller frees with
 * schedule_free(). On bad input returns ECS_EINVAL with a one-line message
 * naming the field and the offending token. A seed-dialect '?' must be
 * resolved first (schedule_resolve_random); an unresolved one is an error. */
int schedule_parse(const char *expr, const struct tz *zone, struct schedule **out, char *msg,
                   size_t msglen);

/* Frees *s and sets it to NULL; safe on NULL. */
void schedule_free(struct schedule **s);

/* The first fire time strictly after `after`. Returns 0 and sets *next, or
 * ECS_ENEVER when the schedule never fires after `after` (a past at(), an
 * impossible date such as 30 February, a year range in the past). Fire
 * times lie in 0000-01-01T00:00:00Z..9999-12-31T23:59:59Z: for an `after`
 * before that, the first one in it. Bounded in work whatever the
 * expression, and *next > after for any after. */
int schedule_next(const struct schedule *s, time_t after, time_t *next);

/* rate() schedules fire at anchor + k * interval (any k). The default
 * anchor is 1970-01-01T00:00:00Z, so "rate(1 day)" fires at 00:00 UTC and
 * "rate(15 minutes)" on the quarter hours; a job anchors at its
 * scheduleStart, which may be any instant. No effect on other dialects. */
void schedule_set_anchor(struct schedule *s, time_t anchor);

enum schedule_dialect schedule_dialect(const struct schedule *s);
const struct tz *schedule_zone(const struct schedule *s);

/* Source of randomness for '?': returns a uniform value in [0, n). */
typedef uint32_t (*schedule_rand_fn)(void *ctx, uint32_t n);

/* The seed dialect's '?' (random choice, only as the whole token in the
 * second, minute or hour field): returns in *out a new string (caller
 * frees with free()) with each such '?' replaced by a value drawn from rand,
 * every other character, spacing included, kept. Expressions of other
 * dialects are copied unchanged. rand may be NULL to use the system's
 * random source. Fails only on allocation failure (ECS_ENOMEM). */
int schedule_resolve_random(const char *expr, schedule_rand_fn rand, void *ctx, char **out,
                            char *msg, size_t msglen);

#endif
