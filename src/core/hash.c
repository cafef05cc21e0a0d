/* hash.c - FNV-1a: short, fast on the short ids and tokens it is given,
 * and fixed by its definition, which startedBy values rely on. */
#include "core/hash.h"

uint32_t hash_fnv32(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}
