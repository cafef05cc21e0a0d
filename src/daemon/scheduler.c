/* scheduler.c - one timer thread sleeping until the heap's earliest fire
 * time, a pool of workers doing the launches. Each job has a slot; a slot
 * remembers the last second it fired so that no change, restart of the
 * timer or clock step can fire the same scheduled second twice. Store
 * reads happen outside the lock. */
#include "daemon/scheduler.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/heap.h"
#include "core/isotime.h"
#include "core/job.h"
#include "core/tz_cache.h"

#define WORKERS_DEFAULT 4
#define BATCH_MAX 10
#define COUNT_CAP 50

struct slot {
    char *id;       /* NULL when free */
    int64_t last_fired;
};

struct firing {
    uint32_t slot;
    char *id;
    int64_t when;
};

struct scheduler {
    struct scheduler_config cfg;
    struct tz_cache *zones;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the timer: the heap's head changed or stop */
    pthread_cond_t work; /* the workers: a firing is queued or stop */
    struct heap heap;
    struct slot *slots;
    size_t nslots;
    struct firing *queue;
    size_t qhead;
    size_t qlen;
    size_t qcap;
    bool stopping;
    pthread_t timer;
    pthread_t *workers;
    int nworkers;
    int timer_started;
    struct scheduler_stats stats;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t fnv32(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

void scheduler_started_by(const char *id, char *buf, size_t len)
{
    if (strlen(id) + 8 <= 36)
        snprintf(buf, len, "ecsched-%s", id);
    else
        snprintf(buf, len, "ecsched-%.19s-%08" PRIx32, id, fnv32(id));
}

/* The job's next fire time at or after `from`: 0 and *next, ECS_ENEVER
 * (no more, suspended), ECS_ENOTFOUND (deleted) or another error. */
static int next_fire(struct scheduler *s, const char *id, int64_t from, int64_t *next, char *msg,
                     size_t msglen)
{
    struct store_record r;
    json_error_t err;
    json_t *job;
    const struct tz *zone = NULL;
    time_t t = 0;
    int rc = store_get(s->cfg.store, id, &r, msg, msglen);

    if (rc != 0)
        return rc;
    job = json_loads(r.data, 0, &err);
    store_record_clear(&r);
    if (job == NULL)
        return ecs_fail(ECS_EINVAL, msg, msglen, "stored job is not JSON: %s", err.text);
    rc = tz_cache_get(s->zones, job_zone_name(job), &zone, msg, msglen);
    if (rc == 0)
        rc = job_next_run(job, zone, (time_t)from, &t, msg, msglen);
    json_decref(job);
    *next = (int64_t)t;
    return rc;
}

/* The slot of id, or -1; the lock is held. */
static long find_slot(const struct scheduler *s, const char *id)
{
    size_t i;

    for (i = 0; i < s->nslots; i++) {
        if (s->slots[i].id != NULL && strcmp(s->slots[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

/* The slot of id, made if missing; -1 on allocation failure. Lock held. */
static long take_slot(struct scheduler *s, const char *id)
{
    long found = find_slot(s, id);
    size_t i;
    struct slot *ns;

    if (found >= 0)
        return found;
    for (i = 0; i < s->nslots; i++) {
        if (s->slots[i].id == NULL)
            break;
    }
    if (i == s->nslots) {
        ns = realloc(s->slots, (s->nslots + 1) * sizeof(*ns));
        if (ns == NULL)
            return -1;
        s->slots = ns;
        s->nslots++;
    }
    s->slots[i].id = strdup(id);
    s->slots[i].last_fired = INT64_MIN;
    if (s->slots[i].id == NULL)
        return -1;
    return (long)i;
}

/* Re-aim one job: its next fire time after the last one it fired (and
 * not before `now`). */
static void rearm(struct scheduler *s, const char *id, int64_t now)
{
    int64_t last;
    int64_t from;
    int64_t next = 0;
    long slot;
    char msg[512];
    int rc;

    pthread_mutex_lock(&s->lock);
    slot = find_slot(s, id);
    last = slot >= 0 ? s->slots[slot].last_fired : INT64_MIN;
    pthread_mutex_unlock(&s->lock);
    from = last != INT64_MIN && last + 1 > now ? last + 1 : now;
    msg[0] = '\0';
    rc = next_fire(s, id, from, &next, msg, sizeof(msg));
    if (rc != 0 && rc != ECS_ENEVER && rc != ECS_ENOTFOUND)
        /* a stored job that no longer computes is said out loud, not skipped silently */
        log_event(s->cfg.log, LOG_ERROR, "job.unschedulable",
                  json_pack("{s:s, s:s}", "job", id, "error", msg));

    pthread_mutex_lock(&s->lock);
    slot = rc == ECS_ENOTFOUND ? find_slot(s, id) : take_slot(s, id);
    if (slot >= 0) {
        if (rc == 0) {
            heap_set(&s->heap, (uint32_t)slot, next);
        } else {
            heap_remove(&s->heap, (uint32_t)slot);
            if (rc == ECS_ENOTFOUND) {
                free(s->slots[slot].id);
                s->slots[slot].id = NULL;
            }
        }
    }
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

/* The first whole second not yet begun: a job created or changed at
 * :31.714 first fires at :32, not 714 ms late at :31. */
static int64_t next_whole_second(void)
{
    return (now_ms() + 999) / 1000;
}

void scheduler_job_changed(struct scheduler *s, const char *id)
{
    rearm(s, id, next_whole_second());
}

/* Launch what the job still needs for the firing at `when`. */
static void fire(struct scheduler *s, const char *id, int64_t when)
{
    struct store_record r;
    json_error_t err;
    json_t *job;
    char msg[512];
    char started_by[40];
    char **active = NULL;
    size_t nactive = 0;
    json_int_t expected;
    const json_t *max;
    const char *family;
    int64_t need;
    int batch = 0;
    uint64_t started = 0;
    uint64_t errors = 0;

    msg[0] = '\0';
    if (store_get(s->cfg.store, id, &r, msg, sizeof(msg)) != 0)
        return;
    job = json_loads(r.data, 0, &err);
    store_record_clear(&r);
    if (job == NULL)
        return;
    expected = json_integer_value(json_object_get(job, "taskCount"));
    if (expected < 1)
        expected = 1;
    max = json_object_get(job, "maxCount");
    if (json_is_integer(max) && json_integer_value(max) < expected)
        expected = json_integer_value(max);
    if (expected > COUNT_CAP)
        expected = COUNT_CAP;
    family = json_string_value(json_object_get(job, "taskDefinition"));
    if (family == NULL)
        family = id;
    scheduler_started_by(id, started_by, sizeof(started_by));
    if (launcher_list_active(s->cfg.launcher, started_by, json_object_get(job, "launch"), &active, &nactive, msg, sizeof(msg)) != 0)
        errors++;
    launch_strings_free(&active, nactive);
    for (need = expected - (int64_t)nactive; need > 0 && errors == 0; need -= BATCH_MAX) {
        struct launch_request rq;
        struct launch_result res;
        char token[64];

        /* the same firing retried asks for the same tasks */
        snprintf(token, sizeof(token), "%s-%" PRId64 "-%d", started_by, when, batch++);
        rq.family = family;
        rq.started_by = started_by;
        rq.client_token = token;
        rq.count = need > BATCH_MAX ? BATCH_MAX : (int)need;
        rq.overrides = json_object_get(job, "overrides");
        rq.job_id = id;
        rq.settings = json_object_get(job, "launch");
        if (launcher_run_task(s->cfg.launcher, &rq, &res, msg, sizeof(msg)) != 0) {
            errors++;
            break;
        }
        started += res.ntasks;
        errors += res.nfailures;
        launch_result_clear(&res);
    }
    {
        char when_text[48];

        isotime_format(when, 0, when_text, sizeof(when_text));
        log_event(s->cfg.log, errors > 0 ? LOG_WARN : LOG_INFO, "job.fired",
                  json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "job", id, "scheduled",
                            when_text, "lateMs", (json_int_t)(now_ms() - when * 1000), "expected",
                            (json_int_t)expected, "active", (json_int_t)nactive, "started",
                            (json_int_t)started, "failures", (json_int_t)errors));
        if (errors > 0 && msg[0] != '\0')
            log_event(s->cfg.log, LOG_ERROR, "job.launch_failed",
                      json_pack("{s:s, s:s}", "job", id, "error", msg));
    }
    json_decref(job);
    pthread_mutex_lock(&s->lock);
    s->stats.tasks_started += started;
    s->stats.launch_errors += errors;
    pthread_mutex_unlock(&s->lock);
}

static void *worker_main(void *arg)
{
    struct scheduler *s = arg;

    for (;;) {
        struct firing f;
        int64_t late;

        pthread_mutex_lock(&s->lock);
        while (!s->stopping && s->qlen == 0)
            pthread_cond_wait(&s->work, &s->lock);
        if (s->qlen == 0) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        f = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        late = now_ms() - f.when * 1000;
        if (late > s->stats.max_lateness_ms)
            s->stats.max_lateness_ms = late;
        pthread_mutex_unlock(&s->lock);
        fire(s, f.id, f.when);
        rearm(s, f.id, f.when + 1);
        free(f.id);
    }
}

/* Queue a firing; the lock is held. */
static int enqueue(struct scheduler *s, uint32_t slot, int64_t when)
{
    struct firing f;

    if (s->qlen == s->qcap) {
        size_t ncap = s->qcap == 0 ? 64 : s->qcap * 2;
        struct firing *nq = malloc(ncap * sizeof(*nq));
        size_t i;

        if (nq == NULL)
            return ECS_ENOMEM;
        for (i = 0; i < s->qlen; i++)
            nq[i] = s->queue[(s->qhead + i) % s->qcap];
        free(s->queue);
        s->queue = nq;
        s->qhead = 0;
        s->qcap = ncap;
    }
    f.slot = slot;
    f.when = when;
    f.id = strdup(s->slots[slot].id);
    if (f.id == NULL)
        return ECS_ENOMEM;
    s->queue[(s->qhead + s->qlen) % s->qcap] = f;
    s->qlen++;
    s->stats.firings++;
    pthread_cond_signal(&s->work);
    return 0;
}

static void *timer_main(void *arg)
{
    struct scheduler *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct heap_entry head;
        struct timespec deadline;

        if (heap_peek(&s->heap, &head) != 0) {
            pthread_cond_wait(&s->wake, &s->lock);
            continue;
        }
        if (head.when * 1000 > now_ms()) {
            /* an absolute wall-clock deadline: a clock step re-aims it */
            deadline.tv_sec = (time_t)head.when;
            deadline.tv_nsec = 0;
            pthread_cond_timedwait(&s->wake, &s->lock, &deadline);
            continue;
        }
        heap_remove(&s->heap, head.slot);
        s->slots[head.slot].last_fired = head.when;
        if (enqueue(s, head.slot, head.when) != 0)
            s->stats.launch_errors++;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int load_all(struct scheduler *s, char *msg, size_t msglen)
{
    struct store_record *recs = NULL;
    size_t n = 0;
    size_t total = 0;
    size_t i;
    int64_t now = next_whole_second();
    int rc = store_list(s->cfg.store, 0, SIZE_MAX, &recs, &n, &total, msg, msglen);

    if (rc != 0)
        return rc;
    for (i = 0; i < n; i++)
        rearm(s, recs[i].id, now);
    store_records_free(&recs, n);
    log_event(s->cfg.log, LOG_INFO, "scheduler.started",
              json_pack("{s:I, s:I}", "jobs", (json_int_t)n, "scheduled",
                        (json_int_t)heap_size(&s->heap)));
    return 0;
}

int scheduler_start(const struct scheduler_config *cfg, struct scheduler **out, char *msg,
                    size_t msglen)
{
    struct scheduler *s = calloc(1, sizeof(*s));
    int rc;
    int i;

    *out = NULL;
    if (s == NULL || tz_cache_init(&s->zones) != 0) {
        free(s);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the scheduler");
    }
    s->cfg = *cfg;
    s->nworkers = cfg->workers > 0 ? cfg->workers : WORKERS_DEFAULT;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL); /* CLOCK_REALTIME, the default */
    pthread_cond_init(&s->work, NULL);
    heap_init(&s->heap);
    rc = load_all(s, msg, msglen);
    s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
    if (rc == 0 && s->workers == NULL)
        rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the scheduler");
    if (rc == 0 && pthread_create(&s->timer, NULL, timer_main, s) != 0)
        rc = ecs_fail(ECS_EIO, msg, msglen, "cannot start the timer thread");
    if (rc == 0)
        s->timer_started = 1;
    for (i = 0; rc == 0 && i < s->nworkers; i++) {
        if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0) {
            s->nworkers = i;
            rc = ecs_fail(ECS_EIO, msg, msglen, "cannot start worker threads");
        }
    }
    if (rc != 0) {
        if (s->workers == NULL)
            s->nworkers = 0;
        scheduler_stop(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void scheduler_stop(struct scheduler **sp)
{
    struct scheduler *s;
    size_t i;
    int w;

    if (sp == NULL || *sp == NULL)
        return;
    s = *sp;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
    if (s->timer_started)
        pthread_join(s->timer, NULL);
    for (w = 0; w < s->nworkers; w++)
        pthread_join(s->workers[w], NULL);
    for (i = 0; i < s->qlen; i++)
        free(s->queue[(s->qhead + i) % s->qcap].id);
    for (i = 0; i < s->nslots; i++)
        free(s->slots[i].id);
    free(s->queue);
    free(s->slots);
    free(s->workers);
    heap_free(&s->heap);
    tz_cache_free(&s->zones);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sp = NULL;
}

void scheduler_get_stats(struct scheduler *s, struct scheduler_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}
