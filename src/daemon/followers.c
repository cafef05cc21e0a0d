/* followers.c - the one place a run's end starts the jobs that run after
 * it (pipelines). */
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/isotime.h"
#include "daemon/run.h"
#include "daemon/sched_internal.h"

/* Note on the upstream run that its steps are claimed ("followed"), so a
 * restart knows which ended runs may still owe steps. */
static void mark_followed(struct scheduler *s, const char *upstream, int64_t run_id)
{
    struct store_run r;
    json_error_t err;
    json_t *run;
    char msg[512];

    if (store_run_get(s->cfg.store, upstream, run_id, &r, msg, sizeof(msg)) != 0)
        return;
    run = json_loads(r.data, 0, &err);
    free(r.data);
    r.data = NULL;
    if (run != NULL && json_object_set_new(run, "followed", json_true()) == 0)
        r.data = json_dumps(run, JSON_COMPACT);
    r.keep = 0;
    if (r.data != NULL && store_run_put(s->cfg.store, &r, msg, sizeof(msg)) != 0)
        log_event(s->cfg.log, LOG_WARN, "pipeline.unmarked",
                  json_pack("{s:s, s:I, s:s}", "upstream", upstream, "run", (json_int_t)run_id,
                            "error", msg));
    json_decref(run);
    store_run_clear(&r);
}

/* Run ended with status: record a pending run (reason "pipeline") for
 * every job that runs after it that way, claimed once per upstream run so
 * a repeated save or a restart never starts a step twice, and launch it.
 * ended_ms > 0 (a restart's look back): only steps created or changed
 * before the run ended follow it. */
void sched_follow(struct scheduler *s, const char *upstream, int64_t run_id, const char *status,
                  int64_t ended_ms)
{
    unsigned char bit = AFTER_FAILURE;
    bool all = true;
    char **ids = NULL;
    size_t nids = 0;
    size_t i;

    /* an outcome that cannot be known is no failure: only `on: completion`
     * steps follow it */
    if (strcmp(status, "succeeded") == 0)
        bit = AFTER_SUCCESS;
    else if (strcmp(status, "unknown") == 0)
        bit = AFTER_UNKNOWN;

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        char **grown;

        if (sl->id == NULL || sl->after == NULL || (sl->after_on & bit) == 0 ||
            strcmp(sl->after, upstream) != 0)
            continue;
        if (ended_ms > 0 && sl->changed_ms > ended_ms)
            continue;
        grown = realloc(ids, (nids + 1) * sizeof(*ids));
        if (grown == NULL)
            break;
        ids = grown;
        ids[nids] = strdup(sl->id);
        if (ids[nids] != NULL)
            nids++;
    }
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < nids; i++) {
        char claim[600];
        char msg[512];
        int64_t id = 0;
        int rc = ECS_ENOMEM;
        json_t *run = run_new(ids[i], "pipeline", sched_now_ms(s) / 1000, NULL);

        snprintf(claim, sizeof(claim), "%s@after:%s#%" PRId64, ids[i], upstream, run_id);
        if (run != NULL)
            json_object_set_new(run, "upstream",
                                json_pack("{s:s, s:I, s:s}", "job", upstream, "run",
                                          (json_int_t)run_id, "status", status));
        if (run != NULL)
            rc = sched_save_run(s, NULL, ids[i], claim, sched_now_ms(s) / 1000, run, &id, msg,
                                sizeof(msg));
        if (rc != 0 && rc != ECS_EEXIST)
            all = false;
        if (rc == 0) {
            log_event(s->cfg.log, LOG_INFO, "pipeline.next",
                      json_pack("{s:s, s:I, s:s, s:s, s:I}", "upstream", upstream, "upstreamRun",
                                (json_int_t)run_id, "status", status, "job", ids[i], "run",
                                (json_int_t)id));
            scheduler_run_now(s, ids[i], id);
        }
        json_decref(run);
        free(ids[i]);
    }
    free(ids);
    if (nids > 0 && all)
        mark_followed(s, upstream, run_id);
}
