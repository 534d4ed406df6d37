/* test_cli.c: command-line and rcfile parsing (no interpreter needed). */
#include <check.h>
#include <string.h>

#include "../../launcher/cli.h"

static struct vt_options o;
static char msg[256];

static enum vt_err
parse(int argc, const char **argv)
{
    vt_cli_options_fini(&o);
    vt_cli_options_init(&o);
    msg[0] = '\0';
    return vt_cli_parse(&o, argc, (char **)argv, msg, sizeof(msg));
}

static void
setup(void)
{
    vt_cli_options_init(&o);
}

static void
teardown(void)
{
    vt_cli_options_fini(&o);
}

START_TEST(test_cli_script_and_args)
{
    const char *argv[] = {"viztracer", "--quiet", "-o", "x.json", "s.py", "--quiet", "a"};
    ck_assert_int_eq(parse(7, argv), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_SCRIPT);
    ck_assert_str_eq(o.target, "s.py");
    ck_assert_int_eq(o.argc, 3);
    ck_assert_str_eq(o.argv[0], "s.py");
    ck_assert_str_eq(o.argv[1], "--quiet");
    ck_assert_ptr_null(o.argv[3]);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_str_eq(o.output_file, "x.json");
}
END_TEST

START_TEST(test_cli_forms)
{
    const char *a1[] = {"viztracer", "--output_file=y.json", "--max_stack_depth=4", "--", "-x"};
    ck_assert_int_eq(parse(5, a1), VT_OK);
    ck_assert_str_eq(o.output_file, "y.json");
    ck_assert_int_eq(o.max_stack_depth, 4);
    ck_assert_str_eq(o.target, "-x");
    const char *a2[] = {"viztracer", "-c", "print(1)", "a"};
    ck_assert_int_eq(parse(4, a2), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_STRING);
    ck_assert_str_eq(o.argv[0], "-c");
    ck_assert_str_eq(o.argv[1], "a");
    const char *a3[] = {"viztracer", "-m", "pkg.mod", "--flag"};
    ck_assert_int_eq(parse(4, a3), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_MODULE);
    ck_assert_str_eq(o.argv[0], "pkg.mod");
    const char *a4[] = {"viztracer", "--include_files", "a", "b", "--run", "s.py"};
    ck_assert_int_eq(parse(6, a4), VT_OK);
    ck_assert_uint_eq(o.include_files.n, 2);
    ck_assert_str_eq(o.include_files.items[1], "b");
    ck_assert_str_eq(o.target, "s.py");
    const char *a5[] = {"viztracer", "--min_duration", "0.5ms", "-oz.json", "s.py"};
    ck_assert_int_eq(parse(5, a5), VT_OK);
    ck_assert_double_eq_tol(o.min_duration_us, 500, 1e-9);
    ck_assert_str_eq(o.output_file, "z.json");
    const char *a6[] = {"viztracer", "--version"};
    ck_assert_int_eq(parse(2, a6), VT_OK);
    ck_assert_int_eq(o.version, 1);
}
END_TEST

START_TEST(test_cli_errors)
{
    const char *a1[] = {"viztracer", "--nope", "s.py"};
    ck_assert_int_eq(parse(3, a1), VT_ERR_USAGE);
    ck_assert_str_eq(msg, "unrecognized option: --nope");
    const char *a2[] = {"viztracer", "--tracer_entries", "0", "s.py"};
    ck_assert_int_eq(parse(4, a2), VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "argument --tracer_entries: invalid value '0'");
    const char *a3[] = {"viztracer", "-o"};
    ck_assert_int_eq(parse(2, a3), VT_ERR_USAGE);
    ck_assert_str_eq(msg, "option --output_file needs a value");
    const char *a4[] = {"viztracer", "--quiet=1", "s.py"};
    ck_assert_int_eq(parse(3, a4), VT_ERR_USAGE);
    const char *a5[] = {"viztracer", "-u", "-o", "a.json", "s.py"};
    ck_assert_int_eq(parse(5, a5), VT_ERR_USAGE);
    const char *a6[] = {"viztracer", "--max_stack_depth", "1e3", "s.py"};
    ck_assert_int_eq(parse(4, a6), VT_ERR_FORMAT);
}
END_TEST

START_TEST(test_rc_values)
{
    const char *rc = "; comment\n[other]\nquiet\n[default]\n# c\nmax_stack_depth = 7\n"
                     "log_func_args = False\nexclude_files = a  b\tc\nmin_duration: 2us\r\n";
    ck_assert_int_eq(vt_cli_apply_rc(&o, rc, "rc", msg, sizeof(msg)), VT_OK);
    ck_assert_int_eq(o.max_stack_depth, 7);
    ck_assert_int_eq(o.log_func_args, 1); /* presence turns a flag on, as in VizTracer */
    ck_assert_int_eq(o.quiet, 0);         /* other sections are ignored */
    ck_assert_uint_eq(o.exclude_files.n, 3);
    ck_assert_double_eq_tol(o.min_duration_us, 2, 1e-9);
}
END_TEST

START_TEST(test_rc_errors)
{
    ck_assert_int_eq(vt_cli_apply_rc(&o, "quiet\n", "rc", msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "rcfile rc has no [default] section");
    ck_assert_int_eq(vt_cli_apply_rc(&o, "[default]\nx = 1\n", "rc", msg, sizeof(msg)),
                     VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "rcfile rc: unknown option 'x'");
    ck_assert_int_eq(vt_cli_apply_rc(&o, "[default\n", "rc", msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_cli_apply_rc(&o, "[default]\noutput_file =\n", "rc", msg, sizeof(msg)),
                     VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "rcfile rc: option 'output_file' needs a value");
    ck_assert_int_eq(vt_cli_apply_rc(&o, "[default]\nmodule = x\n", "rc", msg, sizeof(msg)),
                     VT_ERR_FORMAT);
}
END_TEST

Suite *
cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_cli_script_and_args);
    tcase_add_test(core, test_cli_forms);
    tcase_add_test(core, test_rc_values);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_cli_errors);
    tcase_add_test(errors, test_rc_errors);
    suite_add_tcase(s, errors);
    return s;
}
