/* objects.c - an s3 job's queue message: a run and a task per object. */
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

/* An s3 job's message: a run per object (claimed per message and object,
 * so a message delivered again starts nothing twice), one task each with
 * S3_BUCKET/S3_KEY/S3_SIZE/S3_ETAG; the message is deleted only when every
 * object's task started, else it comes back and the failed runs are tried
 * again. */
void sched_fire_objects(struct scheduler *s, const struct firing *f, const json_t *job)
{
    const json_t *item = f->payload;
    const char *msg_id = json_string_value(json_object_get(item, "messageId"));
    const json_t *object;
    char started_by[40];
    char msg[512];
    bool all = true;
    size_t i;

    scheduler_started_by(f->id, started_by, sizeof(started_by));
    json_array_foreach(json_object_get(item, "objects"), i, object) {
        char claim[400];
        char token[80];
        struct store_run *found = NULL;
        size_t n = 0;
        size_t total = 0;
        json_t *run = NULL;
        json_error_t err;
        int64_t run_id = 0;
        int64_t now = sched_now_ms(s) / 1000;
        uint64_t errors = 0;
        uint64_t started;

        snprintf(claim, sizeof(claim), "%s@s3:%s#%zu", f->id, msg_id != NULL ? msg_id : "", i);
        if (store_run_query(s->cfg.store, STORE_RUNS_BY_CLAIM, claim, 0, 1, &found, &n, &total, msg,
                            sizeof(msg)) != 0) {
            all = false;
            continue;
        }
        if (n == 1) {
            run = json_loads(found[0].data, 0, &err);
            run_id = found[0].id;
        }
        store_runs_free(&found, n);
        if (run != NULL && json_array_size(json_object_get(run, "tasks")) > 0) {
            /* started before this delivery: the message only needs deleting */
            json_decref(run);
            continue;
        }
        if (run != NULL) {
            /* a launch that failed: this delivery tries again */
            json_object_set_new(
                run, "attempts",
                json_integer(json_integer_value(json_object_get(run, "attempts")) + 1));
            json_object_set_new(run, "status", json_string("pending"));
            json_object_del(run, "finished");
        } else {
            run = run_new(f->id, "trigger", now, NULL);
            if (run == NULL) {
                all = false;
                continue;
            }
            json_object_set(run, "object", (json_t *)object);
            json_object_set_new(run, "attempts", json_integer(1));
            if (sched_save_run(s, job, f->id, claim, now, run, &run_id, msg, sizeof(msg)) != 0) {
                json_decref(run);
                all = false;
                continue;
            }
        }
        /* the same message delivered twice at once: one worker launches */
        if (!sched_inflight(s, run_id, true)) {
            json_decref(run);
            all = false;
            continue;
        }
        snprintf(token, sizeof(token), "s3-%.40s-%zu", msg_id != NULL ? msg_id : "", i);
        started = sched_launch(s, job, f->id, started_by, token, now, run_id, 1, 0, run, &errors);
        if (started == 0) {
            all = false;
            run_finish(run, "failed", json_string_value(json_object_get(run, "message")),
                       sched_now_ms(s));
        } else {
            json_object_del(run, "message");
            run_apply_describe(run, &(struct launch_result){0}, sched_now_ms(s));
        }
        sched_save_run(s, job, f->id, NULL, now, run, &run_id, msg, sizeof(msg));
        log_event(s->cfg.log, started > 0 ? LOG_INFO : LOG_WARN, "s3.object",
                  json_pack("{s:s, s:I, s:O?, s:O?, s:I, s:s}", "job", f->id, "run",
                            (json_int_t)run_id, "bucket", json_object_get(object, "bucket"), "key",
                            json_object_get(object, "key"), "started", (json_int_t)started,
                            "status", run_status(run)));
        sched_inflight(s, run_id, false);
        pthread_mutex_lock(&s->lock);
        s->stats.tasks_started += started;
        s->stats.launch_errors += errors;
        pthread_mutex_unlock(&s->lock);
        json_decref(run);
    }
    if (!all)
        return;
    if (trigger_s3_delete(s->cfg.triggers, json_string_value(json_object_get(item, "queueUrl")),
                          json_string_value(json_object_get(item, "receipt")), msg,
                          sizeof(msg)) != 0)
        log_event(s->cfg.log, LOG_WARN, "s3.delete_failed",
                  json_pack("{s:s, s:s, s:s}", "job", f->id, "message",
                            msg_id != NULL ? msg_id : "", "error", msg));
}

/* A poller's message for job_id: queue it for the workers. */
void sched_on_message(void *ctx, const char *job_id, const json_t *message)
{
    struct scheduler *s = ctx;
    struct firing f;

    memset(&f, 0, sizeof(f));
    f.id = (char *)job_id;
    f.kind = FIRE_OBJECT;
    f.when = sched_now_ms(s) / 1000;
    f.payload = (json_t *)message;
    pthread_mutex_lock(&s->lock);
    if (!s->stopping)
        sched_enqueue(s, &f);
    pthread_mutex_unlock(&s->lock);
}
