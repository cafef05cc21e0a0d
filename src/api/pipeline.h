/* pipeline.h - the API's checks of jobs that run after another (`after`):
 * the upstream exists, no chain of `after` comes back to the job, and a job
 * others follow is not deleted from under them. */
#ifndef ECS_API_PIPELINE_H
#define ECS_API_PIPELINE_H

#include <jansson.h>
#include <stddef.h>

#include "store/store.h"

/* job (validated, to be stored under id): 0, or ECS_EINVAL with *errors a
 * new object in the API's validation shape ({"after": {"job": [...]}}),
 * or a store error with msg. */
int pipeline_check(struct store *st, const char *id, const json_t *job, json_t **errors, char *msg,
                   size_t msglen);

/* The ids of the jobs whose `after` names id, in creation order: *out a new
 * array (the caller's). 0 or a store error. */
int pipeline_followers(struct store *st, const char *id, json_t **out, char *msg, size_t msglen);

#endif
