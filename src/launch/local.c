/* local.c - a launcher that runs ECS task definitions as local processes,
 * for a laptop, the demo and CI (no Docker engine assumed). A task
 * definition is the JSON that `aws ecs register-task-definition` takes, in
 * <task_definition_dir>/<family>.json; each container runs entryPoint +
 * command with its environment plus the job's overrides, in its own
 * process group, logging to <log_dir>/<task id>/<container>.log. As on
 * ECS, a task stops when an essential container exits, and StopTask sends
 * SIGTERM, then SIGKILL after the task's stopTimeout (the largest of its
 * containers', default 30 s).
 *
 * Tasks are durable and, like ECS tasks, outlive the daemon: each has a
 * directory <log_dir>/<task id>/ recording it (task.json, written before
 * anything starts; see taskdir.h), and a supervising process of ours
 * (`ecsched __supervise`, supervise.c) that runs its containers and writes
 * how they ended. Closing the launcher leaves tasks running; the next
 * launcher opened on the same log directory adopts the tasks not yet
 * ended (list_active, describe and stop_task work on them), finds a run's
 * tasks and a client token's tasks on disk, and reads the exits of tasks
 * that ended while no daemon ran. A task whose supervisor died without
 * writing its end is STOPPED with `unknown` set. One launcher per log
 * directory at a time (<log_dir>/.lock holds it). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "launch/backends.h"
#include "launch/taskdir.h"

/* how long run_task waits for a supervisor to report its containers
 * started before cancelling the start itself */
#define SUPERVISOR_WAIT_MS 10000
/* the descriptor a supervisor reports its start on */
#define NOTIFY_FD 3

struct local_task {
    struct launch_entry e; /* first: the shared helpers walk local_task arrays */
    char id[40];
};

struct local {
    pthread_mutex_t lock;
    char taskdef_dir[PATH_MAX];
    char log_dir[PATH_MAX];
    char supervisor[PATH_MAX];
    int lock_fd;              /* flock of <log_dir>/.lock: one launcher per log dir */
    struct local_task *tasks; /* this process's and the adopted */
    size_t n;
    size_t cap;
    unsigned long seq;
};

static int add_task(struct local *l, struct launch_entry *e, const char *id)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap == 0 ? 16 : l->cap * 2;
        struct local_task *nt = realloc(l->tasks, ncap * sizeof(*nt));

        if (nt == NULL)
            return ECS_ENOMEM;
        l->tasks = nt;
        l->cap = ncap;
    }
    l->tasks[l->n].e = *e;
    snprintf(l->tasks[l->n].id, sizeof(l->tasks[l->n].id), "%s", id);
    l->n++;
    memset(e, 0, sizeof(*e));
    return 0;
}

/* Adopt the tasks of earlier launchers that have not ended: the .active
 * index names them, so finished tasks (thousands, perhaps) are not read. */
static int adopt(struct local *l)
{
    char **ids = NULL;
    size_t n = 0;
    size_t i;
    int rc = 0;

    if (taskdir_index_list(l->log_dir, TASKDIR_ACTIVE, NULL, &ids, &n) != 0)
        return ECS_EIO;
    for (i = 0; i < n && rc == 0; i++) {
        struct launch_entry e;
        int got = taskdir_load(l->log_dir, ids[i], &e);

        if (got < 0) {
            rc = got;
        } else if (got == TASKDIR_LOADED && e.t.status != LAUNCH_STOPPED) {
            rc = add_task(l, &e, ids[i]);
            taskdir_entry_clear(&e);
        } else {
            /* ended, cancelled or unreadable: no longer active */
            if (got == TASKDIR_LOADED)
                taskdir_entry_clear(&e);
            taskdir_index_remove(l->log_dir, TASKDIR_ACTIVE, NULL, ids[i]);
        }
    }
    launch_strings_free(&ids, n);
    return rc;
}

/* Only one launcher may own a log directory: a second one would take a
 * task the first is still handing to its supervisor for one left by a
 * crash, and cancel it. The lock goes with the process, kill -9 too; it
 * is close-on-exec, so no supervisor keeps it. */
static int lock_log_dir(struct local *l, char *msg, size_t msglen)
{
    char path[PATH_MAX + 8];

    snprintf(path, sizeof(path), "%s/.lock", l->log_dir);
    l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->lock_fd < 0)
        return ecs_fail(ECS_EIO, msg, msglen, "local launcher: cannot open %s: %s", path,
                        strerror(errno));
    if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;

        close(l->lock_fd);
        if (e == EWOULDBLOCK)
            return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                            "local launcher: log directory %s is in use by another launcher "
                            "(one daemon per log directory)",
                            l->log_dir);
        return ecs_fail(ECS_EIO, msg, msglen, "local launcher: cannot lock %s: %s", path,
                        strerror(e));
    }
    return 0;
}

static void local_close(void *impl)
{
    struct local *l = impl;
    size_t i;

    /* Tasks outlive their launcher, as ECS tasks outlive a client: their
     * supervisors go on and the next launcher adopts them. */
    for (i = 0; i < l->n; i++)
        taskdir_entry_clear(&l->tasks[i].e);
    free(l->tasks);
    close(l->lock_fd);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static int local_open(const struct launcher_config *cfg, void **impl, char *msg, size_t msglen)
{
    struct local *l;
    int rc;

    if (cfg == NULL || cfg->task_definition_dir == NULL || cfg->log_dir == NULL)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "the local launcher needs a task-definition directory and a log directory");
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the local launcher");
    snprintf(l->taskdef_dir, sizeof(l->taskdef_dir), "%s", cfg->task_definition_dir);
    snprintf(l->log_dir, sizeof(l->log_dir), "%s", cfg->log_dir);
    if (cfg->supervisor != NULL) {
        snprintf(l->supervisor, sizeof(l->supervisor), "%s", cfg->supervisor);
    } else {
        ssize_t len = readlink("/proc/self/exe", l->supervisor, sizeof(l->supervisor) - 1);

        if (len <= 0) {
            free(l);
            return ecs_fail(ECS_EIO, msg, msglen,
                            "local launcher: cannot find its own executable: %s", strerror(errno));
        }
        l->supervisor[len] = '\0';
    }
    if (taskdir_mkdirs(l->log_dir) != 0) {
        rc = ecs_fail(ECS_EIO, msg, msglen, "local launcher: cannot create log directory %s: %s",
                      l->log_dir, strerror(errno));
        free(l);
        return rc;
    }
    rc = lock_log_dir(l, msg, msglen);
    if (rc != 0) {
        free(l);
        return rc;
    }
    pthread_mutex_init(&l->lock, NULL);
    rc = adopt(l);
    if (rc != 0) {
        local_close(l);
        return ecs_fail(rc, msg, msglen, "local launcher: cannot read the tasks in %s",
                        cfg->log_dir);
    }
    *impl = l;
    return 0;
}

/* Read every task not yet stopped again from its directory. */
static void refresh(struct local *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        struct local_task *lt = &l->tasks[i];
        struct launch_entry e;
        int got;

        if (lt->e.t.status == LAUNCH_STOPPED)
            continue;
        got = taskdir_load(l->log_dir, lt->id, &e);
        if (got == TASKDIR_LOADED) {
            taskdir_entry_clear(&lt->e);
            lt->e = e;
        } else if (got >= 0) {
            /* its directory was removed under us */
            lt->e.t.status = LAUNCH_STOPPED;
            lt->e.t.unknown = 1;
            lt->e.t.stopped_ms = clock_wall_ms();
            free(lt->e.t.stop_reason);
            lt->e.t.stop_reason = strdup("Task outcome unknown: its directory is gone");
        }
    }
}

static struct local_task *find_id(struct local *l, const char *id)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->tasks[i].id, id) == 0)
            return &l->tasks[i];
    }
    return NULL;
}

/* Task id's entry: this launcher's (refreshed), or read from its directory
 * into *tmp (adopted, and then this launcher's, while it has not ended).
 * NULL when there is no such task, or it never started; *is_tmp says
 * whether the caller must clear *tmp. */
static struct launch_entry *lookup(struct local *l, const char *id, struct launch_entry *tmp,
                                   int *is_tmp)
{
    struct local_task *lt = find_id(l, id);
    int got;

    *is_tmp = 0;
    if (lt != NULL)
        return &lt->e;
    got = taskdir_load(l->log_dir, id, tmp);
    if (got != TASKDIR_LOADED)
        return NULL;
    if (tmp->t.status != LAUNCH_STOPPED && add_task(l, tmp, id) == 0)
        return &l->tasks[l->n - 1].e;
    *is_tmp = 1;
    return tmp;
}

/* Copies of the tasks listed under key in an index, optionally narrowed
 * by started_by, into out: the tasks this or an earlier process started. */
static int from_index(struct local *l, const char *kind, const char *key, const char *started_by,
                      struct launch_result *out)
{
    char **ids = NULL;
    size_t n = 0;
    size_t i;
    int rc = 0;

    if (key == NULL)
        return 0;
    if (taskdir_index_list(l->log_dir, kind, key, &ids, &n) != 0)
        return ECS_EIO;
    for (i = 0; i < n && rc == 0; i++) {
        struct launch_entry tmp;
        int is_tmp;
        const struct launch_entry *e = lookup(l, ids[i], &tmp, &is_tmp);
        const char *have;

        if (e == NULL)
            continue;
        have = strcmp(kind, TASKDIR_RUNS) == 0 ? e->run : e->token;
        if (have != NULL && strcmp(have, key) == 0 &&
            (started_by == NULL ||
             (e->started_by != NULL && strcmp(e->started_by, started_by) == 0)))
            rc = launch_result_add(out, &e->t);
        if (is_tmp)
            taskdir_entry_clear(&tmp);
    }
    launch_strings_free(&ids, n);
    return rc;
}

/* Start `ecsched __supervise <dir>` detached from the daemon and wait (a
 * bounded time) for it to report its containers started. The daemon is
 * multi-threaded: between fork and exec only async-signal-safe calls. The
 * middle child exits at once, so the supervisor belongs to init (or a
 * subreaper), never leaves a zombie here, and waitpid() returns at once. */
static void spawn_supervisor(struct local *l, const char *dir)
{
    char *argv[6];
    char fdarg[16];
    sigset_t none;
    int p[2];
    pid_t child;

    snprintf(fdarg, sizeof(fdarg), "%d", NOTIFY_FD);
    argv[0] = l->supervisor;
    argv[1] = (char *)"__supervise";
    argv[2] = (char *)"--notify-fd";
    argv[3] = fdarg;
    argv[4] = (char *)dir;
    argv[5] = NULL;
    sigemptyset(&none);
    if (pipe2(p, O_CLOEXEC) != 0)
        return;
    child = fork();
    if (child == 0) {
        pid_t grandchild = fork();

        if (grandchild != 0)
            _exit(grandchild < 0 ? 1 : 0);
        setsid();
        /* the daemon blocks its stop signals; the supervisor must not */
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (p[1] == NOTIFY_FD)
            fcntl(p[1], F_SETFD, 0);
        else
            dup2(p[1], NOTIFY_FD);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    if (child > 0) {
        struct pollfd pfd = {p[0], POLLIN, 0};
        int64_t until = clock_mono_ms() + SUPERVISOR_WAIT_MS;
        char byte;

        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
        /* one byte once its containers run; end of file when it stops
         * before (the exec failed, or the start was claimed first) */
        while (1) {
            int64_t left = until - clock_mono_ms();
            int rc;

            if (left <= 0)
                break;
            rc = poll(&pfd, 1, (int)left);
            if (rc < 0 && errno == EINTR)
                continue;
            if (rc > 0)
                while (read(p[0], &byte, 1) < 0 && errno == EINTR)
                    ;
            break;
        }
    }
    close(p[0]);
}

/* Start one task of the definition: record it, index it, hand it to a
 * supervisor. 0 with the task in this launcher and a copy in out, or -1
 * with reason (nothing started). ECS_ENOMEM when out could not grow. */
static int start_task(struct local *l, const json_t *def, const struct launch_request *rq,
                      struct launch_result *out, char *reason, size_t reasonlen)
{
    char arn[160];
    char id[40];
    char dir[PATH_MAX];
    json_t *task;
    struct launch_entry e;
    int got;
    int rc;

    /* ids sort by creation (find_run lists oldest first) and never repeat
     * across daemons: wall ms, pid, counter */
    snprintf(id, sizeof(id), "%012llx%08lx%08lx", (unsigned long long)clock_wall_ms(),
             (unsigned long)getpid() & 0xffffffffUL, ++l->seq & 0xffffffffUL);
    snprintf(arn, sizeof(arn), "arn:aws:ecs:local:000000000000:task/local/%s", id);
    if (snprintf(dir, sizeof(dir), "%s/%s", l->log_dir, id) >= (int)sizeof(dir)) {
        snprintf(reason, reasonlen, "log directory path too long");
        return -1;
    }
    task = taskdir_record(def, rq, id, arn, dir, reason, reasonlen);
    if (task == NULL)
        return -1;
    /* durable before anything runs: the task's record, then the indexes
     * that find it again (a crash in between leaves a record nobody
     * claimed, which the next reader cancels) */
    if (taskdir_mkdirs(dir) != 0 || taskdir_fsync(l->log_dir) != 0 ||
        taskdir_write_json(dir, TASKDIR_TASK, task) != 0 ||
        taskdir_index_add(l->log_dir, TASKDIR_ACTIVE, NULL, id) != 0 ||
        (rq->run_token != NULL &&
         taskdir_index_add(l->log_dir, TASKDIR_RUNS, rq->run_token, id) != 0) ||
        (rq->client_token != NULL &&
         taskdir_index_add(l->log_dir, TASKDIR_TOKENS, rq->client_token, id) != 0)) {
        snprintf(reason, reasonlen, "cannot record the task in %.300s: %.100s", dir,
                 strerror(errno));
        json_decref(task);
        return -1;
    }
    json_decref(task);
    spawn_supervisor(l, dir);
    /* whatever the supervisor said (or not): the record decides, and a
     * start not yet claimed is cancelled now, for good */
    got = taskdir_load(l->log_dir, id, &e);
    if (got == TASKDIR_CANCELLED || got == TASKDIR_NONE) {
        snprintf(reason, reasonlen,
                 "the task's supervisor (%.200s) did not start it; see %.300s/%s", l->supervisor,
                 dir, TASKDIR_SUPLOG);
        return -1;
    }
    if (got < 0)
        return got;
    rc = launch_result_add(out, &e.t);
    if (rc == 0 && e.t.status != LAUNCH_STOPPED)
        rc = add_task(l, &e, id);
    taskdir_entry_clear(&e);
    return rc;
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
    refresh(l);
    /* the same token, the same tasks, even those of an earlier daemon */
    rc = from_index(l, TASKDIR_TOKENS, rq->client_token, NULL, out);
    if (out->ntasks > 0 || rc != 0)
        goto done;
    for (i = 0; i < rq->count && rc == 0; i++) {
        char reason[768];
        int got = start_task(l, def, rq, out, reason, sizeof(reason));

        if (got == -1)
            rc = launch_result_fail(out, reason);
        else
            rc = got;
    }
done:
    pthread_mutex_unlock(&l->lock);
    json_decref(def);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "local launcher: %s",
                        rc == ECS_EIO ? "cannot read its task index" : "out of memory");
    return 0;
}

static int local_list(void *impl, const char *started_by, const json_t *settings, char ***arns,
                      size_t *n, char *msg, size_t msglen)
{
    struct local *l = impl;
    int rc;

    (void)settings;
    pthread_mutex_lock(&l->lock);
    refresh(l);
    rc = launch_entries_active(l->tasks, l->n, sizeof(l->tasks[0]), started_by, arns, n);
    pthread_mutex_unlock(&l->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "local launcher: out of memory");
    return 0;
}

/* The task id an ARN of ours names (its last path segment), or NULL. */
static const char *arn_id(const char *arn)
{
    const char *slash = strrchr(arn, '/');

    return slash != NULL && taskdir_valid_id(slash + 1) ? slash + 1 : NULL;
}

static int local_describe(void *impl, const char *const *arns, size_t n, struct launch_result *out,
                          char *msg, size_t msglen)
{
    struct local *l = impl;
    size_t i;
    int rc = 0;

    pthread_mutex_lock(&l->lock);
    refresh(l);
    for (i = 0; i < n && rc == 0; i++) {
        const char *id = arn_id(arns[i]);
        struct launch_entry tmp;
        int is_tmp = 0;
        const struct launch_entry *e = id != NULL ? lookup(l, id, &tmp, &is_tmp) : NULL;

        if (e != NULL && strcmp(e->t.arn, arns[i]) == 0)
            rc = launch_result_add(out, &e->t);
        else
            rc = launch_result_fail(out, "MISSING");
        if (is_tmp)
            taskdir_entry_clear(&tmp);
    }
    pthread_mutex_unlock(&l->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "local launcher: out of memory");
    return 0;
}

/* Ask task id's supervisor to stop it: the reason first, in the task's
 * `stop` file (the first StopTask's reason is the one kept), then
 * SIGTERM. */
static void request_stop(struct local *l, const char *id, const char *reason)
{
    char dir[PATH_MAX];
    char line[256];
    long pid = 0;
    long long start = -1;

    if (snprintf(dir, sizeof(dir), "%s/%s", l->log_dir, id) >= (int)sizeof(dir))
        return;
    if (taskdir_read_line(dir, TASKDIR_STOP, line, sizeof(line)) == 0)
        return;
    if (taskdir_write(dir, TASKDIR_STOP, reason) != 0)
        return;
    if (taskdir_read_line(dir, TASKDIR_CLAIM, line, sizeof(line)) == 0 &&
        sscanf(line, "supervisor %ld %lld", &pid, &start) == 2 &&
        taskdir_proc_alive((pid_t)pid, (int64_t)start))
        kill((pid_t)pid, SIGTERM);
}

static int local_stop(void *impl, const char *arn, const char *reason, char *msg, size_t msglen)
{
    struct local *l = impl;
    const char *id = arn_id(arn);
    struct launch_entry tmp;
    int is_tmp = 0;
    const struct launch_entry *e;
    int rc = 0;

    pthread_mutex_lock(&l->lock);
    refresh(l);
    e = id != NULL ? lookup(l, id, &tmp, &is_tmp) : NULL;
    if (e == NULL || strcmp(e->t.arn, arn) != 0)
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no task %s", arn);
    else if (e->t.status != LAUNCH_STOPPED)
        request_stop(l, id, reason != NULL ? reason : "Task stopped by user");
    if (is_tmp)
        taskdir_entry_clear(&tmp);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

static int local_find_run(void *impl, const char *started_by, const char *run_token,
                          const json_t *settings, struct launch_result *out, char *msg,
                          size_t msglen)
{
    struct local *l = impl;
    int rc;

    (void)settings;
    pthread_mutex_lock(&l->lock);
    refresh(l);
    rc = from_index(l, TASKDIR_RUNS, run_token, started_by, out);
    pthread_mutex_unlock(&l->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "local launcher: %s",
                        rc == ECS_EIO ? "cannot read its run index" : "out of memory");
    return 0;
}

const struct launcher_ops launcher_local = {
    .name = "local",
    .open = local_open,
    .close = local_close,
    .run_task = local_run,
    .list_active = local_list,
    .describe = local_describe,
    .stop_task = local_stop,
    .find_run = local_find_run,
};
