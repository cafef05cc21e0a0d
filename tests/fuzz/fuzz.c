/* fuzz.c - helpers shared by the fuzz targets (linked into every one). */
#include <string.h>

#include "core/tz.h"
#include "fuzz.h"

#define FUZZ_ZONES_MAX 16

char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s;

    if (memchr(data, '\0', size) != NULL)
        return NULL;
    s = malloc(size + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

const struct tz *fuzz_zone(const char *name)
{
    static const char *names[FUZZ_ZONES_MAX];
    static struct tz *zones[FUZZ_ZONES_MAX];
    static size_t n;
    char msg[256];
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0)
            return zones[i];
    }
    FUZZ_CHECK(n < FUZZ_ZONES_MAX, "more than %d zones", FUZZ_ZONES_MAX);
    FUZZ_CHECK(tz_load(name, &zones[n], msg, sizeof(msg)) == 0, "zone %s: %s", name, msg);
    names[n] = name;
    n++;
    return zones[n - 1];
}
