/* error.c - descriptions of ecsched's error codes and the message helper. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *ecs_strerror(int code)
{
    switch (code) {
    case ECS_OK:
        return "success";
    case ECS_EINVAL:
        return "invalid input";
    case ECS_ENOMEM:
        return "out of memory";
    case ECS_EIO:
        return "input/output error";
    case ECS_ENOTFOUND:
        return "not found";
    case ECS_ENEVER:
        return "never fires";
    case ECS_ERANGE:
        return "value out of range";
    case ECS_EEXIST:
        return "already exists";
    case ECS_ECONFLICT:
        return "changed concurrently";
    case ECS_EUNAVAILABLE:
        return "store unavailable";
    case ECS_ENOTSUP:
        return "not supported";
    case ECS_ELINK:
        return "breaks a link between records";
    default:
        return "unknown error";
    }
}

int ecs_fail(int code, char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;

    if (msg == NULL || msglen == 0)
        return code;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return code;
}
