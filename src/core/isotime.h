/* isotime.h - read and write ISO-8601 date-times: the job API's datetime
 * input form (seed 004 contract section 2.2) and the offset-carrying output
 * every ecsched interface prints. */
#ifndef ECS_ISOTIME_H
#define ECS_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

struct isotime {
    int64_t wall;   /* the date-time as written, read as if UTC */
    int has_offset; /* an explicit Z or +hh[:mm] was given */
    int32_t offset; /* seconds east of UTC when has_offset */
    int32_t usec;   /* fraction, truncated to microseconds */
};

/* The instants isotime writes so that they read back: 0000-01-01T00:00:00Z
 * to 9999-12-31T23:59:59Z. */
#define ISOTIME_MIN INT64_C(-62167219200)
#define ISOTIME_MAX INT64_C(253402300799)

/* Parse YYYY-M(M)-D(D)[T| ]H(H):M(M)[:S(S)[.f...]][Z|+-HH[[:]MM[:SS]]],
 * anchored at both ends, and a real date; with an offset, the instant must
 * lie in [ISOTIME_MIN, ISOTIME_MAX]. ECS_EINVAL with a message otherwise. */
int isotime_parse(const char *s, struct isotime *out, char *msg, size_t msglen);

/* The instant a parsed value names: with an offset, exact; without one, the
 * wall time in zone (NULL = UTC) by ecsched's DST rule, kept within
 * [ISOTIME_MIN, ISOTIME_MAX] (a wall time in the first hours of year 0000
 * east of UTC names ISOTIME_MIN; the last hours of 9999 west of it,
 * ISOTIME_MAX). */
int64_t isotime_instant(const struct isotime *t, const struct tz *zone);

/* "2027-03-14T03:00:00-04:00": instant t shown at the given UTC offset
 * (seconds appear in the offset only when it has them). When the reading
 * at offset would leave years 0000-9999, or |offset| is a day or more, t
 * is shown in UTC instead; the text parses back to t whenever t is in
 * [ISOTIME_MIN, ISOTIME_MAX]. buf needs 32 bytes. */
void isotime_format(int64_t t, int32_t offset, char *buf, size_t len);

/* The same, at the zone's offset in force at t (NULL = UTC). */
void isotime_format_in(int64_t t, const struct tz *zone, char *buf, size_t len);

#endif
