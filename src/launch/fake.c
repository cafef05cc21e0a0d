/* fake.c - a launcher for tests and benchmarks: tasks exist only in
 * memory, start RUNNING at once, and stop when told to. A repeated client
 * token returns the tasks of its first call, as RunTask's clientToken
 * does. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "launch/backends.h"

#define NONE UINT32_MAX
#define ARN_PREFIX "arn:aws:ecs:fake:000000000000:task/fake/"

/* Benchmarks start a hundred thousand tasks and more, so every lookup goes
 * through an index instead of a walk over every task: an ARN names its
 * task's place in the array, and two hash indexes find a client token's
 * first task and a startedBy's newest, whose tasks chain to the older. */
struct fake_entry {
    struct launch_entry e;
    uint32_t older_by; /* the previous task of the same startedBy, or NONE */
};

/* A string -> task map, open addressing; keys are read from the tasks,
 * their hashes kept in the slots, so that growing the map (at 65,536
 * tasks, say) rehashes without reading a key and cannot stall a burst of
 * launches for tens of milliseconds. */
struct slot {
    uint32_t task; /* or NONE */
    uint32_t hash;
};

struct index {
    struct slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

struct fake {
    pthread_mutex_t lock;
    struct fake_entry *tasks;
    size_t n;
    size_t cap;
    struct index by_token;   /* client token -> its first task */
    struct index by_started; /* startedBy -> its newest task */
    void (*on_run)(void *ctx, const struct launch_request *rq, int64_t now_ms);
    void *on_run_ctx;
};

static const char *key_of(const struct fake *f, const struct index *ix, uint32_t i)
{
    return ix == &f->by_token ? f->tasks[i].e.token : f->tasks[i].e.started_by;
}

/* The slot holding key (hash h), or the empty one where it would go; NULL
 * while the index is empty. */
static struct slot *index_slot(const struct fake *f, const struct index *ix, const char *key,
                               uint32_t h)
{
    size_t mask = ix->cap - 1;
    size_t at;

    if (ix->cap == 0)
        return NULL;
    for (at = h & mask;; at = (at + 1) & mask) {
        const struct slot *sl = &ix->slots[at];

        if (sl->task == NONE || (sl->hash == h && strcmp(key_of(f, ix, sl->task), key) == 0))
            return &ix->slots[at];
    }
}

/* The task stored under key, or NONE. */
static uint32_t index_get(const struct fake *f, const struct index *ix, const char *key)
{
    const struct slot *sl = index_slot(f, ix, key, hash_fnv32(key));

    return sl != NULL ? sl->task : NONE;
}

/* Room for one more key (at most half full). 0 or ECS_ENOMEM. */
static int index_reserve(struct index *ix)
{
    struct index grown;
    size_t i;

    if ((ix->n + 1) * 2 <= ix->cap)
        return 0;
    grown.cap = ix->cap == 0 ? 64 : ix->cap * 2;
    grown.n = ix->n;
    grown.slots = malloc(grown.cap * sizeof(*grown.slots));
    if (grown.slots == NULL)
        return ECS_ENOMEM;
    for (i = 0; i < grown.cap; i++)
        grown.slots[i].task = NONE;
    /* keys are distinct: each goes to the first free slot of its chain */
    for (i = 0; i < ix->cap; i++) {
        size_t at;

        if (ix->slots[i].task == NONE)
            continue;
        for (at = ix->slots[i].hash & (grown.cap - 1); grown.slots[at].task != NONE;
             at = (at + 1) & (grown.cap - 1))
            ;
        grown.slots[at] = ix->slots[i];
    }
    free(ix->slots);
    *ix = grown;
    return 0;
}

/* Store task i under its key, replacing an older task; index_reserve()
 * made room. */
static void index_put(const struct fake *f, struct index *ix, uint32_t i)
{
    const char *key = key_of(f, ix, i);
    uint32_t h = hash_fnv32(key);
    struct slot *sl = index_slot(f, ix, key, h);

    if (sl->task == NONE)
        ix->n++;
    sl->task = i;
    sl->hash = h;
}

/* The task of an ARN this fake made, or NULL. */
static struct fake_entry *find(struct fake *f, const char *arn)
{
    const char *hex;
    char *end = NULL;
    unsigned long long id;

    if (strncmp(arn, ARN_PREFIX, strlen(ARN_PREFIX)) != 0)
        return NULL;
    hex = arn + strlen(ARN_PREFIX);
    id = strtoull(hex, &end, 16);
    if (end == hex || *end != '\0' || id == 0 || id > f->n ||
        strcmp(f->tasks[id - 1].e.t.arn, arn) != 0)
        return NULL;
    return &f->tasks[id - 1];
}

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
        free(f->tasks[i].e.started_by);
        free(f->tasks[i].e.token);
    }
    /* the embedded launch_tasks are freed through a result of them */
    if (f->n > 0) {
        all.tasks = malloc(f->n * sizeof(*all.tasks));
        if (all.tasks != NULL) {
            for (i = 0; i < f->n; i++)
                all.tasks[i] = f->tasks[i].e.t;
            all.ntasks = f->n;
            launch_result_clear(&all);
        }
    }
    free(f->tasks);
    free(f->by_token.slots);
    free(f->by_started.slots);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* Append one task of rq, indexed. 0 or ECS_ENOMEM. */
static int add_task(struct fake *f, const struct launch_request *rq, bool first)
{
    struct fake_entry ft;
    char arn[128];
    uint32_t i = (uint32_t)f->n;

    if (f->n >= NONE - 1)
        return ECS_ENOMEM;
    if (f->n == f->cap) {
        size_t ncap = f->cap == 0 ? 64 : f->cap * 2;
        struct fake_entry *nt = realloc(f->tasks, ncap * sizeof(*nt));

        if (nt == NULL)
            return ECS_ENOMEM;
        f->tasks = nt;
        f->cap = ncap;
    }
    if (index_reserve(&f->by_token) != 0 || index_reserve(&f->by_started) != 0)
        return ECS_ENOMEM;
    memset(&ft, 0, sizeof(ft));
    /* the ARN ends in the task's place + 1, which find() reads back */
    snprintf(arn, sizeof(arn), ARN_PREFIX "%032zx", f->n + 1);
    ft.e.t.arn = strdup(arn);
    ft.e.t.status = LAUNCH_RUNNING;
    ft.e.t.started_ms = clock_wall_ms();
    ft.e.started_by = rq->started_by != NULL ? strdup(rq->started_by) : NULL;
    ft.e.token = rq->client_token != NULL ? strdup(rq->client_token) : NULL;
    if (ft.e.t.arn == NULL || (rq->started_by != NULL && ft.e.started_by == NULL) ||
        (rq->client_token != NULL && ft.e.token == NULL)) {
        free(ft.e.t.arn);
        free(ft.e.started_by);
        free(ft.e.token);
        return ECS_ENOMEM;
    }
    ft.older_by = ft.e.started_by != NULL ? index_get(f, &f->by_started, ft.e.started_by) : NONE;
    f->tasks[f->n++] = ft;
    if (ft.e.started_by != NULL)
        index_put(f, &f->by_started, i);
    /* a token's tasks are one call's, side by side from its first */
    if (first && ft.e.token != NULL)
        index_put(f, &f->by_token, i);
    return 0;
}

static int fake_run(void *impl, const struct launch_request *rq, struct launch_result *out,
                    char *msg, size_t msglen)
{
    struct fake *f = impl;
    uint32_t k = NONE;
    int rc = 0;
    int i;

    if (f->on_run != NULL)
        f->on_run(f->on_run_ctx, rq, clock_wall_ms());
    pthread_mutex_lock(&f->lock);
    if (rq->client_token != NULL)
        k = index_get(f, &f->by_token, rq->client_token);
    if (k != NONE) {
        for (; k < f->n && f->tasks[k].e.token != NULL &&
               strcmp(f->tasks[k].e.token, rq->client_token) == 0 && rc == 0;
             k++)
            rc = launch_result_add(out, &f->tasks[k].e.t);
        goto done;
    }
    for (i = 0; i < rq->count && rc == 0; i++) {
        rc = add_task(f, rq, i == 0);
        if (rc == 0)
            rc = launch_result_add(out, &f->tasks[f->n - 1].e.t);
    }
done:
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "fake launcher: out of memory");
    return 0;
}

/* ARNs of started_by's tasks not yet stopped, oldest first. */
static int active_of(struct fake *f, const char *started_by, char ***arns, size_t *n)
{
    uint32_t k;
    size_t i;

    for (k = index_get(f, &f->by_started, started_by); k != NONE; k = f->tasks[k].older_by) {
        char **nv;

        if (f->tasks[k].e.t.status == LAUNCH_STOPPED)
            continue;
        nv = realloc(*arns, (*n + 1) * sizeof(*nv));
        if (nv == NULL)
            return ECS_ENOMEM;
        *arns = nv;
        (*arns)[*n] = strdup(f->tasks[k].e.t.arn);
        if ((*arns)[*n] == NULL)
            return ECS_ENOMEM;
        (*n)++;
    }
    for (i = 0; i < *n / 2; i++) {
        char *swap = (*arns)[i];

        (*arns)[i] = (*arns)[*n - 1 - i];
        (*arns)[*n - 1 - i] = swap;
    }
    return 0;
}

static int fake_list(void *impl, const char *started_by, const json_t *settings, char ***arns,
                     size_t *n, char *msg, size_t msglen)
{
    (void)settings;
    struct fake *f = impl;
    int rc;

    pthread_mutex_lock(&f->lock);
    rc = active_of(f, started_by, arns, n);
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "fake launcher: out of memory");
    return 0;
}

/* Whether a task's client token is one of run_token's batches: the
 * scheduler's client tokens are the run token, '-', and a batch name, so
 * the fake keeps no run token of its own (a benchmark starts a hundred
 * thousand tasks). */
static bool of_run(const struct fake_entry *ft, const char *run_token)
{
    size_t n = strlen(run_token);

    return ft->e.token != NULL && strncmp(ft->e.token, run_token, n) == 0 && ft->e.token[n] == '-';
}

/* A run's tasks, newest first along its startedBy's chain (a recovery
 * looks once per firing it finds unrecorded, so a walk is fine). */
static int fake_find_run(void *impl, const char *started_by, const char *run_token,
                         const json_t *settings, struct launch_result *out, char *msg,
                         size_t msglen)
{
    struct fake *f = impl;
    uint32_t k;
    int rc = 0;

    (void)settings;
    pthread_mutex_lock(&f->lock);
    if (run_token == NULL)
        k = NONE;
    else if (started_by != NULL)
        k = index_get(f, &f->by_started, started_by);
    else
        k = f->n > 0 ? (uint32_t)(f->n - 1) : NONE;
    for (; k != NONE && rc == 0; k = started_by != NULL ? f->tasks[k].older_by : k - 1) {
        if (of_run(&f->tasks[k], run_token))
            rc = launch_result_add(out, &f->tasks[k].e.t);
        if (started_by == NULL && k == 0)
            break;
    }
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "fake launcher: out of memory");
    return 0;
}

static int fake_describe(void *impl, const char *const *arns, size_t n, struct launch_result *out,
                         char *msg, size_t msglen)
{
    struct fake *f = impl;
    size_t i;
    int rc = 0;

    pthread_mutex_lock(&f->lock);
    for (i = 0; i < n && rc == 0; i++) {
        const struct fake_entry *ft = find(f, arns[i]);

        rc = ft != NULL ? launch_result_add(out, &ft->e.t) : launch_result_fail(out, "MISSING");
    }
    pthread_mutex_unlock(&f->lock);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "fake launcher: out of memory");
    return 0;
}

static int fake_stop(void *impl, const char *arn, const char *reason, char *msg, size_t msglen)
{
    struct fake *f = impl;
    struct fake_entry *ft;
    int rc = 0;

    pthread_mutex_lock(&f->lock);
    ft = find(f, arn);
    if (ft == NULL) {
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no task %s", arn);
    } else if (ft->e.t.status != LAUNCH_STOPPED) {
        ft->e.t.status = LAUNCH_STOPPED;
        ft->e.t.stopped_ms = clock_wall_ms();
        ft->e.t.stop_reason = strdup(reason != NULL ? reason : "stopped");
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
    .find_run = fake_find_run,
};
