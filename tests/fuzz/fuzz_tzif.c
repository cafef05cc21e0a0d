/* fuzz_tzif.c - tz_parse on any bytes (a TZif file as read from disk).
 * Properties: a refusal has a message naming the zone; a loaded zone
 * answers every instant with a span that holds it, an offset under a day,
 * spans that follow each other, and schedules in the zone whose next fire
 * time is after the instant asked about. */
#include <string.h>

#include "core/error.h"
#include "core/isotime.h"
#include "core/schedule.h"
#include "core/tz.h"
#include "fuzz.h"

static const int64_t instants[] = {
    INT64_MIN,     INT64_MIN + 1,  -62167219200LL, -1,        0, 1710054000LL, 4102444800LL,
    16740000000LL, 253402300799LL, INT64_MAX - 1,  INT64_MAX,
};
#define NINSTANTS (sizeof(instants) / sizeof(instants[0]))

static const char *const exprs[] = {"cron(30 2 * * ? *)", "crontab(*/7 * * * *)", "0 0 12",
                                    "rate(90 minutes)", "at(2030-03-30T02:30:00)"};
#define NEXPRS (sizeof(exprs) / sizeof(exprs[0]))

static void check_span(const struct tz *zone, int64_t t)
{
    struct tz_span sp;
    struct tz_span next;

    tz_span_at(zone, t, &sp);
    FUZZ_CHECK(sp.start <= t && (t < sp.end || sp.end == INT64_MAX),
               "span [%lld, %lld) does not hold %lld", (long long)sp.start, (long long)sp.end,
               (long long)t);
    FUZZ_CHECK(sp.offset > -86400 && sp.offset < 86400, "offset %d at %lld", (int)sp.offset,
               (long long)t);
    FUZZ_CHECK(sp.prev_offset > -86400 && sp.prev_offset < 86400, "previous offset %d at %lld",
               (int)sp.prev_offset, (long long)t);
    FUZZ_CHECK(tz_offset_at(zone, t) == sp.offset, "offset %d, span's %d at %lld",
               (int)tz_offset_at(zone, t), (int)sp.offset, (long long)t);
    if (sp.end == INT64_MAX)
        return;
    tz_span_at(zone, sp.end, &next);
    FUZZ_CHECK(next.start == sp.end, "span after [%lld, %lld) starts at %lld", (long long)sp.start,
               (long long)sp.end, (long long)next.start);
    FUZZ_CHECK(next.prev_offset == sp.offset, "span at %lld: previous offset %d, not %d",
               (long long)next.start, (int)next.prev_offset, (int)sp.offset);
}

static void check_schedules(const struct tz *zone)
{
    size_t i;
    size_t j;

    for (i = 0; i < NEXPRS; i++) {
        struct schedule *s = NULL;
        char msg[256];
        int rc = schedule_parse(exprs[i], zone, &s, msg, sizeof(msg));

        FUZZ_CHECK(rc == 0, "'%s' does not parse: %s", exprs[i], msg);
        for (j = 0; j < NINSTANTS; j++) {
            time_t next;

            rc = schedule_next(s, (time_t)instants[j], &next);
            FUZZ_CHECK(rc == 0 || rc == ECS_ENEVER, "'%s' after %lld: rc %d", exprs[i],
                       (long long)instants[j], rc);
            FUZZ_CHECK(rc != 0 || (int64_t)next > instants[j], "'%s': next %lld is not after %lld",
                       exprs[i], (long long)next, (long long)instants[j]);
        }
        schedule_free(&s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tz *zone = NULL;
    char msg[256];
    size_t i;
    int rc;

    msg[0] = '\0';
    rc = tz_parse(data, size, "fuzz", &zone, msg, sizeof(msg));
    if (rc != 0) {
        FUZZ_CHECK(rc == ECS_EINVAL && strstr(msg, "'fuzz'") != NULL, "refused with rc %d and '%s'",
                   rc, msg);
        FUZZ_CHECK(zone == NULL, "a refused zone was returned (%s)", msg);
        return 0;
    }
    for (i = 0; i < NINSTANTS; i++) {
        char buf[64];

        check_span(zone, instants[i]);
        (void)tz_wall_to_utc(zone, instants[i] / 2);
        isotime_format_in(instants[i], zone, buf, sizeof(buf));
    }
    check_schedules(zone);
    tz_free(&zone);
    return 0;
}
