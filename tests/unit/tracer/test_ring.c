/* test_ring.c: the per-thread event ring and the clock conversion. */
#include <check.h>
#include <stdlib.h>

#include "../../../tracer/clock.h"
#include "../../../tracer/ring.h"
#include "../../../tracer/spool.h"

static void
push(struct vt_ring *r, int64_t end, int *evicted)
{
    struct vt_event *e = vt_ring_next(r, evicted);
    e->start = end - 1;
    e->end = end;
    e->what = 0;
    e->extra = NULL;
}

START_TEST(test_ring_keeps_order)
{
    struct vt_ring r;
    ck_assert_int_eq(vt_ring_init(&r, 4), VT_OK);
    int ev;
    for (int i = 1; i <= 3; i++) {
        push(&r, i, &ev);
        ck_assert_int_eq(ev, 0);
    }
    ck_assert_uint_eq(vt_ring_len(&r), 3);
    ck_assert_uint_eq(vt_ring_dropped(&r), 0);
    for (uint64_t i = 0; i < 3; i++)
        ck_assert_int_eq(vt_ring_at(&r, i)->end, (int64_t)i + 1);
    vt_ring_fini(&r);
}
END_TEST

START_TEST(test_ring_overwrites_oldest)
{
    struct vt_ring r;
    ck_assert_int_eq(vt_ring_init(&r, 4), VT_OK);
    int ev, evictions = 0;
    for (int i = 1; i <= 10; i++) {
        push(&r, i, &ev);
        evictions += ev;
    }
    ck_assert_int_eq(evictions, 6);
    ck_assert_uint_eq(vt_ring_len(&r), 4);
    ck_assert_uint_eq(vt_ring_dropped(&r), 6);
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_int_eq(vt_ring_at(&r, i)->end, (int64_t)i + 7);
    vt_ring_reset(&r);
    ck_assert_uint_eq(vt_ring_len(&r), 0);
    vt_ring_fini(&r);
    vt_ring_fini(&r);
}
END_TEST

START_TEST(test_ring_lower_bound)
{
    struct vt_ring r;
    ck_assert_int_eq(vt_ring_init(&r, 5), VT_OK);
    int ev;
    for (int i = 1; i <= 7; i++) /* holds 3..7 */
        push(&r, i * 10, &ev);
    ck_assert_uint_eq(vt_ring_lower_bound(&r, 0), 0);
    ck_assert_uint_eq(vt_ring_lower_bound(&r, 30), 0);
    ck_assert_uint_eq(vt_ring_lower_bound(&r, 31), 1);
    ck_assert_uint_eq(vt_ring_lower_bound(&r, 70), 4);
    ck_assert_uint_eq(vt_ring_lower_bound(&r, 71), 5);
    vt_ring_fini(&r);
}
END_TEST

START_TEST(test_ring_large_capacity_is_lazy)
{
    /* A million-slot ring reserves address space only. */
    struct vt_ring r;
    ck_assert_int_eq(vt_ring_init(&r, 1000000), VT_OK);
    int ev;
    push(&r, 1, &ev);
    ck_assert_uint_eq(vt_ring_len(&r), 1);
    vt_ring_fini(&r);
}
END_TEST

/* Pushes like the hook: vt_ring_full() before filling a slot it flagged. */
static void
push_spooled(struct vt_ring *r, int64_t end)
{
    int evicted;
    struct vt_event *e = vt_ring_next(r, &evicted);
    if (evicted && vt_ring_full(r) != 0)
        ck_abort_msg("a spooled slot still held its event"); /* it is in the file */
    e->start = end - 1;
    e->end = end;
    e->what = 0;
    e->extra = NULL;
}

START_TEST(test_ring_spooled_keeps_every_event)
{
    /* A ring and a half: every event is either in a chunk of the file or
     * held, in order, and none is dropped; reset empties both. (Checked
     * once at the end: a check per event takes seconds on a busy machine.) */
    struct vt_ring r;
    ck_assert_int_eq(vt_ring_init(&r, VT_SPOOL_CAP), VT_OK);
    ck_assert_int_eq(vt_spool_attach(&r), VT_OK);
    uint64_t total = VT_SPOOL_CAP + VT_SPOOL_CAP / 2 + 7;
    for (uint64_t i = 0; i < total; i++)
        push_spooled(&r, (int64_t)i + 1);
    vt_spool_sync(&r);
    uint64_t chunks = vt_spool_chunks(&r);
    ck_assert_uint_eq(vt_ring_dropped(&r), 0);
    ck_assert_uint_eq(chunks * VT_SPOOL_CHUNK + vt_ring_len(&r), total);
    ck_assert_uint_le(vt_ring_len(&r), VT_SPOOL_CAP);
    struct vt_event *buf = malloc(VT_SPOOL_CHUNK * sizeof(*buf));
    int64_t want = 1;
    uint64_t bad = 0;
    for (uint64_t c = 0; c < chunks; c++) {
        ck_assert_int_eq(vt_spool_read(&r, c, buf), VT_OK);
        for (uint64_t i = 0; i < VT_SPOOL_CHUNK; i++)
            bad += buf[i].end != want++;
    }
    for (uint64_t i = 0; i < vt_ring_len(&r); i++)
        bad += vt_ring_at(&r, i)->end != want++;
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(want, (int64_t)total + 1);
    free(buf);
    vt_spool_forget(&r);
    ck_assert_uint_eq(vt_spool_chunks(&r), 0);
    vt_ring_reset(&r);
    ck_assert_uint_eq(vt_ring_len(&r), 0);
    push_spooled(&r, 5);
    ck_assert_uint_eq(vt_ring_len(&r), 1);
    const char *dir;
    ck_assert_int_eq(vt_spool_error(&dir), 0);
    vt_ring_fini(&r); /* detaches */
    ck_assert_ptr_null(r.track);
}
END_TEST

START_TEST(test_clock_conversion)
{
    struct vt_clock_anchor a, b;
    struct vt_clock_conv c;
    vt_clock_anchor_take(&a);
    b = a;
    vt_clock_conv_init(&c, &a, &b);
    ck_assert_int_ge(b.mono_ns - a.mono_ns, 1000000);
    /* The anchors map onto themselves within a microsecond. */
    ck_assert_int_lt(llabs(vt_clock_to_ns(&c, a.ticks) - a.mono_ns), 1000);
    ck_assert_int_lt(llabs(vt_clock_to_ns(&c, b.ticks) - b.mono_ns), 1000);
    int64_t now_ns = vt_clock_mono_ns();
    int64_t now = vt_clock_now();
    ck_assert_int_lt(llabs(vt_clock_to_ns(&c, now) - now_ns), 100000);
    int64_t ticks = vt_clock_ns_to_ticks(&c, 1000000);
    ck_assert_int_lt(llabs(vt_clock_span_ns(&c, ticks) - 1000000), 10);
}
END_TEST

Suite *
ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_ring_keeps_order);
    tcase_add_test(core, test_ring_overwrites_oldest);
    tcase_add_test(core, test_ring_lower_bound);
    tcase_add_test(core, test_ring_large_capacity_is_lazy);
    tcase_add_test(core, test_ring_spooled_keeps_every_event);
    tcase_add_test(core, test_clock_conversion);
    suite_add_tcase(s, core);
    return s;
}
