/* pipeline.c - walks the `after` links through the store. Chains are short
 * and writes are rare, so a walk per write is cheap; following every job
 * for a delete is a scan, as deletes are rarer still. */
#include "api/pipeline.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* A chain longer than this is refused rather than walked forever. */
#define CHAIN_MAX 100
#define PAGE 500

static const char *upstream_of(const json_t *job)
{
    return json_string_value(json_object_get(json_object_get(job, "after"), "job"));
}

static int fail_after(json_t **errors, const char *text)
{
    *errors = json_pack("{s:{s:[s]}}", "after", "job", text);
    return *errors != NULL ? ECS_EINVAL : ECS_ENOMEM;
}

int pipeline_check(struct store *st, const char *id, const json_t *job, json_t **errors, char *msg,
                   size_t msglen)
{
    char chain[1024];
    char text[1200];
    char cur[256];
    int steps = 0;
    size_t used;

    *errors = NULL;
    if (upstream_of(job) == NULL)
        return 0;
    snprintf(cur, sizeof(cur), "%s", upstream_of(job));
    used = (size_t)snprintf(chain, sizeof(chain), "%s", id);
    for (;;) {
        struct store_record r;
        json_error_t err;
        json_t *up;
        int rc;

        if (used < sizeof(chain))
            used += (size_t)snprintf(chain + used, sizeof(chain) - used, " -> %s", cur);
        if (strcmp(cur, id) == 0) {
            snprintf(text, sizeof(text), "This would make a cycle: %s.", chain);
            return fail_after(errors, text);
        }
        if (++steps > CHAIN_MAX) {
            snprintf(text, sizeof(text), "The chain of 'after' is longer than %d jobs.", CHAIN_MAX);
            return fail_after(errors, text);
        }
        rc = store_get(st, cur, &r, msg, msglen);
        if (rc == ECS_ENOTFOUND) {
            snprintf(text, sizeof(text), "Job %s does not exist.", cur);
            return fail_after(errors, text);
        }
        if (rc != 0)
            return rc;
        up = json_loads(r.data, 0, &err);
        store_record_clear(&r);
        if (up == NULL || upstream_of(up) == NULL) {
            json_decref(up);
            return 0;
        }
        snprintf(cur, sizeof(cur), "%s", upstream_of(up));
        json_decref(up);
    }
}

int pipeline_followers(struct store *st, const char *id, json_t **out, char *msg, size_t msglen)
{
    json_t *list = json_array();
    size_t skip = 0;

    *out = NULL;
    if (list == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    for (;;) {
        struct store_record *recs = NULL;
        size_t n = 0;
        size_t total = 0;
        size_t i;
        int rc = store_list(st, skip, PAGE, &recs, &n, &total, msg, msglen);

        if (rc != 0) {
            json_decref(list);
            return rc;
        }
        for (i = 0; i < n; i++) {
            json_error_t err;
            json_t *job = json_loads(recs[i].data, 0, &err);
            const char *up = upstream_of(job);

            if (up != NULL && strcmp(up, id) == 0)
                json_array_append_new(list, json_string(recs[i].id));
            json_decref(job);
        }
        store_records_free(&recs, n);
        skip += n;
        if (n == 0 || skip >= total)
            break;
    }
    *out = list;
    return 0;
}
