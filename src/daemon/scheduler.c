/* scheduler.c - one timer thread sleeping until the heap's earliest fire
 * time, a pool of workers doing the launches, and a tracker following the
 * tasks of unfinished runs. Each job has a slot holding its compiled plan,
 * so the timer computes next fire times without touching the store; a
 * slot remembers the last second it considered, so no change, restart of
 * the timer or clock step fires the same second twice, and the store's
 * claim on (job, second) makes that hold across restarts and daemons.
 * Store reads and launches happen outside the lock. */
#include "daemon/scheduler.h"
#include "daemon/poller.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/heap.h"
#include "core/isotime.h"
#include "core/job.h"
#include "core/tz_cache.h"
#include "daemon/run.h"

/* on two cores, eight workers launched a burst of 1,667 firings in two
 * thirds of the time four took: while some wait on the store's fsync or
 * on AWS, others read, claim and launch */
#define WORKERS_DEFAULT 8
#define BATCH_MAX 10
/* firings a worker takes from the queue at once, claimed in one store
 * transaction; and how many it may have launched before it records them
 * (in one more) */
#define FIRE_BATCH_MAX 64
#define FIRE_PENDING_MAX 1024
#define COUNT_CAP 50
#define POLL_DEFAULT_MS 5000
/* the tracker starts a page only when the next firing is this far off... */
#define TRACK_GAP_MS 300
/* ...looking again this often while firings are busy */
#define TRACK_RECHECK_MS 10
#define HISTORY_DEFAULT 100
#define DEADLINE_DEFAULT 60
/* SIGTERM to exit is promised within 10 s: launches may retry this long */
#define STOP_BUDGET_MS 7000
/* SQS calls (long polls above all) get this long once stopping */
#define SQS_STOP_MS 500
/* the least time a launch gets to retry, however late it starts */
#define MIN_LAUNCH_WINDOW_MS 5000
/* a firing started this many milliseconds after its time is on time, not
 * a catch-up (the timer itself may be woken a little late) */
#define ON_TIME_MS 1000
/* how many fire times a catch-up scan walks before giving up counting */
#define SCAN_MAX 1000000
/* a pending run nobody launched for this long is launched again */
#define STALE_S 5
#define DESCRIBE_MAX 100
#define ACTIVE_MAX 2000
#define NONE UINT32_MAX

struct slot {
    char *id;           /* NULL when free */
    uint32_t chain;     /* next slot in the same hash bucket */
    int64_t last_fired; /* last second considered (fired or missed) */
    struct job_plan plan;
    bool planned;
    bool once;              /* missedRuns: once (default) or skip */
    int64_t deadline;       /* startingDeadlineSeconds */
    bool busy;              /* a worker is firing this job */
    int64_t queued_when;    /* a firing that came due while busy; 0: none */
    char *after;            /* the job this one runs after (pipelines); NULL: none */
    unsigned char after_on; /* AFTER_SUCCESS | AFTER_FAILURE */
};

#define AFTER_SUCCESS 1
#define AFTER_FAILURE 2

enum firing_kind {
    FIRE_SCHEDULE, /* claim and fire a scheduled second */
    FIRE_RUN,      /* launch a stored pending run (manual, or left by a crash) */
    FIRE_MISSED,   /* record seconds that were not fired */
    FIRE_OBJECT,   /* start an s3 job's tasks for the objects of one message */
};

struct firing {
    char *id;
    enum firing_kind kind;
    int64_t when;    /* scheduled second; FIRE_MISSED: the first missed */
    int64_t run_id;  /* FIRE_RUN */
    int64_t count;   /* FIRE_MISSED: how many */
    int64_t last;    /* FIRE_MISSED: the last missed */
    bool overlapped; /* FIRE_MISSED: the job's last firing was still launching */
    json_t *payload; /* FIRE_OBJECT: the message (see trigger_s3_receive); owned */
};

struct scheduler {
    struct scheduler_config cfg;
    struct tz_cache *zones;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* the timer: the heap's head changed or stop */
    pthread_cond_t work;  /* the workers: a firing is queued or stop */
    pthread_cond_t track; /* the tracker: stop */
    struct heap heap;
    struct slot *slots;
    size_t nslots;
    uint32_t *free_slots;
    size_t nfree;
    uint32_t *buckets; /* id hash -> first slot; nbuckets is a power of two */
    size_t nbuckets;
    struct firing *queue;
    size_t qhead;
    size_t qlen;
    size_t qcap;
    bool stopping;
    pthread_t timer;
    pthread_t tracker;
    pthread_t *workers;
    int nworkers;
    int launching; /* workers claiming and launching a batch now */
    size_t held;   /* firings taken by workers and not finished yet */
    int timer_started;
    int tracker_started;
    struct scheduler_stats stats;
    struct pollers *pollers; /* s3 jobs' queues; NULL without triggers */
    int64_t *inflight;       /* ids of runs a worker is launching now */
    size_t ninflight;
    size_t capinflight;
};

void scheduler_started_by(const char *id, char *buf, size_t len)
{
    if (strlen(id) + 8 <= 36)
        snprintf(buf, len, "ecsched-%s", id);
    else
        snprintf(buf, len, "ecsched-%.19s-%08" PRIx32, id, hash_fnv32(id));
}

static void format_time(int64_t t, char *buf, size_t len)
{
    isotime_format(t, 0, buf, len);
}

/* ------------------------------------------------------------------ */
/* Slots and their id index (lock held throughout)                     */

static long find_slot(const struct scheduler *s, const char *id)
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
    long found = find_slot(s, id);
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
        u->after_on = AFTER_SUCCESS | AFTER_FAILURE;
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
static void aim(struct scheduler *s, uint32_t i, int64_t now)
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
    long i = u->rc == ECS_ENOTFOUND ? find_slot(s, id) : take_slot(s, id);

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
    u->after = NULL;
    memset(&u->plan, 0, sizeof(u->plan));
    aim(s, (uint32_t)i, now);
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
static int64_t next_whole_second(void)
{
    return (clock_wall_ms() + 999) / 1000;
}

void scheduler_job_changed(struct scheduler *s, const char *id)
{
    rearm(s, id, next_whole_second());
}

/* ------------------------------------------------------------------ */
/* The queue                                                           */

/* Queue a firing; the lock is held. id is copied. */
static int enqueue(struct scheduler *s, const struct firing *in)
{
    struct firing f = *in;

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
    f.id = strdup(in->id);
    if (f.id == NULL)
        return ECS_ENOMEM;
    json_incref(f.payload);
    s->queue[(s->qhead + s->qlen) % s->qcap] = f;
    s->qlen++;
    if (f.kind != FIRE_MISSED)
        s->stats.firings++;
    pthread_cond_signal(&s->work);
    return 0;
}

int scheduler_run_now(struct scheduler *s, const char *job_id, int64_t run_id)
{
    struct firing f = {(char *)job_id, FIRE_RUN, 0, run_id, 0, 0, false, NULL};
    int rc;

    f.when = clock_wall_ms() / 1000;
    pthread_mutex_lock(&s->lock);
    rc = enqueue(s, &f);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Firing                                                              */

static json_int_t job_int(const json_t *job, const char *key, json_int_t dflt)
{
    const json_t *j = json_object_get(job, key);

    return json_is_integer(j) ? json_integer_value(j) : dflt;
}

static void follow(struct scheduler *s, const char *upstream, int64_t run_id, const char *status);

/* The store's record of a run of job (NULL: unknown), which keeps the
 * job's history bounded once the run has ended; r->data is a new string
 * the caller frees. 0 or ECS_ENOMEM. */
static int run_record(const json_t *job, const json_t *run, const char *id, const char *claim,
                      int64_t scheduled, int64_t run_id, struct store_run *r)
{
    json_int_t keep = job_int(job, "runHistoryLimit", HISTORY_DEFAULT);

    r->id = run_id;
    r->job_id = (char *)id;
    r->claim = (char *)claim;
    r->scheduled = scheduled;
    r->status = (char *)run_status(run);
    r->ntasks = (int64_t)json_array_size(json_object_get(run, "tasks"));
    /* a job that could not be read says nothing of its limit: no pruning */
    r->keep = 0;
    if (job != NULL)
        r->keep = keep > 0 ? (size_t)keep : HISTORY_DEFAULT;
    r->data = json_dumps(run, JSON_COMPACT);
    return r->data != NULL ? 0 : ECS_ENOMEM;
}

/* Write the run (insert when *id == 0) and keep the job's history bounded;
 * a run that just ended starts the jobs that run after it. ECS_EEXIST: the
 * claim was someone else's. */
static int save_run(struct scheduler *s, const json_t *job, const char *id, const char *claim,
                    int64_t scheduled, json_t *run, int64_t *run_id, char *msg, size_t msglen)
{
    struct store_run r;
    int rc;

    if (run_record(job, run, id, claim, scheduled, *run_id, &r) != 0)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory recording a run");
    rc = store_run_put(s->cfg.store, &r, msg, msglen);
    free(r.data);
    if (rc == 0) {
        *run_id = r.id;
        if (strcmp(r.status, "succeeded") == 0 || strcmp(r.status, "failed") == 0)
            follow(s, id, r.id, r.status);
    }
    return rc;
}

/* Run ended with status: record a pending run (reason "pipeline") for
 * every job that runs after it that way, claimed once per upstream run so
 * a repeated save or a restart never starts a step twice, and launch it. */
static void follow(struct scheduler *s, const char *upstream, int64_t run_id, const char *status)
{
    unsigned char bit = strcmp(status, "succeeded") == 0 ? AFTER_SUCCESS : AFTER_FAILURE;
    char **ids = NULL;
    size_t nids = 0;
    size_t i;

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        char **grown;

        if (sl->id == NULL || sl->after == NULL || (sl->after_on & bit) == 0 ||
            strcmp(sl->after, upstream) != 0)
            continue;
        grown = realloc(ids, (nids + 1) * sizeof(*ids));
        if (grown == NULL)
            break;
        ids = grown;
        ids[nids] = strdup(sl->id);
        if (ids[nids] != NULL)
            nids++;
    }
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < nids; i++) {
        char claim[600];
        char msg[512];
        int64_t id = 0;
        json_t *run = run_new(ids[i], "pipeline", clock_wall_ms() / 1000, NULL);

        snprintf(claim, sizeof(claim), "%s@after:%s#%" PRId64, ids[i], upstream, run_id);
        if (run != NULL)
            json_object_set_new(run, "upstream",
                                json_pack("{s:s, s:I, s:s}", "job", upstream, "run",
                                          (json_int_t)run_id, "status", status));
        if (run != NULL && save_run(s, NULL, ids[i], claim, clock_wall_ms() / 1000, run, &id, msg,
                                    sizeof(msg)) == 0) {
            log_event(s->cfg.log, LOG_INFO, "pipeline.next",
                      json_pack("{s:s, s:I, s:s, s:s, s:I}", "upstream", upstream, "upstreamRun",
                                (json_int_t)run_id, "status", status, "job", ids[i], "run",
                                (json_int_t)id));
            scheduler_run_now(s, ids[i], id);
        }
        json_decref(run);
        free(ids[i]);
    }
    free(ids);
}

/* How many tasks to ask for: the seed's rule (taskCount, or the
 * trigger's count when it has one (from_trigger >= 0), capped by maxCount
 * and 50, less those active) for scheduled runs; a manual run asks for
 * taskCount whatever runs, within maxCount. */
static int64_t tasks_needed(const json_t *job, const char *reason, size_t active,
                            int64_t from_trigger, json_int_t *expected)
{
    json_int_t want = job_int(job, "taskCount", 1);
    const json_t *max = json_object_get(job, "maxCount");
    int64_t need;

    if (want < 1)
        want = 1;
    if (from_trigger >= 0)
        want = from_trigger;
    if (json_is_integer(max) && json_integer_value(max) < want)
        want = json_integer_value(max);
    if (want > COUNT_CAP)
        want = COUNT_CAP;
    *expected = want;
    if (strcmp(reason, "schedule") == 0)
        return want - (int64_t)active;
    need = want;
    if (json_is_integer(max) && json_integer_value(max) - (int64_t)active < need)
        need = json_integer_value(max) - (int64_t)active;
    return need;
}

/* The job's trigger's count (-1: none; taskCount decides), with what it saw
 * recorded on the run as "trigger". */
static int ask_trigger(struct scheduler *s, const json_t *job, json_t *run, int64_t *count,
                       char *msg, size_t msglen)
{
    json_t *detail = NULL;
    int rc;

    *count = -1;
    if (json_object_get(job, "trigger") == NULL)
        return 0;
    rc = trigger_expected(s->cfg.triggers, job, count, &detail, msg, msglen);
    if (detail != NULL)
        json_object_set_new(run, "trigger", detail);
    return rc;
}

static bool is_trigger_run(const json_t *run)
{
    const char *reason = json_string_value(json_object_get(run, "reason"));

    return reason != NULL && strcmp(reason, "trigger") == 0;
}

/* What a run's tasks learn from how it started, in every container: a
 * pipeline step its upstream run, an s3 run its object. NULL: nothing. */
static json_t *run_environment(const json_t *run)
{
    const json_t *upstream = json_object_get(run, "upstream");
    const json_t *object = json_object_get(run, "object");
    char number[32];

    if (upstream != NULL) {
        snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(upstream, "run")));
        return json_pack("{s:O?, s:s}", "ECSCHED_UPSTREAM_JOB", json_object_get(upstream, "job"),
                         "ECSCHED_UPSTREAM_RUN", number);
    }
    if (object != NULL) {
        snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(object, "size")));
        return json_pack("{s:O?, s:O?, s:s, s:O?}", "S3_BUCKET", json_object_get(object, "bucket"),
                         "S3_KEY", json_object_get(object, "key"), "S3_SIZE", number, "S3_ETAG",
                         json_object_get(object, "etag"));
    }
    return NULL;
}

/* Ask the launcher for `need` tasks in batches of 10 and record them on
 * the run (scheduled: the firing's second). Returns the number started; errors
 * are on the run. */
static uint64_t launch(struct scheduler *s, const json_t *job, const char *id,
                       const char *started_by, const char *token_base, int64_t scheduled,
                       int64_t need, json_t *run, uint64_t *errors)
{
    const char *family = json_string_value(json_object_get(job, "taskDefinition"));
    const json_t *window = json_object_get(job, "startingDeadlineSeconds");
    const char *reason = json_string_value(json_object_get(run, "reason"));
    char msg[512];
    int batch = 0;
    uint64_t started = 0;
    int64_t start = clock_wall_ms();
    int64_t deadline_ms;
    json_t *extra_env = run_environment(run);

    if (family == NULL)
        family = id;
    /* a throttled launch retries until the firing's starting deadline,
     * counted from the scheduled second (a manual run: from now), and
     * always gets a few seconds */
    deadline_ms = (json_is_integer(window) ? json_integer_value(window) : DEADLINE_DEFAULT) * 1000;
    if (reason != NULL && strcmp(reason, "schedule") == 0)
        deadline_ms += scheduled * 1000;
    else
        deadline_ms += start;
    if (deadline_ms < start + MIN_LAUNCH_WINDOW_MS)
        deadline_ms = start + MIN_LAUNCH_WINDOW_MS;
    run_set_launched(run, start);
    for (; need > 0; need -= BATCH_MAX) {
        struct launch_request rq;
        struct launch_result res;
        char token[80];

        /* the same firing retried asks for the same tasks */
        snprintf(token, sizeof(token), "%s-%d", token_base, batch++);
        rq.family = family;
        rq.started_by = started_by;
        rq.client_token = token;
        rq.count = need > BATCH_MAX ? BATCH_MAX : (int)need;
        rq.overrides = json_object_get(run, "overrides") != NULL
                           ? json_object_get(run, "overrides")
                           : json_object_get(job, "overrides");
        rq.job_id = id;
        rq.settings = json_object_get(job, "launch");
        rq.deadline_ms = deadline_ms;
        rq.environment = extra_env;
        rq.run_token = token_base;
        msg[0] = '\0';
        if (launcher_run_task(s->cfg.launcher, &rq, &res, msg, sizeof(msg)) != 0) {
            json_object_set_new(run, "message", json_string(msg));
            (*errors)++;
            break;
        }
        started += res.ntasks;
        *errors += res.nfailures;
        run_add_launch(run, &res);
        launch_result_clear(&res);
    }
    json_decref(extra_env);
    return started;
}

/* Mark run id as being launched (on) or done (off); false when another
 * worker has it already. */
static bool inflight(struct scheduler *s, int64_t id, bool on)
{
    size_t i;
    bool ok = true;

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->ninflight; i++) {
        if (s->inflight[i] == id)
            break;
    }
    if (!on && i < s->ninflight) {
        s->inflight[i] = s->inflight[--s->ninflight];
    } else if (on && i < s->ninflight) {
        ok = false;
    } else if (on) {
        if (s->ninflight == s->capinflight) {
            size_t ncap = s->capinflight == 0 ? 16 : s->capinflight * 2;
            int64_t *n = realloc(s->inflight, ncap * sizeof(*n));

            if (n != NULL) {
                s->inflight = n;
                s->capinflight = ncap;
            }
        }
        if (s->ninflight < s->capinflight)
            s->inflight[s->ninflight++] = id;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* A stored run (manual, or left pending by a crash): load it. NULL when
 * there is nothing (left) to do. */
static json_t *open_run(struct scheduler *s, const struct firing *f, int64_t *run_id,
                        int64_t *scheduled)
{
    struct store_run r;
    json_error_t err;
    json_t *run;
    char msg[512];

    if (!inflight(s, f->run_id, true))
        return NULL;
    if (store_run_get(s->cfg.store, f->id, f->run_id, &r, msg, sizeof(msg)) != 0) {
        inflight(s, f->run_id, false);
        return NULL;
    }
    run = json_loads(r.data, 0, &err);
    *scheduled = r.scheduled;
    store_run_clear(&r);
    /* launched already (by us a moment ago, or before a restart) */
    if (run != NULL && (strcmp(run_status(run), "pending") != 0 ||
                        json_array_size(json_object_get(run, "tasks")) > 0)) {
        json_decref(run);
        run = NULL;
    }
    if (run == NULL)
        inflight(s, f->run_id, false);
    *run_id = f->run_id;
    return run;
}

static void record_missed(struct scheduler *s, const json_t *job, const struct firing *f)
{
    char first[48];
    char last[48];
    char msg[512];
    json_t *run = run_new(f->id, "schedule", f->last, NULL);
    int64_t run_id = 0;

    format_time(f->when, first, sizeof(first));
    format_time(f->last, last, sizeof(last));
    if (f->overlapped)
        snprintf(msg, sizeof(msg),
                 "missed %" PRId64 " firing(s) from %s to %s: the job's previous firing was "
                 "still launching and another was already waiting",
                 f->count, first, last);
    else
        snprintf(msg, sizeof(msg),
                 "missed %" PRId64 " firing(s) from %s to %s: no scheduler was running or it "
                 "was paused (missedRuns and startingDeadlineSeconds decide catch-ups)",
                 f->count, first, last);
    log_event(s->cfg.log, LOG_WARN, "job.missed",
              json_pack("{s:s, s:s, s:s, s:I, s:s}", "job", f->id, "first", first, "last", last,
                        "count", (json_int_t)f->count, "cause",
                        f->overlapped ? "overlap" : "down"));
    if (run != NULL && run_finish(run, "skipped", msg, clock_wall_ms()) == 0)
        save_run(s, job, f->id, NULL, f->last, run, &run_id, msg, sizeof(msg));
    json_decref(run);
}

/* An s3 job's message: a run per object (claimed per message and object,
 * so a message delivered again starts nothing twice), one task each with
 * S3_BUCKET/S3_KEY/S3_SIZE/S3_ETAG; the message is deleted only when every
 * object's task started, else it comes back and the failed runs are tried
 * again. */
static void fire_objects(struct scheduler *s, const struct firing *f, const json_t *job)
{
    const json_t *item = f->payload;
    const char *msg_id = json_string_value(json_object_get(item, "messageId"));
    const json_t *object;
    char started_by[40];
    char msg[512];
    bool all = true;
    size_t i;

    scheduler_started_by(f->id, started_by, sizeof(started_by));
    json_array_foreach(json_object_get(item, "objects"), i, object) {
        char claim[400];
        char token[80];
        struct store_run *found = NULL;
        size_t n = 0;
        size_t total = 0;
        json_t *run = NULL;
        json_error_t err;
        int64_t run_id = 0;
        int64_t now = clock_wall_ms() / 1000;
        uint64_t errors = 0;
        uint64_t started;

        snprintf(claim, sizeof(claim), "%s@s3:%s#%zu", f->id, msg_id != NULL ? msg_id : "", i);
        if (store_run_query(s->cfg.store, STORE_RUNS_BY_CLAIM, claim, 0, 1, &found, &n, &total, msg,
                            sizeof(msg)) != 0) {
            all = false;
            continue;
        }
        if (n == 1) {
            run = json_loads(found[0].data, 0, &err);
            run_id = found[0].id;
        }
        store_runs_free(&found, n);
        if (run != NULL && json_array_size(json_object_get(run, "tasks")) > 0) {
            /* started before this delivery: the message only needs deleting */
            json_decref(run);
            continue;
        }
        if (run != NULL) {
            /* a launch that failed: this delivery tries again */
            json_object_set_new(
                run, "attempts",
                json_integer(json_integer_value(json_object_get(run, "attempts")) + 1));
            json_object_set_new(run, "status", json_string("pending"));
            json_object_del(run, "finished");
        } else {
            run = run_new(f->id, "trigger", now, NULL);
            if (run == NULL) {
                all = false;
                continue;
            }
            json_object_set(run, "object", (json_t *)object);
            json_object_set_new(run, "attempts", json_integer(1));
            if (save_run(s, job, f->id, claim, now, run, &run_id, msg, sizeof(msg)) != 0) {
                json_decref(run);
                all = false;
                continue;
            }
        }
        /* the same message delivered twice at once: one worker launches */
        if (!inflight(s, run_id, true)) {
            json_decref(run);
            all = false;
            continue;
        }
        snprintf(token, sizeof(token), "s3-%.40s-%zu", msg_id != NULL ? msg_id : "", i);
        started = launch(s, job, f->id, started_by, token, now, 1, run, &errors);
        if (started == 0) {
            all = false;
            run_finish(run, "failed", json_string_value(json_object_get(run, "message")),
                       clock_wall_ms());
        } else {
            json_object_del(run, "message");
            run_apply_describe(run, &(struct launch_result){0}, clock_wall_ms());
        }
        save_run(s, job, f->id, NULL, now, run, &run_id, msg, sizeof(msg));
        log_event(s->cfg.log, started > 0 ? LOG_INFO : LOG_WARN, "s3.object",
                  json_pack("{s:s, s:I, s:O?, s:O?, s:I, s:s}", "job", f->id, "run",
                            (json_int_t)run_id, "bucket", json_object_get(object, "bucket"), "key",
                            json_object_get(object, "key"), "started", (json_int_t)started,
                            "status", run_status(run)));
        inflight(s, run_id, false);
        pthread_mutex_lock(&s->lock);
        s->stats.tasks_started += started;
        s->stats.launch_errors += errors;
        pthread_mutex_unlock(&s->lock);
        json_decref(run);
    }
    if (!all)
        return;
    if (trigger_s3_delete(s->cfg.triggers, json_string_value(json_object_get(item, "queueUrl")),
                          json_string_value(json_object_get(item, "receipt")), msg,
                          sizeof(msg)) != 0)
        log_event(s->cfg.log, LOG_WARN, "s3.delete_failed",
                  json_pack("{s:s, s:s, s:s}", "job", f->id, "message",
                            msg_id != NULL ? msg_id : "", "error", msg));
}

/* A poller's message for job_id: queue it for the workers. */
static void on_message(void *ctx, const char *job_id, const json_t *message)
{
    struct scheduler *s = ctx;
    struct firing f;

    memset(&f, 0, sizeof(f));
    f.id = (char *)job_id;
    f.kind = FIRE_OBJECT;
    f.when = clock_wall_ms() / 1000;
    f.payload = (json_t *)message;
    pthread_mutex_lock(&s->lock);
    if (!s->stopping)
        enqueue(s, &f);
    pthread_mutex_unlock(&s->lock);
}

/* One firing on its way through a worker: taken from the queue, opened,
 * claimed, launched, then recorded. */
struct shot {
    struct firing f; /* owns f.id */
    json_t *job;
    json_t *run;     /* NULL: nothing (left) to do */
    char claim[320]; /* a scheduled second not claimed yet; "" otherwise */
    int64_t run_id;
    int64_t scheduled;
    size_t at; /* its place in save_shots()' batch, or SIZE_MAX */
    const char *reason;
    char started_by[40];
    json_int_t expected;
    size_t nactive;
    uint64_t started;
    uint64_t errors;
};

/* With the job's stored text: record missed seconds, load a stored run,
 * or make the run of a scheduled second, still to be claimed. */
static void open_shot(struct scheduler *s, struct shot *sh, const char *job_text)
{
    const struct firing *f = &sh->f;
    json_error_t err;

    sh->job = json_loads(job_text, 0, &err);
    if (sh->job == NULL)
        return;
    if (f->kind == FIRE_MISSED) {
        record_missed(s, sh->job, f);
    } else if (f->kind == FIRE_OBJECT) {
        fire_objects(s, f, sh->job);
    } else if (f->kind == FIRE_RUN) {
        sh->run = open_run(s, f, &sh->run_id, &sh->scheduled);
    } else {
        sh->scheduled = f->when;
        sh->run = run_new(f->id, "schedule", f->when, NULL);
        snprintf(sh->claim, sizeof(sh->claim), "%s@%" PRId64, f->id, f->when);
    }
}

/* Write the shots' runs in one store transaction: when claiming, the
 * claims of the scheduled seconds (a shot whose claim fails is dropped:
 * the second was someone else's); else every run as it now stands. */
static void save_shots(struct scheduler *s, struct shot *sh, size_t n, bool claiming)
{
    struct store_run *recs = calloc(n, sizeof(*recs));
    int *rcs = calloc(n, sizeof(*rcs));
    size_t k = 0;
    size_t i;
    char msg[512];

    snprintf(msg, sizeof(msg), "out of memory recording a run");
    for (i = 0; i < n; i++) {
        struct shot *x = &sh[i];

        x->at = SIZE_MAX;
        if (x->run == NULL || (claiming && x->claim[0] == '\0') || recs == NULL || rcs == NULL)
            continue;
        if (run_record(x->job, x->run, x->f.id, claiming ? x->claim : NULL, x->scheduled, x->run_id,
                       &recs[k]) == 0)
            x->at = k++;
    }
    if (k > 0)
        store_run_put_many(s->cfg.store, recs, k, rcs, msg, sizeof(msg));
    for (i = 0; i < n; i++) {
        struct shot *x = &sh[i];
        int rc = x->at != SIZE_MAX ? rcs[x->at] : ECS_ENOMEM;
        char why[400];

        if (x->run == NULL || (claiming && x->claim[0] == '\0'))
            continue;
        if (rc == 0 && claiming) {
            x->run_id = recs[x->at].id;
            x->claim[0] = '\0';
            inflight(s, x->run_id, true);
        } else if (rc == 0) {
            const char *status = run_status(x->run);

            if (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0)
                follow(s, x->f.id, x->run_id, status);
        } else if (claiming) {
            snprintf(why, sizeof(why), "firing %s is already claimed", x->claim);
            log_event(s->cfg.log, LOG_WARN, "job.not_claimed",
                      json_pack("{s:s, s:I, s:s}", "job", x->f.id, "scheduled",
                                (json_int_t)x->f.when, "error", rc == ECS_EEXIST ? why : msg));
            json_decref(x->run);
            x->run = NULL;
        } else {
            log_event(s->cfg.log, LOG_ERROR, "run.unrecorded",
                      json_pack("{s:s, s:s}", "job", x->f.id, "error", msg));
        }
    }
    for (i = 0; i < k; i++)
        free(recs[i].data);
    free(recs);
    free(rcs);
}

/* Ask the launcher for the tasks the job still needs and note on the run
 * what came of it. */
static void launch_shot(struct scheduler *s, struct shot *sh)
{
    char **active = NULL;
    char token_base[64];
    char msg[512];
    int64_t need = 0;
    int64_t from_trigger = -1;

    msg[0] = '\0';
    sh->reason = json_string_value(json_object_get(sh->run, "reason"));
    scheduler_started_by(sh->f.id, sh->started_by, sizeof(sh->started_by));
    if (sh->reason != NULL && strcmp(sh->reason, "schedule") == 0 &&
        ask_trigger(s, sh->job, sh->run, &from_trigger, msg, sizeof(msg)) != 0) {
        sh->errors++;
        run_set_launched(sh->run, clock_wall_ms());
        run_finish(sh->run, "failed", msg, clock_wall_ms());
    } else if (launcher_list_active(s->cfg.launcher, sh->started_by,
                                    json_object_get(sh->job, "launch"), &active, &sh->nactive, msg,
                                    sizeof(msg)) != 0) {
        sh->errors++;
        run_set_launched(sh->run, clock_wall_ms());
        run_finish(sh->run, "failed", msg, clock_wall_ms());
    } else {
        need = tasks_needed(sh->job, sh->reason != NULL ? sh->reason : "schedule", sh->nactive,
                            from_trigger, &sh->expected);
    }
    launch_strings_free(&active, sh->nactive);
    if (sh->errors == 0 && from_trigger == 0) {
        const char *queue =
            json_string_value(json_object_get(json_object_get(sh->run, "trigger"), "queue"));

        snprintf(msg, sizeof(msg), "queue %s has no messages: nothing to start",
                 queue != NULL ? queue : "?");
        run_finish(sh->run, "skipped", msg, clock_wall_ms());
    } else if (sh->errors == 0 && need <= 0) {
        snprintf(msg, sizeof(msg), "%zu task(s) already active, %lld expected: nothing to start",
                 sh->nactive, (long long)sh->expected);
        run_finish(sh->run, "skipped", msg, clock_wall_ms());
    } else if (sh->errors == 0) {
        /* a scheduled second has one token whoever launches it (this
         * worker, or the tracker after a crash); a manual run, its id */
        if (sh->reason != NULL && strcmp(sh->reason, "schedule") != 0)
            snprintf(token_base, sizeof(token_base), "%s-r%" PRId64, sh->started_by, sh->run_id);
        else
            snprintf(token_base, sizeof(token_base), "%s-%" PRId64, sh->started_by, sh->scheduled);
        sh->started = launch(s, sh->job, sh->f.id, sh->started_by, token_base, sh->scheduled, need,
                             sh->run, &sh->errors);
        if (sh->started == 0)
            run_finish(sh->run, "failed", json_string_value(json_object_get(sh->run, "message")),
                       clock_wall_ms());
        else
            run_refresh(sh->run, clock_wall_ms());
    }
}

static void log_shot(struct scheduler *s, const struct shot *sh)
{
    char when_text[48];
    const char *why = json_string_value(json_object_get(sh->run, "message"));

    if (sh->errors == 0 && !log_enabled(s->cfg.log, LOG_INFO))
        return;
    format_time(sh->scheduled, when_text, sizeof(when_text));
    log_event(s->cfg.log, sh->errors > 0 ? LOG_WARN : LOG_INFO, "job.fired",
              json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "job", sh->f.id,
                        "run", (json_int_t)sh->run_id, "reason",
                        sh->reason != NULL ? sh->reason : "", "scheduled", when_text, "lateMs",
                        (json_int_t)(clock_wall_ms() - sh->scheduled * 1000), "expected",
                        (json_int_t)sh->expected, "active", (json_int_t)sh->nactive, "started",
                        (json_int_t)sh->started, "failures", (json_int_t)sh->errors, "status",
                        run_status(sh->run)));
    if (sh->errors > 0 && why != NULL)
        log_event(s->cfg.log, LOG_ERROR, "job.launch_failed",
                  json_pack("{s:s, s:I, s:s}", "job", sh->f.id, "run", (json_int_t)sh->run_id,
                            "error", why));
}

/* The job's firing is done: start the one that came due meanwhile. */
static void release(struct scheduler *s, const struct firing *f)
{
    long i;

    pthread_mutex_lock(&s->lock);
    i = find_slot(s, f->id);
    if (i >= 0 && s->slots[i].queued_when != 0 && !s->stopping) {
        struct firing next = {f->id, FIRE_SCHEDULE, s->slots[i].queued_when, 0, 0, 0, false, NULL};

        s->slots[i].queued_when = 0;
        if (enqueue(s, &next) != 0)
            s->slots[i].busy = false;
    } else if (i >= 0) {
        s->slots[i].busy = false;
    }
    pthread_mutex_unlock(&s->lock);
}

/* This worker's share of the queue, at most max firings, into sh. Lock
 * held. */
static size_t take_shots(struct scheduler *s, struct shot *sh, size_t max)
{
    /* a burst is shared out, so every worker launches its part at once */
    size_t share = (s->qlen + (size_t)s->nworkers - 1) / (size_t)s->nworkers;
    int64_t now = clock_wall_ms();
    size_t n;

    for (n = 0; n < share && n < max; n++) {
        int64_t late;

        memset(&sh[n], 0, sizeof(sh[n]));
        sh[n].f = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        s->held++;
        late = now - sh[n].f.when * 1000;
        if (sh[n].f.kind == FIRE_SCHEDULE && late > s->stats.max_lateness_ms)
            s->stats.max_lateness_ms = late;
    }
    return n;
}

/* The first half of firing: open the shots (n <= FIRE_BATCH_MAX), their
 * jobs read together, claim the scheduled seconds among them in one store
 * transaction, launch. */
static void launch_shots(struct scheduler *s, struct shot *sh, size_t n)
{
    const char *ids[FIRE_BATCH_MAX] = {NULL};
    struct store_record recs[FIRE_BATCH_MAX];
    int rcs[FIRE_BATCH_MAX];
    char msg[512];
    size_t i;

    /* a job deleted since it came due has no record, and no firing */
    for (i = 0; i < n; i++)
        ids[i] = sh[i].f.id;
    store_get_many(s->cfg.store, ids, n, recs, rcs, msg, sizeof(msg));
    for (i = 0; i < n; i++) {
        if (rcs[i] == 0)
            open_shot(s, &sh[i], recs[i].data);
        store_record_clear(&recs[i]);
    }
    save_shots(s, sh, n, true);
    for (i = 0; i < n; i++) {
        if (sh[i].run != NULL)
            launch_shot(s, &sh[i]);
    }
}

/* The second half: record the runs in one store transaction, log, and let
 * each job fire again. */
static void finish_shots(struct scheduler *s, struct shot *sh, size_t n)
{
    uint64_t started = 0;
    uint64_t errors = 0;
    size_t i;

    save_shots(s, sh, n, false);
    for (i = 0; i < n; i++) {
        if (sh[i].run != NULL) {
            log_shot(s, &sh[i]);
            inflight(s, sh[i].run_id, false);
            started += sh[i].started;
            errors += sh[i].errors;
        }
        json_decref(sh[i].run);
        json_decref(sh[i].job);
        if (sh[i].f.kind == FIRE_SCHEDULE)
            release(s, &sh[i].f);
        free(sh[i].f.id);
        json_decref(sh[i].f.payload);
    }
    pthread_mutex_lock(&s->lock);
    s->stats.tasks_started += started;
    s->stats.launch_errors += errors;
    s->held -= n;
    pthread_mutex_unlock(&s->lock);
}

/* A worker takes firings FIRE_BATCH_MAX at a time, claims each batch in
 * one store transaction and launches it, and records the runs of all it
 * launched in one more once the queue is empty (or FIRE_PENDING_MAX are
 * waiting): two durable commits per firing could not keep a second's
 * launches on time when thousands of jobs share it, and recording before
 * the rest of the second is launched would make those later. */
static void *worker_main(void *arg)
{
    struct scheduler *s = arg;
    struct shot *sh = calloc(FIRE_PENDING_MAX, sizeof(*sh));
    size_t n = 0;

    for (;;) {
        bool stop;

        pthread_mutex_lock(&s->lock);
        /* records wait while another worker is still launching: their
         * commit would hold up its claims */
        while (!s->stopping && s->qlen == 0 && (n == 0 || s->launching > 0))
            pthread_cond_wait(&s->work, &s->lock);
        /* in-flight firings finish; queued ones stay unclaimed, so the
         * next start treats them as missed, by policy */
        stop = s->stopping;
        if (!stop && s->qlen > 0 && sh != NULL && n + FIRE_BATCH_MAX <= FIRE_PENDING_MAX) {
            size_t got = take_shots(s, sh + n, FIRE_BATCH_MAX);

            s->launching++;
            pthread_mutex_unlock(&s->lock);
            launch_shots(s, sh + n, got);
            n += got;
            pthread_mutex_lock(&s->lock);
            s->launching--;
            if (s->launching == 0)
                pthread_cond_broadcast(&s->work);
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        if (!stop && sh == NULL) {
            /* no room for a batch: fire one at a time */
            struct shot one;

            take_shots(s, &one, 1);
            pthread_mutex_unlock(&s->lock);
            launch_shots(s, &one, 1);
            finish_shots(s, &one, 1);
            continue;
        }
        pthread_mutex_unlock(&s->lock);
        finish_shots(s, sh, n);
        n = 0;
        if (stop) {
            free(sh);
            return NULL;
        }
    }
}

/* ------------------------------------------------------------------ */
/* The timer                                                           */

/* Slot i is due at `due`, and it is now `now`: find the latest fire time
 * not after now, decide by the job's policy whether it fires (on time, or
 * as the one catch-up), and report the rest as missed. Lock held. */
static void on_due(struct scheduler *s, uint32_t i, int64_t due, int64_t now_msec)
{
    int64_t now = now_msec / 1000;
    struct slot *sl = &s->slots[i];
    int64_t last = due;
    int64_t before_last = 0;
    int64_t count = 1;
    int64_t fire_at = 0;
    time_t next = 0;

    while (count < SCAN_MAX && job_plan_next(&sl->plan, (time_t)(last + 1), &next) == 0 &&
           (int64_t)next <= now) {
        before_last = last;
        last = (int64_t)next;
        count++;
    }
    if (now_msec - last * 1000 <= ON_TIME_MS || (sl->once && now - last <= sl->deadline)) {
        fire_at = last;
        count--;
    }
    sl->last_fired = last;
    if (count > 0) {
        struct firing m = {sl->id, FIRE_MISSED, due, 0, count, fire_at != 0 ? before_last : last,
                           false,  NULL};

        s->stats.missed += (uint64_t)count;
        enqueue(s, &m);
    }
    if (fire_at != 0 && sl->busy) {
        /* the job's previous firing is still launching: this one waits for
         * it, and only one waits */
        if (sl->queued_when != 0) {
            struct firing m = {sl->id, FIRE_MISSED, sl->queued_when, 0, 1, sl->queued_when,
                               true,   NULL};

            s->stats.missed++;
            enqueue(s, &m);
        }
        sl->queued_when = fire_at;
    } else if (fire_at != 0) {
        struct firing f = {sl->id, FIRE_SCHEDULE, fire_at, 0, 0, 0, false, NULL};

        sl->busy = true;
        if (enqueue(s, &f) != 0) {
            sl->busy = false;
            s->stats.launch_errors++;
        }
    }
    aim(s, i, now + 1);
}

static void *timer_main(void *arg)
{
    struct scheduler *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct heap_entry head;
        struct timespec deadline;
        int64_t now;

        if (heap_peek(&s->heap, &head) != 0) {
            pthread_cond_wait(&s->wake, &s->lock);
            continue;
        }
        now = clock_wall_ms();
        if (head.when * 1000 > now) {
            /* an absolute wall-clock deadline: a clock step re-aims it */
            deadline.tv_sec = (time_t)head.when;
            deadline.tv_nsec = 0;
            pthread_cond_timedwait(&s->wake, &s->lock, &deadline);
            continue;
        }
        heap_remove(&s->heap, head.slot);
        on_due(s, head.slot, head.when, now);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The tracker                                                         */

/* One stored active run, parsed. */
struct tracked {
    struct store_run rec;
    json_t *run;
    bool changed;
    size_t first; /* its open tasks' place among the ARNs described */
    size_t narns;
};

/* ARNs asked about but not answered are lost to the launcher. */
static void track_lost(struct tracked *t, size_t n, const char *const *arns, size_t narns,
                       const struct launch_result *d, int64_t now)
{
    size_t a;
    size_t i;

    for (a = 0; a < narns; a++) {
        bool known = false;

        for (i = 0; i < d->ntasks && !known; i++)
            known = strcmp(d->tasks[i].arn, arns[a]) == 0;
        for (i = 0; !known && i < n; i++) {
            if (run_mark_lost(t[i].run, arns[a], now) > 0)
                t[i].changed = true;
        }
    }
}

static void track_describe(struct scheduler *s, struct tracked *t, size_t n)
{
    const char **arns = NULL;
    const struct launch_result none = {NULL, 0, NULL, 0};
    bool answered = false;
    size_t narns = 0;
    size_t cap = 0;
    size_t lo = 0;
    size_t hi;
    size_t i;
    size_t k;
    char msg[512];

    for (i = 0; i < n; i++) {
        const char **open = NULL;
        size_t nopen = 0;

        t[i].first = narns;
        if (run_open_tasks(t[i].run, &open, &nopen) != 0)
            continue;
        if (narns + nopen > cap) {
            size_t ncap = (narns + nopen) * 2;
            const char **na = realloc(arns, ncap * sizeof(*na));

            if (na == NULL) {
                free(open);
                continue;
            }
            arns = na;
            cap = ncap;
        }
        /* copies: applying an answer replaces the tasks these point into */
        for (k = 0; k < nopen; k++) {
            arns[narns] = strdup(open[k]);
            if (arns[narns] != NULL)
                narns++;
        }
        t[i].narns = narns - t[i].first;
        free(open);
    }
    /* DescribeTasks takes up to 100 ARNs a call; each answer goes to the
     * runs whose tasks it holds (runs follow each other in arns), not to
     * every run: that made a poll quadratic in the active runs */
    for (k = 0; k < narns; k += DESCRIBE_MAX) {
        struct launch_result d;
        size_t chunk = narns - k < DESCRIBE_MAX ? narns - k : DESCRIBE_MAX;
        int64_t now = clock_wall_ms();

        while (lo < n && t[lo].first + t[lo].narns <= k)
            lo++;
        for (hi = lo; hi < n && t[hi].first < k + chunk; hi++)
            ;
        if (launcher_describe(s->cfg.launcher, arns + k, chunk, &d, msg, sizeof(msg)) != 0) {
            log_event(s->cfg.log, LOG_WARN, "runs.describe_failed",
                      json_pack("{s:I, s:s}", "tasks", (json_int_t)chunk, "error", msg));
            continue;
        }
        answered = true;
        for (i = lo; i < hi; i++) {
            if (t[i].narns > 0 && run_apply_describe(t[i].run, &d, now) > 0)
                t[i].changed = true;
        }
        track_lost(t + lo, hi - lo, arns + k, chunk, &d, now);
        launch_result_clear(&d);
    }
    /* runs with no open task get their status refreshed, as they did
     * when every answer went to every run */
    for (i = 0; answered && i < n; i++) {
        if (t[i].narns == 0 && run_apply_describe(t[i].run, &none, clock_wall_ms()) > 0)
            t[i].changed = true;
    }
    for (k = 0; k < narns; k++)
        free((char *)arns[k]);
    free(arns);
}

static bool status_ended(const char *status)
{
    return strcmp(status, "pending") != 0 && strcmp(status, "running") != 0;
}

/* Record the runs that changed, their jobs read and the runs written in
 * one go each (one commit however many tasks stopped); a run that ended
 * is logged and starts the jobs that run after it. */
static void save_tracked(struct scheduler *s, struct tracked *t, size_t n)
{
    const char **ids = calloc(n, sizeof(*ids));
    size_t *which = calloc(n, sizeof(*which));
    struct store_record *jobs = calloc(n, sizeof(*jobs));
    struct store_run *recs = calloc(n, sizeof(*recs));
    int *rcs = calloc(n, sizeof(*rcs));
    size_t k = 0;
    size_t m;
    size_t i;
    char msg[512];

    if (ids == NULL || which == NULL || jobs == NULL || recs == NULL || rcs == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        if (t[i].changed) {
            ids[k] = t[i].rec.job_id;
            which[k++] = i;
        }
    }
    if (k == 0)
        goto out;
    store_get_many(s->cfg.store, ids, k, jobs, rcs, msg, sizeof(msg));
    /* a record that cannot be made (no memory) is left for next round */
    m = 0;
    for (i = 0; i < k; i++) {
        struct tracked *x = &t[which[i]];
        json_error_t err;
        json_t *job = rcs[i] == 0 ? json_loads(jobs[i].data, 0, &err) : NULL;

        if (run_record(job, x->run, x->rec.job_id, NULL, x->rec.scheduled, x->rec.id, &recs[m]) ==
            0)
            which[m++] = which[i];
        json_decref(job);
        store_record_clear(&jobs[i]);
    }
    k = m;
    if (k > 0 && store_run_put_many(s->cfg.store, recs, k, rcs, msg, sizeof(msg)) != 0)
        log_event(s->cfg.log, LOG_ERROR, "run.unrecorded",
                  json_pack("{s:I, s:s}", "runs", (json_int_t)k, "error", msg));
    for (i = 0; i < k; i++) {
        struct tracked *x = &t[which[i]];
        const char *status = run_status(x->run);

        if (rcs[i] != 0 || !status_ended(status))
            continue;
        log_event(s->cfg.log, strcmp(status, "succeeded") == 0 ? LOG_INFO : LOG_WARN,
                  "run.finished",
                  json_pack("{s:s, s:I, s:s, s:O?, s:O?}", "job", x->rec.job_id, "run",
                            (json_int_t)x->rec.id, "status", status, "tasks",
                            json_object_get(x->run, "tasks"), "durationSeconds",
                            json_object_get(x->run, "durationSeconds")));
        if (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0)
            follow(s, x->rec.job_id, x->rec.id, status);
    }
out:
    for (i = 0; i < k; i++)
        free(recs[i].data);
    free(ids);
    free(which);
    free(jobs);
    free(recs);
    free(rcs);
}

/* One page of the active runs, those after run id `after`: describe
 * their tasks and record what changed. Returns how many it read (0 on a
 * store error); *last is the last one's id. */
static size_t track_page(struct scheduler *s, int64_t after, int64_t *last)
{
    struct store_run *recs = NULL;
    struct tracked *t;
    size_t n = 0;
    size_t total = 0;
    size_t i;
    char msg[512];
    int64_t now = clock_wall_ms();

    if (store_run_query(s->cfg.store, STORE_RUNS_ACTIVE_AFTER, NULL, (size_t)after, ACTIVE_MAX,
                        &recs, &n, &total, msg, sizeof(msg)) != 0 ||
        n == 0) {
        store_runs_free(&recs, n);
        return 0;
    }
    *last = recs[n - 1].id;
    t = calloc(n, sizeof(*t));
    if (t == NULL) {
        store_runs_free(&recs, n);
        return 0;
    }
    for (i = 0; i < n; i++) {
        json_error_t err;

        t[i].rec = recs[i];
        t[i].run = json_loads(recs[i].data, 0, &err);
        if (t[i].run == NULL)
            t[i].run = json_object();
        /* a run claimed but never launched: its daemon died, or only an
         * API process took it; launch it (the client token keeps a retry
         * from starting tasks twice). An s3 object's run waits for its
         * message to come back instead, which then deletes it. */
        if (json_array_size(json_object_get(t[i].run, "tasks")) == 0 && !is_trigger_run(t[i].run) &&
            strcmp(run_status(t[i].run), "pending") == 0 &&
            recs[i].scheduled + STALE_S < now / 1000 && inflight(s, recs[i].id, true)) {
            inflight(s, recs[i].id, false);
            scheduler_run_now(s, recs[i].job_id, recs[i].id);
        }
    }
    free(recs);
    track_describe(s, t, n);
    save_tracked(s, t, n);
    for (i = 0; i < n; i++) {
        json_decref(t[i].run);
        store_run_clear(&t[i].rec);
    }
    free(t);
    return n;
}

/* Whether the tracker should let firings go first: some are queued or
 * being launched, or the next is due within TRACK_GAP_MS. Lock held. */
static bool firings_busy(const struct scheduler *s, int64_t now)
{
    struct heap_entry head;

    if (s->qlen > 0 || s->held > 0)
        return true;
    return heap_peek(&s->heap, &head) == 0 && head.when * 1000 - now < TRACK_GAP_MS;
}

static void wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t until_ms)
{
    struct timespec deadline = clock_deadline(until_ms);

    pthread_cond_timedwait(cond, lock, &deadline);
}

/* Wait (lock held) while firings are busy, at most `most` ms: a page of
 * tracking, its reads and parsing, would make a burst of firings later.
 * False once the scheduler stops. */
static bool wait_for_gap(struct scheduler *s, int most)
{
    int64_t until = clock_wall_ms() + most;

    while (!s->stopping && clock_wall_ms() < until && firings_busy(s, clock_wall_ms()))
        wait_until(&s->track, &s->lock, clock_wall_ms() + TRACK_RECHECK_MS);
    return !s->stopping;
}

/* A round: every active run, ACTIVE_MAX a page, each page started in a
 * gap between firings; ids, not offsets, mark the way, so runs that end
 * meanwhile move no page. */
static void track_once(struct scheduler *s, int poll)
{
    int64_t after = 0;
    bool more = true;

    while (more) {
        int64_t last = 0;

        more = track_page(s, after, &last) == ACTIVE_MAX;
        after = last;
        pthread_mutex_lock(&s->lock);
        more = more && wait_for_gap(s, poll);
        pthread_mutex_unlock(&s->lock);
    }
}

/* Every poll interval, a round of tracking, put off while firings are
 * busy though never beyond another interval. */
static void *tracker_main(void *arg)
{
    struct scheduler *s = arg;
    int poll = s->cfg.poll_ms > 0 ? s->cfg.poll_ms : POLL_DEFAULT_MS;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        wait_until(&s->track, &s->lock, clock_wall_ms() + poll);
        if (!wait_for_gap(s, poll))
            break;
        pthread_mutex_unlock(&s->lock);
        track_once(s, poll);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */

/* Every job, planned; each resumes after the last second it claimed, so
 * seconds missed while no scheduler ran come due at once and meet their
 * job's missedRuns policy in on_due(). */
static int load_all(struct scheduler *s, char *msg, size_t msglen)
{
    struct store_record *recs = NULL;
    struct store_run *claims = NULL;
    size_t n = 0;
    size_t nclaims = 0;
    size_t total = 0;
    size_t i;
    int64_t now = next_whole_second();
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
        pthread_mutex_lock(&s->lock);
        install(s, recs[i].id, &u, now);
    }
    for (i = 0; i < nclaims; i++) {
        long k = find_slot(s, claims[i].job_id);

        if (k >= 0 && claims[i].scheduled < now) {
            s->slots[k].last_fired = claims[i].scheduled;
            aim(s, (uint32_t)k, claims[i].scheduled + 1);
        }
    }
    pthread_mutex_unlock(&s->lock);
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
    heap_init(&s->heap);
    rc = cfg->triggers != NULL
             ? pollers_init(cfg->triggers, cfg->log, on_message, s, &s->pollers, msg, msglen)
             : 0;
    if (rc == 0)
        rc = load_all(s, msg, msglen);
    s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
    if (rc == 0 && s->workers == NULL)
        rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the scheduler");
    if (rc == 0 && pthread_create(&s->timer, NULL, timer_main, s) != 0)
        rc = ecs_fail(ECS_EIO, msg, msglen, "cannot start the timer thread");
    if (rc == 0)
        s->timer_started = 1;
    if (rc == 0 && pthread_create(&s->tracker, NULL, tracker_main, s) != 0)
        rc = ecs_fail(ECS_EIO, msg, msglen, "cannot start the tracker thread");
    if (rc == 0)
        s->tracker_started = 1;
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
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sp = NULL;
}

void scheduler_get_stats(struct scheduler *s, struct scheduler_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->workers = s->nworkers;
    pthread_mutex_unlock(&s->lock);
}
