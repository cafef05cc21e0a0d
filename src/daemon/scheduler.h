/* scheduler.h - the daemon's scheduler: keeps every job's next fire time
 * in a min-heap, sleeps on the earliest (an absolute CLOCK_REALTIME
 * deadline, so a clock change re-aims it), and hands each firing to a small
 * worker pool that claims it in the store (a run record, unique per job and
 * second, so no firing ever happens twice) and asks the launcher for the
 * tasks the job still needs (seed 004: expected = taskCount capped by
 * maxCount, minus the job's tasks already PENDING or RUNNING). A tracker
 * thread follows the runs' tasks until they stop. Store changes reach it
 * through scheduler_job_changed() at once. */
#ifndef ECS_SCHEDULER_H
#define ECS_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "launch/launcher.h"
#include "store/store.h"
#include "trigger/trigger.h"

struct scheduler_config {
    struct store *store;       /* borrowed */
    struct launcher *launcher; /* borrowed */
    int workers;               /* firing threads; 0 = 8 */
    struct logger *log;        /* borrowed; NULL for no events */
    int poll_ms;               /* how often running tasks are described; 0 = 5000 */
    struct triggers *triggers; /* borrowed; NULL: jobs with an AWS trigger fail to fire */
    /* the wall clock, unix ms; NULL: the real one. Every decision reads it
     * once. Tests move their own clock and call scheduler_clock_moved(). */
    int64_t (*now_ms)(void *ctx);
    void *clock_ctx;
};

/* Counters since start, for logs, tests and benchmarks. */
struct scheduler_stats {
    uint64_t firings;        /* firings handed to workers */
    uint64_t tasks_started;  /* tasks the launcher started */
    uint64_t launch_errors;  /* launches that failed (whole call or single tasks) */
    uint64_t missed;         /* scheduled seconds not fired (down, paused, overlapping) */
    int64_t max_lateness_ms; /* worst start of a firing after its scheduled second */
    int workers;             /* firing threads running */
    size_t busy;             /* firings queued or in a worker's hands now */
};

struct scheduler;

/* Load every job from the store and start the timer, workers and tracker.
 * Firings missed while no scheduler ran follow each job's missedRuns
 * policy. *out is the caller's, stopped with scheduler_stop(). */
int scheduler_start(const struct scheduler_config *cfg, struct scheduler **out, char *msg,
                    size_t msglen);

/* Stop taking firings, finish those in flight, free; sets *s to NULL. */
void scheduler_stop(struct scheduler **s);

/* A job was created, updated or deleted: re-read it and re-aim the timer.
 * Safe from any thread (a store change listener calls it). */
void scheduler_job_changed(struct scheduler *s, const char *id);

/* Launch the stored pending run run_id of job_id now (a manual run the API
 * recorded). 0, or ECS_ENOMEM. */
int scheduler_run_now(struct scheduler *s, const char *job_id, int64_t run_id);

/* Job id is about to be deleted: wait (up to 10 s) until the launches of
 * its firings in flight are recorded, so the deleter finds their tasks
 * in the job's runs and can stop them. Safe from any thread. */
void scheduler_job_deleting(struct scheduler *s, const char *id);

/* The injected clock (scheduler_config.now_ms) moved: the timer and
 * tracker look at it again now. */
void scheduler_clock_moved(struct scheduler *s);

void scheduler_get_stats(struct scheduler *s, struct scheduler_stats *out);

/* The startedBy value of a job's tasks: "ecsched-<id>" when that fits ECS's
 * 36 characters, else "ecsched-" + the id's first 19 characters + "-" + 8
 * hex digits of its hash (stable across restarts). buf needs 37 bytes. */
void scheduler_started_by(const char *id, char *buf, size_t len);

#endif
