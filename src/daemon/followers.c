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

/* Run ended with status: record a pending run (reason "pipeline") for
 * every job that runs after it that way, claimed once per upstream run so
 * a repeated save or a restart never starts a step twice, and launch it. */
void sched_follow(struct scheduler *s, const char *upstream, int64_t run_id, const char *status)
{
    unsigned char bit = AFTER_FAILURE;
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
        json_t *run = run_new(ids[i], "pipeline", sched_now_ms(s) / 1000, NULL);

        snprintf(claim, sizeof(claim), "%s@after:%s#%" PRId64, ids[i], upstream, run_id);
        if (run != NULL)
            json_object_set_new(run, "upstream",
                                json_pack("{s:s, s:I, s:s}", "job", upstream, "run",
                                          (json_int_t)run_id, "status", status));
        if (run != NULL && sched_save_run(s, NULL, ids[i], claim, sched_now_ms(s) / 1000, run, &id,
                                          msg, sizeof(msg)) == 0) {
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
}
