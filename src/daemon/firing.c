/* firing.c - a firing's way through a worker: taken from the queue,
 * opened, claimed in the store, launched, then recorded; and the queue
 * itself. */
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

/* ------------------------------------------------------------------ */
/* The queue                                                           */

/* Queue a firing; the lock is held. id is copied. */
int sched_enqueue(struct scheduler *s, const struct firing *in)
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
    rc = sched_enqueue(s, &f);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Firing                                                              */

json_int_t sched_job_int(const json_t *job, const char *key, json_int_t dflt)
{
    const json_t *j = json_object_get(job, key);

    return json_is_integer(j) ? json_integer_value(j) : dflt;
}

/* The store's record of a run of job (NULL: unknown), which keeps the
 * job's history bounded once the run has ended; r->data is a new string
 * the caller frees. 0 or ECS_ENOMEM. */
int sched_run_record(const json_t *job, const json_t *run, const char *id, const char *claim,
                     int64_t scheduled, int64_t run_id, struct store_run *r)
{
    json_int_t keep = sched_job_int(job, "runHistoryLimit", HISTORY_DEFAULT);

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
int sched_save_run(struct scheduler *s, const json_t *job, const char *id, const char *claim,
                   int64_t scheduled, json_t *run, int64_t *run_id, char *msg, size_t msglen)
{
    struct store_run r;
    int rc;

    if (sched_run_record(job, run, id, claim, scheduled, *run_id, &r) != 0)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory recording a run");
    rc = store_run_put(s->cfg.store, &r, msg, msglen);
    free(r.data);
    if (rc == 0) {
        *run_id = r.id;
        if (strcmp(r.status, "succeeded") == 0 || strcmp(r.status, "failed") == 0)
            sched_follow(s, id, r.id, r.status);
    }
    return rc;
}

/* How many tasks to ask for: the seed's rule (taskCount, or the
 * trigger's count when it has one (from_trigger >= 0), capped by maxCount
 * and 50, less those active) for scheduled runs; a manual run asks for
 * taskCount whatever runs, within maxCount. */
static int64_t tasks_needed(const json_t *job, const char *reason, size_t active,
                            int64_t from_trigger, json_int_t *expected)
{
    json_int_t want = sched_job_int(job, "taskCount", 1);
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

bool sched_is_trigger_run(const json_t *run)
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
uint64_t sched_launch(struct scheduler *s, const json_t *job, const char *id,
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
bool sched_inflight(struct scheduler *s, int64_t id, bool on)
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

    if (!sched_inflight(s, f->run_id, true))
        return NULL;
    if (store_run_get(s->cfg.store, f->id, f->run_id, &r, msg, sizeof(msg)) != 0) {
        sched_inflight(s, f->run_id, false);
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
        sched_inflight(s, f->run_id, false);
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

    isotime_format_utc(f->when, first, sizeof(first));
    isotime_format_utc(f->last, last, sizeof(last));
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
        sched_save_run(s, job, f->id, NULL, f->last, run, &run_id, msg, sizeof(msg));
    json_decref(run);
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
        sched_fire_objects(s, f, sh->job);
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
        if (sched_run_record(x->job, x->run, x->f.id, claiming ? x->claim : NULL, x->scheduled,
                             x->run_id, &recs[k]) == 0)
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
            sched_inflight(s, x->run_id, true);
        } else if (rc == 0) {
            const char *status = run_status(x->run);

            if (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0)
                sched_follow(s, x->f.id, x->run_id, status);
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
        sh->started = sched_launch(s, sh->job, sh->f.id, sh->started_by, token_base, sh->scheduled,
                                   need, sh->run, &sh->errors);
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
    isotime_format_utc(sh->scheduled, when_text, sizeof(when_text));
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
    i = sched_find_slot(s, f->id);
    if (i >= 0 && s->slots[i].queued_when != 0 && !s->stopping) {
        struct firing next = {f->id, FIRE_SCHEDULE, s->slots[i].queued_when, 0, 0, 0, false, NULL};

        s->slots[i].queued_when = 0;
        if (sched_enqueue(s, &next) != 0)
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
            sched_inflight(s, sh[i].run_id, false);
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
void *sched_worker_main(void *arg)
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
