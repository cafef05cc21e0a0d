/* firing.c - a firing's states, from due to launched (see struct shot
 * in sched_internal.h), each written before the next side effect, and
 * the recovery of a firing its daemon left claimed. */
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
        if (run_status_final(r.status))
            sched_follow(s, id, r.id, r.status, 0);
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

bool sched_run_unlaunched(const struct store_run *rec, const json_t *run)
{
    const char *reason = json_string_value(json_object_get(run, "reason"));

    /* an s3 object's run waits for its message to come back instead */
    return strcmp(rec->status, "pending") == 0 && rec->ntasks == 0 &&
           (reason == NULL || strcmp(reason, "trigger") != 0);
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

/* Who a run's tasks are (launch_request.identity): job, run and
 * scheduled second, so a task can tell a retried firing from a new one.
 * New reference, or NULL. */
static json_t *run_identity(const char *id, int64_t run_id, int64_t scheduled)
{
    char number[32];
    char when[32];

    snprintf(number, sizeof(number), "%" PRId64, run_id);
    snprintf(when, sizeof(when), "%" PRId64, scheduled);
    return json_pack("{s:s, s:s, s:s}", "ECSCHED_JOB_ID", id, "ECSCHED_RUN_ID", number,
                     "ECSCHED_SCHEDULED", when);
}

/* Ask the launcher for `need` tasks in batches of 10, from batch
 * topping up a recovered launch that had found `found` tasks (0: a first
 * launch), and record them on the run (scheduled: the firing's
 * second). Returns the number started; errors are on the run. */
uint64_t sched_launch(struct scheduler *s, const json_t *job, const char *id,
                      const char *started_by, const char *token_base, int64_t scheduled,
                      int64_t run_id, int64_t need, int64_t found, json_t *run, uint64_t *errors)
{
    const char *family = json_string_value(json_object_get(job, "taskDefinition"));
    const json_t *window = json_object_get(job, "startingDeadlineSeconds");
    const char *reason = json_string_value(json_object_get(run, "reason"));
    char msg[512];
    int batch = 0;
    uint64_t started = 0;
    int64_t start = sched_now_ms(s);
    int64_t deadline_ms;
    json_t *extra_env = run_environment(run);
    json_t *identity = run_identity(id, run_id, scheduled);

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
    if (json_object_get(run, "launched") == NULL)
        run_set_launched(run, start);
    for (; need > 0; need -= BATCH_MAX) {
        struct launch_request rq;
        struct launch_result res;
        char token[80];

        /* the same firing retried asks for the same tasks */
        /* a top-up has tokens of its own, named by what it found: the
         * first launch's batch tokens would hand back the tasks a batch
         * half started, not start the rest; a top-up cut short finds
         * more next time, so never repeats these */
        if (found > 0)
            snprintf(token, sizeof(token), "%s-f%" PRId64 "-%d", token_base, found, batch++);
        else
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
        rq.identity = identity;
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
    json_decref(identity);
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
        /* written with the batch's claims: a restart after downtime has
         * thousands to write at once */
        sh->scheduled = f->last;
        sh->run = sched_missed_run(s, f);
        snprintf(sh->claim, sizeof(sh->claim), "%s@%" PRId64, f->id, f->last);
        if (sh->run == NULL)
            sched_missed_saved(s, f, ECS_ENOMEM, "out of memory recording missed firings");
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

/* A run whose job is gone (deleted while it launched): its tasks are
 * stopped, so none runs on without a record. */
static void stop_orphan(struct scheduler *s, struct shot *x)
{
    const char **arns = NULL;
    size_t n = 0;
    size_t i;
    char msg[512];

    if (run_open_tasks(x->run, &arns, &n) != 0)
        return;
    for (i = 0; i < n; i++) {
        if (launcher_stop_task(s->cfg.launcher, arns[i], "ecsched: the job was deleted", msg,
                               sizeof(msg)) != 0)
            log_event(s->cfg.log, LOG_ERROR, "run.orphan_stop_failed",
                      json_pack("{s:s, s:s, s:s}", "job", x->f.id, "task", arns[i], "error", msg));
    }
    if (n > 0)
        log_event(s->cfg.log, LOG_WARN, "run.orphaned",
                  json_pack("{s:s, s:I, s:O?}", "job", x->f.id, "run", (json_int_t)x->run_id,
                            "tasks", json_object_get(x->run, "tasks")));
    free(arns);
}

/* Write the shots' runs in one store transaction (recs and rcs: room for
 * n, from the caller, or NULL when it had none): when claiming, the
 * claims of the scheduled seconds (a shot whose claim fails is dropped:
 * the second was someone else's, or, when the store failed, it is kept
 * on the job's slot to be recorded as missed); else every run as it now
 * stands. */
static void save_shots(struct scheduler *s, struct shot *sh, size_t n, bool claiming,
                       struct store_run *recs, int *rcs)
{
    size_t k = 0;
    size_t i;
    char msg[512];

    snprintf(msg, sizeof(msg), "out of memory recording a run");
    for (i = 0; i < n; i++) {
        struct shot *x = &sh[i];

        x->at = SIZE_MAX;
        if (x->run == NULL || (claiming && x->claim[0] == '\0') || recs == NULL || rcs == NULL)
            continue;
        /* a missed record is whole once claimed */
        if (!claiming && x->f.kind == FIRE_MISSED)
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
        if (x->f.kind == FIRE_MISSED) {
            if (claiming)
                sched_missed_saved(s, &x->f, rc, msg);
            if (claiming && rc == 0)
                x->claim[0] = '\0';
            if (claiming && rc != 0) {
                json_decref(x->run);
                x->run = NULL;
            }
            continue;
        }
        if (rc == 0 && claiming) {
            x->run_id = recs[x->at].id;
            x->claim[0] = '\0';
            sched_inflight(s, x->run_id, true);
        } else if (rc == 0) {
            const char *status = run_status(x->run);

            if (run_status_final(status))
                sched_follow(s, x->f.id, x->run_id, status, 0);
        } else if (claiming) {
            snprintf(why, sizeof(why), "firing %s is already claimed", x->claim);
            log_event(s->cfg.log, rc == ECS_EEXIST ? LOG_WARN : LOG_ERROR, "job.not_claimed",
                      json_pack("{s:s, s:I, s:s}", "job", x->f.id, "scheduled",
                                (json_int_t)x->f.when, "error", rc == ECS_EEXIST ? why : msg));
            if (rc != ECS_EEXIST) {
                sched_lost_add(s, x->f.id, x->f.when, x->f.when, 1);
                pthread_mutex_lock(&s->lock);
                s->stats.missed++;
                pthread_mutex_unlock(&s->lock);
            }
            json_decref(x->run);
            x->run = NULL;
        } else if (rc == ECS_ENOTFOUND) {
            /* the job and its runs were deleted while this one launched */
            stop_orphan(s, x);
        } else {
            log_event(s->cfg.log, LOG_ERROR, "run.unrecorded",
                      json_pack("{s:s, s:s}", "job", x->f.id, "error", msg));
        }
    }
    for (i = 0; i < k; i++)
        free(recs[i].data);
}

/* A run left claimed by a crash: the tasks its token started, whoever
 * started them, become its tasks, and only batches never asked for are
 * launched; a claim that started nothing asks for what it claimed. True
 * when that settled what to launch (sh->need); false for a run that
 * recorded no decision (a manual run), which decides as a new one. */
static bool recover_shot(struct scheduler *s, struct shot *sh, int64_t now)
{
    struct launch_result found;
    json_int_t requested = sched_job_int(sh->run, "tasksRequested", 0);
    json_int_t deadline = sched_job_int(sh->job, "startingDeadlineSeconds", DEADLINE_DEFAULT);
    char msg[512];
    int rc;

    msg[0] = '\0';
    rc = launcher_find_run(s->cfg.launcher, sh->started_by, sh->token,
                           json_object_get(sh->job, "launch"), &found, msg, sizeof(msg));
    if (rc != 0 && rc != ECS_ENOTSUP) {
        /* what was started cannot be known now: launching could start it
         * twice, so the run waits for the tracker's next round */
        log_event(s->cfg.log, LOG_WARN, "run.recover_failed",
                  json_pack("{s:s, s:I, s:s}", "job", sh->f.id, "run", (json_int_t)sh->run_id,
                            "error", msg));
        sched_inflight(s, sh->run_id, false);
        json_decref(sh->run);
        sh->run = NULL;
        return true;
    }
    if (rc == 0 && found.ntasks > 0) {
        run_add_launch(sh->run, &found);
        if (json_object_get(sh->run, "launched") == NULL)
            run_set_launched(sh->run, now);
        run_refresh(sh->run, now);
        sh->need = requested > (json_int_t)found.ntasks ? requested - (json_int_t)found.ntasks : 0;
        sh->found = (int64_t)found.ntasks;
        log_event(s->cfg.log, LOG_INFO, "run.recovered",
                  json_pack("{s:s, s:I, s:I, s:I}", "job", sh->f.id, "run", (json_int_t)sh->run_id,
                            "adopted", (json_int_t)found.ntasks, "launching",
                            (json_int_t)sh->need));
        launch_result_clear(&found);
        return true;
    }
    launch_result_clear(&found);
    if (strcmp(sh->reason, "schedule") == 0 && now / 1000 - sh->scheduled > deadline) {
        /* claimed, never launched, and now too late to start: the second
         * is accounted as missed, once */
        struct firing m = sh->f;

        m.when = sh->scheduled;
        m.last = sh->scheduled;
        m.count = 1;
        m.cause = MISSED_CRASH;
        snprintf(msg, sizeof(msg),
                 "missed 1 firing(s): claimed, but the daemon stopped before "
                 "launching it, and its starting deadline has passed");
        json_object_set_new(sh->run, "missed",
                            json_pack("{s:I, s:I, s:I, s:s}", "first", (json_int_t)m.when, "last",
                                      (json_int_t)m.last, "count", (json_int_t)1, "cause",
                                      "crash"));
        run_finish(sh->run, "skipped", msg, now);
        sh->need = 0;
        return true;
    }
    if (requested > 0) {
        /* the claim decided what to ask for when it was due; tasks started
         * since (a catch-up's, say) do not undo that decision */
        sh->need = requested;
        return true;
    }
    return false;
}

/* Decide what the firing asks for (the trigger's count, the job's tasks
 * already active), before it is claimed, so the claim records it. */
static void decide_shot(struct scheduler *s, struct shot *sh)
{
    char **active = NULL;
    char msg[512];
    int64_t from_trigger = -1;
    int64_t now = sched_now_ms(s);
    const char *stored = json_string_value(json_object_get(sh->run, "launchToken"));

    msg[0] = '\0';
    sh->reason = json_string_value(json_object_get(sh->run, "reason"));
    if (sh->reason == NULL)
        sh->reason = "schedule";
    scheduler_started_by(sh->f.id, sh->started_by, sizeof(sh->started_by));
    /* a scheduled second has one token whoever launches it (this worker,
     * or a recovery after a crash); any other run, its id. Derived, not
     * stored: every active run is read back each tracker round, and its
     * size is the tracker's cost. (A stored launchToken wins.) */
    if (stored != NULL)
        snprintf(sh->token, sizeof(sh->token), "%s", stored);
    else if (strcmp(sh->reason, "schedule") != 0)
        snprintf(sh->token, sizeof(sh->token), "%s-r%" PRId64, sh->started_by, sh->run_id);
    else
        snprintf(sh->token, sizeof(sh->token), "%s-%" PRId64, sh->started_by, sh->scheduled);
    if (sh->f.recover && recover_shot(s, sh, now))
        return;
    if (strcmp(sh->reason, "schedule") == 0 &&
        ask_trigger(s, sh->job, sh->run, &from_trigger, msg, sizeof(msg)) != 0) {
        sh->errors++;
        run_set_launched(sh->run, now);
        run_finish(sh->run, "failed", msg, now);
    } else if (launcher_list_active(s->cfg.launcher, sh->started_by,
                                    json_object_get(sh->job, "launch"), &active, &sh->nactive, msg,
                                    sizeof(msg)) != 0) {
        sh->errors++;
        run_set_launched(sh->run, now);
        run_finish(sh->run, "failed", msg, now);
    } else {
        sh->need = tasks_needed(sh->job, sh->reason, sh->nactive, from_trigger, &sh->expected);
    }
    launch_strings_free(&active, sh->nactive);
    if (sh->errors > 0) {
        sh->need = 0;
    } else if (from_trigger == 0) {
        const char *queue =
            json_string_value(json_object_get(json_object_get(sh->run, "trigger"), "queue"));

        snprintf(msg, sizeof(msg), "queue %s has no messages: nothing to start",
                 queue != NULL ? queue : "?");
        run_finish(sh->run, "skipped", msg, now);
        sh->need = 0;
    } else if (sh->need <= 0) {
        snprintf(msg, sizeof(msg), "%zu task(s) already active, %lld expected: nothing to start",
                 sh->nactive, (long long)sh->expected);
        run_finish(sh->run, "skipped", msg, now);
        sh->need = 0;
    } else {
        json_object_set_new(sh->run, "tasksRequested", json_integer(sh->need));
    }
}

/* Ask the launcher for what the firing decided and note on the run what
 * came of it. */
static void start_shot(struct scheduler *s, struct shot *sh)
{
    size_t had = json_array_size(json_object_get(sh->run, "tasks"));

    if (sh->need <= 0)
        return;
    sh->started = sched_launch(s, sh->job, sh->f.id, sh->started_by, sh->token, sh->scheduled,
                               sh->run_id, sh->need, sh->found, sh->run, &sh->errors);
    if (sh->started == 0 && had == 0)
        run_finish(sh->run, "failed", json_string_value(json_object_get(sh->run, "message")),
                   sched_now_ms(s));
    else
        run_refresh(sh->run, sched_now_ms(s));
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
                        (json_int_t)(sched_now_ms(s) - sh->scheduled * 1000), "expected",
                        (json_int_t)sh->expected, "active", (json_int_t)sh->nactive, "started",
                        (json_int_t)sh->started, "failures", (json_int_t)sh->errors, "status",
                        run_status(sh->run)));
    if (sh->errors > 0 && why != NULL)
        log_event(s->cfg.log, LOG_ERROR, "job.launch_failed",
                  json_pack("{s:s, s:I, s:s}", "job", sh->f.id, "run", (json_int_t)sh->run_id,
                            "error", why));
}

/* The first half of firing: open the shots (n <= FIRE_BATCH_MAX), their
 * jobs read together, decide what each asks for, claim the scheduled
 * seconds among them in one store transaction, launch. */
void sched_launch_shots(struct scheduler *s, struct shot *sh, size_t n)
{
    const char *ids[FIRE_BATCH_MAX] = {NULL};
    struct store_record recs[FIRE_BATCH_MAX];
    int rcs[FIRE_BATCH_MAX];
    /* on the stack: a heap block this size per batch made glibc
     * consolidate its free lists on every claim */
    struct store_run runs[FIRE_BATCH_MAX];
    char msg[512];
    size_t i;

    for (i = 0; i < n; i++)
        ids[i] = sh[i].f.id;
    store_get_many(s->cfg.store, ids, n, recs, rcs, msg, sizeof(msg));
    for (i = 0; i < n; i++) {
        const struct firing *f = &sh[i].f;

        if (rcs[i] == 0) {
            open_shot(s, &sh[i], recs[i].data);
        } else if (rcs[i] != ECS_ENOTFOUND && f->kind == FIRE_SCHEDULE) {
            /* a deleted job has no firing; one the store cannot read now
             * is a second to record as missed once it can */
            sched_lost_add(s, f->id, f->when, f->when, 1);
        } else if (rcs[i] != ECS_ENOTFOUND && f->kind == FIRE_MISSED) {
            sched_lost_add(s, f->id, f->when, f->last, f->count);
        }
        store_record_clear(&recs[i]);
    }
    for (i = 0; i < n; i++) {
        if (sh[i].run != NULL && sh[i].f.kind != FIRE_MISSED)
            decide_shot(s, &sh[i]);
    }
    save_shots(s, sh, n, true, runs, rcs);
    for (i = 0; i < n; i++) {
        if (sh[i].run != NULL)
            start_shot(s, &sh[i]);
    }
}

/* The second half: record the runs in one store transaction, log, and let
 * each job fire again. */
void sched_finish_shots(struct scheduler *s, struct shot *sh, size_t n)
{
    struct store_run *recs = calloc(n, sizeof(*recs));
    int *rcs = calloc(n, sizeof(*rcs));
    uint64_t started = 0;
    uint64_t errors = 0;
    size_t i;

    save_shots(s, sh, n, false, recs, rcs);
    free(recs);
    free(rcs);
    /* recorded: a job being deleted may now take its tasks with it */
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < n; i++) {
        long k = sched_find_slot(s, sh[i].f.id);

        if (k >= 0 && s->slots[k].held > 0)
            s->slots[k].held--;
    }
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < n; i++) {
        /* a missed record said job.missed when it was written */
        if (sh[i].run != NULL && sh[i].f.kind != FIRE_MISSED) {
            log_shot(s, &sh[i]);
            sched_inflight(s, sh[i].run_id, false);
            started += sh[i].started;
            errors += sh[i].errors;
        }
        json_decref(sh[i].run);
        json_decref(sh[i].job);
        if (sh[i].f.kind == FIRE_SCHEDULE)
            sched_release(s, &sh[i].f);
        free(sh[i].f.id);
        json_decref(sh[i].f.payload);
    }
    pthread_mutex_lock(&s->lock);
    s->stats.tasks_started += started;
    s->stats.launch_errors += errors;
    s->held -= n;
    pthread_mutex_unlock(&s->lock);
}
