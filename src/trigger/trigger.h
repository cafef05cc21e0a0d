/* trigger.h - what a job's `trigger` says about how many tasks a firing
 * needs (seed 004 section 5): noop (taskCount), sqs (the queue's depth).
 * A trigger type is a `struct trigger_ops` (name first) in
 * src/trigger/backends.h; the job model and the scheduler call only the
 * front door below. */
#ifndef ECS_TRIGGER_H
#define ECS_TRIGGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

/* What the triggers share at run time: AWS clients, made on first use so a
 * daemon whose jobs have no AWS trigger never needs credentials. */
struct triggers;

/* *out is the caller's, freed with triggers_free(). log is borrowed. */
int triggers_init(struct logger *log, struct triggers **out, char *msg, size_t msglen);
void triggers_free(struct triggers **t);

/* The daemon is stopping: AWS calls give up retrying by deadline_ms. */
void triggers_cancel(struct triggers *t, int64_t deadline_ms);

/* Check a trigger object `in` (already known to be an object with a string
 * "type"): the normalised fields go into out, problems into errs as
 * field -> [messages] ("_schema" for the object as a whole). An unknown
 * type is an error naming the known ones. */
void trigger_validate(const json_t *in, json_t *out, json_t *errs);

/* How many tasks the job's trigger asks for at a firing, before maxCount
 * and the cap of 50: *count = -1 when the job has no trigger or a noop one
 * (taskCount decides). *detail (may be set even on error; the caller's,
 * json_decref) records what the trigger saw, e.g. {"type": "sqs",
 * "queue": ..., "messages": 250}. 0, or an error with the AWS message. */
int trigger_expected(struct triggers *t, const json_t *job, int64_t *count, json_t **detail,
                     char *msg, size_t msglen);

/* "noop, sqs, s3": the names, for messages. */
const char *trigger_names(void);

/* Whether the job starts on S3 objects (an s3 trigger) rather than on its
 * schedule. */
int trigger_is_s3(const json_t *job);

/* One long poll (wait_s seconds) of an s3 trigger's queue for up to max
 * messages: *out a new array of {"messageId", "receipt", "queueUrl",
 * "objects": [{"bucket", "key", "size", "etag"}]} or, for messages that
 * announce nothing for this trigger (s3:TestEvent, other buckets,
 * prefixes or suffixes), {..., "ignored": why}. Keys are URL-decoded. */
int trigger_s3_receive(struct triggers *t, const json_t *trigger, int max, int wait_s, json_t **out,
                       char *msg, size_t msglen);

/* Delete one message once its objects' tasks started. */
int trigger_s3_delete(struct triggers *t, const char *queue_url, const char *receipt, char *msg,
                      size_t msglen);

#endif
