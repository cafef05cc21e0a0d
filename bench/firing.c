/* firing.c - issue 5's proof: many jobs firing every minute on the fake
 * launcher, with a fresh SQLite store. Prints the lateness of every launch
 * against its scheduled second (p50/p99/max), the time to open the store
 * and to start the scheduler over every job, and the process's memory,
 * beside the targets. Prints figures only; it never fails on a slow
 * result, only on a real error (store, launcher, scheduler).
 *
 *   build/bench/firing [JOBS [SECONDS]]    default 100000 jobs for 70 s
 *
 * FIRING_WORKERS=N sets the scheduler's worker threads (default: the
 * scheduler's own). The scheduler logs at info, the daemon's default,
 * into /dev/null: a job.fired line per firing is part of its cost.
 *
 * The store goes in a new directory under $TMPDIR (default /tmp).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/isotime.h"
#include "core/job.h"
#include "core/log.h"
#include "daemon/scheduler.h"
#include "launch/launcher.h"
#include "store/store.h"

#define JOBS_DEFAULT 100000
/* a little over a minute, so every job fires at least once */
#define SECONDS_DEFAULT 70
#define JOB_PREFIX "bench-"
#define TARGET_P99_MS 50
#define TARGET_STARTUP_MS 2000
#define TARGET_RSS_MIB 128
/* firings of the last seconds may still be launching when the run ends:
 * they are left out of the observed and expected counts alike */
#define TAIL_SLACK_S 2
/* jobs created a second, at least, when filling the store */
#define FILL_RATE 4000

/* One launch seen by the fake launcher. */
struct sample {
    int64_t scheduled; /* unix second */
    int32_t late_ms;
};

struct observer {
    size_t jobs;
    struct sample *samples;
    size_t cap;
    atomic_size_t n;
    atomic_size_t dropped; /* beyond cap, or not a bench job */
};

/* User plus system CPU time of the whole process, in microseconds. */
static int64_t cpu_us(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ((int64_t)ru.ru_utime.tv_sec + (int64_t)ru.ru_stime.tv_sec) * 1000000 +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Job i fires at second i % 60 of every minute: the same number of jobs
 * every second, the load a large fleet of "once a minute" jobs puts on a
 * scheduler that spreads them. */
static int job_second(size_t i)
{
    return (int)(i % 60);
}

/* The fake launcher's hook: the job's scheduled second is the latest
 * second at or before the call that matches its schedule (UTC minutes are
 * whole in unix time), so lateness is exact while it stays under a
 * minute; a launch a minute late or more would count as a missing firing
 * plus a punctual one, which the expected count would show. */
static void on_run(void *ctx, const struct launch_request *rq, int64_t now_ms)
{
    struct observer *o = ctx;
    const char *digits;
    char *end = NULL;
    unsigned long long idx;
    int64_t since;
    size_t k;

    if (rq->job_id == NULL || strncmp(rq->job_id, JOB_PREFIX, strlen(JOB_PREFIX)) != 0) {
        atomic_fetch_add(&o->dropped, 1);
        return;
    }
    digits = rq->job_id + strlen(JOB_PREFIX);
    idx = strtoull(digits, &end, 10);
    if (end == digits || *end != '\0' || idx >= o->jobs) {
        atomic_fetch_add(&o->dropped, 1);
        return;
    }
    since = ((now_ms - (int64_t)job_second((size_t)idx) * 1000) % 60000 + 60000) % 60000;
    k = atomic_fetch_add(&o->n, 1);
    if (k >= o->cap) {
        atomic_fetch_add(&o->dropped, 1);
        return;
    }
    o->samples[k].scheduled = (now_ms - since) / 1000;
    o->samples[k].late_ms = (int32_t)since;
}

/* VmRSS and VmHWM in KiB (0 when unreadable). */
static void memory_kib(long *rss, long *hwm)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];

    *rss = 0;
    *hwm = 0;
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            *rss = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            *hwm = strtol(line + 6, NULL, 10);
    }
    fclose(f);
}

/* The job as the API would store it (validated and normalised), as text;
 * it fires from unix second `from` on. */
static char *job_text(size_t i, int64_t from, char *msg, size_t msglen)
{
    char start[48];
    char id[32];
    char schedule[16];
    json_t *body;
    json_t *job = NULL;
    json_t *errors = NULL;
    char *text = NULL;

    snprintf(id, sizeof(id), JOB_PREFIX "%06zu", i);
    snprintf(schedule, sizeof(schedule), "%d *", job_second(i));
    /* the store is filled while no scheduler runs, and a job accounts for
     * its seconds from its creation on: jobs start when the fill is done
     * (scheduleStart), so the start-up has no downtime to account for and
     * the steady state is what is measured; skip, should filling overrun */
    isotime_format(from, 0, start, sizeof(start));
    body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "taskDefinition", "bench", "schedule",
                     schedule, "missedRuns", "skip", "scheduleStart", start);
    if (body == NULL || job_validate(body, NULL, NULL, &job, &errors) != 0) {
        char *why = errors != NULL ? json_dumps(errors, JSON_COMPACT) : NULL;

        ecs_fail(ECS_EINVAL, msg, msglen, "job %s does not validate: %s", id,
                 why != NULL ? why : "out of memory");
        free(why);
    } else {
        text = json_dumps(job, JSON_COMPACT);
        if (text == NULL)
            ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory writing job %s", id);
    }
    json_decref(errors);
    json_decref(job);
    json_decref(body);
    return text;
}

/* Create the jobs through the store's front door, as the API does. */
static int create_jobs(const char *spec, size_t jobs, int64_t from, char *msg, size_t msglen)
{
    struct store *st = NULL;
    int rc = store_open(spec, &st, msg, msglen);
    size_t i;

    for (i = 0; rc == 0 && i < jobs; i++) {
        char *text = job_text(i, from, msg, msglen);
        char id[32];

        if (text == NULL) {
            rc = ECS_EINVAL;
            break;
        }
        snprintf(id, sizeof(id), JOB_PREFIX "%06zu", i);
        rc = store_create(st, id, text, msg, msglen);
        free(text);
    }
    store_close(&st);
    return rc;
}

static int cmp_late(const void *a, const void *b)
{
    int32_t x = ((const struct sample *)a)->late_ms;
    int32_t y = ((const struct sample *)b)->late_ms;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted samples. */
static int32_t percentile(const struct sample *s, size_t n, double p)
{
    size_t rank = (size_t)(p * (double)n + 0.999999);

    if (n == 0)
        return 0;
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return s[rank - 1].late_ms;
}

/* Jobs whose second of the minute is sec. */
static uint64_t jobs_at(size_t jobs, int sec)
{
    return jobs / 60 + ((size_t)sec < jobs % 60 ? 1 : 0);
}

/* Firings due in seconds first..last (*due), and how many of them are
 * their job's first in that window (*firsts): the fake launcher's tasks
 * run until stopped, so a job's later firings find its task still
 * running and start nothing (the seed's rule), with no launch to time. */
static void expected_firings(size_t jobs, int64_t first, int64_t last, uint64_t *due,
                             uint64_t *firsts)
{
    int64_t t;

    *due = 0;
    *firsts = 0;
    for (t = first; t <= last; t++) {
        *due += jobs_at(jobs, (int)(t % 60));
        if (t < first + 60)
            *firsts += jobs_at(jobs, (int)(t % 60));
    }
}

static void remove_store(const char *dir)
{
    static const char *const files[] = {"jobs.db", "jobs.db-wal", "jobs.db-shm"};
    char path[512];
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int parse_arg(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

#define WORST_SHOWN 5

/* The seconds whose slowest launch was latest: a second's burst is what
 * lateness is made of, so the bad ones point at what got in its way. */
struct worst {
    size_t seconds; /* seconds with a timed launch */
    size_t over;    /* of which one launch missed the target */
    int64_t second[WORST_SHOWN];
    int32_t max_ms[WORST_SHOWN];
};

static void per_second(const struct sample *x, size_t n, int64_t first, int64_t last,
                       struct worst *w)
{
    size_t span = last >= first ? (size_t)(last - first + 1) : 0;
    int32_t *max = calloc(span > 0 ? span : 1, sizeof(*max));
    bool *seen = calloc(span > 0 ? span : 1, sizeof(*seen));
    size_t i;
    size_t k;

    memset(w, 0, sizeof(*w));
    if (max == NULL || seen == NULL) {
        free(max);
        free(seen);
        return;
    }
    for (i = 0; i < n; i++) {
        size_t at = (size_t)(x[i].scheduled - first);

        if (x[i].scheduled < first || at >= span)
            continue;
        seen[at] = true;
        if (x[i].late_ms > max[at])
            max[at] = x[i].late_ms;
    }
    for (i = 0; i < span; i++) {
        if (!seen[i])
            continue;
        w->seconds++;
        if (max[i] > TARGET_P99_MS)
            w->over++;
        /* insertion into the short list, slowest first */
        for (k = 0; k < WORST_SHOWN; k++) {
            if (k >= w->seconds - 1 || max[i] > w->max_ms[k])
                break;
        }
        if (k < WORST_SHOWN) {
            size_t m = WORST_SHOWN - 1;

            for (; m > k; m--) {
                w->second[m] = w->second[m - 1];
                w->max_ms[m] = w->max_ms[m - 1];
            }
            w->second[k] = first + (int64_t)i;
            w->max_ms[k] = max[i];
        }
    }
    free(max);
    free(seen);
}

/* Run the scheduler for `seconds` and print what it did. */
static int run(const char *spec, size_t jobs, long seconds, struct logger *log)
{
    struct observer obs;
    struct store *st = NULL;
    struct launcher *l = NULL;
    struct scheduler *s = NULL;
    struct launcher_config lcfg;
    struct scheduler_config cfg;
    struct scheduler_stats stats;
    char msg[512];
    int64_t t0;
    int64_t open_us;
    int64_t start_us;
    int64_t started_ms;
    int64_t stop_ms;
    int64_t cpu0;
    int64_t cpu1;
    int64_t first;
    int64_t last;
    long rss_start;
    long hwm_start;
    long rss;
    long hwm;
    size_t n;
    size_t i;
    size_t steady = 0;
    size_t in_window = 0;
    size_t startup_firings = 0;
    int32_t startup_max = 0;
    uint64_t due;
    uint64_t firsts;
    struct worst worst;

    memset(&obs, 0, sizeof(obs));
    obs.jobs = jobs;
    /* every job at most once a minute, plus one for a partial minute at
     * each end */
    obs.cap = jobs * ((size_t)seconds / 60 + 2);
    obs.samples = malloc(obs.cap * sizeof(*obs.samples));
    if (obs.samples == NULL) {
        fprintf(stderr, "firing: out of memory\n");
        return 1;
    }
    atomic_init(&obs.n, 0);
    atomic_init(&obs.dropped, 0);

    t0 = mono_us();
    if (store_open(spec, &st, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "firing: %s\n", msg);
        free(obs.samples);
        return 1;
    }
    open_us = mono_us() - t0;
    memset(&lcfg, 0, sizeof(lcfg));
    lcfg.on_run = on_run;
    lcfg.on_run_ctx = &obs;
    if (launcher_open("fake", &lcfg, &l, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "firing: %s\n", msg);
        store_close(&st);
        free(obs.samples);
        return 1;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.store = st;
    cfg.launcher = l;
    cfg.log = log;
    if (getenv("FIRING_WORKERS") != NULL)
        cfg.workers = atoi(getenv("FIRING_WORKERS"));
    /* the scheduler's first second is the first one not yet begun */
    first = (clock_wall_ms() + 999) / 1000;
    t0 = mono_us();
    if (scheduler_start(&cfg, &s, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "firing: %s\n", msg);
        launcher_close(&l);
        store_close(&st);
        free(obs.samples);
        return 1;
    }
    start_us = mono_us() - t0;
    started_ms = clock_wall_ms();
    memory_kib(&rss_start, &hwm_start);
    cpu0 = cpu_us();

    sleep((unsigned)seconds);
    stop_ms = clock_wall_ms();
    cpu1 = cpu_us();
    scheduler_get_stats(s, &stats);
    scheduler_stop(&s);
    memory_kib(&rss, &hwm);
    launcher_close(&l);
    store_close(&st);

    /* firings due while the scheduler was still starting are late by the
     * start-up itself; they are counted apart from the steady state */
    last = stop_ms / 1000 - TAIL_SLACK_S;
    n = atomic_load(&obs.n);
    if (n > obs.cap)
        n = obs.cap;
    for (i = 0; i < n; i++) {
        struct sample x = obs.samples[i];

        if (x.scheduled < first || x.scheduled > last)
            continue;
        in_window++;
        if (x.scheduled * 1000 < started_ms) {
            startup_firings++;
            if (x.late_ms > startup_max)
                startup_max = x.late_ms;
            continue;
        }
        obs.samples[steady++] = x;
    }
    per_second(obs.samples, steady, first, last, &worst);
    qsort(obs.samples, steady, sizeof(*obs.samples), cmp_late);
    expected_firings(jobs, first, last, &due, &firsts);

    printf("%zu jobs firing every minute (second i %% 60), fake launcher, sqlite store, "
           "%ld s,\n%d workers, logging at info to /dev/null\n\n",
           jobs, seconds, stats.workers);
    printf("%-36s %12s %12s\n", "", "measured", "target");
    printf("%-36s %12" PRIu64 "\n", "firings due in the window", due);
    printf("%-36s %12" PRIu64 "\n", "  launches expected (job's first)", firsts);
    printf("%-36s %12" PRIu64 "\n", "  repeats (task still runs: skipped)", due - firsts);
    printf("%-36s %12zu\n", "launches observed", in_window);
    printf("%-36s %12zu\n", "  of which due during start-up", startup_firings);
    printf("%-36s %12zu\n", "  steady state, timed below", steady);
    printf("%-36s %12" PRId32 "\n", "lateness min ms", steady > 0 ? obs.samples[0].late_ms : 0);
    printf("%-36s %12" PRId32 " %12s\n", "lateness p50 ms", percentile(obs.samples, steady, 0.50),
           "");
    printf("%-36s %12" PRId32 " %12d\n", "lateness p99 ms", percentile(obs.samples, steady, 0.99),
           TARGET_P99_MS);
    printf("%-36s %12" PRId32 "\n", "lateness max ms",
           steady > 0 ? obs.samples[steady - 1].late_ms : 0);
    printf("%-36s %12" PRId32 "\n", "lateness max ms, due in start-up", startup_max);
    printf("%-36s %12.1f\n", "store_open ms", (double)open_us / 1000.0);
    printf("%-36s %12.1f %12d\n", "start-up ms (scheduler_start)", (double)start_us / 1000.0,
           TARGET_STARTUP_MS);
    /* load on the machine stretches lateness; CPU per firing does not */
    printf("%-36s %12.1f\n", "CPU per firing us (user+sys)",
           stats.firings > 0 ? (double)(cpu1 - cpu0) / (double)stats.firings : 0.0);
    printf("%-36s %12.1f\n", "RSS after start-up MiB", (double)rss_start / 1024.0);
    printf("%-36s %12.1f %12d\n", "RSS at end MiB (VmRSS)", (double)rss / 1024.0, TARGET_RSS_MIB);
    printf("%-36s %12.1f %12d\n", "RSS peak MiB (VmHWM)", (double)hwm / 1024.0, TARGET_RSS_MIB);
    printf("%-36s %12" PRIu64 "\n", "scheduler: firings", stats.firings);
    printf("%-36s %12" PRIu64 "\n", "scheduler: tasks started", stats.tasks_started);
    printf("%-36s %12" PRIu64 "\n", "scheduler: missed", stats.missed);
    printf("%-36s %12" PRIu64 "\n", "scheduler: launch errors", stats.launch_errors);
    printf("%-36s %12" PRId64 "\n", "scheduler: max dequeue lateness ms", stats.max_lateness_ms);
    printf("%-36s %8zu of %zu\n", "seconds with a launch over target", worst.over, worst.seconds);
    printf("%-36s", "slowest seconds (:ss max ms)");
    for (i = 0; i < WORST_SHOWN && i < worst.seconds; i++)
        printf(" :%02d %" PRId32, (int)(worst.second[i] % 60), worst.max_ms[i]);
    printf("\n");
    if (atomic_load(&obs.dropped) > 0)
        printf("%-36s %12zu\n", "launches not recorded", atomic_load(&obs.dropped));
    printf("\n");
    printf("target: p99 lateness <= %d ms: %s\n", TARGET_P99_MS,
           percentile(obs.samples, steady, 0.99) <= TARGET_P99_MS ? "yes" : "no");
    printf("target: start-up <= %d ms: %s\n", TARGET_STARTUP_MS,
           start_us <= (int64_t)TARGET_STARTUP_MS * 1000 ? "yes" : "no");
    printf("target: RSS <= %d MiB: %s\n", TARGET_RSS_MIB,
           hwm <= (long)TARGET_RSS_MIB * 1024 ? "yes" : "no");
    free(obs.samples);
    return 0;
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    char spec[600];
    char msg[512];
    long jobs = JOBS_DEFAULT;
    long seconds = SECONDS_DEFAULT;
    int64_t t0;
    int64_t ready;
    struct logger *log = NULL;
    FILE *sink;
    int rc;

    if (argc > 3 || (argc > 1 && parse_arg(argv[1], 1, 10000000, &jobs) != 0) ||
        (argc > 2 && parse_arg(argv[2], 1, 86400, &seconds) != 0)) {
        fprintf(stderr, "usage: firing [JOBS [SECONDS]]  (default %d jobs, %d s)\n", JOBS_DEFAULT,
                SECONDS_DEFAULT);
        return 2;
    }
    /* the store's disk decides much of the lateness: TMPDIR picks it */
    snprintf(dir, sizeof(dir), "%s/ecsched-bench-firing-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "firing: cannot make a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    snprintf(spec, sizeof(spec), "sqlite:%s/jobs.db", dir);
    t0 = mono_us();
    /* filling takes about a second per FILL_RATE jobs; the jobs start
     * then, and the scheduler with them */
    ready = (clock_wall_ms() + 999) / 1000 + jobs / FILL_RATE + 2;
    rc = create_jobs(spec, (size_t)jobs, ready, msg, sizeof(msg));
    if (rc != 0) {
        fprintf(stderr, "firing: creating jobs: %s\n", msg);
        remove_store(dir);
        return 1;
    }
    while (clock_wall_ms() < ready * 1000 - 500)
        usleep(100000);
    printf("created %ld jobs in %.1f s (not measured)\n", jobs, (double)(mono_us() - t0) / 1e6);
    sink = fopen(getenv("FIRING_LOG") != NULL ? getenv("FIRING_LOG") : "/dev/null", "w");
    if (sink == NULL || log_init(&log, sink, LOG_INFO) != 0) {
        fprintf(stderr, "firing: cannot open /dev/null for the log\n");
        rc = 1;
    } else {
        rc = run(spec, (size_t)jobs, seconds, log);
    }
    log_free(&log);
    if (sink != NULL)
        fclose(sink);
    remove_store(dir);
    return rc;
}
