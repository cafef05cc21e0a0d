/* routes_internal.h - what the API's handler files share (routes.c: the
 * route table, jobs and the answers' helpers; runs.c: a job's runs);
 * private to src/api/. */
#ifndef ECS_API_ROUTES_INTERNAL_H
#define ECS_API_ROUTES_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "api/routes.h"

#define MSG_CONTENT_TYPE "Header Content-Type: application/json required to send a request body."

/* Answers: {"message": text}; "Job ID <what>"; a store failure (503 when
 * unavailable, 400 for a broken pipeline link, else 500); the same with
 * ECS_ENOTFOUND as "Job ID does not exist." (404). */
void routes_message(struct api_response *rs, int status, const char *text);
void routes_job_message(struct api_response *rs, int status, const char *id, const char *what);
void routes_store_failure(struct api_response *rs, int rc, const char *msg);
void routes_store_error(struct api_response *rs, int rc, const char *id, const char *msg);

/* A 400 {"messages": errors}; takes errors. */
void routes_validation_failed(struct api_response *rs, json_t *errors);

/* Whether Content-Type is application/json. */
int routes_json_content(const struct api_request *rq);

/* The body as JSON (a new reference), or NULL after a 400 naming why. */
json_t *routes_parse_body(const struct api_request *rq, struct api_response *rs);

/* skip and count from the query (contract defaults): 0, or -1 after a
 * 400. page_links adds the contract's first/prev/next/last links. */
int routes_paging(struct api_request *rq, struct api_response *rs, long long *skip,
                  long long *count);
void routes_page_links(json_t *body, const char *base, long long skip, long long count,
                       size_t total);

/* Overrides naming containers the job's task definition lacks, where the
 * launcher here can tell: ECS_EINVAL with *errors (new) in the
 * validation's shape. */
int routes_check_containers(struct api_ctx *ctx, const json_t *job, const json_t *overrides,
                            json_t **errors);

/* runs.c: GET /jobs/{id}/runs, GET /jobs/{id}/runs/{run}, POST /jobs/{id}/run */
void runs_list(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs);
void runs_get(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs);
void runs_start(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs);

#endif
