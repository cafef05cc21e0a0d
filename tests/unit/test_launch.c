/* test_launch.c - the launcher front door with the fake backend, and the
 * local backend running real processes: exit codes, logs, environment
 * overrides, StopTask, essential containers, idempotency, and tasks that
 * outlive their launcher (adoption, find_run, a crash before the start, a
 * supervisor killed). The local launcher's supervisor is the ecsched
 * binary built beside this test (<build>/ecsched). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "harness.h"
#include "launch/launcher.h"
#include "launch/taskdir.h"

static char dir[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void setup_dirs(void)
{
    char cmd[600];

    snprintf(dir, sizeof(dir), "/tmp/ecsched-launch-test-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s/defs", dir, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  setup failed\n");
}

/* <build>/ecsched, from this test's <build>/tests/test_launch. */
static const char *supervisor_path(void)
{
    static char path[PATH_MAX + 16];
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (n <= 0)
        return "ecsched";
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(path, sizeof(path), "%s/ecsched", self);
    return path;
}

/* The local launcher's configuration over <dir>/defs and <dir>/logs. */
static void local_config(struct launcher_config *cfg, char *defs, char *logs, size_t len)
{
    snprintf(defs, len, "%s/defs", dir);
    snprintf(logs, len, "%s/logs", dir);
    memset(cfg, 0, sizeof(*cfg));
    cfg->task_definition_dir = defs;
    cfg->log_dir = logs;
    cfg->supervisor = supervisor_path();
}

static void cleanup_dirs(void)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  cleanup failed\n");
}

static void test_fake(void)
{
    struct launcher *l = NULL;
    struct launch_request rq = {
        "web", "ecsched-job-a", "tok-1", 3, NULL, "job-a", NULL, NULL, 0, NULL, NULL};
    struct launch_result r;
    struct launch_result again;
    char **arns = NULL;
    size_t n = 0;
    char msg[256];

    T_EQ_INT(launcher_open("fake", NULL, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_STR(launcher_name(l), "fake");
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 3);
    /* the same client token gives the same tasks, not new ones */
    T_EQ_INT(launcher_run_task(l, &rq, &again, msg, sizeof(msg)), 0);
    T_EQ_INT(again.ntasks, 3);
    if (again.ntasks == 3 && r.ntasks == 3)
        T_EQ_STR(again.tasks[0].arn, r.tasks[0].arn);
    launch_result_clear(&again);
    T_EQ_INT(launcher_list_active(l, "ecsched-job-a", NULL, &arns, &n, msg, sizeof(msg)), 0);
    T_EQ_INT(n, 3);
    launch_strings_free(&arns, n);
    T_EQ_INT(launcher_stop_task(l, r.tasks[1].arn, "test", msg, sizeof(msg)), 0);
    T_EQ_INT(launcher_list_active(l, "ecsched-job-a", NULL, &arns, &n, msg, sizeof(msg)), 0);
    T_EQ_INT(n, 2);
    launch_strings_free(&arns, n);
    T_EQ_INT(launcher_list_active(l, "someone-else", NULL, &arns, &n, msg, sizeof(msg)), 0);
    T_EQ_INT(n, 0);
    /* limits of a single launch */
    rq.count = 11;
    T_EQ_INT(launcher_run_task(l, &rq, &again, msg, sizeof(msg)), ECS_EINVAL);
    rq.count = 1;
    rq.started_by = "a-started-by-value-longer-than-36-chars";
    T_EQ_INT(launcher_run_task(l, &rq, &again, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "over 36 characters");
    launch_result_clear(&r);
    launcher_close(&l);
    T_TRUE(l == NULL);
    T_EQ_INT(launcher_open("mars", NULL, &l, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "unknown launcher 'mars'");
}

/* Many tasks: the fake's indexes grow (64, 128, ... slots) and still
 * find every client token and startedBy. */
static void test_fake_indexes_grow(void)
{
    struct launcher *l = NULL;
    char first_arn[3][128];
    char msg[256];
    int i;

    T_EQ_INT(launcher_open("fake", NULL, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    for (i = 0; i < 3000; i++) {
        char by[40];
        char token[40];
        struct launch_request rq = {"web", by, token, 1, NULL, "job", NULL, NULL, 0, NULL, NULL};
        struct launch_result r;

        snprintf(by, sizeof(by), "job-%d", i % 1000);
        snprintf(token, sizeof(token), "tok-%d", i);
        if (launcher_run_task(l, &rq, &r, msg, sizeof(msg)) != 0 || r.ntasks != 1) {
            T_EQ_STR(msg, "");
            break;
        }
        if (i < 3)
            snprintf(first_arn[i], sizeof(first_arn[i]), "%s", r.tasks[0].arn);
        launch_result_clear(&r);
    }
    for (i = 0; i < 3; i++) {
        char token[40];
        struct launch_request rq = {"web", "job-x", token, 1,    NULL, "job",
                                    NULL,  NULL,    0,     NULL, NULL};
        struct launch_result r;

        /* an old token answers with its first task, not a new one */
        snprintf(token, sizeof(token), "tok-%d", i);
        T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
        if (r.ntasks == 1)
            T_EQ_STR(r.tasks[0].arn, first_arn[i]);
        launch_result_clear(&r);
    }
    for (i = 0; i < 1000; i += 333) {
        char by[40];
        char **arns = NULL;
        size_t n = 0;

        snprintf(by, sizeof(by), "job-%d", i);
        T_EQ_INT(launcher_list_active(l, by, NULL, &arns, &n, msg, sizeof(msg)), 0);
        T_EQ_INT(n, 3);
        launch_strings_free(&arns, n);
    }
    launcher_close(&l);
}

/* Describe arn until it stops (at most ~max_s seconds). */
static int wait_stopped(struct launcher *l, const char *arn, int max_s, struct launch_result *out)
{
    char msg[256];
    int i;

    for (i = 0; i < max_s * 20; i++) {
        const char *one[1] = {arn};

        if (launcher_describe(l, one, 1, out, msg, sizeof(msg)) != 0)
            return -1;
        if (out->ntasks == 1 && out->tasks[0].status == LAUNCH_STOPPED)
            return 0;
        launch_result_clear(out);
        usleep(50000);
    }
    return -1;
}

/* Poll until path holds text (at most max_ms). 0 or -1. */
static int wait_file_has(const char *path, const char *text, int max_ms)
{
    int waited;

    for (waited = 0; waited <= max_ms; waited += 20) {
        char buf[4096];
        FILE *f = fopen(path, "r");
        size_t n = 0;

        if (f != NULL) {
            n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
        }
        buf[n] = '\0';
        if (strstr(buf, text) != NULL)
            return 0;
        usleep(20000);
    }
    return -1;
}

static void test_local_exit_code_and_log(void)
{
    struct launcher *l = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char path[600];
    char msg[512];
    char **arns = NULL;
    size_t n = 0;
    json_error_t e;
    json_t *ov = json_loads("[{\"containerName\": \"main\", \"environment\": "
                            "{\"GREETING\": \"there\"}}]",
                            0, &e);
    struct launch_request rq = {
        "sleepy", "ecsched-sleepy", NULL, 1, ov, "sleepy", NULL, NULL, 0, NULL, NULL};
    struct launch_result r;
    struct launch_result d;

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    snprintf(path, sizeof(path), "%s/sleepy.json", defs);
    write_file(path, "{\"family\": \"sleepy\", \"containerDefinitions\": [{\"name\": "
                     "\"main\", "
                     "\"image\": \"busybox\", \"entryPoint\": [\"sh\", \"-c\"], \"command\": "
                     "[\"echo hello $GREETING from $ECSCHED_TASK_ARN; sleep 1; exit 3\"], "
                     "\"environment\": [{\"name\": \"GREETING\", \"value\": \"world\"}], "
                     "\"essential\": true}]}");
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    T_EQ_INT(r.nfailures, 0);
    if (r.ntasks == 1) {
        T_EQ_INT(r.tasks[0].status, LAUNCH_RUNNING);
        T_EQ_INT(launcher_list_active(l, "ecsched-sleepy", NULL, &arns, &n, msg, sizeof(msg)), 0);
        T_EQ_INT(n, 1);
        launch_strings_free(&arns, n);
        T_EQ_INT(wait_stopped(l, r.tasks[0].arn, 10, &d), 0);
        if (d.ntasks == 1) {
            T_EQ_INT(d.tasks[0].ncontainers, 1);
            T_EQ_INT(d.tasks[0].containers[0].has_exit_code, 1);
            T_EQ_INT(d.tasks[0].containers[0].exit_code, 3);
            T_TRUE(d.tasks[0].stopped_ms >= d.tasks[0].started_ms);
        }
        launch_result_clear(&d);
        {
            /* the log holds the output, with the override applied */
            const char *id = strrchr(r.tasks[0].arn, '/') + 1;
            char logfile[700];
            char line[512] = "";
            FILE *f;

            snprintf(logfile, sizeof(logfile), "%s/%s/main.log", logs, id);
            f = fopen(logfile, "r");
            T_TRUE(f != NULL);
            if (f != NULL) {
                if (fgets(line, sizeof(line), f) == NULL)
                    line[0] = '\0';
                fclose(f);
            }
            T_HAS_STR(line, "hello there from arn:aws:ecs:local:");
        }
        T_EQ_INT(launcher_list_active(l, "ecsched-sleepy", NULL, &arns, &n, msg, sizeof(msg)), 0);
        T_EQ_INT(n, 0);
    }
    launch_result_clear(&r);
    /* unknown family and a container with nothing to run */
    rq.family = "nope";
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), ECS_ENOTFOUND);
    T_HAS_STR(msg, "task definition 'nope' not found");
    snprintf(path, sizeof(path), "%s/empty.json", defs);
    write_file(path, "{\"family\": \"empty\", \"containerDefinitions\": [{\"name\": \"x\"}]}");
    rq.family = "empty";
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 0);
    T_EQ_INT(r.nfailures, 1);
    if (r.nfailures == 1)
        T_HAS_STR(r.failures[0].reason, "has no entryPoint or command");
    launch_result_clear(&r);
    launcher_close(&l);
    json_decref(ov);
    cleanup_dirs();
}

static void test_local_stop_task(void)
{
    struct launcher *l = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char path[600];
    char msg[512];
    struct launch_request rq = {
        "server", "ecsched-server", "tok-x", 1, NULL, "server", NULL, NULL, 0, NULL, NULL};
    struct launch_result r;
    struct launch_result again;
    struct launch_result d;

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    snprintf(path, sizeof(path), "%s/server.json", defs);
    /* the main container ignores SIGTERM: only SIGKILL after stopTimeout
     * ends it; the sidecar is not essential */
    write_file(path, "{\"family\": \"server\", \"containerDefinitions\": ["
                     "{\"name\": \"main\", \"command\": [\"sh\", \"-c\", \"trap "
                     "'' TERM; echo ready; sleep 30\"], "
                     "\"stopTimeout\": 1},"
                     "{\"name\": \"side\", \"command\": [\"sleep\", \"30\"], "
                     "\"essential\": false}]}");
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(launcher_run_task(l, &rq, &again, msg, sizeof(msg)), 0);
    T_EQ_INT(again.ntasks, 1);
    if (r.ntasks == 1 && again.ntasks == 1)
        T_EQ_STR(again.tasks[0].arn, r.tasks[0].arn);
    launch_result_clear(&again);
    if (r.ntasks == 1) {
        char logfile[700];

        /* stop once the trap is set, or SIGTERM would end main at once */
        snprintf(logfile, sizeof(logfile), "%s/%s/main.log", logs,
                 strrchr(r.tasks[0].arn, '/') + 1);
        T_EQ_INT(wait_file_has(logfile, "ready", 10000), 0);
        T_EQ_INT(launcher_stop_task(l, r.tasks[0].arn, "Stopped by test", msg, sizeof(msg)), 0);
        T_EQ_INT(wait_stopped(l, r.tasks[0].arn, 10, &d), 0);
        if (d.ntasks == 1) {
            T_EQ_STR(d.tasks[0].stop_reason, "Stopped by test");
            T_EQ_INT(d.tasks[0].containers[0].exit_code, 128 + 9);  /* SIGKILL */
            T_EQ_INT(d.tasks[0].containers[1].exit_code, 128 + 15); /* SIGTERM */
        }
        launch_result_clear(&d);
    }
    T_EQ_INT(launcher_stop_task(l, "arn:none", NULL, msg, sizeof(msg)), ECS_ENOTFOUND);
    launch_result_clear(&r);
    launcher_close(&l);
    cleanup_dirs();
}

/* A definition whose one container waits for <dir>/go, then exits 7: a
 * task that runs until the test lets it end. */
static void write_gated_definition(const char *defs)
{
    char path[600];
    char text[1200];

    snprintf(path, sizeof(path), "%s/gated.json", defs);
    snprintf(text, sizeof(text),
             "{\"family\": \"gated\", \"containerDefinitions\": [{\"name\": \"main\", "
             "\"command\": [\"sh\", \"-c\", \"echo up; while [ ! -e %s/go ]; do sleep 0.02; "
             "done; exit 7\"], \"stopTimeout\": 2}]}",
             dir);
    write_file(path, text);
}

/* The task's state.json, or NULL. */
static json_t *task_state(const char *logs, const char *arn)
{
    char path[700];

    snprintf(path, sizeof(path), "%s/%s/state.json", logs, strrchr(arn, '/') + 1);
    return json_load_file(path, 0, NULL);
}

/* Poll until the task's state.json says STOPPED (no launcher needed). */
static int wait_state_stopped(const char *logs, const char *arn, int max_ms)
{
    int waited;

    for (waited = 0; waited <= max_ms; waited += 20) {
        json_t *st = task_state(logs, arn);
        const char *status = json_string_value(json_object_get(st, "status"));
        int done = status != NULL && strcmp(status, "STOPPED") == 0;

        json_decref(st);
        if (done)
            return 0;
        usleep(20000);
    }
    return -1;
}

static size_t count_active(struct launcher *l, const char *started_by)
{
    char **arns = NULL;
    size_t n = 0;
    char msg[256];

    if (launcher_list_active(l, started_by, NULL, &arns, &n, msg, sizeof(msg)) != 0)
        return (size_t)-1;
    launch_strings_free(&arns, n);
    return n;
}

/* A task runs on across close and reopen, is adopted (listed active),
 * and its exit code, written while no launcher was open, is read after. */
static void test_local_task_outlives_launcher(void)
{
    struct launcher *l = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char path[600];
    char arn[200] = "";
    char msg[512];
    struct launch_request rq = {"gated", "ecsched-gated", "tok-g", 1, NULL, "gated", NULL, NULL,
                                0,       "run-g",         NULL};
    struct launch_result r;
    struct launch_result d;

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    write_gated_definition(defs);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    if (r.ntasks == 1)
        snprintf(arn, sizeof(arn), "%s", r.tasks[0].arn);
    launch_result_clear(&r);
    launcher_close(&l);
    if (arn[0] == '\0')
        return;
    /* a new launcher adopts it, still running */
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(count_active(l, "ecsched-gated"), 1);
    launcher_close(&l);
    /* it ends while no launcher is open */
    snprintf(path, sizeof(path), "%s/go", dir);
    write_file(path, "");
    T_EQ_INT(wait_state_stopped(logs, arn, 10000), 0);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(count_active(l, "ecsched-gated"), 0);
    {
        const char *one[1] = {arn};

        T_EQ_INT(launcher_describe(l, one, 1, &d, msg, sizeof(msg)), 0);
    }
    T_EQ_INT(d.ntasks, 1);
    if (d.ntasks == 1) {
        T_EQ_INT(d.tasks[0].status, LAUNCH_STOPPED);
        T_EQ_INT(d.tasks[0].unknown, 0);
        T_EQ_INT(d.tasks[0].ncontainers, 1);
        if (d.tasks[0].ncontainers == 1) {
            T_EQ_INT(d.tasks[0].containers[0].has_exit_code, 1);
            T_EQ_INT(d.tasks[0].containers[0].exit_code, 7);
        }
        T_EQ_STR(d.tasks[0].stop_reason, "Essential container in task exited");
        T_TRUE(d.tasks[0].stopped_ms >= d.tasks[0].started_ms);
        T_TRUE(d.tasks[0].stopped_ms <= clock_wall_ms() + 1000);
    }
    launch_result_clear(&d);
    launcher_close(&l);
    cleanup_dirs();
}

/* find_run finds a closed launcher's tasks by run token after reopen,
 * narrowed by startedBy; a StopTask on an adopted task works. */
static void test_local_find_run_after_reopen(void)
{
    struct launcher *l = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char arns[2][200] = {"", ""};
    char msg[512];
    struct launch_request rq = {"gated", "ecsched-gated", "run-f-0", 2, NULL, "gated", NULL, NULL,
                                0,       "run-f",         NULL};
    struct launch_result r;
    size_t i;

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    write_gated_definition(defs);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 2);
    for (i = 0; i < r.ntasks && i < 2; i++)
        snprintf(arns[i], sizeof(arns[i]), "%s", r.tasks[i].arn);
    launch_result_clear(&r);
    launcher_close(&l);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_find_run(l, "ecsched-gated", "run-f", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 2);
    if (r.ntasks == 2) {
        T_EQ_STR(r.tasks[0].arn, arns[0]);
        T_EQ_STR(r.tasks[1].arn, arns[1]);
        T_EQ_INT(r.tasks[0].status, LAUNCH_RUNNING);
    }
    launch_result_clear(&r);
    T_EQ_INT(launcher_find_run(l, NULL, "run-f", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 2);
    launch_result_clear(&r);
    T_EQ_INT(launcher_find_run(l, "someone-else", "run-f", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 0);
    launch_result_clear(&r);
    T_EQ_INT(launcher_find_run(l, "ecsched-gated", "run-other", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 0);
    launch_result_clear(&r);
    /* stop the adopted tasks; stopped ones are still found */
    for (i = 0; i < 2; i++) {
        struct launch_result d;

        T_EQ_INT(launcher_stop_task(l, arns[i], "Stopped by test", msg, sizeof(msg)), 0);
        T_EQ_INT(wait_stopped(l, arns[i], 10, &d), 0);
        if (d.ntasks == 1) {
            T_EQ_STR(d.tasks[0].stop_reason, "Stopped by test");
            T_EQ_INT(d.tasks[0].containers[0].exit_code, 128 + 15);
        }
        launch_result_clear(&d);
    }
    T_EQ_INT(launcher_find_run(l, "ecsched-gated", "run-f", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 2);
    if (r.ntasks == 2)
        T_EQ_INT(r.tasks[1].status, LAUNCH_STOPPED);
    launch_result_clear(&r);
    launcher_close(&l);
    cleanup_dirs();
}

/* The same client token after a reopen returns the task already started,
 * not a second one. */
static void test_local_client_token_after_reopen(void)
{
    struct launcher *l = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char path[600];
    char arn[200] = "";
    char msg[512];
    struct launch_request rq = {
        "gated", "ecsched-gated", "tok-same", 1, NULL, "gated", NULL, NULL, 0, NULL, NULL};
    struct launch_result r;

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    write_gated_definition(defs);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    if (r.ntasks == 1)
        snprintf(arn, sizeof(arn), "%s", r.tasks[0].arn);
    launch_result_clear(&r);
    launcher_close(&l);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    if (r.ntasks == 1)
        T_EQ_STR(r.tasks[0].arn, arn);
    launch_result_clear(&r);
    T_EQ_INT(count_active(l, "ecsched-gated"), 1);
    /* and once it has ended, still the same task */
    snprintf(path, sizeof(path), "%s/go", dir);
    write_file(path, "");
    T_EQ_INT(wait_state_stopped(logs, arn, 10000), 0);
    launcher_close(&l);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    if (r.ntasks == 1) {
        T_EQ_STR(r.tasks[0].arn, arn);
        T_EQ_INT(r.tasks[0].status, LAUNCH_STOPPED);
    }
    launch_result_clear(&r);
    launcher_close(&l);
    cleanup_dirs();
}

/* A daemon that died between recording a task and its supervisor's start
 * leaves task.json with no claim: the next launcher cancels it (it counts
 * as never created: not active, not found by run or client token,
 * describe MISSING), a late supervisor starts nothing, and the token
 * starts a new task. */
static void test_local_unstarted_record_cancelled(void)
{
    struct launcher *l = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char path[1600];
    char text[2000];
    char msg[512];
    const char *id = "0000000000010000000100000001";
    const char *arn = "arn:aws:ecs:local:000000000000:task/local/0000000000010000000100000001";
    struct launch_request rq = {"gated", "ecsched-gated", "tok-crash", 1, NULL, "gated", NULL, NULL,
                                0,       "run-crash",     NULL};
    struct launch_result r;
    int st;

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    write_gated_definition(defs);
    /* what start_task writes before it starts a supervisor */
    snprintf(path, sizeof(path),
             "mkdir -p %s/%s %s/.active %s/.runs/run-crash %s/.tokens/tok-crash", logs, id, logs,
             logs, logs);
    T_EQ_INT(system(path), 0);
    snprintf(path, sizeof(path), "%s/%s/task.json", logs, id);
    snprintf(text, sizeof(text),
             "{\"arn\": \"%s\", \"started_by\": \"ecsched-gated\", \"client_token\": "
             "\"tok-crash\", \"run_token\": \"run-crash\", \"family\": \"gated\", \"id\": \"%s\", "
             "\"created_ms\": 1000, \"stop_timeout\": 2, \"containers\": [{\"name\": \"main\", "
             "\"argv\": [\"sh\", \"-c\", \"touch %s/ran\"], \"env\": [], \"log\": "
             "\"%s/%s/main.log\", \"essential\": true}]}",
             arn, id, dir, logs, id);
    write_file(path, text);
    snprintf(path, sizeof(path), "%s/.active/%s", logs, id);
    write_file(path, "");
    snprintf(path, sizeof(path), "%s/.runs/run-crash/%s", logs, id);
    write_file(path, "");
    snprintf(path, sizeof(path), "%s/.tokens/tok-crash/%s", logs, id);
    write_file(path, "");
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(count_active(l, "ecsched-gated"), 0);
    T_EQ_INT(launcher_find_run(l, "ecsched-gated", "run-crash", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 0);
    launch_result_clear(&r);
    {
        const char *one[1] = {arn};

        T_EQ_INT(launcher_describe(l, one, 1, &r, msg, sizeof(msg)), 0);
        T_EQ_INT(r.ntasks, 0);
        T_EQ_INT(r.nfailures, 1);
        if (r.nfailures == 1)
            T_EQ_STR(r.failures[0].reason, "MISSING");
        launch_result_clear(&r);
    }
    /* the supervisor, coming late, finds the start taken */
    snprintf(path, sizeof(path), "%s __supervise %s/%s", supervisor_path(), logs, id);
    st = system(path);
    T_TRUE(WIFEXITED(st));
    T_EQ_INT(WEXITSTATUS(st), 0);
    snprintf(path, sizeof(path), "%s/ran", dir);
    T_EQ_INT(access(path, F_OK), -1);
    {
        char claim[700];

        snprintf(claim, sizeof(claim), "%s/%s/claim", logs, id);
        T_EQ_INT(wait_file_has(claim, "cancelled", 0), 0);
    }
    /* the token starts a new task: the cancelled one never ran */
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    if (r.ntasks == 1) {
        T_TRUE(strcmp(r.tasks[0].arn, arn) != 0);
        T_EQ_INT(launcher_stop_task(l, r.tasks[0].arn, "done", msg, sizeof(msg)), 0);
    }
    launch_result_clear(&r);
    T_EQ_INT(launcher_find_run(l, "ecsched-gated", "run-crash", NULL, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    if (r.ntasks == 1) {
        struct launch_result d;

        T_EQ_INT(wait_stopped(l, r.tasks[0].arn, 10, &d), 0);
        launch_result_clear(&d);
    }
    launch_result_clear(&r);
    launcher_close(&l);
    cleanup_dirs();
}

/* A supervisor killed -9 records nothing more: its task is STOPPED with
 * unknown = 1 and a reason saying why, and its container is ended. */
static void test_local_supervisor_killed(void)
{
    struct launcher *l = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char msg[512];
    struct launch_request rq = {
        "gated", "ecsched-gated", NULL, 1, NULL, "gated", NULL, NULL, 0, NULL, NULL};
    struct launch_result r;
    struct launch_result d;
    json_t *st;
    pid_t sup = 0;
    pid_t child = 0;
    int waited;

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    write_gated_definition(defs);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l == NULL)
        return;
    T_EQ_INT(launcher_run_task(l, &rq, &r, msg, sizeof(msg)), 0);
    T_EQ_INT(r.ntasks, 1);
    if (r.ntasks != 1) {
        launch_result_clear(&r);
        launcher_close(&l);
        return;
    }
    st = task_state(logs, r.tasks[0].arn);
    sup = (pid_t)json_integer_value(json_object_get(st, "supervisor_pid"));
    child = (pid_t)json_integer_value(
        json_object_get(json_array_get(json_object_get(st, "containers"), 0), "pid"));
    json_decref(st);
    T_TRUE(sup > 0);
    T_TRUE(child > 0);
    if (sup > 0)
        T_EQ_INT(kill(sup, SIGKILL), 0);
    T_EQ_INT(wait_stopped(l, r.tasks[0].arn, 10, &d), 0);
    if (d.ntasks == 1) {
        T_EQ_INT(d.tasks[0].unknown, 1);
        T_HAS_STR(d.tasks[0].stop_reason, "outcome unknown");
        T_HAS_STR(d.tasks[0].stop_reason, "supervisor");
        T_EQ_INT(d.tasks[0].containers[0].has_exit_code, 0);
    }
    launch_result_clear(&d);
    /* the orphaned container was killed (its group got SIGKILL) */
    for (waited = 0; child > 0 && waited < 10000 && kill(child, 0) == 0; waited += 20) {
        char stat_path[64];
        char buf[256] = "";
        FILE *f;

        snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)child);
        f = fopen(stat_path, "r");
        if (f != NULL) {
            if (fgets(buf, sizeof(buf), f) == NULL)
                buf[0] = '\0';
            fclose(f);
        }
        if (strstr(buf, ") Z") != NULL)
            break; /* a zombie of init: dead */
        usleep(20000);
    }
    T_TRUE(waited < 10000);
    /* and a new launcher says the same */
    launcher_close(&l);
    T_EQ_INT(launcher_open("local", &cfg, &l, msg, sizeof(msg)), 0);
    if (l != NULL) {
        const char *one[1] = {r.tasks[0].arn};

        T_EQ_INT(launcher_describe(l, one, 1, &d, msg, sizeof(msg)), 0);
        T_EQ_INT(d.ntasks, 1);
        if (d.ntasks == 1) {
            T_EQ_INT(d.tasks[0].status, LAUNCH_STOPPED);
            T_EQ_INT(d.tasks[0].unknown, 1);
        }
        launch_result_clear(&d);
        launcher_close(&l);
    }
    launch_result_clear(&r);
    cleanup_dirs();
}

/* The pid-reuse guard: a process is known by pid and start time (field
 * 22 of /proc/<pid>/stat), and a different start time is another
 * process. */
static void test_local_process_identity(void)
{
    char path[64];
    char buf[1024] = "";
    FILE *f;
    const char *p;
    long long want = -1;
    int field;
    int64_t start = taskdir_proc_start(getpid());

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)getpid());
    f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(buf, sizeof(buf), f) == NULL)
            buf[0] = '\0';
        fclose(f);
    }
    p = strrchr(buf, ')');
    for (field = 2; p != NULL && *p != '\0' && field < 22; p++)
        field += *p == ' ';
    if (p != NULL && sscanf(p, "%lld", &want) != 1)
        want = -1;
    T_TRUE(want > 0);
    T_EQ_INT(start, want);
    T_EQ_INT(taskdir_proc_alive(getpid(), start), 1);
    T_EQ_INT(taskdir_proc_alive(getpid(), start + 1), 0);
    T_EQ_INT(taskdir_proc_start(0), -1);
}

/* A second launcher on the same log directory is refused while the first
 * is open (it would cancel starts still in flight), and allowed after. */
static void test_local_one_launcher_per_log_dir(void)
{
    struct launcher *a = NULL;
    struct launcher *b = NULL;
    struct launcher_config cfg;
    char defs[300];
    char logs[300];
    char msg[512];

    setup_dirs();
    local_config(&cfg, defs, logs, sizeof(defs));
    T_EQ_INT(launcher_open("local", &cfg, &a, msg, sizeof(msg)), 0);
    T_EQ_INT(launcher_open("local", &cfg, &b, msg, sizeof(msg)), ECS_EUNAVAILABLE);
    T_HAS_STR(msg, "in use by another launcher");
    T_TRUE(b == NULL);
    launcher_close(&a);
    T_EQ_INT(launcher_open("local", &cfg, &b, msg, sizeof(msg)), 0);
    launcher_close(&b);
    cleanup_dirs();
}

static const struct test_case cases[] = {
    {"fake", test_fake},
    {"fake_indexes_grow", test_fake_indexes_grow},
    {"local_exit_code_and_log", test_local_exit_code_and_log},
    {"local_stop_task", test_local_stop_task},
    {"local_process_identity", test_local_process_identity},
    {"local_one_launcher_per_log_dir", test_local_one_launcher_per_log_dir},
    {"local_task_outlives_launcher", test_local_task_outlives_launcher},
    {"local_find_run_after_reopen", test_local_find_run_after_reopen},
    {"local_client_token_after_reopen", test_local_client_token_after_reopen},
    {"local_unstarted_record_cancelled", test_local_unstarted_record_cancelled},
    {"local_supervisor_killed", test_local_supervisor_killed},
};

TEST_MAIN("launch", cases)
