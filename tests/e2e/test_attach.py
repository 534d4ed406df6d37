"""Remote attach (docs/COMPAT.md, Remote attach): --attach, --attach_installed and --uninstall on
real long-running python3 processes, injected through ptrace (launcher/inject.c). A target must
go on as it would untraced: a sleep or a blocking call it is in finishes as it would, its output
and exit status are its own, whether the attach worked or failed."""

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from conftest import BIN, PYDIR, PYTHON, load, names, python_env


# Main thread sleeps between calls (found without the GIL); a second
# thread, started before the attach, must be traced too.
SLEEPER = """
import threading, time
def alpha():
    return sum(range(100))
def beta():
    time.sleep(0.01)
    return alpha()
def gamma():
    return len(str(12345))
def side():
    while True:
        gamma()
        time.sleep(0.01)
threading.Thread(target=side, daemon=True).start()
print("ready", flush=True)
while True:
    beta()
"""

# Main thread never sleeps: found holding the GIL, so the injected code
# runs as a pending call.
BUSY = """
def spin():
    return sum(range(50))
print("ready", flush=True)
while True:
    spin()
"""

INSTALLED = """
import sys, time
from viztracer import VizTracer
def delta():
    time.sleep(0.01)
tracer = VizTracer(output_file=sys.argv[1])
tracer.install()
print("ready", flush=True)
while True:
    delta()
"""


class Proc:
    """A child process whose merged stdout and stderr is collected."""

    def __init__(self, args, cwd, env, stdin=subprocess.DEVNULL):
        self.p = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, stdin=stdin)
        self.out = ""

    @property
    def pid(self):
        return self.p.pid

    def _read(self, timeout):
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.p.stdout.fileno(), 65536)
        self.out += chunk.decode(errors="replace")
        return bool(chunk)

    def wait_for(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while text not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not seen in {self.out!r}"
            if not self._read(min(left, 0.1)) and self.p.poll() is not None:
                self._read(0)
                assert text in self.out, f"exited {self.p.returncode}: {self.out!r}"

    def finish(self, timeout=60):
        """Waits for the exit; returns the status."""
        deadline = time.monotonic() + timeout
        while self.p.poll() is None:
            assert time.monotonic() < deadline, f"still running: {self.out!r}"
            self._read(0.1)
        while self._read(0):
            pass
        return self.p.returncode

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.p.stdout.close()
        if self.p.stdin:
            self.p.stdin.close()


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        p.kill()


def target(procs, tmp_path, code, args=(), importable=True, stdin=subprocess.DEVNULL):
    script = tmp_path / "target.py"
    script.write_text(textwrap.dedent(code))
    env = python_env() if importable else {k: v for k, v in os.environ.items()
                                          if k != "PYTHONPATH"}
    p = Proc([PYTHON, "-u", str(script), *args], tmp_path, env, stdin=stdin)
    procs.append(p)
    p.wait_for("ready")
    return p


_PTRACE = []

# PTRACE_SEIZE of argv[1] from a process that is not its parent, as viztracer's
# is not its target's (Yama's ptrace_scope 1 allows only parents); prints errno.
_PROBE = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
rc = libc.ptrace(0x4206, int(sys.argv[1]), None, None)
print(0 if rc == 0 else ctypes.get_errno())
"""


def ptrace_refusal():
    """Why this machine forbids ptrace to us (seccomp in a container, Yama,
    no capability), or None: asked once, of a sibling process."""
    if not _PTRACE:
        child = subprocess.Popen(["sleep", "30"])
        try:
            r = subprocess.run([sys.executable, "-c", _PROBE, str(child.pid)],
                               capture_output=True, text=True, timeout=30)
        finally:
            child.kill()  # the probe's end already ended the tracing
            child.wait()
        err = int(r.stdout.strip() or -1)
        yama = ""
        if os.path.exists("/proc/sys/kernel/yama/ptrace_scope"):
            with open("/proc/sys/kernel/yama/ptrace_scope") as f:
                yama = f" (kernel.yama.ptrace_scope {f.read().strip()})"
        _PTRACE.append(None if err == 0 else
                       f"ptrace is not permitted here{yama}: "
                       f"{os.strerror(err) if err > 0 else r.stderr.strip()}")
    return _PTRACE[0]


# The tests that inject nothing (signals only).
NO_PTRACE = {"test_attach_installed_signals_the_target",
             "test_attach_installed_refuses_a_target_without_handlers"}


@pytest.fixture(autouse=True)
def needs_ptrace(request):
    """Every test that injects skips, saying why, where ptrace is forbidden."""
    if request.node.originalname not in NO_PTRACE and ptrace_refusal():
        pytest.skip(ptrace_refusal())


def cli_env():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def viztracer(tmp_path, *args, timeout=90):
    return subprocess.run([BIN, *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=timeout, env=cli_env())


def short_names(data):
    return {n.split(" ")[0] for n in names(data)}


def test_attach_saves_target_functions_from_every_thread(tmp_path, procs):
    t = target(procs, tmp_path, SLEEPER)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "1", "-o", "out.json")
    assert r.returncode == 0, r.stderr
    out = str(tmp_path / "out.json")
    assert r.stdout == ("Attach success, collect trace after 1s\n"
                        f"Use the following command to open the report:\nvizviewer {out}\n")
    got = short_names(load(out))
    assert {"alpha", "beta", "gamma", "time.sleep"} <= got
    t.wait_for("Saved report to " + out)
    assert "Detected attaching viztracer, start tracing." in t.out
    # The target keeps running, untraced, and can be attached again.
    time.sleep(0.2)
    assert t.p.poll() is None
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.3", "-o", "again.json.gz")
    assert r.returncode == 0, r.stderr
    assert "beta" in short_names(load(str(tmp_path / "again.json.gz")))
    assert t.p.poll() is None


def test_attach_to_a_target_holding_the_gil(tmp_path, procs):
    t = target(procs, tmp_path, BUSY)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.5", "--max_stack_depth", "1")
    assert r.returncode == 0, r.stderr
    data = load(str(tmp_path / "result.json"))
    assert "spin" in short_names(data)
    # --max_stack_depth reached the target's tracer: spin's builtins.sum is
    # deeper. (The code may start tracing inside a spin() call, whose sum()
    # is then at the top: at most that one, outside any recorded spin.)
    evs = [e for e in data["traceEvents"] if e["ph"] == "X"]
    spins = [e for e in evs if e["name"].startswith("spin ")]
    sums = [e for e in evs if e["name"] == "builtins.sum"]
    assert len(sums) <= 1
    assert not any(s["ts"] <= x["ts"] <= s["ts"] + s["dur"] for x in sums for s in spins)
    assert t.p.poll() is None


def test_attach_ctrl_c_stops_and_saves(tmp_path, procs):
    t = target(procs, tmp_path, SLEEPER)
    cli = Proc([BIN, "--attach", str(t.pid), "-o", "ctrlc.json"], tmp_path, cli_env())
    procs.append(cli)
    cli.wait_for("Attach success, press CTRL+C to stop and save report\n")
    time.sleep(0.3)
    cli.p.send_signal(signal.SIGINT)
    assert cli.finish() == 0, cli.out
    assert "vizviewer " + str(tmp_path / "ctrlc.json") in cli.out
    assert "beta" in short_names(load(str(tmp_path / "ctrlc.json")))
    assert t.p.poll() is None


def test_uninstall_removes_the_injected_tracer(tmp_path, procs):
    t = target(procs, tmp_path, SLEEPER)
    cli = Proc([BIN, "--attach", str(t.pid), "-o", "never.json"], tmp_path, cli_env())
    procs.append(cli)
    cli.wait_for("Attach success")
    r = viztracer(tmp_path, "--uninstall", str(t.pid))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"Uninstalled viztracer from pid {t.pid}\n"
    cli.p.send_signal(signal.SIGINT)
    assert cli.finish() == 1
    assert f"viztracer: pid {t.pid} has no tracer to stop (was it uninstalled?)" in cli.out
    assert not (tmp_path / "never.json").exists()
    assert t.p.poll() is None


def test_attach_installed_signals_the_target(tmp_path, procs):
    out = tmp_path / "installed.json"
    t = target(procs, tmp_path, INSTALLED, args=[str(out)])
    r = viztracer(tmp_path, "--attach_installed", str(t.pid), "-t", "0.5")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Attach success, collect trace after 0.5s\n"
    t.wait_for(f"vizviewer {out}")  # printed by the target's save()
    assert "delta" in short_names(load(str(out)))
    assert t.p.poll() is None


def test_attach_installed_refuses_a_target_without_handlers(tmp_path, procs):
    t = target(procs, tmp_path, SLEEPER)
    r = viztracer(tmp_path, "--attach_installed", str(t.pid), "-t", "0.1")
    assert r.returncode == 1
    assert "does not handle SIGUSR1 and SIGUSR2; did it call VizTracer().install()?" in r.stderr
    time.sleep(0.2)
    assert t.p.poll() is None  # SIGUSR1 was not sent: it would have killed the target


def test_attach_target_that_cannot_import_viztracer(tmp_path, procs):
    t = target(procs, tmp_path, SLEEPER, importable=False)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.1")
    assert r.returncode == 1
    assert r.stderr == (f"viztracer: pid {t.pid} cannot import viztracer (ModuleNotFoundError: "
                        "No module named 'viztracer'); start it with PYTHONPATH set to the "
                        "folder that holds viztracer/\n")
    assert "Attach success" not in r.stdout
    assert not (tmp_path / "result.json").exists()
    time.sleep(0.2)
    assert t.p.poll() is None


def test_attach_refused_while_the_target_traces_itself(tmp_path, procs):
    code = SLEEPER.replace('print("ready"', 'from viztracer import VizTracer\n'
                           'VizTracer(output_file="own.json").start()\nprint("ready"')
    t = target(procs, tmp_path, code)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.1")
    assert r.returncode == 1
    assert f"Can't attach when VizTracer is already running in pid {t.pid}" in r.stderr
    t.wait_for("Can't attach when VizTracer is already running.")


def test_attach_errors_without_a_python_target(tmp_path, procs):
    dead = subprocess.Popen(["true"])
    dead.wait()
    for opt in ("--attach", "--attach_installed", "--uninstall"):
        r = viztracer(tmp_path, opt, str(dead.pid))
        assert (r.returncode, r.stderr) == (1, f"pid {dead.pid} does not exist!\n"), opt
    r = viztracer(tmp_path, "--attach", "0")
    assert (r.returncode, r.stderr) == (1, "pid 0 does not exist!\n")
    sleeper = Proc(["sleep", "60"], tmp_path, cli_env())
    procs.append(sleeper)
    r = viztracer(tmp_path, "--attach", str(sleeper.pid), "-t", "0.1")
    assert r.returncode == 1
    assert r.stderr == (f"viztracer: pid {sleeper.pid} is not a Python process "
                        "(no Python C API in its executable or libpython)\n")
    assert sleeper.p.poll() is None
    r = viztracer(tmp_path, "--attach", str(sleeper.pid), "-o", "x.html")
    assert (r.returncode, r.stderr) == (
        1, "viztracer: an attached process writes .json or .json.gz, not x.html\n")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run the CLI as another user")
def test_attach_without_ptrace_permission(tmp_path, procs):
    t = target(procs, tmp_path, ONE_SLEEP, args=["4"])
    os.chmod(tmp_path, 0o777)
    # The executable and its package, where the other user can read them
    # whatever the permissions of the folder this tree was cloned into.
    shared = tempfile.mkdtemp(prefix="vt-attach-", dir="/tmp")
    os.chmod(shared, 0o755)
    os.mkdir(os.path.join(shared, "bin"))
    shutil.copy(BIN, os.path.join(shared, "bin", "viztracer"))
    shutil.copytree(os.path.join(PYDIR, "viztracer"), os.path.join(shared, "python", "viztracer"))
    for root, dirs, files in os.walk(shared):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o755)
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            os.path.join(shared, "bin", "viztracer"),
                            "--attach", str(t.pid), "-t", "0.1", "-o", "/tmp/never.json"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60,
                           env=cli_env())
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert r.returncode == 1
    assert r.stderr == (f"viztracer: cannot attach to pid {t.pid}: ptrace is not permitted (it "
                        "needs the same user and kernel.yama.ptrace_scope 0, or root)\n")
    # The target goes on as untraced: its sleep, its output, its exit status.
    assert t.finish() == 4
    assert "slept True 285\n" in t.out, t.out


# The main thread sleeps 3 s in one time.sleep(), which the attach, the trace
# and the detach interrupt: the sleep must still end when it would have, and
# the program print what it prints untraced.
ONE_SLEEP = """
import sys, time
def work(i):
    return i * i
print("ready", flush=True)
t0 = time.monotonic()
time.sleep(3)
slept = time.monotonic() - t0
print("slept", 3 <= slept < 4.5, sum(work(i) for i in range(10)), flush=True)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def test_attach_to_a_target_in_time_sleep_leaves_the_sleep_intact(tmp_path, procs):
    t = target(procs, tmp_path, ONE_SLEEP)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.3", "-o", "sleep.json")
    assert r.returncode == 0, r.stderr
    assert "traceEvents" in load(str(tmp_path / "sleep.json"))
    assert t.finish() == 0
    assert "slept True 285\n" in t.out, t.out
    assert "Errno" not in t.out and "Traceback" not in t.out, t.out


# The main thread blocks in select() or read() on its stdin, which the test
# feeds after the attach: the call must go on and return what was written.
BLOCKED = """
import os, select, sys
def echo(data):
    return data.decode().strip().upper()
print("ready", flush=True)
if sys.argv[1] == "select":
    ready = select.select([0], [], [])[0]
    data = os.read(0, 100) if ready == [0] else b"?"
else:
    data = os.read(0, 100)
print("got", echo(data), flush=True)
"""


@pytest.mark.parametrize("call", ["select", "read"])
def test_attach_to_a_target_blocked_in_a_system_call(tmp_path, procs, call):
    t = target(procs, tmp_path, BLOCKED, args=[call], stdin=subprocess.PIPE)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.3", "-o", "blocked.json")
    assert r.returncode == 0, r.stderr
    assert "traceEvents" in load(str(tmp_path / "blocked.json"))
    time.sleep(0.2)
    assert t.p.poll() is None, t.out  # still blocked: nothing was written yet
    t.p.stdin.write(b"hello\n")
    t.p.stdin.flush()
    assert t.finish() == 0, t.out
    assert "got HELLO\n" in t.out, t.out
    assert "Errno" not in t.out and "Traceback" not in t.out, t.out


# Four threads compute while the main thread waits in join(): every thread
# is traced, and the result is the untraced one.
THREADS = """
import threading, time
def work(n):
    return sum(i * i for i in range(n))
results = [0] * 4
def worker(k):
    for _ in range(150):
        results[k] += work(200)
        time.sleep(0.01)
threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
print("ready", flush=True)
for t in threads:
    t.join()
print("total", sum(results), flush=True)
"""


def test_attach_to_a_multithreaded_target(tmp_path, procs):
    t = target(procs, tmp_path, THREADS)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.5", "-o", "threads.json")
    assert r.returncode == 0, r.stderr
    data = load(str(tmp_path / "threads.json"))
    tids = {e["tid"] for e in data["traceEvents"]
            if e["ph"] == "X" and e["name"].startswith("work ")}
    assert len(tids) >= 2, tids
    assert t.finish() == 0, t.out
    assert f"total {4 * 150 * sum(i * i for i in range(200))}\n" in t.out, t.out


def test_failed_attach_leaves_the_target_as_it_was(tmp_path, procs):
    # The target cannot import viztracer: the start step fails in it, in the
    # middle of its sleep, which still ends on time; its exit status is its own.
    t = target(procs, tmp_path, ONE_SLEEP, args=["3"], importable=False)
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.1")
    assert r.returncode == 1
    assert "cannot import viztracer" in r.stderr
    assert t.finish() == 3
    assert "slept True 285\n" in t.out, t.out
    assert "Errno" not in t.out and "Traceback" not in t.out, t.out


def test_attach_to_a_stopped_target_refuses_and_leaves_it_stopped(tmp_path, procs):
    t = target(procs, tmp_path, ONE_SLEEP)
    os.kill(t.pid, signal.SIGSTOP)
    try:
        r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "0.1")
        assert r.returncode == 1
        assert r.stderr == (f"viztracer: pid {t.pid} is stopped; let it continue first "
                            f"(kill -CONT {t.pid})\n")
        with open(f"/proc/{t.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] == "T"  # still stopped
    finally:
        os.kill(t.pid, signal.SIGCONT)
    assert t.finish() == 0
    assert "slept True 285\n" in t.out, t.out


def test_attach_to_a_target_that_exits_meanwhile(tmp_path, procs):
    code = ONE_SLEEP.replace("time.sleep(3)", "time.sleep(0.5)").replace("3 <= slept", "0.5 <= slept")
    t = target(procs, tmp_path, code, args=["5"])
    r = viztracer(tmp_path, "--attach", str(t.pid), "-t", "5", "-o", "gone.json")
    assert r.returncode == 1
    assert f"viztracer: pid {t.pid} exited before the trace was saved\n" in r.stderr
    assert t.finish() == 5
    assert "slept True 285\n" in t.out, t.out


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
