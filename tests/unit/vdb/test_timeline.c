/* test_timeline.c: vdb navigation over hand-made call trees (no terminal).
 *
 * The main tree, one thread (pid 1, tid 1), times in us, written in return
 * order (children first) as VizTracer writes them:
 *
 *   A [0,100]            F [120,130]
 *     B [10,40]   E [50,60]
 *       C [15,20]  D [25,35]
 *
 * Every command is checked forwards and backwards, at both ends, and across
 * threads and processes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../tracer/base/buf.h"
#include "../../../tracer/format/format.h"
#include "../../../vdb/timeline.h"

#define EV(name, ts, dur, pid, tid)                                                                \
    "{\"ph\":\"X\",\"name\":\"" name "\",\"ts\":" #ts ",\"dur\":" #dur ",\"pid\":" #pid            \
    ",\"tid\":" #tid ",\"cat\":\"fee\"}"

static const char *main_tree = "{\"traceEvents\":[" EV("C (/t/a.py:10)", 1000015, 5, 1, 1) "," EV(
    "D (/t/a.py:20)", 1000025, 10, 1,
    1) "," EV("B (/t/a.py:5)", 1000010, 30, 1,
              1) "," EV("E (/t/a.py:30)", 1000050, 10, 1,
                        1) "," EV("A (/t/a.py:1)", 1000000, 100, 1,
                                  1) "," EV("F (/t/a.py:40)", 1000120, 10, 1,
                                            1) "],"
                                               "\"viztracer_metadata\":{\"version\":\"0.15.6\"}}";

static struct vt_trace *trace;
static struct vt_timeline *tl;

static struct vt_trace *
parse(const char *json)
{
    struct vt_trace *t = NULL;
    char err[256];
    size_t n = strlen(json);
    char *text = malloc(n + 1);
    memcpy(text, json, n + 1);
    enum vt_err rc = vt_reader_parse(text, n, &t, err, sizeof(err));
    ck_assert_msg(rc == VT_OK, "parse failed: %s", err);
    return t;
}

static void
load(const char *json)
{
    trace = parse(json);
    tl = vt_timeline_create(trace);
    ck_assert_ptr_nonnull(tl);
}

static void
teardown(void)
{
    vt_timeline_destroy(tl);
    vt_reader_free(trace);
    tl = NULL;
    trace = NULL;
}

/* The chain as "A0 B1 C0" (name letter + idx), the inspected frame marked '*'. */
static const char *
chain(void)
{
    static char buf[256];
    size_t n, insp, len = 0;
    const struct vt_tl_frame *f = vt_timeline_frames(tl, &n, &insp);
    buf[0] = '\0';
    for (size_t i = 0; i < n && len + 16 < sizeof(buf); i++) {
        const struct vt_trace_event *e = vt_timeline_event(tl, f[i].node);
        const char *name = vt_reader_name(trace, e->name);
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%c%u%s", i ? " " : "", name[0],
                                f[i].idx, i == insp && insp + 1 != n ? "*" : "");
    }
    return buf;
}

/* Relative time of the position in us. */
static long
now_us(void)
{
    return (long)(vt_timeline_time(tl) / 1000);
}

static void
setup_main(void)
{
    load(main_tree);
}

START_TEST(test_start)
{
    ck_assert_str_eq(chain(), "A0");
    ck_assert_int_eq(now_us(), 10);
    ck_assert_int_eq(vt_timeline_origin(tl), 1000000000LL);
}
END_TEST

START_TEST(test_step_forward_all)
{
    static const char *const want[] = {"A0 B0", "A0 B0 C0", "A0 B1", "A0 B1 D0", "A0 B2",
                                       "A1",    "A1 E0",    "A2",    "F0"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_int_eq(vt_timeline_step(tl), VT_TL_OK);
        ck_assert_str_eq(chain(), want[i]);
    }
    ck_assert_int_eq(vt_timeline_step(tl), VT_TL_END);
    ck_assert_str_eq(chain(), "F0");
    ck_assert_int_eq(vt_timeline_next(tl), VT_TL_END);
    ck_assert_int_eq(vt_timeline_return(tl), VT_TL_NOCALLER);
    ck_assert_str_eq(chain(), "F0");
}
END_TEST

START_TEST(test_step_back_all)
{
    vt_timeline_goto(tl, 200000); /* past the end: F */
    ck_assert_str_eq(chain(), "F0");
    ck_assert_int_eq(vt_timeline_step_back(tl), VT_TL_OK); /* rb at top level */
    ck_assert_str_eq(chain(), "A0");
    /* From the end of A backwards. */
    while (vt_timeline_next(tl) == VT_TL_OK && strcmp(chain(), "A2") != 0)
        ;
    ck_assert_str_eq(chain(), "A2");
    static const char *const want[] = {"A1 E0", "A1",       "A0 B2", "A0 B1 D0",
                                       "A0 B1", "A0 B0 C0", "A0 B0", "A0"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_int_eq(vt_timeline_step_back(tl), VT_TL_OK);
        ck_assert_str_eq(chain(), want[i]);
    }
    ck_assert_int_eq(vt_timeline_step_back(tl), VT_TL_BEGIN);
    ck_assert_int_eq(vt_timeline_next_back(tl), VT_TL_BEGIN);
    ck_assert_int_eq(vt_timeline_return_back(tl), VT_TL_NOCALLER);
    ck_assert_str_eq(chain(), "A0");
}
END_TEST

START_TEST(test_next)
{
    ck_assert_int_eq(vt_timeline_next(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A1");
    ck_assert_int_eq(now_us(), 50);
    ck_assert_int_eq(vt_timeline_next(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A2");
    ck_assert_int_eq(now_us(), 60);
    ck_assert_int_eq(vt_timeline_next(tl), VT_TL_OK); /* end of A: next top-level call */
    ck_assert_str_eq(chain(), "F0");
    ck_assert_int_eq(now_us(), 120);
    ck_assert_int_eq(vt_timeline_next_back(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0");
    /* n then nb inside a frame is the identity. */
    vt_timeline_step(tl);
    ck_assert_int_eq(vt_timeline_next(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B1");
    ck_assert_int_eq(vt_timeline_next_back(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B0");
    ck_assert_int_eq(vt_timeline_next_back(tl), VT_TL_OK); /* leaves B to its caller */
    ck_assert_str_eq(chain(), "A0");
}
END_TEST

START_TEST(test_return)
{
    vt_timeline_step(tl);
    vt_timeline_step(tl);
    ck_assert_str_eq(chain(), "A0 B0 C0");
    ck_assert_int_eq(vt_timeline_return(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B1");
    ck_assert_int_eq(vt_timeline_return(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A1");
    ck_assert_int_eq(vt_timeline_return(tl), VT_TL_OK); /* top level: next sibling */
    ck_assert_str_eq(chain(), "F0");
    ck_assert_int_eq(vt_timeline_return(tl), VT_TL_NOCALLER);
    ck_assert_int_eq(vt_timeline_return_back(tl), VT_TL_OK); /* previous sibling */
    ck_assert_str_eq(chain(), "A0");
    vt_timeline_step(tl);
    vt_timeline_next(tl);
    ck_assert_str_eq(chain(), "A0 B1");
    ck_assert_int_eq(vt_timeline_return_back(tl), VT_TL_OK); /* back before the call of B */
    ck_assert_str_eq(chain(), "A0");
    ck_assert_int_eq(now_us(), 10);
}
END_TEST

START_TEST(test_step_then_back_is_identity)
{
    /* s;sb and n;nb come back to the same position inside the first call. */
    for (int i = 0; i < 7; i++) {
        char before[256];
        snprintf(before, sizeof(before), "%s", chain());
        ck_assert_int_eq(vt_timeline_step(tl), VT_TL_OK);
        char after[256];
        snprintf(after, sizeof(after), "%s", chain());
        ck_assert_int_eq(vt_timeline_step_back(tl), VT_TL_OK);
        ck_assert_str_eq(chain(), before);
        ck_assert_int_eq(vt_timeline_step(tl), VT_TL_OK);
        ck_assert_str_eq(chain(), after);
    }
}
END_TEST

START_TEST(test_up_down)
{
    vt_timeline_step(tl);
    vt_timeline_step(tl);
    ck_assert_int_eq(vt_timeline_down(tl), VT_TL_INNERMOST);
    ck_assert_int_eq(vt_timeline_up(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B0* C0");
    ck_assert_int_eq(vt_timeline_up(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0* B0 C0");
    ck_assert_int_eq(vt_timeline_up(tl), VT_TL_NOOUTER);
    ck_assert_int_eq(now_us(), 15); /* time does not move */
    ck_assert_int_eq(vt_timeline_down(tl), VT_TL_OK);
    ck_assert_int_eq(vt_timeline_down(tl), VT_TL_OK);
    ck_assert_int_eq(vt_timeline_down(tl), VT_TL_INNERMOST);
    /* A movement starts from the innermost frame. */
    vt_timeline_up(tl);
    vt_timeline_up(tl);
    ck_assert_int_eq(vt_timeline_step(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B1");
}
END_TEST

START_TEST(test_goto)
{
    vt_timeline_goto(tl, 30000);
    ck_assert_str_eq(chain(), "A0 B1 D0");
    ck_assert_int_eq(now_us(), 25);
    vt_timeline_goto(tl, 45000);
    ck_assert_str_eq(chain(), "A1");
    ck_assert_int_eq(now_us(), 50);
    vt_timeline_goto(tl, -5000);
    ck_assert_str_eq(chain(), "A0");
    vt_timeline_goto(tl, 1000000);
    ck_assert_str_eq(chain(), "F0");
    vt_timeline_goto(tl, 10000); /* exactly the start of B: before the call */
    ck_assert_str_eq(chain(), "A0");
    vt_timeline_goto(tl, 40000); /* exactly the end of B: after it */
    ck_assert_str_eq(chain(), "A1");
    /* After a goto, r returns to the right place in the caller. */
    vt_timeline_goto(tl, 30000);
    ck_assert_int_eq(vt_timeline_return(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B2");
}
END_TEST

START_TEST(test_breakpoints)
{
    ck_assert_int_eq(vt_timeline_continue(tl), VT_TL_NOBREAK);
    ck_assert_int_eq(vt_timeline_break_add(tl, "D"), 1);
    ck_assert_int_eq(vt_timeline_continue(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B1 D0");
    ck_assert_int_eq(vt_timeline_continue(tl), VT_TL_NOTFOUND);
    ck_assert_str_eq(chain(), "A0 B1 D0"); /* unchanged */
    ck_assert_int_eq(vt_timeline_break_add(tl, "E"), 1);
    ck_assert_int_eq(vt_timeline_break_add(tl, "B"), 1);
    ck_assert_int_eq(vt_timeline_continue(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A1 E0");
    ck_assert_int_eq(vt_timeline_continue_back(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B1 D0");
    ck_assert_int_eq(vt_timeline_continue_back(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "A0 B0");
    ck_assert_int_eq(vt_timeline_continue_back(tl), VT_TL_NOTFOUND);
    ck_assert_str_eq(chain(), "A0 B0");
    ck_assert_int_eq(vt_timeline_break_count(tl), 3);
    ck_assert_int_eq(vt_timeline_break_clear(tl, "B"), 1);
    ck_assert_str_eq(vt_timeline_break_get(tl, 0), "D");
    ck_assert_int_eq(vt_timeline_break_clear(tl, NULL), 2);
    ck_assert_int_eq(vt_timeline_continue_back(tl), VT_TL_NOBREAK);
    ck_assert_int_eq(vt_timeline_break_add(tl, "nosuch"), 0);
}
END_TEST

START_TEST(test_break_names)
{
    load("{\"traceEvents\":[" EV("Cls.meth (/t/m.py:3)", 1, 1, 1, 1) "," EV(
        "builtins.len", 3, 1, 1, 1) "," EV("main (/t/m.py:9)", 0, 10, 1,
                                           1) "],\"viztracer_metadata\":{\"version\":\"0.15.6\"}}");
    ck_assert_int_eq(vt_timeline_break_add(tl, "meth"), 1);
    ck_assert_int_eq(vt_timeline_break_add(tl, "Cls.meth"), 1);
    ck_assert_int_eq(vt_timeline_break_add(tl, "Cls.meth (/t/m.py:3)"), 1);
    ck_assert_int_eq(vt_timeline_break_add(tl, "len"), 1);
    ck_assert_int_eq(vt_timeline_break_add(tl, "builtins.len"), 1);
    ck_assert_int_eq(vt_timeline_break_add(tl, "eth"), 0);
    ck_assert_int_eq(vt_timeline_break_add(tl, "Cls"), 0);
    vt_timeline_break_clear(tl, NULL);
    vt_timeline_break_add(tl, "len");
    ck_assert_int_eq(vt_timeline_continue(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "m1 b0");
    teardown();
}
END_TEST

/* Two threads in process 1, one thread in process 2. Thread 2 starts first. */
static const char *threads_tree = "{\"traceEvents\":[" EV("a1 (/t/a.py:1)", 110, 10, 1, 1) "," EV(
    "a2 (/t/a.py:5)", 130, 10, 1,
    1) "," EV("main (/t/a.py:9)", 100, 50, 1,
              1) "," EV("w (/t/w.py:1)", 50, 200, 1,
                        2) "," EV("x (/t/w.py:5)", 135, 5, 1,
                                  2) "," EV("p (/t/p.py:1)", 300, 20, 2,
                                            7) "],"
                                               "\"viztracer_metadata\":{\"version\":\"0.15.6\"}}";

START_TEST(test_threads)
{
    load(threads_tree);
    size_t n;
    const struct vt_tl_thread *all = vt_timeline_threads(tl, &n);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(all[0].tid, 1);
    ck_assert_int_eq(all[1].tid, 2);
    ck_assert_int_eq(all[2].pid, 2);
    /* Starts in the thread that starts first. */
    ck_assert_int_eq(vt_timeline_thread(tl)->tid, 2);
    ck_assert_str_eq(chain(), "w0");
    ck_assert_int_eq(vt_timeline_origin(tl), 50000);
    vt_timeline_goto(tl, 85000); /* abs 135: inside a2 of thread 1 */
    ck_assert_str_eq(chain(), "w0");
    ck_assert_int_eq(vt_timeline_goto_tid(tl, 1), VT_TL_OK);
    ck_assert_str_eq(chain(), "m1 a0");
    ck_assert_int_eq(vt_timeline_thread(tl)->tid, 1);
    /* Keeps the time: a2 started at 130 (rel 80). */
    ck_assert_int_eq(now_us(), 80);
    ck_assert_int_eq(vt_timeline_goto_tid(tl, 99), VT_TL_NOTID);
    ck_assert_int_eq(vt_timeline_goto_tid(tl, 7), VT_TL_NOTID); /* other process */
    ck_assert_int_eq(vt_timeline_goto_pid(tl, 2), VT_TL_OK);
    ck_assert_int_eq(vt_timeline_thread(tl)->tid, 7);
    ck_assert_str_eq(chain(), "p0");
    ck_assert_int_eq(vt_timeline_goto_pid(tl, 3), VT_TL_NOPID);
    ck_assert_int_eq(vt_timeline_goto_pid(tl, 1), VT_TL_OK);
    ck_assert_int_eq(vt_timeline_thread(tl)->tid, 1); /* first thread of pid 1 */
    /* Movement stays in the thread. */
    ck_assert_int_eq(vt_timeline_step(tl), VT_TL_END);
    ck_assert_int_eq(vt_timeline_thread(tl)->tid, 1);
    teardown();
}
END_TEST

START_TEST(test_ties_and_rounding)
{
    /* k [10,15] holds p [11,15.001] although p's rounded end is 1 ns past
     * k's; z has no duration; r is written after q with the same span, so r
     * is the caller (VizTracer writes callers after callees). */
    load("{\"traceEvents\":[" EV("k (/t/a.py:1)", 10, 5, 1, 1) "," EV(
        "p (/t/a.py:3)", 11, 4.001, 1,
        1) "," EV("z (/t/a.py:2)", 12, 0, 1, 1) "," EV("q (/t/a.py:4)", 20, 2, 1,
                                                       1) "," EV("r (/t/a.py:5)", 20, 2, 1,
                                                                 1) "],"
                                                                    "\"viztracer_metadata\":{}}");
    static const char *const want[] = {"k0 p0", "k0 p0 z0", "k0 p1", "k1", "r0", "r0 q0", "r1"};
    ck_assert_str_eq(chain(), "k0");
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_int_eq(vt_timeline_step(tl), VT_TL_OK);
        ck_assert_str_eq(chain(), want[i]);
    }
    ck_assert_int_eq(vt_timeline_step(tl), VT_TL_END);
    teardown();
}
END_TEST

/* n calls nested (deep) or side by side under one call (wide), written in
 * reverse order; built with vt_buf. */
static char *
big_trace(int n, int deep)
{
    struct vt_buf b;
    vt_buf_init(&b, (size_t)1 << 30);
    vt_buf_adds(&b, "{\"traceEvents\":[");
    for (int i = n - 1; i >= 0; i--) {
        long ts = deep ? i : (i == 0 ? 0 : 2 * i);
        long dur = deep ? 2L * (n - i) : (i == 0 ? 2L * n + 2 : 1);
        vt_buf_printf(&b,
                      "%s{\"ph\":\"X\",\"name\":\"f%d (/t/a.py:1)\",\"ts\":%ld,\"dur\":%ld,"
                      "\"pid\":1,\"tid\":1}",
                      i == n - 1 ? "" : ",", i % 10, ts, dur);
    }
    vt_buf_adds(&b, "],\"viztracer_metadata\":{}}");
    return vt_buf_take(&b, NULL);
}

START_TEST(test_deep_and_wide)
{
    enum { N = 100000 };
    size_t n, insp;
    char *json = big_trace(N, 1);
    load(json);
    free(json);
    for (int i = 1; i < N; i++)
        ck_assert_int_eq(vt_timeline_step(tl), VT_TL_OK);
    vt_timeline_frames(tl, &n, &insp);
    ck_assert_int_eq(n, N);
    ck_assert_int_eq(vt_timeline_up(tl), VT_TL_OK);
    ck_assert_int_eq(vt_timeline_continue(tl), VT_TL_NOBREAK);
    for (int i = 1; i < N; i++)
        ck_assert_int_eq(vt_timeline_return(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "f1");
    vt_timeline_goto(tl, 1000LL * (N - 1)); /* the start of the innermost: before its call */
    vt_timeline_frames(tl, &n, &insp);
    ck_assert_int_eq(n, N - 1);
    vt_timeline_break_add(tl, "f0");
    ck_assert_int_eq(vt_timeline_continue_back(tl), VT_TL_OK);
    vt_timeline_frames(tl, &n, &insp);
    ck_assert_int_eq(n, N - 9);
    teardown();

    json = big_trace(N, 0);
    load(json);
    free(json);
    ck_assert_int_eq(vt_timeline_node(tl, 1)->nkids, N - 1);
    for (int i = 0; i < N - 1; i++)
        ck_assert_int_eq(vt_timeline_next(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "f99999");
    ck_assert_int_eq(vt_timeline_step_back(tl), VT_TL_OK);
    ck_assert_str_eq(chain(), "f99998 f0"); /* a leaf, entered at its end */
    vt_timeline_goto(tl, 2000LL * 5000);
    ck_assert_str_eq(chain(), "f4999"); /* exactly at a start: before that call */
    teardown();
}
END_TEST

START_TEST(test_empty)
{
    struct vt_trace *t = parse("{\"traceEvents\":[],\"viztracer_metadata\":{}}");
    ck_assert_ptr_null(vt_timeline_create(t));
    vt_reader_free(t);
    vt_timeline_destroy(NULL);
}
END_TEST

START_TEST(test_strerror)
{
    ck_assert_str_eq(vt_timeline_strerror(VT_TL_END), "at the end of the trace");
    ck_assert_str_eq(vt_timeline_strerror(VT_TL_BEGIN), "at the beginning of the trace");
    ck_assert_str_eq(vt_timeline_strerror(VT_TL_NOCALLER), "No callers available");
    ck_assert_str_eq(vt_timeline_strerror(VT_TL_NOOUTER), "No outer frame anymore");
    ck_assert_str_eq(vt_timeline_strerror(VT_TL_INNERMOST), "Already at current frame");
    ck_assert_str_eq(vt_timeline_strerror(VT_TL_NOTID), "No such tid");
    ck_assert_str_eq(vt_timeline_strerror(VT_TL_NOPID), "No such pid");
}
END_TEST

Suite *
timeline_suite(void)
{
    Suite *s = suite_create("timeline");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup_main, teardown);
    tcase_add_test(core, test_start);
    tcase_add_test(core, test_step_forward_all);
    tcase_add_test(core, test_step_back_all);
    tcase_add_test(core, test_next);
    tcase_add_test(core, test_return);
    tcase_add_test(core, test_step_then_back_is_identity);
    tcase_add_test(core, test_up_down);
    tcase_add_test(core, test_goto);
    tcase_add_test(core, test_breakpoints);
    suite_add_tcase(s, core);
    TCase *shapes = tcase_create("shapes");
    tcase_add_test(shapes, test_break_names);
    tcase_add_test(shapes, test_threads);
    tcase_add_test(shapes, test_ties_and_rounding);
    tcase_add_test(shapes, test_empty);
    tcase_add_test(shapes, test_deep_and_wide);
    tcase_add_test(shapes, test_strerror);
    suite_add_tcase(s, shapes);
    return s;
}
