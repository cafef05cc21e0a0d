/* test_run.c - a run's record and its status rules: succeeded only when
 * every container exited 0, failed on any other exit, and unknown (never
 * failed) when a task's ending cannot be known. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/run.h"
#include "harness.h"
#include "launch/launcher.h"

/* Task arn with container c, running since 1000 s; d answers it alone. */
static void running_task(struct launch_task *t, struct launch_container *c, const char *arn,
                         struct launch_result *d)
{
    memset(t, 0, sizeof(*t));
    t->arn = (char *)arn;
    t->status = LAUNCH_RUNNING;
    t->started_ms = 1000000;
    t->containers = c;
    t->ncontainers = 1;
    memset(d, 0, sizeof(*d));
    d->tasks = t;
    d->ntasks = 1;
}

/* A run with one task of one container, launched at 1000 s. */
static json_t *one_task_run(const char *arn)
{
    json_t *run = run_new("job", "schedule", 1000, NULL);
    struct launch_container c = {(char *)"app", 0, 0};
    struct launch_task t;
    struct launch_result res;

    running_task(&t, &c, arn, &res);
    run_set_launched(run, 1000000);
    run_add_launch(run, &res);
    run_refresh(run, 1000000);
    return run;
}

/* The task stopped: with exit code `code` (has_code), or unknown.
 * run_apply_describe's answer: whether the run changed. */
static int stop_task(json_t *run, const char *arn, int has_code, int code, int unknown)
{
    struct launch_container c = {(char *)"app", has_code, code};
    struct launch_task t;
    struct launch_result d;

    running_task(&t, &c, arn, &d);
    t.status = LAUNCH_STOPPED;
    t.stopped_ms = 1003000;
    t.unknown = unknown;
    t.ncontainers = unknown ? 0 : 1;
    return run_apply_describe(run, &d, 1003000);
}

/* The task is still running, as described when launched. */
static int still_running(json_t *run, const char *arn)
{
    struct launch_container c = {(char *)"app", 0, 0};
    struct launch_task t;
    struct launch_result d;

    running_task(&t, &c, arn, &d);
    return run_apply_describe(run, &d, 1002000);
}

/* The tracker writes a run only when a describe changed it: an answer
 * that says what the run says already changes nothing, a task that
 * stopped changes its run once. */
static void test_describe_reports_change(void)
{
    json_t *run = one_task_run("a");
    const struct launch_result none = {NULL, 0, NULL, 0};
    char *before = json_dumps(run, JSON_SORT_KEYS);
    char *after;
    json_t *task;

    T_EQ_INT(still_running(run, "a"), 0);
    T_EQ_INT(still_running(run, "other"), 0);
    T_EQ_INT(run_apply_describe(run, &none, 1002000), 0);
    after = json_dumps(run, JSON_SORT_KEYS);
    T_EQ_STR(after, before);
    free(after);
    T_EQ_INT(stop_task(run, "a", 1, 0, 0), 1);
    T_EQ_STR(run_status(run), "succeeded");
    T_EQ_INT(stop_task(run, "a", 1, 0, 0), 0);
    free(before);
    json_decref(run);

    /* the same task, now without its host: a change of the task alone */
    run = one_task_run("b");
    task = json_array_get(json_object_get(run, "tasks"), 0);
    json_object_set_new(task, "hostId", json_string("h1"));
    T_EQ_INT(still_running(run, "b"), 1);
    T_EQ_STR(run_status(run), "running");
    json_decref(run);
}

static void test_statuses(void)
{
    json_t *run = one_task_run("a");

    T_EQ_STR(run_status(run), "running");
    stop_task(run, "a", 1, 0, 0);
    T_EQ_STR(run_status(run), "succeeded");
    T_TRUE(json_object_get(run, "finished") != NULL);
    json_decref(run);

    run = one_task_run("a");
    stop_task(run, "a", 1, 3, 0);
    T_EQ_STR(run_status(run), "failed");
    json_decref(run);

    /* stopped without an exit code (never started, killed by ECS): failed */
    run = one_task_run("a");
    stop_task(run, "a", 0, 0, 0);
    T_EQ_STR(run_status(run), "failed");
    json_decref(run);
}

static void test_unknown_is_not_failed(void)
{
    json_t *run = one_task_run("a");
    const json_t *task;

    stop_task(run, "a", 0, 0, 1);
    T_EQ_STR(run_status(run), "unknown");
    task = json_array_get(json_object_get(run, "tasks"), 0);
    T_TRUE(json_is_true(json_object_get(task, "outcomeUnknown")));
    json_decref(run);

    /* a task the launcher forgot */
    run = one_task_run("b");
    T_EQ_INT(run_mark_lost(run, "b", 1005000), 1);
    T_EQ_STR(run_status(run), "unknown");
    T_EQ_INT(run_mark_lost(run, "b", 1005000), 0);
    json_decref(run);
}

/* One real failure among the tasks outweighs an unknown one. */
static void test_failure_outweighs_unknown(void)
{
    json_t *run = one_task_run("a");
    json_t *other = one_task_run("b");

    json_array_extend(json_object_get(run, "tasks"), json_object_get(other, "tasks"));
    json_decref(other);
    stop_task(run, "a", 0, 0, 1);
    T_EQ_STR(run_status(run), "running");
    stop_task(run, "b", 1, 1, 0);
    T_EQ_STR(run_status(run), "failed");
    json_decref(run);
}

static void test_final_statuses(void)
{
    T_EQ_INT(run_status_final("succeeded"), 1);
    T_EQ_INT(run_status_final("failed"), 1);
    T_EQ_INT(run_status_final("unknown"), 1);
    T_EQ_INT(run_status_final("skipped"), 0);
    T_EQ_INT(run_status_final("running"), 0);
    T_EQ_INT(run_status_final("pending"), 0);
}

static const struct test_case cases[] = {
    {"statuses", test_statuses},
    {"unknown_is_not_failed", test_unknown_is_not_failed},
    {"failure_outweighs_unknown", test_failure_outweighs_unknown},
    {"final_statuses", test_final_statuses},
    {"describe_reports_change", test_describe_reports_change},
};

TEST_MAIN("run", cases)
