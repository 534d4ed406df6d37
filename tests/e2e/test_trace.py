"""What is recorded: exact events, nesting and durations, filters, threads,
arguments and return values, the ring buffer, signals."""

import os
import signal
import subprocess
import time

import pytest

from conftest import BIN, FIB, events, load, names, run_python


def by_name(data, prefix):
    return [e for e in events(data) if e["name"].startswith(prefix)]


def test_fib_events_nest(run, tmp_path):
    r = run(["--quiet", "cmdline_test.py"], script=FIB)
    data = r.load()
    ev = events(data, "X")
    assert len(ev) == 17
    fib = [e for e in ev if e["name"] == f"fib ({tmp_path}/cmdline_test.py:2)"]
    assert len(fib) == 15
    module = by_name(data, "<module>")[0]
    exec_ = by_name(data, "builtins.exec")[0]
    # every fib lies inside <module>, which lies inside builtins.exec
    for e in fib:
        assert module["ts"] <= e["ts"] and e["ts"] + e["dur"] <= module["ts"] + module["dur"] + 0.002
    assert exec_["ts"] <= module["ts"]
    assert module["ts"] + module["dur"] <= exec_["ts"] + exec_["dur"] + 0.002
    for e in ev:
        assert e["cat"] == "fee" and e["dur"] >= 0
        assert e["pid"] == e["tid"]
        # three decimals, as VizTracer writes them
        assert round(e["ts"], 3) == e["ts"]


def test_sleep_duration(run):
    r = run(["--quiet", "cmdline_test.py"], script="import time\ndef f():\n    time.sleep(0.05)\nf()\n")
    f = by_name(r.load(), "f (")[0]
    sleep = by_name(r.load(), "time.sleep")[0]
    assert 50000 <= sleep["dur"] <= f["dur"]


def test_c_function_names(run):
    r = run(["--quiet", "cmdline_test.py"], script="""
        import math, os
        d = {}
        d.get(1)
        len([1])
        math.sqrt(4)
        os.getpid()
        int("3")  # calling a type is not a C function event
        """)
    n = names(r.load())
    for expect in ["dict.get", "builtins.len", "math.sqrt", "posix.getpid"]:
        assert expect in n
    assert not any(x.startswith("builtins.int") or x == "int" for x in n)


def test_builtin_bound_as_a_method(run):
    # VizTracer's issue 552: a method object around a builtin is the builtin's call
    r = run(["--quiet", "cmdline_test.py"], script="""
        class A:
            f = classmethod(repr)
        A().f()
        """)
    assert r.returncode == 0, r.stderr
    assert names(r.load()).count("builtins.repr") == 1


def test_qualname(run, tmp_path):
    r = run(["--quiet", "cmdline_test.py"], script="""
        class Stub:
            def __init__(self):
                pass
        Stub()
        """)
    n = names(r.load())
    assert f"Stub.__init__ ({tmp_path}/cmdline_test.py:3)" in n
    assert f"Stub ({tmp_path}/cmdline_test.py:2)" in n


@pytest.mark.parametrize("flag", [[], ["--ignore_c_function"]])
def test_generators_each_resumption(run, flag):
    r = run(["--quiet"] + flag + ["cmdline_test.py"], script="""
        def gen():
            yield 1
            yield 2
        for _ in gen():
            pass
        """)
    assert len(by_name(r.load(), "gen (")) == 3


@pytest.mark.parametrize("flag", [[], ["--ignore_c_function"]])
def test_filters_counts(run, flag):
    py = 0 if flag else 1  # builtins.exec is a C call
    r = run(["--quiet"] + flag + ["--include_files", "./", "--", "cmdline_test.py"], script=FIB)
    assert len(events(r.load())) == 16 + py
    r = run(["--quiet"] + flag + ["--exclude_files", "./", "--", "cmdline_test.py"], script=FIB)
    assert len(events(r.load())) == py
    r = run(["--quiet"] + flag + ["--max_stack_depth", "3", "cmdline_test.py"], script=FIB)
    # exec, <module>, fib(5) -- or, without C calls, <module>, fib(5), fib(4), fib(3)
    assert len(events(r.load())) == (3 if py else 4)
    r = run(["--quiet"] + flag + ["--min_duration", "1s", "cmdline_test.py"], script=FIB)
    assert len(events(r.load())) == 0


def test_include_and_exclude_conflict(run):
    r = run(["--include_files", "a", "--exclude_files", "b", "--", "cmdline_test.py"], script=FIB)
    assert r.returncode == 1
    assert r.stderr.strip() == "viztracer: include_files and exclude_files can't be both specified!"


def test_depth_not_leaked_by_filtered_calls(run, tmp_path):
    # VizTracer 0.15.6 lost a/b/c the second time (docs/COMPAT.md, Filters and the buffer); we must not.
    (tmp_path / "helper").mkdir()
    (tmp_path / "helper" / "h.py").write_text("def h():\n    return 1\n")
    r = run(["--quiet", "--max_stack_depth", "5", "--exclude_files", f"{tmp_path}/helper", "--",
             "cmdline_test.py"], script="""
        import sys
        sys.path.insert(0, "helper")
        from h import h
        def c(): pass
        def b(): c()
        def a(): b()
        a()
        h(); h(); h()
        a()
        """)
    n = names(r.load())
    for f in "abc":
        assert sum(1 for x in n if x.startswith(f + " (")) == 2
    assert not any(x.startswith("h (") for x in n)


def test_ignore_c_function_and_frozen(run):
    r = run(["--quiet", "--ignore_c_function", "cmdline_test.py"],
            script="import json\nlen([1])\njson.dumps([1])\n")
    n = names(r.load())
    assert "builtins.len" not in n and "builtins.exec" not in n
    assert any(x.startswith("dumps (") for x in n)
    r = run(["--quiet", "cmdline_test.py"], script="import email.utils\n")
    assert any("<frozen" in x for x in names(r.load()))
    r = run(["--quiet", "--ignore_frozen", "cmdline_test.py"], script="import email.utils\n")
    assert not any("<frozen" in x for x in names(r.load()))


def test_threads(run):
    r = run(["--quiet", "cmdline_test.py"], script="""
        import threading
        def work(n):
            return n * 2
        ts = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in range(3)]
        for t in ts: t.start()
        for t in ts: t.join()
        """)
    data = r.load()
    meta = {e["args"]["name"]: e["tid"] for e in data["traceEvents"]
            if e["ph"] == "M" and e["name"] == "thread_name"}
    assert set(meta) == {"MainThread", "w0", "w1", "w2"}
    assert len(set(meta.values())) == 4
    for name in ("w0", "w1", "w2"):
        assert any(e["name"].startswith("work (") and e["tid"] == meta[name] for e in events(data))
    pm = [e for e in data["traceEvents"] if e["ph"] == "M" and e["name"] == "process_name"]
    assert pm[0]["args"]["name"] == "MainProcess"


@pytest.mark.parametrize("flag", [[], ["--ignore_c_function"]])
def test_thread_out_of_memory_is_counted_and_reported(run, flag):
    # Two threads start under an address-space limit that leaves room for the
    # threads but not for a tracer's per-thread ring: their registration
    # fails for real. The rings are made larger (20 GB, reserved, never
    # touched) than the crash-safe area's space for thread states, which is
    # mapped before the limit (tracer/crash.c), so they are mapped on their
    # own, under it. Each is counted once (a retry on every event would
    # count it again), the main thread is still traced, and the save says
    # so on stderr and in the metadata.
    r = run(["--quiet", "--tracer_entries", "500000000"] + flag + ["cmdline_test.py"], script="""
        import resource, threading
        def work(n):
            return sum(range(n))
        def vmsize():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmSize:"):
                        return int(line.split()[1]) * 1024
        threading.stack_size(256 * 1024)
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (vmsize() + 16 * 1024 * 1024, hard))
        ts = [threading.Thread(target=work, args=(1000,), name=f"w{i}") for i in range(2)]
        for t in ts: t.start()
        for t in ts: t.join()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        work(10)
        """)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("viztracer: 2 threads could not be traced (out of memory)\n") == 1, \
        r.stderr
    data = r.load()
    assert data["viztracer_metadata"]["untraced_threads"] == 2
    threads = {e["args"]["name"] for e in data["traceEvents"]
               if e["ph"] == "M" and e["name"] == "thread_name"}
    assert threads == {"MainThread"}
    assert len(by_name(data, "work (")) == 1


def test_every_thread_traced_reports_nothing(run):
    r = run(["--quiet", "cmdline_test.py"], script="""
        import threading
        t = threading.Thread(target=print, args=("x",))
        t.start(); t.join()
        """)
    assert r.returncode == 0, r.stderr
    assert "could not be traced" not in r.stderr
    assert "untraced_threads" not in r.load()["viztracer_metadata"]


def test_thread_started_before_tracing(tmp_path):
    from conftest import run_python
    out = tmp_path / "t.json"
    r = run_python(f"""
        import threading, time
        from viztracer import VizTracer
        go = threading.Event()
        def spin():
            go.wait()
            for i in range(3):
                tick(i)
        def tick(i):
            return i
        th = threading.Thread(target=spin, name="early")
        th.start()
        t = VizTracer(output_file="{out}", verbose=0)
        t.start()
        go.set()
        th.join()
        t.stop()
        t.save()
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    from conftest import load
    data = load(str(out))
    ticks = [e for e in events(data) if e["name"].startswith("tick (")]
    assert len(ticks) == 3
    tid = ticks[0]["tid"]
    meta = [e for e in data["traceEvents"] if e["ph"] == "M" and e.get("tid") == tid
            and e["name"] == "thread_name"]
    assert meta[0]["args"]["name"] == "early"


def test_unfinished_functions_recorded_at_stop(tmp_path):
    from conftest import run_python, load
    out = tmp_path / "u.json"
    r = run_python(f"""
        from viztracer import VizTracer
        t = VizTracer(output_file="{out}", verbose=0)
        def outer():
            t.start()
            inner()
            t.stop()
        def inner():
            pass
        outer()
        t.save()
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    n = names(load(str(out)))
    assert any(x.startswith("inner (") for x in n)
    assert not any(x.startswith("outer (") for x in n)  # started before tracing


def test_func_args_and_retval(run):
    script = """
        class Bad:
            def __repr__(self):
                raise RuntimeError("no repr")
        def f(a, b=2, *args, k=3, **kw):
            return [a, b]
        f(1, k=4, z=5)
        def g(x):
            return x
        g(Bad())
        def cell(v):
            return lambda: v
        cell(7)
        """
    for extra in ([], ["--ignore_c_function"]):
        r = run(["--quiet", "--log_func_args", "--log_func_retval"] + extra + ["cmdline_test.py"],
                script=script)
        assert r.returncode == 0, r.stderr
        data = r.load()
        f = by_name(data, "f (")[0]
        assert f["args"] == {"func_args": {"a": "1", "b": "2", "args": "()", "k": "4",
                                           "kw": "{'z': 5}"}, "return_value": "[1, 2]"}
        g = by_name(data, "g (")[0]
        assert g["args"] == {"func_args": {"x": "Not Displayable"},
                             "return_value": "Not Displayable"}
        assert by_name(data, "cell (")[0]["args"]["func_args"] == {"v": "7"}
        # repr's own calls are not recorded
        assert not by_name(data, "Bad.__repr__")


def test_ring_keeps_newest(run):
    r = run(["--tracer_entries", "10", "cmdline_test.py"], script="""
        def f(i):
            return i
        for i in range(100):
            f(i)
        def last():
            pass
        last()
        """)
    data = r.load()
    assert len(events(data)) == 10
    assert data["viztracer_metadata"]["overflow"] is True
    assert data["viztracer_metadata"]["dropped_events"] == 93  # 100 f, last, <module>, exec
    assert "Circular buffer is full, you lost some early data (93 events)" in r.stdout
    n = names(data)
    assert any(x.startswith("last (") for x in n) and "builtins.exec" in n


def test_ring_across_threads_keeps_total(run):
    r = run(["--quiet", "--tracer_entries", "50", "cmdline_test.py"], script="""
        import threading
        def f(): pass
        def work():
            for _ in range(200): f()
        ts = [threading.Thread(target=work) for _ in range(3)]
        for t in ts: t.start()
        for t in ts: t.join()
        """)
    assert len(events(r.load())) == 50
    assert r.load()["viztracer_metadata"]["dropped_events"] > 550


def test_no_overflow_flag(run):
    r = run(["--quiet", "cmdline_test.py"], script=FIB)
    md = r.load()["viztracer_metadata"]
    assert md["overflow"] is False
    # VizTracer's version of the format we write, which its 0.15 vdb accepts
    # (at least 0.9.5, at most its own); ours in a key of our own.
    assert md["version"] == "0.15.6"
    assert md["viztracer_c_version"] == "0.1.0"
    # 0.15.6's vdb (prog_snapshot.check_version) on it: not too old, not newer.
    v = tuple(int(x) for x in md["version"].split("."))
    assert (0, 9, 5) <= v <= (0, 15, 6)
    assert isinstance(md["baseTimeNanoseconds"], int)


def test_log_sparse(run):
    r = run(["--quiet", "--log_sparse", "cmdline_test.py"], script="""
        from viztracer import log_sparse
        @log_sparse
        def f():
            return g()
        def g():
            return 1
        @log_sparse(stack_depth=2)
        def h():
            return g()
        f(); f(); h(); g()
        """)
    assert r.returncode == 0, r.stderr
    data = r.load()
    fs = by_name(data, "f (")
    assert len(fs) == 2 and all(e["cat"] == "FEE" for e in fs)
    assert len(by_name(data, "h (")) == 1
    assert len(by_name(data, "g (")) == 1  # only inside h, depth 2


def test_log_sparse_nested_in_stack_depth_is_one_of_its_calls(tmp_path):
    # Inside a @log_sparse(stack_depth=N) call the tracer collects: a
    # @log_sparse function called there is one of the traced calls, with no
    # event of its own (VizTracer's "log_sparse and not enable").
    r = run_python("""
        from viztracer import VizTracer, log_sparse
        @log_sparse(dynamic_tracer_check=True)
        def f():
            return 1
        @log_sparse(dynamic_tracer_check=True, stack_depth=1)
        def g():
            return f()
        @log_sparse(dynamic_tracer_check=True)
        def h():
            return 2
        with VizTracer(output_file="result.json", log_sparse=True, verbose=0):
            g()
            h()
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert [n.split(" ")[0] for n in names(load(str(tmp_path / "result.json")))] == ["g", "h"]


def test_frozen_module_source_in_file_info(run):
    r = run(["--quiet", "cmdline_test.py"], script="import calendar\n")
    files = r.load()["file_info"]["files"]
    src, lines = files["<frozen importlib._bootstrap>"]  # read from its __file__
    assert src.startswith('"""Core implementation of import.') and lines > 500
    assert lines == src.count("\n")


def test_forked_child_counts_depth_from_the_fork(run):
    # --max_stack_depth 4: the parent records exec > <module> > outer > forker
    # and nothing deeper; the child forked there counts from the fork: what
    # forker calls there is its root (as multiprocessing's Process._bootstrap
    # is, where VizTracer resets the depth), and 4 levels below it.
    r = run(["--quiet", "--max_stack_depth", "4", "cmdline_test.py"], script="""
        import os
        def chain(n):
            return chain(n - 1) if n else 0
        def parent_chain(n):
            return parent_chain(n - 1) if n else 0
        def forker():
            pid = os.fork()
            if pid == 0:
                chain(10)
                os._exit(0)
            os.waitpid(pid, 0)
            parent_chain(10)
        def outer():
            forker()
        outer()
        """)
    assert r.returncode == 0, r.stderr
    data = r.load()
    assert len({e["pid"] for e in events(data, "X")}) == 2
    chains = by_name(data, "chain (")
    assert len(chains) == 5
    assert not by_name(data, "parent_chain (")
    parent = {e["pid"] for e in by_name(data, "outer (")} - {chains[0]["pid"]}
    assert len(parent) == 1


def test_forked_child_restarted_counts_from_its_new_start(run):
    # After a stop and start in the child, depth counts from the new start,
    # not from the fork (whose calls the stop finished).
    r = run(["--quiet", "--max_stack_depth", "4", "cmdline_test.py"], script="""
        import os
        from viztracer import get_tracer
        def chain(n):
            return chain(n - 1) if n else 0
        def forker():
            pid = os.fork()
            if pid == 0:
                get_tracer().stop()
                get_tracer().start()
                chain(10)
                os._exit(0)
            os.waitpid(pid, 0)
        def outer():
            forker()
        outer()
        """)
    assert r.returncode == 0, r.stderr
    assert len(by_name(r.load(), "chain (")) == 4


def test_log_sparse_without_flag_is_plain(run):
    r = run(["--quiet", "cmdline_test.py"], script="""
        from viztracer import log_sparse
        @log_sparse
        def f():
            return 1
        f()
        print(type(f).__name__)
        """)
    assert r.stdout.strip() == "function"
    assert len(by_name(r.load(), "f (")) == 1


def _signal_run(tmp_path, sig):
    (tmp_path / "loop.py").write_text(
        "import time\nprint('start', flush=True)\ndef tick():\n    time.sleep(0.01)\n"
        "while True:\n    tick()\n")
    p = subprocess.Popen([BIN, "--quiet", "-o", "sig.json", "loop.py"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "start\n"
    time.sleep(0.2)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    return p.returncode, err


def test_sigint_saves(tmp_path):
    code, err = _signal_run(tmp_path, signal.SIGINT)
    assert code == -signal.SIGINT
    assert "KeyboardInterrupt" in err
    from conftest import load
    assert any(e["name"].startswith("tick (") for e in events(load(str(tmp_path / "sig.json"))))


def test_sigterm_saves(tmp_path):
    code, err = _signal_run(tmp_path, signal.SIGTERM)
    assert code == -signal.SIGTERM  # dies by it after saving, as under python3
    from conftest import load
    assert any(e["name"].startswith("tick (") for e in events(load(str(tmp_path / "sig.json"))))
    assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]


def test_log_exit(run):
    script = """
        import atexit
        def bye():
            pass
        atexit.register(bye)
        """
    r = run(["--quiet", "cmdline_test.py"], script=script)
    assert not by_name(r.load(), "bye (")
    r = run(["--quiet", "--log_exit", "cmdline_test.py"], script=script)
    assert by_name(r.load(), "bye (")


def test_forked_child_does_not_overwrite(run):
    r = run(["--quiet", "cmdline_test.py"], script="""
        import os
        def parent_only():
            pass
        pid = os.fork()
        if pid == 0:
            os._exit(0) if False else None
        else:
            os.waitpid(pid, 0)
            parent_only()
        """)
    assert r.returncode == 0
    assert by_name(r.load(), "parent_only (")


@pytest.mark.parametrize("flag", [[], ["--ignore_c_function"]])
def test_vdb_caller_lines(run, flag):
    r = run(["--quiet", "--vdb"] + flag + ["cmdline_test.py"], script="""
        def fib(n):
            if n < 2:
                return 1
            return fib(n - 1) + fib(n - 2)

        fib(3)
        len([1])
        """)
    data = r.load()
    assert data["viztracer_metadata"]["vdb"] is True
    fibs = [e for e in events(data) if e["name"].startswith("fib (")]
    assert sorted(e["caller_lineno"] for e in fibs) == [5, 5, 5, 5, 7]  # the script starts with a blank line
    if not flag:
        assert by_name(data, "builtins.len")[0]["caller_lineno"] == 8
    r = run(["--quiet", "cmdline_test.py"])
    assert all("caller_lineno" not in e for e in events(r.load()))
    assert "vdb" not in r.load()["viztracer_metadata"]


def test_ctrl_c_inside_repr_is_not_lost(run):
    r = run(["--quiet", "--log_func_args", "cmdline_test.py"], script="""
        class Interrupting:
            def __repr__(self):
                raise KeyboardInterrupt
        def f(x):
            return 1
        f(Interrupting())
        for _ in range(1000):
            pass
        print("not reached")
        """)
    assert r.returncode == -signal.SIGINT
    assert "not reached" not in r.stdout
    assert "KeyboardInterrupt" in r.stderr
    f = by_name(r.load(), "f (")[0]
    assert f["args"]["func_args"] == {"x": "Not Displayable"}


def test_long_reprs_are_cut(run):
    r = run(["--quiet", "--log_func_args", "--log_func_retval", "cmdline_test.py"], script="""
        def f(x):
            return x
        f(list(range(100000)))
        """)
    f = by_name(r.load(), "f (")[0]
    for text in (f["args"]["func_args"]["x"], f["args"]["return_value"]):
        assert text.startswith("[0, 1, 2, ")
        assert text.endswith("... (688890 characters)")
        assert len(text) < 4200


def test_stack_deeper_than_the_tracer_keeps(run):
    # Calls past the tracer's 65536-frame stack are counted, not kept, and
    # nothing breaks; the shallower ones are all there.
    r = run(["--quiet", "cmdline_test.py"], script="""
        import sys, threading
        sys.setrecursionlimit(200000)
        threading.stack_size(512 * 1024 * 1024)
        def d(n):
            return 0 if n == 0 else 1 + d(n - 1)
        def main():
            print(d(70000))
        t = threading.Thread(target=main)
        t.start()
        t.join()
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "70000"
    assert 60000 < len(by_name(r.load(), "d (")) < 65536
