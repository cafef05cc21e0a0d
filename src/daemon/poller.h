/* poller.h - the long-polling side of s3-triggered jobs: one thread per
 * such job (not suspended) receives its queue's messages and hands those
 * that announce new objects to the scheduler; messages that announce
 * nothing for the job (s3:TestEvent, other buckets, prefixes, suffixes)
 * are deleted here. The scheduler keeps the set in step with the jobs. */
#ifndef ECS_POLLER_H
#define ECS_POLLER_H

#include <jansson.h>
#include <stddef.h>

#include "core/log.h"
#include "trigger/trigger.h"

/* A message with objects for job_id (see trigger_s3_receive): borrowed for
 * the call. Called on the poller's thread. */
typedef void (*poller_emit_fn)(void *ctx, const char *job_id, const json_t *message);

struct pollers;

/* triggers and log are borrowed. *out is the caller's: pollers_free(). */
int pollers_init(struct triggers *t, struct logger *log, poller_emit_fn emit, void *ctx,
                 struct pollers **out, char *msg, size_t msglen);

/* job id was stored as job (NULL: deleted): start its poller when it has an
 * s3 trigger and is not suspended, restart it when the trigger changed,
 * stop it otherwise. Never waits for a long poll in flight. */
void pollers_sync(struct pollers *p, const char *id, const json_t *job);

/* Stop every poller (long polls in flight are cut short) and free; sets
 * *p to NULL. */
void pollers_free(struct pollers **p);

#endif
