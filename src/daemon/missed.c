/* missed.c - every scheduled second that is not fired is recorded once.
 * A missed record is a skipped run that claims the last second of its
 * range, so the resume point a restart reads moves past the range and no
 * later start reports it again; seconds the store could not take are
 * kept on the job's slot and recorded when it answers again. */
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/isotime.h"
#include "daemon/run.h"
#include "daemon/sched_internal.h"

static const char *cause_name(enum missed_cause c)
{
    switch (c) {
    case MISSED_OVERLAP:
        return "overlap";
    case MISSED_STORE:
        return "store";
    case MISSED_CRASH:
        return "crash";
    case MISSED_DOWN:
        break;
    }
    return "down";
}

static const char *cause_text(enum missed_cause c)
{
    switch (c) {
    case MISSED_OVERLAP:
        return "the job's previous firing was still launching and another was already waiting";
    case MISSED_STORE:
        return "the store could not record them (full, read-only or unreachable) when they "
               "were due";
    case MISSED_CRASH:
        return "claimed, but the daemon stopped before launching it, and its starting "
               "deadline has passed";
    case MISSED_DOWN:
        break;
    }
    return "no scheduler was running or it was paused (missedRuns and startingDeadlineSeconds "
           "decide catch-ups)";
}

json_t *sched_missed_run(struct scheduler *s, const struct firing *f)
{
    char first[48];
    char last[48];
    char msg[512];
    json_t *run = run_new(f->id, "schedule", f->last, NULL);

    isotime_format_utc(f->when, first, sizeof(first));
    isotime_format_utc(f->last, last, sizeof(last));
    snprintf(msg, sizeof(msg), "missed %" PRId64 " firing(s) from %s to %s: %s", f->count, first,
             last, cause_text(f->cause));
    if (run == NULL ||
        json_object_set_new(run, "missed",
                            json_pack("{s:I, s:I, s:I, s:s}", "first", (json_int_t)f->when, "last",
                                      (json_int_t)f->last, "count", (json_int_t)f->count, "cause",
                                      cause_name(f->cause))) != 0 ||
        run_finish(run, "skipped", msg, sched_now_ms(s)) != 0) {
        json_decref(run);
        return NULL;
    }
    return run;
}

void sched_missed_saved(struct scheduler *s, const struct firing *f, int rc, const char *error)
{
    char first[48];
    char last[48];

    isotime_format_utc(f->when, first, sizeof(first));
    isotime_format_utc(f->last, last, sizeof(last));
    if (rc == 0 || rc == ECS_EEXIST) {
        /* EEXIST: an earlier daemon recorded this range before it died */
        log_event(s->cfg.log, LOG_WARN, "job.missed",
                  json_pack("{s:s, s:s, s:s, s:I, s:s}", "job", f->id, "first", first, "last", last,
                            "count", (json_int_t)f->count, "cause", cause_name(f->cause)));
        return;
    }
    log_event(s->cfg.log, LOG_ERROR, "job.missed_unrecorded",
              json_pack("{s:s, s:s, s:s, s:I, s:s}", "job", f->id, "first", first, "last", last,
                        "count", (json_int_t)f->count, "error", error));
    sched_lost_add(s, f->id, f->when, f->last, f->count);
}

/* Whether fire time b follows a directly in slot sl's schedule. */
static bool follows(const struct slot *sl, int64_t a, int64_t b)
{
    time_t next = 0;

    return sl->planned && job_plan_next(&sl->plan, (time_t)(a + 1), &next) == 0 &&
           (int64_t)next == b;
}

/* Slot sl's debts, allocated on first need; NULL when out of memory. */
static struct slot_owed *owed(struct slot *sl)
{
    if (sl->owed == NULL)
        sl->owed = calloc(1, sizeof(*sl->owed));
    return sl->owed;
}

void sched_missed_forget(struct slot *sl)
{
    if (sl->owed != NULL)
        free(sl->owed->parked);
    free(sl->owed);
    sl->owed = NULL;
}

static int64_t lost_count(const struct slot *sl)
{
    return sl->owed != NULL ? sl->owed->lost_count : 0;
}

void sched_lost_merge(struct scheduler *s, uint32_t i, int64_t first, int64_t last, int64_t count)
{
    struct slot *sl = &s->slots[i];
    struct slot_owed *o;

    /* a range holds only seconds that were lost: one that fired between
     * two lost ones ends the range, which goes to be recorded as it is */
    if (lost_count(sl) > 0 && !follows(sl, sl->owed->lost_last, first) &&
        !follows(sl, last, sl->owed->lost_first)) {
        sched_lost_flush(s, i);
        if (lost_count(sl) > 0)
            return; /* could not even be queued: keep what was kept */
    }
    o = owed(sl);
    if (o == NULL)
        return; /* no memory even for that: counted missed, not recorded */
    if (o->lost_count == 0 || first < o->lost_first)
        o->lost_first = first;
    if (o->lost_count == 0 || last > o->lost_last)
        o->lost_last = last;
    o->lost_count += count;
}

void sched_lost_add(struct scheduler *s, const char *id, int64_t first, int64_t last, int64_t count)
{
    long i;

    pthread_mutex_lock(&s->lock);
    i = sched_find_slot(s, id);
    if (i >= 0)
        sched_lost_merge(s, (uint32_t)i, first, last, count);
    pthread_mutex_unlock(&s->lock);
}

void sched_lost_flush(struct scheduler *s, uint32_t i)
{
    struct slot *sl = &s->slots[i];
    struct firing m;

    if (sl->id == NULL || lost_count(sl) == 0 || s->stopping)
        return;
    memset(&m, 0, sizeof(m));
    m.id = sl->id;
    m.kind = FIRE_MISSED;
    m.when = sl->owed->lost_first;
    m.last = sl->owed->lost_last;
    m.count = sl->owed->lost_count;
    m.cause = MISSED_STORE;
    if (sched_missed_queue(s, i, &m) == 0)
        sl->owed->lost_count = 0;
}

/* Park m on busy slot sl, joined to the last parked record when it
 * directly follows it for the same cause: a job whose launches are slow
 * parks a second each time it comes due, and they make one record. */
static int park(struct slot *sl, const struct firing *m)
{
    struct slot_owed *o = owed(sl);
    struct firing *last;
    struct firing *grown;

    if (o == NULL)
        return ECS_ENOMEM;
    last = o->nparked > 0 ? &o->parked[o->nparked - 1] : NULL;
    if (last != NULL && last->cause == m->cause && follows(sl, last->last, m->when)) {
        last->last = m->last;
        last->count += m->count;
        return 0;
    }
    grown = realloc(o->parked, (o->nparked + 1) * sizeof(*grown));
    if (grown == NULL)
        return ECS_ENOMEM;
    o->parked = grown;
    o->parked[o->nparked] = *m;
    o->parked[o->nparked].id = NULL;
    o->nparked++;
    return 0;
}

int sched_missed_queue(struct scheduler *s, uint32_t i, const struct firing *m)
{
    struct slot *sl = &s->slots[i];

    if (sl->busy)
        return park(sl, m);
    return sched_enqueue(s, m);
}

void sched_missed_unpark(struct scheduler *s, uint32_t i)
{
    struct slot *sl = &s->slots[i];
    struct firing *parked;
    size_t n;
    size_t k;

    if (sl->owed == NULL || sl->owed->nparked == 0)
        return;
    parked = sl->owed->parked;
    n = sl->owed->nparked;
    sl->owed->parked = NULL;
    sl->owed->nparked = 0;
    for (k = 0; k < n; k++) {
        parked[k].id = sl->id;
        if (s->stopping || sched_enqueue(s, &parked[k]) != 0)
            sched_lost_merge(s, i, parked[k].when, parked[k].last, parked[k].count);
    }
    free(parked);
}

void sched_lost_flush_all(struct scheduler *s)
{
    size_t i;

    for (i = 0; i < s->nslots; i++)
        sched_lost_flush(s, (uint32_t)i);
}
