/* job.h - the job model of the jobs API (seed 004 contract, section 2):
 * validation with ECS Scheduler's exact messages, the normalised stored
 * form, merge updates, and the API representation.
 *
 * A job is kept as a JSON object holding only stored fields, with the
 * API's names: id, taskDefinition, schedule (with '?' resolved), taskCount,
 * maxCount, scheduleStart, scheduleEnd, timezone, suspended, trigger,
 * overrides. Absent fields are absent, never null. */
#ifndef ECS_JOB_H
#define ECS_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "schedule.h"

/* What validation needs from its caller: the random source for '?' (NULL
 * for the system's). */
struct job_ctx {
    schedule_rand_fn rand;
    void *rand_ctx;
};

/* Validate a request body. existing == NULL: a create (taskDefinition or id
 * and schedule required, taskCount defaults to 1). Otherwise a partial
 * update merged over existing: every field optional, `id` ignored, trigger
 * and overrides replaced wholesale, all-or-nothing.
 *
 * Returns 0 with *out a new normalised job (caller owns: json_decref).
 * On bad input returns ECS_EINVAL with *errors a new object in the
 * reference's shape: field -> [messages], nested objects for trigger
 * ("_schema" for whole-object problems) and for overrides (keyed by the
 * string index). Every failing field is reported. ECS_ENOMEM on allocation
 * failure. Neither output is set on the other path. */
int job_validate(const json_t *body, const json_t *existing, const struct job_ctx *ctx,
                 json_t **out, json_t **errors);

/* Read an integer the way the reference reads every integer it is given
 * (Python's int() on a string): optional blanks, a sign, digits, optional
 * blanks; magnitudes saturate at 10^12. 0 and *out, or -1. */
int job_int_from_text(const char *s, long long *out);

/* An integer as the reference coerces one: ints, reals truncated toward
 * zero, booleans, and strings job_int_from_text reads. 0, or -1. */
int job_coerce_int(const json_t *j, long long *out);

/* A boolean: true/false, 1/0, and the strings marshmallow 2 knows. 0, or -1. */
int job_coerce_bool(const json_t *j, bool *out);

/* What a job without these fields does, where seed 004 or ecsched gives
 * a default. */
#define JOB_TASK_COUNT_DEFAULT 1
#define JOB_DEADLINE_DEFAULT 60 /* startingDeadlineSeconds */
#define JOB_HISTORY_DEFAULT 100 /* runHistoryLimit */

/* The value a field left out of a job behaves as, where a value can say
 * it (taskCount 1, suspended false, missedRuns "once",
 * startingDeadlineSeconds 60, runHistoryLimit 100, timezone "" for UTC):
 * a new reference. NULL for the fields whose absence no value says
 * (maxCount, scheduleStart, scheduleEnd, after, trigger, ...). */
json_t *job_field_default(const char *key);

/* The API representation: {"id", "link": {...}} and every stored field
 * (ids are plain [0-9A-Za-z_-], so the href needs no escaping). `runtime`
 * (may be NULL) holds read-only fields such as estimatedNextRun, lastRun,
 * lastRunTasks, copied in. Returns a new object or NULL on allocation
 * failure. */
json_t *job_to_api(const json_t *job, const json_t *runtime);

/* The job's `timezone` as stored (NULL when absent; "" means UTC). */
const char *job_zone_name(const json_t *job);

/* The job's next fire time at or after max(now, scheduleStart), not after
 * scheduleEnd (inclusive), evaluated in zone (the job's, from
 * job_zone_name; NULL = UTC): 0 and *next, ECS_ENEVER when there is none
 * (suspended, ended, impossible), ECS_EINVAL if the stored job no longer
 * parses (message in msg). */
int job_next_run(const json_t *job, const struct tz *zone, time_t now, time_t *next, char *msg,
                 size_t msglen);

/* A job's fire times, compiled once (the scheduler keeps one per job):
 * the parsed schedule and the scheduleStart/scheduleEnd window. */
struct job_plan {
    struct schedule *sched; /* owned */
    bool has_start;
    bool has_end;
    int64_t start;
    int64_t end;
};

/* 0, ECS_ENEVER for a suspended job (p stays empty), ECS_EINVAL when the
 * stored schedule no longer parses. Free with job_plan_free() either way. */
int job_plan_init(struct job_plan *p, const json_t *job, const struct tz *zone, char *msg,
                  size_t msglen);

/* As job_next_run, from a compiled plan. */
int job_plan_next(const struct job_plan *p, time_t now, time_t *next);

void job_plan_free(struct job_plan *p);

#endif
