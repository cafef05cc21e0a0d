/* backends.h - the launch backends launcher.c can open, and helpers they
 * share; private to src/launch/. */
#ifndef ECS_LAUNCH_BACKENDS_H
#define ECS_LAUNCH_BACKENDS_H

#include "launch/launcher.h"

extern const struct launcher_ops launcher_local;
extern const struct launcher_ops launcher_fake;

/* Deep copy of one task into a result array slot. 0 or ECS_ENOMEM. */
int launch_task_copy(const struct launch_task *from, struct launch_task *to);

/* Append a copy of task to r (growing it). 0 or ECS_ENOMEM. */
int launch_result_add(struct launch_result *r, const struct launch_task *task);
int launch_result_fail(struct launch_result *r, const char *reason);

#endif
