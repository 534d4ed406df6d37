/* test_termkick.c: SIGTERM's handler is made to run although the signal
 * came before a blocking call that signals do not restart (termkick.h). */
#include <check.h>
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "../../../launcher/termkick.h"

static volatile sig_atomic_t noted;

/* Like CPython's: it only notes the signal. */
static void
note(int sig)
{
    (void)sig;
    noted++;
}

static void
nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000L * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

START_TEST(test_termkick_interrupts_the_wait_until_handled)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = note;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGTERM, &sa, &old), 0);
    noted = 0;
    ck_assert_int_eq(vt_termkick_install(), VT_OK);
    /* The signal comes first; the wait starts afterwards and would never
     * end: nothing posts the semaphore. */
    raise(SIGTERM);
    ck_assert_int_eq(noted, 1);
    sem_t sem;
    sem_init(&sem, 0, 0);
    int rc = sem_wait(&sem);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(errno, EINTR);
    ck_assert_int_ge(noted, 2); /* the kick went through the wrapped handler */
    vt_termkick_handled();
    nap_ms(30); /* a kick already sent may still arrive, and is not passed on */
    int after = noted;
    nap_ms(80);
    ck_assert_int_eq(noted, after); /* no more kicks */
    /* A real SIGTERM later still reaches the handler. */
    raise(SIGTERM);
    ck_assert_int_eq(noted, after + 1);
    vt_termkick_handled();
    sem_destroy(&sem);
    sigaction(SIGTERM, &old, NULL);
}
END_TEST

START_TEST(test_termkick_needs_a_handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old);
    ck_assert_int_eq(vt_termkick_install(), VT_ERR_IO);
    sigaction(SIGTERM, &old, NULL);
}
END_TEST

Suite *
termkick_suite(void)
{
    Suite *s = suite_create("termkick");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_termkick_interrupts_the_wait_until_handled);
    tcase_add_test(tc, test_termkick_needs_a_handler);
    suite_add_tcase(s, tc);
    return s;
}
