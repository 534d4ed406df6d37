/* test_thread.c: the per-thread lookup's bookkeeping when a thread cannot
 * be registered (out of memory): counted once, never retried. Needs no
 * interpreter: a lookup that retried would call into CPython and crash. */
#include <check.h>
#include <string.h>

#include "../../../tracer/internal.h"

START_TEST(test_thread_failed_registration_counted_once)
{
    struct vt_tracer t;
    memset(&t, 0, sizeof(t));
    t.serial = 7;
    struct vt_tls saved = vt_tracer__tls;
    vt_tracer__tls_settle(&vt_tracer__tls, t.serial, NULL, &t.untraced_threads);
    ck_assert_uint_eq(t.untraced_threads, 1);
    for (int i = 0; i < 1000; i++)
        ck_assert_ptr_null(vt_tracer__thread(&t));
    ck_assert_uint_eq(t.untraced_threads, 1);
    vt_tracer__tls = saved;
}
END_TEST

START_TEST(test_thread_registration_cached_per_tracer)
{
    struct vt_tracer t;
    memset(&t, 0, sizeof(t));
    t.serial = 8;
    struct vt_thread th;
    memset(&th, 0, sizeof(th));
    struct vt_tls slot = {0};
    vt_tracer__tls_settle(&slot, t.serial, &th, &t.untraced_threads);
    ck_assert_uint_eq(t.untraced_threads, 0);
    ck_assert_ptr_eq(slot.thread, &th);
    ck_assert_uint_eq(slot.serial, 8);
    /* A failure for a later tracer replaces the slot and counts for it only. */
    uint64_t other = 0;
    vt_tracer__tls_settle(&slot, 9, NULL, &other);
    ck_assert_ptr_null(slot.thread);
    ck_assert_uint_eq(slot.serial, 9);
    ck_assert_uint_eq(other, 1);
    ck_assert_uint_eq(t.untraced_threads, 0);
}
END_TEST

Suite *
thread_suite(void)
{
    Suite *s = suite_create("thread");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_thread_failed_registration_counted_once);
    tcase_add_test(tc, test_thread_registration_cached_per_tracer);
    suite_add_tcase(s, tc);
    return s;
}
