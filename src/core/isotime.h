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

/* Parse YYYY-M(M)-D(D)[T| ]H(H):M(M)[:S(S)[.f...]][Z|+-HH[[:]MM]], anchored
 * at both ends, and a real date. ECS_EINVAL with a message otherwise. */
int isotime_parse(const char *s, struct isotime *out, char *msg, size_t msglen);

/* The instant a parsed value names: with an offset, exact; without one, the
 * wall time in zone (NULL = UTC) by ecsched's DST rule. */
int64_t isotime_instant(const struct isotime *t, const struct tz *zone);

/* "2027-03-14T03:00:00-04:00": instant t shown at the given UTC offset
 * (seconds appear in the offset only when it has them). buf needs 32 bytes. */
void isotime_format(int64_t t, int32_t offset, char *buf, size_t len);

/* The same, at the zone's offset in force at t (NULL = UTC). */
void isotime_format_in(int64_t t, const struct tz *zone, char *buf, size_t len);

#endif
