/* cmd_apply.c - `ecsched apply -f jobs.yaml`: make a server's jobs match a
 * file (seed 002's schedules as infrastructure). The file is checked
 * whole first, with the same validation the server runs (src/core/job.c),
 * so every problem of every job is reported at its line before anything
 * changes; then each job is compared with the server's copy field by
 * field, after both are normalised the server's way, and only what
 * differs is sent (PUT merges). A schedule written with '?' is equal to
 * any stored schedule the '?' could have resolved to, so applying the same
 * file twice does not pick new random times. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/jobfile.h"
#include "cli/jsonref.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/job.h"
#include "core/schedule.h"

/* More '?' than any schedule can hold (three fields take one). */
#define RANDOM_MAX 8

static const char apply_usage[] =
    "usage: ecsched apply -f FILE [--dry-run] [--prune] [--server URL]\n"
    "\n"
    "Make the server's jobs match FILE, YAML or JSON in the API's field names: a\n"
    "list of jobs, or 'jobs:' with a list (what 'ecsched export' writes), or one\n"
    "job. Jobs missing from the server are created; jobs that differ are updated,\n"
    "only in the fields that differ; with --prune, jobs not in FILE are deleted.\n"
    "Every job is checked first, and all problems are reported with FILE's line\n"
    "numbers before anything changes. A schedule written with '?' keeps the\n"
    "values the server chose for it. See docs/jobs-as-code.md.\n"
    "\n"
    "  -f, --file FILE  the jobs ('-': stdin); several -f are read as one list\n"
    "  --dry-run        print what would change (+ create, ~ update FIELD: old ->\n"
    "                   new, - delete) and change nothing\n"
    "  --prune          delete the server's jobs that FILE does not name\n"
    "  --server URL     the server (default $ECSCHED_SERVER, else " CLIENT_DEFAULT_SERVER ")\n"
    "\n"
    "Exit status: 0 applied (or nothing to do, or --dry-run); 1 the server refused\n"
    "a change or could not be reached (changes before it stay made); 2 bad usage\n"
    "or an invalid FILE (nothing changed).\n";

struct apply {
    struct jobfile jf;
    struct client client;
    int dry_run;
    int prune;
    json_t *valid;    /* the file's jobs as the server would store them */
    json_t *current;  /* id -> the server's job, its settable fields */
    json_t *steps;    /* [{op, id, index, body, changes: [[field, old, new]]}] */
    json_t *problems; /* [[line, order, text]]: problems and notes */
    size_t nproblems;
};

/* ------------------------------------------------------------------ */
/* Checking the file                                                    */

struct job_at {
    struct apply *a;
    size_t index;
    const char *name;
};

/* Problems (and notes) are gathered and printed in the file's order. */
static void remark(struct apply *a, size_t i, const char *path, const char *text)
{
    json_array_append_new(a->problems,
                          json_pack("[I, i, I, s]", (json_int_t)jobfile_file_number(&a->jf, i),
                                    jobfile_line(&a->jf, i, path),
                                    (json_int_t)json_array_size(a->problems), text));
}

static void problem(struct apply *a, size_t i, const char *path, const char *name, const char *text)
{
    char line[1024];

    snprintf(line, sizeof(line), "job %s: %s%s%s", name, path, path[0] != '\0' ? ": " : "", text);
    remark(a, i, path, line);
    a->nproblems++;
}

static void note(struct apply *a, size_t i, const char *field, const char *name, const char *text)
{
    char line[1024];

    snprintf(line, sizeof(line), "job %s: note: '%s' %s", name, field, text);
    remark(a, i, field, line);
}

static int by_line(const void *x, const void *y)
{
    const json_t *const *p = x;
    const json_t *const *q = y;
    size_t k;

    /* file, then line, then the order they were found in */
    for (k = 0; k < 3; k++) {
        json_int_t a = json_integer_value(json_array_get(*p, k));
        json_int_t b = json_integer_value(json_array_get(*q, k));

        if (a != b)
            return a < b ? -1 : 1;
    }
    return 0;
}

static void print_problems(const struct apply *a)
{
    size_t n = json_array_size(a->problems);
    const json_t **sorted = calloc(n + 1, sizeof(*sorted));
    size_t i;

    if (sorted == NULL)
        return;
    for (i = 0; i < n; i++)
        sorted[i] = json_array_get(a->problems, i);
    qsort(sorted, n, sizeof(*sorted), by_line);
    for (i = 0; i < n; i++)
        fprintf(
            stderr, "%s:%d: %s\n",
            jobfile_file_named(&a->jf, (size_t)json_integer_value(json_array_get(sorted[i], 0))),
            (int)json_integer_value(json_array_get(sorted[i], 1)),
            json_string_value(json_array_get(sorted[i], 3)));
    free(sorted);
}

static void field_problem(void *ctx, const char *path, const char *text)
{
    struct job_at *at = ctx;

    problem(at->a, at->index, path, at->name, text);
}

/* Fields the server would drop without a word: a typo there (maxcount)
 * would silently not apply, so they are errors; read-only fields pasted
 * from a GET are only noted. The fields known are those validation keeps;
 * for a job with errors, the rest of it is validated again without them,
 * as an update (where nothing is required) of a stand-in job. */
static void check_fields(struct apply *a, size_t i, const char *name, const json_t *job,
                         const json_t *stored, const json_t *errors)
{
    struct job_ctx jc = {NULL, NULL};
    json_t *rest = NULL;
    json_t *base = NULL;
    json_t *kept = NULL;
    json_t *again = NULL;
    const char *key;
    const json_t *v;

    if (stored == NULL) {
        rest = json_deep_copy(job);
        base = json_pack("{s:s, s:s, s:s, s:i}", "id", "x", "taskDefinition", "x", "schedule", "0",
                         "taskCount", 1);
        json_object_foreach((json_t *)errors, key, v) {
            json_object_del(rest, key);
        }
        if (rest == NULL || base == NULL || job_validate(rest, base, &jc, &kept, &again) != 0) {
            json_decref(again);
            json_decref(rest);
            json_decref(base);
            return;
        }
        stored = kept;
    }
    json_object_foreach((json_t *)job, key, v) {
        if (json_object_get(stored, key) != NULL || json_object_get(errors, key) != NULL)
            continue;
        if (client_field_read_only(key))
            note(a, i, key, name, "is computed by the server; ignored");
        else
            problem(a, i, key, name, "unknown field (the server would ignore it)");
    }
    json_decref(kept);
    json_decref(rest);
    json_decref(base);
}

/* The id a job will have: its id, else its taskDefinition. */
static const char *job_id_of(const json_t *job, const char **field)
{
    *field = "id";
    if (json_is_string(json_object_get(job, "id")))
        return json_string_value(json_object_get(job, "id"));
    *field = "taskDefinition";
    return json_string_value(json_object_get(job, "taskDefinition"));
}

static void check_file(struct apply *a)
{
    struct job_ctx jc = {NULL, NULL};
    json_t *seen = json_object();
    const json_t *job;
    size_t i;

    json_array_foreach(a->jf.jobs, i, job) {
        char buf[32];
        const char *name = jobfile_job_name(&a->jf, i, buf, sizeof(buf));
        json_t *stored = NULL;
        json_t *errors = NULL;
        const char *id;
        const char *id_field;
        const json_t *first;

        if (!json_is_object(job)) {
            problem(a, i, "", name, "a job must be a mapping of fields");
            json_array_append_new(a->valid, json_null());
            continue;
        }
        if (job_validate(job, NULL, &jc, &stored, &errors) != 0) {
            struct job_at at = {a, i, name};
            json_t *wrapped = json_pack("{s:O}", "messages", errors);

            client_each_message(wrapped, field_problem, &at);
            json_decref(wrapped);
        }
        check_fields(a, i, name, job, stored, errors);
        json_decref(errors);
        id = job_id_of(job, &id_field);
        first = id != NULL ? json_object_get(seen, id) : NULL;
        if (first != NULL) {
            char text[128];

            snprintf(text, sizeof(text), "a second job with this id (the first is at %s)",
                     json_string_value(first));
            problem(a, i, id_field, name, text);
        } else if (id != NULL) {
            char where[600];

            if (a->jf.files != NULL)
                snprintf(where, sizeof(where), "%s:%d", jobfile_file(&a->jf, i),
                         jobfile_line(&a->jf, i, ""));
            else
                snprintf(where, sizeof(where), "line %d", jobfile_line(&a->jf, i, ""));
            json_object_set_new(seen, id, json_string(where));
        }
        json_array_append_new(a->valid, stored != NULL ? stored : json_null());
    }
    json_decref(seen);
}

/* ------------------------------------------------------------------ */
/* '?' kept                                                             */

struct picks {
    long values[RANDOM_MAX];
    size_t n;
    size_t next;
    int bad;
};

static uint32_t count_calls(void *ctx, uint32_t n)
{
    (void)n;
    (*(size_t *)ctx)++;
    return 0;
}

/* Hands out the values read from the stored schedule, in order. */
static uint32_t replay(void *ctx, uint32_t n)
{
    struct picks *p = ctx;
    long v;

    if (p->next >= p->n) {
        p->bad = 1;
        return 0;
    }
    v = p->values[p->next++];
    if (v < 0 || (uint32_t)v >= n) {
        p->bad = 1;
        return 0;
    }
    return (uint32_t)v;
}

/* Is stored what written's '?'s could have resolved to? The schedule
 * module decides which '?' are resolved (whole tokens of the first three
 * seed fields): resolving with 0 marks them, the stored text supplies a
 * value for each, and resolving again with those values must give the
 * stored text exactly. */
static int resolves_to(const char *written, const char *stored)
{
    struct picks p;
    char *marked = NULL;
    char *again = NULL;
    const char *s = stored;
    size_t calls = 0;
    size_t i;
    char msg[128];
    int same = 0;

    if (schedule_resolve_random(written, count_calls, &calls, &marked, msg, sizeof(msg)) != 0)
        return 0;
    memset(&p, 0, sizeof(p));
    for (i = 0; calls > 0 && written[i] != '\0'; i++) {
        long v = 0;
        size_t nd = 0;

        if (written[i] != '?' || marked[i] != '0') {
            if (*s != written[i])
                break;
            s++;
            continue;
        }
        while (isdigit((unsigned char)*s) && nd < 3) {
            v = v * 10 + (*s - '0');
            s++;
            nd++;
        }
        if (nd == 0 || p.n == RANDOM_MAX)
            break;
        p.values[p.n++] = v;
    }
    if (calls > 0 && written[i] == '\0' && *s == '\0' &&
        schedule_resolve_random(written, replay, &p, &again, msg, sizeof(msg)) == 0)
        same = !p.bad && p.next == p.n && strcmp(again, stored) == 0;
    free(marked);
    free(again);
    return same;
}

/* ------------------------------------------------------------------ */
/* Planning                                                             */

static int load_current(struct apply *a)
{
    json_t *jobs = NULL;
    const json_t *job;
    char msg[1024];
    size_t i;

    if (client_get_jobs(&a->client, &jobs, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched apply: %s\n", msg);
        return -1;
    }
    json_array_foreach(jobs, i, job) {
        const char *id = json_string_value(json_object_get(job, "id"));

        if (id != NULL)
            json_object_set_new(a->current, id, client_job_ordered(job, 0));
    }
    json_decref(jobs);
    return 0;
}

/* The job as written, without the read-only fields (a new object; the
 * values are shared with the file's and never changed). */
static json_t *settable(const json_t *job)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)job, key, v) {
        if (!client_field_read_only(key))
            json_object_set(out, key, v);
    }
    return out;
}

static void add_step(json_t *steps, const char *op, const char *id, size_t index, json_t *body,
                     json_t *changes)
{
    json_array_append_new(steps,
                          json_pack("{s:s, s:s, s:I, s:o*, s:o*}", "op", op, "id", id, "index",
                                    (json_int_t)index, "body", body, "changes", changes));
}

/* Compare job i with the server's copy: fields to send, and the fields
 * the server has that the file does not (the API cannot remove a field). */
static int plan_update(struct apply *a, size_t i, const char *id, const json_t *current)
{
    struct job_ctx jc = {NULL, NULL};
    json_t *body = settable(json_array_get(a->jf.jobs, i));
    json_t *desired = NULL;
    json_t *errors = NULL;
    json_t *send = json_object();
    json_t *changes = json_array();
    const char *written = json_string_value(json_object_get(body, "schedule"));
    const char *stored = json_string_value(json_object_get(current, "schedule"));
    const char *key;
    json_t *v;

    if (written != NULL && stored != NULL && strchr(written, '?') != NULL &&
        resolves_to(written, stored))
        json_object_set_new(body, "schedule", json_string(stored));
    if (job_validate(body, NULL, &jc, &desired, &errors) != 0) {
        fprintf(stderr, "%s:%d: job %s: cannot be compared with the server's copy\n",
                jobfile_file(&a->jf, i), jobfile_line(&a->jf, i, ""), id);
        json_decref(errors);
        json_decref(body);
        json_decref(send);
        json_decref(changes);
        return -1;
    }
    json_object_foreach(desired, key, v) {
        const json_t *now = json_object_get(current, key);
        json_t *given = json_object_get(body, key);

        if (strcmp(key, "id") == 0 || (now != NULL && json_equal(now, v)))
            continue;
        /* send what was written (the server normalises it as we did) */
        json_object_set(send, key, given != NULL ? given : v);
        json_array_append_new(changes, json_pack("[s, O, O]", key, now != NULL ? now : json_null(),
                                                 given != NULL ? given : v));
    }
    json_object_foreach((json_t *)current, key, v) {
        json_t *dflt;
        char *text;

        if (json_object_get(desired, key) != NULL)
            continue;
        /* a field with a default, left out: the file means the default */
        dflt = job_field_default(key);
        if (dflt != NULL && !json_equal(dflt, v)) {
            json_object_set(send, key, dflt);
            json_array_append_new(changes, json_pack("[s, O, O]", key, v, dflt));
        }
        if (dflt != NULL) {
            json_decref(dflt);
            continue;
        }
        text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr,
                "%s:%d: job %s: note: the server's job has %s: %s, which the file does "
                "not set; the API cannot remove a field, so it stays (set it in the "
                "file, or delete the job and apply again)\n",
                jobfile_file(&a->jf, i), jobfile_line(&a->jf, i, ""), id, key,
                text != NULL ? text : "?");
        free(text);
    }
    json_decref(desired);
    json_decref(body);
    if (json_array_size(changes) == 0) {
        json_decref(send);
        json_decref(changes);
        return 0;
    }
    add_step(a->steps, "update", id, i, send, changes);
    return 0;
}

/* The job a job runs after (its `after.job`), or NULL. */
static const char *upstream_of(const json_t *job)
{
    return json_string_value(json_object_get(json_object_get(job, "after"), "job"));
}

static const char *step_field(const json_t *step, const char *name)
{
    return json_string_value(json_object_get(step, name));
}

typedef int (*ready_fn)(const struct apply *a, const json_t *step, const json_t *pending);

/* A create or update waits for the creation of the job it runs after (the
 * server refuses an `after` naming a job it does not have). */
static int write_ready(const struct apply *a, const json_t *step, const json_t *pending)
{
    const char *up = upstream_of(json_object_get(step, "body"));
    const json_t *p;
    size_t i;

    (void)a;
    json_array_foreach(pending, i, p) {
        if (up != NULL && p != step && strcmp(step_field(p, "op"), "create") == 0 &&
            strcmp(step_field(p, "id"), up) == 0)
            return 0;
    }
    return 1;
}

/* A delete waits for the deletion of the jobs that run after it (the
 * server refuses to delete a job others follow). */
static int delete_ready(const struct apply *a, const json_t *step, const json_t *pending)
{
    const char *id = step_field(step, "id");
    const json_t *p;
    size_t i;

    json_array_foreach(pending, i, p) {
        const char *up = upstream_of(json_object_get(a->current, step_field(p, "id")));

        if (p != step && up != NULL && strcmp(up, id) == 0)
            return 0;
    }
    return 1;
}

/* steps (stolen) in an order where each is ready when its turn comes,
 * otherwise as given; a cycle keeps the given order (the server names it). */
static json_t *in_order(const struct apply *a, json_t *steps, ready_fn ready)
{
    json_t *out = json_array();
    size_t n;
    size_t i;

    for (n = json_array_size(steps); n > 0; n--) {
        for (i = 0; i < n && !ready(a, json_array_get(steps, i), steps); i++)
            continue;
        if (i == n)
            i = 0;
        json_array_append(out, json_array_get(steps, i));
        json_array_remove(steps, i);
    }
    json_decref(steps);
    return out;
}

static int plan(struct apply *a)
{
    const json_t *stored;
    const char *id;
    json_t *v;
    size_t i;
    size_t others = 0;
    json_t *named = json_object();
    json_t *deletes = json_array();

    json_array_foreach(a->valid, i, stored) {
        const json_t *current;

        id = json_string_value(json_object_get(stored, "id"));
        json_object_set_new(named, id, json_true());
        current = json_object_get(a->current, id);
        if (current == NULL)
            add_step(a->steps, "create", id, i, settable(json_array_get(a->jf.jobs, i)), NULL);
        else if (plan_update(a, i, id, current) != 0) {
            json_decref(named);
            json_decref(deletes);
            return -1;
        }
    }
    json_object_foreach(a->current, id, v) {
        if (json_object_get(named, id) != NULL)
            continue;
        if (a->prune)
            add_step(deletes, "delete", id, 0, NULL, NULL);
        else
            others++;
    }
    json_decref(named);
    /* upstreams created first, followers deleted first, deletes last */
    a->steps = in_order(a, a->steps, write_ready);
    deletes = in_order(a, deletes, delete_ready);
    json_array_extend(a->steps, deletes);
    json_decref(deletes);
    if (others > 0)
        fprintf(stderr, "note: %zu job%s on the server %s not in %s (--prune deletes them)\n",
                others, others == 1 ? "" : "s", others == 1 ? "is" : "are", a->jf.name);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Doing it                                                             */

static void print_value(const json_t *v)
{
    char *text;

    if (v == NULL || json_is_null(v)) {
        fputs("(unset)", stdout);
        return;
    }
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(text != NULL ? text : "?", stdout);
    free(text);
}

static void print_step(const json_t *step)
{
    const char *op = json_string_value(json_object_get(step, "op"));
    const char *id = json_string_value(json_object_get(step, "id"));
    const json_t *change;
    size_t i;

    if (strcmp(op, "create") == 0) {
        printf("+ create %s\n", id);
        return;
    }
    if (strcmp(op, "delete") == 0) {
        printf("- delete %s\n", id);
        return;
    }
    json_array_foreach(json_object_get(step, "changes"), i, change) {
        printf("~ update %s %s: ", id, json_string_value(json_array_get(change, 0)));
        print_value(json_array_get(change, 1));
        fputs(" -> ", stdout);
        print_value(json_array_get(change, 2));
        fputc('\n', stdout);
    }
}

struct refusal {
    struct apply *a;
    size_t index;
    const char *id;
};

static void refused_field(void *ctx, const char *path, const char *text)
{
    const struct refusal *rf = ctx;

    fprintf(stderr, "%s:%d: job %s: %s: %s\n", jobfile_file(&rf->a->jf, rf->index),
            jobfile_line(&rf->a->jf, rf->index, path), rf->id, path, text);
}

/* Say why the server refused a step, at the job's (or field's) line. */
static void print_refusal(struct apply *a, const json_t *step, const struct client_reply *r)
{
    const char *op = json_string_value(json_object_get(step, "op"));
    struct refusal rf = {a, (size_t)json_integer_value(json_object_get(step, "index")),
                         json_string_value(json_object_get(step, "id"))};
    char text[2048];

    if (strcmp(op, "delete") == 0) {
        client_reply_text(r, text, sizeof(text));
        fprintf(stderr, "ecsched apply: job %s: the server refused the delete: %s\n", rf.id, text);
        return;
    }
    fprintf(stderr, "ecsched apply: the server refused the %s of job %s:\n", op, rf.id);
    if (client_each_message(r->body, refused_field, &rf) > 0)
        return;
    client_reply_text(r, text, sizeof(text));
    fprintf(stderr, "%s:%d: job %s: %s\n", jobfile_file(&a->jf, rf.index),
            jobfile_line(&a->jf, rf.index, ""), rf.id, text);
}

/* How each step is sent, and the answer that means it was done. */
static const struct step_kind {
    const char *op;
    const char *method;
    long ok;
} step_kinds[] = {
    {"create", "POST", 201},
    {"update", "PUT", 200},
    {"delete", "DELETE", 200},
};

#define NSTEP_KINDS (sizeof(step_kinds) / sizeof(step_kinds[0]))

static size_t step_kind_of(const json_t *step)
{
    const char *op = json_string_value(json_object_get(step, "op"));
    size_t k;

    for (k = 0; k + 1 < NSTEP_KINDS; k++) {
        if (strcmp(step_kinds[k].op, op) == 0)
            break;
    }
    return k;
}

static int run_step(struct apply *a, const json_t *step)
{
    const struct step_kind *kind = &step_kinds[step_kind_of(step)];
    const char *id = json_string_value(json_object_get(step, "id"));
    struct client_reply r;
    char path[1024];
    char msg[1024];

    if (strcmp(kind->op, "create") == 0)
        snprintf(path, sizeof(path), "/jobs");
    else if (client_job_path(path, sizeof(path), id, "") != 0)
        return -1;
    if (client_call(&a->client, kind->method, path, json_object_get(step, "body"), &r, msg,
                    sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched apply: %s\n", msg);
        return -1;
    }
    if (r.status != kind->ok) {
        print_refusal(a, step, &r);
        client_reply_clear(&r);
        return -1;
    }
    client_reply_clear(&r);
    print_step(step);
    return 0;
}

/* How many steps of each kind, in step_kinds' order. */
static void count_ops(const json_t *steps, size_t n[NSTEP_KINDS])
{
    const json_t *step;
    size_t i;

    memset(n, 0, NSTEP_KINDS * sizeof(n[0]));
    json_array_foreach(steps, i, step) {
        n[step_kind_of(step)]++;
    }
}

static int execute(struct apply *a)
{
    const json_t *step;
    size_t n[NSTEP_KINDS];
    size_t i;

    count_ops(a->steps, n);
    if (json_array_size(a->steps) == 0) {
        printf("no changes\n");
        return CLI_EXIT_OK;
    }
    if (a->dry_run) {
        json_array_foreach(a->steps, i, step) {
            print_step(step);
        }
        printf("dry run: %zu to create, %zu to update, %zu to delete; nothing was changed\n", n[0],
               n[1], n[2]);
        return CLI_EXIT_OK;
    }
    json_array_foreach(a->steps, i, step) {
        if (run_step(a, step) != 0) {
            fprintf(stderr,
                    "ecsched apply: stopped; %zu of %zu changes were made, the rest "
                    "were not\n",
                    i, json_array_size(a->steps));
            return CLI_EXIT_FAIL;
        }
    }
    printf("applied: %zu created, %zu updated, %zu deleted\n", n[0], n[1], n[2]);
    return CLI_EXIT_OK;
}

static void apply_free(struct apply *a)
{
    jobfile_free(&a->jf);
    json_drop(&a->valid);
    json_drop(&a->current);
    json_drop(&a->steps);
    json_drop(&a->problems);
}

int cmd_apply(int argc, char **argv)
{
    struct apply a;
    struct cli_values files = {{NULL}, 0};
    const char *server = NULL;
    const struct cli_option opts[] = {
        {"file", 'f', NULL, NULL, &files},
        {"dry-run", 0, NULL, &a.dry_run, NULL},
        {"prune", 0, NULL, &a.prune, NULL},
        {"server", 0, &server, NULL, NULL},
    };
    char msg[1024];
    int operand;
    int rc;

    memset(&a, 0, sizeof(a));
    rc = cli_options_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), "ecsched apply",
                           apply_usage, &operand);
    if (rc != 0)
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (files.n == 0 || operand != argc) {
        fprintf(stderr, "ecsched apply: give the jobs files with -f FILE (once per file, and no "
                        "other arguments); see 'ecsched apply --help'\n");
        return CLI_EXIT_USAGE;
    }
    if (client_init(&a.client, server, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched apply: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    if (jobfile_load_many(files.v, files.n, &a.jf, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched apply: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    a.valid = json_array();
    a.current = json_object();
    a.steps = json_array();
    a.problems = json_array();
    check_file(&a);
    print_problems(&a);
    if (a.nproblems > 0) {
        fprintf(stderr, "ecsched apply: %zu problem%s in %s; nothing was changed\n", a.nproblems,
                a.nproblems == 1 ? "" : "s", a.jf.name);
        apply_free(&a);
        return CLI_EXIT_USAGE;
    }
    if (load_current(&a) != 0 || plan(&a) != 0) {
        apply_free(&a);
        return CLI_EXIT_FAIL;
    }
    rc = execute(&a);
    apply_free(&a);
    return rc;
}
