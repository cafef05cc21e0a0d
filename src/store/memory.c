/* memory.c - a store kept in memory, for tests and throwaway runs: the
 * same contract as the durable backends, lost on exit. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "core/error.h"

struct mem {
    pthread_mutex_t lock;
    struct store_record *rec; /* creation order */
    size_t n;
    size_t cap;
};

static int mem_open(const char *location, void **impl, char *msg, size_t msglen)
{
    struct mem *m = calloc(1, sizeof(*m));

    (void)location;
    if (m == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the memory store");
    pthread_mutex_init(&m->lock, NULL);
    *impl = m;
    return 0;
}

static void mem_close(void *impl)
{
    struct mem *m = impl;
    size_t i;

    for (i = 0; i < m->n; i++)
        store_record_clear(&m->rec[i]);
    free(m->rec);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int mem_ping(void *impl, char *msg, size_t msglen)
{
    (void)impl;
    (void)msg;
    (void)msglen;
    return 0;
}

/* Index of id, or -1; the lock is held. */
static long mem_find(const struct mem *m, const char *id)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        if (strcmp(m->rec[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

static int copy_record(const struct store_record *from, struct store_record *to)
{
    to->id = store_strdup(from->id);
    to->data = store_strdup(from->data);
    to->version = from->version;
    if (to->id == NULL || to->data == NULL) {
        store_record_clear(to);
        return ECS_ENOMEM;
    }
    return 0;
}

static int mem_get(void *impl, const char *id, struct store_record *out, char *msg,
                   size_t msglen)
{
    struct mem *m = impl;
    long i;
    int rc;

    pthread_mutex_lock(&m->lock);
    i = mem_find(m, id);
    if (i < 0)
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    else
        rc = copy_record(&m->rec[i], out);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_list(void *impl, size_t skip, size_t count, struct store_record **out, size_t *n,
                    size_t *total, char *msg, size_t msglen)
{
    struct mem *m = impl;
    size_t i;
    size_t k = 0;
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    *total = m->n;
    if (skip < m->n && count > 0) {
        size_t want = m->n - skip < count ? m->n - skip : count;

        *out = calloc(want, sizeof(**out));
        if (*out == NULL) {
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory listing records");
        } else {
            for (i = skip; i < skip + want && rc == 0; i++) {
                rc = copy_record(&m->rec[i], &(*out)[k]);
                if (rc == 0)
                    k++;
            }
        }
    }
    *n = k;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_create(void *impl, const char *id, const char *data, char *msg, size_t msglen)
{
    struct mem *m = impl;
    struct store_record r = {NULL, NULL, 1};
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    if (mem_find(m, id) >= 0) {
        rc = ecs_fail(ECS_EEXIST, msg, msglen, "record '%s' exists", id);
        goto out;
    }
    if (m->n == m->cap) {
        size_t ncap = m->cap == 0 ? 16 : m->cap * 2;
        struct store_record *nr = realloc(m->rec, ncap * sizeof(*nr));

        if (nr == NULL) {
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
            goto out;
        }
        m->rec = nr;
        m->cap = ncap;
    }
    r.id = store_strdup(id);
    r.data = store_strdup(data);
    if (r.id == NULL || r.data == NULL) {
        store_record_clear(&r);
        rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
        goto out;
    }
    m->rec[m->n++] = r;
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_update(void *impl, const char *id, const char *data, int64_t expected_version,
                      char *msg, size_t msglen)
{
    struct mem *m = impl;
    long i;
    char *copy;
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    i = mem_find(m, id);
    if (i < 0) {
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    } else if (m->rec[i].version != expected_version) {
        rc = ecs_fail(ECS_ECONFLICT, msg, msglen, "record '%s' changed meanwhile", id);
    } else {
        copy = store_strdup(data);
        if (copy == NULL) {
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
        } else {
            free(m->rec[i].data);
            m->rec[i].data = copy;
            m->rec[i].version++;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_remove(void *impl, const char *id, char *msg, size_t msglen)
{
    struct mem *m = impl;
    long i;
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    i = mem_find(m, id);
    if (i < 0) {
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    } else {
        store_record_clear(&m->rec[i]);
        memmove(&m->rec[i], &m->rec[i + 1], (m->n - (size_t)i - 1) * sizeof(m->rec[0]));
        m->n--;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

const struct store_backend store_backend_memory = {
    .name = "memory",
    .open = mem_open,
    .close = mem_close,
    .ping = mem_ping,
    .get = mem_get,
    .list = mem_list,
    .create = mem_create,
    .update = mem_update,
    .remove = mem_remove,
};
