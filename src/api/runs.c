/* runs.c - a job's runs over the API: the list (newest first, paged like
 * the jobs), one run, and a manual run (seed 001's run-task script). */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/routes_internal.h"
#include "core/error.h"
#include "core/job.h"
#include "daemon/run.h"

/* The run id segment: digits only. 0 and *id, or -1 after a 404. */
static int run_id_param(struct api_request *rq, struct api_response *rs, int64_t *id)
{
    long long v;
    char text[400];

    if (job_int_from_text(rq->param2, &v) != 0 || v < 1 || strchr(rq->param2, ' ') != NULL) {
        snprintf(text, sizeof(text), "Job %s has no run %.64s.", rq->param, rq->param2);
        routes_message(rs, MHD_HTTP_NOT_FOUND, text);
        return -1;
    }
    *id = (int64_t)v;
    return 0;
}

/* 404 unless the job exists (runs of a deleted job are gone with it). */
static int job_exists(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs,
                      json_t **job)
{
    struct store_record r;
    json_error_t err;
    char msg[512];
    int rc = store_get(ctx->store, rq->param, &r, msg, sizeof(msg));

    if (rc != 0) {
        routes_store_error(rs, rc, rq->param, msg);
        return -1;
    }
    if (job != NULL)
        *job = json_loads(r.data, 0, &err);
    store_record_clear(&r);
    return 0;
}

void runs_list(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    long long skip;
    long long count;
    struct store_run *runs = NULL;
    size_t n = 0;
    size_t total = 0;
    size_t i;
    json_t *list;
    char base[400];
    char msg[512];
    int rc;

    if (routes_paging(rq, rs, &skip, &count) != 0 || job_exists(ctx, rq, rs, NULL) != 0)
        return;
    rc = store_run_query(ctx->store, STORE_RUNS_OF_JOB, rq->param, (size_t)skip, (size_t)count,
                         &runs, &n, &total, msg, sizeof(msg));
    if (rc != 0) {
        routes_store_failure(rs, rc, msg);
        return;
    }
    list = json_array();
    for (i = 0; i < n; i++) {
        json_error_t err;
        json_t *run = json_loads(runs[i].data, 0, &err);

        if (run != NULL)
            json_array_append_new(list, run_to_api(run, runs[i].id));
        json_decref(run);
    }
    store_runs_free(&runs, n);
    rs->status = MHD_HTTP_OK;
    rs->body = json_pack("{s:o, s:I}", "runs", list, "total", (json_int_t)total);
    snprintf(base, sizeof(base), "/jobs/%s/runs", rq->param);
    routes_page_links(rs->body, base, skip, count, total);
}

void runs_get(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    struct store_run r;
    json_error_t err;
    json_t *run;
    int64_t id;
    char msg[512];
    int rc;

    if (run_id_param(rq, rs, &id) != 0 || job_exists(ctx, rq, rs, NULL) != 0)
        return;
    rc = store_run_get(ctx->store, rq->param, id, &r, msg, sizeof(msg));
    if (rc == ECS_ENOTFOUND) {
        char text[400];

        snprintf(text, sizeof(text), "Job %s has no run %lld.", rq->param, (long long)id);
        routes_message(rs, MHD_HTTP_NOT_FOUND, text);
        return;
    }
    if (rc != 0) {
        routes_store_failure(rs, rc, msg);
        return;
    }
    run = json_loads(r.data, 0, &err);
    rs->status = MHD_HTTP_OK;
    rs->body = run != NULL ? run_to_api(run, r.id) : NULL;
    json_decref(run);
    store_run_clear(&r);
    if (rs->body == NULL)
        routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "The stored run could not be read.");
}

/* A manual run (seed 001's run-task script): optional body {"overrides":
 * [...], "requestedBy": "..."}; the overrides are checked as a job's are. */
void runs_start(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    json_t *job = NULL;
    json_t *body = NULL;
    json_t *run = NULL;
    struct store_run r;
    const char *who = "api";
    char msg[512];
    int rc;

    if (rq->body_len > 0 && !routes_json_content(rq)) {
        routes_message(rs, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, MSG_CONTENT_TYPE);
        return;
    }
    if (job_exists(ctx, rq, rs, &job) != 0)
        return;
    if (rq->body_len > 0) {
        body = routes_parse_body(rq, rs);
        if (body == NULL)
            goto out;
    }
    if (body != NULL && !json_is_object(body)) {
        routes_validation_failed(
            rs, json_pack("{s:[s]}", "_schema", "The request body must be a JSON object."));
        goto out;
    }
    if (body != NULL && json_object_get(body, "requestedBy") != NULL) {
        who = json_string_value(json_object_get(body, "requestedBy"));
        if (who == NULL || strlen(who) > 256) {
            routes_validation_failed(rs, json_pack("{s:[s]}", "requestedBy",
                                                   "Must be a string of at most 256 characters."));
            goto out;
        }
    }
    run = run_new(rq->param, "manual", time(NULL), who);
    if (run == NULL) {
        routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
        goto out;
    }
    if (body != NULL && json_object_get(body, "overrides") != NULL) {
        struct job_ctx jc = {NULL, NULL};
        json_t *merged = NULL;
        json_t *errors = NULL;
        json_t *only = json_pack("{s:O}", "overrides", json_object_get(body, "overrides"));

        rc = job_validate(only, job, &jc, &merged, &errors);
        json_decref(only);
        if (rc == 0)
            rc = routes_check_containers(ctx, job, json_object_get(merged, "overrides"), &errors);
        if (rc != 0) {
            json_decref(merged);
            if (errors != NULL)
                routes_validation_failed(rs, errors);
            else
                routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
            goto out;
        }
        json_object_set(run, "overrides", json_object_get(merged, "overrides"));
        json_decref(merged);
    }
    memset(&r, 0, sizeof(r));
    r.job_id = (char *)rq->param;
    r.scheduled = (int64_t)time(NULL);
    r.status = (char *)run_status(run);
    r.data = json_dumps(run, JSON_COMPACT);
    rc = r.data != NULL ? store_run_put(ctx->store, &r, msg, sizeof(msg)) : ECS_ENOMEM;
    free(r.data);
    if (rc != 0) {
        routes_store_failure(rs, rc, msg);
        goto out;
    }
    if (ctx->run_now != NULL)
        ctx->run_now(ctx->run_now_ctx, rq->param, r.id);
    rs->status = MHD_HTTP_ACCEPTED;
    rs->body = run_to_api(run, r.id);
    snprintf(rs->location, sizeof(rs->location), "/jobs/%s/runs/%lld", rq->param, (long long)r.id);
out:
    json_decref(run);
    json_decref(body);
    json_decref(job);
}
