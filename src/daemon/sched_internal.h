/* sched_internal.h - what the scheduler's files share, private to
 * src/daemon/: the scheduler's state (slots, heap, queue), a firing, and
 * the functions one layer calls in another. scheduler.c keeps the jobs'
 * slots and plans and starts the threads; timer.c turns due times into
 * firings under each job's missed-run policy; firing.c is the firing's
 * state machine and its workers; tracker.c follows launched tasks;
 * objects.c fires an s3 job's objects; followers.c starts pipeline steps
 * when a run ends. */
#ifndef ECS_SCHED_INTERNAL_H
#define ECS_SCHED_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/heap.h"
#include "core/isotime.h"
#include "core/job.h"
#include "core/tz_cache.h"
#include "daemon/poller.h"
#include "daemon/scheduler.h"

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
#define HISTORY_DEFAULT JOB_HISTORY_DEFAULT
#define DEADLINE_DEFAULT JOB_DEADLINE_DEFAULT
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

struct firing;

/* What a slot owes the store, rarely anything: allocated when first
 * needed (missed.c), so the 100,000 slots of a big schedule stay small. */
struct slot_owed {
    /* scheduled seconds the store could not take (no claim, no record):
     * recorded as missed once it answers again; lost_count 0: none */
    int64_t lost_first;
    int64_t lost_last;
    int64_t lost_count;
    /* missed records (FIRE_MISSED, id NULL) of seconds that came due while
     * the job was busy, oldest first: queued when its firing is released,
     * just before the firing that waited, so they are claimed after the
     * firing in hand and with the one that waited (a restart resumes after
     * the last claim: written earlier or apart, a crash would lose them) */
    struct firing *parked;
    size_t nparked;
};

struct slot {
    char *id;           /* NULL when free */
    uint32_t chain;     /* next slot in the same hash bucket */
    int held;           /* firings of the job in workers' hands now */
    int64_t last_fired; /* last second considered (fired or missed) */
    struct job_plan plan;
    int64_t deadline;       /* startingDeadlineSeconds */
    int64_t queued_when;    /* a firing that came due while busy; 0: none */
    char *after;            /* the job this one runs after (pipelines); NULL: none */
    int64_t changed_ms;     /* the job's record's store_record.changed_ms */
    struct slot_owed *owed; /* NULL: nothing owed; owned */
    bool planned;
    bool once;              /* missedRuns: once (default) or skip */
    bool busy;              /* a worker is firing this job */
    unsigned char after_on; /* AFTER_SUCCESS | AFTER_FAILURE | AFTER_UNKNOWN */
};

#define AFTER_SUCCESS 1
#define AFTER_FAILURE 2
#define AFTER_UNKNOWN 4

enum firing_kind {
    FIRE_SCHEDULE, /* claim and fire a scheduled second */
    FIRE_RUN,      /* launch a stored pending run (manual, or left by a crash) */
    FIRE_MISSED,   /* record seconds that were not fired */
    FIRE_OBJECT,   /* start an s3 job's tasks for the objects of one message */
};

/* Why scheduled seconds were not fired. */
enum missed_cause {
    MISSED_DOWN,    /* no scheduler ran (or it was paused), beyond the job's policy */
    MISSED_OVERLAP, /* the job's previous firing was still launching, another waiting */
    MISSED_STORE,   /* the store could not record the firing (full, read-only, gone) */
    MISSED_CRASH,   /* claimed, then its daemon died before launching; now too late */
};

struct firing {
    char *id;
    enum firing_kind kind;
    int64_t when;            /* scheduled second; FIRE_MISSED: the first missed */
    int64_t run_id;          /* FIRE_RUN */
    int64_t count;           /* FIRE_MISSED: how many */
    int64_t last;            /* FIRE_MISSED: the last missed */
    enum missed_cause cause; /* FIRE_MISSED */
    json_t *payload;         /* FIRE_OBJECT: the message (see trigger_s3_receive); owned */
    /* FIRE_RUN: a run left pending (by a crash, or by another process):
     * look for the tasks its launch may have started before launching */
    bool recover;
};

struct scheduler {
    struct scheduler_config cfg;
    struct tz_cache *zones;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* the timer: the heap's head changed or stop */
    pthread_cond_t work;  /* the workers: a firing is queued or stop */
    pthread_cond_t track; /* the tracker: stop */
    pthread_cond_t done;  /* a worker finished a batch (scheduler_job_deleting) */
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

static inline void isotime_format_utc(int64_t t, char *buf, size_t len)
{
    isotime_format(t, 0, buf, len);
}

/* scheduler.c: now on the scheduler's clock, unix ms */
int64_t sched_now_ms(const struct scheduler *s);
/* scheduler.c: wait on c (s->lock held) until until_ms on the scheduler's
 * clock, a signal, or (injected clock) a short real-time step */
void sched_wait(struct scheduler *s, pthread_cond_t *c, int64_t until_ms);

/* scheduler.c: the slot of a job id, or -1 (lock held) */
long sched_find_slot(const struct scheduler *s, const char *id);
/* scheduler.c: aim slot i at its next fire time from `now` on (lock held) */
void sched_aim(struct scheduler *s, uint32_t i, int64_t now);

/* workers.c: queue a firing (id copied; lock held). 0 or ECS_ENOMEM */
int sched_enqueue(struct scheduler *s, const struct firing *in);
/* workers.c: the job's firing is done; start the one that came due meanwhile */
void sched_release(struct scheduler *s, const struct firing *f);
/* workers.c: queue a stored pending run a crash (or another process) left
 * behind; its launch looks for the tasks it may have started first */
int sched_run_recover(struct scheduler *s, const char *job_id, int64_t run_id);
void *sched_worker_main(void *arg);

/* One firing on its way through a worker. Its states, each durable before
 * the next side effect:
 *   due      - the timer queued it (nothing stored: a crash leaves it to
 *              the next start's catch-up, by the job's policy);
 *   claimed  - the run is stored, pending, unique per (job, second), with
 *              its launch token and the tasks it will ask for;
 *   launched - the launcher holds tasks tagged with that token (ECS: the
 *              ecsched:run tag; local: the task's directory, written
 *              before its process starts), and the run records them;
 *   running, ended - the tracker follows the tasks to their end.
 * A run found claimed but not recorded as launched (its daemon died) is
 * recovered: the tasks its token started are looked up and adopted, and
 * only what was never started is launched, with the same tokens. */
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
    char token[64]; /* the firing's run token */
    json_int_t expected;
    size_t nactive;
    int64_t need;  /* tasks still to ask for */
    int64_t found; /* a recovered launch's tasks found started */
    uint64_t started;
    uint64_t errors;
};

/* firing.c: open, decide, claim (one transaction) and launch n <=
 * FIRE_BATCH_MAX shots */
void sched_launch_shots(struct scheduler *s, struct shot *sh, size_t n);
/* firing.c: record the shots' runs (one transaction), log, release */
void sched_finish_shots(struct scheduler *s, struct shot *sh, size_t n);
json_int_t sched_job_int(const json_t *job, const char *key, json_int_t dflt);
/* firing.c: the store's record of a run; r->data is the caller's to free */
int sched_run_record(const json_t *job, const json_t *run, const char *id, const char *claim,
                     int64_t scheduled, int64_t run_id, struct store_run *r);
/* firing.c: write a run (insert when *run_id == 0); an ended run starts its followers */
int sched_save_run(struct scheduler *s, const json_t *job, const char *id, const char *claim,
                   int64_t scheduled, json_t *run, int64_t *run_id, char *msg, size_t msglen);
/* firing.c: ask the launcher for `need` tasks in batches; returns how many started */
uint64_t sched_launch(struct scheduler *s, const json_t *job, const char *id,
                      const char *started_by, const char *token_base, int64_t scheduled,
                      int64_t run_id, int64_t need, int64_t found, json_t *run, uint64_t *errors);
/* firing.c: mark run id as being launched (on) or not; false when taken already */
bool sched_inflight(struct scheduler *s, int64_t id, bool on);
/* firing.c: a stored run claimed and never launched (pending, no task),
 * which a recovery launches; not an s3 object's */
bool sched_run_unlaunched(const struct store_run *rec, const json_t *run);
bool sched_status_ended(const char *status);

/* timer.c */
void *sched_timer_main(void *arg);

/* missed.c: the record of f's missed seconds (FIRE_MISSED), a skipped run
 * to be written claiming the last of them (firing.c writes it with the
 * claims of its batch). New reference, NULL when out of memory. */
json_t *sched_missed_run(struct scheduler *s, const struct firing *f);
/* missed.c: that record's write ended with rc: logged, or (refused) its
 * seconds go back to the job's slot */
void sched_missed_saved(struct scheduler *s, const struct firing *f, int rc, const char *error);
/* missed.c: seconds of job id the store could not take (lock not held) */
void sched_lost_add(struct scheduler *s, const char *id, int64_t first, int64_t last,
                    int64_t count);
/* missed.c: add first..last (count seconds) to slot i's lost seconds;
 * a range that does not join them sends them to be recorded first (lock
 * held) */
void sched_lost_merge(struct scheduler *s, uint32_t i, int64_t first, int64_t last, int64_t count);
/* missed.c: queue slot i's lost seconds as a missed record (lock held) */
void sched_lost_flush(struct scheduler *s, uint32_t i);
/* missed.c: the same for every slot (lock held) */
void sched_lost_flush_all(struct scheduler *s);
/* missed.c: queue missed record m of slot i, or park it on the slot
 * while the job is busy; 0 or ECS_ENOMEM (lock held) */
int sched_missed_queue(struct scheduler *s, uint32_t i, const struct firing *m);
/* missed.c: queue slot i's parked records, oldest first (lock held) */
void sched_missed_unpark(struct scheduler *s, uint32_t i);
/* missed.c: free what slot sl owes (a job dropped, the scheduler stopped) */
void sched_missed_forget(struct slot *sl);

/* tracker.c */
void *sched_tracker_main(void *arg);

/* objects.c: an s3 job's message, fired; the poller's callback */
void sched_fire_objects(struct scheduler *s, const struct firing *f, const json_t *job);
void sched_on_message(void *ctx, const char *job_id, const json_t *message);

/* followers.c: a run of upstream ended with status: start the jobs after
 * it (ended_ms > 0: a restart's look back; steps changed after it ended
 * do not follow) */
void sched_follow(struct scheduler *s, const char *upstream, int64_t run_id, const char *status,
                  int64_t ended_ms);

#endif
