/* ecs.c - the Amazon ECS launcher: RunTask, ListTasks, DescribeTasks and
 * StopTask over the JSON 1.1 API (src/aws/client.c signs and retries).
 * A job's "launch" settings override the daemon's defaults key by key;
 * every task is tagged ecsched:job so it can be found by job, and
 * ecsched:run=<run token> so that a firing's tasks can be found by any
 * later process (find_run) without trusting clientToken alone. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/client.h"
#include "backends.h"
#include "core/clock.h"
#include "core/error.h"

#define CALL_DEADLINE_MS 30000
#define CLUSTER_DEFAULT "default"
#define TAG_JOB "ecsched:job"
#define TAG_RUN "ecsched:run"
/* ECS's limits (API reference, Tag): 50 tags a resource, values of at
 * most 256 characters */
#define TAGS_MAX 50
#define TAG_VALUE_MAX 256
/* DescribeTasks takes at most 100 tasks a call */
#define DESCRIBE_MAX 100

struct ecs {
    struct aws_client *client;
    json_t *defaults;
};

static int64_t deadline(void)
{
    return clock_wall_ms() + CALL_DEADLINE_MS;
}

static int ecs_open(const struct launcher_config *cfg, void **impl, char *msg, size_t msglen)
{
    struct ecs *e = calloc(1, sizeof(*e));
    int rc;

    if (e == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    rc = aws_client_init("ecs", "AmazonEC2ContainerServiceV20141113", "1.1",
                         cfg != NULL ? cfg->log : NULL, &e->client, msg, msglen);
    if (rc != 0) {
        free(e);
        return rc;
    }
    e->defaults =
        cfg != NULL && cfg->defaults != NULL ? json_deep_copy(cfg->defaults) : json_object();
    *impl = e;
    return 0;
}

static void ecs_close(void *impl)
{
    struct ecs *e = impl;

    aws_client_free(&e->client);
    json_decref(e->defaults);
    free(e);
}

/* The job's settings over the daemon's: a new object. */
static json_t *settings(const struct ecs *e, const json_t *job)
{
    json_t *s = json_deep_copy(e->defaults);

    if (s != NULL && json_is_object(job))
        json_object_update(s, (json_t *)job);
    if (s != NULL && json_object_get(s, "cluster") == NULL)
        json_object_set_new(s, "cluster", json_string(CLUSTER_DEFAULT));
    /* a job choosing capacity providers drops the daemon's launch type */
    if (s != NULL && json_object_get(job, "capacityProviderStrategy") != NULL)
        json_object_del(s, "launchType");
    return s;
}

/* The job's overrides in RunTask's shape. */
static json_t *container_overrides(const json_t *overrides)
{
    json_t *list = json_array();
    const json_t *o;
    size_t i;

    json_array_foreach(overrides, i, o) {
        json_t *c = json_pack("{s:O}", "name", json_object_get(o, "containerName"));
        json_t *env = json_array();
        const char *k;
        const json_t *v;

        json_object_foreach((json_t *)json_object_get(o, "environment"), k, v) {
            json_array_append_new(env, json_pack("{s:s, s:O}", "name", k, "value", v));
        }
        json_object_set_new(c, "environment", env);
        if (json_object_get(o, "command") != NULL)
            json_object_set(c, "command", json_object_get(o, "command"));
        if (json_object_get(o, "cpu") != NULL)
            json_object_set(c, "cpu", json_object_get(o, "cpu"));
        if (json_object_get(o, "memory") != NULL)
            json_object_set(c, "memory", json_object_get(o, "memory"));
        json_array_append_new(list, c);
    }
    return list;
}

static enum launch_status status_of(const char *s)
{
    if (s == NULL)
        return LAUNCH_PENDING;
    if (strcmp(s, "STOPPED") == 0 || strcmp(s, "DELETED") == 0)
        return LAUNCH_STOPPED;
    if (strcmp(s, "RUNNING") == 0 || strcmp(s, "DEACTIVATING") == 0 || strcmp(s, "STOPPING") == 0 ||
        strcmp(s, "DEPROVISIONING") == 0)
        return LAUNCH_RUNNING;
    return LAUNCH_PENDING;
}

/* ECS's times are seconds since the epoch, with a fraction: ms. */
static int64_t epoch_ms_of(const json_t *j)
{
    return json_is_number(j) ? (int64_t)(json_number_value(j) * 1000.0) : 0;
}

/* ECS's task objects and failures into a launch_result. */
static int collect(const json_t *reply, struct launch_result *out)
{
    const json_t *t;
    const json_t *f;
    size_t i;

    json_array_foreach(json_object_get(reply, "tasks"), i, t) {
        struct launch_task task;
        const json_t *c;
        size_t k;
        int rc;

        memset(&task, 0, sizeof(task));
        task.arn = (char *)json_string_value(json_object_get(t, "taskArn"));
        task.host = (char *)json_string_value(json_object_get(t, "containerInstanceArn"));
        task.status = status_of(json_string_value(json_object_get(t, "lastStatus")));
        task.stop_reason = (char *)json_string_value(json_object_get(t, "stoppedReason"));
        task.started_ms = epoch_ms_of(json_object_get(t, "startedAt"));
        task.stopped_ms = epoch_ms_of(json_object_get(t, "stoppedAt"));
        task.ncontainers = json_array_size(json_object_get(t, "containers"));
        task.containers = calloc(task.ncontainers + 1, sizeof(*task.containers));
        if (task.arn == NULL || task.containers == NULL) {
            free(task.containers);
            continue;
        }
        json_array_foreach(json_object_get(t, "containers"), k, c) {
            const json_t *code = json_object_get(c, "exitCode");

            task.containers[k].name = (char *)json_string_value(json_object_get(c, "name"));
            if (task.containers[k].name == NULL)
                task.containers[k].name = "";
            task.containers[k].has_exit_code = json_is_integer(code);
            task.containers[k].exit_code = (int)json_integer_value(code);
        }
        rc = launch_result_add(out, &task);
        free(task.containers);
        if (rc != 0)
            return rc;
    }
    json_array_foreach(json_object_get(reply, "failures"), i, f) {
        char text[512];
        const char *reason = json_string_value(json_object_get(f, "reason"));
        const char *arn = json_string_value(json_object_get(f, "arn"));
        const char *detail = json_string_value(json_object_get(f, "detail"));

        snprintf(text, sizeof(text), "%s%s%s", reason != NULL ? reason : "UNKNOWN",
                 arn != NULL || detail != NULL ? ": " : "",
                 detail != NULL ? detail : (arn != NULL ? arn : ""));
        if (launch_result_fail(out, text) != 0)
            return ECS_ENOMEM;
    }
    return 0;
}

/* Add env ({"NAME": "value"}) to every container of the task definition:
 * ECS overrides name their container, so ask ECS which there are. */
static int add_everywhere(struct ecs *e, const struct launch_request *rq, json_t *list, char *msg,
                          size_t msglen)
{
    json_t *body = json_pack("{s:s}", "taskDefinition", rq->family);
    json_t *reply = NULL;
    const json_t *cdef;
    size_t i;
    int rc;

    rc = aws_call(e->client, "DescribeTaskDefinition", body, &reply,
                  rq->deadline_ms != 0 ? rq->deadline_ms : deadline(), msg, msglen);
    json_decref(body);
    if (rc != 0)
        return rc;
    json_array_foreach(
        json_object_get(json_object_get(reply, "taskDefinition"), "containerDefinitions"), i,
        cdef) {
        const json_t *name = json_object_get(cdef, "name");
        json_t *target = NULL;
        const json_t *c;
        size_t k;
        const char *key;
        const json_t *value;

        json_array_foreach(list, k, c) {
            if (json_equal(json_object_get(c, "name"), name))
                target = (json_t *)c;
        }
        if (target == NULL) {
            target = json_pack("{s:O, s:[]}", "name", name, "environment");
            json_array_append_new(list, target);
        }
        json_object_foreach((json_t *)rq->environment, key, value) {
            json_array_append_new(json_object_get(target, "environment"),
                                  json_pack("{s:s, s:O}", "name", key, "value", value));
        }
    }
    json_decref(reply);
    return 0;
}

/* Characters of UTF-8 text, as ECS counts a tag's length. */
static size_t utf8_chars(const char *text)
{
    size_t n = 0;

    for (; *text != '\0'; text++) {
        if (((unsigned char)*text & 0xC0) != 0x80)
            n++;
    }
    return n;
}

/* Whether a tag (a {"key", "value"} object) is one ecsched sets itself. */
static bool ours(const json_t *tag)
{
    const char *key = json_string_value(json_object_get(tag, "key"));

    return key != NULL && (strcmp(key, TAG_JOB) == 0 || strcmp(key, TAG_RUN) == 0);
}

/* RunTask's tags: the job's own, then ecsched:job and ecsched:run. Ours
 * replace a job's tag of the same key, since ECS refuses a key twice and
 * find_run() and the operators' searches must be able to trust them. ECS
 * refuses more than 50 tags a task, so a job whose own tags leave no room
 * fails here, saying so, rather than on every RunTask. 0 or ECS_EINVAL,
 * ECS_ENOMEM. */
static int run_tags(const json_t *own, const struct launch_request *rq, json_t **out, char *msg,
                    size_t msglen)
{
    const char *job = rq->job_id != NULL ? rq->job_id : "";
    json_t *tags = json_array();
    const json_t *tag;
    size_t i;
    size_t mine = rq->run_token != NULL ? 2 : 1;

    *out = NULL;
    if (tags == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory building RunTask's tags");
    json_array_foreach(own, i, tag) {
        if (!ours(tag))
            json_array_append(tags, (json_t *)tag);
    }
    if (json_array_size(tags) + mine > TAGS_MAX) {
        size_t n = json_array_size(tags);

        json_decref(tags);
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "launch.tags: %zu tags and ecsched's %zu (%s, %s) are over ECS's %d a task",
                        n, mine, TAG_JOB, TAG_RUN, TAGS_MAX);
    }
    if (utf8_chars(job) > TAG_VALUE_MAX ||
        (rq->run_token != NULL && utf8_chars(rq->run_token) > TAG_VALUE_MAX)) {
        json_decref(tags);
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "the job id or run token is over ECS's %d characters a tag value",
                        TAG_VALUE_MAX);
    }
    json_array_append_new(tags, json_pack("{s:s, s:s}", "key", TAG_JOB, "value", job));
    if (rq->run_token != NULL)
        json_array_append_new(tags,
                              json_pack("{s:s, s:s}", "key", TAG_RUN, "value", rq->run_token));
    *out = tags;
    return 0;
}

static int ecs_run(void *impl, const struct launch_request *rq, struct launch_result *out,
                   char *msg, size_t msglen)
{
    struct ecs *e = impl;
    json_t *s = settings(e, rq->settings);
    json_t *tags = NULL;
    json_t *body;
    json_t *reply = NULL;
    int rc;

    rc = run_tags(json_object_get(s, "tags"), rq, &tags, msg, msglen);
    if (rc != 0) {
        json_decref(s);
        return rc;
    }
    json_object_del(s, "tags");
    body = json_pack("{s:s, s:i, s:o}", "taskDefinition", rq->family, "count", rq->count, "tags",
                     tags);
    json_object_update(body, s);
    if (rq->started_by != NULL)
        json_object_set_new(body, "startedBy", json_string(rq->started_by));
    if (rq->client_token != NULL)
        json_object_set_new(body, "clientToken", json_string(rq->client_token));
    if (json_array_size(rq->overrides) > 0 || json_object_size(rq->environment) > 0) {
        json_t *list = container_overrides(rq->overrides);

        rc = json_object_size(rq->environment) > 0 ? add_everywhere(e, rq, list, msg, msglen) : 0;
        if (rc != 0) {
            json_decref(list);
            json_decref(body);
            json_decref(s);
            return rc;
        }
        json_object_set_new(body, "overrides", json_pack("{s:o}", "containerOverrides", list));
    }
    rc = aws_call(e->client, "RunTask", body, &reply,
                  rq->deadline_ms != 0 ? rq->deadline_ms : deadline(), msg, msglen);
    if (rc == 0)
        rc = collect(reply, out);
    json_decref(reply);
    json_decref(body);
    json_decref(s);
    return rc;
}

/* Append to *arns (*n of them) every ARN ListTasks answers body with,
 * page by page; body gains the nextToken of each page. 0 or an error; on
 * error *arns keeps what was listed so far, for the caller to free. */
static int list_pages(struct ecs *e, json_t *body, char ***arns, size_t *n, char *msg,
                      size_t msglen)
{
    int rc = 0;

    for (;;) {
        json_t *reply = NULL;
        const json_t *a;
        size_t i;
        const char *next;

        rc = aws_call(e->client, "ListTasks", body, &reply, deadline(), msg, msglen);
        if (rc != 0)
            return rc;
        json_array_foreach(json_object_get(reply, "taskArns"), i, a) {
            char **grown = realloc(*arns, (*n + 1) * sizeof(**arns));

            if (grown == NULL) {
                rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory listing tasks");
                break;
            }
            *arns = grown;
            (*arns)[*n] = strdup(json_string_value(a) != NULL ? json_string_value(a) : "");
            if ((*arns)[*n] == NULL) {
                rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory listing tasks");
                break;
            }
            (*n)++;
        }
        next = json_string_value(json_object_get(reply, "nextToken"));
        if (rc != 0 || next == NULL) {
            json_decref(reply);
            return rc;
        }
        json_object_set_new(body, "nextToken", json_string(next));
        json_decref(reply);
    }
}

static int ecs_list(void *impl, const char *started_by, const json_t *job_settings, char ***arns,
                    size_t *n, char *msg, size_t msglen)
{
    struct ecs *e = impl;
    json_t *s = settings(e, job_settings);
    json_t *body =
        json_pack("{s:O, s:s, s:s, s:i}", "cluster", json_object_get(s, "cluster"), "startedBy",
                  started_by, "desiredStatus", "RUNNING", "maxResults", 100);
    int rc = list_pages(e, body, arns, n, msg, msglen);

    json_decref(body);
    json_decref(s);
    if (rc != 0)
        launch_strings_free(arns, *n);
    return rc;
}

/* The cluster of a task ARN arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID,
 * else the default. */
static void cluster_of(const struct ecs *e, const char *arn, char *out, size_t len)
{
    const char *task = strstr(arn, ":task/");
    const char *slash = task != NULL ? strchr(task + 6, '/') : NULL;
    const char *dflt = json_string_value(json_object_get(e->defaults, "cluster"));

    if (slash != NULL)
        snprintf(out, len, "%.*s", (int)(slash - (task + 6)), task + 6);
    else
        snprintf(out, len, "%s", dflt != NULL ? dflt : CLUSTER_DEFAULT);
}

static int ecs_describe(void *impl, const char *const *arns, size_t n, struct launch_result *out,
                        char *msg, size_t msglen)
{
    struct ecs *e = impl;
    size_t i;
    int rc = 0;

    /* one call per cluster (the caller sends at most 100 ARNs) */
    for (i = 0; i < n && rc == 0; i++) {
        char cluster[256];
        json_t *list = json_array();
        json_t *body;
        json_t *reply = NULL;
        size_t k;
        bool first = true;

        cluster_of(e, arns[i], cluster, sizeof(cluster));
        for (k = 0; k < i; k++) {
            char other[256];

            cluster_of(e, arns[k], other, sizeof(other));
            if (strcmp(other, cluster) == 0)
                first = false;
        }
        if (!first) {
            json_decref(list);
            continue;
        }
        for (k = i; k < n; k++) {
            char other[256];

            cluster_of(e, arns[k], other, sizeof(other));
            if (strcmp(other, cluster) == 0)
                json_array_append_new(list, json_string(arns[k]));
        }
        body = json_pack("{s:s, s:o}", "cluster", cluster, "tasks", list);
        rc = aws_call(e->client, "DescribeTasks", body, &reply, deadline(), msg, msglen);
        if (rc == 0)
            rc = collect(reply, out);
        json_decref(reply);
        json_decref(body);
    }
    return rc;
}

static int ecs_stop(void *impl, const char *arn, const char *reason, char *msg, size_t msglen)
{
    struct ecs *e = impl;
    char cluster[256];
    json_t *body;
    json_t *reply = NULL;
    int rc;

    cluster_of(e, arn, cluster, sizeof(cluster));
    body = json_pack("{s:s, s:s, s:s}", "cluster", cluster, "task", arn, "reason",
                     reason != NULL ? reason : "stopped by ecsched");
    rc = aws_call(e->client, "StopTask", body, &reply, deadline(), msg, msglen);
    json_decref(reply);
    json_decref(body);
    return rc;
}

/* Whether an ECS task object carries the tag ecsched:run=run_token. */
static bool of_run(const json_t *task, const char *run_token)
{
    const json_t *tag;
    size_t i;

    json_array_foreach(json_object_get(task, "tags"), i, tag) {
        const char *key = json_string_value(json_object_get(tag, "key"));
        const char *value = json_string_value(json_object_get(tag, "value"));

        if (key != NULL && value != NULL && strcmp(key, TAG_RUN) == 0 &&
            strcmp(value, run_token) == 0)
            return true;
    }
    return false;
}

/* Whether arns[0..n) holds arn already. */
static bool listed(char *const *arns, size_t n, const char *arn)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(arns[i], arn) == 0)
            return true;
    }
    return false;
}

/* Describe arns (at most DESCRIBE_MAX) with their tags and add to out the
 * tasks tagged for run_token. Tasks ECS no longer knows (failures) are
 * not the run's, so they are left out. */
static int describe_run(struct ecs *e, const json_t *cluster, char *const *arns, size_t n,
                        const char *run_token, struct launch_result *out, char *msg, size_t msglen)
{
    json_t *list = json_array();
    json_t *body;
    json_t *reply = NULL;
    json_t *mine = json_array();
    const json_t *t;
    size_t i;
    int rc;

    for (i = 0; i < n; i++)
        json_array_append_new(list, json_string(arns[i]));
    body = json_pack("{s:O, s:o, s:[s]}", "cluster", cluster, "tasks", list, "include", "TAGS");
    if (body == NULL || mine == NULL) {
        json_decref(body);
        json_decref(mine);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory describing a run's tasks");
    }
    rc = aws_call(e->client, "DescribeTasks", body, &reply, deadline(), msg, msglen);
    json_decref(body);
    if (rc != 0) {
        json_decref(mine);
        return rc;
    }
    json_array_foreach(json_object_get(reply, "tasks"), i, t) {
        if (of_run(t, run_token))
            json_array_append(mine, (json_t *)t);
    }
    json_decref(reply);
    reply = json_pack("{s:o}", "tasks", mine);
    rc = reply != NULL ? collect(reply, out) : ECS_ENOMEM;
    json_decref(reply);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "out of memory reading a run's tasks");
    return 0;
}

/* A run's tasks are those of its startedBy tagged ecsched:run=run_token:
 * RunTask's clientToken alone cannot be trusted to find them (it lasts
 * hours, not forever, and emulators ignore it). ListTasks filters by
 * startedBy and desiredStatus, one status a call (its default is RUNNING
 * only), so RUNNING is listed first, then STOPPED: a task that stops in
 * between is in one list or both, never in neither. The API reference
 * says startedBy must be the only filter; desiredStatus is taken beside
 * it (list_active has always sent both), or stopped tasks could not be
 * listed by startedBy at all. */
static int ecs_find_run(void *impl, const char *started_by, const char *run_token,
                        const json_t *job_settings, struct launch_result *out, char *msg,
                        size_t msglen)
{
    static const char *const statuses[] = {"RUNNING", "STOPPED"};
    struct ecs *e = impl;
    json_t *s;
    char **arns = NULL;
    char **unique = NULL;
    size_t n = 0;
    size_t nunique = 0;
    size_t i;
    int rc = 0;

    if (run_token == NULL)
        return 0;
    s = settings(e, job_settings);
    if (s == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory finding a run's tasks");
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]) && rc == 0; i++) {
        json_t *body = json_pack("{s:O, s:s, s:i}", "cluster", json_object_get(s, "cluster"),
                                 "desiredStatus", statuses[i], "maxResults", 100);

        if (body != NULL && started_by != NULL)
            json_object_set_new(body, "startedBy", json_string(started_by));
        rc = body != NULL ? list_pages(e, body, &arns, &n, msg, msglen)
                          : ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory listing tasks");
        json_decref(body);
    }
    /* a task that stopped between the two listings is in both */
    if (rc == 0 && n > 0) {
        unique = malloc(n * sizeof(*unique));
        if (unique == NULL)
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory finding a run's tasks");
    }
    for (i = 0; rc == 0 && i < n; i++) {
        if (!listed(unique, nunique, arns[i]))
            unique[nunique++] = arns[i];
    }
    for (i = 0; rc == 0 && i < nunique; i += DESCRIBE_MAX) {
        size_t chunk = nunique - i < DESCRIBE_MAX ? nunique - i : DESCRIBE_MAX;

        rc = describe_run(e, json_object_get(s, "cluster"), unique + i, chunk, run_token, out, msg,
                          msglen);
    }
    free(unique);
    launch_strings_free(&arns, n);
    json_decref(s);
    if (rc != 0)
        launch_result_clear(out);
    return rc;
}

static void ecs_cancel(void *impl, int64_t deadline_ms)
{
    struct ecs *e = impl;

    aws_client_cancel(e->client, deadline_ms);
}

const struct launcher_ops launcher_ecs = {
    .name = "ecs",
    .open = ecs_open,
    .close = ecs_close,
    .run_task = ecs_run,
    .list_active = ecs_list,
    .describe = ecs_describe,
    .stop_task = ecs_stop,
    .find_run = ecs_find_run,
    .cancel = ecs_cancel,
};
