/* memory.c - a store kept in memory, for tests and throwaway runs: the
 * same contract as the durable backends, lost on exit. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "core/error.h"

struct mem {
    pthread_mutex_t lock;
    struct store_record *rec; /* creation order */
    size_t n;
    size_t cap;
    struct store_run *runs; /* id order */
    size_t nruns;
    size_t capruns;
    int64_t next_run_id;
};

static int mem_open(const char *location, void **impl, char *msg, size_t msglen)
{
    struct mem *m = calloc(1, sizeof(*m));

    (void)location;
    if (m == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the memory store");
    pthread_mutex_init(&m->lock, NULL);
    *impl = m;
    return 0;
}

static void mem_close(void *impl)
{
    struct mem *m = impl;
    size_t i;

    for (i = 0; i < m->n; i++)
        store_record_clear(&m->rec[i]);
    free(m->rec);
    store_runs_free(&m->runs, m->nruns);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int mem_ping(void *impl, char *msg, size_t msglen)
{
    (void)impl;
    (void)msg;
    (void)msglen;
    return 0;
}

/* Index of id, or -1; the lock is held. */
static long mem_find(const struct mem *m, const char *id)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        if (strcmp(m->rec[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

static int copy_record(const struct store_record *from, struct store_record *to)
{
    to->id = store_strdup(from->id);
    to->data = store_strdup(from->data);
    to->version = from->version;
    to->changed_ms = from->changed_ms;
    if (to->id == NULL || to->data == NULL) {
        store_record_clear(to);
        return ECS_ENOMEM;
    }
    return 0;
}

/* store_upstream_fn over the records; the lock is held. */
static int mem_upstream(void *ctx, const char *id, char *up, size_t uplen, char *msg, size_t msglen)
{
    const struct mem *m = ctx;
    long i = mem_find(m, id);

    (void)msg;
    (void)msglen;
    if (i < 0)
        return ECS_ENOTFOUND;
    store_upstream_of(m->rec[i].data, up, uplen);
    return 0;
}

/* 0 when no record names id as its upstream, else ECS_ELINK naming the
 * first few that do; the lock is held. */
static int mem_check_followers(const struct mem *m, const char *id, char *msg, size_t msglen)
{
    const char *names[STORE_FOLLOWERS_NAMED];
    size_t named = 0;
    size_t total = 0;
    size_t i;
    char up[256];

    for (i = 0; i < m->n; i++) {
        store_upstream_of(m->rec[i].data, up, sizeof(up));
        if (strcmp(up, id) != 0)
            continue;
        if (named < STORE_FOLLOWERS_NAMED)
            names[named++] = m->rec[i].id;
        total++;
    }
    if (total == 0)
        return 0;
    return store_followed(id, names, named, total, msg, msglen);
}

static int mem_get(void *impl, const char *id, struct store_record *out, char *msg, size_t msglen)
{
    struct mem *m = impl;
    long i;
    int rc;

    pthread_mutex_lock(&m->lock);
    i = mem_find(m, id);
    if (i < 0)
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    else
        rc = copy_record(&m->rec[i], out);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_list(void *impl, size_t skip, size_t count, struct store_record **out, size_t *n,
                    size_t *total, char *msg, size_t msglen)
{
    struct mem *m = impl;
    size_t i;
    size_t k = 0;
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    *total = m->n;
    if (skip < m->n && count > 0) {
        size_t want = m->n - skip < count ? m->n - skip : count;

        *out = calloc(want, sizeof(**out));
        if (*out == NULL) {
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory listing records");
        } else {
            for (i = skip; i < skip + want && rc == 0; i++) {
                rc = copy_record(&m->rec[i], &(*out)[k]);
                if (rc == 0)
                    k++;
            }
        }
    }
    *n = k;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_create(void *impl, const char *id, const char *data, int64_t now_ms, char *msg,
                      size_t msglen)
{
    struct mem *m = impl;
    struct store_record r = {NULL, NULL, 1, 0};
    char up[256];
    int rc = 0;

    store_upstream_of(data, up, sizeof(up));
    pthread_mutex_lock(&m->lock);
    if (mem_find(m, id) >= 0) {
        rc = ecs_fail(ECS_EEXIST, msg, msglen, "record '%s' exists", id);
        goto out;
    }
    rc = store_check_upstream(id, up, mem_upstream, m, msg, msglen);
    if (rc != 0)
        goto out;
    if (m->n == m->cap) {
        size_t ncap = m->cap == 0 ? 16 : m->cap * 2;
        struct store_record *nr = realloc(m->rec, ncap * sizeof(*nr));

        if (nr == NULL) {
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
            goto out;
        }
        m->rec = nr;
        m->cap = ncap;
    }
    r.id = store_strdup(id);
    r.data = store_strdup(data);
    if (r.id == NULL || r.data == NULL) {
        store_record_clear(&r);
        rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
        goto out;
    }
    r.changed_ms = now_ms;
    m->rec[m->n++] = r;
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_update(void *impl, const char *id, const char *data, int64_t expected_version,
                      int64_t now_ms, char *msg, size_t msglen)
{
    struct mem *m = impl;
    long i;
    char *copy;
    char up[256];
    int rc = 0;

    store_upstream_of(data, up, sizeof(up));
    pthread_mutex_lock(&m->lock);
    i = mem_find(m, id);
    if (i < 0) {
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    } else if (m->rec[i].version != expected_version) {
        rc = ecs_fail(ECS_ECONFLICT, msg, msglen, "record '%s' changed meanwhile", id);
    } else {
        rc = store_check_upstream(id, up, mem_upstream, m, msg, msglen);
    }
    if (rc == 0) {
        copy = store_strdup(data);
        if (copy == NULL) {
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
        } else {
            free(m->rec[i].data);
            m->rec[i].data = copy;
            m->rec[i].version++;
            m->rec[i].changed_ms = now_ms;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static bool run_active(const struct store_run *r)
{
    return strcmp(r->status, "pending") == 0 || strcmp(r->status, "running") == 0;
}

/* The index of the job's newest run that started tasks, or of its latest
 * claimed firing (what pruning must keep), or -1. Lock held. */
static long keeper(const struct mem *m, const char *job_id, bool claimed)
{
    long best = -1;
    size_t i;

    for (i = 0; i < m->nruns; i++) {
        const struct store_run *r = &m->runs[i];

        if (strcmp(r->job_id, job_id) != 0)
            continue;
        if (!claimed && r->ntasks > 0)
            best = (long)i;
        /* a scheduled firing's claim is "<job>@<second>"; pipeline and
         * trigger claims hold a ':' and say nothing of the schedule */
        if (claimed && r->claim != NULL && strchr(r->claim, ':') == NULL &&
            (best < 0 || r->scheduled > m->runs[best].scheduled))
            best = (long)i;
    }
    return best;
}

/* Delete the job's finished runs but the newest `keep` (SIZE_MAX: all of
 * them, active or not, for a deleted job) and the two keepers. */
static void drop_runs(struct mem *m, const char *job_id, size_t keep)
{
    long launched = keep == SIZE_MAX ? -1 : keeper(m, job_id, false);
    long claimed = keep == SIZE_MAX ? -1 : keeper(m, job_id, true);
    size_t seen = 0;
    size_t i = m->nruns;
    size_t k = 0;

    while (i-- > 0) {
        struct store_run *r = &m->runs[i];
        bool drop;

        if (strcmp(r->job_id, job_id) != 0)
            continue;
        seen++;
        if (keep == SIZE_MAX)
            drop = true;
        else
            drop = seen > keep && !run_active(r) && (long)i != launched && (long)i != claimed;
        if (drop) {
            free(r->data);
            r->data = NULL; /* marked; compacted below */
        }
    }
    for (i = 0; i < m->nruns; i++) {
        if (m->runs[i].data == NULL) {
            store_run_clear(&m->runs[i]);
            continue;
        }
        m->runs[k++] = m->runs[i];
    }
    m->nruns = k;
}

static int mem_remove(void *impl, const char *id, char *msg, size_t msglen)
{
    struct mem *m = impl;
    long i;
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    i = mem_find(m, id);
    if (i < 0)
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    else
        rc = mem_check_followers(m, id, msg, msglen);
    if (rc == 0) {
        store_record_clear(&m->rec[i]);
        memmove(&m->rec[i], &m->rec[i + 1], (m->n - (size_t)i - 1) * sizeof(m->rec[0]));
        m->n--;
        drop_runs(m, id, SIZE_MAX);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* Insert (run->id == 0) or update one run; *at is then its index. Lock
 * held. */
static int put_run(struct mem *m, struct store_run *run, size_t *at, char *msg, size_t msglen)
{
    struct store_run copy;
    size_t i;

    for (i = 0; run->id != 0 && i < m->nruns; i++) {
        if (m->runs[i].id == run->id)
            break;
    }
    if (run->id != 0 && i == m->nruns)
        return ecs_fail(ECS_ENOTFOUND, msg, msglen, "no run %lld", (long long)run->id);
    for (i = 0; run->id == 0 && run->claim != NULL && i < m->nruns; i++) {
        if (m->runs[i].claim != NULL && strcmp(m->runs[i].claim, run->claim) == 0)
            return ecs_fail(ECS_EEXIST, msg, msglen, "firing %s is already claimed", run->claim);
    }
    if (store_run_copy(run, &copy) != 0)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory writing a run");
    if (run->id != 0) {
        for (i = 0; m->runs[i].id != run->id; i++)
            ;
        /* only status, ntasks and data change, as in the durable stores */
        copy.scheduled = m->runs[i].scheduled;
        free(copy.claim);
        copy.claim = m->runs[i].claim;
        m->runs[i].claim = NULL;
        store_run_clear(&m->runs[i]);
        m->runs[i] = copy;
        *at = i;
        return 0;
    }
    if (m->nruns == m->capruns) {
        size_t ncap = m->capruns == 0 ? 16 : m->capruns * 2;
        struct store_run *nr = realloc(m->runs, ncap * sizeof(*nr));

        if (nr == NULL) {
            store_run_clear(&copy);
            return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory writing a run");
        }
        m->runs = nr;
        m->capruns = ncap;
    }
    copy.id = ++m->next_run_id;
    run->id = copy.id;
    *at = m->nruns;
    m->runs[m->nruns++] = copy;
    return 0;
}

static int mem_run_put(void *impl, struct store_run *run, char *msg, size_t msglen)
{
    struct mem *m = impl;
    size_t at = 0;
    int rc;

    pthread_mutex_lock(&m->lock);
    rc = put_run(m, run, &at, msg, msglen);
    if (rc == 0 && run->keep > 0 && !run_active(&m->runs[at])) {
        /* drop_runs() frees runs, perhaps this one's job_id among them */
        char *job = store_strdup(m->runs[at].job_id);

        if (job != NULL)
            drop_runs(m, job, run->keep);
        free(job);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_run_get(void *impl, const char *job_id, int64_t id, struct store_run *out, char *msg,
                       size_t msglen)
{
    struct mem *m = impl;
    size_t i;
    int rc = ECS_ENOTFOUND;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->nruns; i++) {
        if (m->runs[i].id == id && strcmp(m->runs[i].job_id, job_id) == 0) {
            rc = store_run_copy(&m->runs[i], out);
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (rc == ECS_ENOTFOUND)
        return ecs_fail(rc, msg, msglen, "job '%s' has no run %lld", job_id, (long long)id);
    if (rc != 0)
        return ecs_fail(rc, msg, msglen, "out of memory reading a run");
    return 0;
}

/* Does run i answer query q? Lock held. */
static bool run_matches(const struct mem *m, size_t i, enum store_run_query q, const char *job_id)
{
    const struct store_run *r = &m->runs[i];

    switch (q) {
    case STORE_RUNS_ACTIVE_AFTER:
        return run_active(r);
    case STORE_RUNS_LAST_LAUNCHED:
        return (long)i == keeper(m, job_id, false);
    case STORE_RUNS_LAST_CLAIMED:
        return (long)i == keeper(m, job_id[0] != '\0' ? job_id : r->job_id, true);
    case STORE_RUNS_BY_CLAIM:
        /* pipeline and trigger claims only, as store.h says */
        return r->claim != NULL && strchr(r->claim, ':') != NULL && strcmp(r->claim, job_id) == 0;
    case STORE_RUNS_OF_JOB:
    default:
        return strcmp(r->job_id, job_id) == 0;
    }
}

static int mem_run_query(void *impl, enum store_run_query q, const char *job_id, size_t skip,
                         size_t count, struct store_run **out, size_t *n, size_t *total, char *msg,
                         size_t msglen)
{
    struct mem *m = impl;
    bool newest_first = q == STORE_RUNS_OF_JOB;
    size_t k;
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    for (k = 0; k < m->nruns && rc == 0; k++) {
        size_t i = newest_first ? m->nruns - 1 - k : k;

        if (!run_matches(m, i, q, job_id))
            continue;
        /* skip is a run id there, not a count */
        if (q == STORE_RUNS_ACTIVE_AFTER && m->runs[i].id <= (int64_t)skip)
            continue;
        (*total)++;
        if ((q != STORE_RUNS_ACTIVE_AFTER && *total <= skip) || *n >= count)
            continue;
        if (*n % 16 == 0) {
            struct store_run *nr = realloc(*out, (*n + 16) * sizeof(*nr));

            if (nr == NULL) {
                rc = ECS_ENOMEM;
                break;
            }
            *out = nr;
        }
        rc = store_run_copy(&m->runs[i], &(*out)[*n]);
        if (rc == 0)
            (*n)++;
    }
    pthread_mutex_unlock(&m->lock);
    if (rc != 0) {
        store_runs_free(out, *n);
        *n = 0;
        return ecs_fail(rc, msg, msglen, "out of memory listing runs");
    }
    return 0;
}

const struct store_backend store_backend_memory = {
    .name = "memory",
    .open = mem_open,
    .close = mem_close,
    .ping = mem_ping,
    .get = mem_get,
    .list = mem_list,
    .create = mem_create,
    .update = mem_update,
    .remove = mem_remove,
    .run_put = mem_run_put,
    .run_get = mem_run_get,
    .run_query = mem_run_query,
};
