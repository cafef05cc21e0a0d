/* jobfile.h - a file of jobs, YAML or JSON, in the API's own field names,
 * for `ecsched apply` and `ecsched job create/update -f`. Three shapes are
 * read: a top-level list of jobs, a mapping {jobs: [...]} (what `ecsched
 * export` writes; beside jobs, keys named x-NAME may hold anchors the jobs
 * share), or a single job mapping. Each job keeps the lines of its
 * fields, so problems are reported where they are. */
#ifndef ECS_CLI_JOBFILE_H
#define ECS_CLI_JOBFILE_H

#include <jansson.h>
#include <stddef.h>

struct jobfile {
    /* as given ("-" reads stdin, named <stdin>); of several files, the
     * first and how many more */
    char name[512];
    json_t *doc;        /* owned: the whole document */
    json_t *doc_marks;  /* owned: its lines (yamlio marks) */
    json_t *jobs;       /* owned reference: the array of jobs (part of doc,
                           or made around a single job) */
    json_t *jobs_marks; /* owned reference: their marks */
    json_t *files;      /* owned, of several files: their names in order; else NULL */
    json_t *file_of;    /* owned, of several files: each job's place in files */
};

/* Read path. 0 with jf filled (release with jobfile_free); ECS_EINVAL
 * with "FILE:LINE: what is wrong" in msg for unreadable YAML or a
 * document of another shape (an empty file is an error: apply --prune of
 * nothing would delete every job; write `jobs: []` to mean that). */
int jobfile_load(const char *path, struct jobfile *jf, char *msg, size_t msglen);

/* Read several files (n >= 1) as one list of jobs, in the order given;
 * each job keeps its own file for messages (jobfile_file). */
int jobfile_load_many(const char *const *paths, size_t n, struct jobfile *jf, char *msg,
                      size_t msglen);

/* The name of the file job i came from, and its place among the files
 * given (0 for the first or only one). */
const char *jobfile_file(const struct jobfile *jf, size_t i);
size_t jobfile_file_number(const struct jobfile *jf, size_t i);
/* The name of the file at place number among those given. */
const char *jobfile_file_named(const struct jobfile *jf, size_t number);

/* Drops every reference and sets them NULL; safe twice. */
void jobfile_free(struct jobfile *jf);

/* Line of job i's field at a dotted path ("schedule",
 * "overrides.0.environment"), or of the job itself for "". */
int jobfile_line(const struct jobfile *jf, size_t i, const char *path);

/* A name for job i in messages: its id, else its taskDefinition, else
 * "#N" (its position, from 1). Points into jf or buf. */
const char *jobfile_job_name(const struct jobfile *jf, size_t i, char *buf, size_t len);

#endif
