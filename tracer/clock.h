/* clock.h: the hot path's timestamp, and its conversion to nanoseconds.
 *
 * vt_clock_now() returns raw ticks: the TSC on x86-64 (no syscall, about
 * 20 cycles), CLOCK_MONOTONIC nanoseconds elsewhere. The writer converts
 * ticks to CLOCK_MONOTONIC nanoseconds with two anchors, one taken when
 * tracing starts and one at dump time, so timestamps of different processes
 * on one machine line up (as VizTracer's do). A pair of anchors is accurate
 * to the error of reading both clocks once (~50 ns), whatever the interval.
 */
#ifndef VT_TRACER_CLOCK_H
#define VT_TRACER_CLOCK_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define VT_CLOCK_TSC 1
#else
#define VT_CLOCK_TSC 0
#endif

/* One simultaneous reading of the tick counter and the system clocks. */
struct vt_clock_anchor {
    int64_t ticks;   /* vt_clock_now() at the reading */
    int64_t mono_ns; /* CLOCK_MONOTONIC, nanoseconds */
    int64_t real_ns; /* CLOCK_REALTIME, nanoseconds */
};

/* Ticks to monotonic nanoseconds: ns = base_ns + (ticks - base_ticks) * mult >> 32. */
struct vt_clock_conv {
    int64_t base_ticks; /* ticks of the first anchor */
    int64_t base_ns;    /* monotonic ns of the first anchor */
    uint64_t mult;      /* ns per tick, 32.32 fixed point */
};

static inline int64_t
vt_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Returns raw ticks; cheap, never fails, monotonic within a thread. */
static inline int64_t
vt_clock_now(void)
{
#if VT_CLOCK_TSC
    return (int64_t)__rdtsc();
#else
    return vt_clock_mono_ns();
#endif
}

/* Takes an anchor; can't fail. */
void vt_clock_anchor_take(struct vt_clock_anchor *a);

/* Builds the conversion from two anchors taken in that order (b after a).
 * Waits until b is at least 1 ms after a, so the rate is well defined. */
void vt_clock_conv_init(struct vt_clock_conv *c, const struct vt_clock_anchor *a,
                        struct vt_clock_anchor *b);

/* Ticks to CLOCK_MONOTONIC nanoseconds. */
static inline int64_t
vt_clock_to_ns(const struct vt_clock_conv *c, int64_t ticks)
{
    int64_t d = ticks - c->base_ticks;
    __int128 scaled = (__int128)d * (__int128)c->mult;
    return c->base_ns + (int64_t)(scaled >> 32);
}

/* A tick interval (e.g. a duration) to nanoseconds. */
static inline int64_t
vt_clock_span_ns(const struct vt_clock_conv *c, int64_t ticks)
{
    return (int64_t)(((__int128)ticks * (__int128)c->mult) >> 32);
}

/* Nanoseconds to a tick interval (for --min_duration). */
int64_t vt_clock_ns_to_ticks(const struct vt_clock_conv *c, int64_t ns);

/* A rough ticks-per-ns estimate taken over ~2 ms; used before any dump (for
 * min_duration at start) and never on the hot path. Returns 32.32 ns/tick. */
uint64_t vt_clock_estimate_mult(void);

#endif
