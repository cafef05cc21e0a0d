/* backends.h - the trigger types and what they share; private to
 * src/trigger/. */
#ifndef ECS_TRIGGER_BACKENDS_H
#define ECS_TRIGGER_BACKENDS_H

#include "aws/client.h"
#include "trigger/trigger.h"

struct trigger_ops {
    const char *name;
    /* in: the trigger object; normalised fields into out, errors into errs */
    void (*validate)(const json_t *in, json_t *out, json_t *errs);
    /* the expected count (-1: taskCount decides), see trigger_expected();
     * NULL for a type whose tasks start on events, never on firings */
    int (*expected)(struct triggers *t, const json_t *job, const json_t *trigger, int64_t *count,
                    json_t **detail, char *msg, size_t msglen);
};

extern const struct trigger_ops trigger_noop;
extern const struct trigger_ops trigger_sqs;
extern const struct trigger_ops trigger_s3;

/* The shared SQS client, made on first use. 0, or the reason it cannot be
 * (no region, no credentials source). */
int triggers_sqs_client(struct triggers *t, struct aws_client **out, char *msg, size_t msglen);

/* Append message to errs[key] (a list). */
void trigger_error(json_t *errs, const char *key, const char *message);

/* Copy in[key] into out when it is a string; a null or another type is an
 * error in errs. Absent: nothing. */
void trigger_copy_string(const json_t *in, json_t *out, json_t *errs, const char *key);

/* Unix ms `ms` from now: an AWS call's deadline. */
int64_t trigger_deadline(int64_t ms);

#endif
