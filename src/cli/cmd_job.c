/* cmd_job.c - `ecsched job`: the jobs of a running server for people
 * (tables) and scripts (--json): list, get, create, update, delete, start
 * a manual run and follow it to its end (seed 001's run-task script), and
 * list a job's runs. Everything goes through the REST API, so it works
 * against any ecsched server the user can reach. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/jobfile.h"
#include "cli/jsonref.h"
#include "cli/yamlio.h"
#include "core/error.h"

#define SETS_MAX 64
#define RUNS_COUNT_DEFAULT 20
#define RUNS_COUNT_MAX 10000
/* How long a followed run may go unseen (server restarting, network
 * blip) before --wait gives up. */
#define WAIT_UNREACHABLE_MAX 10
#define POLL_FIRST_S 0.2
#define POLL_MAX_S 2.0

/* Which options a subcommand takes. */
enum {
    O_SERVER = 1 << 0,
    O_JSON = 1 << 1,
    O_FILE = 1 << 2,
    O_FIELDS = 1 << 3,
    O_ID = 1 << 4,
    O_RUN = 1 << 5,
    O_COUNT = 1 << 6
};

/* getopt codes of the long-only options */
enum {
    OPT_ID = 256,
    OPT_TASK_DEFINITION,
    OPT_SCHEDULE,
    OPT_TIMEZONE,
    OPT_TASK_COUNT,
    OPT_MAX_COUNT,
    OPT_SCHEDULE_START,
    OPT_SCHEDULE_END,
    OPT_SUSPEND,
    OPT_RESUME,
    OPT_REQUESTED_BY,
    OPT_TIMEOUT,
    OPT_SERVER
};

static const char job_usage[] =
    "usage: ecsched job list    [--json]\n"
    "       ecsched job get     ID [--json]\n"
    "       ecsched job create  (-f FILE | --schedule S --task-definition TD ...) [--json]\n"
    "       ecsched job update  ID (-f FILE | --set FIELD=VALUE ... | field flags) [--json]\n"
    "       ecsched job delete  ID [--json]\n"
    "       ecsched job run     ID [--env K=V]... [--container NAME] [--requested-by WHO]\n"
    "                              [--wait [--timeout S]] [--json]\n"
    "       ecsched job runs    ID [--count N] [--json]\n"
    "\n"
    "Manage the jobs of an ecsched server through its REST API.\n"
    "\n"
    "  --server URL          the server (default $ECSCHED_SERVER, else " CLIENT_DEFAULT_SERVER
    ");\n"
    "                        ECSCHED_TOKEN is sent as the bearer token\n"
    "  --json                print the server's JSON instead of a table\n"
    "  -f, --file FILE       a job in YAML or JSON, in the API's field names ('-': stdin)\n"
    "  --set FIELD=VALUE     set any field; VALUE is read as YAML, so --set taskCount=3,\n"
    "                        --set 'overrides=[{containerName: app, environment: {A: \"1\"}}]'\n"
    "                        (id, taskDefinition, schedule, timezone, scheduleStart,\n"
    "                        scheduleEnd and missedRuns are always taken as text)\n"
    "  --id ID, --task-definition TD, --schedule S, --timezone ZONE, --task-count N,\n"
    "  --max-count N, --schedule-start T, --schedule-end T, --suspend, --resume\n"
    "                        the same as --set for those fields\n"
    "  -e, --env K=V         run: add K=V to the container's environment for this run\n"
    "                        (over the job's own overrides)\n"
    "  -c, --container NAME  run: the container --env applies to (default: the one\n"
    "                        container the job's overrides name)\n"
    "  --requested-by WHO    run: recorded on the run (default $USER)\n"
    "  -w, --wait            run: follow the run to its end and exit with its task's\n"
    "                        exit code\n"
    "  --timeout S           run --wait: give up waiting after S seconds (exit 124)\n"
    "  -n, --count N         runs: how many, newest first (default 20)\n"
    "\n"
    "Exit status: 0 success; 1 the server refused (no such job, conflict) or could\n"
    "not be reached; 2 bad usage or invalid input (a 400, with each field's message).\n"
    "run --wait: the task's exit code (first non-zero container exit code; 0 when\n"
    "the run succeeded; 1 when it failed without one, was skipped or its outcome\n"
    "is unknown), 124 on\n"
    "--timeout, 125 when ecsched itself failed (server unreachable, no such job).\n";

static const struct option job_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"json", no_argument, NULL, 'j'},
    {"file", required_argument, NULL, 'f'},
    {"set", required_argument, NULL, 's'},
    {"id", required_argument, NULL, OPT_ID},
    {"task-definition", required_argument, NULL, OPT_TASK_DEFINITION},
    {"schedule", required_argument, NULL, OPT_SCHEDULE},
    {"timezone", required_argument, NULL, OPT_TIMEZONE},
    {"task-count", required_argument, NULL, OPT_TASK_COUNT},
    {"max-count", required_argument, NULL, OPT_MAX_COUNT},
    {"schedule-start", required_argument, NULL, OPT_SCHEDULE_START},
    {"schedule-end", required_argument, NULL, OPT_SCHEDULE_END},
    {"suspend", no_argument, NULL, OPT_SUSPEND},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"env", required_argument, NULL, 'e'},
    {"container", required_argument, NULL, 'c'},
    {"requested-by", required_argument, NULL, OPT_REQUESTED_BY},
    {"wait", no_argument, NULL, 'w'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"count", required_argument, NULL, 'n'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The flags that are shorthands for one field. */
static const struct field_flag {
    int code;
    const char *field;
} field_flags[] = {
    {OPT_ID, "id"},
    {OPT_TASK_DEFINITION, "taskDefinition"},
    {OPT_SCHEDULE, "schedule"},
    {OPT_TIMEZONE, "timezone"},
    {OPT_TASK_COUNT, "taskCount"},
    {OPT_MAX_COUNT, "maxCount"},
    {OPT_SCHEDULE_START, "scheduleStart"},
    {OPT_SCHEDULE_END, "scheduleEnd"},
};

/* Fields the API wants as strings: their values are never read as YAML,
 * so --schedule 0 or --set timezone=null mean the text. */
static const char *const text_fields[] = {
    "id",          "taskDefinition", "schedule", "timezone", "scheduleStart",
    "scheduleEnd", "missedRuns",     NULL,
};

/* One --set (or field flag). */
struct field_set {
    char field[128];
    const char *value;
};

struct job_cmd {
    const char *who; /* "ecsched job NAME" for messages */
    char who_buf[64];
    const char *id; /* the positional ID, when the subcommand takes one */
    struct client client;
    const char *server;
    int json;
    const char *file;
    struct field_set sets[SETS_MAX];
    size_t nsets;
    const char *envs[SETS_MAX];
    size_t nenvs;
    const char *container;
    const char *requested_by;
    int wait;
    int has_timeout;
    double timeout;
    long count;
    unsigned given; /* O_* bits of the options used */
};

struct job_sub {
    const char *name;
    int (*run)(struct job_cmd *cmd);
    unsigned allowed;
    int takes_id;
};

/* ------------------------------------------------------------------ */
/* Output helpers                                                       */

static void print_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
    fputc('\n', stdout);
}

/* Columns of display width (UTF-8 characters, not bytes). */
static size_t text_width(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

/* A table: a header and rows (arrays of strings), columns two spaces
 * apart, the last one not padded. */
static void table_print(const char *const *head, size_t ncols, const json_t *rows)
{
    size_t width[16] = {0};
    const json_t *row;
    size_t r;
    size_t c;

    for (c = 0; c < ncols; c++)
        width[c] = text_width(head[c]);
    json_array_foreach(rows, r, row) {
        for (c = 0; c < ncols; c++) {
            size_t w = text_width(json_string_value(json_array_get(row, c)));

            if (w > width[c])
                width[c] = w;
        }
    }
    for (c = 0; c < ncols; c++)
        printf("%s%*s", head[c], c + 1 < ncols ? (int)(width[c] - text_width(head[c]) + 2) : 0, "");
    fputc('\n', stdout);
    json_array_foreach(rows, r, row) {
        for (c = 0; c < ncols; c++) {
            const char *cell = json_string_value(json_array_get(row, c));

            printf("%s%*s", cell, c + 1 < ncols ? (int)(width[c] - text_width(cell) + 2) : 0, "");
        }
        fputc('\n', stdout);
    }
}

static const char *str_or(const json_t *v, const char *dflt)
{
    const char *s = json_string_value(v);

    return s != NULL && s[0] != '\0' ? s : dflt;
}

/* Print a failed answer and return the exit status for it. */
static int failed(const struct job_cmd *cmd, const struct client_reply *r)
{
    client_print_failure(cmd->who, r);
    return client_exit_status(r);
}

/* Make a request; on no answer print why and return -1. */
static int call(struct job_cmd *cmd, const char *method, const char *path, const json_t *body,
                struct client_reply *r)
{
    char msg[1024];

    if (client_call(&cmd->client, method, path, body, r, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "%s: %s\n", cmd->who, msg);
        return -1;
    }
    return 0;
}

static int job_path(const struct job_cmd *cmd, const char *suffix, char *buf, size_t len)
{
    if (client_job_path(buf, len, cmd->id, suffix) != 0) {
        fprintf(stderr, "%s: job id '%.64s...' is too long\n", cmd->who, cmd->id);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* list, get, delete                                                    */

/* What starts the job: its schedule (and zone), else the job it runs
 * after, else its trigger. */
static void list_starter(const json_t *job, char *buf, size_t len)
{
    const char *schedule = json_string_value(json_object_get(job, "schedule"));
    const char *zone = json_string_value(json_object_get(job, "timezone"));
    const json_t *after = json_object_get(job, "after");
    const char *trigger =
        json_string_value(json_object_get(json_object_get(job, "trigger"), "type"));

    if (schedule != NULL && zone != NULL && zone[0] != '\0')
        snprintf(buf, len, "%s (%s)", schedule, zone);
    else if (schedule != NULL)
        snprintf(buf, len, "%s", schedule);
    else if (after != NULL)
        snprintf(buf, len, "after %s (%s)", str_or(json_object_get(after, "job"), "?"),
                 str_or(json_object_get(after, "on"), "success"));
    else if (trigger != NULL)
        snprintf(buf, len, "%s trigger", trigger);
    else
        snprintf(buf, len, "-");
}

static json_t *list_row(const json_t *job)
{
    char sched[600];

    list_starter(job, sched, sizeof(sched));
    return json_pack("[s, s, s, s, s]", str_or(json_object_get(job, "id"), "?"), sched,
                     str_or(json_object_get(job, "estimatedNextRun"), "-"),
                     str_or(json_object_get(job, "lastRun"), "-"),
                     json_is_true(json_object_get(job, "suspended")) ? "yes" : "no");
}

static int job_list(struct job_cmd *cmd)
{
    static const char *const head[] = {"ID", "SCHEDULE", "NEXT RUN", "LAST RUN", "SUSPENDED"};
    json_t *jobs = NULL;
    json_t *rows;
    const json_t *job;
    char msg[1024];
    size_t i;
    int rc = client_get_jobs(&cmd->client, &jobs, msg, sizeof(msg));

    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", cmd->who, msg);
        return CLI_EXIT_FAIL;
    }
    if (cmd->json) {
        json_t *out = json_pack("{s:O}", "jobs", jobs);

        print_json(out);
        json_decref(out);
        json_decref(jobs);
        return CLI_EXIT_OK;
    }
    if (json_array_size(jobs) == 0) {
        printf("no jobs on %s\n", cmd->client.base);
        json_decref(jobs);
        return CLI_EXIT_OK;
    }
    rows = json_array();
    json_array_foreach(jobs, i, job) {
        json_array_append_new(rows, list_row(job));
    }
    table_print(head, 5, rows);
    json_decref(rows);
    json_decref(jobs);
    return CLI_EXIT_OK;
}

static int job_get(struct job_cmd *cmd)
{
    struct client_reply r;
    char path[1024];
    char msg[512];
    json_t *shown;
    int rc = CLI_EXIT_OK;

    if (job_path(cmd, "", path, sizeof(path)) != 0 || call(cmd, "GET", path, NULL, &r) != 0)
        return CLI_EXIT_FAIL;
    if (r.status != 200) {
        rc = failed(cmd, &r);
        client_reply_clear(&r);
        return rc;
    }
    if (cmd->json) {
        print_json(r.body);
    } else {
        shown = client_job_ordered(r.body, 1);
        if (shown == NULL || yamlio_write(stdout, shown, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "%s: cannot print the job\n", cmd->who);
            rc = CLI_EXIT_FAIL;
        }
        json_decref(shown);
    }
    client_reply_clear(&r);
    return rc;
}

static int job_delete(struct job_cmd *cmd)
{
    struct client_reply r;
    char path[1024];
    int rc = CLI_EXIT_OK;

    if (job_path(cmd, "", path, sizeof(path)) != 0 || call(cmd, "DELETE", path, NULL, &r) != 0)
        return CLI_EXIT_FAIL;
    if (r.status != 200)
        rc = failed(cmd, &r);
    else if (cmd->json)
        print_json(r.body);
    else
        printf("deleted job %s\n", cmd->id);
    client_reply_clear(&r);
    return rc;
}

/* ------------------------------------------------------------------ */
/* create, update                                                       */

static int is_text_field(const char *field)
{
    size_t i;

    for (i = 0; text_fields[i] != NULL; i++) {
        if (strcmp(text_fields[i], field) == 0)
            return 1;
    }
    return 0;
}

/* The value of one --set: text for the string fields, else YAML. */
static int set_value(const struct job_cmd *cmd, const struct field_set *s, json_t **out)
{
    json_t *marks = NULL;
    char name[160];
    char msg[512];

    if (is_text_field(s->field)) {
        *out = json_string(s->value);
        return *out != NULL ? 0 : -1;
    }
    snprintf(name, sizeof(name), "--set %s", s->field);
    if (yamlio_load(name, s->value, strlen(s->value), out, &marks, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "%s: %s\n", cmd->who, msg);
        return -1;
    }
    json_decref(marks);
    /* an empty value means the empty string; ~ or null mean null, which
     * the server answers for itself ("Field may not be null.") */
    if (*out == NULL && s->value[strspn(s->value, " \t")] == '\0')
        *out = json_string("");
    else if (*out == NULL)
        *out = json_null();
    return 0;
}

/* The request body: the file's job (if any), then the --set values over
 * it. jf is loaded when -f was given (free it either way). */
static int build_body(struct job_cmd *cmd, struct jobfile *jf, json_t **body)
{
    char msg[1024];
    size_t i;

    memset(jf, 0, sizeof(*jf));
    *body = NULL;
    if (cmd->file != NULL) {
        const json_t *job;

        if (jobfile_load(cmd->file, jf, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "%s: %s\n", cmd->who, msg);
            return -1;
        }
        if (json_array_size(jf->jobs) != 1) {
            fprintf(stderr,
                    "%s: %s holds %zu jobs; this takes one (use 'ecsched apply -f' "
                    "for many)\n",
                    cmd->who, jf->name, json_array_size(jf->jobs));
            return -1;
        }
        job = json_array_get(jf->jobs, 0);
        if (!json_is_object(job)) {
            fprintf(stderr, "%s: %s:%d: a job must be a mapping of fields\n", cmd->who, jf->name,
                    jobfile_line(jf, 0, ""));
            return -1;
        }
        *body = json_deep_copy(job);
    } else {
        *body = json_object();
    }
    if (*body == NULL)
        return -1;
    for (i = 0; i < cmd->nsets; i++) {
        json_t *v = NULL;

        if (set_value(cmd, &cmd->sets[i], &v) != 0 ||
            json_object_set_new(*body, cmd->sets[i].field, v) != 0) {
            json_drop(body);
            return -1;
        }
    }
    return 0;
}

struct rejection {
    const struct job_cmd *cmd;
    const struct jobfile *jf;
};

/* One validation message, at its line in the file when it came from one
 * and the field is there. */
static void print_rejected_field(void *ctx, const char *path, const char *text)
{
    const struct rejection *rj = ctx;
    const json_t *job = rj->jf != NULL ? json_array_get(rj->jf->jobs, 0) : NULL;
    char top[128];

    snprintf(top, sizeof(top), "%.*s", (int)strcspn(path, "."), path);
    if (job != NULL && json_object_get(job, top) != NULL)
        fprintf(stderr, "  %s:%d: %s: %s\n", rj->jf->name, jobfile_line(rj->jf, 0, path), path,
                text);
    else
        fprintf(stderr, "  %s: %s\n", path, text);
}

static int write_failed(const struct job_cmd *cmd, const struct jobfile *jf,
                        const struct client_reply *r)
{
    struct rejection rj = {cmd, jf->jobs != NULL ? jf : NULL};

    if (r->status != 400 || !json_is_object(json_object_get(r->body, "messages")))
        return failed(cmd, r);
    fprintf(stderr, "%s: the server rejected the job:\n", cmd->who);
    client_each_message(r->body, print_rejected_field, &rj);
    return client_exit_status(r);
}

/* After a write, what a person wants to know: the stored schedule ('?'
 * resolved) and when it fires next. */
static void print_summary(struct job_cmd *cmd, const char *verb, const char *id)
{
    struct client_reply r;
    char path[1024];
    char msg[512];
    const char *schedule;
    const char *next;

    if (client_job_path(path, sizeof(path), id, "") != 0 ||
        client_call(&cmd->client, "GET", path, NULL, &r, msg, sizeof(msg)) != 0) {
        printf("%s job %s\n", verb, id);
        return;
    }
    schedule = str_or(json_object_get(r.body, "schedule"), "-");
    next = json_string_value(json_object_get(r.body, "estimatedNextRun"));
    if (json_is_true(json_object_get(r.body, "suspended")))
        printf("%s job %s: schedule '%s', suspended\n", verb, id, schedule);
    else if (next != NULL)
        printf("%s job %s: schedule '%s', next run %s\n", verb, id, schedule, next);
    else
        printf("%s job %s: schedule '%s', no next run\n", verb, id, schedule);
    client_reply_clear(&r);
}

static int job_create(struct job_cmd *cmd)
{
    struct jobfile jf;
    struct client_reply r;
    json_t *body = NULL;
    const char *id;
    int rc = CLI_EXIT_OK;

    if (build_body(cmd, &jf, &body) != 0) {
        jobfile_free(&jf);
        return CLI_EXIT_USAGE;
    }
    if (json_object_size(body) == 0) {
        fprintf(stderr,
                "%s: give the job with -f FILE or with --schedule and "
                "--task-definition (see --help)\n",
                cmd->who);
        json_decref(body);
        jobfile_free(&jf);
        return CLI_EXIT_USAGE;
    }
    if (call(cmd, "POST", "/jobs", body, &r) != 0) {
        json_decref(body);
        jobfile_free(&jf);
        return CLI_EXIT_FAIL;
    }
    if (r.status != 201) {
        rc = write_failed(cmd, &jf, &r);
    } else if (cmd->json) {
        print_json(r.body);
    } else {
        id = json_string_value(json_object_get(r.body, "id"));
        print_summary(cmd, "created", id != NULL ? id : "?");
    }
    client_reply_clear(&r);
    json_decref(body);
    jobfile_free(&jf);
    return rc;
}

static int job_update(struct job_cmd *cmd)
{
    struct jobfile jf;
    struct client_reply r;
    json_t *body = NULL;
    const char *file_id;
    char path[1024];
    int rc = CLI_EXIT_OK;

    if (build_body(cmd, &jf, &body) != 0 || job_path(cmd, "", path, sizeof(path)) != 0) {
        json_decref(body);
        jobfile_free(&jf);
        return CLI_EXIT_USAGE;
    }
    file_id = json_string_value(json_object_get(body, "id"));
    if (json_object_size(body) == 0 || (file_id != NULL && strcmp(file_id, cmd->id) != 0)) {
        if (file_id != NULL && json_object_size(body) > 0)
            fprintf(stderr, "%s: the file's id '%s' is not '%s' (a job cannot be renamed)\n",
                    cmd->who, file_id, cmd->id);
        else
            fprintf(stderr,
                    "%s: nothing to update: give --set FIELD=VALUE, a field flag such "
                    "as --schedule, or -f FILE\n",
                    cmd->who);
        json_decref(body);
        jobfile_free(&jf);
        return CLI_EXIT_USAGE;
    }
    if (call(cmd, "PUT", path, body, &r) != 0) {
        json_decref(body);
        jobfile_free(&jf);
        return CLI_EXIT_FAIL;
    }
    if (r.status != 200)
        rc = write_failed(cmd, &jf, &r);
    else if (cmd->json)
        print_json(r.body);
    else
        print_summary(cmd, "updated", cmd->id);
    client_reply_clear(&r);
    json_decref(body);
    jobfile_free(&jf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* runs                                                                 */

/* "main=3 side=0 RESOURCE:MEMORY message": what ended the run. */
static void run_outcome(const json_t *run, char *buf, size_t len)
{
    const json_t *task;
    const json_t *c;
    const json_t *f;
    size_t used = 0;
    size_t i;
    size_t k;
    const char *message = json_string_value(json_object_get(run, "message"));

    buf[0] = '\0';
    json_array_foreach(json_object_get(run, "tasks"), i, task) {
        const char *last = json_string_value(json_object_get(task, "lastStatus"));
        int stopped = last != NULL && strcmp(last, "STOPPED") == 0;

        json_array_foreach(json_object_get(task, "containers"), k, c) {
            const json_t *code = json_object_get(c, "exitCode");
            const char *name = str_or(json_object_get(c, "name"), "?");

            if (used >= len)
                break;
            if (json_is_integer(code))
                used += (size_t)snprintf(buf + used, len - used, "%s%s=%" JSON_INTEGER_FORMAT,
                                         used > 0 ? " " : "", name, json_integer_value(code));
            else if (stopped)
                used +=
                    (size_t)snprintf(buf + used, len - used, "%s%s=-", used > 0 ? " " : "", name);
        }
    }
    json_array_foreach(json_object_get(run, "failures"), i, f) {
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "",
                                     str_or(json_object_get(f, "reason"), "failure"));
    }
    if (message != NULL && used < len)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "", message);
    if (used == 0)
        snprintf(buf, len, "-");
}

static int job_runs(struct job_cmd *cmd)
{
    static const char *const head[] = {
        "ID", "REASON", "BY", "STATUS", "SCHEDULED", "TASKS", "EXIT CODES / MESSAGE"};
    struct client_reply r;
    char suffix[64];
    char path[1024];
    const json_t *runs;
    const json_t *run;
    json_t *rows;
    size_t i;
    int rc = CLI_EXIT_OK;

    snprintf(suffix, sizeof(suffix), "/runs?count=%ld", cmd->count);
    if (job_path(cmd, suffix, path, sizeof(path)) != 0 || call(cmd, "GET", path, NULL, &r) != 0)
        return CLI_EXIT_FAIL;
    runs = json_object_get(r.body, "runs");
    if (r.status != 200 || !json_is_array(runs)) {
        rc = failed(cmd, &r);
        client_reply_clear(&r);
        return rc;
    }
    if (cmd->json) {
        print_json(r.body);
        client_reply_clear(&r);
        return CLI_EXIT_OK;
    }
    if (json_array_size(runs) == 0) {
        printf("job %s has no runs yet\n", cmd->id);
        client_reply_clear(&r);
        return CLI_EXIT_OK;
    }
    rows = json_array();
    json_array_foreach(runs, i, run) {
        char id[32];
        char tasks[32];
        char outcome[1024];

        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(run, "id")));
        snprintf(tasks, sizeof(tasks), "%zu", json_array_size(json_object_get(run, "tasks")));
        run_outcome(run, outcome, sizeof(outcome));
        json_array_append_new(rows, json_pack("[s, s, s, s, s, s, s]", id,
                                              str_or(json_object_get(run, "reason"), "-"),
                                              str_or(json_object_get(run, "requestedBy"), "-"),
                                              str_or(json_object_get(run, "status"), "-"),
                                              str_or(json_object_get(run, "scheduled"), "-"), tasks,
                                              outcome));
    }
    table_print(head, 7, rows);
    json_decref(rows);
    client_reply_clear(&r);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* run                                                                  */

/* The run's overrides: the job's own, with --env added to the chosen
 * container's environment (the server replaces a job's overrides with a
 * run's wholesale, so the job's other settings must be carried over). */
static int run_overrides(struct job_cmd *cmd, const json_t *job, json_t **out)
{
    const json_t *own = json_object_get(job, "overrides");
    json_t *list = json_is_array(own) ? json_deep_copy(own) : json_array();
    const char *container = cmd->container;
    json_t *entry = NULL;
    json_t *env;
    json_t *o;
    size_t i;

    if (list == NULL)
        return -1;
    if (container == NULL && json_array_size(list) == 1)
        container = json_string_value(json_object_get(json_array_get(list, 0), "containerName"));
    if (container == NULL) {
        fprintf(stderr,
                "%s: job %s's overrides do not name one container; give --container "
                "NAME (the container of task definition %s that --env applies to)\n",
                cmd->who, cmd->id, str_or(json_object_get(job, "taskDefinition"), "?"));
        json_decref(list);
        return -1;
    }
    json_array_foreach(list, i, o) {
        if (strcmp(str_or(json_object_get(o, "containerName"), ""), container) == 0)
            entry = o;
    }
    if (entry == NULL) {
        entry = json_pack("{s:s}", "containerName", container);
        json_array_append_new(list, entry);
    }
    env = json_object_get(entry, "environment");
    if (!json_is_object(env)) {
        env = json_object();
        json_object_set_new(entry, "environment", env);
    }
    for (i = 0; i < cmd->nenvs; i++) {
        const char *eq = strchr(cmd->envs[i], '=');
        char name[256];

        if (eq == NULL || eq == cmd->envs[i] || (size_t)(eq - cmd->envs[i]) >= sizeof(name)) {
            fprintf(stderr, "%s: --env '%s' is not NAME=VALUE\n", cmd->who, cmd->envs[i]);
            json_decref(list);
            return -1;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(eq - cmd->envs[i]), cmd->envs[i]);
        json_object_set_new(env, name, json_string(eq + 1));
    }
    *out = list;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts;

    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

static int is_final(const char *status)
{
    return strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
           strcmp(status, "skipped") == 0 || strcmp(status, "unknown") == 0;
}

/* The exit status a finished run stands for: see job_usage. */
static int run_exit_code(const json_t *run)
{
    const char *status = str_or(json_object_get(run, "status"), "");
    const json_t *task;
    const json_t *c;
    size_t i;
    size_t k;

    if (strcmp(status, "succeeded") == 0)
        return 0;
    json_array_foreach(json_object_get(run, "tasks"), i, task) {
        json_array_foreach(json_object_get(task, "containers"), k, c) {
            json_int_t code = json_integer_value(json_object_get(c, "exitCode"));

            /* a shell sees exit codes modulo 256; keep a failure a failure */
            if (code != 0)
                return code > 0 && code % 256 != 0 ? (int)(code % 256) : 1;
        }
    }
    return 1;
}

/* Follow a run until it ends; returns the exit status. */
static int wait_for_run(struct job_cmd *cmd, const char *run_path, json_int_t run_id)
{
    double started = now_s();
    double pause = POLL_FIRST_S;
    double nap;
    char last[32] = "";
    int misses = 0;

    for (;;) {
        struct client_reply r;
        char msg[1024];
        const char *status;
        int rc;

        if (client_call(&cmd->client, "GET", run_path, NULL, &r, msg, sizeof(msg)) != 0) {
            misses++;
            if (misses > WAIT_UNREACHABLE_MAX) {
                fprintf(stderr, "%s: %s\n", cmd->who, msg);
                return CLI_EXIT_CLI_FAILED;
            }
        } else if (r.status != 200) {
            client_print_failure(cmd->who, &r);
            client_reply_clear(&r);
            return CLI_EXIT_CLI_FAILED;
        } else {
            misses = 0;
            status = str_or(json_object_get(r.body, "status"), "pending");
            if (strcmp(status, last) != 0) {
                fprintf(stderr, "run %" JSON_INTEGER_FORMAT " of job %s: %s\n", run_id, cmd->id,
                        status);
                snprintf(last, sizeof(last), "%s", status);
            }
            if (is_final(status)) {
                char outcome[1024];

                rc = run_exit_code(r.body);
                run_outcome(r.body, outcome, sizeof(outcome));
                if (cmd->json)
                    print_json(r.body);
                else
                    printf("run %" JSON_INTEGER_FORMAT " of job %s %s (%s); exit status %d\n",
                           run_id, cmd->id, status, outcome, rc);
                client_reply_clear(&r);
                return rc;
            }
            client_reply_clear(&r);
        }
        if (cmd->has_timeout && now_s() - started >= cmd->timeout) {
            fprintf(stderr,
                    "%s: run %" JSON_INTEGER_FORMAT " of job %s is still %s after %g s; it "
                    "goes on (see 'ecsched job runs %s')\n",
                    cmd->who, run_id, cmd->id, last[0] != '\0' ? last : "unseen", cmd->timeout,
                    cmd->id);
            return CLI_EXIT_TIMEOUT;
        }
        nap = pause;
        /* wake for the deadline rather than oversleep it */
        if (cmd->has_timeout && now_s() + nap > started + cmd->timeout)
            nap = started + cmd->timeout - now_s();
        if (nap > 0)
            sleep_s(nap);
        pause = pause * 1.5 < POLL_MAX_S ? pause * 1.5 : POLL_MAX_S;
    }
}

/* Who asks for a manual run: $USER, else $LOGNAME, else the account the
 * CLI runs as (cron and systemd units set neither variable). */
static const char *user_name(char *buf, size_t len)
{
    const char *env = getenv("USER");
    struct passwd pw;
    struct passwd *found = NULL;
    char scratch[1024];

    if (env == NULL || env[0] == '\0')
        env = getenv("LOGNAME");
    if (env != NULL && env[0] != '\0')
        return env;
    if (getpwuid_r(geteuid(), &pw, scratch, sizeof(scratch), &found) == 0 && found != NULL)
        snprintf(buf, len, "%s", found->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)geteuid());
    return buf;
}

static int job_run(struct job_cmd *cmd)
{
    int fail = cmd->wait ? CLI_EXIT_CLI_FAILED : CLI_EXIT_FAIL;
    struct client_reply r;
    json_t *body = json_object();
    json_t *overrides = NULL;
    char login[256];
    const char *who =
        cmd->requested_by != NULL ? cmd->requested_by : user_name(login, sizeof(login));
    const char *href;
    char path[1024];
    json_int_t run_id;
    int rc;

    if (body == NULL || job_path(cmd, "", path, sizeof(path)) != 0 ||
        call(cmd, "GET", path, NULL, &r) != 0) {
        json_decref(body);
        return fail;
    }
    if (r.status != 200) {
        client_print_failure(cmd->who, &r);
        client_reply_clear(&r);
        json_decref(body);
        return fail;
    }
    if (cmd->nenvs > 0 && run_overrides(cmd, r.body, &overrides) != 0) {
        client_reply_clear(&r);
        json_decref(body);
        return cmd->wait ? CLI_EXIT_CLI_FAILED : CLI_EXIT_USAGE;
    }
    client_reply_clear(&r);
    if (overrides != NULL)
        json_object_set_new(body, "overrides", overrides);
    if (who != NULL && who[0] != '\0')
        json_object_set_new(body, "requestedBy", json_string(who));
    if (job_path(cmd, "/run", path, sizeof(path)) != 0 || call(cmd, "POST", path, body, &r) != 0) {
        json_decref(body);
        return fail;
    }
    json_decref(body);
    if (r.status != 202) {
        rc = failed(cmd, &r);
        client_reply_clear(&r);
        return cmd->wait ? CLI_EXIT_CLI_FAILED : rc;
    }
    run_id = json_integer_value(json_object_get(r.body, "id"));
    href = json_string_value(json_object_get(json_object_get(r.body, "link"), "href"));
    if (href == NULL) {
        fprintf(stderr, "%s: the server's answer has no link to the run\n", cmd->who);
        client_reply_clear(&r);
        return fail;
    }
    snprintf(path, sizeof(path), "%s", href);
    if (cmd->json && !cmd->wait)
        print_json(r.body);
    else
        fprintf(cmd->wait ? stderr : stdout,
                "started run %" JSON_INTEGER_FORMAT " of job %s: %s%s\n", run_id, cmd->id,
                cmd->client.base, path);
    client_reply_clear(&r);
    if (!cmd->wait)
        return CLI_EXIT_OK;
    return wait_for_run(cmd, path, run_id);
}

/* ------------------------------------------------------------------ */
/* Options and dispatch                                                 */

static const struct job_sub subs[] = {
    {"list", job_list, O_SERVER | O_JSON, 0},
    {"get", job_get, O_SERVER | O_JSON, 1},
    {"create", job_create, O_SERVER | O_JSON | O_FILE | O_FIELDS | O_ID, 0},
    {"update", job_update, O_SERVER | O_JSON | O_FILE | O_FIELDS, 1},
    {"delete", job_delete, O_SERVER | O_JSON, 1},
    {"run", job_run, O_SERVER | O_JSON | O_RUN, 1},
    {"runs", job_runs, O_SERVER | O_JSON | O_COUNT, 1},
};

#define NSUBS (sizeof(subs) / sizeof(subs[0]))

static int add_set(struct job_cmd *cmd, const char *field, size_t field_len, const char *value)
{
    struct field_set *s;

    if (cmd->nsets == SETS_MAX || field_len >= sizeof(s->field)) {
        fprintf(stderr, "%s: more than %d fields set, or a field name over %zu characters\n",
                cmd->who, SETS_MAX, sizeof(s->field) - 1);
        return -1;
    }
    s = &cmd->sets[cmd->nsets++];
    snprintf(s->field, sizeof(s->field), "%.*s", (int)field_len, field);
    s->value = value;
    return 0;
}

static int parse_number(const char *text, double *out)
{
    char *end = NULL;

    errno = 0;
    *out = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && *out > 0 ? 0 : -1;
}

/* Which group (O_*) an option belongs to, for the per-subcommand check. */
static unsigned option_group(int c)
{
    static const struct {
        int code;
        unsigned group;
    } groups[] = {
        {OPT_SERVER, O_SERVER},
        {'j', O_JSON},
        {'f', O_FILE},
        {'s', O_FIELDS},
        {OPT_SUSPEND, O_FIELDS},
        {OPT_RESUME, O_FIELDS},
        {OPT_ID, O_ID},
        {'e', O_RUN},
        {'c', O_RUN},
        {OPT_REQUESTED_BY, O_RUN},
        {'w', O_RUN},
        {OPT_TIMEOUT, O_RUN},
        {'n', O_COUNT},
    };
    size_t i;

    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (groups[i].code == c)
            return groups[i].group;
    }
    /* the remaining codes are field flags */
    return O_FIELDS;
}

static int parse_count(struct job_cmd *cmd, const char *arg)
{
    char *end = NULL;

    errno = 0;
    cmd->count = strtol(arg, &end, 10);
    if (errno == 0 && end != arg && *end == '\0' && cmd->count >= 1 && cmd->count <= RUNS_COUNT_MAX)
        return 0;
    fprintf(stderr, "%s: --count '%s' is not a whole number from 1 to %d\n", cmd->who, arg,
            RUNS_COUNT_MAX);
    return -1;
}

/* One option; 0, or -1 after saying what is wrong. */
static int take_option(struct job_cmd *cmd, int c, const char *arg)
{
    size_t i;
    const char *eq;

    cmd->given |= option_group(c);
    for (i = 0; i < sizeof(field_flags) / sizeof(field_flags[0]); i++) {
        if (field_flags[i].code == c)
            return add_set(cmd, field_flags[i].field, strlen(field_flags[i].field), arg);
    }
    switch (c) {
    case OPT_SERVER:
        cmd->server = arg;
        return 0;
    case 'j':
        cmd->json = 1;
        return 0;
    case 'f':
        if (cmd->file != NULL) {
            /* one job from one file: a second -f would replace the first */
            fprintf(stderr,
                    "%s: -f given twice (%s, then %s); this takes one job from one file "
                    "(use 'ecsched apply -f FILE -f FILE' for several)\n",
                    cmd->who, cmd->file, arg);
            return -1;
        }
        cmd->file = arg;
        return 0;
    case 's':
        eq = strchr(arg, '=');
        if (eq == NULL || eq == arg) {
            fprintf(stderr, "%s: --set '%s' is not FIELD=VALUE\n", cmd->who, arg);
            return -1;
        }
        return add_set(cmd, arg, (size_t)(eq - arg), eq + 1);
    case OPT_SUSPEND:
    case OPT_RESUME:
        return add_set(cmd, "suspended", 9, c == OPT_SUSPEND ? "true" : "false");
    case 'e':
        if (cmd->nenvs == SETS_MAX) {
            fprintf(stderr, "%s: more than %d --env\n", cmd->who, SETS_MAX);
            return -1;
        }
        cmd->envs[cmd->nenvs++] = arg;
        return 0;
    case 'c':
        cmd->container = arg;
        return 0;
    case OPT_REQUESTED_BY:
        cmd->requested_by = arg;
        return 0;
    case 'w':
        cmd->wait = 1;
        return 0;
    case OPT_TIMEOUT:
        cmd->has_timeout = 1;
        if (parse_number(arg, &cmd->timeout) == 0)
            return 0;
        fprintf(stderr, "%s: --timeout '%s' is not a number of seconds above 0\n", cmd->who, arg);
        return -1;
    case 'n':
        return parse_count(cmd, arg);
    default:
        return -1;
    }
}

static int parse_options(struct job_cmd *cmd, int argc, char **argv)
{
    int c;

    opterr = 0;
    optind = 1;
    for (;;) {
        c = getopt_long(argc, argv, "jf:s:e:c:wn:h", job_options, NULL);
        if (c == -1)
            return 0;
        if (c == 'h') {
            fputs(job_usage, stdout);
            return 1;
        }
        if (c == '?' || c == ':') {
            fprintf(stderr, "%s: unknown or incomplete option '%s'; see 'ecsched job --help'\n",
                    cmd->who, argv[optind - 1]);
            return -1;
        }
        if (take_option(cmd, c, optarg) != 0)
            return -1;
    }
}

int cmd_job(int argc, char **argv)
{
    struct job_cmd *cmd;
    const struct job_sub *sub = NULL;
    char msg[512];
    size_t i;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(job_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (i = 0; i < NSUBS; i++) {
        if (strcmp(argv[1], subs[i].name) == 0)
            sub = &subs[i];
    }
    if (sub == NULL) {
        fprintf(stderr,
                "ecsched job: '%s' is not a job command (list, get, create, update, "
                "delete, run, runs); see 'ecsched job --help'\n",
                argv[1]);
        return CLI_EXIT_USAGE;
    }
    /* big (the --set table): keep it off the stack */
    cmd = calloc(1, sizeof(*cmd));
    if (cmd == NULL)
        return CLI_EXIT_FAIL;
    snprintf(cmd->who_buf, sizeof(cmd->who_buf), "ecsched job %s", sub->name);
    cmd->who = cmd->who_buf;
    cmd->count = RUNS_COUNT_DEFAULT;
    rc = parse_options(cmd, argc - 1, argv + 1);
    if (rc != 0) {
        free(cmd);
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if ((cmd->given & ~sub->allowed) != 0) {
        fprintf(stderr, "%s: an option given does not apply to '%s'%s; see 'ecsched job --help'\n",
                cmd->who, sub->name,
                (cmd->given & O_ID) != 0 && strcmp(sub->name, "update") == 0
                    ? " (a job cannot be renamed)"
                    : "");
        free(cmd);
        return CLI_EXIT_USAGE;
    }
    if (argc - 1 - optind != sub->takes_id) {
        fprintf(stderr, "%s: %s; see 'ecsched job --help'\n", cmd->who,
                sub->takes_id ? "give exactly one job ID" : "takes no arguments besides options");
        free(cmd);
        return CLI_EXIT_USAGE;
    }
    if (sub->takes_id)
        cmd->id = argv[1 + optind];
    if ((cmd->container != NULL && cmd->nenvs == 0) || (cmd->has_timeout && !cmd->wait)) {
        fprintf(stderr, "%s: %s\n", cmd->who,
                cmd->has_timeout && !cmd->wait ? "--timeout goes with --wait"
                                               : "--container goes with --env");
        free(cmd);
        return CLI_EXIT_USAGE;
    }
    if (client_init(&cmd->client, cmd->server, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "%s: %s\n", cmd->who, msg);
        free(cmd);
        return CLI_EXIT_USAGE;
    }
    rc = sub->run(cmd);
    free(cmd);
    return rc;
}
