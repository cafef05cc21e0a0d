/* noop.c - the trigger that asks for nothing: taskCount decides (seed 004's
 * default when a job has no trigger). */
#include <string.h>

#include "core/messages.h"
#include "trigger/backends.h"

static void noop_validate(const json_t *in, json_t *out, json_t *errs)
{
    const char *k;
    const json_t *v;

    (void)out;
    json_object_foreach((json_t *)in, k, v) {
        if (strcmp(k, "type") != 0)
            trigger_error(errs, k, MSG_UNKNOWN_FIELD);
    }
}

static int noop_expected(struct triggers *t, const json_t *job, const json_t *trigger,
                         int64_t *count, json_t **detail, char *msg, size_t msglen)
{
    (void)t;
    (void)job;
    (void)trigger;
    (void)detail;
    (void)msg;
    (void)msglen;
    *count = -1;
    return 0;
}

const struct trigger_ops trigger_noop = {
    .name = "noop",
    .validate = noop_validate,
    .expected = noop_expected,
};
