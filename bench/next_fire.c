/* next_fire.c - next-fire computations per second for typical schedules,
 * in UTC and America/New_York, beside croniter's rate for the same
 * expressions measured in the same run (bench/croniter_rate.py). Prints
 * figures only; it never fails on a slow result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/schedule.h"
#include "core/tz.h"

#define CASE_SECONDS 0.3
#define START_INSTANT ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define RESTART_AFTER ((time_t)4102444800) /* 2100-01-01T00:00:00Z */
#define PEER_SCRIPT "bench/croniter_rate.py"
#define PEER_PYTHON "/usr/bin/python3"

struct bench_case {
    const char *expr;     /* ecsched */
    const char *croniter; /* the same schedule for croniter */
};

static const struct bench_case cases[] = {
    {"0 */5 * * * *", "*/5 * * * * 0"},
    {"crontab(0 9 * * 1-5)", "0 9 * * 1-5"},
    {"crontab(*/15 8-17 * * *)", "*/15 8-17 * * *"},
    {"cron(0/10 * ? * MON-FRI *)", "0/10 * * * 1-5"},
    {"@daily", "0 0 * * *"},
    {"crontab(30 2 1 * *)", "30 2 1 * *"},
    {"crontab(0 0 29 2 *)", "0 0 29 2 *"},
};

static const char *const zones[] = {"UTC", "America/New_York"};

#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define NZONES (sizeof(zones) / sizeof(zones[0]))

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Chain schedule_next from START_INSTANT for about CASE_SECONDS. */
static double measure(const struct schedule *s, uint64_t *checksum)
{
    time_t t = START_INSTANT;
    uint64_t n = 0;
    double t0 = now_seconds();
    double elapsed;
    int i;

    for (;;) {
        for (i = 0; i < 4096; i++) {
            time_t next;

            if (schedule_next(s, t, &next) != 0 || next > RESTART_AFTER) {
                t = START_INSTANT;
                continue;
            }
            *checksum += (uint64_t)next;
            t = next;
        }
        n += 4096;
        elapsed = now_seconds() - t0;
        if (elapsed >= CASE_SECONDS)
            return (double)n / elapsed;
    }
}

/* croniter's rates, indexed [zone][case]; 0 where not measured. */
static int measure_peer(double peer[NZONES][NCASES])
{
    char tmpl[] = "/tmp/ecsched-bench-XXXXXX";
    char cmd[256];
    char line[512];
    int fd = mkstemp(tmpl);
    FILE *in;
    FILE *out;
    size_t z;
    size_t c;

    if (fd < 0)
        return -1;
    in = fdopen(fd, "w");
    if (in == NULL)
        return -1;
    for (z = 0; z < NZONES; z++) {
        for (c = 0; c < NCASES; c++)
            fprintf(in, "%s\t%s\n", zones[z], cases[c].croniter);
    }
    fclose(in);
    snprintf(cmd, sizeof(cmd), "%s %s < %s 2>/dev/null", PEER_PYTHON, PEER_SCRIPT, tmpl);
    out = popen(cmd, "r");
    if (out == NULL) {
        remove(tmpl);
        return -1;
    }
    while (fgets(line, sizeof(line), out) != NULL) {
        char *tab1 = strchr(line, '\t');
        char *tab2 = tab1 != NULL ? strchr(tab1 + 1, '\t') : NULL;

        if (tab2 == NULL)
            continue;
        *tab1 = '\0';
        *tab2 = '\0';
        for (z = 0; z < NZONES; z++) {
            for (c = 0; c < NCASES; c++) {
                if (strcmp(line, zones[z]) == 0 && strcmp(tab1 + 1, cases[c].croniter) == 0)
                    peer[z][c] = atof(tab2 + 1);
            }
        }
    }
    pclose(out);
    remove(tmpl);
    return 0;
}

int main(void)
{
    double ours[NZONES][NCASES];
    double peer[NZONES][NCASES];
    uint64_t checksum = 0;
    double min_ratio = 0;
    const char *min_what = "";
    const char *min_zone = "";
    int peer_seen = 0;
    size_t z;
    size_t c;

    memset(peer, 0, sizeof(peer));
    for (z = 0; z < NZONES; z++) {
        struct tz *zone = NULL;
        char msg[256];

        if (tz_load(zones[z], &zone, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "next_fire: %s\n", msg);
            return 1;
        }
        for (c = 0; c < NCASES; c++) {
            struct schedule *s = NULL;

            if (schedule_parse(cases[c].expr, zone, &s, msg, sizeof(msg)) != 0) {
                fprintf(stderr, "next_fire: %s: %s\n", cases[c].expr, msg);
                return 1;
            }
            ours[z][c] = measure(s, &checksum);
            schedule_free(&s);
        }
        tz_free(&zone);
    }
    if (measure_peer(peer) != 0)
        fprintf(stderr, "next_fire: could not run %s %s\n", PEER_PYTHON, PEER_SCRIPT);

    printf("next-fire computations per second, one core (checksum %llu)\n\n",
           (unsigned long long)(checksum % 1000));
    printf("%-30s %-17s %14s %12s %8s\n", "expression", "zone", "ecsched/s", "croniter/s", "ratio");
    for (z = 0; z < NZONES; z++) {
        for (c = 0; c < NCASES; c++) {
            if (peer[z][c] > 0) {
                double ratio = ours[z][c] / peer[z][c];

                printf("%-30s %-17s %14.0f %12.0f %7.0fx\n", cases[c].expr, zones[z], ours[z][c],
                       peer[z][c], ratio);
                if (!peer_seen || ratio < min_ratio) {
                    min_ratio = ratio;
                    min_what = cases[c].expr;
                    min_zone = zones[z];
                }
                peer_seen = 1;
            } else {
                printf("%-30s %-17s %14.0f %12s %8s\n", cases[c].expr, zones[z], ours[z][c], "-",
                       "-");
            }
        }
    }
    printf("\ntarget: UTC '%s' >= 2,000,000/s: %s (%.0f/s)\n", cases[0].expr,
           ours[0][0] >= 2e6 ? "yes" : "no", ours[0][0]);
    if (peer_seen)
        printf("target: every expression >= 100x croniter: %s (lowest %.0fx, '%s' in %s)\n",
               min_ratio >= 100 ? "yes" : "no", min_ratio, min_what, min_zone);
    else
        printf("target: >= 100x croniter: not measured (croniter unavailable)\n");
    return 0;
}
