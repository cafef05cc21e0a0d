/* store.h - the one front door to job storage. Backends (SQLite, memory,
 * later PostgreSQL) sit behind `struct store_backend`; nothing outside
 * src/store/ knows which one it has.
 *
 * Records are (id, data, version): data is the job's JSON text, version
 * grows by one on every update and guards compare-and-swap updates. Lists
 * come in creation order (a deleted and re-created id moves to the end). A
 * write returns only once it is durable; a failed write leaves the store
 * as it was. */
#ifndef ECS_STORE_H
#define ECS_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store_record {
    char *id;
    char *data;
    int64_t version;
};

enum store_change { STORE_CREATED, STORE_UPDATED, STORE_DELETED };

/* Called after every successful write through this handle, on the
 * writer's thread; must not call back into the store. */
typedef void (*store_change_fn)(void *ctx, enum store_change change, const char *id);

/* A backend: name first, then its operations. impl is the backend's own
 * state. Every operation returns 0 or a negative ECS_E* code with a
 * one-line message. */
struct store_backend {
    const char *name;
    int (*open)(const char *location, void **impl, char *msg, size_t msglen);
    void (*close)(void *impl);
    int (*ping)(void *impl, char *msg, size_t msglen);
    int (*get)(void *impl, const char *id, struct store_record *out, char *msg, size_t msglen);
    int (*list)(void *impl, size_t skip, size_t count, struct store_record **out, size_t *n,
                size_t *total, char *msg, size_t msglen);
    int (*create)(void *impl, const char *id, const char *data, char *msg, size_t msglen);
    int (*update)(void *impl, const char *id, const char *data, int64_t expected_version,
                  char *msg, size_t msglen);
    int (*remove)(void *impl, const char *id, char *msg, size_t msglen);
};

struct store;

/* Open a store from a spec: "sqlite:PATH" (parent directory created) or
 * "memory:". *out is the caller's, to close with store_close(). */
int store_open(const char *spec, struct store **out, char *msg, size_t msglen);

/* Closes and sets *s to NULL; safe on NULL. */
void store_close(struct store **s);

const char *store_backend_name(const struct store *s);

/* Register the change listener (one per store; NULL to remove). */
void store_subscribe(struct store *s, store_change_fn fn, void *ctx);

/* Reachable and answering (for /healthz). */
int store_ping(struct store *s, char *msg, size_t msglen);

/* ECS_ENOTFOUND when there is no such id. On success *out holds copies the
 * caller frees with store_record_clear(). */
int store_get(struct store *s, const char *id, struct store_record *out, char *msg,
              size_t msglen);

/* Records skip .. skip+count-1 in creation order, and the total number of
 * records. *out is an array of *n records the caller frees with
 * store_records_free(). */
int store_list(struct store *s, size_t skip, size_t count, struct store_record **out, size_t *n,
               size_t *total, char *msg, size_t msglen);

/* ECS_EEXIST when the id is taken. The new record has version 1. */
int store_create(struct store *s, const char *id, const char *data, char *msg, size_t msglen);

/* Replace data when the stored version is still expected_version:
 * ECS_ECONFLICT when it is not, ECS_ENOTFOUND when the id is gone. */
int store_update(struct store *s, const char *id, const char *data, int64_t expected_version,
                 char *msg, size_t msglen);

/* ECS_ENOTFOUND when there is no such id. */
int store_delete(struct store *s, const char *id, char *msg, size_t msglen);

void store_record_clear(struct store_record *r);
void store_records_free(struct store_record **records, size_t n);

#endif
