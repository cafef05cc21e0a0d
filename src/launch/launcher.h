/* launcher.h - how the scheduler starts, finds and stops tasks, whatever
 * runs them: Amazon ECS, local processes, or a fake for tests. A backend
 * is a `struct launcher_ops` (name first); the daemon only calls the front
 * door below. Tasks are named by ARN-like strings and grouped by
 * startedBy, as ECS does. */
#ifndef ECS_LAUNCHER_H
#define ECS_LAUNCHER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

/* What to start: `count` (1..10, ECS's RunTask limit) copies of the task
 * definition `family`, with the job's normalised overrides
 * ([{containerName, environment, command, cpu, memory}], may be NULL). */
struct launch_request {
    const char *family;
    const char *started_by;   /* at most 36 characters (ECS's limit) */
    const char *client_token; /* idempotency: same token, same tasks */
    int count;
    const json_t *overrides;
    const char *job_id; /* tagged as ecsched:job where the launcher has tags */
    /* the job's "launch" settings in RunTask's own names (cluster,
     * launchType, capacityProviderStrategy, platformVersion,
     * networkConfiguration, group, tags, propagateTags,
     * enableECSManagedTags), over the daemon's defaults; may be NULL */
    const json_t *settings;
    /* {"NAME": "value", ...} added to every container's environment, after
     * the overrides' (a pipeline run's upstream); may be NULL */
    const json_t *environment;
    /* unix ms by which retries of a throttled or failing call give up (the
     * firing's startingDeadlineSeconds); 0: the launcher's own default */
    int64_t deadline_ms;
    /* the firing's token, the same in every batch of its launch (each
     * batch's client_token is run_token + "-<batch>"); tagged
     * ecsched:run=<run_token> where the launcher has tags, and what
     * find_run() looks for; may be NULL */
    const char *run_token;
    /* who the task is, {"ECSCHED_JOB_ID", "ECSCHED_RUN_ID",
     * "ECSCHED_SCHEDULED"}: a backend tells its tasks as it can (local:
     * these environment variables in every container; ecs: the ecsched:job
     * and ecsched:run tags already say it, so no DescribeTaskDefinition is
     * spent per launch to name every container); may be NULL */
    const json_t *identity;
};

enum launch_status { LAUNCH_PENDING, LAUNCH_RUNNING, LAUNCH_STOPPED };

struct launch_container {
    char *name;
    int has_exit_code;
    int exit_code;
};

struct launch_task {
    char *arn;
    char *host; /* container instance; NULL where there is none */
    enum launch_status status;
    char *stop_reason; /* NULL until stopped */
    /* unix milliseconds, on the wall clock the run's own times use, so a
     * task never seems to start before the run that launched it */
    int64_t started_ms;
    int64_t stopped_ms; /* 0 until stopped; never before started_ms */
    /* stopped, but how it ended cannot be known (the local supervisor died
     * with it, or the launcher lost it): its run ends `unknown`, never
     * `failed`; stop_reason says why */
    int unknown;
    struct launch_container *containers;
    size_t ncontainers;
};

/* A task that could not be started, with the launcher's reason
 * (e.g. ECS's "RESOURCE:MEMORY"). */
struct launch_failure {
    char *reason;
};

struct launch_result {
    struct launch_task *tasks;
    size_t ntasks;
    struct launch_failure *failures;
    size_t nfailures;
};

struct launcher_config {
    const char *task_definition_dir; /* local: <dir>/<family>.json */
    const char *log_dir;             /* local: <dir>/<task id>/<container>.log */
    /* local: the ecsched executable whose hidden `__supervise` command
     * watches a task's containers and writes their exits to the task's
     * directory (NULL: this process's own /proc/self/exe) */
    const char *supervisor;
    /* ecs: the daemon's default launch settings (same keys as a job's
     * "launch"), borrowed for the launcher's life; may be NULL */
    const json_t *defaults;
    struct logger *log; /* borrowed; retries and the like; may be NULL */
    /* fake: called as each run_task begins, on the caller's thread and
     * outside the fake's lock, with the wall-clock time in milliseconds, so
     * a benchmark can time every launch against its scheduled second; NULL
     * for none */
    void (*on_run)(void *ctx, const struct launch_request *rq, int64_t now_ms);
    void *on_run_ctx;
};

struct launcher_ops {
    const char *name;
    int (*open)(const struct launcher_config *cfg, void **impl, char *msg, size_t msglen);
    void (*close)(void *impl);
    int (*run_task)(void *impl, const struct launch_request *rq, struct launch_result *out,
                    char *msg, size_t msglen);
    /* ARNs of this startedBy's tasks not yet stopped (PENDING or RUNNING);
     * settings as in launch_request (ecs: which cluster), may be NULL */
    int (*list_active)(void *impl, const char *started_by, const json_t *settings, char ***arns,
                       size_t *n, char *msg, size_t msglen);
    int (*describe)(void *impl, const char *const *arns, size_t n, struct launch_result *out,
                    char *msg, size_t msglen);
    int (*stop_task)(void *impl, const char *arn, const char *reason, char *msg, size_t msglen);
    /* The tasks any run_task with this run_token started, by this process
     * or an earlier one (stopped ones too, as far as the backend still
     * knows them): a firing claimed but never recorded as launched is
     * finished with these instead of being launched again. started_by
     * and settings narrow the search as in list_active. None found: 0
     * with out empty. NULL where a backend cannot look (then the client
     * token alone guards a relaunch). A task that certainly never started
     * (local: recorded, then its daemon died before the supervisor claimed
     * the start, and a later launcher cancelled it) counts as never
     * created: find_run, the client-token dedup of run_task and
     * list_active skip it, and describe answers MISSING for its ARN, so
     * the firing is launched again rather than finished. */
    int (*find_run)(void *impl, const char *started_by, const char *run_token,
                    const json_t *settings, struct launch_result *out, char *msg, size_t msglen);
    /* The daemon is stopping: calls in flight or to come give up retrying
     * by deadline_ms (unix ms). NULL where calls never wait. */
    void (*cancel)(void *impl, int64_t deadline_ms);
};

struct launcher;

/* name: "local" or "fake" (and "ecs" once it exists). *out is the
 * caller's, closed with launcher_close(). */
int launcher_open(const char *name, const struct launcher_config *cfg, struct launcher **out,
                  char *msg, size_t msglen);
void launcher_close(struct launcher **l);
const char *launcher_name(const struct launcher *l);

/* On success the caller frees *out with launch_result_clear(). Failures of
 * single tasks are in out->failures, not the return code. */
int launcher_run_task(struct launcher *l, const struct launch_request *rq,
                      struct launch_result *out, char *msg, size_t msglen);
/* *arns is the caller's: free with launch_strings_free(). */
int launcher_list_active(struct launcher *l, const char *started_by, const json_t *settings,
                         char ***arns, size_t *n, char *msg, size_t msglen);
int launcher_describe(struct launcher *l, const char *const *arns, size_t n,
                      struct launch_result *out, char *msg, size_t msglen);
int launcher_stop_task(struct launcher *l, const char *arn, const char *reason, char *msg,
                       size_t msglen);

/* See launcher_ops.find_run. ECS_ENOTSUP when the backend cannot look.
 * On success the caller frees *out with launch_result_clear(). */
int launcher_find_run(struct launcher *l, const char *started_by, const char *run_token,
                      const json_t *settings, struct launch_result *out, char *msg, size_t msglen);

/* Shutting down: every call gives up by deadline_ms (unix ms) instead of
 * retrying on; thread-safe, may be called while calls are in flight. */
void launcher_cancel(struct launcher *l, int64_t deadline_ms);

void launch_result_clear(struct launch_result *r);
void launch_strings_free(char ***v, size_t n);

#endif
