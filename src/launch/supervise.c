/* supervise.c - `ecsched __supervise <taskdir>`: one small process per
 * local task, started by the local launcher, that outlives the daemon. It
 * claims the task's start (so a task is started exactly once or certainly
 * never), runs each container in its own process group, stops the task
 * when an essential container exits (SIGTERM to the others, SIGKILL after
 * the stop timeout), turns its own SIGTERM into a StopTask with the
 * reason the launcher left in the `stop` file, and records everything in
 * state.json so that a daemon started later knows how the task ended. */
#include "launch/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "launch/taskdir.h"

#define REASON_ESSENTIAL "Essential container in task exited"

struct sup_container {
    const char *name;
    char **argv; /* into the task's JSON */
    char **env;
    const char *log;
    int essential;
    pid_t pid; /* 0 once reaped */
    int64_t start;
    int has_exit_code;
    int exit_code;
};

struct sup {
    char dir[PATH_MAX];
    char log_dir[PATH_MAX];
    char id[64];
    json_t *task;
    struct sup_container *c;
    size_t n;
    int stop_timeout;
    int64_t self_start;
    int64_t started_ms;
    int64_t stopped_ms;
    char reason[1024];
    int stopping;
    int killed;
    int64_t kill_at; /* monotonic ms */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ecsched supervise[%ld]: ", (long)getpid());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A JSON array of strings as a NULL-terminated vector into the JSON. */
static char **strings_of(const json_t *a)
{
    size_t n = json_array_size(a);
    char **v = calloc(n + 1, sizeof(*v));
    size_t i;

    if (v == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        v[i] = (char *)json_string_value(json_array_get(a, i));
        if (v[i] == NULL) {
            free(v);
            return NULL;
        }
    }
    return v;
}

static int load_task(struct sup *s)
{
    const json_t *cs;
    size_t i;

    s->task = taskdir_read_json(s->dir, TASKDIR_TASK);
    if (s->task == NULL)
        return -1;
    cs = json_object_get(s->task, "containers");
    s->n = json_array_size(cs);
    s->stop_timeout = (int)json_integer_value(json_object_get(s->task, "stop_timeout"));
    if (s->n == 0)
        return -1;
    s->c = calloc(s->n, sizeof(*s->c));
    if (s->c == NULL)
        return -1;
    for (i = 0; i < s->n; i++) {
        const json_t *c = json_array_get(cs, i);

        s->c[i].name = json_string_value(json_object_get(c, "name"));
        s->c[i].log = json_string_value(json_object_get(c, "log"));
        s->c[i].essential = json_is_true(json_object_get(c, "essential"));
        s->c[i].argv = strings_of(json_object_get(c, "argv"));
        s->c[i].env = strings_of(json_object_get(c, "env"));
        if (s->c[i].name == NULL || s->c[i].log == NULL || s->c[i].argv == NULL ||
            s->c[i].argv[0] == NULL || s->c[i].env == NULL)
            return -1;
    }
    return 0;
}

static void free_task(struct sup *s)
{
    size_t i;

    for (i = 0; s->c != NULL && i < s->n; i++) {
        free(s->c[i].argv);
        free(s->c[i].env);
    }
    free(s->c);
    json_decref(s->task);
}

/* state.json: RUNNING while containers run, STOPPED with every exit code
 * once the task has ended. */
static int write_state(const struct sup *s, int final)
{
    json_t *st = json_object();
    json_t *cs = json_array();
    size_t i;
    int bad = st == NULL || cs == NULL;
    int rc;

    for (i = 0; !bad && i < s->n; i++) {
        const struct sup_container *c = &s->c[i];

        bad = json_array_append_new(
                  cs, json_pack("{s:s, s:I, s:I, s:o}", "name", c->name, "pid", (json_int_t)c->pid,
                                "start", (json_int_t)c->start, "exit_code",
                                c->has_exit_code ? json_integer(c->exit_code) : json_null())) != 0;
    }
    if (!bad)
        bad = json_object_set_new(st, "status", json_string(final ? "STOPPED" : "RUNNING")) ||
              json_object_set_new(st, "supervisor_pid", json_integer(getpid())) ||
              json_object_set_new(st, "supervisor_start", json_integer(s->self_start)) ||
              json_object_set_new(st, "started_ms", json_integer(s->started_ms)) ||
              json_object_set(st, "containers", cs);
    if (!bad && final)
        bad = json_object_set_new(st, "stopped_ms", json_integer(s->stopped_ms)) ||
              json_object_set_new(st, "stop_reason", json_string(s->reason));
    rc = bad ? -1 : taskdir_write_json(s->dir, TASKDIR_STATE, st);
    json_decref(cs);
    json_decref(st);
    return rc;
}

static pid_t spawn(const struct sup_container *c)
{
    pid_t pid = fork();
    sigset_t none;

    if (pid != 0)
        return pid;
    /* the container: its own process group (stops signal the group), a
     * clean signal state, output to its log, no stdin */
    setpgid(0, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    {
        int out = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

        if (out >= 0) {
            dup2(out, STDOUT_FILENO);
            dup2(out, STDERR_FILENO);
        }
    }
    execvpe(c->argv[0], c->argv, c->env);
    dprintf(STDERR_FILENO, "ecsched local launcher: cannot run %s: %s\n", c->argv[0],
            strerror(errno));
    _exit(127);
}

static void signal_all(const struct sup *s, int sig)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        if (s->c[i].pid > 0)
            kill(-s->c[i].pid, sig);
    }
}

static void begin_stop(struct sup *s, const char *reason)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
    s->kill_at = clock_mono_ms() + (int64_t)s->stop_timeout * 1000;
    signal_all(s, SIGTERM);
}

static size_t alive(const struct sup *s)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < s->n; i++)
        n += s->c[i].pid > 0;
    return n;
}

/* Collect exited containers; 1 when any did. */
static int reap(struct sup *s)
{
    int changed = 0;
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        size_t i;

        for (i = 0; i < s->n; i++) {
            if (s->c[i].pid != pid)
                continue;
            s->c[i].pid = 0;
            s->c[i].has_exit_code = 1;
            s->c[i].exit_code =
                WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
            changed = 1;
            if (s->c[i].essential)
                begin_stop(s, REASON_ESSENTIAL);
        }
    }
    return changed;
}

static void stop_requested(struct sup *s)
{
    char reason[1024];

    if (taskdir_read_line(s->dir, TASKDIR_STOP, reason, sizeof(reason)) != 0 || reason[0] == '\0')
        snprintf(reason, sizeof(reason), "Task stopped: its supervisor was sent a stop signal");
    begin_stop(s, reason);
}

/* Wait for the containers, applying stops and timeouts, until all ended. */
static void watch(struct sup *s, const sigset_t *waitset)
{
    while (1) {
        struct timespec ts = {1, 0};
        int64_t now;
        int sig;

        if (reap(s) && alive(s) > 0 && write_state(s, 0) != 0)
            say("cannot write state.json: %s", strerror(errno));
        if (alive(s) == 0)
            return;
        now = clock_mono_ms();
        if (s->stopping && !s->killed && now >= s->kill_at) {
            s->killed = 1;
            signal_all(s, SIGKILL);
        }
        if (s->stopping && !s->killed && s->kill_at - now < 1000) {
            ts.tv_sec = 0;
            ts.tv_nsec = (long)(s->kill_at - now) * 1000000L;
        }
        sig = sigtimedwait(waitset, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT)
            stop_requested(s);
    }
}

/* Detach from whoever started us: a session of our own, stdin from
 * /dev/null, output to the task's supervisor log, and no descriptor but
 * notify_fd kept (so no caller's pipe is held open by a task). */
static void detach(const char *dir, int notify_fd)
{
    char path[PATH_MAX];
    int fd;

    setsid();
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        if (fd != STDIN_FILENO)
            close(fd);
    }
    fd = -1;
    if (snprintf(path, sizeof(path), "%s/%s", dir, TASKDIR_SUPLOG) < (int)sizeof(path))
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    if (notify_fd > STDERR_FILENO) {
        if (notify_fd > 3)
            close_range(3, (unsigned)notify_fd - 1, 0);
        close_range((unsigned)notify_fd + 1, ~0U, 0);
        /* kept for us, not for the containers */
        fcntl(notify_fd, F_SETFD, FD_CLOEXEC);
    } else {
        close_range(3, ~0U, 0);
    }
    setvbuf(stderr, NULL, _IOLBF, 0);
}

static void notify(int *fd, char byte)
{
    if (*fd < 0)
        return;
    if (write(*fd, &byte, 1) < 0)
        say("the launcher stopped waiting: %s", strerror(errno));
    close(*fd);
    *fd = -1;
}

static int start_containers(struct sup *s)
{
    size_t i;

    s->started_ms = clock_wall_ms();
    for (i = 0; i < s->n; i++) {
        s->c[i].pid = spawn(&s->c[i]);
        if (s->c[i].pid < 0) {
            char reason[512];

            s->c[i].pid = 0;
            snprintf(reason, sizeof(reason), "Task failed to start: fork: %s", strerror(errno));
            begin_stop(s, reason);
            s->killed = 1;
            signal_all(s, SIGKILL);
            return -1;
        }
        /* in the parent too, so the group exists before any stop signals it */
        setpgid(s->c[i].pid, s->c[i].pid);
        s->c[i].start = taskdir_proc_start(s->c[i].pid);
    }
    return 0;
}

int launch_supervise(const char *taskdir, int notify_fd)
{
    struct sup s;
    sigset_t waitset;
    char claim[128];
    const char *slash;
    int won;

    memset(&s, 0, sizeof(s));
    detach(taskdir, notify_fd);
    sigemptyset(&waitset);
    sigaddset(&waitset, SIGCHLD);
    sigaddset(&waitset, SIGTERM);
    sigaddset(&waitset, SIGINT);
    sigprocmask(SIG_SETMASK, &waitset, NULL);
    /* dispositions survive exec: undo a daemon's SIG_IGN of SIGCHLD, which
     * would leave us no exit statuses to collect */
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    snprintf(s.dir, sizeof(s.dir), "%s", taskdir);
    slash = strrchr(s.dir, '/');
    if (slash == NULL || !taskdir_valid_id(slash + 1)) {
        say("%s is not a task directory", taskdir);
        return 1;
    }
    snprintf(s.id, sizeof(s.id), "%s", slash + 1);
    snprintf(s.log_dir, sizeof(s.log_dir), "%.*s", (int)(slash - s.dir), s.dir);
    if (load_task(&s) != 0) {
        say("cannot read the task in %s", taskdir);
        free_task(&s);
        return 1;
    }
    s.self_start = taskdir_proc_start(getpid());
    snprintf(claim, sizeof(claim), "supervisor %ld %lld\n", (long)getpid(),
             (long long)s.self_start);
    won = taskdir_claim(s.dir, claim);
    if (won != 1) {
        /* a recovering launcher cancelled the task first: start nothing */
        if (won == 0)
            say("%s: the start was claimed before us; not starting", s.id);
        else
            say("%s: cannot claim the start: %s", s.id, strerror(errno));
        free_task(&s);
        return won == 0 ? 0 : 1;
    }
    start_containers(&s);
    if (write_state(&s, 0) != 0)
        say("cannot write state.json: %s", strerror(errno));
    notify(&notify_fd, '1');
    watch(&s, &waitset);
    s.stopped_ms = clock_wall_ms();
    if (!s.stopping)
        snprintf(s.reason, sizeof(s.reason), "%s", REASON_ESSENTIAL);
    if (write_state(&s, 1) != 0) {
        say("cannot write the final state.json: %s", strerror(errno));
        free_task(&s);
        return 1;
    }
    taskdir_index_remove(s.log_dir, TASKDIR_ACTIVE, NULL, s.id);
    free_task(&s);
    return 0;
}
