/* tz_cache.h - zones loaded once and shared: a long-running process looks
 * the same few zones up for every job on every request, and loading one
 * means reading and expanding a TZif file. Thread-safe. */
#ifndef ECS_TZ_CACHE_H
#define ECS_TZ_CACHE_H

#include <stddef.h>

#include "tz.h"

struct tz_cache;

/* *out is the caller's, to free with tz_cache_free(). */
int tz_cache_init(struct tz_cache **out);

/* Frees every cached zone (borrowed pointers die with it); sets *c NULL. */
void tz_cache_free(struct tz_cache **c);

/* The zone for name (as tz_load takes it: any case, NULL or "" is UTC).
 * *zone is borrowed from the cache and lives until tz_cache_free(). Errors
 * as tz_load(); failures are not cached. */
int tz_cache_get(struct tz_cache *c, const char *name, const struct tz **zone, char *msg,
                 size_t msglen);

#endif
