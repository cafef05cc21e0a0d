/* local.c - a launcher that runs ECS task definitions as local processes,
 * for a laptop, the demo and CI (no Docker engine assumed). A task
 * definition is the JSON that `aws ecs register-task-definition` takes, in
 * <task_definition_dir>/<family>.json; each container runs entryPoint +
 * command with its environment plus the job's overrides, in its own
 * process group, logging to <log_dir>/<task id>/<container>.log. As on
 * ECS, a task stops when an essential container exits, and StopTask sends
 * SIGTERM, then SIGKILL after the container's stopTimeout (default 30 s).
 * Processes are reaped lazily, whenever the launcher is asked something. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "launch/backends.h"

#define STOP_TIMEOUT_DEFAULT 30
#define ARGV_MAX 256
#define ENV_MAX 512

struct local_task {
    struct launch_entry e; /* first: the shared helpers walk local_task arrays */
    pid_t *pids;           /* per container; 0 once reaped */
    int *essential;        /* per container */
    int stop_timeout;
    int64_t stop_requested_at;
};

struct local {
    pthread_mutex_t lock;
    char taskdef_dir[PATH_MAX];
    char log_dir[PATH_MAX];
    struct local_task *tasks;
    size_t n;
    size_t cap;
    unsigned long seq;
};

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    char *p;

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -1;
    for (p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int local_open(const struct launcher_config *cfg, void **impl, char *msg, size_t msglen)
{
    struct local *l;

    if (cfg == NULL || cfg->task_definition_dir == NULL || cfg->log_dir == NULL)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "the local launcher needs a task-definition directory and a log directory");
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the local launcher");
    snprintf(l->taskdef_dir, sizeof(l->taskdef_dir), "%s", cfg->task_definition_dir);
    snprintf(l->log_dir, sizeof(l->log_dir), "%s", cfg->log_dir);
    if (mkdirs(l->log_dir) != 0) {
        int rc =
            ecs_fail(ECS_EIO, msg, msglen, "local launcher: cannot create log directory %s: %s",
                     l->log_dir, strerror(errno));

        free(l);
        return rc;
    }
    pthread_mutex_init(&l->lock, NULL);
    *impl = l;
    return 0;
}

static void task_free(struct local_task *lt)
{
    struct launch_result one = {NULL, 0, NULL, 0};
    struct launch_task *copy = malloc(sizeof(*copy));

    free(lt->pids);
    free(lt->essential);
    free(lt->e.started_by);
    free(lt->e.token);
    free(lt->e.run);
    if (copy != NULL) {
        *copy = lt->e.t;
        one.tasks = copy;
        one.ntasks = 1;
        launch_result_clear(&one);
    }
}

static void local_close(void *impl)
{
    struct local *l = impl;
    size_t i;
    size_t k;

    /* Tasks do not outlive their launcher: stop what still runs. */
    for (i = 0; i < l->n; i++) {
        for (k = 0; k < l->tasks[i].e.t.ncontainers; k++) {
            pid_t pid = l->tasks[i].pids[k];

            if (pid > 0) {
                kill(-pid, SIGKILL);
                waitpid(pid, NULL, 0);
            }
        }
        task_free(&l->tasks[i]);
    }
    free(l->tasks);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static void stop_now(struct local_task *lt, int sig)
{
    size_t k;

    for (k = 0; k < lt->e.t.ncontainers; k++) {
        if (lt->pids[k] > 0)
            kill(-lt->pids[k], sig);
    }
}

/* Collect exits, apply the essential-container rule and stop timeouts. */
static void reap(struct local *l)
{
    int64_t now = (int64_t)time(NULL);
    size_t i;
    size_t k;

    for (i = 0; i < l->n; i++) {
        struct local_task *lt = &l->tasks[i];
        int alive = 0;
        int essential_exited = 0;

        if (lt->e.t.status == LAUNCH_STOPPED)
            continue;
        for (k = 0; k < lt->e.t.ncontainers; k++) {
            int st = 0;

            if (lt->pids[k] > 0 && waitpid(lt->pids[k], &st, WNOHANG) == lt->pids[k]) {
                lt->pids[k] = 0;
                lt->e.t.containers[k].has_exit_code = 1;
                lt->e.t.containers[k].exit_code =
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
                if (lt->essential[k])
                    essential_exited = 1;
            }
            if (lt->pids[k] > 0)
                alive = 1;
        }
        if (essential_exited && alive && lt->stop_requested_at == 0) {
            lt->stop_requested_at = now;
            if (lt->e.t.stop_reason == NULL)
                lt->e.t.stop_reason = strdup("Essential container in task exited");
            stop_now(lt, SIGTERM);
        }
        if (alive && lt->stop_requested_at != 0 && now - lt->stop_requested_at >= lt->stop_timeout)
            stop_now(lt, SIGKILL);
        if (!alive) {
            lt->e.t.status = LAUNCH_STOPPED;
            lt->e.t.stopped_at = now;
            if (lt->e.t.stop_reason == NULL)
                lt->e.t.stop_reason = strdup("Essential container in task exited");
        }
    }
}

/* argv of a container: entryPoint + (override command or command). */
static int build_argv(const json_t *cdef, const json_t *ov, char **argv, size_t *argc)
{
    const json_t *parts[2];
    const json_t *cmd = ov != NULL ? json_object_get(ov, "command") : NULL;
    size_t p;
    size_t i;
    const json_t *v;

    parts[0] = json_object_get(cdef, "entryPoint");
    parts[1] = cmd != NULL ? cmd : json_object_get(cdef, "command");
    *argc = 0;
    for (p = 0; p < 2; p++) {
        json_array_foreach(parts[p], i, v) {
            if (!json_is_string(v) || *argc + 1 >= ARGV_MAX)
                return -1;
            argv[(*argc)++] = (char *)json_string_value(v);
        }
    }
    argv[*argc] = NULL;
    return *argc > 0 ? 0 : -1;
}

/* Set NAME=value in env (n entries), replacing an earlier NAME: later
 * sources win, as they do in ECS. */
static void env_put(char **env, size_t *n, const char *name, const char *value)
{
    size_t len = strlen(name);
    size_t i;
    char *entry = NULL;

    if (asprintf(&entry, "%s=%s", name, value) < 0)
        return;
    for (i = 0; i < *n; i++) {
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') {
            free(env[i]);
            env[i] = entry;
            return;
        }
    }
    if (*n + 1 >= ENV_MAX) {
        free(entry);
        return;
    }
    env[*n] = entry;
    (*n)++;
}

/* Environment: PATH and HOME from here, the container's, the overrides',
 * the request's extra variables, then the task's own ARN. Strings are
 * allocated; free with free_env. */
static size_t build_env(const json_t *cdef, const json_t *ov, const json_t *extra, const char *arn,
                        char **env)
{
    size_t n = 0;
    size_t i;
    const json_t *v;
    const char *k;
    const char *keep[] = {"PATH", "HOME"};

    for (i = 0; i < 2; i++) {
        const char *val = getenv(keep[i]);

        if (val != NULL)
            env_put(env, &n, keep[i], val);
    }
    json_array_foreach(json_object_get(cdef, "environment"), i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *val = json_string_value(json_object_get(v, "value"));

        if (name != NULL && val != NULL)
            env_put(env, &n, name, val);
    }
    json_object_foreach((json_t *)json_object_get(ov, "environment"), k, v) {
        if (json_is_string(v))
            env_put(env, &n, k, json_string_value(v));
    }
    json_object_foreach((json_t *)extra, k, v) {
        if (json_is_string(v))
            env_put(env, &n, k, json_string_value(v));
    }
    env_put(env, &n, "ECSCHED_TASK_ARN", arn);
    env[n] = NULL;
    return n;
}

static void free_env(char **env, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(env[i]);
}

/* The job's override for a container, or NULL. */
static const json_t *override_for(const json_t *overrides, const char *name)
{
    size_t i;
    const json_t *o;

    json_array_foreach(overrides, i, o) {
        const char *c = json_string_value(json_object_get(o, "containerName"));

        if (c != NULL && strcmp(c, name) == 0)
            return o;
    }
    return NULL;
}

static pid_t spawn(char **argv, char **env, const char *log_path)
{
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    /* child: own process group (StopTask signals the group), output to
     * the container's log, no stdin */
    setpgid(0, 0);
    {
        int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int in = open("/dev/null", O_RDONLY);

        if (out >= 0) {
            dup2(out, STDOUT_FILENO);
            dup2(out, STDERR_FILENO);
        }
        if (in >= 0)
            dup2(in, STDIN_FILENO);
    }
    execvpe(argv[0], argv, env);
    dprintf(STDERR_FILENO, "ecsched local launcher: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Start one task of the definition; its record goes to *lt. */
static int start_task(struct local *l, const json_t *def, const struct launch_request *rq,
                      struct local_task *lt, char *reason, size_t reasonlen)
{
    const json_t *cdefs = json_object_get(def, "containerDefinitions");
    size_t nc = json_array_size(cdefs);
    char arn[160];
    char id[40];
    char dir[PATH_MAX];
    size_t k;

    memset(lt, 0, sizeof(*lt));
    if (nc == 0) {
        snprintf(reason, reasonlen, "task definition %.100s has no containerDefinitions",
                 rq->family);
        return -1;
    }
    snprintf(id, sizeof(id), "%08lx%08lx%016lx", (unsigned long)getpid() & 0xffffffffUL,
             (unsigned long)time(NULL) & 0xffffffffUL, ++l->seq);
    snprintf(arn, sizeof(arn), "arn:aws:ecs:local:000000000000:task/local/%.39s", id);
    if (snprintf(dir, sizeof(dir), "%s/%s", l->log_dir, id) >= (int)sizeof(dir)) {
        snprintf(reason, reasonlen, "log directory path too long");
        return -1;
    }
    if (mkdirs(dir) != 0) {
        snprintf(reason, reasonlen, "cannot create %.300s: %.100s", dir, strerror(errno));
        return -1;
    }
    lt->e.t.arn = strdup(arn);
    lt->e.t.containers = calloc(nc, sizeof(*lt->e.t.containers));
    lt->pids = calloc(nc, sizeof(*lt->pids));
    lt->essential = calloc(nc, sizeof(*lt->essential));
    lt->e.started_by = rq->started_by != NULL ? strdup(rq->started_by) : NULL;
    lt->e.token = rq->client_token != NULL ? strdup(rq->client_token) : NULL;
    lt->stop_timeout = STOP_TIMEOUT_DEFAULT;
    if (lt->e.t.arn == NULL || lt->e.t.containers == NULL || lt->pids == NULL ||
        lt->essential == NULL) {
        snprintf(reason, reasonlen, "out of memory");
        return -1;
    }
    lt->e.t.ncontainers = nc;
    lt->e.t.status = LAUNCH_RUNNING;
    lt->e.t.started_at = (int64_t)time(NULL);
    for (k = 0; k < nc; k++) {
        const json_t *cdef = json_array_get(cdefs, k);
        const char *name = json_string_value(json_object_get(cdef, "name"));
        const json_t *ov = override_for(rq->overrides, name != NULL ? name : "");
        const json_t *ess = json_object_get(cdef, "essential");
        const json_t *timeout = json_object_get(cdef, "stopTimeout");
        char *argv[ARGV_MAX];
        char *env[ENV_MAX];
        char log_path[PATH_MAX];
        size_t argc;
        size_t nenv;

        lt->e.t.containers[k].name = strdup(name != NULL ? name : "");
        lt->essential[k] = ess == NULL || json_is_true(ess);
        if (json_is_integer(timeout) && json_integer_value(timeout) > 0)
            lt->stop_timeout = (int)json_integer_value(timeout);
        if (build_argv(cdef, ov, argv, &argc) != 0) {
            snprintf(reason, reasonlen,
                     "container %.100s of %.100s has no entryPoint or command to run",
                     name != NULL ? name : "?", rq->family);
            stop_now(lt, SIGKILL);
            return -1;
        }
        nenv = build_env(cdef, ov, rq->environment, arn, env);
        if (snprintf(log_path, sizeof(log_path), "%s/%s.log", dir,
                     name != NULL ? name : "container") >= (int)sizeof(log_path)) {
            free_env(env, nenv);
            snprintf(reason, reasonlen, "log file path too long");
            stop_now(lt, SIGKILL);
            return -1;
        }
        lt->pids[k] = spawn(argv, env, log_path);
        free_env(env, nenv);
        if (lt->pids[k] < 0) {
            lt->pids[k] = 0;
            snprintf(reason, reasonlen, "fork failed: %s", strerror(errno));
            stop_now(lt, SIGKILL);
            return -1;
        }
    }
    return 0;
}

static int load_definition(struct local *l, const char *family, json_t **out, char *msg,
                           size_t msglen)
{
    char path[PATH_MAX];
    json_error_t err;

    if (strchr(family, '/') != NULL || family[0] == '.')
        return ecs_fail(ECS_EINVAL, msg, msglen, "'%s' is not a task definition family", family);
    if (snprintf(path, sizeof(path), "%s/%s.json", l->taskdef_dir, family) >= (int)sizeof(path))
        return ecs_fail(ECS_EINVAL, msg, msglen, "task definition path too long");
    *out = json_load_file(path, 0, &err);
    if (*out == NULL)
        return ecs_fail(ECS_ENOTFOUND, msg, msglen,
                        "local launcher: task definition '%s' not found or unreadable (%s: %s)",
                        family, path, err.text);
    return 0;
}

static int local_run(void *impl, const struct launch_request *rq, struct launch_result *out,
                     char *msg, size_t msglen)
{
    struct local *l = impl;
    json_t *def = NULL;
    int rc;
    int i;

    rc = load_definition(l, rq->family, &def, msg, msglen);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&l->lock);
    reap(l);
    rc = launch_entries_by_token(l->tasks, l->n, sizeof(l->tasks[0]), rq->client_token, out);
    if (out->ntasks > 0 || rc != 0)
        goto done;
    for (i = 0; i < rq->count && rc == 0; i++) {
        char reason[512];

        if (l->n == l->cap) {
            size_t ncap = l->cap == 0 ? 16 : l->cap * 2;
            struct local_task *nt = realloc(l->tasks, ncap * sizeof(*nt));

            if (nt == NULL) {
                rc = ECS_ENOMEM;
                break;
            }
            l->tasks = nt;
            l->cap = ncap;
        }
        if (start_task(l, def, rq, &l->tasks[l->n], reason, sizeof(reason)) != 0) {
            task_free(&l->tasks[l->n]);
            rc = launch_result_fail(out, reason);
            continue;
        }
        l->n++;
        rc = launch_result_add(out, &l->tasks[l->n - 1].e.t);
    }
done:
    pthread_mutex_unlock(&l->lock);
    json_decref(def);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "local launcher: out of memory");
    return 0;
}

static int local_list(void *impl, const char *started_by, const json_t *settings, char ***arns,
                      size_t *n, char *msg, size_t msglen)
{
    struct local *l = impl;
    int rc;

    (void)settings;
    pthread_mutex_lock(&l->lock);
    reap(l);
    rc = launch_entries_active(l->tasks, l->n, sizeof(l->tasks[0]), started_by, arns, n);
    pthread_mutex_unlock(&l->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "local launcher: out of memory");
    return 0;
}

static int local_describe(void *impl, const char *const *arns, size_t n, struct launch_result *out,
                          char *msg, size_t msglen)
{
    struct local *l = impl;
    int rc;

    pthread_mutex_lock(&l->lock);
    reap(l);
    rc = launch_entries_describe(l->tasks, l->n, sizeof(l->tasks[0]), arns, n, out);
    pthread_mutex_unlock(&l->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "local launcher: out of memory");
    return 0;
}

static int local_stop(void *impl, const char *arn, const char *reason, char *msg, size_t msglen)
{
    struct local *l = impl;
    struct local_task *lt;
    int rc = 0;

    pthread_mutex_lock(&l->lock);
    reap(l);
    lt = launch_entries_find(l->tasks, l->n, sizeof(l->tasks[0]), arn);
    if (lt == NULL) {
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no task %s", arn);
    } else if (lt->e.t.status != LAUNCH_STOPPED && lt->stop_requested_at == 0) {
        lt->stop_requested_at = (int64_t)time(NULL);
        free(lt->e.t.stop_reason);
        lt->e.t.stop_reason = strdup(reason != NULL ? reason : "Task stopped by user");
        stop_now(lt, SIGTERM);
    }
    pthread_mutex_unlock(&l->lock);
    return rc;
}

const struct launcher_ops launcher_local = {
    .name = "local",
    .open = local_open,
    .close = local_close,
    .run_task = local_run,
    .list_active = local_list,
    .describe = local_describe,
    .stop_task = local_stop,
};
