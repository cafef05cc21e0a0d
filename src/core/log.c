/* log.c - JSON-lines events. Each line is built whole and written with one
 * call under a lock, so lines from several threads never interleave. */
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "isotime.h"

struct logger {
    FILE *stream;
    enum log_level min;
    pthread_mutex_t lock;
};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_init(struct logger **out, FILE *stream, enum log_level min)
{
    struct logger *l = calloc(1, sizeof(*l));

    *out = NULL;
    if (l == NULL)
        return ECS_ENOMEM;
    l->stream = stream;
    l->min = min;
    pthread_mutex_init(&l->lock, NULL);
    *out = l;
    return 0;
}

void log_free(struct logger **l)
{
    if (l == NULL || *l == NULL)
        return;
    pthread_mutex_destroy(&(*l)->lock);
    free(*l);
    *l = NULL;
}

int log_level_parse(const char *text, enum log_level *out)
{
    int i;

    if (text == NULL)
        return -1;
    if (strcasecmp(text, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    for (i = 0; i < 4; i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

bool log_enabled(const struct logger *l, enum log_level level)
{
    return l != NULL && level >= l->min;
}

void log_event(struct logger *l, enum log_level level, const char *event, json_t *fields)
{
    struct timespec ts;
    char when[48];
    char stamp[64];
    char *head;
    char *rest = NULL;
    json_t *line;

    if (l == NULL || level < l->min) {
        json_decref(fields);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    isotime_format((int64_t)ts.tv_sec, 0, when, sizeof(when));
    /* milliseconds, then the offset: 2026-11-24T13:50:09.123+00:00 */
    snprintf(stamp, sizeof(stamp), "%.19s.%03ld%s", when, ts.tv_nsec / 1000000L, when + 19);
    line = json_pack("{s:s, s:s, s:s}", "time", stamp, "level", level_names[level], "event", event);
    if (line == NULL) {
        json_decref(fields);
        return;
    }
    /* time, level and event first, for people reading the raw lines */
    head = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (fields != NULL && json_object_size(fields) > 0)
        rest = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(line);
    json_decref(fields);
    if (head == NULL) {
        free(rest);
        return;
    }
    pthread_mutex_lock(&l->lock);
    if (rest != NULL)
        fprintf(l->stream, "%.*s,%s\n", (int)strlen(head) - 1, head, rest + 1);
    else
        fprintf(l->stream, "%s\n", head);
    fflush(l->stream);
    pthread_mutex_unlock(&l->lock);
    free(head);
    free(rest);
}
