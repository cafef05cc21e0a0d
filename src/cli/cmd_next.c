/* cmd_next.c - `ecsched next`: print a schedule's next fire times, one per
 * line, in the zone's offset; `--batch` answers many questions read from
 * stdin in one process (for tooling and the differential tests). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/isotime.h"
#include "core/schedule.h"
#include "core/tz.h"

#define NEXT_COUNT_DEFAULT 5
#define NEXT_COUNT_MAX 100000
#define ZONE_CACHE_MAX 64

static const char next_usage[] =
    "usage: ecsched next EXPR [--tz ZONE] [--from DATETIME] [--count N]\n"
    "       ecsched next --batch\n"
    "\n"
    "Print the next N fire times of a schedule expression strictly after\n"
    "DATETIME (default: now), one per line, with the zone's UTC offset.\n"
    "\n"
    "  EXPR             '0 */5' (seconds-first fields), 'cron(0 12 * * ? *)',\n"
    "                   'rate(5 minutes)', 'at(2027-01-01T09:00:00)',\n"
    "                   'crontab(30 2 * * 1-5)', '@daily'; see docs/schedules.md\n"
    "  -z, --tz ZONE    IANA time zone (any case; default UTC)\n"
    "  -f, --from DT    YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]; without an offset it is\n"
    "                   a wall time in --tz\n"
    "  -n, --count N    how many fire times (default 5, at most 100000)\n"
    "      --batch      read lines ZONE<TAB>FROM<TAB>COUNT<TAB>EXPR from stdin and\n"
    "                   print one line each: the times separated by spaces,\n"
    "                   NEVER, or ERROR <message>\n"
    "\n"
    "Exit status: 0 when at least one time was printed, 1 when the schedule\n"
    "never fires after DATETIME, 2 on invalid input.\n";

/* Zones loaded once per process in batch mode. */
struct zone_cache {
    char *names[ZONE_CACHE_MAX];
    struct tz *zones[ZONE_CACHE_MAX];
    int n;
};

static int zone_get(struct zone_cache *zc, const char *name, const struct tz **out, char *msg,
                    size_t msglen)
{
    struct tz *z = NULL;
    int i;
    int rc;

    for (i = 0; i < zc->n; i++) {
        if (strcmp(zc->names[i], name) == 0) {
            *out = zc->zones[i];
            return 0;
        }
    }
    rc = tz_load(name, &z, msg, msglen);
    if (rc != 0)
        return rc;
    if (zc->n == ZONE_CACHE_MAX) {
        *out = z;
        return 1; /* caller frees: the cache is full */
    }
    zc->names[zc->n] = strdup(name);
    if (zc->names[zc->n] == NULL) {
        tz_free(&z);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    }
    zc->zones[zc->n] = z;
    zc->n++;
    *out = z;
    return 0;
}

static void zone_cache_free(struct zone_cache *zc)
{
    int i;

    for (i = 0; i < zc->n; i++) {
        free(zc->names[i]);
        tz_free(&zc->zones[i]);
    }
    zc->n = 0;
}

/* Parse a --count value: 1..NEXT_COUNT_MAX. */
static int parse_count(const char *s, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > NEXT_COUNT_MAX)
        return -1;
    *out = v;
    return 0;
}

/* Parse expr in zone, resolving a seed-dialect '?' first (and saying so
 * on stderr when `announce`). */
static int compile(const char *expr, const struct tz *zone, int announce, struct schedule **out,
                   char *msg, size_t msglen)
{
    char *resolved = NULL;
    int rc;

    rc = schedule_resolve_random(expr, NULL, NULL, &resolved, msg, msglen);
    if (rc != 0)
        return rc;
    if (announce && strcmp(resolved, expr) != 0)
        fprintf(stderr, "ecsched: '?' resolved: '%s' -> '%s'\n", expr, resolved);
    rc = schedule_parse(resolved, zone, out, msg, msglen);
    free(resolved);
    return rc;
}

/* Write up to count fire times after `from` to out, separated by sep.
 * Returns how many were written. */
static long emit_times(const struct schedule *s, const struct tz *zone, time_t from, long count,
                       const char *sep, FILE *out)
{
    time_t t = from;
    long i;
    char buf[48];

    for (i = 0; i < count; i++) {
        time_t next;

        if (schedule_next(s, t, &next) != 0)
            break;
        isotime_format_in((int64_t)next, zone, buf, sizeof(buf));
        if (i > 0)
            fputs(sep, out);
        fputs(buf, out);
        t = next;
    }
    return i;
}

static int resolve_from(const char *text, const struct tz *zone, time_t *out, char *msg,
                        size_t msglen)
{
    struct isotime it;
    int rc;

    if (text == NULL) {
        *out = time(NULL);
        return 0;
    }
    rc = isotime_parse(text, &it, msg, msglen);
    if (rc != 0)
        return rc;
    *out = (time_t)isotime_instant(&it, zone);
    return 0;
}

/* One batch line: ZONE \t FROM \t COUNT \t EXPR. */
static void batch_line(struct zone_cache *zc, char *line)
{
    char msg[512];
    char *fields[3];
    char *p = line;
    const struct tz *zone = NULL;
    struct schedule *s = NULL;
    time_t from;
    long count;
    int i;
    int rc;

    for (i = 0; i < 3; i++) {
        char *tab = strchr(p, '\t');

        if (tab == NULL) {
            printf("ERROR expected ZONE<TAB>FROM<TAB>COUNT<TAB>EXPR\n");
            return;
        }
        *tab = '\0';
        fields[i] = p;
        p = tab + 1;
    }
    rc = zone_get(zc, fields[0], &zone, msg, sizeof(msg));
    if (rc < 0) {
        printf("ERROR %s\n", msg);
        return;
    }
    if (resolve_from(fields[1], zone, &from, msg, sizeof(msg)) != 0) {
        printf("ERROR %s\n", msg);
    } else if (parse_count(fields[2], &count) != 0) {
        printf("ERROR count '%s' is not a whole number from 1 to %d\n", fields[2], NEXT_COUNT_MAX);
    } else if (compile(p, zone, 0, &s, msg, sizeof(msg)) != 0) {
        printf("ERROR %s\n", msg);
    } else {
        if (emit_times(s, zone, from, count, " ", stdout) == 0)
            fputs("NEVER", stdout);
        fputc('\n', stdout);
        schedule_free(&s);
    }
    if (rc == 1) {
        struct tz *owned = (struct tz *)zone;

        tz_free(&owned);
    }
}

static int run_batch(void)
{
    struct zone_cache zc;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    memset(&zc, 0, sizeof(zc));
    for (;;) {
        n = getline(&line, &cap, stdin);
        if (n < 0)
            break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        batch_line(&zc, line);
        fflush(stdout);
    }
    free(line);
    zone_cache_free(&zc);
    return CLI_EXIT_OK;
}

int cmd_next(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tz", required_argument, NULL, 'z'},    {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'}, {"batch", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *zone_name = NULL;
    const char *from_text = NULL;
    long count = NEXT_COUNT_DEFAULT;
    int batch = 0;
    struct tz *zone = NULL;
    struct schedule *s = NULL;
    char msg[512];
    time_t from;
    long printed;
    int c;

    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "z:f:n:h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'z':
            zone_name = optarg;
            break;
        case 'f':
            from_text = optarg;
            break;
        case 'n':
            if (parse_count(optarg, &count) != 0) {
                fprintf(stderr, "ecsched next: --count '%s' is not a whole number from 1 to %d\n",
                        optarg, NEXT_COUNT_MAX);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'b':
            batch = 1;
            break;
        case 'h':
            fputs(next_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fprintf(stderr,
                    "ecsched next: unknown or incomplete option '%s'; see 'ecsched next --help'\n",
                    argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (batch) {
        if (optind != argc) {
            fprintf(stderr, "ecsched next: --batch reads expressions from stdin, not arguments\n");
            return CLI_EXIT_USAGE;
        }
        return run_batch();
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "ecsched next: give exactly one schedule expression (quote it); see "
                        "'ecsched next --help'\n");
        return CLI_EXIT_USAGE;
    }
    if (tz_load(zone_name, &zone, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched next: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    if (resolve_from(from_text, zone, &from, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched next: --from: %s\n", msg);
        tz_free(&zone);
        return CLI_EXIT_USAGE;
    }
    if (compile(argv[optind], zone, 1, &s, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched next: %s\n", msg);
        tz_free(&zone);
        return CLI_EXIT_USAGE;
    }
    printed = emit_times(s, zone, from, count, "\n", stdout);
    if (printed > 0)
        fputc('\n', stdout);
    /* keep the times ahead of any note on a shared terminal */
    fflush(stdout);
    if (printed == 0) {
        char when[48];

        isotime_format_in((int64_t)from, zone, when, sizeof(when));
        fprintf(stderr, "ecsched next: '%s' never fires after %s\n", argv[optind], when);
    } else if (printed < count) {
        fprintf(stderr, "ecsched next: no more fire times after the %ld shown\n", printed);
    }
    schedule_free(&s);
    tz_free(&zone);
    return printed > 0 ? CLI_EXIT_OK : CLI_EXIT_NONE;
}
