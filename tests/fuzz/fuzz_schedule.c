/* fuzz_schedule.c - schedule_parse and schedule_next on any text: the
 * first byte picks a zone and a rate anchor, the rest is the expression
 * ('?' resolved first, as the job API does). Properties: a refusal has a
 * message; schedule_next(after) is > after or "never", over instants from
 * 1970 to past 9999 and far outside; each fire time shown in the zone
 * reads back as the same instant. */
#include <string.h>

#include "core/error.h"
#include "core/isotime.h"
#include "core/schedule.h"
#include "core/tz.h"
#include "fuzz.h"

static const char *const zone_names[] = {
    "UTC",
    "America/New_York",
    "Australia/Lord_Howe",
    "Europe/London",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "Africa/Casablanca",
};
#define NZONES (sizeof(zone_names) / sizeof(zone_names[0]))

static const int64_t afters[] = {
    INT64_MIN,    -62167219201LL, 951782400LL,    1730613599LL,
    4102444800LL, 253402300799LL, 253402300800LL, INT64_MAX,
};
#define NAFTERS (sizeof(afters) / sizeof(afters[0]))

static const int64_t anchors[] = {0,         -30610224000LL, 1483228800LL, 253402300799LL,
                                  INT64_MIN, INT64_MAX,      -1,           7};

static uint32_t fixed_rand(void *ctx, uint32_t n)
{
    uint32_t *state = ctx;

    *state = *state * 1664525u + 1013904223u;
    return (*state >> 8) % n;
}

/* The fire time shown in the zone (as the API shows estimatedNextRun)
 * must parse back to the same instant. */
static void check_shown(time_t next, const struct tz *zone)
{
    char buf[64];
    char msg[256];
    struct isotime it;
    int rc;

    isotime_format_in((int64_t)next, zone, buf, sizeof(buf));
    rc = isotime_parse(buf, &it, msg, sizeof(msg));
    FUZZ_CHECK(rc == 0, "%lld shown as '%s' does not parse: %s", (long long)next, buf, msg);
    FUZZ_CHECK(isotime_instant(&it, zone) == (int64_t)next, "'%s' reads back as %lld, not %lld",
               buf, (long long)isotime_instant(&it, zone), (long long)next);
}

static void check_next(const struct schedule *s, const char *expr)
{
    size_t i;

    for (i = 0; i < NAFTERS; i++) {
        time_t next;
        time_t second;
        int rc = schedule_next(s, (time_t)afters[i], &next);

        FUZZ_CHECK(rc == 0 || rc == ECS_ENEVER, "'%s' after %lld: rc %d", expr,
                   (long long)afters[i], rc);
        if (rc != 0)
            continue;
        FUZZ_CHECK((int64_t)next > afters[i], "'%s': next %lld is not after %lld", expr,
                   (long long)next, (long long)afters[i]);
        check_shown(next, schedule_zone(s));
        rc = schedule_next(s, next, &second);
        FUZZ_CHECK(rc != 0 || second > next, "'%s': the fire after %lld is %lld", expr,
                   (long long)next, (long long)second);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *expr;
    char *resolved = NULL;
    struct schedule *s = NULL;
    char msg[512];
    uint32_t state = 1;
    const struct tz *zone;
    int rc;

    if (size < 1)
        return 0;
    zone = fuzz_zone(zone_names[data[0] % NZONES]);
    expr = fuzz_text(data + 1, size - 1);
    if (expr == NULL)
        return 0;
    rc = schedule_resolve_random(expr, fixed_rand, &state, &resolved, msg, sizeof(msg));
    FUZZ_CHECK(rc == 0, "resolving '%s': %s", expr, msg);
    msg[0] = '\0';
    rc = schedule_parse(resolved, zone, &s, msg, sizeof(msg));
    if (rc != 0) {
        FUZZ_CHECK(rc == ECS_EINVAL && msg[0] != '\0', "'%s' refused with rc %d and '%s'", resolved,
                   rc, msg);
    } else {
        check_next(s, resolved);
        if (schedule_dialect(s) == SCHEDULE_RATE) {
            schedule_set_anchor(s, (time_t)anchors[(data[0] / NZONES) % 8]);
            check_next(s, resolved);
        }
        schedule_free(&s);
    }
    free(resolved);
    free(expr);
    return 0;
}
