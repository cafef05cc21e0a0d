/* timer.c - the timer thread: sleeps until the heap's earliest fire time
 * and turns what came due into firings, by each job's missed-run policy. */
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
/* The timer                                                           */

/* Queue a record of slot i's missed seconds first..last (parked while
 * the job is busy); when even that cannot be done, the slot keeps them
 * for later. Lock held. */
static void queue_missed(struct scheduler *s, uint32_t i, int64_t first, int64_t last,
                         int64_t count, enum missed_cause cause)
{
    struct slot *sl = &s->slots[i];
    struct firing m;

    memset(&m, 0, sizeof(m));
    m.id = sl->id;
    m.kind = FIRE_MISSED;
    m.when = first;
    m.last = last;
    m.count = count;
    m.cause = cause;
    s->stats.missed += (uint64_t)count;
    if (sched_missed_queue(s, i, &m) == 0)
        return;
    sched_lost_merge(s, i, first, last, count);
}

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

    /* seconds an earlier store failure left unrecorded go first */
    sched_lost_flush(s, i);
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
    if (count > 0)
        queue_missed(s, i, due, fire_at != 0 ? before_last : last, count, MISSED_DOWN);
    if (fire_at != 0 && sl->busy) {
        /* the job's previous firing is still launching: this one waits for
         * it, and only one waits */
        if (sl->queued_when != 0)
            queue_missed(s, i, sl->queued_when, sl->queued_when, 1, MISSED_OVERLAP);
        sl->queued_when = fire_at;
    } else if (fire_at != 0) {
        struct firing f;

        memset(&f, 0, sizeof(f));
        f.id = sl->id;
        f.kind = FIRE_SCHEDULE;
        f.when = fire_at;
        sl->busy = true;
        if (sched_enqueue(s, &f) != 0) {
            sl->busy = false;
            queue_missed(s, i, fire_at, fire_at, 1, MISSED_STORE);
        }
    }
    sched_aim(s, i, now + 1);
}

void *sched_timer_main(void *arg)
{
    struct scheduler *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct heap_entry head;
        int64_t now;

        if (heap_peek(&s->heap, &head) != 0) {
            pthread_cond_wait(&s->wake, &s->lock);
            continue;
        }
        now = sched_now_ms(s);
        if (head.when * 1000 > now) {
            sched_wait(s, &s->wake, head.when * 1000);
            continue;
        }
        heap_remove(&s->heap, head.slot);
        on_due(s, head.slot, head.when, now);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}
