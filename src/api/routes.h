/* routes.h - the jobs API's routes: one table of (method, path pattern,
 * handler) and the dispatcher that applies it, with the contract's 404,
 * 405 + Allow, and OPTIONS answers. */
#ifndef ECS_API_ROUTES_H
#define ECS_API_ROUTES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* What handlers share (borrowed from the server). */
struct tz_cache;

struct api_ctx {
    struct store *store;
    struct tz_cache *zones; /* the server's, shared by all requests */
    const char *token;      /* NULL: no auth */
    int auth_reads;
    int (*run_now)(void *ctx, const char *job_id, int64_t run_id); /* may be NULL */
    void *run_now_ctx;
    /* stop a task (a deleted job's); NULL where no launcher runs here */
    int (*stop_task)(void *ctx, const char *job_id, const char *arn, const char *reason);
    void *stop_task_ctx;
    /* called before a job is deleted: its launches in flight settle */
    void (*before_delete)(void *ctx, const char *job_id);
    void *before_delete_ctx;
    /* overrides against the task definition (api_config.check_overrides) */
    int (*check_overrides)(void *ctx, const char *family, const json_t *overrides, json_t **errors);
    void *check_overrides_ctx;
};

struct api_request {
    /* a query parameter's decoded value (the first when repeated), NULL
     * when absent; the server reads libmicrohttpd's, tests build their own */
    const char *(*query_value)(void *query_ctx, const char *name);
    void *query_ctx;
    const char *method;
    const char *path; /* percent-decoded */
    const char *body; /* NUL-terminated, may hold NULs before body_len */
    size_t body_len;
    const char *content_type;  /* NULL when absent */
    const char *authorization; /* NULL when absent */
    const char *param;         /* the {id} segment, when the route has one */
    const char *param2;        /* the {run} segment */
    char params[2][320];       /* their storage */
};

struct api_response {
    int status;
    json_t *body; /* owned; NULL for no body */
    char location[320];
    char allow[64];
    int challenge; /* send WWW-Authenticate: Bearer */
};

void routes_dispatch(struct api_ctx *ctx, struct api_request *rq, struct api_response *rs);

#endif
