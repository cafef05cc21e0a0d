/* messages.h - the validation messages of the jobs API, word for word as
 * ECS Scheduler (marshmallow 2) says them, shared by every module that
 * checks part of a job (src/core/job.c, src/trigger/). */
#ifndef ECS_MESSAGES_H
#define ECS_MESSAGES_H

#define MSG_MISSING "Missing data for required field."
#define MSG_NULL "Field may not be null."
#define MSG_STRING "Not a valid string."
#define MSG_INTEGER "Not a valid integer."
#define MSG_BOOLEAN "Not a valid boolean."
#define MSG_DATETIME "Not a valid datetime."
#define MSG_LIST "Not a valid list."
#define MSG_MAPPING "Not a valid mapping type."
#define MSG_INPUT_TYPE "Invalid input type."
#define MSG_COUNT_RANGE "Must be between 1 and 50."
#define MSG_AT_LEAST_0 "Must be at least 0."
#define MSG_AT_LEAST_1 "Must be at least 1."
#define MSG_NAME "task definition names must contain only alphanumeric, underscore, and hyphen"
#define MSG_NAME_LONG "task definition names must be at most 255 characters"
#define MSG_TASKDEF_REVISION                                                                       \
    "A task definition's revision is a whole number from 1 (FAMILY:REVISION)."
#define MSG_TASKDEF_ARN                                                                            \
    "Not a task definition ARN (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION)."
#define MSG_SQS_QUEUE "sqs trigger type requires queueName field"
#define MSG_END_BEFORE_START "scheduleEnd must not be before scheduleStart."
#define MSG_UNKNOWN_FIELD "Unknown field."

#endif
