/* replay.c - a main() for a fuzz target without libFuzzer: feeds each file
 * named on the command line to LLVMFuzzerTestOneInput once, so make test
 * replays every corpus and regression file through the sanitizer build. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* The whole file in a new buffer (caller frees); NULL on error. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0;
    size_t n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        size_t got;

        if (n == cap) {
            size_t ncap = cap == 0 ? 4096 : cap * 2;
            unsigned char *more = realloc(buf, ncap);

            if (more == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = more;
            cap = ncap;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        size_t len = 0;
        unsigned char *data = slurp(argv[i], &len);

        if (data == NULL) {
            fprintf(stderr, "replay: cannot read %s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        LLVMFuzzerTestOneInput(data, len);
        free(data);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
