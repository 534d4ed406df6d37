/* clock.c: anchors and tick-to-nanosecond conversion; see clock.h. */
#include "clock.h"

static int64_t
real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
vt_clock_anchor_take(struct vt_clock_anchor *a)
{
    /* The midpoint of two tick reads brackets the clock read; the best of a
     * few tries keeps a preempted reading out. */
    int64_t best = INT64_MAX;
    a->ticks = vt_clock_now();
    a->mono_ns = vt_clock_mono_ns();
    for (int i = 0; i < 5; i++) {
        int64_t t0 = vt_clock_now();
        int64_t ns = vt_clock_mono_ns();
        int64_t t1 = vt_clock_now();
        if (t1 - t0 < best) {
            best = t1 - t0;
            a->ticks = t0 + (t1 - t0) / 2;
            a->mono_ns = ns;
        }
    }
    a->real_ns = real_ns() - (vt_clock_mono_ns() - a->mono_ns);
}

static uint64_t
rate(const struct vt_clock_anchor *a, const struct vt_clock_anchor *b)
{
    int64_t dt = b->ticks - a->ticks;
    int64_t dns = b->mono_ns - a->mono_ns;
    if (dt <= 0 || dns <= 0)
        return (uint64_t)1 << 32;
    return (uint64_t)(((__int128)dns << 32) / dt);
}

void
vt_clock_conv_init(struct vt_clock_conv *c, const struct vt_clock_anchor *a,
                   struct vt_clock_anchor *b)
{
    while (b->mono_ns - a->mono_ns < 1000000)
        vt_clock_anchor_take(b);
    c->base_ticks = a->ticks;
    c->base_ns = a->mono_ns;
    c->mult = VT_CLOCK_TSC ? rate(a, b) : (uint64_t)1 << 32;
}

int64_t
vt_clock_ns_to_ticks(const struct vt_clock_conv *c, int64_t ns)
{
    if (c->mult == 0)
        return ns;
    return (int64_t)(((__int128)ns << 32) / c->mult);
}

uint64_t
vt_clock_estimate_mult(void)
{
    struct vt_clock_anchor a, b;
    struct vt_clock_conv c;
    vt_clock_anchor_take(&a);
    b = a;
    vt_clock_conv_init(&c, &a, &b);
    return c.mult;
}
