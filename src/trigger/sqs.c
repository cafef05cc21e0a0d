/* sqs.c - the sqs trigger (seed 004, contract section 5): at each firing,
 * the queue's depth decides how many tasks run. An empty queue starts
 * nothing; otherwise max(taskCount, ceil(messages / messagesPerTask)),
 * which the scheduler caps by maxCount, else by 50 (the reference has no
 * cap and once asked for 84). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/job.h"
#include "core/messages.h"
#include "trigger/backends.h"

/* an SQS answer is quick; a throttled one may be retried this long */
#define CALL_WINDOW_MS 20000

static void sqs_validate(const json_t *in, json_t *out, json_t *errs)
{
    const json_t *mpt = json_object_get(in, "messagesPerTask");
    const json_t *inflight = json_object_get(in, "countInFlight");
    const char *url;
    const char *k;
    const json_t *v;
    long long n;
    bool b;

    trigger_copy_string(in, out, errs, "queueName");
    trigger_copy_string(in, out, errs, "queueUrl");
    url = json_string_value(json_object_get(out, "queueUrl"));
    if (url != NULL && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        trigger_error(errs, "queueUrl",
                      "Not a queue URL: expected https://sqs.REGION.amazonaws.com/ACCOUNT/NAME.");
    if (mpt != NULL && json_is_null(mpt))
        trigger_error(errs, "messagesPerTask", MSG_NULL);
    else if (mpt != NULL && job_coerce_int(mpt, &n) != 0)
        trigger_error(errs, "messagesPerTask", MSG_INTEGER);
    else if (mpt != NULL && n < 1)
        trigger_error(errs, "messagesPerTask", MSG_AT_LEAST_1);
    else if (mpt != NULL)
        json_object_set_new(out, "messagesPerTask", json_integer(n));
    if (inflight != NULL && (json_is_null(inflight) || job_coerce_bool(inflight, &b) != 0))
        trigger_error(errs, "countInFlight", MSG_BOOLEAN);
    else if (inflight != NULL)
        json_object_set_new(out, "countInFlight", json_boolean(b));
    json_object_foreach((json_t *)in, k, v) {
        if (strcmp(k, "type") != 0 && strcmp(k, "queueName") != 0 && strcmp(k, "queueUrl") != 0 &&
            strcmp(k, "messagesPerTask") != 0 && strcmp(k, "countInFlight") != 0)
            trigger_error(errs, k, MSG_UNKNOWN_FIELD);
    }
    if (json_object_size(errs) > 0)
        return;
    if (json_object_get(out, "queueName") == NULL && json_object_get(out, "queueUrl") == NULL)
        trigger_error(errs, "_schema", MSG_SQS_QUEUE);
    else if (json_object_get(out, "queueName") != NULL && json_object_get(out, "queueUrl") != NULL)
        trigger_error(errs, "_schema", "give queueName or queueUrl, not both");
}

/* An attribute SQS returns as a decimal string; 0 when absent. */
static int64_t attribute(const json_t *reply, const char *name)
{
    const char *text =
        json_string_value(json_object_get(json_object_get(reply, "Attributes"), name));
    char *end = NULL;
    long long v;

    if (text == NULL)
        return 0;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || v < 0)
        return 0;
    return (int64_t)v;
}

static int sqs_expected(struct triggers *t, const json_t *job, const json_t *trigger,
                        int64_t *count, json_t **detail, char *msg, size_t msglen)
{
    const char *name = json_string_value(json_object_get(trigger, "queueName"));
    const char *given_url = json_string_value(json_object_get(trigger, "queueUrl"));
    const json_t *mpt = json_object_get(trigger, "messagesPerTask");
    bool inflight = json_is_true(json_object_get(trigger, "countInFlight"));
    struct aws_client *c = NULL;
    json_t *reply = NULL;
    json_t *body;
    char url[1024];
    int64_t visible;
    int64_t hidden;
    int64_t m;
    int64_t scaled = 0;
    json_int_t want = 1;
    int rc;

    *count = -1;
    rc = triggers_sqs_client(t, &c, msg, msglen);
    if (rc != 0)
        return rc;
    if (given_url != NULL) {
        snprintf(url, sizeof(url), "%s", given_url);
    } else {
        body = json_pack("{s:s}", "QueueName", name != NULL ? name : "");
        rc =
            aws_call(c, "GetQueueUrl", body, &reply, trigger_deadline(CALL_WINDOW_MS), msg, msglen);
        json_decref(body);
        if (rc != 0)
            return rc;
        snprintf(url, sizeof(url), "%s",
                 json_string_value(json_object_get(reply, "QueueUrl")) != NULL
                     ? json_string_value(json_object_get(reply, "QueueUrl"))
                     : "");
        json_decref(reply);
        reply = NULL;
    }
    body = json_pack("{s:s, s:[s, s]}", "QueueUrl", url, "AttributeNames",
                     "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible");
    rc = aws_call(c, "GetQueueAttributes", body, &reply, trigger_deadline(CALL_WINDOW_MS), msg,
                  msglen);
    json_decref(body);
    if (rc != 0)
        return rc;
    visible = attribute(reply, "ApproximateNumberOfMessages");
    hidden = attribute(reply, "ApproximateNumberOfMessagesNotVisible");
    json_decref(reply);
    m = visible + (inflight ? hidden : 0);
    if (json_is_integer(json_object_get(job, "taskCount")))
        want = json_integer_value(json_object_get(job, "taskCount"));
    if (json_is_integer(mpt) && json_integer_value(mpt) > 0)
        scaled = (m + json_integer_value(mpt) - 1) / json_integer_value(mpt);
    *count = m == 0 ? 0 : (scaled > want ? scaled : want);
    *detail = json_pack("{s:s, s:s, s:I, s:I, s:I}", "type", "sqs", "queue",
                        name != NULL ? name : url, "messages", (json_int_t)m, "inFlight",
                        (json_int_t)hidden, "expected", (json_int_t)*count);
    return 0;
}

const struct trigger_ops trigger_sqs = {
    .name = "sqs",
    .validate = sqs_validate,
    .expected = sqs_expected,
};
