/* fuzz_yaml.c - libFuzzer target for the jobs-file YAML loader and
 * writer: any input the loader accepts, written by yamlio_write and
 * loaded again, must load and give the same JSON value. By hand:
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -D_GNU_SOURCE \
 *     -o build-fuzz/fuzz_yaml tests/fuzz/fuzz_yaml.c src/cli/yamlio.c \
 *     src/cli/yamlscalar.c src/core/error.c -ljansson -lyaml
 *   build-fuzz/fuzz_yaml -dict=tests/fuzz/yaml.dict WORKDIR tests/fuzz/corpus/yaml */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/yamlio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load text as a jobs file; NULL when the loader refuses it. */
static json_t *load(const char *text, size_t len)
{
    char msg[512];
    json_t *value = NULL;
    json_t *marks = NULL;

    if (yamlio_load("fuzz.yaml", text, len, &value, &marks, msg, sizeof(msg)) != 0)
        return NULL;
    json_decref(marks);
    /* an empty document: nothing to write */
    return value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *first = load((const char *)data, size);
    json_t *again;
    char msg[512];
    char *text = NULL;
    size_t len = 0;
    FILE *out;

    if (first == NULL)
        return 0;
    out = open_memstream(&text, &len);
    if (out == NULL)
        abort();
    if (yamlio_write(out, first, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "write failed: %s\n", msg);
        abort();
    }
    fclose(out);
    again = load(text, len);
    if (again == NULL || !json_equal(first, again)) {
        fprintf(stderr, "reload %s:\n%s\n", again == NULL ? "failed" : "differs", text);
        abort();
    }
    json_decref(again);
    json_decref(first);
    free(text);
    return 0;
}
