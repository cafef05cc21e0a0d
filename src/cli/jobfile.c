/* jobfile.c - reading a jobs file into a list of job objects with their
 * lines (see jobfile.h for the shapes accepted and why). */
#include "cli/jobfile.h"

#include <stdio.h>
#include <string.h>

#include "cli/jsonref.h"
#include "cli/yamlio.h"
#include "core/error.h"

/* A top-level key other than "jobs" and the x-NAME keys that hold
 * anchors for the jobs to share (as Compose files do), or NULL. */
static const char *unknown_key(const json_t *doc)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)doc, key, v) {
        if (strcmp(key, "jobs") != 0 && strncmp(key, "x-", 2) != 0)
            return key;
    }
    return NULL;
}

int jobfile_load(const char *path, struct jobfile *jf, char *msg, size_t msglen)
{
    const json_t *list;
    int rc;

    memset(jf, 0, sizeof(*jf));
    snprintf(jf->name, sizeof(jf->name), "%s", strcmp(path, "-") == 0 ? "<stdin>" : path);
    rc = yamlio_load_file(path, &jf->doc, &jf->doc_marks, msg, msglen);
    if (rc != 0)
        return rc;
    if (jf->doc == NULL) {
        rc = ecs_fail(ECS_EINVAL, msg, msglen,
                      "%s: the file holds no jobs (write 'jobs: []' to mean none)", jf->name);
        jobfile_free(jf);
        return rc;
    }
    if (json_is_array(jf->doc)) {
        jf->jobs = json_incref(jf->doc);
        jf->jobs_marks = json_incref(jf->doc_marks);
        return 0;
    }
    if (!json_is_object(jf->doc)) {
        rc = ecs_fail(ECS_EINVAL, msg, msglen,
                      "%s:%d: expected a list of jobs, 'jobs:' with a list, or one job", jf->name,
                      yamlio_line(jf->doc_marks, ""));
        jobfile_free(jf);
        return rc;
    }
    list = json_object_get(jf->doc, "jobs");
    if (list == NULL) {
        /* one job on its own */
        jf->jobs = json_pack("[O]", jf->doc);
        jf->jobs_marks =
            json_pack("{s:i, s:[O]}", "@", yamlio_line(jf->doc_marks, ""), "i", jf->doc_marks);
        if (jf->jobs == NULL || jf->jobs_marks == NULL) {
            jobfile_free(jf);
            return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
        }
        return 0;
    }
    if (!json_is_array(list) || unknown_key(jf->doc) != NULL) {
        const char *bad = json_is_array(list) ? unknown_key(jf->doc) : "jobs";

        if (strcmp(bad, "jobs") == 0)
            rc = ecs_fail(ECS_EINVAL, msg, msglen, "%s:%d: 'jobs' must be a list of jobs", jf->name,
                          yamlio_line(jf->doc_marks, bad));
        else
            rc = ecs_fail(ECS_EINVAL, msg, msglen,
                          "%s:%d: unknown top-level key '%s' (only 'jobs' is read, and x-NAME keys "
                          "for anchors)",
                          jf->name, yamlio_line(jf->doc_marks, bad), bad);
        jobfile_free(jf);
        return rc;
    }
    jf->jobs = json_incref((json_t *)list);
    jf->jobs_marks = json_incref((json_t *)yamlio_child(jf->doc_marks, "jobs"));
    return 0;
}

void jobfile_free(struct jobfile *jf)
{
    json_drop(&jf->doc);
    json_drop(&jf->doc_marks);
    json_drop(&jf->jobs);
    json_drop(&jf->jobs_marks);
    json_drop(&jf->files);
    json_drop(&jf->file_of);
}

/* Append one file's jobs, their marks and file name to all's. */
static int append_file(struct jobfile *all, const struct jobfile *one)
{
    const json_t *marks = json_object_get(one->jobs_marks, "i");
    size_t number = json_array_size(all->files);
    size_t i;

    if (json_array_append_new(all->files, json_string(one->name)) != 0)
        return ECS_ENOMEM;
    for (i = 0; i < json_array_size(one->jobs); i++) {
        if (json_array_append(all->jobs, json_array_get(one->jobs, i)) != 0 ||
            json_array_append_new(json_object_get(all->jobs_marks, "i"),
                                  json_is_array(marks) && json_array_get(marks, i) != NULL
                                      ? json_incref(json_array_get(marks, i))
                                      : json_object()) != 0 ||
            json_array_append_new(all->file_of, json_integer((json_int_t)number)) != 0)
            return ECS_ENOMEM;
    }
    return 0;
}

int jobfile_load_many(const char *const *paths, size_t n, struct jobfile *jf, char *msg,
                      size_t msglen)
{
    size_t stdin_uses = 0;
    size_t k;
    int rc = 0;

    if (n == 1)
        return jobfile_load(paths[0], jf, msg, msglen);
    memset(jf, 0, sizeof(*jf));
    for (k = 0; k < n; k++)
        stdin_uses += strcmp(paths[k], "-") == 0;
    if (stdin_uses > 1)
        return ecs_fail(ECS_EINVAL, msg, msglen, "'-f -' (stdin) may be given only once");
    snprintf(jf->name, sizeof(jf->name), "%s and %zu more file%s",
             strcmp(paths[0], "-") == 0 ? "<stdin>" : paths[0], n - 1, n == 2 ? "" : "s");
    jf->jobs = json_array();
    jf->jobs_marks = json_pack("{s:i, s:[]}", "@", 0, "i");
    jf->files = json_array();
    jf->file_of = json_array();
    if (jf->jobs == NULL || jf->jobs_marks == NULL || jf->files == NULL || jf->file_of == NULL)
        rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    for (k = 0; rc == 0 && k < n; k++) {
        struct jobfile one;

        rc = jobfile_load(paths[k], &one, msg, msglen);
        if (rc != 0)
            break;
        if (append_file(jf, &one) != 0)
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
        jobfile_free(&one);
    }
    if (rc != 0)
        jobfile_free(jf);
    return rc;
}

size_t jobfile_file_number(const struct jobfile *jf, size_t i)
{
    return (size_t)json_integer_value(json_array_get(jf->file_of, i));
}

const char *jobfile_file_named(const struct jobfile *jf, size_t number)
{
    const char *name = json_string_value(json_array_get(jf->files, number));

    return name != NULL ? name : jf->name;
}

const char *jobfile_file(const struct jobfile *jf, size_t i)
{
    return jobfile_file_named(jf, jobfile_file_number(jf, i));
}

int jobfile_line(const struct jobfile *jf, size_t i, const char *path)
{
    char index[32];

    snprintf(index, sizeof(index), "%zu", i);
    return yamlio_line(yamlio_child(jf->jobs_marks, index), path);
}

const char *jobfile_job_name(const struct jobfile *jf, size_t i, char *buf, size_t len)
{
    const json_t *job = json_array_get(jf->jobs, i);
    const char *id = json_string_value(json_object_get(job, "id"));

    if (id == NULL)
        id = json_string_value(json_object_get(job, "taskDefinition"));
    if (id != NULL && id[0] != '\0')
        return id;
    snprintf(buf, len, "#%zu", i + 1);
    return buf;
}
