/* backends.h - the backends store.c can open; private to src/store/. */
#ifndef ECS_STORE_BACKENDS_H
#define ECS_STORE_BACKENDS_H

#include "store.h"

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_memory;

/* Copy helpers the backends share. */
char *store_strdup(const char *s);
/* Deep copy of a run; 0 or ECS_ENOMEM (to is then cleared). */
int store_run_copy(const struct store_run *from, struct store_run *to);

/* The pipeline graph (see store.h), checked the same way by every
 * backend, each looking records up in its own transaction. */

/* The upstream named in data (a job's JSON text) into up ("" for none). */
void store_upstream_of(const char *data, char *up, size_t uplen);

/* Record id's upstream into up ("" for none): 0, ECS_ENOTFOUND when
 * there is no record id, or another error with msg. */
typedef int (*store_upstream_fn)(void *ctx, const char *id, char *up, size_t uplen, char *msg,
                                 size_t msglen);

/* Whether record id may name upstream `up` ("" for none): 0, ECS_ELINK
 * with why, or the lookup's error. */
int store_check_upstream(const char *id, const char *up, store_upstream_fn lookup, void *ctx,
                         char *msg, size_t msglen);

/* A refused delete names this many of the job's followers at most. */
#define STORE_FOLLOWERS_NAMED 10

/* ECS_ELINK with the message of a refused delete of id, which the n
 * records in followers (of `total`) name. */
int store_followed(const char *id, const char *const *followers, size_t n, size_t total, char *msg,
                   size_t msglen);

#endif
