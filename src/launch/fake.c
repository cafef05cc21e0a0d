/* fake.c - a launcher for tests and benchmarks: tasks exist only in
 * memory, start RUNNING at once, and stop when told to. A repeated client
 * token returns the tasks of its first call, as RunTask's clientToken
 * does. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "launch/backends.h"

struct fake {
    pthread_mutex_t lock;
    struct launch_entry *tasks;
    size_t n;
    size_t cap;
    unsigned long next_id;
    void (*on_run)(void *ctx, const struct launch_request *rq, int64_t now_ms);
    void *on_run_ctx;
};

static int fake_open(const struct launcher_config *cfg, void **impl, char *msg, size_t msglen)
{
    struct fake *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the fake launcher");
    if (cfg != NULL) {
        f->on_run = cfg->on_run;
        f->on_run_ctx = cfg->on_run_ctx;
    }
    pthread_mutex_init(&f->lock, NULL);
    *impl = f;
    return 0;
}

static void fake_close(void *impl)
{
    struct fake *f = impl;
    struct launch_result all = {NULL, 0, NULL, 0};
    size_t i;

    for (i = 0; i < f->n; i++) {
        free(f->tasks[i].started_by);
        free(f->tasks[i].token);
    }
    /* the embedded launch_tasks are freed through a result of them */
    if (f->n > 0) {
        all.tasks = malloc(f->n * sizeof(*all.tasks));
        if (all.tasks != NULL) {
            for (i = 0; i < f->n; i++)
                all.tasks[i] = f->tasks[i].t;
            all.ntasks = f->n;
            launch_result_clear(&all);
        }
    }
    free(f->tasks);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static int fake_run(void *impl, const struct launch_request *rq, struct launch_result *out,
                    char *msg, size_t msglen)
{
    struct fake *f = impl;
    int rc = 0;
    int i;

    if (f->on_run != NULL) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        f->on_run(f->on_run_ctx, rq, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    }
    pthread_mutex_lock(&f->lock);
    rc = launch_entries_by_token(f->tasks, f->n, sizeof(f->tasks[0]), rq->client_token, out);
    if (out->ntasks > 0 || rc != 0)
        goto done;
    for (i = 0; i < rq->count && rc == 0; i++) {
        struct launch_entry ft;
        char arn[128];

        if (f->n == f->cap) {
            size_t ncap = f->cap == 0 ? 64 : f->cap * 2;
            struct launch_entry *nt = realloc(f->tasks, ncap * sizeof(*nt));

            if (nt == NULL) {
                rc = ECS_ENOMEM;
                break;
            }
            f->tasks = nt;
            f->cap = ncap;
        }
        memset(&ft, 0, sizeof(ft));
        snprintf(arn, sizeof(arn), "arn:aws:ecs:fake:000000000000:task/fake/%032lx",
                 ++f->next_id);
        ft.t.arn = strdup(arn);
        ft.t.status = LAUNCH_RUNNING;
        ft.t.started_at = (int64_t)time(NULL);
        ft.started_by = rq->started_by != NULL ? strdup(rq->started_by) : NULL;
        ft.token = rq->client_token != NULL ? strdup(rq->client_token) : NULL;
        if (ft.t.arn == NULL) {
            free(ft.started_by);
            free(ft.token);
            rc = ECS_ENOMEM;
            break;
        }
        f->tasks[f->n++] = ft;
        rc = launch_result_add(out, &ft.t);
    }
done:
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "fake launcher: out of memory");
    return 0;
}

static int fake_list(void *impl, const char *started_by, const json_t *settings, char ***arns,
                     size_t *n, char *msg, size_t msglen)
{
    (void)settings;
    struct fake *f = impl;
    int rc;

    pthread_mutex_lock(&f->lock);
    rc = launch_entries_active(f->tasks, f->n, sizeof(f->tasks[0]), started_by, arns, n);
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "fake launcher: out of memory");
    return 0;
}

static int fake_describe(void *impl, const char *const *arns, size_t n, struct launch_result *out,
                         char *msg, size_t msglen)
{
    struct fake *f = impl;
    int rc;

    pthread_mutex_lock(&f->lock);
    rc = launch_entries_describe(f->tasks, f->n, sizeof(f->tasks[0]), arns, n, out);
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "fake launcher: out of memory");
    return 0;
}

static int fake_stop(void *impl, const char *arn, const char *reason, char *msg, size_t msglen)
{
    struct fake *f = impl;
    struct launch_entry *ft;
    int rc = 0;

    pthread_mutex_lock(&f->lock);
    ft = launch_entries_find(f->tasks, f->n, sizeof(f->tasks[0]), arn);
    if (ft == NULL) {
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no task %s", arn);
    } else if (ft->t.status != LAUNCH_STOPPED) {
        ft->t.status = LAUNCH_STOPPED;
        ft->t.stopped_at = (int64_t)time(NULL);
        ft->t.stop_reason = strdup(reason != NULL ? reason : "stopped");
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

const struct launcher_ops launcher_fake = {
    .name = "fake",
    .open = fake_open,
    .close = fake_close,
    .run_task = fake_run,
    .list_active = fake_list,
    .describe = fake_describe,
    .stop_task = fake_stop,
};
