"""--tracer_entries 0 / VizTracer(tracer_entries=0) keeps every event
(tracer/spool.c): each thread's ring of 1,048,576 events is drained to a
file in the background, so a run of more calls than that keeps them all
with memory bounded; threads, forked children, the API, a spool that
cannot be written, and what a crash keeps in that mode (the newest ring's
worth per thread, the rest counted as dropped)."""

import os
import re
import signal
import subprocess
import textwrap
import time

from conftest import ASAN, BIN, events, load, python_env, PYTHON

RING = 1 << 20  # VT_SPOOL_CAP: events a spooled ring holds in memory

LOOP = """
import sys
def f():
    pass
def loop(n):
    for _ in range(n):
        f()
loop(int(sys.argv[1]))
"""

TID = re.compile(rb'"tid":(\d+)')
PID = re.compile(rb'"pid":(\d+)')


def scan(path, needle=b'"name":"f ('):
    """Counts the events whose line holds needle, per (pid, tid), reading the
    trace a line at a time (the writer puts one event on a line): these
    traces are too large for json.load in a test. Also checks that each
    track's start times never go back (the spooled chunks come first, in
    order, then the ring)."""
    counts, last = {}, {}
    with open(path, "rb") as f:
        for line in f:
            if needle not in line:
                continue
            key = (int(PID.search(line).group(1)), int(TID.search(line).group(1)))
            counts[key] = counts.get(key, 0) + 1
            ts = float(re.search(rb'"ts":([0-9.]+)', line).group(1))
            assert ts >= last.get(key, 0.0), (key, ts)
            last[key] = ts
    return counts


def metadata(path):
    """The trace's viztracer_metadata, from its tail (after the events)."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 65536))
        tail = f.read()
    m = re.search(rb'"viztracer_metadata":(\{[^{}]*(\{[^{}]*\}[^{}]*)?\})', tail)
    import json

    return json.loads(m.group(1))


def run_rss(args, cwd, env=None):
    """Runs viztracer; returns (returncode, stderr, its peak RSS in MB)."""
    full = dict(os.environ)
    full.pop("PYTHONPATH", None)
    if env:
        full.update(env)
    p = subprocess.Popen([BIN] + args, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=full)
    err = p.stderr.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, err, ru.ru_maxrss / 1024


def test_every_event_kept_memory_bounded(tmp_path):
    (tmp_path / "loop.py").write_text(LOOP)
    out = str(tmp_path / "all.json")
    rc, err, rss_big = run_rss(["--quiet", "--tracer_entries", "0", "--ignore_c_function",
                                "-o", out, "loop.py", "3000000"], tmp_path)
    assert rc == 0, err
    assert err == ""
    assert list(scan(out).values()) == [3000000]
    meta = metadata(out)
    assert meta["overflow"] is False and "dropped_events" not in meta
    # a tenth of the calls: the memory used must not grow with the calls
    small = str(tmp_path / "small.json")
    rc, err, rss_small = run_rss(["--quiet", "--tracer_entries", "0", "--ignore_c_function",
                                  "-o", small, "loop.py", "300000"], tmp_path)
    assert rc == 0, err
    assert list(scan(small).values()) == [300000]
    # Held in memory, 2.7M more events would be 108 MB more; the ring's
    # slots the bigger run touches beyond the small one's are 30 MB.
    if not ASAN:
        assert rss_big - rss_small < 70, (rss_big, rss_small)
    print("peak RSS", rss_big, rss_small)
    # the default ring keeps the newest 1,000,000, as before
    ring = str(tmp_path / "ring.json")
    rc, err, _ = run_rss(["--quiet", "--ignore_c_function", "-o", ring, "loop.py", "1500000"],
                         tmp_path)
    assert rc == 0, err
    assert list(scan(ring).values()) == [1000000 - 2]  # loop and <module> are the newest two
    assert metadata(ring)["dropped_events"] == 500002


def test_threads_and_custom_events(run):
    r = run(["--quiet", "--tracer_entries", "0", "--ignore_c_function", "cmdline_test.py"],
            script="""
        import threading
        from viztracer import get_tracer
        def f():
            pass
        def work(n):
            for i in range(n):
                f()
                if i % 100000 == 0:
                    get_tracer().log_instant("mark", args={"i": i})
        ts = [threading.Thread(target=work, args=(1200000,)) for _ in range(2)]
        for t in ts:
            t.start()
        work(1100000)
        for t in ts:
            t.join()
        """, timeout=300)
    assert r.returncode == 0, r.stderr
    out = os.path.join(r.cwd, "result.json")
    counts = scan(out)
    assert sorted(counts.values()) == [1100000, 1200000, 1200000]
    marks = scan(out, b'"name":"mark"')
    assert sorted(marks.values()) == [11, 12, 12]


def test_forked_child(run):
    # (not --ignore_c_function: on 3.11 its frame hook records nothing in a
    # forked child, whatever tracer_entries; a bug of its own)
    r = run(["--quiet", "--tracer_entries", "0", "cmdline_test.py"],
            script="""
        import os
        def f():
            pass
        def loop(n):
            for _ in range(n):
                f()
        loop(1100000)
        pid = os.fork()
        if pid == 0:
            loop(1300000)
            os._exit(0)
        loop(1200000)
        os.waitpid(pid, 0)
        """, timeout=300)
    assert r.returncode == 0, r.stderr
    # no thread of ours is running at the fork: 3.12+ warns of fork() with threads
    assert "multi-threaded" not in r.stderr, r.stderr
    counts = scan(os.path.join(r.cwd, "result.json"))
    by_pid = sorted(counts.items())
    assert len(by_pid) == 2, by_pid
    # the parent keeps all of its calls; the child its own, none of the parent's
    assert sorted(v for _, v in by_pid) == [1300000, 2300000]


def test_api_saves_twice_and_clear(tmp_path):
    code = textwrap.dedent(f"""
        from viztracer import VizTracer
        def f():
            pass
        t = VizTracer(tracer_entries=0, verbose=0, ignore_c_function=True)
        print(t.tracer_entries)
        for out, n in (("{tmp_path}/a.json", 1500000), ("{tmp_path}/b.json", 1200000)):
            t.start()
            for _ in range(n):
                f()
            t.stop()
            t.save(out)
        t.start()
        for _ in range(1100000):
            f()
        t.stop()
        t.clear()
        t.start()
        f()
        t.stop()
        t.save("{tmp_path}/c.json")
        """)
    p = subprocess.run([PYTHON, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=python_env())
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0"]
    assert list(scan(str(tmp_path / "a.json")).values()) == [1500000]
    assert list(scan(str(tmp_path / "b.json")).values()) == [1200000]
    assert list(scan(str(tmp_path / "c.json")).values()) == [1]
    p = subprocess.run([PYTHON, "-c", "from viztracer import VizTracer\nVizTracer(tracer_entries=-1)"],
                       capture_output=True, text=True, env=python_env())
    assert "tracer_entries must be a positive integer, or 0" in p.stderr


def test_spool_cannot_be_written(run, tmp_path):
    """No folder for the file: the rings go on as plain rings; the save says
    so in one line and counts what was dropped."""
    r = run(["--quiet", "--tracer_entries", "0", "--ignore_c_function", "cmdline_test.py",
             "1500000"], script=LOOP, env={"TMPDIR": str(tmp_path / "missing")})
    assert r.returncode == 0, r.stderr
    assert "viztracer: cannot write events to a file in" in r.stderr, r.stderr
    assert "No such file or directory" in r.stderr
    out = os.path.join(r.cwd, "result.json")
    assert list(scan(out).values()) == [RING - 2]
    meta = metadata(out)
    assert meta["overflow"] is True and meta["dropped_events"] == 1500002 - RING


def test_crash_keeps_the_newest_ring(tmp_path):
    """A crash in keep-every-event mode: the supervisor writes what the
    shared ring still holds, the newest 1,048,576 events of each thread;
    the spooled ones are counted as dropped (README, keep every event)."""
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent("""
        import ctypes
        from viztracer import get_tracer
        def f():
            pass
        def loop(n):
            for i in range(n):
                f()
                if i % 100000 == 0:
                    get_tracer().log_instant("mark", args={"i": i})
        loop(1500000)
        ctypes.string_at(0)
        """))
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if ASAN:
        env["ASAN_OPTIONS"] = "detect_leaks=0:handle_segv=0:allow_user_segv_handler=1"
    out = tmp_path / "result.json"
    p = subprocess.run([BIN, "--tracer_entries", "0", "--ignore_c_function", "-o", str(out),
                        str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env=env)
    assert p.returncode == -signal.SIGSEGV, p.stderr
    assert "killed by SIGSEGV" in p.stderr, p.stderr
    meta = metadata(str(out))
    assert meta["crash"]["signal"] == "SIGSEGV"
    n = sum(scan(str(out)).values())
    assert RING - 20 <= n <= RING, n
    assert meta["dropped_events"] >= 1500000 - RING
    # the custom events among the newest are kept (rendered by the handler
    # also where their record is already in the spool file)
    marks = sum(scan(str(out), b'"name":"mark"').values())
    assert marks >= 10 and meta["crash"]["lost_custom_events"] == 0, (marks, meta)


def test_snapshot_in_keep_all_mode(tmp_path):
    script = tmp_path / "busy.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        def f():
            pass
        for _ in range(1200000):
            f()
        print(os.getpid(), flush=True)
        sys.stdin.readline()
        """))
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    out, snap = tmp_path / "result.json", tmp_path / "snap.json"
    p = subprocess.Popen([BIN, "--quiet", "--tracer_entries", "0", "--ignore_c_function",
                          "-o", str(out), str(script)], cwd=tmp_path, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        pid = int(p.stdout.readline())
        s = subprocess.run([BIN, "--snapshot", str(pid), "-o", str(snap)],
                           capture_output=True, text=True, timeout=120, env=env)
        assert s.returncode == 0, s.stderr
        p.stdin.write("go\n")
        p.stdin.flush()
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0
    n = sum(scan(str(snap)).values())
    assert RING - 10 <= n <= RING, n
    assert list(scan(str(out)).values()) == [1200000]
