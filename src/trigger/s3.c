/* s3.c - the s3 trigger (seeds 001 and 003: a task per file that lands).
 * The bucket sends its event notifications to an SQS queue (the standard
 * AWS wiring); the daemon long-polls that queue, starts one task per new
 * object and deletes a message only once its tasks started, so a failed
 * launch leaves the message to come back: at least once, nothing lost. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/messages.h"
#include "trigger/backends.h"

/* a long poll's own wait plus the answer's way back */
#define RECEIVE_WINDOW_MS 30000
#define DELETE_WINDOW_MS 20000

/* S3's bucket naming rules, enough to catch a pasted ARN or URL. */
static int bucket_valid(const char *b)
{
    size_t n = strlen(b);
    size_t i;

    if (n < 3 || n > 63)
        return 0;
    for (i = 0; i < n; i++) {
        if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '.' &&
            b[i] != '-')
            return 0;
    }
    return 1;
}

static void s3_validate(const json_t *in, json_t *out, json_t *errs)
{
    static const char *const known[] = {"type",   "bucket",    "prefix",
                                        "suffix", "queueName", "queueUrl"};
    const char *bucket;
    const char *k;
    const json_t *v;
    size_t i;

    for (i = 1; i < sizeof(known) / sizeof(known[0]); i++)
        trigger_copy_string(in, out, errs, known[i]);
    bucket = json_string_value(json_object_get(out, "bucket"));
    if (json_object_get(in, "bucket") == NULL)
        trigger_error(errs, "bucket", MSG_MISSING);
    else if (bucket != NULL && !bucket_valid(bucket))
        trigger_error(errs, "bucket",
                      "Not a bucket name: 3 to 63 lower-case letters, digits, '.' and '-'.");
    json_object_foreach((json_t *)in, k, v) {
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (strcmp(k, known[i]) == 0)
                break;
        }
        if (i == sizeof(known) / sizeof(known[0]))
            trigger_error(errs, k, MSG_UNKNOWN_FIELD);
    }
    if (json_object_size(errs) > 0)
        return;
    if ((json_object_get(out, "queueName") == NULL) == (json_object_get(out, "queueUrl") == NULL))
        trigger_error(errs, "_schema",
                      "s3 trigger type requires queueName or queueUrl (the queue that receives "
                      "the bucket's event notifications), not both");
}

const struct trigger_ops trigger_s3 = {
    .name = "s3",
    .validate = s3_validate,
    .expected = NULL, /* objects, not firings, start its tasks */
};

/* S3 writes keys URL-encoded with '+' for spaces (quote_plus). */
static void url_decode(const char *in, char *out, size_t len)
{
    size_t o = 0;
    size_t i;

    for (i = 0; in[i] != '\0' && o + 1 < len; i++) {
        if (in[i] == '+') {
            out[o++] = ' ';
        } else if (in[i] == '%' && isxdigit((unsigned char)in[i + 1]) &&
                   isxdigit((unsigned char)in[i + 2])) {
            char hex[3] = {in[i + 1], in[i + 2], '\0'};

            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The objects a notification body announces that the trigger wants:
 * {"objects": [...]} or {"ignored": why}. SNS-wrapped bodies are opened. */
static json_t *read_body(const json_t *trigger, const char *text)
{
    const char *bucket = json_string_value(json_object_get(trigger, "bucket"));
    const char *prefix = json_string_value(json_object_get(trigger, "prefix"));
    const char *suffix = json_string_value(json_object_get(trigger, "suffix"));
    json_error_t err;
    json_t *body = json_loads(text != NULL ? text : "", 0, &err);
    json_t *objects = json_array();
    const json_t *rec;
    size_t i;

    if (body != NULL && json_is_string(json_object_get(body, "Message"))) {
        json_t *inner = json_loads(json_string_value(json_object_get(body, "Message")), 0, &err);

        json_decref(body);
        body = inner;
    }
    if (body == NULL) {
        json_decref(objects);
        return json_pack("{s:s}", "ignored", "not an S3 event notification (not JSON)");
    }
    if (json_is_string(json_object_get(body, "Event")) &&
        strcmp(json_string_value(json_object_get(body, "Event")), "s3:TestEvent") == 0) {
        json_decref(body);
        json_decref(objects);
        return json_pack("{s:s}", "ignored", "s3:TestEvent");
    }
    json_array_foreach(json_object_get(body, "Records"), i, rec) {
        const char *event = json_string_value(json_object_get(rec, "eventName"));
        const json_t *s3 = json_object_get(rec, "s3");
        const char *b = json_string_value(json_object_get(json_object_get(s3, "bucket"), "name"));
        const json_t *obj = json_object_get(s3, "object");
        const char *raw = json_string_value(json_object_get(obj, "key"));
        const char *etag = json_string_value(json_object_get(obj, "eTag"));
        char key[2048];

        if (event == NULL || strncmp(event, "ObjectCreated:", 14) != 0 || b == NULL ||
            raw == NULL || strcmp(b, bucket) != 0)
            continue;
        url_decode(raw, key, sizeof(key));
        if ((prefix != NULL && strncmp(key, prefix, strlen(prefix)) != 0) ||
            (suffix != NULL && !ends_with(key, suffix)))
            continue;
        json_array_append_new(
            objects, json_pack("{s:s, s:s, s:I, s:s}", "bucket", b, "key", key, "size",
                               (json_int_t)json_integer_value(json_object_get(obj, "size")), "etag",
                               etag != NULL ? etag : ""));
    }
    json_decref(body);
    if (json_array_size(objects) == 0) {
        json_decref(objects);
        return json_pack("{s:s}", "ignored", "no new object of this bucket, prefix and suffix");
    }
    return json_pack("{s:o}", "objects", objects);
}

static int queue_url(struct aws_client *c, const json_t *trigger, char *url, size_t len, char *msg,
                     size_t msglen)
{
    const char *given = json_string_value(json_object_get(trigger, "queueUrl"));
    const char *name = json_string_value(json_object_get(trigger, "queueName"));
    json_t *body;
    json_t *reply = NULL;
    int rc;

    if (given != NULL) {
        snprintf(url, len, "%s", given);
        return 0;
    }
    body = json_pack("{s:s}", "QueueName", name != NULL ? name : "");
    rc = aws_call(c, "GetQueueUrl", body, &reply, trigger_deadline(DELETE_WINDOW_MS), msg, msglen);
    json_decref(body);
    if (rc == 0)
        snprintf(url, len, "%s",
                 json_string_value(json_object_get(reply, "QueueUrl")) != NULL
                     ? json_string_value(json_object_get(reply, "QueueUrl"))
                     : "");
    json_decref(reply);
    return rc;
}

int trigger_s3_receive(struct triggers *t, const json_t *trigger, int max, int wait_s, json_t **out,
                       char *msg, size_t msglen)
{
    struct aws_client *c = NULL;
    json_t *body;
    json_t *reply = NULL;
    json_t *list;
    const json_t *m;
    char url[1024];
    size_t i;
    int rc;

    *out = NULL;
    rc = triggers_sqs_client(t, &c, msg, msglen);
    if (rc == 0)
        rc = queue_url(c, trigger, url, sizeof(url), msg, msglen);
    if (rc != 0)
        return rc;
    body = json_pack("{s:s, s:i, s:i, s:[s]}", "QueueUrl", url, "MaxNumberOfMessages",
                     max < 1 ? 1 : (max > 10 ? 10 : max), "WaitTimeSeconds", wait_s,
                     "MessageSystemAttributeNames", "ApproximateReceiveCount");
    rc = aws_call_held(c, "ReceiveMessage", body, &reply,
                       trigger_deadline(RECEIVE_WINDOW_MS + (int64_t)wait_s * 1000),
                       (int64_t)wait_s * 1000, msg, msglen);
    json_decref(body);
    if (rc != 0)
        return rc;
    list = json_array();
    json_array_foreach(json_object_get(reply, "Messages"), i, m) {
        json_t *item = read_body(trigger, json_string_value(json_object_get(m, "Body")));

        json_object_set(item, "messageId", json_object_get(m, "MessageId"));
        json_object_set(item, "receipt", json_object_get(m, "ReceiptHandle"));
        json_object_set_new(item, "queueUrl", json_string(url));
        json_array_append_new(list, item);
    }
    json_decref(reply);
    *out = list;
    return 0;
}

int trigger_s3_delete(struct triggers *t, const char *url, const char *receipt, char *msg,
                      size_t msglen)
{
    struct aws_client *c = NULL;
    json_t *body;
    json_t *reply = NULL;
    int rc = triggers_sqs_client(t, &c, msg, msglen);

    if (rc != 0)
        return rc;
    body = json_pack("{s:s, s:s}", "QueueUrl", url, "ReceiptHandle", receipt);
    rc =
        aws_call(c, "DeleteMessage", body, &reply, trigger_deadline(DELETE_WINDOW_MS), msg, msglen);
    json_decref(body);
    json_decref(reply);
    return rc;
}
