"""Shared helpers of the end-to-end tests: they run the real viztracer
executable (VIZTRACER_BIN) on real scripts in a temporary folder and read
the JSON it writes."""

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

# A suite started in the background by a shell without job control (`make
# test &` in a script, nohup) inherits SIGINT ignored, and so would every
# program it starts: Python then installs no KeyboardInterrupt handler and
# the tests of Ctrl+C fail for a reason of the harness. Exec resets a caught
# signal to its default, so catching it here gives the programs python3's
# usual start.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

BIN = os.environ.get("VIZTRACER_BIN") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "viztracer")
)
PYDIR = os.environ.get("VIZTRACER_PYDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "python")
)
PYTHON = os.environ.get("VIZTRACER_PYTHON", "/usr/bin/python3")
ASAN = bool(os.environ.get("VIZTRACER_ASAN"))

FIB = """
def fib(n):
    if n < 2:
        return 1
    return fib(n - 1) + fib(n - 2)
fib(5)
"""


class Run:
    def __init__(self, proc, cwd):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.cwd = cwd

    def load(self, name="result.json"):
        return load(os.path.join(self.cwd, name))


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def events(data, ph=None):
    """Events other than metadata ("M"), optionally of one kind."""
    return [e for e in data["traceEvents"] if e["ph"] != "M" and (ph is None or e["ph"] == ph)]


def names(data):
    return [e["name"] for e in events(data)]


@pytest.fixture
def run(tmp_path):
    """run(args, script=None, name="cmdline_test.py", **popen) runs viztracer in
    tmp_path, writing `script` there first."""

    def _run(args, script=None, name="cmdline_test.py", timeout=60, env=None, **kw):
        if script is not None:
            (tmp_path / name).write_text(textwrap.dedent(script))
        full_env = dict(os.environ)
        full_env.pop("PYTHONPATH", None)
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [BIN] + list(args),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            **kw,
        )
        return Run(proc, str(tmp_path))

    return _run


def _asan_runtime():
    out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True)
    return os.path.realpath(out.stdout.strip())


def python_env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = PYDIR
    if ASAN:
        # A plain python3 loading our sanitized extension needs the runtime first.
        env["LD_PRELOAD"] = _asan_runtime()
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    if extra:
        env.update(extra)
    return env


def run_python(code, cwd, timeout=60):
    """Runs code in a plain /usr/bin/python3 that imports our package."""
    return subprocess.run(
        [PYTHON, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=python_env(),
    )


def needs_module(name):
    """Marks a test whose program imports a Debian package (IPython, joblib).
    Another interpreter (make test-versions) does not have it: the test is
    skipped there with that reason. On Debian's python3 a missing package
    fails the test."""
    debian = os.path.realpath(PYTHON) == os.path.realpath("/usr/bin/python3")
    have = debian or subprocess.run([PYTHON, "-c", "import " + name], capture_output=True).returncode == 0
    return pytest.mark.skipif(
        not have, reason=f"{name} is a Debian package, not installed for {PYTHON}"
    )


__all__ = ["BIN", "FIB", "PYTHON", "events", "names", "load", "needs_module", "run_python", "sys"]
