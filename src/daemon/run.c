/* run.c - building and updating a run's record. Status rules: a run is
 * pending until one of its tasks runs, running while any task has not
 * stopped, and then succeeded only if every container of every task
 * exited 0 and nothing failed to start; a container stopped without an
 * exit code (never started, killed by ECS) counts as a failure. A task
 * whose ending cannot be known (its launcher lost it) makes the run
 * `unknown` unless something else failed: never `failed` on a guess. */
#include "daemon/run.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/isotime.h"

static json_t *instant_ms(int64_t ms)
{
    char text[64];
    char out[72];
    char *plus;

    isotime_format(ms / 1000, 0, text, sizeof(text));
    plus = strrchr(text, '+');
    if (plus == NULL)
        return json_string(text);
    /* a launch time to the millisecond: lateness is the point */
    snprintf(out, sizeof(out), "%.*s.%03d%s", (int)(plus - text), text, (int)(ms % 1000), plus);
    return json_string(out);
}

static json_t *instant(int64_t sec)
{
    char text[64];

    isotime_format(sec, 0, text, sizeof(text));
    return json_string(text);
}

json_t *run_new(const char *job_id, const char *reason, int64_t scheduled, const char *requested_by)
{
    json_t *run =
        json_pack("{s:s, s:s, s:o, s:s, s:[], s:[]}", "job", job_id, "reason", reason, "scheduled",
                  instant(scheduled), "status", "pending", "tasks", "failures");

    if (run != NULL && requested_by != NULL &&
        json_object_set_new(run, "requestedBy", json_string(requested_by)) != 0) {
        json_decref(run);
        return NULL;
    }
    return run;
}

int run_set_launched(json_t *run, int64_t now_ms)
{
    return json_object_set_new(run, "launched", instant_ms(now_ms)) == 0 ? 0 : ECS_ENOMEM;
}

static const char *status_name(enum launch_status s)
{
    if (s == LAUNCH_RUNNING)
        return "RUNNING";
    if (s == LAUNCH_STOPPED)
        return "STOPPED";
    return "PENDING";
}

/* The task's record: taskArn, hostId, lastStatus, and once known the
 * containers' exit codes, stop reason and times. */
static json_t *task_json(const struct launch_task *t)
{
    json_t *o = json_pack("{s:s, s:s, s:[]}", "taskArn", t->arn, "lastStatus",
                          status_name(t->status), "containers");
    size_t i;
    int bad = o == NULL;

    if (!bad && t->host != NULL)
        bad = json_object_set_new(o, "hostId", json_string(t->host)) != 0;
    if (!bad && t->stop_reason != NULL)
        bad = json_object_set_new(o, "stopReason", json_string(t->stop_reason)) != 0;
    if (!bad && t->started_ms > 0)
        bad = json_object_set_new(o, "startedAt", instant_ms(t->started_ms)) != 0;
    if (!bad && t->stopped_ms > 0)
        bad = json_object_set_new(o, "stoppedAt", instant_ms(t->stopped_ms)) != 0;
    if (!bad && t->unknown)
        bad = json_object_set_new(o, "outcomeUnknown", json_true()) != 0;
    for (i = 0; !bad && i < t->ncontainers; i++) {
        json_t *c = json_pack("{s:s}", "name", t->containers[i].name);

        if (c != NULL && t->containers[i].has_exit_code)
            json_object_set_new(c, "exitCode", json_integer(t->containers[i].exit_code));
        bad = c == NULL || json_array_append_new(json_object_get(o, "containers"), c) != 0;
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Status from the tasks, unless the run already ended without any. */
static void refresh_status(json_t *run, int64_t now_ms)
{
    const json_t *tasks = json_object_get(run, "tasks");
    const char *old = run_status(run);
    const json_t *t;
    size_t i;
    size_t open = 0;
    size_t running = 0;
    int unknown = 0;
    int failed = json_array_size(json_object_get(run, "failures")) > 0;
    const char *status;

    if (strcmp(old, "skipped") == 0 || json_array_size(tasks) == 0) {
        if (failed && strcmp(old, "pending") == 0 && json_object_get(run, "launched") != NULL)
            json_object_set_new(run, "status", json_string("failed"));
        return;
    }
    json_array_foreach(tasks, i, t) {
        const char *last = json_string_value(json_object_get(t, "lastStatus"));
        const json_t *c;
        size_t k;

        if (last == NULL || strcmp(last, "STOPPED") != 0) {
            open++;
            if (last != NULL && strcmp(last, "RUNNING") == 0)
                running++;
            continue;
        }
        if (json_is_true(json_object_get(t, "outcomeUnknown"))) {
            unknown = 1;
            continue;
        }
        if (json_array_size(json_object_get(t, "containers")) == 0)
            failed = 1;
        json_array_foreach(json_object_get(t, "containers"), k, c) {
            const json_t *code = json_object_get(c, "exitCode");

            if (!json_is_integer(code) || json_integer_value(code) != 0)
                failed = 1;
        }
    }
    if (open > 0)
        status = running > 0 ? "running" : "pending";
    else if (failed)
        status = "failed";
    else
        status = unknown ? "unknown" : "succeeded";
    if (strcmp(old, status) != 0)
        json_object_set_new(run, "status", json_string(status));
    if (open == 0 && json_object_get(run, "finished") == NULL) {
        json_object_set_new(run, "finished", instant_ms(now_ms));
        if (json_is_string(json_object_get(run, "launched"))) {
            struct isotime it;
            char msg[128];

            if (isotime_parse(json_string_value(json_object_get(run, "launched")), &it, msg,
                              sizeof(msg)) == 0) {
                double began = (double)isotime_instant(&it, NULL) + it.usec / 1e6;

                json_object_set_new(
                    run, "durationSeconds",
                    json_real((double)((int64_t)((now_ms / 1000.0 - began) * 1000)) / 1000.0));
            }
        }
    }
}

/* Whether the run names task arn already. */
static int has_task(const json_t *tasks, const char *arn)
{
    const json_t *t;
    size_t i;

    json_array_foreach(tasks, i, t) {
        const char *have = json_string_value(json_object_get(t, "taskArn"));

        if (have != NULL && strcmp(have, arn) == 0)
            return 1;
    }
    return 0;
}

int run_add_launch(json_t *run, const struct launch_result *res)
{
    json_t *tasks = json_object_get(run, "tasks");
    json_t *failures = json_object_get(run, "failures");
    size_t i;

    for (i = 0; i < res->ntasks; i++) {
        /* a launch retried with its client token answers tasks it has */
        if (has_task(tasks, res->tasks[i].arn))
            continue;
        if (json_array_append_new(tasks, task_json(&res->tasks[i])) != 0)
            return ECS_ENOMEM;
    }
    for (i = 0; i < res->nfailures; i++) {
        if (json_array_append_new(failures,
                                  json_pack("{s:s}", "reason", res->failures[i].reason)) != 0)
            return ECS_ENOMEM;
    }
    return 0;
}

int run_finish(json_t *run, const char *status, const char *message, int64_t now_ms)
{
    if (json_object_set_new(run, "status", json_string(status)) != 0)
        return ECS_ENOMEM;
    if (message != NULL && message[0] != '\0' &&
        json_object_set_new(run, "message", json_string(message)) != 0)
        return ECS_ENOMEM;
    if (json_object_set_new(run, "finished", instant_ms(now_ms)) != 0)
        return ECS_ENOMEM;
    return 0;
}

int run_apply_describe(json_t *run, const struct launch_result *d, int64_t now_ms)
{
    json_t *tasks = json_object_get(run, "tasks");
    bool had_finished = json_object_get(run, "finished") != NULL;
    char old[32];
    json_t *t;
    size_t i;
    size_t k;
    int changed = 0;

    /* what changed is judged task by task and on the status: a copy of
     * the whole run to compare was most of a tracker round's cost */
    snprintf(old, sizeof(old), "%s", run_status(run));
    json_array_foreach(tasks, i, t) {
        const char *arn = json_string_value(json_object_get(t, "taskArn"));

        for (k = 0; arn != NULL && k < d->ntasks; k++) {
            json_t *now;

            if (strcmp(d->tasks[k].arn, arn) != 0)
                continue;
            now = task_json(&d->tasks[k]);
            if (now == NULL)
                return ECS_ENOMEM;
            if (json_equal(now, t)) {
                json_decref(now);
            } else {
                json_array_set_new(tasks, i, now);
                changed = 1;
            }
            break;
        }
    }
    refresh_status(run, now_ms);
    if (strcmp(old, run_status(run)) != 0)
        changed = 1;
    if (!had_finished && json_object_get(run, "finished") != NULL)
        changed = 1;
    return changed;
}

void run_refresh(json_t *run, int64_t now_ms)
{
    refresh_status(run, now_ms);
}

int run_mark_lost(json_t *run, const char *arn, int64_t now_ms)
{
    json_t *t;
    size_t i;

    json_array_foreach(json_object_get(run, "tasks"), i, t) {
        const char *last = json_string_value(json_object_get(t, "lastStatus"));

        if (strcmp(json_string_value(json_object_get(t, "taskArn")) != NULL
                       ? json_string_value(json_object_get(t, "taskArn"))
                       : "",
                   arn) != 0 ||
            (last != NULL && strcmp(last, "STOPPED") == 0))
            continue;
        json_object_set_new(t, "lastStatus", json_string("STOPPED"));
        json_object_set_new(t, "outcomeUnknown", json_true());
        json_object_set_new(t, "stopReason",
                            json_string("the launcher no longer knows this task (it restarted, "
                                        "or the task stopped long ago); its outcome is unknown"));
        refresh_status(run, now_ms);
        return 1;
    }
    return 0;
}

int run_status_final(const char *status)
{
    return strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
           strcmp(status, "unknown") == 0;
}

const char *run_status(const json_t *run)
{
    const char *s = json_string_value(json_object_get(run, "status"));

    return s != NULL ? s : "pending";
}

int run_open_tasks(const json_t *run, const char ***arns, size_t *n)
{
    const json_t *tasks = json_object_get(run, "tasks");
    const json_t *t;
    size_t i;

    *n = 0;
    *arns = calloc(json_array_size(tasks) + 1, sizeof(**arns));
    if (*arns == NULL)
        return ECS_ENOMEM;
    json_array_foreach(tasks, i, t) {
        const char *last = json_string_value(json_object_get(t, "lastStatus"));

        if (last == NULL || strcmp(last, "STOPPED") != 0)
            (*arns)[(*n)++] = json_string_value(json_object_get(t, "taskArn"));
    }
    return 0;
}

json_t *run_to_api(const json_t *run, int64_t id)
{
    json_t *api = json_deep_copy(run);
    const char *job = json_string_value(json_object_get(run, "job"));
    char href[320];
    char title[320];

    if (api == NULL || job == NULL) {
        json_decref(api);
        return NULL;
    }
    snprintf(href, sizeof(href), "/jobs/%s/runs/%lld", job, (long long)id);
    snprintf(title, sizeof(title), "Run %lld of %s", (long long)id, job);
    if (json_object_set_new(api, "id", json_integer(id)) != 0 ||
        json_object_set_new(
            api, "link",
            json_pack("{s:s, s:s, s:s}", "rel", "item", "title", title, "href", href)) != 0) {
        json_decref(api);
        return NULL;
    }
    return api;
}

json_t *run_task_list(const json_t *run)
{
    json_t *out = json_array();
    const json_t *t;
    size_t i;

    if (out == NULL)
        return NULL;
    json_array_foreach(json_object_get(run, "tasks"), i, t) {
        json_t *item = json_pack("{s:O}", "taskId", json_object_get(t, "taskArn"));

        if (item != NULL && json_object_get(t, "hostId") != NULL)
            json_object_set(item, "hostId", json_object_get(t, "hostId"));
        if (item == NULL || json_array_append_new(out, item) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}
