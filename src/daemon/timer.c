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
        sched_enqueue(s, &m);
    }
    if (fire_at != 0 && sl->busy) {
        /* the job's previous firing is still launching: this one waits for
         * it, and only one waits */
        if (sl->queued_when != 0) {
            struct firing m = {sl->id, FIRE_MISSED, sl->queued_when, 0, 1, sl->queued_when,
                               true,   NULL};

            s->stats.missed++;
            sched_enqueue(s, &m);
        }
        sl->queued_when = fire_at;
    } else if (fire_at != 0) {
        struct firing f = {sl->id, FIRE_SCHEDULE, fire_at, 0, 0, 0, false, NULL};

        sl->busy = true;
        if (sched_enqueue(s, &f) != 0) {
            sl->busy = false;
            s->stats.launch_errors++;
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
