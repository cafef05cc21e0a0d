/* api.h - the HTTP server of the jobs API (seed 004 contract) on
 * libmicrohttpd: start it on an address with a store, stop it. */
#ifndef ECS_API_H
#define ECS_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct api_config {
    const char *host;  /* IPv4 address to bind, e.g. "127.0.0.1" */
    int port;          /* 0 picks a free port (see api_server_port) */
    int threads;       /* worker threads; 0 = 2 */
    const char *token; /* bearer token required for writes; NULL = no auth */
    int auth_reads;    /* also require it for reads (all but /healthz) */
    /* seconds for a request's head to arrive from connect, and again for
     * its body from the head's end (total, not idle); 0 = 10 */
    int request_timeout;
    int max_connections; /* open at once in all; 0 = 4096 */
    int max_per_address; /* open at once from one client address; 0 = 64 */
    size_t max_body;     /* request body bytes (413 above, from Content-Length); 0 = 1 MiB */
    /* Launch a manual run the API has just recorded as pending (the
     * in-process scheduler's scheduler_run_now). NULL: an API-only process;
     * a scheduler elsewhere picks the pending run up. */
    int (*run_now)(void *ctx, const char *job_id, int64_t run_id);
    void *run_now_ctx;
    /* Stop a task: a job deleted while its runs are active takes their
     * tasks with it, so none runs on without a record. NULL: an API-only
     * process (the tasks run to their end). */
    int (*stop_task)(void *ctx, const char *job_id, const char *arn, const char *reason);
    void *stop_task_ctx;
    /* Called before a job is deleted, so its launches in flight are
     * recorded first (and their tasks stopped with the rest); may be NULL */
    void (*before_delete)(void *ctx, const char *job_id);
    void *before_delete_ctx;
    /* Whether a job's or a run's overrides name containers that task
     * definition `family` has (launcher_check_overrides): 0, or
     * ECS_EINVAL with *errors (new) keyed by override index. NULL: not
     * checked here (the launch reports it). */
    int (*check_overrides)(void *ctx, const char *family, const json_t *overrides, json_t **errors);
    void *check_overrides_ctx;
};

struct api_server;

/* Start serving; the store is borrowed and must outlive the server. */
int api_server_start(const struct api_config *cfg, struct store *store, struct api_server **out,
                     char *msg, size_t msglen);

/* The port actually bound. */
int api_server_port(const struct api_server *s);

/* Stop (finishing requests in flight) and free; sets *s to NULL. */
void api_server_stop(struct api_server **s);

#endif
