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

#include "core/error.h"
#include "harness.h"
#include "launch/launcher.h"

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
    struct launch_request rq = {"web", "ecsched-job-a", "tok-1", 3, NULL, "job-a", NULL, NULL, 0,
                                NULL};
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
        struct launch_request rq = {"web", by, token, 1, NULL, "job", NULL, NULL, 0, NULL};
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
        struct launch_request rq = {"web", "job-x", token, 1, NULL, "job", NULL, NULL, 0, NULL};
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
    struct launch_request rq = {"sleepy", "ecsched-sleepy", NULL, 1, ov, "sleepy", NULL, NULL, 0,
                                NULL};
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
            T_TRUE(d.tasks[0].stopped_at >= d.tasks[0].started_at);
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
        "server", "ecsched-server", "tok-x", 1, NULL, "server", NULL, NULL, 0, NULL};
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
                     "'' TERM; sleep 30\"], "
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
        usleep(200000);
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

static const struct test_case cases[] = {
    {"fake", test_fake},
    {"fake_indexes_grow", test_fake_indexes_grow},
    {"local_exit_code_and_log", test_local_exit_code_and_log},
    {"local_stop_task", test_local_stop_task},
};

TEST_MAIN("launch", cases)
