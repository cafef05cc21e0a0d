/* fuzz_job.c - job_validate, job_to_api and job_next_run on any JSON
 * text, as a create and as an update over a stored job. Properties: a
 * refusal has per-field errors; an accepted job validates again to itself,
 * has an API view, and its next run (in its own zone) is at or after the
 * instant asked about, the same from a compiled plan. */
#include <string.h>

#include "core/error.h"
#include "core/job.h"
#include "core/tz.h"
#include "core/tz_cache.h"
#include "fuzz.h"

static const int64_t nows[] = {0, 1767225599LL, 253402300799LL};
#define NNOWS (sizeof(nows) / sizeof(nows[0]))

static const char existing_text[] =
    "{\"id\": \"stored\", \"taskDefinition\": \"t\", \"schedule\": \"cron(0 12 * * ? *)\", "
    "\"taskCount\": 2, "
    "\"scheduleStart\": \"2020-01-01T00:00:00\"}";

static uint32_t fixed_rand(void *ctx, uint32_t n)
{
    uint32_t *state = ctx;

    *state = *state * 1664525u + 1013904223u;
    return (*state >> 8) % n;
}

static void check_next(const json_t *job)
{
    static struct tz_cache *cache;
    const char *zone_name = job_zone_name(job);
    const struct tz *zone = NULL;
    struct job_plan plan;
    char msg[256];
    size_t i;
    int rc;

    if (cache == NULL)
        FUZZ_CHECK(tz_cache_init(&cache) == 0, "%s", "no zone cache");
    rc = tz_cache_get(cache, zone_name, &zone, msg, sizeof(msg));
    FUZZ_CHECK(rc == 0, "accepted zone '%s' does not load: %s", zone_name, msg);
    rc = job_plan_init(&plan, job, zone, msg, sizeof(msg));
    FUZZ_CHECK(rc == 0 || rc == ECS_ENEVER, "accepted job has no plan: rc %d %s", rc, msg);
    for (i = 0; rc == 0 && i < NNOWS; i++) {
        time_t next = 0;
        int b = job_plan_next(&plan, (time_t)nows[i], &next);

        FUZZ_CHECK(b == 0 || b == ECS_ENEVER, "next run after %lld: rc %d", (long long)nows[i], b);
        FUZZ_CHECK(b != 0 || (int64_t)next >= nows[i], "next run %lld before now %lld",
                   (long long)next, (long long)nows[i]);
    }
    /* job_next_run compiles a plan of its own: the same answer */
    {
        time_t next = 0;
        time_t planned = 0;
        int a = job_next_run(job, zone, (time_t)nows[1], &next, msg, sizeof(msg));
        int b = rc == 0 ? job_plan_next(&plan, (time_t)nows[1], &planned) : ECS_ENEVER;

        FUZZ_CHECK(a == b && (a != 0 || next == planned), "job_next_run %d/%lld, plan %d/%lld", a,
                   (long long)next, b, (long long)planned);
    }
    job_plan_free(&plan);
}

static void check_accepted(const json_t *job)
{
    uint32_t state = 7;
    struct job_ctx ctx = {fixed_rand, &state};
    json_t *again = NULL;
    json_t *errors = NULL;
    json_t *view;
    int rc;

    view = job_to_api(job, NULL);
    FUZZ_CHECK(view != NULL, "%s", "no API view of an accepted job");
    json_decref(view);
    rc = job_validate(job, NULL, &ctx, &again, &errors);
    FUZZ_CHECK(rc == 0, "a stored job does not validate again (rc %d)", rc);
    FUZZ_CHECK(json_equal(job, again), "%s", "a stored job validates to another job");
    json_decref(again);
    json_decref(errors);
    check_next(job);
}

static void validate(const json_t *body, const json_t *existing)
{
    uint32_t state = 1;
    struct job_ctx ctx = {fixed_rand, &state};
    json_t *job = NULL;
    json_t *errors = NULL;
    int rc = job_validate(body, existing, &ctx, &job, &errors);

    if (rc == 0) {
        FUZZ_CHECK(job != NULL && errors == NULL, "%s", "accepted without a job");
        check_accepted(job);
    } else {
        FUZZ_CHECK(rc == ECS_EINVAL && job == NULL && json_is_object(errors) &&
                       json_object_size(errors) > 0,
                   "refused with rc %d and no per-field errors", rc);
    }
    json_decref(job);
    json_decref(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *existing;
    json_error_t jerr;
    json_t *body;

    if (existing == NULL) {
        json_t *create = json_loads(existing_text, 0, &jerr);
        json_t *errors = NULL;

        FUZZ_CHECK(create != NULL, "the stored job: %s", jerr.text);
        /* stored in the normalised form a create gives */
        FUZZ_CHECK(job_validate(create, NULL, NULL, &existing, &errors) == 0, "%s",
                   "the stored job does not validate");
        json_decref(create);
    }
    body = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (body == NULL)
        return 0;
    validate(body, NULL);
    validate(body, existing);
    json_decref(body);
    return 0;
}
