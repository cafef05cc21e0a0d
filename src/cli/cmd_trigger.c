/* cmd_trigger.c - `ecsched trigger setup-s3 JOB`: the AWS wiring an s3 job
 * needs, done for the operator: the queue's policy lets the bucket send to
 * it, and the bucket notifies the queue of new objects (with the job's
 * prefix and suffix). Both edits keep what else is there and replace only
 * what an earlier run of this command wrote, so running it again is safe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/client.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/options.h"
#include "core/clock.h"
#include "core/error.h"

#define CALL_WINDOW_MS 20000

static const char trigger_usage[] =
    "usage: ecsched trigger setup-s3 JOB [--server URL] [--dry-run]\n"
    "\n"
    "Wire the bucket of JOB's s3 trigger to its queue: add to the queue's policy a\n"
    "statement letting s3.amazonaws.com send from that bucket, and to the bucket's\n"
    "notification configuration an s3:ObjectCreated:* entry for the queue, with\n"
    "the job's prefix and suffix (id ecsched-JOB; an earlier one is replaced, the\n"
    "bucket's other notifications are kept). AWS credentials, region and\n"
    "endpoints as for 'ecsched serve' (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS).\n"
    "\n"
    "  --server URL  the ecsched server holding JOB (default $ECSCHED_SERVER, else\n"
    "                " CLIENT_DEFAULT_SERVER ")\n"
    "  --dry-run     print the policy and the notification configuration, change nothing\n";

static int64_t deadline(void)
{
    return clock_wall_ms() + CALL_WINDOW_MS;
}

/* A growing string: the notification XML is built piece by piece. */
struct text {
    char *p;
    size_t used;
    size_t cap;
};

/* Append n bytes of s (n == SIZE_MAX: all of it). */
static void text_add(struct text *t, const char *s, size_t n)
{
    size_t len = n == (size_t)-1 ? strlen(s) : n;

    if (t->p == NULL || t->used + len + 1 > t->cap)
        return;
    memcpy(t->p + t->used, s, len);
    t->used += len;
    t->p[t->used] = '\0';
}

/* Append s with & < > " escaped for XML. */
static void text_add_xml(struct text *t, const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '&')
            text_add(t, "&amp;", (size_t)-1);
        else if (s[i] == '<')
            text_add(t, "&lt;", (size_t)-1);
        else if (s[i] == '>')
            text_add(t, "&gt;", (size_t)-1);
        else if (s[i] == '"')
            text_add(t, "&quot;", (size_t)-1);
        else
            text_add(t, s + i, 1);
    }
}

static void filter_rule(struct text *t, const char *name, const char *value)
{
    text_add(t, "<FilterRule><Name>", (size_t)-1);
    text_add(t, name, (size_t)-1);
    text_add(t, "</Name><Value>", (size_t)-1);
    text_add_xml(t, value);
    text_add(t, "</Value></FilterRule>", (size_t)-1);
}

/* The queue policy with our statement (Sid ecsched-s3-BUCKET) in place of
 * any earlier one. New reference. */
static json_t *queue_policy(const char *existing, const char *queue_arn, const char *bucket)
{
    json_error_t err;
    json_t *policy = existing != NULL ? json_loads(existing, 0, &err) : NULL;
    json_t *kept = json_array();
    const json_t *st;
    char sid[200];
    char source[300];
    size_t i;

    if (!json_is_object(policy)) {
        json_decref(policy);
        policy = json_pack("{s:s}", "Version", "2012-10-17");
    }
    snprintf(sid, sizeof(sid), "ecsched-s3-%s", bucket);
    snprintf(source, sizeof(source), "arn:aws:s3:::%s", bucket);
    json_array_foreach(json_object_get(policy, "Statement"), i, st) {
        const char *other = json_string_value(json_object_get(st, "Sid"));

        if (other == NULL || strcmp(other, sid) != 0)
            json_array_append(kept, (json_t *)st);
    }
    json_array_append_new(
        kept, json_pack("{s:s, s:s, s:{s:s}, s:s, s:s, s:{s:{s:s}}}", "Sid", sid, "Effect", "Allow",
                        "Principal", "Service", "s3.amazonaws.com", "Action", "sqs:SendMessage",
                        "Resource", queue_arn, "Condition", "ArnLike", "aws:SourceArn", source));
    json_object_set_new(policy, "Statement", kept);
    return policy;
}

/* Where the root element's content starts (after <?xml ...?> and the
 * root's start tag), or NULL when the root is empty (<X/>) or absent. */
static const char *root_body(const char *xml)
{
    const char *p = xml;
    const char *gt;

    while (p != NULL && (p = strchr(p, '<')) != NULL && (p[1] == '?' || p[1] == '!'))
        p = strchr(p, '>');
    if (p == NULL)
        return NULL;
    gt = strchr(p, '>');
    if (gt == NULL || gt[-1] == '/')
        return NULL;
    return gt + 1;
}

/* The bucket's notification XML with its <QueueConfiguration> whose <Id>
 * is id removed and ours added. New string (free()), NULL on no memory. */
static char *notification_xml(const char *current, const char *id, const char *queue_arn,
                              const char *prefix, const char *suffix)
{
    const char *open_tag = "<QueueConfiguration>";
    const char *close_tag = "</QueueConfiguration>";
    struct text t = {NULL, 0, 0};
    char mine[400];
    const char *p = root_body(current);
    const char *end = p != NULL ? strrchr(p, '<') : NULL;

    t.cap = strlen(current) + 2 * strlen(queue_arn) + 4096 +
            6 * ((prefix != NULL ? strlen(prefix) : 0) + (suffix != NULL ? strlen(suffix) : 0));
    t.p = calloc(1, t.cap);
    if (t.p == NULL)
        return NULL;
    snprintf(mine, sizeof(mine), "<Id>%s</Id>", id);
    text_add(&t, "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
             (size_t)-1);
    /* keep the root's content, less our old entry */
    while (end != NULL && p < end) {
        const char *start = strstr(p, open_tag);
        const char *stop = start != NULL ? strstr(start, close_tag) : NULL;
        const char *ours = start != NULL ? strstr(start, mine) : NULL;

        if (start == NULL || stop == NULL || start > end) {
            text_add(&t, p, (size_t)(end - p));
            break;
        }
        stop += strlen(close_tag);
        text_add(&t, p, (size_t)(start - p));
        if (ours == NULL || ours > stop)
            text_add(&t, start, (size_t)(stop - start));
        p = stop;
    }
    text_add(&t, open_tag, (size_t)-1);
    text_add(&t, mine, (size_t)-1);
    text_add(&t, "<Queue>", (size_t)-1);
    text_add_xml(&t, queue_arn);
    text_add(&t, "</Queue><Event>s3:ObjectCreated:*</Event>", (size_t)-1);
    if (prefix != NULL || suffix != NULL) {
        text_add(&t, "<Filter><S3Key>", (size_t)-1);
        if (prefix != NULL)
            filter_rule(&t, "prefix", prefix);
        if (suffix != NULL)
            filter_rule(&t, "suffix", suffix);
        text_add(&t, "</S3Key></Filter>", (size_t)-1);
    }
    text_add(&t, close_tag, (size_t)-1);
    text_add(&t, "</NotificationConfiguration>", (size_t)-1);
    return t.p;
}

/* The job's s3 trigger from the server: 0, or an exit status after saying
 * why. */
static int load_trigger(const char *server, const char *id, json_t **trigger)
{
    struct client client;
    struct client_reply r;
    char path[600];
    char msg[1024];
    const json_t *t;
    const char *type;

    memset(&r, 0, sizeof(r));
    if (client_init(&client, server, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched trigger: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    if (client_job_path(path, sizeof(path), id, "") != 0 ||
        client_call(&client, "GET", path, NULL, &r, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched trigger: %s\n", msg);
        return CLI_EXIT_FAIL;
    }
    if (r.status != 200) {
        client_print_failure("ecsched trigger", &r);
        client_reply_clear(&r);
        return CLI_EXIT_FAIL;
    }
    t = json_object_get(r.body, "trigger");
    type = json_string_value(json_object_get(t, "type"));
    if (type == NULL || strcmp(type, "s3") != 0) {
        fprintf(stderr, "ecsched trigger: job %s has no s3 trigger (its trigger: %s)\n", id,
                type != NULL ? type : "none");
        client_reply_clear(&r);
        return CLI_EXIT_USAGE;
    }
    *trigger = json_deep_copy(t);
    client_reply_clear(&r);
    return 0;
}

/* The queue's URL and ARN, and its policy (NULL when it has none). */
static int queue_facts(struct aws_client *sqs, const json_t *trigger, char *url, size_t urllen,
                       json_t **attrs, char *msg, size_t msglen)
{
    const char *given = json_string_value(json_object_get(trigger, "queueUrl"));
    json_t *body;
    json_t *reply = NULL;
    int rc = 0;

    if (given != NULL) {
        snprintf(url, urllen, "%s", given);
    } else {
        body = json_pack("{s:s}", "QueueName",
                         json_string_value(json_object_get(trigger, "queueName")));
        rc = aws_call(sqs, "GetQueueUrl", body, &reply, deadline(), msg, msglen);
        json_decref(body);
        if (rc == 0)
            snprintf(url, urllen, "%s", json_string_value(json_object_get(reply, "QueueUrl")));
        json_decref(reply);
        reply = NULL;
    }
    if (rc != 0)
        return rc;
    body = json_pack("{s:s, s:[s, s]}", "QueueUrl", url, "AttributeNames", "QueueArn", "Policy");
    rc = aws_call(sqs, "GetQueueAttributes", body, &reply, deadline(), msg, msglen);
    json_decref(body);
    if (rc == 0)
        *attrs = json_incref(json_object_get(reply, "Attributes"));
    json_decref(reply);
    return rc;
}

static int setup_s3(const char *id, const json_t *trigger, int dry_run)
{
    const char *bucket = json_string_value(json_object_get(trigger, "bucket"));
    struct aws_client *sqs = NULL;
    struct aws_client *s3 = NULL;
    json_t *attrs = NULL;
    json_t *policy = NULL;
    char *policy_text = NULL;
    char *current = NULL;
    char *xml = NULL;
    char *answer = NULL;
    char url[1024];
    char bucket_url[1200];
    char notify_id[300];
    char msg[1024];
    const char *arn;
    int rc;

    rc = aws_client_init("sqs", "AmazonSQS", "1.0", NULL, &sqs, msg, sizeof(msg));
    if (rc == 0)
        rc = aws_client_init("s3", "", "1.1", NULL, &s3, msg, sizeof(msg));
    if (rc == 0)
        rc = queue_facts(sqs, trigger, url, sizeof(url), &attrs, msg, sizeof(msg));
    arn = json_string_value(json_object_get(attrs, "QueueArn"));
    if (rc == 0 && arn == NULL)
        rc = ecs_fail(ECS_EINVAL, msg, sizeof(msg), "queue %s has no QueueArn", url);
    if (rc == 0) {
        policy = queue_policy(json_string_value(json_object_get(attrs, "Policy")), arn, bucket);
        policy_text = json_dumps(policy, JSON_COMPACT);
        /* a custom endpoint (moto, LocalStack) takes path-style addresses */
        if (getenv("AWS_ENDPOINT_URL_S3") != NULL || getenv("AWS_ENDPOINT_URL") != NULL)
            snprintf(bucket_url, sizeof(bucket_url), "%s/%s?notification=", aws_client_endpoint(s3),
                     bucket);
        else
            snprintf(bucket_url, sizeof(bucket_url),
                     "https://%s.s3.%s.amazonaws.com/?notification=", bucket,
                     aws_client_region(s3));
        rc = aws_rest(s3, "GET", bucket_url, NULL, &current, deadline(), msg, sizeof(msg));
    }
    if (rc == 0) {
        snprintf(notify_id, sizeof(notify_id), "ecsched-%s", id);
        xml = notification_xml(current, notify_id, arn,
                               json_string_value(json_object_get(trigger, "prefix")),
                               json_string_value(json_object_get(trigger, "suffix")));
        if (xml == NULL || policy_text == NULL)
            rc = ecs_fail(ECS_ENOMEM, msg, sizeof(msg), "out of memory");
    }
    if (rc == 0 && dry_run) {
        printf("queue %s policy:\n%s\nbucket %s notifications:\n%s\n", url, policy_text, bucket,
               xml);
    } else if (rc == 0) {
        json_t *body =
            json_pack("{s:s, s:{s:s}}", "QueueUrl", url, "Attributes", "Policy", policy_text);
        json_t *reply = NULL;

        rc = aws_call(sqs, "SetQueueAttributes", body, &reply, deadline(), msg, sizeof(msg));
        json_decref(body);
        json_decref(reply);
        if (rc == 0)
            rc = aws_rest(s3, "PUT", bucket_url, xml, &answer, deadline(), msg, sizeof(msg));
        if (rc == 0)
            printf("queue %s: s3.amazonaws.com may send from bucket %s\n"
                   "bucket %s: new objects%s%s%s%s are announced to %s (notification %s)\n",
                   url, bucket, bucket, json_object_get(trigger, "prefix") != NULL ? " under " : "",
                   json_object_get(trigger, "prefix") != NULL
                       ? json_string_value(json_object_get(trigger, "prefix"))
                       : "",
                   json_object_get(trigger, "suffix") != NULL ? " ending " : "",
                   json_object_get(trigger, "suffix") != NULL
                       ? json_string_value(json_object_get(trigger, "suffix"))
                       : "",
                   arn, notify_id);
    }
    if (rc != 0)
        fprintf(stderr, "ecsched trigger: %s\n", msg);
    free(answer);
    free(xml);
    free(current);
    free(policy_text);
    json_decref(policy);
    json_decref(attrs);
    aws_client_free(&s3);
    aws_client_free(&sqs);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cmd_trigger(int argc, char **argv)
{
    const char *server = NULL;
    int dry_run = 0;
    const struct cli_option opts[] = {
        {"server", 0, &server, NULL, NULL},
        {"dry-run", 0, NULL, &dry_run, NULL},
    };
    json_t *trigger = NULL;
    int operand;
    int rc;

    if (argc < 2 || strcmp(argv[1], "setup-s3") != 0) {
        fprintf(stderr, "%s",
                argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                    ? ""
                    : "ecsched trigger: the one action is setup-s3\n");
        fputs(trigger_usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    rc = cli_options_parse(argc - 1, argv + 1, opts, sizeof(opts) / sizeof(opts[0]),
                           "ecsched trigger setup-s3", trigger_usage, &operand);
    if (rc != 0)
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (operand + 1 != argc - 1) {
        fprintf(stderr,
                "ecsched trigger setup-s3: give one job id; see 'ecsched trigger --help'\n");
        return CLI_EXIT_USAGE;
    }
    rc = load_trigger(server, argv[1 + operand], &trigger);
    if (rc != 0)
        return rc;
    rc = setup_s3(argv[1 + operand], trigger, dry_run);
    json_decref(trigger);
    return rc;
}
