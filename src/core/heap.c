/* heap.c - the indexed min-heap: a plain array heap plus a slot -> index
 * table kept in step on every swap. */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

void heap_init(struct heap *h)
{
    memset(h, 0, sizeof(*h));
}

void heap_free(struct heap *h)
{
    free(h->e);
    free(h->pos);
    memset(h, 0, sizeof(*h));
}

static void place(struct heap *h, size_t i, struct heap_entry x)
{
    h->e[i] = x;
    h->pos[x.slot] = (uint32_t)(i + 1);
}

static void sift_up(struct heap *h, size_t i)
{
    struct heap_entry x = h->e[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (h->e[parent].when <= x.when)
            break;
        place(h, i, h->e[parent]);
        i = parent;
    }
    place(h, i, x);
}

static void sift_down(struct heap *h, size_t i)
{
    struct heap_entry x = h->e[i];

    for (;;) {
        size_t child = 2 * i + 1;

        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->e[child + 1].when < h->e[child].when)
            child++;
        if (x.when <= h->e[child].when)
            break;
        place(h, i, h->e[child]);
        i = child;
    }
    place(h, i, x);
}

static int grow_pos(struct heap *h, uint32_t slot)
{
    size_t need = (size_t)slot + 1;
    size_t ncap;
    uint32_t *np;

    if (need <= h->npos)
        return 0;
    ncap = h->npos == 0 ? 64 : h->npos;
    while (ncap < need)
        ncap *= 2;
    np = realloc(h->pos, ncap * sizeof(*np));
    if (np == NULL)
        return ECS_ENOMEM;
    memset(np + h->npos, 0, (ncap - h->npos) * sizeof(*np));
    h->pos = np;
    h->npos = ncap;
    return 0;
}

int heap_set(struct heap *h, uint32_t slot, int64_t when)
{
    struct heap_entry x;
    size_t i;

    if (grow_pos(h, slot) != 0)
        return ECS_ENOMEM;
    if (h->pos[slot] != 0) {
        i = h->pos[slot] - 1;
        h->e[i].when = when;
        sift_up(h, i);
        sift_down(h, h->pos[slot] - 1);
        return 0;
    }
    if (h->n == h->cap) {
        size_t ncap = h->cap == 0 ? 64 : h->cap * 2;
        struct heap_entry *ne = realloc(h->e, ncap * sizeof(*ne));

        if (ne == NULL)
            return ECS_ENOMEM;
        h->e = ne;
        h->cap = ncap;
    }
    x.when = when;
    x.slot = slot;
    h->e[h->n] = x;
    h->pos[slot] = (uint32_t)(h->n + 1);
    h->n++;
    sift_up(h, h->n - 1);
    return 0;
}

void heap_remove(struct heap *h, uint32_t slot)
{
    size_t i;
    struct heap_entry last;

    if (slot >= h->npos || h->pos[slot] == 0)
        return;
    i = h->pos[slot] - 1;
    h->pos[slot] = 0;
    h->n--;
    if (i == h->n)
        return;
    last = h->e[h->n];
    place(h, i, last);
    sift_up(h, i);
    sift_down(h, h->pos[last.slot] - 1);
}

int heap_peek(const struct heap *h, struct heap_entry *out)
{
    if (h->n == 0)
        return -1;
    *out = h->e[0];
    return 0;
}

int heap_pop(struct heap *h, struct heap_entry *out)
{
    if (h->n == 0)
        return -1;
    *out = h->e[0];
    heap_remove(h, out->slot);
    return 0;
}

int heap_contains(const struct heap *h, uint32_t slot)
{
    return slot < h->npos && h->pos[slot] != 0;
}

size_t heap_size(const struct heap *h)
{
    return h->n;
}
