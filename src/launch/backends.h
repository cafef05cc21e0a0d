/* backends.h - the launch backends launcher.c can open, and helpers they
 * share; private to src/launch/. */
#ifndef ECS_LAUNCH_BACKENDS_H
#define ECS_LAUNCH_BACKENDS_H

#include "launch/launcher.h"

extern const struct launcher_ops launcher_local;
extern const struct launcher_ops launcher_fake;
extern const struct launcher_ops launcher_ecs;

/* A task as the in-process backends (local, fake) keep it. Their task
 * arrays hold elements that begin with this struct; the helpers below walk
 * such an array given its element size, as qsort() does. */
struct launch_entry {
    struct launch_task t;
    char *started_by;
    char *token;
    char *run; /* launch_request.run_token (local); NULL: none */
};

/* Copies of the entries started with client token into out (none found:
 * out stays empty). 0 or ECS_ENOMEM. */
int launch_entries_by_token(const void *base, size_t n, size_t size, const char *token,
                            struct launch_result *out);

/* ARNs of the entries of started_by not yet stopped. 0 or ECS_ENOMEM. */
int launch_entries_active(const void *base, size_t n, size_t size, const char *started_by,
                          char ***arns, size_t *count);

/* The element whose task has this ARN, or NULL. */
void *launch_entries_find(void *base, size_t n, size_t size, const char *arn);

/* Copies of the named tasks into out; unknown ARNs become failures
 * "MISSING", as DescribeTasks reports them. 0 or ECS_ENOMEM. */
int launch_entries_describe(void *base, size_t n, size_t size, const char *const *arns,
                            size_t narns, struct launch_result *out);

/* Deep copy of one task into a result array slot. 0 or ECS_ENOMEM. */
int launch_task_copy(const struct launch_task *from, struct launch_task *to);

/* Append a copy of task to r (growing it). 0 or ECS_ENOMEM. */
int launch_result_add(struct launch_result *r, const struct launch_task *task);
int launch_result_fail(struct launch_result *r, const char *reason);

#endif
