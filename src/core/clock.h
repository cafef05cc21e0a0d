/* clock.h - the time readings taken all over the daemon: wall-clock and
 * monotonic milliseconds, and an absolute wall-clock deadline in the form
 * pthread_cond_timedwait() wants (condition variables here use the
 * default clock, CLOCK_REALTIME). */
#ifndef ECS_CLOCK_H
#define ECS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Unix time in milliseconds. */
int64_t clock_wall_ms(void);

/* Milliseconds on a clock that never steps (for measuring intervals). */
int64_t clock_mono_ms(void);

/* The wall-clock instant wall_ms as a timespec. */
struct timespec clock_deadline(int64_t wall_ms);

#endif
