/* routes.c - the jobs API (seed 004 contract, sections 1 and 10): index,
 * health, list with the contract's pagination links, create, read, merge
 * update and delete of jobs, with the reference's status codes, messages
 * and envelopes. */
#include "api/routes.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/routes_internal.h"
#include "api/spec.h"
#include "core/error.h"
#include "core/isotime.h"
#include "core/job.h"
#include "core/tz_cache.h"
#include "core/utf8.h"
#include "daemon/run.h"

#define MSG_NOT_FOUND_ROUTE                                                                        \
    "The requested URL was not found on the server. If you entered the URL manually please "       \
    "check your spelling and try again."
#define MSG_NOT_ALLOWED "The method is not allowed for the requested URL."
#define MSG_BAD_JSON "The browser (or proxy) sent a request that this server could not understand."
#define PAGE_DEFAULT 10
#define UPDATE_RETRIES 5

typedef void (*api_handler)(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs);

struct route {
    const char *method;
    const char *pattern; /* a trailing "{id}" matches one non-empty segment */
    api_handler handler;
};

void routes_message(struct api_response *rs, int status, const char *text)
{
    rs->status = status;
    rs->body = json_pack("{s:s}", "message", text);
}

/* "Job <id> does not exist." and its kin. */
void routes_job_message(struct api_response *rs, int status, const char *id, const char *what)
{
    char text[512];

    snprintf(text, sizeof(text), "Job %s %s", id, what);
    routes_message(rs, status, text);
}

/* Map a store failure to an answer: 503 when the store cannot take it. */
void routes_store_failure(struct api_response *rs, int rc, const char *msg)
{
    /* the store checks the pipeline graph in the write's transaction */
    if (rc == ECS_ELINK) {
        rs->status = MHD_HTTP_BAD_REQUEST;
        rs->body = json_pack("{s:{s:{s:[s]}}}", "messages", "after", "job", msg);
    } else if (rc == ECS_EUNAVAILABLE)
        routes_message(rs, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
    else
        routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
}

/* Answer a failed store call about job id: 404 when it is missing. */
void routes_store_error(struct api_response *rs, int rc, const char *id, const char *msg)
{
    if (rc == ECS_ENOTFOUND)
        routes_job_message(rs, MHD_HTTP_NOT_FOUND, id, "does not exist.");
    else
        routes_store_failure(rs, rc, msg);
}

static json_t *item_link(const char *id)
{
    char href[320];
    char title[320];

    snprintf(href, sizeof(href), "/jobs/%s", id);
    snprintf(title, sizeof(title), "Job for %s", id);
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "id", id, "link", "rel", "item", "title", title,
                     "href", href);
}

/* lastRun (the scheduled time of the job's last run that started a task,
 * in the job's zone) and lastRunTasks, and latestRun (the newest run of
 * any outcome), from the stored runs. */
static void last_run(struct api_ctx *ctx, const json_t *job, const struct tz *zone, json_t *runtime)
{
    struct store_run *runs = NULL;
    size_t n = 0;
    size_t total = 0;
    char msg[256];
    char when[48];
    json_error_t err;
    json_t *run;
    const char *id = json_string_value(json_object_get(job, "id"));

    if (id == NULL || store_run_query(ctx->store, STORE_RUNS_LAST_LAUNCHED, id, 0, 1, &runs, &n,
                                      &total, msg, sizeof(msg)) != 0)
        return;
    if (n == 1) {
        run = json_loads(runs[0].data, 0, &err);
        isotime_format_in(runs[0].scheduled, zone, when, sizeof(when));
        json_object_set_new(runtime, "lastRun", json_string(when));
        if (run != NULL)
            json_object_set_new(runtime, "lastRunTasks", run_task_list(run));
        json_decref(run);
    }
    store_runs_free(&runs, n);
    /* latestRun: the newest run whatever came of it (lastRun, the
     * contract's, names only runs that started a task) */
    n = 0;
    if (store_run_query(ctx->store, STORE_RUNS_OF_JOB, id, 0, 1, &runs, &n, &total, msg,
                        sizeof(msg)) != 0)
        return;
    if (n == 1) {
        run = json_loads(runs[0].data, 0, &err);
        isotime_format_in(runs[0].scheduled, zone, when, sizeof(when));
        json_object_set_new(runtime, "latestRun",
                            json_pack("{s:I, s:s, s:s?, s:s}", "id", (json_int_t)runs[0].id,
                                      "status", runs[0].status, "reason",
                                      json_string_value(json_object_get(run, "reason")),
                                      "scheduled", when));
        json_decref(run);
    }
    store_runs_free(&runs, n);
}

/* The API form of a stored job, with estimatedNextRun computed now. */
static json_t *job_view(struct api_ctx *ctx, const char *data)
{
    json_error_t err;
    json_t *job = json_loads(data, 0, &err);
    const struct tz *zone = NULL;
    struct timespec now;
    json_t *runtime;
    json_t *api;
    time_t next;
    char msg[256];
    char when[48];

    if (job == NULL)
        return NULL;
    runtime = json_object();
    /* the first whole second not yet begun, as the scheduler counts */
    clock_gettime(CLOCK_REALTIME, &now);
    if (runtime != NULL &&
        tz_cache_get(ctx->zones, job_zone_name(job), &zone, msg, sizeof(msg)) == 0 &&
        job_next_run(job, zone, now.tv_sec + (now.tv_nsec > 0), &next, msg, sizeof(msg)) == 0) {
        isotime_format_in((int64_t)next, zone, when, sizeof(when));
        json_object_set_new(runtime, "estimatedNextRun", json_string(when));
    }
    if (runtime != NULL)
        last_run(ctx, job, zone, runtime);
    api = job_to_api(job, runtime);
    json_decref(runtime);
    json_decref(job);
    return api;
}

/* Content-Type must be application/json (parameters such as charset may
 * follow). */
int routes_json_content(const struct api_request *rq)
{
    const char *ct = rq->content_type;
    size_t n = strlen("application/json");

    if (ct == NULL || strncmp(ct, "application/json", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* jansson's parse errors quote the bytes near the error, which may be
 * half a UTF-8 sequence: a JSON string must not hold that, so every byte
 * outside printable ASCII becomes '?'. */
static void ascii_only(char *text)
{
    unsigned char *p;

    for (p = (unsigned char *)text; *p != '\0'; p++) {
        if (*p < 0x20 || *p > 0x7E)
            *p = '?';
    }
}

/* Parse the body as JSON; on failure answer 400 and return NULL. */
json_t *routes_parse_body(const struct api_request *rq, struct api_response *rs)
{
    json_error_t err;
    json_t *body = json_loadb(rq->body, rq->body_len, JSON_DECODE_ANY, &err);

    if (body == NULL) {
        char detail[256];

        /* the reference's message, and what exactly is wrong beside it */
        snprintf(detail, sizeof(detail), "%s at line %d, column %d", err.text, err.line,
                 err.column);
        ascii_only(detail);
        rs->status = MHD_HTTP_BAD_REQUEST;
        rs->body = json_pack("{s:s, s:s}", "message", MSG_BAD_JSON, "detail", detail);
    }
    return body;
}

void routes_validation_failed(struct api_response *rs, json_t *errors)
{
    rs->status = MHD_HTTP_BAD_REQUEST;
    rs->body = json_pack("{s:o}", "messages", errors);
}

/* ------------------------------------------------------------------ */

static void h_index(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    (void)ctx;
    (void)rq;
    rs->status = MHD_HTTP_OK;
    rs->body = json_pack("{s:[{s:{s:s, s:s, s:s}}, {s:{s:s, s:s, s:s}}]}", "resources", "link",
                         "rel", "jobs", "title", "Jobs", "href", "/jobs", "link", "rel", "spec",
                         "title", "Spec", "href", "/spec");
}

static void h_spec(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    json_error_t err;

    (void)ctx;
    (void)rq;
    rs->body = json_loads(api_openapi_json, 0, &err);
    rs->status = MHD_HTTP_OK;
    if (rs->body == NULL)
        routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       "The built-in OpenAPI document does not parse.");
}

static void h_health(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    char msg[512];

    (void)rq;
    if (store_ping(ctx->store, msg, sizeof(msg)) != 0) {
        rs->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        rs->body = json_pack("{s:s, s:s}", "status", "unavailable", "message", msg);
        return;
    }
    rs->status = MHD_HTTP_OK;
    rs->body = json_pack("{s:s, s:s}", "status", "ok", "store", store_backend_name(ctx->store));
}

/* The contract's page link for a first index fs (section 1.5), with our
 * fix: a link back to the first page is "/jobs" rather than nothing. */
static json_t *page_link(const char *base, long long fs, long long c, long long total)
{
    char q[96];
    size_t o = 0;

    if (total <= 0 || fs + c <= 0 || fs >= total)
        return NULL;
    if (fs < 0)
        fs = 0;
    q[0] = '\0';
    if (c != PAGE_DEFAULT)
        o += (size_t)snprintf(q + o, sizeof(q) - o, "count=%lld", c);
    if (fs != 0)
        o += (size_t)snprintf(q + o, sizeof(q) - o, "%sskip=%lld", o > 0 ? "&" : "", fs);
    if (o == 0)
        return json_string(base);
    {
        char href[512];

        snprintf(href, sizeof(href), "%s?%s", base, q);
        return json_string(href);
    }
}

void routes_page_links(json_t *body, const char *base, long long skip, long long count,
                       size_t total)
{
    json_t *link = page_link(base, skip - count, count, (long long)total);

    if (link != NULL)
        json_object_set_new(body, "prev", link);
    link = page_link(base, skip + count, count, (long long)total);
    if (link != NULL)
        json_object_set_new(body, "next", link);
}

/* skip and count query parameters, read as the contract reads them; 0,
 * or -1 after answering 400. */
int routes_paging(struct api_request *rq, struct api_response *rs, long long *skip,
                  long long *count)
{
    const char *skip_s = rq->query_value(rq->query_ctx, "skip");
    const char *count_s = rq->query_value(rq->query_ctx, "count");
    json_t *errors = json_object();

    *skip = 0;
    *count = PAGE_DEFAULT;
    if (skip_s != NULL && job_int_from_text(skip_s, skip) != 0)
        json_object_set_new(errors, "skip", json_pack("[s]", "Not a valid integer."));
    if (count_s != NULL && job_int_from_text(count_s, count) != 0)
        json_object_set_new(errors, "count", json_pack("[s]", "Not a valid integer."));
    if (json_object_size(errors) > 0) {
        routes_validation_failed(rs, errors);
        return -1;
    }
    json_decref(errors);
    if (*skip < 0)
        *skip = 0;
    if (*count < 0)
        *count = 0;
    return 0;
}

static void h_list(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    long long skip;
    long long count;
    struct store_record *recs = NULL;
    size_t n = 0;
    size_t total = 0;
    size_t i;
    json_t *jobs;
    char msg[512];
    int rc;

    if (routes_paging(rq, rs, &skip, &count) != 0)
        return;
    rc = store_list(ctx->store, (size_t)skip, (size_t)count, &recs, &n, &total, msg, sizeof(msg));
    if (rc != 0) {
        routes_store_failure(rs, rc, msg);
        return;
    }
    jobs = json_array();
    for (i = 0; i < n; i++) {
        json_t *view = job_view(ctx, recs[i].data);

        if (view != NULL)
            json_array_append_new(jobs, view);
    }
    store_records_free(&recs, n);
    rs->status = MHD_HTTP_OK;
    rs->body = json_pack("{s:o}", "jobs", jobs);
    routes_page_links(rs->body, "/jobs", skip, count, total);
}

/* Overrides naming a container the job's task definition lacks, where
 * the launcher here can tell: ECS_EINVAL with *errors (new) in the
 * validation's shape, {"overrides": {"N": {"containerName": [...]}}}. */
int routes_check_containers(struct api_ctx *ctx, const json_t *job, const json_t *overrides,
                            json_t **errors)
{
    const char *family = json_string_value(json_object_get(job, "taskDefinition"));
    json_t *by_index = NULL;
    int rc;

    *errors = NULL;
    if (ctx->check_overrides == NULL || json_array_size(overrides) == 0)
        return 0;
    if (family == NULL)
        family = json_string_value(json_object_get(job, "id"));
    if (family == NULL)
        return 0;
    rc = ctx->check_overrides(ctx->check_overrides_ctx, family, overrides, &by_index);
    if (rc == 0)
        return 0;
    *errors = json_pack("{s:o}", "overrides", by_index != NULL ? by_index : json_object());
    return ECS_EINVAL;
}

static void h_create(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    json_t *body;
    json_t *job = NULL;
    json_t *errors = NULL;
    struct job_ctx jc = {NULL, NULL};
    const char *id;
    char *text;
    char msg[512];
    int rc;

    if (!routes_json_content(rq)) {
        routes_message(rs, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, MSG_CONTENT_TYPE);
        return;
    }
    body = routes_parse_body(rq, rs);
    if (body == NULL)
        return;
    rc = job_validate(body, NULL, &jc, &job, &errors);
    json_decref(body);
    if (rc == 0)
        rc = routes_check_containers(ctx, job, json_object_get(job, "overrides"), &errors);
    if (rc == ECS_EINVAL) {
        json_decref(job);
        routes_validation_failed(rs, errors);
        return;
    }
    if (rc != 0) {
        json_decref(job);
        if (rc == ECS_ENOMEM)
            routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
        else
            routes_store_failure(rs, rc, msg);
        return;
    }
    id = json_string_value(json_object_get(job, "id"));
    text = json_dumps(job, JSON_SORT_KEYS | JSON_COMPACT);
    rc = text != NULL ? store_create(ctx->store, id, text, msg, sizeof(msg)) : ECS_ENOMEM;
    free(text);
    if (rc == ECS_EEXIST)
        routes_job_message(rs, MHD_HTTP_CONFLICT, id, "already exists.");
    else if (rc != 0)
        routes_store_failure(rs, rc, msg);
    else {
        rs->status = MHD_HTTP_CREATED;
        rs->body = item_link(id);
        snprintf(rs->location, sizeof(rs->location), "/jobs/%s", id);
    }
    json_decref(job);
}

#define NEXT_MAX 100

/* ?next=N: 0 with *n (0 when absent), or -1 after a 400. */
static int next_count(struct api_request *rq, struct api_response *rs, long long *n)
{
    const char *text = rq->query_value(rq->query_ctx, "next");

    *n = 0;
    if (text == NULL)
        return 0;
    if (job_int_from_text(text, n) != 0 || *n < 1 || *n > NEXT_MAX) {
        routes_validation_failed(rs, json_pack("{s:[s]}", "next", "Must be between 1 and 100."));
        return -1;
    }
    return 0;
}

/* nextRuns on the job's view: its next n fire times in its zone, fewer
 * when its schedule ends (none for a suspended job). */
static void add_next_runs(struct api_ctx *ctx, json_t *view, const char *data, long long n)
{
    const struct tz *zone = NULL;
    struct job_plan plan;
    json_error_t err;
    json_t *job = json_loads(data, 0, &err);
    json_t *list = json_array();
    long long i;
    /* the first whole second not yet begun, as estimatedNextRun counts */
    time_t at = time(NULL) + 1;
    char msg[256];

    memset(&plan, 0, sizeof(plan));
    if (job != NULL && list != NULL &&
        tz_cache_get(ctx->zones, job_zone_name(job), &zone, msg, sizeof(msg)) == 0 &&
        job_plan_init(&plan, job, zone, msg, sizeof(msg)) == 0) {
        for (i = 0; i < n; i++) {
            time_t next;
            char when[48];

            if (job_plan_next(&plan, at, &next) != 0)
                break;
            isotime_format_in((int64_t)next, zone, when, sizeof(when));
            json_array_append_new(list, json_string(when));
            at = next + 1;
        }
    }
    job_plan_free(&plan);
    json_decref(job);
    if (list != NULL)
        json_object_set_new(view, "nextRuns", list);
}

static void h_get(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    struct store_record r;
    long long next;
    char msg[512];
    int rc;

    if (next_count(rq, rs, &next) != 0)
        return;
    rc = store_get(ctx->store, rq->param, &r, msg, sizeof(msg));
    if (rc != 0) {
        routes_store_error(rs, rc, rq->param, msg);
        return;
    }
    rs->status = MHD_HTTP_OK;
    rs->body = job_view(ctx, r.data);
    if (rs->body == NULL)
        routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "The stored job could not be read.");
    else if (next > 0)
        add_next_runs(ctx, rs->body, r.data, next);
    store_record_clear(&r);
}

static void h_update(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    json_t *body;
    struct job_ctx jc = {NULL, NULL};
    char msg[512];
    int attempt;

    /* the contract checks the media type before the job exists */
    if (!routes_json_content(rq)) {
        routes_message(rs, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, MSG_CONTENT_TYPE);
        return;
    }
    for (attempt = 0; attempt < UPDATE_RETRIES; attempt++) {
        struct store_record r;
        json_error_t err;
        json_t *existing;
        json_t *job = NULL;
        json_t *errors = NULL;
        char *text;
        int rc = store_get(ctx->store, rq->param, &r, msg, sizeof(msg));

        if (rc != 0) {
            routes_store_error(rs, rc, rq->param, msg);
            return;
        }
        body = routes_parse_body(rq, rs);
        existing = json_loads(r.data, 0, &err);
        if (body == NULL || existing == NULL) {
            json_decref(body);
            json_decref(existing);
            store_record_clear(&r);
            if (rs->body == NULL)
                routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               "The stored job could not be read.");
            return;
        }
        rc = job_validate(body, existing, &jc, &job, &errors);
        json_decref(body);
        /* a job stored before the check, or checked by another daemon's
         * launcher, is judged only when its overrides or family change */
        if (rc == 0 && (!json_equal(json_object_get(job, "overrides"),
                                    json_object_get(existing, "overrides")) ||
                        !json_equal(json_object_get(job, "taskDefinition"),
                                    json_object_get(existing, "taskDefinition"))))
            rc = routes_check_containers(ctx, job, json_object_get(job, "overrides"), &errors);
        if (rc == 0 && json_equal(job, existing)) {
            /* nothing changes: no write, no version bump, no notification */
            json_decref(existing);
            json_decref(job);
            store_record_clear(&r);
            rs->status = MHD_HTTP_OK;
            rs->body = item_link(rq->param);
            return;
        }
        json_decref(existing);
        if (rc != 0) {
            store_record_clear(&r);
            json_decref(job);
            if (rc == ECS_EINVAL)
                routes_validation_failed(rs, errors);
            else if (rc == ECS_ENOMEM)
                routes_message(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.");
            else
                routes_store_failure(rs, rc, msg);
            return;
        }
        text = json_dumps(job, JSON_SORT_KEYS | JSON_COMPACT);
        json_decref(job);
        rc = text != NULL ? store_update(ctx->store, rq->param, text, r.version, msg, sizeof(msg))
                          : ECS_ENOMEM;
        free(text);
        store_record_clear(&r);
        if (rc == ECS_ECONFLICT)
            continue; /* changed meanwhile: merge over the new version */
        if (rc != 0)
            routes_store_error(rs, rc, rq->param, msg);
        else {
            rs->status = MHD_HTTP_OK;
            rs->body = item_link(rq->param);
        }
        return;
    }
    routes_message(rs, MHD_HTTP_CONFLICT,
                   "The job kept changing while it was being updated; try again.");
}

/* The open task ARNs of job id's active runs, into *arns (the caller's:
 * launch_strings_free). */
static int active_tasks(struct api_ctx *ctx, const char *id, char ***arns, size_t *n, char *msg,
                        size_t msglen)
{
    struct store_run *runs = NULL;
    size_t nruns = 0;
    size_t total = 0;
    size_t i;
    int rc = store_run_query(ctx->store, STORE_RUNS_OF_JOB, id, 0, SIZE_MAX, &runs, &nruns, &total,
                             msg, msglen);

    for (i = 0; rc == 0 && i < nruns; i++) {
        const char **open = NULL;
        size_t nopen = 0;
        size_t k;
        json_error_t err;
        json_t *run;

        if (strcmp(runs[i].status, "pending") != 0 && strcmp(runs[i].status, "running") != 0)
            continue;
        run = json_loads(runs[i].data, 0, &err);
        if (run != NULL && run_open_tasks(run, &open, &nopen) == 0) {
            char **grown = realloc(*arns, (*n + nopen + 1) * sizeof(**arns));

            if (grown != NULL)
                *arns = grown;
            for (k = 0; grown != NULL && k < nopen; k++) {
                (*arns)[*n] = strdup(open[k]);
                if ((*arns)[*n] != NULL)
                    (*n)++;
            }
        }
        free(open);
        json_decref(run);
    }
    store_runs_free(&runs, nruns);
    return rc == ECS_ENOTFOUND ? 0 : rc;
}

static void h_delete(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    char msg[512];
    char **arns = NULL;
    size_t narns = 0;
    size_t i;
    int rc = 0;

    if (ctx->before_delete != NULL)
        ctx->before_delete(ctx->before_delete_ctx, rq->param);
    if (ctx->stop_task != NULL)
        rc = active_tasks(ctx, rq->param, &arns, &narns, msg, sizeof(msg));
    if (rc == 0)
        rc = store_delete(ctx->store, rq->param, msg, sizeof(msg));
    if (rc == ECS_ELINK) {
        /* followers still name it (checked in the delete's transaction) */
        launch_strings_free(&arns, narns);
        routes_message(rs, MHD_HTTP_CONFLICT, msg);
        return;
    }
    if (rc != 0) {
        launch_strings_free(&arns, narns);
        routes_store_error(rs, rc, rq->param, msg);
        return;
    }
    /* the job's runs went with it: their tasks may not run on unrecorded
     * (a launch in flight now stops its own, seeing its run gone) */
    for (i = 0; i < narns; i++)
        ctx->stop_task(ctx->stop_task_ctx, rq->param, arns[i], "ecsched: the job was deleted");
    launch_strings_free(&arns, narns);
    rs->status = MHD_HTTP_OK;
    rs->body = json_pack("{s:s}", "id", rq->param);
}

static const struct route routes[] = {
    {"GET", "/", h_index},
    {"GET", "/spec", h_spec},
    {"GET", "/healthz", h_health},
    {"GET", "/jobs", h_list},
    {"POST", "/jobs", h_create},
    {"GET", "/jobs/{id}", h_get},
    {"PUT", "/jobs/{id}", h_update},
    {"DELETE", "/jobs/{id}", h_delete},
    {"GET", "/jobs/{id}/runs", runs_list},
    {"GET", "/jobs/{id}/runs/{run}", runs_get},
    {"POST", "/jobs/{id}/run", runs_start},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Compare without leaking where the first difference is. */
static int same_secret(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    size_t i;

    for (i = 0; i < lb; i++)
        diff |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
    return diff == 0;
}

/* With a token configured, writes (and reads with --auth-reads, except
 * the health check) need "Authorization: Bearer <token>"; the scheme's
 * name is case-insensitive (RFC 7235 2.1), one or more spaces follow it. */
static int authorized(const struct api_ctx *ctx, const struct api_request *rq, const char *method)
{
    const char *h = rq->authorization;
    int write = strcmp(method, "GET") != 0 && strcmp(method, "OPTIONS") != 0;

    if (ctx->token == NULL || strcmp(rq->path, "/healthz") == 0)
        return 1;
    if (!write && !ctx->auth_reads)
        return 1;
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return same_secret(h, ctx->token);
}

/* Does path fit pattern? "{id}" and "{run}" each match one non-empty
 * segment, copied into rq->params. */
static int path_matches(const char *pattern, const char *path, struct api_request *rq)
{
    int k = 0;

    while (*pattern != '\0') {
        size_t seg;

        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');

            seg = strcspn(path, "/");
            if (close == NULL || seg == 0 || seg >= sizeof(rq->params[0]) || k >= 2)
                return 0;
            memcpy(rq->params[k], path, seg);
            rq->params[k][seg] = '\0';
            k++;
            pattern = close + 1;
            path += seg;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    return *path == '\0';
}

/* A path segment that names a job or a run must be UTF-8 text without
 * control characters: anything else could not be stored, echoed in JSON
 * or told apart from another id. 0, or -1 after answering 400. */
static int params_valid(const struct route *r, struct api_request *rq, struct api_response *rs)
{
    int k;
    int n = (int)(strstr(r->pattern, "{run}") != NULL) + (int)(strchr(r->pattern, '{') != NULL);
    static const char *const names[2] = {"job id", "run id"};

    for (k = 0; k < n; k++) {
        size_t at = 0;
        char text[160];

        if (utf8_check_text(rq->params[k], strlen(rq->params[k]), &at) == 0)
            continue;
        snprintf(text, sizeof(text),
                 "The %s in the path is not valid UTF-8 text: byte %zu (0x%02X) is wrong.",
                 names[k], at, (unsigned)(unsigned char)rq->params[k][at]);
        routes_message(rs, MHD_HTTP_BAD_REQUEST, text);
        return -1;
    }
    return 0;
}

void routes_dispatch(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs)
{
    const char *method = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
    size_t o = 0;
    size_t i;
    int path_known = 0;

    for (i = 0; i < NROUTES; i++) {
        if (!path_matches(routes[i].pattern, rq->path, rq))
            continue;
        path_known = 1;
        o += (size_t)snprintf(rs->allow + o, sizeof(rs->allow) - o, "%s%s", o > 0 ? ", " : "",
                              routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0)
            o += (size_t)snprintf(rs->allow + o, sizeof(rs->allow) - o, ", HEAD");
        if (strcmp(routes[i].method, method) == 0) {
            rq->param = strchr(routes[i].pattern, '{') != NULL ? rq->params[0] : NULL;
            rq->param2 = rq->params[1];
            rs->allow[0] = '\0';
            if (!authorized(ctx, rq, method)) {
                routes_message(rs, MHD_HTTP_UNAUTHORIZED,
                               "A valid bearer token is required: send "
                               "'Authorization: Bearer <token>'.");
                rs->challenge = 1;
                return;
            }
            if (params_valid(&routes[i], rq, rs) != 0)
                return;
            routes[i].handler(ctx, rq, rs);
            return;
        }
    }
    if (!path_known) {
        routes_message(rs, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND_ROUTE);
        return;
    }
    snprintf(rs->allow + o, sizeof(rs->allow) - o, ", OPTIONS");
    if (strcmp(method, "OPTIONS") == 0) {
        rs->status = MHD_HTTP_NO_CONTENT;
        return;
    }
    routes_message(rs, MHD_HTTP_METHOD_NOT_ALLOWED, MSG_NOT_ALLOWED);
}
