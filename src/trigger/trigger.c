/* trigger.c - the trigger registry and the AWS clients triggers share. */
#include "trigger/trigger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/messages.h"
#include "trigger/backends.h"

static const struct trigger_ops *const registry[] = {&trigger_noop, &trigger_sqs, &trigger_s3};

#define NREGISTRY (sizeof(registry) / sizeof(registry[0]))

struct triggers {
    struct logger *log;
    pthread_mutex_t lock;
    struct aws_client *sqs;
    int64_t cancel_ms;
};

int triggers_init(struct logger *log, struct triggers **out, char *msg, size_t msglen)
{
    struct triggers *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (t == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    t->log = log;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void triggers_free(struct triggers **t)
{
    if (t == NULL || *t == NULL)
        return;
    aws_client_free(&(*t)->sqs);
    pthread_mutex_destroy(&(*t)->lock);
    free(*t);
    *t = NULL;
}

void triggers_cancel(struct triggers *t, int64_t deadline_ms)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->cancel_ms = deadline_ms;
    if (t->sqs != NULL)
        aws_client_cancel(t->sqs, deadline_ms);
    pthread_mutex_unlock(&t->lock);
}

int triggers_sqs_client(struct triggers *t, struct aws_client **out, char *msg, size_t msglen)
{
    int rc = 0;

    pthread_mutex_lock(&t->lock);
    if (t->sqs == NULL)
        rc = aws_client_init("sqs", "AmazonSQS", "1.0", t->log, &t->sqs, msg, msglen);
    if (rc == 0 && t->cancel_ms != 0)
        aws_client_cancel(t->sqs, t->cancel_ms);
    *out = t->sqs;
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void trigger_error(json_t *errs, const char *key, const char *message)
{
    json_t *list = json_object_get(errs, key);

    if (list == NULL) {
        list = json_array();
        json_object_set_new(errs, key, list);
    }
    json_array_append_new(list, json_string(message));
}

int trigger_is_s3(const json_t *job)
{
    const char *type = json_string_value(json_object_get(json_object_get(job, "trigger"), "type"));

    return type != NULL && strcmp(type, "s3") == 0;
}

void trigger_copy_string(const json_t *in, json_t *out, json_t *errs, const char *key)
{
    const json_t *v = json_object_get(in, key);

    if (v == NULL)
        return;
    if (json_is_null(v))
        trigger_error(errs, key, MSG_NULL);
    else if (!json_is_string(v))
        trigger_error(errs, key, MSG_STRING);
    else
        json_object_set_new(out, key, json_string(json_string_value(v)));
}

int64_t trigger_deadline(int64_t ms)
{
    return clock_wall_ms() + ms;
}

const char *trigger_names(void)
{
    return "noop, sqs, s3";
}

static const struct trigger_ops *find(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < NREGISTRY; i++) {
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    }
    return NULL;
}

void trigger_validate(const json_t *in, json_t *out, json_t *errs)
{
    const char *type = json_string_value(json_object_get(in, "type"));
    const struct trigger_ops *ops = find(type);
    char text[200];

    if (ops == NULL) {
        /* the reference treats any unknown type as noop, so a typo would
         * silently launch taskCount tasks; we say so instead */
        snprintf(text, sizeof(text), "Unknown trigger type '%.60s': known types are %s.",
                 type != NULL ? type : "", trigger_names());
        trigger_error(errs, "type", text);
        return;
    }
    json_object_set_new(out, "type", json_string(ops->name));
    ops->validate(in, out, errs);
}

int trigger_expected(struct triggers *t, const json_t *job, int64_t *count, json_t **detail,
                     char *msg, size_t msglen)
{
    const json_t *trigger = json_object_get(job, "trigger");
    const struct trigger_ops *ops = find(json_string_value(json_object_get(trigger, "type")));

    *count = -1;
    *detail = NULL;
    if (ops == NULL)
        return 0;
    if (t == NULL)
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                        "the %s trigger cannot be evaluated by this daemon (no trigger context)",
                        ops->name);
    if (ops->expected == NULL) {
        *count = 0;
        return 0;
    }
    return ops->expected(t, job, trigger, count, detail, msg, msglen);
}
