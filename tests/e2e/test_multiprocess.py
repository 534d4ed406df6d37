"""Forked children (os.fork, multiprocessing with fork, ProcessPoolExecutor):
every process's events in the parent's one result file; children that die,
hang or _exit never hang the parent; --ignore_multiprocess turns it off."""

import json
import os
import signal
import subprocess
import textwrap
import time

from conftest import BIN, PYTHON


# Traces of programs that import multiprocessing are large; they are read
# in a separate interpreter and only this summary comes back, so pytest's
# own memory (which later tests measure through their children) stays small.
SUMMARY = r"""
import gzip, json, sys
p = sys.argv[1]
with (gzip.open if p.endswith(".gz") else open)(p, "rt", encoding="utf-8") as f:
    d = json.load(f)
out = {"names": {}, "procs": {}, "tids": {}, "first": {}, "count": {}}
for e in d["traceEvents"]:
    pid = str(e["pid"])
    if e["ph"] == "M":
        if e["name"] == "process_name":
            out["procs"][pid] = e["args"]["name"]
        continue
    out["names"].setdefault(pid, []).append(e["name"])
    out["tids"].setdefault(pid, []).append(e["tid"])
    key = pid + " " + e["name"]
    out["count"][key] = out["count"].get(key, 0) + 1
    if "ts" in e:
        out["first"][key] = min(out["first"].get(key, e["ts"]), e["ts"])
out["names"] = {k: sorted(set(v)) for k, v in out["names"].items()}
out["tids"] = {k: sorted(set(v)) for k, v in out["tids"].items()}
json.dump(out, sys.stdout)
"""


class Summary:
    def __init__(self, path):
        proc = subprocess.run([PYTHON, "-c", SUMMARY, path], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        raw = json.loads(proc.stdout)
        self.groups = {int(k): set(v) for k, v in raw["names"].items()}
        self.procs = {int(k): v for k, v in raw["procs"].items()}
        self.tids = {int(k): set(v) for k, v in raw["tids"].items()}
        self.first = raw["first"]
        self.count = raw["count"]

    def first_ts(self, pid, prefix):
        return min(ts for key, ts in self.first.items() if key.startswith("%d %s" % (pid, prefix)))

    def calls(self, prefix):
        """{pid: number of events whose name starts with prefix}"""
        out = {}
        for key, n in self.count.items():
            pid, name = key.split(" ", 1)
            if name.startswith(prefix):
                out[int(pid)] = out.get(int(pid), 0) + n
        return out


def summary(r, name="result.json"):
    return Summary(os.path.join(r.cwd, name))


def with_func(groups, prefix):
    return {pid for pid, names in groups.items() if any(n.startswith(prefix + " (") for n in names)}


def no_leftovers(r):
    assert [f for f in os.listdir(r.cwd) if "tmp" in f] == []


FORK = """
import os
def child_work():
    return sum(range(10))
def parent_work():
    return 1
pid = os.fork()
if pid == 0:
    child_work()
else:
    os.waitpid(pid, 0)
    parent_work()
    print("child", pid)
"""


def test_os_fork_child_in_parent_file(run):
    r = run(["cmdline_test.py"], script=FORK)
    assert r.returncode == 0, r.stderr
    child = int(r.stdout.split("child ")[1].split()[0])
    data = summary(r)
    groups = data.groups
    assert len(groups) == 2 and child in groups
    assert with_func(groups, "child_work") == {child}
    parent = (set(groups) - {child}).pop()
    assert with_func(groups, "parent_work") == {parent}
    # The child's events are its own: nothing the parent recorded before
    # the fork is repeated, and its thread is its own.
    assert "posix.waitpid" not in groups[child]
    assert data.tids[child] == {child}
    # One clock: the child's work happens inside the parent's fork..waitpid.
    assert data.first_ts(parent, "posix.fork") < data.first_ts(child, "child_work (")
    assert len(data.procs) == 2
    assert "vizviewer" in r.stdout
    no_leftovers(r)


def test_os_fork_with_ignore_c_function_keeps_the_child(run):
    """The frame hook (--ignore_c_function) holds the thread's state across
    the evaluation of a frame in which the child is forked: the child's
    state has moved by the time the frame returns (the crash-safe area is
    the child's own). The child used to die of SIGSEGV there, silently."""
    script = FORK.replace("    child_work()\n", "    child_work()\n    os._exit(0)\n")
    script = script.replace("pid = os.fork()", "def forks():\n    return os.fork()\npid = forks()")
    r = run(["--ignore_c_function", "cmdline_test.py"], script=script)
    assert r.returncode == 0, r.stderr
    child = int(r.stdout.split("child ")[1].split()[0])
    groups = summary(r).groups
    assert with_func(groups, "child_work") == {child}
    # the frames the fork happened in end in the child too
    assert with_func(groups, "forks") == set(groups) and len(groups) == 2
    assert "killed" not in r.stderr
    no_leftovers(r)


def test_multiprocessing_pool_map(run):
    r = run(
        ["cmdline_test.py"],
        script="""
        import multiprocessing, os
        def square(x):
            return x * x
        if __name__ == "__main__":
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(2) as p:
                print(sum(p.map(square, range(20))))
        """,
    )
    assert r.returncode == 0, r.stderr
    assert "2470" in r.stdout
    data = summary(r)
    groups = data.groups
    workers = with_func(groups, "square")
    assert len(groups) == 3 and 1 <= len(workers) <= 2
    assert all(data.procs[w].startswith("ForkPoolWorker-") for w in workers)
    assert sum(data.calls("square (").values()) == 20


def test_process_pool_executor(run):
    r = run(
        ["cmdline_test.py"],
        script="""
        from concurrent.futures import ProcessPoolExecutor
        def cube(x):
            return x ** 3
        if __name__ == "__main__":
            with ProcessPoolExecutor(max_workers=2) as ex:
                print(sum(ex.map(cube, range(10))))
        """,
    )
    assert r.returncode == 0, r.stderr
    assert "2025" in r.stdout
    data = summary(r)
    assert len(data.groups) == 3
    cubes = data.calls("cube (")
    assert sum(cubes.values()) == 10
    assert sorted(data.procs.values())[0] == "ForkProcess-1"
    assert all(data.procs[pid].startswith("ForkProcess-") for pid in cubes)


def test_multiprocessing_process(run):
    r = run(
        ["cmdline_test.py"],
        script="""
        import multiprocessing
        def target(n):
            return n + 1
        if __name__ == "__main__":
            p = multiprocessing.get_context("fork").Process(target=target, args=(1,), name="Worker7")
            p.start()
            p.join()
            print(p.pid, p.exitcode)
        """,
    )
    assert r.returncode == 0, r.stderr
    pid, code = map(int, r.stdout.split()[:2])
    assert code == 0
    data = summary(r)
    assert with_func(data.groups, "target") == {pid}
    assert data.procs[pid] == "Worker7"


def test_child_os_exit_keeps_events(run):
    r = run(
        ["cmdline_test.py"],
        script="""
        import os
        def before_exit():
            return 2
        pid = os.fork()
        if pid == 0:
            before_exit()
            os._exit(3)
        _, status = os.waitpid(pid, 0)
        print(pid, os.waitstatus_to_exitcode(status))
        """,
    )
    assert r.returncode == 0, r.stderr
    pid, code = map(int, r.stdout.split()[:2])
    assert code == 3  # the program's os._exit status is kept
    assert with_func(summary(r).groups, "before_exit") == {pid}


def test_child_killed_does_not_hang(run):
    r = run(
        ["cmdline_test.py"],
        script="""
        import os, signal, time
        def parent_work():
            return 1
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        parent_work()
        """,
        timeout=20,
    )
    assert r.returncode == 0, r.stderr
    groups = summary(r).groups
    # the killed child's part is written by its supervisor (test_crash.py), if in time
    assert len(groups) in (1, 2)
    assert with_func(groups, "parent_work")
    no_leftovers(r)


def test_child_never_exiting_is_given_up(tmp_path):
    (tmp_path / "hang.py").write_text(
        textwrap.dedent(
            """
            import os, time
            def parent_work():
                return 1
            pid = os.fork()
            if pid == 0:
                while True:
                    time.sleep(1)
            print(pid)
            parent_work()
            """
        )
    )
    # Files, not pipes: the hanging child keeps its inherited stdout open.
    out, err = open(tmp_path / "out.txt", "w"), open(tmp_path / "err.txt", "w")
    start = time.monotonic()
    proc = subprocess.Popen([BIN, "hang.py"], cwd=tmp_path, stdout=out, stderr=err)
    try:
        status = proc.wait(timeout=20)
    finally:
        out.close()
        err.close()
        spent = time.monotonic() - start
        stdout = (tmp_path / "out.txt").read_text()
        if stdout.split():
            os.kill(int(stdout.split()[0]), signal.SIGKILL)
    pid = int(stdout.split()[0])
    stderr = (tmp_path / "err.txt").read_text()
    assert status == 0, stderr
    assert 10 <= spent < 20  # the bound: children.h, VT_CHILDREN_WAIT_S
    assert stderr.count("\n") == 1 and "still running" in stderr
    groups = Summary(str(tmp_path / "result.json")).groups
    assert with_func(groups, "parent_work") and pid not in groups


def test_fork_outliving_the_program_is_waited_for(run):
    # VizTracer's test_os_fork_term: the parent's program ends at once, the
    # child 4.5 s later, well within the bounded wait (VizTracer waits for it too).
    r = run(["cmdline_test.py"], script="""
        import os, time
        def late_work():
            return 1
        if os.fork() == 0:
            time.sleep(4.5)
            late_work()
            print("child done", flush=True)
        """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Wait for child processes to finish" in r.stdout and "still running" not in r.stderr
    groups = summary(r).groups
    assert len(groups) == 2 and len(with_func(groups, "late_work")) == 1


def test_buffer_full_warning_of_a_multi_process_run(run):
    script = """
        import multiprocessing
        def fib(n):
            return 1 if n < 2 else fib(n - 1) + fib(n - 2)
        if __name__ == "__main__":
            p = multiprocessing.get_context("fork").Process(target=fib, args=(8,))
            p.start()
            p.join()
        """
    r = run(["--tracer_entries", "10", "cmdline_test.py"], script=script)
    assert r.returncode == 0, r.stderr
    assert "Circular buffer is full, you lost some early data, but you still have" in r.stdout
    assert r.load()["viztracer_metadata"]["overflow"] is True
    r = run(["--tracer_entries", "100000", "cmdline_test.py"], script=script)
    assert r.returncode == 0, r.stderr
    assert "buffer is full" not in r.stdout
    r = run(["--quiet", "--tracer_entries", "10", "cmdline_test.py"], script=script)
    assert r.returncode == 0 and r.stdout == "", r.stderr


def test_ignore_multiprocess(run):
    r = run(["--ignore_multiprocess", "cmdline_test.py"], script=FORK)
    assert r.returncode == 0, r.stderr
    groups = summary(r).groups
    assert len(groups) == 1
    assert with_func(groups, "parent_work")
    assert not with_func(groups, "child_work")


def test_ignore_multiprocess_pool_terminates(run):
    # Untraced workers get python3's default SIGTERM back, so the pool's
    # terminate() kills them instead of raising SystemExit inside them (which
    # could hang the pool).
    script = """
        import multiprocessing as mp, signal
        def sq(x):
            return x * x
        def handler_name():
            h = signal.getsignal(signal.SIGTERM)
            return getattr(h, "__name__", str(h))
        if __name__ == "__main__":
            with mp.get_context("fork").Pool(2) as p:
                print(sum(p.map(sq, range(10))), p.apply(handler_name))
        """
    for _ in range(3):
        r = run(["--quiet", "--ignore_multiprocess", "cmdline_test.py"], script=script,
                timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "285 0"  # str(signal.SIG_DFL)


def test_fork_with_html_and_pid_suffix(run):
    r = run(["--pid_suffix", "-o", "out.json.gz", "cmdline_test.py"], script=FORK)
    assert r.returncode == 0, r.stderr
    out = [f for f in os.listdir(r.cwd) if f.startswith("out_")]
    assert len(out) == 1 and out[0].endswith(".json.gz")
    assert len(summary(r, out[0]).groups) == 2
    r = run(["-o", "out.html", "cmdline_test.py"], script=FORK)
    assert r.returncode == 0, r.stderr
    page = open(os.path.join(r.cwd, "out.html"), encoding="utf-8").read()
    assert "child_work (" in page and "parent_work (" in page


def test_grandchild_and_threads(run):
    r = run(
        ["cmdline_test.py"],
        script="""
        import os, threading
        def grandchild_work():
            return 3
        def child_work():
            pid = os.fork()
            if pid == 0:
                grandchild_work()
                os._exit(0)
            os.waitpid(pid, 0)
            print("grandchild", pid)
        def spin():
            for _ in range(100):
                len("x")
        t = threading.Thread(target=spin)
        t.start()
        pid = os.fork()
        if pid == 0:
            child_work()
            raise SystemExit(5)
        t.join()
        _, status = os.waitpid(pid, 0)
        print("child", pid, os.waitstatus_to_exitcode(status))
        """,
    )
    assert r.returncode == 0, r.stderr
    words = r.stdout.split()
    grandchild = int(words[words.index("grandchild") + 1])
    child = int(words[words.index("child") + 1])
    assert int(words[words.index("child") + 2]) == 5
    data = summary(r)
    assert len(data.groups) == 3
    assert with_func(data.groups, "grandchild_work") == {grandchild}
    assert child in with_func(data.groups, "child_work")
    # The parent's other thread is not in the child's trace.
    assert data.tids[child] == {child} and data.tids[grandchild] == {grandchild}
    assert with_func(data.groups, "spin") == set(data.groups) - {child, grandchild}
