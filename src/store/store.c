/* store.c - the front door: picks a backend from the store spec, forwards
 * each call, and tells the subscriber about successful writes. */
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "core/clock.h"
#include "core/error.h"

struct store {
    const struct store_backend *be;
    void *impl;
    store_change_fn on_change;
    void *on_change_ctx;
    store_clock_fn now_ms; /* NULL: the wall clock */
    void *clock_ctx;
};

void store_upstream_of(const char *data, char *up, size_t uplen)
{
    json_error_t err;
    json_t *job = json_loads(data, 0, &err);
    const char *name = json_string_value(json_object_get(json_object_get(job, "after"), "job"));

    snprintf(up, uplen, "%s", name != NULL ? name : "");
    json_decref(job);
}

int store_check_upstream(const char *id, const char *up, store_upstream_fn lookup, void *ctx,
                         char *msg, size_t msglen)
{
    char chain[1024];
    char cur[256];
    char next[256];
    size_t used;
    int steps = 0;

    if (up[0] == '\0')
        return 0;
    snprintf(cur, sizeof(cur), "%s", up);
    used = (size_t)snprintf(chain, sizeof(chain), "%s", id);
    for (;;) {
        int rc;

        if (used < sizeof(chain))
            used += (size_t)snprintf(chain + used, sizeof(chain) - used, " -> %s", cur);
        if (strcmp(cur, id) == 0)
            return ecs_fail(ECS_ELINK, msg, msglen, "This would make a cycle: %s.", chain);
        if (++steps > STORE_CHAIN_MAX)
            return ecs_fail(ECS_ELINK, msg, msglen, "The chain of 'after' is longer than %d jobs.",
                            STORE_CHAIN_MAX);
        rc = lookup(ctx, cur, next, sizeof(next), msg, msglen);
        if (rc == ECS_ENOTFOUND)
            return ecs_fail(ECS_ELINK, msg, msglen, "Job %s does not exist.", cur);
        if (rc != 0)
            return rc;
        if (next[0] == '\0')
            return 0;
        snprintf(cur, sizeof(cur), "%s", next);
    }
}

int store_followed(const char *id, const char *const *followers, size_t n, size_t total, char *msg,
                   size_t msglen)
{
    char text[1024];
    size_t used = 0;
    size_t i;

    text[0] = '\0';
    for (i = 0; i < n && used < sizeof(text); i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s", i > 0 ? ", " : "",
                                 followers[i]);
    if (total > n && used < sizeof(text))
        snprintf(text + used, sizeof(text) - used, " and %zu more", total - n);
    return ecs_fail(ECS_ELINK, msg, msglen,
                    "Job %s is followed by %.400s (their 'after'): change or delete them first.",
                    id, text);
}

static const struct store_backend *const backends[] = {
    &store_backend_sqlite,
    &store_backend_memory,
};

char *store_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

int store_open(const char *spec, struct store **out, char *msg, size_t msglen)
{
    const char *colon = strchr(spec, ':');
    size_t i;

    *out = NULL;
    if (colon == NULL)
        return ecs_fail(
            ECS_EINVAL, msg, msglen,
            "store '%s' must be written BACKEND:LOCATION, e.g. sqlite:/var/lib/ecsched/jobs.db",
            spec);
    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        const struct store_backend *be = backends[i];
        struct store *s;
        int rc;

        if (strlen(be->name) != (size_t)(colon - spec) ||
            strncmp(be->name, spec, (size_t)(colon - spec)) != 0)
            continue;
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the store");
        rc = be->open(colon + 1, &s->impl, msg, msglen);
        if (rc != 0) {
            free(s);
            return rc;
        }
        s->be = be;
        *out = s;
        return 0;
    }
    return ecs_fail(ECS_EINVAL, msg, msglen, "unknown store backend '%.*s' (known: sqlite, memory)",
                    (int)(colon - spec), spec);
}

void store_close(struct store **s)
{
    if (s == NULL || *s == NULL)
        return;
    (*s)->be->close((*s)->impl);
    free(*s);
    *s = NULL;
}

const char *store_backend_name(const struct store *s)
{
    return s->be->name;
}

void store_subscribe(struct store *s, store_change_fn fn, void *ctx)
{
    s->on_change = fn;
    s->on_change_ctx = ctx;
}

static void notify(struct store *s, enum store_change change, const char *id)
{
    if (s->on_change != NULL)
        s->on_change(s->on_change_ctx, change, id);
}

int store_claim_scheduler(struct store *s, char *msg, size_t msglen)
{
    if (s->be->claim_scheduler == NULL)
        return 0;
    return s->be->claim_scheduler(s->impl, msg, msglen);
}

int store_ping(struct store *s, char *msg, size_t msglen)
{
    return s->be->ping(s->impl, msg, msglen);
}

int store_get(struct store *s, const char *id, struct store_record *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    return s->be->get(s->impl, id, out, msg, msglen);
}

int store_get_many(struct store *s, const char *const *ids, size_t n, struct store_record *out,
                   int *rcs, char *msg, size_t msglen)
{
    bool failed = false;
    size_t i;

    memset(out, 0, n * sizeof(*out));
    if (s->be->get_many != NULL)
        return s->be->get_many(s->impl, ids, n, out, rcs, msg, msglen);
    for (i = 0; i < n; i++) {
        char one[512];

        rcs[i] = s->be->get(s->impl, ids[i], &out[i], one, sizeof(one));
        if (rcs[i] != 0 && !failed)
            snprintf(msg, msglen, "%s", one);
        failed = failed || rcs[i] != 0;
    }
    return 0;
}

int store_list(struct store *s, size_t skip, size_t count, struct store_record **out, size_t *n,
               size_t *total, char *msg, size_t msglen)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    return s->be->list(s->impl, skip, count, out, n, total, msg, msglen);
}

void store_set_clock(struct store *s, store_clock_fn now_ms, void *ctx)
{
    s->now_ms = now_ms;
    s->clock_ctx = ctx;
}

static int64_t store_now_ms(const struct store *s)
{
    if (s->now_ms == NULL)
        return clock_wall_ms();
    return s->now_ms(s->clock_ctx);
}

int store_create(struct store *s, const char *id, const char *data, char *msg, size_t msglen)
{
    int rc = s->be->create(s->impl, id, data, store_now_ms(s), msg, msglen);

    if (rc == 0)
        notify(s, STORE_CREATED, id);
    return rc;
}

int store_update(struct store *s, const char *id, const char *data, int64_t expected_version,
                 char *msg, size_t msglen)
{
    int rc = s->be->update(s->impl, id, data, expected_version, store_now_ms(s), msg, msglen);

    if (rc == 0)
        notify(s, STORE_UPDATED, id);
    return rc;
}

int store_delete(struct store *s, const char *id, char *msg, size_t msglen)
{
    int rc = s->be->remove(s->impl, id, msg, msglen);

    if (rc == 0)
        notify(s, STORE_DELETED, id);
    return rc;
}

void store_record_clear(struct store_record *r)
{
    if (r == NULL)
        return;
    free(r->id);
    free(r->data);
    r->id = NULL;
    r->data = NULL;
    r->version = 0;
    r->changed_ms = 0;
}

void store_records_free(struct store_record **records, size_t n)
{
    size_t i;

    if (records == NULL || *records == NULL)
        return;
    for (i = 0; i < n; i++)
        store_record_clear(&(*records)[i]);
    free(*records);
    *records = NULL;
}

int store_run_put(struct store *s, struct store_run *run, char *msg, size_t msglen)
{
    return s->be->run_put(s->impl, run, msg, msglen);
}

int store_run_put_many(struct store *s, struct store_run *runs, size_t n, int *rcs, char *msg,
                       size_t msglen)
{
    bool failed = false;
    size_t i;

    if (s->be->run_put_many != NULL)
        return s->be->run_put_many(s->impl, runs, n, rcs, msg, msglen);
    /* a backend without transactions to share writes each on its own */
    for (i = 0; i < n; i++) {
        char one[512];

        rcs[i] = s->be->run_put(s->impl, &runs[i], one, sizeof(one));
        if (rcs[i] != 0 && !failed)
            snprintf(msg, msglen, "%s", one);
        failed = failed || rcs[i] != 0;
    }
    return 0;
}

int store_run_get(struct store *s, const char *job_id, int64_t id, struct store_run *out, char *msg,
                  size_t msglen)
{
    memset(out, 0, sizeof(*out));
    return s->be->run_get(s->impl, job_id, id, out, msg, msglen);
}

int store_run_query(struct store *s, enum store_run_query q, const char *job_id, size_t skip,
                    size_t count, struct store_run **out, size_t *n, size_t *total, char *msg,
                    size_t msglen)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    return s->be->run_query(s->impl, q, job_id != NULL ? job_id : "", skip, count, out, n, total,
                            msg, msglen);
}

void store_run_clear(struct store_run *r)
{
    if (r == NULL)
        return;
    free(r->job_id);
    free(r->claim);
    free(r->status);
    free(r->data);
    memset(r, 0, sizeof(*r));
}

void store_runs_free(struct store_run **runs, size_t n)
{
    size_t i;

    if (runs == NULL || *runs == NULL)
        return;
    for (i = 0; i < n; i++)
        store_run_clear(&(*runs)[i]);
    free(*runs);
    *runs = NULL;
}

int store_run_copy(const struct store_run *from, struct store_run *to)
{
    memset(to, 0, sizeof(*to));
    to->id = from->id;
    to->scheduled = from->scheduled;
    to->ntasks = from->ntasks;
    to->job_id = store_strdup(from->job_id != NULL ? from->job_id : "");
    to->status = store_strdup(from->status != NULL ? from->status : "");
    to->data = store_strdup(from->data != NULL ? from->data : "{}");
    if (from->claim != NULL)
        to->claim = store_strdup(from->claim);
    if (to->job_id == NULL || to->status == NULL || to->data == NULL ||
        (from->claim != NULL && to->claim == NULL)) {
        store_run_clear(to);
        return ECS_ENOMEM;
    }
    return 0;
}
