/* taskload.c - a local task's durable record (task.json, claim,
 * state.json) read back as a launch_entry, deciding on the way what a dead
 * daemon or supervisor left undecided (see taskdir_load in taskdir.h). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/clock.h"
#include "core/error.h"
#include "launch/backends.h"
#include "launch/taskdir.h"

static char *dup_str(const json_t *s, int *oom)
{
    const char *v = json_string_value(s);
    char *d;

    if (v == NULL)
        return NULL;
    d = strdup(v);
    if (d == NULL)
        *oom = 1;
    return d;
}

/* The supervisor named in claim text, or 0 (cancelled, unreadable). */
static pid_t claim_supervisor(const char *claim, int64_t *start)
{
    long pid = 0;
    long long st = -1;

    if (sscanf(claim, "supervisor %ld %lld", &pid, &st) != 2 || pid <= 0)
        return 0;
    *start = st;
    return (pid_t)pid;
}

/* The supervisor is gone and never wrote how the task ended: say so in
 * state.json (so every later reader gets the same answer), and end what
 * is left of the containers, whose exits nobody could collect now. */
static json_t *finalize_unknown(const char *dir, const char *log_dir, const char *id,
                                const json_t *task, json_t *state, const char *why)
{
    json_t *st = state != NULL ? json_deep_copy(state) : json_object();
    const json_t *c;
    size_t i;
    char reason[512];

    if (st == NULL)
        return NULL;
    json_array_foreach(json_object_get(st, "containers"), i, c) {
        pid_t pid = (pid_t)json_integer_value(json_object_get(c, "pid"));
        int64_t start = json_integer_value(json_object_get(c, "start"));

        if (pid > 0 && json_is_null(json_object_get(c, "exit_code")) &&
            taskdir_proc_alive(pid, start))
            kill(-pid, SIGKILL);
    }
    snprintf(reason, sizeof(reason), "Task outcome unknown: %s", why);
    if (json_object_get(st, "started_ms") == NULL)
        json_object_set(st, "started_ms", json_object_get(task, "created_ms"));
    json_object_set_new(st, "status", json_string("STOPPED"));
    json_object_set_new(st, "unknown", json_true());
    json_object_set_new(st, "stop_reason", json_string(reason));
    json_object_set_new(st, "stopped_ms", json_integer(clock_wall_ms()));
    if (taskdir_write_json(dir, TASKDIR_STATE, st) == 0)
        taskdir_index_remove(log_dir, TASKDIR_ACTIVE, NULL, id);
    return st;
}

static int is_stopped(const json_t *st)
{
    const char *status = json_string_value(json_object_get(st, "status"));

    return status != NULL && strcmp(status, "STOPPED") == 0;
}

/* The state of a claimed task, deciding it when its supervisor is gone. */
static json_t *current_state(const char *dir, const char *log_dir, const char *id,
                             const json_t *task, const char *claim)
{
    json_t *st = taskdir_read_json(dir, TASKDIR_STATE);
    int64_t start = -1;
    pid_t pid = claim_supervisor(claim, &start);
    int64_t now_start;
    char why[256];
    json_t *final;

    if (is_stopped(st))
        return st;
    if (pid > 0 && taskdir_proc_alive(pid, start))
        return st;
    /* it may have written its final state just before it exited */
    json_decref(st);
    st = taskdir_read_json(dir, TASKDIR_STATE);
    if (is_stopped(st))
        return st;
    now_start = taskdir_proc_start(pid);
    if (pid <= 0)
        snprintf(why, sizeof(why), "its supervisor's claim (%.100s) cannot be read", claim);
    else if (now_start >= 0)
        snprintf(why, sizeof(why),
                 "its supervisor (pid %ld) is gone, its pid now another process's, and it "
                 "recorded no exit codes",
                 (long)pid);
    else
        snprintf(why, sizeof(why),
                 "its supervisor (pid %ld) ended without recording how the containers exited",
                 (long)pid);
    final = finalize_unknown(dir, log_dir, id, task, st, why);
    json_decref(st);
    return final;
}

static int fill(const char *dir, const json_t *task, const json_t *st, struct launch_entry *out)
{
    const json_t *cs = json_object_get(task, "containers");
    const json_t *scs = json_object_get(st, "containers");
    int64_t started = json_integer_value(json_object_get(st, "started_ms"));
    int64_t stopped = json_integer_value(json_object_get(st, "stopped_ms"));
    int oom = 0;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (started <= 0)
        started = json_integer_value(json_object_get(task, "created_ms"));
    out->t.arn = dup_str(json_object_get(task, "arn"), &oom);
    out->started_by = dup_str(json_object_get(task, "started_by"), &oom);
    out->token = dup_str(json_object_get(task, "client_token"), &oom);
    out->run = dup_str(json_object_get(task, "run_token"), &oom);
    out->t.status = is_stopped(st) ? LAUNCH_STOPPED : LAUNCH_RUNNING;
    /* the same wall clock as the run's own times */
    out->t.started_ms = started;
    if (out->t.status == LAUNCH_STOPPED) {
        out->t.stopped_ms = stopped > started ? stopped : started;
        out->t.unknown = json_is_true(json_object_get(st, "unknown"));
        out->t.stop_reason = dup_str(json_object_get(st, "stop_reason"), &oom);
    } else {
        char reason[1024];

        /* stopping: StopTask's reason shows before the task has ended */
        if (taskdir_read_line(dir, TASKDIR_STOP, reason, sizeof(reason)) == 0 &&
            reason[0] != '\0') {
            out->t.stop_reason = strdup(reason);
            oom |= out->t.stop_reason == NULL;
        }
    }
    out->t.ncontainers = json_array_size(cs);
    out->t.containers = calloc(out->t.ncontainers + 1, sizeof(*out->t.containers));
    oom |= out->t.containers == NULL || out->t.arn == NULL;
    for (i = 0; !oom && i < out->t.ncontainers; i++) {
        const json_t *code = json_object_get(json_array_get(scs, i), "exit_code");

        out->t.containers[i].name = dup_str(json_object_get(json_array_get(cs, i), "name"), &oom);
        if (json_is_integer(code)) {
            out->t.containers[i].has_exit_code = 1;
            out->t.containers[i].exit_code = (int)json_integer_value(code);
        }
    }
    return oom ? ECS_ENOMEM : 0;
}

void taskdir_entry_clear(struct launch_entry *e)
{
    struct launch_result one = {NULL, 0, NULL, 0};
    struct launch_task *copy = malloc(sizeof(*copy));

    free(e->started_by);
    free(e->token);
    free(e->run);
    if (copy != NULL) {
        *copy = e->t;
        one.tasks = copy;
        one.ntasks = 1;
        launch_result_clear(&one);
    }
    memset(e, 0, sizeof(*e));
}

int taskdir_load(const char *log_dir, const char *id, struct launch_entry *out)
{
    char dir[PATH_MAX];
    char claim[256];
    json_t *task;
    json_t *st;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!taskdir_valid_id(id) ||
        snprintf(dir, sizeof(dir), "%s/%s", log_dir, id) >= (int)sizeof(dir))
        return TASKDIR_NONE;
    task = taskdir_read_json(dir, TASKDIR_TASK);
    if (task == NULL || !json_is_string(json_object_get(task, "arn"))) {
        json_decref(task);
        return TASKDIR_NONE;
    }
    if (taskdir_read_line(dir, TASKDIR_CLAIM, claim, sizeof(claim)) != 0) {
        /* recorded, never claimed: its launcher died before the supervisor
         * began; take the claim so that the task certainly never starts */
        char text[64];

        snprintf(text, sizeof(text), "cancelled %lld\n", (long long)clock_wall_ms());
        if (taskdir_claim(dir, text) == 1) {
            taskdir_index_remove(log_dir, TASKDIR_ACTIVE, NULL, id);
            json_decref(task);
            return TASKDIR_CANCELLED;
        }
        if (taskdir_read_line(dir, TASKDIR_CLAIM, claim, sizeof(claim)) != 0) {
            json_decref(task);
            return TASKDIR_NONE;
        }
    }
    if (strncmp(claim, "cancelled", 9) == 0) {
        json_decref(task);
        return TASKDIR_CANCELLED;
    }
    st = current_state(dir, log_dir, id, task, claim);
    rc = fill(dir, task, st, out);
    json_decref(st);
    json_decref(task);
    if (rc != 0) {
        taskdir_entry_clear(out);
        return rc;
    }
    return TASKDIR_LOADED;
}
