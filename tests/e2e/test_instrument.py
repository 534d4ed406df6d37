"""Source instrumentation of the main script and the custom-event classes."""

from conftest import events, load, run_python


def ev(data, ph):
    return [(e["name"], e.get("args")) for e in events(data, ph)]


SCRIPT = """
def f(a, b):
    c = a + b
    x, (y, z) = 1, (2, 3)
    return c
class S:
    pass
s = S()
s.b = 5
abc = 2
f(1, 2)
for i in range(2):
    pass
"""


def test_log_var_number_attr(run):
    r = run(["--quiet", "--log_var", "c|x|y|i", "--log_number", "abc", "--log_attr", "b", "--",
             "cmdline_test.py"], script=SCRIPT)
    assert r.returncode == 0, r.stderr
    data = r.load()
    inst = [n for n, _ in ev(data, "i")]
    assert inst == ["Attribute Assign - s.b = 5", "Variable Assign - c = 3",
                    "Variable Assign - x = 1", "Variable Assign - y = 2",
                    "Variable Assign - i = 0", "Variable Assign - i = 1"]
    assert all(e["s"] == "p" for e in events(data, "i"))
    assert ev(data, "C") == [("Variable Assign - abc", {"Variable Assign - abc": 2})]


def test_log_attr_targets_as_viztracer(run):
    # An attribute assigned to, alone or in a tuple or list target, is logged;
    # one under a subscript (s.alst[1] = 0) or starred (*s.a) is not, nor a
    # for loop's target, as in VizTracer.
    r = run(["--quiet", "--log_attr", "a.*", "--", "cmdline_test.py"], script="""
        class Stub:
            def __init__(self):
                self.a = 0
                self.alst = [1, 2, 3]
        s = Stub()
        s.a = [1, 2]
        s.alst[1] = 0
        lst = [s, 2]
        lst[0].a = 1
        s.a += 1
        (s.a, s.alst), x = (5, [6]), 7
        unrelated, *s.a = 1, 2, 3
        for s.a in range(2):
            pass
        """)
    assert r.returncode == 0, r.stderr
    assert [n for n, _ in ev(r.load(), "i")] == [
        "Attribute Assign - self.a = 0", "Attribute Assign - self.alst = [1, 2, 3]",
        "Attribute Assign - s.a = [1, 2]", "Attribute Assign - lst[0].a = 1",
        "Attribute Assign - s.a = 2", "Attribute Assign - s.a = 5",
        "Attribute Assign - s.alst = [6]"]


def test_regex_matches_whole_names(run):
    r = run(["--quiet", "--log_var", "a", "--", "cmdline_test.py"], script="abc = 1\na = 2\n")
    assert [n for n, _ in ev(r.load(), "i")] == ["Variable Assign - a = 2"]


def test_log_func_exec_and_entry(run):
    r = run(["--quiet", "--log_func_exec", "f", "--log_func_entry", "f", "--",
             "cmdline_test.py"], script=SCRIPT)
    data = r.load()
    f = [e for e in events(data, "X") if e["name"].startswith("f (")][0]
    assert f["args"]["exec_steps"] == ["(3) c = 3", "(4) x = 1", "(4) y = 2", "(4) z = 3"]
    assert [n for n, _ in ev(data, "i")] == ["Function Entry - f = 'f is called'"]


def test_log_number_rejects_non_numbers(run):
    r = run(["--quiet", "--log_number", "v", "--", "cmdline_test.py"], script="v = 'text'\n")
    assert r.returncode == 1
    assert r.stderr.strip().endswith("TypeError: Variable Assign - v: a counter takes numbers, "
                                     "not str")
    assert r.load() is not None  # what ran is saved


def test_magic_comment(run):
    r = run(["--quiet", "--magic_comment", "cmdline_test.py"], script="""
        q = 3  # !viztracer: log
        w = 4  # !viztracer: log if q > 5
        # !viztracer: log_instant("magic")
        len([q])  # !viztracer: log
        """)
    assert r.returncode == 0, r.stderr
    data = r.load()
    assert ev(data, "C") == [("q", {"value": 3})]
    assert [n for n, _ in ev(data, "i")] == ["magic", "len([q])"]


def test_no_instrumentation_without_options(run):
    r = run(["--quiet", "cmdline_test.py"], script="q = 3  # !viztracer: log\n")
    assert events(r.load(), "C") == []


def test_invalid_regex(run):
    r = run(["--log_var", "(", "--", "cmdline_test.py"], script="a = 1\n")
    assert r.returncode == 1
    assert r.stderr == ("viztracer: invalid regular expression '(' for --log_var: "
                        "missing ), unterminated subpattern at position 0\n")


def test_custom_event_classes(tmp_path):
    out = tmp_path / "c.json"
    r = run_python(f"""
        import logging
        from viztracer import VizTracer, VizCounter, VizObject, VizLoggingHandler
        from viztracer.vizcounter import VizCounter as C2
        assert C2 is VizCounter
        t = VizTracer(output_file="{out}", verbose=0)
        t.start()
        c = VizCounter(t, "cnt")
        c.a = 1
        c.b = 2.5
        try:
            c.bad = "x"
        except Exception as e:
            print(e)
        o = VizObject(t, "obj")
        o.x = [1, 2]
        o._hidden = 1
        del o
        h = VizLoggingHandler()
        h.setTracer(t)
        log = logging.getLogger("viz")
        log.addHandler(h)
        log.warning("warned %d", 3)
        n = VizCounter(None, "noop")
        n.a = 1
        t.stop()
        t.save()
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "Counter can only take numeric values"
    data = load(str(out))
    assert ev(data, "C") == [("cnt", {"a": 1}), ("cnt", {"a": 1, "b": 2.5})]
    objs = events(data, "N") + events(data, "O") + events(data, "D")
    assert [e["ph"] for e in sorted(objs, key=lambda e: e["ts"])] == ["N", "O", "D"]
    assert [e for e in objs if e["ph"] == "O"][0]["args"] == {"snapshot": {"x": [1, 2]}}
    assert [n for n, _ in ev(data, "i")] == ["logging - warned 3"]
    # our Python files never show
    assert not any("viztracer/" in e["name"] for e in events(data, "X"))


def test_trace_self_shows_our_python_code(run):
    script = """
        from viztracer import VizCounter, get_tracer
        c = VizCounter(get_tracer(), "cnt")
        c.a = 1
        """
    r = run(["--quiet", "cmdline_test.py"], script=script)
    assert not any("viztracer/" in e["name"] for e in events(r.load(), "X"))
    r = run(["--quiet", "--trace_self", "cmdline_test.py"], script=script)
    assert any(e["name"].startswith("VizCounter.__setattr__ (") for e in events(r.load(), "X"))
