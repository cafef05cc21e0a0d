/* client.h - calls to AWS JSON 1.1 APIs (ECS, later SQS) over HTTPS,
 * signed with libcurl's built-in SigV4, retried with exponential backoff
 * and full jitter on throttling, 5xx and network errors. */
#ifndef ECS_AWS_CLIENT_H
#define ECS_AWS_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

struct aws_client;

/* service: "ecs" or "sqs" (names the endpoint variable and the signing
 * scope); prefix: the X-Amz-Target prefix, e.g.
 * "AmazonEC2ContainerServiceV20141113" or "AmazonSQS"; json_version: "1.1"
 * (ECS) or "1.0" (SQS). log may be NULL (borrowed). *out is the caller's,
 * freed with aws_client_free(). */
int aws_client_init(const char *service, const char *prefix, const char *json_version,
                    struct logger *log, struct aws_client **out, char *msg, size_t msglen);
void aws_client_free(struct aws_client **c);

/* From now on every call (in flight or new) gives up by deadline_ms (unix
 * ms): used when the daemon stops, so a retrying call cannot hold it up.
 * Thread-safe. */
void aws_client_cancel(struct aws_client *c, int64_t deadline_ms);

/* Call operation with body (borrowed); *reply is a new reference on
 * success. Gives up retrying at deadline_ms (unix ms). Errors: the AWS
 * error's type and message in msg, e.g. "ECS RunTask:
 * ClusterNotFoundException: Cluster not found."; ECS_EUNAVAILABLE for
 * retryable failures that outlived the deadline, ECS_EINVAL for the rest. */
int aws_call(struct aws_client *c, const char *operation, const json_t *body, json_t **reply,
             int64_t deadline_ms, char *msg, size_t msglen);

/* aws_call for an operation the service may hold for up to hold_ms
 * before answering (ReceiveMessage's WaitTimeSeconds): each attempt
 * waits that much longer before it gives up. */
int aws_call_held(struct aws_client *c, const char *operation, const json_t *body, json_t **reply,
                  int64_t deadline_ms, int64_t hold_ms, char *msg, size_t msglen);

/* A REST call (S3): method to url (a full URL), with an XML body or NULL;
 * one attempt. *reply is the answer's body (the caller's, free()); an
 * error answer's <Code> and <Message> are in msg. */
int aws_rest(struct aws_client *c, const char *method, const char *url, const char *body,
             char **reply, int64_t deadline_ms, char *msg, size_t msglen);

/* The endpoint the client calls (no trailing slash) and its region. */
const char *aws_client_endpoint(const struct aws_client *c);
const char *aws_client_region(const struct aws_client *c);

/* Whether an error type or HTTP status is worth retrying (for tests). */
int aws_retryable(long status, const char *type);

#endif
