/* launcher.c - the front door to the launch backends. */
#include "launch/launcher.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "launch/backends.h"

struct launcher {
    const struct launcher_ops *ops;
    void *impl;
};

static const struct launcher_ops *const backends[] = {
    &launcher_local,
    &launcher_fake,
    &launcher_ecs,
};

int launcher_open(const char *name, const struct launcher_config *cfg, struct launcher **out,
                  char *msg, size_t msglen)
{
    size_t i;

    *out = NULL;
    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        struct launcher *l;
        int rc;

        if (strcmp(backends[i]->name, name) != 0)
            continue;
        l = calloc(1, sizeof(*l));
        if (l == NULL)
            return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the launcher");
        rc = backends[i]->open(cfg, &l->impl, msg, msglen);
        if (rc != 0) {
            free(l);
            return rc;
        }
        l->ops = backends[i];
        *out = l;
        return 0;
    }
    return ecs_fail(ECS_EINVAL, msg, msglen, "unknown launcher '%s' (known: local, fake, ecs)",
                    name);
}

void launcher_close(struct launcher **l)
{
    if (l == NULL || *l == NULL)
        return;
    (*l)->ops->close((*l)->impl);
    free(*l);
    *l = NULL;
}

const char *launcher_name(const struct launcher *l)
{
    return l->ops->name;
}

int launcher_run_task(struct launcher *l, const struct launch_request *rq,
                      struct launch_result *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    if (rq->count < 1 || rq->count > 10)
        return ecs_fail(ECS_EINVAL, msg, msglen, "a launch starts 1 to 10 tasks, not %d",
                        rq->count);
    if (rq->started_by != NULL && strlen(rq->started_by) > 36)
        return ecs_fail(ECS_EINVAL, msg, msglen, "startedBy '%s' is over 36 characters",
                        rq->started_by);
    return l->ops->run_task(l->impl, rq, out, msg, msglen);
}

int launcher_list_active(struct launcher *l, const char *started_by, const json_t *settings,
                         char ***arns, size_t *n, char *msg, size_t msglen)
{
    *arns = NULL;
    *n = 0;
    return l->ops->list_active(l->impl, started_by, settings, arns, n, msg, msglen);
}

int launcher_describe(struct launcher *l, const char *const *arns, size_t n,
                      struct launch_result *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    return l->ops->describe(l->impl, arns, n, out, msg, msglen);
}

int launcher_find_run(struct launcher *l, const char *started_by, const char *run_token,
                      const json_t *settings, struct launch_result *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    if (l->ops->find_run == NULL)
        return ecs_fail(ECS_ENOTSUP, msg, msglen, "the %s launcher cannot look tasks up by run",
                        l->ops->name);
    return l->ops->find_run(l->impl, started_by, run_token, settings, out, msg, msglen);
}

void launcher_cancel(struct launcher *l, int64_t deadline_ms)
{
    if (l != NULL && l->ops->cancel != NULL)
        l->ops->cancel(l->impl, deadline_ms);
}

int launcher_stop_task(struct launcher *l, const char *arn, const char *reason, char *msg,
                       size_t msglen)
{
    return l->ops->stop_task(l->impl, arn, reason, msg, msglen);
}

void launch_result_clear(struct launch_result *r)
{
    size_t i;
    size_t k;

    if (r == NULL)
        return;
    for (i = 0; i < r->ntasks; i++) {
        struct launch_task *t = &r->tasks[i];

        free(t->arn);
        free(t->host);
        free(t->stop_reason);
        for (k = 0; k < t->ncontainers; k++)
            free(t->containers[k].name);
        free(t->containers);
    }
    free(r->tasks);
    for (i = 0; i < r->nfailures; i++)
        free(r->failures[i].reason);
    free(r->failures);
    memset(r, 0, sizeof(*r));
}

void launch_strings_free(char ***v, size_t n)
{
    size_t i;

    if (v == NULL || *v == NULL)
        return;
    for (i = 0; i < n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *oom = 1;
    return d;
}

int launch_task_copy(const struct launch_task *from, struct launch_task *to)
{
    int oom = 0;
    size_t k;

    memset(to, 0, sizeof(*to));
    to->arn = dup_or_null(from->arn, &oom);
    to->host = dup_or_null(from->host, &oom);
    to->stop_reason = dup_or_null(from->stop_reason, &oom);
    to->status = from->status;
    to->unknown = from->unknown;
    to->started_ms = from->started_ms;
    to->stopped_ms = from->stopped_ms;
    if (from->ncontainers > 0) {
        to->containers = calloc(from->ncontainers, sizeof(*to->containers));
        if (to->containers == NULL)
            oom = 1;
        for (k = 0; to->containers != NULL && k < from->ncontainers; k++) {
            to->containers[k] = from->containers[k];
            to->containers[k].name = dup_or_null(from->containers[k].name, &oom);
        }
        to->ncontainers = to->containers != NULL ? from->ncontainers : 0;
    }
    if (oom) {
        struct launch_result one = {to, 1, NULL, 0};
        struct launch_task *keep = malloc(sizeof(*keep));

        /* free what was copied; the caller's slot is left zeroed */
        if (keep != NULL) {
            *keep = *to;
            one.tasks = keep;
            launch_result_clear(&one);
        }
        memset(to, 0, sizeof(*to));
        return ECS_ENOMEM;
    }
    return 0;
}

int launch_result_add(struct launch_result *r, const struct launch_task *task)
{
    struct launch_task *nt = realloc(r->tasks, (r->ntasks + 1) * sizeof(*nt));

    if (nt == NULL)
        return ECS_ENOMEM;
    r->tasks = nt;
    if (launch_task_copy(task, &r->tasks[r->ntasks]) != 0)
        return ECS_ENOMEM;
    r->ntasks++;
    return 0;
}

int launch_result_fail(struct launch_result *r, const char *reason)
{
    struct launch_failure *nf = realloc(r->failures, (r->nfailures + 1) * sizeof(*nf));

    if (nf == NULL)
        return ECS_ENOMEM;
    r->failures = nf;
    r->failures[r->nfailures].reason = strdup(reason);
    if (r->failures[r->nfailures].reason == NULL)
        return ECS_ENOMEM;
    r->nfailures++;
    return 0;
}

static const struct launch_entry *entry_at(const void *base, size_t i, size_t size)
{
    return (const struct launch_entry *)((const char *)base + i * size);
}

int launch_entries_by_token(const void *base, size_t n, size_t size, const char *token,
                            struct launch_result *out)
{
    size_t i;

    if (token == NULL)
        return 0;
    for (i = 0; i < n; i++) {
        const struct launch_entry *e = entry_at(base, i, size);

        if (e->token != NULL && strcmp(e->token, token) == 0 && launch_result_add(out, &e->t) != 0)
            return ECS_ENOMEM;
    }
    return 0;
}

int launch_entries_active(const void *base, size_t n, size_t size, const char *started_by,
                          char ***arns, size_t *count)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct launch_entry *e = entry_at(base, i, size);
        char **nv;

        if (e->t.status == LAUNCH_STOPPED || e->started_by == NULL ||
            strcmp(e->started_by, started_by) != 0)
            continue;
        nv = realloc(*arns, (*count + 1) * sizeof(*nv));
        if (nv == NULL)
            return ECS_ENOMEM;
        *arns = nv;
        (*arns)[*count] = strdup(e->t.arn);
        if ((*arns)[*count] == NULL)
            return ECS_ENOMEM;
        (*count)++;
    }
    return 0;
}

void *launch_entries_find(void *base, size_t n, size_t size, const char *arn)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct launch_entry *e = entry_at(base, i, size);

        if (strcmp(e->t.arn, arn) == 0)
            return (char *)base + i * size;
    }
    return NULL;
}

int launch_entries_describe(void *base, size_t n, size_t size, const char *const *arns,
                            size_t narns, struct launch_result *out)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < narns && rc == 0; i++) {
        const struct launch_entry *e = launch_entries_find(base, n, size, arns[i]);

        rc = e != NULL ? launch_result_add(out, &e->t) : launch_result_fail(out, "MISSING");
    }
    return rc;
}
