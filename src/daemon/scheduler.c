/* scheduler.c - the scheduler's front door: every job's slot, holding its
 * compiled plan (so the timer computes next fire times without touching
 * the store) and the last second it considered (so no change, restart of
 * the timer or clock step fires the same second twice; the store's claim
 * on (job, second) makes that hold across restarts and daemons), and the
 * start and stop of the timer, workers and tracker. */
#include "daemon/scheduler.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/isotime.h"
#include "daemon/run.h"
#include "daemon/sched_internal.h"
#include "core/hash.h"

void scheduler_started_by(const char *id, char *buf, size_t len)
{
    if (strlen(id) + 8 <= 36)
        snprintf(buf, len, "ecsched-%s", id);
    else
        snprintf(buf, len, "ecsched-%.19s-%08" PRIx32, id, hash_fnv32(id));
}

int64_t sched_now_ms(const struct scheduler *s)
{
    if (s->cfg.now_ms != NULL)
        return s->cfg.now_ms(s->cfg.clock_ctx);
    return clock_wall_ms();
}

/* An injected clock moves when its test says so (scheduler_clock_moved),
 * but is looked at every few real milliseconds as well, so a test that
 * forgets to say so is slower, never stuck. */
#define INJECTED_STEP_MS 20

void sched_wait(struct scheduler *s, pthread_cond_t *c, int64_t until_ms)
{
    struct timespec deadline;

    if (s->cfg.now_ms == NULL) {
        /* an absolute wall-clock deadline: a clock step re-aims it */
        deadline = clock_deadline(until_ms);
    } else {
        int64_t left = until_ms - sched_now_ms(s);

        deadline = clock_deadline(
            clock_wall_ms() + (left < INJECTED_STEP_MS ? (left > 0 ? left : 0) : INJECTED_STEP_MS));
    }
    pthread_cond_timedwait(c, &s->lock, &deadline);
}

/* How long a delete waits for the job's launches in flight */
#define DELETE_WAIT_MS 10000

void scheduler_job_deleting(struct scheduler *s, const char *id)
{
    int64_t until = clock_wall_ms() + DELETE_WAIT_MS;
    long i;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct timespec deadline = clock_deadline(until);

        i = sched_find_slot(s, id);
        if (i < 0 || s->slots[i].held == 0 || s->stopping || clock_wall_ms() >= until)
            break;
        pthread_cond_timedwait(&s->done, &s->lock, &deadline);
    }
    pthread_mutex_unlock(&s->lock);
}

void scheduler_clock_moved(struct scheduler *s)
{
    pthread_mutex_lock(&s->lock);
    pthread_cond_broadcast(&s->wake);
    pthread_cond_broadcast(&s->track);
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ */
/* Slots and their id index (lock held throughout)                     */

long sched_find_slot(const struct scheduler *s, const char *id)
{
    uint32_t i;

    if (s->nbuckets == 0)
        return -1;
    for (i = s->buckets[hash_fnv32(id) & (s->nbuckets - 1)]; i != NONE; i = s->slots[i].chain) {
        if (strcmp(s->slots[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

static int rehash(struct scheduler *s, size_t nbuckets)
{
    uint32_t *b = malloc(nbuckets * sizeof(*b));
    size_t i;

    if (b == NULL)
        return ECS_ENOMEM;
    for (i = 0; i < nbuckets; i++)
        b[i] = NONE;
    for (i = 0; i < s->nslots; i++) {
        uint32_t h;

        if (s->slots[i].id == NULL)
            continue;
        h = hash_fnv32(s->slots[i].id) & (uint32_t)(nbuckets - 1);
        s->slots[i].chain = b[h];
        b[h] = (uint32_t)i;
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = nbuckets;
    return 0;
}

/* The slot of id, made if missing; -1 on allocation failure. */
static long take_slot(struct scheduler *s, const char *id)
{
    long found = sched_find_slot(s, id);
    uint32_t i;
    uint32_t h;

    if (found >= 0)
        return found;
    if ((s->nslots + 1) * 2 > s->nbuckets &&
        rehash(s, s->nbuckets == 0 ? 64 : s->nbuckets * 2) != 0)
        return -1;
    if (s->nfree > 0) {
        i = s->free_slots[--s->nfree];
    } else {
        struct slot *ns = realloc(s->slots, (s->nslots + 1) * sizeof(*ns));
        uint32_t *nf = realloc(s->free_slots, (s->nslots + 1) * sizeof(*nf));

        if (ns != NULL)
            s->slots = ns;
        if (nf != NULL)
            s->free_slots = nf;
        if (ns == NULL || nf == NULL)
            return -1;
        i = (uint32_t)s->nslots++;
    }
    memset(&s->slots[i], 0, sizeof(s->slots[i]));
    s->slots[i].id = strdup(id);
    if (s->slots[i].id == NULL) {
        s->free_slots[s->nfree++] = i;
        return -1;
    }
    s->slots[i].last_fired = INT64_MIN;
    h = hash_fnv32(id) & (uint32_t)(s->nbuckets - 1);
    s->slots[i].chain = s->buckets[h];
    s->buckets[h] = i;
    return (long)i;
}

static void drop_slot(struct scheduler *s, uint32_t i)
{
    uint32_t *link = &s->buckets[hash_fnv32(s->slots[i].id) & (s->nbuckets - 1)];

    while (*link != i)
        link = &s->slots[*link].chain;
    *link = s->slots[i].chain;
    heap_remove(&s->heap, i);
    job_plan_free(&s->slots[i].plan);
    free(s->slots[i].id);
    free(s->slots[i].after);
    sched_missed_forget(&s->slots[i]);
    memset(&s->slots[i], 0, sizeof(s->slots[i]));
    s->free_slots[s->nfree++] = i;
}

/* ------------------------------------------------------------------ */
/* Planning                                                            */

/* What the timer needs of a job, built outside the lock. */
struct plan_update {
    int rc; /* 0, ECS_ENEVER (suspended), ECS_ENOTFOUND (deleted), or an error */
    struct job_plan plan;
    bool once;
    int64_t deadline;
    char *after; /* the upstream of a pipeline step not suspended; NULL: none */
    unsigned char after_on;
    int64_t changed_ms; /* the record's */
};

/* A job's `after`, for the slot: which job, on which endings. */
static void plan_after(const json_t *job, struct plan_update *u)
{
    const json_t *after = json_object_get(job, "after");
    const char *up = json_string_value(json_object_get(after, "job"));
    const char *on = json_string_value(json_object_get(after, "on"));

    if (up == NULL || json_is_true(json_object_get(job, "suspended")))
        return;
    u->after = strdup(up);
    if (on != NULL && strcmp(on, "failure") == 0)
        u->after_on = AFTER_FAILURE;
    else if (on != NULL && strcmp(on, "completion") == 0)
        u->after_on = AFTER_SUCCESS | AFTER_FAILURE | AFTER_UNKNOWN;
    else
        u->after_on = AFTER_SUCCESS;
}

static void plan_job(struct scheduler *s, const char *id, const char *data, struct plan_update *u)
{
    json_error_t err;
    json_t *job = json_loads(data, 0, &err);
    const struct tz *zone = NULL;
    const char *missed;
    char msg[512];

    memset(u, 0, sizeof(*u));
    msg[0] = '\0';
    if (job == NULL) {
        u->rc = ecs_fail(ECS_EINVAL, msg, sizeof(msg), "stored job is not JSON: %s", err.text);
    } else {
        u->rc = tz_cache_get(s->zones, job_zone_name(job), &zone, msg, sizeof(msg));
        if (u->rc == 0)
            u->rc = job_plan_init(&u->plan, job, zone, msg, sizeof(msg));
        missed = json_string_value(json_object_get(job, "missedRuns"));
        u->once = missed == NULL || strcmp(missed, "skip") != 0;
        u->deadline = json_is_integer(json_object_get(job, "startingDeadlineSeconds"))
                          ? json_integer_value(json_object_get(job, "startingDeadlineSeconds"))
                          : DEADLINE_DEFAULT;
        plan_after(job, u);
        pollers_sync(s->pollers, id, job);
        json_decref(job);
    }
    if (u->rc != 0 && u->rc != ECS_ENEVER)
        /* a stored job that no longer computes is said out loud, not skipped
         * silently */
        log_event(s->cfg.log, LOG_ERROR, "job.unschedulable",
                  json_pack("{s:s, s:s}", "job", id, "error", msg));
}

/* Aim slot i at its next fire time after the last second it considered
 * and not before `now`. Lock held. */
void sched_aim(struct scheduler *s, uint32_t i, int64_t now)
{
    struct slot *sl = &s->slots[i];
    int64_t from =
        sl->last_fired != INT64_MIN && sl->last_fired + 1 > now ? sl->last_fired + 1 : now;
    time_t next = 0;

    if (sl->planned && job_plan_next(&sl->plan, (time_t)from, &next) == 0)
        heap_set(&s->heap, i, (int64_t)next);
    else
        heap_remove(&s->heap, i);
    pthread_cond_signal(&s->wake);
}

/* Install a plan in the job's slot (taking u->plan) and aim it. Lock held. */
static void install(struct scheduler *s, const char *id, struct plan_update *u, int64_t now)
{
    long i = u->rc == ECS_ENOTFOUND ? sched_find_slot(s, id) : take_slot(s, id);

    if (i < 0 || u->rc == ECS_ENOTFOUND) {
        free(u->after);
        u->after = NULL;
    }
    if (i < 0) {
        job_plan_free(&u->plan);
        return;
    }
    if (u->rc == ECS_ENOTFOUND) {
        drop_slot(s, (uint32_t)i);
        pthread_cond_signal(&s->wake);
        return;
    }
    job_plan_free(&s->slots[i].plan);
    s->slots[i].plan = u->plan;
    s->slots[i].planned = u->rc == 0;
    s->slots[i].once = u->once;
    s->slots[i].deadline = u->deadline;
    free(s->slots[i].after);
    s->slots[i].after = u->after;
    s->slots[i].after_on = u->after_on;
    s->slots[i].changed_ms = u->changed_ms;
    u->after = NULL;
    memset(&u->plan, 0, sizeof(u->plan));
    sched_aim(s, (uint32_t)i, now);
}

/* Re-read one job and re-aim it, from `now` on. */
static void rearm(struct scheduler *s, const char *id, int64_t now)
{
    struct store_record r;
    struct plan_update u;
    char msg[512];
    int rc = store_get(s->cfg.store, id, &r, msg, sizeof(msg));

    if (rc == 0) {
        plan_job(s, id, r.data, &u);
        u.changed_ms = r.changed_ms;
        store_record_clear(&r);
    } else {
        memset(&u, 0, sizeof(u));
        u.rc = rc == ECS_ENOTFOUND ? ECS_ENOTFOUND : rc;
        if (rc == ECS_ENOTFOUND)
            pollers_sync(s->pollers, id, NULL);
        if (rc != ECS_ENOTFOUND)
            log_event(s->cfg.log, LOG_ERROR, "job.unreadable",
                      json_pack("{s:s, s:s}", "job", id, "error", msg));
        if (rc != ECS_ENOTFOUND)
            return; /* keep the plan it had: the store may be back soon */
    }
    pthread_mutex_lock(&s->lock);
    install(s, id, &u, now);
    pthread_mutex_unlock(&s->lock);
}

/* The first whole second not yet begun: a job created or changed at
 * :31.714 first fires at :32, not 714 ms late at :31. */
static int64_t next_whole_second(const struct scheduler *s)
{
    return (sched_now_ms(s) + 999) / 1000;
}

void scheduler_job_changed(struct scheduler *s, const char *id)
{
    rearm(s, id, next_whole_second(s));
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */

/* Seconds up to which job record r is accounted for without any run: a
 * job fires only after it was created or last changed (a job created at
 * :31.7 first fires at :32). INT64_MIN when the store cannot say. */
static int64_t changed_second(const struct store_record *r)
{
    if (r->changed_ms <= 0)
        return INT64_MIN;
    return (r->changed_ms + 999) / 1000 - 1;
}

/* Runs a crash left claimed and unlaunched (pending, no task, not an s3
 * object's, which its message's redelivery retries): each is recovered
 * now, its launcher asked what it had started, page by page. */
static void recover_pending(struct scheduler *s)
{
    int64_t after = 0;

    for (;;) {
        struct store_run *runs = NULL;
        size_t n = 0;
        size_t total = 0;
        size_t i;
        char msg[512];

        if (store_run_query(s->cfg.store, STORE_RUNS_ACTIVE_AFTER, NULL, (size_t)after, ACTIVE_MAX,
                            &runs, &n, &total, msg, sizeof(msg)) != 0) {
            log_event(s->cfg.log, LOG_ERROR, "runs.unreadable", json_pack("{s:s}", "error", msg));
            return;
        }
        for (i = 0; i < n; i++) {
            json_error_t err;
            json_t *run = json_loads(runs[i].data, 0, &err);

            after = runs[i].id;
            if (run != NULL && sched_run_unlaunched(&runs[i], run))
                sched_run_recover(s, runs[i].job_id, runs[i].id);
            json_decref(run);
        }
        store_runs_free(&runs, n);
        if (n < ACTIVE_MAX)
            return;
    }
}

/* How far back a restart looks for ended runs whose pipeline steps were
 * never claimed (the daemon died between the two writes) */
#define STEPS_LOOK_BACK 20

/* The upstream jobs of the pipeline steps, each once. Lock held. */
static size_t upstreams(struct scheduler *s, char ***out)
{
    size_t n = 0;
    size_t i;
    size_t k;

    *out = NULL;
    for (i = 0; i < s->nslots; i++) {
        const char *up = s->slots[i].id != NULL ? s->slots[i].after : NULL;
        char **grown;

        for (k = 0; up != NULL && k < n; k++) {
            if (strcmp((*out)[k], up) == 0)
                up = NULL;
        }
        if (up == NULL)
            continue;
        grown = realloc(*out, (n + 1) * sizeof(**out));
        if (grown == NULL)
            break;
        *out = grown;
        (*out)[n] = strdup(up);
        if ((*out)[n] != NULL)
            n++;
    }
    return n;
}

/* Ended runs of an upstream job whose steps were never claimed (not
 * "followed"): their steps start now, once (the claims make a repeat
 * harmless), and only steps that existed when the run ended. */
static void recover_steps(struct scheduler *s)
{
    char **ups = NULL;
    size_t nups;
    size_t i;

    pthread_mutex_lock(&s->lock);
    nups = upstreams(s, &ups);
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < nups; i++) {
        struct store_run *runs = NULL;
        size_t n = 0;
        size_t total = 0;
        size_t k;
        char msg[512];

        if (store_run_query(s->cfg.store, STORE_RUNS_OF_JOB, ups[i], 0, STEPS_LOOK_BACK, &runs, &n,
                            &total, msg, sizeof(msg)) != 0)
            n = 0;
        for (k = 0; k < n; k++) {
            json_error_t err;
            json_t *run = json_loads(runs[k].data, 0, &err);
            const char *finished = json_string_value(json_object_get(run, "finished"));
            struct isotime it;

            if (run != NULL && run_status_final(runs[k].status) &&
                !json_is_true(json_object_get(run, "followed")) && finished != NULL &&
                isotime_parse(finished, &it, msg, sizeof(msg)) == 0)
                sched_follow(s, ups[i], runs[k].id, runs[k].status,
                             (int64_t)isotime_instant(&it, NULL) * 1000 + it.usec / 1000);
            json_decref(run);
        }
        store_runs_free(&runs, n);
        free(ups[i]);
    }
    free(ups);
}

/* Every job, planned; each resumes after the last second it accounted
 * for (fired, or recorded missed), or, when it has none, after it was
 * created or last changed, so seconds missed while no scheduler ran come due at once and
 * meet their job's missedRuns policy in on_due(), each exactly once. */
static int load_all(struct scheduler *s, char *msg, size_t msglen)
{
    struct store_record *recs = NULL;
    struct store_run *claims = NULL;
    size_t n = 0;
    size_t nclaims = 0;
    size_t total = 0;
    size_t i;
    long k;
    int64_t from;
    int64_t now = next_whole_second(s);
    int rc = store_list(s->cfg.store, 0, SIZE_MAX, &recs, &n, &total, msg, msglen);

    if (rc == 0)
        rc = store_run_query(s->cfg.store, STORE_RUNS_LAST_CLAIMED, "", 0, SIZE_MAX, &claims,
                             &nclaims, &total, msg, msglen);
    if (rc != 0) {
        store_records_free(&recs, n);
        return rc;
    }
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < n; i++) {
        struct plan_update u;

        pthread_mutex_unlock(&s->lock);
        plan_job(s, recs[i].id, recs[i].data, &u);
        u.changed_ms = recs[i].changed_ms;
        pthread_mutex_lock(&s->lock);
        install(s, recs[i].id, &u, now);
        k = sched_find_slot(s, recs[i].id);
        from = changed_second(&recs[i]);
        if (k >= 0 && from != INT64_MIN && from < now - 1) {
            s->slots[k].last_fired = from;
            sched_aim(s, (uint32_t)k, from + 1);
        }
    }
    for (i = 0; i < nclaims; i++) {
        k = sched_find_slot(s, claims[i].job_id);

        /* the last second accounted for wins over the last change: a job
         * changed while no scheduler ran still accounts for the seconds
         * before the change */
        if (k >= 0 && claims[i].scheduled < now) {
            s->slots[k].last_fired = claims[i].scheduled;
            sched_aim(s, (uint32_t)k, claims[i].scheduled + 1);
        }
    }
    pthread_mutex_unlock(&s->lock);
    recover_steps(s);
    recover_pending(s);
    store_records_free(&recs, n);
    store_runs_free(&claims, nclaims);
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
    pthread_cond_init(&s->track, NULL);
    pthread_cond_init(&s->done, NULL);
    heap_init(&s->heap);
    rc = store_claim_scheduler(cfg->store, msg, msglen);
    if (rc == 0)
        rc = cfg->triggers != NULL ? pollers_init(cfg->triggers, cfg->log, sched_on_message, s,
                                                  &s->pollers, msg, msglen)
                                   : 0;
    if (rc == 0)
        rc = load_all(s, msg, msglen);
    s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
    if (rc == 0 && s->workers == NULL)
        rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the scheduler");
    if (rc == 0 && pthread_create(&s->timer, NULL, sched_timer_main, s) != 0)
        rc = ecs_fail(ECS_EIO, msg, msglen, "cannot start the timer thread");
    if (rc == 0)
        s->timer_started = 1;
    if (rc == 0 && pthread_create(&s->tracker, NULL, sched_tracker_main, s) != 0)
        rc = ecs_fail(ECS_EIO, msg, msglen, "cannot start the tracker thread");
    if (rc == 0)
        s->tracker_started = 1;
    for (i = 0; rc == 0 && i < s->nworkers; i++) {
        if (pthread_create(&s->workers[i], NULL, sched_worker_main, s) != 0) {
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
    /* launches in flight finish, but none retries past the stop budget */
    launcher_cancel(s->cfg.launcher, clock_wall_ms() + STOP_BUDGET_MS);
    /* SQS long polls end at once; their messages come back later */
    triggers_cancel(s->cfg.triggers, clock_wall_ms() + SQS_STOP_MS);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_mutex_unlock(&s->lock);
    pollers_free(&s->pollers);
    pthread_mutex_lock(&s->lock);
    pthread_cond_broadcast(&s->wake);
    pthread_cond_broadcast(&s->work);
    pthread_cond_broadcast(&s->track);
    pthread_mutex_unlock(&s->lock);
    if (s->timer_started)
        pthread_join(s->timer, NULL);
    if (s->tracker_started)
        pthread_join(s->tracker, NULL);
    for (w = 0; w < s->nworkers; w++)
        pthread_join(s->workers[w], NULL);
    for (i = 0; i < s->qlen; i++) {
        free(s->queue[(s->qhead + i) % s->qcap].id);
        json_decref(s->queue[(s->qhead + i) % s->qcap].payload);
    }
    for (i = 0; i < s->nslots; i++) {
        job_plan_free(&s->slots[i].plan);
        free(s->slots[i].id);
        free(s->slots[i].after);
        sched_missed_forget(&s->slots[i]);
    }
    free(s->queue);
    free(s->slots);
    free(s->free_slots);
    free(s->buckets);
    free(s->inflight);
    free(s->workers);
    heap_free(&s->heap);
    tz_cache_free(&s->zones);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->track);
    pthread_cond_destroy(&s->done);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sp = NULL;
}

void scheduler_get_stats(struct scheduler *s, struct scheduler_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->workers = s->nworkers;
    out->busy = s->qlen + s->held;
    pthread_mutex_unlock(&s->lock);
}
