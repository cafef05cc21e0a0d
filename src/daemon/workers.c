/* workers.c - the queue of firings and the worker threads that take
 * them in batches: claims of a batch in one store transaction, records
 * of everything a worker launched in one more. */
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "daemon/sched_internal.h"

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

static int queue_run(struct scheduler *s, const char *job_id, int64_t run_id, bool recover)
{
    struct firing f;
    int rc;

    memset(&f, 0, sizeof(f));
    f.id = (char *)job_id;
    f.kind = FIRE_RUN;
    f.run_id = run_id;
    f.recover = recover;
    f.when = sched_now_ms(s) / 1000;
    pthread_mutex_lock(&s->lock);
    rc = sched_enqueue(s, &f);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int scheduler_run_now(struct scheduler *s, const char *job_id, int64_t run_id)
{
    return queue_run(s, job_id, run_id, false);
}

int sched_run_recover(struct scheduler *s, const char *job_id, int64_t run_id)
{
    return queue_run(s, job_id, run_id, true);
}

/* The job's firing is done: start the one that came due meanwhile. */
void sched_release(struct scheduler *s, const struct firing *f)
{
    long i;

    pthread_mutex_lock(&s->lock);
    i = sched_find_slot(s, f->id);
    /* missed seconds parked meanwhile go just ahead of the one that waited */
    if (i >= 0)
        sched_missed_unpark(s, (uint32_t)i);
    if (i >= 0 && s->slots[i].queued_when != 0 && !s->stopping) {
        struct firing next;

        memset(&next, 0, sizeof(next));
        next.id = f->id;
        next.kind = FIRE_SCHEDULE;
        next.when = s->slots[i].queued_when;
        s->slots[i].queued_when = 0;
        if (sched_enqueue(s, &next) != 0)
            s->slots[i].busy = false;
    } else if (i >= 0) {
        s->slots[i].busy = false;
    }
    pthread_mutex_unlock(&s->lock);
}

/* How many firings from the queue's head go together: a job's missed
 * records and the firing the timer queued after them, so they are written
 * in one store transaction. Were the firing's claim written alone and the
 * daemon killed before the missed records, the restart would resume after
 * that claim and the missed seconds would be lost (the chaos test saw
 * it). Lock held. */
static size_t group_at_head(const struct scheduler *s, size_t max)
{
    size_t g = 1;

    while (g < max && g < s->qlen) {
        const struct firing *prev = &s->queue[(s->qhead + g - 1) % s->qcap];
        const struct firing *next = &s->queue[(s->qhead + g) % s->qcap];

        if (prev->kind != FIRE_MISSED || strcmp(prev->id, next->id) != 0 ||
            (next->kind != FIRE_MISSED && next->kind != FIRE_SCHEDULE))
            break;
        g++;
    }
    return g;
}

/* This worker's share of the queue, at most max firings, into sh. Lock
 * held. */
static size_t take_shots(struct scheduler *s, struct shot *sh, size_t max)
{
    /* a burst is shared out, so every worker launches its part at once */
    size_t share = (s->qlen + (size_t)s->nworkers - 1) / (size_t)s->nworkers;
    int64_t now = sched_now_ms(s);
    size_t n = 0;
    long slot;

    while (n < share && n < max && s->qlen > 0) {
        size_t g = group_at_head(s, max);
        size_t k;

        /* a group that does not fit waits for the next batch, whole */
        if (n > 0 && n + g > max)
            break;
        for (k = 0; k < g; k++, n++) {
            int64_t late;

            memset(&sh[n], 0, sizeof(sh[n]));
            sh[n].f = s->queue[s->qhead];
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
            s->held++;
            slot = sched_find_slot(s, sh[n].f.id);
            if (slot >= 0)
                s->slots[slot].held++;
            late = now - sh[n].f.when * 1000;
            if (sh[n].f.kind == FIRE_SCHEDULE && late > s->stats.max_lateness_ms)
                s->stats.max_lateness_ms = late;
        }
    }
    return n;
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
            sched_launch_shots(s, sh + n, got);
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
            sched_launch_shots(s, &one, 1);
            sched_finish_shots(s, &one, 1);
            continue;
        }
        pthread_mutex_unlock(&s->lock);
        sched_finish_shots(s, sh, n);
        n = 0;
        if (stop) {
            free(sh);
            return NULL;
        }
    }
}
