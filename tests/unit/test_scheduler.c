/* test_scheduler.c - the scheduler on a memory store and the fake
 * launcher: firings on the second, the seed's task counting (taskCount
 * capped by maxCount, minus tasks already active), suspended jobs, changes
 * arriving through the store listener, and deletions. */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/isotime.h"
#include "daemon/run.h"
#include "daemon/scheduler.h"
#include "harness.h"
#include "launch/launcher.h"
#include "store/store.h"

static void on_change(void *ctx, enum store_change change, const char *id)
{
    (void)change;
    scheduler_job_changed(ctx, id);
}

/* The scheduler's clock, moved by the tests (scheduler_config.now_ms):
 * it starts 100 ms into a whole second near the real time, so the store's
 * own stamps (real time) stay in the past. */
struct test_clock {
    pthread_mutex_t lock;
    int64_t ms;
};

static struct test_clock tclock = {PTHREAD_MUTEX_INITIALIZER, 0};

static int64_t clock_read(void *ctx)
{
    struct test_clock *c = ctx;
    int64_t v;

    pthread_mutex_lock(&c->lock);
    v = c->ms;
    pthread_mutex_unlock(&c->lock);
    return v;
}

static void clock_set(struct scheduler *s, int64_t ms)
{
    pthread_mutex_lock(&tclock.lock);
    tclock.ms = ms;
    pthread_mutex_unlock(&tclock.lock);
    if (s != NULL)
        scheduler_clock_moved(s);
}

static int64_t clock_start(void)
{
    return clock_wall_ms() / 1000 * 1000 + 100;
}

static void use_clock(struct scheduler_config *cfg)
{
    cfg->now_ms = clock_read;
    cfg->clock_ctx = &tclock;
}

/* Wait (real time, bounded) until the scheduler has handed out `want`
 * firings and its workers are idle: what a step of the clock caused has
 * happened. Not a wait for a schedule: the clock only moves when told. */
static void settle_missed(struct scheduler *s, uint64_t want, uint64_t missed)
{
    struct scheduler_stats st;
    int i;

    for (i = 0; i < 2500; i++) {
        scheduler_get_stats(s, &st);
        if (st.firings >= want && st.missed >= missed && st.busy == 0)
            break;
        usleep(2000);
    }
}

static void settle(struct scheduler *s, uint64_t want)
{
    settle_missed(s, want, 0);
}

/* Wait (bounded) until run id of job has left `status`; its status. */
static const char *run_status_of(struct store *st, const char *job, int64_t id, const char *from)
{
    static char out[32];
    struct store_run r;
    char msg[256];
    int i;

    snprintf(out, sizeof(out), "?");
    for (i = 0; i < 1000; i++) {
        memset(&r, 0, sizeof(r));
        if (store_run_get(st, job, id, &r, msg, sizeof(msg)) == 0) {
            snprintf(out, sizeof(out), "%s", r.status);
            store_run_clear(&r);
            if (from == NULL || strcmp(out, from) != 0)
                break;
        }
        usleep(2000);
    }
    return out;
}

static size_t active(struct launcher *l, const char *id)
{
    char by[40];
    char **arns = NULL;
    size_t n = 0;
    char msg[256];

    scheduler_started_by(id, by, sizeof(by));
    if (launcher_list_active(l, by, NULL, &arns, &n, msg, sizeof(msg)) != 0)
        return 9999;
    launch_strings_free(&arns, n);
    return n;
}

/* A memory store and a fake launcher, both the caller's. */
static int open_pair(struct store **st, struct launcher **l)
{
    char msg[512];

    T_EQ_INT(store_open("memory:", st, msg, sizeof(msg)), 0);
    T_EQ_INT(launcher_open("fake", NULL, l, msg, sizeof(msg)), 0);
    return *st != NULL && *l != NULL ? 0 : -1;
}

static void test_fires_and_counts(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s = NULL;
    struct scheduler_config cfg;
    struct scheduler_stats stats;
    char msg[512];
    int64_t t0;

    if (open_pair(&st, &l) != 0)
        return;
    /* every second; wants 3, capped at 2 */
    T_EQ_INT(store_create(st, "every-second",
                          "{\"id\":\"every-second\",\"schedule\":\"*\",\"taskCount\":3,"
                          "\"maxCount\":2,\"taskDefinition\":\"web\"}",
                          msg, sizeof(msg)),
             0);
    T_EQ_INT(
        store_create(st, "paused",
                     "{\"id\":\"paused\",\"schedule\":\"*\",\"taskCount\":1,\"suspended\":true}",
                     msg, sizeof(msg)),
        0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.store = st;
    cfg.launcher = l;
    cfg.workers = 2;
    use_clock(&cfg);
    t0 = clock_start();
    clock_set(NULL, t0);
    T_EQ_INT(scheduler_start(&cfg, &s, msg, sizeof(msg)), 0);
    if (s == NULL)
        return;
    store_subscribe(st, on_change, s);
    clock_set(s, t0 + 910);
    settle(s, 1);
    clock_set(s, t0 + 1910);
    settle(s, 2);
    scheduler_get_stats(s, &stats);
    /* fired at the next two whole seconds, once each */
    T_EQ_INT(stats.firings, 2);
    /* the first firing started 2 (maxCount); later ones found them active */
    T_EQ_INT(stats.tasks_started, 2);
    T_EQ_INT(stats.launch_errors, 0);
    T_EQ_INT(active(l, "every-second"), 2);
    T_EQ_INT(active(l, "paused"), 0);

    /* a job created now is picked up through the store listener */
    T_EQ_INT(store_create(st, "late", "{\"id\":\"late\",\"schedule\":\"*\",\"taskCount\":1}", msg,
                          sizeof(msg)),
             0);
    clock_set(s, t0 + 2910);
    settle(s, 4);
    T_EQ_INT(active(l, "late"), 1);
    /* created about 0.6 s into a second, it first fires at the next one,
     * not at once for the second already begun (the bug: ~600 ms late) */
    scheduler_get_stats(s, &stats);
    T_TRUE(stats.max_lateness_ms < 500);

    /* deleted: no more firings for it */
    T_EQ_INT(store_delete(st, "every-second", msg, sizeof(msg)), 0);
    scheduler_get_stats(s, &stats);
    {
        uint64_t before = stats.firings;

        clock_set(s, t0 + 3910);
        settle(s, before + 1);
        scheduler_get_stats(s, &stats);
        /* only "late" fires now: one more firing, not two */
        T_EQ_INT(stats.firings - before, 1);
    }
    scheduler_stop(&s);
    T_TRUE(s == NULL);
    launcher_close(&l);
    store_close(&st);
}

static void test_started_by(void)
{
    char buf[40];

    scheduler_started_by("sleeper-task", buf, sizeof(buf));
    T_EQ_STR(buf, "ecsched-sleeper-task");
    scheduler_started_by("a-very-long-job-identifier-that-does-not-fit", buf, sizeof(buf));
    T_EQ_INT(strlen(buf), 36);
    T_TRUE(strncmp(buf, "ecsched-a-very-long-job-ide-", 28) == 0);
    {
        char again[40];

        scheduler_started_by("a-very-long-job-identifier-that-does-not-fit", again, sizeof(again));
        T_EQ_STR(again, buf);
        scheduler_started_by("a-very-long-job-identifier-that-does-not-fiT", again, sizeof(again));
        T_TRUE(strcmp(again, buf) != 0);
    }
}

/* Record a running run of job `id` with one fake task; its ARN in arn. */
static int64_t put_running(struct store *st, struct launcher *l, const char *id, int k, char *arn,
                           size_t arnlen)
{
    struct launch_request rq = {"web", "ecsched-long", NULL, 1,    NULL, id,
                                NULL,  NULL,           0,    NULL, NULL};
    struct launch_result res;
    struct store_run r;
    json_t *run = run_new(id, "manual", 1000 + k, "test");
    char token[32];
    char msg[256];
    int rc;

    snprintf(token, sizeof(token), "t-%d", k);
    rq.client_token = token;
    if (run == NULL || launcher_run_task(l, &rq, &res, msg, sizeof(msg)) != 0) {
        json_decref(run);
        return 0;
    }
    snprintf(arn, arnlen, "%s", res.tasks[0].arn);
    run_set_launched(run, 1000);
    run_add_launch(run, &res);
    run_refresh(run, 1000);
    launch_result_clear(&res);
    memset(&r, 0, sizeof(r));
    r.job_id = (char *)id;
    r.scheduled = 1000 + k;
    r.status = (char *)run_status(run);
    r.ntasks = 1;
    r.data = json_dumps(run, JSON_COMPACT);
    rc = store_run_put(st, &r, msg, sizeof(msg));
    free(r.data);
    json_decref(run);
    return rc == 0 ? r.id : 0;
}

/* More active runs than the tracker reads in a round (2,000), all of them
 * long-running: the newest, whose task stops, is still followed to its
 * end (a round reads them all, page by page; the first page alone never
 * reached it). */
static void test_tracker_pages_through_active_runs(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s = NULL;
    struct scheduler_config cfg;
    struct store_run r;
    char arn[160];
    char msg[512];
    int64_t last = 0;
    int i;

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(
        store_create(st, "long", "{\"id\":\"long\",\"schedule\":\"0 0 1 1 *\"}", msg, sizeof(msg)),
        0);
    for (i = 0; i < 2500; i++)
        last = put_running(st, l, "long", i, arn, sizeof(arn));
    T_EQ_INT((int)last, 2500);
    T_EQ_INT(launcher_stop_task(l, arn, "done", msg, sizeof(msg)), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.store = st;
    cfg.launcher = l;
    cfg.poll_ms = 100;
    T_EQ_INT(scheduler_start(&cfg, &s, msg, sizeof(msg)), 0);
    if (s == NULL)
        return;
    memset(&r, 0, sizeof(r));
    for (i = 0; i < 100; i++) {
        usleep(100000);
        if (store_run_get(st, "long", last, &r, msg, sizeof(msg)) == 0 &&
            strcmp(r.status, "running") != 0)
            break;
        store_run_clear(&r);
    }
    T_EQ_STR(r.status != NULL ? r.status : "?", "failed");
    store_run_clear(&r);
    /* the others still run */
    T_EQ_INT(store_run_get(st, "long", 1, &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.status, "running");
    store_run_clear(&r);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* Store a claimed, pending run of `id` for second `when` with its launch
 * token, as a worker writes it before launching; its id. */
static int64_t put_claimed(struct store *st, const char *id, int64_t when, const char *token,
                           int requested)
{
    struct store_run r;
    json_t *run = run_new(id, "schedule", when, NULL);
    char claim[128];
    char msg[256];
    int rc;

    if (run == NULL)
        return 0;
    json_object_set_new(run, "launchToken", json_string(token));
    json_object_set_new(run, "tasksRequested", json_integer(requested));
    snprintf(claim, sizeof(claim), "%s@%lld", id, (long long)when);
    memset(&r, 0, sizeof(r));
    r.job_id = (char *)id;
    r.claim = claim;
    r.scheduled = when;
    r.status = "pending";
    r.data = json_dumps(run, JSON_COMPACT);
    rc = store_run_put(st, &r, msg, sizeof(msg));
    free(r.data);
    json_decref(run);
    return rc == 0 ? r.id : 0;
}

/* Start tasks as a worker did before its daemon died: the launcher has
 * them, the store does not. */
static void launch_as_before(struct launcher *l, const char *id, const char *token, int count)
{
    char by[40];
    char ct[96];
    char msg[256];
    struct launch_result res;
    struct launch_request rq = {"web", by, ct, count, NULL, id, NULL, NULL, 0, token, NULL};

    scheduler_started_by(id, by, sizeof(by));
    snprintf(ct, sizeof(ct), "%s-0", token);
    T_EQ_INT(launcher_run_task(l, &rq, &res, msg, sizeof(msg)), 0);
    launch_result_clear(&res);
}

static struct scheduler *start_on(struct store *st, struct launcher *l, int64_t at)
{
    struct scheduler_config cfg;
    struct scheduler *s = NULL;
    char msg[512];

    memset(&cfg, 0, sizeof(cfg));
    cfg.store = st;
    cfg.launcher = l;
    cfg.workers = 2;
    use_clock(&cfg);
    clock_set(NULL, at);
    T_EQ_INT(scheduler_start(&cfg, &s, msg, sizeof(msg)), 0);
    if (s != NULL)
        store_subscribe(st, on_change, s);
    return s;
}

/* A daemon died after RunTask answered and before the run recorded its
 * tasks: the restarted scheduler adopts the tasks the run's token
 * started and launches nothing again (issue 12, finding 1). */
static void test_recovery_adopts_launched_tasks(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    int64_t t0 = clock_start();
    int64_t id;
    char by[40];
    char msg[512];

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(store_create(st, "j", "{\"id\":\"j\",\"schedule\":\"0 0 1 1 *\",\"taskCount\":2}", msg,
                          sizeof(msg)),
             0);
    scheduler_started_by("j", by, sizeof(by));
    id = put_claimed(st, "j", t0 / 1000 - 1, "tok-j", 2);
    launch_as_before(l, "j", "tok-j", 2);
    s = start_on(st, l, t0);
    T_EQ_STR(run_status_of(st, "j", id, "pending"), "running");
    T_EQ_INT(active(l, "j"), 2);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* A daemon died partway through a batch (6 of 15 tasks started): the
 * recovery adopts the 6 and starts the other 9, each task named once. */
static void test_recovery_tops_up_a_partial_batch(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    struct store_run r;
    json_t *run;
    json_error_t err;
    int64_t t0 = clock_start();
    int64_t id;
    char msg[512];

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(store_create(st, "j",
                          "{\"id\":\"j\",\"schedule\":\"0 0 1 1 *\",\"taskCount\":15,"
                          "\"maxCount\":15}",
                          msg, sizeof(msg)),
             0);
    id = put_claimed(st, "j", t0 / 1000 - 1, "tok-p", 15);
    launch_as_before(l, "j", "tok-p", 6);
    s = start_on(st, l, t0);
    T_EQ_STR(run_status_of(st, "j", id, "pending"), "running");
    T_EQ_INT(active(l, "j"), 15);
    scheduler_stop(&s);
    memset(&r, 0, sizeof(r));
    T_EQ_INT(store_run_get(st, "j", id, &r, msg, sizeof(msg)), 0);
    run = json_loads(r.data != NULL ? r.data : "{}", 0, &err);
    T_EQ_INT(json_array_size(json_object_get(run, "tasks")), 15);
    json_decref(run);
    store_run_clear(&r);
    launcher_close(&l);
    store_close(&st);
}

/* Claimed, never launched, still within its starting deadline: launched
 * once, as the claim decided, though a later firing's task is active by
 * now (the chaos test's catch-up after a restart). */
static void test_recovery_launches_unstarted(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    int64_t t0 = clock_start();
    int64_t id;
    char msg[512];

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(store_create(st, "j", "{\"id\":\"j\",\"schedule\":\"0 0 1 1 *\"}", msg, sizeof(msg)),
             0);
    id = put_claimed(st, "j", t0 / 1000 - 2, "tok-u", 1);
    launch_as_before(l, "j", "tok-later", 1);
    s = start_on(st, l, t0);
    T_EQ_STR(run_status_of(st, "j", id, "pending"), "running");
    T_EQ_INT(active(l, "j"), 2);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* Claimed, never launched, and past its starting deadline: recorded as
 * missed (cause crash), nothing launched. */
static void test_recovery_past_deadline_is_missed(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    struct store_run r;
    int64_t t0 = clock_start();
    int64_t id;
    char msg[512];

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(store_create(st, "j",
                          "{\"id\":\"j\",\"schedule\":\"0 0 1 1 *\",\"startingDeadlineSeconds\":"
                          "30}",
                          msg, sizeof(msg)),
             0);
    id = put_claimed(st, "j", t0 / 1000 - 100, "tok-m", 1);
    s = start_on(st, l, t0);
    T_EQ_STR(run_status_of(st, "j", id, "pending"), "skipped");
    T_EQ_INT(active(l, "j"), 0);
    memset(&r, 0, sizeof(r));
    T_EQ_INT(store_run_get(st, "j", id, &r, msg, sizeof(msg)), 0);
    T_HAS_STR(r.data != NULL ? r.data : "", "\"cause\":\"crash\"");
    store_run_clear(&r);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* The job's missed runs (skipped records of missed seconds). */
static size_t missed_records(struct store *st, const char *job, int64_t *count)
{
    struct store_run *runs = NULL;
    size_t n = 0;
    size_t total = 0;
    size_t i;
    size_t found = 0;
    char msg[256];

    *count = 0;
    if (store_run_query(st, STORE_RUNS_OF_JOB, job, 0, 1000, &runs, &n, &total, msg, sizeof(msg)) !=
        0)
        return 0;
    for (i = 0; i < n; i++) {
        json_error_t err;
        json_t *run = json_loads(runs[i].data, 0, &err);
        json_t *m = json_object_get(run, "missed");

        if (m != NULL) {
            found++;
            *count += json_integer_value(json_object_get(m, "count"));
        }
        json_decref(run);
    }
    store_runs_free(&runs, n);
    return found;
}

/* Seconds missed while no scheduler ran are recorded once: a second
 * restart does not report them again (finding 3), and a job that never
 * fired resumes from its creation (finding 2). */
static void test_missed_once_across_restarts(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    int64_t t0;
    int64_t created;
    int64_t count = 0;
    int64_t first;
    struct store_record rec;
    char msg[512];

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(store_create(st, "m",
                          "{\"id\":\"m\",\"schedule\":\"*\",\"missedRuns\":\"skip\","
                          "\"taskDefinition\":\"web\"}",
                          msg, sizeof(msg)),
             0);
    T_EQ_INT(store_get(st, "m", &rec, msg, sizeof(msg)), 0);
    created = rec.changed_ms;
    store_record_clear(&rec);
    /* the scheduler starts 20 s after the job was created */
    t0 = (created / 1000 + 20) * 1000 + 500;
    s = start_on(st, l, t0);
    clock_set(s, t0 + 10);
    settle_missed(s, 0, 1);
    T_EQ_INT(missed_records(st, "m", &count), 1);
    /* every second after the creation's, up to the one before now */
    T_EQ_INT(count, t0 / 1000 - ((created + 999) / 1000 - 1) - 1);
    scheduler_stop(&s);
    /* down 5 s more: only those seconds are reported, the first range
     * not again */
    first = count;
    s = start_on(st, l, t0 + 5000);
    clock_set(s, t0 + 5010);
    settle_missed(s, 0, 1);
    T_EQ_INT(missed_records(st, "m", &count), 2);
    T_EQ_INT(count, first + 4);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* A job changed while no scheduler ran still accounts for the seconds
 * between its last firing and the change (review: they were dropped). */
static void test_change_while_down_keeps_seconds(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    struct store_record rec;
    struct store_run r;
    int64_t t0 = clock_start();
    int64_t last = t0 / 1000 - 30;
    int64_t count = 0;
    char msg[512];

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(store_create(st, "c",
                          "{\"id\":\"c\",\"schedule\":\"*\",\"missedRuns\":\"skip\","
                          "\"taskDefinition\":\"web\"}",
                          msg, sizeof(msg)),
             0);
    memset(&r, 0, sizeof(r));
    r.id = put_claimed(st, "c", last, "tok-c", 1);
    r.job_id = "c";
    r.scheduled = last;
    r.status = "succeeded";
    r.ntasks = 0;
    r.data = "{\"job\":\"c\",\"reason\":\"schedule\",\"status\":\"succeeded\",\"tasks\":[]}";
    T_EQ_INT(store_run_put(st, &r, msg, sizeof(msg)), 0);
    /* the change, after that last firing, while no scheduler runs */
    T_EQ_INT(store_get(st, "c", &rec, msg, sizeof(msg)), 0);
    T_EQ_INT(store_update(st, "c",
                          "{\"id\":\"c\",\"schedule\":\"*\",\"missedRuns\":\"skip\","
                          "\"taskDefinition\":\"web\",\"taskCount\":2}",
                          rec.version, msg, sizeof(msg)),
             0);
    store_record_clear(&rec);
    s = start_on(st, l, t0);
    clock_set(s, t0 + 10);
    settle_missed(s, 0, 1);
    T_EQ_INT(missed_records(st, "c", &count), 1);
    /* every second after the last firing but the one now, fired on time */
    T_EQ_INT(count, t0 / 1000 - last - 1);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* Runs of job that exist now (0: unreadable). */
static size_t runs_of(struct store *st, const char *job)
{
    struct store_run *runs = NULL;
    size_t n = 0;
    size_t total = 0;
    char msg[256];

    if (store_run_query(st, STORE_RUNS_OF_JOB, job, 0, 100, &runs, &n, &total, msg, sizeof(msg)) !=
        0)
        return 0;
    store_runs_free(&runs, n);
    return n;
}

/* The daemon died after an upstream run ended and before its pipeline
 * step was claimed: the restart starts the step, once, and not a step
 * created after that run ended (review finding 4). */
static void test_restart_starts_unclaimed_steps(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    struct store_run r;
    int64_t t0 = clock_start();
    char finished[64];
    char data[512];
    char msg[512];
    int i;

    if (open_pair(&st, &l) != 0)
        return;
    /* the store stamps the jobs' creation on the test's clock too */
    store_set_clock(st, clock_read, &tclock);
    clock_set(NULL, t0);
    T_EQ_INT(store_create(st, "up", "{\"id\":\"up\",\"schedule\":\"0 0 1 1 *\"}", msg, sizeof(msg)),
             0);
    T_EQ_INT(store_create(st, "step",
                          "{\"id\":\"step\",\"taskDefinition\":\"web\",\"after\":{\"job\":"
                          "\"up\"}}",
                          msg, sizeof(msg)),
             0);
    /* the upstream run ended a second after the step was created */
    isotime_format((t0 + 1000) / 1000, 0, finished, sizeof(finished));
    snprintf(data, sizeof(data),
             "{\"job\":\"up\",\"reason\":\"manual\",\"status\":\"succeeded\",\"tasks\":[],"
             "\"finished\":\"%s\"}",
             finished);
    memset(&r, 0, sizeof(r));
    r.job_id = "up";
    r.scheduled = t0 / 1000 - 5;
    r.status = "succeeded";
    r.data = data;
    T_EQ_INT(store_run_put(st, &r, msg, sizeof(msg)), 0);
    clock_set(NULL, t0 + 2100); /* the late step below is created after that end */
    T_EQ_INT(store_create(st, "late-step",
                          "{\"id\":\"late-step\",\"taskDefinition\":\"web\",\"after\":{"
                          "\"job\":\"up\"}}",
                          msg, sizeof(msg)),
             0);
    s = start_on(st, l, t0 + 3000);
    for (i = 0; i < 500 && runs_of(st, "step") == 0; i++)
        usleep(2000);
    T_EQ_INT(runs_of(st, "step"), 1);
    T_EQ_INT(runs_of(st, "late-step"), 0);
    scheduler_stop(&s);
    /* again: the step is not started twice */
    s = start_on(st, l, t0 + 4000);
    settle(s, 0);
    T_EQ_INT(runs_of(st, "step"), 1);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* A task the launcher no longer knows makes its run `unknown`, not
 * `failed`: an `on: failure` step does not start, `on: completion` does. */
static void test_unknown_is_not_failure(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s = NULL;
    struct scheduler_config cfg;
    struct store_run r;
    json_t *run;
    int64_t id;
    int64_t t0 = clock_start();
    int64_t n_fail = 0;
    int64_t n_done = 0;
    char msg[512];
    int i;

    if (open_pair(&st, &l) != 0)
        return;
    T_EQ_INT(store_create(st, "up", "{\"id\":\"up\",\"schedule\":\"0 0 1 1 *\"}", msg, sizeof(msg)),
             0);
    T_EQ_INT(store_create(st, "on-fail",
                          "{\"id\":\"on-fail\",\"after\":{\"job\":\"up\",\"on\":\"failure\"}}", msg,
                          sizeof(msg)),
             0);
    T_EQ_INT(store_create(st, "on-done",
                          "{\"id\":\"on-done\",\"after\":{\"job\":\"up\",\"on\":"
                          "\"completion\"}}",
                          msg, sizeof(msg)),
             0);
    run = run_new("up", "manual", t0 / 1000 - 10, "test");
    json_array_append_new(json_object_get(run, "tasks"),
                          json_pack("{s:s, s:s, s:[]}", "taskArn",
                                    "arn:aws:ecs:fake:000000000000:task/fake/gone", "lastStatus",
                                    "RUNNING", "containers"));
    json_object_set_new(run, "status", json_string("running"));
    memset(&r, 0, sizeof(r));
    r.job_id = "up";
    r.scheduled = t0 / 1000 - 10;
    r.status = "running";
    r.ntasks = 1;
    r.data = json_dumps(run, JSON_COMPACT);
    T_EQ_INT(store_run_put(st, &r, msg, sizeof(msg)), 0);
    id = r.id;
    free(r.data);
    json_decref(run);
    memset(&cfg, 0, sizeof(cfg));
    cfg.store = st;
    cfg.launcher = l;
    cfg.poll_ms = 100;
    use_clock(&cfg);
    clock_set(NULL, t0);
    T_EQ_INT(scheduler_start(&cfg, &s, msg, sizeof(msg)), 0);
    if (s == NULL)
        return;
    /* a tracker round comes after a poll interval on the scheduler's clock */
    for (i = 0; i < 100 && strcmp(run_status_of(st, "up", id, NULL), "running") == 0; i++)
        clock_set(s, t0 + 200 * (i + 1));
    T_EQ_STR(run_status_of(st, "up", id, "running"), "unknown");
    for (i = 0; i < 200 && n_done == 0; i++) {
        struct store_run *runs = NULL;
        size_t n = 0;
        size_t total = 0;

        if (store_run_query(st, STORE_RUNS_OF_JOB, "on-done", 0, 10, &runs, &n, &total, msg,
                            sizeof(msg)) == 0)
            n_done = (int64_t)n;
        store_runs_free(&runs, n);
        usleep(2000);
    }
    {
        struct store_run *runs = NULL;
        size_t n = 0;
        size_t total = 0;

        T_EQ_INT(store_run_query(st, STORE_RUNS_OF_JOB, "on-fail", 0, 10, &runs, &n, &total, msg,
                                 sizeof(msg)),
                 0);
        n_fail = (int64_t)n;
        store_runs_free(&runs, n);
    }
    T_EQ_INT(n_done, 1);
    T_EQ_INT(n_fail, 0);
    scheduler_stop(&s);
    launcher_close(&l);
    store_close(&st);
}

/* The fake launcher's hook: the first launch of job "slow" waits at a
 * gate the test opens, so the job stays busy while seconds come due. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int entered;
    int open;
};

static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void gate_hook(void *ctx, const struct launch_request *rq, int64_t now_ms)
{
    struct gate *g = ctx;

    (void)now_ms;
    if (strcmp(rq->job_id, "slow") != 0)
        return;
    pthread_mutex_lock(&g->lock);
    g->entered++;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

/* Wait (bounded, real time) until the gate holds a launch. */
static int gate_wait_entered(struct gate *g)
{
    struct timespec until;
    int entered;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&g->lock);
    while (g->entered == 0 && pthread_cond_timedwait(&g->cond, &g->lock, &until) == 0)
        ;
    entered = g->entered;
    pthread_mutex_unlock(&g->lock);
    return entered;
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

/* A second missed while the job's firing was still launching is recorded
 * with the firing that waited, after the one in hand: written apart (by
 * another worker, before the firing in hand was claimed) a crash between
 * could leave the resume point past seconds nobody recorded. */
static void test_overlap_missed_written_with_waiting_firing(void)
{
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s;
    struct launcher_config lcfg;
    struct store_run *runs = NULL;
    size_t n = 0;
    size_t total = 0;
    size_t i;
    int64_t t0 = clock_start();
    int64_t second = t0 / 1000;
    int64_t count = 0;
    int64_t missed_id = 0;
    int64_t waited_id = 0;
    char msg[512];

    T_EQ_INT(store_open("memory:", &st, msg, sizeof(msg)), 0);
    memset(&lcfg, 0, sizeof(lcfg));
    lcfg.on_run = gate_hook;
    lcfg.on_run_ctx = &gate;
    T_EQ_INT(launcher_open("fake", &lcfg, &l, msg, sizeof(msg)), 0);
    if (st == NULL || l == NULL)
        return;
    /* created at t0: no second before it is due */
    store_set_clock(st, clock_read, &tclock);
    clock_set(NULL, t0);
    T_EQ_INT(store_create(st, "slow",
                          "{\"id\":\"slow\",\"schedule\":\"*\",\"taskDefinition\":\"web\"}", msg,
                          sizeof(msg)),
             0);
    s = start_on(st, l, t0);
    if (s == NULL)
        return;
    /* second+1 fires and its launch is held; +2 waits; +3 comes due, so
     * +2 is missed (overlap) and +3 waits */
    clock_set(s, (second + 1) * 1000 + 100);
    T_EQ_INT(gate_wait_entered(&gate), 1);
    clock_set(s, (second + 2) * 1000 + 100);
    clock_set(s, (second + 3) * 1000 + 100);
    /* the other worker is idle: a queued record would be written at once */
    for (i = 0; i < 50 && missed_records(st, "slow", &count) == 0; i++)
        usleep(2000);
    T_EQ_INT((int)missed_records(st, "slow", &count), 0);
    gate_open(&gate);
    settle_missed(s, 2, 1);
    scheduler_stop(&s);
    T_EQ_INT((int)missed_records(st, "slow", &count), 1);
    T_EQ_INT((int)count, 1);
    T_EQ_INT(
        store_run_query(st, STORE_RUNS_OF_JOB, "slow", 0, 10, &runs, &n, &total, msg, sizeof(msg)),
        0);
    /* newest first: the firing that waited, the missed record, the one held */
    T_EQ_INT((int)n, 3);
    for (i = 0; i < n; i++) {
        json_error_t err;
        json_t *run = json_loads(runs[i].data, 0, &err);

        if (json_object_get(run, "missed") != NULL)
            missed_id = runs[i].id;
        else if (runs[i].scheduled == second + 3)
            waited_id = runs[i].id;
        json_decref(run);
    }
    T_TRUE(missed_id > 0);
    T_TRUE(waited_id > missed_id);
    if (n == 3)
        T_EQ_INT((int)(runs[2].scheduled - second), 1);
    store_runs_free(&runs, n);
    launcher_close(&l);
    store_close(&st);
}

static const struct test_case cases[] = {
    {"started_by", test_started_by},
    {"fires_and_counts", test_fires_and_counts},
    {"tracker_pages_through_active_runs", test_tracker_pages_through_active_runs},
    {"recovery_adopts_launched_tasks", test_recovery_adopts_launched_tasks},
    {"recovery_launches_unstarted", test_recovery_launches_unstarted},
    {"recovery_tops_up_a_partial_batch", test_recovery_tops_up_a_partial_batch},
    {"recovery_past_deadline_is_missed", test_recovery_past_deadline_is_missed},
    {"missed_once_across_restarts", test_missed_once_across_restarts},
    {"change_while_down_keeps_seconds", test_change_while_down_keeps_seconds},
    {"restart_starts_unclaimed_steps", test_restart_starts_unclaimed_steps},
    {"unknown_is_not_failure", test_unknown_is_not_failure},
    {"overlap_missed_written_with_waiting_firing", test_overlap_missed_written_with_waiting_firing},
};

TEST_MAIN("scheduler", cases)
