/* store.h - the one front door to job storage. Backends (SQLite, memory,
 * later PostgreSQL) sit behind `struct store_backend`; nothing outside
 * src/store/ knows which one it has.
 *
 * Records are (id, data, version): data is the job's JSON text, version
 * grows by one on every update and guards compare-and-swap updates. Lists
 * come in creation order (a deleted and re-created id moves to the end). A
 * write returns only once it is durable; a failed write leaves the store
 * as it was. */
#ifndef ECS_STORE_H
#define ECS_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store_record {
    char *id;
    char *data;
    int64_t version;
    int64_t changed_ms; /* when created or last updated (unix ms; 0: unknown) */
};

/* A run: one firing of a job (scheduled, manual, ...). data is the run's
 * JSON text as the API shows it, less its id; the other fields are what
 * the store queries by. A scheduled firing carries a claim, "<job>@<unix
 * second>" (exactly its job_id and scheduled: a store may keep it unique
 * as that pair), unique in the store: whoever writes it first owns the
 * firing, so a second writer (a restarted or second daemon) cannot fire
 * it again. Pipeline steps and trigger objects have claims with a ':'. */
struct store_run {
    int64_t id; /* assigned by the store; grows, never reused */
    char *job_id;
    char *claim; /* NULL for runs that are not scheduled firings */
    int64_t scheduled;
    char *status; /* pending, running, succeeded, failed, skipped */
    int64_t ntasks;
    char *data;
    /* on a write, > 0: a run that has ended (not pending or running)
     * leaves its job (job_id) at most its `keep` newest runs, in the same
     * transaction; the job's active runs, last launched run and last
     * claimed firing are always kept. Not stored (reads give 0). */
    size_t keep;
};

enum store_run_query {
    STORE_RUNS_OF_JOB,        /* the job's runs, newest first, skip/count, total */
    STORE_RUNS_ACTIVE_AFTER,  /* every job's pending and running runs after run id `skip`
                               * (0: from the oldest), oldest first: pages that
                               * runs ending or starting meanwhile do not shift */
    STORE_RUNS_LAST_LAUNCHED, /* the job's newest run that started a task (0 or 1) */
    STORE_RUNS_LAST_CLAIMED,  /* the job's latest scheduled firing (0 or 1); with job id
                               * "", every job's */
    STORE_RUNS_BY_CLAIM,      /* the run holding the pipeline or trigger claim (one with
                               * a ':') given as job_id (0 or 1) */
};

enum store_change { STORE_CREATED, STORE_UPDATED, STORE_DELETED };

/* Called after every successful write through this handle, on the
 * writer's thread; must not call back into the store. */
typedef void (*store_change_fn)(void *ctx, enum store_change change, const char *id);

/* A backend: name first, then its operations. impl is the backend's own
 * state. Every operation returns 0 or a negative ECS_E* code with a
 * one-line message. */
struct store_backend {
    const char *name;
    int (*open)(const char *location, void **impl, char *msg, size_t msglen);
    void (*close)(void *impl);
    int (*ping)(void *impl, char *msg, size_t msglen);
    int (*get)(void *impl, const char *id, struct store_record *out, char *msg, size_t msglen);
    /* get for each of n ids, as one read; optional (NULL: store.c calls
     * get for each) */
    int (*get_many)(void *impl, const char *const *ids, size_t n, struct store_record *out,
                    int *rcs, char *msg, size_t msglen);
    int (*list)(void *impl, size_t skip, size_t count, struct store_record **out, size_t *n,
                size_t *total, char *msg, size_t msglen);
    /* now_ms: the record's changed_ms, read once by the front door from
     * the store's clock */
    int (*create)(void *impl, const char *id, const char *data, int64_t now_ms, char *msg,
                  size_t msglen);
    int (*update)(void *impl, const char *id, const char *data, int64_t expected_version,
                  int64_t now_ms, char *msg, size_t msglen);
    /* also removes the job's runs */
    int (*remove)(void *impl, const char *id, char *msg, size_t msglen);
    /* run->id == 0: insert and set run->id (ECS_EEXIST if the claim is
     * taken); else replace status, ntasks and data of run->id */
    int (*run_put)(void *impl, struct store_run *run, char *msg, size_t msglen);
    /* run_put for each of n runs in one transaction, rcs[i] run i's
     * result; optional (NULL: store.c calls run_put for each) */
    int (*run_put_many)(void *impl, struct store_run *runs, size_t n, int *rcs, char *msg,
                        size_t msglen);
    int (*run_get)(void *impl, const char *job_id, int64_t id, struct store_run *out, char *msg,
                   size_t msglen);
    int (*run_query)(void *impl, enum store_run_query q, const char *job_id, size_t skip,
                     size_t count, struct store_run **out, size_t *n, size_t *total, char *msg,
                     size_t msglen);
    /* this handle hosts the store's one scheduler from now until it
     * closes; ECS_EUNAVAILABLE when another process's does. Optional
     * (NULL: any number of schedulers may share the store) */
    int (*claim_scheduler)(void *impl, char *msg, size_t msglen);
};

struct store;

/* The pipeline graph is the store's to keep whole, since only the
 * transaction that writes a record can see every other writer's: a
 * record's upstream is the string at "after"."job" in its data. create
 * and update fail with ECS_ELINK when the upstream does not exist, when
 * following upstreams from it comes back to the record (a cycle), or
 * when that chain is longer than STORE_CHAIN_MAX; delete fails with
 * ECS_ELINK while other records name it. msg says which, naming jobs. */
#define STORE_CHAIN_MAX 100

/* Open a store from a spec: "sqlite:PATH" (parent directory created) or
 * "memory:". *out is the caller's, to close with store_close(). */
int store_open(const char *spec, struct store **out, char *msg, size_t msglen);

/* Closes and sets *s to NULL; safe on NULL. */
void store_close(struct store **s);

const char *store_backend_name(const struct store *s);

/* Register the change listener (one per store; NULL to remove). */
void store_subscribe(struct store *s, store_change_fn fn, void *ctx);

/* The clock that stamps a record's changed_ms (unix ms); NULL restores
 * the wall clock. Tests set it so a record's age follows their clock. */
typedef int64_t (*store_clock_fn)(void *ctx);
void store_set_clock(struct store *s, store_clock_fn now_ms, void *ctx);

/* A scheduler is starting on this store: 0 when it may (a store that
 * takes one scheduler keeps it for this handle's life, even across
 * scheduler restarts), ECS_EUNAVAILABLE with why when another process's
 * scheduler has it. */
int store_claim_scheduler(struct store *s, char *msg, size_t msglen);

/* Reachable and answering (for /healthz). */
int store_ping(struct store *s, char *msg, size_t msglen);

/* ECS_ENOTFOUND when there is no such id. On success *out holds copies the
 * caller frees with store_record_clear(). */
int store_get(struct store *s, const char *id, struct store_record *out, char *msg, size_t msglen);

/* store_get for each of ids[0..n-1] in one read, where the backend has
 * one: a scheduler opens a whole batch of firings at the cost of one.
 * rcs[i] and out[i] are id i's result and record (cleared unless rcs[i]
 * is 0); msg holds the first failure's message. Returns 0, or an error
 * that failed every id. */
int store_get_many(struct store *s, const char *const *ids, size_t n, struct store_record *out,
                   int *rcs, char *msg, size_t msglen);

/* Records skip .. skip+count-1 in creation order, and the total number of
 * records. *out is an array of *n records the caller frees with
 * store_records_free(). */
int store_list(struct store *s, size_t skip, size_t count, struct store_record **out, size_t *n,
               size_t *total, char *msg, size_t msglen);

/* ECS_EEXIST when the id is taken. The new record has version 1. */
int store_create(struct store *s, const char *id, const char *data, char *msg, size_t msglen);

/* Replace data when the stored version is still expected_version:
 * ECS_ECONFLICT when it is not, ECS_ENOTFOUND when the id is gone. */
int store_update(struct store *s, const char *id, const char *data, int64_t expected_version,
                 char *msg, size_t msglen);

/* ECS_ENOTFOUND when there is no such id. */
int store_delete(struct store *s, const char *id, char *msg, size_t msglen);

void store_record_clear(struct store_record *r);
void store_records_free(struct store_record **records, size_t n);

/* Insert a run (run->id == 0; sets it) or update one's status, ntasks and
 * data. ECS_EEXIST when run->claim is already taken: that firing is
 * someone else's. */
int store_run_put(struct store *s, struct store_run *run, char *msg, size_t msglen);

/* store_run_put for each of runs[0..n-1], in one transaction where the
 * backend has them: one durable commit for all, so a scheduler can claim
 * (and record) many firings of the same second together. rcs[i] is run
 * i's own result (ECS_EEXIST: its claim is taken), and one run's failure
 * does not stop the others; msg holds the first failure's message.
 * Returns 0 once what succeeded is durable, or an error when the whole
 * batch failed (then every rcs[i] is that error and nothing was
 * written). */
int store_run_put_many(struct store *s, struct store_run *runs, size_t n, int *rcs, char *msg,
                       size_t msglen);

/* ECS_ENOTFOUND when job_id has no run id. *out is the caller's:
 * store_run_clear(). */
int store_run_get(struct store *s, const char *job_id, int64_t id, struct store_run *out, char *msg,
                  size_t msglen);

/* Runs by query (see enum store_run_query); job_id is ignored for
 * STORE_RUNS_ACTIVE_AFTER. *out is an array of *n the caller frees with
 * store_runs_free(); *total counts every match (for pagination). */
int store_run_query(struct store *s, enum store_run_query q, const char *job_id, size_t skip,
                    size_t count, struct store_run **out, size_t *n, size_t *total, char *msg,
                    size_t msglen);

void store_run_clear(struct store_run *r);
void store_runs_free(struct store_run **runs, size_t n);

#endif
