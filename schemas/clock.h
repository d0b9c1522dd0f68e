/* clock.h: the process's clocks, one place: monotonic for deadlines and durations, wall for
 * timestamps that leave the process (ts_ms, ts_usec, lag against a source commit time). */
#ifndef WALCAST_CLOCK_H
#define WALCAST_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic microseconds: deadlines and elapsed times; never compare with a wall time. */
static inline int64_t wc_mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static inline int64_t wc_mono_ms(void) { return wc_mono_us() / 1000; }

/* Wall-clock microseconds since the Unix epoch. */
static inline int64_t wc_wall_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A mark of the start-up timeline: the wall clock (Unix epoch us) and the process's CPU time (us, every
 * thread's) at that moment. */
typedef struct wc_mark {
    int64_t wall_us, cpu_us;
} wc_mark_t;

static inline wc_mark_t wc_mark_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (wc_mark_t){ .wall_us = wc_wall_us(), .cpu_us = (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000 };
}

#endif
