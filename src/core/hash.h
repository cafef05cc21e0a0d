/* hash.h - the string hash ecsched's in-memory indexes share (the
 * scheduler's job slots, the fake launcher's tasks) and that names a long
 * job's tasks in startedBy, so it must stay the same across versions. */
#ifndef ECS_HASH_H
#define ECS_HASH_H

#include <stdint.h>

/* 32-bit FNV-1a of a NUL-terminated string. */
uint32_t hash_fnv32(const char *s);

#endif
