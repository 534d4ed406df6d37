"""Children that start a new Python run: subprocess (python3 x.py, -c, -m,
shell strings, console scripts), multiprocessing's spawn and forkserver,
grandchildren. Each is traced with the parent's options into the parent's
one result file, under its own pid."""

import os
import subprocess
import textwrap
import time

from conftest import ASAN, BIN, _asan_runtime, needs_module, python_env
from test_multiprocess import no_leftovers, summary, with_func

CHILD = """
import os, sys
def child_work():
    return sum(range(100))
child_work()
print("child", os.getpid(), *sys.argv[1:], flush=True)
"""


def plain_python_env():
    """What a plain python3 child needs to load our sanitized extension
    (ASan build); PYTHONPATH is left to the launcher."""
    if not ASAN:
        return None
    return {"LD_PRELOAD": _asan_runtime(), "ASAN_OPTIONS": "detect_leaks=0"}


def pids_of(stdout, tag="child"):
    return {int(line.split()[1]) for line in stdout.splitlines() if line.startswith(tag + " ")}


def kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


def write(tmp, name, text, mode=None):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    if mode:
        os.chmod(path, mode)
    return path


def test_every_way_of_starting_python(run, tmp_path):
    write(tmp_path, "child.py", CHILD)
    os.mkdir(tmp_path / "pkg")
    write(tmp_path / "pkg", "__init__.py", "")
    write(tmp_path / "pkg", "mod.py", CHILD)
    write(tmp_path, "tool", "#!/usr/bin/env python3\n" + CHILD, mode=0o755)
    r = run(
        ["cmdline_test.py"],
        script="""
        import os, subprocess, sys
        def parent_work():
            subprocess.run([sys.executable, "child.py", "a"], check=True)
            subprocess.run(["python3", "-u", "child.py", "b"], check=True)
            subprocess.run([sys.executable, "-m", "pkg.mod", "c"], check=True)
            subprocess.run([sys.executable, "-c", "import child"], check=True)
            subprocess.run("X=1 python3 child.py 'd e' | cat", shell=True, check=True)
            subprocess.run(["./tool", "f"], check=True)
            subprocess.check_call(["python3", "child.py", "g"], env=dict(os.environ, Z="1"))
        parent_work()
        print("parent", os.getpid())
        """,
    )
    assert r.returncode == 0, r.stderr
    children = pids_of(r.stdout)
    assert len(children) == 7, r.stdout
    assert any(line.endswith(" d e") for line in r.stdout.splitlines())  # quoting kept
    (parent,) = pids_of(r.stdout, "parent")
    data = summary(r)
    assert set(data.groups) == children | {parent}
    assert with_func(data.groups, "child_work") == children
    assert with_func(data.groups, "parent_work") == {parent}
    # Names that tell the processes apart.
    names = sorted(data.procs[p] for p in children)
    assert names.count("child.py") == 4 and "python -c" in names and "tool" in names
    assert "pkg.mod" in names  # -m: the module's name, as VizTracer's sys.argv[0]
    # One clock: each child runs inside the parent's parent_work.
    start = data.first_ts(parent, "parent_work (")
    assert all(data.first_ts(c, "child_work (") > start for c in children)
    no_leftovers(r)


def test_module_child_named_by_its_module(run):
    # VizTracer's test_module: `python -m timeit` is "timeit", not timeit.py.
    r = run(["cmdline_test.py"], script="""
        import subprocess, sys
        print(subprocess.call([sys.executable, "-m", "timeit", "-n", "100", "'1+1'"]))
        """)
    assert r.returncode == 0, r.stderr
    assert "100 loops" in r.stdout
    assert sorted(summary(r).procs.values()) == ["MainProcess", "timeit"]


def test_patched_functions_keep_their_names(run):
    r = run(["cmdline_test.py"], script="""
        import multiprocessing.util, subprocess
        for f, q in ((subprocess.Popen.__init__, "Popen.__init__"),
                     (multiprocessing.util.spawnv_passfds, "spawnv_passfds")):
            assert f.__qualname__ == q and f.__name__ == q.split(".")[-1], f.__qualname__
        assert subprocess.Popen.__init__.__module__ == "subprocess"
        assert multiprocessing.util.spawnv_passfds.__module__ == "multiprocessing.util"
        assert not hasattr(subprocess.Popen.__init__, "__wrapped__")  # Popen's own
        print("ok")
        """)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr


def test_children_get_the_parents_options(run, tmp_path):
    write(tmp_path, "child.py", CHILD)
    r = run(
        ["--ignore_c_function", "--log_func_args", "cmdline_test.py"],
        script="""
        import subprocess, sys
        subprocess.run([sys.executable, "child.py"], check=True)
        """,
    )
    assert r.returncode == 0, r.stderr
    (child,) = pids_of(r.stdout)
    data = r.load()
    mine = [e for e in data["traceEvents"] if e["pid"] == child and e["ph"] == "X"]
    assert mine and not any(e["name"].startswith("builtins.") for e in mine)
    work = [e for e in mine if e["name"].startswith("child_work (")]
    assert work and "args" in work[0]
    assert r.stdout.count("vizviewer") == 1  # the child is quiet


def test_rcfile_options_reach_children_in_other_folders(run, tmp_path):
    write(tmp_path, ".viztracerrc", "[default]\nignore_c_function = True\n")
    os.mkdir(tmp_path / "elsewhere")
    write(tmp_path / "elsewhere", "child.py", CHILD)
    r = run(
        ["cmdline_test.py"],
        script="""
        import subprocess, sys
        subprocess.run([sys.executable, "child.py"], cwd="elsewhere", check=True)
        """,
    )
    assert r.returncode == 0, r.stderr
    (child,) = pids_of(r.stdout)
    mine = [e for e in r.load()["traceEvents"] if e["pid"] == child and e["ph"] == "X"]
    assert with_func({child: {e["name"] for e in mine}}, "child_work") == {child}
    assert not any(e["name"].startswith("builtins.") for e in mine)


def test_grandchildren(run, tmp_path):
    write(tmp_path, "child.py", CHILD)
    write(
        tmp_path,
        "middle.py",
        """
        import os, subprocess, sys
        def middle_work():
            subprocess.run([sys.executable, "child.py"], check=True)
            pid = os.fork()
            if pid == 0:
                print("child", os.getpid(), flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
        middle_work()
        print("middle", os.getpid(), flush=True)
        """,
    )
    r = run(
        ["cmdline_test.py"],
        script="""
        import subprocess, sys
        for _ in range(2):
            subprocess.run([sys.executable, "middle.py"], check=True)
        """,
    )
    assert r.returncode == 0, r.stderr
    middles = pids_of(r.stdout, "middle")
    grandchildren = pids_of(r.stdout)
    assert len(middles) == 2 and len(grandchildren) == 4
    data = summary(r)
    assert len(data.groups) == 7
    assert middles | grandchildren <= set(data.groups)
    # (A forked grandchild starts inside middle_work: it shows that frame too.)
    assert with_func(data.groups, "middle_work") - grandchildren == middles
    assert len(with_func(data.groups, "child_work")) == 2


SPAWN = """
import multiprocessing, os, sys
def work(x):
    return sum(range(x))
def tell(q):
    q.put(os.getpid())
if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    q = ctx.Queue()
    p = ctx.Process(target=tell, args=(q,), name="Teller")
    p.start()
    print("child", q.get(), flush=True)
    p.join()
    with ctx.Pool(2) as pool:
        print(sum(pool.map(work, range(40))))
"""


def check_start_method(run, method, server):
    r = run(["cmdline_test.py", method], script=SPAWN, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "9880" in r.stdout
    (teller,) = pids_of(r.stdout)
    data = summary(r)
    assert data.procs[teller] == "Teller"
    assert with_func(data.groups, "tell") == {teller}
    workers = with_func(data.groups, "work")
    assert 1 <= len(workers) <= 2 and teller not in workers
    assert all(data.procs[w].startswith(server + "PoolWorker-") for w in workers)
    assert sum(data.calls("work (").values()) == 40
    # The parent, the teller and the pool workers (one the pool terminates
    # while it still starts may have nothing to save); the resource tracker
    # and the forkserver itself are not traced.
    assert len(data.groups) in (3, 4)
    no_leftovers(r)


def test_spawn(run):
    check_start_method(run, "spawn", "Spawn")


def test_forkserver(run):
    check_start_method(run, "forkserver", "ForkServer")


def test_interpreter_flags_and_untraceable_lines(run, tmp_path):
    r = run(
        ["cmdline_test.py"],
        script="""
        import subprocess, sys
        def flags():
            out = subprocess.run([sys.executable, "-u", "-X", "dev", "-Wignore::UserWarning", "-c",
                                  "import sys, os; print('child', os.getpid(), sys.flags.dev_mode,"
                                  " sys.warnoptions[-1], sys.stdout.write_through)"],
                                 capture_output=True, text=True, check=True)
            print(out.stdout, end="")
        flags()
        # Read from stdin: python3 runs it itself, untraced.
        out = subprocess.run([sys.executable, "-"], input="print('stdin', 6 * 7)",
                             capture_output=True, text=True, check=True)
        print(out.stdout, end="")
        """,
    )
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stdout.splitlines() if x.startswith("child ")][0].split()
    assert line[2] == "True" and line[3] == "ignore::UserWarning" and line[4] == "True"
    assert "stdin 42" in r.stdout
    data = summary(r)
    assert int(line[1]) in data.groups
    assert len(data.groups) == 2  # the stdin child is not traced


def test_ignore_multiprocess_leaves_children_alone(run, tmp_path):
    write(tmp_path, "child.py", CHILD)
    r = run(
        ["--ignore_multiprocess", "cmdline_test.py"],
        script="""
        import multiprocessing, subprocess, sys
        def work(x):
            return x
        if __name__ == "__main__":
            subprocess.run([sys.executable, "child.py"], check=True)
            with multiprocessing.get_context("spawn").Pool(1) as p:
                print(p.map(work, [1, 2]))
        """,
    )
    assert r.returncode == 0, r.stderr
    assert len(summary(r).groups) == 1


def test_child_faults_never_hang_the_parent(run, tmp_path):
    write(tmp_path, "crash.py", "def crash_work():\n    raise ValueError('boom')\ncrash_work()\n")
    write(tmp_path, "killed.py", "import os, signal\ndef doomed():\n    os.kill(os.getpid(), signal.SIGKILL)\ndoomed()\n")
    write(tmp_path, "forever.py", "import os, time\nprint('child', os.getpid(), flush=True)\ntime.sleep(120)\n")
    write(tmp_path, "term.py", "import os, time\ndef before_term():\n    return 1\nbefore_term()\nprint('child', os.getpid(), flush=True)\ntime.sleep(120)\n")
    started = time.monotonic()
    r = run(
        ["cmdline_test.py"],
        script="""
        import signal, subprocess, sys, time
        subprocess.run([sys.executable, "crash.py"])
        subprocess.run([sys.executable, "killed.py"])
        t = subprocess.Popen([sys.executable, "term.py"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        print(t.stdout.readline(), end="", flush=True)
        t.terminate()
        t.wait()
        # Its own output goes nowhere: it outlives the test's pipes.
        f = subprocess.Popen([sys.executable, "forever.py"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        print(f.stdout.readline(), end="", flush=True)
        """,
        timeout=60,
    )
    spent = time.monotonic() - started
    try:
        assert r.returncode == 0, r.stderr
        assert spent < 30  # bounded: the parent waits a few seconds for "forever" at most
        assert "still running" in r.stderr
        data = summary(r)
        crash = with_func(data.groups, "crash_work")
        assert len(crash) == 1  # a crashed child's events are kept
        # SIGKILL: its supervisor writes its part (test_crash.py), and no hang
        assert len(with_func(data.groups, "doomed")) == 1
        assert len(with_func(data.groups, "before_term")) == 1  # SIGTERM saves
    finally:
        kill_all(pids_of(r.stdout))


def test_popen_arguments_kept(run, tmp_path):
    """Positional Popen arguments, bytes argv and non-python commands."""
    write(tmp_path, "child.py", CHILD)
    r = run(
        ["cmdline_test.py"],
        script="""
        import subprocess, sys
        subprocess.Popen([sys.executable.encode(), b"child.py"], -1, None, None, None, None,
                         None, True, False).wait()
        p = subprocess.run(["echo", "plain"], capture_output=True, text=True)
        print(p.stdout, "args", p.args)
        p = subprocess.run([sys.executable, "child.py"], capture_output=True, text=True)
        print(p.stdout, "same args", p.args == [sys.executable, "child.py"])
        print(subprocess.run("echo shell", shell=True, capture_output=True, text=True).stdout, end="")
        """,
    )
    assert r.returncode == 0, r.stderr
    assert "plain" in r.stdout and "shell" in r.stdout
    assert "args ['echo', 'plain']" in r.stdout  # the program sees its own command
    assert "same args True" in r.stdout
    assert len(pids_of(r.stdout)) == 2
    assert len(summary(r).groups) == 3


def test_python_m_viztracer_is_not_wrapped_twice(run, tmp_path):
    write(tmp_path, "child.py", CHILD)
    env = python_env()
    r = run(
        ["cmdline_test.py"],
        script="""
        import subprocess, sys
        subprocess.run([sys.executable, "-m", "viztracer", "--quiet", "-o", "inner.json",
                        "child.py"], check=True)
        """,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert os.path.exists(os.path.join(r.cwd, "inner.json"))
    assert len(summary(r, "inner.json").groups) == 1
    assert len(summary(r).groups) == 1


def test_folder_of_a_killed_viztracer_is_swept(run, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    env.pop("PYTHONPATH", None)
    write(tmp_path, "slow.py", "import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    p = subprocess.Popen([BIN, "slow.py"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        left = os.listdir(tmp)
        assert left == [d for d in left if d.startswith("viztracer-%d-" % p.pid)] and len(left) == 1
    finally:
        p.kill()
        p.wait()
    assert len(os.listdir(tmp)) == 1  # SIGKILL: nothing could clean up
    r = run(["cmdline_test.py"], script="print('next')", env={"TMPDIR": str(tmp)})
    assert r.returncode == 0, r.stderr
    assert os.listdir(tmp) == []


@needs_module("joblib")
def test_loky_workers_follow_init_kwargs(run):
    """joblib's loky starts its workers itself (fork + exec) and builds their
    tracers from the parent's init_kwargs (VizTracer's recipe; docs/COMPAT.md, Processes)."""
    r = run(
        ["cmdline_test.py"],
        script="""
        import os
        from joblib import Parallel, delayed
        def lk_work(x):
            return x * x, os.getpid()
        if __name__ == "__main__":
            out = Parallel(n_jobs=2, backend="loky")(delayed(lk_work)(i) for i in range(20))
            print(sum(a for a, _ in out))
            for pid in sorted({p for _, p in out}):
                print("child", pid)
        """,
        timeout=120,
        env=plain_python_env(),
    )
    assert r.returncode == 0, r.stderr
    assert "2470" in r.stdout
    assert "still running" not in r.stderr and "Unable to introspect" not in r.stderr
    workers = pids_of(r.stdout)
    data = summary(r)
    assert with_func(data.groups, "lk_work") == workers
    assert sum(data.calls("lk_work (").values()) == 20
    assert all(data.procs[w].startswith("LokyProcess-") for w in workers)
    no_leftovers(r)


@needs_module("joblib")
def test_loky_with_ignore_multiprocess(run):
    r = run(
        ["--ignore_multiprocess", "cmdline_test.py"],
        script="""
        from joblib import Parallel, delayed
        def lk_work(x):
            return x * x
        if __name__ == "__main__":
            print(sum(Parallel(n_jobs=2, backend="loky")(delayed(lk_work)(i) for i in range(20))))
        """,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "2470" in r.stdout
    assert "child processes are not traced (--ignore_multiprocess)" in r.stderr
    assert len(summary(r).groups) == 1


def test_init_kwargs_recipe_by_hand(run, tmp_path):
    """Any process the launcher did not start can join the trace: build a
    VizTracer from get_tracer().init_kwargs, register_exit(), start()."""
    write(
        tmp_path,
        "worker.py",
        """
        import json, os, sys
        from viztracer import VizTracer
        tracer = VizTracer(**json.loads(sys.argv[1]))
        tracer.register_exit()
        tracer.start()
        def by_hand():
            return os.getpid()
        print("child", by_hand(), flush=True)
        """,
    )
    r = run(
        ["cmdline_test.py"],
        script="""
        import json, os, sys
        from viztracer import get_tracer
        kw = get_tracer().init_kwargs
        pid = os.posix_spawn(sys.executable, [sys.executable, "worker.py", json.dumps(kw)],
                             os.environ)
        os.waitpid(pid, 0)
        """,
        env=plain_python_env(),
    )
    assert r.returncode == 0, r.stderr
    (child,) = pids_of(r.stdout)
    data = summary(r)
    assert with_func(data.groups, "by_hand") == {child}
    assert len(data.groups) == 2
    no_leftovers(r)


def test_truncated_child_file_is_skipped(run):
    """A child's result that is not whole JSON costs a warning, not the save."""
    r = run(
        ["cmdline_test.py"],
        script="""
        import os, subprocess, sys
        from viztracer import get_tracer
        folder = os.path.dirname(get_tracer().init_kwargs["output_file"])
        with open(os.path.join(folder, "result_99999999.json"), "w") as f:
            f.write('{"traceEvents": [{"ph": "X", "name": "cut')
        def parent_work():
            subprocess.run([sys.executable, "-c", "def child_work(): pass\\nchild_work()"])
        parent_work()
        """,
    )
    assert r.returncode == 0, r.stderr
    assert "Found and ignored invalid json file" in r.stderr and "result_99999999" in r.stderr
    data = summary(r)
    assert len(data.groups) == 2
    assert len(with_func(data.groups, "child_work")) == 1
    no_leftovers(r)


def test_fork_then_exec_saves_before_exec(run):
    """A forked child that execs another program saves what it did first,
    and the parent does not wait for the program it became."""
    started = time.monotonic()
    r = run(
        ["cmdline_test.py"],
        script="""
        import os
        def before_exec():
            return 1
        pid = os.fork()
        if pid == 0:
            before_exec()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execv("/bin/sleep", ["sleep", "30"])
        print("child", pid, flush=True)
        """,
    )
    try:
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - started < 20
        assert "still running" not in r.stderr
        (child,) = pids_of(r.stdout)
        data = summary(r)
        assert with_func(data.groups, "before_exec") == {child}
    finally:
        kill_all(pids_of(r.stdout))


def test_python_of_another_virtualenv_runs_as_is(run, tmp_path):
    """Its packages are its own: the child keeps its interpreter, untraced."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\n")
    os.symlink(os.path.realpath("/usr/bin/python3"), venv / "bin" / "python3")
    write(tmp_path, "child.py", CHILD + "print('prefix', sys.prefix)\n")
    r = run(
        ["cmdline_test.py"],
        script="""
        import subprocess, sys
        subprocess.run(["venv/bin/python3", "child.py"], check=True)
        subprocess.run([sys.executable, "child.py"], check=True)
        """,
        env=plain_python_env(),
    )
    assert r.returncode == 0, r.stderr
    assert "prefix %s" % venv in r.stdout  # it ran as the venv's python
    assert len(pids_of(r.stdout)) == 2
    assert len(summary(r).groups) == 2  # the parent and the sys.executable child


def test_relative_tmpdir_and_child_in_another_folder(run, tmp_path):
    (tmp_path / "tmp").mkdir()
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "child.py", CHILD)
    r = run(
        ["cmdline_test.py"],
        script="""
        import subprocess, sys
        subprocess.run([sys.executable, "child.py"], cwd="sub", check=True)
        """,
        env={"TMPDIR": "tmp"},
    )
    assert r.returncode == 0, r.stderr
    assert len(summary(r).groups) == 2
    assert os.listdir(tmp_path / "tmp") == []
