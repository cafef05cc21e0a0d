/* tz.h - IANA time zones read from the system's TZif files (RFC 8536),
 * without ever touching the process-wide TZ. A loaded zone answers "what is
 * the UTC offset at instant t" and "which constant-offset span holds t";
 * the schedule engine builds its DST rule on those spans. */
#ifndef ECS_TZ_H
#define ECS_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/* A maximal run of instants [start, end) with one UTC offset. Consecutive
 * spans always differ in offset (transitions that only change the
 * abbreviation or isdst are merged away). start is INT64_MIN for the first
 * span, end is INT64_MAX for the last. prev_offset is the offset of the span
 * before (equal to offset when there is none). Offsets are seconds east of
 * UTC (New York in winter: -18000). */
struct tz_span {
    int64_t start;
    int64_t end;
    int32_t offset;
    int32_t prev_offset;
};

/* Load a zone by IANA name from the system zoneinfo directory
 * (ECSCHED_ZONEINFO overrides /usr/share/zoneinfo, for tests). Names match
 * case-insensitively ("us/pacific" finds US/Pacific, "utc" finds UTC); NULL
 * or "" is UTC. Names with "..", a leading '/', or characters outside
 * [A-Za-z0-9_+-/] are rejected. On success *out is a new zone the caller
 * owns and frees with tz_free(). On failure returns ECS_ENOTFOUND (no such
 * zone) or ECS_EINVAL (a damaged or unsupported file) with a one-line
 * message naming the zone. */
int tz_load(const char *name, struct tz **out, char *msg, size_t msglen);

/* Parse TZif bytes (versions 1-4; the version 2+ 64-bit block and its POSIX
 * TZ footer are used when present). name is copied. Same ownership and
 * errors as tz_load(). Rejects, naming why: files with leap-second
 * records, transitions not in ascending order or beyond +-2^60 seconds,
 * and UTC offsets of a day or more (in a time type or the footer). */
int tz_parse(const unsigned char *data, size_t len, const char *name, struct tz **out, char *msg,
             size_t msglen);

/* The UTC zone: a static object, never freed (tz_free ignores it). */
const struct tz *tz_utc(void);

/* Frees *zone and sets it to NULL. Safe on NULL and on tz_utc(). */
void tz_free(struct tz **zone);

/* The canonical name as found on disk ("US/Pacific" for "us/pacific"). */
const char *tz_name(const struct tz *zone);

/* 1 when the zone has a single offset forever (UTC, EST, Asia/Kolkata is NOT
 * fixed because of its history, Etc/GMT+5 is). */
int tz_is_fixed(const struct tz *zone);

/* UTC offset in seconds at instant t (POSIX seconds). */
int32_t tz_offset_at(const struct tz *zone, int64_t t);

/* The span holding instant t. Works for any t, including far beyond the
 * file's last transition (the POSIX footer rule repeats every 400 years);
 * no span ends after 2^60 seconds (the one holding it lasts forever). */
void tz_span_at(const struct tz *zone, int64_t t, struct tz_span *out);

/* The instant at which wall-clock time `wall` (local seconds, i.e. the
 * local date-time read as if it were UTC) happens, by ecsched's DST rule:
 * a wall time that occurs twice (fall-back) maps to its first occurrence; a
 * wall time skipped by a forward jump maps to that wall time read with the
 * offset in force before the jump (so it lands later by the size of the
 * gap). A wall time beyond +-2^60 seconds is read as that limit. */
int64_t tz_wall_to_utc(const struct tz *zone, int64_t wall);

#endif
