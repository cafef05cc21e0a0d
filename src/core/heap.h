/* heap.h - an indexed binary min-heap of (when, slot): the scheduler's
 * timer queue. Slots are small integers naming jobs; each slot is in the
 * heap at most once, and can be moved (a job's next fire time changed) or
 * removed (job deleted or suspended) in O(log n). */
#ifndef ECS_HEAP_H
#define ECS_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct heap_entry {
    int64_t when;
    uint32_t slot;
};

struct heap {
    struct heap_entry *e; /* the heap array */
    size_t n;
    size_t cap;
    uint32_t *pos; /* pos[slot] = index in e + 1; 0 = not in the heap */
    size_t npos;
};

void heap_init(struct heap *h);
void heap_free(struct heap *h);

/* Put slot in the heap at `when`, or move it there if present. 0 or
 * ECS_ENOMEM (the heap is unchanged then). */
int heap_set(struct heap *h, uint32_t slot, int64_t when);

/* Take slot out; no effect when it is not in. */
void heap_remove(struct heap *h, uint32_t slot);

/* The earliest entry: 0 and *out, or -1 when empty. Ties keep no order. */
int heap_peek(const struct heap *h, struct heap_entry *out);

/* Remove and return the earliest entry: 0 or -1 when empty. */
int heap_pop(struct heap *h, struct heap_entry *out);

int heap_contains(const struct heap *h, uint32_t slot);
size_t heap_size(const struct heap *h);

#endif
