"""A traced program cannot tell it is traced: each test runs the same program
under plain python3 (VIZTRACER_PYTHON) and under the launcher and compares
what the program, its parent and its children see."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BIN, PYTHON


def _env():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def both(tmp_path, argv, **kw):
    """argv (a python3 command line without the interpreter) run by python3
    and by the launcher in tmp_path; returns the two CompletedProcesses."""
    out = []
    for pre in ([PYTHON], [BIN, "--quiet", "-o", str(tmp_path / "t.json")]):
        out.append(subprocess.run(pre + list(argv), cwd=tmp_path, capture_output=True, text=True,
                                  timeout=60, env=_env(), **kw))
    return out


def write(tmp_path, name, text):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return str(tmp_path / name)


# ---- signals -----------------------------------------------------------------

LOOP = "import time\nprint('ready', flush=True)\nwhile True:\n    time.sleep(0.01)\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_program_dies_by_the_signal(tmp_path, sig):
    # Popen.wait() of a process ended by a signal is -signal under python3;
    # traced, the trace is saved first and the process still dies by it.
    codes = []
    for pre in ([PYTHON], [BIN, "--quiet", "-o", str(tmp_path / "t.json")]):
        p = subprocess.Popen(pre + ["-c", LOOP], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=_env())
        assert p.stdout.readline() == b"ready\n"
        time.sleep(0.2)
        p.send_signal(sig)
        p.communicate(timeout=30)
        codes.append(p.returncode)
    assert codes == [-sig, -sig]
    assert (tmp_path / "t.json").stat().st_size > 0


def test_children_die_by_sigterm(tmp_path):
    # A traced program's children (forked, spawned, subprocess) terminated
    # by their parent report -15 as under python3.
    path = write(tmp_path, "kids.py", """
        import multiprocessing as mp, subprocess, sys, time
        def work():
            time.sleep(30)
        if __name__ == "__main__":
            for method in ("fork", "spawn"):
                p = mp.get_context(method).Process(target=work)
                p.start(); time.sleep(0.5); p.terminate(); p.join()
                print(method, p.exitcode)
            c = subprocess.Popen([sys.executable, "-c",
                                  "import time; print('r', flush=True); time.sleep(30)"],
                                 stdout=subprocess.PIPE)
            c.stdout.readline(); time.sleep(0.2); c.terminate()
            print("subprocess", c.wait())
        """)
    plain, traced = both(tmp_path, [path])
    assert plain.stdout == "fork -15\nspawn -15\nsubprocess -15\n", plain.stderr
    assert traced.stdout == plain.stdout, traced.stderr
    assert traced.returncode == plain.returncode == 0


# ---- start-up --------------------------------------------------------------


def test_startup_imports_nothing_python3_does_not(tmp_path):
    # test_threading's children (python3 -c) check that threading is not
    # imported before they run; only our own package may be added.
    code = "import sys; print('\\n'.join(sorted(sys.modules)))"
    plain, traced = both(tmp_path, ["-c", code])
    extra = set(traced.stdout.split()) - set(plain.stdout.split())
    assert extra and all(m == "viztracer" or m.startswith("viztracer.") for m in extra), extra
    assert set(plain.stdout.split()) <= set(traced.stdout.split())


def test_threads_traced_when_the_program_imports_threading(tmp_path):
    path = write(tmp_path, "thr.py", """
        import threading
        def work():
            return sum(range(10))
        t = threading.Thread(target=work)
        t.start(); t.join()
        print(type(threading.__loader__).__name__, type(threading.__spec__.loader).__name__)
        """)
    plain, traced = both(tmp_path, [path])
    assert traced.stdout == plain.stdout == "SourceFileLoader SourceFileLoader\n", traced.stderr
    from conftest import load, events
    evs = events(load(str(tmp_path / "t.json")))
    work = [e for e in evs if e["name"].startswith("work (")]
    assert len(work) == 1 and work[0]["tid"] != work[0]["pid"]  # in its own thread
