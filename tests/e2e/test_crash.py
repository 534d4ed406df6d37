"""Crash-safe tracing (tracer/crash.c, supervise.c, shm.c): a program that
dies by SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or SIGKILL still leaves its
trace, whole and valid, with the calls still running ended at the crash and
the innermost one marked with the signal; the exit status is python3's; a
crashed pool worker's events are in the parent's output."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ASAN, BIN, PYTHON, events, load

# ASan catches these signals itself (and exits 1) unless told not to; the
# program must meet our handler, then the default action, as under python3.
ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
    "handle_sigill=0:handle_abort=0:allow_user_segv_handler=1"
}

PRELUDE = """
import ctypes, os, signal, sys, time
def f(n):
    return n
def work():
    for i in range(50):
        f(i)
"""


def env():
    e = dict(os.environ)
    e.pop("PYTHONPATH", None)
    if ASAN:
        e.update(ASAN_ENV)
    return e


def run_both(tmp_path, body, args=(), timeout=120):
    """Runs the script under viztracer and under python3; returns
    (viztracer's CompletedProcess, python3's returncode, output path)."""
    script = tmp_path / "crash.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    out = tmp_path / "result.json"
    proc = subprocess.run([BIN, "-o", str(out)] + list(args) + [str(script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout, env=env())
    ref = subprocess.run([PYTHON, str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=timeout)
    return proc, ref.returncode, out


def marked(data, sig):
    return [e for e in events(data, "X") if e.get("args", {}).get("signal") == sig]


def check_crash(proc, ref_rc, out, sig, innermost=None):
    assert proc.returncode == ref_rc == -sig, (proc.returncode, ref_rc, proc.stderr)
    name = signal.Signals(sig).name
    assert "killed by %s" % name in proc.stderr, proc.stderr
    assert str(out) in proc.stderr
    data = load(str(out))
    meta = data["viztracer_metadata"]
    assert meta["crash"]["signal"] == name
    assert meta["crash"]["unnamed_functions"] == 0
    xs = events(data, "X")
    assert sum(1 for e in xs if e["name"].startswith("f (")) == 50
    hit = marked(data, name)
    assert len(hit) == 1, hit
    if innermost:
        assert hit[0]["name"].startswith(innermost), hit[0]
    # the open calls end at the crash: the marked one ends last of all
    end = hit[0]["ts"] + hit[0]["dur"]
    assert all(e["ts"] + e["dur"] <= end + 0.01 for e in xs)
    outer = [e for e in xs if e["name"].startswith("work (")]
    assert len(outer) == 1 and outer[0]["ts"] <= hit[0]["ts"]
    return data


def test_segfault(tmp_path):
    proc, ref, out = run_both(tmp_path, "work()\nctypes.string_at(0)\n")
    check_crash(proc, ref, out, signal.SIGSEGV)


def test_segfault_inside_function(tmp_path):
    proc, ref, out = run_both(tmp_path, """
        def crash():
            work()
            ctypes.string_at(0)
        crash()
    """)
    data = check_crash(proc, ref, out, signal.SIGSEGV)
    names = [e["name"] for e in events(data, "X")]
    assert any(n.startswith("crash (") for n in names)


def test_abort(tmp_path):
    proc, ref, out = run_both(tmp_path, "work()\nos.abort()\n")
    check_crash(proc, ref, out, signal.SIGABRT, innermost="posix.abort")


@pytest.mark.parametrize("sig", [signal.SIGBUS, signal.SIGFPE, signal.SIGILL])
def test_other_fatal_signals(tmp_path, sig):
    proc, ref, out = run_both(tmp_path, "work()\nos.kill(os.getpid(), %d)\n" % sig)
    check_crash(proc, ref, out, sig, innermost="posix.kill")


def test_ignore_c_function(tmp_path):
    proc, ref, out = run_both(tmp_path, """
        def crash():
            work()
            ctypes.string_at(0)
        crash()
    """, args=["--ignore_c_function"])
    data = check_crash(proc, ref, out, signal.SIGSEGV)


def test_gz_output(tmp_path):
    script = tmp_path / "crash.py"
    script.write_text(PRELUDE + "work()\nos.abort()\n")
    out = tmp_path / "result.json.gz"
    proc = subprocess.run([BIN, "-o", str(out), str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env())
    assert proc.returncode == -signal.SIGABRT
    data = load(str(out))
    assert marked(data, "SIGABRT")


def test_crash_trace_has_file_info(tmp_path):
    """The supervisor reads the sources as a save does: the viewer shows a
    crashed function's source on a click."""
    body = """
        def crash():
            work()
            ctypes.string_at(0)
        crash()
    """
    proc, ref, out = run_both(tmp_path, body)
    data = check_crash(proc, ref, out, signal.SIGSEGV)
    script = str(tmp_path / "crash.py")
    fi = data["file_info"]
    assert fi["files"][script] == [(tmp_path / "crash.py").read_text(),
                                   (tmp_path / "crash.py").read_text().count("\n")]
    mine = {k: v for k, v in fi["functions"].items() if script in k}
    assert set(mine) == {"<module> (%s:1)" % script, "f (%s:3)" % script,
                         "work (%s:5)" % script, "crash (%s:9)" % script}, mine
    # the same entries a normal save writes for them
    (tmp_path / "clean.py").write_text((tmp_path / "crash.py").read_text().replace(
        "ctypes.string_at(0)", "pass"))
    clean = tmp_path / "clean.json"
    r = subprocess.run([BIN, "-o", str(clean), str(tmp_path / "clean.py")], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120, env=env())
    assert r.returncode == 0, r.stderr
    saved = load(str(clean))["file_info"]["functions"]
    for k, v in mine.items():
        assert saved[k.replace("crash.py", "clean.py")] == [v[0].replace("crash.py", "clean.py"), v[1]]


def test_sigkill_from_outside(tmp_path):
    script = tmp_path / "sleeper.py"
    script.write_text(PRELUDE + textwrap.dedent("""
        def sleeper():
            work()
            print("ready", flush=True)
            time.sleep(60)
        sleeper()
    """))
    out = tmp_path / "result.json"
    p = subprocess.Popen([BIN, "-o", str(out), str(script)], cwd=tmp_path, env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # into the sleep, past print()'s return
        p.kill()
        p.wait(timeout=30)
        err = p.stderr.read()  # the supervisor holds stderr until it has written
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == -signal.SIGKILL
    assert "SIGKILL" in err and str(out) in err, err
    data = load(str(out))
    assert sum(1 for e in events(data, "X") if e["name"].startswith("f (")) == 50
    hit = marked(data, "SIGKILL")
    assert len(hit) == 1 and hit[0]["name"].startswith("time.sleep"), hit
    assert any(e["name"].startswith("sleeper (") for e in events(data, "X"))


def test_clean_exit_untouched(tmp_path):
    """A program that ends normally is saved by itself, as before: no crash
    section, no line from the supervisor."""
    script = tmp_path / "ok.py"
    script.write_text(PRELUDE + "work()\n")
    out = tmp_path / "result.json"
    proc = subprocess.run([BIN, "-o", str(out), str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env())
    assert proc.returncode == 0, proc.stderr
    assert "killed" not in proc.stderr
    data = load(str(out))
    assert "crash" not in data["viztracer_metadata"]


def test_os_exit_kept(tmp_path):
    """os._exit() in the main program skips the save; the supervisor writes
    the trace instead, silently."""
    script = tmp_path / "exit.py"
    script.write_text(PRELUDE + "work()\nos._exit(3)\n")
    out = tmp_path / "result.json"
    proc = subprocess.run([BIN, "-o", str(out), str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env())
    assert proc.returncode == 3
    assert proc.stderr == "", proc.stderr  # python3 says nothing either
    data = load(str(out))
    assert data["viztracer_metadata"]["crash"]["signal"] is None
    assert sum(1 for e in events(data, "X") if e["name"].startswith("f (")) == 50
    assert [e["name"] for e in events(data, "X") if "args" in e] == []


def test_forked_child_killed(tmp_path):
    """A forked child killed by SIGKILL: its supervisor writes its part into
    the children's folder, and the parent's merge has it."""
    script = tmp_path / "fk.py"
    script.write_text(PRELUDE + textwrap.dedent("""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            work()
            os.write(w, b"1")
            time.sleep(60)
            os._exit(0)
        os.read(r, 1)
        time.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        def parent_work():
            return 1
        parent_work()
    """))
    out = tmp_path / "result.json"
    proc = subprocess.run([BIN, "-o", str(out), str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env())
    assert proc.returncode == 0, proc.stderr
    assert "viztracer:" not in proc.stderr, proc.stderr
    data = load(str(out))
    hit = marked(data, "SIGKILL")
    assert len(hit) == 1 and hit[0]["name"].startswith("time.sleep"), hit
    child = hit[0]["pid"]
    xs = events(data, "X")
    assert sum(1 for e in xs if e["pid"] == child and e["name"].startswith("f (")) == 50
    assert any(e["pid"] != child and e["name"].startswith("parent_work") for e in xs)


def test_signal_handlers_as_python3(tmp_path):
    """Our handlers are installed after Python's start: signal.getsignal()
    reports what it reports under python3, and faulthandler still works."""
    body = """
        import faulthandler
        print([str(signal.getsignal(s)) for s in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS)])
        faulthandler.enable()
        work()
        ctypes.string_at(0)
    """
    proc, ref, out = run_both(tmp_path, body)
    script = tmp_path / "crash.py"
    refp = subprocess.run([PYTHON, str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1] == refp.stdout.splitlines()[-1]
    assert "Fatal Python error: Segmentation fault" in proc.stderr, proc.stderr
    check_crash(proc, ref, out, signal.SIGSEGV)


POOL = """
import ctypes, os, sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
import multiprocessing

def f(n):
    return n

def crash(x):
    for i in range(50):
        f(i)
    ctypes.string_at(0)

if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(sys.argv[1])) as ex:
        try:
            ex.submit(crash, 1).result()
        except BrokenProcessPool:
            print("broken", flush=True)
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_worker_segfault(tmp_path, method):
    script = tmp_path / "pool.py"
    script.write_text(POOL)
    out = tmp_path / "result.json"
    t0 = time.monotonic()
    proc = subprocess.run([BIN, "-o", str(out), str(script), method], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env())
    assert proc.returncode == 0, proc.stderr
    assert "broken" in proc.stdout
    assert "viztracer:" not in proc.stderr, proc.stderr  # the child's part is in the output
    data = load(str(out))
    pids = {e["pid"] for e in events(data)}
    assert len(pids) >= 2, pids
    hit = marked(data, "SIGSEGV")
    assert len(hit) == 1
    child = hit[0]["pid"]
    assert sum(1 for e in events(data, "X")
               if e["pid"] == child and e["name"].startswith("f (")) == 50
    # its multiprocessing name, as its own save would give it
    prefix = {"fork": "ForkProcess-", "spawn": "SpawnProcess-",
              "forkserver": "ForkServerProcess-"}[method]
    assert process_names(data)[child].startswith(prefix), process_names(data)
    assert time.monotonic() - t0 < 60


def process_names(data):
    return {e["pid"]: e["args"]["name"] for e in data["traceEvents"]
            if e["ph"] == "M" and e["name"] == "process_name"}


POOL_MAP = """
import ctypes, multiprocessing, os, sys, time

def f(n):
    return n

def task(x):
    for i in range(50):
        f(i)
    if x == 3:
        ctypes.string_at(0)
    return x

if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv[1])
    pool = multiprocessing.Pool(2)
    r = pool.map_async(task, range(4))
    time.sleep(3)  # the crashed worker is replaced; its task never returns
    print("ready" if not r.ready() else "done", flush=True)
    pool.terminate()
    pool.join()
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_map_worker_segfault_named(tmp_path, method):
    """A Pool worker that crashes keeps its multiprocessing name in the
    merged output (ForkPoolWorker-N), as a worker that saves does."""
    script = tmp_path / "poolmap.py"
    script.write_text(POOL_MAP)
    out = tmp_path / "result.json"
    proc = subprocess.run([BIN, "-o", str(out), str(script), method], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env())
    assert proc.returncode == 0, proc.stderr
    assert "ready" in proc.stdout
    data = load(str(out))
    hit = marked(data, "SIGSEGV")
    assert len(hit) == 1, hit
    child = hit[0]["pid"]
    names = process_names(data)
    prefix = {"fork": "ForkPoolWorker-", "spawn": "SpawnPoolWorker-"}[method]
    assert names[child].startswith(prefix), names
    # the workers that saved are named too, each its own name
    workers = [n for p, n in names.items() if p != child and n.startswith(prefix)]
    assert workers and names[child] not in workers, names


def test_snapshot_while_running(tmp_path):
    """--snapshot PID writes the newest events of a running program from its
    shared area; the program goes on, and its own save at the end is whole."""
    script = tmp_path / "busy.py"
    script.write_text(textwrap.dedent("""
        import os, sys, time
        def f(n):
            return n
        def loop():
            for i in range(200):
                f(i)
            print(os.getpid(), flush=True)
            sys.stdin.readline()  # until the test has its snapshot
            for i in range(10):
                f(i)
        loop()
    """))
    out = tmp_path / "result.json"
    snap = tmp_path / "snap.json"
    p = subprocess.Popen([BIN, "-o", str(out), str(script)], cwd=tmp_path, env=env(),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        pid = int(p.stdout.readline())
        s = subprocess.run([BIN, "--snapshot", str(pid), "-o", str(snap)], capture_output=True,
                           text=True, timeout=60, env=env())
        assert s.returncode == 0, s.stderr
        assert "Total Entries" in s.stdout
        assert p.poll() is None  # still running
        p.stdin.write("go\n")
        p.stdin.flush()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0
    data = load(str(snap))
    assert "snapshot" in data["viztracer_metadata"] and "crash" not in data["viztracer_metadata"]
    xs = events(data, "X")
    assert sum(1 for e in xs if e["name"].startswith("f (")) == 200
    # the calls open at the snapshot are in it, unmarked
    assert any(e["name"].startswith("loop (") for e in xs)
    assert not any("args" in e for e in xs)
    full = load(str(out))
    assert sum(1 for e in events(full, "X") if e["name"].startswith("f (")) == 210


def test_snapshot_has_args(tmp_path):
    """Args are rendered into the shared area when recorded, so a snapshot
    of a running program has them (not those of the calls still open)."""
    script = tmp_path / "busy.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        def f(n):
            return n
        def loop():
            for i in range(20):
                f(i)
            print(os.getpid(), flush=True)
            sys.stdin.readline()
        loop()
    """))
    snap = tmp_path / "snap.json"
    p = subprocess.Popen([BIN, "-o", str(tmp_path / "result.json"), "--log_func_args",
                          str(script)], cwd=tmp_path, env=env(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline())
        s = subprocess.run([BIN, "--snapshot", str(pid), "-o", str(snap)], capture_output=True,
                           text=True, timeout=60, env=env())
        assert s.returncode == 0, s.stderr
        p.stdin.write("go\n")
        p.stdin.flush()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    data = load(str(snap))
    fs = [e for e in events(data, "X") if e["name"].startswith("f (")]
    assert sorted(e["args"]["func_args"]["n"] for e in fs) == sorted(str(i) for i in range(20))


def test_snapshot_errors(tmp_path):
    s = subprocess.run([BIN, "--snapshot", str(os.getpid()), "-o", str(tmp_path / "x.json")],
                       capture_output=True, text=True, timeout=60)
    assert s.returncode == 1
    assert s.stderr.strip() == "viztracer: process %d is not traced by viztracer (no shared area)" % os.getpid()
    s = subprocess.run([BIN, "--snapshot", "999999999", "-o", str(tmp_path / "x.json")],
                       capture_output=True, text=True, timeout=60)
    assert s.returncode == 1 and s.stderr.strip() == "viztracer: no process 999999999"
    s = subprocess.run([BIN, "--snapshot", "1", "-o", str(tmp_path / "x.html")],
                       capture_output=True, text=True, timeout=60)
    assert s.returncode == 1 and "writes .json or .json.gz" in s.stderr
    assert not (tmp_path / "x.json").exists()


def test_args_and_custom_events_kept(tmp_path):
    """The handler renders what only the living process can read (argument
    and return value reprs, custom events) into the shared area."""
    proc, ref, out = run_both(tmp_path, """
        try:
            from viztracer import get_tracer
        except ImportError:  # python3, for the exit status
            get_tracer = None
        def g(a, s):
            return a
        def crash():
            for i in range(3):
                g(i, 'q"uote\\n')
            if get_tracer:
                get_tracer().log_instant("hello", args={"k": [1, 2.5, None, True, "x"]})
                get_tracer().log_var("v", 7)
            work()
            os.abort()
        crash()
    """, args=["--log_func_args", "--log_func_retval"])
    data = check_crash(proc, ref, out, signal.SIGABRT)
    crash = data["viztracer_metadata"]["crash"]
    assert crash["lost_args"] == 0 and crash["lost_custom_events"] == 0, crash
    gs = [e for e in events(data, "X") if e["name"].startswith("g (")]
    assert [e["args"] for e in gs] == [
        {"func_args": {"a": repr(i), "s": repr('q"uote\n')}, "return_value": repr(i)}
        for i in range(3)]
    hello = [e for e in events(data) if e["name"] == "hello"]
    assert len(hello) == 1 and hello[0]["args"] == {"k": [1, 2.5, None, True, "x"]}
    assert hello[0]["ph"] == "i" and "ts" in hello[0]
    (c,) = [e for e in events(data) if e["name"] == "v"]
    assert c["ph"] == "C" and c["args"] == {"value": 7}
    (outer,) = [e for e in events(data, "X") if e["name"].startswith("crash (")]
    assert outer["args"] == {"func_args": {}}
    abort = marked(data, "SIGABRT")[0]
    assert abort["args"] == {"signal": "SIGABRT"}


def test_program_closing_our_files(tmp_path):
    """A program that closes every file it did not open (a daemon's
    closerange) neither gets a trace written while it runs nor loses the
    one of its crash."""
    proc, ref, out = run_both(tmp_path, """
        os.closerange(3, 4096)
        work()
        time.sleep(0.3)
        print("alive", flush=True)
    """)
    assert proc.returncode == ref == 0, proc.stderr
    assert "killed" not in proc.stderr and "without saving" not in proc.stderr, proc.stderr
    assert proc.stdout.startswith("alive")
    assert "crash" not in load(str(out))["viztracer_metadata"]
    proc, ref, out = run_both(tmp_path, """
        os.closerange(3, 4096)
        work()
        ctypes.string_at(0)
    """)
    assert proc.returncode == ref == -signal.SIGSEGV
    assert "killed by SIGSEGV" in proc.stderr, proc.stderr
    data = load(str(out))
    assert sum(1 for e in events(data, "X") if e["name"].startswith("f (")) == 50
    assert marked(data, "SIGSEGV")


def test_main_exec_kept(tmp_path):
    """The main program replacing itself with os.execv() never saves; its
    supervisor writes the trace at the exec, without waiting for (or holding
    the pipes of) the program it became."""
    script = tmp_path / "ex.py"
    script.write_text(PRELUDE + 'work()\nos.execv("/bin/sleep", ["sleep", "4"])\n')
    out = tmp_path / "result.json"
    p = subprocess.Popen([BIN, "-o", str(out), str(script)], cwd=tmp_path, env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 3
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert out.exists() and p.poll() is None  # written while sleep still runs
        err = p.stderr.read()
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "viztracer:" not in err, err
    data = load(str(out))
    assert sum(1 for e in events(data, "X") if e["name"].startswith("f (")) == 50


def test_main_objects_still_finalized(tmp_path):
    """Registering the names of __main__'s functions keeps nothing of it
    alive: its objects are finalized at exit as under python3."""
    proc, ref, out = run_both(tmp_path, """
        class AtExit:
            def __del__(self, print=print, sys=sys):
                print("finalizing", sys.is_finalizing(), flush=True)
        ref = AtExit()
        work()
    """)
    assert proc.returncode == 0, proc.stderr
    assert "finalizing True" in proc.stdout, proc.stdout


# A forked child that ends before the program dies, and a subprocess child
# still running then (the bounded wait is for it, as at a normal exit).
WITH_CHILDREN = """
import subprocess
def child_work():
    for i in range(20):
        f(i)
pid = os.fork()
if pid == 0:
    child_work()
    os._exit(0)
os.waitpid(pid, 0)
LATE = "import time\\ndef late():\\n    print('up', flush=True)\\n    time.sleep(1)\\nlate()\\n"
late = subprocess.Popen([sys.executable, "-c", LATE], stdout=subprocess.PIPE)
late.stdout.readline()
print("ready", flush=True)
work()
"""


@pytest.mark.parametrize("how", ["SIGSEGV", "SIGKILL", "os._exit"])
def test_main_dies_children_merged(tmp_path, how):
    """The main program dies before saving: its supervisor merges the
    children's results with its own trace, as the program's save would,
    after waiting for the child still running, and removes the folder."""
    tail = {"SIGSEGV": "ctypes.string_at(0)\n", "SIGKILL": "time.sleep(60)\n",
            "os._exit": "os._exit(5)\n"}[how]
    script = tmp_path / "kids.py"
    script.write_text(PRELUDE + WITH_CHILDREN + tail)
    out = tmp_path / "result.json"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    e = env()
    e["TMPDIR"] = str(tmp)
    p = subprocess.Popen([BIN, "-o", str(out), str(script)], cwd=tmp_path, env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        if how == "SIGKILL":
            time.sleep(0.5)  # into the sleep
            p.kill()
        p.wait(timeout=60)
        err = p.stderr.read()  # the supervisor holds stderr until it has written
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    want = {"SIGSEGV": -signal.SIGSEGV, "SIGKILL": -signal.SIGKILL, "os._exit": 5}[how]
    assert p.returncode == want, (p.returncode, err)
    if how != "os._exit":
        assert "killed by %s" % how in err and "with its child processes'" in err, err
    assert "still running" not in err, err
    data = load(str(out))
    xs = events(data, "X")
    assert "crash" in data["viztracer_metadata"]
    main = p.pid  # the launcher runs the program in its own process
    assert sum(1 for e in xs if e["pid"] == main and e["name"].startswith("f (")) == 50
    forked = {e["pid"] for e in xs if e["name"].startswith("child_work (")}
    assert len(forked) == 1 and main not in forked, forked
    assert sum(1 for e in xs if e["pid"] in forked and e["name"].startswith("f (")) == 20
    late = [e for e in xs if e["name"].startswith("late (")]
    assert len(late) == 1 and late[0]["pid"] not in forked | {main}, late
    assert late[0]["dur"] >= 900_000, late  # it ran to its end: it was waited for
    if how != "os._exit":
        assert len(marked(data, how)) == 1
    assert list(tmp.iterdir()) == []  # the private folder is gone


ARGS_BODY = """
from viztracer import get_tracer
def g(a, s):
    return a
def h():
    get_tracer().add_func_args("extra", 5)
def sleeper():
    for i in range(3):
        g(i, 'q"uote\\n')
    h()
    get_tracer().log_instant("hello", args={"k": [1, 2.5, None, True, "x"]})
    get_tracer().log_var("v", 7)
    work()
    print("ready", flush=True)
"""


@pytest.mark.parametrize("how", ["SIGKILL", "os._exit"])
def test_args_and_custom_events_after_kill(tmp_path, how):
    """Args and custom events are rendered into the shared area when they
    are recorded: a SIGKILL or os._exit(), which leave no process to read
    them from, keeps them too (not those of the calls still open then)."""
    tail = "    time.sleep(60)\nsleeper()\n" if how == "SIGKILL" else "sleeper()\nos._exit(0)\n"
    script = tmp_path / "args.py"
    script.write_text(PRELUDE + ARGS_BODY + tail)
    out = tmp_path / "result.json"
    p = subprocess.Popen([BIN, "-o", str(out), "--log_func_args", "--log_func_retval",
                          str(script)], cwd=tmp_path, env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        if how == "SIGKILL":
            time.sleep(0.5)  # into the sleep
            p.kill()
        p.wait(timeout=60)
        err = p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    data = load(str(out))
    crash = data["viztracer_metadata"]["crash"]
    gs = [e for e in events(data, "X") if e["name"].startswith("g (")]
    assert [e["args"] for e in gs] == [
        {"func_args": {"a": repr(i), "s": repr('q"uote\n')}, "return_value": repr(i)}
        for i in range(3)], err
    (hh,) = [e for e in events(data, "X") if e["name"].startswith("h (")]
    assert hh["args"] == {"func_args": {}, "extra": 5, "return_value": "None"}
    hello = [e for e in events(data) if e["name"] == "hello"]
    assert len(hello) == 1 and hello[0]["args"] == {"k": [1, 2.5, None, True, "x"]}
    (c,) = [e for e in events(data) if e["name"] == "v"]
    assert c["ph"] == "C" and c["args"] == {"value": 7}
    fs = [e for e in events(data, "X") if e["name"].startswith("f (")]
    assert len(fs) == 50
    assert all(e["args"]["func_args"]["n"] == e["args"]["return_value"] for e in fs)
    assert crash["lost_custom_events"] == 0, crash
    # only the calls still open (the module's code; sleeper) lose theirs
    assert 1 <= crash["lost_args"] <= crash["open_calls"], crash
    if how == "SIGKILL":
        (sl,) = [e for e in events(data, "X") if e["name"].startswith("sleeper (")]
        assert "func_args" not in sl.get("args", {})



def test_args_of_calls_open_at_stop_kept(tmp_path):
    """stop() records the calls still open, with their args rendered into
    the shared area as a return would: a death before the save keeps them."""
    script = tmp_path / "stop.py"
    script.write_text(PRELUDE + textwrap.dedent("""
        from viztracer import get_tracer
        def outer(x):
            work()
            get_tracer().stop()
        outer(9)
        os._exit(0)
    """))
    out = tmp_path / "result.json"
    proc = subprocess.run([BIN, "-o", str(out), "--log_func_args", str(script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env())
    assert proc.returncode == 0, proc.stderr
    data = load(str(out))
    (o,) = [e for e in events(data, "X") if e["name"].startswith("outer (")]
    assert o["args"] == {"func_args": {"x": "9"}}, o
    assert data["viztracer_metadata"]["crash"]["lost_args"] == 0
