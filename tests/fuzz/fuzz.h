/* fuzz.h - what every fuzz target shares: the libFuzzer entry point each
 * tests/fuzz/fuzz_<name>.c defines, and a check that aborts with both
 * values named, so a broken property is a finding like a crash. */
#ifndef ECS_FUZZ_H
#define ECS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called with each input; returns 0. Defined once per target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold for every input: print and abort otherwise. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a NUL-terminated string (caller frees), or NULL when it
 * holds a NUL byte (text parsers never see one) or on allocation failure. */
char *fuzz_text(const uint8_t *data, size_t size);

struct tz;

/* The zone of that IANA name, loaded on first use and kept for the life of
 * the process (name must be a string constant); aborts if it does not load. */
const struct tz *fuzz_zone(const char *name);

#endif
