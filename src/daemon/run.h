/* run.h - the record of one run of a job (a scheduled firing, a manual
 * run, later a trigger or pipeline start): why and when it ran, the tasks
 * it started or the failures it met, and, as the tasks stop, their exit
 * codes and the run's status. A run is a JSON object, stored as text in
 * the store's runs (store_run.data) and shown as-is by the API. */
#ifndef ECS_RUN_H
#define ECS_RUN_H

#include <jansson.h>
#include <stdint.h>

#include "launch/launcher.h"

/* A new pending run. requested_by may be NULL (scheduled runs). Returns a
 * new reference, or NULL when out of memory. */
json_t *run_new(const char *job_id, const char *reason, int64_t scheduled,
                const char *requested_by);

/* The launcher was asked at now_ms. */
int run_set_launched(json_t *run, int64_t now_ms);

/* Add what a RunTask call answered: its tasks (those the run does not
 * name yet) and failures. */
int run_add_launch(json_t *run, const struct launch_result *res);

/* End the run as failed (whole-call error: message says what) or skipped
 * (nothing needed starting: message says why). */
int run_finish(json_t *run, const char *status, const char *message, int64_t now_ms);

/* Fold a DescribeTasks answer into the run's tasks and recompute its
 * status. Returns 1 when something changed, 0 when not, <0 on error. */
int run_apply_describe(json_t *run, const struct launch_result *d, int64_t now_ms);

/* Recompute the run's status from its tasks as they stand (after
 * run_add_launch): run_apply_describe with no answer, without its
 * before-and-after comparison, which a firing has no use for. */
void run_refresh(json_t *run, int64_t now_ms);

/* The launcher no longer knows task arn (ECS forgot a long-stopped task,
 * a local task's directory is gone): record it as stopped with its
 * outcome unknown, so the run ends (`unknown`, not `failed`) instead of
 * waiting forever. Returns 1 if arn was open. */
int run_mark_lost(json_t *run, const char *arn, int64_t now_ms);

/* A run that ended this way starts its pipeline followers: succeeded,
 * failed or unknown (not skipped, not still active). */
int run_status_final(const char *status);

/* pending, running, succeeded, failed, unknown or skipped. */
const char *run_status(const json_t *run);

/* Task ARNs of the run not yet seen stopped; *arns holds borrowed
 * strings, valid while run is; free(*arns) after. */
int run_open_tasks(const json_t *run, const char ***arns, size_t *n);

/* The API view: the record plus "id" and a "link". New reference. */
json_t *run_to_api(const json_t *run, int64_t id);

/* The contract's lastRunTasks: [{"taskId", "hostId"}], hostId absent when
 * the task has no container instance (Fargate). New reference. */
json_t *run_task_list(const json_t *run);

#endif
