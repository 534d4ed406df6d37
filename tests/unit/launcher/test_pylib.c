/* test_pylib.c: the executable notices a replaced interpreter library (pylib.h). */
#include <check.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../launcher/pylib.h"

START_TEST(test_pylib_same_file_does_not_differ)
{
    struct stat st = {0};
    st.st_size = 1234;
    st.st_mtime = 1700000000;
    struct vt_pylib_stamp b = {"/x/libpython3.11.a", 1234, 1700000000, "make"};
    ck_assert_int_eq(vt_pylib_differs(&b, &st), 0);
}
END_TEST

START_TEST(test_pylib_size_or_mtime_change_differs)
{
    struct stat st = {0};
    struct vt_pylib_stamp b = {"/x/libpython3.11.a", 1234, 1700000000, "make"};
    st.st_size = 1235;
    st.st_mtime = 1700000000;
    ck_assert_int_eq(vt_pylib_differs(&b, &st), 1);
    /* An upgrade keeps the packaged mtime, which may be older than ours. */
    st.st_size = 1234;
    st.st_mtime = 1600000000;
    ck_assert_int_eq(vt_pylib_differs(&b, &st), 1);
}
END_TEST

/* The library this binary was linked with is unchanged: no warning; another
 * file in its place (through the test seam): one warning; a missing one:
 * none (nothing to compare with). */
START_TEST(test_pylib_warns_only_on_a_different_file)
{
    ck_assert_ptr_nonnull(vt_pylib_built.path);
    ck_assert_int_eq(unsetenv("VIZTRACER_TEST_PYLIB"), 0);
    if (vt_pylib_built.size >= 0)
        ck_assert_int_eq(vt_pylib_warn_if_changed(), 0);
    char path[] = "/tmp/vt_pylib_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not a library", 13), 13);
    close(fd);
    ck_assert_int_eq(setenv("VIZTRACER_TEST_PYLIB", path, 1), 0);
    ck_assert_int_eq(vt_pylib_warn_if_changed(), vt_pylib_built.size >= 0);
    unlink(path);
    ck_assert_int_eq(vt_pylib_warn_if_changed(), 0);
    unsetenv("VIZTRACER_TEST_PYLIB");
}
END_TEST

Suite *
pylib_suite(void)
{
    Suite *s = suite_create("pylib");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pylib_same_file_does_not_differ);
    tcase_add_test(tc, test_pylib_size_or_mtime_change_differs);
    tcase_add_test(tc, test_pylib_warns_only_on_a_different_file);
    suite_add_tcase(s, tc);
    return s;
}
