/* log.h - JSON-lines event logs: one JSON object per line on a stream
 * (stderr in the daemon), with "time", "level" and "event" first and the
 * event's fields after. Thread-safe; a logger is passed down in the
 * context structs that need it, never global. */
#ifndef ECS_LOG_H
#define ECS_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

struct logger;

/* *out is the caller's, freed with log_free(). Events below min are
 * dropped. The stream is borrowed. */
int log_init(struct logger **out, FILE *stream, enum log_level min);
void log_free(struct logger **l);

/* Write one event. fields (may be NULL) is an object whose reference the
 * call takes over. Safe with l == NULL (the event is dropped). */
void log_event(struct logger *l, enum log_level level, const char *event, json_t *fields);

/* Whether an event at level would be written: lets a hot path skip
 * building fields that would only be dropped. */
bool log_enabled(const struct logger *l, enum log_level level);

/* "debug", "info", "warn"/"warning", "error", any case: 0 and *out, or -1. */
int log_level_parse(const char *text, enum log_level *out);

#endif
