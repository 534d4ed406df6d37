/* test_children.c: the parent's side of forked children: marker folder,
 * bounded wait, output naming. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../../launcher/children.h"

static void
touch(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_children_forked_sees_any_file)
{
    char *dir = NULL;
    ck_assert_int_eq(vt_children_dir_create(&dir), VT_OK);
    ck_assert_int_eq(vt_children_forked(dir), 0);
    touch(dir, "forked");
    ck_assert_int_eq(vt_children_forked(dir), 1);
    vt_children_dir_remove(dir);
    ck_assert_int_ne(access(dir, F_OK), 0);
    free(dir);
    vt_children_dir_remove(NULL);
}
END_TEST

START_TEST(test_children_wait_skips_dead_and_bounds_live)
{
    char *dir = NULL;
    ck_assert_int_eq(vt_children_dir_create(&dir), VT_OK);
    /* A reaped child: its marker stays, nothing is waited for. */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char name[64];
    snprintf(name, sizeof(name), "%ld.viztmp", (long)dead);
    touch(dir, name);
    double t0 = now_s();
    vt_children_wait(dir, 2.0, 1, NULL);
    ck_assert(now_s() - t0 < 1.0);
    /* A live one is waited for until the timeout only. */
    pid_t live = fork();
    if (live == 0) {
        pause();
        _exit(0);
    }
    snprintf(name, sizeof(name), "%ld.viztmp", (long)live);
    touch(dir, name);
    t0 = now_s();
    vt_children_wait(dir, 0.3, 1, NULL);
    double spent = now_s() - t0;
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);
    ck_assert(spent >= 0.3 && spent < 2.0);
    vt_children_dir_remove(dir);
    free(dir);
}
END_TEST

Suite *
children_suite(void)
{
    Suite *s = suite_create("children");
    TCase *tc = tcase_create("parent");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_children_forked_sees_any_file);
    tcase_add_test(tc, test_children_wait_skips_dead_and_bounds_live);
    suite_add_tcase(s, tc);
    return s;
}
