/* test_heap.c - the indexed heap against a brute-force model: random
 * sets, moves, removals and pops, checking order and the index each step. */
#include <stdlib.h>

#include "core/heap.h"
#include "harness.h"

#define SLOTS 300

/* The model: when[slot], present[slot]. */
static int64_t model_when[SLOTS];
static int model_present[SLOTS];

static int model_min(int64_t *when)
{
    int found = 0;
    int s;

    for (s = 0; s < SLOTS; s++) {
        if (model_present[s] && (!found || model_when[s] < *when)) {
            *when = model_when[s];
            found = 1;
        }
    }
    return found;
}

static void test_against_model(void)
{
    struct heap h;
    uint32_t seed = 12345;
    int step;
    int mismatches = 0;
    size_t count = 0;

    heap_init(&h);
    memset(model_present, 0, sizeof(model_present));
    for (step = 0; step < 200000; step++) {
        uint32_t r;
        uint32_t slot;
        int64_t when;
        struct heap_entry top;

        seed = seed * 1103515245u + 12345u;
        r = seed >> 8;
        slot = r % SLOTS;
        when = (int64_t)((r >> 9) % 1000);
        switch (r % 7) {
        case 0:
        case 1:
        case 2:
            if (heap_set(&h, slot, when) != 0)
                mismatches++;
            if (!model_present[slot])
                count++;
            model_present[slot] = 1;
            model_when[slot] = when;
            break;
        case 3:
            heap_remove(&h, slot);
            if (model_present[slot])
                count--;
            model_present[slot] = 0;
            break;
        case 4:
            if (heap_pop(&h, &top) == 0) {
                int64_t want = 0;

                if (!model_min(&want) || want != top.when || !model_present[top.slot] ||
                    model_when[top.slot] != top.when)
                    mismatches++;
                model_present[top.slot] = 0;
                count--;
            } else if (count != 0) {
                mismatches++;
            }
            break;
        default:
            if ((heap_contains(&h, slot) != 0) != (model_present[slot] != 0))
                mismatches++;
            break;
        }
        if (heap_size(&h) != count)
            mismatches++;
        if (heap_peek(&h, &top) == 0) {
            int64_t want = 0;

            if (!model_min(&want) || want != top.when)
                mismatches++;
        }
    }
    T_EQ_INT(mismatches, 0);
    heap_free(&h);
}

static void test_basics(void)
{
    struct heap h;
    struct heap_entry e;

    heap_init(&h);
    T_EQ_INT(heap_peek(&h, &e), -1);
    T_EQ_INT(heap_pop(&h, &e), -1);
    T_EQ_INT(heap_set(&h, 7, 30), 0);
    T_EQ_INT(heap_set(&h, 2, 10), 0);
    T_EQ_INT(heap_set(&h, 5000, 20), 0);
    T_EQ_INT(heap_peek(&h, &e), 0);
    T_EQ_INT(e.slot, 2);
    /* moving the head later lets the next one up */
    T_EQ_INT(heap_set(&h, 2, 40), 0);
    T_EQ_INT(heap_pop(&h, &e), 0);
    T_EQ_INT(e.slot, 5000);
    T_EQ_INT(e.when, 20);
    heap_remove(&h, 7);
    heap_remove(&h, 7);
    heap_remove(&h, 99999);
    T_EQ_INT(heap_size(&h), 1);
    T_EQ_INT(heap_pop(&h, &e), 0);
    T_EQ_INT(e.slot, 2);
    T_EQ_INT(e.when, 40);
    T_EQ_INT(heap_size(&h), 0);
    heap_free(&h);
}

static const struct test_case cases[] = {
    {"basics", test_basics},
    {"against_model", test_against_model},
};

TEST_MAIN("heap", cases)
