"""Events beyond calls: --log_print, --log_gc, --log_audit, --log_exception."""

from conftest import events, run_python


def instants(data, prefix):
    return [e for e in events(data, "i") if e["name"].startswith(prefix)]


def test_log_print(run):
    r = run(["--quiet", "--log_print", "cmdline_test.py"], script="""
        import sys
        print("hello", 1, sep="-", end="!\\n")
        print("to stderr", file=sys.stderr)
        class Shown:
            def __str__(self):
                return "shown"
        print(Shown())
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # print went into the trace
    assert r.stderr == "to stderr\n"  # other files are untouched
    data = r.load()
    p = instants(data, "print - ")
    assert [e["name"] for e in p] == ["print - hello-1!\n", "print - shown\n"]
    assert all(e["s"] == "g" and "args" not in e for e in p)
    assert not any(e["name"].startswith(("print", "Shown.__str__")) for e in events(data, "X"))


def test_print_restored_after_stop(tmp_path):
    r = run_python("""
        import builtins
        from viztracer import VizTracer
        before = builtins.print
        t = VizTracer(log_print=True, verbose=0)
        t.start(); print("hidden"); t.stop()
        print("visible", builtins.print is before)
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "visible True\n"


def test_log_gc(run):
    r = run(["--quiet", "--log_gc", "cmdline_test.py"], script="""
        import gc, json
        gc.disable()
        class Cycle:
            def __init__(self):
                self.me = self
        for _ in range(123):
            Cycle()
        before = [s["collected"] for s in gc.get_stats()]
        gc.collect()
        after = [s["collected"] for s in gc.get_stats()]
        print(json.dumps([a - b for a, b in zip(after, before)]))
        """)
    assert r.returncode == 0, r.stderr
    delta = eval(r.stdout)
    counters = [e for e in events(r.load(), "C") if e["name"] == "garbage collection"]
    assert len(counters) % 2 == 0  # a start and a stop for every collection
    start, stop = counters[-2:]  # gc.collect() is the last one
    assert start["args"] == {"collecting": 1, "generation": 2, "collected": 0, "uncollectable": 0}
    assert stop["args"]["collecting"] == 0 and stop["args"]["generation"] == 2
    assert stop["args"]["collected"] == delta[2] >= 123
    assert stop["ts"] >= start["ts"]


def test_log_audit(run, tmp_path):
    r = run(["--quiet", "--log_audit", "open", "--", "cmdline_test.py"], script="""
        with open(__file__) as f:
            pass
        id(1)
        """)
    assert r.returncode == 0, r.stderr
    opens = [e for e in events(r.load(), "i") if e["name"] == "open"]
    assert opens[0]["args"] == {"args": [repr(f"{tmp_path}/cmdline_test.py"), "'r'", "524288"]}
    assert {e["name"] for e in events(r.load(), "i")} == {"open"}
    r = run(["--quiet", "--log_audit", "--", "cmdline_test.py"])
    names = {e["name"] for e in events(r.load(), "i")}
    assert "open" in names and "builtins.id" in names
    r = run(["--log_audit", "(", "--", "cmdline_test.py"])
    assert r.returncode == 1
    assert r.stderr == "viztracer: missing ), unterminated subpattern at position 0\n"


def test_log_exception(run):
    script = """
        def boom():
            raise ValueError("bad value")
        def middle():
            boom()
        def catcher():
            try:
                middle()
            except ValueError:
                pass
        catcher()
        """
    for extra in ([], ["--ignore_c_function"]):
        r = run(["--quiet", "--log_exception"] + extra + ["cmdline_test.py"], script=script)
        assert r.returncode == 0, r.stderr
        exc = instants(r.load(), "Exception - ")
        assert [e["args"]["function"].split(" ")[0] for e in exc] == ["boom", "middle"]
        assert exc[0]["name"] == "Exception - ValueError('bad value')"
        assert exc[0]["args"]["type"] == "ValueError"
        assert exc[0]["args"]["message"] == "bad value"
        # the calls themselves are still recorded once each
        assert len([e for e in events(r.load(), "X") if e["name"].startswith("boom (")]) == 1


def test_log_exception_raised_and_caught_in_one_function(run):
    # VizTracer's --log_exception records the script's raise statements, also
    # when the same function catches the exception; each raised expression is
    # evaluated once, and one that leaves its function is not recorded again.
    r = run(["--quiet", "--log_exception", "cmdline_test.py"], script="""
        made = []
        def make():
            made.append(1)
            return KeyError("k")
        try:
            raise make()
        except KeyError:
            pass
        def local():
            try:
                raise ValueError
            except ValueError as e:
                return e
        local()
        def reraise():
            try:
                raise TypeError("t")
            except TypeError:
                raise
        try:
            reraise()
        except TypeError:
            pass
        try:
            1 / 0  # raised by the interpreter, caught where raised: not a raise statement
        except ZeroDivisionError:
            pass
        print(len(made))
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1\n"
    exc = [(e["name"], e["args"]["function"].split(" ")[0])
           for e in instants(r.load(), "Exception - ")]
    # each exception once: the bare raise re-raises the one recorded at its raise
    assert exc == [("Exception - KeyError('k')", "<module>"),
                   ("Exception - ValueError()", "local"),
                   ("Exception - TypeError('t')", "reraise")]


def test_log_exception_reraise_of_a_deeper_exception(run):
    r = run(["--quiet", "--log_exception", "cmdline_test.py"], script="""
        def inner():
            return {}["k"]  # raised by the interpreter
        def outer():
            try:
                inner()
            except KeyError:
                raise
        try:
            outer()
        except KeyError:
            pass
        def unmatched():
            try:
                raise ValueError("v")
            except KeyError:
                pass
        try:
            unmatched()
        except ValueError:
            pass
        """)
    assert r.returncode == 0, r.stderr
    exc = [(e["name"], e["args"]["function"].split(" ")[0])
           for e in instants(r.load(), "Exception - ")]
    assert exc == [("Exception - KeyError('k')", "inner"), ("Exception - KeyError('k')", "outer"),
                   ("Exception - ValueError('v')", "unmatched")]


def test_log_exception_raise_keeps_python3_behaviour(run):
    r = run(["--quiet", "--log_exception", "cmdline_test.py"], script="""
        class NotAnException:
            pass
        try:
            raise NotAnException
        except TypeError as e:
            print(e)
        class Odd(Exception):
            def __new__(cls):
                return 42
        try:
            raise Odd
        except TypeError as e:
            print(e)
        try:
            raise ValueError("a") from KeyError("b")
        except ValueError as e:
            print(repr(e.__cause__))
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("exceptions must derive from BaseException\n"
                        "calling <class '__main__.Odd'> should have returned an instance of "
                        "BaseException, not <class 'int'>\n"
                        "KeyError('b')\n")


def test_log_func_with_objprint(run):
    r = run(["--quiet", "--log_func_args", "--log_func_retval", "--log_func_with_objprint",
             "cmdline_test.py"], script="""
        class Point:
            def __init__(self):
                self.x = 1
                self.name = "p"
                self._hidden = 0
            def method(self):
                pass
        class Shown:
            def __repr__(self):
                return "shown"
        def f(n, s, p, d, lst, shown):
            return {"b": [1, 2], "a": None}
        f(3, "text", Point(), {2: "x", 1: (1,)}, list(range(50)), Shown())
        """)
    assert r.returncode == 0, r.stderr
    f = [e for e in events(r.load(), "X") if e["name"].startswith("f (")][0]
    args = f["args"]["func_args"]
    assert args["n"] == "3" and args["s"] == "'text'" and args["shown"] == "shown"
    assert args["d"] == "{1: (1), 2: 'x'}"
    assert args["p"].startswith("<Point 0x")
    assert args["p"].split("\n")[1:] == ["  .name = 'p',", "  .x = 1", ">"]
    assert args["lst"] == "[\n" + ",\n".join(f"  {i}" for i in range(50)) + "\n]"
    assert f["args"]["return_value"] == "{'a': None, 'b': [1, 2]}"


def test_log_func_with_objprint_and_repr_conflict(tmp_path):
    r = run_python("""
        from viztracer import VizTracer
        try:
            VizTracer(log_func_repr=repr, log_func_with_objprint=True, verbose=0)
        except ValueError as e:
            print(e)
        t = VizTracer(log_func_args=True, log_func_repr=lambda v: "<%s>" % type(v).__name__,
                      verbose=0)
        def f(a):
            return a
        t.start(); f(1); t.stop()
        t.parse()
        print([e["args"] for e in t.data["traceEvents"] if e["name"].startswith("f (")])
        print(VizTracer(log_func_with_objprint=True, verbose=0).init_kwargs["log_func_with_objprint"])
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "log_func_repr and log_func_with_objprint can't be both set",
        "[{'func_args': {'a': '<int>'}}]",
        "True",
    ]


def test_extras_off_by_default(run):
    r = run(["--quiet", "cmdline_test.py"], script="""
        import gc
        print("out")
        gc.collect()
        try:
            raise KeyError(1)
        except KeyError:
            pass
        """)
    assert r.stdout == "out\n"
    assert events(r.load(), "i") == [] and events(r.load(), "C") == []


ASYNC = """
import asyncio
async def compute(n):
    await asyncio.sleep(0.01)
    return n * 2
async def main():
    t1 = asyncio.create_task(compute(1), name="t-one")
    t2 = asyncio.create_task(compute(2), name="t-two")
    await asyncio.gather(t1, t2)
asyncio.run(main())
"""


import pytest  # noqa: E402


@pytest.mark.parametrize("flag", [[], ["--ignore_c_function"]])
def test_log_async_tracks(run, flag):
    r = run(["--quiet", "--log_async"] + flag + ["cmdline_test.py"], script=ASYNC)
    assert r.returncode == 0, r.stderr
    data = r.load()
    tracks = {e["tid"]: e["args"]["name"] for e in data["traceEvents"]
              if e["ph"] == "M" and e["name"] == "thread_name"}
    by_track = {}
    for e in events(data, "X"):
        by_track.setdefault(tracks.get(e["tid"]), []).append(e)
    one = [e for e in by_track["t-one"] if e["name"].startswith("compute (")]
    two = [e for e in by_track["t-two"] if e["name"].startswith("compute (")]
    # each task runs compute twice: before and after its await
    assert len(one) == 2 and len(two) == 2
    # they interleave: t-two starts before t-one resumes
    assert one[0]["ts"] < two[0]["ts"] < one[1]["ts"] < two[1]["ts"]
    assert any(e["name"].startswith("main (") for e in by_track["Task-1"])
    awaits = [(tracks[e["tid"]], e["args"]["function"], e["args"]["line"])
              for e in events(data, "i") if e["name"] == "await"]
    assert ("t-one", "compute", 4) in awaits and ("t-two", "compute", 4) in awaits
    assert ("Task-1", "main", 9) in awaits
    for e in events(data, "X"):
        assert e["tid"] in tracks


def test_no_async_tracks_by_default(run):
    r = run(["--quiet", "cmdline_test.py"], script=ASYNC)
    tracks = [e for e in r.load()["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"]
    assert len(tracks) == 1
