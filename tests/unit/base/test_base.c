/* test_base.c: tracer/base: error messages, the capped buffer, durations. */
#include <check.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../tracer/base/buf.h"
#include "../../../tracer/base/err.h"
#include "../../../tracer/base/fs.h"
#include "../../../tracer/tracer.h"

START_TEST(test_err_messages)
{
    ck_assert_str_eq(vt_strerror(VT_OK), "success");
    ck_assert_str_eq(vt_strerror(VT_ERR_TOOBIG), "input too large");
    ck_assert_str_eq(vt_strerror((enum vt_err)999), "unknown error");
}
END_TEST

START_TEST(test_buf_appends_and_takes)
{
    struct vt_buf b;
    vt_buf_init(&b, 1024);
    ck_assert_int_eq(vt_buf_adds(&b, "ab"), VT_OK);
    ck_assert_int_eq(vt_buf_printf(&b, "-%d-", 42), VT_OK);
    ck_assert_str_eq(b.data, "ab-42-");
    size_t len;
    char *s = vt_buf_take(&b, &len);
    ck_assert_str_eq(s, "ab-42-");
    ck_assert_uint_eq(len, 6);
    ck_assert_ptr_null(b.data);
    free(s);
    s = vt_buf_take(&b, NULL);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(test_buf_long_printf)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(vt_buf_printf(&b, "%s!", big), VT_OK);
    ck_assert_uint_eq(b.len, 1000);
    ck_assert_int_eq(b.data[999], '!');
    vt_buf_fini(&b);
}
END_TEST

START_TEST(test_buf_cap_frees)
{
    struct vt_buf b;
    vt_buf_init(&b, 8);
    ck_assert_int_eq(vt_buf_adds(&b, "12345678"), VT_OK);
    ck_assert_int_eq(vt_buf_adds(&b, "9"), VT_ERR_TOOBIG);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    vt_buf_fini(&b);
    vt_buf_fini(&b); /* fini twice is harmless */
}
END_TEST

START_TEST(test_duration_units)
{
    double us;
    ck_assert_int_eq(vt_tracer_parse_duration("0.2ms", &us), VT_OK);
    ck_assert_double_eq_tol(us, 200, 1e-9);
    ck_assert_int_eq(vt_tracer_parse_duration("300ns", &us), VT_OK);
    ck_assert_double_eq_tol(us, 0.3, 1e-9);
    ck_assert_int_eq(vt_tracer_parse_duration("5.5us", &us), VT_OK);
    ck_assert_double_eq_tol(us, 5.5, 1e-9);
    ck_assert_int_eq(vt_tracer_parse_duration("1s", &us), VT_OK);
    ck_assert_double_eq_tol(us, 1e6, 1e-9);
    ck_assert_int_eq(vt_tracer_parse_duration("13", &us), VT_OK);
    ck_assert_double_eq_tol(us, 13, 1e-9);
}
END_TEST

START_TEST(test_duration_rejects)
{
    double us = -1;
    const char *bad[] = {"", "ms", "1x", "1 ms", "-1ms", "nan", "inf", "1e999", "1.2.3us"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(vt_tracer_parse_duration(bad[i], &us) == VT_ERR_FORMAT, "accepted '%s'",
                      bad[i]);
    ck_assert_int_eq(vt_tracer_parse_duration(NULL, &us), VT_ERR_FORMAT);
}
END_TEST

START_TEST(test_fs_mkdirs_and_parents)
{
    char dir[] = "/tmp/vt-fs-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    ck_assert_int_eq(vt_fs_mkdirs(path, NULL), VT_OK);
    ck_assert_int_eq(vt_fs_mkdirs(path, NULL), VT_OK); /* already there */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    snprintf(path, sizeof(path), "%s/x/y/out.json", dir);
    ck_assert_int_eq(vt_fs_mkparents(path, NULL), VT_OK);
    snprintf(path, sizeof(path), "%s/x/y", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(vt_fs_mkparents("bare.json", NULL), VT_OK);
    /* a file where a folder is needed */
    snprintf(path, sizeof(path), "%s/afile", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/afile/sub/t.json", dir);
    char *failed;
    ck_assert_int_eq(vt_fs_mkparents(path, &failed), VT_ERR_IO);
    ck_assert_int_eq(errno, ENOTDIR);
    ck_assert_ptr_nonnull(failed);
    ck_assert(strstr(failed, "/afile/sub") != NULL);
    free(failed);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_fs_is_html)
{
    ck_assert_int_eq(vt_fs_is_html("a/report.html"), 1);
    ck_assert_int_eq(vt_fs_is_html(".html"), 1);
    ck_assert_int_eq(vt_fs_is_html("a.json"), 0);
    ck_assert_int_eq(vt_fs_is_html("html"), 0);
}
END_TEST

Suite *
base_suite(void)
{
    Suite *s = suite_create("base");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_err_messages);
    tcase_add_test(core, test_buf_appends_and_takes);
    tcase_add_test(core, test_buf_long_printf);
    tcase_add_test(core, test_duration_units);
    tcase_add_test(core, test_fs_mkdirs_and_parents);
    tcase_add_test(core, test_fs_is_html);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_buf_cap_frees);
    tcase_add_test(limits, test_duration_rejects);
    suite_add_tcase(s, limits);
    return s;
}
