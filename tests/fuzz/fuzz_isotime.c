/* fuzz_isotime.c - isotime_parse on any text. Property: what parses names
 * an instant that, formatted at its own offset, in UTC and in a few
 * zones, parses back to the same instant. */
#include <string.h>

#include "core/error.h"
#include "core/isotime.h"
#include "core/tz.h"
#include "fuzz.h"

static const char *const zone_names[] = {"America/New_York", "Asia/Kathmandu", "Pacific/Kiritimati",
                                         "America/Juneau", "Australia/Lord_Howe"};
#define NZONES (sizeof(zone_names) / sizeof(zone_names[0]))

static void round_trip(const char *text, int64_t t, int32_t offset, const struct tz *zone)
{
    char buf[64];
    char msg[512];
    struct isotime back;
    int rc;

    if (zone != NULL)
        isotime_format_in(t, zone, buf, sizeof(buf));
    else
        isotime_format(t, offset, buf, sizeof(buf));
    rc = isotime_parse(buf, &back, msg, sizeof(msg));
    FUZZ_CHECK(rc == 0, "'%s' (%lld) formats as '%s', which does not parse: %s", text, (long long)t,
               buf, msg);
    FUZZ_CHECK(isotime_instant(&back, NULL) == t, "'%s' (%lld) formats as '%s', read as %lld", text,
               (long long)t, buf, (long long)isotime_instant(&back, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct isotime it;
    char msg[512];
    size_t i;
    int64_t t;
    int rc;

    if (text == NULL)
        return 0;
    msg[0] = '\0';
    rc = isotime_parse(text, &it, msg, sizeof(msg));
    if (rc != 0) {
        FUZZ_CHECK(rc == ECS_EINVAL && strstr(msg, "is not a valid date-time") != NULL,
                   "'%s' refused with rc %d and '%s'", text, rc, msg);
        free(text);
        return 0;
    }
    FUZZ_CHECK(it.usec >= 0 && it.usec < 1000000, "'%s': usec %d", text, (int)it.usec);
    t = isotime_instant(&it, NULL);
    round_trip(text, t, it.offset, NULL);
    round_trip(text, t, 0, NULL);
    for (i = 0; i < NZONES; i++) {
        int64_t local = isotime_instant(&it, fuzz_zone(zone_names[i]));

        round_trip(text, t, 0, fuzz_zone(zone_names[i]));
        round_trip(text, local, 0, fuzz_zone(zone_names[i]));
    }
    free(text);
    return 0;
}
