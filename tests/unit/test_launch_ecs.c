/* test_launch_ecs.c - the ECS launcher against a fake ECS endpoint served
 * in-process (libmicrohttpd): RunTask's tags, and find_run's paging,
 * both desired statuses, chunks of 100 for DescribeTasks and the tag
 * filter. moto does not page ListTasks nor cap DescribeTasks, so these are
 * checked here; tests/integration/test_ecs_moto.py checks the same calls
 * against moto. */
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "harness.h"
#include "launch/launcher.h"

#define NTASKS 140
#define PAGE 40

struct fake_task {
    char arn[96];
    const char *started_by;
    const char *run;     /* its ecsched:run tag, or NULL */
    const char *desired; /* "RUNNING" or "STOPPED" */
};

/* The endpoint's tasks and what it was asked, under lock. */
static struct {
    pthread_mutex_t lock;
    struct fake_task tasks[NTASKS];
    int list_calls;
    int describe_calls;
    int describe_over_100;
    int describe_without_tags;
    json_t *last_run_task; /* RunTask's last body */
} ecs = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct upload {
    char *data;
    size_t len;
};

static json_t *error_reply(const char *type, const char *message, unsigned *status)
{
    *status = 400;
    return json_pack("{s:s, s:s}", "__type", type, "message", message);
}

/* ListTasks: filtered by cluster, startedBy and desiredStatus, PAGE a page
 * whatever maxResults says (ECS may return fewer too). Also lists the
 * first task, RUNNING, under STOPPED, as if it had stopped between two
 * listings. */
static json_t *list_tasks(const json_t *rq, unsigned *status)
{
    const char *by = json_string_value(json_object_get(rq, "startedBy"));
    const char *desired = json_string_value(json_object_get(rq, "desiredStatus"));
    const char *token = json_string_value(json_object_get(rq, "nextToken"));
    int from = token != NULL ? atoi(token) : 0;
    json_t *arns = json_array();
    json_t *reply = json_object();
    int seen = 0;
    int i;

    if (strcmp(json_string_value(json_object_get(rq, "cluster")), "main") != 0) {
        json_decref(arns);
        json_decref(reply);
        return error_reply("ClusterNotFoundException", "Cluster not found.", status);
    }
    ecs.list_calls++;
    for (i = 0; i < NTASKS; i++) {
        const struct fake_task *t = &ecs.tasks[i];
        int match = (by == NULL || strcmp(by, t->started_by) == 0) &&
                    (strcmp(desired != NULL ? desired : "RUNNING", t->desired) == 0 ||
                     (i == 0 && desired != NULL && strcmp(desired, "STOPPED") == 0));

        if (!match)
            continue;
        if (seen >= from && seen < from + PAGE)
            json_array_append_new(arns, json_string(t->arn));
        seen++;
    }
    json_object_set_new(reply, "taskArns", arns);
    if (seen > from + PAGE) {
        char next[16];

        snprintf(next, sizeof(next), "%d", from + PAGE);
        json_object_set_new(reply, "nextToken", json_string(next));
    }
    return reply;
}

static json_t *describe_tasks(const json_t *rq, unsigned *status)
{
    const json_t *names = json_object_get(rq, "tasks");
    const json_t *include = json_object_get(rq, "include");
    int tags = json_array_size(include) == 1 &&
               strcmp(json_string_value(json_array_get(include, 0)), "TAGS") == 0;
    json_t *tasks = json_array();
    json_t *failures = json_array();
    const json_t *name;
    size_t k;

    ecs.describe_calls++;
    if (json_array_size(names) > 100) {
        ecs.describe_over_100++;
        json_decref(tasks);
        json_decref(failures);
        return error_reply("InvalidParameterException", "Tasks cannot be more than 100.", status);
    }
    if (!tags)
        ecs.describe_without_tags++;
    json_array_foreach(names, k, name) {
        const struct fake_task *t = NULL;
        json_t *task;
        int i;

        for (i = 0; i < NTASKS && t == NULL; i++) {
            if (strcmp(ecs.tasks[i].arn, json_string_value(name)) == 0)
                t = &ecs.tasks[i];
        }
        if (t == NULL) {
            json_array_append_new(failures,
                                  json_pack("{s:O, s:s}", "arn", name, "reason", "MISSING"));
            continue;
        }
        task = json_pack("{s:s, s:s, s:s, s:[{s:s, s:i}]}", "taskArn", t->arn, "lastStatus",
                         t->desired, "startedBy", t->started_by, "containers", "name", "app",
                         "exitCode", 0);
        if (tags && t->run != NULL)
            json_object_set_new(task, "tags",
                                json_pack("[{s:s, s:s}, {s:s, s:s}]", "key", "ecsched:job", "value",
                                          "a", "key", "ecsched:run", "value", t->run));
        json_array_append_new(tasks, task);
    }
    return json_pack("{s:o, s:o}", "tasks", tasks, "failures", failures);
}

static json_t *run_task(const json_t *rq)
{
    json_decref(ecs.last_run_task);
    ecs.last_run_task = json_deep_copy(rq);
    return json_pack("{s:[{s:s, s:s}], s:[]}", "tasks", "taskArn",
                     "arn:aws:ecs:us-east-1:123456789012:task/main/new", "lastStatus",
                     "PROVISIONING", "failures");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **state)
{
    struct upload *up = *state;
    const char *target;
    const char *op;
    json_t *rq;
    json_t *reply;
    unsigned status = 200;
    char *text;
    struct MHD_Response *resp;
    enum MHD_Result ok;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    if (up == NULL) {
        *state = calloc(1, sizeof(struct upload));
        return *state != NULL ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        char *grown = realloc(up->data, up->len + *upload_size + 1);

        if (grown == NULL)
            return MHD_NO;
        up->data = grown;
        memcpy(up->data + up->len, upload_data, *upload_size);
        up->len += *upload_size;
        up->data[up->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    target = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Target");
    op = target != NULL && strchr(target, '.') != NULL ? strchr(target, '.') + 1 : "";
    rq = json_loadb(up->data != NULL ? up->data : "{}", up->len > 0 ? up->len : 2, 0, NULL);
    pthread_mutex_lock(&ecs.lock);
    if (strcmp(op, "ListTasks") == 0)
        reply = list_tasks(rq, &status);
    else if (strcmp(op, "DescribeTasks") == 0)
        reply = describe_tasks(rq, &status);
    else if (strcmp(op, "RunTask") == 0)
        reply = run_task(rq);
    else
        reply = error_reply("UnknownOperationException", op, &status);
    pthread_mutex_unlock(&ecs.lock);
    json_decref(rq);
    text = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/x-amz-json-1.1");
    ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    struct upload *up = *state;

    (void)cls;
    (void)conn;
    (void)why;
    if (up != NULL) {
        free(up->data);
        free(up);
        *state = NULL;
    }
}

/* 140 tasks: 0-99 of ecsched-a for run r1 (even ones STOPPED), 100-119
 * of ecsched-a for r2, 120-129 of ecsched-b for r1, 130-139 of ecsched-a
 * untagged (started by hand). */
static void fill_tasks(void)
{
    int i;

    for (i = 0; i < NTASKS; i++) {
        struct fake_task *t = &ecs.tasks[i];

        snprintf(t->arn, sizeof(t->arn), "arn:aws:ecs:us-east-1:123456789012:task/main/%032d", i);
        t->started_by = i >= 120 && i < 130 ? "ecsched-b" : "ecsched-a";
        t->run = i < 100 || (i >= 120 && i < 130) ? "r1" : (i < 120 ? "r2" : NULL);
        t->desired = i > 0 && i % 2 == 0 && i < 100 ? "STOPPED" : "RUNNING";
    }
}

static struct MHD_Daemon *start_endpoint(void)
{
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *info;
    char url[64];

    if (d == NULL)
        return NULL;
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)info->port);
    setenv("AWS_ENDPOINT_URL_ECS", url, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIATEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    fill_tasks();
    return d;
}

static struct launcher *open_ecs(json_t *defaults)
{
    struct launcher_config cfg;
    struct launcher *l = NULL;
    char msg[256] = "";

    memset(&cfg, 0, sizeof(cfg));
    cfg.defaults = defaults;
    T_EQ_INT(launcher_open("ecs", &cfg, &l, msg, sizeof(msg)), 0);
    return l;
}

static int count_status(const struct launch_result *r, enum launch_status st)
{
    size_t i;
    int n = 0;

    for (i = 0; i < r->ntasks; i++)
        n += r->tasks[i].status == st;
    return n;
}

static void test_find_run(void)
{
    struct MHD_Daemon *d = start_endpoint();
    json_t *defaults = json_pack("{s:s}", "cluster", "main");
    json_t *elsewhere = json_pack("{s:s}", "cluster", "gone");
    struct launcher *l;
    struct launch_result r;
    char msg[256] = "";
    size_t i;
    int all_r1 = 1;

    T_TRUE(d != NULL);
    if (d == NULL)
        return;
    l = open_ecs(defaults);
    T_EQ_INT(launcher_find_run(l, "ecsched-a", "r1", NULL, &r, msg, sizeof(msg)), 0);
    /* every task of r1 and ecsched-a once, task 0 too though listed twice */
    T_EQ_INT(r.ntasks, 100);
    T_EQ_INT(r.nfailures, 0);
    T_EQ_INT(count_status(&r, LAUNCH_STOPPED), 49);
    T_EQ_INT(count_status(&r, LAUNCH_RUNNING), 51);
    for (i = 0; i < r.ntasks; i++) {
        int n = atoi(strrchr(r.tasks[i].arn, '/') + 1);

        if (n >= 100 || r.tasks[i].ncontainers != 1)
            all_r1 = 0;
    }
    T_TRUE(all_r1);
    /* 131 listed (task 0 twice): RUNNING in 3 pages, STOPPED in 2; 130
     * distinct ARNs described in 2 calls, each with its tags */
    T_EQ_INT(ecs.list_calls, 5);
    T_EQ_INT(ecs.describe_calls, 2);
    T_EQ_INT(ecs.describe_over_100, 0);
    T_EQ_INT(ecs.describe_without_tags, 0);
    launch_result_clear(&r);

    T_EQ_INT(launcher_find_run(l, "ecsched-a", "r2", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 20);
    launch_result_clear(&r);
    T_EQ_INT(launcher_find_run(l, "ecsched-b", "r1", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 10);
    launch_result_clear(&r);
    /* a run that started nothing: none, no error */
    T_EQ_INT(launcher_find_run(l, "ecsched-a", "r9", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 0);
    launch_result_clear(&r);
    T_EQ_INT(launcher_find_run(l, "ecsched-c", "r1", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 0);
    launch_result_clear(&r);
    /* the job's cluster is the one searched; AWS's error is named */
    T_TRUE(launcher_find_run(l, "ecsched-a", "r1", elsewhere, &r, msg, sizeof(msg)) < 0);
    T_HAS_STR(msg, "ListTasks");
    T_HAS_STR(msg, "ClusterNotFoundException");
    T_TRUE(strchr(msg, '\n') == NULL);
    T_EQ_INT(r.ntasks, 0);
    launcher_close(&l);
    json_decref(defaults);
    json_decref(elsewhere);
    MHD_stop_daemon(d);
}

/* The value of tag key in a RunTask body, or NULL; *count: how many. */
static const char *tag_of(const json_t *body, const char *key, int *count)
{
    const json_t *tag;
    const char *value = NULL;
    size_t i;

    *count = 0;
    json_array_foreach(json_object_get(body, "tags"), i, tag) {
        if (strcmp(json_string_value(json_object_get(tag, "key")), key) == 0) {
            value = json_string_value(json_object_get(tag, "value"));
            (*count)++;
        }
    }
    return value;
}

static void test_run_tags(void)
{
    struct MHD_Daemon *d = start_endpoint();
    json_t *defaults = json_pack("{s:s}", "cluster", "main");
    json_t *job = json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "tags", "key", "team", "value", "data",
                            "key", "ecsched:run", "value", "forged");
    json_t *crowded = json_pack("{s:[]}", "tags");
    struct launch_request rq;
    struct launch_result r;
    struct launcher *l;
    char msg[256] = "";
    int n;
    int i;

    T_TRUE(d != NULL);
    if (d == NULL)
        return;
    l = open_ecs(defaults);
    memset(&rq, 0, sizeof(rq));
    rq.family = "sleeper";
    rq.started_by = "ecsched-a";
    rq.client_token = "ecsched-a-100-0";
    rq.run_token = "ecsched-a-100";
    rq.job_id = "a";
    rq.count = 1;
    rq.settings = job;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    launch_result_clear(&r);
    T_EQ_STR(tag_of(ecs.last_run_task, "ecsched:run", &n), "ecsched-a-100");
    T_EQ_INT(n, 1);
    T_EQ_STR(tag_of(ecs.last_run_task, "ecsched:job", &n), "a");
    T_EQ_INT(n, 1);
    T_EQ_STR(tag_of(ecs.last_run_task, "team", &n), "data");
    T_EQ_INT(json_array_size(json_object_get(ecs.last_run_task, "tags")), 3);

    /* no run token: no ecsched:run tag */
    rq.run_token = NULL;
    rq.settings = NULL;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    launch_result_clear(&r);
    T_TRUE(tag_of(ecs.last_run_task, "ecsched:run", &n) == NULL);
    T_EQ_INT(json_array_size(json_object_get(ecs.last_run_task, "tags")), 1);

    /* 48 of the job's own and our 2 are ECS's 50; 49 are too many, and
     * RunTask is not called */
    rq.run_token = "ecsched-a-102";
    rq.settings = crowded;
    for (i = 0; i < 48; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k%d", i);
        json_array_append_new(json_object_get(crowded, "tags"),
                              json_pack("{s:s, s:s}", "key", key, "value", "v"));
    }
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    launch_result_clear(&r);
    T_EQ_INT(json_array_size(json_object_get(ecs.last_run_task, "tags")), 50);
    json_array_append_new(json_object_get(crowded, "tags"),
                          json_pack("{s:s, s:s}", "key", "k48", "value", "v"));
    rq.run_token = "ecsched-a-104";
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "50");
    T_EQ_STR(tag_of(ecs.last_run_task, "ecsched:run", &n), "ecsched-a-102");
    launcher_close(&l);
    json_decref(defaults);
    json_decref(job);
    json_decref(crowded);
    json_decref(ecs.last_run_task);
    ecs.last_run_task = NULL;
    MHD_stop_daemon(d);
}

static const struct test_case cases[] = {
    {"find_run", test_find_run},
    {"run_tags", test_run_tags},
};

TEST_MAIN("launch_ecs", cases)
