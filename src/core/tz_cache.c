/* tz_cache.c - a small thread-safe map from the zone name as written to
 * the loaded zone. Zones are never evicted: there are only a few hundred
 * in the whole database. */
#include "tz_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct tz_cache_entry {
    char *name;
    struct tz *zone;
};

struct tz_cache {
    pthread_mutex_t lock;
    struct tz_cache_entry *e;
    size_t n;
    size_t cap;
};

int tz_cache_init(struct tz_cache **out)
{
    struct tz_cache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return ECS_ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

void tz_cache_free(struct tz_cache **c)
{
    size_t i;

    if (c == NULL || *c == NULL)
        return;
    for (i = 0; i < (*c)->n; i++) {
        free((*c)->e[i].name);
        tz_free(&(*c)->e[i].zone);
    }
    free((*c)->e);
    pthread_mutex_destroy(&(*c)->lock);
    free(*c);
    *c = NULL;
}

int tz_cache_get(struct tz_cache *c, const char *name, const struct tz **zone, char *msg,
                 size_t msglen)
{
    struct tz *loaded = NULL;
    size_t i;
    int rc = 0;

    if (name == NULL || name[0] == '\0') {
        *zone = tz_utc();
        return 0;
    }
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->n; i++) {
        if (strcmp(c->e[i].name, name) == 0) {
            *zone = c->e[i].zone;
            goto out;
        }
    }
    rc = tz_load(name, &loaded, msg, msglen);
    if (rc != 0)
        goto out;
    if (c->n == c->cap) {
        size_t ncap = c->cap == 0 ? 16 : c->cap * 2;
        struct tz_cache_entry *ne = realloc(c->e, ncap * sizeof(*ne));

        if (ne == NULL) {
            tz_free(&loaded);
            rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory caching zone '%s'", name);
            goto out;
        }
        c->e = ne;
        c->cap = ncap;
    }
    c->e[c->n].name = strdup(name);
    if (c->e[c->n].name == NULL) {
        tz_free(&loaded);
        rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory caching zone '%s'", name);
        goto out;
    }
    c->e[c->n].zone = loaded;
    c->n++;
    *zone = loaded;
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}
