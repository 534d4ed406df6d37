/* test_cli.c: command-line and rcfile parsing (no interpreter needed). */
#include <check.h>
#include <string.h>

#include "../../../launcher/cli.h"

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
    const char *argv[] = {"viztracer", "-o", "x.json", "s.py", "--its-own", "a"};
    ck_assert_int_eq(parse(6, argv), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_SCRIPT);
    ck_assert_str_eq(o.target, "s.py");
    ck_assert_int_eq(o.argc, 3);
    ck_assert_str_eq(o.argv[0], "s.py");
    ck_assert_str_eq(o.argv[1], "--its-own");
    ck_assert_str_eq(o.argv[2], "a");
    ck_assert_ptr_null(o.argv[3]);
    ck_assert_str_eq(o.output_file, "x.json");
}
END_TEST

/* VizTracer's argparse (parse_known_args): its options are read anywhere up
 * to "--"; what it does not know stays the program's, in order. */
START_TEST(test_cli_options_after_program)
{
    const char *a1[] = {"viztracer", "s.py",      "-o", "out.json", "a",       "--log_exit", "-x",
                        "-5",        "--log_var", "v1", "v2",       "--quiet", "-n",         "3"};
    ck_assert_int_eq(parse(14, a1), VT_OK);
    ck_assert_str_eq(o.target, "s.py");
    ck_assert_str_eq(o.output_file, "out.json");
    ck_assert_int_eq(o.log_exit, 1);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_uint_eq(o.log_var.n, 2);
    ck_assert_str_eq(o.log_var.items[1], "v2");
    const char *want1[] = {"s.py", "a", "-x", "-5", "-n", "3"};
    ck_assert_int_eq(o.argc, 6);
    for (int k = 0; k < 6; k++)
        ck_assert_str_eq(o.argv[k], want1[k]);
    /* "--" (or "--run") after the program ends viztracer's options. */
    const char *a2[] = {"viztracer", "s.py", "--quiet", "--", "-o", "x", "--"};
    ck_assert_int_eq(parse(7, a2), VT_OK);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_ptr_null(o.output_file);
    ck_assert_int_eq(o.argc, 4);
    ck_assert_str_eq(o.argv[1], "-o");
    ck_assert_str_eq(o.argv[3], "--");
    const char *a3[] = {"viztracer", "-m", "timeit", "-n", "1", "--quiet", "--run", "--quiet"};
    ck_assert_int_eq(parse(8, a3), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_MODULE);
    ck_assert_int_eq(o.quiet, 1);
    const char *want3[] = {"timeit", "-n", "1", "--quiet"};
    ck_assert_int_eq(o.argc, 4);
    for (int k = 0; k < 4; k++)
        ck_assert_str_eq(o.argv[k], want3[k]);
    const char *a4[] = {"viztracer", "-c", "pass", "a", "--max_stack_depth=3", "b"};
    ck_assert_int_eq(parse(6, a4), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_STRING);
    ck_assert_int_eq(o.max_stack_depth, 3);
    ck_assert_int_eq(o.argc, 3);
    ck_assert_str_eq(o.argv[0], "-c");
    ck_assert_str_eq(o.argv[2], "b");
    /* The options viztracer gives its children are the program's after it. */
    const char *a5[] = {"viztracer", "s.py", "--python", "--subprocess_child", "d", "--patch_only"};
    ck_assert_int_eq(parse(6, a5), VT_OK);
    ck_assert_ptr_null(o.subprocess_child);
    ck_assert_int_eq(o.patch_only, 0);
    ck_assert_int_eq(o.argc, 5);
    ck_assert_str_eq(o.argv[1], "--python");
    ck_assert_str_eq(o.argv[3], "d");
    /* Help and version anywhere, as argparse. */
    const char *a6[] = {"viztracer", "s.py", "-h"};
    ck_assert_int_eq(parse(3, a6), VT_OK);
    ck_assert_int_eq(o.help, 1);
    /* A second program is refused rather than one of them run. */
    const char *a7[] = {"viztracer", "s.py", "-m", "mod"};
    ck_assert_int_eq(parse(4, a7), VT_ERR_USAGE);
    ck_assert_str_eq(msg, "argument -m: the program is already given; put -- before its own "
                          "arguments");
    const char *a8[] = {"viztracer", "-c", "pass", "-c", "pass"};
    ck_assert_int_eq(parse(5, a8), VT_ERR_USAGE);
    /* Before the program an unknown option is still an error. */
    const char *a9[] = {"viztracer", "-x", "s.py"};
    ck_assert_int_eq(parse(3, a9), VT_ERR_USAGE);
    const char *a10[] = {"viztracer", "-1"};
    ck_assert_int_eq(parse(2, a10), VT_OK);
    ck_assert_str_eq(o.target, "-1"); /* a negative number is not an option, as in argparse */
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
    const char *a2[] = {"viztracer", "--tracer_entries", "-1", "s.py"};
    ck_assert_int_eq(parse(4, a2), VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "argument --tracer_entries: invalid value '-1'");
    const char *a2b[] = {"viztracer", "--tracer_entries", "0", "s.py"}; /* keep every event */
    ck_assert_int_eq(parse(4, a2b), VT_OK);
    ck_assert_int_eq(o.tracer_entries, 0);
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

START_TEST(test_cli_python_lines)
{
    const char *a1[] = {"viztracer", "--subprocess_child", "/d",   "--python", "-u", "-X",
                        "dev",       "-Wignore",           "s.py", "-c",       "x"};
    ck_assert_int_eq(parse(11, a1), VT_OK);
    ck_assert_str_eq(o.subprocess_child, "/d");
    ck_assert_int_eq(o.run, VT_CLI_RUN_SCRIPT);
    ck_assert_str_eq(o.target, "s.py");
    ck_assert_int_eq(o.argc, 3);
    ck_assert_str_eq(o.argv[1], "-c");
    ck_assert_int_eq((int)o.interp_flags.n, 5);
    ck_assert_str_eq(o.interp_flags.items[0], "-u");
    ck_assert_str_eq(o.interp_flags.items[2], "dev");
    ck_assert_str_eq(o.interp_flags.items[3], "-W");
    ck_assert_str_eq(o.interp_flags.items[4], "ignore");
    /* A cluster ending in -m takes the module from the next token. */
    const char *a2[] = {"viztracer", "--python", "-BEm", "pkg.mod", "--x"};
    ck_assert_int_eq(parse(5, a2), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_MODULE);
    ck_assert_str_eq(o.target, "pkg.mod");
    ck_assert_str_eq(o.argv[1], "--x");
    ck_assert_int_eq((int)o.interp_flags.n, 2);
    const char *a3[] = {"viztracer", "--python", "-cprint(1)", "a"};
    ck_assert_int_eq(parse(4, a3), VT_OK);
    ck_assert_int_eq(o.run, VT_CLI_RUN_STRING);
    ck_assert_str_eq(o.target, "print(1)");
    ck_assert_str_eq(o.argv[0], "-c");
    ck_assert_str_eq(o.argv[1], "a");
    const char *a4[] = {"viztracer", "--python", "--", "-odd.py"};
    ck_assert_int_eq(parse(4, a4), VT_OK);
    ck_assert_str_eq(o.target, "-odd.py");
    /* What python3 does that we cannot trace: run by python3 itself. */
    const char *bad[][3] = {{"-i", "s.py", NULL},      {"-", NULL, NULL},  {"-x", "s.py", NULL},
                            {"--version", NULL, NULL}, {"-u", NULL, NULL}, {"-c", NULL, NULL}};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        const char *argv[5] = {"viztracer", "--python"};
        int argc = 2;
        for (int j = 0; j < 3 && bad[k][j]; j++)
            argv[argc++] = bad[k][j];
        ck_assert_int_eq(parse(argc, argv), VT_OK);
        ck_assert_int_eq(o.python_unsupported, 1);
        ck_assert_int_eq(o.run, VT_CLI_RUN_NONE);
        ck_assert_str_eq(o.python_argv[0], bad[k][0]);
    }
}
END_TEST

START_TEST(test_cli_child_args)
{
    const char *a1[] = {"viztracer",
                        "-o",
                        "x.json",
                        "--ignore_c_function",
                        "--max_stack_depth",
                        "7",
                        "--min_duration",
                        "2us",
                        "--log_audit",
                        "--include_files",
                        "/a",
                        "/b",
                        "--quiet",
                        "s.py"};
    ck_assert_int_eq(parse(14, a1), VT_OK);
    int n = 0;
    char **args = vt_cli_child_args(&o, &n);
    const char *want[] = {
        "--max_stack_depth",   "7",          "--min_duration", "2us", "--include_files", "/a", "/b",
        "--ignore_c_function", "--log_audit"};
    ck_assert_int_eq(n, 9);
    for (int i = 0; i < n; i++)
        ck_assert_str_eq(args[i], want[i]);
    ck_assert_ptr_null(args[n]);
    /* The tokens parse back to the same settings. */
    const char *b[16] = {"viztracer"};
    for (int i = 0; i < n; i++)
        b[i + 1] = args[i];
    b[n + 1] = "--"; /* a list option's values end at the next option */
    b[n + 2] = "t.py";
    struct vt_options o2;
    vt_cli_options_init(&o2);
    ck_assert_int_eq(vt_cli_parse(&o2, n + 3, (char **)b, msg, sizeof(msg)), VT_OK);
    ck_assert_str_eq(o2.target, "t.py");
    ck_assert_int_eq(o2.max_stack_depth, 7);
    ck_assert_int_eq(o2.ignore_c_function, 1);
    ck_assert_int_eq((int)o2.include_files.n, 2);
    ck_assert_int_eq(o2.log_audit.set, 1);
    ck_assert_int_eq((int)o2.log_audit.n, 0);
    ck_assert(o2.min_duration_us > 1.99 && o2.min_duration_us < 2.01);
    ck_assert_ptr_null(o2.output_file);
    vt_cli_options_fini(&o2);
    vt_cli_free_argv(args);
    /* Defaults pass nothing on. */
    const char *a2[] = {"viztracer", "s.py"};
    ck_assert_int_eq(parse(2, a2), VT_OK);
    args = vt_cli_child_args(&o, &n);
    ck_assert_int_eq(n, 0);
    vt_cli_free_argv(args);
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
    tcase_add_test(core, test_cli_options_after_program);
    tcase_add_test(core, test_rc_values);
    tcase_add_test(core, test_cli_python_lines);
    tcase_add_test(core, test_cli_child_args);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_cli_errors);
    tcase_add_test(errors, test_rc_errors);
    suite_add_tcase(s, errors);
    return s;
}
