/* test_vdbcmd.c: vdb commands end to end below the terminal: a hand-made
 * trace with file_info, each command line through vt_vdb__run, output
 * captured with open_memstream and compared exactly. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../vdb/internal.h"

/* /t/s.py, carried in file_info:
 *  1 def g(x):        6     # note
 *  2     return x     7     z = len([a])
 *  3                  8     return y + z
 *  4 def f(a):        9
 *  5     y = g(a)    10 f(1)
 */
static const char *trace_json =
    "{\"traceEvents\":["
    "{\"ph\":\"X\",\"name\":\"g (/t/s.py:1)\",\"ts\":1020,\"dur\":10,\"pid\":1,\"tid\":1,"
    "\"caller_lineno\":5,\"args\":{\"func_args\":{\"x\":\"1\"},\"return_value\":\"1\"}},"
    "{\"ph\":\"X\",\"name\":\"builtins.len\",\"ts\":1040,\"dur\":5,\"pid\":1,\"tid\":1,"
    "\"caller_lineno\":7},"
    "{\"ph\":\"X\",\"name\":\"f (/t/s.py:4)\",\"ts\":1010,\"dur\":50,\"pid\":1,\"tid\":1,"
    "\"caller_lineno\":10,\"args\":{\"func_args\":{\"a\":\"1\"},\"return_value\":\"2\"}},"
    "{\"ph\":\"X\",\"name\":\"<module> (/t/s.py:1)\",\"ts\":1000,\"dur\":100,\"pid\":1,"
    "\"tid\":1,\"caller_lineno\":1},"
    "{\"ph\":\"X\",\"name\":\"h (/nonexistent/x.py:3)\",\"ts\":1200,\"dur\":1,\"pid\":1,"
    "\"tid\":1},"
    "{\"ph\":\"C\",\"name\":\"cnt\",\"ts\":1050,\"pid\":1,\"tid\":1,\"args\":{\"a\":2,\"b\":3.5}},"
    "{\"ph\":\"C\",\"name\":\"cnt\",\"ts\":1015,\"pid\":1,\"tid\":1,\"args\":{\"a\":1}},"
    "{\"ph\":\"N\",\"id\":\"7\",\"name\":\"obj\",\"ts\":1012,\"pid\":1,\"tid\":1},"
    "{\"ph\":\"O\",\"id\":\"7\",\"name\":\"obj\",\"ts\":1025,\"pid\":1,\"tid\":1,"
    "\"args\":{\"snapshot\":{\"v\":[1,2],\"s\":\"it's\",\"t\":true,\"n\":null}}},"
    "{\"ph\":\"D\",\"id\":\"7\",\"name\":\"obj\",\"ts\":1055,\"pid\":1,\"tid\":1},"
    "{\"ph\":\"i\",\"name\":\"Variable Assign - y = 1\",\"ts\":1035,\"pid\":1,\"tid\":1,"
    "\"s\":\"p\"},"
    "{\"ph\":\"C\",\"name\":\"Variable Assign - z\",\"ts\":1046,\"pid\":1,\"tid\":1,"
    "\"args\":{\"Variable Assign - z\":1}}"
    "],\"viztracer_metadata\":{\"version\":\"0.15.6\"},"
    "\"file_info\":{\"files\":{\"/t/s.py\":[\"def g(x):\\n    return x\\n\\ndef f(a):\\n    y = "
    "g(a)\\n    # note\\n    z = len([a])\\n    return y + "
    "z\\n\\nf(1)\\n\",10]},\"functions\":{}}}";

static struct vt_vdb v;

static void
setup(void)
{
    struct vt_trace *t = NULL;
    char err[256];
    size_t n = strlen(trace_json);
    char *text = malloc(n + 1);
    memcpy(text, trace_json, n + 1);
    ck_assert_int_eq(vt_reader_parse(text, n, &t, err, sizeof(err)), VT_OK);
    memset(&v, 0, sizeof(v));
    v.no_clear = 1;
    ck_assert_int_eq(vt_vdb__attach(&v, t), VT_OK);
}

static void
teardown(void)
{
    vt_vdb__fini(&v);
}

/* Runs one command line and returns its output (static buffer). */
static const char *
run(const char *line)
{
    static char out[8192];
    char *buf = NULL;
    size_t len = 0;
    v.out = open_memstream(&buf, &len);
    vt_vdb__run(&v, line);
    fclose(v.out);
    v.out = NULL;
    snprintf(out, sizeof(out), "%s", buf ? buf : "");
    free(buf);
    return out;
}

START_TEST(test_source_view)
{
    /* At the start: the module, about to call f on line 10. */
    ck_assert_str_eq(run("t"), "10.0\n");
    ck_assert_str_eq(run("s"), "  def f(a):\n"
                               ">     y = g(a)\n"
                               "      # note\n"
                               "      z = len([a])\n"
                               "      return y + z\n"
                               "\n");
    ck_assert_str_eq(run("n"), "  def f(a):\n"
                               "      y = g(a)\n"
                               "      # note\n"
                               ">     z = len([a])\n"
                               "      return y + z\n"
                               "\n");
    ck_assert_str_eq(run("s"), "> builtins.len\n");
    ck_assert_str_eq(run("s"), "  def f(a):\n"
                               "      y = g(a)\n"
                               "      # note\n"
                               "      z = len([a])\n"
                               "      return y + z\n"
                               "> \n");
    ck_assert_str_eq(run("r"), "  def g(x):\n"
                               "      return x\n"
                               "\n"
                               "  def f(a):\n"
                               "      y = g(a)\n"
                               "      # note\n"
                               "      z = len([a])\n"
                               "      return y + z\n"
                               "\n"
                               "  f(1)\n"
                               "> \n");
    ck_assert_str_eq(run("r"), "> Not able to locate the source\n");
}
END_TEST

START_TEST(test_where_up_down)
{
    run("s");
    run("s");
    ck_assert_str_eq(run("w"), "  <module> (/t/s.py:1)\n"
                               "  f (/t/s.py:4)\n"
                               "> g (/t/s.py:1)\n");
    ck_assert_str_eq(run("d"), "Already at current frame\n");
    run("u");
    ck_assert_str_eq(run("w"), "  <module> (/t/s.py:1)\n"
                               "> f (/t/s.py:4)\n"
                               "  g (/t/s.py:1)\n");
    ck_assert_str_eq(run("a"), "{'func_args': {'a': '1'}, 'return_value': '2'}\n");
    ck_assert_str_eq(run("p a"), "1\n");
    ck_assert_str_eq(run("p return_value"), "2\n");
    run("u");
    ck_assert_str_eq(run("u"), "No outer frame anymore\n");
    ck_assert_str_eq(run("a"), "\n");
}
END_TEST

START_TEST(test_values)
{
    ck_assert_str_eq(run("counter"), "{}\n");
    ck_assert_str_eq(run("object"), "");
    run("t 35");
    ck_assert_str_eq(run("t"), "40.0\n");
    ck_assert_str_eq(run("w"), "  <module> (/t/s.py:1)\n> f (/t/s.py:4)\n");
    ck_assert_str_eq(run("counter"), "{'a': 1}\n");
    ck_assert_str_eq(run("object"), "obj:\n{'v': [1, 2], 's': \"it's\", 't': True, 'n': None}\n");
    /* p: arguments, then variables logged in the frame up to now. */
    ck_assert_str_eq(run("p a"), "1\n");
    ck_assert_str_eq(run("p y"), "1\n");
    ck_assert_str_eq(run("p z"), "No argument or logged variable named z in this frame\n");
    run("t 70");
    ck_assert_str_eq(run("t"), "60.0\n");
    ck_assert_str_eq(run("counter"), "{'a': 2, 'Variable Assign - z': 1, 'b': 3.5}\n");
    ck_assert_str_eq(run("object"), "");
    ck_assert_str_eq(run("p z"), "1\n");
    ck_assert_str_eq(run("p nope"), "No argument or logged variable named nope in this frame\n");
    run("t 15");
    ck_assert_str_eq(run("t"), "20.0\n");
    ck_assert_str_eq(run("p y"), "No argument or logged variable named y in this frame\n");
}
END_TEST

START_TEST(test_errors_and_help)
{
    ck_assert_str_eq(run(""), "");
    ck_assert_str_eq(run("   "), "");
    ck_assert_str_eq(run("foo bar"), "Invalid command: foo bar\n");
    ck_assert_str_eq(run("t 1 2"), "t takes 1 or no argument\n");
    ck_assert_str_eq(run("t x"), "t needs a timestamp in microseconds\n");
    ck_assert_str_eq(run("tid 1 2"), "tid takes 1 or no argument\n");
    ck_assert_str_eq(run("tid x"), "tid needs to be an integer\n");
    ck_assert_str_eq(run("pid 1.5"), "pid needs to be an integer\n");
    ck_assert_str_eq(run("tid 5"), "No such tid\n");
    ck_assert_str_eq(run("pid 5"), "No such pid\n");
    ck_assert_str_eq(run("tid"), "> 1\n");
    ck_assert_str_eq(run("pid"), "> 1\n");
    ck_assert_str_eq(run("s x"), "s takes no argument\n");
    ck_assert_str_eq(run("p"), "p takes 1 argument\n");
    ck_assert_str_eq(run("sb"), "at the beginning of the trace\n");
    ck_assert_str_eq(run("rb"), "No callers available\n");
    ck_assert_str_eq(run("c"), "No breakpoint set, use b FUNCTION\n");
    ck_assert_str_eq(run("b"), "No breakpoints\n");
    ck_assert_str_eq(run("b len"), "Breakpoint at len (1 function in the trace)\n");
    ck_assert_str_eq(run("b"), "  len\n");
    ck_assert_str_eq(run("c"), "> builtins.len\n");
    ck_assert_str_eq(run("c"), "No more calls of the breakpoint functions\n");
    ck_assert_str_eq(run("cl"), "Cleared 1 breakpoint\n");
    const char *help = run("help");
    static const char *const cmds[] = {"s ",  "sb ",    "n ",      "nb ",          "r ",
                                       "rb ", "c ",     "cb ",     "b [FUNCTION]", "t [TS]",
                                       "u ",  "d ",     "w ",      "tid [TID]",    "pid [PID]",
                                       "a ",  "p NAME", "counter", "object",       "q "};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        ck_assert_msg(strstr(help, cmds[i]) != NULL, "help lacks %s", cmds[i]);
    ck_assert_int_eq(v.quit, 0);
    run("q");
    ck_assert_int_eq(v.quit, 1);
}
END_TEST

START_TEST(test_clear_screen)
{
    v.no_clear = 0;
    const char *out = run("s");
    ck_assert_int_eq(strncmp(out, "\033[H\033[2J", 7), 0);
}
END_TEST

START_TEST(test_repr_and_time)
{
    char buf[48];
    struct vt_buf b;
    vt_vdb__fmt_us(buf, sizeof(buf), 0);
    ck_assert_str_eq(buf, "0.0");
    vt_vdb__fmt_us(buf, sizeof(buf), 74500);
    ck_assert_str_eq(buf, "74.5");
    vt_vdb__fmt_us(buf, sizeof(buf), 12345);
    ck_assert_str_eq(buf, "12.345");
    vt_vdb__fmt_us(buf, sizeof(buf), -1500);
    ck_assert_str_eq(buf, "-1.5");
    cJSON *j = cJSON_Parse("{\"a\":[1,2.5,1e300,-0.1],\"b\":\"x'y\\\"z\\n\",\"c\":{},\"d\":[]}");
    vt_buf_init(&b, 4096);
    ck_assert_int_eq(vt_vdb__repr(&b, j), VT_OK);
    ck_assert_str_eq(b.data, "{'a': [1, 2.5, 1e+300, -0.1], 'b': 'x\\'y\"z\\n', 'c': {}, 'd': []}");
    vt_buf_fini(&b);
    cJSON_Delete(j);
}
END_TEST

Suite *
vdbcmd_suite(void)
{
    Suite *s = suite_create("vdbcmd");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_source_view);
    tcase_add_test(core, test_where_up_down);
    tcase_add_test(core, test_values);
    tcase_add_test(core, test_errors_and_help);
    tcase_add_test(core, test_clear_screen);
    tcase_add_test(core, test_repr_and_time);
    suite_add_tcase(s, core);
    return s;
}
