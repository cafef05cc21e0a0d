/* test_job.c - job validation, coercion, messages, merge updates and the
 * API representation, against the seed 004 contract. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/job.h"
#include "core/tz.h"
#include "harness.h"

static uint32_t seeded(void *ctx, uint32_t n)
{
    uint32_t *s = ctx;

    *s = *s * 1664525u + 1013904223u;
    return (*s >> 8) % n;
}

/* Validate body (over existing, a JSON text or NULL); returns the sorted
 * compact JSON of the job on success or "ERR " + the errors. */
static const char *check(const char *body_text, const char *existing_text)
{
    static char out[4096];
    uint32_t state = 1;
    struct job_ctx ctx = {seeded, &state};
    json_error_t jerr;
    json_t *body = json_loads(body_text, JSON_DECODE_ANY, &jerr);
    json_t *existing = existing_text != NULL ? json_loads(existing_text, 0, &jerr) : NULL;
    json_t *job = NULL;
    json_t *errors = NULL;
    char *text;
    int rc;

    if (body == NULL)
        return "BAD TEST JSON";
    rc = job_validate(body, existing, &ctx, &job, &errors);
    text = json_dumps(rc == 0 ? job : errors, JSON_SORT_KEYS | JSON_COMPACT);
    snprintf(out, sizeof(out), "%s%s", rc == 0 ? "" : "ERR ", text != NULL ? text : "?");
    free(text);
    json_decref(body);
    json_decref(existing);
    json_decref(job);
    json_decref(errors);
    return out;
}

#define CREATE(body, want) T_EQ_STR(check(body, NULL), want)
#define UPDATE(existing, body, want) T_EQ_STR(check(body, existing), want)

static void test_create_minimal(void)
{
    CREATE("{\"taskDefinition\": \"sleeper-task\", \"schedule\": \"25 */5\"}",
           "{\"id\":\"sleeper-task\",\"schedule\":\"25 */5\",\"taskCount\":1,"
           "\"taskDefinition\":\"sleeper-task\"}");
    /* spacing of the schedule is kept; unknown and read-only fields ignored */
    CREATE("{\"taskDefinition\": \"a\", \"schedule\": \" 0  5 \", \"lastRun\": \"x\", "
           "\"link\": 1, \"unknownField\": true}",
           "{\"id\":\"a\",\"schedule\":\" 0  5 \",\"taskCount\":1,\"taskDefinition\":\"a\"}");
    /* id given: used; id alone: taskDefinition stays absent */
    CREATE("{\"taskDefinition\": \"sleeper-task\", \"id\": \"long-sleep\", \"schedule\": \"0\"}",
           "{\"id\":\"long-sleep\",\"schedule\":\"0\",\"taskCount\":1,"
           "\"taskDefinition\":\"sleeper-task\"}");
    CREATE("{\"id\": \"only-id\", \"schedule\": \"0\"}",
           "{\"id\":\"only-id\",\"schedule\":\"0\",\"taskCount\":1}");
    /* a job run only by hand; @manual is exact, not a macro family */
    CREATE("{\"id\": \"by-hand\", \"schedule\": \"@manual\"}",
           "{\"id\":\"by-hand\",\"schedule\":\"@manual\",\"taskCount\":1}");
    T_TRUE(strncmp(check("{\"id\": \"x\", \"schedule\": \"@Manual\"}", NULL), "ERR ", 4) == 0);
}

static void test_random_resolved_once(void)
{
    const char *got = check("{\"taskDefinition\": \"a\", \"schedule\": \"? */5 ?\"}", NULL);

    T_TRUE(strstr(got, "\"schedule\":\"") != NULL && strchr(got, '?') == NULL);
    T_HAS_STR(got, " */5 ");
}

static void test_names(void)
{
    CREATE("{\"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"Missing data for required field.\"]}");
    /* one message per problem (the reference repeated it) */
    CREATE("{\"taskDefinition\": \"bad name\", \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"task definition names must contain only alphanumeric, "
           "underscore, and hyphen\"]}");
    CREATE("{\"taskDefinition\": \"abc\\n\", \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"task definition names must contain only alphanumeric, "
           "underscore, and hyphen\"]}");
    /* what RunTask takes: family:revision and the ARN, the job named after
     * the family (the reference refused these) */
    CREATE("{\"taskDefinition\": \"foo:3\", \"schedule\": \"0\"}",
           "{\"id\":\"foo\",\"schedule\":\"0\",\"taskCount\":1,\"taskDefinition\":\"foo:3\"}");
    CREATE("{\"taskDefinition\": \"arn:aws:ecs:eu-west-1:123456789012:task-definition/etl:12\", "
           "\"schedule\": \"0\"}",
           "{\"id\":\"etl\",\"schedule\":\"0\",\"taskCount\":1,\"taskDefinition\":"
           "\"arn:aws:ecs:eu-west-1:123456789012:task-definition/etl:12\"}");
    CREATE("{\"taskDefinition\": \"foo:0\", \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"A task definition's revision is a whole number from 1 "
           "(FAMILY:REVISION).\"]}");
    CREATE("{\"taskDefinition\": \"foo:3:4\", \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"A task definition's revision is a whole number from 1 "
           "(FAMILY:REVISION).\"]}");
    CREATE("{\"taskDefinition\": \"arn:aws:ecs:eu-west-1:1234:task-definition/etl:1\", "
           "\"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"Not a task definition ARN (arn:aws:ecs:REGION:ACCOUNT:"
           "task-definition/FAMILY:REVISION).\"]}");
    CREATE("{\"taskDefinition\": \":3\", \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"task definition names must contain only alphanumeric, "
           "underscore, and hyphen\"]}");
    /* an id is a name still */
    CREATE("{\"taskDefinition\": \"foo\", \"id\": \"foo:3\", \"schedule\": \"0\"}",
           "ERR {\"id\":[\"task definition names must contain only alphanumeric, "
           "underscore, and hyphen\"]}");
    CREATE("{\"taskDefinition\": 5, \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"Not a valid string.\"]}");
    CREATE("{\"taskDefinition\": null, \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"Field may not be null.\"]}");
    CREATE("{\"taskDefinition\": \"ok\", \"id\": \"\", \"schedule\": \"0\"}",
           "ERR {\"id\":[\"task definition names must contain only alphanumeric, underscore, "
           "and hyphen\"]}");
    CREATE("{\"id\": \"ok\", \"taskDefinition\": \"b@d\", \"schedule\": \"0\"}",
           "ERR {\"taskDefinition\":[\"task definition names must contain only alphanumeric, "
           "underscore, and hyphen\"]}");
}

static void test_schedule_messages(void)
{
    CREATE("{\"taskDefinition\": \"a\"}",
           "ERR {\"schedule\":[\"Missing data for required field.\"]}");
    CREATE("{\"taskDefinition\": \"a\", \"schedule\": 5}",
           "ERR {\"schedule\":[\"Not a valid string.\"]}");
    CREATE("{\"taskDefinition\": \"a\", \"schedule\": \"\"}",
           "ERR {\"schedule\":[\"Invalid schedule syntax: schedule is empty\"]}");
    CREATE("{\"taskDefinition\": \"a\", \"schedule\": \"0 61\"}",
           "ERR {\"schedule\":[\"Invalid schedule syntax: Error validating expression '61': the "
           "last value (61) is higher than the maximum value (59) (field \\\"minute\\\")\"]}");
    CREATE("{\"taskDefinition\": \"a\", \"schedule\": \"cron(0 12 * * ? *)\"}",
           "{\"id\":\"a\",\"schedule\":\"cron(0 12 * * ? *)\",\"taskCount\":1,"
           "\"taskDefinition\":\"a\"}");
}

static void test_integer_coercion(void)
{
    static const struct {
        const char *value;
        const char *want;
    } cases[] = {
        {"\"5\"", "5"}, {"\" 7 \"", "7"}, {"2.0", "2"}, {"2.7", "2"}, {"true", "1"}, {"50", "50"},
    };
    static const char *const bad[] = {"\"x\"", "\"1e1\"", "\"1.5\"", "[]", "{}"};
    char body[256];
    char want[256];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body), "{\"id\": \"a\", \"schedule\": \"0\", \"taskCount\": %s}",
                 cases[i].value);
        snprintf(want, sizeof(want), "{\"id\":\"a\",\"schedule\":\"0\",\"taskCount\":%s}",
                 cases[i].want);
        T_EQ_STR(check(body, NULL), want);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"id\": \"a\", \"schedule\": \"0\", \"maxCount\": %s}",
                 bad[i]);
        T_EQ_STR(check(body, NULL), "ERR {\"maxCount\":[\"Not a valid integer.\"]}");
    }
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"taskCount\": 0}",
           "ERR {\"taskCount\":[\"Must be between 1 and 50.\"]}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"maxCount\": 51}",
           "ERR {\"maxCount\":[\"Must be between 1 and 50.\"]}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"maxCount\": 1e300}",
           "ERR {\"maxCount\":[\"Must be between 1 and 50.\"]}");
    /* maxCount below taskCount is allowed: maxCount wins at run time */
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"taskCount\": 5, \"maxCount\": 2}",
           "{\"id\":\"a\",\"maxCount\":2,\"schedule\":\"0\",\"taskCount\":5}");
}

static void test_boolean_coercion(void)
{
    static const char *const truthy[] = {"true",     "1",        "1.0",      "\"t\"", "\"T\"",
                                         "\"true\"", "\"True\"", "\"TRUE\"", "\"1\""};
    static const char *const falsy[] = {"false", "0", "0.0", "\"f\"", "\"FALSE\"", "\"0\""};
    static const char *const bad[] = {"\"yes\"", "2", "[]", "\"\""};
    char body[256];
    size_t i;

    for (i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        snprintf(body, sizeof(body), "{\"id\": \"a\", \"schedule\": \"0\", \"suspended\": %s}",
                 truthy[i]);
        T_HAS_STR(check(body, NULL), "\"suspended\":true");
    }
    for (i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
        snprintf(body, sizeof(body), "{\"id\": \"a\", \"schedule\": \"0\", \"suspended\": %s}",
                 falsy[i]);
        T_HAS_STR(check(body, NULL), "\"suspended\":false");
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"id\": \"a\", \"schedule\": \"0\", \"suspended\": %s}",
                 bad[i]);
        T_EQ_STR(check(body, NULL), "ERR {\"suspended\":[\"Not a valid boolean.\"]}");
    }
}

static void test_datetimes(void)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"2017-01-01T00:00", "2017-01-01T00:00:00+00:00"},
        {"2017-1-2 3:04:05", "2017-01-02T03:04:05+00:00"},
        {"2030-01-01T00:00:00+02:00", "2030-01-01T00:00:00+02:00"},
        {"2030-01-01T00:00:00+0530", "2030-01-01T00:00:00+05:30"},
        {"2030-01-01T00:00:00-08", "2030-01-01T00:00:00-08:00"},
        {"2030-01-01T00:00:00Z", "2030-01-01T00:00:00+00:00"},
        {"2030-01-01T00:00:00.1234567Z", "2030-01-01T00:00:00.123456+00:00"},
    };
    char body[256];
    char want[256];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"id\": \"a\", \"schedule\": \"0\", \"scheduleStart\": \"%s\"}", cases[i].in);
        snprintf(want, sizeof(want), "\"scheduleStart\":\"%s\"", cases[i].out);
        T_HAS_STR(check(body, NULL), want);
    }
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"scheduleEnd\": \"2017-01-01\"}",
           "ERR {\"scheduleEnd\":[\"Not a valid datetime.\"]}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"scheduleEnd\": 5}",
           "ERR {\"scheduleEnd\":[\"Not a valid datetime.\"]}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"scheduleStart\": \"2030-01-02T00:00Z\", "
           "\"scheduleEnd\": \"2030-01-01T00:00Z\"}",
           "ERR {\"scheduleEnd\":[\"scheduleEnd must not be before scheduleStart.\"]}");
}

static void test_timezones(void)
{
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"timezone\": \"utc\"}",
           "{\"id\":\"a\",\"schedule\":\"0\",\"taskCount\":1,\"timezone\":\"utc\"}");
    T_HAS_STR(check("{\"id\": \"a\", \"schedule\": \"0\", \"timezone\": \"US/Pacific\"}", NULL),
              "\"timezone\":\"US/Pacific\"");
    T_HAS_STR(check("{\"id\": \"a\", \"schedule\": \"0\", \"timezone\": \"EST\"}", NULL),
              "\"timezone\":\"EST\"");
    T_HAS_STR(check("{\"id\": \"a\", \"schedule\": \"0\", \"timezone\": \"\"}", NULL),
              "\"timezone\":\"\"");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"timezone\": \"FOO\"}",
           "ERR {\"timezone\":[\"Invalid timezone format: FOO\"]}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"timezone\": \"../../etc/passwd\"}",
           "ERR {\"timezone\":[\"Invalid timezone format: ../../etc/passwd\"]}");
}

static void test_after(void)
{
    CREATE("{\"id\": \"b\", \"taskDefinition\": \"t\", \"after\": {\"job\": \"a\"}}",
           "{\"after\":{\"job\":\"a\",\"on\":\"success\"},\"id\":\"b\",\"taskCount\":1,"
           "\"taskDefinition\":\"t\"}");
    CREATE("{\"id\": \"b\", \"schedule\": \"0\", \"after\": {\"job\": \"a\", \"on\": "
           "\"completion\"}}",
           "{\"after\":{\"job\":\"a\",\"on\":\"completion\"},\"id\":\"b\",\"schedule\":\"0\","
           "\"taskCount\":1}");
    CREATE("{\"id\": \"b\", \"after\": {\"job\": \"b\"}}",
           "ERR {\"after\":{\"job\":[\"a job cannot run after itself\"]}}");
    CREATE("{\"id\": \"b\", \"after\": {\"job\": \"a b\", \"x\": 1}}",
           "ERR {\"after\":{\"job\":[\"job ids contain only alphanumeric, underscore, and "
           "hyphen\"],\"x\":[\"Unknown field.\"]}}");
    CREATE("{\"id\": \"b\", \"after\": {}}",
           "ERR {\"after\":{\"job\":[\"Missing data for required field.\"]}}");
    CREATE("{\"id\": \"b\"}", "ERR {\"schedule\":[\"Missing data for required field.\"]}");
}

static void test_trigger(void)
{
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueName\": "
           "\"q\", \"messagesPerTask\": 100}}",
           "{\"id\":\"a\",\"schedule\":\"0\",\"taskCount\":1,\"trigger\":{\"messagesPerTask\":100,"
           "\"queueName\":\"q\",\"type\":\"sqs\"}}");
    /* deliberate differences from the reference, which drops unknown keys
     * and runs unknown types as noop: both are named */
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueName\": "
           "\"q\", \"extra\": 1}}",
           "ERR {\"trigger\":{\"extra\":[\"Unknown field.\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"foo\"}}",
           "ERR {\"trigger\":{\"type\":[\"Unknown trigger type 'foo': known types are noop, "
           "sqs, s3.\"]}}");
    CREATE("{\"id\": \"a\", \"trigger\": {\"type\": \"s3\", \"bucket\": \"in-box\", \"prefix\": "
           "\"new/\", \"queueName\": \"q\"}}",
           "{\"id\":\"a\",\"taskCount\":1,\"trigger\":{\"bucket\":\"in-box\",\"prefix\":\"new/\","
           "\"queueName\":\"q\",\"type\":\"s3\"}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"s3\", \"bucket\": "
           "\"in-box\", \"queueName\": \"q\"}}",
           "ERR {\"schedule\":[\"A job with an s3 trigger starts a task per object, not on a "
           "schedule: leave schedule out.\"]}");
    CREATE("{\"id\": \"a\", \"trigger\": {\"type\": \"s3\", \"bucket\": \"arn:aws:s3:::B\"}}",
           "ERR {\"trigger\":{\"bucket\":[\"Not a bucket name: 3 to 63 lower-case letters, "
           "digits, '.' and '-'.\"]}}");
    CREATE("{\"id\": \"a\", \"trigger\": {\"type\": \"s3\", \"bucket\": \"b-1\"}}",
           "ERR {\"trigger\":{\"_schema\":[\"s3 trigger type requires queueName or queueUrl "
           "(the queue that receives the bucket's event notifications), not both\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"noop\"}}",
           "{\"id\":\"a\",\"schedule\":\"0\",\"taskCount\":1,\"trigger\":{\"type\":\"noop\"}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueUrl\": "
           "\"https://sqs.eu-west-1.amazonaws.com/1/q\", \"countInFlight\": \"true\"}}",
           "{\"id\":\"a\",\"schedule\":\"0\",\"taskCount\":1,\"trigger\":{\"countInFlight\":true,"
           "\"queueUrl\":\"https://sqs.eu-west-1.amazonaws.com/1/q\",\"type\":\"sqs\"}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueUrl\": "
           "\"q\"}}",
           "ERR {\"trigger\":{\"queueUrl\":[\"Not a queue URL: expected "
           "https://sqs.REGION.amazonaws.com/ACCOUNT/NAME.\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueName\": "
           "\"q\", \"queueUrl\": \"http://h/1/q\"}}",
           "ERR {\"trigger\":{\"_schema\":[\"give queueName or queueUrl, not both\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueName\": "
           "\"q\", \"countInFlight\": \"maybe\"}}",
           "ERR {\"trigger\":{\"countInFlight\":[\"Not a valid boolean.\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\"}}",
           "ERR {\"trigger\":{\"_schema\":[\"sqs trigger type requires queueName field\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueName\": "
           "\"\"}}",
           "{\"id\":\"a\",\"schedule\":\"0\",\"taskCount\":1,\"trigger\":{\"queueName\":\"\","
           "\"type\":\"sqs\"}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {}}",
           "ERR {\"trigger\":{\"type\":[\"Missing data for required field.\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": {\"type\": \"sqs\", \"queueName\": "
           "\"q\", \"messagesPerTask\": 0}}",
           "ERR {\"trigger\":{\"messagesPerTask\":[\"Must be at least 1.\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"trigger\": \"sqs\"}",
           "ERR {\"trigger\":[\"Not a valid mapping type.\"]}");
}

static void test_overrides(void)
{
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"overrides\": [{\"containerName\": \"c\", "
           "\"environment\": {\"SLEEP_SECONDS\": \"10\"}, \"command\": [\"run\", \"-v\"], \"cpu\": "
           "256, \"memory\": \"512\", \"junk\": 1}]}",
           "{\"id\":\"a\",\"overrides\":[{\"command\":[\"run\",\"-v\"],\"containerName\":\"c\","
           "\"cpu\":256,\"environment\":{\"SLEEP_SECONDS\":\"10\"},\"memory\":512}],\"schedule\":"
           "\"0\",\"taskCount\":1}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"overrides\": []}",
           "{\"id\":\"a\",\"overrides\":[],\"schedule\":\"0\",\"taskCount\":1}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"overrides\": {}}",
           "ERR {\"overrides\":[\"Not a valid list.\"]}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"overrides\": [{\"containerName\": \"c\"}, "
           "{\"environment\": []}, 5]}",
           "ERR {\"overrides\":{\"1\":{\"containerName\":[\"Missing data for required field.\"],"
           "\"environment\":[\"Not a valid mapping type.\"]},\"2\":{\"_schema\":[\"Invalid input "
           "type.\"]}}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"overrides\": [{\"containerName\": \"c\", "
           "\"environment\": {\"N\": 5}, \"command\": \"x\", \"cpu\": -1, \"memory\": 0}]}",
           "ERR {\"overrides\":{\"0\":{\"command\":[\"Not a valid list.\"],\"cpu\":[\"Must be at "
           "least 0.\"],\"environment\":[\"Value of 'N' is not a string.\"],\"memory\":[\"Must "
           "be at least 1.\"]}}}");
}

static void test_all_errors_together(void)
{
    CREATE("[]", "ERR {\"_schema\":[\"The request body must be a JSON object.\"]}");
    CREATE("{\"taskDefinition\": 1, \"schedule\": null, \"taskCount\": \"x\", \"suspended\": 2}",
           "ERR {\"schedule\":[\"Field may not be null.\"],\"suspended\":[\"Not a valid "
           "boolean.\"],\"taskCount\":[\"Not a valid integer.\"],\"taskDefinition\":[\"Not a "
           "valid string.\"]}");
}

static void test_run_policy_and_launch(void)
{
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"missedRuns\": \"skip\", "
           "\"startingDeadlineSeconds\": \"120\", \"runHistoryLimit\": 5}",
           "{\"id\":\"a\",\"missedRuns\":\"skip\",\"runHistoryLimit\":5,\"schedule\":\"0\","
           "\"startingDeadlineSeconds\":120,\"taskCount\":1}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"missedRuns\": \"all\", "
           "\"startingDeadlineSeconds\": 0, \"runHistoryLimit\": 10001}",
           "ERR {\"missedRuns\":[\"Must be one of: skip,once.\"],\"runHistoryLimit\":[\"Must be "
           "between 1 and 10000.\"],\"startingDeadlineSeconds\":[\"Must be between 1 and "
           "604800.\"]}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"launch\": {\"cluster\": \"prod\", "
           "\"launchType\": \"FARGATE\", \"networkConfiguration\": {\"awsvpcConfiguration\": "
           "{\"subnets\": [\"subnet-1\"], \"assignPublicIp\": \"ENABLED\"}}, \"tags\": "
           "[{\"key\": \"team\", \"value\": \"data\"}], \"enableECSManagedTags\": true}}",
           "{\"id\":\"a\",\"launch\":{\"cluster\":\"prod\",\"enableECSManagedTags\":true,"
           "\"launchType\":\"FARGATE\",\"networkConfiguration\":{\"awsvpcConfiguration\":{"
           "\"assignPublicIp\":\"ENABLED\",\"subnets\":[\"subnet-1\"]}},\"tags\":[{\"key\":"
           "\"team\",\"value\":\"data\"}]},\"schedule\":\"0\",\"taskCount\":1}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"launch\": {\"clustr\": \"x\", "
           "\"launchType\": \"fargate\", \"capacityProviderStrategy\": [{\"capacityProvider\": "
           "\"FARGATE_SPOT\", \"weight\": 1}], \"networkConfiguration\": {\"subnets\": []}}}",
           "ERR {\"launch\":{\"_schema\":[\"launchType and capacityProviderStrategy cannot both "
           "be set.\"],\"clustr\":[\"Unknown field.\"],\"launchType\":[\"Must be one of: "
           "EC2,FARGATE,EXTERNAL.\"],\"networkConfiguration\":[\"Must be "
           "{\\\"awsvpcConfiguration\\\": {\\\"subnets\\\": [...], ...}}.\"]}}");
    CREATE("{\"id\": \"a\", \"schedule\": \"0\", \"launch\": []}",
           "ERR {\"launch\":[\"Not a valid mapping type.\"]}");
}

/* ECS allows 50 tags a task and ecsched adds two: a job may set 48. */
static void test_launch_tags_limit(void)
{
    char body[4096];
    size_t len;
    int i;

    len = (size_t)snprintf(body, sizeof(body),
                           "{\"id\": \"a\", \"schedule\": \"0\", \"launch\": {\"tags\": [");
    for (i = 0; i < 49; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "%s{\"key\": \"k%d\"}",
                                i > 0 ? ", " : "", i);
    snprintf(body + len, sizeof(body) - len, "]}}");
    CREATE(body, "ERR {\"launch\":{\"tags\":[\"Must be a list of at most 48 objects.\"]}}");
    /* drop the last: 48 are fine */
    snprintf(strrchr(body, ','), sizeof(body) - (size_t)(strrchr(body, ',') - body), "]}}");
    T_TRUE(strncmp(check(body, NULL), "ERR", 3) != 0);
}

static void test_update_merges(void)
{
    static const char *stored =
        "{\"id\":\"a\",\"schedule\":\"0 0 10\",\"taskCount\":2,\"taskDefinition\":\"mid\","
        "\"trigger\":{\"type\":\"sqs\",\"queueName\":\"q\",\"messagesPerTask\":5}}";

    UPDATE(stored, "{}",
           "{\"id\":\"a\",\"schedule\":\"0 0 10\",\"taskCount\":2,"
           "\"taskDefinition\":\"mid\",\"trigger\":{\"messagesPerTask\":5,"
           "\"queueName\":\"q\",\"type\":\"sqs\"}}");
    /* id ignored, taskCount not reset, trigger replaced wholesale */
    UPDATE(stored,
           "{\"id\": \"b\", \"maxCount\": 10, \"taskDefinition\": \"other\", "
           "\"trigger\": {\"type\": \"noop\"}}",
           "{\"id\":\"a\",\"maxCount\":10,\"schedule\":\"0 0 10\",\"taskCount\":2,"
           "\"taskDefinition\":\"other\",\"trigger\":{\"type\":\"noop\"}}");
    /* atomic: one bad field rejects the whole update */
    UPDATE(stored, "{\"maxCount\": 10, \"taskCount\": 99}",
           "ERR {\"taskCount\":[\"Must be between 1 and 50.\"]}");
    /* no field can be removed */
    UPDATE(stored, "{\"trigger\": null}", "ERR {\"trigger\":[\"Field may not be null.\"]}");
    /* a new '?' is resolved again */
    T_TRUE(strchr(check("{\"schedule\": \"? 5\"}", stored), '?') == NULL);
    /* the window is checked with the merged values */
    UPDATE("{\"id\":\"a\",\"schedule\":\"0\",\"taskCount\":1,\"scheduleStart\":"
           "\"2030-01-02T00:00:00+00:00\"}",
           "{\"scheduleEnd\": \"2030-01-01T00:00Z\"}",
           "ERR {\"scheduleEnd\":[\"scheduleEnd must not be before scheduleStart.\"]}");
}

static void test_api_representation(void)
{
    json_error_t e;
    json_t *job = json_loads("{\"id\":\"sleeper-task\",\"schedule\":\"9 */5\",\"taskCount\":1,"
                             "\"taskDefinition\":\"sleeper-task\"}",
                             0, &e);
    json_t *rt = json_pack("{s:s}", "estimatedNextRun", "2030-01-01T00:00:00+00:00");
    json_t *api = job_to_api(job, rt);
    char *text = json_dumps(api, JSON_SORT_KEYS | JSON_COMPACT);

    T_EQ_STR(text, "{\"estimatedNextRun\":\"2030-01-01T00:00:00+00:00\",\"id\":\"sleeper-task\","
                   "\"link\":{\"href\":\"/jobs/sleeper-task\",\"rel\":\"item\",\"title\":\"Job "
                   "for sleeper-task\"},\"schedule\":\"9 */5\",\"taskCount\":1,\"taskDefinition\":"
                   "\"sleeper-task\"}");
    free(text);
    json_decref(api);
    json_decref(rt);
    json_decref(job);
}

static time_t next_run_of(const char *job_text, time_t now)
{
    json_error_t e;
    json_t *job = json_loads(job_text, 0, &e);
    struct tz *zone = NULL;
    char msg[256];
    time_t next = 0;
    int rc = tz_load(job_zone_name(job), &zone, msg, sizeof(msg));

    if (rc == 0)
        rc = job_next_run(job, zone, now, &next, msg, sizeof(msg));
    tz_free(&zone);
    json_decref(job);
    return rc == 0 ? next : (time_t)rc;
}

static void test_next_run(void)
{
    /* 2026-01-01T00:00:00Z = 1767225600 */
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"0 0 9\"}", 1767225600), 1767258000);
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"0 0 9\",\"timezone\":\"America/New_York\"}",
                         1767225600),
             1767276000);
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"0 0 9\",\"suspended\":true}", 1767225600),
             ECS_ENEVER);
    /* at or after the start: a fire time equal to the start counts */
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"0 0 9\",\"scheduleStart\":"
                         "\"2026-02-01T09:00:00+00:00\"}",
                         1767225600),
             1769936400);
    /* the end is inclusive */
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"0 0 9\",\"scheduleEnd\":"
                         "\"2026-01-01T09:00:00+00:00\"}",
                         1767225600),
             1767258000);
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"0 0 9\",\"scheduleEnd\":"
                         "\"2026-01-01T08:59:59+00:00\"}",
                         1767225600),
             ECS_ENEVER);
    /* @manual: never on its own */
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"@manual\"}", 1767225600), ECS_ENEVER);
    /* rate() counts from scheduleStart */
    T_EQ_INT(next_run_of("{\"id\":\"a\",\"schedule\":\"rate(7 minutes)\",\"scheduleStart\":"
                         "\"2026-01-01T00:01:00+00:00\"}",
                         1767225600 + 3600),
             1767225600 + 60 + 9 * 420);
}

static const struct test_case cases[] = {
    {"run_policy_and_launch", test_run_policy_and_launch},
    {"launch_tags_limit", test_launch_tags_limit},
    {"create_minimal", test_create_minimal},
    {"random_resolved_once", test_random_resolved_once},
    {"names", test_names},
    {"schedule_messages", test_schedule_messages},
    {"integer_coercion", test_integer_coercion},
    {"boolean_coercion", test_boolean_coercion},
    {"datetimes", test_datetimes},
    {"timezones", test_timezones},
    {"trigger", test_trigger},
    {"after", test_after},
    {"overrides", test_overrides},
    {"all_errors_together", test_all_errors_together},
    {"update_merges", test_update_merges},
    {"api_representation", test_api_representation},
    {"next_run", test_next_run},
};

TEST_MAIN("job", cases)
