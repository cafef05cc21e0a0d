/* test_store.c - the store contract, run against every backend: the same
 * cases for memory and sqlite, then what only a durable store promises
 * (survives a reopen, refuses a write it cannot make and stays intact). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "harness.h"
#include "store/store.h"

static char spec[512];
static char dir[256];

struct seen {
    int created;
    int updated;
    int deleted;
    char last[64];
};

static void on_change(void *ctx, enum store_change change, const char *id)
{
    struct seen *s = ctx;

    if (change == STORE_CREATED)
        s->created++;
    if (change == STORE_UPDATED)
        s->updated++;
    if (change == STORE_DELETED)
        s->deleted++;
    snprintf(s->last, sizeof(s->last), "%s", id);
}

static struct store *open_fresh(const char *backend)
{
    struct store *s = NULL;
    char msg[512];

    snprintf(dir, sizeof(dir), "/tmp/ecsched-store-test-%d", (int)getpid());
    if (strcmp(backend, "sqlite") == 0) {
        snprintf(spec, sizeof(spec), "rm -rf %s", dir);
        if (system(spec) != 0)
            return NULL;
        snprintf(spec, sizeof(spec), "sqlite:%s/sub/dir/jobs.db", dir);
    } else {
        snprintf(spec, sizeof(spec), "memory:");
    }
    if (store_open(spec, &s, msg, sizeof(msg)) != 0)
        fprintf(stderr, "  open %s: %s\n", spec, msg);
    return s;
}

/* The ids of the whole list, comma-separated. */
static const char *ids(struct store *s, size_t skip, size_t count, size_t *total)
{
    static char out[1024];
    struct store_record *r = NULL;
    size_t n = 0;
    size_t i;
    size_t o = 0;
    char msg[256];

    out[0] = '\0';
    if (store_list(s, skip, count, &r, &n, total, msg, sizeof(msg)) != 0) {
        snprintf(out, sizeof(out), "ERROR %s", msg);
        return out;
    }
    for (i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i > 0 ? "," : "", r[i].id);
    store_records_free(&r, n);
    return out;
}

static void contract(const char *backend)
{
    struct store *s = open_fresh(backend);
    struct store_record r;
    struct seen seen;
    char msg[256];
    size_t total = 0;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    memset(&seen, 0, sizeof(seen));
    store_subscribe(s, on_change, &seen);
    T_EQ_STR(store_backend_name(s), backend);
    T_EQ_INT(store_ping(s, msg, sizeof(msg)), 0);
    T_EQ_STR(ids(s, 0, 10, &total), "");
    T_EQ_INT(total, 0);

    T_EQ_INT(store_create(s, "b", "{\"n\":1}", msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "a", "{\"n\":2}", msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "c", "{\"n\":3}", msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "a", "{}", msg, sizeof(msg)), ECS_EEXIST);
    T_EQ_INT(seen.created, 3);

    T_EQ_INT(store_get(s, "a", &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.data, "{\"n\":2}");
    T_EQ_INT(r.version, 1);
    store_record_clear(&r);
    T_EQ_INT(store_get(s, "zz", &r, msg, sizeof(msg)), ECS_ENOTFOUND);
    {
        /* many in one read: each id its own result */
        const char *want[3] = {"c", "zz", "b"};
        struct store_record got[3];
        int rcs[3] = {1, 1, 1};

        msg[0] = '\0';
        T_EQ_INT(store_get_many(s, want, 3, got, rcs, msg, sizeof(msg)), 0);
        T_EQ_INT(rcs[0], 0);
        T_EQ_STR(got[0].data, "{\"n\":3}");
        T_EQ_INT(rcs[1], ECS_ENOTFOUND);
        T_TRUE(got[1].data == NULL);
        T_HAS_STR(msg, "no record 'zz'");
        T_EQ_INT(rcs[2], 0);
        T_EQ_STR(got[2].id, "b");
        T_EQ_STR(got[2].data, "{\"n\":1}");
        for (int i = 0; i < 3; i++)
            store_record_clear(&got[i]);
    }

    /* creation order, not id order; skip/count windows */
    T_EQ_STR(ids(s, 0, 10, &total), "b,a,c");
    T_EQ_INT(total, 3);
    T_EQ_STR(ids(s, 1, 1, &total), "a");
    T_EQ_STR(ids(s, 2, 10, &total), "c");
    T_EQ_STR(ids(s, 3, 10, &total), "");
    T_EQ_STR(ids(s, 0, 0, &total), "");
    T_EQ_INT(total, 3);

    /* compare-and-swap on the version */
    T_EQ_INT(store_update(s, "a", "{\"n\":20}", 1, msg, sizeof(msg)), 0);
    T_EQ_INT(store_update(s, "a", "{\"n\":21}", 1, msg, sizeof(msg)), ECS_ECONFLICT);
    T_EQ_INT(store_update(s, "zz", "{}", 1, msg, sizeof(msg)), ECS_ENOTFOUND);
    T_EQ_INT(store_get(s, "a", &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.data, "{\"n\":20}");
    T_EQ_INT(r.version, 2);
    store_record_clear(&r);
    T_EQ_INT(seen.updated, 1);
    /* an update does not reorder */
    T_EQ_STR(ids(s, 0, 10, &total), "b,a,c");

    /* delete, and a re-created id moves to the end */
    T_EQ_INT(store_delete(s, "b", msg, sizeof(msg)), 0);
    T_EQ_INT(store_delete(s, "b", msg, sizeof(msg)), ECS_ENOTFOUND);
    T_EQ_INT(seen.deleted, 1);
    T_EQ_STR(seen.last, "b");
    T_EQ_INT(store_create(s, "b", "{\"n\":4}", msg, sizeof(msg)), 0);
    T_EQ_STR(ids(s, 0, 10, &total), "a,c,b");
    store_close(&s);
    T_TRUE(s == NULL);
}

/* Every record says when it was created or last updated: a job that has
 * never fired resumes from there after a restart. */
static void changed_stamps(const char *backend)
{
    struct store *s = open_fresh(backend);
    struct store_record r;
    struct store_record *all = NULL;
    size_t n = 0;
    size_t total = 0;
    char msg[512];
    int64_t before = clock_wall_ms();
    int64_t created;

    if (s == NULL)
        return;
    T_EQ_INT(store_create(s, "a", "{}", msg, sizeof(msg)), 0);
    T_EQ_INT(store_get(s, "a", &r, msg, sizeof(msg)), 0);
    T_TRUE(r.changed_ms >= before && r.changed_ms <= clock_wall_ms());
    created = r.changed_ms;
    T_EQ_INT(store_update(s, "a", "{\"x\":1}", r.version, msg, sizeof(msg)), 0);
    store_record_clear(&r);
    T_EQ_INT(store_list(s, 0, 10, &all, &n, &total, msg, sizeof(msg)), 0);
    T_EQ_INT(n, 1);
    if (n == 1)
        T_TRUE(all[0].changed_ms >= created);
    store_records_free(&all, n);
    store_close(&s);
}

static void test_changed_memory(void)
{
    changed_stamps("memory");
}

static void test_changed_sqlite(void)
{
    changed_stamps("sqlite");
}

static void test_contract_memory(void)
{
    contract("memory");
}

static void test_contract_sqlite(void)
{
    contract("sqlite");
}

/* A job's data naming `after` as its upstream (NULL: none), in a
 * buffer of each thread's own. */
static __thread char job_text[256];

static const char *job_after(const char *id, const char *after)
{
    if (after == NULL)
        snprintf(job_text, sizeof(job_text), "{\"id\":\"%s\"}", id);
    else
        snprintf(job_text, sizeof(job_text), "{\"id\":\"%s\",\"after\":{\"job\":\"%s\"}}", id,
                 after);
    return job_text;
}

/* The pipeline graph stays whole whatever is written: no follower of a
 * missing job, no cycle, no delete of a job something follows. */
static void graph(const char *backend)
{
    struct store *s = open_fresh(backend);
    struct store_record r;
    char msg[512];

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    T_EQ_INT(store_create(s, "c", job_after("c", "d"), msg, sizeof(msg)), ECS_ELINK);
    T_EQ_STR(msg, "Job d does not exist.");
    T_EQ_INT(store_create(s, "a", job_after("a", NULL), msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "b", job_after("b", "a"), msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "c", job_after("c", "b"), msg, sizeof(msg)), 0);
    /* a -> c would close the loop a -> c -> b -> a */
    T_EQ_INT(store_get(s, "a", &r, msg, sizeof(msg)), 0);
    T_EQ_INT(store_update(s, "a", job_after("a", "c"), r.version, msg, sizeof(msg)), ECS_ELINK);
    T_EQ_STR(msg, "This would make a cycle: a -> c -> b -> a.");
    T_EQ_INT(store_update(s, "a", job_after("a", "a"), r.version, msg, sizeof(msg)), ECS_ELINK);
    T_EQ_STR(msg, "This would make a cycle: a -> a.");
    store_record_clear(&r);
    T_EQ_INT(store_delete(s, "a", msg, sizeof(msg)), ECS_ELINK);
    T_EQ_STR(msg, "Job a is followed by b (their 'after'): change or delete them first.");
    T_EQ_INT(store_get(s, "a", &r, msg, sizeof(msg)), 0);
    store_record_clear(&r);
    /* unlinked, it goes */
    T_EQ_INT(store_get(s, "b", &r, msg, sizeof(msg)), 0);
    T_EQ_INT(store_update(s, "b", job_after("b", NULL), r.version, msg, sizeof(msg)), 0);
    store_record_clear(&r);
    T_EQ_INT(store_delete(s, "a", msg, sizeof(msg)), 0);
    T_EQ_INT(store_delete(s, "b", msg, sizeof(msg)), ECS_ELINK);
    T_EQ_INT(store_delete(s, "c", msg, sizeof(msg)), 0);
    T_EQ_INT(store_delete(s, "b", msg, sizeof(msg)), 0);
    store_close(&s);
}

static void test_graph_memory(void)
{
    graph("memory");
}

static void test_graph_sqlite(void)
{
    graph("sqlite");
}

/* Two writers on separate handles (as two processes) racing to link a
 * pair both ways, or to follow a job while it is deleted: the graph
 * holds every time, whatever the interleaving. */
#define RACES 200

struct racer {
    struct store *s;
    int round;
    int which; /* 0 or 1: which side of the pair */
    pthread_barrier_t *go;
    int ok;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    struct store_record rec;
    char a[32];
    char b[32];
    char msg[512];
    int i;

    for (i = 0; i < RACES; i++) {
        snprintf(a, sizeof(a), "a%d", i);
        snprintf(b, sizeof(b), "b%d", i);
        pthread_barrier_wait(r->go);
        if (r->round == 0) {
            /* a.after = b racing b.after = a */
            const char *me = r->which == 0 ? a : b;
            const char *other = r->which == 0 ? b : a;

            if (store_get(r->s, me, &rec, msg, sizeof(msg)) == 0) {
                if (store_update(r->s, me, job_after(me, other), rec.version, msg, sizeof(msg)) ==
                    0)
                    r->ok++;
                store_record_clear(&rec);
            }
        } else if (r->which == 0) {
            /* a.after = b racing delete b */
            if (store_get(r->s, a, &rec, msg, sizeof(msg)) == 0) {
                if (store_update(r->s, a, job_after(a, b), rec.version, msg, sizeof(msg)) == 0)
                    r->ok++;
                store_record_clear(&rec);
            }
        } else if (store_delete(r->s, b, msg, sizeof(msg)) == 0) {
            r->ok++;
        }
        pthread_barrier_wait(r->go);
    }
    return NULL;
}

static void race_round(int round)
{
    struct store *s = open_fresh("sqlite");
    struct store *t = NULL;
    struct racer rs[2];
    pthread_t th[2];
    pthread_barrier_t go;
    struct store_record rec;
    char msg[512];
    char a[32];
    char b[32];
    int broken = 0;
    int both = 0;
    int i;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    T_EQ_INT(store_open(spec, &t, msg, sizeof(msg)), 0);
    for (i = 0; i < RACES; i++) {
        snprintf(a, sizeof(a), "a%d", i);
        snprintf(b, sizeof(b), "b%d", i);
        T_EQ_INT(store_create(s, a, job_after(a, NULL), msg, sizeof(msg)), 0);
        T_EQ_INT(store_create(s, b, job_after(b, NULL), msg, sizeof(msg)), 0);
    }
    pthread_barrier_init(&go, NULL, 2);
    for (i = 0; i < 2; i++) {
        rs[i] = (struct racer){i == 0 ? s : t, round, i, &go, 0};
        T_EQ_INT(pthread_create(&th[i], NULL, racer_main, &rs[i]), 0);
    }
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (i = 0; i < RACES; i++) {
        char up_a[64] = "";
        char up_b[64] = "-";

        snprintf(a, sizeof(a), "a%d", i);
        snprintf(b, sizeof(b), "b%d", i);
        if (store_get(s, a, &rec, msg, sizeof(msg)) == 0) {
            snprintf(up_a, sizeof(up_a), "%s", strstr(rec.data, "\"after\"") != NULL ? b : "");
            store_record_clear(&rec);
        }
        if (store_get(s, b, &rec, msg, sizeof(msg)) == 0) {
            snprintf(up_b, sizeof(up_b), "%s", strstr(rec.data, "\"after\"") != NULL ? a : "");
            store_record_clear(&rec);
        }
        /* round 0: a cycle; round 1: a follows a b that is gone */
        if (round == 0 && strcmp(up_a, b) == 0 && strcmp(up_b, a) == 0)
            broken++;
        if (round == 1 && strcmp(up_a, b) == 0 && strcmp(up_b, "-") == 0)
            broken++;
    }
    both = rs[0].ok + rs[1].ok;
    T_EQ_INT(broken, 0);
    /* each pair: exactly one of the two writes wins in round 0; in round
     * 1 one or both (the delete, then the update refused, or the update
     * then the delete refused: exactly one) */
    T_EQ_INT(both, RACES);
    store_close(&t);
    store_close(&s);
}

static void test_sqlite_graph_races(void)
{
    race_round(0);
    race_round(1);
}

/* Put a run; returns its id (0 on failure, which the asserts show). */
static int64_t put_run(struct store *s, const char *job, const char *claim, int64_t when,
                       const char *status, int64_t ntasks)
{
    struct store_run r = {0, (char *)job, (char *)claim, when, (char *)status, ntasks, "{}", 0};
    char msg[512];

    T_EQ_INT(store_run_put(s, &r, msg, sizeof(msg)), 0);
    return r.id;
}

/* The ids a query answers, newest or oldest first as the query says. */
static const char *run_ids(struct store *s, enum store_run_query q, const char *job, size_t skip,
                           size_t count, size_t *total)
{
    static char buf[256];
    struct store_run *runs = NULL;
    size_t n = 0;
    size_t i;
    size_t used = 0;
    char msg[512];

    buf[0] = '\0';
    T_EQ_INT(store_run_query(s, q, job, skip, count, &runs, &n, total, msg, sizeof(msg)), 0);
    for (i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%lld", i > 0 ? "," : "",
                                 (long long)runs[i].id);
    store_runs_free(&runs, n);
    return buf;
}

/* Pipeline and trigger claims ("<job>@after:...", "<job>@s3:...") are
 * found by claim and never count as the job's last scheduled firing. */
static void claims_contract(const char *backend)
{
    struct store *s = open_fresh(backend);
    size_t total = 0;
    char msg[512];

    T_TRUE(s != NULL);
    T_EQ_INT(store_create(s, "a", "{}", msg, sizeof(msg)), 0);
    T_EQ_INT((int)put_run(s, "a", "a@200", 200, "succeeded", 1), 1);
    T_EQ_INT((int)put_run(s, "a", "a@after:b#3", 300, "pending", 0), 2);
    T_EQ_INT((int)put_run(s, "a", "a@s3:m-1#0", 400, "pending", 0), 3);
    T_EQ_STR(run_ids(s, STORE_RUNS_LAST_CLAIMED, "a", 0, 100, &total), "1");
    T_EQ_STR(run_ids(s, STORE_RUNS_LAST_CLAIMED, "", 0, 100, &total), "1");
    T_EQ_STR(run_ids(s, STORE_RUNS_BY_CLAIM, "a@s3:m-1#0", 0, 100, &total), "3");
    T_EQ_STR(run_ids(s, STORE_RUNS_BY_CLAIM, "a@s3:m-2#0", 0, 100, &total), "");
    {
        /* pruning keeps the last scheduled firing, not a later pipeline
         * step's or object's claim (the bug: run 1 went, and a restart
         * lost where the schedule had got to) */
        struct store_run ended = {0, "c", NULL, 300, "failed", 0, "{}", 1};

        T_EQ_INT((int)put_run(s, "c", "c@100", 100, "skipped", 0), 4);
        T_EQ_INT((int)put_run(s, "c", "c@after:x#1", 200, "failed", 1), 5);
        T_EQ_INT(store_run_put(s, &ended, msg, sizeof(msg)), 0);
        /* 6 newest, 5 last launched, 4 the last scheduled firing */
        T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "c", 0, 10, &total), "6,5,4");
        T_EQ_STR(run_ids(s, STORE_RUNS_LAST_CLAIMED, "c", 0, 100, &total), "4");
    }
    store_close(&s);
}

static void test_claims_memory(void)
{
    claims_contract("memory");
}

static void test_claims_sqlite(void)
{
    claims_contract("sqlite");
}

static void runs_contract(const char *backend)
{
    struct store *s = open_fresh(backend);
    struct store_run r;
    struct store_run upd = {0, "a", NULL, 0, "succeeded", 2, "{\"x\":1}", 0};
    size_t total = 0;
    char msg[512];

    T_TRUE(s != NULL);
    T_EQ_INT(store_create(s, "a", "{}", msg, sizeof(msg)), 0);
    T_EQ_INT((int)put_run(s, "a", "a@100", 100, "pending", 0), 1);
    T_EQ_INT((int)put_run(s, "a", "a@200", 200, "running", 1), 2);
    T_EQ_INT((int)put_run(s, "b", "b@200", 200, "failed", 0), 3);
    T_EQ_INT((int)put_run(s, "a", NULL, 250, "skipped", 0), 4);
    {
        /* the same scheduled second of the same job is claimed once */
        struct store_run dup = {0, "a", "a@200", 200, "pending", 0, "{}", 0};

        T_EQ_INT(store_run_put(s, &dup, msg, sizeof(msg)), ECS_EEXIST);
        T_HAS_STR(msg, "a@200");
        T_EQ_INT((int)dup.id, 0);
    }
    T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 0, 10, &total), "4,2,1");
    T_EQ_INT((int)total, 3);
    T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 1, 1, &total), "2");
    T_EQ_INT((int)total, 3);
    T_EQ_STR(run_ids(s, STORE_RUNS_ACTIVE_AFTER, NULL, 0, 100, &total), "1,2");
    /* paged by run id, as the tracker reads them */
    T_EQ_STR(run_ids(s, STORE_RUNS_ACTIVE_AFTER, NULL, 0, 1, &total), "1");
    T_EQ_STR(run_ids(s, STORE_RUNS_ACTIVE_AFTER, NULL, 1, 100, &total), "2");
    T_EQ_STR(run_ids(s, STORE_RUNS_ACTIVE_AFTER, NULL, 2, 100, &total), "");
    T_EQ_STR(run_ids(s, STORE_RUNS_LAST_LAUNCHED, "a", 0, 100, &total), "2");
    T_EQ_STR(run_ids(s, STORE_RUNS_LAST_CLAIMED, "a", 0, 100, &total), "2");
    T_EQ_STR(run_ids(s, STORE_RUNS_LAST_LAUNCHED, "b", 0, 100, &total), "");
    T_EQ_STR(run_ids(s, STORE_RUNS_LAST_CLAIMED, "", 0, 100, &total), "2,3");

    /* an update changes status, tasks and data, never the claim or time */
    upd.id = 1;
    T_EQ_INT(store_run_put(s, &upd, msg, sizeof(msg)), 0);
    T_EQ_INT(store_run_get(s, "a", 1, &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.status, "succeeded");
    T_EQ_STR(r.data, "{\"x\":1}");
    T_EQ_STR(r.claim, "a@100");
    T_EQ_INT((int)r.scheduled, 100);
    T_EQ_INT((int)r.ntasks, 2);
    store_run_clear(&r);
    T_EQ_INT(store_run_get(s, "b", 1, &r, msg, sizeof(msg)), ECS_ENOTFOUND);
    T_HAS_STR(msg, "no run 1");
    upd.id = 99;
    T_EQ_INT(store_run_put(s, &upd, msg, sizeof(msg)), ECS_ENOTFOUND);

    /* pruning keeps the newest, the active, the last launched and the
     * last claimed, and happens only once a run written with keep has
     * ended */
    T_EQ_INT((int)put_run(s, "a", "a@300", 300, "failed", 0), 5);
    {
        struct store_run active = {0, "a", NULL, 350, "pending", 0, "{}", 1};

        T_EQ_INT(store_run_put(s, &active, msg, sizeof(msg)), 0);
        T_EQ_INT((int)active.id, 6);
        T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 0, 10, &total), "6,5,4,2,1");
        /* its update ends it: 6 newest, 5 last claimed, 2 running (and
         * the newest launched); 4 and 1 go */
        active.status = "failed";
        T_EQ_INT(store_run_put(s, &active, msg, sizeof(msg)), 0);
    }
    T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 0, 10, &total), "6,5,2");
    T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "b", 0, 10, &total), "3");
    {
        /* in a batch, each ended run prunes its own job */
        struct store_run batch[2] = {
            {0, "a", NULL, 400, "succeeded", 0, "{}", 2},
            {0, "b", NULL, 400, "failed", 0, "{}", 1},
        };
        int rcs[2] = {-1, -1};

        T_EQ_INT(store_run_put_many(s, batch, 2, rcs, msg, sizeof(msg)), 0);
        T_EQ_INT(rcs[0], 0);
        T_EQ_INT(rcs[1], 0);
        /* a: 7 and 6 newest, 5 last claimed, 2 running; b: 8 newest, 3
         * its last claimed */
        T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 0, 10, &total), "7,6,5,2");
        T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "b", 0, 10, &total), "8,3");
    }

    /* a deleted job takes its runs along; ids are never reused */
    T_EQ_INT(store_delete(s, "a", msg, sizeof(msg)), 0);
    T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 0, 10, &total), "");
    T_EQ_INT((int)total, 0);
    T_EQ_INT((int)put_run(s, "a", "a@100", 100, "pending", 0), 9);
    {
        /* many in one call: each run has its own result, and one that
         * fails does not keep the others out */
        struct store_run many[4] = {
            {0, "a", "a@500", 500, "pending", 0, "{}", 0},
            {0, "a", "a@100", 100, "pending", 0, "{}", 0},
            {9, "a", NULL, 0, "running", 1, "{\"y\":2}", 0},
            {99, "a", NULL, 0, "running", 1, "{}", 0},
        };
        int rcs[4] = {1, 1, 1, 1};

        T_EQ_INT(store_run_put_many(s, many, 4, rcs, msg, sizeof(msg)), 0);
        T_EQ_INT(rcs[0], 0);
        T_EQ_INT((int)many[0].id, 10);
        T_EQ_INT(rcs[1], ECS_EEXIST);
        T_EQ_INT((int)many[1].id, 0);
        T_EQ_INT(rcs[2], 0);
        T_EQ_INT(rcs[3], ECS_ENOTFOUND);
        T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 0, 10, &total), "10,9");
        T_EQ_INT(store_run_get(s, "a", 9, &r, msg, sizeof(msg)), 0);
        T_EQ_STR(r.status, "running");
        T_EQ_STR(r.data, "{\"y\":2}");
        store_run_clear(&r);
    }
    store_close(&s);
}

static void test_runs_memory(void)
{
    runs_contract("memory");
}

static void test_runs_sqlite(void)
{
    runs_contract("sqlite");
}

#define PUTTERS 4
#define PUTS 25
#define PER_PUT 8

/* One thread's share of test_sqlite_shared_commits. */
struct putter {
    struct store *s;
    int who;
    int created; /* runs written, by rcs */
    int taken;   /* claims refused as taken (ECS_EEXIST) */
    int failed;  /* anything else */
};

static void *putter_main(void *arg)
{
    struct putter *p = arg;
    int k;

    for (k = 0; k < PUTS; k++) {
        struct store_run runs[PER_PUT + 1];
        char claims[PER_PUT + 1][32];
        int rcs[PER_PUT + 1];
        char msg[512];
        int i;

        for (i = 0; i <= PER_PUT; i++) {
            /* a thread's own seconds, and the last claim of each call
             * every thread's: one wins */
            int64_t when = i < PER_PUT ? p->who * 10000 + k * PER_PUT + i : 1000000 + k;

            snprintf(claims[i], sizeof(claims[i]), "p@%lld", (long long)when);
            runs[i] = (struct store_run){0, "p", claims[i], when, "pending", 0, "{}", 0};
        }
        if (store_run_put_many(p->s, runs, PER_PUT + 1, rcs, msg, sizeof(msg)) != 0) {
            p->failed += PER_PUT + 1;
            continue;
        }
        for (i = 0; i <= PER_PUT; i++) {
            if (rcs[i] == 0 && runs[i].id > 0)
                p->created++;
            else if (rcs[i] == ECS_EEXIST && runs[i].id == 0)
                p->taken++;
            else
                p->failed++;
        }
    }
    return NULL;
}

/* Writers that call at once may share a commit: each still gets its own
 * results, every claim is taken exactly once. */
static void test_sqlite_shared_commits(void)
{
    struct store *s = open_fresh("sqlite");
    struct putter p[PUTTERS];
    pthread_t t[PUTTERS];
    size_t total = 0;
    int created = 0;
    int taken = 0;
    int i;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    for (i = 0; i < PUTTERS; i++) {
        p[i] = (struct putter){s, i, 0, 0, 0};
        T_EQ_INT(pthread_create(&t[i], NULL, putter_main, &p[i]), 0);
    }
    for (i = 0; i < PUTTERS; i++) {
        pthread_join(t[i], NULL);
        created += p[i].created;
        taken += p[i].taken;
        T_EQ_INT(p[i].failed, 0);
    }
    T_EQ_INT(created, PUTTERS * PUTS * PER_PUT + PUTS);
    T_EQ_INT(taken, (PUTTERS - 1) * PUTS);
    run_ids(s, STORE_RUNS_OF_JOB, "p", 0, 1, &total);
    T_EQ_INT(total, PUTTERS * PUTS * PER_PUT + PUTS);
    store_close(&s);
}

static void test_sqlite_survives_reopen(void)
{
    struct store *s = open_fresh("sqlite");
    struct store_record r;
    char msg[512];
    size_t total;
    int i;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    for (i = 0; i < 30; i++) {
        char id[16];

        snprintf(id, sizeof(id), "job-%02d", 29 - i);
        T_EQ_INT(store_create(s, id, "{\"schedule\":\"9 */5\"}", msg, sizeof(msg)), 0);
    }
    T_EQ_INT(store_update(s, "job-05", "{\"schedule\":\"1 */5\"}", 1, msg, sizeof(msg)), 0);
    store_close(&s);
    T_EQ_INT(store_open(spec, &s, msg, sizeof(msg)), 0);
    if (s == NULL)
        return;
    T_EQ_STR(ids(s, 0, 3, &total), "job-29,job-28,job-27");
    T_EQ_INT(total, 30);
    T_EQ_INT(store_get(s, "job-05", &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.data, "{\"schedule\":\"1 */5\"}");
    T_EQ_INT(r.version, 2);
    store_record_clear(&r);
    store_close(&s);
}

/* Another writer holds the database: the store must give up after its
 * busy timeout with "unavailable" (the API's 503) and change nothing. */
static void test_sqlite_refused_write_changes_nothing(void)
{
    struct store *s = open_fresh("sqlite");
    sqlite3 *other = NULL;
    char msg[512];
    char cmd[600];
    size_t total;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    T_EQ_INT(store_create(s, "keep", "{}", msg, sizeof(msg)), 0);
    T_EQ_INT(sqlite3_open(spec + strlen("sqlite:"), &other), SQLITE_OK);
    T_EQ_INT(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    T_EQ_INT(store_create(s, "new", "{}", msg, sizeof(msg)), ECS_EUNAVAILABLE);
    T_HAS_STR(msg, "database is locked");
    T_EQ_INT(store_update(s, "keep", "{\"x\":1}", 1, msg, sizeof(msg)), ECS_EUNAVAILABLE);
    {
        /* a batch of runs fails whole, each run told so */
        struct store_run run = {0, "keep", "keep@1", 1, "pending", 0, "{}", 0};
        int rc = 0;

        T_EQ_INT(store_run_put_many(s, &run, 1, &rc, msg, sizeof(msg)), ECS_EUNAVAILABLE);
        T_EQ_INT(rc, ECS_EUNAVAILABLE);
        T_EQ_INT((int)run.id, 0);
    }
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    T_EQ_STR(ids(s, 0, 10, &total), "keep");
    {
        struct store_record r;

        T_EQ_INT(store_get(s, "keep", &r, msg, sizeof(msg)), 0);
        T_EQ_STR(r.data, "{}");
        T_EQ_INT(r.version, 1);
        store_record_clear(&r);
    }
    store_close(&s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    T_EQ_INT(system(cmd), 0);
}

/* A store written by the version 2 schema opens with its runs, claims
 * and run ids intact, and the claims still hold. */
static void test_sqlite_migrates_v2(void)
{
    static const char *const v2 =
        "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " data TEXT NOT NULL, version INTEGER NOT NULL);"
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL,"
        " claim TEXT UNIQUE, scheduled INTEGER NOT NULL, status TEXT NOT NULL,"
        " ntasks INTEGER NOT NULL, data TEXT NOT NULL);"
        "CREATE INDEX runs_by_job ON runs (job_id, id);"
        "CREATE INDEX runs_active ON runs (status) WHERE status IN ('pending', 'running');"
        "CREATE INDEX runs_claims ON runs (job_id, scheduled) WHERE claim IS NOT NULL;"
        "INSERT INTO jobs (id, data, version) VALUES ('a', '{}', 1);"
        "INSERT INTO jobs (id, data, version) VALUES ('b', '{\"after\":{\"job\":\"a\"}}', 1);"
        "INSERT INTO runs VALUES (1, 'a', 'a@100', 100, 'succeeded', 1, '{}');"
        "INSERT INTO runs VALUES (2, 'a', 'a@s3:m#0', 150, 'running', 1, '{}');"
        "INSERT INTO runs VALUES (3, 'a', 'a@200', 200, 'running', 1, '{}');"
        /* run 4 was pruned: its id must not come back */
        "INSERT INTO runs VALUES (4, 'a', NULL, 300, 'failed', 0, '{}');"
        "DELETE FROM runs WHERE id = 4;"
        "PRAGMA user_version = 2;";
    struct store *s = open_fresh("sqlite");
    sqlite3 *old = NULL;
    size_t total = 0;
    char msg[512];

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    store_close(&s);
    T_EQ_INT(unlink(spec + strlen("sqlite:")), 0);
    T_EQ_INT(sqlite3_open(spec + strlen("sqlite:"), &old), SQLITE_OK);
    T_EQ_INT(sqlite3_exec(old, v2, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(old);
    T_EQ_INT(store_open(spec, &s, msg, sizeof(msg)), 0);
    if (s == NULL) {
        fprintf(stderr, "  %s\n", msg);
        return;
    }
    T_EQ_STR(run_ids(s, STORE_RUNS_OF_JOB, "a", 0, 10, &total), "3,2,1");
    T_EQ_STR(run_ids(s, STORE_RUNS_LAST_CLAIMED, "", 0, 10, &total), "3");
    T_EQ_STR(run_ids(s, STORE_RUNS_BY_CLAIM, "a@s3:m#0", 0, 10, &total), "2");
    T_EQ_INT((int)put_run(s, "a", NULL, 400, "failed", 0), 5);
    /* migration 6 filled in the upstreams of the jobs already stored */
    T_EQ_INT(store_delete(s, "a", msg, sizeof(msg)), ECS_ELINK);
    {
        struct store_run again = {0, "a", "a@200", 200, "pending", 0, "{}", 0};
        struct store_run object = {0, "a", "a@s3:m#0", 150, "pending", 0, "{}", 0};

        T_EQ_INT(store_run_put(s, &again, msg, sizeof(msg)), ECS_EEXIST);
        T_EQ_INT(store_run_put(s, &object, msg, sizeof(msg)), ECS_EEXIST);
    }
    store_close(&s);
}

static long file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The WAL reaches the database file: pages land in jobs.db only through a
 * checkpoint, which commits no longer run (the checkpointer's thread
 * does, once writes pause). A checkpointer whose connection had not read
 * the file yet did nothing at all, and the WAL grew for ever. */
static void test_sqlite_wal_is_checkpointed(void)
{
    struct store *s = open_fresh("sqlite");
    const char *db = spec + strlen("sqlite:");
    char msg[512];
    long before;
    long after = 0;
    int i;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    before = file_size(db);
    /* about 1,500 frames: one page each, plus the index and table pages */
    for (i = 0; i < 1500; i++) {
        char id[32];

        snprintf(id, sizeof(id), "job-%05d", i);
        T_EQ_INT(store_create(s, id, "{\"schedule\":\"* * * * *\"}", msg, sizeof(msg)), 0);
    }
    /* the checkpointer waits for 20 ms without a commit, then copies */
    for (i = 0; i < 200; i++) {
        after = file_size(db);
        if (after > before + 16 * 1024)
            break;
        usleep(10 * 1000);
    }
    if (after <= before + 16 * 1024)
        fprintf(stderr, "  jobs.db: %ld bytes before, %ld after\n", before, after);
    T_TRUE(after > before + 16 * 1024);
    store_close(&s);
}

/* One scheduler per SQLite file: a second handle (another daemon) is
 * refused while the first holds it, and takes it once the first closes;
 * the holder may claim again (a scheduler restarted on the same store). */
static void test_sqlite_one_scheduler(void)
{
    struct store *a = open_fresh("sqlite");
    struct store *b = NULL;
    char msg[512];

    if (a == NULL)
        return;
    T_EQ_INT(store_open(spec, &b, msg, sizeof(msg)), 0);
    T_EQ_INT(store_claim_scheduler(a, msg, sizeof(msg)), 0);
    T_EQ_INT(store_claim_scheduler(a, msg, sizeof(msg)), 0);
    msg[0] = '\0';
    T_EQ_INT(store_claim_scheduler(b, msg, sizeof(msg)), ECS_EUNAVAILABLE);
    T_HAS_STR(msg, "already has a scheduler");
    T_HAS_STR(msg, "PostgreSQL");
    /* the refused handle still reads and writes */
    T_EQ_INT(store_create(b, "x", "{}", msg, sizeof(msg)), 0);
    store_close(&a);
    T_EQ_INT(store_claim_scheduler(b, msg, sizeof(msg)), 0);
    store_close(&b);
}

static void test_bad_specs(void)
{
    struct store *s = NULL;
    char msg[512];

    T_EQ_INT(store_open("jobs.db", &s, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "BACKEND:LOCATION");
    T_EQ_INT(store_open("mysql:x", &s, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "unknown store backend 'mysql'");
    T_EQ_INT(store_open("sqlite:", &s, msg, sizeof(msg)), ECS_EINVAL);
    T_EQ_INT(store_open("sqlite:/proc/ecsched/jobs.db", &s, msg, sizeof(msg)), ECS_EUNAVAILABLE);
    T_HAS_STR(msg, "/proc/ecsched/jobs.db");
    T_TRUE(s == NULL);
}

static const struct test_case cases[] = {
    {"graph_memory", test_graph_memory},
    {"graph_sqlite", test_graph_sqlite},
    {"sqlite_graph_races", test_sqlite_graph_races},
    {"contract_memory", test_contract_memory},
    {"contract_sqlite", test_contract_sqlite},
    {"changed_memory", test_changed_memory},
    {"changed_sqlite", test_changed_sqlite},
    {"runs_memory", test_runs_memory},
    {"runs_sqlite", test_runs_sqlite},
    {"claims_memory", test_claims_memory},
    {"claims_sqlite", test_claims_sqlite},
    {"sqlite_shared_commits", test_sqlite_shared_commits},
    {"sqlite_survives_reopen", test_sqlite_survives_reopen},
    {"sqlite_refused_write_changes_nothing", test_sqlite_refused_write_changes_nothing},
    {"sqlite_migrates_v2", test_sqlite_migrates_v2},
    {"sqlite_wal_is_checkpointed", test_sqlite_wal_is_checkpointed},
    {"sqlite_one_scheduler", test_sqlite_one_scheduler},
    {"bad_specs", test_bad_specs},
};

TEST_MAIN("store", cases)
