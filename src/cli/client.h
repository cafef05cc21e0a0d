/* client.h - the CLI's side of the jobs REST API: which server to talk to
 * (--server, else ECSCHED_SERVER, else http://127.0.0.1:5000), the bearer
 * token (ECSCHED_TOKEN), JSON requests over libcurl, every job of the
 * server across pages, and the server's error envelopes turned into lines
 * a person can read. Used by `ecsched job`, `apply` and `export`. */
#ifndef ECS_CLI_CLIENT_H
#define ECS_CLI_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define CLIENT_DEFAULT_SERVER "http://127.0.0.1:5000"

struct client {
    char base[1024]; /* scheme://host[:port][/prefix], no trailing slash */
    char auth[2048]; /* "Authorization: Bearer ..." or "" */
};

/* One HTTP answer. */
struct client_reply {
    long status;
    json_t *body; /* owned; NULL when the body is empty or not JSON */
    char *raw;    /* owned; the body as received, NUL-terminated */
    size_t raw_len;
};

/* server: the --server value or NULL (then ECSCHED_SERVER, then the
 * default); "host:port" gets http:// in front. ECS_EINVAL for an unusable
 * value (message in msg). */
int client_init(struct client *c, const char *server, char *msg, size_t msglen);

/* Send method path (root-relative, e.g. "/jobs?count=5") with body (NULL:
 * none; borrowed) as JSON. 0 whenever the server answered, whatever the
 * status, with *out filled (clear it with client_reply_clear); otherwise
 * ECS_EUNAVAILABLE with a message naming the server's URL and how to
 * point at another one. */
int client_call(const struct client *c, const char *method, const char *path, const json_t *body,
                struct client_reply *out, char *msg, size_t msglen);

/* Frees what r owns and sets its pointers to NULL; safe twice. */
void client_reply_clear(struct client_reply *r);

/* "/jobs/<id><suffix>" with id percent-encoded into buf. ECS_ERANGE if it
 * does not fit. */
int client_job_path(char *buf, size_t len, const char *id, const char *suffix);

/* A failed answer as one line: the server's "message" (plus its "detail"),
 * or its validation messages as "field: text; field: text", or the HTTP
 * status; a 401 adds a hint about ECSCHED_TOKEN. */
void client_reply_text(const struct client_reply *r, char *buf, size_t len);

/* Calls fn for every validation message of a 400 {"messages": {...}}
 * body, with its field path dotted ("schedule", "trigger.type",
 * "overrides.0.containerName"). Returns how many there were. */
typedef void (*client_message_fn)(void *ctx, const char *path, const char *text);
size_t client_each_message(const json_t *body, client_message_fn fn, void *ctx);

/* Print a failed answer for a person on stderr: "who: <message>", or for
 * a validation 400 "who: the server rejected ...:" and one indented line a
 * message. */
void client_print_failure(const char *who, const struct client_reply *r);

/* The exit status for a failed answer: 2 (invalid input) for a 400, 1
 * otherwise. */
int client_exit_status(const struct client_reply *r);

/* Every job of the server, following the list's pages. *jobs is a new
 * array (caller json_decref). On a failure answer returns ECS_EINVAL with
 * the server's message in msg; ECS_EUNAVAILABLE when unreachable. */
int client_get_jobs(const struct client *c, json_t **jobs, char *msg, size_t msglen);

/* A job from the API in a readable order (id, taskDefinition, schedule,
 * timezone, ... then the rest as the server sent them), without its link,
 * and without what the server computes (estimatedNextRun, lastRun,
 * lastRunTasks) unless with_read_only: the fields a person sets. New
 * reference, NULL when out of memory. */
json_t *client_job_ordered(const json_t *api_job, int with_read_only);

/* Whether a field of a job is computed by the server (read-only). */
int client_field_read_only(const char *name);

#endif
