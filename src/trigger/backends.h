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
    /* the expected count (-1: taskCount decides), see trigger_expected() */
    int (*expected)(struct triggers *t, const json_t *job, const json_t *trigger, int64_t *count,
                    json_t **detail, char *msg, size_t msglen);
};

extern const struct trigger_ops trigger_noop;
extern const struct trigger_ops trigger_sqs;

/* The shared SQS client, made on first use. 0, or the reason it cannot be
 * (no region, no credentials source). */
int triggers_sqs_client(struct triggers *t, struct aws_client **out, char *msg, size_t msglen);

/* Append message to errs[key] (a list). */
void trigger_error(json_t *errs, const char *key, const char *message);

#endif
