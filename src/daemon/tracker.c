/* tracker.c - follows the tasks of unfinished runs until they stop, in
 * the gaps between firings, and relaunches runs nobody launched. */
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
        int64_t now = sched_now_ms(s);

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
        if (t[i].narns == 0 && run_apply_describe(t[i].run, &none, sched_now_ms(s)) > 0)
            t[i].changed = true;
    }
    for (k = 0; k < narns; k++)
        free((char *)arns[k]);
    free(arns);
}

bool sched_status_ended(const char *status)
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

        if (sched_run_record(job, x->run, x->rec.job_id, NULL, x->rec.scheduled, x->rec.id,
                             &recs[m]) == 0)
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

        if (rcs[i] != 0 || !sched_status_ended(status))
            continue;
        log_event(s->cfg.log, strcmp(status, "succeeded") == 0 ? LOG_INFO : LOG_WARN,
                  "run.finished",
                  json_pack("{s:s, s:I, s:s, s:O?, s:O?}", "job", x->rec.job_id, "run",
                            (json_int_t)x->rec.id, "status", status, "tasks",
                            json_object_get(x->run, "tasks"), "durationSeconds",
                            json_object_get(x->run, "durationSeconds")));
        if (run_status_final(status))
            sched_follow(s, x->rec.job_id, x->rec.id, status, 0);
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
    int64_t now = sched_now_ms(s);

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
        if (sched_run_unlaunched(&recs[i], t[i].run) && recs[i].scheduled + STALE_S < now / 1000 &&
            sched_inflight(s, recs[i].id, true)) {
            sched_inflight(s, recs[i].id, false);
            sched_run_recover(s, recs[i].job_id, recs[i].id);
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

/* Wait (lock held) while firings are busy, at most `most` ms: a page of
 * tracking, its reads and parsing, would make a burst of firings later.
 * False once the scheduler stops. */
static bool wait_for_gap(struct scheduler *s, int most)
{
    int64_t until = sched_now_ms(s) + most;

    while (!s->stopping && sched_now_ms(s) < until && firings_busy(s, sched_now_ms(s)))
        sched_wait(s, &s->track, sched_now_ms(s) + TRACK_RECHECK_MS);
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
void *sched_tracker_main(void *arg)
{
    struct scheduler *s = arg;
    int poll = s->cfg.poll_ms > 0 ? s->cfg.poll_ms : POLL_DEFAULT_MS;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        sched_wait(s, &s->track, sched_now_ms(s) + poll);
        if (!wait_for_gap(s, poll))
            break;
        /* seconds the store refused are recorded once it answers again,
         * even for a job that will not come due for a long time */
        sched_lost_flush_all(s);
        pthread_mutex_unlock(&s->lock);
        track_once(s, poll);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}
