/* job.c - validate and normalise jobs exactly as ECS Scheduler's API does
 * (marshmallow 2 coercions and messages, contract sections 1.10 and 2),
 * with the deliberate fixes of section 10: schedule errors under
 * "schedule", JSON errors for wrong-typed trigger/overrides, one message
 * per problem, scheduleEnd not before scheduleStart. */
#include "job.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "isotime.h"
#include "tz.h"

#include "core/messages.h"
#include "trigger/trigger.h"
#define NAME_MAX_LEN 255
#define COUNT_MAX 50
/* Integers beyond this are out of every range we check, whatever sign. */
#define INT_SATURATE 1000000000000LL

/* One validation pass: the job being built and the errors found. */
struct val {
    json_t *out;
    json_t *errors;
    bool oom;
    const struct job_ctx *ctx;
};

static void add_error_to(struct val *v, json_t *errors, const char *key, const char *msg)
{
    json_t *list = json_object_get(errors, key);

    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(errors, key, list) != 0) {
            v->oom = true;
            return;
        }
    }
    if (json_array_append_new(list, json_string(msg)) != 0)
        v->oom = true;
}

static void add_error(struct val *v, const char *key, const char *msg)
{
    add_error_to(v, v->errors, key, msg);
}

/* A nested error object errors[key], created on first use. */
static json_t *error_object(struct val *v, json_t *errors, const char *key)
{
    json_t *o = json_object_get(errors, key);

    if (o == NULL) {
        o = json_object();
        if (o == NULL || json_object_set_new(errors, key, o) != 0) {
            v->oom = true;
            return NULL;
        }
    }
    return o;
}

static void set_field(struct val *v, json_t *obj, const char *key, json_t *value)
{
    if (value == NULL || json_object_set_new(obj, key, value) != 0)
        v->oom = true;
}

/* ------------------------------------------------------------------ */
/* marshmallow 2 coercions                                             */

int job_int_from_text(const char *s, long long *out)
{
    long long value = 0;
    int sign = 1;
    int digits = 0;

    while (isspace((unsigned char)*s))
        s++;
    if (*s == '+' || *s == '-') {
        if (*s == '-')
            sign = -1;
        s++;
    }
    while (isdigit((unsigned char)*s)) {
        if (value < INT_SATURATE)
            value = value * 10 + (*s - '0');
        s++;
        digits++;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (digits == 0 || *s != '\0')
        return -1;
    *out = sign * value;
    return 0;
}

/* Integer: ints, reals truncated toward zero (2.7 -> 2), booleans, and
 * strings Python's int() reads; -1 otherwise. */
int job_coerce_int(const json_t *j, long long *out)
{
    if (json_is_integer(j)) {
        json_int_t i = json_integer_value(j);

        *out = i > INT_SATURATE ? INT_SATURATE : (i < -INT_SATURATE ? -INT_SATURATE : i);
        return 0;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);

        if (!isfinite(d))
            return -1;
        if (d > (double)INT_SATURATE)
            d = (double)INT_SATURATE;
        if (d < -(double)INT_SATURATE)
            d = -(double)INT_SATURATE;
        *out = (long long)d;
        return 0;
    }
    if (json_is_boolean(j)) {
        *out = json_is_true(j) ? 1 : 0;
        return 0;
    }
    if (json_is_string(j))
        return job_int_from_text(json_string_value(j), out);
    return -1;
}

/* Boolean: true/false, 1/0 (and 1.0/0.0), and the strings marshmallow 2
 * knows; -1 otherwise. */
int job_coerce_bool(const json_t *j, bool *out)
{
    static const char *const truthy[] = {"t", "T", "true", "True", "TRUE", "1", NULL};
    static const char *const falsy[] = {"f", "F", "false", "False", "FALSE", "0", NULL};
    int i;

    if (json_is_boolean(j)) {
        *out = json_is_true(j);
        return 0;
    }
    if (json_is_number(j)) {
        double d = json_number_value(j);

        if (d == 1.0 || d == 0.0) {
            *out = d == 1.0;
            return 0;
        }
        return -1;
    }
    if (!json_is_string(j))
        return -1;
    for (i = 0; truthy[i] != NULL; i++) {
        if (strcmp(json_string_value(j), truthy[i]) == 0) {
            *out = true;
            return 0;
        }
    }
    for (i = 0; falsy[i] != NULL; i++) {
        if (strcmp(json_string_value(j), falsy[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* The value of key in body, or NULL when absent; a JSON null is reported
 * ("Field may not be null.") and also yields NULL. */
static const json_t *field(struct val *v, json_t *errors, const json_t *body, const char *key,
                           bool *present)
{
    const json_t *j = json_object_get(body, key);

    *present = j != NULL;
    if (j != NULL && json_is_null(j)) {
        add_error_to(v, errors, key, MSG_NULL);
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------------ */
/* Fields                                                              */

static bool name_valid(const char *s)
{
    size_t i;

    if (s[0] == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    }
    return true;
}

/* id or taskDefinition: a string of [0-9A-Za-z_-]; NULL when invalid. */
static const char *name_field(struct val *v, const json_t *body, const char *key, bool *present)
{
    const json_t *j = field(v, v->errors, body, key, present);
    const char *s;

    if (j == NULL)
        return NULL;
    if (!json_is_string(j)) {
        add_error(v, key, MSG_STRING);
        return NULL;
    }
    s = json_string_value(j);
    if (strlen(s) > NAME_MAX_LEN) {
        add_error(v, key, MSG_NAME_LONG);
        return NULL;
    }
    if (!name_valid(s)) {
        add_error(v, key, MSG_NAME);
        return NULL;
    }
    return s;
}

static void check_names(struct val *v, const json_t *body, bool create)
{
    bool td_present;
    bool id_present;
    const char *td = name_field(v, body, "taskDefinition", &td_present);
    const char *id = NULL;

    if (td != NULL)
        set_field(v, v->out, "taskDefinition", json_string(td));
    if (!create)
        return; /* a job cannot be renamed: `id` in an update is ignored */
    id = name_field(v, body, "id", &id_present);
    if (id_present) {
        if (id != NULL)
            set_field(v, v->out, "id", json_string(id));
        return;
    }
    if (td != NULL)
        set_field(v, v->out, "id", json_string(td));
    else if (!td_present)
        add_error(v, "taskDefinition", MSG_MISSING);
}

static void check_schedule(struct val *v, const json_t *body, bool create)
{
    bool present;
    const json_t *j = field(v, v->errors, body, "schedule", &present);
    struct schedule *s = NULL;
    char *resolved = NULL;
    char msg[512];
    char text[600];

    if (!present) {
        /* a pipeline step may run only after its upstream */
        if (create && json_object_get(body, "after") == NULL && !trigger_is_s3(body))
            add_error(v, "schedule", MSG_MISSING);
        return;
    }
    if (j == NULL)
        return;
    if (!json_is_string(j)) {
        add_error(v, "schedule", MSG_STRING);
        return;
    }
    if (schedule_resolve_random(json_string_value(j), v->ctx != NULL ? v->ctx->rand : NULL,
                                v->ctx != NULL ? v->ctx->rand_ctx : NULL, &resolved, msg,
                                sizeof(msg)) != 0) {
        v->oom = true;
        return;
    }
    if (schedule_parse(resolved, NULL, &s, msg, sizeof(msg)) != 0) {
        snprintf(text, sizeof(text), "Invalid schedule syntax: %s", msg);
        add_error(v, "schedule", text);
    } else {
        set_field(v, v->out, "schedule", json_string(resolved));
    }
    schedule_free(&s);
    free(resolved);
}

static void check_count(struct val *v, const json_t *body, const char *key)
{
    bool present;
    const json_t *j = field(v, v->errors, body, key, &present);
    long long n;

    if (j == NULL)
        return;
    if (job_coerce_int(j, &n) != 0) {
        add_error(v, key, MSG_INTEGER);
        return;
    }
    if (n < 1 || n > COUNT_MAX) {
        add_error(v, key, MSG_COUNT_RANGE);
        return;
    }
    set_field(v, v->out, key, json_integer(n));
}

/* Python's isoformat(): the time as given, its offset kept (+00:00 when
 * none), microseconds only when not zero. */
static void iso_echo(const struct isotime *t, char *buf, size_t len)
{
    char base[48];
    size_t cut;

    isotime_format(t->wall - t->offset, t->offset, base, sizeof(base));
    if (t->usec == 0) {
        snprintf(buf, len, "%s", base);
        return;
    }
    cut = 19; /* YYYY-MM-DDTHH:MM:SS */
    snprintf(buf, len, "%.*s.%06d%s", (int)cut, base, (int)t->usec, base + cut);
}

static void check_datetime(struct val *v, const json_t *body, const char *key)
{
    bool present;
    const json_t *j = field(v, v->errors, body, key, &present);
    struct isotime t;
    char buf[64];
    char msg[256];

    if (j == NULL)
        return;
    if (!json_is_string(j) || isotime_parse(json_string_value(j), &t, msg, sizeof(msg)) != 0) {
        add_error(v, key, MSG_DATETIME);
        return;
    }
    iso_echo(&t, buf, sizeof(buf));
    set_field(v, v->out, key, json_string(buf));
}

/* The instant of a stored datetime field, or 0 when absent. */
static int stored_instant(const json_t *job, const char *key, int64_t *out)
{
    const json_t *j = json_object_get(job, key);
    struct isotime t;
    char msg[256];

    if (!json_is_string(j) || isotime_parse(json_string_value(j), &t, msg, sizeof(msg)) != 0)
        return -1;
    *out = isotime_instant(&t, NULL);
    return 0;
}

static void check_timezone(struct val *v, const json_t *body)
{
    bool present;
    const json_t *j = field(v, v->errors, body, "timezone", &present);
    struct tz *zone = NULL;
    char msg[256];
    char text[320];

    if (j == NULL)
        return;
    if (!json_is_string(j)) {
        add_error(v, "timezone", MSG_STRING);
        return;
    }
    if (tz_load(json_string_value(j), &zone, msg, sizeof(msg)) != 0) {
        snprintf(text, sizeof(text), "Invalid timezone format: %.256s", json_string_value(j));
        add_error(v, "timezone", text);
        return;
    }
    tz_free(&zone);
    /* stored as written: "" means UTC and is echoed as "" */
    set_field(v, v->out, "timezone", json_string(json_string_value(j)));
}

static void check_suspended(struct val *v, const json_t *body)
{
    bool present;
    const json_t *j = field(v, v->errors, body, "suspended", &present);
    bool b;

    if (j == NULL)
        return;
    if (job_coerce_bool(j, &b) != 0) {
        add_error(v, "suspended", MSG_BOOLEAN);
        return;
    }
    set_field(v, v->out, "suspended", json_boolean(b));
}

static void check_trigger(struct val *v, const json_t *body)
{
    bool present;
    const json_t *j = field(v, v->errors, body, "trigger", &present);
    json_t *errs;
    json_t *t;
    const json_t *type;

    if (j == NULL)
        return;
    if (!json_is_object(j)) {
        add_error(v, "trigger", MSG_MAPPING);
        return;
    }
    errs = json_object();
    t = json_object();
    if (errs == NULL || t == NULL) {
        json_decref(errs);
        json_decref(t);
        v->oom = true;
        return;
    }
    type = field(v, errs, j, "type", &present);
    if (!present)
        add_error_to(v, errs, "type", MSG_MISSING);
    else if (type != NULL && !json_is_string(type))
        add_error_to(v, errs, "type", MSG_STRING);
    else if (type != NULL)
        trigger_validate(j, t, errs);
    if (json_object_size(errs) > 0) {
        set_field(v, v->errors, "trigger", errs);
        json_decref(t);
        return;
    }
    json_decref(errs);
    set_field(v, v->out, "trigger", t);
}

static void check_environment(struct val *v, json_t *errs, const json_t *env, json_t *o)
{
    const char *k;
    const json_t *val;
    char text[320];

    if (!json_is_object(env)) {
        add_error_to(v, errs, "environment", MSG_MAPPING);
        return;
    }
    /* ECS takes strings only: say so now rather than fail every run */
    json_object_foreach((json_t *)env, k, val) {
        if (!json_is_string(val)) {
            snprintf(text, sizeof(text), "Value of '%.256s' is not a string.", k);
            add_error_to(v, errs, "environment", text);
        }
    }
    if (json_object_get(errs, "environment") == NULL)
        set_field(v, o, "environment", json_deep_copy(env));
}

static void check_command(struct val *v, json_t *errs, const json_t *cmd, json_t *o)
{
    size_t i;
    const json_t *item;

    if (!json_is_array(cmd)) {
        add_error_to(v, errs, "command", MSG_LIST);
        return;
    }
    json_array_foreach(cmd, i, item) {
        if (!json_is_string(item)) {
            add_error_to(v, errs, "command", MSG_STRING);
            return;
        }
    }
    set_field(v, o, "command", json_deep_copy(cmd));
}

static void check_resource(struct val *v, json_t *errs, const json_t *item, const char *key,
                           long long min, json_t *o)
{
    bool present;
    const json_t *j = field(v, errs, item, key, &present);
    long long n;

    if (j == NULL)
        return;
    if (job_coerce_int(j, &n) != 0) {
        add_error_to(v, errs, key, MSG_INTEGER);
        return;
    }
    if (n < min) {
        add_error_to(v, errs, key, min == 0 ? MSG_AT_LEAST_0 : MSG_AT_LEAST_1);
        return;
    }
    set_field(v, o, key, json_integer(n));
}

/* One override; returns the normalised object, or NULL with errors in
 * errs. */
static json_t *check_override(struct val *v, json_t *errs, const json_t *item)
{
    json_t *o = json_object();
    bool present;
    const json_t *j;

    if (o == NULL) {
        v->oom = true;
        return NULL;
    }
    j = field(v, errs, item, "containerName", &present);
    if (!present)
        add_error_to(v, errs, "containerName", MSG_MISSING);
    else if (j != NULL && !json_is_string(j))
        add_error_to(v, errs, "containerName", MSG_STRING);
    else if (j != NULL)
        set_field(v, o, "containerName", json_string(json_string_value(j)));
    j = field(v, errs, item, "environment", &present);
    if (j != NULL)
        check_environment(v, errs, j, o);
    j = field(v, errs, item, "command", &present);
    if (j != NULL)
        check_command(v, errs, j, o);
    check_resource(v, errs, item, "cpu", 0, o);
    check_resource(v, errs, item, "memory", 1, o);
    if (json_object_size(errs) > 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void check_overrides(struct val *v, const json_t *body)
{
    bool present;
    const json_t *j = field(v, v->errors, body, "overrides", &present);
    json_t *list;
    json_t *errs = NULL;
    const json_t *item;
    size_t i;

    if (j == NULL)
        return;
    if (!json_is_array(j)) {
        add_error(v, "overrides", MSG_LIST);
        return;
    }
    list = json_array();
    if (list == NULL) {
        v->oom = true;
        return;
    }
    json_array_foreach(j, i, item) {
        char key[24];
        json_t *ie;
        json_t *o;

        snprintf(key, sizeof(key), "%zu", i);
        ie = json_object();
        if (ie == NULL) {
            v->oom = true;
            break;
        }
        if (!json_is_object(item)) {
            add_error_to(v, ie, "_schema", MSG_INPUT_TYPE);
            o = NULL;
        } else {
            o = check_override(v, ie, item);
        }
        if (o == NULL) {
            if (errs == NULL)
                errs = error_object(v, v->errors, "overrides");
            if (errs != NULL)
                set_field(v, errs, key, ie);
            else
                json_decref(ie);
            continue;
        }
        json_decref(ie);
        if (json_array_append_new(list, o) != 0)
            v->oom = true;
    }
    if (errs != NULL) {
        json_decref(list);
        return;
    }
    set_field(v, v->out, "overrides", list);
}

/* An integer field in [min, max] (beyond the seed: missed-run and history
 * settings). */
static void check_bounded(struct val *v, const json_t *body, const char *key, long long min,
                          long long max)
{
    bool present;
    const json_t *j = field(v, v->errors, body, key, &present);
    long long n;
    char text[96];

    if (j == NULL)
        return;
    if (job_coerce_int(j, &n) != 0) {
        add_error(v, key, MSG_INTEGER);
        return;
    }
    if (n < min || n > max) {
        snprintf(text, sizeof(text), "Must be between %lld and %lld.", min, max);
        add_error(v, key, text);
        return;
    }
    set_field(v, v->out, key, json_integer(n));
}

/* A string that must be one of `choices` ("a|b|c"); the message names
 * them. Returns whether it was. */
static bool one_of(struct val *v, json_t *errors, const char *key, const json_t *j,
                   const char *choices)
{
    const char *s = json_string_value(j);
    const char *p = choices;
    size_t len;
    char text[160];

    if (s == NULL) {
        add_error_to(v, errors, key, MSG_STRING);
        return false;
    }
    len = strlen(s);
    while (*p != '\0') {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);

        if (n == len && strncmp(p, s, n) == 0)
            return true;
        p += n;
        if (*p == '|')
            p++;
    }
    snprintf(text, sizeof(text), "Must be one of: %s.", choices);
    for (p = text; *p != '\0'; p++) {
        if (*p == '|')
            text[p - text] = ',';
    }
    add_error_to(v, errors, key, text);
    return false;
}

static void check_missed(struct val *v, const json_t *body)
{
    bool present;
    const json_t *j = field(v, v->errors, body, "missedRuns", &present);

    if (j != NULL && one_of(v, v->errors, "missedRuns", j, "skip|once"))
        set_field(v, v->out, "missedRuns", json_deep_copy(j));
}

static bool strings(const json_t *j, size_t min, size_t max)
{
    size_t i;
    const json_t *item;

    if (!json_is_array(j) || json_array_size(j) < min || json_array_size(j) > max)
        return false;
    json_array_foreach(j, i, item) {
        if (!json_is_string(item) || json_string_length(item) == 0)
            return false;
    }
    return true;
}

static void check_network(struct val *v, json_t *errs, const json_t *j)
{
    const json_t *vpc = json_object_get(j, "awsvpcConfiguration");
    const json_t *ip;

    if (!json_is_object(j) || json_object_size(j) != 1 || !json_is_object(vpc)) {
        add_error_to(v, errs, "networkConfiguration",
                     "Must be {\"awsvpcConfiguration\": {\"subnets\": [...], ...}}.");
        return;
    }
    if (!strings(json_object_get(vpc, "subnets"), 1, 16))
        add_error_to(v, errs, "networkConfiguration",
                     "awsvpcConfiguration.subnets must list 1 to 16 subnet ids.");
    if (json_object_get(vpc, "securityGroups") != NULL &&
        !strings(json_object_get(vpc, "securityGroups"), 0, 5))
        add_error_to(v, errs, "networkConfiguration",
                     "awsvpcConfiguration.securityGroups must list at most 5 group ids.");
    ip = json_object_get(vpc, "assignPublicIp");
    if (ip != NULL)
        one_of(v, errs, "networkConfiguration", ip, "ENABLED|DISABLED");
}

/* A list of {keyA: string, ...} objects whose listed keys are strings
 * (required) or integers (optional), as ECS's tags and capacity provider
 * strategies are. */
static void check_object_list(struct val *v, json_t *errs, const char *key, const json_t *j,
                              const char *required, const char *const *optional_ints, size_t max)
{
    size_t i;
    const json_t *item;
    char text[160];

    if (!json_is_array(j) || json_array_size(j) > max) {
        snprintf(text, sizeof(text), "Must be a list of at most %zu objects.", max);
        add_error_to(v, errs, key, text);
        return;
    }
    json_array_foreach(j, i, item) {
        const char *k;
        const json_t *val;

        if (!json_is_object(item) || !json_is_string(json_object_get(item, required))) {
            snprintf(text, sizeof(text), "Item %zu needs a string \"%s\".", i, required);
            add_error_to(v, errs, key, text);
            return;
        }
        json_object_foreach((json_t *)item, k, val) {
            size_t o;
            bool known = strcmp(k, required) == 0;

            for (o = 0; optional_ints[o] != NULL && !known; o++) {
                if (strcmp(k, optional_ints[o]) == 0)
                    known = true;
            }
            if (!known ||
                (strcmp(k, required) != 0 && !json_is_string(val) && !json_is_integer(val))) {
                snprintf(text, sizeof(text), "Item %zu: unexpected \"%.64s\".", i, k);
                add_error_to(v, errs, key, text);
                return;
            }
        }
    }
}

/* `launch`: RunTask settings of this job, in ECS's own names, checked here
 * so that a typo is a 400 now rather than a failed launch at 3 a.m. */
static void check_launch(struct val *v, const json_t *body)
{
    static const char *const tag_optional[] = {"value", NULL};
    static const char *const cp_optional[] = {"weight", "base", NULL};
    bool present;
    const json_t *j = field(v, v->errors, body, "launch", &present);
    json_t *errs;
    const char *k;
    const json_t *val;

    if (j == NULL)
        return;
    if (!json_is_object(j)) {
        add_error(v, "launch", MSG_MAPPING);
        return;
    }
    errs = json_object();
    if (errs == NULL) {
        v->oom = true;
        return;
    }
    json_object_foreach((json_t *)j, k, val) {
        if (strcmp(k, "cluster") == 0 || strcmp(k, "platformVersion") == 0 ||
            strcmp(k, "group") == 0) {
            if (!json_is_string(val) || json_string_length(val) == 0)
                add_error_to(v, errs, k, MSG_STRING);
        } else if (strcmp(k, "launchType") == 0) {
            one_of(v, errs, k, val, "EC2|FARGATE|EXTERNAL");
        } else if (strcmp(k, "propagateTags") == 0) {
            one_of(v, errs, k, val, "TASK_DEFINITION|SERVICE|NONE");
        } else if (strcmp(k, "enableECSManagedTags") == 0) {
            if (!json_is_boolean(val))
                add_error_to(v, errs, k, MSG_BOOLEAN);
        } else if (strcmp(k, "networkConfiguration") == 0) {
            check_network(v, errs, val);
        } else if (strcmp(k, "tags") == 0) {
            /* ECS allows 50 tags a task; ecsched adds ecsched:job and
             * ecsched:run */
            check_object_list(v, errs, k, val, "key", tag_optional, 48);
        } else if (strcmp(k, "capacityProviderStrategy") == 0) {
            check_object_list(v, errs, k, val, "capacityProvider", cp_optional, 6);
        } else {
            add_error_to(v, errs, k, "Unknown field.");
        }
    }
    if (json_object_get(j, "launchType") != NULL &&
        json_object_get(j, "capacityProviderStrategy") != NULL)
        add_error_to(v, errs, "_schema",
                     "launchType and capacityProviderStrategy cannot both be set.");
    if (json_object_size(errs) > 0) {
        set_field(v, v->errors, "launch", errs);
        return;
    }
    json_decref(errs);
    set_field(v, v->out, "launch", json_deep_copy(j));
}

/* after: {"job": ID, "on": "success" | "failure" | "completion"}: run when
 * a run of job ID ends that way. Cycles longer than one job need the
 * store and are found by the API (src/api/pipeline.c). */
static void check_after(struct val *v, const json_t *body)
{
    bool present;
    const json_t *j = field(v, v->errors, body, "after", &present);
    const json_t *up;
    const json_t *on;
    const char *k;
    const json_t *val;
    json_t *errs;
    json_t *out;

    if (j == NULL)
        return;
    if (!json_is_object(j)) {
        add_error(v, "after", MSG_MAPPING);
        return;
    }
    errs = json_object();
    out = json_object();
    if (errs == NULL || out == NULL) {
        json_decref(errs);
        json_decref(out);
        v->oom = true;
        return;
    }
    up = field(v, errs, j, "job", &present);
    if (!present)
        add_error_to(v, errs, "job", MSG_MISSING);
    else if (up != NULL && !json_is_string(up))
        add_error_to(v, errs, "job", MSG_STRING);
    else if (up != NULL && !name_valid(json_string_value(up)))
        add_error_to(v, errs, "job", "job ids contain only alphanumeric, underscore, and hyphen");
    else if (up != NULL)
        json_object_set_new(out, "job", json_string(json_string_value(up)));
    on = field(v, errs, j, "on", &present);
    if (on != NULL)
        one_of(v, errs, "on", on, "success|failure|completion");
    json_object_set_new(out, "on",
                        json_string(json_is_string(on) ? json_string_value(on) : "success"));
    json_object_foreach((json_t *)j, k, val) {
        if (strcmp(k, "job") != 0 && strcmp(k, "on") != 0)
            add_error_to(v, errs, k, MSG_UNKNOWN_FIELD);
    }
    if (json_object_size(errs) == 0 && json_is_string(json_object_get(v->out, "id")) &&
        json_equal(json_object_get(v->out, "id"), json_object_get(out, "job")))
        add_error_to(v, errs, "job", "a job cannot run after itself");
    if (json_object_size(errs) > 0) {
        set_field(v, v->errors, "after", errs);
        json_decref(out);
        return;
    }
    json_decref(errs);
    set_field(v, v->out, "after", out);
}

/* scheduleEnd before scheduleStart, with the merged values; an s3 job's
 * tasks start on objects, so it has no schedule. */
static void check_window(struct val *v)
{
    if (json_object_get(v->errors, "trigger") == NULL &&
        json_object_get(v->errors, "schedule") == NULL && trigger_is_s3(v->out) &&
        json_object_get(v->out, "schedule") != NULL)
        add_error(v, "schedule",
                  "A job with an s3 trigger starts a task per object, not on a "
                  "schedule: leave schedule out.");
    int64_t start;
    int64_t end;

    if (json_object_get(v->errors, "scheduleStart") != NULL ||
        json_object_get(v->errors, "scheduleEnd") != NULL)
        return;
    if (stored_instant(v->out, "scheduleStart", &start) != 0 ||
        stored_instant(v->out, "scheduleEnd", &end) != 0)
        return;
    if (end < start)
        add_error(v, "scheduleEnd", MSG_END_BEFORE_START);
}

int job_validate(const json_t *body, const json_t *existing, const struct job_ctx *ctx,
                 json_t **out, json_t **errors)
{
    struct val v;
    bool create = existing == NULL;

    v.out = create ? json_object() : json_deep_copy(existing);
    v.errors = json_object();
    v.oom = false;
    v.ctx = ctx;
    if (v.out == NULL || v.errors == NULL) {
        json_decref(v.out);
        json_decref(v.errors);
        return ECS_ENOMEM;
    }
    if (!json_is_object(body)) {
        add_error(&v, "_schema", "The request body must be a JSON object.");
    } else {
        check_names(&v, body, create);
        check_schedule(&v, body, create);
        check_count(&v, body, "taskCount");
        check_count(&v, body, "maxCount");
        check_datetime(&v, body, "scheduleStart");
        check_datetime(&v, body, "scheduleEnd");
        check_timezone(&v, body);
        check_suspended(&v, body);
        check_trigger(&v, body);
        check_overrides(&v, body);
        check_missed(&v, body);
        check_bounded(&v, body, "startingDeadlineSeconds", 1, 7 * 86400);
        check_bounded(&v, body, "runHistoryLimit", 1, 10000);
        check_launch(&v, body);
        check_after(&v, body);
        check_window(&v);
        if (create && json_object_get(v.out, "taskCount") == NULL &&
            json_object_get(v.errors, "taskCount") == NULL)
            set_field(&v, v.out, "taskCount", json_integer(1));
    }
    if (v.oom) {
        json_decref(v.out);
        json_decref(v.errors);
        return ECS_ENOMEM;
    }
    if (json_object_size(v.errors) > 0) {
        json_decref(v.out);
        *errors = v.errors;
        return ECS_EINVAL;
    }
    json_decref(v.errors);
    *out = v.out;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Representation and next run                                         */

json_t *job_to_api(const json_t *job, const json_t *runtime)
{
    const char *id = json_string_value(json_object_get(job, "id"));
    json_t *api = json_deep_copy(job);
    json_t *link;
    char href[NAME_MAX_LEN + 8];
    char title[NAME_MAX_LEN + 16];

    if (api == NULL || id == NULL) {
        json_decref(api);
        return NULL;
    }
    snprintf(href, sizeof(href), "/jobs/%s", id);
    snprintf(title, sizeof(title), "Job for %s", id);
    link = json_pack("{s:s, s:s, s:s}", "rel", "item", "title", title, "href", href);
    if (link == NULL || json_object_set_new(api, "link", link) != 0) {
        json_decref(api);
        return NULL;
    }
    if (runtime != NULL && json_object_update(api, (json_t *)runtime) != 0) {
        json_decref(api);
        return NULL;
    }
    return api;
}

const char *job_zone_name(const json_t *job)
{
    return json_string_value(json_object_get(job, "timezone"));
}

int job_plan_init(struct job_plan *p, const json_t *job, const struct tz *zone, char *msg,
                  size_t msglen)
{
    const char *expr = json_string_value(json_object_get(job, "schedule"));

    memset(p, 0, sizeof(*p));
    if (json_is_true(json_object_get(job, "suspended")))
        return ECS_ENEVER;
    if (expr == NULL)
        return ECS_ENEVER; /* a pipeline step: it runs after its upstream only */
    if (schedule_parse(expr, zone, &p->sched, msg, msglen) != 0)
        return ECS_EINVAL;
    p->has_start = stored_instant(job, "scheduleStart", &p->start) == 0;
    p->has_end = stored_instant(job, "scheduleEnd", &p->end) == 0;
    if (p->has_start)
        schedule_set_anchor(p->sched, (time_t)p->start);
    return 0;
}

int job_plan_next(const struct job_plan *p, time_t now, time_t *next)
{
    time_t from = now;
    int rc;

    if (p->sched == NULL)
        return ECS_ENEVER;
    if (p->has_start && (time_t)p->start > from)
        from = (time_t)p->start;
    /* "at or after": ask for the first fire time after from - 1 */
    rc = schedule_next(p->sched, from - 1, next);
    if (rc == 0 && p->has_end && (int64_t)*next > p->end)
        rc = ECS_ENEVER;
    return rc;
}

void job_plan_free(struct job_plan *p)
{
    schedule_free(&p->sched);
}

int job_next_run(const json_t *job, const struct tz *zone, time_t now, time_t *next, char *msg,
                 size_t msglen)
{
    struct job_plan p;
    int rc = job_plan_init(&p, job, zone, msg, msglen);

    if (rc == 0)
        rc = job_plan_next(&p, now, next);
    job_plan_free(&p);
    return rc;
}

json_t *job_field_default(const char *key)
{
    if (strcmp(key, "taskCount") == 0)
        return json_integer(JOB_TASK_COUNT_DEFAULT);
    if (strcmp(key, "suspended") == 0)
        return json_false();
    if (strcmp(key, "missedRuns") == 0)
        return json_string("once");
    if (strcmp(key, "startingDeadlineSeconds") == 0)
        return json_integer(JOB_DEADLINE_DEFAULT);
    if (strcmp(key, "runHistoryLimit") == 0)
        return json_integer(JOB_HISTORY_DEFAULT);
    if (strcmp(key, "timezone") == 0)
        return json_string("");
    return NULL;
}
