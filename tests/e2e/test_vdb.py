"""End-to-end tests of vdb: the real executable (build/bin/vdb, a link to
viztracer) on traces recorded by our viztracer from real scripts, driven
through a pipe and through a real terminal (tmux send-keys / capture-pane),
with transcripts compared line by line."""

import json
import os
import re
import shutil
import subprocess
import textwrap
import time
import uuid

import pytest

from conftest import ASAN, BIN

VDB = os.path.join(os.path.dirname(BIN), "vdb")
DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "data", "vdb"))

SQUARES = """\
def square(x):
    return x * x


def total(n):
    s = 0
    for i in range(n):
        s += square(i)
    return s


print(total(3))
"""

THREADS = """\
import threading


def work(k):
    return sum(range(k))


def worker():
    for i in range(3):
        work(i)


t = threading.Thread(target=worker, name="worker")
t.start()
t.join()
work(5)
"""


SHAPES = """\
import functools


def deco(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper


class Shape:
    sides = 0

    @deco
    def area(
        self,
        scale=1,
    ) -> int:
        # comment inside
        return len([self]) * scale

    def one(self): return 1


s = Shape()
s.area(2)
s.one()
"""


def vdb_cmd():
    return [VDB]  # the build/bin/vdb link (`viztracer vdb` has its own test)


def record(tmp_path, script, name="prog.py", out="trace.json", vdb=True):
    """Runs viztracer on script in tmp_path; returns the trace's path."""
    (tmp_path / name).write_text(script)
    args = [BIN, "--quiet", "--log_func_args", "--log_func_retval", "-o", out]
    if vdb:
        args.append("--vdb")
    proc = subprocess.run(
        args + [name], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return str(tmp_path / out)


def pipe(trace, commands, opts=("--no_clear", "--extra_newline"), cwd=None):
    """Runs vdb with commands on stdin (no terminal)."""
    return subprocess.run(
        vdb_cmd() + list(opts) + [trace],
        input="".join(c + "\n" for c in commands),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def lines(text, tmp=None):
    """Transcript lines: trailing blanks dropped, prompts reduced to ">>>",
    the temporary folder shown as DIR."""
    out = []
    for line in text.splitlines():
        line = line.rstrip()
        if line.startswith(">>>"):
            line = ">>>"
        if tmp:
            line = line.replace(str(tmp), "DIR")
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


def drop_echo_blank(ls):
    """In a terminal the typed command ends the prompt line, so the empty
    line of --extra_newline shows; through a pipe it ends the prompt line."""
    out = []
    for i, line in enumerate(ls):
        if line == "" and i > 0 and ls[i - 1] == ">>>":
            continue
        out.append(line)
    return out


class Tmux:
    """One vdb in its own tmux server (socket -L), 200x50, big scrollback."""

    def __init__(self, tmp_path, argv):
        self.sock = "vdbtest-" + uuid.uuid4().hex[:12]
        conf = tmp_path / "tmux.conf"
        conf.write_text("set -g history-limit 50000\nset -g status off\n")
        cmd = " ".join(shlex_quote(a) for a in argv) + "; echo EXIT=$?; sleep 60"
        subprocess.run(
            ["tmux", "-L", self.sock, "-f", str(conf), "new-session", "-d", "-x", "200",
             "-y", "50", "-c", str(tmp_path), "sh", "-c", cmd],
            check=True,
            timeout=30,
        )

    def screen(self, history=True):
        args = ["tmux", "-L", self.sock, "capture-pane", "-p"]
        if history:
            args += ["-S", "-50000"]
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout

    def wait(self, predicate, what, history=True):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            s = self.screen(history)
            if predicate(s):
                return s
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; screen:\n%s" % (what, self.screen()))

    def prompts(self, s):
        return sum(1 for line in s.splitlines() if line.startswith(">>>"))

    def send(self, keys, literal=True):
        args = ["tmux", "-L", self.sock, "send-keys"] + (["-l"] if literal else []) + [keys]
        subprocess.run(args, check=True, timeout=30)

    def command(self, cmd):
        """Types cmd and Enter, waits for the next prompt."""
        n = self.prompts(self.screen())
        self.send(cmd)
        self.send("Enter", literal=False)
        self.wait(lambda s: self.prompts(s) > n, "the prompt after %r" % cmd)

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=30)


def shlex_quote(s):
    import shlex

    return shlex.quote(s)


@pytest.fixture
def tmux(tmp_path):
    assert shutil.which("tmux"), "tmux not installed (make deps installs it)"
    sessions = []

    def start(argv):
        t = Tmux(tmp_path, argv)
        sessions.append(t)
        return t

    yield start
    for t in sessions:
        t.close()


# ---- a recorded script, golden transcript ------------------------------------

SQUARES_COMMANDS = ["s", "s", "s", "w", "a", "p x", "r", "n", "n", "sb", "nb", "rb",
                    "b square", "c", "c", "cb", "u", "p n", "d", "q"]

SQUARES_GOLDEN = """\
> builtins.exec
>>>
  def square(x):
      return x * x


  def total(n):
      s = 0
      for i in range(n):
          s += square(i)
      return s


> print(total(3))

>>>
  def total(n):
      s = 0
      for i in range(n):
>         s += square(i)
      return s

>>>
  def square(x):
      return x * x
>
>>>
  builtins.exec
  <module> (DIR/prog.py:1)
  total (DIR/prog.py:5)
> square (DIR/prog.py:1)
>>>
{'func_args': {'x': '0'}, 'return_value': '0'}
>>>
0
>>>
  def total(n):
      s = 0
      for i in range(n):
>         s += square(i)
      return s

>>>
  def total(n):
      s = 0
      for i in range(n):
>         s += square(i)
      return s

>>>
  def total(n):
      s = 0
      for i in range(n):
          s += square(i)
      return s
>
>>>
  def square(x):
      return x * x
>
>>>
  def total(n):
      s = 0
      for i in range(n):
>         s += square(i)
      return s

>>>
  def square(x):
      return x * x


  def total(n):
      s = 0
      for i in range(n):
          s += square(i)
      return s


> print(total(3))

>>>
Breakpoint at square (1 function in the trace)
>>>
  def square(x):
      return x * x
>
>>>
  def square(x):
      return x * x
>
>>>
  def square(x):
      return x * x
>
>>>
  def total(n):
      s = 0
      for i in range(n):
>         s += square(i)
      return s

>>>
3
>>>
  def square(x):
      return x * x
>
>>>
"""


def test_golden_transcript(tmp_path):
    trace = record(tmp_path, SQUARES)
    data = json.load(open(trace))
    assert data["viztracer_metadata"].get("vdb") is True
    # every call the program makes; not the two roots (builtins.exec and the
    # script's <module>), which no frame of the program calls: VizTracer also
    # writes none for a call without a calling frame
    calls = [e for e in data["traceEvents"] if e["ph"] == "X"]
    roots = [e for e in calls if e["name"] == "builtins.exec" or e["name"].startswith("<module>")]
    assert len(roots) == 2 and all("caller_lineno" not in e for e in roots)
    assert all("caller_lineno" in e for e in calls if e not in roots)
    proc = pipe(trace, SQUARES_COMMANDS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert lines(proc.stdout, tmp_path) == lines(SQUARES_GOLDEN)


def test_pipe_session_without_caller_lines(tmp_path):
    """A trace without caller_lineno still walks; only the '>' markers inside
    a function are missing (VizTracer behaved the same)."""
    trace = record(tmp_path, SQUARES, vdb=False)
    proc = pipe(trace, SQUARES_COMMANDS)
    assert proc.returncode == 0, proc.stderr
    got = lines(proc.stdout, tmp_path)
    want = [line for line in lines(SQUARES_GOLDEN)]
    # Without caller lines, "> code" becomes "  code"; "> " end marks and
    # the stack listing stay.
    want = ["  " + line[2:] if line.startswith("> ") and line[2:3] in (" ", "p") else line
            for line in want]
    assert got == want


def test_terminal_matches_pipe(tmp_path, tmux):
    """The same session typed into a real terminal (libedit) prints the same
    transcript as through a pipe."""
    trace = record(tmp_path, SQUARES)
    commands = [c for c in SQUARES_COMMANDS if c != "q"]
    expected = lines(pipe(trace, commands).stdout, tmp_path)
    t = tmux(vdb_cmd() + ["--no_clear", "--extra_newline", trace])
    t.wait(lambda s: t.prompts(s) == 1, "the first prompt")
    for c in commands:
        t.command(c)
    got = drop_echo_blank(lines(t.screen(), tmp_path))
    assert got == expected
    # History: Up recalls the last command (p n is not a movement: d is).
    t.send("Up", literal=False)
    t.wait(lambda s: s.rstrip().splitlines()[-1].startswith(">>> d"), "history recall")
    t.send("C-u", literal=False)
    t.send("q")
    t.send("Enter", literal=False)
    t.wait(lambda s: "EXIT=0" in s, "exit status 0")


def test_terminal_completion(tmp_path, tmux):
    """Tab completes command names, and function names after b."""
    trace = record(tmp_path, SQUARES)
    t = tmux(vdb_cmd() + ["--no_clear", trace])
    t.wait(lambda s: t.prompts(s) == 1, "the first prompt")
    t.send("he")
    t.send("Tab", literal=False)
    t.wait(lambda s: ">>> help" in s, "help completed")
    t.send("C-u", literal=False)
    t.send("b squ")
    t.send("Tab", literal=False)
    t.wait(lambda s: ">>> b square" in s, "square completed")
    t.send("Enter", literal=False)
    t.wait(lambda s: "Breakpoint at square (1 function in the trace)" in s, "the breakpoint")
    t.send("q")
    t.send("Enter", literal=False)
    t.wait(lambda s: "EXIT=0" in s, "exit status 0")


def test_terminal_clears_screen(tmp_path, tmux):
    trace = record(tmp_path, SQUARES)
    t = tmux(vdb_cmd() + [trace])
    t.wait(lambda s: "> builtins.exec" in s, "the first frame", history=False)
    t.command("s")
    visible = t.screen(history=False)
    assert "> builtins.exec" not in visible
    assert "print(total(3))" in visible
    t.send("q")
    t.send("Enter", literal=False)
    t.wait(lambda s: "EXIT=0" in s, "exit status 0")


def test_source_view_shapes(tmp_path):
    """Decorators, a multi-line signature, a comment line and a one-line def
    are shown whole, and nothing after them."""
    trace = record(tmp_path, SHAPES)
    proc = pipe(trace, ["b area", "c", "w", "u", "b one", "c"])
    assert proc.returncode == 0, proc.stderr
    want = textwrap.dedent("""\
        > builtins.exec
        >>>
        Breakpoint at area (1 function in the trace)
        >>>
              @deco
              def area(
                  self,
                  scale=1,
              ) -> int:
                  # comment inside
        >         return len([self]) * scale

        >>>
          builtins.exec
          <module> (DIR/prog.py:1)
          deco.<locals>.wrapper (DIR/prog.py:5)
        > Shape.area (DIR/prog.py:14)
        >>>
              @functools.wraps(f)
              def wrapper(*args, **kwargs):
        >         return f(*args, **kwargs)

        >>>
        Breakpoint at one (1 function in the trace)
        >>>
              def one(self): return 1
        >
        >>>
        """)
    assert lines(proc.stdout, tmp_path) == lines(want)


def test_eof_and_quit(tmp_path):
    trace = record(tmp_path, SQUARES)
    for commands in ([], ["quit"], ["exit"], ["s", "q", "s"]):
        proc = pipe(trace, commands)
        assert proc.returncode == 0
        assert proc.stderr == ""
    proc = subprocess.run(vdb_cmd() + [trace], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0


def test_viztracer_vdb_subcommand_and_gz(tmp_path):
    trace = record(tmp_path, SQUARES, out="trace.json.gz")
    proc = subprocess.run([BIN, "vdb", "--no_clear", trace], input="w\n", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "> builtins.exec" in proc.stdout


def test_help_and_errors(tmp_path):
    trace = record(tmp_path, SQUARES)
    proc = pipe(trace, ["help", "foo", "t 1 2", "tid x", "u", "d", "sb", "nb", "rb"])
    out = proc.stdout
    for c in ("s ", "sb ", "n ", "nb ", "r ", "rb ", "t [TS]", "tid [TID]", "pid [PID]", "u ",
              "d ", "w ", "a ", "counter", "object", "b [FUNCTION]", "c ", "cb ", "p NAME",
              "q "):
        assert "\n  " + c in out, c
    assert "Invalid command: foo\n" in out
    assert "t takes 1 or no argument\n" in out
    assert "tid needs to be an integer\n" in out
    assert "No outer frame anymore\n" in out
    assert "Already at current frame\n" in out
    assert out.count("at the beginning of the trace\n") == 2
    assert "No callers available\n" in out


def test_time_travel_round_trip(tmp_path):
    """Walk to the end with s, then back with sb: every position printed on
    the way back was seen on the way forward."""
    trace = record(tmp_path, SQUARES)
    forward = pipe(trace, ["s"] * 40 + ["t"]).stdout
    assert "at the end of the trace" in forward
    back = pipe(trace, ["t 1e12"] + ["sb"] * 40).stdout
    assert "at the beginning of the trace" in back
    frames = lambda text: [b for b in text.split(">>>") if b.strip() and "trace" not in b]
    for f in frames(back):
        assert f in forward or f.strip() in forward


def test_multithread(tmp_path):
    trace = record(tmp_path, THREADS)
    data = json.load(open(trace))
    x = [e for e in data["traceEvents"] if e["ph"] == "X"]
    pid = x[0]["pid"]
    tids = []
    for e in x:
        if e["tid"] not in tids:
            tids.append(e["tid"])
    assert len(tids) == 2
    worker = next(e["tid"] for e in x if e["name"].startswith("worker "))
    proc = pipe(trace, ["tid", "tid %d" % worker, "tid", "b worker", "c", "w", "tid 12345", "pid",
                        "pid 1"])
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    listing = [m.groups() for m in re.finditer(r"^(>| ) (\d+) \((.*)\)$", out, re.M)]
    assert sorted(int(m[1]) for m in listing[:2]) == sorted(tids)
    assert ("> ", str(worker), "worker") in [(m[0] + " ", m[1], m[2]) for m in listing[2:4]]
    assert ("  ", str(pid), "MainThread") in [(m[0] + " ", m[1], m[2]) for m in listing[2:4]]
    assert "worker (DIR/prog.py:8)" in "\n".join(lines(out, tmp_path))
    assert "No such tid\n" in out
    assert "> %d (MainProcess)\n" % pid in out
    assert "No such pid\n" in out


def test_multiprocess(tmp_path):
    """Two processes' traces combined into one file: pid lists both and
    switches keep the time."""
    a = record(tmp_path, SQUARES, name="a.py", out="a.json")
    b = record(tmp_path, THREADS, name="b.py", out="b.json")
    da, db = json.load(open(a)), json.load(open(b))
    pa = next(e["pid"] for e in da["traceEvents"] if e["ph"] == "X")
    pb = next(e["pid"] for e in db["traceEvents"] if e["ph"] == "X")
    assert pa != pb
    da["traceEvents"] += db["traceEvents"]
    da["file_info"]["files"].update(db["file_info"]["files"])
    both = tmp_path / "both.json"
    both.write_text(json.dumps(da))
    proc = pipe(str(both), ["pid", "pid %d" % pb, "pid", "s", "w", "pid %d" % pa, "w"])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert ("> %d (MainProcess)\n  %d (MainProcess)\n" % (pa, pb)) in out
    assert ("  %d (MainProcess)\n> %d (MainProcess)\n" % (pa, pb)) in out
    assert "(DIR/b.py:" in "\n".join(lines(out, tmp_path))


def fib015(tmp_path, caller_lines=True):
    text = open(os.path.join(DATA, "fib015.json")).read().replace("@DIR@", DATA)
    data = json.loads(text)
    if not caller_lines:
        for e in data["traceEvents"]:
            e.pop("caller_lineno", None)
    path = tmp_path / "fib015.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_viztracer_015_trace(tmp_path):
    trace = fib015(tmp_path)
    proc = pipe(trace, ["s", "s", "s", "w", "a", "r", "n", "t", "counter", "r", "r", "pid",
                        "tid"])
    assert proc.returncode == 0, proc.stderr
    want = textwrap.dedent("""\
        > builtins.exec
        >>>
          def fib(n):
              if n < 2:
                  return n
              return fib(n - 1) + fib(n - 2)


        > print(fib(2))

        >>>
          def fib(n):
              if n < 2:
                  return n
        >     return fib(n - 1) + fib(n - 2)

        >>>
          def fib(n):
              if n < 2:
                  return n
              return fib(n - 1) + fib(n - 2)
        >
        >>>
          builtins.exec
          <module> (DATA/fib015.py:1)
          fib (DATA/fib015.py:1)
        > fib (DATA/fib015.py:1)
        >>>
        {'func_args': {'n': '1'}, 'return_value': '1'}
        >>>
          def fib(n):
              if n < 2:
                  return n
        >     return fib(n - 1) + fib(n - 2)

        >>>
          def fib(n):
              if n < 2:
                  return n
              return fib(n - 1) + fib(n - 2)
        >
        >>>
        2.9
        >>>
        {}
        >>>
          def fib(n):
              if n < 2:
                  return n
              return fib(n - 1) + fib(n - 2)


        > print(fib(2))

        >>>
        > builtins.exec
        >>>
        > 4242 (MainProcess)
        >>>
        > 4242 (MainThread)
        >>>
        """)
    assert [line.replace(DATA, "DATA") for line in lines(proc.stdout)] == lines(want)


def test_viztracer_015_trace_without_caller_lines(tmp_path):
    trace = fib015(tmp_path, caller_lines=False)
    proc = pipe(trace, ["s", "s", "w", "t 9", "counter"])
    assert proc.returncode == 0, proc.stderr
    out = lines(proc.stdout)
    assert ">     return fib(n - 1) + fib(n - 2)" not in out
    assert "> print(fib(2))" not in out
    assert "> fib (%s/fib015.py:1)" % DATA in out
    assert "{'calls': 3}" in out


def test_big_trace_memory_in_proportion(tmp_path):
    """300,000 calls in 3 threads (a tree 12 deep): loads, walks, and its peak
    memory stays within a small multiple of the file (no time is asserted)."""

    events = []
    clock = [0]

    def call(depth, tid, budget):
        start = clock[0]
        clock[0] += 1
        while depth < 12 and budget[0] > 0 and len(events) % 3 != 2:
            budget[0] -= 1
            call(depth + 1, tid, budget)
        clock[0] += 1
        events.append('{"pid":1,"tid":%d,"ts":%d.5,"ph":"X","cat":"fee","dur":%d,'
                      '"name":"f%d (/t/big.py:%d)","caller_lineno":3}'
                      % (tid, start, clock[0] - start, depth, depth + 1))

    for tid in (1, 2, 3):
        budget = [100000]
        while budget[0] > 0:
            budget[0] -= 1
            call(0, tid, budget)
    path = tmp_path / "big.json"
    path.write_text('{"traceEvents":[%s],"viztracer_metadata":{"version":"0.15.6"}}'
                    % ",".join(events))
    size = path.stat().st_size
    # vdb's own peak memory. Linux carries the spawning process's peak into
    # a child's ru_maxrss at exec, whatever the spawn method, so a small
    # interpreter in between starts vdb and reports what wait4() says of it.
    (tmp_path / "in.txt").write_text(
        "".join(c + "\n" for c in ["b f11", "c", "w", "t 1e12", "cb", "tid 3", "tid", "q"]))
    cmd = vdb_cmd() + ["--no_clear", "--extra_newline", str(path)]
    measure = (
        "import os, sys, subprocess\n"
        "cmd = sys.argv[1:]\n"
        "with open('in.txt') as i, open('out.txt', 'w') as o, open('err.txt', 'w') as e:\n"
        "    p = subprocess.Popen(cmd, stdin=i, stdout=o, stderr=e)\n"
        "    _, st, ru = os.wait4(p.pid, 0)\n"
        "print(os.waitstatus_to_exitcode(st), ru.ru_maxrss)\n")
    r = subprocess.run(["/usr/bin/python3", "-c", measure] + cmd, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    status, maxrss = map(int, r.stdout.split())
    out = (tmp_path / "out.txt").read_text()
    assert status == 0, (tmp_path / "err.txt").read_text()
    assert "> f11 (/t/big.py:12)" in out
    assert "> 3\n" in out
    peak = maxrss * 1024
    assert len(events) >= 300000
    if not ASAN:  # ASan's shadow memory and quarantine are not the program's
        assert peak < 3 * size + 64 * 2**20, (peak, size)


# ---- refused and broken input ----------------------------------------------------


def run_vdb(args, **kw):
    return subprocess.run(vdb_cmd() + args, input="", capture_output=True, text=True,
                          timeout=60, **kw)


def test_refuses_trace_without_metadata(tmp_path):
    p = tmp_path / "old.json"
    p.write_text(json.dumps({"traceEvents": [
        {"ph": "X", "name": "f (a.py:1)", "ts": 1, "dur": 2, "pid": 1, "tid": 1}]}))
    proc = run_vdb([str(p)])
    assert proc.returncode == 1
    assert proc.stderr == "Error, json file version too old.\n"
    assert proc.stdout == ""
    p.write_text(json.dumps({"traceEvents": [], "viztracer_metadata": {"version": "0.9.0"}}))
    proc = run_vdb([str(p)])
    assert proc.returncode == 1
    assert proc.stderr == "Error, json file version too old.\n"


def test_accepts_raw_dump_and_newer_metadata(tmp_path):
    """VizTracer 0.15's C raw dump wrote metadata without a version; our own
    writer's versions start at 0.1.0 but carry its marks; 1.x is newer."""
    ev = [{"ph": "X", "name": "f (a.py:1)", "ts": 1, "dur": 2, "pid": 1, "tid": 1}]
    p = tmp_path / "t.json"
    for meta in ({"overflow": False}, {"version": "0.1.0", "vdb": True},
                 {"version": "0.1.0", "baseTimeNanoseconds": 5}, {"version": "1.1.1"}):
        p.write_text(json.dumps({"traceEvents": ev, "viztracer_metadata": meta}))
        proc = run_vdb(["--no_clear", str(p)])
        assert proc.returncode == 0, (meta, proc.stderr)
        assert proc.stdout.startswith("> Not able to locate the source\n"), proc.stdout


@pytest.mark.parametrize("cut", [1, 100, 1000, -2, -300])
def test_truncated_trace(tmp_path, cut):
    trace = record(tmp_path, SQUARES)
    text = open(trace).read()
    bad = tmp_path / "bad.json"
    bad.write_text(text[:cut] if cut > 0 else text[:cut])
    proc = run_vdb(["--no_clear", str(bad)])
    assert proc.returncode == 1, proc.stdout
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("vdb: %s: " % bad)
    assert "truncated" in proc.stderr or "malformed" in proc.stderr


@pytest.mark.parametrize("content,msg", [
    ("", "empty file"),
    ("not json at all", "malformed trace"),
    ("{\"traceEvents\": [1, 2]}", "event 0 is not an object"),
    ("{\"traceEvents\": [], \"viztracer_metadata\": {\"version\": \"0.15.6\"}}",
     "no function events"),
    ("\x1f\x8b garbage", "cannot read"),
])
def test_malformed_trace(tmp_path, content, msg):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content.encode("latin-1"))
    proc = run_vdb([str(bad)])
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert msg in proc.stderr


def test_usage(tmp_path):
    proc = run_vdb([])
    assert proc.returncode == 2
    assert "usage: vdb" in proc.stderr
    proc = run_vdb(["--bogus", "x.json"])
    assert proc.returncode == 2
    proc = run_vdb(["a.json", "b.json"])
    assert proc.returncode == 2
    proc = run_vdb(["--help"])
    assert proc.returncode == 0
    assert "--no_clear" in proc.stdout and "--extra_newline" in proc.stdout
    proc = run_vdb([str(tmp_path / "missing.json")])
    assert proc.returncode == 1
    assert "cannot open" in proc.stderr
    proc = run_vdb([str(tmp_path)])
    assert proc.returncode == 1
    assert "not a regular file" in proc.stderr
