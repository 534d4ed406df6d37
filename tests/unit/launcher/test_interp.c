/* test_interp.c: telling an interpreter's version without running it, and
 * finding the build for it (interp.h). */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../launcher/interp.h"

START_TEST(test_interp_version_of_name)
{
    struct vt_interp_version v = {0, 0};
    ck_assert_int_eq(vt_interp_version_of_name("/usr/bin/python3.11", &v), VT_OK);
    ck_assert_int_eq(v.major, 3);
    ck_assert_int_eq(v.minor, 11);
    ck_assert_int_eq(vt_interp_version_of_name("python3.13t", &v), VT_OK);
    ck_assert_int_eq(v.minor, 13);
    ck_assert_int_eq(vt_interp_version_of_name("/usr/bin/python3", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_of_name("/x/python3.12-config", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_of_name("/x/pypy3.10", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_of_name("/x/python.12", &v), VT_ERR_FORMAT);
}
END_TEST

START_TEST(test_interp_version_parse)
{
    struct vt_interp_version v = {0, 0};
    ck_assert_int_eq(vt_interp_version_parse("3.12.1", &v), VT_OK);
    ck_assert_int_eq(v.major, 3);
    ck_assert_int_eq(v.minor, 12);
    ck_assert_int_eq(vt_interp_version_parse("3.13.0.final.0", &v), VT_OK);
    ck_assert_int_eq(v.minor, 13);
    ck_assert_int_eq(vt_interp_version_parse("3.14", &v), VT_OK);
    ck_assert_int_eq(vt_interp_version_parse("myenv", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_parse("3", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_parse("3.", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_parse("", &v), VT_ERR_FORMAT);
}
END_TEST

START_TEST(test_interp_version_of_pyvenv)
{
    struct vt_interp_version v = {0, 0};
    ck_assert_int_eq(
        vt_interp_version_of_pyvenv("home = /usr/bin\ninclude-system-site-packages = false\n"
                                    "version = 3.11.2\n",
                                    &v),
        VT_OK);
    ck_assert_int_eq(v.minor, 11);
    /* virtualenv writes version_info, which wins over its other keys. */
    ck_assert_int_eq(
        vt_interp_version_of_pyvenv("virtualenv = 20.0\nversion_info = 3.12.1.final.0\n", &v),
        VT_OK);
    ck_assert_int_eq(v.minor, 12);
    ck_assert_int_eq(vt_interp_version_of_pyvenv("home = /usr/bin\n", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_of_pyvenv("versionx = 3.1\n", &v), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_version_of_pyvenv("", &v), VT_ERR_FORMAT);
}
END_TEST

START_TEST(test_interp_home_of_pyvenv)
{
    char home[64];
    ck_assert_int_eq(
        vt_interp_home_of_pyvenv("include-system-site-packages = false\n"
                                 "home = /root/.pyenv/versions/3.11.7/bin  \r\nversion = 3.11.7\n",
                                 home, sizeof(home)),
        VT_OK);
    ck_assert_str_eq(home, "/root/.pyenv/versions/3.11.7/bin");
    /* a key that only starts with "home" is another key */
    ck_assert_int_eq(vt_interp_home_of_pyvenv("homebrew = x\nhome=/usr/bin", home, sizeof(home)),
                     VT_OK);
    ck_assert_str_eq(home, "/usr/bin");
    ck_assert_int_eq(vt_interp_home_of_pyvenv("home = \n", home, sizeof(home)), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_interp_home_of_pyvenv("version = 3.11\n", home, sizeof(home)),
                     VT_ERR_FORMAT);
    char tiny[4];
    ck_assert_int_eq(vt_interp_home_of_pyvenv("home = /usr/bin\n", tiny, sizeof(tiny)),
                     VT_ERR_FORMAT);
}
END_TEST

static void
touch_exec(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
}

/* The places make builds and installs other versions into, relative to the
 * running executable. */
START_TEST(test_interp_find_build_beside_this_one)
{
    char dir[] = "/tmp/vt-interp-XXXXXX", p[PATH_MAX], out[PATH_MAX];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct vt_interp_version v12 = {3, 12}, v13 = {3, 13}, v14 = {3, 14};
    snprintf(p, sizeof(p), "%s/bin", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/bin/viztracer3.12", dir);
    touch_exec(p);
    snprintf(p, sizeof(p), "%s/py3.13", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/py3.13/bin", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/py3.13/bin/viztracer", dir);
    touch_exec(p);
    char self[PATH_MAX];
    snprintf(self, sizeof(self), "%s/bin/viztracer", dir);
    ck_assert_int_eq(vt_interp_find_build(self, &v12, out, sizeof(out)), VT_OK);
    snprintf(p, sizeof(p), "%s/bin/viztracer3.12", dir);
    ck_assert_str_eq(out, p);
    ck_assert_int_eq(vt_interp_find_build(self, &v13, out, sizeof(out)), VT_OK);
    snprintf(p, sizeof(p), "%s/bin/../py3.13/bin/viztracer", dir);
    ck_assert_str_eq(out, p);
    ck_assert_int_eq(vt_interp_find_build(self, &v14, out, sizeof(out)), VT_ERR_NOFILE);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *
interp_suite(void)
{
    Suite *s = suite_create("interp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_interp_version_of_name);
    tcase_add_test(tc, test_interp_version_parse);
    tcase_add_test(tc, test_interp_version_of_pyvenv);
    tcase_add_test(tc, test_interp_home_of_pyvenv);
    tcase_add_test(tc, test_interp_find_build_beside_this_one);
    suite_add_tcase(s, tc);
    return s;
}
