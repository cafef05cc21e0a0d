/* error.h - the one list of error codes every ecsched module returns.
 * Functions return 0 on success or one of these negative codes; the detail
 * goes into a caller-provided message buffer (one line, no newline). */
#ifndef ECS_ERROR_H
#define ECS_ERROR_H

#include <stddef.h>

enum ecs_error {
    ECS_OK = 0,
    ECS_EINVAL = -1,       /* bad input: expression, file, name, argument */
    ECS_ENOMEM = -2,       /* allocation failed */
    ECS_EIO = -3,          /* a read or write failed */
    ECS_ENOTFOUND = -4,    /* the named thing does not exist */
    ECS_ENEVER = -5,       /* a schedule has no fire time after the given instant */
    ECS_ERANGE = -6,       /* a value is outside what can be represented */
    ECS_EEXIST = -7,       /* a record with that key exists already */
    ECS_ECONFLICT = -8,    /* the record changed since it was read */
    ECS_EUNAVAILABLE = -9, /* the store cannot take the write now (full, read-only, locked) */
    ECS_ENOTSUP = -10,     /* the backend has no such operation */
    ECS_ELINK = -11        /* the write would break a link between records (a pipeline's
                            * cycle, a follower of a missing job) */
};

/* Short static description of a code, e.g. "invalid input". */
const char *ecs_strerror(int code);

/* Format into msg (always NUL-terminated when msglen > 0); returns code, so
 * callers can write `return ecs_fail(ECS_EINVAL, msg, len, "...", ...)`. */
int ecs_fail(int code, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
